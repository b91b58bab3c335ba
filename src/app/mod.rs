//! Glue between the command line and the library: resolve the knowledge base, call
//! the library, render human text or JSON to stdout, diagnostics to stderr, and
//! choose the exit code. One function per subcommand.

mod add;
mod report;
mod show;
mod train;

use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;

use crate::classify::Classifier;
use crate::cli::{Cli, ColorChoice, Command, TaxonomyCommand};
use crate::corpus::{self, Kind, Note};
use crate::error::{Diagnostic, Error, Exit, Result};
use crate::index::{self, IndexStats, KbIndex, UpdateOptions};
use crate::kb::Kb;
use crate::project::ProjectResult;
use crate::render::{self, Printable, Style};
use crate::search::{self, SearchOptions};
use crate::taxonomy::Taxonomy;

/// Everything a command needs: the knowledge base, output style and stdout.
pub struct Ctx {
    /// The knowledge base.
    pub kb: Kb,
    /// Styling for human output.
    pub style: Style,
    /// Whether stderr is a terminal (for progress bars).
    pub stderr_tty: bool,
    out: Printable<BufWriter<io::StdoutLock<'static>>>,
}

impl Ctx {
    /// Buffered standard output, with control characters made visible.
    pub fn out(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// Buffered standard output for JSON, which escapes control characters itself.
    pub fn json_out(&mut self) -> &mut dyn Write {
        self.out.raw()
    }

    /// Loads and validates the taxonomy, warning when its lexicon does not fit it.
    pub fn taxonomy(&self) -> Result<Taxonomy> {
        Ok(warn_unfit(Taxonomy::load(&self.kb.taxonomy)?))
    }

    /// The taxonomy with its lexicon's words left unparsed (see
    /// [`Taxonomy::load_deferred`]), for commands that classify only when the index
    /// needs an update (`search`, `index`); updating parses them.
    pub fn taxonomy_deferred(&self) -> Result<Taxonomy> {
        Ok(warn_unfit(Taxonomy::load_deferred(&self.kb.taxonomy)?))
    }

    /// Loads every note; parse problems are printed as warnings and skipped.
    pub fn notes(&self) -> Result<Vec<Note>> {
        let (notes, problems) = corpus::load_all(&self.kb.root)?;
        warn_all(&problems);
        Ok(notes)
    }

    /// The project notes only (with a warning per unreadable one), for the commands
    /// that never read articles.
    pub fn project_notes(&self) -> Result<Vec<Note>> {
        let (notes, problems) = corpus::load_projects(&self.kb.root)?;
        warn_all(&problems);
        Ok(notes)
    }

    /// Brings the index up to date (`Ctx::update_index`), printing a notice if it
    /// had to be rebuilt unasked and a warning per skipped note (unless
    /// `quiet_warnings`).
    pub fn fresh_index(
        &self,
        taxonomy: &Taxonomy,
        rebuild: bool,
        quiet_warnings: bool,
    ) -> Result<(KbIndex, IndexStats)> {
        let (idx, stats) = self.update_index(taxonomy, rebuild)?;
        if let Some(why) = &stats.rebuild_reason
            && !rebuild
        {
            let n = stats.total;
            eprintln!(
                "aikb: {why}; rebuilt the index ({n} note{})",
                render::plural(n)
            );
        }
        if !quiet_warnings && !stats.is_noop() {
            warn_all(&stats.problems);
        }
        Ok((idx, stats))
    }

    /// Brings the index up to date, with a progress bar on a terminal, saying nothing
    /// else: for a command that reports the update itself.
    fn update_index(&self, taxonomy: &Taxonomy, rebuild: bool) -> Result<(KbIndex, IndexStats)> {
        let bar = self.stderr_tty.then(|| {
            let b = indicatif::ProgressBar::hidden();
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} indexing {pos}/{len} notes {wide_bar} {eta}",
                )
                .expect("valid template"),
            );
            b
        });
        let progress = |done: usize, total: usize| {
            if let Some(b) = &bar {
                if total >= 2000 && b.is_hidden() {
                    b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                }
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        };
        let opts = UpdateOptions {
            rebuild,
            progress: Some(&progress),
        };
        let result = index::update(&self.kb, taxonomy, &opts);
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        result
    }
}

