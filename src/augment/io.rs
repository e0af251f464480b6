//! What every augmentation step shares: options, the summary, finding images in a folder, decoding,
//! encoding in the source's format, and writing through the dataset's atomic writes (a temporary
//! `.partial` name, then a rename; see [`crate::dataset::write_atomic`]).

use super::AugmentError;
use super::balance::BalanceOptions;
use crate::dataset::write_atomic;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageFormat, ImageReader};
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Output encoding: the source's own (default) or one forced for all outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    Keep,
    Png,
    Jpeg,
}

/// Options shared by `run` on folders and datasets.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    pub seed: u64,
    /// Augmented copies per source image (ignored when `balance` is set).
    pub copies: u32,
    pub balance: Option<BalanceOptions>,
    /// Fail on the first unreadable file instead of skipping it.
    pub strict: bool,
    pub overwrite: bool,
    /// Also copy every source (byte for byte) into OUT, so OUT is the enlarged set.
    pub originals: bool,
    pub format: OutputFormat,
    pub jpeg_quality: u8,
}

/// A source that was reported and skipped.
#[derive(Debug)]
pub struct Skipped {
    pub path: PathBuf,
    pub error: AugmentError,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub sources: usize,
    /// New images written (augmented copies, plan/apply variants).
    pub written: usize,
    /// Originals copied into OUT.
    pub copied: usize,
    pub skipped: Vec<Skipped>,
    pub dataset: bool,
}

/// Turns per-source results into a summary: the first failure (in source order) under `--strict`,
/// otherwise every failure listed as skipped.
pub(crate) fn finish(
    paths: impl Iterator<Item = PathBuf>,
    results: Vec<Result<(usize, usize), AugmentError>>,
    strict: bool,
    dataset: bool,
) -> Result<Summary, AugmentError> {
    let mut summary = Summary { dataset, ..Summary::default() };
    for (path, r) in paths.zip(results) {
        summary.sources += 1;
        match r {
            Ok((w, c)) => {
                summary.written += w;
                summary.copied += c;
            }
            Err(e) if strict || !e.is_input_error() => return Err(e),
            Err(error) => summary.skipped.push(Skipped { path, error }),
        }
    }
    Ok(summary)
}

/// Files under a folder named `test` (any depth, any case) are the test split: never augmented.
pub(crate) fn in_test_split(rel: &str) -> bool {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts.iter().any(|p| p.eq_ignore_ascii_case("test"))
}

/// Every JPEG/PNG under `root`, as sorted '/'-separated relative paths. Hidden entries (starting
/// with '.', e.g. our own temporary files) and symlinked folders are skipped.
pub fn list_images(root: &Path) -> Result<Vec<String>, AugmentError> {
    let hidden = |e: &walkdir::DirEntry| e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
    let mut out = Vec::new();
    for entry in WalkDir::new(root).into_iter().filter_entry(|e| !hidden(e)) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            AugmentError::Io { path, source: e.into() }
        })?;
        if entry.file_type().is_dir() || image_format(&entry.file_name().to_string_lossy()).is_none() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path()); // ok: walkdir yields paths under root
        let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        out.push(parts.join("/"));
    }
    out.sort();
    Ok(out)
}

/// The format an extension names (JPEG or PNG, case-insensitive); anything else is not an image here.
pub(crate) fn image_format(name: &str) -> Option<ImageFormat> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "png" => Some(ImageFormat::Png),
        "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
        _ => None,
    }
}

/// `dir/stem.ext` → `dir/stem<suffix>.ext'` where ext' follows `format`.
pub(crate) fn variant_path(rel: &str, suffix: &str, format: OutputFormat) -> PathBuf {
    let path = Path::new(rel);
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = match format {
        OutputFormat::Keep => path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default(),
        OutputFormat::Png => "png".into(),
        OutputFormat::Jpeg => "jpg".into(),
    };
    path.with_file_name(format!("{stem}{suffix}.{ext}"))
}

/// Reads one image and checks it is complete and sound ([`super::integrity`]).
pub(crate) fn read_checked(path: &Path) -> Result<Vec<u8>, AugmentError> {
    let bytes = fs::read(path).map_err(|source| AugmentError::Read { path: path.to_path_buf(), source })?;
    super::integrity::check(&bytes).map_err(|reason| AugmentError::Corrupt { path: path.to_path_buf(), reason })?;
    Ok(bytes)
}

/// Reads, checks and decodes one image; the format is sniffed from the content, not trusted from the name.
pub(crate) fn read_image(path: &Path) -> Result<(Vec<u8>, DynamicImage), AugmentError> {
    let bytes = read_checked(path)?;
    let decode = |source| AugmentError::Decode { path: path.to_path_buf(), source };
    let reader = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| decode(image::ImageError::IoError(e)))?;
    let image = reader.decode().map_err(decode)?;
    Ok((bytes, image))
}

/// Encodes by `path`'s extension (PNG lossless; JPEG at `opts.jpeg_quality`) and writes atomically.
pub(crate) fn write_image(image: &DynamicImage, path: &Path, opts: &RunOptions) -> Result<(), AugmentError> {
    let mut buf = Vec::new();
    let encode = |source| AugmentError::Encode { path: path.to_path_buf(), source };
    match image_format(&path.to_string_lossy()) {
        Some(ImageFormat::Jpeg) => {
            let enc = JpegEncoder::new_with_quality(&mut buf, opts.jpeg_quality);
            match image {
                // JPEG holds 8-bit grey or RGB only.
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => image.write_with_encoder(enc),
                DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA8(_) | DynamicImage::ImageLumaA16(_) => {
                    DynamicImage::ImageLuma8(image.to_luma8()).write_with_encoder(enc)
                }
                _ => DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(enc),
            }
            .map_err(encode)?
        }
        _ => image.write_with_encoder(PngEncoder::new(&mut buf)).map_err(encode)?,
    }
    write_file(path, &buf)
}

/// Writes `bytes` to `path` (creating its folder) under a temporary name, then renames it into place,
/// so a reader never sees a half-written file and an interrupted run leaves no truncated output.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), AugmentError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|source| AugmentError::Io { path: dir.to_path_buf(), source })?;
    }
    Ok(write_atomic(path, bytes)?)
}

/// Creates OUT; refuses a non-empty one (unless `overwrite`) and one inside the input folder.
pub(crate) fn prepare_out(input: &Path, out: &Path, overwrite: bool) -> Result<(), AugmentError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AugmentError::Io { path, source }
    };
    if out.exists() {
        if !out.is_dir() {
            return Err(AugmentError::NotAFolder { path: out.to_path_buf() });
        }
        let non_empty = fs::read_dir(out).map_err(io(out))?.next().is_some();
        if non_empty && !overwrite {
            return Err(AugmentError::OutNotEmpty { path: out.to_path_buf() });
        }
    }
    fs::create_dir_all(out).map_err(io(out))?;
    let (abs_in, abs_out) = (input.canonicalize().map_err(io(input))?, out.canonicalize().map_err(io(out))?);
    if abs_out.starts_with(&abs_in) {
        let _ = fs::remove_dir(out); // only succeeds if we just created it empty
        return Err(AugmentError::OutInsideInput { out: out.to_path_buf(), input: input.to_path_buf() });
    }
    Ok(())
}
