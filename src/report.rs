//! The taxonomy report: every project note classified and placed in the taxonomy by
//! its effective label (pinned, else predicted), with the `none`, low-confidence and
//! disagreement lists, rendered as Markdown and JSON ([`crate::svg`] draws the map).
//!
//! Everything here is a pure function of the notes and the taxonomy: no clock, no
//! paths outside the knowledge base, sorted output, so the same inputs always give
//! byte-identical files. Writing the files is the binary's job.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::classify::Classifier;
use crate::corpus::{Kind, Note};
use crate::project::ProjectResult;
use crate::taxonomy::{NONE, TAXONOMY_FILE};
use crate::text::one_line;

/// Version of the report's JSON shape; bumped on any incompatible change.
pub const REPORT_VERSION: u32 = 1;
/// Default folder for the report, under the knowledge-base root.
pub const REPORTS_DIR: &str = "reports";
/// File name of the Markdown report.
pub const MARKDOWN_FILE: &str = "taxonomy.md";
/// File name of the JSON report.
pub const JSON_FILE: &str = "taxonomy.json";
/// File name of the market map.
pub const SVG_FILE: &str = "market-map.svg";
/// How many evidence terms a project row shows.
pub const TOP_TERMS: usize = 3;
/// Longest evidence term shown, in characters.
pub const TERM_CHARS: usize = 40;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub report_version: u32,
    /// What the report was computed from.
    pub generated_from: Source,
    /// The taxonomy's `thresholds.ambiguity_margin`: confidence below it is "low".
    pub ambiguity_margin: f64,
    /// Every taxonomy category, in taxonomy order, with the projects placed in it.
    pub categories: Vec<CategoryReport>,
    /// Projects whose effective label is `none` (not AI-related), by name.
    pub none: Vec<Entry>,
    /// Projects pinned to a category the taxonomy does not define, by name.
    pub unplaced: Vec<Entry>,
    /// Projects whose prediction has a confidence below the ambiguity margin, by name.
    pub low_confidence: Vec<Entry>,
    /// Projects whose pinned label differs from the prediction, by name.
    pub disagreements: Vec<Entry>,
    /// Article notes and the projects each mentions, by id.
    pub articles: Vec<ArticleReport>,
}

/// The inputs of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// `version:` of the taxonomy file.
    pub taxonomy_version: u32,
    /// Content hash of the taxonomy file and its lexicon (`Taxonomy::hash`).
    pub taxonomy_hash: String,
    /// The lexicon file the taxonomy names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lexicon: Option<String>,
    /// Notes read (projects plus articles).
    pub notes: usize,
    /// Project notes.
    pub projects: usize,
    /// Article notes.
    pub articles: usize,
    /// Notes skipped because they could not be read or parsed.
    pub skipped: usize,
}

/// One category with its subcategories.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryReport {
    /// Category id.
    pub id: String,
    /// Display label.
    pub label: String,
    /// Description from the taxonomy, whitespace collapsed.
    pub description: String,
    /// Projects placed in the category (all subcategories and `other`).
    pub count: usize,
    /// Subcategories in taxonomy order.
    pub subcategories: Vec<SubcategoryReport>,
    /// Projects placed in the category without a (known) subcategory, by name.
    pub other: Vec<Entry>,
}

/// One subcategory and its projects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubcategoryReport {
    /// Subcategory id.
    pub id: String,
    /// Display label.
    pub label: String,
    /// Description from the taxonomy, whitespace collapsed.
    pub description: String,
    /// Number of projects.
    pub count: usize,
    /// The projects, by name.
    pub projects: Vec<Entry>,
}

/// A category label: `category` (an id or `none`) and an optional subcategory id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Label {
    /// Category id, or `none`.
    pub category: String,
    /// Subcategory id.
    pub subcategory: Option<String>,
}

impl Label {
    /// `category/subcategory`, or just `category`.
    pub fn path(&self) -> String {
        match &self.subcategory {
            Some(s) => format!("{}/{s}", self.category),
            None => self.category.clone(),
        }
    }
}

