//! Runs that span processes: `--shard K/N` renders the images with index mod N == K,
//! [`merge`] joins shard outputs into the dataset one process would have written, and [`journal`]
//! lets `--resume` finish an interrupted run. All three rest on one fact: a record of
//! `manifest.jsonl` says its image is complete, so replaying records through the layout writers
//! rebuilds everything else byte for byte.

pub mod journal;
pub mod merge;

use crate::dataset::{OutputDir, WriteError, write_atomic};
use crate::spec::Scene;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// Errors of sharded, merged and resumed runs (all caused by the directories or arguments given).
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("invalid shard {given:?}: expected K/N with 0 <= K < N, e.g. 0/4")]
    BadShard { given: String },
    #[error(
        "cannot resume in {dir}: its scene.resolved.toml differs from the scene given; resume with the same scene and --set values, or render into a new directory"
    )]
    SceneChanged { dir: PathBuf },
    #[error("cannot resume in {dir}: it holds {found}, this run is {wanted}")]
    ShardChanged { dir: PathBuf, found: String, wanted: String },
    #[error("cannot resume in {dir}: it is not empty and has no scene.resolved.toml, so it is not a pinsynth output")]
    NotAnOutput { dir: PathBuf },
    #[error("{dir} is not a shard output (no shard.json); render shards with --shard K/N")]
    NotAShard { dir: PathBuf },
    #[error("{dir} is shard {shard} of a {count}-shard run, but {other} is of a {other_count}-shard run")]
    ShardCountDiffers { dir: PathBuf, shard: u64, count: u64, other: PathBuf, other_count: u64 },
    #[error("shard {shard} is given twice: {first} and {second}")]
    DuplicateShard { shard: u64, first: PathBuf, second: PathBuf },
    #[error("shard{} {} of {count} not given; merge needs every shard", if missing.len() == 1 { "" } else { "s" }, list(missing))]
    MissingShards { missing: Vec<u64>, count: u64 },
    #[error("{dir} was rendered from a different scene than {first} (scene.resolved.toml differs)")]
    DifferentScenes { dir: PathBuf, first: PathBuf },
    #[error("cannot read the scene of {dir}")]
    UnreadableScene {
        dir: PathBuf,
        #[source]
        source: Box<crate::spec::SpecError>,
    },
    #[error("{dir} is not finished (no manifest.jsonl); rerun its shard with --resume, then merge")]
    Unfinished { dir: PathBuf },
    #[error("{path}: line {line}: {reason}")]
    BadManifest { path: PathBuf, line: u64, reason: String },
    #[error(
        "{dir} was rendered by pinsynth {found}, this is pinsynth {this}; render its shard again with this version (or merge with that one)"
    )]
    OtherVersion { dir: PathBuf, found: String, this: String },
}

/// The pinsynth version named in the header of a `scene.resolved.toml` ("unknown" if it has none).
pub fn resolved_by(scene_toml: &[u8]) -> String {
    let first = scene_toml.split(|b| *b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(first)
        .strip_prefix("# Resolved by pinsynth ")
        .and_then(|rest| rest.split(',').next())
        .unwrap_or("unknown")
        .to_string()
}

fn list(v: &[u64]) -> String {
    v.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
}

/// Shard `index` of `count`: the images whose index mod `count` == `index`. Ids do not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = ShardError;

    /// `K/N`, as in `--shard 3/8` (a Slurm array task id or a Kubernetes `JOB_COMPLETION_INDEX` as K).
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError::BadShard { given: s.to_string() };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (k.trim().parse::<u64>().map_err(|_| bad())?, n.trim().parse::<u64>().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "shard {}/{}", self.index, self.count)
    }
}

/// `shard.json`, written into a shard's output: which shard it is and of how many images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFile {
    pub shard: u64,
    pub of: u64,
    /// Images of the whole scene (all shards).
    pub images: u64,
}

pub const SHARD_FILE: &str = "shard.json";

impl ShardFile {
    /// The `shard.json` of shard `s` of a scene with `images` images.
    pub fn of(s: Shard, images: u64) -> ShardFile {
        ShardFile { shard: s.index, of: s.count, images }
    }

    /// The `shard.json` in `dir`: None when there is none; an error when it cannot be read or parsed.
    pub fn read(dir: &Path) -> Result<Option<ShardFile>, WriteError> {
        let path = dir.join(SHARD_FILE);
        match fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(WriteError::Io { action: "read", path, source }),
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|source| WriteError::Json { path, source }),
        }
    }

    pub fn write(&self, dir: &OutputDir) -> Result<(), WriteError> {
        let path = dir.path(SHARD_FILE);
        let json = serde_json::to_string(self).map_err(|source| WriteError::Json { path: path.clone(), source })?;
        write_atomic(&path, json.as_bytes())
    }
}

/// The scene a dataset directory was rendered from (its `scene.resolved.toml`, parsed: two versions of
/// pinsynth that resolve a scene the same way agree, whatever the header says).
pub fn read_scene(dir: &Path) -> Result<Option<Scene>, ShardError> {
    let path = dir.join("scene.resolved.toml");
    if !path.exists() {
        return Ok(None);
    }
    Scene::load(&path, &[])
        .map(Some)
        .map_err(|source| ShardError::UnreadableScene { dir: dir.to_path_buf(), source: Box::new(source) })
}

/// The images one process renders: indices `first`, `first + step`, … below `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Work {
    pub first: u64,
    pub step: u64,
    pub total: u64,
}

impl Work {
    /// Every image of a scene with `total` images, or one shard's.
    pub fn new(total: u64, shard: Option<Shard>) -> Work {
        match shard {
            None => Work { first: 0, step: 1, total },
            Some(s) => Work { first: s.index, step: s.count, total },
        }
    }

    /// How many images this work has.
    pub fn len(&self) -> u64 {
        if self.first >= self.total { 0 } else { (self.total - self.first - 1) / self.step + 1 }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Image index at position `pos` (0 ≤ pos < len).
    pub fn index(&self, pos: u64) -> u64 {
        self.first + pos * self.step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_indices() {
        for n in 1..5 {
            let mut all: Vec<u64> = (0..n)
                .flat_map(|k| {
                    let w = Work::new(11, Some(Shard { index: k, count: n }));
                    (0..w.len()).map(move |p| w.index(p))
                })
                .collect();
            all.sort();
            assert_eq!(all, (0..11).collect::<Vec<_>>());
        }
        assert_eq!(Work::new(2, Some(Shard { index: 3, count: 4 })).len(), 0);
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard { index: 2, count: 4 });
        for bad in ["4/4", "1", "a/2", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
