//! `pinsynth merge`: shard outputs → the dataset one process would have written. Record `i` is line
//! `i / N` of shard `i mod N`'s manifest; records are taken in index order, their images and masks
//! hard-linked (or copied) into place, and replayed through the same dataset writers as a render.

use super::{ShardError, ShardFile, read_scene};
use crate::Error;
use crate::dataset::{self, DatasetOptions, OutputDir, Sample, Summary, WriteError, link_or_copy, write_atomic};
use crate::progress::Progress;
use crate::spec::Scene;
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
pub fn merge(dirs: &[PathBuf], out: &Path, opts: &DatasetOptions, progress: &dyn Progress) -> Result<Summary, Error> {
    let start = Instant::now();
    let mut shards: Vec<Option<(PathBuf, ShardFile)>> = Vec::new();
    let mut first: Option<(PathBuf, ShardFile, Scene)> = None;
    for dir in dirs {
        let not_a_shard = || ShardError::NotAShard { dir: dir.clone() };
        let info = ShardFile::read(dir)?.filter(|f| f.shard < f.of).ok_or_else(not_a_shard)?;
        let scene = read_scene(dir)?.ok_or_else(not_a_shard)?;
        // Records are replayed through this version's writers: a shard of another version would not
        // merge into what either version writes.
        let scene_file = dir.join("scene.resolved.toml");
        let text =
            fs::read(&scene_file).map_err(|source| WriteError::Io { action: "read", path: scene_file, source })?;
        let found = super::resolved_by(&text);
        if found != env!("CARGO_PKG_VERSION") {
            return Err(ShardError::OtherVersion {
                dir: dir.clone(),
                found,
                this: env!("CARGO_PKG_VERSION").to_string(),
            }
            .into());
        }
        let (f_dir, f_info, f_scene) = first.get_or_insert_with(|| (dir.clone(), info, scene.clone()));
        if info.of != f_info.of {
            return Err(ShardError::ShardCountDiffers {
                dir: dir.clone(),
                shard: info.shard,
                count: info.of,
                other: f_dir.clone(),
                other_count: f_info.of,
            }
            .into());
        }
        if scene != *f_scene || info.images != f_info.images {
            return Err(ShardError::DifferentScenes { dir: dir.clone(), first: f_dir.clone() }.into());
        }
        shards.resize(info.of as usize, None);
        if let Some((seen, _)) = &shards[info.shard as usize] {
            return Err(
                ShardError::DuplicateShard { shard: info.shard, first: seen.clone(), second: dir.clone() }.into()
            );
        }
        if !dir.join("manifest.jsonl").is_file() {
            return Err(ShardError::Unfinished { dir: dir.clone() }.into());
        }
        shards[info.shard as usize] = Some((dir.clone(), info));
    }
    let Some((first_dir, info, _)) = first else {
        return Err(ShardError::MissingShards { missing: vec![0], count: 1 }.into());
    };
    let missing: Vec<u64> = (0..info.of).filter(|k| shards[*k as usize].is_none()).collect();
    if !missing.is_empty() {
        return Err(ShardError::MissingShards { missing, count: info.of }.into());
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
    // The first shard's file, byte for byte: the merged dataset is what one process would have written.
    let scene_file = first_dir.join("scene.resolved.toml");
    let scene_text =
        fs::read(&scene_file).map_err(|source| WriteError::Io { action: "read", path: scene_file, source })?;
    write_atomic(&out_dir.path("scene.resolved.toml"), &scene_text)?;
    let mut writers = dataset::writers(&out_dir.root, opts)?;
    let mut summary = Summary { adapter: "merge".into(), ..Summary::default() };
    progress.start(info.images, "merge");
    for i in 0..info.images {
        let shard = &mut readers[(i % info.of) as usize];
        shard.line += 1;
        let bad = |reason: String| ShardError::BadManifest { path: shard.manifest.clone(), line: shard.line, reason };
        let text = match shard.lines.next() {
            Some(Ok(t)) => t,
            Some(Err(e)) => return Err(bad(e.to_string()).into()),
            None => return Err(bad(format!("ends before image {i}")).into()),
        };
        let record: Record = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if record.index != i {
            return Err(bad(format!("holds image {} where image {i} belongs", record.index)).into());
        }
        for rel in [&record.image, &record.mask].into_iter().chain(record.depth.as_ref()) {
            if let Some(parent) = out_dir.path(rel).parent() {
                crate::dataset::create_dir(parent)?;
            }
            link_or_copy(&shard.dir.join(rel), &out_dir.path(rel))?;
        }
        summary.count(&record);
        let sample = Sample::new(&record, &out_dir.root);
        for w in writers.iter_mut() {
            w.write(&sample)?;
        }
        progress.advance(1);
    }
    for w in writers.iter_mut() {
        w.finish()?;
    }
    summary.counts.write(&out_dir)?;
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}
