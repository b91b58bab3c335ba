//! The tantivy index: schema, tokenizers, the incremental manifest and updates.
//!
//! [`schema`] is the only place that names index fields. The manifest records
//! path → size, modification time and content hash; [`update`] stats every note,
//! hashes only those whose stat changed, and applies adds, changes and removals in
//! one commit under tantivy's writer lock.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tantivy::directory::error::LockError;
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    LowerCaser, RawTokenizer, RemoveLongFilter, TextAnalyzer, WhitespaceTokenizer,
};
use tantivy::{Index, IndexWriter, TantivyDocument, TantivyError, Term};

use crate::analysis::{CachedNormalizer, WordTokenizer};
use crate::classify::Classifier;
use crate::corpus::{self, Kind, Note, NoteFile};
use crate::error::{Diagnostic, Error, Result};
use crate::fsutil::FileLock;
use crate::kb::Kb;
use crate::taxonomy::Taxonomy;

/// Bump when the schema or what goes into a document changes: older indexes are rebuilt.
pub const SCHEMA_VERSION: u32 = 11;

/// Words longer than this many bytes are not indexed.
pub const MAX_TOKEN_BYTES: usize = 48;

/// Tokenizer for ranked text: words, lower case, ASCII folding, English stop words
/// removed, English stemming.
pub const TEXT_TOKENIZER: &str = "aikb_en";
/// The analyzer of query text: [`TEXT_TOKENIZER`] without the solid spellings of
/// hyphenated words (a query word's own spellings are searched as alternatives).
pub const QUERY_TOKENIZER: &str = "aikb_en_query";
/// Tokenizer for exact-match fields: the whole value, lower case.
pub const EXACT_TOKENIZER: &str = "aikb_exact";
/// Tokenizer for `key:value` metadata terms.
pub const META_TOKENIZER: &str = "aikb_meta";

/// Handles to every index field.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Note id (`projects/near`), exact.
    pub id: Field,
    /// Path relative to the root, exact; the update key.
    pub path: Field,
    /// `project` or `article`, exact.
    pub kind: Field,
    /// Project name or article title, ranked.
    pub title: Field,
    /// Aliases, ranked.
    pub aliases: Field,
    /// A project's name and aliases as whole values, exact (case-insensitive): a query
    /// that is exactly a protocol's name finds its note first. Article titles are not
    /// names: a one-word article title would capture every query using that word.
    pub names: Field,
    /// Ticker, exact (case-insensitive).
    pub ticker: Field,
    /// Tags, exact per tag (case-insensitive).
    pub tags: Field,
    /// Tags as ranked text.
    pub tag_text: Field,
    /// Effective category (pinned, else predicted), exact.
    pub category: Field,
    /// Effective subcategory, exact.
    pub subcategory: Field,
    /// Date as written.
    pub date: Field,
    /// Date as `YYYYMMDD` ([`corpus::date_key`]), for date filters; absent when the
    /// note has no date in that form.
    pub date_key: Field,
    /// Plain-text body, ranked. Not stored: snippets and more-like-this read it from
    /// the note file, which keeps the index about a third of the size.
    pub body: Field,
    /// Unknown front-matter keys as `key:value` terms.
    pub meta: Field,
}

/// The schema and its field handles. The only function that knows field names.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let ranked = |stored: bool| {
        let idx = TextFieldIndexing::default()
            .set_tokenizer(TEXT_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let o = TextOptions::default().set_indexing_options(idx);
        if stored { o.set_stored() } else { o }
    };
    let exact = |stored: bool| {
        let idx = TextFieldIndexing::default()
            .set_tokenizer(EXACT_TOKENIZER)
            .set_index_option(IndexRecordOption::Basic);
        let o = TextOptions::default().set_indexing_options(idx);
        if stored { o.set_stored() } else { o }
    };
    let meta_opts = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(META_TOKENIZER)
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        path: b.add_text_field("path", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        title: b.add_text_field("title", ranked(true)),
        aliases: b.add_text_field("aliases", ranked(true)),
        names: b.add_text_field("names", exact(false)),
        ticker: b.add_text_field("ticker", exact(true)),
        tags: b.add_text_field("tags", exact(true)),
        tag_text: b.add_text_field("tag_text", ranked(false)),
        category: b.add_text_field("category", STRING | STORED | FAST),
        subcategory: b.add_text_field("subcategory", STRING | STORED),
        date: b.add_text_field("date", STORED),
        date_key: b.add_i64_field("date_key", FAST),
        body: b.add_text_field("body", ranked(false)),
        meta: b.add_text_field("meta", meta_opts),
    };
    (b.build(), fields)
}

