//! `aikb add` glue.

use super::Ctx;
use crate::error::{Error, Exit, Result};

/// Runs `aikb add`.
pub fn run(_ctx: &mut Ctx, _args: crate::cli::AddArgs) -> Result<Exit> {
    Err(Error::Invalid("`aikb add` is not available yet".into()))
}
