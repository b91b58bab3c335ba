//! The lexicon: word weights learned from the analysts' pinned labels by `aikb train`
//! and kept beside the taxonomy (`lexicon.tsv`, named by `lexicon:` in
//! `taxonomy.yaml`).
//!
//! The taxonomy's signals name concepts; the lexicon weighs every word the pinned
//! notes use, so it also reads descriptions no signal was written for. The classifier
//! lets it overrule the signals only when it is confident by a margin
//! (`lexicon.margin`), and shows the words behind its vote.
//!
//! A note's words are those of its tags and body, normalised like taxonomy terms,
//! less the words of its own name and aliases: the lexicon learns what notes say, not
//! what they are called. A word counts `1 + ln(count)` times its inverse document
//! frequency, and the vector is scaled to unit length. Two softmax heads read it: one
//! over the categories and `none`, one over the subcategories. Training fits
//! L2-regularised multinomial logistic regression with L-BFGS, deterministically.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::classify::Segment;
use crate::corpus::Note;
use crate::error::Diagnostic;
use crate::taxonomy::{Field, NONE, Taxonomy};
use crate::text::{normalize_word, word_spans};

/// File name of the shipped lexicon, beside `taxonomy.yaml`.
pub const LEXICON_FILE: &str = "lexicon.tsv";

/// The shipped lexicon, embedded for `aikb init`.
pub const DEFAULT_LEXICON: &str = include_str!("../lexicon.tsv");

/// Words longer than this many bytes are not lexicon words (no stem is this long;
/// a longer "word" is a hash, an address or a run of letters).
pub const MAX_WORD_BYTES: usize = 24;

/// First field of the format line.
const FORMAT: &str = "aikb-lexicon";
/// Version of the file format.
const FORMAT_VERSION: u32 = 1;

/// A learned lexicon: per word, an inverse document frequency and a weight per label
/// of each head.
#[derive(Debug, Clone, PartialEq)]
pub struct Lexicon {
    /// Category ids and `none`: the labels of the category head.
    classes: Vec<String>,
    /// `(category, subcategory)` ids: the labels of the subcategory head.
    subclasses: Vec<(String, String)>,
    /// Normalised word → row.
    rows: HashMap<Box<str>, u32>,
    /// The words, in row order (sorted).
    words: Vec<Box<str>>,
    idf: Vec<f32>,
    /// Row-major: `row * classes.len() + class`.
    weights: Vec<f32>,
    /// Row-major: `row * subclasses.len() + subclass`.
    sub_weights: Vec<f32>,
    bias: Vec<f32>,
    sub_bias: Vec<f32>,
    /// How many notes it was trained on.
    notes: usize,
}

/// One pinned note as training sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Its normalised words (tags and body, less its name's words) with their counts,
    /// sorted by word.
    pub words: Vec<(String, u32)>,
    /// The pinned category id or `none`.
    pub category: String,
    /// The pinned subcategory, if any.
    pub subcategory: Option<String>,
}

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// Inverse regularisation strength: larger fits the notes more closely.
    pub c: f64,
    /// A word must occur in at least this many notes to get weights.
    pub min_notes: usize,
    /// Most L-BFGS iterations per head.
    pub max_iterations: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            c: 16.0,
            min_notes: 2,
            max_iterations: 500,
        }
    }
}

/// What training did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrainReport {
    /// Notes trained on.
    pub notes: usize,
    /// Notes per pinned label (category id or `none`).
    pub labels: BTreeMap<String, usize>,
    /// Notes with a pinned subcategory (the subcategory head's data).
    pub subcategory_notes: usize,
    /// Words given weights.
    pub words: usize,
    /// L-BFGS iterations of the category head and of the subcategory head.
    pub iterations: [usize; 2],
    /// Share of the training notes whose pinned label the category head gives back.
    pub training_accuracy: f64,
}

