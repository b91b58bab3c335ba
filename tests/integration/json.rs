//! The documented `classify --json` shape, decoded strictly: `add --json` and
//! `show --json` embed the same result, so every test decodes it with these types.

#![allow(dead_code)] // every field is decoded to pin the schema; not all are asserted

use std::collections::BTreeMap;

use serde::Deserialize;

/// `classify --json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyJson {
    pub results: Vec<ClassifyResult>,
}

/// One classify result.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClassifyResult {
    pub id: String,
    pub path: String,
    pub name: String,
    pub ticker: Option<String>,
    pub category: String,
    pub subcategory: Option<String>,
    pub confidence: f64,
    pub scores: BTreeMap<String, f64>,
    pub pinned: Option<Pinned>,
    pub secondary: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub scope_score: f64,
    pub scope_needed: f64,
    pub passing_mention: bool,
    /// Present when the taxonomy names a lexicon.
    pub lexicon: Option<LexiconVote>,
}

/// The lexicon's vote.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LexiconVote {
    pub probabilities: BTreeMap<String, f64>,
    pub label: String,
    pub signals: String,
    pub overruled: bool,
    pub words: Vec<LexiconWord>,
}

/// A word behind the lexicon's vote.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LexiconWord {
    pub word: String,
    pub pull: f64,
    pub field: String,
    pub line: usize,
}

/// An analyst's pinned label.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pinned {
    pub category: String,
    pub subcategory: Option<String>,
}

/// One signal that fired.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub signal: String,
    pub category: String,
    pub subcategory: Option<String>,
    pub weight: f64,
    pub matched: String,
    pub field: String,
    pub line: usize,
    pub count: usize,
}
