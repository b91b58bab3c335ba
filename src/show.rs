//! The protocol card of `aikb show`: a project note's front matter, its predicted and
//! pinned labels with evidence, the article notes that mention it, and the most
//! similar projects from the index (tantivy's more-like-this query).
//!
//! The card is plain data ([`Card`]); [`render`] writes its text form and the binary
//! prints `serde_json` of it for `--json`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, ConstScoreQuery, MoreLikeThisQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, OwnedValue, Value};
use tantivy::{TantivyDocument, Term};

use crate::classify::Classifier;
use crate::corpus::{Kind, Note};
use crate::error::{Error, Result};
use crate::index::KbIndex;
use crate::mention::Mention;
use crate::project::{Pinned, ProjectResult};
use crate::render::Style;
use crate::taxonomy::NONE;

/// How many similar projects a card lists.
pub const SIMILAR: usize = 5;
/// How many evidence lines the text card shows.
const EVIDENCE_LINES: usize = 6;

/// One protocol's card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card<'c> {
    /// Project name.
    pub name: String,
    /// Note id.
    pub id: String,
    /// Path relative to the root.
    pub path: String,
    /// Ticker.
    pub ticker: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Other names.
    pub aliases: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Ids of the notes it draws on.
    pub sources: Vec<String>,
    /// Every other front-matter key, flattened to text.
    pub front_matter: BTreeMap<String, String>,
    /// The analyst's pinned label.
    pub pinned: Option<Pinned>,
    /// The classifier's result, in the `classify --json` shape.
    pub classification: ProjectResult<'c>,
    /// Article notes that mention the project.
    pub mentions: Vec<Mention>,
    /// The most similar projects, best first.
    pub similar: Vec<Similar>,
}

/// A project similar to the one shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Similar {
    /// Note id.
    pub id: String,
    /// Project name.
    pub name: String,
    /// Ticker.
    pub ticker: Option<String>,
    /// Effective category from the index.
    pub category: Option<String>,
    /// More-like-this score (higher is more similar), rounded to 3 decimals.
    pub score: f64,
}

/// Builds the card of `note` (a project note); `notes` supplies the articles that
/// may mention it. `similar` is left empty: see [`similar`].
pub fn card<'c>(note: &Note, notes: &[Note], classifier: &'c Classifier<'_>) -> Card<'c> {
    let classification = ProjectResult::new(note, classifier);
    Card {
        name: note.title(),
        id: note.id.clone(),
        path: note.path.clone(),
        ticker: note.front.ticker.clone(),
        website: note.front.website.clone(),
        aliases: note.front.aliases.clone(),
        tags: note.front.tags.clone(),
        sources: note.front.sources.clone(),
        front_matter: note.front.extra.clone(),
        pinned: classification.pinned.clone(),
        classification,
        mentions: crate::mention::mentions_of(note, notes),
        similar: Vec::new(),
    }
}

/// The paths of the article notes that may mention `project`, from an up-to-date
/// index: those holding, in the title or the body, one word of each of its names
/// (the rarest) or its ticker. Every article [`crate::mention::mentions_of`] would
/// find is among them, so only these need reading. `None` when a name has no word
/// the index keeps (a name made of stop words): then every article must be read.
pub fn mention_candidates(idx: &KbIndex, project: &Note) -> Result<Option<Vec<String>>> {
    let searcher = idx.searcher()?;
    let f = idx.fields;
    let doc_freq = |t: &String| {
        searcher
            .doc_freq(&Term::from_field_text(f.body, t))
            .unwrap_or(u64::MAX)
    };
    let mut names: Vec<String> = vec![project.title()];
    names.extend(project.front.name.iter().cloned());
    names.extend(project.front.aliases.iter().cloned());
    names.extend(project.front.ticker.iter().cloned());
    let mut words: Vec<String> = Vec::new();
    for name in &names {
        let tokens = idx.query_tokens(name).into_iter().map(|(_, t)| t);
        match tokens.min_by_key(doc_freq) {
            Some(t) if !words.contains(&t) => words.push(t),
            Some(_) => {}
            None => return Ok(None),
        }
    }
    let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for w in &words {
        for field in [f.body, f.title] {
            any.push((
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, w),
                    IndexRecordOption::Basic,
                )),
            ));
        }
    }
    let query = BooleanQuery::new(vec![
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(f.kind, Kind::Article.as_str()),
                IndexRecordOption::Basic,
            )) as Box<dyn Query>,
        ),
        (Occur::Must, Box::new(BooleanQuery::new(any))),
    ]);
    let docs = searcher
        .search(&query, &tantivy::collector::DocSetCollector)
        .map_err(|e| Error::index(&idx.dir, e))?;
    let mut paths = Vec::with_capacity(docs.len());
    for addr in docs {
        let doc: TantivyDocument = searcher.doc(addr).map_err(|e| Error::index(&idx.dir, e))?;
        if let Some(p) = doc.get_first(f.path).and_then(|v| v.as_str()) {
            paths.push(p.to_string());
        }
    }
    paths.sort();
    Ok(Some(paths))
}

