//! Augmentation of image folders and pinsynth datasets: the plan/apply workflow (square and cut),
//! Keras-ImageDataGenerator-style random augmentation and NG class balancing.
//!
//! Every augmentation is a list of concrete [`Op`]s (parameters already drawn), applied to a
//! [`Sample`] — an image plus, for pinsynth datasets, its instance mask and keypoints — by one
//! `match` in [`Op::apply`]. The ops are serialised (tagged by `op`) into the dataset manifest, so a
//! record says exactly what was done to it. Random parameters come from [`crate::seed::path_stream`], a pure
//! function of (seed, source path, variant, copy index), so results do not depend on thread count.

mod balance;
pub mod bench;
mod dataset;
mod folder;
mod geometric;
pub mod integrity;
mod io;
mod photometric;
mod plan;
mod spec;

pub use balance::{BalanceOptions, balance_copies};
pub use dataset::bbox_of_label;
pub use geometric::{Affine, FillMode};
pub use io::{OutputFormat, RunOptions, Skipped, Summary, list_images};
pub use plan::{PlanRow, YesNo, apply_plan, cut_halves, plan, read_plan, trim_box, write_plan};
pub use spec::{AugmentSpec, Augmenter, ZoomRange};

use image::{DynamicImage, GrayImage};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Everything that can go wrong while augmenting. Variants name the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum AugmentError {
    #[error(transparent)]
    Write(#[from] crate::dataset::WriteError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot decode {path}: {source}")]
    Decode { path: PathBuf, source: image::ImageError },
    /// A truncated or corrupt file (see [`integrity`]): nothing is derived from it.
    #[error("{path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot encode {path}: {source}")]
    Encode { path: PathBuf, source: image::ImageError },
    #[error("{origin}: malformed TOML: {message}")]
    Syntax { origin: String, message: String },
    #[error("{}", crate::spec::schema::report(&format!("invalid augmentation options in {origin}"), problems))]
    Spec { origin: String, problems: Vec<crate::spec::schema::Problem> },
    #[error("no augmentation operation given (e.g. --rotation-range 20 or --horizontal-flip)")]
    NoOperations,
    #[error("{path}: {source}")]
    PlanCsv { path: PathBuf, source: csv::Error },
    #[error("{path} is not inside the plan's root folder {root} (pass --root)")]
    OutsideRoot { path: PathBuf, root: PathBuf },
    #[error("{path}: the plan lists no files")]
    EmptyPlan { path: PathBuf },
    #[error("{path}:{line}: {reason}")]
    Manifest { path: PathBuf, line: usize, reason: String },
    #[error("{path}: mask must be an 8-bit single-channel PNG of {width}x{height} like its image")]
    BadMask { path: PathBuf, width: u32, height: u32 },
    #[error("{path} is a pinsynth dataset (it has manifest.jsonl); use `augment run` for datasets")]
    DatasetNotSupported { path: PathBuf },
    #[error("output folder {path} is not empty (pass --overwrite to write into it)")]
    OutNotEmpty { path: PathBuf },
    #[error("output folder {out} lies inside the input folder {input}")]
    OutInsideInput { out: PathBuf, input: PathBuf },
    #[error("{path} is not a folder")]
    NotAFolder { path: PathBuf },
    #[error("image of {width}x{height} is too small for the random trim toward square (needs both sides >= {min})")]
    TooSmallToTrim { width: u32, height: u32, min: u32 },
    #[error("crop {width}x{height} at ({x}, {y}) exceeds the {image_width}x{image_height} image")]
    CropOutOfBounds { x: u32, y: u32, width: u32, height: u32, image_width: u32, image_height: u32 },
}

impl AugmentError {
    /// True when the user's input (options, files, folders) is at fault rather than the machine.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, AugmentError::Io { .. } | AugmentError::Encode { .. } | AugmentError::Write(_))
    }
}

/// `pinsynth augment run`: a pinsynth dataset (detected by `manifest.jsonl`) or any image folder.
pub fn run(
    input: &std::path::Path,
    aug: &Augmenter,
    opts: &RunOptions,
    progress: &dyn crate::progress::Progress,
) -> Result<Summary, AugmentError> {
    if !input.is_dir() {
        return Err(AugmentError::NotAFolder { path: input.to_path_buf() });
    }
    if input.join("manifest.jsonl").is_file() {
        dataset::run(input, aug, opts, progress)
    } else {
        folder::run(input, aug, opts, progress)
    }
}

/// An image with the ground truth that must follow it through geometric ops.
#[derive(Clone, Debug)]
pub struct Sample {
    pub image: DynamicImage,
    /// Instance mask (0 background, 1..254 terminals, 255 housing); nearest-neighbour only.
    pub mask: Option<GrayImage>,
    /// Keypoints `[u, v]` in continuous pixel coordinates: origin at the image's top-left corner,
    /// pixel (i, j) covers [i, i+1) x [j, j+1).
    pub points: Vec<[f64; 2]>,
}

impl Sample {
    pub fn new(image: DynamicImage) -> Self {
        Sample { image, mask: None, points: Vec::new() }
    }
}

