//! A knowledge base on disk: its root folder, where the taxonomy and index live,
//! finding the root from the working directory, and `aikb init`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::corpus::{CORPUS_DIR, PROJECTS_DIR};
use crate::error::{Error, Result};
use crate::lexicon::{DEFAULT_LEXICON, LEXICON_FILE};
use crate::taxonomy::{DEFAULT_TAXONOMY, TAXONOMY_FILE};

/// Paths of one knowledge base.
#[derive(Debug, Clone)]
pub struct Kb {
    /// The root folder (holds `taxonomy.yaml` and `corpus/`).
    pub root: PathBuf,
    /// The taxonomy file (default `<root>/taxonomy.yaml`).
    pub taxonomy: PathBuf,
    /// The index folder (default `<root>/.aikb/index`).
    pub index_dir: PathBuf,
}

impl Kb {
    /// A knowledge base at `root` with default paths, optionally overridden.
    pub fn new(root: PathBuf, index_dir: Option<PathBuf>, taxonomy: Option<PathBuf>) -> Kb {
        Kb {
            taxonomy: taxonomy.unwrap_or_else(|| root.join(TAXONOMY_FILE)),
            index_dir: index_dir.unwrap_or_else(|| root.join(".aikb").join("index")),
            root,
        }
    }

    /// Resolves the root: `explicit` if given, else the nearest ancestor of `cwd`
    /// holding both `taxonomy.yaml` and `corpus/`.
    pub fn discover(explicit: Option<PathBuf>, cwd: &Path) -> Result<PathBuf> {
        if let Some(root) = explicit {
            if !root.join(CORPUS_DIR).is_dir() {
                return Err(Error::Invalid(format!(
                    "{}: not a knowledge base (no corpus/ folder); create one with `aikb init {}`",
                    root.display(),
                    root.display()
                )));
            }
            return Ok(root);
        }
        cwd.ancestors()
            .find(|d| d.join(TAXONOMY_FILE).is_file() && d.join(CORPUS_DIR).is_dir())
            .map(Path::to_path_buf)
            .ok_or_else(|| Error::NoRoot {
                start: cwd.to_path_buf(),
            })
    }

    /// The folder of project notes.
    pub fn projects_dir(&self) -> PathBuf {
        self.root.join(CORPUS_DIR).join(PROJECTS_DIR)
    }

    /// Shows `path` relative to the root when it is inside it.
    pub fn display_path(&self, path: &Path) -> String {
        crate::corpus::rel_path(&self.root, path)
    }
}

/// What `aikb init` created.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InitReport {
    /// The new root.
    pub root: String,
    /// Files and folders created, relative to the root.
    pub created: Vec<String>,
}

/// Creates a new knowledge base at `dir`: the default taxonomy, empty corpus folders
/// and a `.gitignore` for the index. Existing files are never overwritten.
pub fn init(dir: &Path) -> Result<InitReport> {
    let mut created = Vec::new();
    for sub in [
        format!("{CORPUS_DIR}/articles"),
        format!("{CORPUS_DIR}/{PROJECTS_DIR}"),
    ] {
        let p = dir.join(&sub);
        if !p.is_dir() {
            fs::create_dir_all(&p).map_err(|e| Error::io(&p, e))?;
            created.push(format!("{sub}/"));
        }
    }
    for (name, content) in [
        (TAXONOMY_FILE, DEFAULT_TAXONOMY),
        (LEXICON_FILE, DEFAULT_LEXICON),
        (".gitignore", ".aikb/\n"),
    ] {
        let p = dir.join(name);
        if p.exists() {
            continue;
        }
        crate::fsutil::write_new(&p, content.as_bytes())?;
        created.push(name.to_string());
    }
    Ok(InitReport {
        root: dir.display().to_string(),
        created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_discover_from_a_subfolder() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("kb");
        let r = init(&root).unwrap();
        assert!(r.created.contains(&"taxonomy.yaml".to_string()));
        assert!(r.created.contains(&"lexicon.tsv".to_string()));
        let deep = root.join("corpus/projects");
        assert_eq!(Kb::discover(None, &deep).unwrap(), root);
        let again = init(&root).unwrap();
        assert!(again.created.is_empty(), "init never overwrites");
        assert!(matches!(
            Kb::discover(None, tmp.path()),
            Err(Error::NoRoot { .. })
        ));
        assert!(Kb::discover(Some(tmp.path().to_path_buf()), tmp.path()).is_err());
    }
}
