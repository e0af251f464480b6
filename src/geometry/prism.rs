//! A terminal's solid when it is not one of the unit meshes: a prism over a convex cross-section
//! (scene units, local x, y, corners counter-clockwise) from z = −H to +H, whose last `tip_length`
//! is a point or a 45° chamfer. The same solid gives the triangles to draw and the outline of a
//! missing terminal, so both agree.
//!
//! * flat: the cross-section up to z = H;
//! * pointed: the cross-section up to z = H − L, then triangles to the apex (0, 0, H) on the axis
//!   (Blender's `bmesh.ops.poke` of the top face at its mean centre, moved up by L: the same point
//!   for the regular polygons and rectangles used here);
//! * chamfer: the cross-section up to z = H − L, then the top face at z = H inset by L (each edge
//!   moved inward by L, as Blender's `inset_region` with even offset).

use crate::spec::{Tip, TipStyle};
use glam::{DVec2, DVec3};

/// A prism with its tip, in local coordinates (scene units).
#[derive(Clone, Debug, PartialEq)]
pub struct Prism {
    /// Cross-section corners, counter-clockwise.
    pub ring: Vec<(f64, f64)>,
    /// Half the height: the solid spans z in [−H, H].
    pub half_height: f64,
    pub tip: Tip,
}

impl Prism {
    /// The rings of the solid from bottom to top (z, corners); a pointed tip ends in one corner.
    pub fn rings(&self) -> Vec<(f64, Vec<(f64, f64)>)> {
        let h = self.half_height;
        let l = self.tip.length();
        match self.tip.tip {
            TipStyle::Flat => vec![(-h, self.ring.clone()), (h, self.ring.clone())],
            TipStyle::Pointed => vec![(-h, self.ring.clone()), (h - l, self.ring.clone()), (h, vec![(0.0, 0.0)])],
            TipStyle::Chamfer => {
                vec![(-h, self.ring.clone()), (h - l, self.ring.clone()), (h, inset(&self.ring, l))]
            }
        }
    }

    /// The solid's triangles (f32, scene units), each counter-clockwise seen from outside: the renderer
    /// draws them one-sided.
    pub fn triangles(&self) -> Vec<[[f32; 3]; 3]> {
        let rings = self.rings();
        let p = |x: f64, y: f64, z: f64| [x as f32, y as f32, z as f32];
        let mut out = Vec::new();
        let fan = |out: &mut Vec<[[f32; 3]; 3]>, z: f64, ring: &[(f64, f64)]| {
            for i in 1..ring.len().saturating_sub(1) {
                out.push([p(ring[0].0, ring[0].1, z), p(ring[i].0, ring[i].1, z), p(ring[i + 1].0, ring[i + 1].1, z)]);
            }
        };
        let (z0, bottom) = &rings[0];
        // The bottom faces down: its corners clockwise seen from above.
        let reversed: Vec<(f64, f64)> = bottom.iter().rev().copied().collect();
        fan(&mut out, *z0, &reversed);
        for w in rings.windows(2) {
            let ((za, a), (zb, b)) = (&w[0], &w[1]);
            let n = a.len();
            for i in 0..n {
                let j = (i + 1) % n;
                if b.len() == 1 {
                    out.push([p(a[i].0, a[i].1, *za), p(a[j].0, a[j].1, *za), p(b[0].0, b[0].1, *zb)]);
                } else {
                    out.push([p(a[i].0, a[i].1, *za), p(a[j].0, a[j].1, *za), p(b[j].0, b[j].1, *zb)]);
                    out.push([p(a[i].0, a[i].1, *za), p(b[j].0, b[j].1, *zb), p(b[i].0, b[i].1, *zb)]);
                }
            }
        }
        let (zt, top) = &rings[rings.len() - 1];
        if top.len() > 2 {
            fan(&mut out, *zt, top);
        }
        out
    }

    /// Every corner of the solid at or above `low` (clipped there): the convex hull of their
    /// projections is the outline of the part above `low`.
    pub fn points_above(&self, low: f64) -> Vec<DVec3> {
        let rings = self.rings();
        let mut out = Vec::new();
        for w in rings.windows(2) {
            let ((za, a), (zb, b)) = (&w[0], &w[1]);
            if *zb < low {
                continue;
            }
            // The lower ring, clipped at `low` along the straight edges to the upper ring.
            let t = if *za >= low { 0.0 } else { (low - za) / (zb - za) };
            for (i, pa) in a.iter().enumerate() {
                let pb = if b.len() == 1 { b[0] } else { b[i] };
                let q = DVec2::from(*pa).lerp(DVec2::from(pb), t);
                out.push(DVec3::new(q.x, q.y, za + (zb - za) * t));
            }
            out.extend(b.iter().map(|&(x, y)| DVec3::new(x, y, *zb)));
        }
        out
    }