/// The words of a note's segments as the lexicon counts them: every word of the tags
/// and body, normalised, except the words of the name and aliases. Sorted by word.
pub fn segment_words(
    segments: &[Segment<'_>],
    stemmer: &rust_stemmers::Stemmer,
) -> Vec<(String, u32)> {
    let mut names = Vec::new();
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    for seg in segments {
        for (start, end) in word_spans(seg.text) {
            let surface = &seg.text[start..end];
            if surface.len() > MAX_WORD_BYTES {
                continue;
            }
            let word = normalize_word(surface, stemmer);
            if seg.field == Field::Name {
                names.push(word);
            } else {
                *counts.entry(word).or_default() += 1;
            }
        }
    }
    for n in &names {
        counts.remove(n);
    }
    counts.into_iter().collect()
}

/// The training example of a pinned project note, or `None` when it pins no category.
pub fn example(note: &Note, stemmer: &rust_stemmers::Stemmer) -> Option<Example> {
    let category = note.front.category.as_ref()?.trim().to_lowercase();
    let subcategory = note
        .front
        .subcategory
        .as_ref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty() && category != NONE);
    Some(Example {
        words: segment_words(&crate::classify::segments(note), stemmer),
        category,
        subcategory,
    })
}

impl Lexicon {
    /// The labels of the category head: category ids and `none`.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The labels of the subcategory head, as `(category, subcategory)`.
    pub fn subclasses(&self) -> &[(String, String)] {
        &self.subclasses
    }

    /// How many words have weights.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when no word has weights.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// How many notes it was trained on.
    pub fn notes(&self) -> usize {
        self.notes
    }

    /// The row of a normalised word.
    pub fn row(&self, word: &str) -> Option<u32> {
        self.rows.get(word).copied()
    }

    /// The normalised word of a row.
    pub fn word(&self, row: u32) -> &str {
        &self.words[row as usize]
    }

    /// The unit-length feature vector of `(row, count)` pairs (each row once).
    pub fn vector(&self, counts: impl IntoIterator<Item = (u32, u32)>, out: &mut Vec<(u32, f32)>) {
        out.clear();
        out.extend(counts.into_iter().filter(|&(_, n)| n > 0).map(|(row, n)| {
            let tf = match TF.get(n as usize) {
                Some(&tf) => tf,
                None => 1.0 + (n as f32).ln(),
            };
            (row, tf * self.idf[row as usize])
        }));
        let norm = out.iter().map(|&(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, v) in out.iter_mut() {
                *v /= norm;
            }
        }
    }

    /// Probabilities of the category head's labels (in [`Lexicon::classes`] order).
    pub fn probabilities(&self, x: &[(u32, f32)]) -> Vec<f64> {
        head(x, &self.weights, &self.bias)
    }

    /// Probabilities of the subcategory head's labels.
    pub fn sub_probabilities(&self, x: &[(u32, f32)]) -> Vec<f64> {
        head(x, &self.sub_weights, &self.sub_bias)
    }

    /// How much word `row` (with feature value `value`) speaks for `class` over the
    /// average label: the part of its vote that moves the probabilities.
    ///
    /// Training leaves each word's weights summing to zero over the labels (adding the
    /// same number to all of them would change no probability), so this is the
    /// word's feature value times its weight for the label.
    #[inline]
    pub fn pull(&self, row: u32, value: f32, class: usize) -> f64 {
        f64::from(value * self.weights[row as usize * self.classes.len() + class])
    }

    /// Checks that the lexicon's labels are the taxonomy's: every category and `none`
    /// once, and only subcategories the taxonomy defines. `path` names the lexicon.
    pub fn check(&self, taxonomy: &Taxonomy, path: &str) -> Result<(), Diagnostic> {
        let retrain = "; retrain it with `aikb train`";
        let mut seen = std::collections::BTreeSet::new();
        let subs = self.subclasses.iter().map(|(c, s)| format!("{c}/{s}"));
        for label in self.classes.iter().cloned().chain(subs) {
            if !seen.insert(label.clone()) {
                return Err(Diagnostic::new(
                    path,
                    0,
                    0,
                    format!("label `{label}` is listed twice{retrain}"),
                ));
            }
        }
        let wanted = taxonomy.category_ids();
        for c in &self.classes {
            if !wanted.contains(&c.as_str()) {
                return Err(Diagnostic::new(
                    path,
                    0,
                    0,
                    format!("label `{c}` is not a category of the taxonomy{retrain}"),
                ));
            }
        }
        for c in wanted {
            if !self.classes.iter().any(|k| k == c) {
                return Err(Diagnostic::new(
                    path,
                    0,
                    0,
                    format!("it has no weights for `{c}`{retrain}"),
                ));
            }
        }
        for (c, s) in &self.subclasses {
            if taxonomy.subcategory(c, s).is_none() {
                return Err(Diagnostic::new(
                    path,
                    0,
                    0,
                    format!("`{c}/{s}` is not a subcategory of the taxonomy{retrain}"),
                ));
            }
        }
        Ok(())
    }

