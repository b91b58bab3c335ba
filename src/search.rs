//! Search: parsed clauses → a tantivy query with field boosts, ranked hits with
//! snippets, and category counts over every hit.
//!
//! Tantivy types stay in here and in [`crate::index`]; callers get [`SearchResults`].

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::Serialize;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery,
    Occur as TOccur, PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, DocId, Order, Score, Searcher, SegmentReader, TantivyDocument, Term};

use crate::error::{Error, Result};
use crate::index::{KbIndex, meta_words};
use crate::query::{self, Clause, Occur, Target};

/// Field boosts: a name, alias or ticker match outranks a body mention.
/// A title counts half a body match per BM25 unit: titles are short, so BM25's length
/// normalisation already favours them (measured on SciFact: 3.0 → nDCG@10 0.577,
/// 1.0 → 0.659, 0.5 → 0.689).
const TITLE_BOOST: f32 = 0.5;
/// Near spellings of a word no note holds are tried for terms of at least this many
/// characters, and two edits from this many.
const FUZZY_MIN_CHARS: usize = 4;
const FUZZY_TWO_EDITS_CHARS: usize = 8;
/// Weight of a near spelling's match, as for a synonym: below the words matched as
/// written.
const FUZZY_BOOST: f32 = SYNONYM_BOOST;
/// At most this many words of one query are searched by near spellings.
const MAX_NEAR_SPELLINGS: usize = 8;

/// An unknown word this long or longer may be two words written solid
/// ([`QueryBuilder::two_word_spelling`]), each of at least [`SPLIT_PART_MIN_CHARS`].
const SPLIT_MIN_CHARS: usize = 6;
const SPLIT_PART_MIN_CHARS: usize = 3;

/// At most this many pairs of adjacent query words are also searched written as one
/// ([`QueryBuilder::joined_pairs`]).
const MAX_JOINED_PAIRS: usize = 8;

/// Weight of two adjacent query words found written as one word (`zk ml` as `zkML`):
/// the word stands for both, so it counts as two words typed.
const JOINED_PAIR_BOOST: f32 = 2.0;
/// Weight of a synonym's match relative to the term the user typed.
const SYNONYM_BOOST: f32 = 0.5;
/// A query word, or the whole query, that is exactly a project's name or alias.
const NAME_BOOST: f32 = 6.0;
const ALIAS_BOOST: f32 = 1.0;
const TICKER_BOOST: f32 = 4.0;
/// `$POND` is a ticker by the writer's word: it outranks a project named "Pond".
const TICKER_BOOST_DOLLAR: f32 = 1.5 * NAME_BOOST;
const TICKER_BOOST_LOWER: f32 = 1.5;
const TAG_BOOST: f32 = 1.5;
const BODY_BOOST: f32 = 1.0;
/// Weight of two adjacent query words found within [`PROXIMITY_SLOP`] positions.
const PROXIMITY_BOOST: f32 = 0.3;
const PROXIMITY_SLOP: u32 = 2;
/// Weight of each part of a joined query word (`RNDR/AKT`, `FET-AGIX`, `near.org`)
/// searched on its own, next to the word as a phrase.
const PART_BOOST: f32 = 0.5;
/// At most this many distinct parts of one joined word are searched on their own.
const MAX_PARTS: usize = 8;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 180;

/// Search filters and limits.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// Maximum hits returned.
    pub limit: usize,
    /// Only notes of this kind (`project` or `article`).
    pub kind: Option<String>,
    /// Only notes in this category (effective label; `none` for non-AI projects).
    pub category: Option<String>,
    /// Only notes in this subcategory (effective label).
    pub subcategory: Option<String>,
    /// Only notes carrying every one of these tags.
    pub tags: Vec<String>,
    /// Only notes dated on or after this `YYYYMMDD` ([`crate::corpus::date_key`]).
    pub since: Option<i64>,
    /// Only notes dated on or before this `YYYYMMDD` ([`crate::corpus::date_key_end`]).
    pub until: Option<i64>,
    /// Newest notes first (by front-matter date; undated notes last, ties by score)
    /// instead of best first.
    pub newest_first: bool,
    /// Synonym groups (from the taxonomy): a query term also searches the other
    /// members of its group, at a lower weight.
    pub synonyms: Vec<Vec<String>>,
}

/// A snippet of body text with the matched terms marked.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snippet {
    /// One or two lines of text.
    pub text: String,
    /// Byte ranges of `text` to highlight.
    pub highlights: Vec<(usize, usize)>,
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// 1-based rank.
    pub rank: usize,
    /// BM25 score with field boosts.
    pub score: f32,
    /// Note id.
    pub id: String,
    /// Path relative to the root.
    pub path: String,
    /// `project` or `article`.
    pub kind: String,
    /// Name or title.
    pub title: String,
    /// Ticker, if any.
    pub ticker: Option<String>,
    /// Effective category, if any.
    pub category: Option<String>,
    /// Effective subcategory, if any.
    pub subcategory: Option<String>,
    /// Date as written in the front matter, if any.
    pub date: Option<String>,
    /// Matched text in context.
    pub snippet: Snippet,
}

/// The answer to one query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// The query as given.
    pub query: String,
    /// Number of matching notes (all of them, not only those returned).
    pub total_hits: usize,
    /// The best `limit` hits.
    pub hits: Vec<Hit>,
    /// Counts over all matching notes, per facet (`category`) and value.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// Query terms beyond [`query::MAX_CLAUSES`], not searched.
    pub dropped_terms: usize,
    /// Query words no note holds as written, searched by their near spellings.
    pub near_spellings: Vec<String>,
    /// Paths of hits whose note file could no longer be read as a note (deleted, moved
    /// or broken since the index was last brought up to date, which only a search
    /// with `--no-refresh` can see): they are listed without a snippet.
    pub unreadable: Vec<String>,
    /// Tags asked for (`tag:` or `--tag`) that no note carries.
    pub unknown_tags: Vec<UnknownTag>,
    /// True when nothing was searched: the query's words can match nothing (stop
    /// words that name no note, or operators such as `AND` and `*` alone), or it was
    /// empty and no filter was given.
    pub nothing_to_search: bool,
}

/// A tag asked for that no note carries, and the tags that hold it as one of their
/// words (`gpu-compute` for `compute`): tags match exactly, so a user who meant one of
/// those learns its name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnknownTag {
    /// The tag as asked for, in lower case.
    pub tag: String,
    /// At most [`MAX_SIMILAR_TAGS`] tags holding it as a word, most used first.
    pub similar: Vec<String>,
}

/// How many tags an [`UnknownTag`] suggests.
pub const MAX_SIMILAR_TAGS: usize = 5;