/// Warns when the taxonomy's lexicon does not fit it.
fn warn_unfit(tax: Taxonomy) -> Taxonomy {
    if let Some(d) = tax.lexicon.as_ref().and_then(|l| l.unfit.as_ref()) {
        warn_all(std::slice::from_ref(d));
        eprintln!("aikb: warning: classifying by the taxonomy's signals alone");
    }
    tax
}

/// Prints a warning per diagnostic on stderr.
pub fn warn_all(problems: &[Diagnostic]) {
    let mut err = io::stderr().lock();
    for p in problems {
        let _ = writeln!(err, "aikb: warning: {p}");
    }
}

/// Writes `value` as pretty JSON plus a newline.
pub fn write_json<T: serde::Serialize>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value).map_err(io::Error::from)?;
    writeln!(w)
}

fn io_out(e: io::Error) -> Error {
    Error::io("<stdout>", e)
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> Result<Exit> {
    let style = Style {
        color: match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        },
    };
    let stdout: &'static io::Stdout = Box::leak(Box::new(io::stdout()));
    let out = Printable::new(BufWriter::new(stdout.lock()));
    // Commands that need no knowledge base.
    match &cli.command {
        Command::Init(args) => {
            let report = crate::kb::init(&args.dir)?;
            let mut out = out;
            if args.json {
                write_json(&mut out, &report).map_err(io_out)?;
            } else {
                for c in &report.created {
                    writeln!(out, "created {}", args.dir.join(c).display()).map_err(io_out)?;
                }
                if report.created.is_empty() {
                    writeln!(
                        out,
                        "{} is already a knowledge base; nothing to do",
                        args.dir.display()
                    )
                    .map_err(io_out)?;
                }
            }
            out.flush().map_err(io_out)?;
            return Ok(Exit::Success);
        }
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut out = out;
            clap_complete::generate(args.shell, &mut Cli::command(), "aikb", &mut out);
            out.flush().map_err(io_out)?;
            return Ok(Exit::Success);
        }
        _ => {}
    }
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let root = Kb::discover(cli.root.clone(), &cwd)?;
    let kb = Kb::new(root, cli.index.clone(), cli.taxonomy.clone());
    let mut ctx = Ctx {
        kb,
        style,
        stderr_tty: io::stderr().is_terminal(),
        out,
    };
    let exit = match cli.command {
        Command::Search(a) => search(&mut ctx, a),
        Command::Index(a) => index(&mut ctx, a),
        Command::Check(a) => check(&mut ctx, a.json),
        Command::Classify(a) => classify(&mut ctx, a),
        Command::Eval(a) => eval(&mut ctx, a),
        Command::Train(a) => train::run(&mut ctx, a),
        Command::Taxonomy(TaxonomyCommand::Check(a)) => taxonomy_check(&mut ctx, a.json),
        Command::Report(a) => report::run(&mut ctx, a),
        Command::Show(a) => show::run(&mut ctx, a),
        Command::Add(a) => add::run(&mut ctx, a),
        Command::Init(_) | Command::Completions(_) => unreachable!("handled above"),
    }?;
    ctx.out.flush().map_err(io_out)?;
    Ok(exit)
}

