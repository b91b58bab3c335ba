//! The crate's error type and the one place that maps outcomes to exit codes.
//!
//! Per-note problems are not errors: they are returned as [`Diagnostic`] values so
//! one bad note never stops the rest. An [`Error`] aborts the command (exit 2).

use std::fmt;
use std::path::{Path, PathBuf};

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem located in a file: `path:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Path as the user would type it (relative to the knowledge-base root when possible).
    pub path: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// Lower-case message without a trailing period.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `line:column` of `path`.
    pub fn new(
        path: impl Into<String>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            path: path.into(),
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Paths and messages may quote what a file holds: no control characters.
        let path = crate::text::printable(&self.path);
        let message = crate::text::printable(&self.message);
        match (self.line, self.column) {
            (0, _) => write!(f, "{path}: {message}"),
            (l, 0) => write!(f, "{path}:{l}: {message}"),
            (l, c) => write!(f, "{path}:{l}:{c}: {message}"),
        }
    }
}

/// Everything that can abort a command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A located problem in an input file (taxonomy, front matter, …).
    #[error("{0}")]
    Located(Diagnostic),
    /// Several located problems (e.g. every error found in `taxonomy.yaml`).
    #[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    LocatedMany(Vec<Diagnostic>),
    /// No knowledge base was found from the working directory.
    #[error(
        "no knowledge base found in {} or any parent (a folder holding taxonomy.yaml and corpus/); \
         pass --root DIR or create one with `aikb init DIR`",
        start.display()
    )]
    NoRoot {
        /// Where the search started.
        start: PathBuf,
    },
    /// The search index failed.
    #[error("index {}: {source}", path.display())]
    Index {
        /// The index folder.
        path: PathBuf,
        /// The tantivy error.
        source: tantivy::TantivyError,
    },
    /// Another process holds a lock (the index writer's, or the corpus's while a note is
    /// added) for longer than the timeout.
    #[error(
        "{what} is locked by another aikb process; gave up after {secs:.1} s \
         (set AIKB_LOCK_TIMEOUT to wait longer)"
    )]
    Locked {
        /// What is locked, e.g. `index /kb/.aikb/index`.
        what: String,
        /// How long we waited, in seconds.
        secs: f64,
    },
    /// The user asked for something that cannot be done (bad argument, refused add, …).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// An index error on `path`.
    pub fn index(path: impl AsRef<Path>, source: tantivy::TantivyError) -> Self {
        Error::Index {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// True when the error is (or wraps) a broken pipe on output.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Exit codes, following ripgrep: 0 success, 1 "nothing" or "not clean", 2 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The command succeeded (search found hits, the report is current, …).
    Success,
    /// The command ran but the answer is "nothing" or "not clean".
    NotFound,
    /// An error occurred.
    Error,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::NotFound => 1,
            Exit::Error => 2,
        }
    }

    /// `Success` when `ok`, else `NotFound`.
    pub fn from_bool(ok: bool) -> Self {
        if ok { Exit::Success } else { Exit::NotFound }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_formats_like_a_compiler() {
        assert_eq!(
            Diagnostic::new("a.md", 3, 7, "bad").to_string(),
            "a.md:3:7: bad"
        );
        assert_eq!(
            Diagnostic::new("a.md", 3, 0, "bad").to_string(),
            "a.md:3: bad"
        );
        assert_eq!(
            Diagnostic::new("a.md", 0, 0, "bad").to_string(),
            "a.md: bad"
        );
    }

    #[test]
    fn exit_codes_follow_ripgrep() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::NotFound.code(), 1);
        assert_eq!(Exit::Error.code(), 2);
        assert_eq!(Exit::from_bool(false), Exit::NotFound);
    }

    #[test]
    fn broken_pipe_is_recognised() {
        let e = Error::io("-", std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(e.is_broken_pipe());
        assert!(!Error::Invalid("x".into()).is_broken_pipe());
    }
}
