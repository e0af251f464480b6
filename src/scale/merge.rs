//! `pinsynth merge`: shard outputs → the dataset one process would have written. Record `i` is line
//! `i / N` of shard `i mod N`'s manifest; records are taken in index order, their images and masks
//! hard-linked (or copied) into place, and replayed through the same layout writers as a render.

use super::{SHARD_FILE, ScaleError, ShardFile};
use crate::Error;
use crate::dataset::{OutputDir, Sample, WriteError, link_or_copy, write_atomic};
use crate::run::{Observer, RunOptions, Summary, dataset_writers, write_summary_json};
use crate::truth::Record;
use std::fs;
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::time::Instant;

struct ShardDir {
    dir: PathBuf,
    lines: Lines<BufReader<fs::File>>,
    manifest: PathBuf,
    line: u64,
}

/// Joins the outputs of every shard of one run (`dirs`, any order) into `out`.
pub fn merge(dirs: &[PathBuf], out: &Path, opts: &RunOptions, obs: &dyn Observer) -> Result<Summary, Error> {
    let start = Instant::now();
    let mut shards: Vec<Option<(PathBuf, ShardFile)>> = Vec::new();
    let mut first: Option<(PathBuf, ShardFile, Vec<u8>)> = None;
    for dir in dirs {
        let info: ShardFile = fs::read(dir.join(SHARD_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .filter(|f: &ShardFile| f.shard < f.of)
            .ok_or_else(|| ScaleError::NotAShard { dir: dir.clone() })?;
        let scene = fs::read(dir.join("scene.resolved.toml")).unwrap_or_default();
        // Records are replayed through this version's writers: a shard of another version would not
        // merge into what either version writes.
        let found = super::resolved_by(&scene);
        if found != env!("CARGO_PKG_VERSION") {
            return Err(ScaleError::OtherVersion {
                dir: dir.clone(),
                found,
                this: env!("CARGO_PKG_VERSION").to_string(),
            }
            .into());
        }
        let (f_dir, f_info, f_scene) = first.get_or_insert_with(|| (dir.clone(), info, scene.clone()));
        if info.of != f_info.of {
            return Err(ScaleError::ShardCountDiffers {
                dir: dir.clone(),
                shard: info.shard,
                count: info.of,
                other: f_dir.clone(),
                other_count: f_info.of,
            }
            .into());
        }
        if scene != *f_scene || info.images != f_info.images {
            return Err(ScaleError::DifferentScenes { dir: dir.clone(), first: f_dir.clone() }.into());
        }
        shards.resize(info.of as usize, None);
        if let Some((seen, _)) = &shards[info.shard as usize] {
            return Err(
                ScaleError::DuplicateShard { shard: info.shard, first: seen.clone(), second: dir.clone() }.into()
            );
        }
        if !dir.join("manifest.jsonl").is_file() {
            return Err(ScaleError::Unfinished { dir: dir.clone() }.into());
        }
        shards[info.shard as usize] = Some((dir.clone(), info));
    }
    let Some((_, info, scene)) = first else {
        return Err(ScaleError::MissingShards { missing: vec![0], count: 1 }.into());
    };
    let missing: Vec<u64> = (0..info.of).filter(|k| shards[*k as usize].is_none()).collect();
    if !missing.is_empty() {
        return Err(ScaleError::MissingShards { missing, count: info.of }.into());
    }
    let mut readers = Vec::new();
    for (dir, _) in shards.into_iter().flatten() {
        let manifest = dir.join("manifest.jsonl");
        let file = fs::File::open(&manifest).map_err(|source| WriteError::Io {
            action: "open",
            path: manifest.clone(),
            source,
        })?;
        readers.push(ShardDir { dir, lines: BufReader::new(file).lines(), manifest, line: 0 });
    }

    let out_dir = OutputDir::prepare(out, opts.overwrite)?;
    write_atomic(&out_dir.path("scene.resolved.toml"), &scene)?;
    let mut writers = dataset_writers(&out_dir.root, opts)?;
    let mut summary = Summary { adapter: "merge".into(), ..Summary::default() };
    obs.started(info.images, "merge");
    for i in 0..info.images {
        let shard = &mut readers[(i % info.of) as usize];
        shard.line += 1;
        let bad = |reason: String| ScaleError::BadManifest { path: shard.manifest.clone(), line: shard.line, reason };
        let text = match shard.lines.next() {
            Some(Ok(t)) => t,
            Some(Err(e)) => return Err(bad(e.to_string()).into()),
            None => return Err(bad(format!("ends before image {i}")).into()),
        };
        let record: Record = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if record.index != i {
            return Err(bad(format!("holds image {} where image {i} belongs", record.index)).into());
        }
        for rel in [&record.image, &record.mask] {
            link_or_copy(&shard.dir.join(rel), &out_dir.path(rel))?;
        }
        summary.count(&record);
        let sample = Sample::new(&record, &out_dir.root);
        for w in writers.iter_mut() {
            w.write(&sample)?;
        }
        obs.advanced(i + 1);
    }
    for w in writers.iter_mut() {
        w.finish()?;
    }
    write_summary_json(&out_dir, &summary)?;
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}