/// Runs `query` against an up-to-date index.
pub fn search(idx: &KbIndex, query: &str, opts: &SearchOptions) -> Result<SearchResults> {
    let searcher = idx.searcher()?;
    let builder = QueryBuilder {
        idx,
        searcher: &searcher,
        near_spellings: std::cell::RefCell::new(Vec::new()),
        nothing_to_search: std::cell::Cell::new(false),
    };
    let (clauses, dropped_terms) = query::limit(query::parse(query));
    // Never ask for more than there are: a huge --limit must not reserve memory for it.
    let limit = opts.limit.clamp(1, (searcher.num_docs() as usize).max(1));
    let q = builder.build(query, &clauses, opts);
    let index_err = |e| Error::index(&idx.dir, e);
    let (top, (total, counts)) = if opts.newest_first {
        // Newest first, undated notes last, ties by score.
        let by_date = TopDocs::with_limit(limit).order_by((
            (
                SortByStaticFastValue::<i64>::for_field("date_key"),
                Order::Desc,
            ),
            (SortBySimilarityScore, Order::Desc),
        ));
        let (top, rest) = searcher
            .search(&*q, &(by_date, (Count, CategoryCounts)))
            .map_err(index_err)?;
        let top: Vec<(Score, DocAddress)> = top
            .into_iter()
            .map(|((_, score), addr)| (score, addr))
            .collect();
        (top, rest)
    } else {
        let by_score = TopDocs::with_limit(limit).order_by_score();
        searcher
            .search(&*q, &(by_score, (Count, CategoryCounts)))
            .map_err(index_err)?
    };
    let near_spellings = builder.near_spellings.take();
    // Stop words are still looked up as names and tickers (`THE` is a ticker), so a
    // query of them alone is only known to be empty once it has found nothing.
    let nothing_to_search = builder.nothing_to_search.get()
        || (total == 0
            && !clauses.is_empty()
            && clauses.iter().all(|c| {
                c.occur != Occur::MustNot
                    && matches!(&c.target, Target::Text(w) | Target::Phrase(w)
                        if builder.tokens(w).is_empty())
            }));

    let snippets = SnippetGenerator::create(&searcher, &*q, idx.fields.body)
        .ok()
        .map(|mut g| {
            g.set_max_num_chars(SNIPPET_CHARS);
            g
        });
    let f = idx.fields;
    let mut hits = Vec::with_capacity(top.len());
    let mut unreadable = Vec::new();
    for (rank, (score, addr)) in top.into_iter().enumerate() {
        let doc: TantivyDocument = searcher.doc(addr).map_err(|e| Error::index(&idx.dir, e))?;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let path = text(f.path).unwrap_or_default();
        let body = idx.body_text(&path).unwrap_or_else(|| {
            unreadable.push(path.clone());
            String::new()
        });
        let snippet = make_snippet(&body, snippets.as_ref());
        hits.push(Hit {
            rank: rank + 1,
            score,
            id: text(f.id).unwrap_or_default(),
            path,
            kind: text(f.kind).unwrap_or_default(),
            title: text(f.title).unwrap_or_default(),
            ticker: text(f.ticker),
            category: text(f.category),
            subcategory: text(f.subcategory),
            date: text(f.date),
            snippet,
        });
    }
    let mut facets = BTreeMap::new();
    facets.insert("category".to_string(), counts);
    let unknown_tags = unknown_tags(&searcher, f.tags, &clauses, &opts.tags);
    Ok(SearchResults {
        query: query.to_string(),
        total_hits: total,
        hits,
        facets,
        dropped_terms,
        near_spellings,
        unreadable,
        unknown_tags,
        nothing_to_search,
    })
}

/// The tags asked for, by `--tag` or by a `tag:` qualifier (not a prefix, not
/// excluded), that no note in the index carries.
fn unknown_tags(
    searcher: &tantivy::Searcher,
    field: Field,
    clauses: &[Clause],
    options: &[String],
) -> Vec<UnknownTag> {
    let asked = options.iter().map(|t| t.to_lowercase()).chain(
        clauses
            .iter()
            .filter(|c| c.occur != Occur::MustNot)
            .filter_map(|c| match &c.target {
                Target::Field {
                    field,
                    value,
                    prefix: false,
                } if restricting_field(field) == Some("tags") => Some(value.to_lowercase()),
                _ => None,
            }),
    );
    let mut unknown: Vec<UnknownTag> = Vec::new();
    for tag in asked {
        let carried = searcher
            .doc_freq(&Term::from_field_text(field, &tag))
            .unwrap_or(0);
        if carried > 0 || tag.is_empty() || unknown.iter().any(|u| u.tag == tag) {
            continue;
        }
        let similar = tags_holding(searcher, field, &tag);
        unknown.push(UnknownTag { tag, similar });
    }
    unknown
}

/// Tags of the index that hold every word of `tag` as one of theirs (words split at
/// anything but a letter or digit), most used first, then by name.
fn tags_holding(searcher: &tantivy::Searcher, field: Field, tag: &str) -> Vec<String> {
    fn words(t: &str) -> Vec<&str> {
        t.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect()
    }
    let wanted = words(tag);
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for seg in searcher.segment_readers() {
        let Ok(inv) = seg.inverted_index(field) else {
            continue;
        };
        let Ok(mut stream) = inv.terms().stream() else {
            continue;
        };
        while stream.advance() {
            let Ok(name) = std::str::from_utf8(stream.key()) else {
                continue;
            };
            let have = words(name);
            if wanted.iter().all(|w| have.contains(w)) {
                *counts.entry(name.to_string()).or_default() += u64::from(stream.value().doc_freq);
            }
        }
    }
    let mut similar: Vec<(String, u64)> = counts.into_iter().collect();
    similar.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    similar
        .into_iter()
        .take(MAX_SIMILAR_TAGS)
        .map(|(name, _)| name)
        .collect()
}

/// Warnings for `category:`, `subcategory:` and `kind:` qualifiers in `query` whose
/// value names nothing that exists (`category:resource`), which would otherwise
/// silently match no note.
pub fn unknown_labels(query: &str, taxonomy: &crate::taxonomy::Taxonomy) -> Vec<String> {
    let categories = taxonomy.category_ids();
    let subcategories: Vec<&str> = taxonomy
        .categories
        .iter()
        .flat_map(|c| c.subcategories.iter().map(|s| s.id.as_str()))
        .collect();
    let kinds = ["project", "article"];
    let mut out = Vec::new();
    for clause in query::parse(query) {
        let Target::Field {
            field,
            value,
            prefix,
        } = &clause.target
        else {
            continue;
        };
        let known: &[&str] = match field.as_str() {
            "category" => &categories,
            "subcategory" => &subcategories,
            "kind" => &kinds,
            _ => continue,
        };
        let v = value.to_lowercase();
        let exists = known
            .iter()
            .any(|k| if *prefix { k.starts_with(&v) } else { *k == v });
        if !exists {
            let star = if *prefix { "*" } else { "" };
            if field == "category" && !*prefix && subcategories.contains(&v.as_str()) {
                out.push(format!(
                    "`{field}:{value}` names no category, so it matches nothing: \
                     `{v}` is a subcategory, written `subcategory:{v}`"
                ));
                continue;
            }
            out.push(format!(
                "`{field}:{value}{star}` names no {field}, so it matches nothing: use one of {}",
                known.join(", ")
            ));
        }
    }
    out
}

fn make_snippet(body: &str, generator: Option<&SnippetGenerator>) -> Snippet {
    if let Some(g) = generator {
        let s = g.snippet(body);
        if !s.highlighted().is_empty() {
            let text = s.fragment().replace(['\n', '\r', '\t'], " ");
            let highlights = s.highlighted().iter().map(|r| (r.start, r.end)).collect();
            return Snippet { text, highlights };
        }
    }
    let flat = crate::text::one_line(body);
    Snippet {
        text: crate::text::truncate_chars(&flat, SNIPPET_CHARS),
        highlights: Vec::new(),
    }
}