/// Registers aikb's tokenizers on an index (needed after every open).
pub fn register_tokenizers(index: &Index) {
    let m = index.tokenizers();
    for (name, words) in [
        (TEXT_TOKENIZER, WordTokenizer::catenating()),
        (QUERY_TOKENIZER, WordTokenizer::plain()),
    ] {
        m.register(
            name,
            TextAnalyzer::builder(words)
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(CachedNormalizer::english())
                .build(),
        );
    }
    m.register(
        EXACT_TOKENIZER,
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
    m.register(
        META_TOKENIZER,
        TextAnalyzer::builder(WhitespaceTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
}

/// [`IndexStats::rebuild_reason`] of a rebuild the user asked for.
pub const REBUILD_REQUESTED: &str = "rebuild requested";

/// Counts from one index update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    /// Notes indexed for the first time.
    pub added: usize,
    /// Notes re-indexed because their content (or the taxonomy) changed.
    pub changed: usize,
    /// Notes removed from the index because their file is gone.
    pub removed: usize,
    /// Notes skipped because they could not be read or parsed.
    pub skipped: usize,
    /// Notes in the index after the update.
    pub total: usize,
    /// Whether the index was rebuilt from scratch.
    pub rebuilt: bool,
    /// Why it was rebuilt (missing, corrupt, older schema, requested).
    pub rebuild_reason: Option<String>,
    /// One diagnostic per skipped note.
    pub problems: Vec<Diagnostic>,
}

impl IndexStats {
    /// True when nothing had to be written.
    pub fn is_noop(&self) -> bool {
        self.added + self.changed + self.removed == 0 && !self.rebuilt
    }
}

/// Progress of a long update: notes processed so far out of a total.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// How long to wait for another process's writer lock (env `AIKB_LOCK_TIMEOUT`, seconds).
pub fn lock_timeout() -> Duration {
    let secs = std::env::var("AIKB_LOCK_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(30.0);
    Duration::from_secs_f64(secs.clamp(0.0, 3600.0))
}

// ---------------------------------------------------------------------------
// Manifest

const MANIFEST_FILE: &str = "aikb-manifest.bin";
const MANIFEST_MAGIC: &[u8; 8] = b"AIKBMAN1";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    size: u64,
    mtime_ns: i64,
    hash: [u8; 16],
    /// The diagnostic if the note was skipped (kept so a no-change run still reports it).
    problem: Option<String>,
}

#[derive(Debug, Default)]
struct Manifest {
    schema_version: u32,
    taxonomy_hash: String,
    /// Sorted by path, like the file listing, so the two can be merged in one pass.
    entries: BTreeMap<String, Entry>,
}

impl Manifest {
    /// The schema version and taxonomy hash of the manifest in `dir`, read without the
    /// entries.
    fn header(dir: &Path) -> Option<(u32, String)> {
        use std::io::Read;
        let mut head = Vec::with_capacity(512);
        fs::File::open(dir.join(MANIFEST_FILE))
            .ok()?
            .take(512)
            .read_to_end(&mut head)
            .ok()?;
        Reader { b: &head, i: 0 }.header()
    }

    fn load(dir: &Path) -> Option<Manifest> {
        let bytes = fs::read(dir.join(MANIFEST_FILE)).ok()?;
        let mut r = Reader { b: &bytes, i: 0 };
        let (schema_version, taxonomy_hash) = r.header()?;
        let n = r.u32()? as usize;
        let mut entries = Vec::with_capacity(n.min(bytes.len() / 30));
        for _ in 0..n {
            let path = r.string()?;
            let size = r.u64()?;
            let mtime_ns = r.u64()? as i64;
            let hash: [u8; 16] = r.take(16)?.try_into().ok()?;
            let problem = match r.take(1)?[0] {
                0 => None,
                _ => Some(r.string()?),
            };
            entries.push((
                path,
                Entry {
                    size,
                    mtime_ns,
                    hash,
                    problem,
                },
            ));
        }
        // Saved sorted: collecting sorted pairs builds the tree in bulk.
        let entries: BTreeMap<String, Entry> = entries.into_iter().collect();
        Some(Manifest {
            schema_version,
            taxonomy_hash,
            entries,
        })
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let mut out = Vec::with_capacity(64 + self.entries.len() * 80);
        out.extend_from_slice(MANIFEST_MAGIC);
        out.extend_from_slice(&self.schema_version.to_le_bytes());
        put_string(&mut out, &self.taxonomy_hash);
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for (k, e) in &self.entries {
            put_string(&mut out, k);
            out.extend_from_slice(&e.size.to_le_bytes());
            out.extend_from_slice(&(e.mtime_ns as u64).to_le_bytes());
            out.extend_from_slice(&e.hash);
            match &e.problem {
                None => out.push(0),
                Some(p) => {
                    out.push(1);
                    put_string(&mut out, p);
                }
            }
        }
        crate::fsutil::write_atomic(&dir.join(MANIFEST_FILE), &out)
    }
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    /// The manifest's magic, schema version and taxonomy hash.
    fn header(&mut self) -> Option<(u32, String)> {
        if self.take(8)? != MANIFEST_MAGIC {
            return None;
        }
        Some((self.u32()?, self.string()?))
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

fn content_hash(bytes: &[u8]) -> [u8; 16] {
    let h = blake3::hash(bytes);
    h.as_bytes()[..16]
        .try_into()
        .expect("blake3 hashes are 32 bytes")
}

// ---------------------------------------------------------------------------
// Opening

/// An open index, ready to search.
pub struct KbIndex {
    /// The tantivy index.
    pub index: Index,
    /// Field handles.
    pub fields: Fields,
    /// Where it lives.
    pub dir: PathBuf,
    /// The knowledge base root (note paths are relative to it).
    pub root: PathBuf,
}

impl KbIndex {
    fn opened(index: Index, fields: Fields, kb: &Kb) -> KbIndex {
        KbIndex {
            index,
            fields,
            dir: kb.index_dir.clone(),
            root: kb.root.clone(),
        }
    }

    /// A searcher over the index as it is now (it is not reloaded).
    pub fn searcher(&self) -> Result<tantivy::Searcher> {
        let reader: tantivy::IndexReader = self
            .index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| Error::index(&self.dir, e))?;
        Ok(reader.searcher())
    }

    /// `text` analysed as a query is: (position, term) of each word.
    pub fn query_tokens(&self, text: &str) -> Vec<(usize, String)> {
        let mut analyzer = self
            .index
            .tokenizers()
            .get(QUERY_TOKENIZER)
            .expect("registered at open");
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.position, t.text.clone()));
        }
        out
    }

    /// The plain-text body of the note at `path` (relative to the root), as indexed;
    /// `None` when the note can no longer be read.
    pub fn body_text(&self, path: &str) -> Option<String> {
        let (note, _) = corpus::read_note(&self.root, path).ok()?;
        Some(crate::text::markdown_to_text(&note.body))
    }
}

