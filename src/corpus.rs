//! The corpus: Markdown notes with YAML front matter under `<root>/corpus/`.
//!
//! This module owns the note format (front matter splitting, typed fields, unknown
//! keys kept as `key: value` pairs), note ids and kinds, and walking the corpus
//! folder. It knows nothing about the index or the taxonomy.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::error::{Diagnostic, Error, Result};

/// Notes larger than this are skipped with a warning: a research note is never 8 MiB.
pub const MAX_NOTE_BYTES: u64 = 8 << 20;

/// Folder under the root that holds the notes.
pub const CORPUS_DIR: &str = "corpus";
/// Folder under the corpus that holds one note per protocol.
pub const PROJECTS_DIR: &str = "projects";

/// What a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One note per protocol, under `corpus/projects/`.
    Project,
    /// Anything else under `corpus/`: reports, news, papers.
    Article,
}

impl Kind {
    /// The lower-case name used in the index and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Project => "project",
            Kind::Article => "article",
        }
    }
}

/// Typed front matter. Unknown keys are kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FrontMatter {
    /// Project name (`name:`).
    pub name: Option<String>,
    /// Article title (`title:`).
    pub title: Option<String>,
    /// Token ticker, e.g. `FIL`.
    pub ticker: Option<String>,
    /// Project website.
    pub website: Option<String>,
    /// Other names of the project.
    pub aliases: Vec<String>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Ids of article notes this note draws on.
    pub sources: Vec<String>,
    /// The analyst's pinned category id (or `none`).
    pub category: Option<String>,
    /// The analyst's pinned subcategory id.
    pub subcategory: Option<String>,
    /// Publication date as written.
    pub date: Option<String>,
    /// Every other key, with its value flattened to text (lists joined with `, `).
    pub extra: BTreeMap<String, String>,
    /// 1-based line of each key in the file, for diagnostics.
    #[serde(skip)]
    pub key_lines: BTreeMap<String, usize>,
}

/// One parsed note.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// Path under `corpus/` without `.md`, with `/` separators: `projects/near`.
    pub id: String,
    /// Path relative to the root: `corpus/projects/near.md`.
    pub path: String,
    /// Project or article.
    pub kind: Kind,
    /// Parsed front matter.
    pub front: FrontMatter,
    /// The Markdown body, after the front matter.
    pub body: String,
    /// 1-based file line on which the body starts.
    pub body_line: usize,
}

impl Note {
    /// The display title: the project name, else the article title, else the first
    /// Markdown heading, else the file stem.
    pub fn title(&self) -> String {
        let pick = match self.kind {
            Kind::Project => self.front.name.as_ref().or(self.front.title.as_ref()),
            Kind::Article => self.front.title.as_ref().or(self.front.name.as_ref()),
        };
        if let Some(t) = pick.filter(|t| !t.trim().is_empty()) {
            return t.trim().to_string();
        }
        if let Some(h) = self.body.lines().find_map(|l| l.trim().strip_prefix("# ")) {
            return h.trim().to_string();
        }
        self.id.rsplit('/').next().unwrap_or(&self.id).to_string()
    }
}

/// A note's date as a sortable number, `YYYYMMDD`, for `YYYY`, `YYYY-MM` or
/// `YYYY-MM-DD` (a missing month or day is 0, so a date given to the month sorts as its
/// first day). Anything else is no date.
pub fn date_key(date: &str) -> Option<i64> {
    let parts: Vec<&str> = date.trim().split('-').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let num = |s: &str, len: usize| -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let year = num(parts[0], 4)?;
    let month = match parts.get(1) {
        Some(m) => num(m, 2).filter(|m| (1..=12).contains(m))?,
        None => 0,
    };
    let day = match parts.get(2) {
        Some(d) => num(d, 2).filter(|d| (1..=31).contains(d))?,
        None => 0,
    };
    Some(year * 10_000 + month * 100 + day)
}

/// The last `YYYYMMDD` a date filter's upper bound covers: `2024-07` runs to the end of
/// July (`20240799`), `2024` to the end of the year.
pub fn date_key_end(date: &str) -> Option<i64> {
    let key = date_key(date)?;
    Some(match (key / 100 % 100, key % 100) {
        (0, _) => key + 9999,
        (_, 0) => key + 99,
        _ => key,
    })
}

