//! `--resume`: the manifest is the journal. Its records are written in index order, each only after
//! the image and mask it names were renamed into place, so the complete lines of
//! `manifest.jsonl.partial` (or of a finished `manifest.jsonl`) are exactly the images that are done.
//! A resumed run replays them through fresh layout writers — rebuilding every layout's files — and
//! renders the rest. Anything after the last complete record is rendered again, which at worst costs
//! time: files only ever appear under their final names complete.

use super::{Shard, ShardError, ShardFile, Work, read_scene};
use crate::Error;
use crate::dataset::{OutputDir, WriteError};
use crate::spec::Scene;
use crate::truth::Record;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Where the journal is kept while it is replayed: the new manifest is written meanwhile, and if the
/// replay is interrupted this file is still the longer record of what is done.
pub const JOURNAL: &str = "manifest.jsonl.resume";

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |source| Error::from(WriteError::Io { action, path, source })
}

/// Reopens `out` to resume a run of `scene` (shard `shard`), returning the output directory and the
/// journal to replay; None when `out` is missing or empty (nothing to resume: a fresh run).
pub fn reopen(out: &Path, scene: &Scene, shard: Option<Shard>) -> Result<Option<(OutputDir, PathBuf)>, Error> {
    if !out.is_dir() || fs::read_dir(out).map_err(io("list", out))?.next().is_none() {
        return Ok(None);
    }
    let dir = out.to_path_buf();
    match read_scene(out)? {
        None => return Err(ShardError::NotAnOutput { dir }.into()),
        Some(found) if found != *scene => return Err(ShardError::SceneChanged { dir }.into()),
        Some(_) => {}
    }
    let found = ShardFile::read(out)?;
    let wanted = shard.map(|s| ShardFile::of(s, scene.image_count()));
    if found != wanted {
        let name = |f: &Option<ShardFile>| {
            f.as_ref().map_or("a whole run".to_string(), |f| format!("shard {}/{}", f.shard, f.of))
        };
        return Err(ShardError::ShardChanged { dir, found: name(&found), wanted: name(&wanted) }.into());
    }
    let journal = out.join(JOURNAL);
    if !journal.exists() {
        for name in ["manifest.jsonl", "manifest.jsonl.partial"] {
            let p = out.join(name);
            if p.exists() {
                fs::rename(&p, &journal).map_err(io("rename", &p))?;
                break;
            }
        }
    }
    for sub in ["images", "masks"] {
        let p = out.join(sub);
        fs::create_dir_all(&p).map_err(io("create directory", &p))?;
    }
    Ok(Some((OutputDir { root: out.to_path_buf() }, journal)))
}

/// Feeds the journal's records, in order, to `each` while they are the images `work` expects and their
/// files exist; returns how many were replayed (the positions of `work` that are done). Removes the
/// journal afterwards.
pub fn replay(
    journal: &Path,
    root: &Path,
    work: Work,
    mut each: impl FnMut(Record) -> Result<(), Error>,
) -> Result<u64, Error> {
    let mut done = 0;
    if let Ok(file) = fs::File::open(journal) {
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        while done < work.len() {
            line.clear();
            let n = reader.read_line(&mut line).map_err(io("read", journal))?;
            // An interrupted write leaves a last line without its newline: not done.
            let Some(text) = line.strip_suffix('\n').filter(|_| n > 0) else { break };
            let Ok(record) = serde_json::from_str::<Record>(text) else { break };
            let complete = record.index == work.index(done)
                && record.to_json().is_ok_and(|again| again == text)
                && root.join(&record.image).is_file()
                && root.join(&record.mask).is_file();
            if !complete {
                break;
            }
            each(record)?;
            done += 1;
        }
    }
    if journal.exists() {
        fs::remove_file(journal).map_err(io("remove", journal))?;
    }
    Ok(done)
}