/// The label field a `field:` qualifier restricts, if it is one (`tag` and `tags`
/// are one field).
fn restricting_field(field: &str) -> Option<&'static str> {
    match field {
        "kind" => Some("kind"),
        "category" => Some("category"),
        "subcategory" => Some("subcategory"),
        "tag" | "tags" => Some("tags"),
        _ => None,
    }
}

struct QueryBuilder<'a> {
    idx: &'a KbIndex,
    searcher: &'a Searcher,
    /// The free words no note holds as written, searched by their near spellings
    /// instead ([`QueryBuilder::fuzzy_word`]).
    near_spellings: std::cell::RefCell<Vec<String>>,
    /// Set when the query holds no word that can match and no filter.
    nothing_to_search: std::cell::Cell<bool>,
}

impl QueryBuilder<'_> {
    fn build(&self, query: &str, clauses: &[Clause], opts: &SearchOptions) -> Box<dyn Query> {
        let f = self.idx.fields;
        let mut parts: Vec<(TOccur, Box<dyn Query>)> = Vec::new();
        let mut positive_asked = false;
        let mut positive_built = false;
        // `kind:`, `category:`, `subcategory:` and `tag:` restrict the hits, as the
        // matching options do: values of one label field are alternatives, and every
        // tag is required.
        let mut restrict: BTreeMap<&str, Vec<Box<dyn Query>>> = BTreeMap::new();
        for c in clauses {
            if c.occur == Occur::Should
                && let Target::Field { field, .. } = &c.target
                && let Some(group) = restricting_field(field)
            {
                if let Some(q) = self.clause(&c.target) {
                    restrict.entry(group).or_default().push(q);
                } else {
                    // A label value that cannot match anything empties the result.
                    return Box::new(EmptyQuery);
                }
            }
        }
        for c in clauses {
            if c.occur == Occur::Should
                && let Target::Field { field, .. } = &c.target
                && restricting_field(field).is_some()
            {
                continue;
            }
            let q = self.clause(&c.target);
            match c.occur {
                Occur::Should | Occur::Must => {
                    positive_asked = true;
                    // A word that cannot match (e.g. only stop words) is ignored
                    // rather than emptying the result.
                    if let Some(q) = q {
                        positive_built = true;
                        parts.push((
                            if c.occur == Occur::Must {
                                TOccur::Must
                            } else {
                                TOccur::Should
                            },
                            q,
                        ));
                    }
                }
                Occur::MustNot => {
                    if let Some(q) = q {
                        parts.push((TOccur::MustNot, q));
                    }
                }
            }
        }
        if positive_asked && !positive_built {
            self.nothing_to_search.set(true);
            return Box::new(EmptyQuery);
        }
        let joined = self.joined_pairs(clauses);
        for q in self.synonym_expansions(clauses, &joined, &opts.synonyms) {
            parts.push((TOccur::Should, q));
        }
        parts.extend(
            self.proximity(clauses)
                .into_iter()
                // The word written solid stands for both words of the pair.
                .chain(
                    joined
                        .iter()
                        .filter_map(|w| self.whole_word(w))
                        .map(|q| boost(q, JOINED_PAIR_BOOST)),
                )
                .map(|q| (TOccur::Should, q)),
        );
        // A multi-word query that is exactly a name or alias ("render network"), as
        // strong as a name match of each of its words: "book of meme" outranks the
        // note whose alias is the one word "meme".
        for name in whole_names(query, clauses) {
            let words = name.split_whitespace().count() as f32;
            parts.push((
                TOccur::Should,
                boost(exact(f.names, &name), NAME_BOOST * words),
            ));
        }
        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        if let Some(k) = &opts.kind {
            filters.push(exact(f.kind, &k.to_lowercase()));
        }
        if let Some(c) = &opts.category {
            filters.push(exact(f.category, &c.to_lowercase()));
        }
        if let Some(s) = &opts.subcategory {
            filters.push(exact(f.subcategory, &s.to_lowercase()));
        }
        for t in &opts.tags {
            filters.push(exact(f.tags, &t.to_lowercase()));
        }
        if opts.since.is_some() || opts.until.is_some() {
            let bound = |key: Option<i64>| match key {
                Some(k) => Bound::Included(Term::from_field_i64(f.date_key, k)),
                None => Bound::Unbounded,
            };
            filters.push(Box::new(RangeQuery::new(
                bound(opts.since),
                bound(opts.until),
            )));
        }
        for (group, queries) in restrict {
            if group == "tags" {
                filters.extend(queries);
            } else {
                let any = disjunction(queries.into_iter().map(Some).collect());
                filters.extend(any);
            }
        }
        if !positive_built {
            if parts.is_empty() && filters.is_empty() {
                self.nothing_to_search.set(true);
                return Box::new(EmptyQuery);
            }
            parts.push((
                TOccur::Must,
                Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0)),
            ));
        }
        let has_must = parts.iter().any(|(o, _)| *o == TOccur::Must);
        let mut outer: Vec<(TOccur, Box<dyn Query>)> = Vec::new();
        if has_must {
            // Must clauses and Should clauses together: Should only adds to the score.
            outer = parts;
        } else {
            let (should, not): (Vec<_>, Vec<_>) =
                parts.into_iter().partition(|(o, _)| *o == TOccur::Should);
            outer.push((TOccur::Must, Box::new(BooleanQuery::new(should))));
            outer.extend(not);
        }
        for flt in filters {
            outer.push((TOccur::Must, Box::new(ConstScoreQuery::new(flt, 0.0))));
        }
        Box::new(BooleanQuery::new(outer))
    }

    fn clause(&self, target: &Target) -> Option<Box<dyn Query>> {
        let f = self.idx.fields;
        match target {
            Target::Text(word) => self.word(word),
            Target::Phrase(p) => disjunction(vec![
                self.text_query(f.title, p, TITLE_BOOST),
                self.text_query(f.aliases, p, ALIAS_BOOST),
                self.text_query(f.body, p, BODY_BOOST),
            ]),
            Target::Prefix(p) => disjunction(vec![
                self.prefix_query(f.title, p, TITLE_BOOST),
                self.prefix_query(f.aliases, p, ALIAS_BOOST),
                self.prefix_query(f.body, p, BODY_BOOST),
            ]),
            Target::Field {
                field,
                value,
                prefix,
            } => self.field(field, value, *prefix),
        }
    }

    /// Queries for the other members of every synonym group a query term belongs to,
    /// or a query word written solid: a hyphenated word (`zk-ML`) or a pair of words
    /// in `joined` (see [`Self::joined_pairs`]). Members already in the query are not
    /// added twice.
    fn synonym_expansions(
        &self,
        clauses: &[Clause],
        joined: &[String],
        groups: &[Vec<String>],
    ) -> Vec<Box<dyn Query>> {
        if groups.is_empty() {
            return Vec::new();
        }
        let f = self.idx.fields;
        // Runs of analysed free words (a phrase or an exclusion ends a run), and the
        // quoted phrases. A member found anywhere in a run of free words counts; a
        // phrase counts only as a whole: `"gpu cloud"` is not a query for `gpu`, so it
        // does not also search "graphics card" on its own.
        let mut runs: Vec<Vec<String>> = vec![Vec::new()];
        let mut phrases: Vec<Vec<String>> = Vec::new();
        for c in clauses {
            match (&c.occur, &c.target) {
                (Occur::Should | Occur::Must, Target::Text(w)) => {
                    let last = runs.last_mut().expect("runs starts non-empty");
                    last.extend(self.tokens(w).into_iter().map(|(_, t)| t));
                }
                (Occur::Should | Occur::Must, Target::Phrase(p)) => {
                    phrases.push(self.tokens(p).into_iter().map(|(_, t)| t).collect());
                    runs.push(Vec::new());
                }
                _ => runs.push(Vec::new()),
            }
        }
        // A word searched written solid is the word: `zk ml` and `zk-ML` also search
        // the group of `zkml`.
        let hyphenated = clauses.iter().filter_map(|c| match (&c.occur, &c.target) {
            (Occur::Should | Occur::Must, Target::Text(w)) => solid_spelling(w),
            _ => None,
        });
        for w in joined.iter().cloned().chain(hyphenated) {
            phrases.push(self.tokens(&w).into_iter().map(|(_, t)| t).collect());
        }
        let in_query = |t: &[String]| {
            !t.is_empty()
                && (runs.iter().any(|r| r.windows(t.len()).any(|w| w == t))
                    || phrases.iter().any(|p| p == t))
        };
        let mut seen: Vec<Vec<String>> = Vec::new();
        let mut out = Vec::new();
        for group in groups {
            let members: Vec<(&String, Vec<String>)> = group
                .iter()
                .map(|m| (m, self.tokens(m).into_iter().map(|(_, t)| t).collect()))
                .collect();
            if !members.iter().any(|(_, t)| in_query(t)) {
                continue;
            }
            for (member, toks) in members {
                if toks.is_empty() || in_query(&toks) || seen.contains(&toks) {
                    continue;
                }
                seen.push(toks);
                let q = disjunction(vec![
                    self.text_query(f.title, member, TITLE_BOOST),
                    self.text_query(f.aliases, member, ALIAS_BOOST),
                    self.text_query(f.tag_text, member, TAG_BOOST),
                    self.text_query(f.body, member, BODY_BOOST),
                ]);
                out.extend(q.map(|q| boost(q, SYNONYM_BOOST)));
            }
        }
        out
    }

    /// A free word: every ranked field, with boosts. A word joined from several words
    /// (`RNDR/AKT`, `FET-AGIX`, `near.org`, `GPT-4`) is searched as a phrase and, at a
    /// lower weight, part by part: the phrase ranks first, and a pair of tickers, a
    /// domain or a versioned name still finds the notes of each part.
    fn word(&self, word: &str) -> Option<Box<dyn Query>> {
        let unknown = self.unknown_term(word);
        // A word written solid that the notes write as two (`deepfakes`, `datasets`
        // for "deep fakes", "data sets") is searched as those two words.
        if let Some(split) = unknown.as_ref().and_then(|_| self.two_word_spelling(word)) {
            return self.whole_word(&split);
        }
        if let Some(q) = unknown.and_then(|term| self.near_word(word, &term)) {
            return Some(q);
        }
        // The parts searched on their own: those of two or more characters with a
        // letter (not `2` of `GPT-4`, nor `s` of `what's`), when the word reads as
        // several (`gpu-2` is two words, `GPU's` one).
        let mut parts: Vec<&str> = Vec::new();
        if self.tokens(word).len() >= 2 {
            for p in word
                .split(|c: char| !c.is_alphanumeric())
                .filter(|p| p.chars().count() >= 2 && p.chars().any(char::is_alphabetic))
            {
                if !parts.contains(&p) && parts.len() < MAX_PARTS {
                    parts.push(p);
                }
            }
        }
        let whole = self.whole_word(word);
        // The index also holds hyphenated words written solid: `zk-ML` finds `zkML`.
        let solid = solid_spelling(word).and_then(|s| self.whole_word(&s));
        if parts.is_empty() {
            return match solid {
                Some(_) => disjunction(vec![whole, solid]),
                None => whole,
            };
        }
        let mut alts = vec![whole, solid];
        // A part no note holds (`veniec` of `veniec.ai`) is searched by its near
        // spellings, as a word alone would be, and then so is the whole word against
        // the names (`veniec.ai` is one swap from the name `venice.ai`).
        let mut misspelt = false;
        alts.extend(parts.into_iter().map(|p| {
            let q = match self.unknown_term(p) {
                Some(term) => {
                    misspelt = true;
                    self.near_word(p, &term).or_else(|| self.whole_word(p))
                }
                None => self.whole_word(p),
            };
            q.map(|q| boost(q, PART_BOOST))
        }));
        if misspelt {
            let name = near_spelling(self.idx.fields.names, &bare_lower(word), NAME_BOOST);
            alts.push(name.map(|q| boost(q, FUZZY_BOOST)));
        }
        disjunction(alts)
    }

    /// `word`, which no note holds (its analysed term is `term`), searched by its near
    /// spellings and listed in `near_spellings`; `None` for words too short to stretch
    /// (`TEE` is searched as written) or past [`MAX_NEAR_SPELLINGS`].
    fn near_word(&self, word: &str, term: &str) -> Option<Box<dyn Query>> {
        if self.near_spellings.borrow().len() >= MAX_NEAR_SPELLINGS
            || term.chars().count().max(bare_lower(word).chars().count()) < FUZZY_MIN_CHARS
        {
            return None;
        }
        self.near_spellings.borrow_mut().push(word.to_string());
        self.fuzzy_word(word, term).map(|q| boost(q, FUZZY_BOOST))
    }

    /// The analysed term of `word` when no note holds it as written: `word` is a single
    /// word (not one joined from several), its term is in no ranked field, and it is
    /// no name or ticker.
    fn unknown_term(&self, word: &str) -> Option<String> {
        let f = self.idx.fields;
        let mut terms = self.tokens(word);
        if terms.len() != 1 {
            return None;
        }
        let (_, term) = terms.pop().expect("one term");
        let held = |field: Field, text: &str| self.doc_freq(field, text) > 0;
        let bare = bare_lower(word);
        let known = held(f.names, &bare)
            || held(f.ticker, &bare)
            || [f.title, f.aliases, f.tag_text, f.body]
                .into_iter()
                .any(|field| held(field, &term));
        (!known).then_some(term)
    }

    /// `word` (letters only, [`SPLIT_MIN_CHARS`] or more) cut in two words of at least
    /// [`SPLIT_PART_MIN_CHARS`] letters that some note's body holds side by side, the
    /// cut found in the most notes (the first on a tie); `None` if there is none.
    fn two_word_spelling(&self, word: &str) -> Option<String> {
        let bare = bare_lower(word);
        let n = bare.len();
        if n < SPLIT_MIN_CHARS || !bare.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        let body = self.idx.fields.body;
        let mut best: Option<(usize, String)> = None;
        for cut in SPLIT_PART_MIN_CHARS..=n - SPLIT_PART_MIN_CHARS {
            let pair = format!("{} {}", &bare[..cut], &bare[cut..]);
            let tokens = self.tokens(&pair);
            if tokens.len() != 2 || !tokens.iter().all(|(_, t)| self.doc_freq(body, t) > 0) {
                continue;
            }
            let Some(q) = tokens_query(body, tokens, 1.0) else {
                continue;
            };
            let found = self.searcher.search(&*q, &Count).unwrap_or(0);
            if found > best.as_ref().map_or(0, |b| b.0) {
                best = Some((found, pair));
            }
        }
        best.map(|(_, pair)| pair)
    }

    /// A free word matched by near spellings: its analysed `term` in the ranked text
    /// fields, and the word as typed against one-word names (a misspelt name can stem
    /// differently from the name: `livepeer` stems to `livep`, `livepear` does not).
    fn fuzzy_word(&self, word: &str, term: &str) -> Option<Box<dyn Query>> {
        let f = self.idx.fields;
        let mut alts = vec![near_spelling(f.names, &bare_lower(word), NAME_BOOST)];
        for (field, weight) in [
            (f.title, TITLE_BOOST),
            (f.aliases, ALIAS_BOOST),
            (f.tag_text, TAG_BOOST),
            (f.body, BODY_BOOST),
        ] {
            alts.push(near_spelling(field, term, weight));
        }
        disjunction(alts)
    }

    /// [`Self::word`] without the parts.
    fn whole_word(&self, word: &str) -> Option<Box<dyn Query>> {
        let f = self.idx.fields;
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        let ticker_like = bare.len() >= 2
            && bare
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let ticker_boost = if word.starts_with('$') {
            TICKER_BOOST_DOLLAR
        } else if ticker_like {
            TICKER_BOOST
        } else {
            TICKER_BOOST_LOWER
        };
        let lower = bare.to_lowercase();
        let typed_ticker = word
            .strip_prefix('$')
            .unwrap_or(word)
            .trim_end_matches([',', '.', ';', ':', '?', '!'])
            .to_lowercase();
        disjunction(vec![
            self.text_query(f.title, word, TITLE_BOOST),
            self.text_query(f.aliases, word, ALIAS_BOOST),
            (!lower.is_empty()).then(|| boost(exact(f.names, &lower), NAME_BOOST)),
            (!lower.is_empty()).then(|| boost(exact(f.ticker, &lower), ticker_boost)),
            // A ticker that holds a symbol (`G$`), as typed.
            (typed_ticker != lower && !typed_ticker.is_empty())
                .then(|| boost(exact(f.ticker, &typed_ticker), ticker_boost)),
            self.text_query(f.tag_text, word, TAG_BOOST),
            self.text_query(f.body, word, BODY_BOOST),
        ])
    }

    fn field(&self, field: &str, value: &str, prefix: bool) -> Option<Box<dyn Query>> {
        let f = self.idx.fields;
        let lower = value.to_lowercase();
        let exact_or_prefix_of = |fld: Field, lower: &str| -> Option<Box<dyn Query>> {
            if prefix {
                let re = format!("{}.*", regex::escape(lower));
                RegexQuery::from_pattern(&re, fld)
                    .ok()
                    .map(|q| Box::new(q) as Box<dyn Query>)
            } else {
                Some(exact(fld, lower))
            }
        };
        let exact_or_prefix = |fld: Field| exact_or_prefix_of(fld, &lower);
        match field {
            "title" | "name" => {
                if prefix {
                    self.prefix_query(f.title, value, TITLE_BOOST)
                } else {
                    self.text_query(f.title, value, TITLE_BOOST)
                }
            }
            "alias" | "aliases" => self.text_query(f.aliases, value, ALIAS_BOOST),
            "body" | "text" => self.text_query(f.body, value, BODY_BOOST),
            "ticker" => {
                // `ticker:$FET` as tickers are written in prose; a ticker that holds the
                // sign (`G$`) still matches as typed.
                let bare = lower.strip_prefix('$').filter(|b| !b.is_empty());
                disjunction(vec![
                    exact_or_prefix(f.ticker),
                    bare.and_then(|b| exact_or_prefix_of(f.ticker, b)),
                ])
                .map(|q| boost(q, TICKER_BOOST))
            }
            "tag" | "tags" => exact_or_prefix(f.tags).map(|q| boost(q, TAG_BOOST)),
            "category" => exact_or_prefix(f.category),
            "subcategory" => exact_or_prefix(f.subcategory),
            "kind" => exact_or_prefix(f.kind),
            "id" => exact_or_prefix(f.id),
            other => {
                // Any other front-matter key is searchable as key:value, if the corpus has
                // that key; otherwise the token was just words with a colon.
                let key = format!("{other}:");
                if self.has_meta_key(&key) {
                    let terms: Vec<Box<dyn Query>> = meta_words(value)
                        .into_iter()
                        .rev()
                        .take(1)
                        .map(|w| exact(f.meta, &format!("{key}{w}")))
                        .collect();
                    terms.into_iter().next()
                } else {
                    self.word(&format!("{other} {value}"))
                        .or_else(|| self.word(value))
                }
            }
        }
    }

    fn has_meta_key(&self, key: &str) -> bool {
        let f = self.idx.fields;
        self.searcher.segment_readers().iter().any(|seg| {
            let Ok(inv) = seg.inverted_index(f.meta) else {
                return false;
            };
            let mut stream = match inv.terms().range().ge(key.as_bytes()).into_stream() {
                Ok(s) => s,
                Err(_) => return false,
            };
            stream.advance() && stream.key().starts_with(key.as_bytes())
        })
    }

    /// Consecutive query words found close together in the body score a little more:
    /// one sloppy two-word phrase per pair of adjacent content words.
    fn proximity(&self, clauses: &[Clause]) -> Vec<Box<dyn Query>> {
        let body = self.idx.fields.body;
        let words: Vec<String> = clauses
            .iter()
            .filter(|c| c.occur != Occur::MustNot)
            .filter_map(|c| match &c.target {
                Target::Text(w) => Some(w.as_str()),
                _ => None,
            })
            .flat_map(|w| self.tokens(w).into_iter().map(|(_, t)| t))
            .collect();
        words
            .windows(2)
            .filter(|p| p[0] != p[1])
            .map(|p| {
                let mut q = PhraseQuery::new(vec![
                    Term::from_field_text(body, &p[0]),
                    Term::from_field_text(body, &p[1]),
                ]);
                q.set_slop(PROXIMITY_SLOP);
                boost(Box::new(q), PROXIMITY_BOOST)
            })
            .collect()
    }

    /// Two adjacent words of the query that the notes also write as one (`data set`,
    /// `block chain`, `zk ml` for "dataset", "blockchain", "zkML"): the words written
    /// solid, searched as the two words the user typed (and with its synonyms), so
    /// notes that write it either way are found. At most [`MAX_JOINED_PAIRS`] pairs.
    fn joined_pairs(&self, clauses: &[Clause]) -> Vec<String> {
        let f = self.idx.fields;
        let words: Vec<Option<&str>> = clauses
            .iter()
            .map(|c| match (&c.target, c.occur) {
                (Target::Text(w), Occur::Should | Occur::Must)
                    if w.chars().all(char::is_alphabetic) =>
                {
                    Some(w.as_str())
                }
                _ => None,
            })
            .collect();
        let mut out = Vec::new();
        for pair in words.windows(2) {
            let (Some(a), Some(b)) = (pair[0], pair[1]) else {
                continue;
            };
            if out.len() == MAX_JOINED_PAIRS {
                break;
            }
            // Stop words join by accident ("in" and "to" make "into"), and so does a
            // single letter ("crypto x AI" is not about `xai`).
            if a.chars().count() < 2
                || b.chars().count() < 2
                || self.tokens(a).is_empty()
                || self.tokens(b).is_empty()
            {
                continue;
            }
            let joined = format!("{a}{b}");
            let tokens = self.tokens(&joined);
            if tokens.len() != 1 {
                continue;
            }
            let solid = [f.title, f.body]
                .into_iter()
                .map(|field| self.doc_freq(field, &tokens[0].1))
                .max()
                .unwrap_or(0);
            // Searched only where the notes mostly write the word solid: a solid
            // spelling rarer than the pair is a slip in a few notes (one abstract's
            // "breastcancer"), and a hyphenated pair (`cognitive-behavioral`), indexed
            // both ways, already matches the two words.
            let apart = self
                .text_query(f.body, &format!("{a} {b}"), 1.0)
                .and_then(|q| self.searcher.search(&*q, &Count).ok())
                .unwrap_or(0) as u64;
            if solid > apart {
                out.push(joined);
            }
        }
        out
    }

    /// How many notes hold the (analysed) term `text` in `field`; 0 on an index error.
    fn doc_freq(&self, field: Field, text: &str) -> u64 {
        self.searcher
            .doc_freq(&Term::from_field_text(field, text))
            .unwrap_or(0)
    }

    /// Text analysed with the field's tokenizer: a term, or a phrase when the text
    /// yields several tokens (`fetch.ai`, `zero-knowledge`).
    fn text_query(&self, field: Field, text: &str, weight: f32) -> Option<Box<dyn Query>> {
        tokens_query(field, self.tokens(text), weight)
    }

    fn prefix_query(&self, field: Field, prefix: &str, weight: f32) -> Option<Box<dyn Query>> {
        // The index holds stems, which may be shorter than the typed prefix
        // (`decentraliz*` must find the stem `decentr`): accept terms that start with
        // the prefix, or that are the prefix cut by up to five characters.
        let lower: Vec<char> = prefix.to_lowercase().chars().collect();
        // The index keeps no longer word, so a longer prefix (even cut by five
        // characters) matches nothing.
        if lower.len() > crate::index::MAX_TOKEN_BYTES + 5 {
            return None;
        }
        let full: String = lower.iter().collect();
        let mut alts = vec![format!("{}.*", regex::escape(&full))];
        let min = lower.len().saturating_sub(5).max(3);
        for n in (min..lower.len()).rev() {
            alts.push(regex::escape(&lower[..n].iter().collect::<String>()));
        }
        let re = alts.join("|");
        RegexQuery::from_pattern(&re, field)
            .ok()
            .map(|q| boost(Box::new(q), weight))
    }

    fn tokens(&self, text: &str) -> Vec<(usize, String)> {
        self.idx.query_tokens(text)
    }
}

