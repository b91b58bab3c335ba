//! `aikb report` glue.

use super::Ctx;
use crate::error::{Error, Exit, Result};

/// Runs `aikb report`.
pub fn run(_ctx: &mut Ctx, _args: crate::cli::ReportArgs) -> Result<Exit> {
    Err(Error::Invalid("`aikb report` is not available yet".into()))
}
