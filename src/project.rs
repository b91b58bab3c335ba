//! Project-level views shared by `classify`, `eval`, `show`, `check` and the report:
//! a project's classification next to its pinned label, and name/ticker lookup.

use serde::Serialize;

use crate::classify::{Classification, Classifier, Evidence, LexiconVote};
use crate::corpus::{Kind, Note};

/// The analyst's pinned label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pinned {
    /// Pinned category id (or `none`).
    pub category: String,
    /// Pinned subcategory id.
    pub subcategory: Option<String>,
}

/// One classified project: the `classify --json` result shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectResult<'c> {
    /// Note id.
    pub id: String,
    /// Path relative to the root.
    pub path: String,
    /// Project name.
    pub name: String,
    /// Ticker, if any.
    pub ticker: Option<String>,
    /// Predicted category id or `none`.
    pub category: &'c str,
    /// Predicted subcategory.
    pub subcategory: Option<&'c str>,
    /// Confidence of the prediction.
    pub confidence: f64,
    /// Score per category.
    pub scores: std::collections::BTreeMap<&'c str, f64>,
    /// The analyst's label, if pinned.
    pub pinned: Option<Pinned>,
    /// Other categories the project clearly spans.
    pub secondary: Vec<&'c str>,
    /// Every signal that fired.
    pub evidence: Vec<Evidence<'c>>,
    /// AI-relatedness score from the scope gate.
    pub scope_score: f64,
    /// The scope score the note needed to count as AI-related.
    pub scope_needed: f64,
    /// True when the note names AI only in passing (one paragraph of a long body), so
    /// the prediction is `none` although the scope score cleared the gate.
    pub passing_mention: bool,
    /// The lexicon's vote (probabilities, the words behind it, whether it overruled
    /// the signals), when the taxonomy names a lexicon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lexicon: Option<LexiconVote<'c>>,
}

impl<'c> ProjectResult<'c> {
    /// True when the lexicon's vote, not the signals, gave the predicted label.
    pub fn by_lexicon(&self) -> bool {
        self.lexicon.as_ref().is_some_and(|v| v.overruled)
    }

    /// Classifies a project note (its pinned label is ignored for the prediction).
    pub fn new(note: &Note, classifier: &'c Classifier<'_>) -> ProjectResult<'c> {
        Self::from_classification(note, classifier.classify_note(note))
    }

    /// Wraps an existing classification.
    pub fn from_classification(note: &Note, c: Classification<'c>) -> ProjectResult<'c> {
        let pinned = note.front.category.as_ref().map(|cat| Pinned {
            category: cat.to_lowercase(),
            subcategory: note.front.subcategory.as_ref().map(|s| s.to_lowercase()),
        });
        ProjectResult {
            id: note.id.clone(),
            path: note.path.clone(),
            pinned,
            ticker: note.front.ticker.clone(),
            ..ProjectResult::for_text(note.title(), c)
        }
    }

    /// Wraps the classification of raw text: `name` (a file name or `<stdin>`) stands
    /// for the id and path; nothing is pinned.
    pub fn for_text(name: String, c: Classification<'c>) -> ProjectResult<'c> {
        ProjectResult {
            id: name.clone(),
            path: name.clone(),
            name,
            ticker: None,
            pinned: None,
            category: c.category,
            subcategory: c.subcategory,
            confidence: c.confidence,
            scores: c.scores,
            secondary: c.secondary,
            evidence: c.evidence,
            scope_score: c.scope_score,
            scope_needed: c.scope_needed,
            passing_mention: c.passing_mention,
            lexicon: c.lexicon,
        }
    }

    /// True when a pinned label exists and differs from the prediction (category, or
    /// subcategory when both name one).
    pub fn disagrees(&self) -> bool {
        match &self.pinned {
            None => false,
            Some(p) => {
                p.category != self.category
                    || matches!((&p.subcategory, &self.subcategory), (Some(a), Some(b)) if a != b)
            }
        }
    }

    /// The effective category: pinned, else predicted.
    pub fn effective(&self) -> (&str, Option<&str>) {
        match &self.pinned {
            Some(p) => (&p.category, p.subcategory.as_deref()),
            None => (self.category, self.subcategory),
        }
    }

    /// True when the prediction is `none` because the AI evidence (scope score) fell
    /// short, rather than because no category scored enough.
    pub fn below_scope(&self) -> bool {
        self.category == crate::taxonomy::NONE && self.scope_score < self.scope_needed
    }

    /// The strongest evidence against AI-relatedness (negative scope signals), at most
    /// `n` matched texts.
    pub fn against_terms(&self, n: usize) -> Vec<String> {
        // A correction of a false match says nothing against AI of its own.
        self.matched_texts(n, |e| {
            e.weight < 0.0 && e.category == "scope" && !e.overrules
        })
    }

    /// Top evidence terms (positive, for the winning category), at most `n`.
    /// When the lexicon overruled the signals, the words behind its vote instead.
    pub fn top_terms(&self, n: usize) -> Vec<String> {
        if let Some(v) = self.lexicon.as_ref().filter(|v| v.overruled) {
            let mut out: Vec<String> = Vec::new();
            for w in &v.words {
                let w = w.word.to_lowercase().to_string();
                if out.len() < n && !out.contains(&w) {
                    out.push(w);
                }
            }
            return out;
        }
        self.matched_texts(n, |e| {
            e.weight > 0.0
                && *e.category == *self.category
                && (e.subcategory.is_none() || e.subcategory == self.subcategory)
        })
    }

    /// The distinct matched texts (lower case) of the evidence `keep` accepts, strongest
    /// first, at most `n`.
    fn matched_texts(&self, n: usize, keep: impl Fn(&Evidence) -> bool) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self.evidence.iter().filter(|e| keep(e)) {
            let term = e.matched.as_str().to_lowercase();
            if !out.contains(&term) {
                out.push(term);
            }
            if out.len() == n {
                break;
            }
        }
        out
    }
}

