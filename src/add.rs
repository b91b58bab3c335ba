//! `aikb add`: turning a name and a description into a new project note.
//!
//! This module owns the pure parts: normalising the input ([`NewNote::normalized`]),
//! the file name ([`slugify`]), every refusal ([`validate`]), the note text
//! ([`render_note`], always double-quoted YAML so any name reads back exactly) and
//! the no-clobber write ([`write()`]). It never prints and never touches the index;
//! [`crate::app`] does both.

use std::path::PathBuf;

use crate::corpus::{CORPUS_DIR, Kind, Note, PROJECTS_DIR};
use crate::error::{Error, Result};
use crate::kb::Kb;
use crate::taxonomy::{NONE, Taxonomy};

/// Largest description accepted, in bytes (1 MiB).
pub const MAX_DESCRIPTION_BYTES: usize = 1 << 20;

/// Longest slug (file stem) generated from a name, in characters.
pub const MAX_SLUG_CHARS: usize = 64;

/// Longest name, alias or tag accepted, in characters.
pub const MAX_FIELD_CHARS: usize = 200;

/// Longest website URL accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// A project note to be added, as given on the command line.
///
/// Build it, call [`NewNote::normalized`], then [`validate`]; [`render_note`] and
/// [`write()`] expect a normalised, validated note.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewNote {
    /// The project's name (`name:`); the file name is derived from it unless
    /// `file_stem` is given.
    pub name: String,
    /// The file stem chosen by the user (`--slug`), in place of one made from the name.
    pub file_stem: Option<String>,
    /// Token ticker, stored upper-case without a leading `$`.
    pub ticker: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// Other names of the project.
    pub aliases: Vec<String>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Pinned category id (or `none`), lower-case.
    pub category: Option<String>,
    /// Pinned subcategory id, lower-case.
    pub subcategory: Option<String>,
    /// The note's body (Markdown).
    pub description: String,
}

impl NewNote {
    /// Normalises the input the way the corpus reads it back: trims every field,
    /// drops a leading `$` from the ticker and upper-cases it, lower-cases category
    /// ids, and makes the description use `\n` line ends, start at its first
    /// non-blank line and end with exactly one newline. Idempotent.
    pub fn normalized(self) -> NewNote {
        let trim = |s: String| s.trim().to_string();
        NewNote {
            name: trim(self.name),
            file_stem: self.file_stem.map(trim),
            ticker: self.ticker.map(|t| {
                let t = t.trim();
                t.strip_prefix('$').unwrap_or(t).to_uppercase()
            }),
            website: self.website.map(trim),
            aliases: self.aliases.into_iter().map(trim).collect(),
            tags: self.tags.into_iter().map(trim).collect(),
            category: self.category.map(|c| c.trim().to_lowercase()),
            subcategory: self.subcategory.map(|s| s.trim().to_lowercase()),
            description: normalize_description(&self.description),
        }
    }

    /// The file stem of the note: the one given, else [`slugify`] of the name.
    pub fn slug(&self) -> String {
        match &self.file_stem {
            Some(stem) => stem.clone(),
            None => slugify(&self.name),
        }
    }

    /// The note's path relative to the root: `corpus/projects/<slug>.md`.
    pub fn rel_path(&self) -> String {
        format!("{CORPUS_DIR}/{PROJECTS_DIR}/{}.md", self.slug())
    }

    /// The note's id: `projects/<slug>`.
    pub fn id(&self) -> String {
        format!("{PROJECTS_DIR}/{}", self.slug())
    }
}

/// `\r\n` and lone `\r` become `\n`, a BOM is dropped, leading blank lines and
/// trailing whitespace are removed, and one final newline is added (an empty
/// description stays empty so [`validate`] can refuse it).
fn normalize_description(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if !line.trim().is_empty() {
            break;
        }
        start += line.len();
    }
    let body = text[start..].trim_end();
    if body.is_empty() {
        String::new()
    } else {
        format!("{body}\n")
    }
}

