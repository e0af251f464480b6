//! Sun shadows from the geometry itself, for the exact anti-aliasing pass ([`super::exact`]): where a
//! shadow's edge crosses a pixel, which of its 64 samples see the sun, so that the edge is
//! box-filtered as exactly as an object's.
//!
//! The casters are the faces turned away from the sun (those the shadow map is drawn from; a closed
//! solid's lit faces never hide anything its back faces do not) and both sides of an open mesh's.
//! They are kept in the sun's coordinates — (x, y) across its rays, z along them towards the sun —
//! and binned into a grid over the region asked about. A caster either covers a pixel's footprint on
//! a face whole, misses it (for every direction within the sun's disc), or is cast onto the face's
//! plane along the rays ([`SunRays::shadow_on`]), where the exact pass finds the samples inside its
//! shadow as it finds the samples inside a face. Samples nearer the shadow's outline than its
//! penumbra's half width look along a direction of their own within the sun's disc (64 directions
//! over the disc, one per sample: [`disc_point`]), so a pixel's samples average the penumbra too.

use super::polygon;
use glam::{DVec2, DVec3};
use rustc_hash::FxHashMap as HashMap;
use std::ops::Range;

/// What an object's casters are made of, for reusing them ([`SunRays::add_object`]): its shape and
/// its placement's bits.
pub type ObjectKey = (usize, [u64; 16]);

/// A caster face in the sun's coordinates.
struct Caster {
    /// Its corners: `corners[range]`.
    corners: Range<u32>,
    /// Its edge functions across the rays, `a·x + b·y + c >= 0` inside (the signed distance to the
    /// edge's line): `edges[range]`.
    edges: Range<u32>,
    /// Its plane: z = a·x + b·y + c.
    plane: [f64; 3],
    lo: DVec2,
    hi: DVec2,
    /// Its corner nearest the sun (largest z).
    nearest: f64,
    /// 1 − tan r · |(a, b)|: how much a direction within the sun's disc at most shortens the way
    /// along the rays to its plane ([`SunRays::shift`]).
    stretch: f64,
}

/// How a caster shades a region ([`SunRays::classify`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cover {
    /// No point of it.
    None,
    /// Every point of it, from every direction within the sun's disc.
    All,
    /// Perhaps some.
    Some,
}

/// The casters of one image and a grid over the region asked about.
#[derive(Default)]
pub struct SunRays {
    /// The objects added so far and their casters; the previous image's, kept while the sun stays
    /// the same (an object's casters depend on it and the sun alone).
    objects: HashMap<ObjectKey, Range<u32>>,
    previous: Option<Box<Previous>>,
    to_sun: DVec3,
    x: DVec3,
    y: DVec3,
    /// tan of the sun's angular radius.
    tan_r: f64,
    casters: Vec<Caster>,
    corners: Vec<DVec3>,
    edges: Vec<[f64; 3]>,
    /// Grid over the region: its origin, cell size, columns and rows; per cell the casters that may
    /// shade a point in it (`cells[start[c]..start[c + 1]]`).
    origin: DVec2,
    cell: f64,
    cols: usize,
    rows: usize,
    start: Vec<u32>,
    cells: Vec<u32>,
    /// Per caster, the last [`SunRays::candidates`] call that listed it.
    stamp: Vec<u32>,
    generation: u32,
}

/// The casters of the image before ([`SunRays::add_object`]).
#[derive(Default)]
struct Previous {
    objects: HashMap<ObjectKey, Range<u32>>,
    casters: Vec<Caster>,
    corners: Vec<DVec3>,
    edges: Vec<[f64; 3]>,
}

/// A point counts as behind a caster when the caster is at least this far nearer the sun (relative
/// to the scene's coordinates: rounding, not a bias).
const LEAVE: f64 = 1e-7;

