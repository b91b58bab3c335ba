//! Text helpers shared by the index, the classifier and the report: Markdown to plain
//! text, word scanning with positions, and word normalisation (case, plurals, stems).

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// Renders Markdown to plain text: markup removed, heading, list, table and code text
/// kept, block boundaries turned into newlines. Link targets and HTML tags are dropped.
pub fn markdown_to_text(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    for event in Parser::new(md) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak | Event::Rule => out.push('\n'),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock,
            )
            | Event::End(TagEnd::TableRow | TagEnd::TableHead | TagEnd::BlockQuote(_))
                if !out.ends_with('\n') =>
            {
                out.push('\n');
            }
            Event::End(TagEnd::TableCell) | Event::Start(Tag::Item)
                if !out.is_empty() && !out.ends_with([' ', '\n']) =>
            {
                out.push(' ');
            }
            _ => {}
        }
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

/// A word found in a text: its byte span and 1-based line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset after the last character.
    pub end: usize,
    /// 1-based line within the scanned text.
    pub line: usize,
}

/// True for characters that belong to a word. Apostrophes and hyphens split words.
#[inline]
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The number of line breaks in `bytes` (a loop the compiler vectorises).
pub fn count_newlines(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|chunk| {
            let n: u8 = chunk.iter().map(|&b| u8::from(b == b'\n')).sum();
            usize::from(n)
        })
        .sum()
}

/// Iterates over the words of `text` with byte spans and line numbers.
pub fn words(text: &str) -> impl Iterator<Item = Word> + '_ {
    let mut line = 1;
    let mut last = 0;
    word_spans(text).map(move |(start, end)| {
        line += count_newlines(&text.as_bytes()[last..start]);
        last = end;
        Word { start, end, line }
    })
}

/// The byte spans of the words of `text` (runs of alphanumeric characters), with an
/// ASCII fast path.
pub fn word_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    // Width of the word character at `at`, or None.
    let word_char = move |at: usize| -> (usize, bool) {
        let b = bytes[at];
        if b < 0x80 {
            (1, b.is_ascii_alphanumeric())
        } else {
            let c = text[at..].chars().next().expect("char boundary");
            (c.len_utf8(), is_word_char(c))
        }
    };
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let (w, is_word) = word_char(i);
            if is_word {
                let start = i;
                i += w;
                while i < bytes.len() {
                    let (w, is_word) = word_char(i);
                    if !is_word {
                        break;
                    }
                    i += w;
                }
                return Some((start, i));
            }
            i += w;
        }
        None
    })
}

/// Normalises one word for matching: accented, full-width and styled Latin letters
/// folded to ASCII, lower case, British spellings made American, then the English
/// Snowball stem, with acronym plurals (`GPUs`, `LLMs`, `NFTs`) reduced to their
/// singular first.
pub fn normalize_word(word: &str, stemmer: &rust_stemmers::Stemmer) -> String {
    let folded = fold_latin(word);
    let singular = strip_acronym_plural(&folded);
    // A short word in capitals is an acronym or a ticker, not English to stem: `MLS`
    // is not the plural of `ML`, nor `AIS` of `AI` (`IPFS`, `AWS` alike).
    if is_short_acronym(singular) {
        return singular.to_ascii_lowercase();
    }
    let lower = singular.to_lowercase();
    stemmer.stem(&american_spelling(&lower)).into_owned()
}

/// Whole British words (and word endings) and their American spelling.
const BRITISH_ENDINGS: [(&str, &str); 14] = [
    ("centre", "center"),
    ("centres", "centers"),
    ("centred", "centered"),
    ("licence", "license"),
    ("licences", "licenses"),
    ("licenced", "licensed"),
    ("programme", "program"),
    ("programmes", "programs"),
    ("catalogue", "catalog"),
    ("catalogues", "catalogs"),
    ("behaviour", "behavior"),
    ("behaviours", "behaviors"),
    ("analyse", "analyze"),
    ("analysed", "analyzed"),
];

/// `-ise` verb endings whose American form has `-ize`.
const ISE_ENDINGS: [&str; 9] = [
    "isations", "isation", "isable", "isers", "ising", "ised", "ises", "iser", "ise",
];

