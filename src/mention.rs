//! Article mentions: which article notes name which protocol, and where.
//!
//! A protocol is mentioned when its name or an alias occurs as whole words, or its
//! ticker as a whole upper-case token (`FIL`, `$FIL`). Many protocol names are ordinary
//! words ("Near", "Render", "Grass", "Story"), so a name that is one word made only of
//! letters must be written with a capital first letter (or exactly as in the note):
//! "near the market" never counts. Multi-word names and names with digits or
//! punctuation ("Story Protocol", "Fetch.ai", "io.net") match case-insensitively.
//! This module only finds mentions; the report and `show` decide what to do with them.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use foldhash::fast::FixedState;
use serde::Serialize;

use crate::corpus::{Kind, Note};
use crate::text::{Word, markdown_to_text, word_spans, words};

/// Longest mention snippet, in characters (the ellipses included).
pub const SNIPPET_CHARS: usize = 160;

/// How the case of an occurrence must relate to the name as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaseRule {
    /// Any case: multi-word names and names with digits or punctuation.
    Any,
    /// One word of letters: the occurrence starts with a capital, or equals the name.
    Capitalised,
    /// A ticker: the occurrence equals it exactly (written in upper case).
    Exact,
}

/// What may separate two words of a name in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Gap {
    /// Spaces, hyphens or underscores (at most one line break): "Story Protocol".
    Space,
    /// Exactly this punctuation: the `.` of "Fetch.ai".
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    owner: usize,
    /// Words in lower case, for lookup.
    lower: Vec<String>,
    /// Words as written in the note, for the case rules.
    written: Vec<String>,
    gaps: Vec<Gap>,
    rule: CaseRule,
}

/// Finds mentions of a set of protocols in text. Build once, scan many texts: each
/// scan is one pass over the words of the text.
#[derive(Debug, Default)]
pub struct Matcher {
    owners: Vec<String>,
    patterns: Vec<Pattern>,
    by_first: HashMap<String, Vec<usize>, FixedState>,
}

impl Matcher {
    /// An empty matcher.
    pub fn new() -> Matcher {
        Matcher::default()
    }

    /// A matcher for every project note in `notes`, keyed by note id.
    pub fn for_projects<'a>(notes: impl IntoIterator<Item = &'a Note>) -> Matcher {
        let mut m = Matcher::new();
        for n in notes.into_iter().filter(|n| n.kind == Kind::Project) {
            let mut names = vec![n.title()];
            names.extend(n.front.name.iter().cloned());
            names.extend(n.front.aliases.iter().cloned());
            m.add(&n.id, &names, n.front.ticker.as_deref());
        }
        m
    }

    /// Adds a protocol with its names (name and aliases) and optional ticker.
    pub fn add(&mut self, owner: &str, names: &[String], ticker: Option<&str>) {
        let idx = match self.owners.iter().position(|o| o == owner) {
            Some(i) => i,
            None => {
                self.owners.push(owner.to_string());
                self.owners.len() - 1
            }
        };
        for name in names {
            if let Some(p) = name_pattern(idx, name) {
                self.push(p);
            }
        }
        if let Some(t) = ticker {
            let t = t.trim().trim_start_matches('$');
            let upper = t.to_uppercase();
            // A mixed-case ticker (`stETH`) also counts as written; a lower-case one never.
            let as_written =
                (t != upper && t.chars().any(char::is_uppercase)).then(|| t.to_string());
            for written in std::iter::once(upper).chain(as_written) {
                if let Some(mut p) = name_pattern(idx, &written) {
                    p.rule = CaseRule::Exact;
                    self.push(p);
                }
            }
        }
    }

    fn push(&mut self, p: Pattern) {
        // A pattern equal to `p` starts with the same word: only those are compared.
        let same_first = self.by_first.entry(p.lower[0].clone()).or_default();
        if same_first.iter().any(|&i| self.patterns[i] == p) {
            return;
        }
        same_first.push(self.patterns.len());
        self.patterns.push(p);
    }

    /// The first occurrence of each protocol mentioned in `text`: owner → byte range.
    pub fn first_mentions(&self, text: &str) -> BTreeMap<String, Range<usize>> {
        let words = Lowered::new(text);
        let mut found: BTreeMap<usize, Range<usize>> = BTreeMap::new();
        for i in 0..words.spans.len() {
            let Some(candidates) = self.by_first.get(words.lower(i)) else {
                continue;
            };
            for &pi in candidates {
                let p = &self.patterns[pi];
                if found.contains_key(&p.owner) {
                    continue;
                }
                if let Some(range) = matches_at(p, text, &words, i) {
                    found.insert(p.owner, range);
                }
            }
        }
        found
            .into_iter()
            .map(|(o, r)| (self.owners[o].clone(), r))
            .collect()
    }
}