/// Finds a project note by name, alias, ticker (with or without `$`), id, slug or
/// path, case-insensitively: the first of [`find_all`].
pub fn find<'a>(notes: &'a [Note], key: &str) -> Option<&'a Note> {
    find_all(notes, key).into_iter().next()
}

/// The project notes `key` names, by the strongest kind of match any note makes:
/// its path or id, then its name, its ticker (with or without `$`), an alias, and
/// last its file name. Several notes come back only when they tie (two notes
/// with one name), in corpus order.
pub fn find_all<'a>(notes: &'a [Note], key: &str) -> Vec<&'a Note> {
    // A name pasted with its quotes (`"Render Network"`) is the name.
    let k = key
        .trim()
        .trim_matches(['"', '\'', '\u{201c}', '\u{201d}', '`'])
        .trim();
    let ticker = k.trim_start_matches('$').to_lowercase();
    let k = k.to_lowercase();
    let stem = k.trim_end_matches(".md");
    let strength = |n: &Note| -> Option<u8> {
        let is = |s: &str| s.to_lowercase() == k;
        if n.id.to_lowercase() == stem || n.path.to_lowercase().trim_end_matches(".md") == stem {
            Some(0)
        } else if is(&n.title()) {
            Some(1)
        } else if n
            .front
            .ticker
            .as_ref()
            .is_some_and(|t| t.to_lowercase() == ticker)
        {
            Some(2)
        } else if n.front.aliases.iter().any(|a| is(a)) {
            Some(3)
        } else if n
            .id
            .rsplit('/')
            .next()
            .is_some_and(|s| s.to_lowercase() == stem)
        {
            Some(4)
        } else {
            None
        }
    };
    let found: Vec<(u8, &Note)> = notes
        .iter()
        .filter(|n| n.kind == Kind::Project)
        .filter_map(|n| strength(n).map(|s| (s, n)))
        .collect();
    let best = found.iter().map(|&(s, _)| s).min();
    found
        .into_iter()
        .filter(|&(s, _)| Some(s) == best)
        .map(|(_, n)| n)
        .collect()
}

