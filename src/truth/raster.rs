//! A CPU rasteriser for ground truth that the GPU pass does not give: world triangles sampled at
//! pixel centres (pixel (i, j) is covered when its centre (i + ½, j + ½) is inside), with the
//! projection of [`Camera::project`], the near plane clipped as the GPU clips it, a top-left rule for
//! centres exactly on an edge (an edge shared by two triangles covers each centre once), and the
//! perspective-correct depth along the view axis. Both windings are drawn (no culling): for closed
//! meshes the nearest surface is a front face anyway, and mesh files are drawn double-sided.
//!
//! Both snap vertices to a 1/256 px grid; the GPU computes the projection in f32, this in f64, so a
//! vertex near a rounding boundary may snap the other way (tests/truth.rs measures how often pixels
//! differ from the GPU's mask).

use crate::conventions::Camera;
use glam::{DVec2, DVec3};

/// Vertices snap to 1/256 px, as Vulkan rasterisers do (llvmpipe and most GPUs have 8 sub-pixel bits):
/// then the edge tests below are exact in f64, and a centre exactly on an edge (common: a terminal's
/// edge often passes through a row of centres at rational positions) is decided by the top-left rule,
/// as on the GPU.
const SUBPIXELS: f64 = 256.0;

/// Calls `f(x, y, depth)` for every pixel centre the world triangle covers, `depth` being the distance
/// along the camera's view axis of the triangle's point there.
pub fn triangle(camera: &Camera, world: [DVec3; 3], mut f: impl FnMut(usize, usize, f64)) {
    // Camera space (the camera looks down -Z): clip to depth >= near.
    let cam = world.map(|p| camera.view.transform_point3(p));
    let near = camera.near;
    let mut poly: Vec<DVec3> = Vec::with_capacity(4);
    for i in 0..3 {
        let (a, b) = (cam[i], cam[(i + 1) % 3]);
        let (da, db) = (-a.z - near, -b.z - near);
        if da >= 0.0 {
            poly.push(a);
        }
        if (da >= 0.0) != (db >= 0.0) {
            poly.push(a.lerp(b, da / (da - db)));
        }
    }
    if poly.len() < 3 {
        return;
    }
    let (w, h) = (camera.width as f64, camera.height as f64);
    let projected: Vec<Vertex> = poly
        .iter()
        .map(|c| {
            let depth = -c.z;
            let p = DVec2::new(w / 2.0 + camera.focal_px * c.x / depth, h / 2.0 - camera.focal_px * c.y / depth);
            Vertex { snapped: (p * SUBPIXELS).round() / SUBPIXELS, exact: p, depth }
        })
        .collect();
    for i in 1..projected.len() - 1 {
        screen_triangle([projected[0], projected[i], projected[i + 1]], camera, &mut f);
    }
}

/// A projected corner: snapped (coverage) and exact (depth interpolation) pixel position, view depth.
#[derive(Clone, Copy)]
struct Vertex {
    snapped: DVec2,
    exact: DVec2,
    depth: f64,
}

/// Twice the signed area of (a, b, p) in pixel coordinates.
fn edge(a: DVec2, b: DVec2, p: DVec2) -> f64 {
    (b - a).perp_dot(p - a)
}