    /// Parses a lexicon file; `path` is used in diagnostics.
    pub fn parse(text: &str, path: &str) -> Result<Lexicon, Diagnostic> {
        Lexicon::parse_lines(text, path, true)
    }

    /// Parses only the lines before the words (format, labels, subcategories, bias):
    /// enough to check the labels against a taxonomy, at a fraction of the cost.
    pub fn parse_header(text: &str, path: &str) -> Result<Lexicon, Diagnostic> {
        Lexicon::parse_lines(text, path, false)
    }

    fn parse_lines(text: &str, path: &str, words: bool) -> Result<Lexicon, Diagnostic> {
        let err = |line: usize, column: usize, message: String| {
            Err(Diagnostic::new(path, line, column, message))
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
        let mut header = |key: &str| -> Result<(usize, Vec<&str>), Diagnostic> {
            match lines.next() {
                Some((n, l)) => {
                    let mut fields = l.split('\t');
                    if fields.next() == Some(key) {
                        Ok((n, fields.collect()))
                    } else {
                        Err(Diagnostic::new(
                            path,
                            n,
                            1,
                            format!("expected a `{key}` line"),
                        ))
                    }
                }
                None => Err(Diagnostic::new(
                    path,
                    0,
                    0,
                    format!("the file ends before its `{key}` line"),
                )),
            }
        };
        let (n, format) = header("format")?;
        if format.first() != Some(&FORMAT) || format.get(1) != Some(&"1") {
            return err(
                n,
                8,
                format!("unknown format; expected `format\t{FORMAT}\t{FORMAT_VERSION}`"),
            );
        }
        let notes = match format.get(2).map(|s| s.parse::<usize>()) {
            Some(Ok(n)) => n,
            _ => {
                return err(
                    n,
                    1,
                    "the format line must end with the number of notes".into(),
                );
            }
        };
        let (n, classes) = header("labels")?;
        let classes: Vec<String> = classes.iter().map(|s| s.to_string()).collect();
        if classes.len() < 2 {
            return err(n, 1, "a lexicon needs at least two labels".into());
        }
        let (n, subs) = header("subcategories")?;
        let mut subclasses = Vec::new();
        for (k, s) in subs.iter().enumerate() {
            match s.split_once('/') {
                Some((c, s)) => subclasses.push((c.to_string(), s.to_string())),
                None => {
                    return err(
                        n,
                        column_of(text, n, k + 1),
                        format!("`{s}` is not CATEGORY/SUBCATEGORY"),
                    );
                }
            }
        }
        let (nc, ns) = (classes.len(), subclasses.len());
        let numbers = |n: usize, fields: &[&str], first: usize, out: &mut Vec<f32>| {
            for (k, f) in fields.iter().enumerate() {
                match f.parse::<f32>() {
                    Ok(v) if v.is_finite() => out.push(v),
                    _ => {
                        return Err(Diagnostic::new(
                            path,
                            n,
                            column_of(text, n, first + k),
                            format!("`{f}` is not a finite number"),
                        ));
                    }
                }
            }
            Ok(())
        };
        let (n, bias) = header("bias")?;
        if bias.len() != nc + ns {
            return err(
                n,
                1,
                format!(
                    "expected {} numbers after `bias`, found {}",
                    nc + ns,
                    bias.len()
                ),
            );
        }
        let mut all_bias = Vec::with_capacity(nc + ns);
        numbers(n, &bias, 1, &mut all_bias)?;
        let sub_bias = all_bias.split_off(nc);
        let mut lex = Lexicon {
            classes,
            subclasses,
            rows: HashMap::new(),
            words: Vec::new(),
            idf: Vec::new(),
            weights: Vec::new(),
            sub_weights: Vec::new(),
            bias: all_bias,
            sub_bias,
            notes,
        };
        if !words {
            return Ok(lex);
        }
        let mut row = Vec::with_capacity(1 + nc + ns);
        for (n, line) in lines {
            let mut fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != 2 + nc + ns {
                return err(
                    n,
                    1,
                    format!(
                        "expected a word, its idf and {} weights, found {} fields",
                        nc + ns,
                        fields.len()
                    ),
                );
            }
            let word = fields.remove(0);
            if word.is_empty() || word.len() > MAX_WORD_BYTES * 2 {
                return err(n, 1, format!("`{word}` is not a word"));
            }
            if let Some(last) = lex.words.last()
                && **last >= *word
            {
                return err(
                    n,
                    1,
                    format!("`{word}` is out of order or repeated; words are sorted"),
                );
            }
            row.clear();
            numbers(n, &fields, 1, &mut row)?;
            let id = lex.words.len() as u32;
            lex.rows.insert(word.into(), id);
            lex.words.push(word.into());
            lex.idf.push(row[0]);
            lex.weights.extend_from_slice(&row[1..1 + nc]);
            lex.sub_weights.extend_from_slice(&row[1 + nc..]);
        }
        Ok(lex)
    }

    /// The lexicon as file text: a comment, the header lines, then one line per word.
    pub fn to_tsv(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# aikb lexicon: word weights learned from pinned notes by `aikb train`.\n\
             # Regenerate it with `aikb train` rather than editing it by hand.\n\
             # Lines: word, inverse document frequency, one weight per label, then one\n\
             # per subcategory, in the order of the `labels` and `subcategories` lines.\n",
        );
        let _ = writeln!(out, "format\t{FORMAT}\t{FORMAT_VERSION}\t{}", self.notes);
        let _ = writeln!(out, "labels\t{}", self.classes.join("\t"));
        let subs: Vec<String> = self
            .subclasses
            .iter()
            .map(|(c, s)| format!("{c}/{s}"))
            .collect();
        let _ = writeln!(out, "subcategories\t{}", subs.join("\t"));
        out.push_str("bias");
        for v in self.bias.iter().chain(&self.sub_bias) {
            out.push('\t');
            push_number(&mut out, *v);
        }
        out.push('\n');
        let (nc, ns) = (self.classes.len(), self.subclasses.len());
        for (r, w) in self.words.iter().enumerate() {
            out.push_str(w);
            out.push('\t');
            push_number(&mut out, self.idf[r]);
            for v in self.weights[r * nc..(r + 1) * nc]
                .iter()
                .chain(&self.sub_weights[r * ns..(r + 1) * ns])
            {
                out.push('\t');
                push_number(&mut out, *v);
            }
            out.push('\n');
        }
        out
    }
}