/// Derives a note's id and kind from its path relative to `corpus/`.
pub fn id_and_kind(rel_to_corpus: &Path) -> (String, Kind) {
    let parts: Vec<String> = rel_to_corpus
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut id = parts.join("/");
    if let Some(stripped) = id.strip_suffix(".md") {
        id = stripped.to_string();
    }
    let kind = if parts.len() > 1 && parts[0] == PROJECTS_DIR {
        Kind::Project
    } else {
        Kind::Article
    };
    (id, kind)
}

/// Parses a note from raw bytes. `path` is relative to the root (`corpus/…/x.md`).
pub fn parse_note(path: &str, bytes: &[u8]) -> Result<Note, Diagnostic> {
    let text = crate::text::utf8_or_diagnostic(bytes, path)?;
    let rel = Path::new(path)
        .strip_prefix(CORPUS_DIR)
        .unwrap_or(Path::new(path));
    let (id, kind) = id_and_kind(rel);
    let (front, body, body_line) = parse_front_matter(text, path)?;
    Ok(Note {
        id,
        path: path.to_string(),
        kind,
        front,
        body: body.to_string(),
        body_line,
    })
}

/// Splits `text` into front matter and body and parses the front matter.
///
/// Front matter is optional; when present it starts with a `---` line at the very top
/// and ends at the next `---` (or `...`) line. Returns the body and its first line.
pub fn parse_front_matter<'a>(
    text: &'a str,
    path: &str,
) -> Result<(FrontMatter, &'a str, usize), Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(yaml_start) = opening_fence(text) else {
        return Ok((FrontMatter::default(), text, 1));
    };
    let mut offset = yaml_start;
    let mut line_no = 2;
    let mut close = None;
    for line in text[yaml_start..].split_inclusive('\n') {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if trimmed.trim_end() == "---" || trimmed.trim_end() == "..." {
            close = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
        line_no += 1;
    }
    let Some((yaml_end, body_start)) = close else {
        return Err(Diagnostic::new(
            path,
            1,
            1,
            "front matter opened here is never closed with `---`",
        ));
    };
    let yaml = &text[yaml_start..yaml_end];
    let value: Value = if yaml.trim().is_empty() {
        Value::Null
    } else {
        crate::yaml::parse(yaml, path, 2)?
    };
    let front = front_matter_from_value(value, yaml, path)?;
    Ok((front, &text[body_start..], line_no + 1))
}

/// Returns the byte offset after the opening `---` line, if the text starts with one.
fn opening_fence(text: &str) -> Option<usize> {
    let first = text.split_inclusive('\n').next()?;
    (first.trim_end() == "---" && first.ends_with('\n')).then_some(first.len())
}

/// Builds typed front matter from a parsed YAML value.
fn front_matter_from_value(
    value: Value,
    yaml: &str,
    path: &str,
) -> Result<FrontMatter, Diagnostic> {
    let key_lines = key_lines(yaml);
    let map = match value {
        Value::Null => {
            return Ok(FrontMatter {
                key_lines,
                ..FrontMatter::default()
            });
        }
        Value::Object(map) => map,
        other => {
            return Err(Diagnostic::new(
                path,
                2,
                1,
                format!(
                    "front matter must be a mapping of keys to values, found {}",
                    type_name(&other)
                ),
            ));
        }
    };
    let mut fm = FrontMatter::default();
    let at = |key: &str| key_lines.get(key).copied().unwrap_or(2);
    for (key, value) in map {
        let line = at(&key);
        let bad = |what: &str| {
            Diagnostic::new(
                path,
                line,
                1,
                format!("`{key}` must be {what}, found {}", type_name(&value)),
            )
        };
        match key.as_str() {
            "name" | "title" | "ticker" | "website" | "category" | "subcategory" | "date" => {
                let s = match &value {
                    Value::Null => None,
                    v => Some(scalar_text(v).ok_or_else(|| bad("a single value"))?),
                };
                let slot = match key.as_str() {
                    "name" => &mut fm.name,
                    "title" => &mut fm.title,
                    "ticker" => &mut fm.ticker,
                    "website" => &mut fm.website,
                    "category" => &mut fm.category,
                    "subcategory" => &mut fm.subcategory,
                    _ => &mut fm.date,
                };
                *slot = s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            }
            "aliases" | "tags" | "sources" => {
                let list = string_list(&value).map_err(|item| match item {
                    Some((i, item)) => Diagnostic::new(
                        path,
                        line,
                        1,
                        format!(
                            "`{key}` must be a list of single values; item {} is {}{}",
                            i + 1,
                            type_name(item),
                            if matches!(item, Value::Object(_)) {
                                " (quote an item that holds `: `)"
                            } else {
                                ""
                            }
                        ),
                    ),
                    None => bad("a list of values"),
                })?;
                match key.as_str() {
                    "aliases" => fm.aliases = list,
                    "tags" => fm.tags = list,
                    _ => fm.sources = list,
                }
            }
            _ => {
                if let Some(text) = flatten(&value) {
                    fm.extra.insert(key, text);
                }
            }
        }
    }
    fm.key_lines = key_lines;
    Ok(fm)
}