/// Makes a file stem from a project name: lower-case ASCII letters and digits
/// separated by single hyphens, at most [`MAX_SLUG_CHARS`] characters.
///
/// Letters and digits of any script are transliterated with [`deunicode`] (`Ü` → `u`,
/// `ß` → `ss`, `Ｆｏｏ` → `foo`, `Биткоин` → `bitkoin`, `火币` → `huo-bi`), combining
/// marks and apostrophes vanish, and everything else (spaces, punctuation, `/`, `\`,
/// `.`, emoji) separates words. The result can only contain `[a-z0-9-]`, so it can
/// never name another folder; it is empty when the name has no letter or digit.
pub fn slugify(name: &str) -> String {
    // A word separator is written lazily, before the next kept piece, so runs
    // collapse and no hyphen leads.
    fn push(piece: &str, gap: &mut bool, out: &mut String) {
        if *gap && !out.is_empty() {
            out.push('-');
        }
        *gap = false;
        out.push_str(piece);
    }
    let mut out = String::new();
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            push(
                c.to_ascii_lowercase().encode_utf8(&mut [0; 4]),
                &mut gap,
                &mut out,
            );
        } else if matches!(c, '\'' | '’' | 'ʼ') {
            // Apostrophes join: "Let's" → "lets".
        } else if c.is_ascii() {
            gap = true;
        } else {
            match deunicode::deunicode_char(c) {
                // Combining marks ("Ü" written as U and a diaeresis).
                Some("") => {}
                // A letter or digit spelled in ASCII: "Æ" → "AE", "币" → "Bi " (a
                // syllable, with the space that parts it from the next). Emoji and
                // symbols are left out, although deunicode names them ("🚀" → "rocket").
                Some(ascii) if c.is_alphanumeric() => {
                    for piece in ascii.split(|b: char| !b.is_ascii_alphanumeric()) {
                        if piece.is_empty() {
                            gap = true;
                        } else {
                            push(&piece.to_ascii_lowercase(), &mut gap, &mut out);
                        }
                    }
                }
                _ => gap = true,
            }
        }
    }
    if out.len() > MAX_SLUG_CHARS {
        // Cut at a word boundary when one is reasonably close to the limit.
        let cut = &out[..MAX_SLUG_CHARS];
        let at_boundary = out.as_bytes()[MAX_SLUG_CHARS] == b'-';
        let end = match cut.rfind('-') {
            Some(i) if !at_boundary && i >= MAX_SLUG_CHARS / 2 => i,
            _ => MAX_SLUG_CHARS,
        };
        out.truncate(end);
    }
    let out = out.trim_matches('-').to_string();
    if is_reserved_name(&out) {
        // `nul.md` and friends cannot be created on Windows.
        format!("{out}-project")
    } else {
        out
    }
}

/// File stems Windows reserves for devices, whatever the extension.
fn is_reserved_name(stem: &str) -> bool {
    matches!(stem, "con" | "prn" | "aux" | "nul")
        || (stem.len() == 4
            && (stem.starts_with("com") || stem.starts_with("lpt"))
            && matches!(stem.as_bytes()[3], b'1'..=b'9'))
}

/// Shows user input inside a one-line message: control characters escaped.
fn shown(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if is_forbidden_in_line(c) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that may not appear in a one-line field (name, alias, tag, URL).
fn is_forbidden_in_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

/// Checks a one-line text field: not empty, no control characters, not too long.
fn check_line(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(invalid(format!("{what} is empty")));
    }
    if let Some(c) = value.chars().find(|&c| is_forbidden_in_line(c)) {
        return Err(invalid(format!(
            "{what} `{}` contains a control character (U+{:04X}); names, aliases and tags must be one line of text",
            shown(value),
            c as u32
        )));
    }
    let n = value.chars().count();
    if n > MAX_FIELD_CHARS {
        return Err(invalid(format!(
            "{what} is {n} characters long; the limit is {MAX_FIELD_CHARS}"
        )));
    }
    Ok(())
}

