//! The classifier: taxonomy signals compiled once into a vocabulary of normalised
//! words (terms become sequences of word ids) and an Aho-Corasick automaton over the
//! literals every regex pattern must start (or end) with, then applied to a note's
//! name, tags and body.
//!
//! Terms match on normalised whole words (case, plurals and stems), so `GPUs` fires a
//! `gpu` signal and `verifiable` a `verify` one. A pattern only runs where one of its
//! literals occurs. Repeated mentions saturate. The result carries every piece of
//! evidence, so callers can always say why.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::Look;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use serde::Serialize;

use crate::corpus::Note;
use crate::lexicon::{Lexicon, MAX_WORD_BYTES};
use crate::taxonomy::{Field, LexiconSpec, Matcher, NEAR_GROUPS_MAX, NONE, Taxonomy};
use crate::text::{contrast_spans, is_word_char, normalize_word, stemmer};
use crate::wordmap::{WordMap, low_bytes};

/// A piece of text to classify, tagged with its field and first file line.
#[derive(Debug, Clone)]
pub struct Segment<'a> {
    /// Which field the text comes from.
    pub field: Field,
    /// The text.
    pub text: &'a str,
    /// 1-based file line of the text's first line.
    pub line: usize,
}

/// Builds the segments of a project note: name and aliases, tags, body.
pub fn segments(note: &Note) -> Vec<Segment<'_>> {
    let line_of = |k: &str| note.front.key_lines.get(k).copied().unwrap_or(1);
    let mut out = Vec::new();
    if let Some(name) = &note.front.name {
        out.push(Segment {
            field: Field::Name,
            text: name,
            line: line_of("name"),
        });
    }
    for alias in &note.front.aliases {
        out.push(Segment {
            field: Field::Name,
            text: alias,
            line: line_of("aliases"),
        });
    }
    for tag in &note.front.tags {
        out.push(Segment {
            field: Field::Tags,
            text: tag,
            line: line_of("tags"),
        });
    }
    out.push(Segment {
        field: Field::Body,
        text: &note.body,
        line: note.body_line,
    });
    out
}

/// One signal that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence<'c> {
    /// The signal as written in the taxonomy: the term(s) that fired, or `/pattern/`.
    pub signal: Cow<'c, str>,
    /// The category the signal speaks for, or `scope` for the AI-relatedness gate.
    pub category: &'c str,
    /// The subcategory, when the signal belongs to one.
    pub subcategory: Option<&'c str>,
    /// Its contribution to the score (weight after saturation and field boosts).
    pub weight: f64,
    /// The text that matched (first occurrence); held inline when short.
    pub matched: compact_str::CompactString,
    /// Field of the first occurrence.
    pub field: Field,
    /// File line of the first occurrence.
    pub line: usize,
    /// How many times it matched.
    pub count: usize,
    /// Index of the signal in [`Classifier::signal_labels`].
    #[serde(skip)]
    pub signal_id: usize,
    /// Whether the signal overrules the hits it overlaps: a correction of a false
    /// match ("classified as" against "classifier"), not a reason of its own.
    #[serde(skip)]
    pub overrules: bool,
}

/// The lexicon's vote on a text (see [`crate::lexicon`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LexiconVote<'c> {
    /// The probability of each label (category ids and `none`) from the words alone.
    pub probabilities: BTreeMap<&'c str, f64>,
    /// The lexicon's own label: the most probable.
    pub label: &'c str,
    /// The label the signals alone gave.
    pub signals: &'c str,
    /// Whether the lexicon's label overruled the signals' (it beat theirs by more than
    /// `lexicon.margin`), so that it is the answer.
    pub overruled: bool,
    /// The words that pull hardest toward the lexicon's label, strongest first.
    pub words: Vec<LexiconWord>,
}

/// A word behind the lexicon's vote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LexiconWord {
    /// The word as first written.
    pub word: compact_str::CompactString,
    /// How far it moves the vote toward the label (its share of the label's logit
    /// over the average label's).
    pub pull: f64,
    /// Field of its first use.
    pub field: Field,
    /// File line of its first use.
    pub line: usize,
}

/// English function words (Lucene's list, which tantivy's English stop-word filter
/// uses), left out of the words shown for a lexicon vote.
const STOP_WORDS: [&str; 33] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// How many words [`LexiconVote::words`] lists.
pub const LEXICON_WORDS: usize = 8;

/// The classifier's answer for one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification<'c> {
    /// A category id, or `none` when the project is not AI-related.
    pub category: &'c str,
    /// The best subcategory within the category.
    pub subcategory: Option<&'c str>,
    /// Normalised margin of the winner over the runner-up, 0..=1.
    pub confidence: f64,
    /// Score per category id.
    pub scores: BTreeMap<&'c str, f64>,
    /// The AI-relatedness (scope) score.
    pub scope_score: f64,
    /// The scope score this text needed to count as AI-related: `thresholds.scope`, or
    /// `scope_unopposed` when no signal spoke against.
    pub scope_needed: f64,
    /// Other categories the project clearly spans.
    pub secondary: Vec<&'c str>,
    /// True when the note cleared the scope gate but names AI only in passing: all its
    /// AI evidence sits in one paragraph of a long body (see
    /// [`crate::taxonomy::Thresholds::passing_paragraphs`]), so the answer is `none`.
    pub passing_mention: bool,
    /// Every signal that fired, strongest first.
    pub evidence: Vec<Evidence<'c>>,
    /// The lexicon's vote, when the taxonomy names a lexicon.
    pub lexicon: Option<LexiconVote<'c>>,
}

impl Classification<'_> {
    /// True when the answer is `none`.
    pub fn is_none(&self) -> bool {
        self.category == NONE
    }
}

/// Who a signal speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Scope,
    Category(usize),
    Sub(usize, usize),
}

#[derive(Debug)]
struct SignalInfo {
    owner: Owner,
    label: Arc<str>,
    /// The category id (or `scope`) and subcategory id, as evidence shows them.
    category: Arc<str>,
    subcategory: Option<Arc<str>>,
    weight: f64,
    fields: Vec<Field>,
    /// Whether a match of this (negative) signal overrules the positive hits it
    /// overlaps.
    overrules: bool,
}

#[derive(Debug)]
struct Term {
    /// The term as written in the taxonomy.
    label: Arc<str>,
    signal: usize,
    /// Its normalised words, as vocabulary ids.
    words: Vec<u32>,
    /// For a term of a `near` signal: the index in `Classifier::nears` and the group.
    near: Option<(usize, usize)>,
}

/// A node of the trie of terms.
#[derive(Debug, Default)]
struct TrieNode {
    /// Next word (vocabulary id) → node, sorted by word.
    edges: Vec<(u32, u32)>,
    /// The terms whose words lead here.
    terms: Vec<TermRef>,
}

/// What matching needs of a term, kept in the trie.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TermRef {
    term: u32,
    signal: u32,
    /// The fields (bits of [`field_rank`]) the signal looks at.
    fields: u8,
    /// For a term of a `near` signal: which signal and group.
    near: Option<NearRef>,
}

/// A term's place in a `near` signal.
#[derive(Debug, Clone, Copy, PartialEq)]
struct NearRef {
    /// The index in `Classifier::nears`.
    near: u32,
    group: u8,
    /// Whether the next group's occurrences look back at this group's last one (ordered
    /// signals, every group but the last).
    record: bool,
    /// For a group after the first of an ordered signal: the most words allowed since
    /// the previous group's last occurrence; [`NO_GATE`] otherwise.
    gate: u16,
}

/// [`NearRef::gate`] of a group that any occurrence may start.
const NO_GATE: u16 = u16::MAX;

/// The last occurrence kept of a group of an ordered `near` signal: its sentence and
/// last word.
#[derive(Debug, Clone, Copy)]
struct GroupSeen {
    sentence: u32,
    last: u32,
}

impl Default for GroupSeen {
    fn default() -> Self {
        GroupSeen {
            sentence: u32::MAX,
            last: 0,
        }
    }
}

impl TrieNode {
    fn child(&self, word: u32) -> Option<u32> {
        child_in(&self.edges, word)
    }
}

/// The child along `word` among a node's edges (sorted by word).
#[inline]
fn child_in(edges: &[(u32, u32)], word: u32) -> Option<u32> {
    if edges.len() <= 8 {
        return edges.iter().find(|e| e.0 == word).map(|e| e.1);
    }
    edges
        .binary_search_by_key(&word, |e| e.0)
        .ok()
        .map(|k| edges[k].1)
}

/// The trie of terms laid out flat: node `n`'s edges are
/// `edges[edge_at[n]..edge_at[n + 1]]` and its terms `terms[term_at[n]..term_at[n + 1]]`.
struct Trie {
    edge_at: Vec<u32>,
    edges: Vec<(u32, u32)>,
    term_at: Vec<u32>,
    terms: Vec<TermRef>,
}

impl Trie {
    fn new(nodes: &[TrieNode]) -> Trie {
        let mut trie = Trie {
            edge_at: vec![0],
            edges: Vec::new(),
            term_at: vec![0],
            terms: Vec::new(),
        };
        for n in nodes {
            trie.edges.extend_from_slice(&n.edges);
            trie.edge_at.push(trie.edges.len() as u32);
            trie.terms.extend_from_slice(&n.terms);
            trie.term_at.push(trie.terms.len() as u32);
        }
        trie
    }

    #[inline]
    fn edges(&self, node: u32) -> &[(u32, u32)] {
        let n = node as usize;
        &self.edges[self.edge_at[n] as usize..self.edge_at[n + 1] as usize]
    }

    #[inline]
    fn terms(&self, node: u32) -> &[TermRef] {
        let n = node as usize;
        &self.terms[self.term_at[n] as usize..self.term_at[n + 1] as usize]
    }
}

/// Lists per key, laid out flat: key `k`'s list is `items[at[k]..at[k + 1]]`.
struct FlatLists {
    at: Vec<u32>,
    items: Vec<u32>,
}

impl FlatLists {
    fn new<'a>(lists: impl IntoIterator<Item = &'a [u32]>) -> FlatLists {
        let mut flat = FlatLists {
            at: vec![0],
            items: Vec::new(),
        };
        for list in lists {
            flat.items.extend_from_slice(list);
            flat.at.push(flat.items.len() as u32);
        }
        flat
    }

    /// The list of `key`; empty for a key beyond the lists (such as [`NO_WORD`]).
    #[inline]
    fn get(&self, key: u32) -> &[u32] {
        let k = key as usize;
        match (self.at.get(k), self.at.get(k + 1)) {
            (Some(&from), Some(&to)) => &self.items[from as usize..to as usize],
            _ => &[],
        }
    }
}

/// The trie of the terms' word sequences.
fn build_trie(terms: &[Term], signals: &[SignalInfo], nears: &[Near]) -> Vec<TrieNode> {
    let mut trie = vec![TrieNode::default()];
    for (ti, term) in terms.iter().enumerate() {
        let mut node = 0;
        for &w in &term.words {
            node = match trie[node].child(w) {
                Some(child) => child as usize,
                None => {
                    let child = trie.len();
                    trie.push(TrieNode::default());
                    let edges = &mut trie[node].edges;
                    let at = edges.partition_point(|e| e.0 < w);
                    edges.insert(at, (w, child as u32));
                    child
                }
            };
        }
        let fields = &signals[term.signal].fields;
        trie[node].terms.push(TermRef {
            term: ti as u32,
            signal: term.signal as u32,
            fields: if fields.is_empty() {
                0b111
            } else {
                fields.iter().fold(0, |m, &f| m | 1 << field_rank(f))
            },
            near: term.near.map(|(n, g)| {
                let near = &nears[n];
                NearRef {
                    near: n as u32,
                    group: g as u8,
                    record: near.ordered && g + 1 < near.groups,
                    gate: if near.ordered && g > 0 {
                        near.within[g - 1] as u16
                    } else {
                        NO_GATE
                    },
                }
            }),
        });
    }
    trie
}

/// A compiled `near` signal.
#[derive(Debug)]
struct Near {
    signal: usize,
    groups: usize,
    /// Most words between groups `g` and `g + 1`.
    within: Vec<u32>,
    ordered: bool,
}

/// Where a term of a `near` group occurs: words `first..=last` (1-based among the
/// words of the segment) of one sentence, spanning bytes `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Occurrence {
    group: u32,
    first: u32,
    last: u32,
    sentence: u32,
    start: u32,
    end: u32,
}

/// Lazy-DFA cache per pattern and thread.
const DFA_CACHE_BYTES: usize = 1 << 20;

/// A regex signal and how to find where it may match.
struct Pattern {
    /// The pattern as it runs (ASCII word boundaries), compiled the first time a
    /// text needs it: a run that never meets one of its literals never pays for it.
    source: String,
    case_sensitive: bool,
    regex: std::sync::OnceLock<Regex>,
    signal: usize,
    /// Where the pattern may match, judged from its literals.
    gate: Gate,
    /// No match can hold a line break, so a [`Gate::Suffix`] pattern runs only over
    /// the lines where one of its literals occurs.
    one_line: bool,
}

impl Pattern {
    /// The compiled pattern.
    fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            // A small lazy-DFA cache per pattern: dozens of patterns times the
            // default 2 MiB per thread would dominate memory while indexing.
            Regex::builder()
                .syntax(
                    regex_automata::util::syntax::Config::new()
                        .case_insensitive(!self.case_sensitive),
                )
                .configure(Regex::config().hybrid_cache_capacity(DFA_CACHE_BYTES))
                .build(&self.source)
                .expect("validated when the taxonomy was loaded")
        })
    }
}

/// How a pattern's literals say where it may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// Every match starts with a literal at the start of a word (the pattern begins
    /// with `\b` and a letter or digit): the literals are looked up per word, and
    /// the pattern runs anchored at each word that starts one.
    WordStart,
    /// Every match starts with a literal, anywhere: the raw-text automaton finds them
    /// and the pattern runs anchored at each.
    Prefix,
    /// Every match ends with a literal: the pattern runs over the segment if one occurs.
    Suffix,
    /// No usable literal: the pattern always runs.
    Always,
}

/// The first word of the literals that start the matches of [`Gate::WordStart`]
/// patterns: a word that begins with `head` (or, when `whole`, is exactly `head`) may
/// start a match of `patterns`. Cutting literals to their first word makes the gate a
/// per-word lookup; the rest of each literal is then compared with the text that
/// follows the word, so a pattern runs only where one of its literals is written.
struct WordLiteral {
    /// Lower-cased leading letters and digits.
    head: Vec<u8>,
    /// Whether the literal goes on past the word, so the word must be `head` itself.
    whole: bool,
    /// The patterns (index into `Classifier::patterns`) it gates, each with a rest of
    /// its literals (lower case; empty when the literal is `head`): first the rests
    /// shorter than two bytes, then the others by their first two bytes, each part
    /// sorted by pattern.
    patterns: Vec<(usize, Box<[u8]>)>,
    /// Per entry of `patterns`, the first (up to) 8 bytes of its rest as a
    /// little-endian number and the mask of those bytes: most rests are told apart
    /// from the text by one comparison.
    heads8: Vec<(u64, u64)>,
    /// How many rests are shorter than two bytes (they lead `patterns`).
    short: usize,
    /// The longer rests by their first two bytes (little endian), sorted: where each
    /// group ends in `patterns`. Only the group of the two bytes after the word is
    /// compared with the text.
    groups: Vec<(u16, u32)>,
}

impl WordLiteral {
    /// Pushes `at` as a candidate start of each pattern that has a literal written at
    /// `at` in `bytes`, given that the word there begins this literal.
    #[inline]
    fn push_starts(&self, bytes: &[u8], at: usize, starts: &mut Starts) {
        let after = at + self.head.len();
        let next8 = lower8(load8(&bytes[after.min(bytes.len())..]));
        self.push_range(bytes, at, after, next8, 0..self.short, starts);
        let key = next8 as u16;
        if let Ok(g) = self.groups.binary_search_by_key(&key, |&(k, _)| k) {
            let from = if g == 0 {
                self.short
            } else {
                self.groups[g - 1].1 as usize
            };
            let to = self.groups[g].1 as usize;
            self.push_range(bytes, at, after, next8, from..to, starts);
        }
    }

    /// [`WordLiteral::push_starts`] for the entries `range` of `patterns`, given
    /// the (lower-cased) 8 bytes after the word.
    #[inline]
    fn push_range(
        &self,
        bytes: &[u8],
        at: usize,
        after: usize,
        next8: u64,
        range: std::ops::Range<usize>,
        starts: &mut Starts,
    ) {
        let mut last = usize::MAX;
        for ((pi, rest), &(value, mask)) in
            self.patterns[range.clone()].iter().zip(&self.heads8[range])
        {
            if *pi != last
                && next8 & mask == value
                && (rest.len() <= 8 && after + rest.len() <= bytes.len()
                    || bytes
                        .get(after..after + rest.len())
                        .is_some_and(|t| t.eq_ignore_ascii_case(rest)))
            {
                starts.push(*pi, at);
                last = *pi;
            }
        }
    }

