//! Evaluation of predictions against pinned labels (`aikb eval`) and the taxonomy
//! lint (`aikb taxonomy check`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::classify::{Classifier, round3};
use crate::corpus::{Kind, Note};
use crate::project::ProjectResult;
use crate::taxonomy::NONE;

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScore {
    /// Label id (a category or `none`).
    pub label: String,
    /// Share of predictions of this label that were right.
    pub precision: f64,
    /// Share of notes with this label that were found.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
    /// Notes pinned with this label.
    pub support: usize,
}

/// One wrong prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss<'c> {
    /// The project.
    pub result: ProjectResult<'c>,
    /// Whether only the subcategory was wrong.
    pub subcategory_only: bool,
}

/// The evaluation of every pinned note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation<'c> {
    /// Pinned notes evaluated.
    pub evaluated: usize,
    /// Share with the right category.
    pub accuracy: f64,
    /// Share with the right category and subcategory (where one is pinned).
    pub subcategory_accuracy: f64,
    /// Per-label scores, in taxonomy order, `none` last.
    pub per_category: Vec<LabelScore>,
    /// Mean F1 over labels that occur (pinned or predicted).
    pub macro_f1: f64,
    /// `confusion[pinned][predicted] = count`.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Every miss, with its evidence.
    pub misses: Vec<Miss<'c>>,
}

/// Compares predictions with pinned labels over every pinned project note.
pub fn evaluate<'c>(notes: &[Note], classifier: &'c Classifier<'_>) -> Evaluation<'c> {
    let mut labels: Vec<String> = classifier
        .taxonomy()
        .categories
        .iter()
        .map(|c| c.id.clone())
        .collect();
    labels.push(NONE.to_string());
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut misses = Vec::new();
    let (mut n, mut right, mut sub_right) = (0, 0, 0);
    let pinned: Vec<&Note> = notes
        .iter()
        .filter(|n| n.kind == Kind::Project && n.front.category.is_some())
        .collect();
    for r in crate::par::map(&pinned, 64, |n| ProjectResult::new(n, classifier)) {
        let p = r.pinned.clone().expect("filtered on pinned");
        n += 1;
        *confusion
            .entry(p.category.clone())
            .or_default()
            .entry(r.category.to_string())
            .or_insert(0) += 1;
        if !labels.contains(&p.category) {
            labels.push(p.category.clone());
        }
        let cat_ok = p.category == r.category;
        let sub_ok = cat_ok
            && p.subcategory
                .as_ref()
                .is_none_or(|s| Some(s.as_str()) == r.subcategory);
        right += usize::from(cat_ok);
        sub_right += usize::from(sub_ok);
        if !sub_ok {
            misses.push(Miss {
                result: r,
                subcategory_only: cat_ok,
            });
        }
    }
    let count = |pinned: &str, pred: &str| {
        confusion
            .get(pinned)
            .and_then(|m| m.get(pred))
            .copied()
            .unwrap_or(0)
    };
    let mut per_category = Vec::new();
    for l in &labels {
        let tp = count(l, l);
        let support: usize = confusion.get(l).map_or(0, |m| m.values().sum());
        let predicted: usize = confusion
            .values()
            .map(|m| m.get(l).copied().unwrap_or(0))
            .sum();
        if support == 0 && predicted == 0 {
            continue;
        }
        let precision = if predicted == 0 {
            0.0
        } else {
            tp as f64 / predicted as f64
        };
        let recall = if support == 0 {
            0.0
        } else {
            tp as f64 / support as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        per_category.push(LabelScore {
            label: l.clone(),
            precision: round3(precision),
            recall: round3(recall),
            f1: round3(f1),
            support,
        });
    }
    let macro_f1 = if per_category.is_empty() {
        0.0
    } else {
        per_category.iter().map(|s| s.f1).sum::<f64>() / per_category.len() as f64
    };
    let ratio = |a: usize| {
        if n == 0 {
            0.0
        } else {
            round3(a as f64 / n as f64)
        }
    };
    Evaluation {
        evaluated: n,
        accuracy: ratio(right),
        subcategory_accuracy: ratio(sub_right),
        per_category,
        macro_f1: round3(macro_f1),
        confusion,
        misses,
    }
}

/// What `aikb taxonomy check` found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Lint {
    /// Signals that fire on no project note.
    pub never_fire: Vec<String>,
    /// Terms that appear as signals in more than one category.
    pub shared_terms: Vec<String>,
    /// Categories or subcategories no project reaches.
    pub unreached: Vec<String>,
}

impl Lint {
    /// True when there is nothing to report.
    pub fn is_clean(&self) -> bool {
        self.never_fire.is_empty() && self.shared_terms.is_empty() && self.unreached.is_empty()
    }
}

/// Lints the taxonomy against the corpus.
pub fn lint(notes: &[Note], classifier: &Classifier<'_>) -> Lint {
    let mut fired: BTreeSet<usize> = BTreeSet::new();
    let mut reached: BTreeSet<String> = BTreeSet::new();
    for note in notes.iter().filter(|n| n.kind == Kind::Project) {
        let c = classifier.classify_note(note);
        for e in &c.evidence {
            fired.insert(e.signal_id);
        }
        reached.insert(c.category.to_string());
        if let Some(s) = &c.subcategory {
            reached.insert(format!("{}/{}", c.category, s));
        }
    }
    let labels = classifier.signal_labels();
    let mut never_fire = Vec::new();
    let mut owners: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, (label, cat, sub)) in labels.iter().enumerate() {
        if !fired.contains(&id) {
            let at = match sub {
                Some(s) => format!("{cat}/{s}"),
                None => cat.clone(),
            };
            never_fire.push(format!("{label} ({at})"));
        }
        if cat != "scope"
            && let Some(terms) = classifier.signal_terms(id)
        {
            for term in terms {
                owners
                    .entry(term.to_string())
                    .or_default()
                    .insert(cat.clone());
            }
        }
    }
    let shared_terms = owners
        .into_iter()
        .filter(|(_, cats)| cats.len() > 1)
        .map(|(t, cats)| format!("{t} ({})", cats.into_iter().collect::<Vec<_>>().join(", ")))
        .collect();
    let mut unreached = Vec::new();
    for c in &classifier.taxonomy().categories {
        if !reached.contains(&c.id) {
            unreached.push(c.id.clone());
        }
        for s in &c.subcategories {
            let id = format!("{}/{}", c.id, s.id);
            if !reached.contains(&id) {
                unreached.push(id);
            }
        }
    }
    Lint {
        never_fire,
        shared_terms,
        unreached,
    }
}