fn search(ctx: &mut Ctx, a: crate::cli::SearchArgs) -> Result<Exit> {
    let tax = ctx.taxonomy_deferred()?;
    let as_is = if a.no_refresh {
        index::open_as_is(&ctx.kb, &tax)
    } else {
        None
    };
    let idx = match as_is {
        Some(idx) => idx,
        None => ctx.fresh_index(&tax, false, false)?.0,
    };
    let query = a.query.join(" ");
    let label = match &a.category {
        None => crate::taxonomy::LabelFilter::default(),
        Some(c) => tax.resolve_label(c).ok_or_else(|| {
            Error::Invalid(format!(
                "unknown category `{c}` for --category: use one of {}, or a subcategory: {}",
                tax.category_ids().join(", "),
                tax.subcategory_paths().join(", ")
            ))
        })?,
    };
    let opts = SearchOptions {
        limit: a.limit,
        kind: a.kind.map(|k| match k {
            crate::cli::KindArg::Project => Kind::Project.as_str().to_string(),
            crate::cli::KindArg::Article => Kind::Article.as_str().to_string(),
        }),
        category: label.category,
        subcategory: label.subcategory,
        tags: a.tags,
        since: date_option("--since", a.since.as_deref(), crate::corpus::date_key)?,
        until: date_option("--until", a.until.as_deref(), crate::corpus::date_key_end)?,
        newest_first: a.sort == crate::cli::SortArg::Date,
        synonyms: tax.synonyms.clone(),
    };
    if opts.limit == 0 {
        return Err(Error::Invalid("--limit must be at least 1".into()));
    }
    for warning in search::unknown_labels(&query, &tax) {
        eprintln!("aikb: {warning}");
    }
    let results = search::search(&idx, &query, &opts)?;
    if !results.near_spellings.is_empty() {
        let words: Vec<String> = results
            .near_spellings
            .iter()
            .map(|w| format!("`{w}`"))
            .collect();
        eprintln!(
            "aikb: no note holds {} as written; searched near spellings",
            words.join(", ")
        );
    }
    for u in &results.unknown_tags {
        if u.similar.is_empty() {
            eprintln!("aikb: no note is tagged `{}`", u.tag);
        } else {
            let similar: Vec<String> = u.similar.iter().map(|t| format!("`{t}`")).collect();
            eprintln!(
                "aikb: no note is tagged `{}` (tags match exactly); tags holding that word: {}",
                u.tag,
                similar.join(", ")
            );
        }
    }
    if results.nothing_to_search {
        if query.trim().is_empty() {
            eprintln!(
                "aikb: the query is empty: give a word, a phrase or a filter \
                 (`--kind project` lists every project)"
            );
        } else {
            eprintln!(
                "aikb: nothing to search for in `{query}`: stop words, operators \
                 (AND, OR, *) and fields with no value (`tag:`) match nothing on their own; \
                 give a word or a phrase"
            );
        }
    }
    if results.dropped_terms > 0 {
        eprintln!(
            "aikb: the query has more than {} terms; the last {} were not searched",
            crate::query::MAX_CLAUSES,
            results.dropped_terms
        );
    }
    if let Some(first) = results.unreadable.first() {
        let more = match results.unreadable.len() - 1 {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        eprintln!(
            "aikb: {first}{more}: no longer readable as a note since the index was \
             brought up to date; run `aikb index` (or search without --no-refresh)"
        );
    }
    if a.json {
        write_json(ctx.json_out(), &JsonSearch::from(&results)).map_err(io_out)?;
    } else {
        let style = ctx.style;
        render::search(ctx.out(), &results, style).map_err(io_out)?;
    }
    Ok(Exit::from_bool(results.total_hits > 0))
}

/// A `--since`/`--until` date as a `YYYYMMDD` bound.
fn date_option(
    flag: &str,
    value: Option<&str>,
    key: fn(&str) -> Option<i64>,
) -> Result<Option<i64>> {
    value
        .map(|v| {
            key(v).ok_or_else(|| {
                Error::Invalid(format!(
                    "invalid date `{v}` for {flag}: use YYYY, YYYY-MM or YYYY-MM-DD"
                ))
            })
        })
        .transpose()
}

/// The documented `search --json` shape (snippets as plain text).
#[derive(serde::Serialize)]
struct JsonSearch<'a> {
    query: &'a str,
    total_hits: usize,
    /// Query words no note holds as written, searched by their near spellings.
    near_spellings: &'a [String],
    /// Tags asked for that no note carries, with the tags holding them as a word.
    unknown_tags: &'a [search::UnknownTag],
    /// True when the query held nothing that can match (see the human warning).
    nothing_to_search: bool,
    hits: Vec<JsonHit<'a>>,
    facets: &'a std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
}

