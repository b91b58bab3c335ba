//! Human-readable rendering of results onto any writer. JSON output is
//! `serde_json` of the same result types; this module is only the text form.
//!
//! Colour and bold are used only when [`Style::color`] is on (a TTY without
//! `NO_COLOR`); piped output is plain.

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use crate::classify::{Evidence, LEXICON_WORDS, LexiconVote};
use crate::eval::{Evaluation, Lint};
use crate::index::IndexStats;
use crate::project::ProjectResult;
use crate::search::{SearchResults, Snippet};

/// Whether to emit ANSI styling.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Emit colours and bold.
    pub color: bool,
}

/// The escape codes [`Style`] writes; [`Printable`] lets these, and no other, through.
const STYLE_CODES: [&[u8]; 6] = [
    b"\x1b[0m",
    b"\x1b[1m",
    b"\x1b[2m",
    b"\x1b[32m",
    b"\x1b[33m",
    b"\x1b[36m",
];

/// A writer that keeps control characters in what notes hold (names, snippets, paths)
/// from reaching a terminal as commands: a title change, a cleared screen or a line
/// overwritten by a carriage return. Each control character other than newline and tab
/// is written as U+FFFD (a carriage return is dropped, so CRLF text reads as LF), except
/// [`Style`]'s own colour codes when they arrive whole in one write. JSON passes
/// unchanged: `serde_json` escapes every control character.
pub struct Printable<W> {
    inner: W,
}

impl<W: Write> Printable<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Printable<W> {
        Printable { inner }
    }

    /// The writer underneath, for output that holds no raw control character (JSON).
    pub fn raw(&mut self) -> &mut W {
        &mut self.inner
    }
}

/// Whether `buf[i]` starts a control character: C0 but newline and tab, DEL, or C1
/// (two bytes in UTF-8); its length in bytes.
fn control_at(buf: &[u8], i: usize) -> Option<usize> {
    match buf[i] {
        b'\n' | b'\t' => None,
        0..=0x1f | 0x7f => Some(1),
        0xc2 if matches!(buf.get(i + 1), Some(0x80..=0x9f)) => Some(2),
        _ => None,
    }
}

impl<W: Write> Write for Printable<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut done = 0;
        let mut i = 0;
        while i < buf.len() {
            let Some(len) = control_at(buf, i) else {
                i += 1;
                continue;
            };
            self.inner.write_all(&buf[done..i])?;
            let rest = &buf[i..];
            if let Some(code) = STYLE_CODES.iter().find(|c| rest.starts_with(c)) {
                self.inner.write_all(code)?;
                i += code.len();
            } else {
                if buf[i] != b'\r' {
                    self.inner.write_all("\u{FFFD}".as_bytes())?;
                }
                i += len;
            }
            done = i;
        }
        self.inner.write_all(&buf[done..])
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    /// Bold text.
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    /// Dimmed text.
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    /// Green text.
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    /// Yellow text.
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    /// Cyan text.
    pub fn cyan(&self, s: &str) -> String {
        self.paint("36", s)
    }
}

/// Renders a snippet with its highlights in bold (plain text when styling is off).
pub fn snippet(s: &Snippet, style: Style) -> String {
    if !style.color || s.highlights.is_empty() {
        return s.text.clone();
    }
    let mut out = String::with_capacity(s.text.len() + 16);
    let mut at = 0;
    for &(a, b) in &s.highlights {
        if a < at || b > s.text.len() || !s.text.is_char_boundary(a) || !s.text.is_char_boundary(b)
        {
            continue;
        }
        out.push_str(&s.text[at..a]);
        out.push_str(&style.bold(&s.text[a..b]));
        at = b;
    }
    out.push_str(&s.text[at..]);
    out
}