/// The ends of words written `-ise` in American English too, left as they are:
/// `raise`, `advise`, `precise`, `otherwise`, `comprise`, `promise`, `demise`,
/// `surmise`, `disguise`, `franchise`, `advertise`, `expertise`, `chastise`,
/// `merchandise`, `paradise`, `despise`.
const ISE_EVERYWHERE: [&str; 21] = [
    "a", "e", "i", "o", "u", "v", "c", "w", "pr", "prom", "prem", "dem", "surm", "gu", "ch",
    "vert", "xpert", "hast", "chand", "arad", "sp",
];

/// `-ell-` endings of words that double the `l` in British spelling only
/// (`labelled`, `modelling`, `traveller`).
const ELL_ENDINGS: [&str; 4] = ["ellers", "elling", "eller", "elled"];

/// Maps a lower-case British spelling onto the American one, so that both match each
/// other in searches and taxonomy terms: `decentralised` → `decentralized`,
/// `tokenisation` → `tokenization`, `labelling` → `labeling`, `centre` → `center`,
/// `licence` → `license`. The rules are applied the same way to indexed text, queries
/// and taxonomy terms, so a word they change needlessly (`promise` → `promize`) still
/// matches itself; they leave short words (`rise`, `noise`, `selling`, `telling`)
/// alone, which keeps them from merging words that are not spelling variants.
pub fn american_spelling(word: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if !word.is_ascii() || word.len() < 6 {
        return Cow::Borrowed(word);
    }
    for (british, american) in BRITISH_ENDINGS {
        if let Some(head) = word.strip_suffix(british)
            && (head.is_empty() || head.len() >= 3)
        {
            return Cow::Owned(format!("{head}{american}"));
        }
    }
    for ending in ISE_ENDINGS {
        if let Some(head) = word.strip_suffix(ending)
            && head.len() >= 3
            && head.bytes().all(|b| b.is_ascii_lowercase())
            && !ISE_EVERYWHERE.iter().any(|h| head.ends_with(h))
        {
            return Cow::Owned(format!("{head}iz{}", &ending[2..]));
        }
    }
    if let Some(head) = word.strip_suffix("signalling") {
        return Cow::Owned(format!("{head}signaling"));
    }
    if let Some(head) = word.strip_suffix("signalled") {
        return Cow::Owned(format!("{head}signaled"));
    }
    for ending in ELL_ENDINGS {
        if let Some(head) = word.strip_suffix(ending)
            && head.len() >= 3
            && head.bytes().all(|b| b.is_ascii_lowercase())
            // `selling`, `telling`, `dwelling`, `spelling`, `shelling`, `smelling`,
            // `counselling` are left as they are.
            && !matches!(head.as_bytes()[head.len() - 1], b's' | b't' | b'w' | b'p' | b'h' | b'm')
        {
            return Cow::Owned(format!("{head}el{}", &ending[3..]));
        }
    }
    Cow::Borrowed(word)
}

/// The singular of a stem that is a plural the English stemmer keeps as it is: `gpus`
/// → `gpu` (also `llms`, `nfts`, `cpus`, `l2s`). Snowball leaves an `s` after `u`
/// (`bus`, `consensus`) or in a word without a vowel, so lower-case acronym plurals
/// stay plural; the index and queries map them to the singular alike. `news` is not
/// the plural of `new`.
pub fn kept_plural_singular(stem: &str) -> Option<&str> {
    let b = stem.as_bytes();
    let n = b.len();
    let kept = n >= 3
        && b.is_ascii()
        && b[n - 1] == b's'
        && (b[n - 2] == b'u'
            || (b[n - 2].is_ascii_alphanumeric() && !b"aeiosy".contains(&b[n - 2])))
        && stem != "news";
    kept.then(|| &stem[..n - 1])
}

/// `word` with its Latin letters written as ASCII: accented letters (`é` → `e`,
/// `ß` → `ss`) and full-width forms (`ＧＰＵ` → `GPU`, common in CJK text), as the
/// search index folds them, and mathematical styled letters (`𝔾ℙ𝕌`). Letters of
/// other scripts are left as they are.
pub fn fold_latin(word: &str) -> Cow<'_, str> {
    if word.is_ascii() {
        return Cow::Borrowed(word);
    }
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        let latin = matches!(c,
            '\u{00C0}'..='\u{024F}'
            | '\u{1E00}'..='\u{1EFF}'
            | '\u{2100}'..='\u{214F}'
            | '\u{FF10}'..='\u{FF5A}'
            | '\u{1D400}'..='\u{1D7FF}');
        match deunicode::deunicode_char(c) {
            Some(ascii)
                if latin
                    && !ascii.is_empty()
                    && ascii.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                out.push_str(ascii)
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `GPUs` → `GPU`: an upper-case acronym (2+ capitals or digits) followed by `s`.
pub fn strip_acronym_plural(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(stem) if is_capitals(stem) => stem,
        _ => word,
    }
}