#[derive(serde::Serialize)]
struct JsonHit<'a> {
    rank: usize,
    score: f32,
    id: &'a str,
    path: &'a str,
    kind: &'a str,
    title: &'a str,
    ticker: Option<&'a str>,
    category: Option<&'a str>,
    subcategory: Option<&'a str>,
    date: Option<&'a str>,
    snippet: &'a str,
}

impl<'a> From<&'a search::SearchResults> for JsonSearch<'a> {
    fn from(r: &'a search::SearchResults) -> Self {
        JsonSearch {
            query: &r.query,
            total_hits: r.total_hits,
            near_spellings: &r.near_spellings,
            unknown_tags: &r.unknown_tags,
            nothing_to_search: r.nothing_to_search,
            hits: r
                .hits
                .iter()
                .map(|h| JsonHit {
                    rank: h.rank,
                    score: h.score,
                    id: &h.id,
                    path: &h.path,
                    kind: &h.kind,
                    title: &h.title,
                    ticker: h.ticker.as_deref(),
                    category: h.category.as_deref(),
                    subcategory: h.subcategory.as_deref(),
                    date: h.date.as_deref(),
                    snippet: &h.snippet.text,
                })
                .collect(),
            facets: &r.facets,
        }
    }
}

fn index(ctx: &mut Ctx, a: crate::cli::IndexArgs) -> Result<Exit> {
    let tax = ctx.taxonomy_deferred()?;
    // The summary says why the index was rebuilt.
    let (_, stats) = ctx.update_index(&tax, a.rebuild)?;
    warn_all(&stats.problems);
    if a.json {
        write_json(ctx.json_out(), &stats).map_err(io_out)?;
    } else {
        render::index_stats(ctx.out(), &stats).map_err(io_out)?;
    }
    Ok(Exit::Success)
}

fn check(ctx: &mut Ctx, json: bool) -> Result<Exit> {
    let tax = ctx.taxonomy()?;
    let (notes, parse_problems) = corpus::load_all(&ctx.kb.root)?;
    let problems = crate::check::check(&notes, &parse_problems, &tax);
    if json {
        write_json(ctx.json_out(), &serde_json::json!({ "notes": notes.len() + parse_problems.len(), "problems": problems }))
            .map_err(io_out)?;
    } else {
        let out = ctx.out();
        for p in &problems {
            writeln!(out, "{p}").map_err(io_out)?;
        }
        let n = notes.len() + parse_problems.len();
        writeln!(
            out,
            "{} note{} checked, {} problem{}",
            n,
            render::plural(n),
            problems.len(),
            render::plural(problems.len())
        )
        .map_err(io_out)?;
    }
    Ok(Exit::from_bool(problems.is_empty()))
}

/// Resolves `targets` (names, tickers, ids, paths) to project notes; unknown ones are
/// an error with suggestions.
fn select<'a>(notes: &'a [Note], targets: &[String]) -> Result<Vec<&'a Note>> {
    if targets.is_empty() {
        return Ok(notes.iter().filter(|n| n.kind == Kind::Project).collect());
    }
    let mut out = Vec::new();
    for t in targets {
        // Notes that share a name are all classified.
        let found = crate::project::find_all(notes, t);
        if found.is_empty() {
            return Err(unknown_project(notes, t));
        }
        for n in found {
            if !out.iter().any(|o: &&Note| std::ptr::eq(*o, n)) {
                out.push(n);
            }
        }
    }
    Ok(out)
}

