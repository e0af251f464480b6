//! `preview.png`: a contact sheet of the first images, OK framed green and NG red, with the defective
//! terminal outlined in yellow (where it stands, or for a missing one, where it would stand), so a
//! person can check a dataset at a glance.

use super::files::{io_err, partial_name};
use super::{LayoutWriter, Sample, WriteError};
use crate::truth::Record;
use image::{Rgb, RgbImage};
use imageproc::drawing::draw_hollow_rect_mut;
use imageproc::rect::Rect;
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
        let tmp = partial_name(&path);
        sheet
            .save_with_format(&tmp, image::ImageFormat::Png)
            .map_err(|source| WriteError::Encode { path: tmp.clone(), source })?;
        std::fs::rename(&tmp, &path).map_err(io_err("rename into place", &path))
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
    for (i, r) in records.iter().enumerate() {
        let path = root.join(&r.image);
        let img = image::open(&path).map_err(|source| WriteError::Decode { path: path.clone(), source })?.to_rgb8();
        let thumb = image::imageops::resize(&img, tw, th, image::imageops::FilterType::Triangle);
        let (cx, cy) = ((i as u32 % cols) * cw, (i as u32 / cols) * ch);
        let frame = if r.is_ok() { OK_COLOR } else { NG_COLOR };
        for b in 0..BORDER {
            draw_hollow_rect_mut(
                &mut sheet,
                Rect::at((cx + b) as i32, (cy + b) as i32).of_size(cw - 2 * b, ch - 2 * b),
                frame,
            );
        }
        image::imageops::replace(&mut sheet, &thumb, (cx + BORDER) as i64, (cy + BORDER) as i64);
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
