//! `mvtec/<category>/`: the MVTec AD folder layout that anomalib's `MVTecAD` datamodule (and PaDiM,
//! PatchCore, …) read: `train/good/` holds OK images of the train split only (anomaly detectors learn
//! from normal images); `test/good/` and `test/<defect type>/` hold the val and test splits;
//! `ground_truth/<defect type>/<id>_mask.png` is an 8-bit single-channel mask, 255 on the defective
//! terminal's pixels (for a missing terminal: the pixels where it would stand), 0 elsewhere. NG images
//! of the train split are not part of this layout (nothing in MVTec AD trains on defects).

use super::files::create_dir;
use super::{LayoutWriter, Sample, Split, WriteError, link_or_copy, write_atomic};
use glam::DVec2;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub struct MvTec {
    dir: PathBuf,
    made: HashSet<PathBuf>,
}

impl MvTec {
    pub fn create(root: &Path, category: &str) -> Result<MvTec, WriteError> {
        let dir = root.join("mvtec").join(category);
        create_dir(&dir)?;
        Ok(MvTec { dir, made: HashSet::new() })
    }

    fn dir(&mut self, rel: &str) -> Result<PathBuf, WriteError> {
        let p = self.dir.join(rel);
        if !self.made.contains(&p) {
            create_dir(&p)?;
            self.made.insert(p.clone());
        }
        Ok(p)
    }
}

/// Fills a convex polygon (continuous pixel coordinates) at pixel centres: pixel (i, j) is inside when
/// (i + 0.5, j + 0.5) is inside or on the boundary, like the rasteriser's top-left rule up to edges
/// passing exactly through a centre.
pub fn fill_convex(poly: &[[f64; 2]], width: u32, height: u32, value: u8, out: &mut [u8]) {
    if poly.len() < 3 {
        return;
    }
    let pts: Vec<DVec2> = poly.iter().map(|p| DVec2::from(*p)).collect();
    let area: f64 = (0..pts.len()).map(|i| pts[i].perp_dot(pts[(i + 1) % pts.len()])).sum();
    let sign = area.signum();
    let (lo, hi) = pts.iter().fold((DVec2::INFINITY, DVec2::NEG_INFINITY), |(a, b), p| (a.min(*p), b.max(*p)));
    let x0 = (lo.x - 0.5).ceil().max(0.0) as u32;
    let y0 = (lo.y - 0.5).ceil().max(0.0) as u32;
    let x1 = ((hi.x - 0.5).floor() + 1.0).clamp(0.0, width as f64) as u32;
    let y1 = ((hi.y - 0.5).floor() + 1.0).clamp(0.0, height as f64) as u32;
    for y in y0..y1 {
        for x in x0..x1 {
            let c = DVec2::new(x as f64 + 0.5, y as f64 + 0.5);
            let inside = (0..pts.len()).all(|i| {
                let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
                (b - a).perp_dot(c - a) * sign >= 0.0
            });
            if inside {
                out[(y * width + x) as usize] = value;
            }
        }
    }
}

/// The MVTec ground truth of an NG sample: 255 on the defective terminal, 0 elsewhere.
pub fn defect_mask(sample: &Sample<'_>) -> Result<Vec<u8>, WriteError> {
    let r = sample.record;
    let mut out = vec![0u8; (r.width * r.height) as usize];
    if let Some(d) = &r.defect {
        match &d.ghost_px {
            Some(poly) => fill_convex(poly, r.width, r.height, 255, &mut out),
            None => {
                for (o, &m) in out.iter_mut().zip(sample.mask()?) {
                    if m == d.label {
                        *o = 255;
                    }
                }
            }
        }
    }
    Ok(out)
}

impl LayoutWriter for MvTec {
    fn name(&self) -> &'static str {
        "mvtec"
    }

    fn write(&mut self, sample: &Sample<'_>) -> Result<(), WriteError> {
        let r = sample.record;
        let file = format!("{}.png", r.id);
        let folder = match (sample.split(), r.defect_type()) {
            _ if !sample.in_layouts() => return Ok(()),
            (Split::Train, None) => "train/good".to_string(),
            (Split::Train, Some(_)) => return Ok(()),
            (_, None) => "test/good".to_string(),
            (_, Some(t)) => format!("test/{t}"),
        };
        let dst = self.dir(&folder)?.join(&file);
        link_or_copy(&sample.image_path(), &dst)?;
        if let Some(t) = r.defect_type() {
            let mask = defect_mask(sample)?;
            let path = self.dir(&format!("ground_truth/{t}"))?.join(format!("{}_mask.png", r.id));
            let png = crate::codec::png_gray(&mask, r.width, r.height)
                .map_err(|source| WriteError::Encode { path: path.clone(), source })?;
            write_atomic(&path, &png)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), WriteError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_convex_samples_pixel_centres() {
        let mut out = vec![0u8; 16];
        // Square from (0.6, 0.4) to (2.5, 3.0): centres x in {1.5, 2.5}, y in {0.5, 1.5, 2.5}.
        fill_convex(&[[0.6, 0.4], [2.5, 0.4], [2.5, 3.0], [0.6, 3.0]], 4, 4, 9, &mut out);
        #[rustfmt::skip]
        assert_eq!(out, vec![
            0, 9, 9, 0,
            0, 9, 9, 0,
            0, 9, 9, 0,
            0, 0, 0, 0,
        ]);
        // Either orientation, clipped to the image.
        let mut out2 = vec![0u8; 16];
        fill_convex(&[[0.6, 3.0], [2.5, 3.0], [2.5, 0.4], [0.6, 0.4]], 4, 4, 9, &mut out2);
        assert_eq!(out, out2);
        let mut out3 = vec![0u8; 4];
        fill_convex(&[[-5.0, -5.0], [9.0, -5.0], [9.0, 9.0]], 2, 2, 1, &mut out3);
        assert_eq!(out3, vec![1, 1, 0, 1]);
    }
}