    /// Orders `patterns` and fills [`WordLiteral::heads8`], `short` and `groups`.
    fn index_rests(&mut self) {
        let key = |rest: &[u8]| (rest.len() >= 2).then(|| u16::from_le_bytes([rest[0], rest[1]]));
        self.patterns
            .sort_by(|(pa, ra), (pb, rb)| (key(ra), *pa, ra).cmp(&(key(rb), *pb, rb)));
        self.short = self.patterns.iter().filter(|(_, r)| r.len() < 2).count();
        self.groups.clear();
        for (i, (_, rest)) in self.patterns.iter().enumerate().skip(self.short) {
            let k = key(rest).expect("two bytes");
            match self.groups.last_mut() {
                Some((last, end)) if *last == k => *end = i as u32 + 1,
                _ => self.groups.push((k, i as u32 + 1)),
            }
        }
        self.heads8 = self
            .patterns
            .iter()
            .map(|(_, rest)| {
                let n = rest.len().min(8);
                (load8(&rest[..n]), low_bytes(u64::MAX, n))
            })
            .collect();
    }

    /// Whether a word (as `\b` delimits it) may begin this literal.
    fn begins(&self, word: &[u8]) -> bool {
        if self.whole {
            word.eq_ignore_ascii_case(&self.head)
        } else {
            word.len() >= self.head.len()
                && word[..self.head.len()].eq_ignore_ascii_case(&self.head)
        }
    }
}

/// Gives each classifier an identity, so per-thread caches built for one are never
/// used by another.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A classifier compiled from a taxonomy. Build once per run, reuse for every note.
pub struct Classifier<'t> {
    id: u64,
    taxonomy: &'t Taxonomy,
    /// The taxonomy's learned lexicon, when it names one.
    lexicon: Option<LexiconUse<'t>>,
    signals: Vec<SignalInfo>,
    terms: Vec<Term>,
    /// Every normalised word a term needs, with its plural `s` form: word → id.
    vocabulary: HashMap<Box<str>, u32>,
    /// Per vocabulary id, the term words (ids) it stands for: itself when a term uses
    /// it, and `gpu` for `gpus` (the stemmer keeps some plurals as they are).
    stands_for: FlatLists,
    /// Vocabulary ids below this are term words; above, plural and written forms.
    term_words: u32,
    /// The terms as a trie over their words (vocabulary ids); node 0 is the root.
    trie: Trie,
    /// Per vocabulary id, the trie nodes a term starts at when the word is its first:
    /// the root's children along the words it stands for.
    starts: FlatLists,
    /// Where each category's subcategories start in a row of all subcategories.
    sub_offsets: Vec<usize>,
    nears: Vec<Near>,
    patterns: Vec<Pattern>,
    /// The patterns without literals to gate them (index into `patterns`).
    always: Vec<usize>,
    /// The literals of word-start patterns, and per lower-case ASCII first byte the
    /// literals starting with it.
    word_literals: Vec<WordLiteral>,
    word_literals_by_first: Vec<Vec<u32>>,
    /// The literals of the other gated patterns, matched case-insensitively on the
    /// raw text.
    literals: Option<AhoCorasick>,
    /// Those literals (and their ids) that are all ASCII letters and digits: such a
    /// literal only occurs inside a word, so each distinct word is searched for them
    /// once, when first seen, and the raw-text automaton leaves them out.
    inner_literals: Vec<(Box<[u8]>, u32)>,
    /// The literal id of each literal of the automaton.
    raw_literal_ids: Vec<u32>,
    /// The patterns (index into `patterns`) each literal (of either kind) belongs to.
    literal_patterns: Vec<Vec<usize>>,
    stemmer: rust_stemmers::Stemmer,
    /// A word longer than this many bytes cannot be a vocabulary word, even once
    /// normalised (see [`long_word_bytes`]), so it is not normalised, looked up or
    /// cached: a huge "word" costs one pass.
    long_word: usize,
}

impl<'t> Classifier<'t> {
    /// Compiles the taxonomy's signals. The taxonomy was validated, so this cannot fail.
    pub fn new(taxonomy: &'t Taxonomy) -> Classifier<'t> {
        let stemmer = stemmer();
        let mut signals = Vec::new();
        let mut owned = Vec::new();
        owned.extend(taxonomy.scope.iter().map(|s| (Owner::Scope, s)));
        for (ci, c) in taxonomy.categories.iter().enumerate() {
            owned.extend(c.signals.iter().map(|s| (Owner::Category(ci), s)));
            for (si, sub) in c.subcategories.iter().enumerate() {
                owned.extend(sub.signals.iter().map(|s| (Owner::Sub(ci, si), s)));
            }
        }
        let mut terms = Vec::new();
        let mut vocabulary: HashMap<Box<str>, u32> = HashMap::new();
        let word_id = |w: &str, vocabulary: &mut HashMap<Box<str>, u32>| {
            let next = vocabulary.len() as u32;
            *vocabulary.entry(w.into()).or_insert(next)
        };
        let mut patterns = Vec::new();
        let mut nears = Vec::new();
        let mut written: Vec<(String, u32)> = Vec::new();
        // Adds the terms of one signal (or one `near` group), skipping terms that
        // normalise like an earlier one (`sell` after `selling`): one mention is one match.
        let add_terms = |list: &[String],
                         signal: usize,
                         near: Option<(usize, usize)>,
                         terms: &mut Vec<Term>,
                         vocabulary: &mut HashMap<Box<str>, u32>,
                         written: &mut Vec<(String, u32)>| {
            let mut seen: Vec<Vec<u32>> = Vec::new();
            for t in list {
                let words: Vec<u32> = match t.strip_prefix('=') {
                    Some(exact) => exact
                        .split(' ')
                        .map(|w| word_id(&exact_key(w), vocabulary))
                        .collect(),
                    None => t
                        .split(' ')
                        .map(|w| {
                            let id = word_id(&normalize_word(w, &stemmer), vocabulary);
                            // How a short word is written, for acronyms in notes
                            // (see `written` below).
                            if crate::text::is_short_acronym(&w.to_ascii_uppercase()) {
                                written.push((format!("^{}", w.to_ascii_lowercase()), id));
                            }
                            id
                        })
                        .collect(),
                };
                if seen.contains(&words) {
                    continue;
                }
                seen.push(words.clone());
                terms.push(Term {
                    label: t.as_str().into(),
                    signal,
                    words,
                    near,
                });
            }
        };
        for (owner, s) in owned {
            let idx = signals.len();
            let label = match (&s.label, &s.matcher) {
                (Some(label), _) => label.clone(),
                (None, Matcher::Terms(t)) => t.join(" | "),
                (None, Matcher::Pattern { regex, .. }) => format!("/{regex}/"),
                (None, Matcher::Near { groups, .. }) => near_label(groups),
            };
            let (category, subcategory): (Arc<str>, Option<Arc<str>>) = match owner {
                Owner::Scope => ("scope".into(), None),
                Owner::Category(ci) => (taxonomy.categories[ci].id.as_str().into(), None),
                Owner::Sub(ci, si) => {
                    let c = &taxonomy.categories[ci];
                    (
                        c.id.as_str().into(),
                        Some(c.subcategories[si].id.as_str().into()),
                    )
                }
            };
            signals.push(SignalInfo {
                owner,
                label: label.into(),
                category,
                subcategory,
                weight: s.weight,
                fields: s.fields.clone(),
                overrules: s.overrules,
            });
            match &s.matcher {
                Matcher::Terms(list) => {
                    add_terms(list, idx, None, &mut terms, &mut vocabulary, &mut written)
                }
                Matcher::Pattern {
                    regex,
                    case_sensitive,
                } => patterns.push((regex.as_str(), *case_sensitive, idx)),
                Matcher::Near {
                    groups,
                    within,
                    ordered,
                } => {
                    let ni = nears.len();
                    for (g, list) in groups.iter().enumerate() {
                        add_terms(
                            list,
                            idx,
                            Some((ni, g)),
                            &mut terms,
                            &mut vocabulary,
                            &mut written,
                        );
                    }
                    nears.push(Near {
                        signal: idx,
                        groups: groups.len(),
                        within: within.iter().map(|&w| w as u32).collect(),
                        ordered: *ordered,
                    });
                }
            }
        }
        // Term words, then their plural forms: `gpus` stands for `gpu` (and for
        // itself if a term uses it).
        let term_words = vocabulary.len();
        let mut stands_for: Vec<Vec<u32>> = (0..term_words as u32).map(|v| vec![v]).collect();
        let mut base: Vec<(Box<str>, u32)> =
            vocabulary.iter().map(|(w, &v)| (w.clone(), v)).collect();
        base.sort_by_key(|&(_, v)| v);
        for (w, v) in base {
            let plural = word_id(&format!("{w}s"), &mut vocabulary) as usize;
            if plural == stands_for.len() {
                stands_for.push(Vec::new());
            }
            stands_for[plural].push(v);
        }
        // A short word in capitals (`MLS`, `IPFS`) is matched as written: it stands for
        // the term words written that way (`ipfs`, whatever its stem), never for a
        // shorter one whose plural it looks like (`ml`).
        for (key, v) in written {
            let id = word_id(&key, &mut vocabulary) as usize;
            if id == stands_for.len() {
                stands_for.push(Vec::new());
            }
            if !stands_for[id].contains(&v) {
                stands_for[id].push(v);
            }
        }
        let nodes = build_trie(&terms, &signals, &nears);
        let starts: Vec<Vec<u32>> = stands_for
            .iter()
            .map(|words| words.iter().filter_map(|&w| nodes[0].child(w)).collect())
            .collect();
        let starts = FlatLists::new(starts.iter().map(Vec::as_slice));
        let stands_for = FlatLists::new(stands_for.iter().map(Vec::as_slice));
        let trie = Trie::new(&nodes);

        let mut literal_ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut literal_patterns: Vec<Vec<usize>> = Vec::new();
        let mut word_literal_ids: HashMap<(Vec<u8>, bool), usize> = HashMap::new();
        let mut word_literals: Vec<WordLiteral> = Vec::new();
        let mut compiled = Vec::with_capacity(patterns.len());
        for (pi, (written, cs, signal)) in patterns.into_iter().enumerate() {
            let p = ascii_word_boundaries(written);
            // Read once for the literal gate and the line-span check.
            let hir = regex_syntax::Parser::new().parse(&p).ok();
            let (gate, lits) = gate_literals(hir.as_ref(), cs);
            for lit in lits {
                if gate == Gate::WordStart {
                    let head_len = ascii_word(&lit).len();
                    let key = (lit[..head_len].to_vec(), head_len < lit.len());
                    let entry = (pi, lit[head_len..].into());
                    let next = word_literals.len();
                    let id = *word_literal_ids.entry(key.clone()).or_insert(next);
                    if id == next {
                        word_literals.push(WordLiteral {
                            head: key.0,
                            whole: key.1,
                            patterns: Vec::new(),
                            heads8: Vec::new(),
                            short: 0,
                            groups: Vec::new(),
                        });
                    }
                    if !word_literals[id].patterns.contains(&entry) {
                        word_literals[id].patterns.push(entry);
                    }
                    continue;
                }
                let next = literal_patterns.len();
                let id = *literal_ids.entry(lit).or_insert(next);
                if id == next {
                    literal_patterns.push(Vec::new());
                }
                literal_patterns[id].push(pi);
            }
            compiled.push(Pattern {
                source: p,
                case_sensitive: cs,
                regex: std::sync::OnceLock::new(),
                signal,
                gate,
                one_line: hir.as_ref().is_some_and(|h| !can_match_newline(h)),
            });
        }
        let mut by_id: Vec<(usize, Vec<u8>)> =
            literal_ids.into_iter().map(|(l, id)| (id, l)).collect();
        by_id.sort();
        let (inner, raw): (Vec<_>, Vec<_>) = by_id
            .into_iter()
            .partition(|(_, l)| l.iter().all(u8::is_ascii_alphanumeric));
        let inner_literals = inner
            .into_iter()
            .map(|(id, l)| (l.into_boxed_slice(), id as u32))
            .collect();
        let raw_literal_ids: Vec<u32> = raw.iter().map(|&(id, _)| id as u32).collect();
        let literals = (!raw.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(raw.iter().map(|(_, l)| l))
                .expect("pattern literals are short")
        });

        let mut word_literals_by_first: Vec<Vec<u32>> = vec![Vec::new(); 128];
        for (j, l) in word_literals.iter_mut().enumerate() {
            l.index_rests();
            word_literals_by_first[usize::from(l.head[0])].push(j as u32);
        }
        let long_word = long_word_bytes(&vocabulary);
        let lexicon = taxonomy
            .loaded_lexicon()
            .map(|(spec, model)| LexiconUse::new(model, spec, taxonomy));
        let long_word = if lexicon.is_some() {
            long_word.max(MAX_WORD_BYTES)
        } else {
            long_word
        };
        Classifier {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            taxonomy,
            lexicon,
            signals,
            terms,
            vocabulary,
            stands_for,
            term_words: term_words as u32,
            trie,
            starts,
            sub_offsets: std::iter::once(0)
                .chain(taxonomy.categories.iter().scan(0, |n, c| {
                    *n += c.subcategories.len();
                    Some(*n)
                }))
                .collect(),
            nears,
            always: (0..compiled.len())
                .filter(|&pi| compiled[pi].gate == Gate::Always)
                .collect(),
            patterns: compiled,
            word_literals,
            word_literals_by_first,
            literals,
            inner_literals,
            raw_literal_ids,
            literal_patterns,
            stemmer,
            long_word,
        }
    }

    /// The taxonomy this classifier was built from.
    pub fn taxonomy(&self) -> &Taxonomy {
        self.taxonomy
    }