/// Checks a normalised note against the taxonomy and the existing notes.
///
/// Refuses (with [`Error::Invalid`] and a one-line message): an empty or unusable
/// name (control characters, a path separator, no letter or digit for the file
/// name); a bad ticker, URL, alias or tag; an unknown category or subcategory; an
/// empty, oversized or control-character description; and any name, alias, ticker
/// or file name already used by an existing project (case-insensitive).
pub fn validate(new: &NewNote, taxonomy: &Taxonomy, existing: &[Note]) -> Result<()> {
    check_line("the name", &new.name)?;
    if let Some(sep) = new.name.chars().find(|c| matches!(c, '/' | '\\')) {
        return Err(invalid(format!(
            "the name `{}` contains a path separator (`{sep}`); give the plain project name and put other spellings in --alias",
            new.name
        )));
    }
    if let Some(stem) = &new.file_stem {
        // Only what `slugify` could have made, so a chosen file name is as safe and as
        // portable as a generated one.
        let made = slugify(stem);
        if stem.is_empty() || made != *stem {
            let example = if made.is_empty() {
                "huobi-global"
            } else {
                &made
            };
            return Err(invalid(format!(
                "--slug `{}` must be lower-case ASCII letters and digits joined by single hyphens, at most {MAX_SLUG_CHARS} characters, e.g. `{example}`",
                shown(stem),
            )));
        }
    }
    let slug = new.slug();
    if slug.is_empty() {
        return Err(invalid(format!(
            "the name `{}` has no letter or digit to make a file name from; give the project's name in words, or a file name with --slug",
            new.name
        )));
    }
    if let Some(t) = &new.ticker {
        let ok = (1..=12).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(invalid(format!(
                "ticker `{}` must be 1 to 12 letters or digits (a leading `$` is dropped), e.g. FIL",
                shown(t)
            )));
        }
    }
    if let Some(url) = &new.website {
        check_url(url)?;
    }
    for a in &new.aliases {
        check_line("an alias", a)?;
    }
    for t in &new.tags {
        check_line("a tag", t)?;
    }
    check_label(new, taxonomy)?;
    check_description(&new.description)?;
    check_duplicates(new, &slug, existing)
}

