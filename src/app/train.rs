//! `aikb train` glue: gather the pinned notes, fit the lexicon, then write it
//! atomically or (`--check`) compare it with the file on disk.

use std::path::PathBuf;

use super::{Ctx, io_out, warn_all, write_json};
use crate::cli::TrainArgs;
use crate::corpus::{self, CORPUS_DIR};
use crate::error::{Error, Exit, Result};
use crate::lexicon::{self, TrainOptions};
use crate::taxonomy::Taxonomy;

/// Runs `aikb train`.
pub fn run(ctx: &mut Ctx, args: TrainArgs) -> Result<Exit> {
    // The lexicon on disk may be the very thing being replaced: read the rules only.
    let tax = Taxonomy::load_rules(&ctx.kb.taxonomy)?;
    let out: PathBuf = match (&args.out, &tax.lexicon) {
        (Some(out), _) => out.clone(),
        (None, Some(spec)) => ctx
            .kb
            .taxonomy
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(&spec.file),
        (None, None) => {
            return Err(Error::Invalid(
                "taxonomy.yaml names no lexicon file: add `lexicon: {file: lexicon.tsv}` to it \
                 or pass --out FILE"
                    .into(),
            ));
        }
    };
    if !(args.c.is_finite() && args.c > 0.0) {
        return Err(Error::Invalid(format!(
            "--c is {}; it must be a positive number",
            args.c
        )));
    }
    let mut notes = ctx.project_notes()?;
    for dir in &args.from {
        if !dir.join(CORPUS_DIR).is_dir() {
            return Err(Error::Invalid(format!(
                "--from {}: no {CORPUS_DIR}/ folder there",
                dir.display()
            )));
        }
        let (more, problems) = corpus::load_projects(dir)?;
        warn_all(&problems);
        notes.extend(more);
    }
    let stemmer = crate::text::stemmer();
    let examples: Vec<_> = notes
        .iter()
        .filter_map(|n| lexicon::example(n, &stemmer))
        .collect();
    let opts = TrainOptions {
        c: args.c,
        ..TrainOptions::default()
    };
    let (lex, report) = lexicon::train(&examples, &tax, &opts).map_err(Error::Invalid)?;
    let text = lex.to_tsv();
    let shown = ctx.kb.display_path(&out);
    let current = match std::fs::read(&out) {
        Ok(disk) => disk == text.as_bytes(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(&out, e)),
    };
    if !args.check {
        crate::fsutil::write_atomic(&out, text.as_bytes())?;
    }
    if args.json {
        write_json(
            ctx.json_out(),
            &serde_json::json!({
                "file": shown,
                "written": !args.check,
                "current": current,
                "training": report,
            }),
        )
        .map_err(io_out)?;
    } else {
        let w = ctx.out();
        let labels: Vec<String> = report
            .labels
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect();
        writeln!(
            w,
            "{} pinned notes ({}); {} with a subcategory",
            report.notes,
            labels.join(", "),
            report.subcategory_notes
        )
        .map_err(io_out)?;
        writeln!(
            w,
            "{} words weighed; {} and {} iterations; training accuracy {:.3}",
            report.words, report.iterations[0], report.iterations[1], report.training_accuracy
        )
        .map_err(io_out)?;
        let verb = match (args.check, current) {
            (true, true) => "is up to date",
            (true, false) => "is stale; run `aikb train` with the same notes to regenerate it",
            (false, true) => "written (unchanged)",
            (false, false) => "written",
        };
        writeln!(w, "{shown} {verb}").map_err(io_out)?;
    }
    Ok(Exit::from_bool(!args.check || current))
}
