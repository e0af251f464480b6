//! The depth map (`[truth] depth`): per pixel, the distance along the camera's view axis (scene units)
//! of the nearest surface at the pixel centre — the surface the mask's label belongs to — or 0 where
//! the centre sees only background. Made on the CPU from the posed triangles ([`super::raster`]), only
//! when asked for.

use super::raster;
use crate::geometry::Posed;

/// Depth of background pixels: no surface (every real depth is at least the camera's near distance).
pub const BACKGROUND_DEPTH: f32 = 0.0;

/// The depth map of `posed` (row-major, `width × height`) and, per pixel, the label of the surface it
/// measured (0 background), for checks against the rendered mask.
pub fn depth_map(posed: &Posed) -> (Vec<f32>, Vec<u8>) {
    let cam = &posed.camera;
    let (w, h) = (cam.width as usize, cam.height as usize);
    let mut nearest = vec![f64::INFINITY; w * h];
    let mut labels = vec![0u8; w * h];
    posed.for_each_triangle(|label, t| {
        raster::triangle(cam, t, |x, y, depth| {
            let i = y * w + x;
            if depth < nearest[i] && depth <= cam.far {
                nearest[i] = depth;
                labels[i] = label;
            }
        })
    });
    let depth = nearest.iter().map(|&d| if d.is_finite() { d as f32 } else { BACKGROUND_DEPTH }).collect();
    (depth, labels)
}
