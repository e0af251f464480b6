//! Geometry of one image: which objects stand where (terminals with their defect applied, the
//! housing), the camera and the sun, all in world space. Pure CPU, f64; the renderer and the ground
//! truth both read the same [`Posed`] scene, so pixels and annotations cannot disagree.

pub mod mesh;

use crate::conventions::{self, Camera, PinKind};
use crate::params::ImageParams;
use crate::spec::{Light, Scene};
use glam::{DMat4, DVec2, DVec3};

/// Which mesh an object is drawn with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The unit box, ±1 on every axis.
    Box,
    /// The unit cylinder: radius 1, z in [-1, 1], 32 flat segments.
    Cylinder,
    /// The unit box with finely divided top and bottom faces (the housing).
    Slab,
    /// The unit triangular prism: corners on the unit circle from (0, 1), z in [-1, 1].
    Prism3,
}

impl Shape {
    /// Every shape, in the renderer's draw order (new shapes go last: the others keep their place).
    pub const ALL: [Shape; 4] = [Shape::Box, Shape::Cylinder, Shape::Slab, Shape::Prism3];

    pub fn mesh(self) -> mesh::Mesh {
        match self {
            Shape::Box => mesh::unit_box(),
            Shape::Cylinder => mesh::unit_cylinder(),
            Shape::Slab => mesh::unit_slab(8),
            Shape::Prism3 => mesh::unit_prism(&conventions::triangle_ring()),
        }
    }
}

/// A terminal as it stands in one image.
#[derive(Clone, Debug, PartialEq)]
pub struct PosedPin {
    pub x: u32,
    pub y: u32,
    pub kind: PinKind,
    pub label: u8,
    /// Rigid world transform (the defect applied); the mesh is scaled by `kind.half_extents()` first.
    pub transform: DMat4,
    pub defective: bool,
}

/// One drawable object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Object {
    pub shape: Shape,
    /// Rigid part of the world transform.
    pub rigid: DMat4,
    /// Half extents applied to the unit mesh before `rigid`.
    pub half_extents: DVec3,
    pub color: [f64; 3],
    pub label: u8,
}

/// An object drawn with a mesh from a file (a housing), its triangles placed by `transform`.
#[derive(Clone, Debug, PartialEq)]
pub struct MeshObject {
    pub mesh: std::sync::Arc<crate::meshfile::TriangleMesh>,
    /// Rigid world transform (for a housing: its file holds world coordinates, so the identity unless
    /// `[randomize] housing_offset` moves it).
    pub transform: DMat4,
    pub color: [f64; 3],
    pub label: u8,
}

/// The world of one image.
#[derive(Clone, Debug)]
pub struct Posed {
    pub camera: Camera,
    /// Direction sunlight travels (unit).
    pub sun_direction: DVec3,
    /// Terminals present in this image (a missing one is absent).
    pub pins: Vec<PosedPin>,
    /// Where the defective terminal would stand without its defect, for NG images.
    pub nominal_defect_pin: Option<PosedPin>,
    pub housing: Option<Object>,
    /// Objects drawn with meshes from files, after the others (a housing from `[housing] mesh`).
    pub meshes: Vec<MeshObject>,
    /// Background colour, linear RGB.
    pub background: [f64; 3],
    /// Terminal colour, linear RGB.
    pub pin_color: [f64; 3],
    pub light: Light,
    /// The scene without this image's defect and randomization (what the baked light depends on).
    pub nominal: std::sync::Arc<Nominal>,
}

/// Every object of a scene in its nominal place (no defect, no randomization), and the scene's own
/// light and colours: what `render::bake` bakes the world and bounce light from, once per scene.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Nominal {
    pub objects: Vec<Object>,
    /// Direction sunlight travels (unit).
    pub sun_direction: DVec3,
    pub light: Light,
    pub background: [f64; 3],
    pub pin_color: [f64; 3],
    pub housing_color: [f64; 3],
}

impl Nominal {
    pub fn of(scene: &Scene) -> Nominal {
        let posed = pose_only(scene, None, None);
        Nominal {
            objects: posed.pins.iter().map(|p| p.object(scene.pin.color)).chain(posed.housing).collect(),
            sun_direction: posed.sun_direction,
            light: scene.light.clone(),
            background: scene.image.background,
            pin_color: scene.pin.color,
            housing_color: scene.housing.color,
        }
    }
}