fn open_existing(dir: &Path) -> std::result::Result<Index, String> {
    let index = Index::open_in_dir(dir).map_err(|e| e.to_string())?;
    let (expected, _) = schema();
    if index.schema() != expected {
        return Err("its schema is from another aikb version".into());
    }
    register_tokenizers(&index);
    Ok(index)
}

fn create_fresh(dir: &Path) -> Result<Index> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let (schema, _) = schema();
    let index = Index::create_in_dir(dir, schema).map_err(|e| Error::index(dir, e))?;
    register_tokenizers(&index);
    Ok(index)
}

/// Why an index on disk cannot be used as it is, if it cannot.
fn rebuild_reason(dir: &Path, manifest: Option<&Manifest>) -> Option<String> {
    if !dir.join("meta.json").exists() {
        return Some("index missing".into());
    }
    match manifest {
        None => Some("index manifest missing or corrupt".into()),
        Some(m) if m.schema_version != SCHEMA_VERSION => {
            Some("index is from an older aikb version".into())
        }
        Some(_) => None,
    }
}

/// The index as it is, without looking at the notes (for `search --no-refresh`):
/// `None` when it is missing, unreadable, from another aikb version or built with
/// another taxonomy, and [`update`] has to run.
pub fn open_as_is(kb: &Kb, taxonomy: &Taxonomy) -> Option<KbIndex> {
    let dir = &kb.index_dir;
    if !dir.join("meta.json").exists() {
        return None;
    }
    let (schema_version, taxonomy_hash) = Manifest::header(dir)?;
    if schema_version != SCHEMA_VERSION || taxonomy_hash != taxonomy.hash {
        return None;
    }
    let index = open_existing(dir).ok()?;
    let (_, fields) = schema();
    Some(KbIndex::opened(index, fields, kb))
}