    /// Classifies a project note.
    pub fn classify_note(&self, note: &Note) -> Classification<'_> {
        self.classify(&segments(note))
    }

    /// Classifies raw text as a body.
    pub fn classify_text(&self, text: &str) -> Classification<'_> {
        self.classify(&[Segment {
            field: Field::Body,
            text,
            line: 1,
        }])
    }

    /// Classifies a set of segments.
    pub fn classify(&self, segments: &[Segment<'_>]) -> Classification<'_> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            scratch.tally.reset(self.signals.len());
            scratch
                .lex
                .reset(self.lexicon.as_ref().map_or(0, |l| l.model.len()));
            for (si, seg) in segments.iter().enumerate() {
                scratch.plan.reset(self.patterns.len());
                // What a body sets its subject against ("rather than a GPU market") is
                // no evidence of what the subject is.
                if seg.field == Field::Body {
                    contrast_spans(seg.text, &mut scratch.contrast);
                } else {
                    scratch.contrast.clear();
                }
                scratch.near_found.clear();
                scratch.near_found.resize(self.nears.len(), 0);
                // Terms are matched as the words are read; the `near` signals of a
                // long text a piece at a time, so their occurrences stay in cache.
                let mut state = ScanState::default();
                loop {
                    let Scratch {
                        cache,
                        partial,
                        next_partial,
                        plan,
                        occurrences,
                        near_seen,
                        near_found,
                        pending,
                        contrast,
                        lex,
                        ..
                    } = &mut *scratch;
                    let mut sink = SegmentSink::new(pending, segments, si, contrast);
                    occurrences.reset(self.nears.len());
                    // Left as they are between segments and pieces: a stale entry can
                    // only let an occurrence in, never keep one out (see `term_found`).
                    near_seen.resize(self.nears.len() * NEAR_GROUPS_MAX, GroupSeen::default());
                    let mut terms = TermMatcher {
                        classifier: self,
                        field: 1 << field_rank(seg.field),
                        segment: si as u32,
                        lex,
                        run: u32::MAX,
                        partial,
                        next: next_partial,
                        near: NearState {
                            occurrences: &mut *occurrences,
                            seen: near_seen,
                        },
                        sink: &mut sink,
                    };
                    let done = self.scan(seg.text, &mut state, cache, plan, &mut terms);
                    self.match_near(occurrences, near_found, &mut sink);
                    if done {
                        break;
                    }
                }
                let Scratch {
                    plan,
                    pending,
                    contrast,
                    tally,
                    overruled,
                    ..
                } = &mut *scratch;
                let mut sink = SegmentSink::new(pending, segments, si, contrast);
                self.match_patterns(seg, plan, &mut sink);
                self.settle(pending, overruled, tally, segments);
            }
            let Scratch {
                tally, score, lex, ..
            } = &mut *scratch;
            self.score(segments, tally, score, lex)
        })
    }

    /// One pass over the words of a text. Each word's facts come from the per-thread
    /// cache (computed once per distinct word): the terms it is and starts, the term
    /// words it stands for, and the word-start literals it may begin or holds.
    /// The pass hands each word to `out`, with the run it belongs to (runs are cut
    /// wherever sentence punctuation or another barrier intervenes), and leaves the
    /// candidate starts of word-start patterns in `plan`.
    ///
    /// Words are runs of letters and digits, as [`word_spans`] finds them; the gap
    /// before each word is read once, byte by byte, for what it ends (a sentence, a
    /// phrase).
    ///
    /// The pass stops after a sentence once [`CHUNK_WORDS`] words are read (no term
    /// or `near` match crosses a sentence), leaving where it is in `state`; it returns
    /// true when the text is done. Pattern candidates accumulate over the whole text.
    fn scan(
        &self,
        text: &str,
        state: &mut ScanState,
        cache: &mut WordCache,
        plan: &mut Plan,
        out: &mut impl WordSink,
    ) -> bool {
        let WordCache {
            owner,
            words,
            facts,
        } = cache;
        if *owner != self.id || words.len() > WORD_CACHE_MAX {
            words.clear();
            facts.clear();
            *owner = self.id;
        }
        let want_literals = !self.word_literals.is_empty();
        let bytes = text.as_bytes();
        let n = bytes.len();
        let ScanState {
            at: mut i,
            mut run,
            mut word,
            mut sentence,
            ends_sentence: mut pending_end,
            barrier: mut pending_barrier,
        } = *state;
        let first_word = word;
        while i < n {
            // The gap before the next word.
            let (mut ends_sentence, mut barrier, mut newlines) = (
                std::mem::take(&mut pending_end),
                std::mem::take(&mut pending_barrier),
                0u8,
            );
            let start = loop {
                if i >= n {
                    break None;
                }
                let b = bytes[i];
                // Most gaps are one space: the two commonest classes first.
                let class = BYTE_CLASS[usize::from(b)];
                if class == WORD {
                    break Some(i);
                }
                if class == JOINS {
                    i += 1;
                    continue;
                }
                match class {
                    NEWLINE => {
                        newlines = newlines.saturating_add(1);
                        if newlines > 1 {
                            (ends_sentence, barrier) = (true, true);
                        }
                        i += 1;
                    }
                    STOP => {
                        barrier = true;
                        ends_sentence |= bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace);
                        i += 1;
                    }
                    SEMICOLON => {
                        (ends_sentence, barrier) = (true, true);
                        i += 1;
                    }
                    BREAKS => {
                        barrier = true;
                        i += 1;
                    }
                    _ => {
                        let c = text[i..].chars().next().expect("char boundary");
                        if is_word_char(c) {
                            break Some(i);
                        }
                        barrier |= !matches!(c, '\u{2019}' | '\u{2010}' | '\u{2011}' | '\u{2013}');
                        i += c.len_utf8();
                    }
                }
            };
            let Some(start) = start else { break };
            if ends_sentence && word - first_word >= CHUNK_WORDS {
                *state = ScanState {
                    at: start,
                    run,
                    word,
                    sentence,
                    ends_sentence,
                    barrier,
                };
                return false;
            }
            // The word: ASCII letters and digits eight bytes at a time, other
            // characters one at a time. A word of at most 7 ASCII bytes read in one
            // go is its own cache key (`short`, else 0).
            i = start;
            let mut short = 0;
            loop {
                match bytes.get(i..i + 8) {
                    Some(chunk) => {
                        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                        let alnum = (!ascii_alnum8(x) & 0x8080_8080_8080_8080).trailing_zeros() / 8;
                        if alnum == 8 {
                            i += 8;
                            continue;
                        }
                        if i == start {
                            short = low_bytes(x, alnum as usize);
                        }
                        i += alnum as usize;
                    }
                    None => {
                        while i < n && BYTE_CLASS[usize::from(bytes[i])] == WORD {
                            i += 1;
                        }
                    }
                }
                if i < n && bytes[i] >= 0x80 {
                    let c = text[i..].chars().next().expect("char boundary");
                    if is_word_char(c) {
                        short = 0;
                        i += c.len_utf8();
                        continue;
                    }
                }
                break;
            }
            let end = i;
            if word > 0 && ends_sentence {
                sentence += 1;
            }
            word += 1;
            let cached = if short != 0 {
                words.get_short(short)
            } else {
                words.get_in(text, start, end)
            };
            let info = match cached {
                Some(info) => *info,
                None => {
                    let info = self.word_info(&text[start..end], facts);
                    if end - start <= self.long_word {
                        words.insert(&text[start..end], info);
                    }
                    info
                }
            };
            if info.extra != 0 {
                let extra = facts.extras[info.extra as usize - 1];
                let (from, to) = extra.inner;
                for &(lit, offset) in &facts.inner_hits[from as usize..to as usize] {
                    self.literal_at(lit as usize, start + offset as usize, bytes, plan);
                }
                // `_` is a word character to `\b`, so no word-start match follows it.
                if start == 0 || bytes[start - 1] != b'_' {
                    let (from, to) = extra.literals;
                    for &j in &facts.literals[from as usize..to as usize] {
                        self.word_literals[j as usize].push_starts(bytes, start, &mut plan.starts);
                    }
                }
                if want_literals && !extra.ascii {
                    self.inner_word_starts(text, start, end, &mut plan.starts);
                }
            }
            // Every word counts, so a phrase cannot step over a word no term needs
            // (it stands for no term word); a run only ends at a barrier.
            run += u32::from(barrier);
            let token = Token {
                run,
                word,
                sentence,
                start: start as u32,
                end: end as u32,
            };
            out.word(token, info, facts);
        }
        true
    }

    /// The cached facts of a word not seen before.
    fn word_info(&self, surface: &str, facts: &mut WordFacts) -> WordInfo {
        let WordFacts {
            word_terms,
            terms,
            phrases,
            stands,
            extras,
            literals,
            inner_hits,
        } = facts;
        let mut lex = NO_LEX;
        let (id, exact) = if surface.len() > self.long_word {
            (NO_WORD, NO_WORD)
        } else {
            // `ＧＰＵ` is `GPU` written full width: the same word, as written.
            let written = crate::text::fold_latin(surface);
            let n = normalize_word(&written, &self.stemmer);
            if let Some(l) = &self.lexicon
                && surface.len() <= MAX_WORD_BYTES
            {
                lex = l.model.row(&n).unwrap_or(NO_LEX);
            }
            let word = self.vocabulary.get(n.as_str()).copied();
            let id = if crate::text::is_short_acronym(crate::text::strip_acronym_plural(&written)) {
                // See `written` in `Classifier::new`: a term word as it is, never a
                // plural form.
                self.vocabulary
                    .get(format!("^{n}").as_str())
                    .copied()
                    .or(word.filter(|&v| v < self.term_words))
            } else {
                word
            };
            let id = id.unwrap_or(NO_WORD);
            let exact = self
                .vocabulary
                .get(exact_key(&written).as_str())
                .copied()
                .unwrap_or(NO_WORD);
            (id, exact)
        };
        let from = (terms.len(), phrases.len(), stands.len());
        for form in [id, exact] {
            for &node in self.starts.get(form) {
                terms.extend_from_slice(self.trie.terms(node));
                if !self.trie.edges(node).is_empty() {
                    phrases.push(node);
                }
            }
            stands.extend_from_slice(self.stands_for.get(form));
        }
        let facts_of_terms = if from == (terms.len(), phrases.len(), stands.len()) {
            0
        } else {
            word_terms.push(WordTerms {
                terms: (from.0 as u32, terms.len() as u32),
                phrases: (from.1 as u32, phrases.len() as u32),
                stands: (from.2 as u32, stands.len() as u32),
            });
            word_terms.len() as u32
        };
        let from = literals.len() as u32;
        // `\b` sees ASCII words: the word ends at its first non-ASCII letter.
        let w = ascii_word(surface.as_bytes());
        let first = w.first().map_or(0, |b| b.to_ascii_lowercase());
        if let Some(bucket) = self.word_literals_by_first.get(usize::from(first)) {
            for &j in bucket {
                if self.word_literals[j as usize].begins(w) {
                    literals.push(j);
                }
            }
        }
        let inner_from = inner_hits.len() as u32;
        let bytes = surface.as_bytes();
        for (lit, id) in &self.inner_literals {
            // Candidates by the first byte in either case, then the rest compared.
            let first = lit[0];
            let (a, b) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
            for at in memchr::memchr2_iter(a, b, bytes) {
                if bytes.len() - at >= lit.len()
                    && bytes[at..at + lit.len()].eq_ignore_ascii_case(lit)
                {
                    inner_hits.push((*id, at as u32));
                }
            }
        }
        // The hits in text order, as one pass over the word found them.
        inner_hits[inner_from as usize..].sort_by_key(|&(_, at)| at);
        let extra = WordExtra {
            literals: (from, literals.len() as u32),
            inner: (inner_from, inner_hits.len() as u32),
            ascii: surface.is_ascii(),
        };
        let extra = if extra.literals.0 == extra.literals.1
            && extra.inner.0 == extra.inner.1
            && extra.ascii
        {
            0
        } else {
            extras.push(extra);
            extras.len() as u32
        };
        WordInfo {
            extra,
            terms: facts_of_terms,
            lex,
        }
    }

    /// Word-start literals inside a word that holds non-ASCII letters: `\b` treats
    /// those as non-word characters, so an ASCII letter after one starts a word.
    fn inner_word_starts(&self, text: &str, start: usize, end: usize, starts: &mut Starts) {
        let bytes = text.as_bytes();
        for at in start + 1..end {
            if !(bytes[at].is_ascii_alphanumeric() && bytes[at - 1] >= 0x80) {
                continue;
            }
            let first = usize::from(bytes[at].to_ascii_lowercase());
            let word = &bytes[at..end];
            // `\b` sees a word end at the next non-ASCII letter.
            let head = ascii_word(word);
            for &j in &self.word_literals_by_first[first] {
                let lit = &self.word_literals[j as usize];
                if lit.begins(head) {
                    lit.push_starts(bytes, at, starts);
                }
            }
        }
    }

    /// Notes that literal `lit` of the gated patterns occurs at `at` in `bytes`: where
    /// its patterns must run.
    #[inline]
    fn literal_at(&self, lit: usize, at: usize, bytes: &[u8], plan: &mut Plan) {
        for &pi in &self.literal_patterns[lit] {
            let p = &self.patterns[pi];
            match p.gate {
                Gate::Prefix => plan.starts.push(pi, at),
                Gate::Suffix if p.one_line => {
                    let from = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
                    let to = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
                    plan.lines.push(pi, (from, to));
                }
                _ => plan.run_whole(pi),
            }
        }
        // The automaton reports by end, and a pattern may have literals of both kinds.
        plan.unordered = true;
    }

    /// Finds the `near` signals among the occurrences of their groups' terms: from each
    /// occurrence of the first group (of either group when unordered), an occurrence of
    /// each next group that starts after the previous one ends, at most `within` words
    /// later, in the same sentence. Matches do not overlap.
    fn match_near(
        &self,
        occurrences: &mut Buckets<Occurrence>,
        near_found: &mut [usize],
        sink: &mut impl HitSink,
    ) {
        for &ni in &occurrences.touched {
            let near = &self.nears[ni];
            // A signal matches only if each of its groups occurs.
            let occ = &mut occurrences.lists[ni];
            let groups = occ.iter().fold(0u32, |seen, o| seen | 1 << o.group);
            if groups.count_ones() as usize != near.groups {
                continue;
            }
            // In text order.
            occ.sort_by_key(|o| (o.first, o.last, o.group));
            occ.dedup();
            let occ = &occ[..];
            let mut floor = 0u32;
            let found = &mut near_found[ni];
            for (k, o) in occ.iter().enumerate() {
                if *found >= MAX_PATTERN_HITS {
                    break;
                }
                if o.first < floor || (near.ordered && o.group != 0) {
                    continue;
                }
                let end = if near.ordered {
                    chain(occ, k, near, 1)
                } else {
                    next_near(occ, k, near.within[0])
                        .find(|&p| occ[p].group != o.group)
                        .map(|p| occ[p])
                };
                let Some(end) = end else { continue };
                sink.hit(near.signal, None, o.start as usize, end.end as usize);
                *found += 1;
                floor = end.last + 1;
            }
        }
    }

    /// Runs the patterns where they can match: one case-insensitive pass over the
    /// segment finds the literals the patterns start or end with; a prefix-gated
    /// pattern then runs anchored at each of its literals, a suffix-gated one over the
    /// segment if any of its literals occurs, and a pattern without literals always.
    fn match_patterns(&self, seg: &Segment<'_>, plan: &mut Plan, sink: &mut impl HitSink) {
        if self.patterns.is_empty() {
            return;
        }
        let text = seg.text;
        if folds_to_ascii(text) {
            (0..self.patterns.len()).for_each(|pi| plan.run_whole(pi));
        } else {
            if let Some(ac) = &self.literals {
                let bytes = text.as_bytes();
                for m in ac.find_overlapping_iter(text) {
                    let lit = self.raw_literal_ids[m.pattern().as_usize()] as usize;
                    self.literal_at(lit, m.start(), bytes, plan);
                }
            }
            if plan.unordered {
                // Found out of order (the automaton reports by end), or from both the
                // words and the automaton.
                plan.starts.sort_by_key(|&at| at);
                plan.lines.sort_by_key(|&window| window);
            }
            for &pi in &self.always {
                plan.run_whole(pi);
            }
        }
        let Plan {
            starts,
            whole,
            whole_list,
            lines,
            ..
        } = plan;
        let applies = |p: &Pattern| {
            let sig = &self.signals[p.signal];
            sig.fields.is_empty() || sig.fields.contains(&seg.field)
        };
        let mut push = |p: &Pattern, start: usize, end: usize| {
            sink.hit(p.signal, None, start, end);
        };
        // Anchored runs, pattern by pattern, each from the leftmost candidate past the
        // previous match: the same matches a full leftmost-first scan finds.
        starts.touched.sort_unstable();
        for (pi, list) in starts.groups() {
            let p = &self.patterns[pi];
            if whole[pi] || !applies(p) {
                continue;
            }
            let mut floor = 0;
            let mut found = 0;
            for &at in list {
                if found >= MAX_PATTERN_HITS {
                    break;
                }
                if at < floor {
                    continue;
                }
                let input = Input::new(text).range(at..).anchored(Anchored::Yes);
                let end = p.regex().find(input).map(|m| m.end());
                if let Some(end) = end
                    && end > at
                {
                    push(p, at, end);
                    found += 1;
                    floor = end;
                }
            }
        }
        whole_list.sort_unstable();
        for &pi in whole_list.iter() {
            let p = &self.patterns[pi];
            if !applies(p) {
                continue;
            }
            for m in p
                .regex()
                .find_iter(text)
                .filter(|m| !m.is_empty())
                .take(MAX_PATTERN_HITS)
            {
                push(p, m.start(), m.end());
            }
        }
        // Line by line, in text order: the matches a run over the whole text finds,
        // since none spans two lines.
        for (pi, windows) in lines.groups() {
            let p = &self.patterns[pi];
            if whole[pi] || !applies(p) {
                continue;
            }
            let mut found = 0;
            'lines: for &(from, to) in windows {
                let input = Input::new(text).range(from..to);
                for m in p.regex().find_iter(input).filter(|m| !m.is_empty()) {
                    if found >= MAX_PATTERN_HITS {
                        break 'lines;
                    }
                    push(p, m.start(), m.end());
                    found += 1;
                }
            }
        }
    }

    fn score(
        &self,
        segments: &[Segment<'_>],
        tally: &mut Tally,
        bufs: &mut ScoreBufs,
        lex: &mut LexCounts,
    ) -> Classification<'_> {
        let t = &self.taxonomy.thresholds;
        tally.touched.sort_unstable();
        let mut evidence = Vec::with_capacity(tally.touched.len());
        let mut scope_score = 0.0;
        let mut opposed = false;
        let ncat = self.taxonomy.categories.len();
        let ScoreBufs {
            cat_scores,
            sub_scores,
            order,
            fired,
            keyed,
            lines,
            firsts,
            evidence_order,
        } = bufs;
        // The file line of each signal's first hit, counting line breaks once per
        // segment, in text order.
        firsts.clear();
        firsts.extend(tally.touched.iter().enumerate().map(|(k, &sig)| {
            let first = tally.accs[sig].first;
            (first.segment, first.start, k)
        }));
        file_lines(segments, firsts, lines);
        cat_scores.clear();
        cat_scores.resize(ncat, 0.0);
        sub_scores.clear();
        sub_scores.resize(self.sub_offsets[ncat], 0.0);
        for (k, &sig_idx) in tally.touched.iter().enumerate() {
            let acc = &tally.accs[sig_idx];
            let [names, tags, bodies] = acc.counts;
            let mass = f64::from(names) * t.name_boost
                + f64::from(tags) * t.tags_boost
                + f64::from(bodies);
            let sig = &self.signals[sig_idx];
            let contribution = sig.weight * saturate(mass, t.saturation);
            match sig.owner {
                Owner::Scope => {
                    scope_score += contribution;
                    opposed |= contribution < 0.0;
                }
                Owner::Category(ci) => cat_scores[ci] += contribution,
                Owner::Sub(ci, si) => sub_scores[self.sub_offsets[ci] + si] += contribution,
            }
            let Hit {
                segment,
                start,
                end,
                ..
            } = acc.first;
            let (segment, start, end) = (segment as usize, start as usize, end as usize);
            let line = lines[k];
            // Name the terms that fired rather than the whole group they belong to.
            tally.fired_terms(sig_idx, segments, keyed, fired);
            let fired = match fired.as_slice() {
                [] => Cow::Borrowed(&*sig.label),
                [one] => Cow::Borrowed(&*self.terms[*one].label),
                many => Cow::Owned(
                    many.iter()
                        .map(|&t| &*self.terms[t].label)
                        .collect::<Vec<_>>()
                        .join(" | "),
                ),
            };
            evidence.push(Evidence {
                signal: fired,
                category: &sig.category,
                subcategory: sig.subcategory.as_deref(),
                weight: round3(contribution),
                matched: segments[segment].text[start..end].into(),
                field: segments[segment].field,
                line,
                count: (names + tags + bodies) as usize,
                signal_id: sig_idx,
                overrules: sig.overrules,
            });
        }
        for ci in 0..ncat {
            let subs = &sub_scores[self.sub_offsets[ci]..self.sub_offsets[ci + 1]];
            cat_scores[ci] += subs.iter().sum::<f64>();
        }
        // Strongest first, then by signal. Sorted as keys (the weight's magnitude,
        // whose bits order like the number, and the signal's first eight bytes) with
        // the index, then moved once.
        let key = |e: &Evidence<'_>| {
            let mut head = [0u8; 8];
            let n = e.signal.len().min(8);
            head[..n].copy_from_slice(&e.signal.as_bytes()[..n]);
            (!e.weight.abs().to_bits(), u64::from_be_bytes(head))
        };
        evidence_order.clear();
        evidence_order.extend(evidence.iter().enumerate().map(|(i, e)| (key(e), i)));
        evidence_order.sort_unstable_by(|(a, i), (b, j)| {
            a.cmp(b)
                .then_with(|| evidence[*i].signal.cmp(&evidence[*j].signal))
                .then(i.cmp(j))
        });
        order.clear();
        order.extend(evidence_order.iter().map(|&(_, i)| i));
        permute(&mut evidence, order);

        order.clear();
        order.extend(0..ncat);
        order.sort_by(|&a, &b| cat_scores[b].total_cmp(&cat_scores[a]).then(a.cmp(&b)));
        let best = order.first().map_or(0.0, |&c| cat_scores[c]);
        let second = order.get(1).map_or(0.0, |&c| cat_scores[c].max(0.0));
        let scores = self
            .taxonomy
            .categories
            .iter()
            .zip(cat_scores.iter())
            .map(|(c, s)| (c.id.as_str(), round3(*s)))
            .collect();

        // Without any sign of non-AI crypto, less AI evidence is enough.
        let gate = match t.scope_unopposed {
            Some(lower) if !opposed => lower,
            _ => t.scope,
        };
        let passing = if scope_score >= gate {
            passing_paragraphs(t, &tally.scope_place, segments)
        } else {
            None
        };
        let in_scope = scope_score >= gate && passing.is_none();
        let mut c = if !in_scope || best < t.min_score || best <= 0.0 {
            let margin = if let Some(paragraphs) = passing {
                // The share of the body that says nothing of AI.
                1.0 - 1.0 / paragraphs as f64
            } else if !in_scope {
                1.0 - (scope_score.max(0.0) / gate.max(f64::EPSILON))
            } else {
                1.0 - (best.max(0.0) / t.min_score.max(f64::EPSILON))
            };
            Classification {
                category: NONE,
                subcategory: None,
                confidence: round3(margin.clamp(0.0, 1.0)),
                scores,
                scope_score: round3(scope_score),
                scope_needed: round3(gate),
                secondary: Vec::new(),
                passing_mention: passing.is_some(),
                evidence,
                lexicon: None,
            }
        } else {
            let winner = order[0];
            let confidence = ((best - second) / best).clamp(0.0, 1.0);
            let secondary = order[1..]
                .iter()
                .filter(|&&c| {
                    cat_scores[c] >= t.min_score && cat_scores[c] >= t.secondary_ratio * best
                })
                .map(|&c| self.taxonomy.categories[c].id.as_str())
                .collect();
            Classification {
                category: &self.taxonomy.categories[winner].id,
                subcategory: self.best_subcategory(winner, sub_scores),
                confidence: round3(confidence),
                scores,
                scope_score: round3(scope_score),
                scope_needed: round3(gate),
                secondary,
                passing_mention: false,
                evidence,
                lexicon: None,
            }
        };
        if let Some(l) = &self.lexicon {
            self.vote(l, &mut c, lex, segments, sub_scores);
        }
        c
    }

    /// The best-scoring subcategory of category `ci`, if any scores above zero.
    fn best_subcategory(&self, ci: usize, sub_scores: &[f64]) -> Option<&str> {
        let cat = &self.taxonomy.categories[ci];
        sub_scores[self.sub_offsets[ci]..self.sub_offsets[ci + 1]]
            .iter()
            .enumerate()
            .filter(|(_, s)| **s > 0.0)
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .map(|(si, _)| cat.subcategories[si].id.as_str())
    }

    /// The lexicon's vote on the words counted in `lex`: its probabilities and the
    /// words behind its own label. When that label beats the signals' label by more
    /// than the margin, and the signals' `none` is not a disclaimer's, it becomes the
    /// answer: the subcategory is then the best the
    /// signals found in the new category, else the lexicon's, and the confidence the
    /// lexicon's margin over its runner-up.
    fn vote<'c>(
        &'c self,
        l: &LexiconUse<'c>,
        c: &mut Classification<'c>,
        lex: &mut LexCounts,
        segments: &[Segment<'_>],
        sub_scores: &[f64],
    ) {
        let LexCounts {
            counts,
            first,
            touched,
            x,
            picks,
        } = lex;
        l.model.vector(
            touched
                .iter()
                .map(|&r| (r, counts[r as usize]))
                .filter(|&(_, n)| n != EXCLUDED),
            x,
        );
        let p = l.model.probabilities(x);
        let own = crate::lexicon::argmax(&p);
        let said = l.class_of(c.category);
        let label = |k: usize| -> &'c str {
            match l.category_of[k] {
                Some(ci) => &self.taxonomy.categories[ci].id,
                None => NONE,
            }
        };
        let signals = c.category;
        // A note that says it is not AI stays `none`: a negative scope signal that
        // alone outweighs the gate (a disclaimer) is not for word counts to overrule.
        let gate = self.taxonomy.thresholds.scope;
        let disclaimed = c.is_none()
            && c.evidence.iter().any(|e| {
                let sig = &self.signals[e.signal_id];
                sig.owner == Owner::Scope && sig.weight <= -gate
            });
        // On a handful of known words the vote is mostly the lexicon's prior.
        let read_enough = x.len() >= l.min_words;
        let overruled = own != said && p[own] - p[said] > l.margin && !disclaimed && read_enough;
        if overruled {
            let runner_up = (0..p.len())
                .filter(|&k| k != own)
                .map(|k| p[k])
                .fold(0.0, f64::max);
            c.confidence = round3(p[own] - runner_up);
            c.category = label(own);
            c.passing_mention = false;
            match l.category_of[own] {
                None => {
                    c.subcategory = None;
                    c.secondary.clear();
                }
                Some(ci) => {
                    let cat = &self.taxonomy.categories[ci];
                    c.subcategory = self.best_subcategory(ci, sub_scores).or_else(|| {
                        let q = l.model.sub_probabilities(x);
                        l.sub_of
                            .iter()
                            .enumerate()
                            .filter(|(_, (sc, _))| *sc == ci)
                            .max_by(|a, b| q[a.0].total_cmp(&q[b.0]).then(b.0.cmp(&a.0)))
                            .map(|(_, &(_, si))| cat.subcategories[si].id.as_str())
                    });
                    let id = cat.id.as_str();
                    c.secondary.retain(|s| *s != id);
                }
            }
        }
        // The words that pull hardest toward the lexicon's label, in text order of
        // their first use for equal pulls.
        picks.clear();
        picks.extend(x.iter().filter_map(|&(row, v)| {
            let pull = l.model.pull(row, v, own);
            // Function words carry weight too, but name nothing a reader could check.
            (pull > 0.0 && !l.stop[row as usize]).then_some((pull, row))
        }));
        let strongest = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if picks.len() > LEXICON_WORDS {
            picks.select_nth_unstable_by(LEXICON_WORDS - 1, strongest);
            picks.truncate(LEXICON_WORDS);
        }
        picks.sort_unstable_by(strongest);
        let mut spots: Vec<(u32, u32, usize)> = picks
            .iter()
            .enumerate()
            .map(|(i, &(_, row))| (first[row as usize].0, first[row as usize].1, i))
            .collect();
        let mut lines = Vec::new();
        file_lines(segments, &mut spots, &mut lines);
        let words = picks
            .iter()
            .zip(lines)
            .map(|(&(pull, row), line)| {
                let (segment, start, end) = first[row as usize];
                let seg = &segments[segment as usize];
                LexiconWord {
                    word: seg.text[start as usize..end as usize].into(),
                    pull: round3(pull),
                    field: seg.field,
                    line,
                }
            })
            .collect();
        c.lexicon = Some(LexiconVote {
            probabilities: (0..p.len()).map(|k| (label(k), round3(p[k]))).collect(),
            label: label(own),
            signals,
            overruled,
            words,
        });
    }

    /// Tallies the hits of one segment, leaving out the positive hits that overlap
    /// the match of an overruling negative signal (see [`crate::taxonomy::Signal::overrules`]) without
    /// covering all of it.
    fn settle(
        &self,
        pending: &mut Vec<Hit>,
        overruled: &mut Vec<(u32, u32)>,
        tally: &mut Tally,
        segments: &[Segment<'_>],
    ) {
        overruled.clear();
        overruled.extend(
            pending
                .iter()
                .filter(|h| self.signals[h.signal as usize].overrules)
                .map(|h| (h.start, h.end)),
        );
        if !overruled.is_empty() {
            overruled.sort_unstable();
            // Merged, so that ends rise with starts.
            let mut kept = 0;
            for k in 0..overruled.len() {
                let (s, e) = overruled[k];
                if kept > 0 && s < overruled[kept - 1].1 {
                    overruled[kept - 1].1 = overruled[kept - 1].1.max(e);
                } else {
                    overruled[kept] = (s, e);
                    kept += 1;
                }
            }
            overruled.truncate(kept);
        }
        for hit in pending.drain(..) {
            let sig = hit.signal as usize;
            if !overruled.is_empty() && self.signals[sig].weight > 0.0 {
                // Overruled by a match it overlaps, unless it reads all of that match
                // and more ("does not train one big model" is no disclaimer).
                let k = overruled.partition_point(|&(_, e)| e <= hit.start);
                let mut overlaps = overruled[k..].iter().take_while(|&&(s, _)| s < hit.end);
                if overlaps.any(|&(s, e)| s < hit.start || e > hit.end) {
                    continue;
                }
            }
            let signal = &self.signals[sig];
            if signal.owner == Owner::Scope && signal.weight > 0.0 {
                tally.scope_place.add(&hit, segments);
            }
            tally.add(sig, hit, segments);
        }
    }

    /// The terms of signal `id` when it is a `term`/`terms` signal (for linting).
    pub fn signal_terms(&self, id: usize) -> Option<Vec<&str>> {
        let terms: Vec<&str> = self
            .terms
            .iter()
            .filter(|t| t.signal == id && t.near.is_none())
            .map(|t| &*t.label)
            .collect();
        (!terms.is_empty()).then_some(terms)
    }

    /// Ids of every signal (as labels, with their owner) for linting.
    pub fn signal_labels(&self) -> Vec<(String, String, Option<String>)> {
        self.signals
            .iter()
            .map(|s| {
                (
                    s.label.to_string(),
                    s.category.to_string(),
                    s.subcategory.as_deref().map(str::to_string),
                )
            })
            .collect()
    }
}