/// Search results: rank, title, kind, ticker, category, path, snippet; then facets.
pub fn search(w: &mut dyn Write, r: &SearchResults, style: Style) -> io::Result<()> {
    for h in &r.hits {
        let mut head = format!("{:>2}. {}", h.rank, style.bold(&h.title));
        if let Some(t) = &h.ticker {
            head.push_str(&format!(" ({t})"));
        }
        let label = match (&h.category, &h.subcategory) {
            (Some(c), Some(s)) => format!("{c}/{s}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        let meta = [
            h.kind.as_str(),
            label.as_str(),
            h.date.as_deref().unwrap_or(""),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
        writeln!(w, "{head}  {}", style.cyan(&meta))?;
        writeln!(w, "    {}", style.dim(&h.path))?;
        if !h.snippet.text.is_empty() {
            writeln!(w, "    {}", snippet(&h.snippet, style))?;
        }
    }
    let shown = r.hits.len();
    let mut tail = format!("{} hit{}", r.total_hits, plural(r.total_hits));
    if shown < r.total_hits {
        tail.push_str(&format!(" (showing {shown})"));
    }
    if let Some(c) = r.facets.get("category").filter(|c| !c.is_empty()) {
        let parts: Vec<String> = c.iter().map(|(k, v)| format!("{k} {v}")).collect();
        tail.push_str(&format!("; by category: {}", parts.join(", ")));
    }
    if shown > 0 {
        writeln!(w)?;
    }
    writeln!(w, "{}", style.dim(&tail))
}

/// The plural ending of a count: "" for one, "s" otherwise.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Index update counts.
pub fn index_stats(w: &mut dyn Write, s: &IndexStats) -> io::Result<()> {
    writeln!(
        w,
        "{} added, {} changed, {} removed, {} skipped; {} note{} indexed{}",
        s.added,
        s.changed,
        s.removed,
        s.skipped,
        s.total,
        plural(s.total),
        match s.rebuild_reason.as_deref() {
            Some(crate::index::REBUILD_REQUESTED) => " (rebuilt)".to_string(),
            Some(why) => format!(" (rebuilt: {why})"),
            None => String::new(),
        }
    )
}

fn pct(x: f64) -> String {
    crate::report::percent(x)
}

fn label(cat: &str, sub: Option<&str>) -> String {
    match sub {
        Some(s) => format!("{cat}/{s}"),
        None => cat.to_string(),
    }
}

/// Why a project came out `none`: its AI evidence against what it needed, and the
/// strongest evidence against; or no category scoring enough.
pub fn why_none(r: &ProjectResult) -> String {
    if let Some(v) = r.lexicon.as_ref().filter(|v| v.overruled) {
        return format!("{} (the signals said {})", lexicon_cell(v), v.signals);
    }
    if r.passing_mention {
        let line = r
            .evidence
            .iter()
            .filter(|e| e.category == "scope" && e.weight > 0.0)
            .map(|e| e.line)
            .min();
        return match line {
            Some(line) => format!("AI named in passing (one paragraph, line {line})"),
            None => "AI named in passing (one paragraph)".to_string(),
        };
    }
    if !r.below_scope() {
        return "no category scores enough".to_string();
    }
    let mut s = format!(
        "AI scope {:.1} of {:.1} needed",
        r.scope_score, r.scope_needed
    );
    let against = r.against_terms(2);
    if !against.is_empty() {
        s.push_str(&format!("; against: {}", clip_all(&against)));
    }
    s
}

/// Matched texts for a table cell, each cut to [`CELL_TERM_CHARS`] characters (a
/// pattern or `near` match can span a sentence).
fn clip_all(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| crate::text::truncate_chars(t, CELL_TERM_CHARS))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Longest matched text shown whole in a table cell.
const CELL_TERM_CHARS: usize = 40;

/// The classify table, optionally with every signal.
pub fn classify(
    w: &mut dyn Write,
    results: &[ProjectResult],
    explain: bool,
    style: Style,
) -> io::Result<()> {
    let rows: Vec<[String; 6]> = results
        .iter()
        .map(|r| {
            let pinned = match &r.pinned {
                None => "-".to_string(),
                Some(p) => {
                    let l = label(&p.category, p.subcategory.as_deref());
                    if r.disagrees() { format!("{l} ≠") } else { l }
                }
            };
            [
                crate::text::one_line(&r.name),
                r.ticker
                    .as_deref()
                    .map_or_else(|| "-".into(), crate::text::one_line),
                label(r.category, r.subcategory),
                pct(r.confidence),
                pinned,
                match &r.lexicon {
                    _ if r.category == crate::taxonomy::NONE => why_none(r),
                    Some(v) if v.overruled => lexicon_cell(v),
                    _ => clip_all(&r.top_terms(3)),
                },
            ]
        })
        .collect();
    let header = [
        "NAME",
        "TICKER",
        "PREDICTED",
        "CONF",
        "PINNED",
        "TOP EVIDENCE",
    ];
    // Columns as wide as a terminal shows them: an emoji or a CJK name takes two.
    let mut widths = header.map(UnicodeWidthStr::width);
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.width());
        }
    }
    let line = |cells: &[String; 6]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c}{}  ", " ".repeat(widths[i] - c.width())));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(w, "{}", style.bold(&line(&header.map(String::from))))?;
    for (row, r) in rows.iter().zip(results) {
        let text = line(row);
        writeln!(
            w,
            "{}",
            if r.disagrees() {
                style.yellow(&text)
            } else {
                text
            }
        )?;
        if explain {
            writeln!(
                w,
                "    scores: {}; scope {} (needs {})",
                scores(r),
                r.scope_score,
                r.scope_needed
            )?;
            if !r.secondary.is_empty() {
                writeln!(w, "    secondary: {}", r.secondary.join(", "))?;
            }
            for e in &r.evidence {
                writeln!(w, "    {}", evidence(e))?;
            }
            if let Some(v) = &r.lexicon {
                for l in lexicon_lines(v, LEXICON_WORDS) {
                    writeln!(w, "    {l}")?;
                }
            }
        }
    }
    Ok(())
}

