//! `pinsynth augment bench`: throughput of a typical Keras-style run on synthetic photos, so the
//! figure in the README can be re-measured on any machine. Only the augmentation run is timed
//! (decode, ops, encode, atomic write), not the synthesis of the inputs.

use super::io::write_file;
use super::{AugmentError, AugmentSpec, OutputFormat, RunOptions, ZoomRange, run};
use crate::progress::Progress;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, Rgb, RgbImage};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What one benchmark run measured.
#[derive(Clone, Copy, Debug)]
pub struct BenchReport {
    pub count: usize,
    pub width: u32,
    pub height: u32,
    pub seconds: f64,
}

impl BenchReport {
    pub fn images_per_second(&self) -> f64 {
        self.count as f64 / self.seconds
    }
}

/// The op set timed: what most Keras tutorials use.
pub fn typical_spec() -> AugmentSpec {
    AugmentSpec {
        rotation_range: Some(20.0),
        width_shift_range: Some(0.1),
        height_shift_range: Some(0.1),
        zoom_range: Some(ZoomRange::Scalar(0.2)),
        horizontal_flip: Some(true),
        fill_mode: Some("nearest".into()),
        ..AugmentSpec::default()
    }
}

/// Writes `count` JPEG photos of `width` x `height` into a temporary folder, augments each once
/// with [`typical_spec`] into another, and removes both.
pub fn bench(count: usize, width: u32, height: u32, progress: &dyn Progress) -> Result<BenchReport, AugmentError> {
    let base = std::env::temp_dir().join(format!("pinsynth-augment-bench-{}", std::process::id()));
    let result = bench_in(&base, count, width, height, progress);
    let _ = std::fs::remove_dir_all(&base); // best effort cleanup; the measurement is what matters
    result
}

fn bench_in(
    base: &Path,
    count: usize,
    width: u32,
    height: u32,
    progress: &dyn Progress,
) -> Result<BenchReport, AugmentError> {
    let input = base.join("in");
    (0..count).into_par_iter().try_for_each(|i| synth_photo(&input, i, width, height))?;
    let aug = typical_spec().validate("bench")?;
    let opts = RunOptions {
        out: base.join("out"),
        seed: 0,
        copies: 1,
        balance: None,
        strict: true,
        overwrite: false,
        originals: false,
        format: OutputFormat::Keep,
        jpeg_quality: 90,
    };
    let start = Instant::now();
    let summary = run(&input, &aug, &opts, progress)?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(BenchReport { count: summary.written, width, height, seconds })
}

/// A photo-like JPEG: smooth gradients, a few bright blocks and pseudo-random texture.
fn synth_photo(dir: &Path, i: usize, width: u32, height: u32) -> Result<(), AugmentError> {
    let seed = (i as u32).wrapping_mul(2_654_435_761);
    let img = RgbImage::from_fn(width, height, |x, y| {
        let noise = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663) ^ seed) % 23;
        let block = u32::from((x / 40 + y / 40 + i as u32).is_multiple_of(7)) * 90;
        let r = (x * 255 / width.max(1) + noise + block).min(255) as u8;
        let g = (y * 255 / height.max(1) + noise).min(255) as u8;
        let b = ((x + y + i as u32) % 256) as u8;
        Rgb([r, g, b])
    });
    let path: PathBuf = dir.join(format!("photo_{i:05}.jpg"));
    let mut buf = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut buf, 90))
        .map_err(|source| AugmentError::Encode { path: path.clone(), source })?;
    write_file(&path, &buf)
}
