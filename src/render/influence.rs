//! Where in an image an object can change anything: the pixels it covers, and the pixels whose sun it
//! can take or give — for [`super::frame_memo`], which draws only there when an image differs from a
//! kept one by that object.
//!
//! An object changes the pixels its bounding box projects to (colour, label, the exact pass's edges),
//! and, with shadows, the points whose view of the sun passes near it: points at least as far from
//! the sun as its nearest corner, whose place across the sun's rays lies within its bounds there
//! grown by a margin — as far as any shadow lookup reaches (the sun's disc over the scene's depth, the
//! shadow map's filter taps) — the prism behind it. Every point drawn lies in some object's bounding
//! box, so the pixels such a point can show are those the prism's intersection with each object's box
//! projects to: a convex solid whose corners are found by clipping the box's faces by the prism's
//! planes. A region is a rectangle of pixels holding all of that; it is conservative (boxes are
//! larger than the objects, rectangles than the regions).

use super::polygon::convex_hull;
use crate::conventions::Camera;
use glam::{DVec2, DVec3};

/// A rectangle of pixels `x0..x1` × `y0..y1` (empty when `x0 >= x1` or `y0 >= y1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Rect {
    pub const EMPTY: Rect = Rect { x0: 0, y0: 0, x1: 0, y1: 0 };

    pub fn is_empty(&self) -> bool {
        self.x0 >= self.x1 || self.y0 >= self.y1
    }

    /// Grown by `by` pixels on every side, within `0..w` × `0..h`.
    pub fn grown(&self, by: u32, (w, h): (u32, u32)) -> Rect {
        if self.is_empty() {
            return Rect::EMPTY;
        }
        Rect {
            x0: self.x0.saturating_sub(by),
            y0: self.y0.saturating_sub(by),
            x1: (self.x1 + by).min(w),
            y1: (self.y1 + by).min(h),
        }
    }

    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }

    pub fn area(&self) -> u64 {
        if self.is_empty() { 0 } else { u64::from(self.x1 - self.x0) * u64::from(self.y1 - self.y0) }
    }
}

/// The sun as far as regions go: the unit vector towards it and how far across its rays a lookup can
/// reach from a point (world units).
#[derive(Clone, Copy, Debug)]
pub struct SunReach {
    pub to_sun: DVec3,
    pub margin: f64,
}

/// Pixels of an image: a mask and the rectangle around it.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub width: u32,
    pub height: u32,
    /// Row by row, `true` for a pixel of the region.
    pub mask: Vec<bool>,
    pub bounds: Rect,
}

impl Region {
    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    pub fn contains(&self, x: u32, y: u32) -> bool {
        self.bounds.contains(x, y) && self.mask[(y * self.width + x) as usize]
    }

    /// How many pixels it holds (read within its bounds only).
    pub fn count(&self) -> u64 {
        let (w, b) = (self.width as usize, self.bounds);
        (b.y0 as usize..b.y1 as usize)
            .map(|y| self.mask[y * w + b.x0 as usize..y * w + b.x1 as usize].iter().filter(|m| **m).count() as u64)
            .sum()
    }