/// A word of two to four ASCII capitals and digits, at least one a letter (`MLS`,
/// `IPFS`, `L2`): an acronym or a ticker, which [`normalize_word`] does not stem.
pub fn is_short_acronym(word: &str) -> bool {
    word.len() <= 4 && is_capitals(word)
}

/// Two or more ASCII capitals and digits, at least one a letter (`GPU`, `L2`).
fn is_capitals(word: &str) -> bool {
    word.len() >= 2
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && word.bytes().any(|b| b.is_ascii_uppercase())
}

/// The English stemmer used everywhere aikb normalises words.
pub fn stemmer() -> rust_stemmers::Stemmer {
    rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English)
}

/// `s` with control characters written as escapes (`\u{1b}`, `\u{0}`, `\n`), for
/// messages that quote file names or file contents: a hostile name cannot move the
/// cursor or recolour the terminal, and a message stays on one line.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `s` on one line: every run of whitespace, line breaks included, as one space, and
/// none at either end.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Truncates `s` to at most `max` characters on a char boundary, adding `…` if cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
    }
}

/// `bytes` as text, or a diagnostic at the line and column (1-based, in bytes) of the
/// first byte that is not valid UTF-8.
pub fn utf8_or_diagnostic<'a>(
    bytes: &'a [u8],
    path: &str,
) -> Result<&'a str, crate::error::Diagnostic> {
    std::str::from_utf8(bytes).map_err(|e| invalid_utf8(bytes, e.valid_up_to(), path))
}

/// [`utf8_or_diagnostic`] for owned bytes, which become the string without a copy.
pub fn utf8_string_or_diagnostic(
    bytes: Vec<u8>,
    path: &str,
) -> Result<String, crate::error::Diagnostic> {
    String::from_utf8(bytes)
        .map_err(|e| invalid_utf8(e.as_bytes(), e.utf8_error().valid_up_to(), path))
}

/// The diagnostic for `bytes`, valid UTF-8 up to byte `valid_up_to`.
fn invalid_utf8(bytes: &[u8], valid_up_to: usize, path: &str) -> crate::error::Diagnostic {
    let good = &bytes[..valid_up_to];
    let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = good.len() - good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
    crate::error::Diagnostic::new(path, line, col, "invalid UTF-8")
}

/// The spans (byte ranges) of `text` that name what is set against the subject
/// rather than the subject itself: the words after "rather than", "as opposed to",
/// and a comparison's "than to", "than a" or "than an" ("closer to an inference grid
/// than to a GPU rental market"), each up to the next punctuation mark, blank line or
/// list item. Quantities are not contrasts: "more than a", "less than an", "fewer
/// than a" and "other than a" open no span. Spans come out in order, apart.
pub fn contrast_spans(text: &str, out: &mut Vec<(usize, usize)>) {
    // Searchers built once: "than"/"Than" found as "han".
    static HAN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"han"));
    static OPPOSED: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"opposed"));
    let is =
        |word: &[u8], list: &[&str]| list.iter().any(|w| word.eq_ignore_ascii_case(w.as_bytes()));
    let bytes = text.as_bytes();
    // The starts first, in `out` itself (no buffer of its own on this hot path);
    // then each becomes a span.
    out.clear();
    let mut starts = |at: usize| out.push((at, at));
    for at in HAN.find_iter(bytes) {
        if at == 0 || !matches!(bytes[at - 1], b't' | b'T') || !is_boundary(bytes, at - 1, at + 3) {
            continue;
        }
        let before = word_before(bytes, at - 1);
        let (after, after_end) = word_after(bytes, at + 3);
        if is(before, &["rather"]) {
            starts(at + 3);
        } else if is(after, &["to", "a", "an"])
            && !is(before, &["more", "less", "fewer", "other", "no"])
        {
            starts(after_end);
        }
    }
    for at in OPPOSED.find_iter(bytes) {
        let end = at + "opposed".len();
        if is_boundary(bytes, at, end) && is(word_before(bytes, at), &["as"]) {
            let (after, after_end) = word_after(bytes, end);
            if is(after, &["to"]) {
                starts(after_end);
            }
        }
    }
    out.sort_unstable();
    // A span that starts inside the last one ends where it does: the text is read once.
    let mut kept = 0;
    let mut last_end = None;
    for k in 0..out.len() {
        let start = out[k].0;
        if last_end.is_some_and(|end| start <= end) {
            continue;
        }
        let end = contrast_end(bytes, start);
        if end > start {
            out[kept] = (start, end);
            kept += 1;
            last_end = Some(end);
        }
    }
    out.truncate(kept);
}