/// The byte column (1-based) of tab-separated field `k` (0-based) on line `n` of `text`.
fn column_of(text: &str, n: usize, k: usize) -> usize {
    let line = text.lines().nth(n - 1).unwrap_or("");
    line.split('\t').take(k).map(|f| f.len() + 1).sum::<usize>() + 1
}

/// Writes `v` with three decimals, without trailing zeros (`0.25`, `-1`, `0`).
fn push_number(out: &mut String, v: f32) {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    out.push_str(if s == "-0" || s.is_empty() { "0" } else { s });
}

/// `1 + ln(n)` for the counts most words have.
static TF: std::sync::LazyLock<[f32; 64]> = std::sync::LazyLock::new(|| {
    let mut t = [0.0; 64];
    for (n, v) in t.iter_mut().enumerate().skip(1) {
        *v = 1.0 + (n as f32).ln();
    }
    t
});

/// Softmax of one head over a sparse vector.
fn head(x: &[(u32, f32)], weights: &[f32], bias: &[f32]) -> Vec<f64> {
    let k = bias.len();
    let mut z: Vec<f64> = bias.iter().map(|&b| f64::from(b)).collect();
    for &(row, v) in x {
        let w = &weights[row as usize * k..(row as usize + 1) * k];
        for (zc, wc) in z.iter_mut().zip(w) {
            *zc += f64::from(v * wc);
        }
    }
    softmax(&mut z);
    z
}