/// A table cell for a label the lexicon gave: `lexicon 84%: swap, lending, pool`.
fn lexicon_cell(v: &LexiconVote) -> String {
    let p = v.probabilities.get(v.label).copied().unwrap_or(0.0);
    let words: Vec<String> = v.words.iter().take(3).map(|w| w.word.to_string()).collect();
    format!("lexicon {}: {}", pct(p), clip_all(&words))
}

/// The lexicon's vote in words: its probabilities and whether it decided, then the
/// words behind it with their pull and place.
pub fn lexicon_lines(v: &LexiconVote, n: usize) -> Vec<String> {
    let mut probs: Vec<(&str, f64)> = v.probabilities.iter().map(|(k, p)| (*k, *p)).collect();
    probs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let probs: Vec<String> = probs.iter().map(|(k, p)| format!("{k} {p:.2}")).collect();
    let verdict = if v.overruled {
        format!("overrules the signals ({})", v.signals)
    } else if v.label == v.signals {
        "agrees with the signals".to_string()
    } else {
        format!("the signals' {} stands", v.signals)
    };
    let mut out = vec![format!("lexicon: {}; {verdict}", probs.join(", "))];
    if !v.words.is_empty() {
        let words: Vec<String> = v
            .words
            .iter()
            .take(n)
            .map(|w| {
                format!(
                    "{} +{:.2} ({}:{})",
                    w.word,
                    w.pull,
                    w.field.as_str(),
                    w.line
                )
            })
            .collect();
        out.push(format!(
            "lexicon words for {}: {}",
            v.label,
            words.join(", ")
        ));
    }
    out
}

