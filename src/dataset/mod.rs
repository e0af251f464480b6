//! Dataset layouts. Every image is first written as `images/<id>.png` + `masks/<id>.png` (by the render
//! workers, in parallel); then each layout writer sees the records in index order and adds its own
//! files (links to the images where the file system allows), streaming: nothing holds the whole dataset,
//! and aggregate files (manifest, COCO JSON, metadata, shards) appear under their final names only
//! when complete.

mod coco;
mod files;
mod hf;
mod imagefolder;
mod manifest;
pub mod mvtec;
mod preview;
mod summary;
mod wds;

pub use crate::codec::rle;
pub use crate::split::Split;
pub use coco::Coco;
pub(crate) use files::create_dir;
pub use files::{OUTPUT_ENTRIES, OutputDir, WriteError, link_or_copy, partial_name, write_atomic};
pub use hf::HuggingFace;
pub use imagefolder::ImageFolder;
pub use manifest::Manifest;
pub use mvtec::MvTec;
pub use preview::Preview;
pub use summary::{Counts, Summary};
pub use wds::WebDataset;

use crate::codec::png;
use crate::conventions::Named;
use crate::pipeline::Frame;
use crate::truth::Record;
use std::cell::OnceCell;
use std::collections::VecDeque;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

/// A dataset layout: sees every record once, in index order, then finishes.
pub trait LayoutWriter {
    /// A short name for messages (`imagefolder`, `manifest`, …).
    fn name(&self) -> &'static str;
    fn write(&mut self, sample: &Sample<'_>) -> Result<(), WriteError>;
    fn finish(&mut self) -> Result<(), WriteError>;
}

/// The layouts `--format` can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    ImageFolder,
    MvTec,
    Coco,
    Wds,
    Hf,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::ImageFolder, Format::MvTec, Format::Coco, Format::Wds, Format::Hf];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::ImageFolder => "imagefolder",
            Format::MvTec => "mvtec",
            Format::Coco => "coco",
            Format::Wds => "wds",
            Format::Hf => "hf",
        }
    }
}

impl Named for Format {
    const ALL: &'static [Format] = &Format::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::from_name(s).ok_or_else(|| format!("unknown format {s:?}; choose from {}", Format::names()))
    }
}

/// Options of the layouts.
#[derive(Clone, Debug, PartialEq)]
pub struct LayoutOptions {
    pub formats: Vec<Format>,
    /// ImageFolder: NG classes by defect type (`ng_offset`, `ng_tilt`, …) instead of one `ng`.
    pub ng_by_type: bool,
    /// MVTec AD category folder.
    pub category: String,
    /// WebDataset samples per shard.
    pub shard_size: usize,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            formats: vec![Format::ImageFolder],
            ng_by_type: false,
            category: "connector".to_string(),
            shard_size: 1000,
        }
    }
}

/// What a dataset directory gets besides images/ and masks/ (shared by a render and a merge, which must
/// be given the same).
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetOptions {
    /// Replace pinsynth's outputs in a non-empty output directory.
    pub overwrite: bool,
    /// Images on the contact sheet (`preview.png`); 0 = none.
    pub preview: usize,
    /// Which dataset layouts to write, and their options.
    pub layouts: LayoutOptions,
}

impl Default for DatasetOptions {
    fn default() -> Self {
        DatasetOptions { overwrite: false, preview: 32, layouts: LayoutOptions::default() }
    }
}

/// Every writer of a dataset in `root`: the manifest, the chosen layouts and the preview. A render, a
/// resumed render and a merge all feed them the same records in the same order.
pub fn writers(root: &Path, opts: &DatasetOptions) -> Result<Vec<Box<dyn LayoutWriter>>, WriteError> {
    let mut writers: Vec<Box<dyn LayoutWriter>> = vec![Box::new(Manifest::create(root)?)];
    writers.extend(layout_writers(root, &opts.layouts)?);
    if opts.preview > 0 {
        writers.push(Box::new(Preview::new(root, opts.preview)));
    }
    Ok(writers)
}

/// The encodings of the frames renderers keep ([`crate::render::Like`]), made once and shared by a
/// run's workers: an image like a kept frame (an OK image is its base frame; an image drawn in part
/// differs from it in a band of rows) reuses its rows ([`crate::codec::png::Encoded::like`]). The
/// latest few are kept.
#[derive(Default)]
pub struct Encoded {
    kept: Mutex<VecDeque<(u64, Arc<Kept>)>>,
}

/// A kept frame's image and mask, encoded.
struct Kept {
    image: png::Encoded,
    mask: png::Encoded,
}

impl Encoded {
    /// Frames whose encodings are kept.
    const KEPT: usize = 8;