/// The `limit` project notes most similar to note `id` in an up-to-date index, by
/// tantivy's more-like-this query over the note's name, ticker, tags, body and
/// category (not `none`). The note itself is excluded.
pub fn similar(idx: &KbIndex, id: &str, limit: usize) -> Result<Vec<Similar>> {
    let searcher = idx.searcher()?;
    let Some(addr) = crate::search::doc_by_id(idx, &searcher, id) else {
        return Ok(Vec::new());
    };
    let f = idx.fields;
    // The stored fields of the note, plus its body (not stored) from the file.
    let doc: TantivyDocument = searcher.doc(addr).map_err(|e| Error::index(&idx.dir, e))?;
    let mut fields: BTreeMap<Field, Vec<OwnedValue>> = BTreeMap::new();
    // The kind is required anyway, ids and paths are unique, and "not AI" is no
    // likeness: none of these make two notes alike.
    let unlike = [f.kind, f.id, f.path, f.date];
    for (field, value) in doc.field_values() {
        if unlike.contains(&field) || (field == f.category && value.as_str() == Some(NONE)) {
            continue;
        }
        if let Some(s) = value.as_str() {
            fields
                .entry(field)
                .or_default()
                .push(OwnedValue::Str(s.to_string()));
        }
    }
    let path = doc.get_first(f.path).and_then(|v| v.as_str()).unwrap_or("");
    if let Some(body) = idx.body_text(path) {
        fields.insert(f.body, vec![OwnedValue::Str(body)]);
    }
    // The corpus is small: a term seen once in one other note is already a signal.
    // Every term is kept (no top-25 cut), so ties never make the query depend on
    // hash order.
    // A term's document frequency still counts the deleted documents of edited notes
    // until their segments merge, while the query's idf divides by the live ones (and
    // asserts that one is not above the other): a term found in more documents than
    // are live, which is in nearly every note anyway, is left out.
    let mlt = MoreLikeThisQuery::builder()
        .with_min_doc_frequency(1)
        .with_max_doc_frequency(searcher.num_docs())
        .with_min_term_frequency(1)
        .with_max_query_terms(100_000)
        .with_min_word_length(2)
        .with_document_fields(fields.into_iter().collect());
    let kind: Box<dyn Query> = Box::new(ConstScoreQuery::new(
        Box::new(TermQuery::new(
            Term::from_field_text(f.kind, Kind::Project.as_str()),
            IndexRecordOption::Basic,
        )),
        0.0,
    ));
    let itself: Box<dyn Query> = Box::new(TermQuery::new(
        Term::from_field_text(f.id, id),
        IndexRecordOption::Basic,
    ));
    let query = BooleanQuery::new(vec![
        (Occur::Must, Box::new(mlt) as Box<dyn Query>),
        (Occur::Must, kind),
        (Occur::MustNot, itself),
    ]);
    // Fetch a few extra so ties at the cut can be broken by id.
    let top = searcher
        .search(&query, &TopDocs::with_limit(limit + 5).order_by_score())
        .map_err(|e| Error::index(&idx.dir, e))?;
    let mut out = Vec::with_capacity(top.len());
    for (score, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr).map_err(|e| Error::index(&idx.dir, e))?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        out.push(Similar {
            id: text(f.id).unwrap_or_default(),
            name: text(f.title).unwrap_or_default(),
            ticker: text(f.ticker),
            category: text(f.category),
            score: (f64::from(score) * 1000.0).round() / 1000.0,
        });
    }
    // A note that shares only terms found in nearly every note scores about zero
    // (0.00 as shown): it is not similar at all.
    out.retain(|s| s.score >= 0.005);
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    out.truncate(limit);
    Ok(out)
}

