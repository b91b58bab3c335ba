//! The taxonomy: `taxonomy.yaml` parsed, validated and turned into a typed model.
//!
//! The file is user-editable, so every problem is reported as
//! `taxonomy.yaml:LINE:COL: message`, all of them at once. This module does not match
//! anything; [`crate::classify`] compiles the signals into matchers.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::error::{Diagnostic, Error, Result};
use crate::lexicon::{DEFAULT_LEXICON, LEXICON_FILE, Lexicon};

/// The default taxonomy, embedded in the binary for `aikb init`.
pub const DEFAULT_TAXONOMY: &str = include_str!("../taxonomy.yaml");

/// File name of the taxonomy at the knowledge-base root.
pub const TAXONOMY_FILE: &str = "taxonomy.yaml";

/// Largest allowed absolute signal weight.
pub const MAX_WEIGHT: f64 = 10.0;

/// Where in a note a signal may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// Name and aliases.
    Name,
    /// Tags.
    Tags,
    /// The note's body text.
    Body,
}

impl Field {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Tags => "tags",
            Field::Body => "body",
        }
    }
}

/// How a signal matches.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Matcher {
    /// Literal terms or phrases, matched on normalised whole words.
    Terms(Vec<String>),
    /// A regular expression over the raw text.
    Pattern {
        /// The expression as written.
        regex: String,
        /// Whether case matters (default: no).
        case_sensitive: bool,
    },
    /// Terms of two to four groups close together in one sentence: a term of each group
    /// in turn, at most `within` words apart (in either order when not `ordered`).
    Near {
        /// The groups of terms (words or phrases, as for `terms`).
        groups: Vec<Vec<String>>,
        /// Most words allowed between the terms of consecutive groups, one per gap.
        within: Vec<usize>,
        /// Whether the groups must appear in the order written.
        ordered: bool,
    },
}

/// Default of `within` for `near` signals.
pub const NEAR_WITHIN: usize = 6;
/// Most groups of a `near` signal.
pub const NEAR_GROUPS_MAX: usize = 4;

/// Largest `within` accepted.
pub const NEAR_WITHIN_MAX: usize = 30;

/// One weighted piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// What to look for.
    pub matcher: Matcher,
    /// Contribution of one mention; negative signals count against.
    pub weight: f64,
    /// Fields the signal looks at; empty means every field.
    pub fields: Vec<Field>,
    /// Whether a match of this (negative) signal overrules the positive hits it
    /// overlaps: they are no evidence ("does not prove what a model produced").
    pub overrules: bool,
    /// A short name for evidence lines, in place of the pattern or the `near` groups.
    pub label: Option<String>,
    /// Line of the signal in the taxonomy file.
    pub line: usize,
}

impl Signal {
    /// Whether the signal looks at `field`.
    pub fn applies_to(&self, field: Field) -> bool {
        self.fields.is_empty() || self.fields.contains(&field)
    }
}

/// A subcategory, e.g. `resources/compute`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subcategory {
    /// Stable id.
    pub id: String,
    /// Display label.
    pub label: String,
    /// What belongs here.
    pub description: String,
    /// Its signals.
    pub signals: Vec<Signal>,
}

/// A top-level category, e.g. `resources`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Category {
    /// Stable id.
    pub id: String,
    /// Display label.
    pub label: String,
    /// What belongs here, in the article's framing.
    pub description: String,
    /// Signals that speak for the category as a whole.
    pub signals: Vec<Signal>,
    /// Its subcategories.
    pub subcategories: Vec<Subcategory>,
}

/// Decision thresholds, all explained in `taxonomy.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Minimum scope score for a project to count as AI-related at all.
    pub scope: f64,
    /// The same minimum when no negative scope signal fired (no sign of non-AI crypto),
    /// so a short description naming one AI concept is in scope; `scope` when unset.
    pub scope_unopposed: Option<f64>,
    /// Minimum score of the best category; below it the answer is `none`.
    pub min_score: f64,
    /// Confidence below this marks a result as ambiguous.
    pub ambiguity_margin: f64,
    /// A second category scoring at least this share of the best is listed as secondary.
    pub secondary_ratio: f64,
    /// Saturation constant k: n mentions count n(k+1)/(n+k), at most k+1 times one.
    pub saturation: f64,
    /// Multiplier for a match in the name or aliases.
    pub name_boost: f64,
    /// Multiplier for a match in the tags.
    pub tags_boost: f64,
    /// A body of at least this many paragraphs (and `passing_words` words) whose AI
    /// evidence all sits in one paragraph, with none in the name or tags, mentions AI in
    /// passing: the note is not AI-related. 0 turns the rule off.
    pub passing_paragraphs: usize,
    /// The fewest words of a body for the passing-mention rule.
    pub passing_words: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            scope: 3.0,
            scope_unopposed: None,
            min_score: 2.0,
            ambiguity_margin: 0.2,
            secondary_ratio: 0.6,
            saturation: 1.0,
            name_boost: 1.5,
            tags_boost: 1.5,
            passing_paragraphs: 0,
            passing_words: 150,
        }
    }
}

/// A validated taxonomy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Taxonomy {
    /// `version:` from the file.
    pub version: u32,
    /// Short content hash of the file (hex), for reports and index freshness.
    pub hash: String,
    /// Decision thresholds.
    pub thresholds: Thresholds,
    /// What makes a project AI-related at all.
    pub scope: Vec<Signal>,
    /// The categories, in file order.
    pub categories: Vec<Category>,
    /// Groups of words or phrases that mean the same to a reader; search expands a
    /// query term with the other members of its group.
    pub synonyms: Vec<Vec<String>>,
    /// The learned lexicon the file names (`lexicon:`), if any.
    pub lexicon: Option<LexiconSpec>,
}

