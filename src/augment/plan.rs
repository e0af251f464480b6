//! The two-step plan/apply program: `plan` lists every image with its size and proposes `cut`,
//! `reverse` and `plus90` in a CSV the user may edit; `apply` writes `<stem>(flip_lr)`,
//! `<stem>(plus90)`, `<stem>(cut_A)` and `<stem>(cut_B)`, each through the seed's random `trim`.

use super::io::{finish, list_images, prepare_out, read_checked, read_image, variant_path, write_file, write_image};
use super::{AugmentError, Op, RunOptions, Sample, Skipped, Summary, apply_ops};
use crate::progress::Progress;
use crate::seed::path_stream;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YesNo {
    Yes,
    No,
}

/// One CSV line: `file,height,width,cut,reverse,plus90`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanRow {
    /// The image as found under the input folder (input path joined with its relative path).
    pub file: String,
    pub height: u32,
    pub width: u32,
    pub cut: YesNo,
    pub reverse: YesNo,
    pub plus90: YesNo,
}

/// Lists every image under `input` with its size and the seed's proposal: wide images
/// (width > 600 and width > 1.5 x height) are cut in two; all others are flipped and turned.
/// Unreadable images are returned as skipped (or fail the call under `strict`).
pub fn plan(input: &Path, strict: bool) -> Result<(Vec<PlanRow>, Vec<Skipped>), AugmentError> {
    if !input.is_dir() {
        return Err(AugmentError::NotAFolder { path: input.to_path_buf() });
    }
    if input.join("manifest.jsonl").is_file() {
        return Err(AugmentError::DatasetNotSupported { path: input.to_path_buf() });
    }
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for rel in list_images(input)? {
        let path = input.join(&rel);
        // Every file is read whole: a truncated one has a perfectly good header.
        let size = read_checked(&path).and_then(|bytes| {
            let decode = |source| AugmentError::Decode { path: path.clone(), source };
            image::ImageReader::new(std::io::Cursor::new(&bytes))
                .with_guessed_format()
                .map_err(|e| decode(image::ImageError::IoError(e)))?
                .into_dimensions()
                .map_err(decode)
        });
        match size {
            Ok((width, height)) => {
                let cut = width > 600 && f64::from(width) > 1.5 * f64::from(height);
                let (cut, other) = if cut { (YesNo::Yes, YesNo::No) } else { (YesNo::No, YesNo::Yes) };
                let file = path.to_string_lossy().replace('\\', "/");
                rows.push(PlanRow { file, height, width, cut, reverse: other, plus90: other });
            }
            Err(error) => {
                if strict {
                    return Err(error);
                }
                skipped.push(Skipped { path, error });
            }
        }
    }
    Ok((rows, skipped))
}

pub fn write_plan(rows: &[PlanRow], path: &Path) -> Result<(), AugmentError> {
    let csv_err = |source| AugmentError::PlanCsv { path: path.to_path_buf(), source };
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| csv_err(csv::Error::from(e.into_error())))?;
    write_file(path, &bytes)
}

/// Reads a (possibly hand-edited) plan. Columns are found by name, so extra ones (e.g. a pandas
/// index) are ignored; `cut`/`reverse`/`plus90` must be `yes` or `no`.
pub fn read_plan(path: &Path) -> Result<Vec<PlanRow>, AugmentError> {
    let csv_err = |source| AugmentError::PlanCsv { path: path.to_path_buf(), source };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let rows = reader.deserialize().collect::<Result<Vec<PlanRow>, _>>().map_err(csv_err)?;
    if rows.is_empty() {
        return Err(AugmentError::EmptyPlan { path: path.to_path_buf() });
    }
    Ok(rows)
}

/// Smallest side the trim rule always leaves non-empty: the short side loses up to 2 x (4 + 5).
const TRIM_MIN_SIDE: u32 = 19;

/// The original workflow's `trim_image`, reproduced exactly (d = |width - height|, `int()` truncates):
/// ```text
/// smalls = rng.integers(5, size=2)                      # each in [0, 5)
/// larges = rng.integers(5 + int(d * 0.2), size=2)       # each in [0, 5 + int(0.2 d))
/// if height > width:
///     up = larges[0] + int(d*0.3);  down  = height - larges[1] - int(d*0.3)
///     left = smalls[0] + 5;         right = width - smalls[1] - 5
/// else:
///     up = smalls[0] + 5;           down  = height - smalls[1] - 5
///     left = larges[0] + int(d*0.3); right = width - larges[1] - int(d*0.3)
/// trim = image[up:down, left:right]
/// ```
/// The long side is cut toward square with random margins, the short side loses 5..9 px per edge.
pub fn trim_box(width: u32, height: u32, rng: &mut ChaCha8Rng) -> Result<Op, AugmentError> {
    if width.min(height) < TRIM_MIN_SIDE {
        return Err(AugmentError::TooSmallToTrim { width, height, min: TRIM_MIN_SIDE });
    }
    let d = f64::from(width.abs_diff(height));
    let (d2, d3) = ((d * 0.2) as u32, (d * 0.3) as u32);
    let smalls = [rng.random_range(0..5u32), rng.random_range(0..5u32)];
    let larges = [rng.random_range(0..5 + d2), rng.random_range(0..5 + d2)];
    let (up, down, left, right) = if height > width {
        (larges[0] + d3, height - larges[1] - d3, smalls[0] + 5, width - smalls[1] - 5)
    } else {
        (smalls[0] + 5, height - smalls[1] - 5, larges[0] + d3, width - larges[1] - d3)
    };
    Ok(Op::Crop { x: left, y: up, width: right - left, height: down - up })
}

