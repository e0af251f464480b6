//! `pinsynth score`: heat maps (Grad-CAM, attention, …) scored against the ground truth pinsynth
//! knows exactly. For every NG image the region is the defective terminal's visible pixels
//! (`mask == defect.label`), or for a missing terminal the pixels where it would stand (the MVTec
//! ghost polygon `defect.ghost_px`, filled at pixel centres); the box is `defect.bbox_px` (pixels whose
//! centre lies inside). Maps are resampled to the image size ([`maps::resample`]), negative values
//! count as 0, then [`metrics`] gives five numbers per NG image, averaged overall, per defect type and
//! per split. OK images have no region: their map's peak and total are reported instead.

pub mod maps;
pub mod metrics;
pub mod output;
pub mod sheet;

pub use output::{Group, ImageScore, ScoreSummary};

use crate::dataset::mvtec::fill_convex;
use crate::truth::Record;
use rayon::prelude::*;
use std::io;
use std::path::{Path, PathBuf};

/// Errors of `score` and `report`; each names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("{path} is not a pinsynth dataset (no manifest.jsonl in it)")]
    NotADataset { path: PathBuf },
    #[error("{path} line {line}: {reason}")]
    Manifest { path: PathBuf, line: usize, reason: String },
    #[error("maps directory {path} does not exist or is not a directory")]
    NoMapsDir { path: PathBuf },
    #[error("no map in {dir} is named after an image of {dataset} (expected <id>.npy or <id>.png, e.g. {example})")]
    NoMaps { dir: PathBuf, dataset: PathBuf, example: String },
    #[error("both {npy} and {png} exist; keep one map per image")]
    AmbiguousMap { npy: PathBuf, png: PathBuf },
    #[error("map {path}: {reason}")]
    BadMap { path: PathBuf, reason: String },
    #[error("mask {path}: {reason}")]
    BadMask { path: PathBuf, reason: String },
    #[error("image {path}: {reason}")]
    BadImage { path: PathBuf, reason: String },
    #[error("--tolerance {value}: must be a finite number of pixels ≥ 0")]
    BadTolerance { value: f64 },
    #[error("{path} exists; pass --overwrite to replace it")]
    Exists { path: PathBuf },
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    #[error(transparent)]
    Write(#[from] crate::dataset::WriteError),
}

impl ScoreError {
    /// Whether the user's input (dataset, maps, arguments) was at fault.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, ScoreError::Io { .. } | ScoreError::Write(_))
    }
}

/// Options of `score`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreOptions {
    /// Pointing-game tolerance in pixels (distance between pixel centres).
    pub tolerance: f64,
    /// Images on the worst-images contact sheet (0 = no sheet).
    pub worst: usize,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        // 15 px as in Zhang et al. 2018 (Top-down neural attention by excitation backprop).
        ScoreOptions { tolerance: 15.0, worst: 16 }
    }
}