/// Analysed tokens (position, term) as a query on `field`: a term, or a phrase of
/// several, cut to its first [`crate::query::MAX_CLAUSES`] terms like whole queries.
fn tokens_query(
    field: Field,
    mut tokens: Vec<(usize, String)>,
    weight: f32,
) -> Option<Box<dyn Query>> {
    tokens.truncate(crate::query::MAX_CLAUSES);
    let q: Box<dyn Query> = match tokens.len() {
        0 => return None,
        1 => Box::new(TermQuery::new(
            Term::from_field_text(field, &tokens[0].1),
            IndexRecordOption::WithFreqs,
        )),
        _ => {
            let terms = tokens
                .into_iter()
                .map(|(pos, t)| (pos, Term::from_field_text(field, &t)))
                .collect();
            Box::new(PhraseQuery::new_with_offset(terms))
        }
    };
    Some(boost(q, weight))
}

/// Words within one edit of `text` in `field` (two edits from 8 characters, a swap of
/// two letters counting as one), or none when `text` is shorter than 4 characters:
/// tickers and short words are not stretched.
fn near_spelling(field: Field, text: &str, weight: f32) -> Option<Box<dyn Query>> {
    let n = text.chars().count();
    if n < FUZZY_MIN_CHARS {
        return None;
    }
    let term = Term::from_field_text(field, text);
    let one = boost(Box::new(FuzzyTermQuery::new(term.clone(), 1, true)), weight);
    if n < FUZZY_TWO_EDITS_CHARS {
        return Some(one);
    }
    // A word one edit away also matches this query, so it scores twice and ranks
    // above a word two edits away (`santmient`: Santiment before Sentient).
    let two = boost(Box::new(FuzzyTermQuery::new(term, 2, true)), weight);
    disjunction(vec![Some(one), Some(two)])
}