fn softmax(z: &mut [f64]) {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

/// Trains a lexicon on `examples` for `taxonomy`'s labels.
///
/// Fails (with a message) when some category or `none` has no example: a label the
/// lexicon never saw could never be voted for.
pub fn train(
    examples: &[Example],
    taxonomy: &Taxonomy,
    opts: &TrainOptions,
) -> Result<(Lexicon, TrainReport), String> {
    // The fit sums over the notes in order: sorted, the lexicon depends on which notes
    // there are, not on the order they were read in.
    let mut sorted: Vec<&Example> = examples.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.category, &a.subcategory, &a.words).cmp(&(&b.category, &b.subcategory, &b.words))
    });
    let examples = sorted;
    let classes: Vec<String> = taxonomy
        .category_ids()
        .into_iter()
        .map(str::to_string)
        .collect();
    let subclasses: Vec<(String, String)> = taxonomy
        .categories
        .iter()
        .flat_map(|c| c.subcategories.iter().map(|s| (c.id.clone(), s.id.clone())))
        .collect();
    let mut labels: BTreeMap<String, usize> = classes.iter().map(|c| (c.clone(), 0)).collect();
    let mut unknown = BTreeMap::new();
    for e in &examples {
        match labels.get_mut(&e.category) {
            Some(n) => *n += 1,
            None => *unknown.entry(e.category.clone()).or_insert(0) += 1,
        }
    }
    if let Some((label, _)) = unknown.iter().next() {
        return Err(format!(
            "{} pinned note(s) name `{label}`, which is not a category of the taxonomy",
            unknown.values().sum::<usize>()
        ));
    }
    let missing: Vec<&str> = labels
        .iter()
        .filter(|&(_, &n)| n == 0)
        .map(|(l, _)| l.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "training needs at least one pinned note per label; none pins {}",
            missing.join(", ")
        ));
    }
    // The vocabulary: words in at least `min_notes` notes, sorted.
    let mut df: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &examples {
        for (w, _) in &e.words {
            *df.entry(w.as_str()).or_default() += 1;
        }
    }
    let words: Vec<Box<str>> = df
        .iter()
        .filter(|&(w, &n)| n >= opts.min_notes.max(1) && w.len() <= MAX_WORD_BYTES)
        .map(|(w, _)| Box::<str>::from(*w))
        .collect();
    let rows: HashMap<Box<str>, u32> = words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.clone(), i as u32))
        .collect();
    let n = examples.len() as f32;
    let idf: Vec<f32> = words
        .iter()
        .map(|w| ((1.0 + n) / (1.0 + df[&**w] as f32)).ln() + 1.0)
        .collect();
    let mut lex = Lexicon {
        classes,
        subclasses,
        rows,
        words,
        idf,
        weights: Vec::new(),
        sub_weights: Vec::new(),
        bias: Vec::new(),
        sub_bias: Vec::new(),
        notes: examples.len(),
    };
    let vectors: Vec<Vec<(u32, f32)>> = examples
        .iter()
        .map(|e| {
            let mut x = Vec::new();
            lex.vector(
                e.words.iter().filter_map(|(w, c)| Some((lex.row(w)?, *c))),
                &mut x,
            );
            x
        })
        .collect();
    let targets: Vec<usize> = examples
        .iter()
        .map(|e| {
            lex.classes
                .iter()
                .position(|c| *c == e.category)
                .expect("checked")
        })
        .collect();
    let data: Vec<(&[(u32, f32)], usize)> = vectors
        .iter()
        .map(Vec::as_slice)
        .zip(targets.iter().copied())
        .collect();
    let (weights, bias, it_cat) = fit(&data, lex.words.len(), lex.classes.len(), opts);
    lex.weights = weights;
    lex.bias = bias;
    let sub_data: Vec<(&[(u32, f32)], usize)> = examples
        .iter()
        .zip(&vectors)
        .filter_map(|(e, x)| {
            let sub = e.subcategory.as_ref()?;
            let k = lex
                .subclasses
                .iter()
                .position(|(c, s)| *c == e.category && s == sub)?;
            Some((x.as_slice(), k))
        })
        .collect();
    let (sub_weights, sub_bias, it_sub) = if lex.subclasses.is_empty() {
        (Vec::new(), Vec::new(), 0)
    } else {
        fit(&sub_data, lex.words.len(), lex.subclasses.len(), opts)
    };
    lex.sub_weights = sub_weights;
    lex.sub_bias = sub_bias;
    // What the file keeps (three decimals) is what the report describes.
    let lex = Lexicon::parse(&lex.to_tsv(), LEXICON_FILE).expect("a written lexicon parses");
    let right = data
        .iter()
        .filter(|(x, y)| {
            let p = lex.probabilities(x);
            argmax(&p) == *y
        })
        .count();
    let report = TrainReport {
        notes: examples.len(),
        labels,
        subcategory_notes: sub_data.len(),
        words: lex.words.len(),
        iterations: [it_cat, it_sub],
        training_accuracy: crate::classify::round3(right as f64 / examples.len().max(1) as f64),
    };
    Ok((lex, report))
}