/// Where a project's placement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelSource {
    /// The analyst's pinned label.
    Pinned,
    /// The classifier's prediction.
    Predicted,
}

/// One project in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Note id.
    pub id: String,
    /// Project name.
    pub name: String,
    /// Ticker, if any.
    pub ticker: Option<String>,
    /// Path relative to the root.
    pub path: String,
    /// The effective label: pinned, else predicted.
    pub placed: Label,
    /// Whether `placed` is the pinned or the predicted label.
    pub placed_by: LabelSource,
    /// The pinned label, if any.
    pub pinned: Option<Label>,
    /// The classifier's label.
    pub predicted: Label,
    /// Confidence of the prediction, 0..=1.
    pub confidence: f64,
    /// True when `confidence` is below the ambiguity margin.
    pub low_confidence: bool,
    /// True when the pinned label differs from the prediction.
    pub disagrees: bool,
    /// Score per category id.
    pub scores: BTreeMap<String, f64>,
    /// AI-relatedness (scope) score.
    pub scope_score: f64,
    /// Strongest evidence terms for the predicted category, at most [`TOP_TERMS`], each
    /// cut to [`TERM_CHARS`] characters: the lexicon's words when it gave the label.
    pub top_terms: Vec<String>,
    /// True when the lexicon's vote overruled the signals' label.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub by_lexicon: bool,
    /// Number of article notes that mention the project.
    pub mentions: usize,
    /// Ids of those article notes.
    pub mentioned_in: Vec<String>,
}

/// An article note and the projects it mentions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleReport {
    /// Note id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Path relative to the root.
    pub path: String,
    /// Ids of the projects it mentions, sorted.
    pub mentions: Vec<String>,
}

impl Report {
    /// Projects on the map (every placed project, none and unplaced excluded).
    pub fn placed_count(&self) -> usize {
        self.categories.iter().map(|c| c.count).sum()
    }
}

/// Builds the report from loaded notes. `skipped` is the number of notes that could
/// not be parsed (they are only counted).
pub fn build(notes: &[Note], classifier: &Classifier<'_>, skipped: usize) -> Report {
    let tax = classifier.taxonomy();
    let mentions = crate::mention::mentions(notes);
    let projects: Vec<&Note> = notes.iter().filter(|n| n.kind == Kind::Project).collect();
    let mut entries: Vec<Entry> = crate::par::map(&projects, 64, |n| {
        let r = ProjectResult::new(n, classifier);
        let mentioned_in: Vec<String> = mentions
            .get(&n.id)
            .map(|m| m.iter().map(|m| m.id.clone()).collect())
            .unwrap_or_default();
        entry(&r, mentioned_in, tax.thresholds.ambiguity_margin)
    });
    entries.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    });

    let mut categories: Vec<CategoryReport> = tax
        .categories
        .iter()
        .map(|c| CategoryReport {
            id: c.id.clone(),
            label: c.label.clone(),
            description: one_line(&c.description),
            count: 0,
            subcategories: c
                .subcategories
                .iter()
                .map(|s| SubcategoryReport {
                    id: s.id.clone(),
                    label: s.label.clone(),
                    description: one_line(&s.description),
                    count: 0,
                    projects: Vec::new(),
                })
                .collect(),
            other: Vec::new(),
        })
        .collect();
    let mut none = Vec::new();
    let mut unplaced = Vec::new();
    for e in &entries {
        if e.placed.category == NONE {
            none.push(e.clone());
            continue;
        }
        let Some(cat) = categories.iter_mut().find(|c| c.id == e.placed.category) else {
            unplaced.push(e.clone());
            continue;
        };
        cat.count += 1;
        let sub = e
            .placed
            .subcategory
            .as_ref()
            .and_then(|s| cat.subcategories.iter_mut().find(|x| &x.id == s));
        match sub {
            Some(sub) => {
                sub.count += 1;
                sub.projects.push(e.clone());
            }
            None => cat.other.push(e.clone()),
        }
    }
    let low_confidence = entries
        .iter()
        .filter(|e| e.low_confidence)
        .cloned()
        .collect();
    let disagreements = entries.iter().filter(|e| e.disagrees).cloned().collect();

    let mut articles: Vec<ArticleReport> = notes
        .iter()
        .filter(|n| n.kind == Kind::Article)
        .map(|n| ArticleReport {
            id: n.id.clone(),
            title: n.title(),
            path: n.path.clone(),
            mentions: mentions
                .iter()
                .filter(|(_, ms)| ms.iter().any(|m| m.id == n.id))
                .map(|(p, _)| p.clone())
                .collect(),
        })
        .collect();
    articles.sort_by(|a, b| a.id.cmp(&b.id));

    let projects = entries.len();
    Report {
        report_version: REPORT_VERSION,
        generated_from: Source {
            taxonomy_version: tax.version,
            taxonomy_hash: tax.hash.clone(),
            lexicon: tax.loaded_lexicon().map(|(spec, _)| spec.file.clone()),
            notes: notes.len(),
            projects,
            articles: notes.len() - projects,
            skipped,
        },
        ambiguity_margin: tax.thresholds.ambiguity_margin,
        categories,
        none,
        unplaced,
        low_confidence,
        disagreements,
        articles,
    }
}

