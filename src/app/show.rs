//! `aikb show` glue.

use super::Ctx;
use crate::error::{Error, Exit, Result};

/// Runs `aikb show`.
pub fn run(_ctx: &mut Ctx, _args: crate::cli::ShowArgs) -> Result<Exit> {
    Err(Error::Invalid("`aikb show` is not available yet".into()))
}