    /// Every pixel within `by` pixels of one of the region's (along each axis: a square around it).
    pub fn grown(&self, by: u32) -> Region {
        let (w, h) = (self.width as usize, self.height as usize);
        let bounds = self.bounds.grown(by, (self.width, self.height));
        let (x0, bw) = (bounds.x0 as usize, (bounds.x1 - bounds.x0) as usize);
        let by = by as usize;
        // Grown along rows (within the grown bounds, `bw` a row, from its first row): a pixel is set
        // when a set pixel of its row is within `by` of it, counted over a window sliding along.
        let (gy0, gy1) = (bounds.y0 as usize, bounds.y1 as usize);
        let mut rows = vec![0u8; bw * (gy1 - gy0)];
        for y in self.bounds.y0 as usize..self.bounds.y1 as usize {
            let (row, out) = (&self.mask[y * w + x0..y * w + x0 + bw], &mut rows[(y - gy0) * bw..(y - gy0 + 1) * bw]);
            let mut count: u32 = row[..by.min(bw)].iter().map(|&s| u32::from(s)).sum();
            for x in 0..bw {
                if x + by < bw {
                    count += u32::from(row[x + by]);
                }
                out[x] = u8::from(count > 0);
                if x >= by {
                    count -= u32::from(row[x - by]);
                }
            }
        }
        // Then along columns: a row of the result is the union of the `2 by + 1` rows around it (the
        // rows outside the grown bounds have nothing set).
        let mut mask = vec![false; w * h];
        let mut union = vec![0u8; bw];
        for y in gy0..gy1 {
            let (lo, hi) = (y.saturating_sub(by).max(gy0), (y + by).min(gy1 - 1));
            union.copy_from_slice(&rows[(lo - gy0) * bw..(lo - gy0 + 1) * bw]);
            for k in lo + 1..=hi {
                for (u, r) in union.iter_mut().zip(&rows[(k - gy0) * bw..(k - gy0 + 1) * bw]) {
                    *u |= *r;
                }
            }
            for (m, u) in mask[y * w + x0..y * w + x0 + bw].iter_mut().zip(&union) {
                *m = *u != 0;
            }
        }
        Region { width: self.width, height: self.height, mask, bounds }
    }
}

/// Pixels (of `cam`'s image) whose values can depend on objects within the boxes `changed` (each by
/// its 8 corners, world space; [`Prism::clip_box`] says which corner is which), given every object
/// that can show (`receivers`: its box, and whether the object is that box — then only the box's
/// faces can show) and the sun (`None` without shadows): first the pixels the boxes themselves project
/// to, then all of them (those and the pixels whose sun they can change). `None` when the region
/// cannot be told (a corner behind the camera): the whole image may change.
pub fn region(
    cam: &Camera,
    changed: &[[DVec3; 8]],
    receivers: &[([DVec3; 8], bool)],
    sun: Option<SunReach>,
) -> Option<(Region, Region)> {
    let (w, h) = (cam.width, cam.height);
    let mut out = Region { width: w, height: h, mask: vec![false; (w * h) as usize], bounds: Rect::EMPTY };
    let mut points: Vec<DVec2> = Vec::with_capacity(64);
    for c in changed {
        points.clear();
        for &p in c {
            points.push(project(cam, p)?);
        }
        out.fill_hull(&mut points);
    }
    let own = out.clone();
    for (c, sun) in changed.iter().filter_map(|c| Some((c, sun?))) {
        let prism = Prism::behind(c, sun);
        for (r, surface) in receivers {
            points.clear();
            prism.clip_box(r, *surface, &mut |p| {
                match p {
                    Some(p) => points.push(project(cam, p)?),
                    None => out.fill_hull(&mut points),
                }
                Some(())
            })?;
        }
    }
    Some((own, out))
}

/// Continuous pixel coordinates of `p`; `None` when it is not in front of the camera's near plane.
pub fn project(cam: &Camera, p: DVec3) -> Option<DVec2> {
    let (uv, depth) = cam.project(p);
    (depth >= cam.near && uv.is_finite()).then_some(uv)
}