fn entry(r: &ProjectResult, mentioned_in: Vec<String>, margin: f64) -> Entry {
    let (cat, sub) = r.effective();
    Entry {
        id: r.id.clone(),
        name: r.name.clone(),
        ticker: r.ticker.clone(),
        path: r.path.clone(),
        placed: Label {
            category: cat.to_string(),
            subcategory: sub.map(str::to_string),
        },
        placed_by: if r.pinned.is_some() {
            LabelSource::Pinned
        } else {
            LabelSource::Predicted
        },
        pinned: r.pinned.as_ref().map(|p| Label {
            category: p.category.clone(),
            subcategory: p.subcategory.clone(),
        }),
        predicted: Label {
            category: r.category.to_string(),
            subcategory: r.subcategory.map(str::to_string),
        },
        confidence: r.confidence,
        low_confidence: r.confidence < margin,
        disagrees: r.disagrees(),
        scores: r.scores.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        scope_score: r.scope_score,
        // Pattern signals can match half a sentence: keep table cells short.
        top_terms: r
            .top_terms(TOP_TERMS)
            .iter()
            .map(|t| crate::text::truncate_chars(t, TERM_CHARS))
            .collect(),
        by_lexicon: r.by_lexicon(),
        mentions: mentioned_in.len(),
        mentioned_in,
    }
}

/// The JSON report: pretty-printed [`Report`] plus a newline.
pub fn json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("the report is plain data");
    s.push('\n');
    s
}

/// The Markdown report.
pub fn markdown(r: &Report) -> String {
    let mut md = String::new();
    // Writing into a String cannot fail.
    let _ = write_markdown(&mut md, r);
    md
}