/// How many paragraphs (runs of lines that are not blank) a text has.
pub fn paragraphs(text: &str) -> usize {
    let mut count = 0;
    let mut in_paragraph = false;
    for line in lines(text) {
        let blank = is_blank(line);
        count += usize::from(!blank && !in_paragraph);
        in_paragraph = !blank;
    }
    count
}

/// Whether a blank line (a line of white space only) lies inside `text`, between two
/// of its line breaks.
pub fn holds_blank_line(text: &str) -> bool {
    let inner = match (text.find('\n'), text.rfind('\n')) {
        (Some(first), Some(last)) if first < last => &text[first + 1..last],
        _ => return false,
    };
    lines(inner).any(is_blank)
}

/// The lines of `text`, split at `\n` (a `\r` before it stays, and counts as white
/// space), found with `memchr`: `str::split('\n')` gives the same lines but made the
/// classifier 3 to 6% slower on 1 MiB of text (paired medians of alternated runs).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut from = Some(0);
    std::iter::from_fn(move || {
        let at = from?;
        let rest = &text[at..];
        match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                from = Some(at + i + 1);
                Some(&rest[..i])
            }
            None => {
                from = None;
                Some(rest)
            }
        }
    })
}

/// Whether `line` is white space only, read byte by byte up to its first byte that
/// is not ASCII white space (nearly always its first).
fn is_blank(line: &str) -> bool {
    match line.bytes().position(|b| !is_ascii_space(b)) {
        None => true,
        Some(at) => line.as_bytes()[at] >= 0x80 && line[at..].trim().is_empty(),
    }
}

/// The ASCII characters that `char::is_whitespace` accepts.
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | b' ')
}

/// Whether `text` holds at least `n` words separated by white space (as
/// `split_whitespace` finds them), read only as far as the `n`-th.
pub fn has_words(text: &str, n: usize) -> bool {
    if n == 0 {
        return true;
    }
    let bytes = text.as_bytes();
    let (mut count, mut in_word, mut i) = (0, false, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let (space, width) = if b < 0x80 {
            (is_ascii_space(b), 1)
        } else {
            let c = text[i..].chars().next().expect("char boundary");
            (c.is_whitespace(), c.len_utf8())
        };
        if !space && !in_word {
            count += 1;
            if count == n {
                return true;
            }
        }
        in_word = !space;
        i += width;
    }
    false
}

/// Whether `bytes[start..end]` is a whole word: no letter or digit (nor a non-ASCII
/// byte, which may be part of one) right before or after it.
fn is_boundary(bytes: &[u8], start: usize, end: usize) -> bool {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b >= 0x80;
    let before = start.checked_sub(1).map(|i| &bytes[i]);
    !before.is_some_and(word) && !bytes.get(end).is_some_and(word)
}

/// The ASCII word that ends just before `at`, past spaces and tabs (empty if none).
fn word_before(bytes: &[u8], at: usize) -> &[u8] {
    let end = at
        - bytes[..at]
            .iter()
            .rev()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
    let start = end
        - bytes[..end]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
    &bytes[start..end]
}

