//! `preview.png`: a contact sheet of the first images, OK framed green and NG red, with the defective
//! terminal outlined in yellow (where it stands, or for a missing one, where it would stand), so a
//! person can check a dataset at a glance.

use super::files::write_atomic;
use super::{LayoutWriter, Sample, WriteError};
use crate::truth::Record;
use image::{Rgb, RgbImage};
use imageproc::drawing::draw_hollow_rect_mut;
use imageproc::rect::Rect;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

const COLUMNS: u32 = 8;
const CELL: u32 = 160;
const BORDER: u32 = 3;
const OK_COLOR: Rgb<u8> = Rgb([40, 180, 60]);
const NG_COLOR: Rgb<u8> = Rgb([220, 40, 40]);
const DEFECT_COLOR: Rgb<u8> = Rgb([255, 220, 0]);

pub struct Preview {
    root: PathBuf,
    limit: usize,
    records: Vec<Record>,
}

impl Preview {
    /// A contact sheet of the first `limit` images.
    pub fn new(root: &Path, limit: usize) -> Preview {
        Preview { root: root.to_path_buf(), limit, records: Vec::new() }
    }
}

impl LayoutWriter for Preview {
    fn name(&self) -> &'static str {
        "preview"
    }

    fn write(&mut self, sample: &Sample<'_>) -> Result<(), WriteError> {
        if self.records.len() < self.limit {
            self.records.push(sample.record.clone());
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), WriteError> {
        if self.records.is_empty() {
            return Ok(());
        }
        let sheet = contact_sheet(&self.root, &self.records)?;
        let path = self.root.join("preview.png");
        let png = crate::codec::png_rgb(sheet.as_raw(), sheet.width(), sheet.height())
            .map_err(|source| WriteError::Encode { path: path.clone(), source })?;
        write_atomic(&path, &png)
    }
}

fn contact_sheet(root: &Path, records: &[Record]) -> Result<RgbImage, WriteError> {
    let n = records.len() as u32;
    let cols = n.min(COLUMNS);
    let rows = n.div_ceil(cols);
    let (w0, h0) = (records[0].width, records[0].height);
    let scale = (CELL as f64 / w0.max(h0) as f64).min(1.0);
    let (tw, th) = (((w0 as f64 * scale).round() as u32).max(1), ((h0 as f64 * scale).round() as u32).max(1));
    let (cw, ch) = (tw + 2 * BORDER, th + 2 * BORDER);
    let mut sheet = RgbImage::from_pixel(cols * cw, rows * ch, Rgb([255, 255, 255]));
    // Read and shrunk on every core (the run's workers are done): the sheet is the run's last step.
    let thumbs: Vec<RgbImage> = records
        .par_iter()
        .map(|r| {
            let path = root.join(&r.image);
            let img = image::open(&path).map_err(|source| WriteError::Decode { path, source })?.to_rgb8();
            Ok(shrink(&img, tw, th))
        })
        .collect::<Result<_, WriteError>>()?;
    for (i, (r, thumb)) in records.iter().zip(&thumbs).enumerate() {
        let (cx, cy) = ((i as u32 % cols) * cw, (i as u32 / cols) * ch);
        let frame = if r.is_ok() { OK_COLOR } else { NG_COLOR };
        for b in 0..BORDER {
            draw_hollow_rect_mut(
                &mut sheet,
                Rect::at((cx + b) as i32, (cy + b) as i32).of_size(cw - 2 * b, ch - 2 * b),
                frame,
            );
        }
        image::imageops::replace(&mut sheet, thumb, (cx + BORDER) as i64, (cy + BORDER) as i64);
        if let Some(d) = &r.defect {
            let sx = tw as f64 / r.width as f64;
            let sy = th as f64 / r.height as f64;
            let x0 = (d.bbox_px[0] * sx).floor() as i32 - 1;
            let y0 = (d.bbox_px[1] * sy).floor() as i32 - 1;
            let w = ((d.bbox_px[2] * sx).ceil() as u32 + 3).max(3);
            let h = ((d.bbox_px[3] * sy).ceil() as u32 + 3).max(3);
            let (ox, oy) = ((cx + BORDER) as i32, (cy + BORDER) as i32);
            draw_hollow_rect_mut(&mut sheet, Rect::at(ox + x0, oy + y0).of_size(w, h), DEFECT_COLOR);
        }
    }
    Ok(sheet)
}

/// `img` shrunk to `w` × `h`, each pixel the area-weighted mean of the pixels it covers (a box filter;
/// one pass down the columns, one along the rows). image's own resamplers took ~1 ms per thumbnail.
fn shrink(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let sw = img.width() as usize * 3;
    let across = box_weights(img.width() as usize, w as usize);
    let down = box_weights(img.height() as usize, h as usize);
    let src = img.as_raw();
    let mut out = Vec::with_capacity(w as usize * h as usize * 3);
    let mut row = vec![0f32; sw];
    for (first, weights) in &down {
        row.fill(0.0);
        for (k, &wt) in weights.iter().enumerate() {
            let line = &src[(first + k) * sw..(first + k + 1) * sw];
            for (acc, &v) in row.iter_mut().zip(line) {
                *acc += wt * f32::from(v);
            }
        }
        for (first, weights) in &across {
            let mut sum = [0f32; 3];
            for (k, &wt) in weights.iter().enumerate() {
                let px = &row[(first + k) * 3..(first + k) * 3 + 3];
                for c in 0..3 {
                    sum[c] += wt * px[c];
                }
            }
            out.extend(sum.map(|v| (v + 0.5).clamp(0.0, 255.0) as u8));
        }
    }
    RgbImage::from_raw(w, h, out).expect("w × h × 3 values") // ok: one per pixel and channel above
}

/// For each of `to` cells over `from` pixels (`to <= from`): the first pixel it overlaps and the
/// share of the cell each overlapped pixel covers (summing to 1).
fn box_weights(from: usize, to: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = from as f64 / to as f64;
    (0..to)
        .map(|i| {
            let (a, b) = (i as f64 * scale, ((i + 1) as f64 * scale).min(from as f64));
            let first = a.floor() as usize;
            let last = (b.ceil() as usize).clamp(first + 1, from);
            let weights =
                (first..last).map(|p| ((b.min(p as f64 + 1.0) - a.max(p as f64)) / (b - a)).max(0.0) as f32).collect();
            (first, weights)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thumbnail_pixel_is_the_area_weighted_mean_of_the_pixels_it_covers() {
        // Three columns 0, 90, 180 into two: cells cover 1.5 pixels each.
        let img = RgbImage::from_fn(3, 2, |x, _| Rgb([(90 * x) as u8, 255, 0]));
        let t = shrink(&img, 2, 1);
        assert_eq!(t.get_pixel(0, 0).0, [30, 255, 0]);
        assert_eq!(t.get_pixel(1, 0).0, [150, 255, 0]);
        // Same size: unchanged.
        let img = RgbImage::from_fn(5, 4, |x, y| Rgb([(x * 40) as u8, (y * 60) as u8, 7]));
        assert_eq!(shrink(&img, 5, 4), img);
    }
}
