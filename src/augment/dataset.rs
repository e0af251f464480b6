//! pinsynth datasets (`DIR/manifest.jsonl` + images + instance masks): augmented copies keep exact
//! ground truth — the mask follows the image by nearest neighbour, keypoints by the same affine,
//! bbox and pixel counts are recomputed from the new mask — and each new record says, under
//! `augment`, which record it came from and which ops with which parameters made it.

use super::balance::{BalanceItem, balance_copies};
use super::io::{
    OutputFormat, RunOptions, Summary, finish, prepare_out, read_image, variant_path, write_file, write_image,
};
use super::{AugmentError, Augmenter, Sample, apply_ops};
use crate::progress::Progress;
use crate::seed::path_stream;
use crate::truth::{self, MaskStats};
use image::{DynamicImage, GrayImage};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::fs;
use std::path::{Component, Path};

/// One manifest line: pinsynth's own record, plus any field it does not know (an earlier
/// augmentation's `augment`, a user's own), kept as it is.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct DatasetRecord {
    #[serde(flatten)]
    record: truth::Record,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// A source record and its line, copied verbatim for originals.
struct Record {
    raw: String,
    typed: DatasetRecord,
}

pub(crate) fn run(
    input: &Path,
    aug: &Augmenter,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<Summary, AugmentError> {
    let manifest = input.join("manifest.jsonl");
    let records = read_manifest(&manifest)?;
    prepare_out(input, &opts.out, opts.overwrite)?;
    let is_test = |r: &Record| r.typed.record.split == crate::split::Split::Test;
    let copies: Vec<u32> = match &opts.balance {
        Some(b) => {
            let items: Vec<BalanceItem> = records
                .iter()
                .map(|r| {
                    let rec = &r.typed.record;
                    BalanceItem { group: rec.split.as_str().to_string(), class: rec.label.clone(), test: is_test(r) }
                })
                .collect();
            balance_copies(&items, b)
        }
        None => records.iter().map(|r| if is_test(r) { 0 } else { opts.copies }).collect(),
    };
    progress.start(records.len() as u64, "augment");
    let mut results: Vec<Result<Outcome, AugmentError>> = records
        .par_iter()
        .zip(copies.par_iter())
        .map(|(record, &n)| {
            let r = augment_record(input, record, n, aug, opts);
            progress.advance(1);
            r
        })
        .collect();
    let mut lines = Vec::new();
    for (record, result) in records.iter().zip(results.iter_mut()) {
        if let Ok(outcome) = result {
            if opts.originals {
                lines.push(record.raw.clone());
            }
            lines.append(&mut outcome.lines);
        }
    }
    let counts = results.into_iter().map(|r| r.map(|o| (o.written, o.copied))).collect();
    let summary = finish(records.iter().map(|r| input.join(&r.typed.record.image)), counts, opts.strict, true)?;
    let mut text = lines.join("\n");
    text.push('\n');
    write_file(&opts.out.join("manifest.jsonl"), text.as_bytes())?;
    Ok(summary)
}

fn read_manifest(path: &Path) -> Result<Vec<Record>, AugmentError> {
    let text = fs::read_to_string(path).map_err(|source| AugmentError::Read { path: path.to_path_buf(), source })?;
    let mut records = Vec::new();
    for (i, raw) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |reason: String| AugmentError::Manifest { path: path.to_path_buf(), line: i + 1, reason };
        let typed: DatasetRecord = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        for (key, rel) in [("image", &typed.record.image), ("mask", &typed.record.mask)] {
            if !is_plain_relative(rel) {
                return Err(bad(format!("`{key}` must be a path inside the dataset, found {rel:?}")));
            }
        }
        records.push(Record { raw: raw.to_string(), typed });
    }
    Ok(records)
}

/// What one source record produced: its copies' manifest lines and the file counts.
struct Outcome {
    lines: Vec<String>,
    written: usize,
    copied: usize,
}

/// A relative path with only normal components: it cannot escape the dataset or OUT.
fn is_plain_relative(s: &str) -> bool {
    !s.is_empty() && Path::new(s).components().all(|c| matches!(c, Component::Normal(_)))
}

fn augment_record(
    input: &Path,
    record: &Record,
    copies: u32,
    aug: &Augmenter,
    opts: &RunOptions,
) -> Result<Outcome, AugmentError> {
    let source = &record.typed.record;
    let (image_bytes, image) = read_image(&input.join(&source.image))?;
    let mask = read_mask(&input.join(&source.mask), &image)?;
    // Keypoints to carry: every terminal's top and bottom face centre.
    let points: Vec<[f64; 2]> = source.pins.iter().flat_map(|p| [p.top_px, p.bottom_px]).collect();
    let mut lines = Vec::new();
    for k in 1..=copies {
        let mut rng = path_stream(opts.seed, &source.image, "aug", k);
        let ops = aug.draw(&mut rng, image.width(), image.height());
        let sample = Sample { image: image.clone(), mask: Some(mask.1.clone()), points: points.clone() };
        let out = apply_ops(&ops, sample)?;
        let suffix = format!("_aug{k:03}");
        let image_rel = variant_path(&source.image, &suffix, opts.format);
        write_image(&out.image, &opts.out.join(&image_rel), opts)?;
        let mut new = record.typed.clone();
        let r = &mut new.record;
        if let Some(m) = &out.mask {
            let mask_rel = variant_path(&source.mask, &suffix, OutputFormat::Png);
            write_image(&DynamicImage::ImageLuma8(m.clone()), &opts.out.join(&mask_rel), opts)?;
            r.mask = slashed(&mask_rel);
            let stats = MaskStats::of(m.as_raw(), m.width());
            for pin in &mut r.pins {
                pin.bbox = stats.bbox(pin.label);
                pin.pixels = stats.count[usize::from(pin.label)];
            }
        }
        for (pin, p) in r.pins.iter_mut().zip(out.points.chunks_exact(2)) {
            (pin.top_px, pin.bottom_px) = (p[0], p[1]);
        }
        r.id = format!("{}{suffix}", source.id);
        r.image = slashed(&image_rel);
        (r.width, r.height) = (out.image.width(), out.image.height());
        new.extra.insert("augment".into(), json!({ "source": source.id, "copy": k, "ops": ops, "seed": opts.seed }));
        let path = opts.out.join("manifest.jsonl");
        lines.push(serde_json::to_string(&new).map_err(|source| crate::dataset::WriteError::Json { path, source })?);
    }
    let mut copied = 0;
    if opts.originals {
        write_file(&opts.out.join(&source.image), &image_bytes)?;
        write_file(&opts.out.join(&source.mask), &mask.0)?;
        copied = 1;
    }
    Ok(Outcome { lines, written: copies as usize, copied })
}

fn read_mask(path: &Path, image: &DynamicImage) -> Result<(Vec<u8>, GrayImage), AugmentError> {
    let (bytes, mask) = read_image(path)?;
    let (width, height) = (image.width(), image.height());
    match mask {
        DynamicImage::ImageLuma8(m) if m.dimensions() == (width, height) => Ok((bytes, m)),
        _ => Err(AugmentError::BadMask { path: path.to_path_buf(), width, height }),
    }
}

fn slashed(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// `[x, y, w, h]` of `label`'s pixels in `mask` (as the manifest's `bbox`), `None` when absent.
pub fn bbox_of_label(mask: &GrayImage, label: u8) -> Option<[u32; 4]> {
    MaskStats::of(mask.as_raw(), mask.width()).bbox(label)
}
