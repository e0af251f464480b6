//! Bending a terminal's mesh ([`Bend`], the rule in `conventions`): a general operation on any
//! triangle mesh, so it applies to every terminal shape, built-in or from a file.
//!
//! 1. Cut: every triangle that has corners strictly on both sides of the plane `z = cut` is split along
//!    the plane into a lower and an upper convex piece (fanned into triangles); the new corners lie
//!    exactly on the plane, so the side gets a vertex row there. Triangles on one side (or touching the
//!    plane) stay whole.
//! 2. Turn: every corner strictly above the plane turns about the pivot with the bend's rotation, its
//!    normal too; corners on or below the plane stay.
//!
//! Blender does the same with `bmesh.ops.bisect_plane` and a rotate of the vertices above the cut
//! (`tests/data/blender-geometry/bent.py`); its quads are cut into two quads where this cuts triangles,
//! which gives the same surface wherever the faces stay planar.

use super::mesh::{Mesh, Vertex};
use crate::conventions::Bend;
use crate::meshfile::TriangleMesh;
use glam::DVec3;

/// A corner in f64 while cutting: position and normal.
#[derive(Clone, Copy, Debug)]
struct Corner {
    p: DVec3,
    n: DVec3,
}

impl Corner {
    fn of(v: &Vertex) -> Corner {
        Corner { p: DVec3::from(v.position.map(f64::from)), n: DVec3::from(v.normal.map(f64::from)) }
    }
}

/// `mesh` (local frame, real size, bottom at local z = `bottom_z`) bent by `bend`. The result is
/// unindexed-equivalent (three fresh vertices per triangle), counter-clockwise as the input.
pub fn bend_mesh(mesh: &Mesh, bend: &Bend, bottom_z: f64) -> Mesh {
    let mut out = Mesh::default();
    let triangles =
        mesh.indices.chunks_exact(3).map(|t| [t[0], t[1], t[2]].map(|i| Corner::of(&mesh.vertices[i as usize])));
    bend_corners(triangles, bend, bottom_z, |c| {
        out.vertices.push(Vertex { position: c.p.as_vec3().to_array(), normal: c.n.as_vec3().to_array() });
        out.indices.push((out.vertices.len() - 1) as u32);
    });
    debug_assert!(out.vertices.len() <= u16::MAX as usize, "built-in terminal meshes are small");
    out
}

/// A triangle soup (a terminal from a mesh file: local frame, scene units) bent by `bend`, with the
/// same cut and turn as [`bend_mesh`]; any size (no 16-bit indices).
pub fn bend_triangles(mesh: &TriangleMesh, bend: &Bend, bottom_z: f64) -> TriangleMesh {
    let triangles = mesh.triangles.iter().map(|t| {
        let [a, b, c] = t.map(|p| DVec3::from(p.map(f64::from)));
        let n = (b - a).cross(c - a).normalize_or_zero();
        [a, b, c].map(|p| Corner { p, n })
    });
    let mut corners: Vec<[f32; 3]> = Vec::new();
    bend_corners(triangles, bend, bottom_z, |c| corners.push(c.p.as_vec3().to_array()));
    TriangleMesh { triangles: corners.chunks_exact(3).map(|t| [t[0], t[1], t[2]]).collect() }
}

/// The cut and the turn over any triangles; `emit` gets the output corners, three per triangle.
fn bend_corners(
    triangles: impl Iterator<Item = [Corner; 3]>,
    bend: &Bend,
    bottom_z: f64,
    mut emit: impl FnMut(Corner),
) {
    let pivot = bend.pivot(bottom_z);
    let cut = pivot.z;
    let rotation = bend.rotation();
    let mut polygon = |polygon: &[Corner]| {
        for i in 1..polygon.len().saturating_sub(1) {
            for c in [polygon[0], polygon[i], polygon[i + 1]] {
                emit(if c.p.z > cut { Corner { p: pivot + rotation * (c.p - pivot), n: rotation * c.n } } else { c });
            }
        }
    };
    for tri in triangles {
        let above = tri.iter().any(|c| c.p.z > cut);
        let below = tri.iter().any(|c| c.p.z < cut);
        if !(above && below) {
            polygon(&tri);
            continue;
        }
        // Sutherland–Hodgman against the plane, both halves at once, keeping the corner order.
        let (mut lower, mut upper) = (Vec::with_capacity(4), Vec::with_capacity(4));
        for i in 0..3 {
            let (a, b) = (tri[i], tri[(i + 1) % 3]);
            if a.p.z <= cut {
                lower.push(a);
            }
            if a.p.z >= cut {
                upper.push(a);
            }
            if (a.p.z - cut) * (b.p.z - cut) < 0.0 {
                let s = (cut - a.p.z) / (b.p.z - a.p.z);
                let mut p = a.p.lerp(b.p, s);
                p.z = cut; // exactly on the plane: the cut row never turns
                let n = a.n.lerp(b.n, s).normalize_or_zero();
                lower.push(Corner { p, n });
                upper.push(Corner { p, n });
            }
        }
        polygon(&lower);
        polygon(&upper);
    }
}