/// The words of a text with their lower-case forms, kept in one buffer.
struct Lowered {
    /// Byte span of each word in the text.
    spans: Vec<(usize, usize)>,
    /// The lower-case words, one after another.
    buf: String,
    /// Where each word's lower-case form ends in `buf`.
    ends: Vec<usize>,
}

impl Lowered {
    fn new(text: &str) -> Lowered {
        let spans: Vec<(usize, usize)> = word_spans(text).collect();
        let mut buf = String::with_capacity(text.len());
        let mut ends = Vec::with_capacity(spans.len());
        for &(start, end) in &spans {
            let word = &text[start..end];
            if word.is_ascii() {
                let from = buf.len();
                buf.push_str(word);
                buf[from..].make_ascii_lowercase();
            } else {
                buf.push_str(&word.to_lowercase());
            }
            ends.push(buf.len());
        }
        Lowered { spans, buf, ends }
    }

    fn lower(&self, i: usize) -> &str {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[from..self.ends[i]]
    }
}

/// Builds the pattern of one name; `None` for names too short to be meaningful.
fn name_pattern(owner: usize, name: &str) -> Option<Pattern> {
    let ws: Vec<Word> = words(name).collect();
    let letters: usize = ws
        .iter()
        .map(|w| name[w.start..w.end].chars().count())
        .sum();
    if ws.is_empty() || letters < 2 {
        return None;
    }
    let written: Vec<String> = ws
        .iter()
        .map(|w| name[w.start..w.end].to_string())
        .collect();
    let lower = written.iter().map(|w| w.to_lowercase()).collect();
    let gaps = ws
        .windows(2)
        .map(|pair| {
            let gap = &name[pair[0].end..pair[1].start];
            if gap.chars().all(is_space_joiner) {
                Gap::Space
            } else {
                Gap::Exact(gap.to_string())
            }
        })
        .collect();
    let rule = if ws.len() == 1 && written[0].chars().all(char::is_alphabetic) {
        CaseRule::Capitalised
    } else {
        CaseRule::Any
    };
    Some(Pattern {
        owner,
        lower,
        written,
        gaps,
        rule,
    })
}

fn is_space_joiner(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '_' | '\u{2010}' | '\u{2011}')
}

/// If `p` occurs at word `i` of `text`, its byte range.
fn matches_at(p: &Pattern, text: &str, words: &Lowered, i: usize) -> Option<Range<usize>> {
    let ws = &words.spans;
    let n = p.lower.len();
    if i + n > ws.len() {
        return None;
    }
    for j in 0..n {
        if words.lower(i + j) != p.lower[j] {
            return None;
        }
        if j > 0 {
            let gap = &text[ws[i + j - 1].1..ws[i + j].0];
            let ok = match &p.gaps[j - 1] {
                Gap::Space => {
                    !gap.is_empty()
                        && gap.chars().all(is_space_joiner)
                        && gap.matches('\n').count() <= 1
                }
                Gap::Exact(g) => gap == g,
            };
            if !ok {
                return None;
            }
        }
        let surface = &text[ws[i + j].0..ws[i + j].1];
        let case_ok = match p.rule {
            CaseRule::Any => true,
            CaseRule::Capitalised => {
                surface == p.written[j] || surface.chars().next().is_some_and(char::is_uppercase)
            }
            CaseRule::Exact => surface == p.written[j],
        };
        if !case_ok {
            return None;
        }
    }
    // A one-word name that is also an ordinary word, right before a determiner, is the
    // ordinary word: "Render the scene", "Near the end of the year", "Story of a deal".
    if p.rule == CaseRule::Capitalised
        && n == 1
        && let Some(next) = ws.get(i + 1)
        && text[ws[i].1..next.0].chars().all(|c| c == ' ')
        && NOT_AFTER_A_NAME.contains(&words.lower(i + 1))
    {
        return None;
    }
    Some(ws[i].0..ws[i + n - 1].1)
}