/// Up to `n` project names close to `key` (edit distance), for "did you mean".
pub fn suggestions(notes: &[Note], key: &str, n: usize) -> Vec<String> {
    let k = key.to_lowercase();
    let mut scored: Vec<(usize, usize, String)> = notes
        .iter()
        .filter(|note| note.kind == Kind::Project)
        .flat_map(|note| {
            let k = k.clone();
            let mut names = vec![note.title()];
            names.extend(note.front.ticker.iter().cloned());
            names.extend(note.front.aliases.iter().cloned());
            let title = note.title();
            names.into_iter().map(move |cand| {
                let c = cand.to_lowercase();
                let edits = levenshtein(&k, &c);
                let d = if c.contains(&k) || k.contains(&c) {
                    edits.min(1)
                } else {
                    edits
                };
                // On a tie the closer spelling first: `baicutio chain` suggests
                // "Baicution Chain" before "Baickal", whose ticker BAIC it contains.
                (d, edits, title.clone())
            })
        })
        .filter(|(d, _, _)| *d <= (k.chars().count() / 3).max(2))
        .collect();
    scored.sort();
    let mut out = Vec::new();
    for (_, _, name) in scored {
        if !out.contains(&name) {
            out.push(name);
        }
        if out.len() == n {
            break;
        }
    }
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes() -> Vec<Note> {
        vec![
            crate::corpus::parse_note(
                "corpus/projects/filecoin.md",
                b"---\nname: Filecoin\nticker: FIL\naliases: [Filecoin Network]\n---\nx",
            )
            .unwrap(),
            crate::corpus::parse_note(
                "corpus/projects/near.md",
                b"---\nname: NEAR\nticker: NEAR\n---\nx",
            )
            .unwrap(),
        ]
    }

    #[test]
    fn find_by_any_name() {
        let n = notes();
        for key in [
            "filecoin",
            "FIL",
            "$fil",
            "Filecoin Network",
            "projects/filecoin",
            "filecoin.md",
            "\"Filecoin Network\"",
            "“Filecoin”",
        ] {
            assert_eq!(
                find(&n, key).map(|n| n.id.as_str()),
                Some("projects/filecoin"),
                "{key}"
            );
        }
        assert!(find(&n, "arweave").is_none());
    }

    #[test]
    fn the_strongest_match_wins_and_ties_all_come_back() {
        let note =
            |path: &str, text: &str| crate::corpus::parse_note(path, text.as_bytes()).unwrap();
        let n = vec![
            note(
                "corpus/projects/a.md",
                "---\nname: Alpha\naliases: [Beta]\n---\nx",
            ),
            note(
                "corpus/projects/beta.md",
                "---\nname: Gamma\nticker: BETA\n---\nx",
            ),
            note("corpus/projects/c.md", "---\nname: Beta\n---\nx"),
            note("corpus/projects/d.md", "---\nname: beta\n---\nx"),
        ];
        let ids =
            |key: &str| -> Vec<&str> { find_all(&n, key).iter().map(|n| n.id.as_str()).collect() };
        // The name beats a ticker, an alias and a file name, and two notes tie on it.
        assert_eq!(ids("beta"), ["projects/c", "projects/d"]);
        assert_eq!(find(&n, "BETA").unwrap().id, "projects/c");
        // `$` asks for the ticker; a path asks for the file.
        assert_eq!(ids("$beta"), ["projects/beta"]);
        assert_eq!(ids("projects/beta"), ["projects/beta"]);
        assert_eq!(ids("corpus/projects/beta.md"), ["projects/beta"]);
        assert!(ids("$alpha").is_empty());
    }

    #[test]
    fn suggestions_are_close_names() {
        let n = notes();
        assert_eq!(suggestions(&n, "filecoim", 3), vec!["Filecoin"]);
        assert!(suggestions(&n, "zzzzzzzz", 3).is_empty());
        // Names that contain the key tie at one edit; the closer spelling comes first.
        let n = vec![
            crate::corpus::parse_note(
                "corpus/projects/b.md",
                b"---\nname: Baickal\nticker: BAIC\n---\nx",
            )
            .unwrap(),
            crate::corpus::parse_note(
                "corpus/projects/a.md",
                b"---\nname: Baicution Chain\n---\nx",
            )
            .unwrap(),
        ];
        assert_eq!(
            suggestions(&n, "baicutio chain", 3),
            vec!["Baicution Chain", "Baickal"]
        );
    }
}