/// `word` without the punctuation around it, in lower case: how names and tickers
/// are indexed.
fn bare_lower(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// A word joined by hyphens from two or three parts, one of them with a letter,
/// written solid (`zk-ML` → `zkML`), as the index also holds it
/// ([`crate::analysis::WordTokenizer`]).
fn solid_spelling(word: &str) -> Option<String> {
    let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
    let parts: Vec<&str> = bare.split(['-', '\u{2010}', '\u{2011}']).collect();
    let ok = (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(char::is_alphanumeric))
        && bare.chars().any(char::is_alphabetic);
    ok.then(|| parts.concat())
}

/// The query as one lower-case name of two or more words, when it is only free words
/// or one phrase: as typed (`It's AI`, whose possessive the words drop) and as the
/// words read (`"render network"`, `render network?`), each once.
fn whole_names(query: &str, clauses: &[Clause]) -> Vec<String> {
    let mut words = Vec::new();
    for c in clauses {
        match (&c.occur, &c.target) {
            (Occur::Should, Target::Text(w)) => words.push(w.as_str()),
            (Occur::Should, Target::Phrase(p)) if clauses.len() == 1 => words.push(p.as_str()),
            _ => return Vec::new(),
        }
    }
    if words.is_empty() {
        return Vec::new();
    }
    let typed: Vec<&str> = query
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\u{201c}' | '\u{201d}'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut names: Vec<String> = Vec::new();
    for joined in [typed.join(" "), words.join(" ")] {
        let name = joined
            .trim_matches(|c: char| {
                c.is_whitespace() || matches!(c, '?' | '!' | '.' | ',' | ';' | ':')
            })
            .to_lowercase();
        if name.contains(' ') && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn exact(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

fn boost(q: Box<dyn Query>, weight: f32) -> Box<dyn Query> {
    if (weight - 1.0).abs() < f32::EPSILON {
        q
    } else {
        Box::new(BoostQuery::new(q, weight))
    }
}

fn disjunction(parts: Vec<Option<Box<dyn Query>>>) -> Option<Box<dyn Query>> {
    let parts: Vec<(TOccur, Box<dyn Query>)> = parts
        .into_iter()
        .flatten()
        .map(|q| (TOccur::Should, q))
        .collect();
    (!parts.is_empty()).then(|| Box::new(BooleanQuery::new(parts)) as Box<dyn Query>)
}

/// Counts matching documents per effective category (`none` included; notes without
/// a category, i.e. articles, are not counted).
struct CategoryCounts;

struct CategorySegment {
    column: Option<tantivy::columnar::StrColumn>,
    counts: Vec<u64>,
}

impl Collector for CategoryCounts {
    type Fruit = BTreeMap<String, u64>;
    type Child = CategorySegment;

    fn for_segment(&self, _ord: u32, seg: &SegmentReader) -> tantivy::Result<CategorySegment> {
        let column = seg.fast_fields().str("category")?;
        let n = column.as_ref().map_or(0, |c| c.num_terms());
        Ok(CategorySegment {
            column,
            counts: vec![0; n],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<BTreeMap<String, u64>>,
    ) -> tantivy::Result<BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        for f in fruits {
            for (k, v) in f {
                *out.entry(k).or_insert(0) += v;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for CategorySegment {
    type Fruit = BTreeMap<String, u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(col) = &self.column {
            for ord in col.term_ords(doc) {
                if let Some(c) = self.counts.get_mut(ord as usize) {
                    *c += 1;
                }
            }
        }
    }

    fn harvest(self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        if let Some(col) = &self.column {
            let mut s = String::new();
            for (ord, &n) in self.counts.iter().enumerate() {
                if n > 0 && col.ord_to_str(ord as u64, &mut s).unwrap_or(false) {
                    out.insert(s.clone(), n);
                }
            }
        }
        out
    }
}

/// Looks up stored documents by exact id (used by `show` and the report).
pub fn doc_by_id(idx: &KbIndex, searcher: &Searcher, id: &str) -> Option<DocAddress> {
    let q = TermQuery::new(
        Term::from_field_text(idx.fields.id, id),
        IndexRecordOption::Basic,
    );
    searcher
        .search(&q, &TopDocs::with_limit(1).order_by_score())
        .ok()?
        .into_iter()
        .next()
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{UpdateOptions, update};
    use crate::kb::Kb;
    use crate::taxonomy::Taxonomy;

    fn kb() -> (tempfile::TempDir, KbIndex) {
        let tmp = tempfile::tempdir().unwrap();
        crate::kb::init(tmp.path()).unwrap();
        let notes = [
            (
                "corpus/projects/filecoin.md",
                "---\nname: Filecoin\nticker: FIL\ntags: [storage]\ncategory: resources\nsubcategory: storage\n---\nA decentralized storage network. Storage providers earn FIL.",
            ),
            (
                "corpus/projects/render.md",
                "---\nname: Render\nticker: RNDR\naliases: [Render Network]\ntags: [gpu]\ncategory: resources\nsubcategory: compute\n---\nA GPU marketplace for rendering and AI. Filecoin is mentioned here once.",
            ),
            (
                "corpus/articles/a.md",
                "---\ntitle: Market note\npublisher: Grayscale Research\n---\nFilecoin, Render and storage networks. What's next? Zero-knowledge proofs.",
            ),
        ];
        kb_of(tmp, &notes)
    }

    fn kb_of(tmp: tempfile::TempDir, notes: &[(&str, &str)]) -> (tempfile::TempDir, KbIndex) {
        for (p, t) in notes {
            std::fs::write(tmp.path().join(p), t).unwrap();
        }
        let kb = Kb::new(tmp.path().to_path_buf(), None, None);
        let tax = Taxonomy::load(&kb.taxonomy).unwrap();
        let (idx, _) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        (tmp, idx)
    }

    fn ids(r: &SearchResults) -> Vec<&str> {
        r.hits.iter().map(|h| h.id.as_str()).collect()
    }

    fn opts() -> SearchOptions {
        SearchOptions {
            limit: 10,
            ..SearchOptions::default()
        }
    }

    #[test]
    fn names_and_tickers_rank_first() {
        let (_t, idx) = kb();
        assert_eq!(
            ids(&search(&idx, "FIL", &opts()).unwrap())[0],
            "projects/filecoin"
        );
        assert_eq!(
            ids(&search(&idx, "filecoin", &opts()).unwrap())[0],
            "projects/filecoin"
        );
        assert_eq!(
            ids(&search(&idx, "$RNDR", &opts()).unwrap())[0],
            "projects/render"
        );
    }

    #[test]
    fn names_and_tickers_that_collide() {
        let tmp = tempfile::tempdir().unwrap();
        crate::kb::init(tmp.path()).unwrap();
        let project = |name: &str, extra: &str, body: &str| {
            format!("---\nname: {name}\n{extra}category: none\n---\n{body}\n")
        };
        let notes = [
            (
                "corpus/projects/memecoin.md",
                project(
                    "Memecoin",
                    "ticker: MEME\naliases: [MEME]\ntags: [meme]\n",
                    "A meme token: meme after meme.",
                ),
            ),
            (
                "corpus/projects/book-of-meme.md",
                project("Book of Meme", "ticker: BOME\n", "A memecoin on Solana."),
            ),
            (
                "corpus/projects/its-ai.md",
                project("It's AI", "", "Detects text written by AI."),
            ),
            (
                "corpus/projects/pond.md",
                project("Pond", "", "Model competitions on chain data. Not Marlin."),
            ),
            (
                "corpus/projects/marlin.md",
                project(
                    "Marlin",
                    "ticker: POND\n",
                    "Secure enclaves for AI. Pond is its token.",
                ),
            ),
            (
                "corpus/projects/gooddollar.md",
                project("GoodDollar", "ticker: G$\n", "A basic income token."),
            ),
            (
                "corpus/projects/notcoin.md",
                project("Notcoin", "ticker: NOT\n", "A tap-to-earn game token."),
            ),
            (
                "corpus/projects/venice-ai.md",
                project("Venice.ai", "", "Private inference."),
            ),
            (
                "corpus/projects/lightchain-ai.md",
                project("Lightchain AI", "", "An AI chain: AI for AI, by AI."),
            ),
            (
                "corpus/projects/santiment.md",
                project("Santiment", "", "Market data."),
            ),
            (
                "corpus/projects/sentient.md",
                project("Sentient", "", "Open models. Sentient builds agents."),
            ),
        ];
        let notes: Vec<(&str, &str)> = notes.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let (_t, idx) = kb_of(tmp, &notes);
        let first = |q: &str| {
            ids(&search(&idx, q, &opts()).unwrap())
                .first()
                .map(|s| s.to_string())
        };
        // A query that is a whole name outranks a note holding one of its words as a name.
        assert_eq!(
            first("Book of Meme").as_deref(),
            Some("projects/book-of-meme")
        );
        assert_eq!(
            first("book of meme").as_deref(),
            Some("projects/book-of-meme")
        );
        // The name as typed, possessive and all.
        assert_eq!(first("It's AI").as_deref(), Some("projects/its-ai"));
        // `$` makes a word a ticker: it outranks the project of that name.
        assert_eq!(first("$POND").as_deref(), Some("projects/marlin"));
        assert_eq!(first("pond").as_deref(), Some("projects/pond"));
        // A ticker with a symbol, with or without `$`.
        assert_eq!(first("G$").as_deref(), Some("projects/gooddollar"));
        assert_eq!(first("$G$").as_deref(), Some("projects/gooddollar"));
        // `NOT` with nothing after it is a word, not an operator.
        assert_eq!(first("NOT").as_deref(), Some("projects/notcoin"));
        // A misspelt part of a joined name is searched by its near spellings, and the
        // whole against the names, so the common part (`ai`) does not decide.
        let r = search(&idx, "Veniec.ai", &opts()).unwrap();
        assert_eq!(ids(&r)[0], "projects/venice-ai");
        assert_eq!(r.near_spellings, ["Veniec"]);
        // One edit away ranks above two edits away.
        assert_eq!(first("Santmient").as_deref(), Some("projects/santiment"));
    }

    #[test]
    fn label_qualifiers_restrict_the_hits() {
        let (_t, idx) = kb();
        let q = |query: &str| {
            let mut v: Vec<String> = ids(&search(&idx, query, &opts()).unwrap())
                .into_iter()
                .map(str::to_string)
                .collect();
            v.sort();
            v
        };
        // Words alone match any note that has one of them...
        assert_eq!(q("filecoin").len(), 3);
        // ...but a label qualifier filters, like --kind, --category and --tag.
        assert_eq!(q("kind:article filecoin"), ["articles/a"]);
        assert_eq!(q("filecoin category:resources").len(), 2);
        assert_eq!(q("filecoin subcategory:compute"), ["projects/render"]);
        assert_eq!(q("tag:gpu filecoin"), ["projects/render"]);
        // Values of one label field are alternatives; tags are all required.
        assert_eq!(
            q("subcategory:compute subcategory:storage network"),
            ["projects/filecoin", "projects/render"]
        );
        assert!(q("tag:gpu tag:storage").is_empty());
        assert!(q("category:nothing-like-this filecoin").is_empty());
        // Other qualifiers still rank rather than filter.
        assert_eq!(q("title:render storage").len(), 3);
    }

    #[test]
    fn adjacent_query_words_rank_a_note_higher() {
        let tmp = tempfile::tempdir().unwrap();
        crate::kb::init(tmp.path()).unwrap();
        // Same words, same length, same frequencies: only their distance differs, and
        // the far note is indexed first.
        for (p, t) in [
            (
                "corpus/articles/a-far.md",
                "---\ntitle: One\n---\ngpu alpha beta gamma delta epsilon zeta compute",
            ),
            (
                "corpus/articles/b-near.md",
                "---\ntitle: Two\n---\ngpu compute alpha beta gamma delta epsilon zeta",
            ),
        ] {
            std::fs::write(tmp.path().join(p), t).unwrap();
        }
        let kb = Kb::new(tmp.path().to_path_buf(), None, None);
        let tax = Taxonomy::load(&kb.taxonomy).unwrap();
        let (idx, _) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        let r = search(&idx, "gpu compute", &opts()).unwrap();
        assert_eq!(ids(&r), ["articles/b-near", "articles/a-far"]);
        assert!(r.hits[0].score > r.hits[1].score);
    }

    #[test]
    fn a_tag_no_note_carries_is_reported_with_the_tags_holding_it() {
        let (_t, idx) = kb();
        let r = search(&idx, "tag:GPU tag:compute -tag:nothing-like-this", &opts()).unwrap();
        assert_eq!(
            r.unknown_tags,
            [UnknownTag {
                tag: "compute".into(),
                similar: Vec::new(),
            }]
        );
        let mut o = opts();
        o.tags = vec!["Storage".into(), "provider".into(), "gpu".into()];
        let r = search(&idx, "tag:gpu*", &o).unwrap();
        assert_eq!(r.unknown_tags.len(), 1);
        assert_eq!(r.unknown_tags[0].tag, "provider");
        assert!(
            search(&idx, "tag:gpu", &opts())
                .unwrap()
                .unknown_tags
                .is_empty()
        );
    }

    #[test]
    fn punctuation_never_fails() {
        let (_t, idx) = kb();
        for q in [
            "what's next?",
            "zero-knowledge",
            "a: b",
            "\"unbalanced",
            "+ - * ( ) [ ] { } ^ ~ \\ /",
            "",
            "NOT",
            "title:",
            "http://x",
        ] {
            search(&idx, q, &opts()).unwrap();
        }
        assert_eq!(
            ids(&search(&idx, "What's next?", &opts()).unwrap()),
            vec!["articles/a"]
        );
    }

    #[test]
    fn power_syntax_works() {
        let (_t, idx) = kb();
        let r = search(&idx, "storage -gpu", &opts()).unwrap();
        assert!(!ids(&r).contains(&"projects/render"));
        let r = search(&idx, "\"storage networks\"", &opts()).unwrap();
        assert_eq!(r.total_hits, 2);
        let r = search(&idx, "\"render and storage\"", &opts()).unwrap();
        assert_eq!(ids(&r), vec!["articles/a"]);
        let r = search(&idx, "ticker:rndr", &opts()).unwrap();
        assert_eq!(ids(&r), vec!["projects/render"]);
        let r = search(&idx, "publisher:grayscale", &opts()).unwrap();
        assert_eq!(ids(&r), vec!["articles/a"]);
        let r = search(&idx, "decentraliz*", &opts()).unwrap();
        assert_eq!(ids(&r), vec!["projects/filecoin"]);
        let r = search(&idx, "tag:gpu", &opts()).unwrap();
        assert_eq!(ids(&r), vec!["projects/render"]);
        let r = search(&idx, "+filecoin +gpu", &opts()).unwrap();
        assert_eq!(ids(&r), vec!["projects/render"]);
    }

    #[test]
    fn filters_and_facets() {
        let (_t, idx) = kb();
        let r = search(
            &idx,
            "filecoin",
            &SearchOptions {
                kind: Some("project".into()),
                ..opts()
            },
        )
        .unwrap();
        assert_eq!(r.total_hits, 2);
        assert_eq!(r.facets["category"]["resources"], 2);
        let r = search(
            &idx,
            "filecoin",
            &SearchOptions {
                tags: vec!["GPU".into()],
                ..opts()
            },
        )
        .unwrap();
        assert_eq!(ids(&r), vec!["projects/render"]);
        let r = search(
            &idx,
            "",
            &SearchOptions {
                category: Some("resources".into()),
                ..opts()
            },
        )
        .unwrap();
        assert_eq!(r.total_hits, 2, "filters alone list everything in them");
        let r = search(&idx, "the", &opts()).unwrap();
        assert_eq!(r.total_hits, 0, "stop words alone match nothing");
    }

    #[test]
    fn synonyms_expand_queries() {
        let (_t, idx) = kb();
        let groups = vec![
            vec!["gpu".to_string(), "graphics card".to_string()],
            vec!["fil".into(), "filecoin token".into()],
        ];
        let plain = search(&idx, "\"graphics card\"", &opts()).unwrap();
        assert_eq!(plain.total_hits, 0);
        let o = SearchOptions {
            synonyms: groups,
            ..opts()
        };
        let r = search(&idx, "graphics cards", &o).unwrap();
        assert_eq!(
            ids(&r),
            vec!["projects/render"],
            "a synonym of gpu finds the GPU note"
        );
        let r = search(&idx, "gpu", &o).unwrap();
        assert_eq!(ids(&r)[0], "projects/render");
        // A word no note holds still finds its synonyms' notes.
        let o = SearchOptions {
            synonyms: vec![vec!["gpuaas".into(), "gpu marketplace".into()]],
            ..opts()
        };
        let r = search(&idx, "GPUaaS", &o).unwrap();
        assert_eq!(ids(&r), vec!["projects/render"]);
        // A quoted phrase expands as a whole, not word by word: `"gpu clusters"` is
        // held by no note and must not find the notes on graphics cards.
        let o = SearchOptions {
            synonyms: vec![vec!["gpu".into(), "marketplace".into()]],
            ..opts()
        };
        assert_eq!(search(&idx, "\"gpu clusters\"", &o).unwrap().total_hits, 0);
        assert_eq!(search(&idx, "\"gpu\"", &o).unwrap().total_hits, 1);
    }

    #[test]
    fn snippets_highlight_terms() {
        let (_t, idx) = kb();
        let r = search(&idx, "storage providers", &opts()).unwrap();
        let s = &r.hits[0].snippet;
        assert!(!s.highlights.is_empty());
        let (a, b) = s.highlights[0];
        assert!(
            s.text[a..b].to_lowercase().starts_with("storage")
                || s.text[a..b].to_lowercase().starts_with("provider")
        );
    }
}