/// Words that follow a verb, preposition or noun but hardly ever a protocol's name.
const NOT_AFTER_A_NAME: &[&str] = &[
    "the", "a", "an", "this", "that", "these", "those", "your", "our", "their", "its", "my", "his",
    "her", "some", "any", "every", "each", "of",
];

/// One article note that mentions a protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mention {
    /// The article's note id.
    pub id: String,
    /// The article's title.
    pub title: String,
    /// One line of text around the first mention, at most [`SNIPPET_CHARS`] characters.
    pub snippet: String,
}

/// Every article mention of every project note in `notes`, keyed by project id.
/// Projects that no article mentions are absent; articles are in id order.
pub fn mentions(notes: &[Note]) -> BTreeMap<String, Vec<Mention>> {
    scan(&Matcher::for_projects(notes), notes)
}

/// The article notes in `notes` that mention `project`, in id order.
pub fn mentions_of(project: &Note, notes: &[Note]) -> Vec<Mention> {
    scan(&Matcher::for_projects([project]), notes)
        .remove(&project.id)
        .unwrap_or_default()
}

fn scan(matcher: &Matcher, notes: &[Note]) -> BTreeMap<String, Vec<Mention>> {
    let mut articles: Vec<&Note> = notes.iter().filter(|n| n.kind == Kind::Article).collect();
    articles.sort_by(|a, b| a.id.cmp(&b.id));
    // Articles are independent: scanned in parallel, gathered in id order.
    let per_article = crate::par::map(&articles, 64, |a| {
        let title = a.title();
        let body = markdown_to_text(&a.body);
        let mut found: BTreeMap<String, String> = matcher
            .first_mentions(&body)
            .into_iter()
            .map(|(owner, at)| (owner, snippet(&body, at, SNIPPET_CHARS)))
            .collect();
        for (owner, _) in matcher.first_mentions(&title) {
            found
                .entry(owner)
                .or_insert_with(|| squash(&title).trim().to_string());
        }
        (title, found)
    });
    let mut out: BTreeMap<String, Vec<Mention>> = BTreeMap::new();
    for (a, (title, found)) in articles.iter().zip(per_article) {
        for (owner, snippet) in found {
            out.entry(owner).or_default().push(Mention {
                id: a.id.clone(),
                title: title.clone(),
                snippet,
            });
        }
    }
    out
}

/// One line of `text` around `at`, at most `max` characters: whitespace collapsed,
/// cut at word boundaries, with `…` where text was cut.
pub fn snippet(text: &str, at: Range<usize>, max: usize) -> String {
    let before = squash(&text[..at.start]);
    let hit = squash(&text[at.clone()]);
    let after = squash(&text[at.end..]);
    let before = before.trim_start();
    let after = after.trim_end();
    let hit_len = hit.chars().count();
    let room = max.saturating_sub(hit_len + 2);
    // About a third of the room before the mention, the rest (and any unused) after.
    let before_chars = before.chars().count();
    let want_before = (room / 3).min(before_chars);
    let after_chars = after.chars().count();
    let want_after = (room - want_before).min(after_chars);
    let want_before = (room - want_after).min(before_chars);

    let mut out = String::new();
    if want_before < before_chars {
        let start = before
            .char_indices()
            .nth(before_chars - want_before)
            .map_or(before.len(), |(i, _)| i);
        let mut tail = &before[start..];
        // Drop a partial first word.
        if !before[..start].ends_with(' ') {
            tail = tail.split_once(' ').map_or("", |(_, rest)| rest);
        }
        out.push('…');
        out.push_str(tail.trim_start());
    } else {
        out.push_str(before);
    }
    out.push_str(&hit);
    if want_after < after_chars {
        let end = after
            .char_indices()
            .nth(want_after)
            .map_or(after.len(), |(i, _)| i);
        let mut head = &after[..end];
        if !after[end..].starts_with(' ') {
            head = head.rsplit_once(' ').map_or("", |(keep, _)| keep);
        }
        out.push_str(head.trim_end());
        out.push('…');
    } else {
        out.push_str(after);
    }
    out
}