fn screen_triangle(mut t: [Vertex; 3], camera: &Camera, f: &mut impl FnMut(usize, usize, f64)) {
    let area = edge(t[0].snapped, t[1].snapped, t[2].snapped);
    if area == 0.0 || !area.is_finite() {
        return;
    }
    if area < 0.0 {
        t.swap(1, 2);
    }
    let [p0, p1, p2] = t.map(|v| v.snapped);
    let lo = p0.min(p1).min(p2);
    let hi = p0.max(p1).max(p2);
    // Pixels whose centre can be inside.
    let x0 = ((lo.x - 0.5).ceil().max(0.0)) as usize;
    let y0 = ((lo.y - 0.5).ceil().max(0.0)) as usize;
    let x1 = ((hi.x - 0.5).floor().min(camera.width as f64 - 1.0)) as i64;
    let y1 = ((hi.y - 0.5).floor().min(camera.height as f64 - 1.0)) as i64;
    if x1 < x0 as i64 || y1 < y0 as i64 {
        return;
    }
    // Top-left rule. The corners run clockwise on screen (y down) after the swap: a centre exactly on
    // an edge belongs to the triangle for which it is a top edge (horizontal, going right) or a left
    // one (going up), so an edge shared by two triangles covers it once.
    let owns = |a: DVec2, b: DVec2| {
        let d = b - a;
        d.y < 0.0 || (d.y == 0.0 && d.x > 0.0)
    };
    let edges = [(p1, p2, owns(p1, p2)), (p2, p0, owns(p2, p0)), (p0, p1, owns(p0, p1))];
    // Depth: 1/depth is affine in screen space; interpolated at the exact (unsnapped) corners.
    let [e0, e1, e2] = t.map(|v| v.exact);
    let exact_area = edge(e0, e1, e2);
    let inv = t.map(|v| 1.0 / v.depth);
    for y in y0..=y1 as usize {
        for x in x0..=x1 as usize {
            let p = DVec2::new(x as f64 + 0.5, y as f64 + 0.5);
            let inside = edges.iter().all(|(a, b, own)| {
                let e = edge(*a, *b, p);
                e > 0.0 || (e == 0.0 && *own)
            });
            if inside {
                let b = [edge(e1, e2, p), edge(e2, e0, p), edge(e0, e1, p)].map(|e| e / exact_area);
                let recip = b[0] * inv[0] + b[1] * inv[1] + b[2] * inv[2];
                f(x, y, 1.0 / recip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top_camera() -> Camera {
        Camera::look_at(DVec3::new(0.0, 0.0, 14.0), DVec3::ZERO, DVec3::Y, 45.0, (64, 64), (0.1, 100.0))
    }

    #[test]
    fn a_square_covers_the_centres_inside_it_once_with_its_depth() {
        let cam = top_camera();
        // A 2 × 2 square at z = 1 as two triangles: depth 13 everywhere.
        let (a, b, c, d) = (
            DVec3::new(-1.0, -1.0, 1.0),
            DVec3::new(1.0, -1.0, 1.0),
            DVec3::new(1.0, 1.0, 1.0),
            DVec3::new(-1.0, 1.0, 1.0),
        );
        let mut hits = vec![0u32; 64 * 64];
        for t in [[a, b, c], [a, c, d]] {
            triangle(&cam, t, |x, y, depth| {
                assert!((depth - 13.0).abs() < 1e-9, "{depth}");
                hits[y * 64 + x] += 1;
            });
        }
        assert!(hits.iter().all(|&h| h <= 1), "the shared diagonal is drawn once");
        // The square projects to u, v in 32 ± f/13 with f = 32 / tan 22.5°.
        let half = 32.0 / 22.5f64.to_radians().tan() / 13.0;
        let expected = (0..64)
            .flat_map(|y| (0..64).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let (u, v) = (x as f64 + 0.5, y as f64 + 0.5);
                (u - 32.0).abs() < half && (v - 32.0).abs() < half
            })
            .count();
        assert_eq!(hits.iter().filter(|&&h| h == 1).count(), expected);
    }

    #[test]
    fn depth_is_perspective_correct_on_a_slanted_triangle() {
        let cam = top_camera();
        let t = [DVec3::new(-2.0, -2.0, 0.0), DVec3::new(2.0, -2.0, 2.0), DVec3::new(0.0, 2.0, 1.0)];
        let mut n = 0;
        triangle(&cam, t, |x, _, depth| {
            // The plane through t: z = x/2 + 1 (world); the ray through the pixel centre meets it at depth d.
            let u = x as f64 + 0.5 - 32.0;
            let f = cam.focal_px;
            // World point at depth d: (u d / f, ·, 14 - d); on the plane: 14 - d = u d / (2 f) + 1.
            let d = 13.0 / (1.0 + u / (2.0 * f));
            assert!((depth - d).abs() < 1e-9, "{depth} vs {d}");
            n += 1;
        });
        assert!(n > 100);
    }
}