fn write_markdown(md: &mut String, r: &Report) -> std::fmt::Result {
    let g = &r.generated_from;
    writeln!(md, "# Crypto × AI market map: taxonomy report")?;
    writeln!(md)?;
    writeln!(
        md,
        "<!-- Generated by `aikb report`: do not edit by hand; run `aikb report` to regenerate. -->"
    )?;
    writeln!(md)?;
    write!(
        md,
        "Generated from `{TAXONOMY_FILE}` version {}{} (content hash `{}`) and {} notes: {} project {} and {} article {}",
        g.taxonomy_version,
        g.lexicon
            .as_ref()
            .map(|l| format!(" with `{l}`"))
            .unwrap_or_default(),
        g.taxonomy_hash,
        g.notes,
        g.projects,
        plural(g.projects, "note", "notes"),
        g.articles,
        plural(g.articles, "note", "notes"),
    )?;
    if g.skipped > 0 {
        write!(
            md,
            " ({} unreadable {} skipped)",
            g.skipped,
            plural(g.skipped, "note", "notes")
        )?;
    }
    writeln!(md, ".")?;
    writeln!(md)?;
    writeln!(
        md,
        "Each protocol is placed by its effective label: the analyst's pinned label when the note has one, \
         else the classifier's prediction. In the tables, ≠ marks a prediction that disagrees with the pinned \
         label, and *low* a confidence below the taxonomy's ambiguity margin ({}). \"Articles\" counts the \
         article notes that mention the protocol.",
        percent(r.ambiguity_margin)
    )?;
    writeln!(md)?;
    writeln!(md, "| Category | Protocols |")?;
    writeln!(md, "|---|--:|")?;
    for c in &r.categories {
        writeln!(md, "| {} (`{}`) | {} |", cell(&c.label), c.id, c.count)?;
    }
    writeln!(md, "| Not AI (`{NONE}`) | {} |", r.none.len())?;
    if !r.unplaced.is_empty() {
        writeln!(md, "| Unknown pinned category | {} |", r.unplaced.len())?;
    }

    for c in &r.categories {
        writeln!(md)?;
        writeln!(md, "## {}", heading(&c.label))?;
        writeln!(md)?;
        writeln!(
            md,
            "`{}` · {} {}",
            c.id,
            c.count,
            plural(c.count, "protocol", "protocols")
        )?;
        writeln!(md)?;
        writeln!(md, "{}", text(&c.description))?;
        for s in &c.subcategories {
            writeln!(md)?;
            writeln!(md, "### {}", heading(&s.label))?;
            writeln!(md)?;
            writeln!(
                md,
                "`{}/{}` · {} {}",
                c.id,
                s.id,
                s.count,
                plural(s.count, "protocol", "protocols")
            )?;
            writeln!(md)?;
            writeln!(md, "{}", text(&s.description))?;
            writeln!(md)?;
            project_table(md, &s.projects)?;
        }
        if !c.other.is_empty() {
            writeln!(md)?;
            writeln!(md, "### Other (no subcategory)")?;
            writeln!(md)?;
            writeln!(
                md,
                "Placed in `{}` without a subcategory the taxonomy defines.",
                c.id
            )?;
            writeln!(md)?;
            project_table(md, &c.other)?;
        }
    }

    writeln!(md)?;
    writeln!(md, "## Not AI (`{NONE}`)")?;
    writeln!(md)?;
    writeln!(
        md,
        "Protocols whose effective label is `{NONE}`: not AI-related, so not on the market map."
    )?;
    writeln!(md)?;
    if r.none.is_empty() {
        writeln!(md, "None.")?;
    } else {
        writeln!(
            md,
            "| Protocol | Ticker | Pinned | Predicted | Confidence | AI scope score | Articles |"
        )?;
        writeln!(md, "|---|---|---|---|--:|--:|--:|")?;
        for e in &r.none {
            writeln!(
                md,
                "| {} | {} | {} | {} | {} | {:.2} | {} |",
                cell(&e.name),
                ticker(e),
                pinned(e),
                predicted(e),
                confidence(e),
                e.scope_score,
                e.mentions
            )?;
        }
    }

    writeln!(md)?;
    writeln!(md, "## Low confidence")?;
    writeln!(md)?;
    writeln!(
        md,
        "Predictions with a confidence below the ambiguity margin ({}): the runner-up scored nearly as high \
         (or, for `{NONE}`, the project nearly counted as AI). Worth a look, and worth pinning.",
        percent(r.ambiguity_margin)
    )?;
    writeln!(md)?;
    if r.low_confidence.is_empty() {
        writeln!(md, "None.")?;
    } else {
        writeln!(
            md,
            "| Protocol | Ticker | Placed in | Predicted | Confidence | Scores |"
        )?;
        writeln!(md, "|---|---|---|---|--:|---|")?;
        for e in &r.low_confidence {
            let scores: Vec<String> = e
                .scores
                .iter()
                .map(|(k, v)| format!("{k} {v:.2}"))
                .collect();
            writeln!(
                md,
                "| {} | {} | `{}` | {} | {} | {} |",
                cell(&e.name),
                ticker(e),
                e.placed.path(),
                predicted(e),
                confidence(e),
                cell(&scores.join(", "))
            )?;
        }
    }

    writeln!(md)?;
    writeln!(md, "## Disagreements")?;
    writeln!(md)?;
    writeln!(
        md,
        "Pinned labels that differ from the classifier's prediction. The pinned label decides the placement; \
         review the note or the taxonomy."
    )?;
    writeln!(md)?;
    if r.disagreements.is_empty() {
        writeln!(md, "None.")?;
    } else {
        writeln!(
            md,
            "| Protocol | Ticker | Pinned | Predicted | Confidence | Top evidence |"
        )?;
        writeln!(md, "|---|---|---|---|--:|---|")?;
        for e in &r.disagreements {
            writeln!(
                md,
                "| {} | {} | {} | `{}` | {} | {} |",
                cell(&e.name),
                ticker(e),
                pinned(e),
                e.predicted.path(),
                confidence(e),
                terms(e)
            )?;
        }
    }

    if !r.unplaced.is_empty() {
        writeln!(md)?;
        writeln!(md, "## Unknown pinned categories")?;
        writeln!(md)?;
        writeln!(
            md,
            "Pinned to a category the taxonomy does not define (`aikb check` reports these too)."
        )?;
        writeln!(md)?;
        writeln!(md, "| Protocol | Ticker | Pinned | Predicted | Path |")?;
        writeln!(md, "|---|---|---|---|---|")?;
        for e in &r.unplaced {
            writeln!(
                md,
                "| {} | {} | {} | {} | `{}` |",
                cell(&e.name),
                ticker(e),
                pinned(e),
                predicted(e),
                e.path
            )?;
        }
    }

    writeln!(md)?;
    writeln!(md, "## Articles")?;
    writeln!(md)?;
    if r.articles.is_empty() {
        writeln!(md, "No article notes.")?;
    } else {
        let names: BTreeMap<&str, &str> = r
            .categories
            .iter()
            .flat_map(|c| {
                c.subcategories
                    .iter()
                    .flat_map(|s| &s.projects)
                    .chain(&c.other)
            })
            .chain(&r.none)
            .chain(&r.unplaced)
            .map(|e| (e.id.as_str(), e.name.as_str()))
            .collect();
        writeln!(md, "| Article | Note | Protocols mentioned |")?;
        writeln!(md, "|---|---|---|")?;
        for a in &r.articles {
            let mut mentioned: Vec<&str> = a
                .mentions
                .iter()
                .map(|id| names.get(id.as_str()).copied().unwrap_or(id.as_str()))
                .collect();
            mentioned.sort_by_key(|n| n.to_lowercase());
            let list = if mentioned.is_empty() {
                "none".to_string()
            } else {
                format!(
                    "{}: {}",
                    mentioned.len(),
                    mentioned
                        .iter()
                        .map(|n| cell(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            writeln!(md, "| {} | `{}` | {} |", cell(&a.title), a.id, list)?;
        }
    }
    Ok(())
}

fn project_table(md: &mut String, projects: &[Entry]) -> std::fmt::Result {
    if projects.is_empty() {
        return writeln!(md, "No protocols.");
    }
    writeln!(
        md,
        "| Protocol | Ticker | Confidence | Top evidence | Pinned | Predicted | Articles |"
    )?;
    writeln!(md, "|---|---|--:|---|---|---|--:|")?;
    for e in projects {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&e.name),
            ticker(e),
            confidence(e),
            terms(e),
            pinned(e),
            predicted(e),
            e.mentions
        )?;
    }
    Ok(())
}

fn ticker(e: &Entry) -> String {
    e.ticker.as_deref().map_or_else(|| "—".to_string(), cell)
}

fn pinned(e: &Entry) -> String {
    e.pinned
        .as_ref()
        .map_or_else(|| "—".to_string(), |p| format!("`{}`", p.path()))
}

fn predicted(e: &Entry) -> String {
    let l = format!("`{}`", e.predicted.path());
    if e.disagrees { format!("≠ {l}") } else { l }
}

fn confidence(e: &Entry) -> String {
    if e.low_confidence {
        format!("{} *low*", percent(e.confidence))
    } else {
        percent(e.confidence)
    }
}

fn terms(e: &Entry) -> String {
    if e.top_terms.is_empty() {
        "—".to_string()
    } else if e.by_lexicon {
        cell(&format!("lexicon: {}", e.top_terms.join(", ")))
    } else {
        cell(&e.top_terms.join(", "))
    }
}

/// A share as a whole percentage, rounded down (at 0.1% precision first, so 0.29
/// reads 29%): a confidence of 0.195 reads 19%, visibly below a 20% margin.
pub fn percent(x: f64) -> String {
    format!("{}%", ((x * 1000.0).round() / 10.0).floor())
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Escapes text for a Markdown table cell: one line, no markup, pipes escaped (all
/// done by [`text`]; the name says where it is used).
fn cell(s: &str) -> String {
    text(s)
}

/// Escapes running text: Markdown punctuation is backslash-escaped, whitespace collapsed.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        // A control character would reach a terminal that shows the file.
        out.push(if c.is_control() { '\u{FFFD}' } else { c });
    }
    out
}

/// A heading's text: escaped and never empty.
fn heading(s: &str) -> String {
    let t = text(s);
    if t.is_empty() {
        "(unnamed)".to_string()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::parse_note;
    use crate::taxonomy::Taxonomy;

    const TAX: &str = r#"version: 3
thresholds:
  scope: 2
  min_score: 2
  ambiguity_margin: 0.3
scope:
  signals:
    - terms: [ai, machine learning]
      weight: 2
categories:
  - id: resources
    label: Resources
    description: >
      What AI
      needs.
    subcategories:
      - id: compute
        label: Compute
        description: GPUs.
        signals:
          - term: gpu
            weight: 3
      - id: storage
        label: Storage
        description: Disks.
        signals:
          - term: decentralized storage
            weight: 3
  - id: problems
    label: Problems
    description: What AI breaks.
    subcategories:
      - id: privacy
        label: Privacy
        description: Secrets.
        signals:
          - term: encryption
            weight: 3
"#;

    fn notes() -> Vec<Note> {
        let raw: &[(&str, &str)] = &[
            (
                "corpus/projects/render.md",
                "---\nname: Render\nticker: RNDR\ncategory: resources\nsubcategory: compute\n---\nAI GPU network.",
            ),
            (
                "corpus/projects/akash.md",
                "---\nname: Akash\n---\nAI GPU marketplace with GPU leases.",
            ),
            (
                "corpus/projects/zama.md",
                "---\nname: Zama\ncategory: problems\nsubcategory: privacy\n---\nAI on GPU servers.",
            ),
            (
                "corpus/projects/mixed.md",
                "---\nname: Mixed\n---\nAI GPU plus encryption.",
            ),
            (
                "corpus/projects/tether.md",
                "---\nname: Tether\nticker: USDT\n---\nA stablecoin.",
            ),
            (
                "corpus/projects/odd.md",
                "---\nname: Odd | Pipe\ncategory: resources\n---\nAI GPU.",
            ),
            (
                "corpus/articles/a.md",
                "---\ntitle: Notes\n---\nRender and Zama and near the Akash. Also USDT.",
            ),
        ];
        raw.iter()
            .map(|(p, t)| parse_note(p, t.as_bytes()).unwrap())
            .collect()
    }

    fn report() -> Report {
        let tax = Taxonomy::parse(TAX, "t").unwrap();
        let c = Classifier::new(&tax);
        build(&notes(), &c, 1)
    }

    fn names(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.name.as_str()).collect()
    }

    #[test]
    fn report_places_projects_by_effective_label() {
        let r = report();
        assert_eq!(r.generated_from.notes, 7);
        assert_eq!(
            (
                r.generated_from.projects,
                r.generated_from.articles,
                r.generated_from.skipped
            ),
            (6, 1, 1)
        );
        assert_eq!(r.generated_from.taxonomy_version, 3);
        let res = &r.categories[0];
        assert_eq!(res.id, "resources");
        assert_eq!(res.description, "What AI needs.");
        assert_eq!(
            names(&res.subcategories[0].projects),
            vec!["Akash", "Mixed", "Render"]
        );
        assert_eq!(res.subcategories[0].count, 3);
        assert_eq!(
            names(&res.other),
            vec!["Odd | Pipe"],
            "pinned category without subcategory"
        );
        assert_eq!(res.count, 4);
        let zama = &r.categories[1].subcategories[0].projects[0];
        assert_eq!(zama.name, "Zama");
        assert_eq!(zama.placed_by, LabelSource::Pinned);
        assert_eq!(zama.predicted.path(), "resources/compute");
        assert!(zama.disagrees);
        assert_eq!(names(&r.disagreements), vec!["Zama"]);
        assert_eq!(names(&r.none), vec!["Tether"]);
        assert_eq!(r.placed_count(), 5);
    }

    #[test]
    fn report_lists_low_confidence_and_mentions() {
        let r = report();
        assert!(
            names(&r.low_confidence).contains(&"Mixed"),
            "{:?}",
            names(&r.low_confidence)
        );
        let all: Vec<&Entry> = r
            .categories
            .iter()
            .flat_map(|c| c.subcategories.iter().flat_map(|s| &s.projects))
            .collect();
        let get = |n: &str| all.iter().find(|e| e.name == n).unwrap();
        assert_eq!(get("Render").mentioned_in, vec!["articles/a"]);
        assert_eq!(get("Akash").mentions, 1);
        assert_eq!(r.none[0].mentions, 1, "USDT is Tether's ticker");
        assert_eq!(
            r.articles[0].mentions,
            vec![
                "projects/akash",
                "projects/render",
                "projects/tether",
                "projects/zama"
            ]
        );
    }

    #[test]
    fn markdown_has_every_section_and_escapes_cells() {
        let r = report();
        let md = markdown(&r);
        for needle in [
            "## Resources",
            "### Compute",
            "`resources/compute` · 3 protocols",
            "## Not AI (`none`)",
            "## Low confidence",
            "## Disagreements",
            "## Articles",
            "Odd \\| Pipe",
            "≠ `resources/compute`",
            "1 unreadable note skipped",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
        assert!(md.contains(&r.generated_from.taxonomy_hash));
        assert_eq!(
            (percent(0.195), percent(0.29), percent(1.0), percent(0.0)),
            ("19%".into(), "29%".into(), "100%".into(), "0%".into())
        );
        assert!(md.ends_with('\n') && !md.ends_with("\n\n"));
        assert_eq!(md, markdown(&report()), "deterministic");
    }

    #[test]
    fn json_round_trips_and_is_sorted() {
        let r = report();
        let v: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(v["report_version"], 1);
        assert_eq!(
            v["categories"][0]["subcategories"][0]["projects"][0]["name"],
            "Akash"
        );
        assert_eq!(v["none"][0]["placed"]["category"], "none");
        assert_eq!(
            v["categories"][1]["subcategories"][0]["projects"][0]["placed_by"],
            "pinned"
        );
        assert_eq!(json(&r), json(&report()));
    }

    #[test]
    fn empty_corpus_gives_a_valid_report() {
        let tax = Taxonomy::parse(TAX, "t").unwrap();
        let c = Classifier::new(&tax);
        let r = build(&[], &c, 0);
        assert_eq!(r.placed_count(), 0);
        let md = markdown(&r);
        assert!(md.contains("No protocols.") && md.contains("No article notes."));
    }
}