/// "no project named X; did you mean …?"
pub fn unknown_project(notes: &[Note], key: &str) -> Error {
    let s = crate::project::suggestions(notes, key, 3);
    let hint = if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    };
    Error::Invalid(format!("no project named `{key}`{hint}"))
}

/// The text of a file, or of standard input for `-`; a byte that is not UTF-8 is
/// reported by line and column.
fn read_input(path: &PathBuf) -> Result<String> {
    let (bytes, shown) = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("<stdin>", e))?;
        (bytes, "<stdin>".to_string())
    } else {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        (bytes, path.display().to_string())
    };
    crate::text::utf8_string_or_diagnostic(bytes, &shown).map_err(Error::Located)
}

fn classify(ctx: &mut Ctx, a: crate::cli::ClassifyArgs) -> Result<Exit> {
    let tax = ctx.taxonomy()?;
    let classifier = Classifier::new(&tax);
    let results: Vec<ProjectResult> = if let Some(path) = &a.text {
        let text = read_input(path)?;
        let c = classifier.classify_text(&text);
        let name = if path.as_os_str() == "-" {
            "<stdin>".to_string()
        } else {
            path.display().to_string()
        };
        vec![ProjectResult::for_text(name, c)]
    } else {
        let notes = ctx.project_notes()?;
        let selected = select(&notes, &a.targets)?;
        crate::par::map(&selected, 64, |n| ProjectResult::new(n, &classifier))
    };
    if a.json {
        /// The results as they are, not copied into a JSON tree first.
        #[derive(serde::Serialize)]
        struct Out<'a> {
            results: &'a [ProjectResult<'a>],
        }
        write_json(ctx.json_out(), &Out { results: &results }).map_err(io_out)?;
    } else {
        let style = ctx.style;
        render::classify(ctx.out(), &results, a.explain, style).map_err(io_out)?;
    }
    Ok(Exit::Success)
}

fn eval(ctx: &mut Ctx, a: crate::cli::EvalArgs) -> Result<Exit> {
    let tax = ctx.taxonomy()?;
    let classifier = Classifier::new(&tax);
    let notes = ctx.project_notes()?;
    let e = crate::eval::evaluate(&notes, &classifier);
    if a.json {
        write_json(ctx.json_out(), &e).map_err(io_out)?;
    } else {
        let style = ctx.style;
        render::evaluation(ctx.out(), &e, style).map_err(io_out)?;
    }
    if e.evaluated == 0 {
        eprintln!("aikb: no project note has a pinned `category`; nothing to evaluate");
        return Ok(Exit::NotFound);
    }
    Ok(Exit::from_bool(
        a.min_macro_f1.is_none_or(|m| e.macro_f1 >= m),
    ))
}

fn taxonomy_check(ctx: &mut Ctx, json: bool) -> Result<Exit> {
    let tax = ctx.taxonomy()?;
    let classifier = Classifier::new(&tax);
    let notes = ctx.project_notes()?;
    let lint = crate::eval::lint(&notes, &classifier);
    if json {
        write_json(
            ctx.json_out(),
            &serde_json::json!({
                "valid": true,
                "hash": tax.hash,
                "lexicon": tax.loaded_lexicon().map(|(spec, lex)| {
                    serde_json::json!({
                        "file": spec.file,
                        "margin": spec.margin,
                        "min_words": spec.min_words,
                        "words": lex.len(),
                        "notes": lex.notes(),
                    })
                }),
                "lint": lint,
            }),
        )
        .map_err(io_out)?;
    } else {
        let style = ctx.style;
        render::lint(ctx.out(), &lint, style).map_err(io_out)?;
        if let Some((spec, lex)) = tax.loaded_lexicon() {
            writeln!(
                ctx.out(),
                "lexicon {}: {} words learned from {} pinned notes; overrules the signals by a margin of {}",
                spec.file,
                lex.len(),
                lex.notes(),
                spec.margin
            )
            .map_err(io_out)?;
        }
    }
    Ok(Exit::Success)
}
