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
pub mod rle;
pub mod split;
pub(crate) mod wds;

pub use coco::Coco;
pub use files::{OUTPUT_ENTRIES, OutputDir, WriteError, link_or_copy, partial_name, write_atomic};
pub use hf::HuggingFace;
pub use imagefolder::ImageFolder;
pub use manifest::{Manifest, to_line as manifest_line};
pub use mvtec::MvTec;
pub use preview::Preview;
pub use split::Split;
pub use wds::WebDataset;

use crate::truth::Record;
use std::cell::OnceCell;
use std::path::Path;
use std::str::FromStr;

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

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format {s:?}; choose from {}", Format::ALL.map(Format::as_str).join(", ")))
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

/// Checks a name used as a folder (the MVTec category): 1-128 letters, digits, `_`, `-`, `.`, not
/// starting with `.`.
pub fn valid_folder_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 128
        && !n.starts_with('.')
        && n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
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

    /// The split, for a record the run has assigned one (every record the writers see).
    pub fn split(&self) -> Split {
        self.record.split.unwrap_or(Split::Train)
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
        let img = image::open(&path).map_err(|e| WriteError::Encode { path: path.clone(), message: e.to_string() })?;
        Ok(self.mask.get_or_init(|| img.into_luma8().into_raw()))
    }

    /// Path of the image file in `images/`.
    pub fn image_path(&self) -> std::path::PathBuf {
        self.root.join(&self.record.image)
    }
}
