//! The solid of each kind of terminal in a scene, in its local frame (origin = the terminal's centre,
//! as Blender's primitives: offset, tilt and missing act on it unchanged), built once per run:
//! its size and tip from `[pin.square]`, `[pin.round]`, `[pin.triangle]`, or a mesh file from
//! `[pin.meshes]`; how it is drawn; its local bounding box (Blender's `bound_box`), which gives the
//! keypoints; and the outline a missing terminal leaves.
//!
//! Keypoints follow the Blender references: the *top-face centre* is the centre of the top face of
//! the local bounding box. For the seed's shapes that is (0, 0, H) (triangles: (0, r/4, H)); with a
//! pointed tip it is the apex (squares, cylinders) — for a triangle still (0, r/4, H), above the
//! centroid apex (0, 0, H); with a chamfer it is the centre of the smaller top face; for a mesh
//! terminal the centre of the top of its vertices' box.

use super::prism::Prism;
use super::{MeshObject, Object, Shape};
use crate::conventions::{self, PinKind, ROUND_SEGMENTS};
use crate::meshfile::TriangleMesh;
use crate::spec::{PinStyle, Tip, TipStyle};
use glam::{DMat4, DVec3};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How a terminal is drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Draw {
    /// A unit mesh scaled by half extents (the seed's shapes, any size, flat tips, 32 segments).
    Unit { shape: Shape, half_extents: DVec3 },
    /// Triangles in local coordinates: a generated prism with a tip (`closed`: outward-wound, drawn
    /// one-sided), or a mesh file (both sides).
    Mesh { mesh: Arc<TriangleMesh>, closed: bool },
}

/// What a terminal's solid is made of (for its outline).
#[derive(Clone, Debug, PartialEq)]
enum Solid {
    Prism(Prism),
    Mesh(Arc<TriangleMesh>),
}

/// One kind of terminal of the scene.
#[derive(Clone, Debug, PartialEq)]
pub struct TerminalShape {
    pub kind: PinKind,
    /// The pattern letter of a mesh terminal.
    pub letter: Option<char>,
    pub draw: Draw,
    /// Local bounding box (min, max), as Blender's `Object.bound_box`.
    pub bounds: (DVec3, DVec3),
    solid: Solid,
}

impl TerminalShape {
    /// A prism terminal: drawn with a unit mesh when `unit` names one that fits, else with its triangles.
    fn prism(kind: PinKind, prism: Prism, unit: Option<Shape>, bounds: (DVec3, DVec3)) -> TerminalShape {
        let draw = match unit {
            Some(shape) if prism.tip.tip == TipStyle::Flat => {
                Draw::Unit { shape, half_extents: (bounds.1 - bounds.0) / 2.0 }
            }
            _ => Draw::Mesh { mesh: Arc::new(TriangleMesh { triangles: prism.triangles() }), closed: true },
        };
        TerminalShape { kind, letter: None, draw, bounds, solid: Solid::Prism(prism) }
    }

    pub fn square(width: f64, depth: f64, height: f64, tip: Tip) -> TerminalShape {
        let (hx, hy, hz) = (width / 2.0, depth / 2.0, height / 2.0);
        let ring = vec![(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)];
        let h = DVec3::new(hx, hy, hz);
        TerminalShape::prism(PinKind::Square, Prism { ring, half_height: hz, tip }, Some(Shape::Box), (-h, h))
    }

    /// Blender's `primitive_cylinder_add(vertices=segments, radius, depth=height)`. With the seed's 32
    /// flat segments it is the unit cylinder (its corners start at angle 0, the same 32 points).
    pub fn round(radius: f64, height: f64, segments: u32, tip: Tip) -> TerminalShape {
        let hz = height / 2.0;
        let h = DVec3::new(radius, radius, hz);
        if segments == ROUND_SEGMENTS {
            let ring = conventions::round_ring().map(|(c, s)| (radius * c, radius * s)).collect();
            return TerminalShape::prism(
                PinKind::Round,
                Prism { ring, half_height: hz, tip },
                Some(Shape::Cylinder),
                (-h, h),
            );
        }
        let ring: Vec<(f64, f64)> =
            conventions::blender_ring(segments).iter().map(|&(c, s)| (radius * c, radius * s)).collect();
        let prism = Prism { ring, half_height: hz, tip };
        let bounds = prism.bounds();
        TerminalShape::prism(PinKind::Round, prism, None, bounds)
    }