/// An exclusive lock on `<index>.lock`, held while an index is created or updated, so
/// two aikb processes never build or clear the same index at once. Readers take no lock.
struct WriteLock(FileLock);

impl WriteLock {
    fn acquire(dir: &Path) -> Result<WriteLock> {
        let mut name = dir
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "index".into());
        name.push(".lock");
        let what = format!("index {}", dir.display());
        FileLock::acquire(&dir.with_file_name(name), &what, lock_timeout()).map(WriteLock)
    }
}

/// Indexing threads. Two keep both cores of a small machine busy while the parsing
/// workers feed them.
const WRITER_THREADS: usize = 2;
/// Memory arena per indexing thread. Measured on 100,000 generated notes: 25 MB keeps
/// peak memory near 140 MB; 40 MB is no faster and peaks near 160 MB.
const WRITER_BUDGET_PER_THREAD: usize = 25_000_000;

fn acquire_writer(index: &Index, dir: &Path) -> Result<IndexWriter> {
    let timeout = lock_timeout();
    let start = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        let options = tantivy::indexer::IndexWriterOptions::builder()
            .num_worker_threads(WRITER_THREADS)
            .memory_budget_per_thread(WRITER_BUDGET_PER_THREAD)
            .build();
        match index.writer_with_options::<TantivyDocument>(options) {
            Ok(w) => return Ok(w),
            Err(TantivyError::LockFailure(LockError::LockBusy, _)) if start.elapsed() < timeout => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            Err(TantivyError::LockFailure(LockError::LockBusy, _)) => {
                return Err(Error::Locked {
                    what: format!("index {}", dir.display()),
                    secs: timeout.as_secs_f64(),
                });
            }
            Err(e) => return Err(Error::index(dir, e)),
        }
    }
}

// ---------------------------------------------------------------------------
// Update

/// Options for [`update`].
#[derive(Default)]
pub struct UpdateOptions<'a> {
    /// Start over from an empty index.
    pub rebuild: bool,
    /// Called as notes are processed (from worker threads).
    pub progress: Option<Progress<'a>>,
}

