//! Pictures of maps and regions: a map laid over its image (inferno colours, opacity growing with the
//! value), a region's outline, the peak's cross, and grids of such cells. `score` draws the worst
//! images with them; `report` draws its contact sheets.

use super::{ScoreError, ScoreSummary, box_flags, image_map, maps, read_mask, region};
use crate::truth::Record;
use image::{Rgb, RgbImage};
use std::collections::HashMap;
use std::path::Path;

pub const OUTLINE: Rgb<u8> = Rgb([0, 255, 255]);
pub const BOX: Rgb<u8> = Rgb([255, 220, 0]);
pub const PEAK: Rgb<u8> = Rgb([255, 255, 255]);

/// Matplotlib's inferno at five stops, linearly interpolated.
const INFERNO: [[f64; 3]; 5] =
    [[0.0, 0.0, 4.0], [87.0, 16.0, 110.0], [188.0, 55.0, 84.0], [249.0, 142.0, 9.0], [252.0, 255.0, 164.0]];

pub fn inferno(t: f64) -> [f64; 3] {
    let t = t.clamp(0.0, 1.0) * (INFERNO.len() - 1) as f64;
    let i = (t.floor() as usize).min(INFERNO.len() - 2);
    let f = t - i as f64;
    let (a, b) = (INFERNO[i], INFERNO[i + 1]);
    [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]
}

/// Lays `map` (image-sized, values ≥ 0) over `img`, scaled to its own peak: a pixel at the peak is
/// 70 % map colour, a zero pixel shows the image unchanged.
pub fn overlay(img: &mut RgbImage, map: &[f64]) {
    let peak = map.iter().copied().fold(0.0, f64::max);
    if peak <= 0.0 {
        return;
    }
    for (p, &v) in img.pixels_mut().zip(map) {
        let t = v / peak;
        let c = inferno(t);
        let a = 0.7 * t;
        for (ch, c) in p.0.iter_mut().zip(c) {
            *ch = (*ch as f64 * (1.0 - a) + c * a).round() as u8;
        }
    }
}

/// Colours the region's border pixels (region pixels with a 4-neighbour outside it or on the edge).
pub fn outline(img: &mut RgbImage, region: &[bool], color: Rgb<u8>) {
    outline_blend(img, region, color, 1.0);
}

/// [`outline`] mixed with the image: `alpha` of the colour.
pub fn outline_blend(img: &mut RgbImage, region: &[bool], color: Rgb<u8>, alpha: f64) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let inside = |x: isize, y: isize| {
        x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h && region[y as usize * w + x as usize]
    };
    for y in 0..h as isize {
        for x in 0..w as isize {
            if inside(x, y) && [(-1, 0), (1, 0), (0, -1), (0, 1)].iter().any(|(dx, dy)| !inside(x + dx, y + dy)) {
                let p = img.get_pixel_mut(x as u32, y as u32);
                for (ch, c) in p.0.iter_mut().zip(color.0) {
                    *ch = (*ch as f64 * (1.0 - alpha) + c as f64 * alpha).round() as u8;
                }
            }
        }
    }
}

/// A 7-pixel cross at `(x, y)`, dark-rimmed so it shows on any background.
pub fn cross(img: &mut RgbImage, x: usize, y: usize, color: Rgb<u8>) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    for d in -3i64..=3 {
        for (px, py) in [(x as i64 + d, y as i64), (x as i64, y as i64 + d)] {
            if (0..w).contains(&px) && (0..h).contains(&py) {
                img.put_pixel(px as u32, py as u32, color);
            }
        }
    }
}

/// Cells side by side, `columns` per row, `gap` white pixels between them.
pub fn grid(cells: &[RgbImage], columns: usize, gap: u32) -> RgbImage {
    let columns = columns.max(1).min(cells.len().max(1));
    let cw = cells.iter().map(|c| c.width()).max().unwrap_or(1);
    let ch = cells.iter().map(|c| c.height()).max().unwrap_or(1);
    let rows = cells.len().div_ceil(columns).max(1);
    let mut out =
        RgbImage::from_pixel(columns as u32 * (cw + gap) + gap, rows as u32 * (ch + gap) + gap, Rgb([255, 255, 255]));
    for (i, c) in cells.iter().enumerate() {
        let (x, y) = ((i % columns) as u32 * (cw + gap) + gap, (i / columns) as u32 * (ch + gap) + gap);
        image::imageops::replace(&mut out, c, x as i64, y as i64);
    }
    out
}

pub fn read_image(dataset: &Path, r: &Record) -> Result<RgbImage, ScoreError> {
    let path = dataset.join(&r.image);
    Ok(image::open(&path).map_err(|e| ScoreError::BadImage { path: path.clone(), reason: e.to_string() })?.to_rgb8())
}

/// One cell of the worst-images sheet: the map over the image, the region outlined in cyan, the box in
/// yellow, the map's peak as a white cross.
pub fn score_cell(dataset: &Path, maps_dir: &Path, r: &Record) -> Result<RgbImage, ScoreError> {
    let mut img = read_image(dataset, r)?;
    if let Some(path) = maps::find(maps_dir, &r.id)? {
        let map = image_map(&path, r)?;
        overlay(&mut img, &map);
        let (_, [px, py], _) = super::metrics::peak_total(&map, r.width as usize);
        cross(&mut img, px, py, PEAK);
    }
    if let Some(b) = box_flags(r) {
        outline(&mut img, &b, BOX);
    }
    let mask = match &r.defect {
        Some(d) if d.ghost_px.is_none() => Some(read_mask(dataset, r)?),
        _ => None,
    };
    if let Some(reg) = region(r, mask.as_deref()) {
        outline(&mut img, &reg, OUTLINE);
    }
    Ok(img)
}

/// The contact sheet of `summary.worst`, in that order, 4 per row.
pub fn worst_sheet(
    dataset: &Path,
    maps_dir: &Path,
    records: &[Record],
    summary: &ScoreSummary,
) -> Result<Option<RgbImage>, ScoreError> {
    if summary.worst.is_empty() {
        return Ok(None);
    }
    let by_id: HashMap<&str, &Record> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    let cells = summary
        .worst
        .iter()
        .filter_map(|id| by_id.get(id.as_str()))
        .map(|r| score_cell(dataset, maps_dir, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(grid(&cells, 4, 4)))
}
