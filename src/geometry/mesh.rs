//! The unit meshes every object is drawn with, flat shaded (each face has its own vertices and
//! normal), indexed so that a face's corners are shaded once: a box ±1, a 32-segment cylinder of
//! radius 1 spanning z in [-1, 1] and prisms over other polygons. Vertex work dominates on software rasterisers, so this matters.

use crate::conventions::{ROUND_SEGMENTS, round_ring};

/// A corner of a flat-shaded face (CPU side; the GPU's vertex layout is `render`'s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vertex {
    pub position: [f32; 3],
    pub normal: [f32; 3],
}

/// Vertices and triangle indices (counter-clockwise seen from outside).
#[derive(Clone, Debug, Default)]
pub struct Mesh {
    pub vertices: Vec<Vertex>,
    pub indices: Vec<u32>,
}

impl Mesh {
    /// Adds a planar convex polygon (corners counter-clockwise around `normal`) as a triangle fan.
    fn polygon(&mut self, corners: &[[f32; 3]], normal: [f32; 3]) {
        let base = self.vertices.len() as u32;
        self.vertices.extend(corners.iter().map(|&position| Vertex { position, normal }));
        for i in 1..corners.len() as u32 - 1 {
            self.indices.extend([base, base + i, base + i + 1]);
        }
    }

    /// Triangles (local coordinates) as a flat-shaded mesh, each with its own normal; `both_sides` adds
    /// each one again wound the other way (a mesh file, whose winding is not trusted).
    pub fn from_triangles(triangles: &[[[f32; 3]; 3]], both_sides: bool) -> Mesh {
        let mut m = Mesh::default();
        for t in triangles {
            let [a, b, c] = t.map(glam::Vec3::from);
            let n = (b - a).cross(c - a).normalize_or_zero();
            m.polygon(t, n.to_array());
            if both_sides {
                m.polygon(&[t[0], t[2], t[1]], (-n).to_array());
            }
        }
        m
    }

    /// The triangles as vertex triples (for tests).
    pub fn triangles(&self) -> impl Iterator<Item = [Vertex; 3]> + '_ {
        self.indices
            .chunks_exact(3)
            .map(|t| [self.vertices[t[0] as usize], self.vertices[t[1] as usize], self.vertices[t[2] as usize]])
    }
}

/// The unit box: 6 quads.
pub fn unit_box() -> Mesh {
    let mut m = Mesh::default();
    for axis in 0..3 {
        for sign in [1.0f32, -1.0] {
            let (u, w) = ((axis + 1) % 3, (axis + 2) % 3);
            let corner = |a: f32, b: f32| {
                let mut p = [0.0f32; 3];
                p[axis] = sign;
                p[u] = a * sign;
                p[w] = b;
                p
            };
            let mut n = [0.0f32; 3];
            n[axis] = sign;
            m.polygon(&[corner(-1.0, -1.0), corner(1.0, -1.0), corner(1.0, 1.0), corner(-1.0, 1.0)], n);
        }
    }
    m
}

/// The unit cylinder: 32 flat side quads plus the top and bottom 32-gons.
pub fn unit_cylinder() -> Mesh {
    let n = ROUND_SEGMENTS as usize;
    let ring: Vec<[f32; 2]> = round_ring().map(|(c, s)| [c as f32, s as f32]).collect();
    let mut m = Mesh::default();
    for i in 0..n {
        let (p, q) = (ring[i], ring[(i + 1) % n]);
        // A flat side face: its normal points at the middle of the segment.
        let mid = std::f64::consts::TAU * (i as f64 + 0.5) / n as f64;
        let normal = [mid.cos() as f32, mid.sin() as f32, 0.0];
        m.polygon(&[[p[0], p[1], -1.0], [q[0], q[1], -1.0], [q[0], q[1], 1.0], [p[0], p[1], 1.0]], normal);
    }
    let top: Vec<[f32; 3]> = ring.iter().map(|p| [p[0], p[1], 1.0]).collect();
    m.polygon(&top, [0.0, 0.0, 1.0]);
    let bottom: Vec<[f32; 3]> = ring.iter().rev().map(|p| [p[0], p[1], -1.0]).collect();
    m.polygon(&bottom, [0.0, 0.0, -1.0]);
    m
}

/// A unit prism over a convex polygon (corners counter-clockwise on the unit circle, local x, y),
/// z in [-1, 1]: flat side quads (normal perpendicular to the edge) plus the top and bottom polygons.
pub fn unit_prism(ring: &[(f64, f64)]) -> Mesh {
    let n = ring.len();
    let mut m = Mesh::default();
    for i in 0..n {
        let (p, q) = (ring[i], ring[(i + 1) % n]);
        let (ex, ey) = (q.0 - p.0, q.1 - p.1);
        let len = ex.hypot(ey);
        let normal = [(ey / len) as f32, (-ex / len) as f32, 0.0];
        let (p, q) = ([p.0 as f32, p.1 as f32], [q.0 as f32, q.1 as f32]);
        m.polygon(&[[p[0], p[1], -1.0], [q[0], q[1], -1.0], [q[0], q[1], 1.0], [p[0], p[1], 1.0]], normal);
    }
    let top: Vec<[f32; 3]> = ring.iter().map(|p| [p.0 as f32, p.1 as f32, 1.0]).collect();
    m.polygon(&top, [0.0, 0.0, 1.0]);
    let bottom: Vec<[f32; 3]> = ring.iter().rev().map(|p| [p.0 as f32, p.1 as f32, -1.0]).collect();
    m.polygon(&bottom, [0.0, 0.0, -1.0]);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::Vec3;

    /// Every triangle is wound counter-clockwise around its outward normal (back faces can be culled),
    /// and the normals point away from the axis.
    fn check_winding(mesh: &Mesh) {
        for [a, b, c] in mesh.triangles() {
            let [pa, pb, pc] = [a, b, c].map(|v| Vec3::from(v.position));
            let face_normal = (pb - pa).cross(pc - pa);
            assert!(face_normal.dot(Vec3::from(a.normal)) > 0.0, "{a:?} {b:?} {c:?}");
            assert!(Vec3::from(a.normal).dot(pa + pb + pc) > 0.0, "normal points inward: {a:?}");
        }
    }

    #[test]
    fn meshes_are_closed_and_outward() {
        let b = unit_box();
        assert_eq!((b.vertices.len(), b.indices.len()), (24, 36));
        check_winding(&b);
        let c = unit_cylinder();
        assert_eq!((c.vertices.len(), c.indices.len() / 3), (32 * 4 + 64, 32 * 2 + 2 * 30));
        check_winding(&c);
        let t = unit_prism(&crate::conventions::triangle_ring());
        assert_eq!((t.vertices.len(), t.indices.len() / 3), (3 * 4 + 6, 3 * 2 + 2));
        check_winding(&t);
    }
}