/// `http(s)://host[:port][/…]` where the host has a dot or is `localhost`.
fn check_url(url: &str) -> Result<()> {
    let bad = |why: &str| {
        invalid(format!(
            "website `{}` {why}; expected e.g. https://example.org",
            shown(url)
        ))
    };
    if url.len() > MAX_URL_BYTES {
        return Err(invalid(format!(
            "website is {} bytes long; the limit is {MAX_URL_BYTES}",
            url.len()
        )));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || is_forbidden_in_line(c))
    {
        return Err(bad("contains spaces or control characters"));
    }
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err(bad("is not an http:// or https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad("has a user name in it"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(p) = port
        && (!p.chars().all(|c| c.is_ascii_digit()) || p.parse::<u16>().is_err())
    {
        return Err(bad("has a bad port"));
    }
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    if !labels_ok || !(host.contains('.') || host.eq_ignore_ascii_case("localhost")) {
        return Err(bad("has no valid host name (it needs a dot, or localhost)"));
    }
    Ok(())
}

/// The pinned category and subcategory must exist in the taxonomy.
fn check_label(new: &NewNote, taxonomy: &Taxonomy) -> Result<()> {
    let Some(cat) = &new.category else {
        if let Some(sub) = &new.subcategory {
            return Err(invalid(format!(
                "subcategory `{}` needs a category (--category ID)",
                shown(sub)
            )));
        }
        return Ok(());
    };
    if cat == NONE {
        if new.subcategory.is_some() {
            return Err(invalid("category `none` (not AI) takes no subcategory"));
        }
        return Ok(());
    }
    let Some(c) = taxonomy.category(cat) else {
        return Err(invalid(format!(
            "unknown category `{}`; expected one of: {}",
            shown(cat),
            taxonomy.category_ids().join(", ")
        )));
    };
    if let Some(sub) = &new.subcategory
        && taxonomy.subcategory(cat, sub).is_none()
    {
        let ids: Vec<&str> = c.subcategories.iter().map(|s| s.id.as_str()).collect();
        return Err(invalid(format!(
            "unknown subcategory `{}` for category `{cat}`; expected one of: {}",
            shown(sub),
            ids.join(", ")
        )));
    }
    Ok(())
}

/// Not empty, at most [`MAX_DESCRIPTION_BYTES`], no control characters but tab and newline.
fn check_description(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(invalid(
            "the description is empty; pass --description TEXT or --from FILE (- for standard input)",
        ));
    }
    if text.len() > MAX_DESCRIPTION_BYTES {
        return Err(invalid(format!(
            "the description is {} bytes; the limit is {MAX_DESCRIPTION_BYTES} (1 MiB)",
            text.len()
        )));
    }
    for (i, line) in text.lines().enumerate() {
        if let Some(c) = line.chars().find(|&c| c.is_control() && c != '\t') {
            return Err(invalid(format!(
                "the description contains a control character (U+{:04X}) on line {}",
                c as u32,
                i + 1
            )));
        }
    }
    Ok(())
}

/// Refuses a name, alias, ticker or file name that an existing project already uses.
fn check_duplicates(new: &NewNote, slug: &str, existing: &[Note]) -> Result<()> {
    let mut mine: Vec<(&str, String)> = vec![("name", new.name.clone())];
    mine.extend(new.ticker.iter().map(|t| ("ticker", t.clone())));
    mine.extend(new.aliases.iter().map(|a| ("alias", a.clone())));
    let projects = || existing.iter().filter(|n| n.kind == Kind::Project);
    let stem = |n: &Note| n.id.rsplit('/').next().unwrap_or(&n.id).to_string();
    // Names first: "name `X` is already used by …" says more than a file-name clash.
    for note in projects() {
        let mut theirs: Vec<(&str, String)> = vec![("name", note.title())];
        theirs.extend(
            note.front
                .ticker
                .iter()
                .map(|t| ("ticker", t.trim_start_matches('$').to_string())),
        );
        theirs.extend(note.front.aliases.iter().map(|a| ("alias", a.clone())));
        theirs.push(("file name", stem(note)));
        for (what, value) in &mine {
            let key = value.to_lowercase();
            if let Some((their_what, their_value)) =
                theirs.iter().find(|(_, v)| v.to_lowercase() == key)
            {
                return Err(invalid(format!(
                    "{what} `{value}` is already used by {} (its {their_what} `{their_value}`); aikb add never duplicates a project",
                    note.path
                )));
            }
        }
    }
    if let Some(note) = projects().find(|n| stem(n).eq_ignore_ascii_case(slug)) {
        return Err(invalid(format!(
            "the file name `{slug}.md` ({}) is already used by {}; aikb add never overwrites a note: choose another with --slug",
            match &new.file_stem {
                Some(_) => "from --slug".to_string(),
                None => format!("from the name `{}`", new.name),
            },
            note.path
        )));
    }
    Ok(())
}

/// Writes `s` as a double-quoted YAML scalar, escaping `"`, `\` and every
/// character YAML would not read back verbatim (controls, line separators, BOM).
pub fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (' '..='~').contains(&c) => out.push(c),
            c if (c as u32) < 0xA0 => out.push_str(&format!("\\x{:02X}", c as u32)),
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn yaml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| yaml_quote(i)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The full text of the note: front matter with keys in the order name, ticker,
/// website, aliases, tags, sources (always `[]`), category, subcategory (each only
/// when given), every value double-quoted; then a blank line and the description.
pub fn render_note(new: &NewNote) -> String {
    let mut out = String::from("---\n");
    out.push_str(&format!("name: {}\n", yaml_quote(&new.name)));
    if let Some(t) = &new.ticker {
        out.push_str(&format!("ticker: {}\n", yaml_quote(t)));
    }
    if let Some(w) = &new.website {
        out.push_str(&format!("website: {}\n", yaml_quote(w)));
    }
    if !new.aliases.is_empty() {
        out.push_str(&format!("aliases: {}\n", yaml_list(&new.aliases)));
    }
    if !new.tags.is_empty() {
        out.push_str(&format!("tags: {}\n", yaml_list(&new.tags)));
    }
    out.push_str("sources: []\n");
    if let Some(c) = &new.category {
        out.push_str(&format!("category: {}\n", yaml_quote(c)));
    }
    if let Some(s) = &new.subcategory {
        out.push_str(&format!("subcategory: {}\n", yaml_quote(s)));
    }
    out.push_str("---\n\n");
    out.push_str(&new.description);
    out
}

/// Renders the note and parses it back as the corpus will, checking that every
/// field reads back exactly as given. Returns the parsed note (for classifying).
pub fn render_and_parse(new: &NewNote) -> Result<(String, Note)> {
    let text = render_note(new);
    let rel = new.rel_path();
    let note = crate::corpus::parse_note(&rel, text.as_bytes()).map_err(|d| {
        invalid(format!(
            "internal error: the new note would not parse ({d}); nothing written"
        ))
    })?;
    let f = &note.front;
    let same = f.name.as_deref() == Some(new.name.as_str())
        && f.ticker == new.ticker
        && f.website == new.website
        && f.aliases == new.aliases
        && f.tags == new.tags
        && f.sources.is_empty()
        && f.category == new.category
        && f.subcategory == new.subcategory
        && f.extra.is_empty()
        && note.body.strip_prefix('\n') == Some(new.description.as_str());
    if !same || note.kind != Kind::Project {
        return Err(invalid(format!(
            "internal error: {rel} would not read back as written; nothing written"
        )));
    }
    Ok((text, note))
}

/// Takes the knowledge base's add lock (`<root>/.aikb/add.lock`), held from reading the
/// corpus for validation to writing the new note.
pub fn lock(kb: &Kb) -> Result<crate::fsutil::FileLock> {
    let dir = kb.root.join(".aikb");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let what = format!("corpus {}", kb.root.join("corpus").display());
    crate::fsutil::FileLock::acquire(&dir.join("add.lock"), &what, crate::index::lock_timeout())
}

/// Writes the note to `corpus/projects/<slug>.md` atomically and without ever
/// replacing a file (even one created by another process at the same moment).
/// Returns the full path. The note must have passed [`validate`].
pub fn write(kb: &Kb, new: &NewNote) -> Result<PathBuf> {
    let slug = new.slug();
    if slug.is_empty() {
        return Err(invalid(format!(
            "the name `{}` has no letter or digit to make a file name from",
            new.name
        )));
    }
    // Never a path of another shape, even for a note that skipped `validate`.
    if slugify(&slug) != slug {
        return Err(invalid(format!(
            "`{}` is not a file name aikb add writes",
            shown(&slug)
        )));
    }
    let (text, _) = render_and_parse(new)?;
    let dir = kb.projects_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(format!("{slug}.md"));
    crate::fsutil::write_new(&path, text.as_bytes()).map_err(|e| match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            invalid(format!(
                "{} already exists; aikb add never overwrites a note",
                new.rel_path()
            ))
        }
        other => other,
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::parse_note;

    fn note(name: &str) -> NewNote {
        NewNote {
            name: name.into(),
            description: "A decentralized GPU marketplace for AI inference.".into(),
            ..NewNote::default()
        }
        .normalized()
    }

    fn existing() -> Vec<Note> {
        vec![
            parse_note(
                "corpus/projects/filecoin.md",
                b"---\nname: Filecoin\nticker: FIL\naliases: [Filecoin Network]\n---\nStorage.\n",
            )
            .unwrap(),
            parse_note(
                "corpus/projects/fetch-ai.md",
                b"---\nname: Fetch.ai\nticker: FET\n---\nAgents.\n",
            )
            .unwrap(),
            parse_note(
                "corpus/articles/gpu.md",
                b"---\ntitle: Compute Report\n---\nText.\n",
            )
            .unwrap(),
        ]
    }

    /// The default taxonomy, parsed once (parsing it is slow in debug builds).
    fn taxonomy() -> &'static Taxonomy {
        static TAX: std::sync::OnceLock<Taxonomy> = std::sync::OnceLock::new();
        TAX.get_or_init(Taxonomy::default_taxonomy)
    }

    fn refused(n: &NewNote) -> String {
        match validate(n, taxonomy(), &existing()) {
            Err(Error::Invalid(m)) => {
                assert!(!m.contains('\n'), "one line: {m}");
                m
            }
            other => panic!("expected a refusal for {n:?}, got {other:?}"),
        }
    }

    #[test]
    fn slugify_table() {
        let long = "Very Long Project Name ".repeat(10);
        let cases = [
            ("Akash Network", "akash-network"),
            ("Fetch.ai", "fetch-ai"),
            ("  --Foo__Bar--  ", "foo-bar"),
            ("../../etc/x", "etc-x"),
            ("a/b", "a-b"),
            ("C:\\x", "c-x"),
            ("..", ""),
            ("/", ""),
            ("", ""),
            ("!!!", ""),
            ("🚀🤖", ""),
            ("🚀 Rocket 🤖", "rocket"),
            ("Ünïcödé Protocol", "unicode-protocol"),
            ("Straße Æther Øre Łódź", "strasse-aether-ore-lodz"),
            ("Let's Go", "lets-go"),
            ("日本 Chain", "ri-ben-chain"),
            ("火币", "huo-bi"),
            ("Биткоин Сеть", "bitkoin-set"),
            ("Ἀθήνα", "athena"),
            ("İstanbul", "istanbul"),
            ("U\u{308}ber", "uber"),
            ("Ｆｏｏ　Ｂａｒ２", "foo-bar2"),
            ("ＡＩ／ｘ", "ai-x"),
            ("Foo — Bar", "foo-bar"),
            ("a\0b\nc", "a-b-c"),
            ("ÀÉÎÕÜ", "aeiou"),
            ("$TAO", "tao"),
            ("NUL", "nul-project"),
            ("Con", "con-project"),
            ("COM1", "com1-project"),
            ("lpt9", "lpt9-project"),
            ("COM10", "com10"),
            ("Console", "console"),
        ];
        for (name, want) in cases {
            assert_eq!(slugify(name), want, "{name:?}");
        }
        let s = slugify(&long);
        assert!(
            s.len() <= MAX_SLUG_CHARS && s.len() > MAX_SLUG_CHARS / 2,
            "{s}"
        );
        assert!(
            !s.ends_with('-') && s.starts_with("very-long-project-name"),
            "{s}"
        );
        assert_eq!(slugify(&"x".repeat(500)), "x".repeat(MAX_SLUG_CHARS));
        for name in [
            "../../etc/x",
            "a/b",
            "C:\\x",
            "..",
            long.as_str(),
            "\u{0}/..\\",
        ] {
            let s = slugify(name);
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{s}"
            );
            assert!(
                !s.starts_with('-') && !s.ends_with('-') && !s.contains("--"),
                "{s}"
            );
        }
    }

    #[test]
    fn yaml_escaping_round_trips_through_the_corpus_parser() {
        let names = [
            "Foo: Bar",
            "# not a comment",
            "say \"hi\"",
            "it's",
            "back\\slash \\n not a newline",
            "- leading dash",
            "[flow] {map}",
            "& anchor * alias ! tag",
            "| literal > folded",
            "% directive @ at ` backtick",
            "Ünïcödé 日本 🚀",
            "null",
            "true",
            "123",
            "0x1F",
            "~",
            "'single'",
            "key: value # comment",
            "ends with colon:",
            "---",
            "...",
            "sep\u{2028}line\u{feff}bom\u{85}nel",
            "tab\there",
        ];
        for name in names {
            let n = NewNote {
                name: name.into(),
                file_stem: None,
                ticker: Some("123".into()),
                website: Some("https://example.org/a?b=c#d".into()),
                aliases: vec![name.into(), "x, y".into()],
                tags: vec![name.into(), "[tag]".into()],
                category: Some("resources".into()),
                subcategory: Some("compute".into()),
                description: "Body with --- and \"quotes\".\n---\nmore\n".into(),
            };
            let text = render_note(&n);
            let parsed = parse_note("corpus/projects/x.md", text.as_bytes())
                .unwrap_or_else(|d| panic!("{d}\n{text}"));
            assert_eq!(parsed.front.name.as_deref(), Some(name), "{text}");
            assert_eq!(
                parsed.front.aliases,
                vec![name.to_string(), "x, y".into()],
                "{text}"
            );
            assert_eq!(
                parsed.front.tags,
                vec![name.to_string(), "[tag]".into()],
                "{text}"
            );
            assert_eq!(parsed.front.ticker.as_deref(), Some("123"));
            assert_eq!(parsed.body, format!("\n{}", n.description));
            assert!(parsed.front.extra.is_empty(), "{:?}", parsed.front.extra);
            // Names without surrounding spaces also pass the full self-check.
            if name.trim() == name {
                render_and_parse(&n).unwrap_or_else(|e| panic!("{e}\n{text}"));
            }
        }
    }

    #[test]
    fn render_note_is_exact_and_ordered() {
        let n = NewNote {
            name: " Render ".into(),
            file_stem: None,
            ticker: Some(" $rndr ".into()),
            website: Some("https://render.x".into()),
            aliases: vec!["Render Network".into()],
            tags: vec!["gpu".into(), "rendering".into()],
            category: Some("Resources".into()),
            subcategory: Some("COMPUTE".into()),
            description: "\r\n\r\nGPU rendering.\r\nSecond line.  \r\n\r\n".into(),
        }
        .normalized();
        assert_eq!(
            render_note(&n),
            "---\nname: \"Render\"\nticker: \"RNDR\"\nwebsite: \"https://render.x\"\n\
             aliases: [\"Render Network\"]\ntags: [\"gpu\", \"rendering\"]\nsources: []\n\
             category: \"resources\"\nsubcategory: \"compute\"\n---\n\nGPU rendering.\nSecond line.\n"
        );
        assert_eq!(n.clone().normalized(), n, "normalising is idempotent");
        let minimal = note("Zeta");
        assert_eq!(
            render_note(&minimal),
            "---\nname: \"Zeta\"\nsources: []\n---\n\nA decentralized GPU marketplace for AI inference.\n"
        );
        assert_eq!(
            (minimal.rel_path().as_str(), minimal.id().as_str()),
            ("corpus/projects/zeta.md", "projects/zeta")
        );
    }

    #[test]
    fn validation_accepts_a_good_note() {
        let tax = taxonomy();
        let mut n = note("Venice Compute");
        n.ticker = Some("VCX".into());
        n.website = Some("http://localhost:8080/x".into());
        n.category = Some("resources".into());
        n.subcategory = Some("compute".into());
        validate(&n, tax, &existing()).unwrap();
        n.category = Some("none".into());
        n.subcategory = None;
        n.website = Some("https://sub.example.co.uk".into());
        validate(&n, tax, &existing()).unwrap();
    }

    #[test]
    fn validation_refusals() {
        let with = |f: &dyn Fn(&mut NewNote)| {
            let mut n = note("Newproj");
            f(&mut n);
            refused(&n)
        };
        // Duplicates, case-insensitively, against name, alias, ticker and file name.
        assert!(refused(&note("FILECOIN")).contains("corpus/projects/filecoin.md"));
        assert!(
            with(&|n| n.aliases = vec!["filecoin network".into()])
                .contains("alias `filecoin network`")
        );
        assert!(with(&|n| n.ticker = Some("FIL".into())).contains("its ticker `FIL`"));
        assert!(
            refused(&note("Fetch AI")).contains("fetch-ai.md"),
            "same slug"
        );
        // A file name chosen with --slug: only what a name could make, never a clash.
        let stem = |slug: &str| with(&|n| n.file_stem = Some(slug.into()));
        assert!(stem("fetch-ai").contains("fetch-ai.md` (from --slug)"));
        assert!(stem("Huobi").contains("e.g. `huobi`"));
        assert!(stem("../x").contains("e.g. `x`"));
        assert!(stem("a--b").contains("single hyphens"));
        assert!(stem("-a").contains("single hyphens"));
        assert!(stem("").contains("single hyphens"));
        assert!(stem(&"x".repeat(65)).contains("at most 64"));
        let mut n = note("火币");
        n.file_stem = Some("huobi-global".into());
        validate(&n, taxonomy(), &existing()).unwrap();
        assert_eq!(n.rel_path(), "corpus/projects/huobi-global.md");
        assert!(refused(&note("🚀🤖")).contains("--slug"));
        assert!(
            refused(&note("fil")).contains("its ticker"),
            "name equal to a ticker"
        );
        // Names.
        assert!(refused(&note("")).contains("name is empty"));
        assert!(refused(&note("!!!")).contains("no letter or digit"));
        assert!(refused(&note("🚀🤖")).contains("no letter or digit"));
        assert!(refused(&note("..")).contains("no letter or digit"));
        assert!(refused(&note("../../etc/x")).contains("path separator"));
        assert!(refused(&note("a/b")).contains("path separator"));
        assert!(refused(&note("C:\\x")).contains("path separator"));
        assert!(refused(&note("a\0b")).contains("control character (U+0000)"));
        assert!(refused(&note("a\nb")).contains("`a\\u{000a}b`"));
        assert!(refused(&note(&"x".repeat(MAX_FIELD_CHARS + 1))).contains("limit"));
        // Ticker.
        for t in ["", "$", "F-L", "TOOLONGTICKER", "$$FIL", "ÜÜ"] {
            assert!(
                with(&|n| n.ticker = Some(t.into())).contains("ticker"),
                "{t}"
            );
        }
        // Website.
        for w in [
            "example.org",
            "ftp://example.org",
            "https://",
            "https://nodot",
            "https://a b.org",
            "https://x.org:99999",
            "https://u@x.org",
            "https://.x.org",
            "https://x..org",
        ] {
            assert!(
                with(&|n| n.website = Some(w.into())).contains("website"),
                "{w}"
            );
        }
        // Aliases and tags.
        assert!(with(&|n| n.aliases = vec![String::new()]).contains("alias is empty"));
        assert!(with(&|n| n.tags = vec!["a\tb".into()]).contains("tag"));
        // Category.
        assert!(
            with(&|n| n.category = Some("nope".into()))
                .contains("unknown category `nope`; expected one of:")
        );
        assert!(
            with(&|n| {
                n.category = Some("resources".into());
                n.subcategory = Some("agents".into());
            })
            .contains("unknown subcategory `agents` for category `resources`")
        );
        assert!(with(&|n| n.subcategory = Some("compute".into())).contains("needs a category"));
        assert!(
            with(&|n| {
                n.category = Some("none".into());
                n.subcategory = Some("compute".into());
            })
            .contains("no subcategory")
        );
        // Description.
        assert!(with(&|n| n.description = "  \n\t\n".into()).contains("description is empty"));
        assert!(
            with(&|n| n.description = format!("{}\n", "x".repeat(MAX_DESCRIPTION_BYTES)))
                .contains("1 MiB")
        );
        assert!(with(&|n| n.description = "ok\nbad\u{7}\n".into()).contains("line 2"));
    }

    #[test]
    fn write_never_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let kb = Kb::new(tmp.path().to_path_buf(), None, None);
        let n = note("Zeta Net");
        let p = write(&kb, &n).unwrap();
        assert_eq!(p, tmp.path().join("corpus/projects/zeta-net.md"));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), render_note(&n));
        let mut other = note("Zeta-Net");
        other.description = "different\n".into();
        match write(&kb, &other) {
            Err(Error::Invalid(m)) => assert!(
                m.contains("corpus/projects/zeta-net.md already exists"),
                "{m}"
            ),
            r => panic!("{r:?}"),
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), render_note(&n));
        assert_eq!(
            std::fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temporary file left"
        );
        // A chosen file name that skipped `validate` still cannot leave the folder.
        let mut escape = note("Escape");
        escape.file_stem = Some("../escape".into());
        assert!(matches!(write(&kb, &escape), Err(Error::Invalid(_))));
        assert!(!tmp.path().join("corpus/escape.md").exists());
    }
}