/// `lexicon:` in the taxonomy: which lexicon file to read and how far its vote may go.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LexiconSpec {
    /// The lexicon file, relative to the taxonomy file.
    pub file: String,
    /// The lexicon overrules the signals when the probability it gives its own label
    /// exceeds the one it gives the signals' label by more than this (0 to 1; 1 never).
    pub margin: f64,
    /// The fewest distinct words the lexicon must know in a note before it may overrule
    /// the signals: a vote on a handful of words is mostly its prior.
    pub min_words: usize,
    /// Line and column of the `lexicon:` key.
    #[serde(skip)]
    pub at: (usize, usize),
    /// The lexicon itself, once loaded ([`Taxonomy::load`] loads it; `parse` does not).
    #[serde(skip)]
    pub model: Option<Arc<Lexicon>>,
    /// Why a lexicon that was read is not used: its labels are not the taxonomy's
    /// (callers warn; classification then uses the signals alone).
    #[serde(skip)]
    pub unfit: Option<Diagnostic>,
    /// The lexicon's text and shown name, read and hashed but its words not parsed yet
    /// ([`Taxonomy::load_deferred`]); [`Taxonomy::with_lexicon`] parses them.
    #[serde(skip)]
    pub deferred: Option<(Arc<str>, String)>,
}

/// The taxonomy's path as diagnostics show it: the file name when the path is
/// absolute or starts with `.`, else the path as given.
fn shown_path(path: &Path) -> String {
    if path.is_absolute() || path.starts_with(".") {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    } else {
        path.display().to_string()
    }
}

/// The largest lexicon file read.
const LEXICON_MAX_BYTES: u64 = 64 << 20;

/// Default `lexicon.margin`.
pub const LEXICON_MARGIN: f64 = 0.5;

fn lexicon_margin() -> f64 {
    LEXICON_MARGIN
}

/// Default `lexicon.min_words`.
pub const LEXICON_MIN_WORDS: usize = 8;

fn lexicon_min_words() -> usize {
    LEXICON_MIN_WORDS
}

/// What a label filter ([`Taxonomy::resolve_label`]) requires.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelFilter {
    /// The effective category, when required.
    pub category: Option<String>,
    /// The effective subcategory, when required.
    pub subcategory: Option<String>,
}

impl Taxonomy {
    /// Loads and validates the taxonomy file at `path`, and the lexicon it names.
    pub fn load(path: &Path) -> Result<Taxonomy> {
        let mut tax = Taxonomy::load_rules(path)?;
        tax.load_lexicon(path, true)?;
        Ok(tax)
    }

    /// Like [`Taxonomy::load`], but the lexicon's words are left unparsed until
    /// [`Taxonomy::with_lexicon`]: its file is read, hashed and its labels checked, which
    /// is all a command needs that finds the index current and classifies nothing
    /// (parsing the words is most of the cost of loading).
    pub fn load_deferred(path: &Path) -> Result<Taxonomy> {
        let mut tax = Taxonomy::load_rules(path)?;
        tax.load_lexicon(path, false)?;
        Ok(tax)
    }