/// Writes the text form of a card.
pub fn render(w: &mut dyn Write, c: &Card, style: Style) -> io::Result<()> {
    let head = match &c.ticker {
        Some(t) => format!("{} ({t})", c.name),
        None => c.name.clone(),
    };
    writeln!(w, "{}", style.bold(&head))?;
    writeln!(w, "{}", style.dim(&c.path))?;
    let field = |w: &mut dyn Write, key: &str, value: &str| -> io::Result<()> {
        if value.is_empty() {
            Ok(())
        } else {
            writeln!(w, "  {:<10} {value}", format!("{key}:"))
        }
    };
    field(w, "website", c.website.as_deref().unwrap_or(""))?;
    field(w, "aliases", &c.aliases.join(", "))?;
    field(w, "tags", &c.tags.join(", "))?;
    field(w, "sources", &c.sources.join(", "))?;
    for (k, v) in &c.front_matter {
        field(w, k, v)?;
    }

    let r = &c.classification;
    writeln!(w)?;
    let predicted = label(r.category, r.subcategory);
    let conf = format!("{:.0}% confidence", r.confidence * 100.0);
    match &c.pinned {
        Some(p) => {
            let pinned = label(&p.category, p.subcategory.as_deref());
            writeln!(w, "{} {}", style.bold("pinned:   "), style.cyan(&pinned))?;
            let verdict = if r.disagrees() {
                style.yellow("disagrees with the pinned label")
            } else {
                "agrees".to_string()
            };
            writeln!(
                w,
                "{} {} ({conf}; {verdict})",
                style.bold("predicted:"),
                style.cyan(&predicted)
            )?;
        }
        None => writeln!(
            w,
            "{} {} ({conf}; not pinned)",
            style.bold("predicted:"),
            style.cyan(&predicted)
        )?,
    }
    if !r.secondary.is_empty() {
        writeln!(w, "  also spans: {}", r.secondary.join(", "))?;
    }
    let scores: Vec<String> = r
        .scores
        .iter()
        .map(|(k, v)| format!("{k} {v:.2}"))
        .collect();
    writeln!(
        w,
        "  scores: {}; AI scope {:.2} (needs {:.2})",
        scores.join(", "),
        r.scope_score,
        r.scope_needed
    )?;
    if r.evidence.is_empty() {
        writeln!(w, "  no evidence: no taxonomy signal fired")?;
    }
    for e in r.evidence.iter().take(EVIDENCE_LINES) {
        writeln!(w, "  {}", crate::render::evidence(e))?;
    }
    if r.evidence.len() > EVIDENCE_LINES {
        writeln!(
            w,
            "  {}",
            style.dim(&format!(
                "… {} more (aikb classify --explain)",
                r.evidence.len() - EVIDENCE_LINES
            ))
        )?;
    }
    if let Some(v) = &r.lexicon {
        for l in crate::render::lexicon_lines(v, 5) {
            writeln!(w, "  {l}")?;
        }
    }

    writeln!(w)?;
    let n = c.mentions.len();
    writeln!(
        w,
        "{}",
        style.bold(&format!(
            "mentioned in {n} article{}",
            crate::render::plural(n)
        ))
    )?;
    for m in &c.mentions {
        writeln!(w, "  {} {}", m.title, style.dim(&format!("({})", m.id)))?;
        writeln!(w, "    {}", m.snippet)?;
    }

    writeln!(w)?;
    writeln!(w, "{}", style.bold("similar projects"))?;
    if c.similar.is_empty() {
        writeln!(w, "  none found")?;
    }
    for (i, s) in c.similar.iter().enumerate() {
        let name = match &s.ticker {
            Some(t) => format!("{} ({t})", s.name),
            None => s.name.clone(),
        };
        let cat = s.category.as_deref().unwrap_or("-");
        writeln!(
            w,
            "  {}. {name}  {}  {}",
            i + 1,
            style.cyan(cat),
            style.dim(&format!("{:.2}", s.score))
        )?;
    }
    Ok(())
}

