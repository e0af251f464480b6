//! The vertex layout the GPU reads (f32 position and normal, `#[repr(C)]`), for the unit meshes of
//! [`crate::geometry::mesh`] and for mesh files.

use crate::geometry::mesh;
use crate::meshfile::TriangleMesh;
use bytemuck::{Pod, Zeroable};

/// One vertex as the geometry pipeline's vertex buffer 0 holds it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq)]
pub struct GpuVertex {
    pub position: [f32; 3],
    pub normal: [f32; 3],
}

impl From<mesh::Vertex> for GpuVertex {
    fn from(v: mesh::Vertex) -> GpuVertex {
        GpuVertex { position: v.position, normal: v.normal }
    }
}

/// A closed solid's triangles, each counter-clockwise seen from outside (generated terminals), for
/// drawing one-sided: each triangle once with its flat normal; corners with the same position and
/// normal share a vertex (a face's corners are shaded once).
pub fn single_sided(m: &TriangleMesh) -> (Vec<GpuVertex>, Vec<u32>) {
    sided(m, false)
}

/// A mesh file's triangles for drawing: each triangle twice, once per side, with its flat normal (a
/// file's winding is not trusted, and Blender draws both sides too), so back-face culling keeps
/// exactly the side facing the camera. Corners with the same position and normal (neighbours in one
/// plane) share a vertex, so a finely tessellated CAD face is shaded once per corner, not per triangle.
pub fn double_sided(m: &TriangleMesh) -> (Vec<GpuVertex>, Vec<u32>) {
    sided(m, true)
}

fn sided(m: &TriangleMesh, both: bool) -> (Vec<GpuVertex>, Vec<u32>) {
    let mut vertices: Vec<GpuVertex> = Vec::new();
    let mut indices: Vec<u32> = Vec::with_capacity(m.triangles.len() * 6);
    let mut seen: std::collections::HashMap<[u32; 6], u32> = std::collections::HashMap::new();
    let mut corner = |position: [f32; 3], normal: [f32; 3]| {
        let key = [position, normal].concat();
        let key: [u32; 6] = std::array::from_fn(|i| key[i].to_bits());
        *seen.entry(key).or_insert_with(|| {
            vertices.push(GpuVertex { position, normal });
            vertices.len() as u32 - 1
        })
    };
    for [a, b, c] in &m.triangles {
        let (va, vb, vc) = (glam::Vec3::from(*a), glam::Vec3::from(*b), glam::Vec3::from(*c));
        let n = (vb - va).cross(vc - va).normalize_or_zero().to_array();
        let back = [-n[0], -n[1], -n[2]];
        let sides = [(*a, n), (*b, n), (*c, n), (*a, back), (*c, back), (*b, back)];
        for &(p, normal) in &sides[..if both { 6 } else { 3 }] {
            let i = corner(p, normal);
            indices.push(i);
        }
    }
    (vertices, indices)
}
