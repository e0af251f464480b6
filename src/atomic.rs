//! Files written whole or not at all: the bytes go to a temporary name, which is then renamed into
//! place, so a killed process or a full disk never leaves half a file under the final name. The one
//! atomic write of the crate: [`crate::dataset::write_atomic`] names the temporary `*.partial`
//! beside the file, the bake cache ([`crate::render::bake_cache`]) a name of its own process (two
//! processes may store the same bake at once).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The step that failed and the path it failed on.
#[derive(Debug)]
pub enum Failed {
    /// Writing the temporary file (removed again).
    Write(PathBuf, io::Error),
    /// Renaming it into place (removed again).
    Rename(PathBuf, io::Error),
}

impl Failed {
    pub fn into_io(self) -> io::Error {
        match self {
            Failed::Write(_, e) | Failed::Rename(_, e) => e,
        }
    }
}

/// Writes `bytes` to `tmp`, then renames it to `path`. On failure the temporary file is removed
/// (best effort: a full disk may refuse even that) and nothing changes under `path`.
pub fn write_through(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<(), Failed> {
    let failed = |step: fn(PathBuf, io::Error) -> Failed, at: &Path, e: io::Error| {
        let _ = fs::remove_file(tmp); // ok: best effort; the error that matters is returned
        step(at.to_path_buf(), e)
    };
    fs::write(tmp, bytes).map_err(|e| failed(Failed::Write, tmp, e))?;
    fs::rename(tmp, path).map_err(|e| failed(Failed::Rename, path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_rename_leaves_the_file_as_it_was_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, path) = (dir.path().join("a.tmp"), dir.path().join("a"));
        write_through(&tmp, &path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert!(!tmp.exists());
        // A directory in the way of the rename.
        let blocked = dir.path().join("d");
        fs::create_dir(&blocked).unwrap();
        fs::write(blocked.join("x"), b"x").unwrap();
        assert!(matches!(write_through(&tmp, &blocked, b"two"), Err(Failed::Rename(p, _)) if p == blocked));
        assert!(!tmp.exists(), "the temporary file was left");
        assert_eq!(fs::read(blocked.join("x")).unwrap(), b"x");
        // A temporary name that cannot be written.
        let nowhere = dir.path().join("missing/a.tmp");
        assert!(matches!(write_through(&nowhere, &path, b"three"), Err(Failed::Write(p, _)) if p == nowhere));
        assert_eq!(fs::read(&path).unwrap(), b"one");
    }
}
