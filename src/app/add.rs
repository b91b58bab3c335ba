//! `aikb add` glue: read the description, validate against the taxonomy and the
//! corpus, write the note (unless `--dry-run`), update the index, and print the
//! note's path and classification. The pure parts live in [`crate::add`].

use std::io::{self, Read, Write};
use std::path::Path;

use super::{Ctx, io_out, write_json};
use crate::add::{self, MAX_DESCRIPTION_BYTES, NewNote};
use crate::classify::Classifier;
use crate::cli::AddArgs;
use crate::error::{Error, Exit, Result};
use crate::project::ProjectResult;
use crate::render::{self, Style};

/// How many evidence lines the human output shows.
const TOP_EVIDENCE: usize = 5;

/// The `add --json` shape.
#[derive(serde::Serialize)]
struct JsonAdd<'a> {
    path: &'a str,
    id: &'a str,
    classification: &'a ProjectResult<'a>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

/// Runs `aikb add`.
pub fn run(ctx: &mut Ctx, args: AddArgs) -> Result<Exit> {
    let description = match (&args.description, &args.from) {
        (Some(text), _) if text == "-" => read_description(Path::new("-"))?,
        (Some(text), _) => text.clone(),
        (None, Some(from)) => read_description(from)?,
        (None, None) => {
            return Err(Error::Invalid(
                "a description is required: pass --description TEXT or --from FILE (- for standard input)".into(),
            ));
        }
    };
    let new = NewNote {
        name: args.name,
        file_stem: args.slug,
        ticker: args.ticker,
        website: args.website,
        aliases: args.aliases,
        tags: args.tags,
        category: args.category,
        subcategory: args.subcategory,
        description,
    }
    .normalized();
    let tax = ctx.taxonomy()?;
    // Duplicates are checked against the project notes; articles are never read.
    let notes = ctx.project_notes()?;
    add::validate(&new, &tax, &notes)?;
    let (text, note) = add::render_and_parse(&new)?;
    let classifier = Classifier::new(&tax);
    let result = ProjectResult::new(&note, &classifier);

    if !args.dry_run {
        // One writer at a time per knowledge base: under the add lock the corpus is
        // read and checked again, so two concurrent adds cannot both pass the
        // duplicate checks. (Refusals above never take the lock or touch `.aikb`.)
        let lock = add::lock(&ctx.kb)?;
        let (current, _) = crate::corpus::load_projects(&ctx.kb.root)?;
        add::validate(&new, &tax, &current)?;
        let path = add::write(&ctx.kb, &new)?;
        drop(lock);
        // Parse problems in other project notes were already reported above.
        if let Err(e) = ctx.fresh_index(&tax, false, true) {
            return Err(Error::Invalid(format!(
                "added {}, but updating the index failed: {e}; the next `aikb index` or `aikb search` will index it",
                ctx.kb.display_path(&path)
            )));
        }
    }

    if args.json {
        let out = JsonAdd {
            path: &note.path,
            id: &note.id,
            classification: &result,
            dry_run: args.dry_run,
            note: args.dry_run.then_some(text.as_str()),
        };
        write_json(ctx.json_out(), &out).map_err(io_out)?;
    } else {
        let style = ctx.style;
        let out = ctx.out();
        if args.dry_run {
            writeln!(
                out,
                "{}",
                style.bold(&format!(
                    "dry run: would add {}; nothing written",
                    note.path
                ))
            )
            .map_err(io_out)?;
            writeln!(out).map_err(io_out)?;
            write!(out, "{text}").map_err(io_out)?;
            writeln!(out).map_err(io_out)?;
        } else {
            writeln!(out, "added {}", style.bold(&note.path)).map_err(io_out)?;
        }
        human(out, &result, style).map_err(io_out)?;
        if !args.dry_run {
            writeln!(
                out,
                "{}",
                style.dim("review the classification, then run `aikb report` to update the report")
            )
            .map_err(io_out)?;
        }
    }
    Ok(Exit::Success)
}

/// Prediction, pinned label and the strongest evidence.
fn human(w: &mut dyn Write, r: &ProjectResult, style: Style) -> io::Result<()> {
    let label = |cat: &str, sub: Option<&str>| match sub {
        Some(s) => format!("{cat}/{s}"),
        None => cat.to_string(),
    };
    writeln!(
        w,
        "predicted: {} ({:.0}% confidence)",
        style.cyan(&label(r.category, r.subcategory)),
        r.confidence * 100.0
    )?;
    if r.category == crate::taxonomy::NONE {
        writeln!(w, "why:       {}", render::why_none(r))?;
    }
    if let Some(p) = &r.pinned {
        let pinned = label(&p.category, p.subcategory.as_deref());
        if r.disagrees() {
            writeln!(
                w,
                "pinned:    {}",
                style.yellow(&format!("{pinned} (differs from the prediction)"))
            )?;
        } else {
            writeln!(w, "pinned:    {pinned}")?;
        }
    }
    if r.evidence.is_empty() {
        writeln!(w, "evidence:  none (no taxonomy signal fired)")?;
    } else {
        writeln!(w, "evidence:")?;
        for e in r.evidence.iter().take(TOP_EVIDENCE) {
            writeln!(w, "  {}", render::evidence(e))?;
        }
        if r.evidence.len() > TOP_EVIDENCE {
            let more = r.evidence.len() - TOP_EVIDENCE;
            writeln!(
                w,
                "  {}",
                style.dim(&format!("… {more} more (`--json` lists them all)"))
            )?;
        }
    }
    Ok(())
}

/// Reads the description from a file or standard input (`-`), refusing more than
/// [`MAX_DESCRIPTION_BYTES`] without reading further, and text that is not UTF-8.
fn read_description(from: &Path) -> Result<String> {
    let stdin = from.as_os_str() == "-";
    let shown = if stdin {
        "<stdin>".to_string()
    } else {
        from.display().to_string()
    };
    let reader: Box<dyn Read> = if stdin {
        Box::new(io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(from).map_err(|e| Error::io(from, e))?)
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_DESCRIPTION_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(&shown, e))?;
    if bytes.len() > MAX_DESCRIPTION_BYTES {
        return Err(Error::Invalid(format!(
            "{shown}: the description is larger than {MAX_DESCRIPTION_BYTES} bytes (1 MiB)"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::Invalid(format!(
            "{shown}: the description is not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}