/// Index of the largest value (the first of equals).
pub fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in p.iter().enumerate() {
        if *v > p[best] {
            best = i;
        }
    }
    best
}

/// Fits one softmax head: minimises the summed cross-entropy plus `|θ|² / (2c)`
/// over the weights and biases. Returns the weights (row-major), the biases and the
/// iterations taken.
fn fit(
    data: &[(&[(u32, f32)], usize)],
    rows: usize,
    k: usize,
    opts: &TrainOptions,
) -> (Vec<f32>, Vec<f32>, usize) {
    let dim = rows * k + k;
    let lambda = 1.0 / opts.c.max(1e-9);
    let objective = |theta: &[f64], grad: &mut [f64]| -> f64 {
        let (w, b) = theta.split_at(rows * k);
        let mut loss = 0.0;
        for (g, t) in grad.iter_mut().zip(theta) {
            *g = lambda * t;
            loss += 0.5 * lambda * t * t;
        }
        let mut z = vec![0.0; k];
        for &(x, y) in data {
            z.copy_from_slice(b);
            for &(row, v) in x {
                let wr = &w[row as usize * k..(row as usize + 1) * k];
                for (zc, wc) in z.iter_mut().zip(wr) {
                    *zc += f64::from(v) * wc;
                }
            }
            softmax(&mut z);
            loss -= z[y].max(1e-300).ln();
            z[y] -= 1.0;
            let (gw, gb) = grad.split_at_mut(rows * k);
            for &(row, v) in x {
                let gr = &mut gw[row as usize * k..(row as usize + 1) * k];
                for (g, d) in gr.iter_mut().zip(&z) {
                    *g += f64::from(v) * d;
                }
            }
            for (g, d) in gb.iter_mut().zip(&z) {
                *g += d;
            }
        }
        loss
    };
    let (mut theta, iterations) = lbfgs(dim, objective, opts.max_iterations);
    // The optimum has every word's weights (and the biases) summing to zero over the
    // labels; make it exact, which changes no probability.
    for chunk in theta.chunks_mut(k) {
        let mean = chunk.iter().sum::<f64>() / k as f64;
        for v in chunk.iter_mut() {
            *v -= mean;
        }
    }
    let (w, b) = theta.split_at(rows * k);
    (
        w.iter().map(|&v| v as f32).collect(),
        b.iter().map(|&v| v as f32).collect(),
        iterations,
    )
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises a smooth convex function from zero with limited-memory BFGS and a
/// backtracking (Armijo) line search. Returns the minimiser and the iterations taken.
fn lbfgs(
    dim: usize,
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    max_iterations: usize,
) -> (Vec<f64>, usize) {
    const MEMORY: usize = 8;
    let mut x = vec![0.0; dim];
    let mut g = vec![0.0; dim];
    let mut fx = f(&x, &mut g);
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
        std::collections::VecDeque::new();
    let mut x_new = vec![0.0; dim];
    let mut g_new = vec![0.0; dim];
    let mut d = vec![0.0; dim];
    let mut iterations = 0;
    while iterations < max_iterations {
        let gnorm = dot(&g, &g).sqrt();
        if gnorm < 1e-6 {
            break;
        }
        iterations += 1;
        // Two-loop recursion: d = -H g.
        d.copy_from_slice(&g);
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &d);
            for (di, yi) in d.iter_mut().zip(y) {
                *di -= a * yi;
            }
            alphas.push(a);
        }
        let gamma = match history.back() {
            Some((s, y, _)) => dot(s, y) / dot(y, y),
            None => 1.0 / gnorm,
        };
        for di in d.iter_mut() {
            *di *= gamma;
        }
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &d);
            for (di, si) in d.iter_mut().zip(s) {
                *di += (a - beta) * si;
            }
        }
        for di in d.iter_mut() {
            *di = -*di;
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: start again from the gradient.
            history.clear();
            for (di, gi) in d.iter_mut().zip(&g) {
                *di = -gi / gnorm;
            }
            slope = -gnorm;
        }
        let mut step = 1.0;
        let f_new = loop {
            for ((xn, xi), di) in x_new.iter_mut().zip(&x).zip(&d) {
                *xn = xi + step * di;
            }
            let f_new = f(&x_new, &mut g_new);
            if f_new <= fx + 1e-4 * step * slope {
                break Some(f_new);
            }
            step *= 0.5;
            if step < 1e-12 {
                break None;
            }
        };
        let Some(f_new) = f_new else { break };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if history.len() == MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        let decrease = fx - f_new;
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        if decrease <= 1e-10 * fx.abs().max(1.0) {
            break;
        }
    }
    (x, iterations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::stemmer;

    fn seg(field: Field, text: &str) -> Segment<'_> {
        Segment {
            field,
            text,
            line: 1,
        }
    }

    #[test]
    fn a_note_counts_its_words_but_not_its_name() {
        let st = stemmer();
        let words = segment_words(
            &[
                seg(Field::Name, "Acme Compute"),
                seg(Field::Tags, "gpu"),
                seg(Field::Body, "Acme rents GPUs; compute buyers rent GPUs."),
            ],
            &st,
        );
        assert_eq!(
            words,
            vec![
                ("buyer".to_string(), 1),
                ("gpu".to_string(), 3),
                ("rent".to_string(), 2)
            ]
        );
    }

    fn toy_taxonomy() -> Taxonomy {
        Taxonomy::parse(
            "version: 1\nscope:\n  signals:\n    - {term: ai, weight: 5}\ncategories:\n  - id: resources\n    label: R\n    description: d\n    subcategories:\n      - id: compute\n        label: C\n        description: d\n        signals:\n          - {term: gpu, weight: 5}\n      - id: storage\n        label: S\n        description: d\n        signals:\n          - {term: disk, weight: 5}\n  - id: problems\n    label: P\n    description: d\n    signals:\n      - {term: deepfake, weight: 5}\n",
            "t.yaml",
        )
        .unwrap()
    }

    fn ex(text: &str, category: &str, sub: Option<&str>) -> Example {
        Example {
            words: segment_words(&[seg(Field::Body, text)], &stemmer()),
            category: category.into(),
            subcategory: sub.map(Into::into),
        }
    }

    fn toy_examples() -> Vec<Example> {
        let mut v = Vec::new();
        for i in 0..6 {
            let filler = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"][i];
            v.push(ex(
                &format!("rent gpu cluster {filler}"),
                "resources",
                Some("compute"),
            ));
            v.push(ex(
                &format!("store files on disk {filler}"),
                "resources",
                Some("storage"),
            ));
            v.push(ex(
                &format!("detect deepfake media {filler}"),
                "problems",
                None,
            ));
            v.push(ex(&format!("swap tokens on a dex {filler}"), "none", None));
        }
        v
    }

    #[test]
    fn training_learns_the_words_of_each_label() {
        let tax = toy_taxonomy();
        let (lex, report) = train(&toy_examples(), &tax, &TrainOptions::default()).unwrap();
        assert_eq!(report.notes, 24);
        assert_eq!(report.training_accuracy, 1.0);
        assert_eq!(report.subcategory_notes, 12);
        let label = |text: &str| {
            let words = segment_words(&[seg(Field::Body, text)], &stemmer());
            let mut x = Vec::new();
            lex.vector(
                words.iter().filter_map(|(w, c)| Some((lex.row(w)?, *c))),
                &mut x,
            );
            let p = lex.probabilities(&x);
            let s = lex.sub_probabilities(&x);
            (
                lex.classes()[argmax(&p)].clone(),
                lex.subclasses()[argmax(&s)].1.clone(),
            )
        };
        assert_eq!(
            label("a gpu cluster to rent"),
            ("resources".into(), "compute".into())
        );
        assert_eq!(
            label("files kept on disk"),
            ("resources".into(), "storage".into())
        );
        assert_eq!(label("deepfake detection").0, "problems");
        assert_eq!(label("a dex to swap").0, "none");
        // Words in one note only get no weights.
        assert!(lex.row("alpha").is_none() || report.words > 0);
    }

    #[test]
    fn training_is_deterministic_and_the_file_round_trips() {
        let tax = toy_taxonomy();
        let (a, _) = train(&toy_examples(), &tax, &TrainOptions::default()).unwrap();
        let (b, _) = train(&toy_examples(), &tax, &TrainOptions::default()).unwrap();
        assert_eq!(a.to_tsv(), b.to_tsv());
        let back = Lexicon::parse(&a.to_tsv(), "l.tsv").unwrap();
        assert_eq!(back, a);
        back.check(&tax, "l.tsv").unwrap();
    }

    #[test]
    fn training_needs_every_label() {
        let tax = toy_taxonomy();
        let some: Vec<Example> = toy_examples()
            .into_iter()
            .filter(|e| e.category != "problems")
            .collect();
        let e = train(&some, &tax, &TrainOptions::default()).unwrap_err();
        assert!(e.contains("none pins problems"), "{e}");
        let mut bad = toy_examples();
        bad[0].category = "robots".into();
        let e = train(&bad, &tax, &TrainOptions::default()).unwrap_err();
        assert!(e.contains("`robots`"), "{e}");
    }

    #[test]
    fn bad_files_are_located() {
        let tax = toy_taxonomy();
        let (lex, _) = train(&toy_examples(), &tax, &TrainOptions::default()).unwrap();
        let good = lex.to_tsv();
        let e = Lexicon::parse("format\tother\t1\t3\n", "l.tsv").unwrap_err();
        assert_eq!((e.line, e.column), (1, 8), "{e}");
        let e = Lexicon::parse("", "l.tsv").unwrap_err();
        assert!(e.message.contains("`format`"), "{e}");
        // A weight that is not a number, located by line and column.
        let lines: Vec<&str> = good.lines().collect();
        let last = lines.len();
        let broken_line = {
            let mut f: Vec<&str> = lines[last - 1].split('\t').collect();
            f[2] = "x1";
            f.join("\t")
        };
        let broken = format!("{}\n{broken_line}\n", lines[..last - 1].join("\n"));
        let e = Lexicon::parse(&broken, "l.tsv").unwrap_err();
        let col = lines[last - 1]
            .split('\t')
            .take(2)
            .map(|f| f.len() + 1)
            .sum::<usize>()
            + 1;
        assert_eq!((e.line, e.column), (last, col), "{e}");
        assert!(e.message.contains("`x1`"), "{e}");
        // Words out of order.
        let swapped = format!("{}\n{}\n", lines[..last].join("\n"), lines[last - 1]);
        let e = Lexicon::parse(&swapped, "l.tsv").unwrap_err();
        assert_eq!(e.line, last + 1, "{e}");
        // A label listed twice.
        let twice = good.replace(
            "labels\tresources\tproblems\tnone",
            "labels\tresources\tproblems\tnone\tnone",
        );
        let twice = Lexicon::parse(&twice, "l.tsv");
        assert!(
            twice.is_err()
                || twice
                    .unwrap()
                    .check(&tax, "l.tsv")
                    .unwrap_err()
                    .message
                    .contains("twice")
        );
        // Labels the taxonomy does not have.
        let other = good.replace(
            "labels\tresources\tproblems\tnone",
            "labels\tresources\tdata\tnone",
        );
        let e = Lexicon::parse(&other, "l.tsv")
            .unwrap()
            .check(&tax, "l.tsv")
            .unwrap_err();
        assert!(
            e.message.contains("`data`") && e.message.contains("aikb train"),
            "{e}"
        );
    }

    #[test]
    fn numbers_are_written_short() {
        let mut s = String::new();
        for v in [0.25f32, -1.0, 0.0, -0.0001, 1.23456] {
            push_number(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0.25 -1 0 0 1.235 ");
    }

    #[test]
    fn lbfgs_finds_the_minimum_of_a_quadratic() {
        let (x, _) = lbfgs(
            2,
            |x, g| {
                g[0] = 2.0 * (x[0] - 3.0);
                g[1] = 20.0 * (x[1] + 1.0);
                (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2)
            },
            100,
        );
        assert!(
            (x[0] - 3.0).abs() < 1e-4 && (x[1] + 1.0).abs() < 1e-4,
            "{x:?}"
        );
    }
}
