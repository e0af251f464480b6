//! Geometry of one image: which objects stand where (terminals with their defect applied, the
//! housing), the camera and the sun, all in world space. Pure CPU, f64; the renderer and the ground
//! truth both read the same [`Posed`] scene, so pixels and annotations cannot disagree.

pub mod bend;
pub mod mesh;
pub mod prism;
pub mod shroud;
pub mod terminal;

pub use terminal::{Drawable, TerminalShape, Terminals};

use crate::conventions::{self, Bend, Camera, PinKind};
use crate::params::ImageParams;
use crate::spec::HousingShape;
use crate::spec::{Light, Scene};
use glam::{DMat4, DVec2, DVec3};
use std::sync::Arc;

/// Which mesh an object is drawn with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The unit box, ±1 on every axis.
    Box,
    /// The unit cylinder: radius 1, z in [-1, 1], 32 flat segments.
    Cylinder,
    /// The housing's box: the unit box (its own shape for its light maps and its place in the draw
    /// order). Its faces were once cut into 8 × 8 quads, which left pixels unlabelled along its top's
    /// edges (where the sides' corners met the top's in the middle of an edge).
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
            Shape::Slab => mesh::unit_box(),
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
    /// Rigid world transform of the terminal's local frame (the defect applied).
    pub transform: DMat4,
    pub defective: bool,
    /// The terminal's solid in its local frame (shared by every terminal of its kind).
    pub shape: Arc<TerminalShape>,
    /// A bent terminal's bend (local frame, before `transform`).
    pub bend: Option<Bend>,
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

impl Object {
    /// Its unit mesh → world: `half_extents` scaled, then `rigid`.
    pub fn model(&self) -> DMat4 {
        self.rigid * DMat4::from_scale(self.half_extents)
    }
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
    /// The triangles form closed solids wound counter-clockwise seen from outside (generated
    /// terminals): drawn one-sided. Otherwise (mesh files, whose winding is not trusted) both sides.
    pub closed: bool,
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
    /// The housing's boxes: the box, or a shroud's base first and then its walls.
    pub housing: Vec<Object>,
    /// Objects drawn with meshes from files, after the others (a housing from `[housing] mesh`).
    pub meshes: Vec<MeshObject>,
    /// Background colour, linear RGB.
    pub background: [f64; 3],
    /// Terminal colour, linear RGB.
    pub pin_color: [f64; 3],
    pub light: Light,
    /// The scene without this image's defect and randomization (what the baked light depends on).
    pub nominal: std::sync::Arc<Nominal>,
    /// Whether the scene's `[randomize]` drew values for this image (else it differs from every other
    /// image of its scene by its defect alone).
    pub randomized: bool,
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
    /// The objects drawn as instances (terminals of the unit shapes, the housing's boxes) of `scene`
    /// without defect or randomization; terminals drawn from meshes have no baked light.
    pub fn of(scene: &Scene, terminals: &Terminals) -> Nominal {
        let posed = pose_only(scene, terminals, None, None);
        Nominal {
            objects: posed.drawables().0,
            sun_direction: posed.sun_direction,
            light: scene.light.clone(),
            background: scene.image.background,
            pin_color: scene.pin.color,
            housing_color: scene.housing.color,
        }
    }
}

impl Posed {
    /// Everything drawn in this image as instances: the unit-mesh objects (terminals, housing parts)
    /// and the mesh objects (mesh terminals, generated tips, a housing from a file). Bent terminals are
    /// not among them: each has a mesh of its own ([`PosedPin::local_mesh`], [`Posed::bent_pins`]).
    pub fn drawables(&self) -> (Vec<Object>, Vec<MeshObject>) {
        self.drawables_with(self.pins.iter().filter(|p| p.bend.is_none()))
    }

    /// What [`Posed::drawables`] would be without this image's defect: the defective terminal at its
    /// nominal place (also when it is missing or bent), the others as drawn.
    pub fn nominal_drawables(&self) -> (Vec<Object>, Vec<MeshObject>) {
        let others = self.pins.iter().filter(|p| !p.defective && p.bend.is_none());
        self.drawables_with(others.chain(self.nominal_defect_pin.iter()))
    }