impl SunRays {
    /// Starts an image lit from `to_sun` (unit vector towards the sun), a disc of angular diameter
    /// `angle_deg`.
    pub fn begin(&mut self, to_sun: DVec3, angle_deg: f64) {
        let (to_sun, tan_r) = (to_sun.normalize(), (angle_deg.to_radians() / 2.0).tan());
        let mut previous = self.previous.take().unwrap_or_default();
        if to_sun.to_array().map(f64::to_bits) == self.to_sun.to_array().map(f64::to_bits)
            && tan_r.to_bits() == self.tan_r.to_bits()
        {
            // The same sun: this image's casters are the next one's to reuse.
            std::mem::swap(&mut previous.objects, &mut self.objects);
            std::mem::swap(&mut previous.casters, &mut self.casters);
            std::mem::swap(&mut previous.corners, &mut self.corners);
            std::mem::swap(&mut previous.edges, &mut self.edges);
        } else {
            previous.objects.clear();
        }
        self.previous = Some(previous);
        self.to_sun = to_sun;
        (self.x, self.y) = self.to_sun.any_orthonormal_pair();
        self.tan_r = tan_r;
        self.objects.clear();
        self.casters.clear();
        self.corners.clear();
        self.edges.clear();
        self.stamp.clear();
    }

    /// Adds the casters of an object: with `key`, those of the image before when it had the object
    /// (the same bits as adding them again), else `add`'s. Returns their indices.
    pub fn add_object(&mut self, key: Option<ObjectKey>, add: impl FnOnce(&mut SunRays)) -> Range<u32> {
        let first = self.casters.len() as u32;
        let kept = key.and_then(|k| self.previous.as_ref().and_then(|p| p.objects.get(&k).map(|r| (p, r.clone()))));
        match kept {
            Some((previous, range)) => {
                for c in &previous.casters[range.start as usize..range.end as usize] {
                    let (corners, edges) = (self.corners.len() as u32, self.edges.len() as u32);
                    self.corners.extend_from_slice(&previous.corners[c.corners.start as usize..c.corners.end as usize]);
                    self.edges.extend_from_slice(&previous.edges[c.edges.start as usize..c.edges.end as usize]);
                    self.casters.push(Caster {
                        corners: corners..self.corners.len() as u32,
                        edges: edges..self.edges.len() as u32,
                        ..*c
                    });
                }
            }
            None => add(self),
        }
        let range = first..self.casters.len() as u32;
        if let Some(k) = key {
            self.objects.insert(k, range.clone());
        }
        range
    }

    /// Starts with the sun of `other` (the same coordinates, bit for bit) and no casters.
    pub fn begin_as(&mut self, other: &SunRays) {
        (self.to_sun, self.x, self.y, self.tan_r) = (other.to_sun, other.x, other.y, other.tan_r);
        self.objects.clear();
        self.previous = None;
        self.casters.clear();
        self.corners.clear();
        self.edges.clear();
        self.stamp.clear();
        (self.cols, self.rows) = (0, 0);
    }

    /// A point (or a direction) in the sun's coordinates.
    pub fn coords(&self, p: DVec3) -> DVec3 {
        DVec3::new(p.dot(self.x), p.dot(self.y), p.dot(self.to_sun))
    }

    /// A point in the sun's coordinates back in the world's.
    pub fn world(&self, p: DVec3) -> DVec3 {
        self.x * p.x + self.y * p.y + self.to_sun * p.z
    }

    /// Adds one convex planar face of a caster (corners in world space, counter-clockwise seen from
    /// outside); `double_sided` for an open mesh's (whose winding is not trusted).
    pub fn add_face(&mut self, world: &[DVec3], double_sided: bool) {
        if world.len() < 3 {
            return;
        }
        let start = self.corners.len() as u32;
        let (x, y, d) = (self.x, self.y, self.to_sun);
        self.corners.extend(world.iter().map(|&c| DVec3::new(c.dot(x), c.dot(y), c.dot(d))));
        let p = &self.corners[start as usize..];
        let normal = (1..p.len() - 1).map(|k| (p[k] - p[0]).cross(p[k + 1] - p[0])).fold(DVec3::ZERO, |s, x| s + x);
        let length = normal.length();
        // Lit faces of a closed solid hide nothing its back faces do not; an edge-on face hides nothing.
        if length == 0.0 || (normal.z >= 0.0 && !double_sided) || normal.z.abs() < 1e-9 * length {
            self.corners.truncate(start as usize);
            return;
        }
        let corner = |k: usize| p[k].truncate();
        let area2 = polygon::winding(p.len(), corner);
        if area2 == 0.0 || !area2.is_finite() {
            self.corners.truncate(start as usize);
            return;
        }
        let first_edge = self.edges.len() as u32;
        polygon::push_edges(p.len(), corner, area2.signum(), true, &mut self.edges);
        // n·P = n·p0  =>  z = (n·p0 - nx·x - ny·y) / nz.
        let plane = [-normal.x / normal.z, -normal.y / normal.z, normal.dot(p[0]) / normal.z];
        let lo = p.iter().fold(DVec2::INFINITY, |m, q| m.min(q.truncate()));
        let hi = p.iter().fold(DVec2::NEG_INFINITY, |m, q| m.max(q.truncate()));
        let nearest = p.iter().fold(f64::NEG_INFINITY, |m, q| m.max(q.z));
        let stretch = 1.0 - self.tan_r * (plane[0] * plane[0] + plane[1] * plane[1]).sqrt();
        self.casters.push(Caster {
            corners: start..self.corners.len() as u32,
            edges: first_edge..self.edges.len() as u32,
            plane,
            lo,
            hi,
            nearest,
            stretch,
        });
    }