/// The file line of each spot `(segment, byte offset, k)` into `lines[k]`, counting
/// each segment's line breaks once: the spots are put in text order first.
fn file_lines(segments: &[Segment<'_>], spots: &mut [(u32, u32, usize)], lines: &mut Vec<usize>) {
    spots.sort_unstable();
    lines.clear();
    lines.resize(spots.len(), 0);
    let mut at = (u32::MAX, 0, 0);
    for &(segment, start, k) in spots.iter() {
        let seg = &segments[segment as usize];
        if at.0 != segment {
            at = (segment, 0, seg.line);
        }
        let (from, to) = (at.1 as usize, start as usize);
        at.2 += crate::text::count_newlines(&seg.text.as_bytes()[from..to]);
        at.1 = start;
        lines[k] = at.2;
    }
}

/// The file line of byte `offset` of a segment.
fn line_at(seg: &Segment<'_>, offset: usize) -> usize {
    seg.line + crate::text::count_newlines(&seg.text.as_bytes()[..offset])
}

/// Where the matchers report what they find: a signal (and the term of it) matched
/// the span `start..end` of the current segment.
trait HitSink {
    fn hit(&mut self, signal: usize, term: Option<usize>, start: usize, end: usize);
}

/// Where the scan hands the words of a text, in order.
trait WordSink {
    /// The next word, with its cached facts (`info` points into `facts`).
    fn word(&mut self, token: Token, info: WordInfo, facts: &WordFacts);
}

/// A longer term under way: the trie node its words so far lead to, and where its
/// first word is.
#[derive(Clone, Copy)]
struct Partial {
    node: u32,
    first: u32,
    start: u32,
}

/// Matches terms as the scan reads the words of a segment: a word's one-word terms
/// where it is, and the longer terms it starts by following the trie along the next
/// words of its run. Terms of `near` groups become occurrences for
/// [`Classifier::match_near`], the others hits.
struct TermMatcher<'a, 'c, S> {
    classifier: &'a Classifier<'c>,
    /// The bit of the segment's field (see [`field_rank`]).
    field: u8,
    /// The segment's index, and the lexicon's word counts.
    segment: u32,
    lex: &'a mut LexCounts,
    /// The run of the last word.
    run: u32,
    partial: &'a mut Vec<Partial>,
    next: &'a mut Vec<Partial>,
    near: NearState<'a>,
    sink: &'a mut S,
}

/// Where the terms of `near` groups go: the occurrences kept, and the last one kept of
/// each group of an ordered signal.
struct NearState<'a> {
    occurrences: &'a mut Buckets<Occurrence>,
    seen: &'a mut [GroupSeen],
}

/// Term `t` matched from word `first` (at byte `start`) to word `last`.
///
/// An occurrence of a later group of an ordered `near` signal is kept only if the
/// previous group's last occurrence so far allows it: one in the same sentence that
/// overlaps it or ends at most `within` words before it. Occurrences are found in
/// order of their last word, so an earlier one of the previous group ends earlier
/// still: an occurrence left out here could not continue any match.
#[inline(always)]
fn term_found(
    field: u8,
    near: &mut NearState<'_>,
    sink: &mut impl HitSink,
    t: &TermRef,
    (first, start): (u32, u32),
    last: &Token,
) {
    if t.fields & field == 0 {
        return;
    }
    if let Some(n) = t.near {
        let slot = n.near as usize * NEAR_GROUPS_MAX + usize::from(n.group);
        if n.gate != NO_GATE {
            let before = near.seen[slot - 1];
            if before.sentence != last.sentence
                || (first > before.last && first - before.last - 1 > u32::from(n.gate))
            {
                return;
            }
        }
        // Repeats are dropped when the occurrences are sorted.
        near.occurrences.push_capped(
            n.near as usize,
            Occurrence {
                group: u32::from(n.group),
                first,
                last: last.word,
                sentence: last.sentence,
                start,
                end: last.end,
            },
            MAX_NEAR_OCCURRENCES,
        );
        if n.record {
            near.seen[slot] = GroupSeen {
                sentence: last.sentence,
                last: last.word,
            };
        }
    } else {
        let (start, end) = (start as usize, last.end as usize);
        sink.hit(t.signal as usize, Some(t.term as usize), start, end);
    }
}

impl<S: HitSink> WordSink for TermMatcher<'_, '_, S> {
    #[inline]
    fn word(&mut self, token: Token, info: WordInfo, facts: &WordFacts) {
        let TermMatcher {
            classifier: c,
            field,
            segment,
            lex,
            run,
            partial,
            next,
            near,
            sink,
        } = self;
        if info.lex != NO_LEX {
            lex.see(info.lex, *field == NAME_BIT, *segment, &token);
        }
        if token.run != *run {
            partial.clear();
            *run = token.run;
        }
        // A word no term needs ends every term under way.
        if info.terms == 0 {
            partial.clear();
            return;
        }
        let terms = facts.word_terms[info.terms as usize - 1];
        if !partial.is_empty() {
            next.clear();
            let stands = &facts.stands[terms.stands.0 as usize..terms.stands.1 as usize];
            for p in partial.iter() {
                let edges = c.trie.edges(p.node);
                for &w in stands {
                    let Some(child) = child_in(edges, w) else {
                        continue;
                    };
                    for t in c.trie.terms(child) {
                        term_found(*field, near, *sink, t, (p.first, p.start), &token);
                    }
                    if !c.trie.edges(child).is_empty() {
                        next.push(Partial {
                            node: child,
                            first: p.first,
                            start: p.start,
                        });
                    }
                }
            }
            std::mem::swap(*partial, *next);
        }
        let (from, to) = terms.terms;
        for t in &facts.terms[from as usize..to as usize] {
            let at = (token.word, token.start);
            term_found(*field, near, *sink, t, at, &token);
        }
        let (from, to) = terms.phrases;
        partial.extend(
            facts.phrases[from as usize..to as usize]
                .iter()
                .map(|&node| Partial {
                    node,
                    first: token.word,
                    start: token.start,
                }),
        );
    }
}

/// Collects the hits of one segment as they come, for [`Classifier::settle`] to tally
/// once the segment is read. Hits that overlap a contrast span are left out.
struct SegmentSink<'a> {
    pending: &'a mut Vec<Hit>,
    segment: u32,
    rank: u8,
    contrast: &'a [(usize, usize)],
}

impl<'a> SegmentSink<'a> {
    fn new(
        pending: &'a mut Vec<Hit>,
        segments: &[Segment<'_>],
        segment: usize,
        contrast: &'a [(usize, usize)],
    ) -> Self {
        SegmentSink {
            pending,
            segment: segment as u32,
            rank: field_rank(segments[segment].field),
            contrast,
        }
    }
}

impl HitSink for SegmentSink<'_> {
    #[inline]
    fn hit(&mut self, signal: usize, term: Option<usize>, start: usize, end: usize) {
        if !self.contrast.is_empty() {
            let k = self.contrast.partition_point(|&(_, e)| e <= start);
            if self.contrast.get(k).is_some_and(|&(s, _)| s < end) {
                return;
            }
        }
        self.pending.push(Hit {
            rank: self.rank,
            segment: self.segment,
            start: start as u32,
            end: end as u32,
            term: term.map_or(u32::MAX, |t| t as u32),
            signal: signal as u32,
        });
    }
}