/// Reads `DATASET/manifest.jsonl`.
pub fn read_manifest(dataset: &Path) -> Result<Vec<Record>, ScoreError> {
    let path = dataset.join("manifest.jsonl");
    if !path.is_file() {
        return Err(ScoreError::NotADataset { path: dataset.to_path_buf() });
    }
    let text = std::fs::read_to_string(&path).map_err(|source| ScoreError::Io {
        action: "read",
        path: path.clone(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<Record>(l).map_err(|e| ScoreError::Manifest {
                path: path.clone(),
                line: i + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Reads an instance mask and checks its size against the record.
pub fn read_mask(dataset: &Path, r: &Record) -> Result<Vec<u8>, ScoreError> {
    let path = dataset.join(&r.mask);
    let bad = |reason: String| ScoreError::BadMask { path: path.clone(), reason };
    let img = image::open(&path).map_err(|e| bad(e.to_string()))?;
    if (img.width(), img.height()) != (r.width, r.height) {
        return Err(bad(format!(
            "is {} × {}, the manifest says {} × {}",
            img.width(),
            img.height(),
            r.width,
            r.height
        )));
    }
    Ok(img.into_luma8().into_raw())
}

/// The ground-truth region of an NG image (per-pixel flags, row-major), None for an OK image.
/// `mask` is needed only for a terminal that is present (not for a missing one).
pub fn region(r: &Record, mask: Option<&[u8]>) -> Option<Vec<bool>> {
    let d = r.defect.as_ref()?;
    let n = (r.width * r.height) as usize;
    Some(match (&d.ghost_px, mask) {
        (Some(poly), _) => {
            let mut m = vec![0u8; n];
            fill_convex(poly, r.width, r.height, 1, &mut m);
            m.into_iter().map(|v| v == 1).collect()
        }
        (None, Some(mask)) => mask.iter().map(|&v| v == d.label).collect(),
        (None, None) => vec![false; n],
    })
}

/// The defect's box `bbox_px` as per-pixel flags (pixel centre inside or on the box).
pub fn box_flags(r: &Record) -> Option<Vec<bool>> {
    let d = r.defect.as_ref()?;
    let [x, y, w, h] = d.bbox_px;
    let mut m = vec![0u8; (r.width * r.height) as usize];
    fill_convex(&[[x, y], [x + w, y], [x + w, y + h], [x, y + h]], r.width, r.height, 1, &mut m);
    Some(m.into_iter().map(|v| v == 1).collect())
}

/// A map loaded, resampled to its image and clamped at 0.
pub fn image_map(path: &Path, r: &Record) -> Result<Vec<f64>, ScoreError> {
    let map = maps::load(path)?;
    let mut values = maps::resample(&map, r.width as usize, r.height as usize).values;
    metrics::clamp_negative(&mut values);
    Ok(values)
}

/// What one image gave.
enum Outcome {
    Scored(ImageScore),
    NoMap,
    EmptyRegion,
}

fn score_one(dataset: &Path, maps_dir: &Path, r: &Record, opts: &ScoreOptions) -> Result<Outcome, ScoreError> {
    let Some(path) = maps::find(maps_dir, &r.id)? else {
        return Ok(Outcome::NoMap);
    };
    let values = image_map(&path, r)?;
    let (peak, peak_px, total) = metrics::peak_total(&values, r.width as usize);
    let mut s = ImageScore {
        id: r.id.clone(),
        kind: r.defect_type().unwrap_or("ok").to_string(),
        split: Some(r.split.as_str().to_string()),
        map: path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
        metrics: None,
        peak,
        peak_px,
        total,
    };
    if let Some(d) = &r.defect {
        let mask = if d.ghost_px.is_some() { None } else { Some(read_mask(dataset, r)?) };
        let region = region(r, mask.as_deref()).unwrap_or_default(); // ok: NG record has a region
        if !region.iter().any(|&f| f) {
            return Ok(Outcome::EmptyRegion);
        }
        let bbox = box_flags(r).unwrap_or_default(); // ok: NG record has a box
        s.metrics = Some(metrics::metrics(&values, &region, &bbox, r.width as usize, opts.tolerance));
    }
    Ok(Outcome::Scored(s))
}

/// Scores every image of `dataset` that has a map in `maps_dir` (in parallel; the result does not
/// depend on the thread count). Excluded images are scored too (they have ground truth all the same).
pub fn score(dataset: &Path, maps_dir: &Path, opts: &ScoreOptions) -> Result<ScoreSummary, ScoreError> {
    if !opts.tolerance.is_finite() || opts.tolerance < 0.0 {
        return Err(ScoreError::BadTolerance { value: opts.tolerance });
    }
    let records = read_manifest(dataset)?;
    if !maps_dir.is_dir() {
        return Err(ScoreError::NoMapsDir { path: maps_dir.to_path_buf() });
    }
    let outcomes: Vec<Result<Outcome, ScoreError>> =
        records.par_iter().map(|r| score_one(dataset, maps_dir, r, opts)).collect();
    let mut per_image = Vec::new();
    let (mut missing_maps, mut empty_regions) = (Vec::new(), Vec::new());
    for (r, o) in records.iter().zip(outcomes) {
        match o? {
            Outcome::Scored(s) => per_image.push(s),
            Outcome::NoMap => missing_maps.push(r.id.clone()),
            Outcome::EmptyRegion => empty_regions.push(r.id.clone()),
        }
    }
    if per_image.is_empty() && empty_regions.is_empty() {
        return Err(ScoreError::NoMaps {
            dir: maps_dir.to_path_buf(),
            dataset: dataset.to_path_buf(),
            example: records.first().map_or_else(|| "<id>.npy".into(), |r| format!("{}.npy", r.id)),
        });
    }
    Ok(ScoreSummary::new(per_image, missing_maps, empty_regions, opts))
}

/// The worst-images sheet written beside `json`: `score.json` → `score_worst.png`.
pub fn sheet_path(json: &Path) -> PathBuf {
    let stem = json.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "score".into());
    json.with_file_name(format!("{stem}_worst.png"))
}

/// Where `score` writes: the JSON, the CSV if asked, the worst-images sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreOutputs {
    pub json: PathBuf,
    pub csv: Option<PathBuf>,
    pub overwrite: bool,
}

/// Scores, then writes the JSON, the CSV and the worst-images sheet. Refuses existing outputs unless
/// `overwrite`, before reading anything; writes nothing when an input is bad.
pub fn score_to_files(
    dataset: &Path,
    maps_dir: &Path,
    out: &ScoreOutputs,
    opts: &ScoreOptions,
) -> Result<ScoreSummary, ScoreError> {
    let sheet = sheet_path(&out.json);
    if !out.overwrite {
        for p in [Some(&out.json), out.csv.as_ref(), Some(&sheet)].into_iter().flatten() {
            if p.exists() {
                return Err(ScoreError::Exists { path: p.clone() });
            }
        }
    }
    let summary = score(dataset, maps_dir, opts)?;
    let records = read_manifest(dataset)?;
    let picture = sheet::worst_sheet(dataset, maps_dir, &records, &summary)?;
    summary.write(&out.json, out.csv.as_deref())?;
    match picture {
        Some(img) => {
            let png = crate::codec::png_rgb(img.as_raw(), img.width(), img.height())
                .map_err(|source| crate::dataset::WriteError::Encode { path: sheet.clone(), source })?;
            crate::dataset::write_atomic(&sheet, &png)?;
        }
        None if sheet.exists() => {
            std::fs::remove_file(&sheet).map_err(|source| ScoreError::Io { action: "remove", path: sheet, source })?;
        }
        None => {}
    }
    Ok(summary)
}