    /// Blender's `primitive_cylinder_add(vertices=3, radius, depth=height)`.
    pub fn triangle(radius: f64, height: f64, tip: Tip) -> TerminalShape {
        let ring = conventions::triangle_ring().iter().map(|&(c, s)| (radius * c, radius * s)).collect();
        let prism = Prism { ring, half_height: height / 2.0, tip };
        let bounds = prism.bounds();
        let mut t = TerminalShape::prism(PinKind::Triangle, prism, Some(Shape::Prism3), bounds);
        // The unit prism has its corners on the unit circle: scale by the radius, not the box.
        if let Draw::Unit { half_extents, .. } = &mut t.draw {
            *half_extents = DVec3::new(radius, radius, height / 2.0);
        }
        t
    }

    /// A terminal from a mesh file: its coordinates are local (origin = the terminal's centre).
    pub fn mesh(letter: char, mesh: Arc<TriangleMesh>) -> TerminalShape {
        let (lo, hi) = mesh.bounds();
        let bounds = (DVec3::from(lo.map(f64::from)), DVec3::from(hi.map(f64::from)));
        TerminalShape {
            kind: PinKind::Mesh,
            letter: Some(letter),
            draw: Draw::Mesh { mesh: mesh.clone(), closed: false },
            bounds,
            solid: Solid::Mesh(mesh),
        }
    }

    /// Top- and bottom-face centres of the local bounding box, in local coordinates.
    pub fn local_face_centres(&self) -> (DVec3, DVec3) {
        let (min, max) = self.bounds;
        let c = (min + max) / 2.0;
        (DVec3::new(c.x, c.y, max.z), DVec3::new(c.x, c.y, min.z))
    }

    /// Every corner of the solid at or above local height `low`, clipped there (local coordinates):
    /// the convex hull of their projections is the outline of the part above `low`.
    pub fn points_above(&self, low: f64) -> Vec<DVec3> {
        match &self.solid {
            Solid::Prism(p) => p.points_above(low),
            Solid::Mesh(m) => {
                let mut out = Vec::new();
                for t in &m.triangles {
                    let v = t.map(|p| DVec3::from(p.map(f64::from)));
                    out.extend(v.iter().filter(|p| p.z >= low));
                    for i in 0..3 {
                        let (a, b) = (v[i], v[(i + 1) % 3]);
                        if (a.z < low) != (b.z < low) {
                            let q = a.lerp(b, (low - a.z) / (b.z - a.z));
                            out.push(DVec3::new(q.x, q.y, low));
                        }
                    }
                }
                out
            }
        }
    }

    /// The solid's mesh at its real size in its local frame (what a bend edits).
    pub fn local_mesh(&self) -> super::mesh::Mesh {
        match &self.draw {
            Draw::Unit { shape, half_extents } => {
                let mut m = shape.mesh();
                let h = half_extents.as_vec3();
                for v in &mut m.vertices {
                    v.position = (glam::Vec3::from(v.position) * h).to_array();
                }
                m
            }
            Draw::Mesh { mesh, closed } => super::mesh::Mesh::from_triangles(&mesh.triangles, !closed),
        }
    }

    /// The object to draw at `transform` (rigid, world).
    pub fn drawable(&self, transform: DMat4, color: [f64; 3], label: u8) -> Drawable {
        match &self.draw {
            Draw::Unit { shape, half_extents } => {
                Drawable::Unit(Object { shape: *shape, rigid: transform, half_extents: *half_extents, color, label })
            }
            Draw::Mesh { mesh, closed } => {
                Drawable::Mesh(MeshObject { mesh: mesh.clone(), transform, color, label, closed: *closed })
            }
        }
    }
}

/// A terminal drawn with a unit mesh or with triangles.
pub enum Drawable {
    Unit(Object),
    Mesh(MeshObject),
}

/// The terminal shapes of one scene, built once per run and shared by every image.
#[derive(Clone, Debug)]
pub struct Terminals {
    pub square: Arc<TerminalShape>,
    pub round: Arc<TerminalShape>,
    pub triangle: Arc<TerminalShape>,
    pub meshes: BTreeMap<char, Arc<TerminalShape>>,
}