impl Region {
    /// Adds the pixels the convex hull of `points` touches, and one more around them (the GPU's
    /// rounding).
    fn fill_hull(&mut self, points: &mut Vec<DVec2>) {
        if points.is_empty() {
            return;
        }
        let points = &mut std::mem::take(points);
        *points = convex_hull(std::mem::take(points));
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let (lo, hi) =
            points.iter().fold((DVec2::INFINITY, DVec2::NEG_INFINITY), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
        let y0 = (lo.y.floor() - 1.0).clamp(0.0, h) as u32;
        let y1 = (hi.y.ceil() + 1.0).clamp(0.0, h) as u32;
        for y in y0..y1 {
            // The hull's extent across the rows y - 1 .. y + 2.
            let Some((xa, xb)) = strip_extent(points, f64::from(y) - 1.0, f64::from(y) + 2.0) else { continue };
            let x0 = (xa.floor() - 1.0).clamp(0.0, w) as u32;
            let x1 = (xb.ceil() + 1.0).clamp(0.0, w) as u32;
            if x0 >= x1 {
                continue;
            }
            let row = (y * self.width) as usize;
            self.mask[row + x0 as usize..row + x1 as usize].fill(true);
            let b = &mut self.bounds;
            *b = if b.is_empty() {
                Rect { x0, y0: y, x1, y1: y + 1 }
            } else {
                Rect { x0: b.x0.min(x0), y0: b.y0.min(y), x1: b.x1.max(x1), y1: b.y1.max(y + 1) }
            };
        }
    }
}

/// The least and greatest x of the convex polygon `polygon` between the lines y = `ya` and y = `yb`.
fn strip_extent(polygon: &[DVec2], ya: f64, yb: f64) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut take = |x: f64| {
        lo = lo.min(x);
        hi = hi.max(x);
    };
    for (i, &a) in polygon.iter().enumerate() {
        if a.y >= ya && a.y <= yb {
            take(a.x);
        }
        let b = polygon[if i + 1 == polygon.len() { 0 } else { i + 1 }];
        for y in [ya, yb] {
            if (a.y < y && b.y > y) || (a.y > y && b.y < y) {
                take(a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y));
            }
        }
    }
    (lo <= hi).then_some((lo, hi))
}

/// The points behind a box as the sun sees it — the box swept away from the sun — grown by the
/// margin: planes `n·p <= k`, the sides (along the outline of the box's shadow, the convex hull of its
/// corners across the sun's rays) and the box's faces turned towards the sun, each moved out by the
/// margin.
struct Prism {
    planes: Vec<(DVec3, f64)>,
}

/// A box's faces by its corners (corner `i`'s three bits choose its end along three edges), each
/// going round the face.
const FACES: [[usize; 4]; 6] = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]];

/// A box's faces as planes `n·p <= k` (unit `n` pointing out; none for a face without area).
fn face_planes(corners: &[DVec3; 8]) -> impl Iterator<Item = (DVec3, f64)> + '_ {
    let centre = corners.iter().sum::<DVec3>() / 8.0;
    FACES.iter().filter_map(move |f| {
        let [a, b, c, d] = f.map(|i| corners[i]);
        let n = (c - a).cross(d - b).normalize_or_zero();
        if n == DVec3::ZERO {
            return None;
        }
        let n = if n.dot(a - centre) >= 0.0 { n } else { -n };
        Some((n, n.dot(a)))
    })
}