/// The 1-based file line of each top-level key (front matter starts on file line 2).
fn key_lines(yaml: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (i, line) in yaml.lines().enumerate() {
        if line.starts_with([' ', '\t', '-', '#']) {
            continue;
        }
        if let Some((key, _)) = line.split_once(':') {
            let key = key.trim().trim_matches(['"', '\'']);
            out.entry(key.to_string()).or_insert(i + 2);
        }
    }
    out
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list field's values: a list of single values, or one value split at commas. The
/// error is the list item that is not a single value (its index), or `None` when the
/// field itself is neither.
fn string_list(v: &Value) -> Result<Vec<String>, Option<(usize, &Value)>> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let s = scalar_text(item).ok_or(Some((i, item)))?;
                let s = s.trim();
                if !s.is_empty() {
                    out.push(s.to_string());
                }
            }
            Ok(out)
        }
        other => scalar_text(other)
            .map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .ok_or(None),
    }
}

/// Flattens any value to searchable text; `None` for null.
fn flatten(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(flatten)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::Object(map) => Some(
            map.iter()
                .filter_map(|(k, v)| flatten(v).map(|t| format!("{k}: {t}")))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => scalar_text(other),
    }
}

/// A Markdown file found under `corpus/`, with the stat data the index manifest uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteFile {
    /// Path relative to the root, `/`-separated: `corpus/projects/near.md`.
    pub rel: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// Lists every `*.md` file under `<root>/corpus`, sorted by path. Hidden files and
/// folders (starting with `.`) are ignored; symlinks are not followed.
///
/// This is the freshness check's hot path. Worker threads take folders from a shared
/// queue, read them (the file type comes from the directory entry) and stat each note
/// relative to its folder; subfolders go back on the queue.
pub fn list_note_files(root: &Path) -> Result<Vec<NoteFile>> {
    list_note_files_with_problems(root).map(|(files, _)| files)
}

/// [`list_note_files`], with what could not be listed: a folder that cannot be read,
/// a file that cannot be stat'ed, a name that is not UTF-8. Those are skipped with a
/// problem each; only an unreadable `corpus/` folder is an error.
pub fn list_note_files_with_problems(root: &Path) -> Result<(Vec<NoteFile>, Vec<Diagnostic>)> {
    list_under(root, CORPUS_DIR.to_string())
}