/// The ASCII word that starts at `at` past spaces and tabs (empty if none), and its end.
fn word_after(bytes: &[u8], at: usize) -> (&[u8], usize) {
    let start = at
        + bytes[at..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
    let end = start
        + bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
    (&bytes[start..end], end)
}

/// Where a contrast that starts at `start` ends: at the next punctuation mark that
/// ends a clause, or a line break unless the next line goes on in lower case (a
/// wrapped sentence).
fn contrast_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b',' | b'.' | b';' | b':' | b'!' | b'?' | b'(' | b')' | b'[' | b']' => return i,
            b'\n' => {
                let next = bytes[i + 1..].iter().find(|b| !matches!(b, b' ' | b'\t'));
                if !next.is_some_and(u8::is_ascii_lowercase) {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {

    fn contrasts(text: &str) -> Vec<&str> {
        let mut spans = Vec::new();
        super::contrast_spans(text, &mut spans);
        spans.iter().map(|&(s, e)| text[s..e].trim()).collect()
    }

    #[test]
    fn contrast_spans_cover_what_the_subject_is_not() {
        assert_eq!(
            contrasts("closer to an inference grid than to a GPU rental market. It pays."),
            ["a GPU rental market"]
        );
        assert_eq!(
            contrasts("Rather than renting GPUs, it pools laptops"),
            ["renting GPUs"]
        );
        assert_eq!(
            contrasts("models as opposed to raw compute; and more"),
            ["raw compute"]
        );
        assert_eq!(
            contrasts("cheaper than an\nhourly cloud rental\n- next item"),
            ["hourly cloud rental"]
        );
        assert_eq!(
            contrasts("a token rather than\n\nA new paragraph"),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn paragraphs_are_separated_by_blank_lines() {
        assert_eq!(super::paragraphs("a\nb\n\n  \nc\n\nd"), 3);
        assert_eq!(super::paragraphs("\n\none line\n"), 1);
        assert_eq!(super::paragraphs(""), 0);
        assert_eq!(super::paragraphs("a\nb\n\n  \nc\n\nd\n"), 3);
        assert!(super::holds_blank_line("end of one.\n\nStart of"));
        assert!(super::holds_blank_line("x\n \t\ny"));
        assert!(!super::holds_blank_line("a wrapped\nline, then more"));
        assert!(!super::holds_blank_line("one\n"));
        // Windows line ends, and Unicode white space, as `str::trim` sees it.
        assert_eq!(super::paragraphs("a\r\nb\r\n\r\nc\r\n"), 2);
        assert!(super::holds_blank_line("a\r\n\r\nb"));
        assert_eq!(super::paragraphs("a\n\u{a0}\u{3000}\nb\n\u{2014}\nc"), 2);
        assert!(super::holds_blank_line("\n\na"));
        assert!(!super::holds_blank_line("\na\n"));
        assert!(super::holds_blank_line("a\n\n\nb"));
        // The same answers as reading the lines with `str::lines` and `str::trim`.
        let reference_paragraphs = |text: &str| {
            let (mut count, mut inside) = (0, false);
            for line in text.lines() {
                let blank = line.trim().is_empty();
                count += usize::from(!blank && !inside);
                inside = !blank;
            }
            count
        };
        let reference_blank = |text: &str| {
            let breaks: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
            breaks
                .windows(2)
                .any(|w| text[w[0] + 1..w[1]].trim().is_empty())
        };
        let pieces = ["a", " ", "\n", "\r\n", "\t", "\u{a0}", "\u{2014}", "b c"];
        let mut state = 7u32;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..state % 9 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                text.push_str(pieces[(state >> 16) as usize % pieces.len()]);
            }
            assert_eq!(
                super::paragraphs(&text),
                reference_paragraphs(&text),
                "{text:?}"
            );
            assert_eq!(
                super::holds_blank_line(&text),
                reference_blank(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn words_are_counted_as_split_whitespace_counts_them() {
        for text in [
            "",
            "one",
            " one  two\tthree\nfour\r\n",
            "a\u{a0}b\u{2003}c \u{1c}d \u{b}e",
            "— so-called “words” — ",
            "日本語 テキスト",
        ] {
            let words = text.split_whitespace().count();
            for n in 0..=words + 1 {
                assert_eq!(super::has_words(text, n), n <= words, "{text:?} {n}");
            }
        }
    }

    #[test]
    fn quantities_and_other_words_are_no_contrast() {
        for text in [
            "more than a thousand GPUs",
            "less than an hour",
            "other than a token",
            "thank the authors",
            "Nathan rather liked it",
            "than",
            "rather than",
            "opposed to it",
            "Khan than a",
            "not a check that users are human",
        ] {
            assert_eq!(contrasts(text), Vec::<&str>::new(), "{text}");
        }
        assert_eq!(contrasts("better than a human"), ["human"]);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("plain – ünï"), "plain – ünï");
        assert_eq!(printable("a\u{1b}[31mb\0c\nd"), "a\\u{1b}[31mb\\u{0}c\\nd");
    }

    #[test]
    fn british_spellings_become_american() {
        for (british, american) in [
            ("decentralised", "decentralized"),
            ("decentralisation", "decentralization"),
            ("tokenising", "tokenizing"),
            ("monetises", "monetizes"),
            ("recognisable", "recognizable"),
            ("organisers", "organizers"),
            ("labelled", "labeled"),
            ("modelling", "modeling"),
            ("travellers", "travelers"),
            ("signalling", "signaling"),
            ("centre", "center"),
            ("datacentres", "datacenters"),
            ("licences", "licenses"),
            ("programme", "program"),
            ("analysed", "analyzed"),
        ] {
            assert_eq!(american_spelling(british), american, "{british}");
        }
        // American words, words written -ise everywhere and short words stay.
        for same in [
            "decentralized",
            "raise",
            "noise",
            "advise",
            "supervised",
            "precise",
            "otherwise",
            "comprise",
            "enterprise",
            "promised",
            "compromise",
            "exercise",
            "advertising",
            "expertise",
            "franchise",
            "merchandise",
            "despise",
            "disguised",
            "surprised",
            "selling",
            "telling",
            "dwelling",
            "spelling",
            "counselling",
            "rise",
            "wise",
            "analyses",
            "décentralisé",
        ] {
            assert_eq!(american_spelling(same), same, "{same}");
        }
    }

    use super::*;

    #[test]
    fn newlines_are_counted_across_chunks() {
        let text: String = (0..700)
            .map(|i| if i % 7 == 0 { '\n' } else { 'x' })
            .collect();
        for end in [0, 1, 254, 255, 256, 511, 700] {
            let want = text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            assert_eq!(count_newlines(&text.as_bytes()[..end]), want, "{end} bytes");
        }
    }

    #[test]
    fn markdown_is_flattened() {
        let t = markdown_to_text(
            "# Head\n\nSome **bold** [link](http://x.y) and `code`.\n\n- a\n- b\n\n```\nfn x()\n```\n<b>tag</b>",
        );
        assert!(t.contains("Head\nSome bold link and code."), "{t}");
        assert!(t.contains("fn x()"));
        assert!(!t.contains("http"));
        assert!(!t.contains("<b>"));
        assert!(t.contains('a') && t.contains('b'));
    }

    #[test]
    fn words_have_spans_and_lines() {
        let text = "GPU-based\nzero-knowledge proofs, l'AI";
        let w: Vec<_> = words(text)
            .map(|w| (&text[w.start..w.end], w.line))
            .collect();
        assert_eq!(
            w,
            vec![
                ("GPU", 1),
                ("based", 1),
                ("zero", 2),
                ("knowledge", 2),
                ("proofs", 2),
                ("l", 2),
                ("AI", 2)
            ]
        );
    }

    #[test]
    fn normalisation_handles_plurals_and_stems() {
        let s = stemmer();
        assert_eq!(normalize_word("GPUs", &s), normalize_word("gpu", &s));
        assert_eq!(normalize_word("LLMs", &s), normalize_word("LLM", &s));
        assert_eq!(
            normalize_word("verifiable", &s),
            normalize_word("verify", &s)
        );
        assert_eq!(normalize_word("Markets", &s), normalize_word("market", &s));
        assert_eq!(normalize_word("status", &s), "status");
        // Short words in capitals are acronyms and tickers, not plurals to stem.
        assert_eq!(normalize_word("MLS", &s), "mls");
        // Latin letters in other forms fold to ASCII.
        assert_eq!(normalize_word("ＧＰＵｓ", &s), normalize_word("GPU", &s));
        assert_eq!(normalize_word("𝔾ℙ𝕌", &s), "gpu");
        assert_eq!(
            normalize_word("décentralisé", &s),
            normalize_word("decentralise", &s)
        );
        assert_eq!(normalize_word("Straße", &s), normalize_word("strasse", &s));
        assert_eq!(fold_latin("数据ａｉ"), "数据ai");
        assert!(matches!(fold_latin("gpu"), Cow::Borrowed("gpu")));
        assert_ne!(normalize_word("MLS", &s), normalize_word("ML", &s));
        assert_eq!(normalize_word("IPFS", &s), "ipfs");
        assert_eq!(normalize_word("TEEs", &s), normalize_word("tee", &s));
        assert_eq!(normalize_word("AGENTS", &s), normalize_word("agent", &s));
        assert_eq!(normalize_word("agents", &s), normalize_word("agent", &s));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("héllo world", 5), "héllo…");
        assert_eq!(truncate_chars("short", 10), "short");
    }
}
