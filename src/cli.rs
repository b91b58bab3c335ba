//! Command-line arguments (clap derive). Raw flags only: [`crate::app`] resolves
//! them and calls the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes: 0 success (search found hits, report is current, check is clean);
            1 nothing found / not clean (no hits, stale report, problems found,
              eval below --min-macro-f1, unknown project for show);
            2 error (bad input, unreadable files, locked index).
Environment: NO_COLOR disables colour; AIKB_LOCK_TIMEOUT sets how many seconds to
wait for another aikb process holding the index lock (default 30).";

/// A research knowledge base for crypto × AI: index and search Markdown notes,
/// classify protocols into the Grayscale framework, and publish the market map.
#[derive(Debug, Parser)]
#[command(name = "aikb", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Knowledge-base root (default: the nearest folder above the working directory
    /// holding taxonomy.yaml and corpus/).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Index folder (default: `<root>`/.aikb/index).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        help = "Index folder (default: <root>/.aikb/index)"
    )]
    pub index: Option<PathBuf>,
    /// Taxonomy file (default: `<root>`/taxonomy.yaml).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help = "Taxonomy file (default: <root>/taxonomy.yaml)"
    )]
    pub taxonomy: Option<PathBuf>,
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process arguments (see [`Cli::parse_from_args`]).
    pub fn parse_args() -> Cli {
        Cli::parse_from_args(std::env::args_os())
    }

    /// Parses arguments, letting `search` take query words that start with `-`
    /// (`aikb search storage -filecoin --limit 3`): such words are moved after `--`.
    pub fn parse_from_args<I, T>(args: I) -> Cli
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString>,
    {
        Cli::parse_from(reorder_search_args(
            args.into_iter().map(Into::into).collect(),
        ))
    }
}

/// Long options of `search` (and global ones) that take a value, read from the
/// command's own definition so a new option cannot be missed.
fn value_flags() -> Vec<String> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let search = cmd
        .find_subcommand("search")
        .expect("the search subcommand");
    cmd.get_arguments()
        .chain(search.get_arguments())
        .filter(|a| a.get_action().takes_values())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}

/// Moves `-word` query terms of `aikb search` behind a `--` so clap reads them as
/// query words, not flags. Flags keep their meaning wherever they stand.
pub fn reorder_search_args(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let value_flags = value_flags();
    let takes_value = |flag: &str| value_flags.iter().any(|f| f == flag);
    // Find the subcommand: the first argument that is neither an option nor the value
    // of a global option.
    let mut pos = None;
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "--" {
            return args;
        }
        if a.starts_with('-') {
            if takes_value(&a) {
                i += 1;
            }
        } else {
            pos = Some(i);
            break;
        }
        i += 1;
    }
    let Some(pos) = pos.filter(|&p| args[p] == "search") else {
        return args;
    };
    let mut out: Vec<std::ffi::OsString> = args[..=pos].to_vec();
    let mut words = Vec::new();
    let mut rest = args[pos + 1..].iter();
    while let Some(a) = rest.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            words.extend(rest.by_ref().cloned());
            break;
        }
        let is_long = s.starts_with("--") && s.len() > 2;
        let short_flag = matches!(s.as_ref(), "-n" | "-h" | "-V")
            || (s.starts_with("-n") && s[2..].chars().all(|c| c.is_ascii_digit()) && s.len() > 2);
        if is_long || short_flag {
            out.push(a.clone());
            let has_value = (takes_value(&s) && !s.contains('=')) || s == "-n";
            if has_value && let Some(v) = rest.next() {
                out.push(v.clone());
            }
        } else {
            words.push(a.clone());
        }
    }
    if !words.is_empty() {
        out.push("--".into());
        out.extend(words);
    }
    out
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Search the notes (brings the index up to date first).
    Search(SearchArgs),
    /// Bring the index up to date with the corpus and print what changed.
    Index(IndexArgs),
    /// List every problem in the corpus; exit 1 if there is any.
    Check(JsonArgs),
    /// Classify projects into the taxonomy and show the evidence.
    Classify(ClassifyArgs),
    /// Compare predictions with the analysts' pinned labels.
    Eval(EvalArgs),
    /// Learn the lexicon's word weights from the pinned notes.
    Train(TrainArgs),
    /// Taxonomy tools.
    #[command(subcommand)]
    Taxonomy(TaxonomyCommand),
    /// Regenerate the taxonomy report and market map (Markdown, JSON, SVG).
    Report(ReportArgs),
    /// Show one protocol's card.
    Show(ShowArgs),
    /// Add a new project note to the corpus and classify it.
    Add(AddArgs),
    /// Create a new knowledge base.
    Init(InitArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aikb search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query: words, "exact phrases", +must, -exclude, field:value, prefix*.
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    pub query: Vec<String>,
    /// Maximum number of hits.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub limit: usize,
    /// Only this kind of note.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Only this category or subcategory: a taxonomy id (`resources`, `none`), a
    /// subcategory id (`compute`) or both (`resources/compute`).
    #[arg(long, value_name = "ID")]
    pub category: Option<String>,
    /// Only notes with this tag (repeat for several).
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
    /// Only notes dated on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD); undated notes
    /// are left out.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only notes dated on or before DATE (YYYY, YYYY-MM or YYYY-MM-DD: `2024-07` runs to
    /// the end of July); undated notes are left out.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Order of the hits.
    #[arg(long, value_enum, default_value_t = SortArg::Relevance)]
    pub sort: SortArg,
    /// Search the index as it is, without checking the notes for changes (for scripts
    /// that run `aikb index` once, then many searches). A missing index, or one built
    /// with another taxonomy, is still brought up to date first.
    #[arg(long)]
    pub no_refresh: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Orders of search hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Best match first.
    Relevance,
    /// Newest first by front-matter date; undated notes last, ties by relevance.
    Date,
}