    /// The image and mask PNGs of `p` (`paths`: theirs, for an error), as [`write_frame`] writes them.
    pub fn of(&self, p: &crate::render::Pixels, paths: [&Path; 2]) -> Result<(Vec<u8>, Vec<u8>), WriteError> {
        let error = |k: usize| move |source| WriteError::Encode { path: paths[k].to_path_buf(), source };
        let Some(like) = &p.like else {
            let image = crate::codec::png_rgb(&p.rgb, p.width, p.height).map_err(error(0))?;
            let mask = crate::codec::png_gray(&p.mask, p.width, p.height).map_err(error(1))?;
            return Ok((image, mask));
        };
        let lock = || self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let found = lock().iter().find(|(id, _)| *id == like.frame.id).map(|(_, k)| k.clone());
        let kept = match found {
            Some(kept) => kept,
            None => {
                let f = &like.frame.pixels;
                let kept = Arc::new(Kept {
                    image: png::Encoded::new(&f.rgb, f.width, f.height, 3).map_err(error(0))?,
                    mask: png::Encoded::new(&f.mask, f.width, f.height, 1).map_err(error(1))?,
                });
                let mut all = lock();
                if all.len() >= Self::KEPT {
                    all.pop_front();
                }
                all.push_back((like.frame.id, kept.clone()));
                kept
            }
        };
        let image = kept.image.like(&p.rgb, like.rows.clone()).map_err(error(0))?;
        let mask = kept.mask.like(&p.mask, like.rows.clone()).map_err(error(1))?;
        Ok((image, mask))
    }
}

/// Writes a frame's `images/<id>.png` and `masks/<id>.png` (each under a temporary name, then renamed),
/// reusing the encodings of kept frames (`encoded`).
pub fn write_frame(dir: &OutputDir, frame: &Frame, encoded: &Encoded) -> Result<(), WriteError> {
    let (r, p) = (&frame.record, &frame.pixels);
    let (image, mask) = (dir.path(&r.image), dir.path(&r.mask));
    let (image_png, mask_png) = encoded.of(p, [&image, &mask])?;
    write_atomic(&image, &image_png)?;
    write_atomic(&mask, &mask_png)?;
    if let (Some(rel), Some(depth)) = (&r.depth, &frame.depth) {
        let path = dir.path(rel);
        if let Some(parent) = path.parent() {
            files::create_dir(parent)?;
        }
        let tiff = crate::codec::tiff::tiff_f32(depth, p.width, p.height)
            .map_err(|source| WriteError::EncodeTiff { path: path.clone(), source })?;
        write_atomic(&path, &tiff)?;
    }
    Ok(())
}

/// The layout writers `opts` asks for, rooted at `root`.
pub fn layout_writers(root: &Path, opts: &LayoutOptions) -> Result<Vec<Box<dyn LayoutWriter>>, WriteError> {
    let mut formats = opts.formats.clone();
    formats.sort();
    formats.dedup();
    formats
        .into_iter()
        .map(|f| -> Result<Box<dyn LayoutWriter>, WriteError> {
            Ok(match f {
                Format::ImageFolder => Box::new(ImageFolder::create(root, opts.ng_by_type)?),
                Format::MvTec => Box::new(MvTec::create(root, &opts.category)?),
                Format::Coco => Box::new(Coco::create(root)?),
                Format::Wds => Box::new(WebDataset::create(root, opts.shard_size)?),
                Format::Hf => Box::new(HuggingFace::create(root)?),
            })
        })
        .collect()
}

/// One image as the writers see it: its record, and its instance mask, decoded from `masks/` at most
/// once however many writers ask.
pub struct Sample<'a> {
    pub record: &'a Record,
    pub root: &'a Path,
    mask: OnceCell<Vec<u8>>,
}

impl<'a> Sample<'a> {
    pub fn new(record: &'a Record, root: &'a Path) -> Sample<'a> {
        Sample { record, root, mask: OnceCell::new() }
    }

    pub fn split(&self) -> Split {
        self.record.split
    }

    /// Whether the sample belongs in the layouts (not cut by `[balance]`).
    pub fn in_layouts(&self) -> bool {
        !self.record.excluded
    }

    /// The instance mask, row-major, one byte per pixel.
    pub fn mask(&self) -> Result<&[u8], WriteError> {
        if let Some(m) = self.mask.get() {
            return Ok(m);
        }
        let path = self.root.join(&self.record.mask);
        let mask = crate::codec::read_gray(&path).map_err(|source| WriteError::Decode { path, source })?;
        Ok(self.mask.get_or_init(|| mask))
    }

    /// Path of the image file in `images/`.
    pub fn image_path(&self) -> std::path::PathBuf {
        self.root.join(&self.record.image)
    }
}