/// Collapses every run of whitespace to one space.
fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(names: &[&str], ticker: Option<&str>) -> Matcher {
        let mut m = Matcher::new();
        m.add(
            "p",
            &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            ticker,
        );
        m
    }

    fn hit(m: &Matcher, text: &str) -> Option<String> {
        m.first_mentions(text)
            .remove("p")
            .map(|r| text[r].to_string())
    }

    #[test]
    fn single_word_names_need_a_capital() {
        let near = matcher(&["NEAR", "NEAR Protocol"], Some("NEAR"));
        assert_eq!(hit(&near, "We met near the station."), None);
        assert_eq!(hit(&near, "Built on Near today."), Some("Near".into()));
        assert_eq!(hit(&near, "Built on NEAR today."), Some("NEAR".into()));
        assert_eq!(
            hit(&near, "the near protocol upgrade"),
            Some("near protocol".into()),
            "multi-word alias"
        );
        let render = matcher(&["Render"], Some("RNDR"));
        assert_eq!(hit(&render, "we render frames and rendering is slow"), None);
        assert_eq!(hit(&render, "Jobs run on Render."), Some("Render".into()));
        assert_eq!(hit(&render, "priced in RNDR"), Some("RNDR".into()));
        let grass = matcher(&["Grass"], None);
        assert_eq!(hit(&grass, "the grass is greener; grassland"), None);
        assert_eq!(
            hit(&grass, "Grass pays users for bandwidth"),
            Some("Grass".into())
        );
        assert_eq!(hit(&grass, "Grassroots projects"), None, "whole words only");
        // Capitalised at a sentence start but used as an ordinary word.
        assert_eq!(hit(&render, "Render the scene twice."), None);
        assert_eq!(hit(&grass, "Grass of the field."), None);
        assert_eq!(hit(&near, "Near the end of 2024 it grew."), None);
        assert_eq!(
            hit(&render, "Render, the GPU network."),
            Some("Render".into()),
            "punctuation in between"
        );
        assert_eq!(hit(&render, "Render and Akash."), Some("Render".into()));
    }

    #[test]
    fn multi_word_names_match_in_any_case() {
        let story = matcher(&["Story Protocol", "Story"], Some("IP"));
        assert_eq!(hit(&story, "a bedtime story told twice"), None);
        assert_eq!(hit(&story, "A Story about rights"), Some("Story".into()));
        assert_eq!(
            hit(&story, "the story protocol team"),
            Some("story protocol".into())
        );
        assert_eq!(hit(&story, "Story-Protocol"), Some("Story-Protocol".into()));
        assert_eq!(
            hit(&story, "the story. Protocol"),
            None,
            "punctuation breaks a phrase"
        );
        let numbers = matcher(&["Numbers Protocol", "Numbers"], Some("NUM"));
        assert_eq!(hit(&numbers, "the numbers look good, a protocol"), None);
        assert_eq!(
            hit(&numbers, "numbers protocol records photos"),
            Some("numbers protocol".into())
        );
        assert_eq!(
            hit(&numbers, "Numbers records photos"),
            Some("Numbers".into())
        );
        assert_eq!(hit(&numbers, "num is short for number"), None);
    }

    #[test]
    fn punctuation_and_digits_in_names() {
        let fetch = matcher(&["Fetch.ai"], Some("FET"));
        assert_eq!(
            hit(&fetch, "agents on fetch.ai's network"),
            Some("fetch.ai".into())
        );
        assert_eq!(hit(&fetch, "Fetch.AI agents"), Some("Fetch.AI".into()));
        assert_eq!(hit(&fetch, "fetch ai"), None);
        assert_eq!(hit(&fetch, "go fetch. AI is here"), None);
        let io = matcher(&["io.net"], Some("IO"));
        assert_eq!(hit(&io, "GPUs from IO.NET clusters"), Some("IO.NET".into()));
        assert_eq!(hit(&io, "io and net"), None);
        let zero = matcher(&["0G"], None);
        assert_eq!(hit(&zero, "the 0g labs chain"), Some("0g".into()));
    }

    #[test]
    fn tickers_are_whole_upper_case_tokens() {
        let fil = matcher(&["Filecoin"], Some("FIL"));
        assert_eq!(hit(&fil, "fil the form; filament; FILM"), None);
        assert_eq!(hit(&fil, "paid in FIL."), Some("FIL".into()));
        assert_eq!(hit(&fil, "bought $FIL today"), Some("FIL".into()));
        assert_eq!(hit(&fil, "FIL-denominated"), Some("FIL".into()));
        let tao = matcher(&["Bittensor"], Some("$tao"));
        assert_eq!(hit(&tao, "the tao of markets"), None);
        assert_eq!(hit(&tao, "staked $TAO"), Some("TAO".into()));
        let steth = matcher(&["Lido"], Some("stETH"));
        assert_eq!(hit(&steth, "holds stETH"), Some("stETH".into()));
        assert_eq!(hit(&steth, "holds STETH"), Some("STETH".into()));
        assert_eq!(hit(&steth, "holds steth"), None);
    }

    #[test]
    fn first_mention_per_protocol_and_tiny_names_ignored() {
        let mut m = Matcher::new();
        m.add("near", &["NEAR".into()], Some("NEAR"));
        m.add(
            "render",
            &["Render".into(), "Render Network".into()],
            Some("RNDR"),
        );
        m.add("x", &["X".into()], Some("X"));
        let text = "near here. Render Network, then NEAR and NEAR again. X marks";
        let found = m.first_mentions(text);
        assert_eq!(found.keys().collect::<Vec<_>>(), vec!["near", "render"]);
        assert_eq!(&text[found["render"].clone()], "Render");
        assert_eq!(&text[found["near"].clone()], "NEAR");
    }

    #[test]
    fn mentions_count_articles_only() {
        let notes = vec![
            crate::corpus::parse_note(
                "corpus/projects/near.md",
                b"---\nname: NEAR\nticker: NEAR\n---\nGrass is near.",
            )
            .unwrap(),
            crate::corpus::parse_note(
                "corpus/projects/grass.md",
                b"---\nname: Grass\n---\nNEAR is near.",
            )
            .unwrap(),
            crate::corpus::parse_note(
                "corpus/articles/b.md",
                b"---\ntitle: On NEAR\n---\nNothing here but grass.",
            )
            .unwrap(),
            crate::corpus::parse_note(
                "corpus/articles/a.md",
                b"---\ntitle: A\n---\n# A\n\nThe **Near** chain and [Grass](http://grass.io).",
            )
            .unwrap(),
        ];
        let m = mentions(&notes);
        let ids = |k: &str| m[k].iter().map(|x| x.id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids("projects/near"), vec!["articles/a", "articles/b"]);
        assert_eq!(ids("projects/grass"), vec!["articles/a"]);
        assert_eq!(
            m["projects/near"][1].snippet, "On NEAR",
            "a mention in the title only"
        );
        assert_eq!(m["projects/near"][0].snippet, "A The Near chain and Grass.");
        assert_eq!(mentions_of(&notes[1], &notes).len(), 1);
    }

    #[test]
    fn snippets_are_one_short_line() {
        let text = format!(
            "{} Render\n\nruns {}",
            "lorem ipsum ".repeat(40),
            "dolor sit amet ".repeat(40)
        );
        let at = text.find("Render").unwrap();
        let s = snippet(&text, at..at + 6, SNIPPET_CHARS);
        assert!(
            s.chars().count() <= SNIPPET_CHARS,
            "{} chars: {s}",
            s.chars().count()
        );
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("ipsum Render runs dolor"), "{s}");
        assert!(!s.contains('\n'));
        assert!(
            s.starts_with("…lorem") || s.starts_with("…ipsum"),
            "cut at a word boundary: {s}"
        );
        assert_eq!(
            snippet("Short Render note.", 6..12, SNIPPET_CHARS),
            "Short Render note."
        );
    }
}