/// Brings the index up to date with the corpus and returns it with the counts.
///
/// When nothing changed this only stats files and reads the manifest (no lock, no
/// hashing). A missing, corrupt or older-schema index is rebuilt, with the reason in
/// [`IndexStats::rebuild_reason`].
pub fn update(
    kb: &Kb,
    taxonomy: &Taxonomy,
    opts: &UpdateOptions<'_>,
) -> Result<(KbIndex, IndexStats)> {
    let dir = &kb.index_dir;
    let (_, fields) = schema();
    let (files, listing_problems) = corpus::list_note_files_with_problems(&kb.root)?;
    let manifest = Manifest::load(dir);
    let fast = !opts.rebuild && rebuild_reason(dir, manifest.as_ref()).is_none();
    if fast {
        let m = manifest.as_ref().expect("checked by rebuild_reason");
        let plan = plan(&files, m, &taxonomy.hash);
        if plan.is_clean() {
            // An unreadable index falls through to the write path, which rebuilds it.
            if let Ok(index) = open_existing(dir) {
                let stats = IndexStats {
                    skipped: m.entries.values().filter(|e| e.problem.is_some()).count()
                        + listing_problems.len(),
                    total: m.entries.values().filter(|e| e.problem.is_none()).count(),
                    problems: [stored_problems(m), listing_problems].concat(),
                    ..IndexStats::default()
                };
                return Ok((KbIndex::opened(index, fields, kb), stats));
            }
        }
    }

    // Writing may classify notes, so the lexicon's words are needed from here on.
    let completed = taxonomy.with_lexicon()?;
    let taxonomy: &Taxonomy = &completed;
    // Something to write. Take the knowledge base's write lock first, then decide again:
    // another process may have created, rebuilt or updated the index while we waited.
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    drop(manifest);
    let lock = WriteLock::acquire(dir)?;
    // The listing above is a fine snapshot unless we had to wait for another process.
    let (files, listing_problems) = if lock.0.waited {
        corpus::list_note_files_with_problems(&kb.root)?
    } else {
        (files, listing_problems)
    };
    let manifest = Manifest::load(dir);
    let mut reason = if opts.rebuild {
        Some(REBUILD_REQUESTED.to_string())
    } else {
        rebuild_reason(dir, manifest.as_ref())
    };
    let index = match reason {
        Some(_) => create_fresh(dir)?,
        None => match open_existing(dir) {
            Ok(i) => i,
            Err(why) => {
                reason = Some(format!("index unreadable ({why})"));
                create_fresh(dir)?
            }
        },
    };
    let writer = acquire_writer(&index, dir)?;
    if reason.is_some() {
        // A rebuild writes a handful of large segments; merging them while indexing
        // would only add memory and time.
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    }
    let mut manifest = match (&reason, manifest) {
        (None, Some(m)) => m,
        _ => Manifest::default(),
    };
    let plan = plan(&files, &manifest, &taxonomy.hash);
    // Built on first use: most updates touch no unpinned project note.
    let classifier = LazyClassifier::new(taxonomy);
    let mut stats = IndexStats {
        rebuilt: reason.is_some(),
        rebuild_reason: reason,
        ..IndexStats::default()
    };

    for path in &plan.removed {
        writer.delete_term(Term::from_field_text(fields.path, path));
        manifest.entries.remove(path);
        stats.removed += 1;
    }
    let outcomes = process(
        kb,
        &plan.todo,
        &manifest,
        &taxonomy.hash,
        &classifier,
        &writer,
        fields,
        opts.progress,
    );
    // Commit before growing the manifest, so the writer's arenas are freed first.
    let mut writer = writer;
    writer.commit().map_err(|e| Error::index(dir, e))?;
    for (file, outcome) in plan.todo.iter().zip(outcomes) {
        let was_known = manifest.entries.contains_key(&file.rel);
        match outcome {
            Outcome::Unchanged(entry) => {
                manifest.entries.insert(file.rel.clone(), entry);
            }
            Outcome::Indexed(entry) => {
                if was_known {
                    stats.changed += 1
                } else {
                    stats.added += 1
                }
                manifest.entries.insert(file.rel.clone(), entry);
            }
            Outcome::Skipped(entry) => {
                if was_known && manifest.entries[&file.rel].problem.is_none() {
                    stats.changed += 1;
                }
                manifest.entries.insert(file.rel.clone(), entry);
            }
            Outcome::Vanished => {
                if manifest.entries.remove(&file.rel).is_some() {
                    stats.removed += 1;
                }
            }
        }
    }
    manifest.schema_version = SCHEMA_VERSION;
    manifest.taxonomy_hash = taxonomy.hash.clone();
    manifest.save(dir)?;
    // The commit may have scheduled merges of small segments; let them finish, or every
    // update would leave one more segment behind and searches would slow down.
    writer
        .wait_merging_threads()
        .map_err(|e| Error::index(dir, e))?;
    stats.skipped = manifest
        .entries
        .values()
        .filter(|e| e.problem.is_some())
        .count()
        + listing_problems.len();
    stats.total = manifest
        .entries
        .values()
        .filter(|e| e.problem.is_none())
        .count();
    stats.problems = [stored_problems(&manifest), listing_problems].concat();
    Ok((KbIndex::opened(index, fields, kb), stats))
}

fn stored_problems(m: &Manifest) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = m
        .entries
        .iter()
        .filter_map(|(path, e)| e.problem.as_ref().map(|p| parse_stored_problem(path, p)))
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn parse_stored_problem(path: &str, stored: &str) -> Diagnostic {
    let mut parts = stored.splitn(3, '\t');
    let line = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let column = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    Diagnostic::new(path, line, column, parts.next().unwrap_or(stored))
}

