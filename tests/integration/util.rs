//! Test environment: a temporary copy of a knowledge base and a builder for running
//! the `aikb` binary in it with a scrubbed environment.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root (the shipped knowledge base).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary knowledge base.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    /// A copy of the shipped knowledge base (taxonomy.yaml + corpus/).
    pub fn shipped() -> Env {
        Env::copy_of(&repo())
    }

    /// A copy of the knowledge base at `src` (taxonomy.yaml, lexicon.tsv, corpus/ and
    /// reports/ if present; the shipped taxonomy and lexicon otherwise).
    pub fn copy_of(src: &Path) -> Env {
        let dir = tempfile::tempdir().unwrap();
        for name in ["taxonomy.yaml", "lexicon.tsv", "corpus", "reports"] {
            let from = src.join(name);
            if from.exists() {
                copy_tree(&from, &dir.path().join(name));
            }
        }
        for name in ["taxonomy.yaml", "lexicon.tsv"] {
            if !dir.path().join(name).exists() {
                fs::copy(repo().join(name), dir.path().join(name)).unwrap();
            }
        }
        Env { dir }
    }

    /// An empty knowledge base made by `aikb init`.
    pub fn empty() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(bin())
            .arg("init")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Env { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap()
    }

    /// `aikb ARGS…` run inside the knowledge base.
    pub fn cmd<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut c = Command::new(bin());
        c.current_dir(self.root()).args(args);
        scrub(&mut c);
        Run {
            cmd: c,
            stdin: None,
        }
    }

    /// Every file under the root except the index, with its bytes (to prove nothing changed).
    pub fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        walk(self.root(), self.root(), &mut out);
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.file_name().unwrap() == ".aikb" {
            continue;
        }
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push((
                p.strip_prefix(root).unwrap().display().to_string(),
                fs::read(&p).unwrap(),
            ));
        }
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        fs::copy(from, to).unwrap();
    }
}

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_aikb"))
}

/// Removes every environment variable aikb reads.
fn scrub(c: &mut Command) {
    for var in [
        "NO_COLOR",
        "AIKB_LOCK_TIMEOUT",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "TERM",
    ] {
        c.env_remove(var);
    }
}

/// A command to run.
pub struct Run {
    pub cmd: Command,
    stdin: Option<Vec<u8>>,
}

/// What a run printed.
#[derive(Debug)]
pub struct Done {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn env(mut self, k: &str, v: &str) -> Run {
        self.cmd.env(k, v);
        self
    }

    /// One more argument: a path.
    pub fn arg_path(mut self, path: &Path) -> Run {
        self.cmd.arg(path);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn run(mut self) -> Done {
        use std::io::Write;
        self.cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.cmd.spawn().unwrap();
        if let Some(bytes) = self.stdin.take() {
            child.stdin.take().unwrap().write_all(&bytes).unwrap();
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        Done {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
        }
    }

    /// Runs and asserts the exit code.
    pub fn expect(self, code: i32) -> Done {
        let d = self.run();
        assert_eq!(
            d.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            d.stdout, d.stderr
        );
        d
    }

    /// Runs, asserts exit 0 and decodes stdout as JSON into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(self) -> T {
        let d = self.expect(0);
        serde_json::from_str(&d.stdout).unwrap_or_else(|e| panic!("{e}\n{}", d.stdout))
    }
}
