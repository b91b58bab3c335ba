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
    let found = crate::project::find_all(&projects, &args.name);
    let Some(&note) = found.first() else {
        // Not an error: the answer is "nothing", like a search without hits.
        eprintln!("aikb: {}", unknown_project(&projects, &args.name));
        return Ok(Exit::NotFound);
    };
    if found.len() > 1 {
        let others: Vec<&str> = found[1..].iter().map(|n| n.path.as_str()).collect();
        eprintln!(
            "aikb: `{}` names {} projects; showing {} (give a path to pick another: {})",
            args.name,
            found.len(),
            note.path,
            others.join(", ")
        );
    }
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
        write_json(ctx.json_out(), &card).map_err(io_out)?;
    } else {
        let style = ctx.style;
        show::render(ctx.out(), &card, style).map_err(io_out)?;
    }
    Ok(Exit::Success)
}
