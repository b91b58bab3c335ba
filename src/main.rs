//! The `aikb` binary: parse arguments, run, map the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = aikb::cli::Cli::parse_args();
    match aikb::app::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        // `aikb search … | head` closes the pipe early: that is success.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let message = e.to_string();
            let _ = writeln!(
                std::io::stderr(),
                "aikb: {}",
                aikb::text::printable(&message)
            );
            ExitCode::from(aikb::Exit::Error.code())
        }
    }
}