    /// This taxonomy with its lexicon's words parsed: itself when they are (or there
    /// is no lexicon), else a copy. Fails on a corrupt lexicon, as [`Taxonomy::load`].
    pub fn with_lexicon(&self) -> Result<std::borrow::Cow<'_, Taxonomy>> {
        use std::borrow::Cow;
        let Some((text, shown)) = self.lexicon.as_ref().and_then(|l| l.deferred.as_ref()) else {
            return Ok(Cow::Borrowed(self));
        };
        let lexicon = Lexicon::parse(text, shown).map_err(Error::Located)?;
        let mut full = self.clone();
        let spec = full.lexicon.as_mut().expect("a lexicon is named");
        spec.deferred = None;
        spec.model = Some(Arc::new(lexicon));
        Ok(Cow::Owned(full))
    }

    /// Reads the lexicon `lexicon.file` names (relative to the taxonomy at `path`),
    /// checks its labels against the taxonomy and folds its content into
    /// [`Taxonomy::hash`].
    fn load_lexicon(&mut self, path: &Path, words: bool) -> Result<()> {
        let Some(spec) = &self.lexicon else {
            return Ok(());
        };
        let file = path.parent().unwrap_or(Path::new(".")).join(&spec.file);
        let shown = crate::text::printable(&spec.file).into_owned();
        let too_big = std::fs::metadata(&file).is_ok_and(|m| m.len() > LEXICON_MAX_BYTES);
        let bytes = if too_big {
            Err(std::io::Error::other(format!(
                "larger than {} MiB",
                LEXICON_MAX_BYTES >> 20
            )))
        } else {
            std::fs::read(&file)
        };
        let bytes = bytes.map_err(|e| {
            Error::Located(Diagnostic::new(
                shown_path(path),
                spec.at.0,
                spec.at.1,
                format!(
                    "cannot read the lexicon `{shown}`: {e}; train one with `aikb train` or remove `lexicon:`"
                ),
            ))
        })?;
        let text = crate::text::utf8_or_diagnostic(&bytes, &shown).map_err(Error::Located)?;
        if words {
            return self.attach_lexicon(text, &shown).map_err(Error::Located);
        }
        let header = Lexicon::parse_header(text, &shown).map_err(Error::Located)?;
        if self.fold_lexicon(&header, text, &shown)
            && let Some(spec) = &mut self.lexicon
        {
            spec.deferred = Some((text.into(), shown));
        }
        Ok(())
    }

    /// Parses lexicon text, checks it against the taxonomy and attaches it; one whose
    /// labels are not the taxonomy's is kept out, with the reason in
    /// [`LexiconSpec::unfit`].
    pub fn attach_lexicon(
        &mut self,
        text: &str,
        shown: &str,
    ) -> std::result::Result<(), Diagnostic> {
        let lexicon = Lexicon::parse(text, shown)?;
        if self.fold_lexicon(&lexicon, text, shown)
            && let Some(spec) = &mut self.lexicon
        {
            spec.model = Some(Arc::new(lexicon));
        }
        Ok(())
    }

    /// Folds a lexicon's text into the hash and checks its labels against the
    /// taxonomy: true when they fit, else the reason is kept in
    /// [`LexiconSpec::unfit`].
    fn fold_lexicon(&mut self, lexicon: &Lexicon, text: &str, shown: &str) -> bool {
        let fits = lexicon.check(self, shown);
        let mut h = blake3::Hasher::new();
        h.update(self.hash.as_bytes());
        h.update(text.as_bytes());
        self.hash = h.finalize().to_hex()[..12].to_string();
        match (fits, &mut self.lexicon) {
            (Ok(()), _) => true,
            // A lexicon trained for other categories is set aside, not an error: the
            // taxonomy was edited, and the signals still classify until it is retrained.
            (Err(d), Some(spec)) => {
                spec.unfit = Some(d);
                false
            }
            (Err(_), None) => false,
        }
    }

    /// The `lexicon:` settings and the lexicon, when the taxonomy names one and it is
    /// loaded and fits.
    pub fn loaded_lexicon(&self) -> Option<(&LexiconSpec, &Lexicon)> {
        let spec = self.lexicon.as_ref()?;
        debug_assert!(
            spec.deferred.is_none(),
            "the lexicon's words are parsed by `Taxonomy::with_lexicon` before use"
        );
        Some((spec, spec.model.as_deref()?))
    }

    /// Loads and validates the taxonomy file at `path` without the lexicon it names
    /// (which `aikb train` is about to write).
    pub fn load_rules(path: &Path) -> Result<Taxonomy> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let shown = shown_path(path);
        let text = crate::text::utf8_or_diagnostic(&bytes, &shown)
            .map_err(|d| Error::LocatedMany(vec![d]))?;
        Taxonomy::parse(text, &shown).map_err(Error::LocatedMany)
    }

    /// Parses and validates taxonomy text; `path` is used in diagnostics.
    pub fn parse(text: &str, path: &str) -> std::result::Result<Taxonomy, Vec<Diagnostic>> {
        let raw: RawTaxonomy = crate::yaml::parse(text, path, 1).map_err(|d| vec![d])?;
        let mut v = Validator {
            path,
            problems: Vec::new(),
            ids: BTreeSet::new(),
        };
        let tax = v.taxonomy(raw, text);
        if v.problems.is_empty() {
            Ok(tax)
        } else {
            Err(v.problems)
        }
    }

    /// The embedded default taxonomy, with the embedded lexicon.
    pub fn default_taxonomy() -> Taxonomy {
        let mut tax = Taxonomy::parse(DEFAULT_TAXONOMY, TAXONOMY_FILE)
            .expect("the embedded taxonomy is validated by a unit test");
        if tax.lexicon.is_some() {
            tax.attach_lexicon(DEFAULT_LEXICON, LEXICON_FILE)
                .expect("the embedded lexicon is validated by a unit test");
        }
        tax
    }
    /// Every category id, then `none`: the values a category may take.
    pub fn category_ids(&self) -> Vec<&str> {
        self.categories
            .iter()
            .map(|c| c.id.as_str())
            .chain([NONE])
            .collect()
    }

    /// Reads a label a user typed to filter by: a category id (or `none`), a
    /// subcategory id (`compute`), or both as `category/subcategory`; case is
    /// ignored. Returns the category and subcategory to require, or `None` when the
    /// text names neither.
    pub fn resolve_label(&self, text: &str) -> Option<LabelFilter> {
        let text = text.trim().to_lowercase();
        if let Some((cat, sub)) = text.split_once('/') {
            let c = self.category(cat.trim())?;
            let s = c.subcategories.iter().find(|s| s.id == sub.trim())?;
            return Some(LabelFilter {
                category: Some(c.id.clone()),
                subcategory: Some(s.id.clone()),
            });
        }
        if self.category_ids().contains(&text.as_str()) {
            return Some(LabelFilter {
                category: Some(text),
                subcategory: None,
            });
        }
        // Ids are unique across the taxonomy (validated), so one category at most.
        let parent = self
            .categories
            .iter()
            .find(|c| c.subcategories.iter().any(|s| s.id == text))?;
        Some(LabelFilter {
            category: Some(parent.id.clone()),
            subcategory: Some(text),
        })
    }

    /// Every subcategory id, as `category/subcategory`.
    pub fn subcategory_paths(&self) -> Vec<String> {
        self.categories
            .iter()
            .flat_map(|c| c.subcategories.iter().map(|s| format!("{}/{}", c.id, s.id)))
            .collect()
    }

    /// Finds a category by id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// Finds a subcategory of `category` by id.
    pub fn subcategory(&self, category: &str, id: &str) -> Option<&Subcategory> {
        self.category(category)?
            .subcategories
            .iter()
            .find(|s| s.id == id)
    }

    /// Label of a category id, or the id itself; `none` reads "Not AI".
    pub fn label(&self, category: &str) -> String {
        match self.category(category) {
            Some(c) => c.label.clone(),
            None if category == NONE => "Not AI".to_string(),
            None => category.to_string(),
        }
    }
}