struct Plan<'a> {
    todo: Vec<&'a NoteFile>,
    removed: Vec<String>,
}

impl Plan<'_> {
    fn is_clean(&self) -> bool {
        self.todo.is_empty() && self.removed.is_empty()
    }
}

fn plan<'a>(files: &'a [NoteFile], m: &Manifest, taxonomy_hash: &str) -> Plan<'a> {
    // Both lists are sorted by path: merge them in one pass.
    let taxonomy_changed = m.taxonomy_hash != taxonomy_hash;
    let mut todo = Vec::new();
    let mut removed = Vec::new();
    let mut known = m.entries.iter().peekable();
    for f in files {
        while let Some((path, _)) = known.next_if(|(p, _)| p.as_str() < f.rel.as_str()) {
            removed.push(path.clone());
        }
        match known.next_if(|(p, _)| p.as_str() == f.rel.as_str()) {
            Some((_, e)) if e.size == f.size && e.mtime_ns == f.mtime_ns => {
                if taxonomy_changed && is_project_path(&f.rel) {
                    todo.push(f);
                }
            }
            _ => todo.push(f),
        }
    }
    removed.extend(known.map(|(p, _)| p.clone()));
    Plan { todo, removed }
}

fn is_project_path(rel: &str) -> bool {
    rel.starts_with("corpus/projects/")
}

enum Outcome {
    /// Same content as indexed (only the stat changed).
    Unchanged(Entry),
    Indexed(Entry),
    Skipped(Entry),
    Vanished,
}

#[allow(clippy::too_many_arguments)]
fn process(
    kb: &Kb,
    todo: &[&NoteFile],
    manifest: &Manifest,
    taxonomy_hash: &str,
    classifier: &LazyClassifier<'_>,
    writer: &IndexWriter,
    fields: Fields,
    progress: Option<Progress<'_>>,
) -> Vec<Outcome> {
    // Workers claim chunks of notes in order and return one outcome per note.
    const CHUNK: usize = 256;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let chunks: Mutex<Vec<(usize, Vec<Outcome>)>> = Mutex::new(Vec::new());
    let taxonomy_changed = manifest.taxonomy_hash != taxonomy_hash;
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4)
        .min(todo.len().div_ceil(CHUNK).max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                    let Some(part) = todo.get(start..(start + CHUNK).min(todo.len())) else {
                        break;
                    };
                    if part.is_empty() {
                        break;
                    }
                    let outcomes: Vec<Outcome> = part
                        .iter()
                        .map(|file| {
                            let old = manifest.entries.get(&file.rel);
                            process_one(kb, file, old, taxonomy_changed, classifier, writer, fields)
                        })
                        .collect();
                    chunks
                        .lock()
                        .expect("no worker panics holding the lock")
                        .push((start, outcomes));
                    let n = done.fetch_add(part.len(), Ordering::Relaxed) + part.len();
                    if let Some(p) = progress {
                        p(n, todo.len());
                    }
                }
            });
        }
    });
    let mut chunks = chunks.into_inner().expect("workers finished");
    chunks.sort_unstable_by_key(|(start, _)| *start);
    chunks.into_iter().flat_map(|(_, o)| o).collect()
}

