//! Output files: the output directory's protection (refuse a non-empty one unless asked), and writes that
//! never leave a half-written file under a final name (temporary name in the same folder, then rename).

use crate::atomic::Failed;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Errors writing a dataset. Every I/O error names its path.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "output directory {path} is not empty ({entries} entries); choose another directory or pass --overwrite to replace pinsynth's outputs in it"
    )]
    NotEmpty { path: PathBuf, entries: usize },
    #[error("output path {path} exists and is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    #[error("cannot encode {path}")]
    Encode { path: PathBuf, source: image::ImageError },
    #[error("cannot encode {path}")]
    EncodeTiff { path: PathBuf, source: tiff::TiffError },
    #[error("cannot decode {path}")]
    Decode { path: PathBuf, source: image::ImageError },
    #[error("cannot write JSON to {path}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("cannot write CSV to {path}")]
    Csv { path: PathBuf, source: csv::Error },
}

pub(crate) fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> WriteError + use<> {
    let path = path.to_path_buf();
    move |source| WriteError::Io { action, path, source }
}

/// The entries pinsynth writes at the top of a dataset; `--overwrite` removes exactly these.
pub const OUTPUT_ENTRIES: &[&str] = &[
    "images",
    "masks",
    "depth",
    "imagefolder",
    "mvtec",
    "coco",
    "wds",
    "hf",
    "manifest.jsonl",
    "scene.resolved.toml",
    "preview.png",
    "summary.json",
];

/// A dataset directory, checked and prepared.
pub struct OutputDir {
    pub root: PathBuf,
}

impl OutputDir {
    /// Creates `root` (and parents), or accepts it if empty; a non-empty directory is refused unless
    /// `overwrite`, which removes pinsynth's own entries and leaves anything else alone.
    pub fn prepare(root: &Path, overwrite: bool) -> Result<OutputDir, WriteError> {
        if root.exists() && !root.is_dir() {
            return Err(WriteError::NotADirectory { path: root.to_path_buf() });
        }
        if root.is_dir() {
            let entries = fs::read_dir(root).map_err(io_err("list", root))?.count();
            if entries > 0 && !overwrite {
                return Err(WriteError::NotEmpty { path: root.to_path_buf(), entries });
            }
            for name in OUTPUT_ENTRIES {
                let p = root.join(name);
                if p.is_dir() {
                    fs::remove_dir_all(&p).map_err(io_err("remove", &p))?;
                } else if p.exists() {
                    fs::remove_file(&p).map_err(io_err("remove", &p))?;
                }
            }
        }
        for sub in ["images", "masks"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(io_err("create directory", &p))?;
        }
        Ok(OutputDir { root: root.to_path_buf() })
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

/// The temporary name a file is written under before it is renamed into place.
pub fn partial_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` through a temporary name and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    crate::atomic::write_through(&partial_name(path), path, bytes).map_err(|f| match f {
        Failed::Write(path, source) => WriteError::Io { action: "write", path, source },
        Failed::Rename(path, source) => WriteError::Io { action: "rename into place", path, source },
    })
}

/// Hard-links `src` to `dst` (falls back to a copy across file systems), atomically.
pub fn link_or_copy(src: &Path, dst: &Path) -> Result<(), WriteError> {
    let tmp = partial_name(dst);
    let _ = fs::remove_file(&tmp);
    if fs::hard_link(src, &tmp).is_err() {
        fs::copy(src, &tmp).map_err(io_err("copy", src))?;
    }
    fs::rename(&tmp, dst).map_err(io_err("rename into place", dst))?;
    // When `dst` already is a link to the same file (a resumed run replaying its records), POSIX rename
    // succeeds without doing anything and leaves `tmp` behind.
    let _ = fs::remove_file(&tmp);
    Ok(())
}

/// Creates a directory and its parents.
pub(crate) fn create_dir(path: &Path) -> Result<(), WriteError> {
    fs::create_dir_all(path).map_err(io_err("create directory", path))
}

/// A file written as a stream under its temporary name, renamed into place by [`PartialFile::commit`].
/// Dropped without committing (an error, a kill), it never appears under the final name.
pub(crate) struct PartialFile {
    path: PathBuf,
    tmp: PathBuf,
    out: io::BufWriter<fs::File>,
}

impl PartialFile {
    pub fn create(path: &Path) -> Result<PartialFile, WriteError> {
        let tmp = partial_name(path);
        let file = fs::File::create(&tmp).map_err(io_err("create", &tmp))?;
        Ok(PartialFile { path: path.to_path_buf(), tmp, out: io::BufWriter::new(file) })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        io::Write::write_all(&mut self.out, bytes).map_err(io_err("write", &self.tmp))
    }

    /// Appends the whole file at `src`.
    pub fn append_file(&mut self, src: &Path) -> Result<(), WriteError> {
        let mut f = fs::File::open(src).map_err(io_err("open", src))?;
        io::copy(&mut f, &mut self.out).map_err(io_err("write", &self.tmp))?;
        Ok(())
    }

    /// The temporary path.
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }

    /// Flushes the file and leaves it under its temporary name (a part of a file assembled later).
    pub fn flush_temp(self) -> Result<PathBuf, WriteError> {
        let PartialFile { tmp, out, .. } = self;
        out.into_inner().map_err(|e| WriteError::Io { action: "write", path: tmp.clone(), source: e.into_error() })?;
        Ok(tmp)
    }

    /// Flushes and renames the file into place.
    pub fn commit(self) -> Result<PathBuf, WriteError> {
        let PartialFile { path, tmp, out } = self;
        out.into_inner().map_err(|e| WriteError::Io { action: "write", path: tmp.clone(), source: e.into_error() })?;
        fs::rename(&tmp, &path).map_err(io_err("rename into place", &path))?;
        Ok(path)
    }
}

/// A partial file is a byte sink for encoders that stream into it (the tar crate's `Builder`).
impl io::Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(&mut self.out, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::Write::flush(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_empty_directory_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("precious.txt"), b"x").unwrap();
        let err = OutputDir::prepare(dir.path(), false).err().unwrap();
        assert!(err.to_string().contains("is not empty (1 entries)"), "{err}");
        assert!(dir.path().join("precious.txt").exists());
        // --overwrite removes only pinsynth's entries.
        fs::create_dir(dir.path().join("images")).unwrap();
        fs::write(dir.path().join("images/old.png"), b"x").unwrap();
        OutputDir::prepare(dir.path(), true).unwrap();
        assert!(dir.path().join("precious.txt").exists());
        assert!(!dir.path().join("images/old.png").exists());
    }

    #[test]
    fn atomic_write_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.png");
        write_atomic(&p, b"abc").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"abc");
        assert!(!partial_name(&p).exists());
    }
}