impl PosedPin {
    /// Top- and bottom-face centres in world space.
    pub fn face_centres(&self) -> (DVec3, DVec3) {
        conventions::face_centres_of(self.kind, &self.transform)
    }

    pub fn object(&self, color: [f64; 3]) -> Object {
        let shape = match self.kind {
            PinKind::Square => Shape::Box,
            PinKind::Round => Shape::Cylinder,
            PinKind::Triangle => Shape::Prism3,
        };
        Object { shape, rigid: self.transform, half_extents: self.kind.half_extents(), color, label: self.label }
    }

    /// The 8 corners of the terminal's local bounding box (Blender's `bound_box`) in world space.
    pub fn corners(&self) -> [DVec3; 8] {
        let (min, max) = self.kind.bounds();
        let mut out = [DVec3::ZERO; 8];
        for (i, c) in out.iter_mut().enumerate() {
            let s = DVec3::new(
                if i & 4 != 0 { max.x } else { min.x },
                if i & 2 != 0 { max.y } else { min.y },
                if i & 1 != 0 { max.z } else { min.z },
            );
            *c = self.transform.transform_point3(s);
        }
        out
    }
}

/// Places every object of `scene` for the image described by `params`.
pub fn pose(scene: &Scene, params: &ImageParams) -> Posed {
    let posed = pose_only(scene, params.defect.as_ref(), params.randomize.as_ref());
    Posed { nominal: std::sync::Arc::new(Nominal::of(scene)), ..posed }
}

fn pose_only(
    scene: &Scene,
    defect: Option<&crate::sweep::Defect>,
    randomize: Option<&crate::randomize::Sampled>,
) -> Posed {
    let randomized = randomize.map(|s| crate::randomize::effective_scene(scene, s));
    // A mesh housing holds world coordinates; randomize's housing_offset moves it by the change of
    // housing.center, as it moves the box.
    let nominal_housing_center = DVec3::from(scene.housing.center);
    let scene = randomized.as_ref().unwrap_or(scene);
    let l = &scene.layout;
    let c = &scene.camera;
    let camera = Camera::look_at(
        c.location.into(),
        c.look_at.into(),
        c.up.into(),
        c.fov_y_deg,
        (scene.image.width, scene.image.height),
        (c.near, c.far),
    );
    let mut pins = Vec::with_capacity((l.columns * l.rows) as usize);
    let mut nominal_defect_pin = None;
    for (x, y, kind) in l.terminals() {
        let p0 = conventions::pin_centre(x, y, l.columns, l.rows, l.pitch);
        let label = conventions::pin_label(x, y, l.rows);
        let nominal = PosedPin { x, y, kind, label, transform: DMat4::from_translation(p0), defective: false };
        match defect {
            Some(d) if d.pin == [x, y] => {
                nominal_defect_pin = Some(nominal.clone());
                if !d.missing {
                    let transform = conventions::pin_transform(p0, d.dpos.into(), DVec2::from(d.grad));
                    pins.push(PosedPin { transform, defective: true, ..nominal });
                }
            }
            _ => pins.push(nominal),
        }
    }
    let h = &scene.housing;
    let meshes: Vec<MeshObject> = match (&h.mesh, h.enabled) {
        (Some(m), true) => vec![MeshObject {
            mesh: m.mesh.clone(),
            transform: DMat4::from_translation(DVec3::from(h.center) - nominal_housing_center),
            color: h.color,
            label: conventions::HOUSING_LABEL,
        }],
        _ => Vec::new(),
    };
    let housing = (h.enabled && h.mesh.is_none()).then(|| Object {
        shape: Shape::Slab,
        rigid: DMat4::from_translation(h.center.into()),
        half_extents: DVec3::from(h.size) / 2.0,
        color: h.color,
        label: conventions::HOUSING_LABEL,
    });
    Posed {
        camera,
        sun_direction: conventions::sun_direction(scene.light.sun_rotation_deg.into()).normalize(),
        pins,
        nominal_defect_pin,
        housing,
        meshes,
        background: scene.image.background,
        pin_color: scene.pin.color,
        light: scene.light.clone(),
        nominal: Default::default(),
    }
}