fn scores(r: &ProjectResult) -> String {
    r.scores
        .iter()
        .map(|(k, v)| format!("{k} {v:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One evidence line: `+3.00 resources/compute gpu matched "GPUs" ×3 (body:12)`.
pub fn evidence(e: &Evidence) -> String {
    let owner = label(e.category, e.subcategory);
    let times = if e.count > 1 {
        format!(" ×{}", e.count)
    } else {
        String::new()
    };
    format!(
        "{:+.2} {owner} {} matched \"{}\"{times} ({}:{})",
        e.weight,
        e.signal,
        e.matched,
        e.field.as_str(),
        e.line
    )
}

/// The evaluation summary, confusion matrix and misses.
pub fn evaluation(w: &mut dyn Write, e: &Evaluation, style: Style) -> io::Result<()> {
    writeln!(
        w,
        "{} pinned projects; accuracy {} (with subcategory {}); macro-F1 {:.3}",
        e.evaluated,
        pct(e.accuracy),
        pct(e.subcategory_accuracy),
        e.macro_f1
    )?;
    writeln!(w)?;
    writeln!(
        w,
        "{}",
        style.bold(&format!(
            "{:<16} {:>9} {:>7} {:>6} {:>7}",
            "LABEL", "PRECISION", "RECALL", "F1", "SUPPORT"
        ))
    )?;
    for s in &e.per_category {
        writeln!(
            w,
            "{:<16} {:>9.3} {:>7.3} {:>6.3} {:>7}",
            s.label, s.precision, s.recall, s.f1, s.support
        )?;
    }
    let labels: Vec<&String> = e.per_category.iter().map(|s| &s.label).collect();
    writeln!(w)?;
    writeln!(
        w,
        "{}",
        style.bold("confusion (rows pinned, columns predicted)")
    )?;
    let mut head = format!("{:<16}", "");
    for l in &labels {
        head.push_str(&format!(" {:>14}", l));
    }
    writeln!(w, "{}", head.trim_end())?;
    for row in &labels {
        let mut line = format!("{row:<16}");
        for col in &labels {
            let n = e
                .confusion
                .get(*row)
                .and_then(|m| m.get(*col))
                .copied()
                .unwrap_or(0);
            line.push_str(&format!(" {n:>14}"));
        }
        writeln!(w, "{line}")?;
    }
    if !e.misses.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", style.bold("misses"))?;
        for m in &e.misses {
            let r = &m.result;
            let p = r.pinned.as_ref().expect("only pinned notes are evaluated");
            writeln!(
                w,
                "{} ({}): pinned {}, predicted {} ({} confidence)",
                r.name,
                r.path,
                label(&p.category, p.subcategory.as_deref()),
                label(r.category, r.subcategory),
                pct(r.confidence)
            )?;
            if r.category == crate::taxonomy::NONE {
                writeln!(w, "    why: {}", why_none(r))?;
            }
            for ev in r.evidence.iter().take(6) {
                writeln!(w, "    {}", evidence(ev))?;
            }
            if let Some(v) = &r.lexicon {
                for l in lexicon_lines(v, 5) {
                    writeln!(w, "    {l}")?;
                }
            }
        }
    }
    Ok(())
}

/// The taxonomy lint.
pub fn lint(w: &mut dyn Write, l: &Lint, style: Style) -> io::Result<()> {
    if l.is_clean() {
        return writeln!(w, "taxonomy is valid; no lint findings");
    }
    writeln!(w, "taxonomy is valid")?;
    let sections = [
        ("signals that never fire on the corpus", &l.never_fire),
        (
            "terms used as signals in several categories",
            &l.shared_terms,
        ),
        (
            "categories and subcategories no project reaches",
            &l.unreached,
        ),
    ];
    for (title, items) in sections {
        if items.is_empty() {
            continue;
        }
        writeln!(w, "{} ({}):", style.bold(title), items.len())?;
        for i in items {
            writeln!(w, "  {i}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_never_reach_the_terminal() {
        let clean = |bytes: &[u8]| {
            let mut out = Vec::new();
            super::Printable::new(&mut out).write_all(bytes).unwrap();
            String::from_utf8(out).unwrap()
        };
        // A title change, a bell, a C1 control sequence introducer, a delete.
        assert_eq!(clean(b"a\x1b]0;pwned\x07b"), "a\u{FFFD}]0;pwned\u{FFFD}b");
        assert_eq!(clean("x\u{9b}2Jy\x7f".as_bytes()), "x\u{FFFD}2Jy\u{FFFD}");
        // A carriage return would overwrite the line; CRLF reads as LF.
        assert_eq!(clean(b"safe\revil\r\nnext\tcell"), "safeevil\nnext\tcell");
        // Other text, two-byte characters included, is untouched.
        assert_eq!(clean("é Ā \u{a0} 🚀".as_bytes()), "é Ā \u{a0} 🚀");
        // Style's own codes pass; other escape sequences do not.
        let style = Style { color: true };
        for painted in [
            style.bold("b"),
            style.dim("d"),
            style.green("g"),
            style.yellow("y"),
            style.cyan("c"),
        ] {
            assert_eq!(clean(painted.as_bytes()), painted);
        }
        assert_eq!(clean(b"\x1b[2J"), "\u{FFFD}[2J");
    }

    use super::*;

    #[test]
    fn snippet_bold_only_with_color() {
        let s = Snippet {
            text: "a GPU market".into(),
            highlights: vec![(2, 5)],
        };
        assert_eq!(snippet(&s, Style { color: false }), "a GPU market");
        assert_eq!(
            snippet(&s, Style { color: true }),
            "a \x1b[1mGPU\x1b[0m market"
        );
    }

    #[test]
    fn long_matches_are_cut_on_a_character_boundary() {
        let long = "é".repeat(CELL_TERM_CHARS + 5);
        let cut = clip_all(&["gpu".into(), long]);
        let (first, second) = cut.split_once(", ").unwrap();
        assert_eq!(first, "gpu");
        assert_eq!(second.chars().count(), CELL_TERM_CHARS + 1);
        assert!(second.ends_with("é…"));
        assert_eq!(
            clip_all(&["x".repeat(CELL_TERM_CHARS)]).len(),
            CELL_TERM_CHARS
        );
    }
}