impl Terminals {
    pub fn new(pin: &PinStyle) -> Terminals {
        let (s, r, t) = (&pin.square, &pin.round, &pin.triangle);
        Terminals {
            square: Arc::new(TerminalShape::square(s.width, s.depth, s.height, s.tip)),
            round: Arc::new(TerminalShape::round(r.radius, r.height, r.segments, r.tip)),
            triangle: Arc::new(TerminalShape::triangle(t.radius, t.height, t.tip)),
            meshes: pin
                .meshes
                .iter()
                .filter_map(|(k, m)| k.chars().next().map(|c| (c, Arc::new(TerminalShape::mesh(c, m.mesh.clone())))))
                .collect(),
        }
    }

    /// The shape of a terminal of `kind` (and pattern letter, for a mesh terminal); None only for a
    /// mesh letter the scene does not define (validation refuses those).
    pub fn get(&self, kind: PinKind, letter: Option<char>) -> Option<&Arc<TerminalShape>> {
        match kind {
            PinKind::Square => Some(&self.square),
            PinKind::Round => Some(&self.round),
            PinKind::Triangle => Some(&self.triangle),
            PinKind::Mesh => self.meshes.get(&letter?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blender's `primitive_cylinder_add(vertices=3, radius=0.25)`: corners (0, 0.25), (±0.216506, -0.125);
    /// its bound_box x ±0.216506, y [-0.125, 0.25], so the top keypoint is (0, 0.0625, 1).
    #[test]
    fn triangle_matches_blender() {
        let t = TerminalShape::triangle(0.25, 2.0, Tip::FLAT);
        let (min, max) = t.bounds;
        assert!((min - DVec3::new(-0.216506, -0.125, -1.0)).abs().max_element() < 1e-6, "{min}");
        assert!((max - DVec3::new(0.216506, 0.25, 1.0)).abs().max_element() < 1e-6, "{max}");
        let (top, _) = t.local_face_centres();
        assert!((top - DVec3::new(0.0, 0.0625, 1.0)).length() < 1e-12, "{top}");
        assert_eq!(t.draw, Draw::Unit { shape: Shape::Prism3, half_extents: DVec3::new(0.25, 0.25, 1.0) });
    }

    /// The seed's shapes are the unit meshes at the seed's sizes; other segment counts and tips are
    /// generated triangles; the bounding box (and so the keypoints) ignores the tip.
    #[test]
    fn seed_shapes_are_unit_meshes_and_others_are_generated() {
        let pin = crate::spec::Scene::parse("[sweep]\n", std::path::Path::new("t.toml"), &[]).unwrap().pin;
        let t = Terminals::new(&pin);
        assert_eq!(t.square.draw, Draw::Unit { shape: Shape::Box, half_extents: DVec3::new(0.25, 0.25, 1.0) });
        assert_eq!(t.round.draw, Draw::Unit { shape: Shape::Cylinder, half_extents: DVec3::new(0.25, 0.25, 1.0) });
        let hex = TerminalShape::round(0.3, 1.5, 6, Tip::FLAT);
        let Draw::Mesh { mesh: m, closed: true } = &hex.draw else { panic!("a hexagonal terminal is generated") };
        assert_eq!(m.triangles.len(), 4 + 12 + 4);
        // Blender's first corner is at (0, r): the box is x ±r·sin 60°, y ±r.
        assert!((hex.bounds.1 - DVec3::new(0.3 * 3f64.sqrt() / 2.0, 0.3, 0.75)).length() < 1e-12, "{:?}", hex.bounds);
        let pointed = TerminalShape::square(0.6, 0.4, 2.0, Tip { tip: TipStyle::Pointed, tip_length: Some(0.3) });
        assert_eq!(pointed.local_face_centres().0, DVec3::new(0.0, 0.0, 1.0));
        assert!(matches!(pointed.draw, Draw::Mesh { closed: true, .. }));
    }

    /// A mesh terminal's outline above a height includes the points where its edges cross it.
    #[test]
    fn mesh_points_above_are_clipped() {
        let tri = TriangleMesh { triangles: vec![[[0.0, 0.0, -1.0], [1.0, 0.0, -1.0], [0.0, 0.0, 1.0]]] };
        let s = TerminalShape::mesh('B', Arc::new(tri));
        let pts = s.points_above(0.0);
        assert_eq!(pts.len(), 3);
        assert!(pts.contains(&DVec3::new(0.5, 0.0, 0.0)) && pts.contains(&DVec3::new(0.0, 0.0, 0.0)));
        assert_eq!(s.local_face_centres().0, DVec3::new(0.5, 0.0, 1.0));
    }
}
