//! `aikb show` glue: find the project, build its card, add similar projects from the
//! (freshly updated) index, print text or JSON.

use super::{Ctx, io_out, unknown_project, write_json};
use crate::classify::Classifier;
use crate::error::{Exit, Result};
use crate::show;

/// Runs `aikb show`.
pub fn run(ctx: &mut Ctx, args: crate::cli::ShowArgs) -> Result<Exit> {
    let tax = ctx.taxonomy()?;
    let projects = ctx.project_notes()?;
    let Some(note) = crate::project::find(&projects, &args.name) else {
        // Not an error: the answer is "nothing", like a search without hits.
        eprintln!("aikb: {}", unknown_project(&projects, &args.name));
        return Ok(Exit::NotFound);
    };
    let classifier = Classifier::new(&tax);
    let (idx, _) = ctx.fresh_index(&tax, false, true)?;
    // Only the articles that can mention the project are read (the index finds them);
    // every article when a name leaves the index nothing to look up.
    let articles = match show::mention_candidates(&idx, note)? {
        Some(paths) => paths
            .iter()
            .filter_map(|p| crate::corpus::read_note(&ctx.kb.root, p).ok())
            .map(|(n, _)| n)
            .collect(),
        None => crate::corpus::load_all(&ctx.kb.root)?.0,
    };
    let mut card = show::card(note, &articles, &classifier);
    card.similar = show::similar(&idx, &note.id, show::SIMILAR)?;
    if args.json {
        write_json(ctx.out(), &card).map_err(io_out)?;
    } else {
        let style = ctx.style;
        show::render(ctx.out(), &card, style).map_err(io_out)?;
    }
    Ok(Exit::Success)
}
