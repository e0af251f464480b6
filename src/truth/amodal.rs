//! Amodal masks (`[truth] amodal`): each terminal's full silhouette ignoring occlusion — every pixel
//! centre any of its triangles covers ([`super::raster`], its own mesh, bent or not) — united with its
//! visible pixels in the rendered mask, so the visible mask is always a subset (the GPU and this
//! rasteriser can disagree only on centres within rasteriser precision of an edge; tests/truth.rs
//! measures it). The part of a terminal inside the housing is in its silhouette. Made only when asked
//! for, within each terminal's box (its projected corners' and its visible pixels' bounds).

use super::MaskStats;
use super::raster;
use crate::geometry::{Posed, PosedPin};
use glam::DVec3;

/// One terminal's amodal mask, within a box of the image.
#[derive(Clone, Debug, PartialEq)]
pub struct AmodalMask {
    pub label: u8,
    /// Left column, top row, width and height of the box in the image.
    pub bbox: [u32; 4],
    /// Row-major over the box, one byte per pixel: 1 inside the silhouette, 0 outside.
    pub mask: Vec<u8>,
    /// Pixels inside.
    pub pixels: u64,
}

impl AmodalMask {
    /// The compressed COCO RLE string of the mask over the whole `width × height` image.
    pub fn rle(&self, width: u32, height: u32) -> String {
        let [x0, y0, w, _] = self.bbox;
        crate::codec::rle::counts_to_string(&crate::codec::rle::encode_counts_in_box(
            &self.mask,
            (x0, y0, w),
            width,
            height,
        ))
    }
}

/// The amodal mask of every terminal present in `posed`, in the order of `posed.pins`; `visible` is
/// the rendered instance mask and `stats` its per-label counts and extents.
pub fn amodal_masks(posed: &Posed, visible: &[u8], stats: &MaskStats) -> Vec<AmodalMask> {
    let width = posed.camera.width as usize;
    posed
        .pins
        .iter()
        .map(|pin| {
            let mut bbox = projected_box(posed, pin);
            if let Some([x, y, w, h]) = stats.bbox(pin.label) {
                bbox = union(bbox, [x, y, w, h]);
            }
            let [x0, y0, bw, bh] = bbox;
            let mut mask = silhouette_in(posed, pin, bbox);
            for y in 0..bh as usize {
                let row = (y0 as usize + y) * width + x0 as usize;
                for (m, &l) in
                    mask[y * bw as usize..(y + 1) * bw as usize].iter_mut().zip(&visible[row..row + bw as usize])
                {
                    *m |= u8::from(l == pin.label);
                }
            }
            let pixels = mask.iter().map(|&v| v as u64).sum();
            AmodalMask { label: pin.label, bbox, mask, pixels }
        })
        .collect()
}

/// The pixel centres `pin`'s triangles cover (1) in `posed`'s image, row-major over the whole image.
pub fn silhouette(posed: &Posed, pin: &PosedPin) -> Vec<u8> {
    silhouette_in(posed, pin, [0, 0, posed.camera.width, posed.camera.height])
}

/// The silhouette within `bbox` (which must hold it), row-major over the box.
fn silhouette_in(posed: &Posed, pin: &PosedPin, [x0, y0, bw, bh]: [u32; 4]) -> Vec<u8> {
    let cam = &posed.camera;
    let mut mask = vec![0u8; (bw * bh) as usize];
    for t in pin.local_mesh().triangles() {
        let world = t.map(|v| pin.transform.transform_point3(DVec3::from(v.position.map(f64::from))));
        raster::triangle(cam, world, |x, y, _| {
            let (bx, by) = (x as i64 - x0 as i64, y as i64 - y0 as i64);
            if (0..bw as i64).contains(&bx) && (0..bh as i64).contains(&by) {
                mask[by as usize * bw as usize + bx as usize] = 1;
            }
        });
    }
    mask
}

/// The pixels whose centres the terminal's projected corners can cover (the whole image when a corner
/// is at or behind the near plane, where the projection does not bound the clipped triangles).
fn projected_box(posed: &Posed, pin: &PosedPin) -> [u32; 4] {
    let cam = &posed.camera;
    let full = [0, 0, cam.width, cam.height];
    let mesh = pin.local_mesh();
    let (mut lo, mut hi) = (glam::DVec2::INFINITY, glam::DVec2::NEG_INFINITY);
    for v in &mesh.vertices {
        let (p, depth) = cam.project(pin.transform.transform_point3(DVec3::from(v.position.map(f64::from))));
        if depth <= cam.near {
            return full;
        }
        lo = lo.min(p);
        hi = hi.max(p);
    }
    // One pixel of margin for the rasteriser's 1/256 px snapping.
    let x0 = (lo.x.floor() - 1.0).clamp(0.0, cam.width as f64) as u32;
    let y0 = (lo.y.floor() - 1.0).clamp(0.0, cam.height as f64) as u32;
    let x1 = (hi.x.ceil() + 1.0).clamp(0.0, cam.width as f64) as u32;
    let y1 = (hi.y.ceil() + 1.0).clamp(0.0, cam.height as f64) as u32;
    [x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0)]
}

fn union(a: [u32; 4], b: [u32; 4]) -> [u32; 4] {
    if a[2] == 0 || a[3] == 0 {
        return b;
    }
    let (x0, y0) = (a[0].min(b[0]), a[1].min(b[1]));
    let (x1, y1) = ((a[0] + a[2]).max(b[0] + b[2]), (a[1] + a[3]).max(b[1] + b[3]));
    [x0, y0, x1 - x0, y1 - y0]
}