/// Note kinds on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Protocol notes.
    Project,
    /// Everything else.
    Article,
}

/// `aikb index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Start over from an empty index.
    #[arg(long)]
    pub rebuild: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aikb classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Projects by name, ticker, alias, id or path (default: all).
    #[arg(value_name = "NAME|TICKER|PATH")]
    pub targets: Vec<String>,
    /// Classify raw text instead: a file, or - for standard input.
    #[arg(long, value_name = "FILE", conflicts_with = "targets")]
    pub text: Option<PathBuf>,
    /// Show every signal with its contribution.
    #[arg(long)]
    pub explain: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aikb eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Exit 1 when macro-F1 is below this.
    #[arg(long, value_name = "X")]
    pub min_macro_f1: Option<f64>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aikb train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Also learn from the pinned project notes of this knowledge base (a folder
    /// holding `corpus/`); repeat for several.
    #[arg(long = "from", value_name = "DIR")]
    pub from: Vec<PathBuf>,
    /// Write the lexicon here instead of the file `lexicon.file` in taxonomy.yaml names.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Inverse regularisation strength: larger fits the training notes more closely.
    #[arg(long, value_name = "C", default_value_t = 16.0)]
    pub c: f64,
    /// Write nothing; exit 1 unless the lexicon on disk is what training gives.
    #[arg(long)]
    pub check: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aikb taxonomy …`.
#[derive(Debug, Subcommand)]
pub enum TaxonomyCommand {
    /// Validate taxonomy.yaml and lint it against the corpus.
    Check(JsonArgs),
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// reports/taxonomy.md
    Md,
    /// reports/taxonomy.json
    Json,
    /// reports/market-map.svg
    Svg,
    /// All three.
    All,
}

/// `aikb report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output folder (default: `<root>/reports`).
    #[arg(
        long,
        value_name = "DIR",
        help = "Output folder (default: <root>/reports)"
    )]
    pub out: Option<PathBuf>,
    /// Which files to write.
    #[arg(long, value_enum, default_value_t = ReportFormat::All)]
    pub format: ReportFormat,
    /// Compare with the files on disk instead of writing; exit 1 if any is stale.
    #[arg(long)]
    pub check: bool,
    /// Print what was written (or found stale) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aikb show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Name, ticker, alias or id of a project.
    #[arg(value_name = "NAME|TICKER")]
    pub name: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aikb add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The project's name.
    pub name: String,
    /// Token ticker, e.g. FIL.
    #[arg(long, value_name = "T")]
    pub ticker: Option<String>,
    /// The note's file name without `.md` (default: made from the name), e.g.
    /// huobi-global.
    #[arg(long, value_name = "SLUG")]
    pub slug: Option<String>,
    /// Website URL.
    #[arg(long, value_name = "URL")]
    pub website: Option<String>,
    /// Another name (repeat for several).
    #[arg(long = "alias", value_name = "A")]
    pub aliases: Vec<String>,
    /// A tag (repeat for several).
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
    /// The description (the note's body); - reads it from standard input.
    #[arg(long, value_name = "TEXT", conflicts_with = "from")]
    pub description: Option<String>,
    /// Read the description from a file, or - for standard input.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Pin a category (a taxonomy id, or none).
    #[arg(long, value_name = "ID")]
    pub category: Option<String>,
    /// Pin a subcategory (requires --category).
    #[arg(long, value_name = "ID", requires = "category")]
    pub subcategory: Option<String>,
    /// Print the note and its classification; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aikb init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to create the knowledge base in.
    pub dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aikb completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn search_takes_hyphenated_and_operator_words() {
        for argv in [
            &["aikb", "search", "-storage", "gpu", "--limit", "3"][..],
            &["aikb", "search", "--limit", "3", "-storage", "gpu"],
            &["aikb", "search", "-storage", "-n", "3", "gpu", "--json"],
            &[
                "aikb", "--root", "search", "search", "-storage", "gpu", "-n3",
            ],
        ] {
            let args = reorder_search_args(argv.iter().map(Into::into).collect());
            let cli = Cli::try_parse_from(args).unwrap();
            match cli.command {
                Command::Search(s) => {
                    assert_eq!(s.query, vec!["-storage", "gpu"], "{argv:?}");
                    assert_eq!(s.limit, 3);
                }
                _ => panic!("not search"),
            }
        }
        // Every option that takes a value keeps it, wherever it stands.
        let argv = [
            "aikb",
            "search",
            "gpu",
            "--since",
            "2024",
            "-cloud",
            "--until",
            "2024-07",
            "--category",
            "resources",
            "--tag",
            "x",
            "--kind",
            "article",
            "--color",
            "never",
            "--limit",
            "3",
        ];
        let args = reorder_search_args(argv.iter().map(Into::into).collect());
        match Cli::try_parse_from(args).unwrap().command {
            Command::Search(s) => {
                assert_eq!(s.query, vec!["gpu", "-cloud"]);
                assert_eq!(
                    (s.since.as_deref(), s.until.as_deref()),
                    (Some("2024"), Some("2024-07"))
                );
                assert_eq!(s.category.as_deref(), Some("resources"));
                assert_eq!((s.tags, s.limit), (vec!["x".to_string()], 3));
            }
            _ => panic!("not search"),
        }
        // Only the search subcommand is reordered.
        let args: Vec<std::ffi::OsString> = ["aikb", "add", "search", "--description", "-x"]
            .iter()
            .map(Into::into)
            .collect();
        assert_eq!(reorder_search_args(args.clone()), args);
    }
}