/// The category id meaning "not an AI project".
pub const NONE: &str = "none";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxonomy {
    version: Spanned<u32>,
    #[serde(default)]
    thresholds: Thresholds,
    scope: RawScope,
    categories: Vec<RawCategory>,
    #[serde(default)]
    synonyms: Vec<Spanned<Vec<String>>>,
    #[serde(default)]
    lexicon: Option<Spanned<RawLexicon>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    file: String,
    #[serde(default = "lexicon_margin")]
    margin: f64,
    #[serde(default = "lexicon_min_words")]
    min_words: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    signals: Vec<RawSignal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    id: Spanned<String>,
    label: String,
    description: String,
    #[serde(default)]
    signals: Vec<RawSignal>,
    #[serde(default)]
    subcategories: Vec<RawSubcategory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubcategory {
    id: Spanned<String>,
    label: String,
    description: String,
    #[serde(default)]
    signals: Vec<RawSignal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignal {
    term: Option<Spanned<String>>,
    terms: Option<Spanned<Vec<String>>>,
    pattern: Option<Spanned<String>>,
    near: Option<Spanned<Vec<Vec<String>>>>,
    #[serde(default)]
    within: Option<Spanned<Within>>,
    #[serde(default)]
    ordered: Option<Spanned<bool>>,
    weight: Spanned<f64>,
    #[serde(default)]
    fields: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    field: Option<Spanned<String>>,
    #[serde(default)]
    case_sensitive: bool,
    #[serde(default)]
    overrules: Option<Spanned<bool>>,
    #[serde(default)]
    label: Option<Spanned<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

/// `within`: one distance for every gap, or one per gap.
#[derive(Deserialize)]
#[serde(untagged)]
enum Within {
    One(usize),
    Each(Vec<usize>),
}

/// The longest `label` a signal may have, in characters.
const LABEL_MAX: usize = 80;

struct Validator<'a> {
    path: &'a str,
    problems: Vec<Diagnostic>,
    ids: BTreeSet<String>,
}

fn pos<T>(s: &Spanned<T>) -> (usize, usize) {
    (s.referenced.line() as usize, s.referenced.column() as usize)
}

impl Validator<'_> {
    fn err(&mut self, (line, column): (usize, usize), message: impl Into<String>) {
        self.problems
            .push(Diagnostic::new(self.path, line, column, message));
    }

    fn taxonomy(&mut self, raw: RawTaxonomy, text: &str) -> Taxonomy {
        self.thresholds(&raw.thresholds, text);
        if raw.categories.is_empty() {
            self.err(
                (1, 1),
                "`categories` is empty: define at least one category",
            );
        }
        let scope = self.signals(raw.scope.signals);
        if !scope.iter().any(|s| s.weight > 0.0) {
            self.err(
                (1, 1),
                "`scope` has no positive signal: nothing could ever count as AI-related",
            );
        }
        let categories = raw
            .categories
            .into_iter()
            .map(|c| self.category(c))
            .collect();
        let synonyms = raw
            .synonyms
            .into_iter()
            .filter_map(|g| self.synonym_group(g))
            .collect();
        let lexicon = raw.lexicon.and_then(|l| self.lexicon(l));
        Taxonomy {
            synonyms,
            lexicon,
            version: raw.version.value,
            hash: blake3::hash(text.as_bytes()).to_hex()[..12].to_string(),
            thresholds: raw.thresholds,
            scope,
            categories,
        }
    }

    fn lexicon(&mut self, raw: Spanned<RawLexicon>) -> Option<LexiconSpec> {
        let at = pos(&raw);
        let RawLexicon {
            file,
            margin,
            min_words,
        } = raw.value;
        let relative = Path::new(&file);
        if file.trim().is_empty() || relative.is_absolute() {
            self.err(
                at,
                format!("lexicon.file is `{file}`; it must be a path relative to the taxonomy"),
            );
            return None;
        }
        if !(margin.is_finite() && (0.0..=1.0).contains(&margin)) {
            self.err(
                at,
                format!("lexicon.margin is {margin}; it must be between 0 and 1"),
            );
            return None;
        }
        if min_words > 10_000 {
            self.err(
                at,
                format!("lexicon.min_words is {min_words}; it must be at most 10000"),
            );
            return None;
        }
        Some(LexiconSpec {
            file,
            margin,
            min_words,
            at,
            model: None,
            unfit: None,
            deferred: None,
        })
    }

    fn thresholds(&mut self, t: &Thresholds, text: &str) {
        let line = text
            .lines()
            .position(|l| l.starts_with("thresholds:"))
            .map_or(1, |i| i + 1);
        let checks = [
            ("scope", t.scope, 0.0, 1000.0),
            (
                "scope_unopposed",
                t.scope_unopposed.unwrap_or(t.scope),
                0.0,
                t.scope,
            ),
            ("min_score", t.min_score, 0.0, 1000.0),
            ("ambiguity_margin", t.ambiguity_margin, 0.0, 1.0),
            ("secondary_ratio", t.secondary_ratio, 0.0, 1.0),
            ("saturation", t.saturation, 0.0, 100.0),
            ("name_boost", t.name_boost, 0.0, 10.0),
            ("tags_boost", t.tags_boost, 0.0, 10.0),
        ];
        for (name, value, lo, hi) in checks {
            if !(value.is_finite() && value >= lo && value <= hi) {
                self.err(
                    (line, 1),
                    format!("thresholds.{name} is {value}; it must be between {lo} and {hi}"),
                );
            }
        }
        if t.passing_paragraphs == 1 || t.passing_paragraphs > 10_000 {
            self.err(
                (line, 1),
                format!(
                    "thresholds.passing_paragraphs is {}; it must be 0 (off) or between 2 and 10000",
                    t.passing_paragraphs
                ),
            );
        }
        if t.passing_words > 1_000_000 {
            self.err(
                (line, 1),
                format!(
                    "thresholds.passing_words is {}; it must be at most 1000000",
                    t.passing_words
                ),
            );
        }
    }

    fn id(&mut self, id: &Spanned<String>, what: &str) {
        let p = pos(id);
        let v = &id.value;
        if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            self.err(
                p,
                format!("{what} id `{v}` must be lower-case letters, digits and hyphens"),
            );
        }
        if v == NONE || v == "scope" {
            self.err(p, format!("{what} id `{v}` is reserved"));
        }
        if !self.ids.insert(v.clone()) {
            self.err(
                p,
                format!("duplicate id `{v}`: category and subcategory ids must be unique"),
            );
        }
    }

    fn synonym_group(&mut self, raw: Spanned<Vec<String>>) -> Option<Vec<String>> {
        let at = pos(&raw);
        let group: Vec<String> = raw.value.iter().map(|t| t.trim().to_string()).collect();
        if group.len() < 2 {
            self.err(at, "a synonym group needs at least two entries");
            return None;
        }
        if let Some(bad) = group
            .iter()
            .find(|t| crate::text::words(t).next().is_none())
        {
            self.err(at, format!("synonym `{bad}` has no letters or digits"));
            return None;
        }
        Some(group)
    }

    fn category(&mut self, raw: RawCategory) -> Category {
        self.id(&raw.id, "category");
        let signals = self.signals(raw.signals);
        let subcategories: Vec<Subcategory> = raw
            .subcategories
            .into_iter()
            .map(|s| {
                self.id(&s.id, "subcategory");
                let signals = self.signals(s.signals);
                if !signals.iter().any(|g| g.weight > 0.0) {
                    self.err(
                        pos(&s.id),
                        format!("subcategory `{}` has no positive signal", s.id.value),
                    );
                }
                Subcategory {
                    id: s.id.value,
                    label: s.label,
                    description: s.description,
                    signals,
                }
            })
            .collect();
        if !signals
            .iter()
            .chain(subcategories.iter().flat_map(|s| &s.signals))
            .any(|s| s.weight > 0.0)
        {
            self.err(
                pos(&raw.id),
                format!("category `{}` has no signals", raw.id.value),
            );
        }
        Category {
            id: raw.id.value,
            label: raw.label,
            description: raw.description,
            signals,
            subcategories,
        }
    }

    fn signals(&mut self, raw: Vec<RawSignal>) -> Vec<Signal> {
        raw.into_iter().filter_map(|s| self.signal(s)).collect()
    }

    fn signal(&mut self, raw: RawSignal) -> Option<Signal> {
        let wpos = pos(&raw.weight);
        let mut ok = true;
        let w = raw.weight.value;
        if !w.is_finite() || w == 0.0 || w.abs() > MAX_WEIGHT {
            self.err(wpos, format!("weight {w} is out of range: use a non-zero number between -{MAX_WEIGHT} and {MAX_WEIGHT}"));
            ok = false;
        }
        let kinds = raw.term.is_some() as u8
            + raw.terms.is_some() as u8
            + raw.pattern.is_some() as u8
            + raw.near.is_some() as u8;
        if kinds != 1 {
            self.err(
                wpos,
                "a signal needs exactly one of `term`, `terms`, `pattern` or `near`",
            );
            return None;
        }
        if raw.near.is_none() {
            for at in [raw.within.as_ref().map(pos), raw.ordered.as_ref().map(pos)]
                .into_iter()
                .flatten()
            {
                self.err(at, "`within` and `ordered` only apply to `near` signals");
                ok = false;
            }
        }
        let (matcher, line) = if let Some(t) = raw.term.or(None) {
            let p = pos(&t);
            (self.terms(vec![t.value], p), p.0)
        } else if let Some(t) = raw.terms {
            let p = pos(&t);
            (self.terms(t.value, p), p.0)
        } else if let Some(n) = raw.near {
            let p = pos(&n);
            (self.near(n.value, raw.within, raw.ordered, p), p.0)
        } else {
            let p = raw.pattern.expect("one of the three is present");
            let at = pos(&p);
            match check_pattern(&p.value, !raw.case_sensitive) {
                Ok(true) => {
                    self.err(
                        at,
                        format!("pattern `{}` matches the empty string", p.value),
                    );
                    (None, at.0)
                }
                Ok(false) => (
                    Some(Matcher::Pattern {
                        regex: p.value,
                        case_sensitive: raw.case_sensitive,
                    }),
                    at.0,
                ),
                Err(why) => {
                    self.err(at, format!("invalid regex `{}`: {why}", p.value));
                    (None, at.0)
                }
            }
        };
        let mut fields = Vec::new();
        let named: Vec<(String, (usize, usize))> = match (raw.field, raw.fields) {
            (Some(f), None) => vec![(f.value.clone(), pos(&f))],
            (None, Some(fs)) => fs.value.iter().map(|v| (v.clone(), pos(&fs))).collect(),
            (None, None) => Vec::new(),
            (Some(f), Some(_)) => {
                self.err(pos(&f), "use either `field` or `fields`, not both");
                Vec::new()
            }
        };
        for (name, at) in named {
            match name.as_str() {
                "name" => fields.push(Field::Name),
                "tags" => fields.push(Field::Tags),
                "body" => fields.push(Field::Body),
                "any" => {}
                other => {
                    self.err(
                        at,
                        format!("unknown field `{other}`: use name, tags, body or any"),
                    );
                    ok = false;
                }
            }
        }
        let overrules = raw.overrules.as_ref().is_some_and(|o| o.value);
        if overrules && w > 0.0 {
            let at = raw.overrules.as_ref().map_or(wpos, pos);
            self.err(
                at,
                "`overrules: true` only applies to negative signals (a negative weight)",
            );
            ok = false;
        }
        let label = raw.label.and_then(|l| {
            let text = l.value.trim();
            if text.is_empty() || text.chars().count() > LABEL_MAX || text.contains('\n') {
                self.err(
                    pos(&l),
                    format!("a signal's `label` is one line of 1 to {LABEL_MAX} characters"),
                );
                ok = false;
                None
            } else {
                Some(text.to_string())
            }
        });
        let matcher = matcher?;
        ok.then_some(Signal {
            matcher,
            weight: w,
            fields,
            overrules,
            label,
            line,
        })
    }

    fn near(
        &mut self,
        groups: Vec<Vec<String>>,
        within: Option<Spanned<Within>>,
        ordered: Option<Spanned<bool>>,
        at: (usize, usize),
    ) -> Option<Matcher> {
        if !(2..=NEAR_GROUPS_MAX).contains(&groups.len()) {
            self.err(
                at,
                format!("`near` needs 2 to 4 groups of terms, not {}", groups.len()),
            );
            return None;
        }
        let mut out = Vec::new();
        for g in groups {
            match self.terms(g, at)? {
                Matcher::Terms(t) => out.push(t),
                _ => unreachable!("terms() builds terms"),
            }
        }
        let within_at = within.as_ref().map_or(at, pos);
        let gaps = out.len() - 1;
        let within = match within.map(|w| w.value) {
            None => vec![NEAR_WITHIN; gaps],
            Some(Within::One(w)) => vec![w; gaps],
            Some(Within::Each(list)) if list.len() == gaps => list,
            Some(Within::Each(list)) => {
                self.err(
                    within_at,
                    format!(
                        "`within` lists {} distances for {gaps} gaps between {} groups",
                        list.len(),
                        out.len()
                    ),
                );
                return None;
            }
        };
        if let Some(w) = within.iter().find(|&&w| w > NEAR_WITHIN_MAX) {
            self.err(
                within_at,
                format!("`within: {w}` is too far: use at most {NEAR_WITHIN_MAX} words"),
            );
            return None;
        }
        let ordered_at = ordered.as_ref().map_or(at, pos);
        let ordered = ordered.is_none_or(|o| o.value);
        if !ordered && out.len() != 2 {
            self.err(ordered_at, "`ordered: false` needs exactly two groups");
            return None;
        }
        Some(Matcher::Near {
            groups: out,
            within,
            ordered,
        })
    }

    fn terms(&mut self, terms: Vec<String>, at: (usize, usize)) -> Option<Matcher> {
        let mut out = Vec::new();
        for t in terms {
            // `=term`: matched as written (no stemming).
            let (exact, t) = match t.trim_start().strip_prefix('=') {
                Some(rest) => ("=", rest.to_string()),
                None => ("", t),
            };
            let words: Vec<&str> = crate::text::words(&t).map(|w| &t[w.start..w.end]).collect();
            if words.is_empty() {
                self.err(at, format!("term `{t}` has no letters or digits"));
                return None;
            }
            if words.len() > 8 {
                self.err(
                    at,
                    format!("term `{t}` is longer than 8 words; use a pattern"),
                );
                return None;
            }
            out.push(format!("{exact}{}", words.join(" ")));
        }
        if out.is_empty() {
            self.err(at, "`terms` is empty");
            return None;
        }
        Some(Matcher::Terms(out))
    }
}

