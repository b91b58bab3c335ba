//! File-system helpers: atomic writes (temporary file in the same folder, then
//! rename) so nothing a user owns is ever left half-written.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// An exclusive advisory lock on a file, released when dropped (or when the process
/// exits, however it exits).
#[derive(Debug)]
pub struct FileLock {
    _file: std::fs::File,
    /// Whether another process held the lock first.
    pub waited: bool,
}

impl FileLock {
    /// Takes the lock on `path` (created if missing), waiting up to `timeout` for
    /// another process to release it. `what` names the locked thing in the error.
    pub fn acquire(path: &Path, what: &str, timeout: Duration) -> Result<FileLock> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(10);
        let mut waited = false;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(FileLock {
                        _file: file,
                        waited,
                    });
                }
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    waited = true;
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        what: what.to_string(),
                        secs: timeout.as_secs_f64(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(path, e)),
            }
        }
    }
}

/// Atomically replaces (or creates) `path` with `bytes`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent(path);
    // Keep an existing file's permissions; a new file gets the usual 0666 & !umask
    // rather than the 0600 of a temporary file.
    let existing = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut tmp = temp_in(dir)?;
    if let Some(perms) = existing {
        tmp.as_file()
            .set_permissions(perms)
            .map_err(|e| Error::io(tmp.path(), e))?;
    }
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Atomically creates `path` with `bytes`; fails if it already exists (never
/// overwrites, even when another process creates it at the same moment).
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent(path);
    let mut tmp = temp_in(dir)?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist_noclobber(path)
        .map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// A temporary file in `dir`, created with mode 0666 before the umask (on Unix).
fn temp_in(dir: &Path) -> Result<tempfile::NamedTempFile> {
    let mut b = tempfile::Builder::new();
    b.prefix(".aikb-tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(dir).map_err(|e| Error::io(dir, e))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_new_never_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("a.txt");
        write_new(&p, b"one").unwrap();
        assert!(write_new(&p, b"two").is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"three").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        let leftovers = std::fs::read_dir(tmp.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary files left behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let reference = tmp.path().join("reference");
            std::fs::write(&reference, b"x").unwrap();
            let usual = std::fs::metadata(&reference).unwrap().permissions().mode() & 0o777;
            std::fs::remove_file(&reference).unwrap();
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, usual, "same mode as any file the user writes");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
            write_atomic(&p, b"four").unwrap();
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o640, "an existing file keeps its mode");
        }
    }
}