/// [`list_note_files_with_problems`] for the notes under `corpus/projects/` only (none
/// when the folder does not exist).
fn list_project_files(root: &Path) -> Result<(Vec<NoteFile>, Vec<Diagnostic>)> {
    let rel = format!("{CORPUS_DIR}/{PROJECTS_DIR}");
    let dir = root.join(&rel);
    match fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => list_under(root, rel),
        // A file or a link named `projects` holds no note: the full walk does not
        // follow it either.
        Ok(_) => Ok((Vec::new(), Vec::new())),
        // A missing folder holds no project, but the corpus itself must exist, as
        // for the full walk.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let corpus = root.join(CORPUS_DIR);
            fs::metadata(&corpus).map_err(|e| Error::io(corpus, e))?;
            Ok((Vec::new(), Vec::new()))
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Lists the notes under `root/start` (`start` relative to the root, `/`-separated,
/// `corpus` or a folder inside it).
fn list_under(root: &Path, start: String) -> Result<(Vec<NoteFile>, Vec<Diagnostic>)> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Shared {
        queue: Mutex<Vec<(PathBuf, String)>>,
        /// Folders queued or being read; the walk is over when it drops to zero.
        busy: AtomicUsize,
        files: Mutex<Vec<NoteFile>>,
        error: Mutex<Option<Error>>,
        problems: Mutex<Vec<Diagnostic>>,
    }

    fn problem(shared: &Shared, rel: String, message: String) {
        shared
            .problems
            .lock()
            .expect("problems lock")
            .push(Diagnostic::new(rel, 0, 0, message));
    }

    fn read_one(
        dir: &Path,
        rel: &str,
        start: &str,
        shared: &Shared,
        out: &mut Vec<NoteFile>,
    ) -> Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if rel == start => return Err(Error::io(dir, e)),
            Err(e) => {
                problem(
                    shared,
                    rel.to_string(),
                    format!("folder skipped: {}", lower(&e)),
                );
                return Ok(());
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    problem(
                        shared,
                        rel.to_string(),
                        format!("folder partly read: {}", lower(&e)),
                    );
                    break;
                }
            };
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                let shown = name.to_string_lossy();
                if !shown.starts_with('.') && shown.ends_with(".md") {
                    problem(
                        shared,
                        format!("{rel}/{shown}"),
                        "note skipped: its file name is not valid UTF-8".to_string(),
                    );
                }
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                Err(e) => {
                    problem(
                        shared,
                        format!("{rel}/{name}"),
                        format!("skipped: {}", lower(&e)),
                    );
                    continue;
                }
            };
            if ft.is_dir() {
                shared.busy.fetch_add(1, Ordering::SeqCst);
                shared
                    .queue
                    .lock()
                    .expect("queue lock")
                    .push((entry.path(), format!("{rel}/{name}")));
                continue;
            }
            // `.md` in any case: only the lower-case one is a note, the others are
            // reported rather than ignored without a word.
            let md_any_case =
                name.len() >= 3 && name.as_bytes()[name.len() - 3..].eq_ignore_ascii_case(b".md");
            if ft.is_symlink() && md_any_case {
                problem(
                    shared,
                    format!("{rel}/{name}"),
                    "note skipped: symbolic links are not followed (copy or move the note into corpus/)"
                        .to_string(),
                );
            } else if ft.is_file() && md_any_case && !name.ends_with(".md") {
                problem(
                    shared,
                    format!("{rel}/{name}"),
                    "note skipped: note files end in `.md`, in lower case".to_string(),
                );
            } else if ft.is_file() && name.ends_with(".md") {
                match entry.metadata() {
                    Ok(meta) => out.push(NoteFile {
                        rel: format!("{rel}/{name}"),
                        size: meta.len(),
                        mtime_ns: mtime_ns(&meta),
                    }),
                    // Deleted between the directory read and the stat.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => problem(
                        shared,
                        format!("{rel}/{name}"),
                        format!("note skipped: {}", lower(&e)),
                    ),
                }
            }
        }
        Ok(())
    }

    let shared = Shared {
        queue: Mutex::new(vec![(root.join(&start), start.clone())]),
        busy: AtomicUsize::new(1),
        files: Mutex::new(Vec::new()),
        error: Mutex::new(None),
        problems: Mutex::new(Vec::new()),
    };
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let next = shared.queue.lock().expect("queue lock").pop();
                    match next {
                        Some((dir, rel)) => {
                            if let Err(e) = read_one(&dir, &rel, &start, &shared, &mut mine) {
                                shared.error.lock().expect("error lock").get_or_insert(e);
                            }
                            shared.busy.fetch_sub(1, Ordering::SeqCst);
                        }
                        None if shared.busy.load(Ordering::SeqCst) == 0 => break,
                        None => std::thread::yield_now(),
                    }
                }
                shared.files.lock().expect("files lock").append(&mut mine);
            });
        }
    });
    if let Some(e) = shared.error.into_inner().expect("error lock") {
        return Err(e);
    }
    let mut files = shared.files.into_inner().expect("files lock");
    files.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    let mut problems = shared.problems.into_inner().expect("problems lock");
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, problems))
}

/// An I/O error's message in lower case, as diagnostics print them.
fn lower(e: &std::io::Error) -> String {
    e.to_string().to_lowercase()
}