impl Prism {
    fn behind(corners: &[DVec3; 8], sun: SunReach) -> Prism {
        let to_sun = sun.to_sun.normalize();
        let (u, v) = to_sun.any_orthonormal_pair();
        let m = sun.margin;
        let outline = convex_hull(corners.iter().map(|c| DVec2::new(c.dot(u), c.dot(v))).collect());
        let mut planes = Vec::with_capacity(outline.len() + 3);
        if outline.len() >= 3 {
            // Counter-clockwise: each edge's outward normal is its direction turned clockwise.
            for (i, &a) in outline.iter().enumerate() {
                let b = outline[(i + 1) % outline.len()];
                let n = DVec2::new(b.y - a.y, a.x - b.x).normalize();
                planes.push((u * n.x + v * n.y, n.dot(a) + m));
            }
        } else {
            // Seen end-on (no area across the rays): its bounds there.
            let (lo, hi) =
                outline.iter().fold((DVec2::INFINITY, DVec2::NEG_INFINITY), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
            planes.extend([(-u, m - lo.x), (u, hi.x + m), (-v, m - lo.y), (v, hi.y + m)]);
        }
        planes.extend(face_planes(corners).filter(|(n, _)| n.dot(to_sun) > 0.0).map(|(n, k)| (n, k + m)));
        Prism { planes }
    }

    /// Hands the part of the box with `corners` (a parallelepiped, its corners as [`FACES`] has them)
    /// inside the prism to `add`, as convex pieces a point at a time, each piece ended by `None`: with
    /// `surface` (the object is the box itself), the part of each face; else the whole solid as one
    /// piece.
    fn clip_box(
        &self,
        corners: &[DVec3; 8],
        surface: bool,
        add: &mut dyn FnMut(Option<DVec3>) -> Option<()>,
    ) -> Option<()> {
        if self.planes.iter().any(|(n, k)| corners.iter().all(|c| n.dot(*c) > *k)) {
            return Some(());
        }
        let mut polygon: Vec<DVec3> = Vec::with_capacity(16);
        let mut next: Vec<DVec3> = Vec::with_capacity(16);
        for face in FACES {
            polygon.clear();
            polygon.extend(face.map(|i| corners[i]));
            for &(n, k) in &self.planes {
                clip(&polygon, n, k, &mut next);
                std::mem::swap(&mut polygon, &mut next);
                if polygon.is_empty() {
                    break;
                }
            }
            for &p in &polygon {
                add(Some(p))?;
            }
            if surface {
                add(None)?;
            }
        }
        if surface {
            return Some(());
        }
        // The solid's corners inside the box: where three of the prism's planes meet.
        let centre = corners.iter().sum::<DVec3>() / 8.0;
        let slack = 1e-9 * corners.iter().map(|c| (*c - centre).length()).fold(1.0, f64::max);
        let walls: Vec<(DVec3, f64)> = face_planes(corners).collect();
        let planes = &self.planes;
        for i in 0..planes.len() {
            for j in i + 1..planes.len() {
                for k in j + 1..planes.len() {
                    let Some(p) = meet([planes[i], planes[j], planes[k]]) else { continue };
                    let within = |(n, d): &(DVec3, f64)| n.dot(p) <= d + slack;
                    if planes.iter().all(within) && walls.iter().all(within) {
                        add(Some(p))?;
                    }
                }
            }
        }
        add(None)
    }
}

/// The part of the convex polygon `polygon` where `n·p <= k` (Sutherland–Hodgman), into `out`.
fn clip(polygon: &[DVec3], n: DVec3, k: f64, out: &mut Vec<DVec3>) {
    out.clear();
    for (i, &a) in polygon.iter().enumerate() {
        let b = polygon[if i + 1 == polygon.len() { 0 } else { i + 1 }];
        let (da, db) = (n.dot(a) - k, n.dot(b) - k);
        if da <= 0.0 {
            out.push(a);
        }
        if (da < 0.0 && db > 0.0) || (da > 0.0 && db < 0.0) {
            out.push(a + (b - a) * (da / (da - db)));
        }
    }
}

/// The point where three planes `n·p = k` meet, if they do.
fn meet(planes: [(DVec3, f64); 3]) -> Option<DVec3> {
    let [(n0, k0), (n1, k1), (n2, k2)] = planes;
    let det = n0.dot(n1.cross(n2));
    if det.abs() < 1e-12 {
        return None;
    }
    Some((n1.cross(n2) * k0 + n2.cross(n0) * k1 + n0.cross(n1) * k2) / det)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera() -> Camera {
        Camera::look_at(DVec3::new(0.0, 0.0, 10.0), DVec3::ZERO, DVec3::Y, 40.0, (200, 200), (0.1, 100.0))
    }

    fn cube(centre: DVec3, half: DVec3) -> [DVec3; 8] {
        std::array::from_fn(|i| {
            centre
                + DVec3::new(
                    if i & 1 == 0 { -half.x } else { half.x },
                    if i & 2 == 0 { -half.y } else { half.y },
                    if i & 4 == 0 { -half.z } else { half.z },
                )
        })
    }

    /// Without a sun, the box's own pixels; the region holds every projected corner.
    #[test]
    fn without_a_sun_a_box_changes_its_own_pixels() {
        let cam = camera();
        let b = cube(DVec3::new(1.0, 0.5, 0.0), DVec3::splat(0.2));
        let (own, r) = region(&cam, &[b], &[], None).unwrap();
        assert_eq!(own, r);
        for c in b {
            let (uv, _) = cam.project(c);
            assert!(r.contains(uv.x as u32, uv.y as u32), "{uv} outside {:?}", r.bounds);
        }
        assert!(r.bounds.area() < 40 * 40, "{:?}", r.bounds);
        let grown = r.grown(3);
        assert_eq!(grown.bounds, r.bounds.grown(3, (200, 200)));
        let (x, y) = (r.bounds.x0 + 2, r.bounds.y0 + 2);
        assert!(grown.contains(x - 5, y) && !grown.contains(x - 6, y) || !r.contains(x, y));
    }

    /// A sun from the side: the box's shadow on a floor below it falls within the region, and a floor
    /// point on the sun's side of it does not.
    #[test]
    fn the_shadow_on_a_floor_is_in_the_region() {
        let cam = camera();
        let pin = cube(DVec3::new(0.0, 0.0, 1.0), DVec3::new(0.1, 0.1, 1.0));
        let floor = cube(DVec3::new(0.0, 0.0, -0.5), DVec3::new(5.0, 5.0, 0.5));
        let to_sun = DVec3::new(1.0, 0.0, 1.0).normalize();
        let sun = SunReach { to_sun, margin: 0.05 };
        let (own, r) = region(&cam, &[pin], &[(pin, true), (floor, true)], Some(sun)).unwrap();
        assert_eq!(own, region(&cam, &[pin], &[], None).unwrap().1);
        // The top's shadow falls 2 units away from the sun on the floor's top (z = 0).
        for x in [-0.1, -1.0, -1.95] {
            let (shadow, _) = cam.project(DVec3::new(x, 0.0, 0.0));
            assert!(r.contains(shadow.x as u32, shadow.y as u32), "{shadow} outside the region");
        }
        for p in [DVec3::new(1.0, 0.0, 0.0), DVec3::new(-1.0, 1.0, 0.0)] {
            let (sunny, _) = cam.project(p);
            assert!(!r.contains(sunny.x as u32, sunny.y as u32), "{sunny} inside the region");
        }
    }

    /// Growing a region sets exactly the pixels within `by` of a set one along each axis (a square
    /// around it), for scattered pixels near the image's borders too.
    #[test]
    fn growing_sets_the_pixels_within_reach() {
        let (w, h) = (37u32, 23u32);
        let mut state = 12345u64;
        for by in [0u32, 1, 3] {
            for _ in 0..20 {
                let mut r = Region { width: w, height: h, mask: vec![false; (w * h) as usize], bounds: Rect::EMPTY };
                for _ in 0..6 {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let (x, y) = ((state >> 33) as u32 % w, (state >> 17) as u32 % h);
                    r.mask[(y * w + x) as usize] = true;
                    let b = &mut r.bounds;
                    *b = if b.is_empty() {
                        Rect { x0: x, y0: y, x1: x + 1, y1: y + 1 }
                    } else {
                        Rect { x0: b.x0.min(x), y0: b.y0.min(y), x1: b.x1.max(x + 1), y1: b.y1.max(y + 1) }
                    };
                }
                let g = r.grown(by);
                assert_eq!(g.bounds, r.bounds.grown(by, (w, h)));
                assert_eq!(g.count(), g.mask.iter().filter(|m| **m).count() as u64, "count, by {by}");
                for y in 0..h {
                    for x in 0..w {
                        let near = (0..h).any(|yy| {
                            (0..w).any(|xx| {
                                r.mask[(yy * w + xx) as usize] && x.abs_diff(xx) <= by && y.abs_diff(yy) <= by
                            })
                        });
                        assert_eq!(g.mask[(y * w + x) as usize], near, "({x}, {y}), by {by}");
                    }
                }
            }
        }
    }

    /// A corner behind the camera: no region.
    #[test]
    fn behind_the_camera_is_no_region() {
        let b = cube(DVec3::new(0.0, 0.0, 10.0), DVec3::splat(1.0));
        assert_eq!(region(&camera(), &[b], &[], None), None);
    }
}