    /// Bins the casters that may shade any of `points` (in the sun's coordinates) into a grid over
    /// them.
    pub fn prepare(&mut self, points: &[DVec3]) {
        self.start.clear();
        self.cells.clear();
        let (mut lo, mut hi, mut farthest) = (DVec2::INFINITY, DVec2::NEG_INFINITY, f64::INFINITY);
        for p in points {
            (lo, hi, farthest) = (lo.min(p.truncate()), hi.max(p.truncate()), farthest.min(p.z));
        }
        if points.is_empty() || !lo.is_finite() || !hi.is_finite() {
            (self.cols, self.rows) = (0, 0);
            return;
        }
        let size = (hi - lo).max(DVec2::splat(1e-9));
        // About a point per cell, at most 256 cells a side.
        let side = (points.len() as f64).sqrt().clamp(1.0, 256.0);
        self.cell = size.max_element() / side;
        self.cols = ((size.x / self.cell).ceil() as usize).clamp(1, 256);
        self.rows = ((size.y / self.cell).ceil() as usize).clamp(1, 256);
        self.origin = lo;
        let cols = self.cols;
        // Each caster into every cell its shadow can reach from any direction within the sun's disc
        // (its bounds grown by the widest shift, for the points farthest from the sun): so the casters
        // a region's cells list do not depend on where the grid ends (on the other points asked
        // about).
        let reach: Vec<Option<[usize; 4]>> = self
            .casters
            .iter()
            .map(|c| {
                let shift = self.tan_r * (c.nearest - farthest);
                (c.nearest > farthest).then(|| self.cells_of(c.lo - shift, c.hi + shift)).flatten()
            })
            .collect();
        let mut count = vec![0u32; cols * self.rows + 1];
        for [x0, x1, y0, y1] in reach.iter().flatten() {
            for y in *y0..=*y1 {
                for x in *x0..=*x1 {
                    count[y * cols + x + 1] += 1;
                }
            }
        }
        for k in 1..count.len() {
            count[k] += count[k - 1];
        }
        self.cells.resize(count[cols * self.rows] as usize, 0);
        let mut next = count.clone();
        for (i, r) in reach.iter().enumerate() {
            let Some([x0, x1, y0, y1]) = *r else { continue };
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let slot = &mut next[y * cols + x];
                    self.cells[*slot as usize] = i as u32;
                    *slot += 1;
                }
            }
        }
        self.start = count;
    }

    /// The grid cells (x0, x1, y0, y1) the box `lo`..`hi` overlaps.
    fn cells_of(&self, lo: DVec2, hi: DVec2) -> Option<[usize; 4]> {
        let (a, b) = ((lo - self.origin) / self.cell, (hi - self.origin) / self.cell);
        if b.x < 0.0 || b.y < 0.0 || a.x >= self.cols as f64 || a.y >= self.rows as f64 {
            return None;
        }
        let clamp = |x: f64, n: usize| (x.max(0.0) as usize).min(n - 1);
        Some([clamp(a.x, self.cols), clamp(b.x, self.cols), clamp(a.y, self.rows), clamp(b.y, self.rows)])
    }

    /// The casters that may shade some point of the box `lo`..`hi` (across the rays) no nearer the sun
    /// than `depth` from some direction within the sun's disc, into `out` (sorted, each once): those
    /// nearer the sun whose bounds, grown by how far the disc can shift their shadow there, meet the
    /// box. Which casters these are depends on the casters alone, not on the others in the image. For
    /// boxes within the region [`SunRays::prepare`] was given (the grid's cells hold only the casters
    /// that reach into it), at a `depth` no farther from the sun than the farthest of its points.
    pub fn candidates(&mut self, lo: DVec2, hi: DVec2, depth: f64, out: &mut Vec<u32>) {
        out.clear();
        // The box's cells (each caster is binned into every cell it can shade a point of).
        let Some([x0, x1, y0, y1]) = (self.cols > 0).then(|| self.cells_of(lo, hi)).flatten() else {
            return;
        };
        if x0 == x1 && y0 == y1 {
            // One cell: its list is in caster order already, each caster once.
            let c = y0 * self.cols + x0;
            let cell = &self.cells[self.start[c] as usize..self.start[c + 1] as usize];
            out.extend(cell.iter().copied().filter(|&i| self.reaches(i, lo, hi, depth)));
            return;
        }
        // Several cells: a caster binned into more than one of them is listed once (stamped).
        self.stamp.resize(self.casters.len(), 0);
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.fill(0);
            self.generation = 1;
        }
        for y in y0..=y1 {
            for x in x0..=x1 {
                let c = y * self.cols + x;
                for &i in &self.cells[self.start[c] as usize..self.start[c + 1] as usize] {
                    if self.stamp[i as usize] != self.generation && self.reaches(i, lo, hi, depth) {
                        self.stamp[i as usize] = self.generation;
                        out.push(i);
                    }
                }
            }
        }
        // In caster order, whatever cells they were found in.
        out.sort_unstable();
    }

    /// Whether caster `i` may shade some point of the box `lo`..`hi` (across the rays) no nearer the
    /// sun than `depth` from some direction within the sun's disc: nearer the sun, its bounds grown by
    /// how far the disc can shift its shadow there meeting the box ([`SunRays::candidates`]' test).
    pub fn reaches(&self, i: u32, lo: DVec2, hi: DVec2, depth: f64) -> bool {
        let caster = &self.casters[i as usize];
        self.bounds_reach((caster.lo, caster.hi, caster.nearest), (lo, hi, depth))
    }

    /// [`SunRays::reaches`] for casters with bounds `(lo, hi)` across the rays and nearest point
    /// `nearest` to the sun (one caster's, or a whole object's): whether they may shade some point of
    /// the box `box_lo`..`box_hi` no nearer the sun than `depth`.
    pub fn bounds_reach(
        &self,
        (lo, hi, nearest): (DVec2, DVec2, f64),
        (box_lo, box_hi, depth): (DVec2, DVec2, f64),
    ) -> bool {
        let shift = self.tan_r * (nearest - depth);
        nearest > depth
            && lo.x - shift <= box_hi.x
            && hi.x + shift >= box_lo.x
            && lo.y - shift <= box_hi.y
            && hi.y + shift >= box_lo.y
    }

    /// How caster `i` shades the convex region spanned by `corners` (in the sun's coordinates; four
    /// points of one plane), from any direction within the sun's disc.
    pub fn classify(&self, i: u32, corners: &[DVec3; 4]) -> Cover {
        let caster = &self.casters[i as usize];
        let [a, b, c0] = caster.plane;
        // How far the caster's plane is nearer the sun than the point: affine over the region, so its
        // values at the corners bound it inside.
        let ahead = corners.map(|p| a * p.x + b * p.y + c0 - p.z);
        if ahead.iter().all(|&t| t <= 0.0) {
            return Cover::None;
        }
        let edges = &self.edges[caster.edges.start as usize..caster.edges.end as usize];
        let distance = |e: &[f64; 3], p: &DVec3| e[0] * p.x + e[1] * p.y + e[2];
        let margin = self.shift_ahead(i, corners, ahead.iter().fold(0.0f64, |m, &t| m.max(t)));
        if edges.iter().any(|e| corners.iter().all(|p| distance(e, p) < -margin)) {
            return Cover::None;
        }
        let behind = corners.iter().zip(&ahead).all(|(p, &t)| t > 2.0 * LEAVE * (1.0 + p.z.abs()));
        if behind && edges.iter().all(|e| corners.iter().all(|p| distance(e, p) >= margin)) {
            return Cover::All;
        }
        Cover::Some
    }

    /// How far across the rays a direction within the sun's disc meets caster `i` from where the
    /// sun's centre's does, for rays from the region spanned by `corners` (as [`SunRays::classify`]):
    /// tan r times the distance along the rays to the caster's plane, at most its value at a corner
    /// (it is affine over the region), stretched where the plane is steep to the rays.
    pub fn shift(&self, i: u32, corners: &[DVec3; 4]) -> f64 {
        let [a, b, c0] = self.casters[i as usize].plane;
        self.shift_ahead(i, corners, corners.iter().fold(0.0f64, |m, p| m.max(a * p.x + b * p.y + c0 - p.z)))
    }

    /// [`SunRays::shift`] given how far caster `i`'s plane is nearer the sun than the corners, at most
    /// (and at least 0).
    fn shift_ahead(&self, i: u32, corners: &[DVec3; 4], ahead: f64) -> f64 {
        // A shifted ray meets the plane at t / (1 - (a, b)·shift).
        let stretch = self.casters[i as usize].stretch;
        if stretch > 0.5 {
            self.tan_r * ahead / stretch * 1.01 + 1e-12
        } else {
            let depth = corners.iter().fold(f64::INFINITY, |m, p| m.min(p.z));
            self.penumbra(i, depth) / 2.0 * 1.01 + 1e-12
        }
    }

    /// The width of caster `i`'s penumbra (across the rays) at points no nearer the sun than `depth`
    /// (at most): the sun's disc seen past its nearest corner.
    pub fn penumbra(&self, i: u32, depth: f64) -> f64 {
        2.0 * self.tan_r * (self.casters[i as usize].nearest - depth).max(0.0)
    }

    /// Caster `i`'s shadow on the plane `n·p = k` (sun's coordinates, `n.z > 0`: a face turned to
    /// the sun): the part of it nearer the sun than the plane, moved along the rays onto it, into
    /// `out` (in order; empty if none).
    pub fn shadow_on(&self, i: u32, n: DVec3, k: f64, out: &mut Vec<DVec3>) {
        out.clear();
        let c = &self.corners
            [self.casters[i as usize].corners.start as usize..self.casters[i as usize].corners.end as usize];
        // Height above the plane along the rays.
        let above = |p: &DVec3| (n.dot(*p) - k) / n.z;
        let onto = |p: DVec3, s: f64| DVec3::new(p.x, p.y, p.z - s);
        let leave = LEAVE * (1.0 + k.abs());
        for j in 0..c.len() {
            let (p, q) = (c[j], c[(j + 1) % c.len()]);
            let (sp, sq) = (above(&p) - leave, above(&q) - leave);
            if sp >= 0.0 {
                out.push(onto(p, sp + leave));
            }
            if (sp >= 0.0) != (sq >= 0.0) {
                let r = p + (q - p) * (sp / (sp - sq));
                out.push(onto(r, above(&r)));
            }
        }
        if out.len() < 3 {
            out.clear();
        }
    }

    /// How many casters there are so far (casters added next get the following indices).
    pub fn count(&self) -> usize {
        self.casters.len()
    }

    /// The bounds across the rays and the nearest point to the sun of the casters `range` (None if
    /// there are none).
    pub fn bounds(&self, range: Range<usize>) -> Option<(DVec2, DVec2, f64)> {
        self.casters[range].iter().fold(None, |b, c| {
            Some(match b {
                None => (c.lo, c.hi, c.nearest),
                Some((lo, hi, n)) => (lo.min(c.lo), hi.max(c.hi), n.max(c.nearest)),
            })
        })
    }

    /// Whether point `p` (in the sun's coordinates) sees the sun past the casters `candidates`
    /// ([`SunRays::candidates`] of a box around it), along the direction at `disc` (a point of the
    /// unit disc; the centre is the sun's centre) within the sun's disc.
    pub fn sees_sun(&self, candidates: &[u32], p: DVec3, disc: DVec2) -> bool {
        let shift = disc * self.tan_r;
        for &i in candidates {
            let caster = &self.casters[i as usize];
            if caster.nearest <= p.z {
                continue;
            }
            // Along the ray p.xy + t·shift, p.z + t: where it meets the caster's plane.
            let [a, b, c0] = caster.plane;
            let denom = 1.0 - a * shift.x - b * shift.y;
            if denom <= 1e-12 {
                continue;
            }
            let t = (a * p.x + b * p.y + c0 - p.z) / denom;
            if t <= LEAVE * (1.0 + p.z.abs()) {
                continue;
            }
            let at = p.truncate() + shift * t;
            if at.x < caster.lo.x || at.x > caster.hi.x || at.y < caster.lo.y || at.y > caster.hi.y {
                continue;
            }
            let edges = &self.edges[caster.edges.start as usize..caster.edges.end as usize];
            if edges.iter().all(|e| e[0] * at.x + e[1] * at.y + e[2] >= 0.0) {
                return false;
            }
        }
        true
    }
}