/// Where a signal (and which of its terms, `u32::MAX` for none) matched.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Hit {
    /// [`field_rank`] of the segment.
    rank: u8,
    segment: u32,
    start: u32,
    end: u32,
    term: u32,
    signal: u32,
}

impl Hit {
    /// Whether this hit comes before `other` in the order evidence quotes hits in:
    /// field (name, tags, body), file line, offset, segment. Unique per hit. Within a
    /// segment, offsets order the lines too, so lines are only counted to compare
    /// hits of two segments of one field.
    #[inline]
    fn before(&self, other: &Hit, segments: &[Segment<'_>]) -> bool {
        if self.rank != other.rank {
            return self.rank < other.rank;
        }
        if self.segment == other.segment {
            return (self.start, self.end, self.term) < (other.start, other.end, other.term);
        }
        let key = |h: &Hit| {
            let line = line_at(&segments[h.segment as usize], h.start as usize);
            (line, h.start, h.segment, h.end, h.term)
        };
        key(self) < key(other)
    }

    fn order(&self, other: &Hit, segments: &[Segment<'_>]) -> std::cmp::Ordering {
        if self.before(other, segments) {
            std::cmp::Ordering::Less
        } else if other.before(self, segments) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    }
}

/// When the positive scope evidence of a text all sits in one paragraph of a long body
/// (at least `passing_paragraphs` paragraphs and `passing_words` words), with none in
/// the name or tags: AI named in passing ("its ecosystem also hosts AI agents"). Returns
/// the body's paragraph count then.
fn passing_paragraphs(
    t: &crate::taxonomy::Thresholds,
    place: &ScopePlace,
    segments: &[Segment<'_>],
) -> Option<usize> {
    let ScopePlace::Body {
        segment,
        start,
        end,
    } = *place
    else {
        return None;
    };
    if t.passing_paragraphs == 0 {
        return None;
    }
    let text = segments[segment as usize].text;
    // Cheapest first: the line searches jump from line break to line break (the
    // blank-line one stops at the first), and the words are read one byte at a time,
    // only up to the minimum.
    if crate::text::holds_blank_line(&text[start as usize..end as usize]) {
        return None;
    }
    let paragraphs = crate::text::paragraphs(text);
    (paragraphs >= t.passing_paragraphs && crate::text::has_words(text, t.passing_words))
        .then_some(paragraphs)
}

/// How many distinct terms of a signal are tracked inline before spilling over.
const INLINE_TERMS: usize = 4;

/// The hits of one signal, summed up.
#[derive(Clone, Copy, Default)]
struct Acc {
    /// Hits per field rank (name, tags, body).
    counts: [u32; 3],
    /// The first hit (which says where it is).
    first: Hit,
    /// The first hit of each distinct term that fired; more than [`INLINE_TERMS`]
    /// spill into [`Tally::spilled`].
    terms: [Hit; INLINE_TERMS],
    nterms: usize,
}

/// Buffers of the scoring step, reused across notes.
#[derive(Default)]
struct ScoreBufs {
    /// Sort keys of the evidence lines, with their index.
    evidence_order: Vec<((u64, u64), usize)>,
    cat_scores: Vec<f64>,
    /// Subcategory scores, all categories in a row (see `Classifier::sub_offsets`).
    sub_scores: Vec<f64>,
    order: Vec<usize>,
    fired: Vec<usize>,
    keyed: Vec<Hit>,
    /// Per touched signal, the file line of its first hit.
    lines: Vec<usize>,
    /// (segment, offset, index into the touched signals) of the first hits.
    firsts: Vec<(u32, u32, usize)>,
}

/// Sums up hits per signal as they come, without keeping them: counts per field, the
/// first hit, and the terms that fired with their first hit.
#[derive(Default)]
struct Tally {
    accs: Vec<Acc>,
    /// Signals with at least one hit.
    touched: Vec<usize>,
    is_touched: Vec<bool>,
    /// The first hit of each further (signal, term) beyond [`INLINE_TERMS`] per signal.
    spilled: HashMap<(usize, u32), Hit>,
    /// Where the positive scope evidence is: the body segment and the span from its
    /// first hit's start to its last hit's end, or `Spread` once a hit is found outside
    /// that segment (in the name, the tags or another body segment).
    scope_place: ScopePlace,
}

/// Where a text's positive scope evidence lies (see [`Tally::scope_place`]).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
enum ScopePlace {
    #[default]
    Nowhere,
    Body {
        segment: u32,
        start: u32,
        end: u32,
    },
    Spread,
}

impl ScopePlace {
    /// Takes in a positive scope hit.
    fn add(&mut self, hit: &Hit, segments: &[Segment<'_>]) {
        if segments[hit.segment as usize].field != Field::Body {
            *self = ScopePlace::Spread;
            return;
        }
        *self = match *self {
            ScopePlace::Nowhere => ScopePlace::Body {
                segment: hit.segment,
                start: hit.start,
                end: hit.end,
            },
            ScopePlace::Body {
                segment,
                start,
                end,
            } if segment == hit.segment => ScopePlace::Body {
                segment,
                start: start.min(hit.start),
                end: end.max(hit.end),
            },
            _ => ScopePlace::Spread,
        };
    }
}

impl Tally {
    /// Starts over, for `signals` signals.
    fn reset(&mut self, signals: usize) {
        for &s in &self.touched {
            self.is_touched[s] = false;
        }
        self.touched.clear();
        self.spilled.clear();
        self.scope_place = ScopePlace::Nowhere;
        if self.accs.len() != signals {
            self.accs = vec![Acc::default(); signals];
            self.is_touched = vec![false; signals];
        }
    }

    #[inline]
    fn add(&mut self, signal: usize, hit: Hit, segments: &[Segment<'_>]) {
        let acc = &mut self.accs[signal];
        if !self.is_touched[signal] {
            self.is_touched[signal] = true;
            self.touched.push(signal);
            acc.counts = [0; 3];
            acc.first = hit;
            acc.nterms = 0;
        } else if hit.before(&acc.first, segments) {
            acc.first = hit;
        }
        acc.counts[usize::from(hit.rank)] += 1;
        if hit.term == u32::MAX {
            return;
        }
        let n = acc.nterms.min(INLINE_TERMS);
        if let Some(slot) = acc.terms[..n].iter_mut().find(|h| h.term == hit.term) {
            if hit.before(slot, segments) {
                *slot = hit;
            }
        } else if n < INLINE_TERMS {
            acc.terms[n] = hit;
            acc.nterms += 1;
        } else {
            acc.nterms = INLINE_TERMS + 1;
            self.spilled
                .entry((signal, hit.term))
                .and_modify(|first| {
                    if hit.before(first, segments) {
                        *first = hit;
                    }
                })
                .or_insert(hit);
        }
    }

    /// The terms (indexes) of `signal` that fired, in the order of their first hit.
    fn fired_terms(
        &self,
        signal: usize,
        segments: &[Segment<'_>],
        all: &mut Vec<Hit>,
        out: &mut Vec<usize>,
    ) {
        let acc = &self.accs[signal];
        out.clear();
        if acc.nterms <= 1 {
            out.extend(acc.terms[..acc.nterms].iter().map(|h| h.term as usize));
            return;
        }
        all.clear();
        all.extend_from_slice(&acc.terms[..acc.nterms.min(INLINE_TERMS)]);
        if acc.nterms > INLINE_TERMS {
            all.extend(
                self.spilled
                    .iter()
                    .filter(|((s, _), _)| *s == signal)
                    .map(|(_, &h)| h),
            );
        }
        all.sort_unstable_by(|a, b| a.order(b, segments));
        for h in all.iter() {
            if !out.contains(&(h.term as usize)) {
                out.push(h.term as usize);
            }
        }
    }
}

/// Reorders `v` so that `v[k]` is the old `v[order[k]]`, one swap per element moved
/// (`order` is a permutation of the indexes of `v`; it is used up).
fn permute<T>(v: &mut [T], order: &mut [usize]) {
    const DONE: usize = usize::MAX;
    for start in 0..v.len() {
        let mut k = start;
        while order[k] != DONE {
            let from = order[k];
            order[k] = DONE;
            if from == start {
                break;
            }
            v.swap(k, from);
            k = from;
        }
    }
}

fn field_rank(f: Field) -> u8 {
    match f {
        Field::Name => 0,
        Field::Tags => 1,
        Field::Body => 2,
    }
}

/// n mentions (boost-weighted) count n(k+1)/(n+k): 1 for one, at most k+1.
fn saturate(n: f64, k: f64) -> f64 {
    if k <= 0.0 {
        n.min(1.0)
    } else {
        n * (k + 1.0) / (n + k)
    }
}

/// Rounds to three decimals, as scores and rates are shown.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Rewrites `\b` and `\B` as ASCII word boundaries. Unicode word boundaries force the
/// regex crate off its DFAs onto a backtracking-free but slow NFA on any non-ASCII
/// text (hundreds of times slower); ASCII boundaries keep matching at DFA speed.
fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("(?-u:\\b)"),
            Some('B') => out.push_str("(?-u:\\B)"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Where [`Classifier::scan`] stopped in a text: the next byte to read and the
/// counters and gap facts it carries over.
#[derive(Clone, Copy, Default)]
struct ScanState {
    at: usize,
    run: u32,
    word: u32,
    sentence: u32,
    /// What the gap before the word at `at` ended.
    ends_sentence: bool,
    barrier: bool,
}

/// A long text's `near` signals are matched a piece of about this many words at a time.
const CHUNK_WORDS: u32 = 4096;

/// Per-thread buffers and the word cache, reused across notes.
struct Scratch {
    cache: WordCache,
    /// The longer terms under way at the current word, and at the next.
    partial: Vec<Partial>,
    next_partial: Vec<Partial>,
    /// Where the gated patterns run in the current segment.
    plan: Plan,
    /// Matches of each `near` signal found so far in the current segment.
    near_found: Vec<usize>,
    /// Occurrences of `near` group terms in the current segment.
    occurrences: Buckets<Occurrence>,
    /// The last occurrence kept of each group of each ordered `near` signal.
    near_seen: Vec<GroupSeen>,
    /// The hits of the current classification, tallied per signal.
    tally: Tally,
    score: ScoreBufs,
    /// The contrast spans of the current segment (see [`contrast_spans`]).
    contrast: Vec<(usize, usize)>,
    /// The hits of the current segment, before they are tallied.
    pending: Vec<Hit>,
    /// The spans of the current segment's overruling hits.
    overruled: Vec<(u32, u32)>,
    /// The lexicon words of the current classification.
    lex: LexCounts,
}

/// The lexicon as the classifier uses it: each of its labels as a category index
/// (`None` for `none`), each of its subcategory labels as indices.
struct LexiconUse<'t> {
    model: &'t Lexicon,
    margin: f64,
    min_words: usize,
    category_of: Vec<Option<usize>>,
    sub_of: Vec<(usize, usize)>,
    /// Per row: whether the word is a function word, never shown for a vote.
    stop: Vec<bool>,
}

impl<'t> LexiconUse<'t> {
    /// The lexicon was checked against the taxonomy when it was attached.
    fn new(model: &'t Lexicon, spec: &LexiconSpec, taxonomy: &Taxonomy) -> LexiconUse<'t> {
        let cat = |id: &str| taxonomy.categories.iter().position(|c| c.id == id);
        LexiconUse {
            model,
            margin: spec.margin,
            min_words: spec.min_words,
            category_of: model.classes().iter().map(|c| cat(c)).collect(),
            sub_of: model
                .subclasses()
                .iter()
                .map(|(c, s)| {
                    let ci = cat(c).expect("checked lexicon");
                    let si = taxonomy.categories[ci]
                        .subcategories
                        .iter()
                        .position(|x| x.id == *s)
                        .expect("checked lexicon");
                    (ci, si)
                })
                .collect(),
            stop: {
                let mut stop = vec![false; model.len()];
                for row in STOP_WORDS.iter().filter_map(|w| model.row(w)) {
                    stop[row as usize] = true;
                }
                stop
            },
        }
    }

    /// The lexicon label of a category id or `none`.
    fn class_of(&self, category: &str) -> usize {
        self.model
            .classes()
            .iter()
            .position(|c| c == category)
            .expect("the lexicon has every label")
    }
}

/// [`LexCounts::counts`] of a word of the note's name: not counted.
const EXCLUDED: u32 = u32::MAX;

/// The field bit of [`Field::Name`] (see [`field_rank`]).
const NAME_BIT: u8 = 1;

/// The lexicon words of one classification: per row, its count and first use.
#[derive(Default)]
struct LexCounts {
    /// Per row: how often the tags and body use it ([`EXCLUDED`] for a name word).
    counts: Vec<u32>,
    /// Per row: segment and span of its first use.
    first: Vec<(u32, u32, u32)>,
    /// The rows used, in order of first use.
    touched: Vec<u32>,
    /// The feature vector.
    x: Vec<(u32, f32)>,
    /// The words picked for the vote's evidence: pull and row.
    picks: Vec<(f64, u32)>,
}

impl LexCounts {
    fn reset(&mut self, rows: usize) {
        for &r in &self.touched {
            self.counts[r as usize] = 0;
        }
        self.touched.clear();
        if self.counts.len() != rows {
            self.counts.clear();
            self.counts.resize(rows, 0);
            self.first.resize(rows, (0, 0, 0));
        }
    }

    #[inline]
    fn see(&mut self, row: u32, name: bool, segment: u32, token: &Token) {
        let n = &mut self.counts[row as usize];
        if *n == 0 {
            self.touched.push(row);
            self.first[row as usize] = (segment, token.start, token.end);
        }
        *n = if name || *n == EXCLUDED {
            EXCLUDED
        } else {
            *n + 1
        };
    }
}

/// The per-thread word cache. Notes share most of their vocabulary, so few words are
/// stemmed twice.
#[derive(Default)]
struct WordCache {
    /// The classifier the cache was filled for.
    owner: u64,
    /// Surface word → its facts.
    words: WordMap<WordInfo>,
    /// What the cached words start and hold.
    facts: WordFacts,
}

/// What cached words are to terms and patterns. [`WordInfo::terms`] points into
/// `word_terms`, whose ranges point into `terms`, `phrases` and `stands`;
/// [`WordInfo::extra`] points into `extras`, whose ranges point into `literals` and
/// `inner_hits`.
#[derive(Default)]
struct WordFacts {
    word_terms: Vec<WordTerms>,
    /// The one-word terms words are, for every vocabulary form of theirs.
    terms: Vec<TermRef>,
    /// The trie nodes (below the root) of the longer terms words start.
    phrases: Vec<u32>,
    /// The term words (vocabulary ids) words stand for, for every form of theirs.
    stands: Vec<u32>,
    extras: Vec<WordExtra>,
    /// Word-start literals (index into `Classifier::word_literals`) words may begin.
    literals: Vec<u32>,
    /// (literal, offset) of the inner literals words hold.
    inner_hits: Vec<(u32, u32)>,
}

impl WordFacts {
    fn clear(&mut self) {
        self.word_terms.clear();
        self.terms.clear();
        self.phrases.clear();
        self.stands.clear();
        self.extras.clear();
        self.literals.clear();
        self.inner_hits.clear();
    }
}

/// Ranges of [`WordFacts::terms`], [`WordFacts::phrases`] and [`WordFacts::stands`]
/// for one word.
#[derive(Clone, Copy)]
struct WordTerms {
    terms: (u32, u32),
    phrases: (u32, u32),
    stands: (u32, u32),
}

/// Ranges of [`WordFacts::literals`] and [`WordFacts::inner_hits`] for one word, and
/// whether it holds non-ASCII letters.
#[derive(Clone, Copy)]
struct WordExtra {
    literals: (u32, u32),
    inner: (u32, u32),
    ascii: bool,
}

/// Where the gated patterns run in a segment, gathered while it is read.
#[derive(Default)]
struct Plan {
    /// Candidate starts of anchored runs, per pattern.
    starts: Starts,
    /// Per pattern: whether it runs over the whole segment; and those that do.
    whole: Vec<bool>,
    whole_list: Vec<usize>,
    /// Per one-line suffix-gated pattern: the lines (start, end) it runs over.
    lines: Buckets<(usize, usize)>,
    /// Whether `starts` or `lines` may be out of order.
    unordered: bool,
}

impl Plan {
    /// Makes pattern `pi` run over the whole segment.
    #[inline]
    fn run_whole(&mut self, pi: usize) {
        if !self.whole[pi] {
            self.whole[pi] = true;
            self.whole_list.push(pi);
        }
    }

    fn reset(&mut self, patterns: usize) {
        self.starts.reset(patterns);
        for &pi in &self.whole_list {
            self.whole[pi] = false;
        }
        self.whole_list.clear();
        if self.whole.len() != patterns {
            self.whole = vec![false; patterns];
        }
        self.lines.reset(patterns);
        self.unordered = false;
    }
}

/// Values grouped by a small key (a pattern, a `near` signal), each group kept in the
/// order the values come in, with the keys that got any.
struct Buckets<T> {
    lists: Vec<Vec<T>>,
    /// The keys with at least one value, in the order they first got one.
    touched: Vec<usize>,
}

impl<T> Default for Buckets<T> {
    fn default() -> Self {
        Buckets {
            lists: Vec::new(),
            touched: Vec::new(),
        }
    }
}

impl<T: Copy + PartialEq> Buckets<T> {
    /// Empties every group, for keys `0..keys`.
    fn reset(&mut self, keys: usize) {
        for &k in &self.touched {
            self.lists[k].clear();
        }
        self.touched.clear();
        if self.lists.len() != keys {
            self.lists.clear();
            self.lists.resize_with(keys, Vec::new);
        }
    }

    /// Adds a value to group `key`, unless it repeats the group's last value.
    #[inline]
    fn push(&mut self, key: usize, value: T) {
        let list = &mut self.lists[key];
        match list.last() {
            None => self.touched.push(key),
            Some(last) if *last == value => return,
            Some(_) => {}
        }
        list.push(value);
    }

    /// Adds a value to group `key`, repeat or not, unless the group holds `cap`.
    #[inline]
    fn push_capped(&mut self, key: usize, value: T, cap: usize) {
        let list = &mut self.lists[key];
        if list.is_empty() {
            self.touched.push(key);
        } else if list.len() >= cap {
            return;
        }
        list.push(value);
    }

    /// Sorts each group by `f` (stable, and linear on groups already in order) and
    /// drops repeats; sorts the keys.
    fn sort_by_key<K: Ord>(&mut self, f: impl Fn(&T) -> K + Copy) {
        self.touched.sort_unstable();
        for &k in &self.touched {
            let list = &mut self.lists[k];
            list.sort_by_key(f);
            list.dedup();
        }
    }

    /// The groups with values, by key.
    fn groups(&self) -> impl Iterator<Item = (usize, &[T])> {
        self.touched.iter().map(|&k| (k, self.lists[k].as_slice()))
    }
}

/// Candidate starts of gated patterns in a segment, per pattern.
type Starts = Buckets<usize>;

/// Classes of bytes for the word scan: ASCII letters and digits, the gap characters
/// that keep a phrase going, line breaks, sentence stops (`.`, `!`, `?`), `;`, other
/// ASCII (which breaks a phrase), and non-ASCII bytes (decoded as characters).
const WORD: u8 = 0;
const JOINS: u8 = 1;
const NEWLINE: u8 = 2;
const STOP: u8 = 3;
const SEMICOLON: u8 = 4;
const BREAKS: u8 = 5;
const NON_ASCII: u8 = 6;

static BYTE_CLASS: [u8; 256] = {
    let mut table = [NON_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => WORD,
            b' ' | b'\t' | b'\r' | b'-' | b'_' | b'/' | b'*' | b'`' | b'\'' => JOINS,
            b'\n' => NEWLINE,
            b'.' | b'!' | b'?' => STOP,
            b';' => SEMICOLON,
            _ => BREAKS,
        };
        b += 1;
    }
    table
};

/// What the classifier needs to know about a surface word.
#[derive(Clone, Copy, Default)]
struct WordInfo {
    /// 1 + index into [`WordFacts::extras`] when the word may begin a word-start
    /// literal, holds an inner literal or is not all ASCII, else 0.
    extra: u32,
    /// 1 + index into [`WordFacts::word_terms`] when some term starts with the word
    /// or goes on with it, else 0.
    terms: u32,
    /// The word's lexicon row, or [`NO_LEX`].
    lex: u32,
}

/// [`WordInfo::lex`] of a word the lexicon has no weights for.
const NO_LEX: u32 = u32::MAX;

/// A word of the text as the scan reports it: the run it belongs to (a run ends
/// where sentence punctuation or another barrier comes between two words), its
/// number and sentence, and its span.
#[derive(Clone, Copy)]
struct Token {
    run: u32,
    /// 1-based index among all the words of the text, and the sentence it is in.
    word: u32,
    sentence: u32,
    start: u32,
    end: u32,
}

/// A token's id when the vocabulary lacks that form of the word.
const NO_WORD: u32 = u32::MAX;

/// The vocabulary key of a word matched as written (`=term`): lower case, acronym
/// plural reduced, marked so it never collides with a stem.
fn exact_key(word: &str) -> String {
    format!(
        "={}",
        crate::text::strip_acronym_plural(word).to_lowercase()
    )
}

/// Beyond this many cached words the cache starts over (bounded memory on huge input).
const WORD_CACHE_MAX: usize = 100_000;

/// At most this many matches of one pattern count per segment.
const MAX_PATTERN_HITS: usize = 64;

/// At most this many occurrences of one `near` signal's groups are kept per piece of
/// text (see [`CHUNK_WORDS`]). A piece ends at the first sentence end after
/// [`CHUNK_WORDS`] words, so only a single sentence of tens of thousands of words
/// reaches it; memory then stays bounded.
const MAX_NEAR_OCCURRENCES: usize = 1 << 16;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        cache: WordCache::default(),
        partial: Vec::new(),
        next_partial: Vec::new(),
        plan: Plan::default(),
        occurrences: Buckets::default(),
        near_seen: Vec::new(),
        near_found: Vec::new(),
        tally: Tally::default(),
        score: ScoreBufs::default(),
        contrast: Vec::new(),
        pending: Vec::new(),
        overruled: Vec::new(),
        lex: LexCounts::default(),
    });
}

/// The first (up to) 8 bytes of `bytes` as a little-endian number, zero-padded.
#[inline]
fn load8(bytes: &[u8]) -> u64 {
    match bytes.get(..8) {
        Some(b) => u64::from_le_bytes(b.try_into().expect("8 bytes")),
        None => bytes
            .iter()
            .rev()
            .fold(0u64, |v, &b| (v << 8) | u64::from(b)),
    }
}

/// The high bit of each of the 8 bytes packed in `x` that is an ASCII letter or digit.
#[inline]
fn ascii_alnum8(x: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const fn each(b: u8) -> u64 {
        u64::from_le_bytes([b; 8])
    }
    let low7 = x & !HIGH;
    // For 7-bit bytes, `v + (0x80 - lo)` sets the high bit when `v >= lo`, and
    // `v + (0x7f - hi)` when `v > hi`; no carry crosses into the next byte.
    let folded = low7 | each(0x20);
    let letter = folded.wrapping_add(each(0x80 - b'a')) & !folded.wrapping_add(each(0x7f - b'z'));
    let digit = low7.wrapping_add(each(0x80 - b'0')) & !low7.wrapping_add(each(0x7f - b'9'));
    (letter | digit) & !x & HIGH
}

/// ASCII lower case of the 8 bytes packed in `x` (other bytes unchanged).
#[inline]
fn lower8(x: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = x & !HIGH;
    // The high bit of each byte: set when the byte is at least `A`, and when it is
    // past `Z`; an upper-case ASCII letter is the first without the second.
    let from_a = low7.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let past_z = low7.wrapping_add(0x2525_2525_2525_2525);
    let upper = from_a & !past_z & !x & HIGH;
    x | (upper >> 2)
}

/// The leading ASCII letters and digits of `bytes`: a word as `\b` (ASCII) sees it.
fn ascii_word(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(bytes.len());
    &bytes[..end]
}

/// Whether `text` holds one of the two non-ASCII characters that case-insensitive
/// matching folds onto an ASCII letter (KELVIN SIGN → k, LONG S → s); the ASCII literal
/// gate would miss those matches, so such text runs every pattern.
fn folds_to_ascii(text: &str) -> bool {
    !text.is_ascii() && (text.contains('\u{212A}') || text.contains('\u{17F}'))
}

/// How a pattern is gated, and the lower-cased literals that gate it: the literals
/// every match starts with if they are known and non-empty, else those every match
/// ends with, else none (the pattern always runs). Literals are extracted from the
/// case-sensitive reading of the pattern and matched case-insensitively, a superset
/// of the case-insensitive reading's matches.
fn gate_literals(
    hir: Option<&regex_syntax::hir::Hir>,
    case_sensitive: bool,
) -> (Gate, Vec<Vec<u8>>) {
    let Some(hir) = hir else {
        return (Gate::Always, Vec::new());
    };
    for (kind, gate) in [
        (ExtractKind::Prefix, Gate::Prefix),
        (ExtractKind::Suffix, Gate::Suffix),
    ] {
        let seq = Extractor::new().kind(kind).extract(hir);
        let Some(lits) = seq.literals() else { continue };
        if lits.is_empty() || lits.iter().any(|l| l.as_bytes().is_empty()) {
            continue;
        }
        // Case-insensitive matching of non-ASCII letters is beyond the ASCII gate.
        if !case_sensitive && lits.iter().any(|l| !l.as_bytes().is_ascii()) {
            continue;
        }
        let mut out: Vec<Vec<u8>> = lits
            .iter()
            .map(|l| l.as_bytes().to_ascii_lowercase())
            .collect();
        out.sort();
        out.dedup();
        let looks = hir.properties().look_set_prefix();
        let at_word_start = [
            Look::WordAscii,
            Look::WordStartAscii,
            Look::WordStartHalfAscii,
        ]
        .into_iter()
        .any(|l| looks.contains(l))
            && out.iter().all(|l| l[0].is_ascii_alphanumeric());
        if gate == Gate::Prefix && at_word_start {
            return (Gate::WordStart, out);
        }
        return (gate, out);
    }
    (Gate::Always, Vec::new())
}

/// Whether some match of a pattern could hold a line break.
fn can_match_newline(hir: &regex_syntax::hir::Hir) -> bool {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(l) => l.0.contains(&b'\n'),
        HirKind::Class(Class::Unicode(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        HirKind::Class(Class::Bytes(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
        HirKind::Repetition(r) => r.max != Some(0) && can_match_newline(&r.sub),
        HirKind::Capture(c) => can_match_newline(&c.sub),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(can_match_newline),
    }
}

/// The occurrences (indexes into `occ`, in order) that start after `occ[k]` ends, at
/// most `within` words later, in the same sentence. `occ` is sorted by start, so the
/// scan stops at the first occurrence beyond reach.
fn next_near(occ: &[Occurrence], k: usize, within: u32) -> impl Iterator<Item = usize> + '_ {
    let end = occ[k];
    (k + 1..occ.len())
        .skip_while(move |&p| occ[p].first <= end.last)
        .take_while(move |&p| {
            occ[p].first - end.last - 1 <= within && occ[p].sentence == end.sentence
        })
}

/// Completes an ordered `near` match from `occ[k]` (of group `group - 1`): the last
/// occurrence of the first way through groups `group..`, trying every candidate.
fn chain(occ: &[Occurrence], k: usize, near: &Near, group: usize) -> Option<Occurrence> {
    if group == near.groups {
        return Some(occ[k]);
    }
    next_near(occ, k, near.within[group - 1])
        .filter(|&p| occ[p].group as usize == group)
        .find_map(|p| chain(occ, p, near, group + 1))
}

/// [`Classifier::long_word`] for a vocabulary: four times its longest word and a
/// margin (folding can drop two of every three bytes: `e` and a combining accent).
fn long_word_bytes(vocabulary: &HashMap<Box<str>, u32>) -> usize {
    4 * vocabulary.keys().map(|w| w.len()).max().unwrap_or(0) + 16
}

/// The label of a `near` signal: its groups joined by `~`.
fn near_label(groups: &[Vec<String>]) -> String {
    groups
        .iter()
        .map(|g| g.join(" | "))
        .collect::<Vec<_>>()
        .join(" ~ ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAX: &str = r#"version: 1
thresholds:
  scope: 2
  min_score: 1
scope:
  signals:
    - terms: [ai, machine learning]
      weight: 2
categories:
  - id: resources
    label: Resources
    description: d
    subcategories:
      - id: compute
        label: Compute
        description: d
        signals:
          - term: gpu
            weight: 3
          - term: gpu marketplace
            weight: 2
      - id: storage
        label: Storage
        description: d
        signals:
          - term: decentralized storage
            weight: 3
  - id: problems
    label: Problems
    description: d
    subcategories:
      - id: verification
        label: V
        description: d
        signals:
          - term: verify
            weight: 3
          - pattern: '\bzk-?ml\b'
            weight: 4
          - term: stablecoin
            weight: -5
"#;

    fn tax() -> Taxonomy {
        Taxonomy::parse(TAX, "t").unwrap()
    }

    #[test]
    fn plurals_stems_and_phrases_fire() {
        let t = tax();
        let c = Classifier::new(&t);
        let r =
            c.classify_text("An AI network.\nA GPU-marketplace where GPUs and gpus are rented.");
        assert_eq!(r.category, "resources");
        assert_eq!(r.subcategory, Some("compute"));
        let gpu = r.evidence.iter().find(|e| &*e.signal == "gpu").unwrap();
        assert_eq!(gpu.count, 3);
        assert_eq!(gpu.line, 2);
        assert!(
            r.evidence
                .iter()
                .any(|e| &*e.signal == "gpu marketplace" && e.matched == "GPU-marketplace")
        );
        let r = c.classify_text("AI outputs are verifiable with zkML.");
        assert_eq!(r.category, "problems");
        assert!(
            r.evidence
                .iter()
                .any(|e| &*e.signal == "verify" && e.matched == "verifiable")
        );
        assert!(
            r.evidence
                .iter()
                .any(|e| e.signal.starts_with("/") && e.matched == "zkML")
        );
        // A British spelling fires the American term.
        let r = c.classify_text("AI models on decentralised storage.");
        assert!(
            r.evidence
                .iter()
                .any(|e| &*e.signal == "decentralized storage"
                    && e.matched == "decentralised storage")
        );
        // Full-width letters (CJK text) and accents fold to the ASCII term.
        let r = c.classify_text("AI teams rent ＧＰＵｓ on a décentralised storage network.");
        let gpu = r.evidence.iter().find(|e| &*e.signal == "gpu").unwrap();
        assert_eq!(gpu.matched, "ＧＰＵｓ");
        assert!(
            r.evidence
                .iter()
                .any(|e| &*e.signal == "decentralized storage")
        );
    }

    #[test]
    fn whole_words_only() {
        let t = tax();
        let c = Classifier::new(&t);
        let r = c.classify_text("The maintainers said the airdrop was fair. gpuxyz");
        assert!(r.evidence.is_empty(), "{:?}", r.evidence);
        assert_eq!(r.category, "none");
    }

    #[test]
    fn scope_gate_and_negative_signals() {
        let t = tax();
        let c = Classifier::new(&t);
        let r = c.classify_text("A GPU rendering farm for films.");
        assert_eq!(r.category, "none", "no AI mention: out of scope");
        let r = c.classify_text("AI stablecoin that can verify things, stablecoin");
        assert!(r.scores["problems"] < 3.0);
    }

    #[test]
    fn what_a_note_contrasts_with_is_no_evidence() {
        let t = tax();
        let c = Classifier::new(&t);
        let gpu = |text: &str| {
            c.classify_text(text)
                .evidence
                .iter()
                .any(|e| e.matched.to_lowercase().contains("gpu"))
        };
        assert!(gpu("AI models on a GPU marketplace."));
        assert!(!gpu(
            "AI models, closer to a grid than to a GPU marketplace."
        ));
        assert!(!gpu("Rather than a GPU marketplace, AI models."));
        assert!(!gpu("AI models as opposed to a GPU marketplace."));
        // The contrast ends at the comma; a quantity is no contrast.
        assert!(gpu("AI models rather than code, on a GPU marketplace."));
        assert!(gpu("AI models on more than a GPU marketplace."));
    }

    #[test]
    fn an_overruling_match_takes_the_evidence_it_overlaps() {
        let t = tax_with(
            "          - term: gpu\n            weight: 3\n          - pattern: '\\bno gpus? (is|are) (rented|used)\\b'\n            weight: -2\n            overrules: true\n          - pattern: '\\bno gpus are used but\\b'\n            weight: 1\n",
        );
        let c = Classifier::new(&t);
        // Alone, the term fires.
        assert_eq!(fired(&c, "AI on a GPU.", "gpu").map(|f| f.0), Some(1));
        // Inside the overruling match it is no evidence; the match itself counts.
        let r = c.classify_text("AI, but no GPUs are rented.");
        assert!(
            !r.evidence.iter().any(|e| &*e.signal == "gpu"),
            "{:?}",
            r.evidence
        );
        assert!(r.evidence.iter().any(|e| e.weight < 0.0));
        // Outside it, in the same text, the term still fires once.
        assert_eq!(
            fired(&c, "AI on a GPU; no GPUs are rented.", "gpu").map(|f| f.0),
            Some(1)
        );
        // A positive match that reads all of the overruling one and more stands.
        let r = c.classify_text("AI: no GPUs are used but many CPUs.");
        assert!(
            r.evidence
                .iter()
                .any(|e| e.weight > 0.0 && e.matched.ends_with("but"))
        );
        // Without `overrules`, a negative match takes nothing.
        let t = tax_with(
            "          - term: gpu\n            weight: 3\n          - pattern: '\\bno gpus? (is|are) rented\\b'\n            weight: -2\n",
        );
        let c = Classifier::new(&t);
        assert_eq!(
            fired(&c, "AI, but no GPUs are rented.", "gpu").map(|f| f.0),
            Some(1)
        );
    }

    #[test]
    fn repeated_mentions_saturate() {
        let t = tax();
        let c = Classifier::new(&t);
        let many = format!("AI {}", "GPU ".repeat(500));
        let r = c.classify_text(&many);
        assert!(r.scores["resources"] <= 3.0 * 2.0 + 1e-9, "{:?}", r.scores);
    }

    #[test]
    fn phrases_do_not_cross_sentences() {
        let t = tax();
        let c = Classifier::new(&t);
        let r = c.classify_text("AI. Fully decentralized. Storage is local.");
        assert!(
            !r.evidence
                .iter()
                .any(|e| &*e.signal == "decentralized storage")
        );
        let r = c.classify_text("AI with decentralized\nstorage");
        assert!(
            r.evidence
                .iter()
                .any(|e| &*e.signal == "decentralized storage")
        );
    }

    /// A one-subcategory taxonomy around `signals` (YAML list items at 10 spaces).
    fn tax_with(signals: &str) -> Taxonomy {
        let text = format!(
            "version: 1\nthresholds:\n  scope: 1\n  min_score: 1\nscope:\n  signals:\n    - term: ai\n      weight: 2\ncategories:\n  - id: resources\n    label: R\n    description: d\n    subcategories:\n      - id: compute\n        label: C\n        description: d\n        signals:\n{signals}"
        );
        Taxonomy::parse(&text, "t").unwrap()
    }

    #[test]
    fn short_words_in_capitals_match_only_as_written() {
        let t = tax_with(
            "          - terms: [ml]\n            weight: 2\n          - terms: [ipfs, gpu]\n            weight: 2\n",
        );
        let c = Classifier::new(&t);
        // `MLS` is not the plural of `ML`; lower case it is still stemmed as before.
        assert_eq!(fired(&c, "AI and MLS groups.", "ml"), None);
        assert_eq!(fired(&c, "AI and ML models.", "ml"), Some((1, "ML".into())));
        assert_eq!(fired(&c, "AI: mls.", "ml"), Some((1, "mls".into())));
        // A term written as the acronym is (`ipfs`, whose stem is `ipf`), and acronym
        // plurals still stand for their singular.
        assert_eq!(fired(&c, "AI on IPFS.", "ipfs"), Some((1, "IPFS".into())));
        assert_eq!(fired(&c, "AI on GPUs.", "gpu"), Some((1, "GPUs".into())));
        assert_eq!(fired(&c, "AI on GPU.", "gpu"), Some((1, "GPU".into())));
    }

    /// What a text's evidence says about the signal labelled `label`: (count, matched).
    fn fired(c: &Classifier<'_>, text: &str, label: &str) -> Option<(usize, String)> {
        c.classify_text(text)
            .evidence
            .into_iter()
            .find(|e| &*e.signal == label)
            .map(|e| (e.count, e.matched.into()))
    }

    #[test]
    fn ai_named_in_one_paragraph_of_a_long_body_is_a_passing_mention() {
        let text = "version: 1\nthresholds:\n  scope: 2\n  min_score: 1\n  passing_paragraphs: 4\n  passing_words: 40\nscope:\n  signals:\n    - terms: [machine learning, gpu]\n      weight: 3\ncategories:\n  - id: resources\n    label: R\n    description: d\n    subcategories:\n      - id: compute\n        label: C\n        description: d\n        signals:\n          - terms: [gpu, machine learning]\n            weight: 3\n";
        let t = Taxonomy::parse(text, "t").unwrap();
        let c = Classifier::new(&t);
        let filler = "A lending market on its own chain with deposits, loans, fees and votes.";
        let body = |ai_paragraphs: &[usize]| {
            (0..5)
                .map(|i| {
                    if ai_paragraphs.contains(&i) {
                        format!("{filler} Its ecosystem also hosts machine learning and GPU apps.")
                    } else {
                        filler.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n\n")
        };
        let one = c.classify_text(&body(&[3]));
        assert_eq!(one.category, NONE);
        assert!(one.passing_mention);
        assert!(one.scope_score >= one.scope_needed);
        assert_eq!(
            one.confidence, 0.8,
            "four paragraphs of five say nothing of AI"
        );
        let two = c.classify_text(&body(&[1, 3]));
        assert_eq!(
            two.category, "resources",
            "AI in two paragraphs is no passing mention"
        );
        assert!(!two.passing_mention);
        // Short bodies, and AI in the name or tags, are never passing mentions.
        let short = c.classify_text("Hosts machine learning and GPU apps.\n\na\n\nb\n\nc\n\nd");
        assert_eq!(short.category, "resources");
        let note = crate::corpus::parse_note(
            "corpus/projects/x.md",
            format!("---\nname: X\ntags: [gpu]\n---\n{}", body(&[3])).as_bytes(),
        )
        .unwrap();
        assert_eq!(c.classify_note(&note).category, "resources");
        // 0 turns the rule off.
        let off = Taxonomy::parse(
            &text.replace("passing_paragraphs: 4", "passing_paragraphs: 0"),
            "t",
        )
        .unwrap();
        assert_eq!(
            Classifier::new(&off).classify_text(&body(&[3])).category,
            "resources"
        );
    }

    #[test]
    fn a_signal_label_names_patterns_and_near_signals_in_evidence() {
        let t = tax_with(concat!(
            "          - pattern: '\\bh100s?\\b'\n            weight: 2\n            label: datacentre GPU\n",
            "          - near: [[rent], [gpu]]\n            weight: 2\n            label: GPU rental\n",
            "          - terms: [idle, spare]\n            weight: 2\n            label: unused hardware\n",
        ));
        let c = Classifier::new(&t);
        let text = "AI: rent idle H100s, a GPU each";
        assert_eq!(fired(&c, text, "datacentre GPU"), Some((1, "H100s".into())));
        assert_eq!(
            fired(&c, text, "GPU rental"),
            Some((1, "rent idle H100s, a GPU".into()))
        );
        // A term list still names the term that fired.
        assert_eq!(fired(&c, text, "idle"), Some((1, "idle".into())));
        assert_eq!(fired(&c, text, "unused hardware"), None);
    }

    #[test]
    fn near_signals_need_their_groups_close_and_in_one_sentence() {
        let t = tax_with(
            "          - near: [[rent, lease], [gpu, server]]\n            within: 3\n            weight: 2\n",
        );
        let c = Classifier::new(&t);
        let label = "rent | lease ~ gpu | server";
        assert_eq!(
            fired(&c, "AI. Hosts are renting out their idle GPUs.", label),
            Some((1, "renting out their idle GPUs".into())),
            "stems apply inside groups"
        );
        assert_eq!(
            fired(&c, "They rent a b c d GPUs", label),
            None,
            "4 words apart"
        );
        assert_eq!(
            fired(&c, "They rent a b c GPUs", label).map(|f| f.0),
            Some(1)
        );
        assert_eq!(
            fired(&c, "They rent. GPUs are fast", label),
            None,
            "two sentences"
        );
        assert_eq!(fired(&c, "GPUs they rent", label), None, "ordered");
        assert_eq!(
            fired(
                &c,
                "Fetch.ai rents 3.5 GPUs; lease servers, rent servers",
                label
            )
            .map(|f| f.0),
            Some(3),
            "a dot inside a word is no sentence end; matches do not overlap"
        );
    }

    #[test]
    fn one_endless_sentence_keeps_a_bounded_number_of_near_occurrences() {
        let t = tax_with(
            "          - near: [[rent], [gpu]]\n            within: 1\n            weight: 2\n",
        );
        let c = Classifier::new(&t);
        let label = "rent ~ gpu";
        // Far more occurrences than are kept, in one sentence: the first ones still
        // give the most matches a segment counts.
        let text = format!("AI {}", "rent rent gpu ".repeat(MAX_NEAR_OCCURRENCES));
        assert_eq!(
            fired(&c, &text, label),
            Some((MAX_PATTERN_HITS, "rent rent gpu".into()))
        );
        // The same text cut into sentences keeps them all.
        let text = format!("AI {}", "rent rent gpu. ".repeat(MAX_NEAR_OCCURRENCES));
        assert_eq!(fired(&c, &text, label).map(|f| f.0), Some(MAX_PATTERN_HITS));
    }

    #[test]
    fn near_signals_try_every_way_through_the_groups() {
        let t = tax_with(
            "          - near: [[train], [on, across], [device, gpu]]\n            within: [8, 1]\n            weight: 2\n          - near: [[private], [ai, model]]\n            ordered: false\n            weight: 1\n",
        );
        let c = Classifier::new(&t);
        // The first `on` leads nowhere; the second does.
        assert_eq!(
            fired(
                &c,
                "Models are trained on data held on consumer devices.",
                "train ~ on | across ~ device | gpu"
            ),
            Some((1, "trained on data held on consumer devices".into()))
        );
        assert_eq!(
            fired(
                &c,
                "Models are trained on data held far away from devices.",
                "train ~ on | across ~ device | gpu"
            ),
            None,
            "the last gap allows one word"
        );
        let label = "private ~ ai | model";
        assert_eq!(
            fired(&c, "a model that stays private", label).map(|f| f.0),
            Some(1)
        );
        assert_eq!(fired(&c, "private AI models", label).map(|f| f.0), Some(1));
    }

    #[test]
    fn a_later_group_is_kept_when_an_earlier_occurrence_of_the_group_before_can_start_it() {
        // `ember` (word 1) and `glow kiln flame` (words 2 to 4) are both of the first
        // group; `kiln flame spark` (words 3 to 5) overlaps the second of them, but
        // follows the first within two words, so the match runs from `ember`.
        let t = tax_with(
            "          - near: [[ember, glow kiln flame], [kiln flame spark]]\n            within: 2\n            weight: 2\n",
        );
        let c = Classifier::new(&t);
        let label = "ember | glow kiln flame ~ kiln flame spark";
        assert_eq!(
            fired(&c, "ember ash dust glow kiln flame spark", label),
            None,
            "three words apart"
        );
        assert_eq!(
            fired(&c, "ember glow kiln flame spark", label),
            Some((1, "ember glow kiln flame spark".into()))
        );
        // A second group in another sentence than the first is not kept.
        assert_eq!(fired(&c, "ember. Kiln flame spark", label), None);
    }

    #[test]
    fn exact_terms_skip_stemming_and_duplicate_terms_count_once() {
        let t = tax_with(
            "          - terms: [=validator, =collect]\n            weight: 2\n          - terms: [selling, sell]\n            weight: 1\n",
        );
        let c = Classifier::new(&t);
        let exact = "=validator | =collect";
        assert_eq!(
            fired(&c, "Validators collect fees.", exact).map(|f| f.0),
            Some(2)
        );
        assert_eq!(
            fired(
                &c,
                "A valid validation of collectibles and collections.",
                exact
            ),
            None,
            "no stems: `valid`, `validation` and `collectibles` are other words"
        );
        assert_eq!(
            fired(&c, "Users sell data.", "selling").map(|f| f.0),
            Some(1),
            "`selling` and `sell` normalise alike: one mention, one match"
        );
        let t = tax_with("          - term: doesn't store\n            weight: 1\n");
        let c = Classifier::new(&t);
        assert_eq!(
            fired(
                &c,
                "It doesn\u{2019}t store prompts; it doesn't store them.",
                "doesn t store"
            )
            .map(|f| f.0),
            Some(2),
            "apostrophes join the words of a phrase"
        );
    }

    #[test]
    fn a_lower_scope_gate_applies_when_nothing_speaks_against() {
        let t = Taxonomy::parse(
            &TAX.replace("  scope: 2\n", "  scope: 4\n  scope_unopposed: 2\n"),
            "t",
        )
        .unwrap();
        let c = Classifier::new(&t);
        // One AI mention (2 points): enough without negative evidence...
        let r = c.classify_text("An AI network of GPU providers.");
        assert_eq!(r.category, "resources", "{:?}", r.evidence);
        // ...but not next to a negative scope signal (the stablecoin term, -5 in
        // problems, is not a scope signal: add one).
        let t2 = Taxonomy::parse(
            &TAX.replace("  scope: 2\n", "  scope: 4\n  scope_unopposed: 2\n")
                .replace(
                    "      weight: 2\ncategories:",
                    "      weight: 2\n    - term: lending\n      weight: -0.5\ncategories:",
                ),
            "t",
        )
        .unwrap();
        let c2 = Classifier::new(&t2);
        let r = c2.classify_text("An AI network of GPU providers. AI lending.");
        assert_eq!(r.category, "none", "{:?}", r.evidence);
        assert!(
            Taxonomy::parse(
                &TAX.replace("  scope: 2\n", "  scope: 2\n  scope_unopposed: 3\n"),
                "t"
            )
            .is_err(),
            "scope_unopposed above scope is refused"
        );
    }

    #[test]
    fn evidence_names_the_terms_that_fired_in_text_order() {
        let t = tax_with(
            "          - terms: [alpha, beta, gamma, delta, epsilon, zeta]\n            weight: 1\n",
        );
        let c = Classifier::new(&t);
        // More distinct terms than are tracked inline, and repeats.
        let r = c.classify_text("zeta epsilon delta.\ngamma beta alpha zeta beta");
        let e = r
            .evidence
            .iter()
            .find(|e| e.signal.contains("alpha"))
            .unwrap();
        assert_eq!(&*e.signal, "zeta | epsilon | delta | gamma | beta | alpha");
        assert_eq!((e.count, e.matched.as_str(), e.line), (8, "zeta", 1));
        let r = c.classify_text("beta\nalpha beta");
        let e = &r.evidence[0];
        assert_eq!(&*e.signal, "beta | alpha");
        assert_eq!((e.count, e.matched.as_str(), e.line), (3, "beta", 1));
    }

    #[test]
    fn eight_bytes_lower_case_like_one_at_a_time() {
        for b in 0..=255u8 {
            for pos in [0, 3, 7] {
                let mut bytes = *b"Zz@[`{A\xff";
                bytes[pos] = b;
                let want: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
                assert_eq!(lower8(load8(&bytes)), load8(&want), "byte {b} at {pos}");
            }
        }
        assert_eq!(load8(b"ab"), u64::from(b'a') | u64::from(b'b') << 8);
    }

    #[test]
    fn eight_bytes_find_letters_and_digits_like_one_at_a_time() {
        for b in 0..=255u8 {
            for pos in [0, 4, 7] {
                let mut bytes = *b"a0Z9 @[\xc3";
                bytes[pos] = b;
                let want = bytes.iter().enumerate().fold(0u64, |m, (k, c)| {
                    m | (u64::from(c.is_ascii_alphanumeric()) << (8 * k + 7))
                });
                assert_eq!(ascii_alnum8(load8(&bytes)), want, "byte {b} at {pos}");
            }
        }
    }

    #[test]
    fn word_boundaries_become_ascii() {
        assert_eq!(
            ascii_word_boundaries(r"\bzk-?ml\b"),
            r"(?-u:\b)zk-?ml(?-u:\b)"
        );
        assert_eq!(ascii_word_boundaries(r"a\\b\Bc"), r"a\\b(?-u:\B)c");
    }

    #[test]
    fn permute_moves_each_element_where_the_order_says() {
        let orders: [&[usize]; 5] = [&[], &[0], &[1, 0], &[2, 0, 1], &[3, 1, 4, 0, 2]];
        for order in orders {
            let mut v: Vec<char> = "abcde"[..order.len()].chars().collect();
            let want: Vec<char> = order.iter().map(|&i| v[i]).collect();
            permute(&mut v, &mut order.to_vec());
            assert_eq!(v, want, "{order:?}");
        }
    }

    /// A two-category taxonomy with a lexicon trained on toy notes: GPU renting is
    /// compute, token swapping is not AI; the signals know only `gpu` and `ai`.
    fn tax_with_lexicon(margin: f64) -> Taxonomy {
        tax_with_lexicon_words(margin, 0)
    }

    fn tax_with_lexicon_words(margin: f64, min_words: usize) -> Taxonomy {
        let text = format!(
            "version: 1\nthresholds:\n  scope: 2\n  min_score: 1\nlexicon:\n  file: l.tsv\n  margin: {margin}\n  min_words: {min_words}\nscope:\n  signals:\n    - {{term: ai, weight: 2}}\n    - {{term: not ai, weight: -6, overrules: true}}\ncategories:\n  - id: resources\n    label: R\n    description: d\n    subcategories:\n      - id: compute\n        label: C\n        description: d\n        signals:\n          - {{term: gpu, weight: 3}}\n      - id: storage\n        label: S\n        description: d\n        signals:\n          - {{term: disk, weight: 3}}\n"
        );
        let mut tax = Taxonomy::parse(&text, "t.yaml").unwrap();
        let st = stemmer();
        let note = |body: &str, category: &str, sub: Option<&str>| crate::lexicon::Example {
            words: crate::lexicon::segment_words(
                &[Segment {
                    field: Field::Body,
                    text: body,
                    line: 1,
                }],
                &st,
            ),
            category: category.into(),
            subcategory: sub.map(Into::into),
        };
        let mut notes = Vec::new();
        for filler in ["north", "south", "east", "west", "up", "down"] {
            notes.push(note(
                &format!("idle graphics hardware rented by the hour {filler}"),
                "resources",
                Some("compute"),
            ));
            notes.push(note(
                &format!("archival files replicated across hosts {filler}"),
                "resources",
                Some("storage"),
            ));
            notes.push(note(
                &format!("swap tokens and provide liquidity {filler}"),
                "none",
                None,
            ));
        }
        let (lex, _) =
            crate::lexicon::train(&notes, &tax, &crate::lexicon::TrainOptions::default()).unwrap();
        tax.attach_lexicon(&lex.to_tsv(), "l.tsv").unwrap();
        tax
    }

    #[test]
    fn the_lexicon_overrules_the_signals_only_by_its_margin() {
        // No signal fires: the signals say none, the words say compute.
        let text = "Idle graphics hardware, rented by the hour.";
        let tax = tax_with_lexicon(0.5);
        let c = Classifier::new(&tax);
        let r = c.classify_text(text);
        let v = r.lexicon.as_ref().unwrap();
        assert_eq!((r.category, r.subcategory), ("resources", Some("compute")));
        assert!(
            v.overruled && v.signals == NONE && v.label == "resources",
            "{v:?}"
        );
        let total: f64 = v.probabilities.values().sum();
        assert!((total - 1.0).abs() < 0.01, "{total}");
        let words: Vec<&str> = v.words.iter().map(|w| w.word.as_str()).collect();
        assert!(
            words.contains(&"graphics") && words.contains(&"rented"),
            "{words:?}"
        );
        assert!(v.words.iter().all(|w| w.pull > 0.0 && w.line == 1));
        // At margin 1 the vote is only shown.
        let tax = tax_with_lexicon(1.0);
        let c = Classifier::new(&tax);
        let r = c.classify_text(text);
        assert_eq!(r.category, NONE);
        let v = r.lexicon.unwrap();
        assert!(!v.overruled && v.label == "resources");
        // Words the lexicon reads as not AI overrule a weak signal.
        let tax = tax_with_lexicon(0.5);
        let c = Classifier::new(&tax);
        let r = c.classify_text("Swap tokens with an AI GPU mascot and provide liquidity.");
        assert_eq!(r.category, NONE);
        assert_eq!(r.lexicon.unwrap().signals, "resources");
    }

    #[test]
    fn a_vote_on_too_few_known_words_does_not_overrule() {
        // "Idle graphics hardware, rented by the hour": seven words the toy lexicon knows.
        let text = "Idle graphics hardware, rented by the hour.";
        for (min_words, overruled) in [(7, true), (8, false)] {
            let tax = tax_with_lexicon_words(0.5, min_words);
            let c = Classifier::new(&tax);
            let v = c.classify_text(text).lexicon.unwrap();
            assert_eq!(v.overruled, overruled, "min_words {min_words}: {v:?}");
            assert_eq!(v.label, "resources");
        }
    }

    #[test]
    fn a_disclaimer_is_not_overruled_by_the_lexicon() {
        let tax = tax_with_lexicon(0.5);
        let c = Classifier::new(&tax);
        let r = c.classify_text("Idle graphics hardware rented by the hour; not AI.");
        assert_eq!(r.category, NONE);
        let v = r.lexicon.unwrap();
        assert!(!v.overruled && v.label == "resources", "{v:?}");
    }

    #[test]
    fn a_subcategory_the_signals_do_not_give_comes_from_the_lexicon() {
        let tax = tax_with_lexicon(0.5);
        let c = Classifier::new(&tax);
        let r = c.classify_text("Archival files replicated across many hosts.");
        assert_eq!((r.category, r.subcategory), ("resources", Some("storage")));
    }

    #[test]
    fn the_scan_counts_the_words_training_counts() {
        let tax = tax_with_lexicon(0.5);
        let c = Classifier::new(&tax);
        let (_, lex) = tax.loaded_lexicon().unwrap();
        let st = stemmer();
        let segs = [
            Segment {
                field: Field::Name,
                text: "Graphics Hosts",
                line: 2,
            },
            Segment {
                field: Field::Tags,
                text: "idle-hardware",
                line: 3,
            },
            Segment {
                field: Field::Body,
                text: "Hosts rent idle hardware. Idle graphics, rented by the hour; tokens swap.\n\nFiles é replicated.",
                line: 5,
            },
        ];
        c.classify(&segs);
        let scanned: BTreeMap<u32, u32> = SCRATCH.with(|s| {
            let s = s.borrow();
            s.lex
                .touched
                .iter()
                .map(|&r| (r, s.lex.counts[r as usize]))
                .filter(|&(_, n)| n != EXCLUDED)
                .collect()
        });
        let trained: BTreeMap<u32, u32> = crate::lexicon::segment_words(&segs, &st)
            .into_iter()
            .filter_map(|(w, n)| Some((lex.row(&w)?, n)))
            .collect();
        assert_eq!(scanned, trained);
        assert!(!trained.is_empty());
        // The name's words count nowhere.
        assert!(lex.row("graphic").is_none_or(|r| !scanned.contains_key(&r)));
    }

    #[test]
    fn deterministic() {
        let t = tax();
        let c = Classifier::new(&t);
        let text = "AI GPU verify zkML decentralized storage machine learning";
        assert_eq!(c.classify_text(text), c.classify_text(text));
    }

    #[test]
    fn unicode_text_does_not_panic() {
        let t = tax();
        let c = Classifier::new(&t);
        let r = c.classify_text("ÄI — ǅ 💥 gpü GPU\u{301}s ai\u{0}");
        assert!(r.confidence >= 0.0);
    }
}

#[cfg(test)]
mod shipped {
    use super::*;

    /// With every pinned label ignored, the classifier reproduces the article's
    /// assignment (category and subcategory) for every shipped protocol note.
    #[test]
    fn shipped_corpus_reproduces_the_article() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let tax = Taxonomy::load(&root.join("taxonomy.yaml")).unwrap();
        let c = Classifier::new(&tax);
        let (notes, problems) = crate::corpus::load_all(root).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let mut misses = Vec::new();
        let mut n = 0;
        for note in notes
            .iter()
            .filter(|n| n.kind == crate::corpus::Kind::Project)
        {
            n += 1;
            let mut unpinned = note.clone();
            unpinned.front.category = None;
            unpinned.front.subcategory = None;
            let r = c.classify_note(&unpinned);
            let want = (
                note.front.category.as_deref().unwrap(),
                note.front.subcategory.as_deref(),
            );
            if (r.category, r.subcategory) != want {
                let top: Vec<_> = r
                    .evidence
                    .iter()
                    .take(6)
                    .map(|e| format!("{}:{}({})", e.category, e.signal, e.weight))
                    .collect();
                misses.push(format!(
                    "{}: want {want:?} got {}/{:?} scores {:?} scope {} top {top:?}",
                    note.id, r.category, r.subcategory, r.scores, r.scope_score
                ));
            }
        }
        assert_eq!(n, 20);
        assert!(
            misses.is_empty(),
            "{} misses:\n{}",
            misses.len(),
            misses.join("\n")
        );
    }
}

#[cfg(test)]
mod gating {
    use std::collections::BTreeSet;

    use super::*;

    /// Every (signal, start, end) the gated pattern pass finds, for a body text.
    fn gated(c: &Classifier<'_>, text: &str) -> BTreeSet<(usize, usize, usize)> {
        let seg = Segment {
            field: Field::Body,
            text,
            line: 1,
        };
        let mut hits = Vec::new();
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let Scratch { cache, plan, .. } = &mut *scratch;
            plan.reset(c.patterns.len());
            let mut state = ScanState::default();
            while !c.scan(text, &mut state, cache, plan, &mut Vec::new()) {}
            c.match_patterns(&seg, plan, &mut hits);
        });
        hits.into_iter().collect()
    }

    /// A word the scan read: (run, word, sentence, start, end), and the one-word
    /// terms it is, the longer terms it starts and the term words it stands for.
    #[derive(Debug, PartialEq)]
    struct Scanned {
        at: [u32; 5],
        terms: Vec<TermRef>,
        phrases: Vec<u32>,
        stands: Vec<u32>,
    }

    impl Scanned {
        fn new(t: Token, info: WordInfo, facts: &WordFacts) -> Scanned {
            let r = (info.terms != 0).then(|| facts.word_terms[info.terms as usize - 1]);
            let range = |r: (u32, u32)| r.0 as usize..r.1 as usize;
            Scanned {
                at: [t.run, t.word, t.sentence, t.start, t.end],
                terms: r.map_or(Vec::new(), |r| facts.terms[range(r.terms)].to_vec()),
                phrases: r.map_or(Vec::new(), |r| facts.phrases[range(r.phrases)].to_vec()),
                stands: r.map_or(Vec::new(), |r| facts.stands[range(r.stands)].to_vec()),
            }
        }
    }

    impl WordSink for Vec<Scanned> {
        fn word(&mut self, token: Token, info: WordInfo, facts: &WordFacts) {
            self.push(Scanned::new(token, info, facts));
        }
    }

    impl HitSink for Vec<(usize, usize, usize)> {
        fn hit(&mut self, signal: usize, _term: Option<usize>, start: usize, end: usize) {
            self.push((signal, start, end));
        }
    }

    /// The same, running every pattern over the whole text.
    fn full(c: &Classifier<'_>, text: &str) -> BTreeSet<(usize, usize, usize)> {
        let mut out = BTreeSet::new();
        for p in &c.patterns {
            let sig = &c.signals[p.signal];
            if !sig.fields.is_empty() && !sig.fields.contains(&Field::Body) {
                continue;
            }
            for m in p
                .regex()
                .find_iter(text)
                .filter(|m| !m.is_empty())
                .take(MAX_PATTERN_HITS)
            {
                out.insert((p.signal, m.start(), m.end()));
            }
        }
        out
    }

    /// Literal gating is an optimisation only: on real notes, the held-out notes and
    /// awkward text (non-ASCII letters next to ASCII ones, underscores, characters
    /// that case-fold onto ASCII), it finds exactly what a full scan finds.
    #[test]
    fn gated_patterns_find_what_a_full_scan_finds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let tax = Taxonomy::load(&root.join("taxonomy.yaml")).unwrap();
        let c = Classifier::new(&tax);
        assert!(
            c.patterns.iter().any(|p| p.gate == Gate::WordStart),
            "the shipped patterns are gated by word"
        );
        let mut texts: Vec<String> = Vec::new();
        for dir in [root.to_path_buf(), root.join("tests/fixtures/heldout")] {
            let (notes, _) = crate::corpus::load_all(&dir).unwrap();
            texts.extend(notes.into_iter().map(|n| n.body));
        }
        assert!(texts.len() > 50);
        texts.extend(
            [
                "éRenting GPUs to labs; ﬁle pinning_files, x_zkml and zkML-based ZKML.",
                "Providers rent\u{212A} servers; \u{17F}tores data. Ren\u{17F}ting GPU\u{17F}.",
                "AI-generated deepfakes: one person, one human; ÄIagents, naïve H100s, RTX 4090s.",
                "Ünique humans prove they are human without revealing who. TEEs and FHE, tees.",
                "store data stored files hosting content _store data 12 petabytes 3.5 PiB",
                "AI Models, ai  models, AI\tmodels, GPU-marketplace, gpu\nmarketplace; Compute \
                 Markets and compute markets. Risk models; risk mod",
                "a market for cloud GPUs, a market for cloud. Scoring model ai",
                "10\npetabytes on one line, 3.5\nPiB and 2 TiB on another\n\n7 exabytes",
            ]
            .map(String::from),
        );
        // More matches than count, over many lines.
        texts.push("store 12 PiB there\n".repeat(100));
        // Words too long to be vocabulary words, with pattern literals inside.
        let long = format!("{}zkml{}", "x".repeat(c.long_word), "é".repeat(c.long_word));
        texts.push(format!("{long} GPUs and {long}H100s, {long}"));
        assert!(long.len() > c.long_word);
        for text in &texts {
            assert_eq!(gated(&c, text), full(&c, text), "on {text:?}");
        }
    }

    #[test]
    fn patterns_that_cannot_span_lines_are_known() {
        let spans = |p: &str| can_match_newline(&regex_syntax::Parser::new().parse(p).unwrap());
        assert!(!spans(r"\b(\d+(\.\d+)? ?)?(petabytes?|PiB)\b"));
        assert!(!spans(r"\bgpus?\b[ \t]+x"));
        assert!(spans(r"\bsign\b[^.]{0,40}capture"));
        assert!(spans(r"a\s+b"));
        assert!(spans(r"a(?s:.)b"));
        assert!(!spans(r"a.b"), "`.` stops at a line break");
    }

    #[test]
    fn gates_follow_the_pattern_shape() {
        let parse = |p: &str| {
            regex_syntax::Parser::new()
                .parse(&ascii_word_boundaries(p))
                .ok()
        };
        let g = |p: &str| gate_literals(parse(p).as_ref(), false).0;
        assert_eq!(g(r"\b(rent|lease)s?\b[^.]{0,40}\bgpus?\b"), Gate::WordStart);
        assert_eq!(
            g(r"(rent|lease)s?\b"),
            Gate::Prefix,
            "no word boundary first"
        );
        assert_eq!(g(r"\B(rent|lease)"), Gate::Prefix, "inside a word");
        assert_eq!(g(r"\b(\d+ ?)?(petabytes?|PiB)\b"), Gate::Suffix);
        assert_eq!(g(r"\w{3,}"), Gate::Always, "no literal at all");
        let (gate, lits) = gate_literals(parse(r"\bZK-?ML\b").as_ref(), true);
        assert_eq!(gate, Gate::WordStart);
        assert_eq!(lits, vec![b"zk-ml".to_vec(), b"zkml".to_vec()]);
    }

    // The scan reads each gap between words once, byte by byte; these are the rules
    // it implements, written plainly, and a scan built on them.

    /// Whether the text between two words ends a sentence: `.`, `!` or `?` followed by
    /// white space, a `;`, or a blank line. A `.` inside a word (`3.5`, `fetch.ai`) does not.
    fn ends_sentence(between: &str) -> bool {
        if between == " " {
            return false;
        }
        let b = between.as_bytes();
        let mut newlines = 0;
        for (i, &c) in b.iter().enumerate() {
            match c {
                b';' => return true,
                b'.' | b'!' | b'?' if b.get(i + 1).is_some_and(u8::is_ascii_whitespace) => {
                    return true;
                }
                b'\n' => {
                    newlines += 1;
                    if newlines > 1 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// Whether the text between two words breaks a phrase: sentence punctuation or a blank
    /// line does; spaces, one line break, hyphens, slashes, underscores and Markdown
    /// emphasis do not.
    fn is_barrier(between: &str) -> bool {
        let mut newlines = 0;
        for c in between.chars() {
            match c {
                '\n' => {
                    newlines += 1;
                    if newlines > 1 {
                        return true;
                    }
                }
                ' ' | '\t' | '\r' | '-' | '_' | '/' | '*' | '`' | '\'' | '\u{2019}'
                | '\u{2010}' | '\u{2011}' | '\u{2013}' => {}
                _ => return true,
            }
        }
        false
    }

    /// Each word with its facts, found the plain way (and computed afresh).
    fn plain_words(c: &Classifier<'_>, text: &str) -> Vec<Scanned> {
        let mut out = Vec::new();
        let mut run = 0u32;
        let (mut word, mut sentence, mut last_end) = (0u32, 0u32, 0usize);
        let mut facts = WordFacts::default();
        for (start, end) in crate::text::word_spans(text) {
            if last_end > 0 && ends_sentence(&text[last_end..start]) {
                sentence += 1;
            }
            if is_barrier(&text[last_end..start]) {
                run += 1;
            }
            last_end = end;
            word += 1;
            let surface = &text[start..end];
            let info = c.word_info(surface, &mut facts);
            let token = Token {
                run,
                word,
                sentence,
                start: start as u32,
                end: end as u32,
            };
            let scanned = Scanned::new(token, info, &facts);
            // The words it stands for and the terms it starts, by its forms.
            let id = |key: &str| c.vocabulary.get(key).copied().unwrap_or(NO_WORD);
            let forms = [
                id(&normalize_word(surface, &c.stemmer)),
                id(&exact_key(surface)),
            ];
            let stands: Vec<u32> = forms
                .iter()
                .flat_map(|&f| c.stands_for.get(f))
                .copied()
                .collect();
            assert_eq!(scanned.stands, stands, "{surface}");
            let starts = forms.iter().any(|&f| !c.starts.get(f).is_empty());
            let head = !scanned.terms.is_empty() || !scanned.phrases.is_empty();
            assert_eq!(head, starts, "{surface}");
            out.push(scanned);
        }
        out
    }

    #[test]
    fn the_scan_follows_the_plain_rules() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let tax = Taxonomy::load(&root.join("taxonomy.yaml")).unwrap();
        let c = Classifier::new(&tax);
        let (notes, _) = crate::corpus::load_all(root).unwrap();
        let mut texts: Vec<String> = notes.into_iter().map(|n| n.body).collect();
        texts.extend(
            [
                "",
                "   ",
                "gpu",
                "Decentralized\u{2014}storage; proof\u{2019}s of personhood \u{2014} GPU\u{2013}market.",
                "Proof-of-personhood!? AI agents...\n\nagents\n\n\nmarket. x.y gpu.market",
                "GPU\r\nmarketplace\tgpu  marketplace ; decentralized -- storage / data_market",
                "`zkml` *proof of* 'personhood' \u{e9}gpu na\u{ef}ve \u{6f22}\u{5b57}gpu \u{1f600} data.\tmarket",
                "ends with a stop.",
                "a.\u{2003}b; c! d?e",
                &format!("gpu{}market", "\n".repeat(300)),
            ]
            .map(String::from),
        );
        // A text long enough to be scanned in pieces.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (notes, _) = crate::corpus::load_all(root).unwrap();
        let long: String = notes
            .iter()
            .map(|n| n.body.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        texts.push(long.repeat(3));
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            for text in &texts {
                // Every piece of the scan, in a row.
                let (mut words, mut pieces) = (Vec::new(), 0);
                let mut state = ScanState::default();
                let Scratch { cache, plan, .. } = &mut *scratch;
                plan.reset(c.patterns.len());
                loop {
                    let done = c.scan(text, &mut state, cache, plan, &mut words);
                    pieces += 1;
                    if done {
                        break;
                    }
                }
                assert_eq!(
                    pieces > 1,
                    words.len() > CHUNK_WORDS as usize + 200,
                    "on {text:.40}"
                );
                assert!(words == plain_words(&c, text), "on {text:?}");
            }
        });
    }
}