/// The original workflow's cut: `half = int(0.5 * width)`; A is columns [0, half), B is [half, width).
pub fn cut_halves(width: u32, height: u32) -> (Op, Op) {
    let half = width / 2;
    (Op::Crop { x: 0, y: 0, width: half, height }, Op::Crop { x: half, y: 0, width: width - half, height })
}

/// Writes every variant the plan asks for under `opts.out`, mirroring the folders below `root`
/// (default: the deepest folder containing every listed file). `copies` and `balance` are unused.
pub fn apply_plan(
    rows: &[PlanRow],
    root: Option<&Path>,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<Summary, AugmentError> {
    let files: Vec<PathBuf> = rows.iter().map(|r| PathBuf::from(&r.file)).collect();
    let root = root.map(Path::to_path_buf).unwrap_or_else(|| common_folder(&files));
    prepare_out(&root, &opts.out, opts.overwrite)?;
    progress.start(rows.len() as u64, "augment");
    let results: Vec<_> = rows
        .par_iter()
        .zip(files.par_iter())
        .map(|(row, file)| {
            let r = apply_row(row, file, &root, opts);
            progress.advance(1);
            r
        })
        .collect();
    finish(files.into_iter(), results, opts.strict, false)
}

fn apply_row(row: &PlanRow, file: &Path, root: &Path, opts: &RunOptions) -> Result<(usize, usize), AugmentError> {
    // Only plain components below the root: outputs must land inside OUT.
    let outside = || AugmentError::OutsideRoot { path: file.to_path_buf(), root: root.to_path_buf() };
    let rel_path = if root == Path::new(".") { file } else { file.strip_prefix(root).map_err(|_| outside())? };
    let mut rel = Vec::new();
    for c in rel_path.components() {
        match c {
            Component::CurDir => {}
            Component::Normal(n) => rel.push(n.to_string_lossy().into_owned()),
            _ => return Err(outside()),
        }
    }
    let rel = rel.join("/");
    let (bytes, image) = read_image(file)?;
    let (w, h) = (image.width(), image.height());
    let mut variants: Vec<(&str, Op, u32, u32)> = Vec::new();
    if row.reverse == YesNo::Yes {
        variants.push(("flip_lr", Op::FlipHorizontal, w, h));
    }
    if row.plus90 == YesNo::Yes {
        variants.push(("plus90", Op::Rot90 { k: 1 }, h, w));
    }
    if row.cut == YesNo::Yes {
        let (a, b) = cut_halves(w, h);
        variants.push(("cut_A", a, w / 2, h));
        variants.push(("cut_B", b, w - w / 2, h));
    }
    let mut written = 0;
    for (name, op, vw, vh) in variants {
        let trim = trim_box(vw, vh, &mut path_stream(opts.seed, &rel, name, 0))?;
        let out = apply_ops(&[op, trim], Sample::new(image.clone()))?;
        let target = opts.out.join(variant_path(&rel, &format!("({name})"), opts.format));
        write_image(&out.image, &target, opts)?;
        written += 1;
    }
    let copied = if opts.originals { write_file(&opts.out.join(&rel), &bytes).map(|()| 1)? } else { 0 };
    Ok((written, copied))
}

/// The deepest folder that contains every file (lexically; `.`-relative paths stay relative).
fn common_folder(files: &[PathBuf]) -> PathBuf {
    let mut common: Option<Vec<Component>> = None;
    for f in files {
        let parent: Vec<Component> = f.parent().map(|p| p.components().collect()).unwrap_or_default();
        common = Some(match common {
            None => parent,
            Some(c) => c.into_iter().zip(parent).take_while(|(a, b)| a == b).map(|(a, _)| a).collect(),
        });
    }
    let path: PathBuf = common.unwrap_or_default().into_iter().collect();
    if path.as_os_str().is_empty() { PathBuf::from(".") } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_folder_is_the_deepest_shared_parent() {
        let files = [PathBuf::from("in/a/x.jpg"), PathBuf::from("in/b/y.jpg")];
        assert_eq!(common_folder(&files), PathBuf::from("in"));
        assert_eq!(common_folder(&[PathBuf::from("x.jpg")]), PathBuf::from("."));
    }
}