fn label(cat: &str, sub: Option<&str>) -> String {
    match sub {
        Some(s) => format!("{cat}/{s}"),
        None => cat.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{UpdateOptions, update};
    use crate::kb::Kb;
    use crate::taxonomy::Taxonomy;

    const NOTES: &[(&str, &str)] = &[
        (
            "corpus/projects/render.md",
            "---\nname: Render\nticker: RNDR\ntags: [gpu]\npublisher: x\ncategory: resources\nsubcategory: compute\n---\nA decentralized GPU marketplace for rendering and AI inference jobs.",
        ),
        (
            "corpus/projects/akash.md",
            "---\nname: Akash\nticker: AKT\n---\nA decentralized GPU marketplace: leases of GPU compute for AI training.",
        ),
        (
            "corpus/projects/filecoin.md",
            "---\nname: Filecoin\nticker: FIL\n---\nDecentralized storage network for AI datasets, paid in FIL.",
        ),
        (
            "corpus/projects/tether.md",
            "---\nname: Tether\nticker: USDT\n---\nA dollar stablecoin on many chains.",
        ),
        (
            "corpus/articles/a.md",
            "---\ntitle: GPU markets\n---\nRender and Akash sell GPU time; a decentralized GPU marketplace. We render frames.",
        ),
    ];

    fn kb() -> (tempfile::TempDir, Kb, Vec<Note>) {
        let tmp = tempfile::tempdir().unwrap();
        crate::kb::init(tmp.path()).unwrap();
        for (p, t) in NOTES {
            std::fs::write(tmp.path().join(p), t).unwrap();
        }
        let kb = Kb::new(tmp.path().to_path_buf(), None, None);
        let (notes, problems) = crate::corpus::load_all(&kb.root).unwrap();
        assert!(problems.is_empty());
        (tmp, kb, notes)
    }

    #[test]
    fn card_has_front_matter_labels_and_mentions() {
        let (_t, kb, notes) = kb();
        let tax = Taxonomy::load(&kb.taxonomy).unwrap();
        let c = Classifier::new(&tax);
        let note = crate::project::find(&notes, "rndr").unwrap();
        let card = card(note, &notes, &c);
        assert_eq!(card.name, "Render");
        assert_eq!(card.front_matter["publisher"], "x");
        assert_eq!(card.pinned.as_ref().unwrap().category, "resources");
        assert_eq!(card.mentions.len(), 1);
        assert!(
            card.mentions[0].snippet.starts_with("Render and Akash"),
            "{}",
            card.mentions[0].snippet
        );
        let mut out = Vec::new();
        render(&mut out, &card, Style::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("Render (RNDR)\ncorpus/projects/render.md\n"),
            "{text}"
        );
        assert!(
            text.contains("publisher:") && text.contains("mentioned in 1 article"),
            "{text}"
        );
    }

    #[test]
    fn mention_candidates_hold_every_mentioning_article() {
        let (_t, kb, notes) = kb();
        std::fs::write(
            kb.root.join("corpus/articles/b.md"),
            "---\ntitle: On $FIL and Render's jobs\n---\nStorage, paid in `FIL`; no other name.",
        )
        .unwrap();
        let (notes_now, _) = crate::corpus::load_all(&kb.root).unwrap();
        assert_eq!(notes_now.len(), notes.len() + 1);
        let tax = Taxonomy::load(&kb.taxonomy).unwrap();
        let c = Classifier::new(&tax);
        let (idx, _) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        for project in notes_now.iter().filter(|n| n.kind == Kind::Project) {
            let paths = mention_candidates(&idx, project).unwrap().unwrap();
            let read: Vec<Note> = paths
                .iter()
                .map(|p| crate::corpus::read_note(&kb.root, p).unwrap().0)
                .collect();
            assert_eq!(
                card(project, &read, &c).mentions,
                card(project, &notes_now, &c).mentions,
                "{}",
                project.id
            );
        }
        let render = crate::project::find(&notes_now, "render").unwrap();
        assert_eq!(
            mention_candidates(&idx, render).unwrap().unwrap(),
            ["corpus/articles/a.md", "corpus/articles/b.md"]
        );
        let tether = crate::project::find(&notes_now, "tether").unwrap();
        assert!(
            mention_candidates(&idx, tether)
                .unwrap()
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn similar_projects_after_edits() {
        // Edited notes leave deleted documents in the index until segments merge; the
        // more-like-this query must not count them against the live ones (it used to
        // panic: "21 >= 40").
        let (_t, kb, _) = kb();
        let tax = Taxonomy::load(&kb.taxonomy).unwrap();
        update(&kb, &tax, &UpdateOptions::default()).unwrap();
        // Each round edits all but one note, so no segment is left wholly deleted
        // (such a segment is dropped at once).
        for round in 0..6 {
            for (k, (p, t)) in NOTES.iter().enumerate() {
                if k == round % NOTES.len() {
                    continue;
                }
                let text = format!("{t}\nEdit {round}: GPU.");
                std::fs::write(kb.root.join(p), text).unwrap();
            }
            update(&kb, &tax, &UpdateOptions::default()).unwrap();
        }
        let (idx, _) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        let s = similar(&idx, "projects/render", SIMILAR).unwrap();
        assert_eq!(
            s.first().map(|s| s.id.as_str()),
            Some("projects/akash"),
            "{s:?}"
        );
    }

    #[test]
    fn similar_projects_exclude_itself_and_articles() {
        let (_t, kb, _) = kb();
        let tax = Taxonomy::load(&kb.taxonomy).unwrap();
        let (idx, _) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        let s = similar(&idx, "projects/render", SIMILAR).unwrap();
        let ids: Vec<&str> = s.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.first(), Some(&"projects/akash"), "{s:?}");
        assert!(
            !ids.contains(&"projects/render") && !ids.contains(&"articles/a"),
            "{ids:?}"
        );
        assert!(s.windows(2).all(|w| w[0].score >= w[1].score));
        assert_eq!(
            s,
            similar(&idx, "projects/render", SIMILAR).unwrap(),
            "deterministic"
        );
        assert!(
            similar(&idx, "projects/missing", SIMILAR)
                .unwrap()
                .is_empty()
        );
        // A note that shares nothing weighty with the others has no similar project.
        let s = similar(&idx, "projects/tether", SIMILAR).unwrap();
        assert!(s.is_empty(), "{s:?}");
    }
}