    /// The local bounding box (Blender's `bound_box`): the cross-section's extent, z in [−H, H].
    pub fn bounds(&self) -> (DVec3, DVec3) {
        let (x, y) = (self.ring.iter().map(|p| p.0), self.ring.iter().map(|p| p.1));
        let h = self.half_height;
        (
            DVec3::new(x.clone().fold(f64::INFINITY, f64::min), y.clone().fold(f64::INFINITY, f64::min), -h),
            DVec3::new(x.fold(f64::NEG_INFINITY, f64::max), y.fold(f64::NEG_INFINITY, f64::max), h),
        )
    }
}

/// A convex polygon (counter-clockwise) with every edge moved inward by `d`: each corner moves along
/// the bisector of its two edges' inward normals, by `d / cos(half the turn)`.
pub fn inset(ring: &[(f64, f64)], d: f64) -> Vec<(f64, f64)> {
    let n = ring.len();
    let pt = |i: usize| DVec2::from(ring[i % n]);
    // Outward normal of the edge from corner i to corner i + 1 (counter-clockwise ring: right of the edge).
    let normal = |i: usize| {
        let e = (pt(i + 1) - pt(i)).normalize();
        DVec2::new(e.y, -e.x)
    };
    (0..n)
        .map(|i| {
            let (n1, n2) = (normal(i + n - 1), normal(i));
            let q = pt(i) - d * (n1 + n2) / (1.0 + n1.dot(n2));
            (q.x, q.y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(h: f64) -> Vec<(f64, f64)> {
        vec![(-h, -h), (h, -h), (h, h), (-h, h)]
    }

    #[test]
    fn inset_moves_every_edge_by_d() {
        let r = inset(&[(-0.5, -0.25), (0.5, -0.25), (0.5, 0.25), (-0.5, 0.25)], 0.1);
        let want = [(-0.4, -0.15), (0.4, -0.15), (0.4, 0.15), (-0.4, 0.15)];
        for (a, b) in r.iter().zip(want) {
            assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12, "{r:?}");
        }
        // A regular triangle of circumradius 0.25 (inradius 0.125) inset by 0.05: circumradius 0.15.
        let t = inset(&crate::conventions::triangle_ring().map(|(x, y)| (0.25 * x, 0.25 * y)), 0.05);
        assert!(t.iter().all(|p| (p.0.hypot(p.1) - 0.15).abs() < 1e-12), "{t:?}");
    }

    /// A pointed square prism: 4 bottom-fan + 8 side + 4 tip triangles; its clipped corners at the
    /// tip's base are exactly the ring; the apex is on the axis.
    #[test]
    fn pointed_prism_solid() {
        let p =
            Prism { ring: square(0.25), half_height: 1.0, tip: Tip { tip: TipStyle::Pointed, tip_length: Some(0.5) } };
        let t = p.triangles();
        assert_eq!(t.len(), 2 + 8 + 4);
        assert!(t.iter().flatten().any(|v| *v == [0.0, 0.0, 1.0]));
        let above = p.points_above(0.75);
        // Between z = 0.5 and 1 the solid narrows: at 0.75 the clipped ring has half width 0.125.
        assert!(above.iter().any(|q| (q.x - 0.125).abs() < 1e-12 && (q.z - 0.75).abs() < 1e-12), "{above:?}");
        assert!(above.iter().all(|q| q.z >= 0.75 - 1e-12));
        assert_eq!(p.bounds(), (DVec3::new(-0.25, -0.25, -1.0), DVec3::new(0.25, 0.25, 1.0)));
    }

    /// The triangles are drawn one-sided: each must face away from the (convex) solid's inside.
    #[test]
    fn triangles_face_outward() {
        let hex: Vec<(f64, f64)> = crate::conventions::blender_ring(6).iter().map(|p| (0.3 * p.0, 0.3 * p.1)).collect();
        for tip in [
            Tip::FLAT,
            Tip { tip: TipStyle::Pointed, tip_length: Some(0.4) },
            Tip { tip: TipStyle::Chamfer, tip_length: Some(0.1) },
        ] {
            for ring in [square(0.25), hex.clone()] {
                let p = Prism { ring, half_height: 1.0, tip };
                for t in p.triangles() {
                    let [a, b, c] = t.map(|v| DVec3::from(v.map(f64::from)));
                    let n = (b - a).cross(c - a);
                    assert!(n.length() > 1e-9, "degenerate {t:?}");
                    assert!(n.dot((a + b + c) / 3.0) > 0.0, "{tip:?}: {t:?} faces inward");
                }
            }
        }
    }

    #[test]
    fn chamfer_prism_has_a_smaller_top_face() {
        let p =
            Prism { ring: square(0.25), half_height: 1.0, tip: Tip { tip: TipStyle::Chamfer, tip_length: Some(0.1) } };
        let rings = p.rings();
        assert_eq!(rings.len(), 3);
        assert!((rings[2].1[0].0 + 0.15).abs() < 1e-12 && (rings[1].0 - 0.9).abs() < 1e-12);
        // bottom fan 2, sides 8 + 8, top fan 2
        assert_eq!(p.triangles().len(), 20);
    }
}