fn process_one(
    kb: &Kb,
    file: &NoteFile,
    old: Option<&Entry>,
    taxonomy_changed: bool,
    classifier: &LazyClassifier<'_>,
    writer: &IndexWriter,
    fields: Fields,
) -> Outcome {
    let full = kb.root.join(&file.rel);
    // The stat from the listing is what the manifest records: if the file changes
    // after it, the next run sees a different stat and looks again.
    let (size, mtime_ns) = (file.size, file.mtime_ns);
    // Only a path that was indexed before can have a document to replace.
    let forget = || {
        if old.is_some() {
            writer.delete_term(Term::from_field_text(fields.path, &file.rel));
        }
    };
    let skip = |hash: [u8; 16], d: Diagnostic| {
        forget();
        Outcome::Skipped(Entry {
            size,
            mtime_ns,
            hash,
            problem: Some(format!("{}\t{}\t{}", d.line, d.column, d.message)),
        })
    };
    if size > corpus::MAX_NOTE_BYTES {
        let d = Diagnostic::new(
            &file.rel,
            0,
            0,
            format!(
                "note is {size} bytes; the limit is {}",
                corpus::MAX_NOTE_BYTES
            ),
        );
        return skip([0; 16], d);
    }
    let bytes = match fs::read(&full) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            forget();
            return Outcome::Vanished;
        }
        Err(e) => {
            return skip(
                [0; 16],
                Diagnostic::new(&file.rel, 0, 0, e.to_string().to_lowercase()),
            );
        }
    };
    let hash = content_hash(&bytes);
    if let Some(old) = old
        && old.hash == hash
        && !(taxonomy_changed && is_project_path(&file.rel))
    {
        return Outcome::Unchanged(Entry {
            size,
            mtime_ns,
            hash,
            problem: old.problem.clone(),
        });
    }
    let note = match corpus::parse_note(&file.rel, &bytes) {
        Ok(n) => n,
        Err(d) => return skip(hash, d),
    };
    let doc = document(&note, classifier, fields);
    forget();
    if let Err(e) = writer.add_document(doc) {
        return skip(
            hash,
            Diagnostic::new(&file.rel, 0, 0, format!("could not index: {e}")),
        );
    }
    Outcome::Indexed(Entry {
        size,
        mtime_ns,
        hash,
        problem: None,
    })
}

/// The effective label of a note: the analyst's pinned label, else the classifier's.
pub fn effective_label<'a, 't: 'a>(
    note: &Note,
    classifier: impl FnOnce() -> &'a Classifier<'t>,
) -> (Option<String>, Option<String>) {
    if note.kind != Kind::Project {
        return (None, None);
    }
    if let Some(c) = &note.front.category {
        return (
            Some(c.to_lowercase()),
            note.front.subcategory.as_ref().map(|s| s.to_lowercase()),
        );
    }
    let r = classifier().classify_note(note);
    (
        Some(r.category.to_string()),
        r.subcategory.map(str::to_string),
    )
}

/// A classifier compiled the first time a note needs one.
struct LazyClassifier<'t> {
    taxonomy: &'t Taxonomy,
    cell: std::sync::OnceLock<Classifier<'t>>,
}

impl<'t> LazyClassifier<'t> {
    fn new(taxonomy: &'t Taxonomy) -> Self {
        LazyClassifier {
            taxonomy,
            cell: std::sync::OnceLock::new(),
        }
    }

    fn get(&self) -> &Classifier<'t> {
        self.cell.get_or_init(|| Classifier::new(self.taxonomy))
    }
}

/// Builds the tantivy document of a note.
fn document(note: &Note, classifier: &LazyClassifier<'_>, f: Fields) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(f.id, &note.id);
    d.add_text(f.path, &note.path);
    d.add_text(f.kind, note.kind.as_str());
    let title = note.title();
    let is_project = note.kind == Kind::Project;
    if is_project {
        d.add_text(f.names, &title);
    }
    d.add_text(f.title, title);
    for a in &note.front.aliases {
        d.add_text(f.aliases, a);
        if is_project {
            d.add_text(f.names, a);
        }
    }
    if let Some(t) = &note.front.ticker {
        d.add_text(f.ticker, t);
    }
    for t in &note.front.tags {
        d.add_text(f.tags, t);
        d.add_text(f.tag_text, t);
    }
    let (category, subcategory) = effective_label(note, || classifier.get());
    if let Some(c) = category {
        d.add_text(f.category, c);
    }
    if let Some(s) = subcategory {
        d.add_text(f.subcategory, s);
    }
    if let Some(date) = &note.front.date {
        d.add_text(f.date, date);
        if let Some(key) = corpus::date_key(date) {
            d.add_i64(f.date_key, key);
        }
    }
    d.add_text(f.body, crate::text::markdown_to_text(&note.body));
    let mut meta = String::new();
    for (k, v) in note
        .front
        .extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(
            [
                ("website", note.front.website.as_deref()),
                ("date", note.front.date.as_deref()),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v))),
        )
    {
        for word in meta_words(v) {
            meta.push_str(&k.to_lowercase());
            meta.push(':');
            meta.push_str(&word);
            meta.push(' ');
        }
    }
    for s in &note.front.sources {
        meta.push_str("sources:");
        meta.push_str(&s.to_lowercase());
        meta.push(' ');
    }
    if !meta.is_empty() {
        d.add_text(f.meta, meta);
    }
    d
}