/// Largest compiled form of a taxonomy pattern (its Thompson NFA), in bytes.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Checks that `pattern` is a valid regex (Rust `regex` syntax) of bounded size, and
/// says whether it matches the empty string. Only the parser and an NFA are built,
/// not a searcher: validating costs a fraction of compiling, and every command loads
/// the taxonomy. The error is the parser's own explanation.
fn check_pattern(pattern: &str, case_insensitive: bool) -> std::result::Result<bool, String> {
    use regex_automata::nfa::thompson::{self, pikevm::PikeVM};
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(case_insensitive)
        .build()
        .parse(pattern)
        .map_err(|e| {
            // "regex parse error:\n    gpu(\n       ^\nerror: unclosed group": the last line.
            let text = e.to_string();
            let why = text
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .unwrap_or(text.lines().last().unwrap_or(""));
            why.trim_start_matches("error:").trim().to_string()
        })?;
    let too_big = || format!("compiled, it exceeds the size limit of {PATTERN_SIZE_LIMIT} bytes");
    thread_local! {
        // One compiler for every pattern: it keeps its buffers between them.
        static COMPILER: thompson::Compiler = {
            let mut c = thompson::Compiler::new();
            c.configure(
                thompson::Config::new()
                    .nfa_size_limit(Some(PATTERN_SIZE_LIMIT))
                    .which_captures(thompson::WhichCaptures::None),
            );
            c
        };
    }
    let nfa = COMPILER.with(|c| c.build_from_hir(&hir).map_err(|_| too_big()))?;
    let vm = PikeVM::new_from_nfa(nfa).map_err(|_| too_big())?;
    Ok(vm.is_match(&mut vm.create_cache(), ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = "version: 1\nscope:\n  signals:\n    - term: ai\n      weight: 2\ncategories:\n  - id: resources\n    label: R\n    description: d\n    subcategories:\n      - id: compute\n        label: C\n        description: d\n        signals:\n          - terms: [gpu, gpu marketplace]\n            weight: 3\n";

    #[test]
    fn default_taxonomy_is_valid() {
        let t = Taxonomy::parse(DEFAULT_TAXONOMY, TAXONOMY_FILE).unwrap_or_else(|e| {
            panic!(
                "{}",
                e.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        let ids: Vec<_> = t.categories.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["infrastructure", "resources", "problems"]);
        // The embedded lexicon fits the embedded taxonomy.
        let with = Taxonomy::default_taxonomy();
        let (spec, lex) = with
            .loaded_lexicon()
            .expect("the default taxonomy names a lexicon");
        let margin = spec.margin;
        assert!(lex.len() > 1000 && margin > 0.0 && margin < 1.0);
        assert_ne!(with.hash, t.hash, "the lexicon is part of the hash");
    }

    #[test]
    fn a_deferred_lexicon_is_the_loaded_one_once_parsed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let full = Taxonomy::load(&root.join("taxonomy.yaml")).unwrap();
        let deferred = Taxonomy::load_deferred(&root.join("taxonomy.yaml")).unwrap();
        assert_eq!(deferred.hash, full.hash);
        let spec = deferred.lexicon.as_ref().unwrap();
        assert!(spec.model.is_none() && spec.deferred.is_some());
        assert_eq!(*deferred.with_lexicon().unwrap(), full);
        assert!(matches!(
            full.with_lexicon().unwrap(),
            std::borrow::Cow::Borrowed(_)
        ));
        // A broken word line is found when the words are parsed, by line and column.
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(root.join("taxonomy.yaml"), dir.path().join("taxonomy.yaml")).unwrap();
        let lexicon = std::fs::read_to_string(root.join("lexicon.tsv")).unwrap();
        let lines = lexicon.lines().count();
        std::fs::write(
            dir.path().join("lexicon.tsv"),
            format!("{lexicon}zzzz\t1\tx\n"),
        )
        .unwrap();
        let path = dir.path().join("taxonomy.yaml");
        let deferred = Taxonomy::load_deferred(&path).unwrap();
        let err = deferred.with_lexicon().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("lexicon.tsv:{}:1: expected a word", lines + 1)),
            "{err}"
        );
        assert_eq!(
            Taxonomy::load(&path).unwrap_err().to_string(),
            err,
            "the same error either way"
        );
    }

    #[test]
    fn lexicon_settings_are_checked() {
        let with = |l: &str| format!("{MINI}lexicon:\n{l}");
        assert!(Taxonomy::parse(&with("  file: l.tsv\n  margin: 0.4\n"), "t.yaml").is_ok());
        let e = errors(&with("  file: l.tsv\n  margin: 1.5\n"));
        assert!(e[0].contains("lexicon.margin is 1.5"), "{e:?}");
        let e = errors(&with("  file: /etc/l.tsv\n"));
        assert!(e[0].contains("relative"), "{e:?}");
        let e = errors(&with("  file: l.tsv\n  weight: 2\n"));
        assert!(e[0].contains("weight"), "{e:?}");
        // `parse` reads no file: the lexicon is loaded by `load`.
        let t = Taxonomy::parse(&with("  file: l.tsv\n"), "t.yaml").unwrap();
        assert!(t.lexicon.is_some() && t.loaded_lexicon().is_none());
    }

    #[test]
    fn parses_a_minimal_taxonomy() {
        let t = Taxonomy::parse(MINI, "t.yaml").unwrap();
        assert_eq!(
            t.categories[0].subcategories[0].signals[0].matcher,
            Matcher::Terms(vec!["gpu".into(), "gpu marketplace".into()])
        );
        assert_eq!(t.categories[0].subcategories[0].signals[0].line, 15);
        assert_eq!(t.thresholds, Thresholds::default());
    }

    #[test]
    fn label_filters_read_categories_subcategories_and_paths() {
        let t = Taxonomy::default_taxonomy();
        let f = |c: Option<&str>, s: Option<&str>| {
            Some(LabelFilter {
                category: c.map(str::to_string),
                subcategory: s.map(str::to_string),
            })
        };
        assert_eq!(t.resolve_label("Resources"), f(Some("resources"), None));
        assert_eq!(t.resolve_label("none"), f(Some("none"), None));
        assert_eq!(
            t.resolve_label("compute"),
            f(Some("resources"), Some("compute"))
        );
        assert_eq!(
            t.resolve_label("problems/Personhood"),
            f(Some("problems"), Some("personhood"))
        );
        // A subcategory under the wrong category, or nothing at all.
        assert_eq!(t.resolve_label("problems/compute"), None);
        assert_eq!(t.resolve_label("resource"), None);
        assert_eq!(t.resolve_label(""), None);
        assert_eq!(t.subcategory_paths()[0], "infrastructure/agents");
    }

    fn errors(text: &str) -> Vec<String> {
        Taxonomy::parse(text, "taxonomy.yaml")
            .unwrap_err()
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    /// `MINI` with one more compute signal.
    fn with_signal(signal: &str) -> String {
        format!("{MINI}{signal}")
    }

    #[test]
    fn near_and_exact_terms_parse() {
        let t = Taxonomy::parse(
            &with_signal(
                "          - near: [[rent, lease], [=GPUs, server], [for ai]]\n            within: [4, 0]\n            weight: 2\n          - near: [[private], [ai]]\n            ordered: false\n            weight: 1\n",
            ),
            "t.yaml",
        )
        .unwrap();
        let signals = &t.categories[0].subcategories[0].signals;
        assert_eq!(
            signals[1].matcher,
            Matcher::Near {
                groups: vec![
                    vec!["rent".into(), "lease".into()],
                    vec!["=GPUs".into(), "server".into()],
                    vec!["for ai".into()]
                ],
                within: vec![4, 0],
                ordered: true,
            }
        );
        assert_eq!(
            signals[2].matcher,
            Matcher::Near {
                groups: vec![vec!["private".into()], vec!["ai".into()]],
                within: vec![NEAR_WITHIN],
                ordered: false,
            }
        );
    }

    #[test]
    fn bad_near_signals_are_located() {
        // (signal, line of the error, message)
        let cases = [
            (
                "          - near: [[rent]]\n            weight: 2\n",
                17,
                "2 to 4 groups",
            ),
            (
                "          - near: [[a], [b], [c]]\n            within: [1]\n            weight: 2\n",
                18,
                "lists 1 distances for 2 gaps",
            ),
            (
                "          - near: [[a], [b]]\n            within: 31\n            weight: 2\n",
                18,
                "too far",
            ),
            (
                "          - near: [[a], [b], [c]]\n            ordered: false\n            weight: 2\n",
                18,
                "exactly two groups",
            ),
            (
                "          - term: gpu\n            within: 3\n            weight: 2\n",
                18,
                "only apply to `near`",
            ),
            (
                "          - near: [[a], []]\n            weight: 2\n",
                17,
                "empty",
            ),
            (
                "          - near: [[a], [\"=\"]]\n            weight: 2\n",
                17,
                "no letters",
            ),
            (
                "          - pattern: '\\w{1000}{1000}'\n            weight: 2\n",
                17,
                "exceeds the size limit",
            ),
            (
                "          - pattern: '[z-a]'\n            weight: 2\n",
                17,
                "invalid regex `[z-a]`: invalid character class range",
            ),
            (
                "          - pattern: 'gpu|'\n            weight: 2\n",
                17,
                "matches the empty string",
            ),
            (
                "          - term: gpu\n            weight: 2\n            overrules: true\n",
                19,
                "only applies to negative signals",
            ),
            (
                "          - term: gpu\n            weight: 2\n            label: ''\n",
                19,
                "`label` is one line of 1 to 80 characters",
            ),
        ];
        for (signal, line, want) in cases {
            let e = errors(&with_signal(signal));
            let at = format!("taxonomy.yaml:{line}:");
            assert!(
                e.iter().any(|m| m.starts_with(&at) && m.contains(want)),
                "{signal}: {e:?}"
            );
        }
    }

    #[test]
    fn passing_mention_thresholds_are_checked() {
        let with = |v: &str| MINI.replace("version: 1\n", &format!("version: 1\nthresholds:\n{v}"));
        let e = errors(&with("  passing_paragraphs: 1\n"));
        assert!(
            e.iter().any(|m| m.starts_with("taxonomy.yaml:2:1:")
                && m.contains("passing_paragraphs is 1; it must be 0 (off) or between 2")),
            "{e:?}"
        );
        let t = Taxonomy::parse(
            &with("  passing_paragraphs: 6\n  passing_words: 200\n"),
            "t",
        )
        .unwrap();
        assert_eq!(
            (t.thresholds.passing_paragraphs, t.thresholds.passing_words),
            (6, 200)
        );
        assert_eq!(
            Taxonomy::parse(MINI, "t")
                .unwrap()
                .thresholds
                .passing_paragraphs,
            0,
            "off unless set"
        );
    }

    #[test]
    fn unknown_keys_are_located() {
        let e = errors(&MINI.replace("    label: R\n", "    label: R\n    colour: red\n"));
        assert!(e[0].starts_with("taxonomy.yaml:9:5:"), "{e:?}");
        assert!(e[0].contains("colour"), "{e:?}");
    }

    #[test]
    fn duplicate_ids_bad_regex_and_weights_are_reported_together() {
        let text = MINI
            .replace("id: compute", "id: resources")
            .replace("weight: 3", "weight: 30")
            + "          - pattern: 'gpu('\n            weight: 1\n";
        let e = errors(&text);
        assert!(
            e.iter()
                .any(|m| m.contains("duplicate id `resources`")
                    && m.starts_with("taxonomy.yaml:11:")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("weight 30") && m.starts_with("taxonomy.yaml:16:")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m.contains("invalid regex")
                && m.contains("unclosed")
                && m.starts_with("taxonomy.yaml:17:")),
            "{e:?}"
        );
    }

    #[test]
    fn category_without_signals_is_an_error() {
        let text = "version: 1\nscope:\n  signals:\n    - term: ai\n      weight: 2\ncategories:\n  - id: empty\n    label: E\n    description: d\n";
        let e = errors(text);
        assert!(
            e.iter()
                .any(|m| m.contains("category `empty` has no signals")
                    && m.starts_with("taxonomy.yaml:7:")),
            "{e:?}"
        );
    }

    #[test]
    fn hostile_yaml_is_rejected_without_panic() {
        assert!(Taxonomy::parse(&"[".repeat(5000), "t").is_err());
        assert!(Taxonomy::parse("a: &a [*a, *a]", "t").is_err());
        assert!(Taxonomy::parse("", "t").is_err());
    }
}
