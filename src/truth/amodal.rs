//! Amodal masks (`[truth] amodal`): each terminal's full silhouette ignoring occlusion — every pixel
//! centre any of its triangles covers ([`super::raster`], its own mesh, bent or not) — united with its
//! visible pixels in the rendered mask, so the visible mask is always a subset (the GPU and this
//! rasteriser can disagree only on centres within rasteriser precision of an edge; tests/truth.rs
//! measures it). Made only when asked for.

use super::raster;
use crate::geometry::{Posed, PosedPin};

/// One terminal's amodal mask.
#[derive(Clone, Debug, PartialEq)]
pub struct AmodalMask {
    pub label: u8,
    /// Row-major, one byte per pixel: 1 inside the silhouette, 0 outside.
    pub mask: Vec<u8>,
    /// Pixels inside.
    pub pixels: u64,
}

/// The amodal mask of every terminal present in `posed`, in the order of `posed.pins`; `visible` is
/// the rendered instance mask.
pub fn amodal_masks(posed: &Posed, visible: &[u8]) -> Vec<AmodalMask> {
    posed
        .pins
        .iter()
        .map(|pin| {
            let mut mask = silhouette(posed, pin);
            for (m, &l) in mask.iter_mut().zip(visible) {
                *m |= u8::from(l == pin.label);
            }
            let pixels = mask.iter().map(|&v| v as u64).sum();
            AmodalMask { label: pin.label, mask, pixels }
        })
        .collect()
}

/// The pixel centres `pin`'s triangles cover (1) in `posed`'s image, row-major.
pub fn silhouette(posed: &Posed, pin: &PosedPin) -> Vec<u8> {
    let cam = &posed.camera;
    let w = cam.width as usize;
    let mut mask = vec![0u8; w * cam.height as usize];
    for t in pin.local_mesh().triangles() {
        let world = t.map(|v| pin.transform.transform_point3(glam::DVec3::from(v.position.map(f64::from))));
        raster::triangle(cam, world, |x, y, _| mask[y * w + x] = 1);
    }
    mask
}