/// Words of a metadata value for `key:value` terms: the whole value (spaces removed)
/// and each word, lower case.
pub fn meta_words(value: &str) -> Vec<String> {
    let lower = value.to_lowercase();
    let mut out: Vec<String> = crate::text::words(&lower)
        .map(|w| lower[w.start..w.end].to_string())
        .collect();
    let whole: String = lower.split_whitespace().collect::<Vec<_>>().join("-");
    if !whole.is_empty() && !out.contains(&whole) {
        out.push(whole);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb_with(notes: &[(&str, &str)]) -> (tempfile::TempDir, Kb) {
        let tmp = tempfile::tempdir().unwrap();
        crate::kb::init(tmp.path()).unwrap();
        for (p, t) in notes {
            let full = tmp.path().join(p);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, t).unwrap();
        }
        let kb = Kb::new(tmp.path().to_path_buf(), None, None);
        (tmp, kb)
    }

    #[test]
    fn incremental_update_counts() {
        let (_tmp, kb) = kb_with(&[
            ("corpus/articles/a.md", "---\ntitle: A\n---\nalpha"),
            (
                "corpus/projects/p.md",
                "---\nname: P\n---\nGPU marketplace for AI",
            ),
            ("corpus/articles/bad.md", "---\ntitle: [\n---\nx"),
        ]);
        let tax = Taxonomy::load(&kb.taxonomy).unwrap();
        let (_, s) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        assert!(s.rebuilt);
        assert_eq!((s.added, s.skipped, s.total), (2, 1, 2));
        assert_eq!(s.problems[0].path, "corpus/articles/bad.md");
        let (_, s) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        assert!(s.is_noop());
        assert_eq!(s.skipped, 1, "skipped notes are still reported");
        fs::write(
            kb.root.join("corpus/articles/a.md"),
            "---\ntitle: A2\n---\nbeta gamma",
        )
        .unwrap();
        fs::remove_file(kb.root.join("corpus/projects/p.md")).unwrap();
        fs::write(kb.root.join("corpus/articles/c.md"), "new").unwrap();
        let (_, s) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        assert_eq!((s.added, s.changed, s.removed, s.total), (1, 1, 1, 2));
        let (_, s) = update(
            &kb,
            &tax,
            &UpdateOptions {
                rebuild: true,
                progress: None,
            },
        )
        .unwrap();
        assert_eq!((s.added, s.total, s.rebuilt), (2, 2, true));
    }

    #[test]
    fn corrupt_manifest_triggers_rebuild() {
        let (_tmp, kb) = kb_with(&[("corpus/articles/a.md", "alpha")]);
        let tax = Taxonomy::load(&kb.taxonomy).unwrap();
        update(&kb, &tax, &UpdateOptions::default()).unwrap();
        fs::write(kb.index_dir.join(MANIFEST_FILE), b"garbage").unwrap();
        let (_, s) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        assert!(s.rebuilt);
        assert!(s.rebuild_reason.unwrap().contains("manifest"));
        fs::write(kb.index_dir.join("meta.json"), b"{not json").unwrap();
        let (_, s) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        assert!(s.rebuilt, "a corrupt index is rebuilt");
    }

    #[test]
    fn small_updates_are_merged_instead_of_piling_up() {
        let (_tmp, kb) = kb_with(&[]);
        let tax = Taxonomy::load(&kb.taxonomy).unwrap();
        for i in 0..24 {
            fs::write(
                kb.root.join(format!("corpus/articles/n{i}.md")),
                format!("note {i}"),
            )
            .unwrap();
            update(&kb, &tax, &UpdateOptions::default()).unwrap();
        }
        let (idx, s) = update(&kb, &tax, &UpdateOptions::default()).unwrap();
        assert_eq!(s.total, 24);
        let segments = idx.index.searchable_segment_ids().unwrap().len();
        assert!(
            segments < 8,
            "{segments} segments after 24 one-note updates"
        );
    }

    #[test]
    fn meta_words_cover_whole_value_and_words() {
        assert_eq!(
            meta_words("Grayscale Research"),
            vec!["grayscale", "research", "grayscale-research"]
        );
    }
}