/// One concrete operation with its parameters drawn. Serialised as `{"op": "...", params...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Mirror left-right (`np.fliplr`, Keras `horizontal_flip`).
    FlipHorizontal,
    /// Mirror top-bottom (`np.flipud`, Keras `vertical_flip`).
    FlipVertical,
    /// `k` quarter turns counter-clockwise, as `np.rot90(image, k)` (the plan's `plus90` is k = 1).
    Rot90 { k: u8 },
    /// Keep the `width` x `height` window at (`x`, `y`): the plan's `cut` halves and `trim`.
    Crop { x: u32, y: u32, width: u32, height: u32 },
    /// Keras `apply_affine_transform`: rotation, shift, shear and zoom in one resampling.
    Affine(Affine),
    /// Keras `apply_channel_shift`: add `intensity` (8-bit units) to every colour channel, clipped
    /// to the image's own min/max.
    ChannelShift { intensity: f64 },
    /// Keras `apply_brightness_shift` (PIL `ImageEnhance.Brightness`): multiply by `factor`.
    Brightness { factor: f64 },
}

impl Op {
    /// Applies the op to image, mask and keypoints with the same parameters.
    pub fn apply(&self, sample: Sample) -> Result<Sample, AugmentError> {
        Ok(match self {
            Op::FlipHorizontal => geometric::flip_horizontal(sample),
            Op::FlipVertical => geometric::flip_vertical(sample),
            Op::Rot90 { k } => geometric::rot90(sample, *k),
            Op::Crop { x, y, width, height } => geometric::crop(sample, *x, *y, *width, *height)?,
            Op::Affine(affine) => affine.apply(sample),
            Op::ChannelShift { intensity } => photometric::channel_shift(sample, *intensity),
            Op::Brightness { factor } => photometric::brightness(sample, *factor),
        })
    }
}

/// Applies `ops` in order.
pub fn apply_ops(ops: &[Op], mut sample: Sample) -> Result<Sample, AugmentError> {
    for op in ops {
        sample = op.apply(sample)?;
    }
    Ok(sample)
}

/// A sample channel type (u8, u16, f32) seen in 8-bit units, so `cval` and channel shifts mean the
/// same on 8- and 16-bit PNGs.
pub(crate) trait Channel: Copy + Send + Sync + 'static {
    /// Value of one 8-bit step in this type's units.
    const PER_U8: f64;
    const FULL: f64;
    fn to_f64(self) -> f64;
    /// scipy's float→unsigned store: round half up, clamp (`CASE_INTERP_OUT_UINT`). For the
    /// integer types `(v + 0.5) as _` is exactly that: Rust's float→int cast truncates (= floor
    /// for the non-negative values that matter) and saturates at 0 and MAX.
    fn round_from(v: f64) -> Self;
    /// PIL's blend store: truncate toward zero, clamp.
    fn trunc_from(v: f64) -> Self;
}

impl Channel for u8 {
    const PER_U8: f64 = 1.0;
    const FULL: f64 = 255.0;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn round_from(v: f64) -> Self {
        (v + 0.5) as u8
    }
    fn trunc_from(v: f64) -> Self {
        v.clamp(0.0, Self::FULL) as u8
    }
}

impl Channel for u16 {
    const PER_U8: f64 = 257.0;
    const FULL: f64 = 65535.0;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn round_from(v: f64) -> Self {
        (v + 0.5) as u16
    }
    fn trunc_from(v: f64) -> Self {
        v.clamp(0.0, Self::FULL) as u16
    }
}

impl Channel for f32 {
    const PER_U8: f64 = 1.0 / 255.0;
    const FULL: f64 = 1.0;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn round_from(v: f64) -> Self {
        v as f32
    }
    fn trunc_from(v: f64) -> Self {
        v.clamp(0.0, Self::FULL) as f32
    }
}

/// Runs `$body` on the concrete buffer inside a `DynamicImage`, rebuilding the same variant.
/// Exotic future variants are processed as RGBA f32.
macro_rules! per_buffer {
    ($img:expr, $buf:ident => $body:expr) => {
        match $img {
            DynamicImage::ImageLuma8($buf) => DynamicImage::ImageLuma8($body),
            DynamicImage::ImageLumaA8($buf) => DynamicImage::ImageLumaA8($body),
            DynamicImage::ImageRgb8($buf) => DynamicImage::ImageRgb8($body),
            DynamicImage::ImageRgba8($buf) => DynamicImage::ImageRgba8($body),
            DynamicImage::ImageLuma16($buf) => DynamicImage::ImageLuma16($body),
            DynamicImage::ImageLumaA16($buf) => DynamicImage::ImageLumaA16($body),
            DynamicImage::ImageRgb16($buf) => DynamicImage::ImageRgb16($body),
            DynamicImage::ImageRgba16($buf) => DynamicImage::ImageRgba16($body),
            DynamicImage::ImageRgb32F($buf) => DynamicImage::ImageRgb32F($body),
            DynamicImage::ImageRgba32F($buf) => DynamicImage::ImageRgba32F($body),
            other => {
                let $buf = other.to_rgba32f();
                DynamicImage::ImageRgba32F($body)
            }
        }
    };
}
pub(crate) use per_buffer;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_serialise_tagged() {
        let op = Op::Rot90 { k: 1 };
        assert_eq!(serde_json::to_string(&op).ok().as_deref(), Some(r#"{"op":"rot90","k":1}"#));
        let back: Op = serde_json::from_str(r#"{"op":"brightness","factor":1.5}"#).expect("literal"); // ok: test literal
        assert_eq!(back, Op::Brightness { factor: 1.5 });
    }
}