/// Sample `k`'s direction within the sun's disc, a point of the unit disc: an 8 × 8 stratification of
/// the disc (Shirley–Chiu's concentric map), dealt to the samples in a scrambled order so that
/// neighbouring samples look through different parts of the disc.
pub fn disc_point(k: usize) -> DVec2 {
    static DISC: std::sync::LazyLock<[DVec2; 64]> = std::sync::LazyLock::new(|| {
        std::array::from_fn(|k| {
            let cell = (k * 27) % 64;
            let (i, j) = (cell % 8, cell / 8);
            let (a, b) = (2.0 * (i as f64 + 0.5) / 8.0 - 1.0, 2.0 * (j as f64 + 0.5) / 8.0 - 1.0);
            let quarter = std::f64::consts::FRAC_PI_4;
            let (r, phi) =
                if a.abs() > b.abs() { (a, quarter * (b / a)) } else { (b, 2.0 * quarter - quarter * (a / b)) };
            DVec2::new(r * phi.cos(), r * phi.sin())
        })
    });
    DISC[k % 64]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cube's faces (counter-clockwise from outside) placed at `centre` with half size `h`.
    fn cube(centre: DVec3, h: f64) -> Vec<Vec<DVec3>> {
        let c = |x: f64, y: f64, z: f64| centre + DVec3::new(x, y, z) * h;
        vec![
            vec![c(-1., -1., 1.), c(1., -1., 1.), c(1., 1., 1.), c(-1., 1., 1.)],
            vec![c(-1., -1., -1.), c(-1., 1., -1.), c(1., 1., -1.), c(1., -1., -1.)],
            vec![c(1., -1., -1.), c(1., 1., -1.), c(1., 1., 1.), c(1., -1., 1.)],
            vec![c(-1., -1., -1.), c(-1., -1., 1.), c(-1., 1., 1.), c(-1., 1., -1.)],
            vec![c(-1., 1., -1.), c(-1., 1., 1.), c(1., 1., 1.), c(1., 1., -1.)],
            vec![c(-1., -1., -1.), c(1., -1., -1.), c(1., -1., 1.), c(-1., -1., 1.)],
        ]
    }

    /// A caster as data: its corners, edges, plane, bounds, nearest point and stretch.
    type CasterData = (Vec<DVec3>, Vec<[f64; 3]>, [f64; 3], [DVec2; 2], [f64; 2]);

    /// Every caster's data, for comparing two `SunRays`.
    fn casters_of(rays: &SunRays) -> Vec<CasterData> {
        rays.casters
            .iter()
            .map(|c| {
                (
                    rays.corners[c.corners.start as usize..c.corners.end as usize].to_vec(),
                    rays.edges[c.edges.start as usize..c.edges.end as usize].to_vec(),
                    c.plane,
                    [c.lo, c.hi],
                    [c.nearest, c.stretch],
                )
            })
            .collect()
    }

    /// Objects the image before had are copied, with the same sun only: the casters equal those made
    /// afresh, whatever was reused, and an object's range covers its own casters.
    #[test]
    fn objects_of_the_image_before_are_the_casters_made_afresh() {
        let cubes: Vec<(ObjectKey, Vec<Vec<DVec3>>)> = (0..4)
            .map(|k| ((k, [k as u64; 16]), cube(DVec3::new(k as f64, 0.5 * k as f64, 1.0 + 0.3 * k as f64), 0.4)))
            .collect();
        let add = |rays: &mut SunRays, k: usize| {
            let faces = cubes[k].1.clone();
            rays.add_object(Some(cubes[k].0), move |rays| faces.iter().for_each(|f| rays.add_face(f, false)))
        };
        let suns = [DVec3::new(0.3, -0.2, 1.0), DVec3::new(0.3, -0.2, 1.0), DVec3::new(-0.4, 0.1, 1.0)];
        let images: [&[usize]; 3] = [&[0, 1, 2], &[2, 1, 3], &[1, 3]];
        let mut kept = SunRays::default();
        for (sun, image) in suns.iter().zip(images) {
            kept.begin(*sun, 0.526);
            let ranges: Vec<Range<u32>> = image.iter().map(|&k| add(&mut kept, k)).collect();
            let mut fresh = SunRays::default();
            fresh.begin(*sun, 0.526);
            for (&k, range) in image.iter().zip(&ranges) {
                let first = fresh.count() as u32;
                cubes[k].1.iter().for_each(|f| fresh.add_face(f, false));
                assert_eq!(*range, first..fresh.count() as u32);
            }
            assert_eq!(casters_of(&kept), casters_of(&fresh));
        }
    }

    /// Whether the ray from `p` towards the sun crosses the cube (slab test).
    fn crosses(p: DVec3, to_sun: DVec3, centre: DVec3, h: f64) -> bool {
        let (mut t0, mut t1) = (0.0f64, f64::INFINITY);
        for a in 0..3 {
            let (lo, hi) = ((centre[a] - h - p[a]) / to_sun[a], (centre[a] + h - p[a]) / to_sun[a]);
            (t0, t1) = (t0.max(lo.min(hi)), t1.min(lo.max(hi)));
        }
        t0 < t1
    }

    /// A cube above the ground plane z = 0 under a slanted sun: the ground points the cube's shadow
    /// covers (by a slab test along each point's ray) and only those do not see the sun; its lit top
    /// does; a region classified whole agrees with its points; the shadow cast on the ground is the
    /// polygon of those points.
    #[test]
    fn a_cube_shadows_exactly_the_ground_its_rays_cross() {
        let to_sun = DVec3::new(0.3, -0.2, 1.0).normalize();
        let (centre, h) = (DVec3::new(0.0, 0.0, 2.0), 0.5);
        let mut rays = SunRays::default();
        rays.begin(to_sun, 0.0);
        for f in cube(centre, h) {
            rays.add_face(&f, false);
        }
        let ground: Vec<DVec3> = (0..3600)
            .map(|k| DVec3::new(-3.0 + 0.1 * (k % 60) as f64 + 0.013, -3.0 + 0.1 * (k / 60) as f64 + 0.007, 0.0))
            .collect();
        let coords: Vec<DVec3> = ground.iter().map(|p| rays.coords(*p)).collect();
        rays.prepare(&coords);
        let mut candidates = Vec::new();
        let mut sees = |rays: &mut SunRays, c: DVec3| {
            rays.candidates(c.truncate(), c.truncate(), c.z, &mut candidates);
            rays.sees_sun(&candidates, c, DVec2::ZERO)
        };
        let mut shadowed = 0;
        for (p, c) in ground.iter().zip(&coords) {
            let inside = crosses(*p, to_sun, centre, h);
            assert_eq!(sees(&mut rays, *c), !inside, "{p}");
            shadowed += usize::from(inside);
        }
        assert!(shadowed > 50, "{shadowed}");
        let top = rays.coords(centre + DVec3::new(0.1, 0.2, h));
        assert!(sees(&mut rays, top));
        // Squares of the ground (0.05 wide) against each caster: whole answers agree with their corners
        // and centre.
        let mut all_casters: Vec<u32> = Vec::new();
        rays.candidates(DVec2::splat(-1e9), DVec2::splat(1e9), -1e9, &mut all_casters);
        let mut whole = [0; 2];
        for p in &ground {
            let square = [p, &(*p + DVec3::X * 0.05), &(*p + DVec3::new(0.05, 0.05, 0.0)), &(*p + DVec3::Y * 0.05)];
            let corners = square.map(|q| rays.coords(*q));
            let middle = rays.coords(*p + DVec3::new(0.025, 0.025, 0.0));
            for &i in &all_casters {
                match rays.classify(i, &corners) {
                    Cover::All => {
                        assert!(corners.iter().chain([&middle]).all(|c| !rays.sees_sun(&[i], *c, DVec2::ZERO)));
                        whole[0] += 1;
                    }
                    Cover::None => {
                        assert!(corners.iter().chain([&middle]).all(|c| rays.sees_sun(&[i], *c, DVec2::ZERO)));
                        whole[1] += 1;
                    }
                    Cover::Some => {}
                }
            }
        }
        assert!(whole[0] > 50 && whole[1] > 1000, "{whole:?}");
        // The shadow on the ground: a ground point is inside the union of the casters' shadow polygons
        // exactly when it does not see the sun.
        let n = rays.coords(DVec3::Z);
        let polygons: Vec<Vec<DVec3>> = all_casters
            .iter()
            .map(|&i| {
                let mut out = Vec::new();
                rays.shadow_on(i, n, 0.0, &mut out);
                out
            })
            .filter(|p| !p.is_empty())
            .collect();
        assert!(!polygons.is_empty());
        let inside = |poly: &[DVec3], q: DVec2| {
            let area: f64 =
                (0..poly.len()).map(|k| poly[k].truncate().perp_dot(poly[(k + 1) % poly.len()].truncate())).sum();
            (0..poly.len()).all(|k| {
                let (a, b) = (poly[k].truncate(), poly[(k + 1) % poly.len()].truncate());
                (b - a).perp_dot(q - a) * area.signum() >= 0.0
            })
        };
        for (p, c) in ground.iter().zip(&coords) {
            let covered = polygons.iter().any(|poly| inside(poly, c.truncate()));
            assert_eq!(covered, crosses(*p, to_sun, centre, h), "{p}");
            // The polygons lie on the ground plane.
            assert!(polygons.iter().flatten().all(|q| rays.world(*q).z.abs() < 1e-9));
        }
    }

    /// `candidates` lists exactly the casters `reaches` says may shade the box, in caster order, each
    /// once, for boxes in the region the grid was made for: within one grid cell (its list read as it
    /// is) and across many (lists merged).
    #[test]
    fn candidates_are_the_casters_that_reach_the_box() {
        let mut rays = SunRays::default();
        rays.begin(DVec3::new(0.2, 0.3, 1.0).normalize(), 5.0);
        for k in 0..40 {
            let centre = DVec3::new(f64::from(k % 8) * 0.7 - 2.5, f64::from(k / 8) * 0.9 - 2.0, 0.5 + f64::from(k % 5));
            for f in cube(centre, 0.2 + 0.05 * f64::from(k % 3)) {
                rays.add_face(&f, false);
            }
        }
        let points: Vec<DVec3> = (0..400)
            .map(|k| rays.coords(DVec3::new(-3.0 + 0.3 * f64::from(k % 20), -3.0 + 0.3 * f64::from(k / 20), 0.0)))
            .collect();
        rays.prepare(&points);
        assert!(rays.cols > 4 && rays.rows > 4, "{} x {}", rays.cols, rays.rows);
        let (mut out, mut sizes) = (Vec::new(), [0; 2]);
        for (k, p) in points.iter().enumerate() {
            // Boxes from a hundredth of a cell to several cells wide, at depths below and among the casters.
            let half = rays.cell * [0.01, 0.3, 2.5][k % 3];
            // Within the points' bounds (the region the grid was made for).
            let end = rays.origin + DVec2::new(rays.cols as f64, rays.rows as f64) * rays.cell;
            let (lo, hi) = ((p.truncate() - half).max(rays.origin), (p.truncate() + half).min(end));
            let depth = p.z + [0.0, 2.0, 4.0][k % 3];
            rays.candidates(lo, hi, depth, &mut out);
            let expected: Vec<u32> = (0..rays.count() as u32).filter(|&i| rays.reaches(i, lo, hi, depth)).collect();
            assert_eq!(out, expected, "box {lo}..{hi} at depth {depth}");
            let one_cell = rays.cells_of(lo, hi).is_some_and(|[x0, x1, y0, y1]| x0 == x1 && y0 == y1);
            sizes[usize::from(one_cell)] += usize::from(!expected.is_empty());
        }
        assert!(sizes[0] > 20 && sizes[1] > 20, "boxes with casters over many cells, one cell: {sizes:?}");
    }

    /// The disc's 64 directions are distinct points of the unit disc whose mean is its centre.
    #[test]
    fn disc_points_cover_the_disc() {
        let points: Vec<DVec2> = (0..64).map(disc_point).collect();
        assert!(points.iter().all(|p| p.length() <= 1.0));
        let mean = points.iter().fold(DVec2::ZERO, |s, p| s + *p) / 64.0;
        assert!(mean.length() < 1e-9, "{mean}");
        for (i, a) in points.iter().enumerate() {
            assert!(points[i + 1..].iter().all(|b| (*a - *b).length() > 1e-3));
        }
    }
}