/// The smallest and largest local coordinates of a mesh's corners (Blender's `bound_box` of an edited
/// mesh).
pub fn bounds(mesh: &Mesh) -> (DVec3, DVec3) {
    mesh.vertices.iter().fold((DVec3::INFINITY, DVec3::NEG_INFINITY), |(lo, hi), v| {
        let p = DVec3::from(v.position.map(f64::from));
        (lo.min(p), hi.max(p))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::mesh::unit_box;

    fn scaled_box() -> Mesh {
        let mut m = unit_box();
        for v in &mut m.vertices {
            v.position = [v.position[0] * 0.25, v.position[1] * 0.25, v.position[2]];
        }
        m
    }

    /// Volume by the divergence theorem (closed, consistently wound meshes).
    fn volume(m: &Mesh) -> f64 {
        m.triangles()
            .map(|[a, b, c]| {
                let [a, b, c] = [a, b, c].map(|v| DVec3::from(v.position.map(f64::from)));
                a.dot(b.cross(c)) / 6.0
            })
            .sum()
    }

    #[test]
    fn the_cut_adds_a_vertex_row_and_only_the_part_above_turns() {
        let m = scaled_box();
        let bend = Bend { height: 1.2, angle_deg: 30.0, azimuth_deg: 90.0 };
        let b = bend_mesh(&m, &bend, -1.0);
        let cut = 0.2;
        // Every corner of the box's side faces at the cut height is present, on the plane.
        for (x, y) in [(-0.25, -0.25), (0.25, -0.25), (0.25, 0.25), (-0.25, 0.25)] {
            assert!(
                b.vertices.iter().any(|v| {
                    let p = DVec3::from(v.position.map(f64::from));
                    (p - DVec3::new(x, y, cut)).length() < 1e-6
                }),
                "no cut vertex at ({x}, {y})"
            );
        }
        // Below the plane nothing moved: the bottom corners are the box's.
        let (lo, hi) = bounds(&b);
        assert!((lo.z + 1.0).abs() < 1e-6, "{lo}");
        // Azimuth 90°: the top turns toward +Y, about the X axis through (0, 0, 0.2).
        let r = bend.rotation();
        let top_corner = DVec3::new(0.0, 0.0, cut) + r * DVec3::new(0.25, 0.25, 0.8);
        assert!((hi.y - top_corner.y).abs() < 1e-6, "{hi} vs {top_corner}");
        assert!((lo.x + 0.25).abs() < 1e-6 && (hi.x - 0.25).abs() < 1e-6, "x unchanged: {lo} {hi}");
        // The top face centre goes where Bend::apply says.
        let top = bend.apply(DVec3::new(0.0, 0.0, 1.0), -1.0);
        let (s, c) = 30f64.to_radians().sin_cos();
        assert!((top - DVec3::new(0.0, 0.8 * s, cut + 0.8 * c)).length() < 1e-12, "{top}");
        // Still closed and outward: the volume is the box's lower part plus the sheared upper part.
        let v = volume(&b);
        assert!(v > 0.0 && (v - volume(&m)).abs() < 0.05, "{v} vs {}", volume(&m));
    }

    #[test]
    fn a_zero_angle_or_a_cut_above_the_top_changes_no_surface() {
        let m = scaled_box();
        for bend in [
            Bend { height: 0.7, angle_deg: 0.0, azimuth_deg: 10.0 },
            Bend { height: 2.0, angle_deg: 40.0, azimuth_deg: 0.0 },
        ] {
            let b = bend_mesh(&m, &bend, -1.0);
            assert!((volume(&b) - volume(&m)).abs() < 1e-6);
            assert_eq!(bounds(&b), bounds(&m));
        }
    }

    #[test]
    fn azimuth_zero_bends_toward_plus_x() {
        let bend = Bend { height: 1.0, angle_deg: 20.0, azimuth_deg: 0.0 };
        let top = bend.apply(DVec3::new(0.0, 0.0, 1.0), -1.0);
        assert!(top.x > 0.3 && top.y.abs() < 1e-12 && top.z < 1.0, "{top}");
        let back = Bend { angle_deg: -20.0, ..bend }.apply(DVec3::new(0.0, 0.0, 1.0), -1.0);
        assert!((back.x + top.x).abs() < 1e-12);
    }

    #[test]
    fn a_triangle_soup_bends_like_the_mesh() {
        let m = scaled_box();
        let bend = Bend { height: 0.8, angle_deg: -35.0, azimuth_deg: 200.0 };
        let soup = TriangleMesh { triangles: m.triangles().map(|t| t.map(|v| v.position)).collect() };
        let a: Vec<[[f32; 3]; 3]> = bend_mesh(&m, &bend, -1.0).triangles().map(|t| t.map(|v| v.position)).collect();
        assert_eq!(bend_triangles(&soup, &bend, -1.0).triangles, a);
        assert!(a.len() > m.indices.len() / 3, "the cut adds triangles");
    }
}
