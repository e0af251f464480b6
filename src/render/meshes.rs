//! The unit meshes the renderer draws, divided finely enough that the light baked into their vertices
//! (sky visibility and bounce light, [`super::bake`]) can be interpolated across a face: the sides of a
//! terminal in bands along its height (denser near its foot, where the housing and the neighbours hide
//! the sky), the housing's top as a grid. Faces stay flat shaded: every face has its own vertices and
//! normal, except the housing top's grid, which is one flat face and shares them.

use crate::conventions::ROUND_SEGMENTS;
use crate::geometry::Shape;
use crate::geometry::mesh::{Mesh, Vertex};

/// Heights (local z, -1 = foot, 1 = tip) at which terminal sides are cut.
const BOX_LEVELS: [f32; 4] = [-1.0, -0.7, -0.35, 1.0];
const CYLINDER_LEVELS: [f32; 3] = [-1.0, -0.7, 1.0];
/// Cells of the housing top along x and y.
pub const SLAB_GRID: (u32, u32) = (12, 32);

fn quad(m: &mut Mesh, corners: [[f32; 3]; 4], normal: [f32; 3]) {
    let base = m.vertices.len() as u16;
    m.vertices.extend(corners.iter().map(|&position| Vertex { position, normal }));
    m.indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
}

fn polygon(m: &mut Mesh, corners: &[[f32; 3]], normal: [f32; 3]) {
    let base = m.vertices.len() as u16;
    m.vertices.extend(corners.iter().map(|&position| Vertex { position, normal }));
    for i in 1..corners.len() as u16 - 1 {
        m.indices.extend([base, base + i, base + i + 1]);
    }
}

/// A side strip of a prism between consecutive `levels`: the segment from `p` to `q` (x, y) swept in z.
fn side(m: &mut Mesh, p: [f32; 2], q: [f32; 2], normal: [f32; 3], levels: &[f32], across: u32) {
    for w in levels.windows(2) {
        for k in 0..across {
            let a = |s: f32| [p[0] + (q[0] - p[0]) * s, p[1] + (q[1] - p[1]) * s];
            let (s0, s1) = (k as f32 / across as f32, (k + 1) as f32 / across as f32);
            let (u, v) = (a(s0), a(s1));
            quad(m, [[u[0], u[1], w[0]], [v[0], v[1], w[0]], [v[0], v[1], w[1]], [u[0], u[1], w[1]]], normal);
        }
    }
}

/// The unit box ±1: sides in bands of [`BOX_LEVELS`], two columns each; one quad top and bottom.
pub fn terminal_box() -> Mesh {
    let mut m = Mesh::default();
    let c = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]];
    let normals = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]];
    for i in 0..4 {
        side(&mut m, c[i], c[(i + 1) % 4], normals[i], &BOX_LEVELS, 1);
    }
    quad(&mut m, [[-1.0, -1.0, 1.0], [1.0, -1.0, 1.0], [1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]], [0.0, 0.0, 1.0]);
    quad(&mut m, [[-1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [1.0, -1.0, -1.0]], [0.0, 0.0, -1.0]);
    m
}

/// The unit cylinder (radius 1, z in ±1, [`ROUND_SEGMENTS`] flat sides in bands of
/// [`CYLINDER_LEVELS`]), its first corner at angle 0.
pub fn terminal_cylinder() -> Mesh {
    let n = ROUND_SEGMENTS as usize;
    let ring: Vec<[f32; 2]> = (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            [a.cos() as f32, a.sin() as f32]
        })
        .collect();
    let mut m = Mesh::default();
    for i in 0..n {
        let mid = std::f64::consts::TAU * (i as f64 + 0.5) / n as f64;
        side(&mut m, ring[i], ring[(i + 1) % n], [mid.cos() as f32, mid.sin() as f32, 0.0], &CYLINDER_LEVELS, 1);
    }
    let top: Vec<[f32; 3]> = ring.iter().map(|p| [p[0], p[1], 1.0]).collect();
    polygon(&mut m, &top, [0.0, 0.0, 1.0]);
    let bottom: Vec<[f32; 3]> = ring.iter().rev().map(|p| [p[0], p[1], -1.0]).collect();
    polygon(&mut m, &bottom, [0.0, 0.0, -1.0]);
    m
}

/// The unit box with its top as a [`SLAB_GRID`] grid of shared vertices (the housing).
pub fn housing_slab() -> Mesh {
    let mut m = Mesh::default();
    let (nx, ny) = SLAB_GRID;
    for j in 0..=ny {
        for i in 0..=nx {
            let (x, y) = (-1.0 + 2.0 * i as f32 / nx as f32, -1.0 + 2.0 * j as f32 / ny as f32);
            m.vertices.push(Vertex { position: [x, y, 1.0], normal: [0.0, 0.0, 1.0] });
        }
    }
    let at = |i: u32, j: u32| (j * (nx + 1) + i) as u16;
    for j in 0..ny {
        for i in 0..nx {
            m.indices.extend([at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j), at(i + 1, j + 1), at(i, j + 1)]);
        }
    }
    let c = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]];
    let normals = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]];
    for i in 0..4 {
        side(&mut m, c[i], c[(i + 1) % 4], normals[i], &[-1.0, 1.0], 1);
    }
    quad(&mut m, [[-1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [1.0, -1.0, -1.0]], [0.0, 0.0, -1.0]);
    m
}

/// The mesh each shape is drawn with.
pub fn of(shape: Shape) -> Mesh {
    match shape {
        Shape::Box => terminal_box(),
        Shape::Cylinder => terminal_cylinder(),
        Shape::Slab => housing_slab(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::Vec3;

    /// Every triangle is wound counter-clockwise around its outward normal (back faces are culled).
    fn check_winding(mesh: &Mesh) {
        for [a, b, c] in mesh.triangles() {
            let [pa, pb, pc] = [a, b, c].map(|v| Vec3::from(v.position));
            let face_normal = (pb - pa).cross(pc - pa);
            assert!(face_normal.dot(Vec3::from(a.normal)) > 0.0, "{a:?} {b:?} {c:?}");
        }
    }

    #[test]
    fn render_meshes_are_outward_and_cover_the_unit_shapes() {
        for shape in Shape::ALL {
            let m = of(shape);
            check_winding(&m);
            // Total area of the faces pointing up = the unit top (4 for the square, the 32-gon's area).
            let up: f32 = m
                .triangles()
                .filter(|t| t[0].normal[2] > 0.5)
                .map(|[a, b, c]| {
                    let [pa, pb, pc] = [a, b, c].map(|v| Vec3::from(v.position));
                    (pb - pa).cross(pc - pa).length() / 2.0
                })
                .sum();
            let want = if shape == Shape::Cylinder { 16.0 * (std::f32::consts::TAU / 32.0).sin() } else { 4.0 };
            assert!((up - want).abs() < 1e-4, "{shape:?}: top area {up}, expected {want}");
        }
    }
}