/// Modification time of `meta` in nanoseconds since the epoch (0 when unavailable).
pub fn mtime_ns(meta: &fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

/// `path` relative to `root` with `/` separators.
pub fn rel_path(root: &Path, path: &Path) -> String {
    let Ok(rel) = path.strip_prefix(root) else {
        return path.display().to_string();
    };
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads and parses one note file. A file that cannot be read or parsed becomes a
/// diagnostic, never an error for the whole run.
pub fn read_note(root: &Path, rel: &str) -> Result<(Note, Vec<u8>), Diagnostic> {
    use std::io::Read;
    let full = root.join(rel);
    let fail = |e: std::io::Error| Diagnostic::new(rel, 0, 0, e.to_string().to_lowercase());
    let too_big = |len: u64| {
        Diagnostic::new(
            rel,
            0,
            0,
            format!("note is {len} bytes; the limit is {MAX_NOTE_BYTES}"),
        )
    };
    // One open and one stat of the open file; a note that grows while it is read is
    // still cut off at the limit.
    let file = fs::File::open(&full).map_err(fail)?;
    let len = file.metadata().map_err(fail)?.len();
    if len > MAX_NOTE_BYTES {
        return Err(too_big(len));
    }
    let mut bytes = Vec::with_capacity(len as usize + 1);
    file.take(MAX_NOTE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(fail)?;
    if bytes.len() as u64 > MAX_NOTE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    let note = parse_note(rel, &bytes)?;
    Ok((note, bytes))
}

/// Loads every note of the corpus. Unparseable notes are returned as diagnostics.
pub fn load_all(root: &Path) -> Result<(Vec<Note>, Vec<Diagnostic>)> {
    let listed = list_note_files_with_problems(root)?;
    load_listed(root, listed)
}

/// Loads the project notes only (those under `corpus/projects/`), for the commands
/// that never read an article: on a corpus of many articles this skips most files.
pub fn load_projects(root: &Path) -> Result<(Vec<Note>, Vec<Diagnostic>)> {
    let listed = list_project_files(root)?;
    load_listed(root, listed)
}

fn load_listed(
    root: &Path,
    (files, mut problems): (Vec<NoteFile>, Vec<Diagnostic>),
) -> Result<(Vec<Note>, Vec<Diagnostic>)> {
    // Reading and parsing are independent per note.
    let read = crate::par::map(&files, 256, |f| read_note(root, &f.rel).map(|(n, _)| n));
    let mut notes = Vec::with_capacity(read.len());
    for r in read {
        match r {
            Ok(n) => notes.push(n),
            Err(d) => problems.push(d),
        }
    }
    Ok((notes, problems))
}

#[cfg(test)]
mod tests {

    #[test]
    fn dates_become_sortable_keys() {
        assert_eq!(date_key("2024-07-20"), Some(20240720));
        assert_eq!(date_key(" 2024-07 "), Some(20240700));
        assert_eq!(date_key("2024"), Some(20240000));
        assert_eq!(date_key_end("2024"), Some(20249999));
        assert_eq!(date_key_end("2024-07"), Some(20240799));
        assert_eq!(date_key_end("2024-07-20"), Some(20240720));
        for bad in [
            "",
            "24",
            "2024-13",
            "2024-00-01",
            "2024-7",
            "July 2024",
            "2024-07-32",
            "2024-07-01-01",
        ] {
            assert_eq!(date_key(bad), None, "{bad}");
        }
    }

    use super::*;

    fn note(path: &str, text: &str) -> Note {
        parse_note(path, text.as_bytes()).unwrap()
    }

    #[test]
    fn parses_typed_fields_and_keeps_unknown_keys() {
        let n = note(
            "corpus/projects/fil.md",
            "---\nname: Filecoin\nticker: FIL\naliases: [Filecoin Network]\ntags:\n  - storage\npublisher: X\nnums: [1, 2]\n---\n# Body\ntext\n",
        );
        assert_eq!(n.id, "projects/fil");
        assert_eq!(n.kind, Kind::Project);
        assert_eq!(n.front.name.as_deref(), Some("Filecoin"));
        assert_eq!(n.front.aliases, vec!["Filecoin Network"]);
        assert_eq!(n.front.tags, vec!["storage"]);
        assert_eq!(
            n.front.extra.get("publisher").map(String::as_str),
            Some("X")
        );
        assert_eq!(n.front.extra.get("nums").map(String::as_str), Some("1, 2"));
        assert_eq!(n.body, "# Body\ntext\n");
        assert_eq!(n.body_line, 10);
        assert_eq!(n.front.key_lines["ticker"], 3);
    }

    #[test]
    fn no_front_matter_and_empty_front_matter() {
        let n = note("corpus/a.md", "# Title here\nbody");
        assert_eq!(n.kind, Kind::Article);
        assert_eq!(n.title(), "Title here");
        assert_eq!(n.body_line, 1);
        let n = note("corpus/articles/b.md", "---\n---\nbody");
        assert_eq!(n.title(), "b");
        assert_eq!(n.body, "body");
    }

    #[test]
    fn crlf_bom_and_dashes_in_body() {
        let n = note(
            "corpus/x.md",
            "\u{feff}---\r\ntitle: T\r\n---\r\nline\r\n---\r\nmore",
        );
        assert_eq!(n.front.title.as_deref(), Some("T"));
        assert_eq!(n.body, "line\r\n---\r\nmore");
    }

    #[test]
    fn errors_are_located() {
        let d = parse_note("corpus/x.md", b"---\ntitle: a\nbad: [x\n---\nbody").unwrap_err();
        assert_eq!(d.path, "corpus/x.md");
        assert!(d.line >= 3, "{d}");
        let d = parse_note("corpus/x.md", b"---\ntitle: a\nbody").unwrap_err();
        assert!(d.message.contains("never closed"));
        let d = parse_note("corpus/x.md", b"---\n- a\n- b\n---\n").unwrap_err();
        assert!(d.message.contains("mapping"));
        let d = parse_note("corpus/x.md", b"---\ntitle: ok\ntags: {a: 1}\n---\n").unwrap_err();
        assert_eq!(d.line, 3);
        assert!(d.message.contains("tags"));
        // A `key: value` left unquoted inside a list is named, item and all.
        let d = parse_note(
            "corpus/x.md",
            b"---\ntitle: ok\ntags: [gpu, date: 2024, ai]\n---\n",
        )
        .unwrap_err();
        assert_eq!(d.line, 3);
        assert_eq!(
            d.message,
            "`tags` must be a list of single values; item 2 is a mapping (quote an item that holds `: `)"
        );
        let d = parse_note("corpus/x.md", b"---\naliases: [a, [b]]\n---\n").unwrap_err();
        assert_eq!(
            d.message,
            "`aliases` must be a list of single values; item 2 is a list"
        );
        let d = parse_note("corpus/x.md", b"---\ntitle: ok\n---\nab\n\xffcd").unwrap_err();
        assert_eq!((d.line, d.column), (5, 1));
        assert!(d.message.contains("UTF-8"));
    }

    #[test]
    fn ids_and_kinds() {
        assert_eq!(
            id_and_kind(Path::new("projects/near.md")),
            ("projects/near".into(), Kind::Project)
        );
        assert_eq!(
            id_and_kind(Path::new("projects.md")),
            ("projects".into(), Kind::Article)
        );
        assert_eq!(
            id_and_kind(Path::new("news/2024/a.md")),
            ("news/2024/a".into(), Kind::Article)
        );
    }

    #[test]
    fn projects_load_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        // No projects folder: no project, and no error.
        write("corpus/articles/a.md", "---\ntitle: A\n---\nText.");
        let (notes, problems) = load_projects(root).unwrap();
        assert!(notes.is_empty() && problems.is_empty());
        write("corpus/projects/x.md", "---\nname: X\n---\nText.");
        write("corpus/projects/deep/y.md", "---\nname: Y\n---\nText.");
        write("corpus/projects/bad.md", "---\nname: [\n---\nText.");
        write("corpus/articles/broken.md", "---\ntitle: [\n---\nText.");
        let (notes, problems) = load_projects(root).unwrap();
        let ids: Vec<&str> = notes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["projects/deep/y", "projects/x"]);
        // A broken project is reported; a broken article is not this reader's concern.
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["corpus/projects/bad.md"]);
        // The same project notes as the whole corpus holds.
        let (all, _) = load_all(root).unwrap();
        let all: Vec<&str> = all
            .iter()
            .filter(|n| n.kind == Kind::Project)
            .map(|n| n.id.as_str())
            .collect();
        assert_eq!(all, ids);
        // Without a corpus at all it fails, as the whole walk does.
        let empty = tempfile::tempdir().unwrap();
        assert!(load_projects(empty.path()).is_err());
    }
}