    fn drawables_with<'a>(&'a self, pins: impl Iterator<Item = &'a PosedPin>) -> (Vec<Object>, Vec<MeshObject>) {
        let mut objects: Vec<Object> = Vec::with_capacity(self.pins.len() + self.housing.len());
        let mut meshes: Vec<MeshObject> = Vec::new();
        for pin in pins {
            match pin.drawable(self.pin_color) {
                Drawable::Unit(o) => objects.push(o),
                Drawable::Mesh(m) => meshes.push(m),
            }
        }
        objects.extend(self.housing.iter().copied());
        meshes.extend(self.meshes.iter().cloned());
        (objects, meshes)
    }

    /// This image without its defect: the defective terminal back in its nominal place (also when it
    /// is missing), everything else as it is (randomization included). Terminals stay in the order
    /// posing lists them, by column then row.
    pub fn without_defect(&self) -> Posed {
        let mut out = self.clone();
        out.pins.retain(|p| !p.defective);
        if let Some(n) = self.nominal_defect_pin.clone() {
            let at = out.pins.partition_point(|p| (p.x, p.y) < (n.x, n.y));
            out.pins.insert(at, PosedPin { defective: false, bend: None, ..n });
        }
        out.nominal_defect_pin = None;
        out
    }

    /// The bent terminals (drawn from their own meshes).
    pub fn bent_pins(&self) -> impl Iterator<Item = &PosedPin> {
        self.pins.iter().filter(|p| p.bend.is_some())
    }

    /// Every triangle drawn in this image, in world space, with the label it draws: the terminals (bent
    /// ones with their own mesh), the housing and meshes from files — what the renderer draws, for the
    /// CPU-side ground truth (depth, amodal masks).
    pub fn for_each_triangle(&self, mut f: impl FnMut(u8, [DVec3; 3])) {
        let mut mesh_triangles = |m: &mesh::Mesh, to_world: &DMat4, label: u8| {
            for t in m.triangles() {
                f(label, t.map(|v| to_world.transform_point3(DVec3::from(v.position.map(f64::from)))));
            }
        };
        for pin in &self.pins {
            mesh_triangles(&pin.local_mesh(), &pin.transform, pin.label);
        }
        for h in &self.housing {
            mesh_triangles(&h.shape.mesh(), &h.model(), h.label);
        }
        for m in &self.meshes {
            for t in &m.mesh.triangles {
                f(m.label, t.map(|p| m.transform.transform_point3(DVec3::from(p.map(f64::from)))));
            }
        }
    }
}

impl PosedPin {
    /// Top- and bottom-face centres (of the local bounding box, as Blender's references) in world
    /// space; a bent terminal's top centre turned with its top.
    pub fn face_centres(&self) -> (DVec3, DVec3) {
        conventions::bent_face_centres(self.shape.bounds, &self.transform, self.bend.as_ref())
    }

    /// What the renderer draws for this terminal when it is not bent.
    pub fn drawable(&self, color: [f64; 3]) -> Drawable {
        self.shape.drawable(self.transform, color, self.label)
    }

    /// The pattern letter of a mesh terminal.
    pub fn letter(&self) -> Option<char> {
        self.shape.letter
    }

    /// The terminal's mesh at its real size in its local frame (before `transform`), bent when the
    /// terminal is.
    pub fn local_mesh(&self) -> mesh::Mesh {
        let m = self.shape.local_mesh();
        match &self.bend {
            Some(b) => bend::bend_mesh(&m, b, self.shape.bounds.0.z),
            None => m,
        }
    }

    /// The 8 corners of the terminal's local bounding box (Blender's `bound_box`) in world space; for
    /// a bent terminal the box of its bent mesh, as Blender's `bound_box` after editing the mesh.
    pub fn corners(&self) -> [DVec3; 8] {
        let (min, max) = match self.bend {
            Some(_) => bend::bounds(&self.local_mesh()),
            None => self.shape.bounds,
        };
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

/// Places every object of `scene` for the image described by `params`; `terminals` is
/// `Terminals::new(&scene.pin)`, built once per run.
pub fn pose(scene: &Scene, terminals: &Terminals, params: &ImageParams) -> Posed {
    let posed = pose_only(scene, terminals, params.defect.as_ref(), params.randomize.as_ref());
    Posed { nominal: Arc::new(Nominal::of(scene, terminals)), ..posed }
}

fn pose_only(
    scene: &Scene,
    terminals: &Terminals,
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
        let Some(shape) = terminals.get(kind, l.mesh_letter_at(x, y)) else { continue }; // validation: every letter has a mesh
        let p0 = conventions::pin_centre(x, y, l.columns, l.rows, l.pitch);
        let label = conventions::pin_label(x, y, l.rows);
        let transform = DMat4::from_translation(p0);
        let nominal = PosedPin { x, y, kind, label, transform, defective: false, shape: shape.clone(), bend: None };
        match defect {
            Some(d) if d.pin == [x, y] => {
                nominal_defect_pin = Some(nominal.clone());
                if !d.missing {
                    let transform = conventions::pin_transform(p0, d.dpos.into(), DVec2::from(d.grad));
                    pins.push(PosedPin { transform, defective: true, bend: d.bend, ..nominal });
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
            closed: false,
        }],
        _ => Vec::new(),
    };
    let slab = |shape: Shape, (center, half_extents): shroud::AaBox| Object {
        shape,
        rigid: DMat4::from_translation(center),
        half_extents,
        color: h.color,
        label: conventions::HOUSING_LABEL,
    };
    let housing = match (&h.shape, h.enabled && h.mesh.is_none()) {
        (_, false) => Vec::new(),
        (HousingShape::Box, true) => vec![slab(Shape::Slab, (h.center.into(), DVec3::from(h.size) / 2.0))],
        // The base as the box; the walls' faces are narrow, so plain boxes (4 corners a face) light them.
        (HousingShape::Shroud(s), true) => shroud::boxes(h.size.into(), h.center.into(), s)
            .into_iter()
            .enumerate()
            .map(|(i, b)| slab(if i == 0 { Shape::Slab } else { Shape::Box }, b))
            .collect(),
    };
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
        randomized: randomize.is_some(),
    }
}
