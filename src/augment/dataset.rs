//! pinsynth datasets (`DIR/manifest.jsonl` + images + instance masks): augmented copies keep exact
//! ground truth — the mask follows the image by nearest neighbour, keypoints by the same affine,
//! bbox and pixel counts are recomputed from the new mask — and each new record says, under
//! `augment`, which record it came from and which ops with which parameters made it.

use super::balance::{BalanceItem, balance_copies};
use super::folder::{finish, prepare_out, read_image, variant_path, write_atomic, write_image};
use super::{AugmentError, Augmenter, OutputFormat, RunOptions, Sample, Summary, apply_ops};
use crate::progress::Progress;
use crate::seed::path_stream;
use image::{DynamicImage, GrayImage};
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use std::fs;
use std::path::{Component, Path};

/// One manifest line: the raw text (copied verbatim for originals) and the fields we need.
struct Record {
    raw: String,
    fields: Map<String, Value>,
    id: String,
    image: String,
    mask: Option<String>,
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
    let str_field = |r: &Record, key: &str| r.fields.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let is_test = |r: &Record| str_field(r, "split") == "test";
    let copies: Vec<u32> = match &opts.balance {
        Some(b) => {
            let items: Vec<BalanceItem> = records
                .iter()
                .map(|r| BalanceItem { group: str_field(r, "split"), class: str_field(r, "label"), test: is_test(r) })
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
    let summary = finish(records.iter().map(|r| input.join(&r.image)), counts, opts.strict, true)?;
    let mut text = lines.join("\n");
    text.push('\n');
    write_atomic(&opts.out.join("manifest.jsonl"), text.as_bytes())?;
    Ok(summary)
}

fn read_manifest(path: &Path) -> Result<Vec<Record>, AugmentError> {
    let text = fs::read_to_string(path).map_err(|source| AugmentError::Read { path: path.to_path_buf(), source })?;
    let mut records = Vec::new();
    for (i, raw) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |reason: String| AugmentError::Manifest { path: path.to_path_buf(), line: i + 1, reason };
        let fields = match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(bad("expected a JSON object".into())),
            Err(e) => return Err(bad(e.to_string())),
        };
        let rel = |key: &str| -> Result<Option<String>, AugmentError> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if is_plain_relative(s) => Ok(Some(s.clone())),
                Some(v) => Err(bad(format!("`{key}` must be a path inside the dataset, found {v}"))),
            }
        };
        let image = rel("image")?.ok_or_else(|| bad("missing `image`".into()))?;
        let mask = rel("mask")?;
        let id = match fields.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => return Err(bad("missing `id`".into())),
        };
        records.push(Record { raw: raw.to_string(), fields, id, image, mask });
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
    let (image_bytes, image) = read_image(&input.join(&record.image))?;
    let mask = match &record.mask {
        Some(rel) => Some(read_mask(&input.join(rel), &image)?),
        None => None,
    };
    let pins: Vec<Value> = record.fields.get("pins").and_then(Value::as_array).cloned().unwrap_or_default();
    // Keypoints to carry: (pin index, key) for every [u, v] pair present.
    let mut keys = Vec::new();
    let mut points = Vec::new();
    for (i, pin) in pins.iter().enumerate() {
        for key in ["top_px", "bottom_px"] {
            if let Some([u, v]) = pin.get(key).and_then(as_point) {
                keys.push((i, key));
                points.push([u, v]);
            }
        }
    }
    let mut lines = Vec::new();
    for k in 1..=copies {
        let mut rng = path_stream(opts.seed, &record.image, "aug", k);
        let ops = aug.draw(&mut rng, image.width(), image.height());
        let sample =
            Sample { image: image.clone(), mask: mask.as_ref().map(|(_, m)| m.clone()), points: points.clone() };
        let out = apply_ops(&ops, sample)?;
        let suffix = format!("_aug{k:03}");
        let image_rel = variant_path(&record.image, &suffix, opts.format);
        write_image(&out.image, &opts.out.join(&image_rel), opts)?;
        let mut fields = record.fields.clone();
        if let (Some(rel), Some(m)) = (&record.mask, &out.mask) {
            let mask_rel = variant_path(rel, &suffix, OutputFormat::Png);
            write_image(&DynamicImage::ImageLuma8(m.clone()), &opts.out.join(&mask_rel), opts)?;
            fields.insert("mask".into(), json!(slashed(&mask_rel)));
        }
        let mut new_pins = pins.clone();
        for ((i, key), p) in keys.iter().zip(&out.points) {
            new_pins[*i][*key] = json!(p);
        }
        if let Some(m) = &out.mask {
            let stats = label_stats(m);
            for pin in &mut new_pins {
                if let Some(label) = pin.get("label").and_then(Value::as_u64).filter(|l| *l < 256) {
                    let s = &stats[label as usize];
                    pin["bbox"] = s.bbox().map_or(Value::Null, |b| json!(b));
                    pin["pixels"] = json!(s.count);
                }
            }
        }
        fields.insert("id".into(), json!(format!("{}{suffix}", record.id)));
        fields.insert("image".into(), json!(slashed(&image_rel)));
        fields.insert("width".into(), json!(out.image.width()));
        fields.insert("height".into(), json!(out.image.height()));
        if !pins.is_empty() {
            fields.insert("pins".into(), Value::Array(new_pins));
        }
        let source = record.fields.get("id").cloned().unwrap_or(Value::Null);
        fields.insert("augment".into(), json!({ "source": source, "copy": k, "ops": ops, "seed": opts.seed }));
        lines.push(Value::Object(fields).to_string());
    }
    let mut copied = 0;
    if opts.originals {
        write_atomic(&opts.out.join(&record.image), &image_bytes)?;
        if let (Some(rel), Some((bytes, _))) = (&record.mask, &mask) {
            write_atomic(&opts.out.join(rel), bytes)?;
        }
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

fn as_point(v: &Value) -> Option<[f64; 2]> {
    match v.as_array()?.as_slice() {
        [u, v] => Some([u.as_f64()?, v.as_f64()?]),
        _ => None,
    }
}

fn slashed(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// Extent and pixel count of one label.
#[derive(Clone, Copy, Debug, Default)]
struct LabelStat {
    min: (u32, u32),
    max: (u32, u32),
    count: u64,
}

impl LabelStat {
    /// `[x, y, w, h]` of the label's pixels, or `None` when it has none.
    fn bbox(&self) -> Option<[u32; 4]> {
        (self.count > 0).then(|| [self.min.0, self.min.1, self.max.0 - self.min.0 + 1, self.max.1 - self.min.1 + 1])
    }
}

fn label_stats(mask: &GrayImage) -> Vec<LabelStat> {
    let mut stats = vec![LabelStat { min: (u32::MAX, u32::MAX), ..LabelStat::default() }; 256];
    for (x, y, p) in mask.enumerate_pixels() {
        let s = &mut stats[usize::from(p.0[0])];
        s.min = (s.min.0.min(x), s.min.1.min(y));
        s.max = (s.max.0.max(x), s.max.1.max(y));
        s.count += 1;
    }
    stats
}

/// `[x, y, w, h]` of `label`'s pixels in `mask` (as the manifest's `bbox`), `None` when absent.
pub fn bbox_of_label(mask: &GrayImage, label: u8) -> Option<[u32; 4]> {
    label_stats(mask)[usize::from(label)].bbox()
}
