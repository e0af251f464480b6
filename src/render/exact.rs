//! `antialias = "exact"`: box-filtered coverage from the geometry itself, on the CPU, for the pixels an
//! object's or a shadow's edge crosses, shaded by the shader's own rule (`"exact_geometry"`: objects'
//! edges only).
//!
//! The GPU draws one sample per pixel (colour and label in one pass, as `none`; in alpha the share of
//! the sun it found). Then every pixel that an edge of the image can cross is found: pixels a projected
//! *feature edge* passes through (an edge on the silhouette, between faces that are not coplanar, or on
//! a mesh's border), pixels whose label differs from a neighbour's (where objects meet or pass through
//! each other, e.g. a terminal entering the housing) and pixels whose share of the sun is partial or
//! differs from a neighbour's. Each such pixel is resolved from the exact projected faces on an 8 × 8
//! grid of samples — the grid of the reference the anti-aliasing is measured against, the frame drawn
//! at 8× size and box-filtered — with a depth test per sample, so coverage, occlusion and
//! intersections are the geometry's; where a shadow's edge may cross, which samples see the sun comes
//! from the casters themselves ([`super::sun_rays`]). The samples of one side of an object are shaded
//! as `shaders/scene.wgsl` shades ([`super::shading`]), at their centroid on the face: the light maps
//! the GPU reads, read there ([`super::bake::Atlas::light`]), and the sun as the samples see it (from
//! the geometry where a shadow edge may cross, else the GPU's share nearest to them). The 64 samples
//! are averaged in linear light.
//!
//! Every other pixel keeps the GPU's value, and the mask is never touched (one sample at each pixel
//! centre). Faces are clipped at the near plane; the far plane is not applied.
//!
//! Cost: an object is projected again only when its placement, the camera or the image size changed
//! since the previous image (a fixed camera projects a large housing mesh once per worker); per image,
//! every face whose pixel bounds reach within two pixels of a marked pixel is drawn into those pixels'
//! samples, so a mesh of many small faces costs in proportion to the faces near edges. The sun's
//! answers of a face in a pixel are kept for the next image, which takes them where nothing that
//! decides them changed ([`SunMemo`]): in a sweep, everywhere but near the defective terminal. An
//! image drawn over a kept base frame ([`super::frame_memo`]) is resolved only where its defect can
//! change a pixel and where the base's answers no longer hold ([`Role::Part`]): a face's footprint on
//! its plane reaches far where the face is seen edge-on, so a terminal can decide a pixel's sun far
//! from its own. Of those edge pixels, the ones nothing changed for keep the base's colour ([`Part`]):
//! about half of a sweep image's. On a software adapter the GPU does not draw such an image at all:
//! the pass first draws the pixels its defect can change itself, one sample at each centre as the
//! shader would ([`Exact::fill`]), the sun from the casters.

use super::Pixels;
use super::bake::Atlas;
use super::frame_memo::Base;
use super::influence::{Rect, Region};
use super::polygon;
use super::shading::Shading;
use super::srgb::Tables;
use super::sun_rays::{self, SunRays};
use crate::geometry::{Posed, Shape, mesh};
use crate::meshfile::TriangleMesh;
use glam::{DMat4, DVec2, DVec3};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// Samples per pixel side.
const N: usize = 8;
/// Samples per pixel.
const S: usize = N * N;
/// Two faces of one object that are not coplanar (normals more than ~0.8° apart) make an edge worth
/// resolving: their flat shading steps there (a 32-segment cylinder's sides too, 11.25° apart).
const CREASE_COS: f64 = 0.9999;
const NO: u32 = u32::MAX;
/// How far from a pixel the GPU's frame is read when the pixel is resolved: its marks come from its
/// neighbours' labels and sun (1 pixel), its faces' share of the sun from the pixel nearest it that
/// shows them ([`AROUND`], 2 pixels). Its colour is not read.
const READ_REACH: usize = 2;
/// A face's samples in a pixel keep the GPU's soft shadow where a caster's penumbra across them is
/// wider than this many times the pixel's footprint (the sum of its two sides, across the sun's
/// rays); narrower penumbrae are resolved from the geometry. The GPU's soft shadow steps in quarters
/// of the sun's disc, which a pixel's one lookup shows where the penumbra spans a few pixels.
/// Against the 8× box-filtered frame, on views with suns of 1–5° (the default sun's penumbrae are
/// nearly all narrower): 8 instead of 2 gave 0.622 → 0.485 (2°), 0.968 → 0.884 (4°), 0.447 → 0.415
/// (5°), 0.556 → 0.572 (3°); never soft gave the same as 8 within 0.03.
const SOFT_PENUMBRA: f64 = 8.0;
/// Sample offsets inside a pixel, (k + 0.5) / N.
const OFFSETS: [f32; N] = {
    let mut o = [0.0f32; N];
    let mut k = 0;
    while k < N {
        o[k] = (k as f32 + 0.5) / N as f32;
        k += 1;
    }
    o
};
/// The pixels around a pixel, nearest first, searched for a face's share of the sun.
const AROUND: [(i32, i32); 25] = [
    (0, 0),
    (1, 0),
    (-1, 0),
    (0, 1),
    (0, -1),
    (1, 1),
    (-1, 1),
    (1, -1),
    (-1, -1),
    (2, 0),
    (-2, 0),
    (0, 2),
    (0, -2),
    (2, 1),
    (-2, 1),
    (2, -1),
    (-2, -1),
    (1, 2),
    (-1, 2),
    (1, -2),
    (-1, -2),
    (2, 2),
    (-2, 2),
    (2, -2),
    (-2, -2),
];

/// A mesh prepared for finding its edges: unique corner positions, convex planar faces over them
/// (corners in order) and, for each face edge (corner k to k + 1), the one face on its other side
/// ([`NO`] on a border or where more than two faces meet).
struct Topology {
    positions: Vec<DVec3>,
    faces: Vec<Vec<u32>>,
    neighbours: Vec<Vec<u32>>,
    /// Drawn from both sides (mesh files, whose winding is not trusted): never culled.
    double_sided: bool,
    /// Per face, the unit mesh's normal as the GPU's vertices carry it (it picks the face's light-map
    /// chart); zero for meshes without light maps.
    normals: Vec<[f32; 3]>,
}

impl Topology {
    /// From faces given by their corner positions.
    fn new(faces: impl Iterator<Item = Vec<[f32; 3]>>, double_sided: bool) -> Topology {
        let mut index: HashMap<[u32; 3], u32> = HashMap::new();
        let mut positions = Vec::new();
        let mut corner = |p: [f32; 3]| {
            // `+ 0.0` makes -0.0 and 0.0 one corner.
            let key = p.map(|c| (c + 0.0).to_bits());
            *index.entry(key).or_insert_with(|| {
                positions.push(DVec3::new(p[0] as f64, p[1] as f64, p[2] as f64));
                positions.len() as u32 - 1
            })
        };
        let faces: Vec<Vec<u32>> = faces.map(|f| f.into_iter().map(&mut corner).collect()).collect();
        let mut edges: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
        let ends = |f: &Vec<u32>, k: usize| {
            let (a, b) = (f[k], f[(k + 1) % f.len()]);
            (a.min(b), a.max(b))
        };
        for (i, f) in faces.iter().enumerate() {
            for k in 0..f.len() {
                edges.entry(ends(f, k)).or_default().push(i as u32);
            }
        }
        let neighbours = faces
            .iter()
            .enumerate()
            .map(|(i, f)| {
                (0..f.len())
                    .map(|k| match edges[&ends(f, k)].as_slice() {
                        [x, y] => {
                            if *x == i as u32 {
                                *y
                            } else {
                                *x
                            }
                        }
                        _ => NO,
                    })
                    .collect()
            })
            .collect();
        let normals = vec![[0.0; 3]; faces.len()];
        Topology { positions, faces, neighbours, double_sided, normals }
    }

    /// A unit mesh's faces: each polygon [`mesh::Mesh`] built as a fan (consecutive triangles sharing
    /// their first corner and normal) is one face again.
    fn of_mesh(m: &mesh::Mesh) -> Topology {
        let mut faces: Vec<Vec<[f32; 3]>> = Vec::new();
        let mut normals: Vec<[f32; 3]> = Vec::new();
        let mut fan: Option<(u32, [f32; 3])> = None;
        for t in m.indices.chunks_exact(3) {
            let v = |k: usize| m.vertices[t[k] as usize];
            let key = (t[0], v(0).normal);
            match (fan, faces.last_mut()) {
                (Some(f), Some(face)) if f == key && face.last() == Some(&v(1).position) => face.push(v(2).position),
                _ => {
                    faces.push(vec![v(0).position, v(1).position, v(2).position]);
                    normals.push(v(0).normal);
                    fan = Some(key);
                }
            }
        }
        Topology { normals, ..Topology::new(faces.into_iter(), false) }
    }
}

/// One face facing the camera, in pixel coordinates.
struct Face {
    /// Its edges in its [`Body::edges`]: functions `a·u + b·v + c`, positive inside.
    edges: std::ops::Range<usize>,
    /// Its edges in [`Body::snapped`]: corners snapped as the GPU snaps them ([`Face::covers`]).
    snapped: std::ops::Range<usize>,
    /// 1 / depth as a plane over the image: `a·u + b·v + c` (larger is nearer).
    inv_depth: [f64; 3],
    /// The unit normal (facing the camera), for the sun's light on the face.
    normal: DVec3,
    /// The unit mesh's normal ([`Topology::normals`]), for its light-map chart.
    mesh_normal: [f32; 3],
    /// A point of it (world space), which fixes its plane for the shadows cast onto it.
    point: DVec3,
}

/// What one drawn object's projection depends on: its mesh, its placement, the camera and the image
/// size. A body whose key is the same as in the previous image is not projected again (a large
/// housing seen by a fixed camera is projected once per worker).
#[derive(PartialEq, Eq, PartialOrd, Ord, Clone)]
struct BodyKey {
    /// Index into [`Exact::shapes`] then [`Exact::files`]; None for a mesh of this image alone (a bent
    /// terminal), never reused.
    topology: Option<usize>,
    label: u8,
    model: [u64; 16],
    view: [u64; 16],
    camera: [u64; 2],
    size: (usize, usize),
}

/// Where an object's light maps lie in the atlas ([`Atlas::strip_of`]).
type Strip = ([u32; 2], [u32; 3]);

/// One side of an object in a pixel: its body and normal (None: the background), its first face and
/// its samples as bits.
type Side = (Option<(usize, glam::Vec3)>, u32, u64);

/// An object to draw: its placement, topology (see [`BodyKey::topology`]), label and colour.
type Entry = (DMat4, Option<usize>, u8, [f64; 3]);

/// The nominal objects' share of the pixels, kept from image to image while they stay the same (the
/// camera fixed; only the defective terminal differs between images): their faces listed per tile
/// of 8 × 8 pixels, the face in front at every pixel centre, and per pixel, once asked for, their
/// samples.
#[derive(Default)]
struct Kept {
    /// Per tile, the nominal faces whose bounds reach it (ids in drawing order); empty until needed.
    tiles: Vec<Vec<u32>>,
    tiles_x: usize,
    /// Per pixel: index into `samples` ([`NO`]: not yet drawn).
    slot: Vec<u32>,
    samples: Vec<Samples>,
    /// Per pixel: the nominal face in front at its centre.
    front: Vec<Front>,
}

/// Pixels kept per image size at most (about 34 MB of samples); past it pixels are drawn afresh.
const KEPT_MAX: usize = 1 << 16;
/// Images of at most this many pixels (1448² or so) keep the nominal coverage; its per-pixel tables
/// take ~24 bytes a pixel, so larger images draw every object afresh (the same bytes, more time).
const KEPT_PIXELS: usize = 1 << 21;
const TILE: usize = 8;

/// One drawn object's faces turned to the camera, in pixel coordinates, and the pixels its feature
/// edges cross: a pure function of its [`BodyKey`].
struct Body {
    key: BodyKey,
    faces: Vec<Face>,
    /// Each face's pixel bounds, inclusive, clipped to the image: x0, x1, y0, y1 (apart from the faces,
    /// so that the faces far from any marked pixel are passed over without reading them).
    bounds: Vec<[u16; 4]>,
    edges: Vec<[f64; 3]>,
    /// Edges from corners snapped to 1/256 pixel, each with whether a centre exactly on it is inside
    /// (the top-left rule), as `truth::raster` and Vulkan rasterisers cover pixels ([`Face::covers`]).
    snapped: Vec<SnappedEdge>,
    /// Pixel indices its feature edges pass through.
    marks: Vec<u32>,
}

/// An edge of a face's snapped corners ([`Body::snapped`]): from, to, and whether it owns a centre
/// exactly on it.
type SnappedEdge = (DVec2, DVec2, bool);

impl Face {
    /// Whether the GPU covers the centre `p` of a pixel with this face (of `body`): its corners snapped
    /// to 1/256 pixel, a centre on an edge inside when the edge is a top or a left one — the rule of
    /// `truth::raster`, which the GPU's mask follows. The exact pass's own coverage takes the corners
    /// as they are; the two differ only where an edge passes within the rounding of a centre.
    fn covers(&self, body: &Body, p: DVec2) -> bool {
        let edges = &body.snapped[self.snapped.clone()];
        !edges.is_empty()
            && edges.iter().all(|&(a, b, own)| {
                let e = (b - a).perp_dot(p - a);
                e > 0.0 || (e == 0.0 && own)
            })
    }
}

/// The samples of one resolved pixel: the nearest face's 1 / depth and index per sample.
#[derive(Clone)]
struct Samples {
    inv_depth: [f32; S],
    face: [u32; S],
    /// The farthest sample's 1 / depth (0 while a sample is empty): a face wholly behind it is hidden.
    floor: f32,
}

/// The face in front at a pixel centre: its 1 / depth there and its id ([`NO`]: none), whose body and
/// normal [`Exact::shown_at`] compares.
#[derive(Clone, Copy)]
struct Front {
    inv_depth: f32,
    face: u32,
}

const NONE_IN_FRONT: Front = Front { inv_depth: 0.0, face: NO };

const EMPTY: Samples = Samples { inv_depth: [0.0; S], face: [NO; S], floor: 0.0 };

/// What an image is to the pass ([`super::frame_memo`]).
#[derive(Clone, Copy)]
pub enum Role<'a> {
    /// Resolved whole; its answers from the sun are kept for the next image.
    Whole,
    /// Resolved whole, and kept as the base that images resolved in part differ from.
    Base,
    /// Resolved within the region only, and wherever the base's answers from the sun no longer hold
    /// (which the base's answers serve elsewhere); the other pixels are left as they are.
    Part(&'a Part<'a>),
}

/// An image drawn over a kept base ([`super::frame_memo::Frame::Region`]): where it can differ from
/// the base, and the base. An edge pixel there keeps the base's colour, unresolved, when nothing its
/// colour is made of changed: no changed object's own pixels reach it (`touched`: so its coverage, its
/// faces and their samples, and the faces in front near it are the base's), the GPU drew the same
/// labels and share of the sun as for the base within [`READ_REACH`] pixels around it (its marks and
/// the sun it reads), and every answer from the sun the base resolved it with still holds
/// ([`Exact::leaves_alone`]).
pub struct Part<'a> {
    pub region: &'a Region,
    pub touched: &'a Region,
    pub base: &'a Base,
    /// The pixels the GPU did not draw for this image (the frame holds the base's there), which the
    /// pass draws first as the GPU would, one sample at each centre ([`Exact::fill`]).
    pub fill: Option<&'a Region>,
}

/// An image's edge pixels ([`Exact::apply`]): resolved, and kept from the base ([`Part`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Edges {
    pub resolved: u64,
    pub kept: u64,
}

/// The exact-coverage pass, with the meshes' topology made once and scratch space reused per image.
pub struct Exact {
    /// Shadow edges resolved from the geometry too (`antialias = "exact"`), or left as the GPU drew
    /// them (`"exact_geometry"`).
    shadow_edges: bool,
    shapes: [Topology; Shape::ALL.len()],
    files: Vec<(Arc<TriangleMesh>, Topology)>,
    tables: Tables<65536>,
    /// The nominal objects (this image without its defect, [`Posed::nominal_drawables`]) sorted by
    /// key, then the objects this image draws that are not among them (the defective terminal). Face
    /// ids and the order faces are drawn in follow this list, so a pixel's samples are the same
    /// whether the nominal objects' share comes from [`Kept`] or is drawn afresh.
    bodies: Vec<Body>,
    labels: Vec<u8>,
    /// Each body's colour (linear RGB), its albedo ([`Exact::resolve`]).
    colors: Vec<[f64; 3]>,
    /// Everything this image draws, as shadow casters: placement and mesh (`Ok`: a topology index as in
    /// [`BodyKey::topology`]; `Err(k)`: the `k`th of [`Exact::own`]).
    casters: Vec<(DMat4, Result<usize, usize>)>,
    /// This image's bent terminals' meshes.
    own: Vec<Topology>,
    /// Sun visibility per sample of shadow-edge pixels ([`sun_rays`]).
    rays: SunRays,
    /// The casters of objects the kept answers' image had and this one does not, made again (in the
    /// same sun's coordinates as `rays`) to ask whether they shaded a footprint ([`Exact::changed`]).
    ghosts: SunRays,
    /// Per marked pixel (as `samples`): bit k set when sample k sees the sun (or was not asked), and
    /// when it lies in a soft penumbra (its light is the GPU's).
    seen: Vec<u64>,
    soft: Vec<u64>,
    /// Per marked pixel: bit k set when sample k's sun was asked ([`Exact::sun_samples`]).
    traced: Vec<u64>,
    /// The previous image's answers from the sun ([`SunMemo`]), and the base's ([`Role`]).
    memo: SunMemo,
    base_memo: SunMemo,
    /// The corners of every footprint (in the sun's coordinates), and per lit face in a pixel whose
    /// sun is asked about, its footprint.
    points: Vec<DVec3>,
    footprints: Vec<Footprint>,
    /// Per pixel corner, the answer from the sun [`Exact::fill`] found there for a face, and the
    /// generation of the call that found it.
    corner_sun: Vec<(u32, u32, bool)>,
    fill_generation: u32,
    /// How many of `bodies` are nominal, and which of those this image does not draw (the defective
    /// terminal's nominal place).
    nominal: usize,
    absent: Vec<bool>,
    /// The nominal objects' coverage, kept while the nominal objects stay the same.
    kept: Kept,
    /// Per pixel: an absent nominal object's face may reach it; all false between images (the spans
    /// set, `dirty_spans`, are cleared after use).
    dirty: Vec<bool>,
    dirty_spans: Vec<Range<usize>>,
    /// Per pixel of an image drawn over a base: within [`READ_REACH`] of a pixel the GPU drew
    /// otherwise than for the base ([`Exact::settle`]); all false between images.
    unsettled: Vec<bool>,
    /// Face ids run over the bodies: body `b`'s faces are `first[b]..first[b + 1]`; face `id`'s body
    /// is `body_of[id]`.
    first: Vec<u32>,
    body_of: Vec<u32>,
    /// Per pixel: 1 where an edge may cross it.
    marks: Vec<u8>,
    /// Per pixel: 1 within two pixels of a marked one (where a resolved pixel may look for its faces);
    /// all 0 between images (only the `nearby` pixels are set, then cleared).
    near: Vec<u8>,
    /// The marked pixels, and the pixels near them, in pixel order.
    marked: Vec<u32>,
    nearby: Vec<u32>,
    /// Per pixel: the index of its samples in `samples` ([`NO`] if not marked); all [`NO`] between
    /// images (only the marked pixels are set, then cleared).
    slot: Vec<u32>,
    samples: Vec<Samples>,
    /// Per marked pixel (slot): the index of its samples in [`Kept::samples`] while they are the kept
    /// ones unchanged (its own in `samples` are then unused and not even cleared:
    /// [`Exact::samples_of`]), else [`NO`].
    shared: Vec<u32>,
    /// Per pixel near a marked one: the face nearest the camera at its centre (only read there).
    front: Vec<Front>,
    /// Resolved pixels (index, colour), written after all are resolved from the GPU's frame.
    resolved: Vec<(usize, [u8; 3])>,
    /// Per body: its unit frame from the world's, and its light maps' strip ([`Exact::resolve`]).
    lights: Vec<(DMat4, Option<Strip>)>,
    /// Per face id: the sun's term of its colour, once made ([`Exact::resolve`]).
    terms: Vec<Option<[f32; 3]>>,
    /// Per marked pixel (slot), the faces its samples show (in the order first seen, [`NO`] for the
    /// background) with the samples of each as bits: `faces[faces_at[slot]..faces_at[slot + 1]]`
    /// ([`Exact::group_faces`]).
    faces: Vec<(u32, u64)>,
    faces_at: Vec<u32>,
}

impl Default for Exact {
    fn default() -> Self {
        Self::new()
    }
}

impl Exact {
    pub fn new() -> Exact {
        let shapes = Shape::ALL.map(|s| Topology::of_mesh(&s.mesh()));
        Exact {
            shadow_edges: true,
            shapes,
            files: Vec::new(),
            tables: Tables::new(),
            bodies: Vec::new(),
            labels: Vec::new(),
            colors: Vec::new(),
            casters: Vec::new(),
            own: Vec::new(),
            rays: SunRays::default(),
            ghosts: SunRays::default(),
            seen: Vec::new(),
            soft: Vec::new(),
            traced: Vec::new(),
            memo: SunMemo::default(),
            base_memo: SunMemo::default(),
            points: Vec::new(),
            footprints: Vec::new(),
            corner_sun: Vec::new(),
            fill_generation: 0,
            nominal: 0,
            absent: Vec::new(),
            kept: Kept::default(),
            dirty: Vec::new(),
            dirty_spans: Vec::new(),
            unsettled: Vec::new(),
            first: Vec::new(),
            body_of: Vec::new(),
            marks: Vec::new(),
            near: Vec::new(),
            marked: Vec::new(),
            nearby: Vec::new(),
            slot: Vec::new(),
            samples: Vec::new(),
            shared: Vec::new(),
            front: Vec::new(),
            resolved: Vec::new(),
            lights: Vec::new(),
            terms: Vec::new(),
            faces: Vec::new(),
            faces_at: Vec::new(),
        }
    }

    /// The pass for object edges only: shadow edges stay as the GPU drew them (`"exact_geometry"`).
    pub fn geometry_only() -> Exact {
        Exact { shadow_edges: false, ..Exact::new() }
    }

    /// Re-computes the edge pixels of `px` (one sample per pixel as the GPU drew `posed`). `sun` is the
    /// share of the sun the GPU found at each pixel centre (the shader's alpha, 255 = all of it); the
    /// pixels where it changes get their shadow from the geometry, sample by sample. Empty when the
    /// frame has no shadows. `atlas` holds the light maps the GPU drew with.
    ///
    /// `role` says what the image is to [`super::frame_memo`]: resolved whole, or in part (the other
    /// pixels are left as they are).
    ///
    /// With a [`Part::fill`], `px` holds the base's frame and `sun` the base's share: the pass first
    /// draws the fill's pixels itself (and their share of the sun into `sun`).
    pub fn apply(&mut self, posed: &Posed, px: &mut Pixels, sun: &mut [u8], atlas: &Atlas, role: Role) -> Edges {
        let (w, h) = (px.width as usize, px.height as usize);
        if w == 0 || h == 0 {
            return Edges::default();
        }
        let region = match role {
            Role::Part(part) => Some(part.region),
            Role::Whole | Role::Base => None,
        };
        self.marks.clear();
        self.marks.resize(w * h, 0);
        let kept = self.project(posed, w, h);
        let sun: &mut [u8] = if posed.light.shadows && sun.len() == w * h { sun } else { &mut [] };
        let shadows = self.shadow_edges && !sun.is_empty();
        let objects = if shadows { self.cast(posed) } else { Vec::new() };
        if let Role::Part(Part { fill: Some(fill), .. }) = role {
            self.fill(posed, px, sun, atlas, (fill, kept), &objects);
        }
        let sun: &[u8] = sun;
        // Where marks are looked for: the region and the pixels next to it (a pair across its
        // border marks the pixel inside).
        let all = Rect { x0: 0, y0: 0, x1: w as u32, y1: h as u32 };
        let window = region.map_or(all, |r| r.bounds.grown(1, (w as u32, h as u32)));
        mark_label_changes(&px.mask, w, window, &mut self.marks);
        if shadows {
            mark_shadow_edges(sun, w, window, &mut self.marks);
        }
        let scene = SunMemo::scene_of(posed, (w, h));
        if let Some(r) = region {
            // Only the region's pixels (`project` marked feature edges everywhere), and those whose
            // sun the base's answers no longer give (a face's footprint on its plane can reach far).
            let again = if shadows { self.base_memo.invalidated(&scene, &objects, &self.rays) } else { Vec::new() };
            let feature = again.iter().map(|&p| self.marks[p as usize]).collect::<Vec<u8>>();
            let (x0, x1) = (r.bounds.x0 as usize, r.bounds.x1 as usize);
            for (y, (row, inside)) in self.marks.chunks_exact_mut(w).zip(r.mask.chunks_exact(w)).enumerate() {
                if (y as u32) < r.bounds.y0 || y as u32 >= r.bounds.y1 {
                    row.fill(0);
                } else {
                    row[..x0].fill(0);
                    row[x1..].fill(0);
                    for (m, inside) in row[x0..x1].iter_mut().zip(&inside[x0..x1]) {
                        *m &= 0u8.wrapping_sub(u8::from(*inside));
                    }
                }
            }
            for (&p, feature) in again.iter().zip(feature) {
                self.marks[p as usize] = feature | marks_at(&px.mask, sun, (w, h), p as usize);
            }
        }
        self.collect_marked();
        let marked = self.marked.len();
        let changed = match role {
            Role::Part(part) => self.settle(part, px, sun, (&objects, &scene)),
            Role::Whole | Role::Base => None,
        };
        let edges = Edges { resolved: self.marked.len() as u64, kept: (marked - self.marked.len()) as u64 };
        self.cover_marked(w, h, kept);
        self.group_faces();
        self.sun_samples(posed, (w, h), shadows, &px.mask, (objects, scene, changed), role);
        self.resolve(posed, px, sun, atlas);
        edges
    }

    /// Of an image drawn over a base ([`Part`]): leaves out of [`Exact::marked`] the pixels that keep
    /// the base's colour, which they get. Returns the objects only one of the image and the base
    /// has ([`Exact::changed`]) when there are shadows and the base's answers serve this image.
    fn settle(
        &mut self,
        part: &Part,
        px: &mut Pixels,
        sun: &[u8],
        (objects, scene): (&[MemoObject], &[u64]),
    ) -> Option<Vec<Changed>> {
        let (w, h) = (px.width as usize, px.height as usize);
        let base = part.base;
        let memo = std::mem::take(&mut self.base_memo);
        let changed = if sun.is_empty() || !self.shadow_edges {
            None
        } else if memo.scene == scene {
            Some(self.changed(&memo, objects))
        } else {
            // Nothing of the base's sun is known to hold: every pixel resolved.
            self.base_memo = memo;
            return None;
        };
        // Pixels within reach of one the GPU drew another label or share of the sun for than for the
        // base (its colour there follows from those and the geometry).
        let mut unsettled = std::mem::take(&mut self.unsettled);
        if unsettled.len() != w * h {
            unsettled.clear();
            unsettled.resize(w * h, false);
        }
        let b = part.region.bounds;
        let m = READ_REACH;
        // What is set below: the bounds grown by `m`.
        let set = b.grown(m as u32, (w as u32, h as u32));
        let (base_mask, done) = (base.mask(), base.done());
        for y in b.y0 as usize..b.y1 as usize {
            for x in b.x0 as usize..b.x1 as usize {
                let p = y * w + x;
                let same = px.mask[p] == base_mask[p] && (sun.is_empty() || sun[p] == base.sun[p]);
                if !same {
                    for yy in y.saturating_sub(m)..(y + m + 1).min(h) {
                        unsettled[yy * w + x.saturating_sub(m)..yy * w + (x + m + 1).min(w)].fill(true);
                    }
                }
            }
        }
        let mut cursor = 0;
        let answers = &memo.answers;
        let mut marked = std::mem::take(&mut self.marked);
        marked.retain(|&p| {
            let keep = !unsettled[p as usize] && !part.touched.mask[p as usize] && {
                while memo.pixels.get(cursor).is_some_and(|&q| q < p) {
                    cursor += 1;
                }
                let here = answers[cursor..].iter().take_while(|a| a.pixel == p);
                match &changed {
                    None => true,
                    Some(changed) => here.into_iter().all(|a| {
                        changed.iter().all(|c| self.leaves_alone(c, a.corners.as_ref(), (a.lo, a.hi, a.depth)))
                    }),
                }
            };
            if keep {
                let q = 3 * p as usize;
                px.rgb[q..q + 3].copy_from_slice(&done[q..q + 3]);
            }
            !keep
        });
        self.marked = marked;
        for y in set.y0 as usize..set.y1 as usize {
            unsettled[y * w + set.x0 as usize..y * w + set.x1 as usize].fill(false);
        }
        self.unsettled = unsettled;
        self.base_memo = memo;
        changed
    }

    /// Whether the changed object `c` ([`Changed`]) leaves alone the footprint with `corners` (None:
    /// its plane is seen edge-on) and bounds (across the rays, and its depth): too far away, or (asked
    /// as [`Exact::answer`] would ask it) shading none of it. Then an answer from the sun kept for the
    /// footprint holds.
    fn leaves_alone(&self, c: &Changed, corners: Option<&[DVec3; 4]>, (lo, hi, depth): (DVec2, DVec2, f64)) -> bool {
        let misses = |rays: &SunRays, casters: &Range<u32>| {
            corners.is_some_and(|corners| {
                casters
                    .clone()
                    .all(|i| !rays.reaches(i, lo, hi, depth) || rays.classify(i, corners) == sun_rays::Cover::None)
            })
        };
        !self.rays.bounds_reach(c.bounds, (lo, hi, depth))
            || match &c.casters {
                Casters::Here(casters) => misses(&self.rays, casters),
                Casters::Ghost(casters) => misses(&self.ghosts, casters),
                Casters::Unknown => false,
            }
    }

    /// Starts the sun's rays for `posed` and adds every caster; returns each casting object's identity
    /// (its topology, None for a mesh of this image alone; its placement) and its casters' bounds
    /// ([`SunMemo`]), sorted.
    fn cast(&mut self, posed: &Posed) -> Vec<MemoObject> {
        self.rays.begin(-posed.sun_direction.normalize(), posed.light.sun_angle_deg);
        let mut objects: Vec<MemoObject> = Vec::with_capacity(self.casters.len());
        for (model, mesh) in &self.casters {
            let topo = match *mesh {
                Ok(t) => topology(&self.shapes, &self.files, t),
                Err(k) => &self.own[k],
            };
            let id = (mesh.ok(), model.to_cols_array().map(f64::to_bits));
            let casters = self.rays.add_object(id.0.map(|t| (t, id.1)), |rays| {
                add_caster(rays, topo, model);
            });
            let bounds = self.rays.bounds(casters.start as usize..casters.end as usize);
            objects.push(MemoObject { id, bounds, casters });
        }
        objects.sort_by_key(|o| o.id);
        objects
    }

    /// The casting objects only one of `memo`'s image and this one (`objects`) has, each with where
    /// its casters can be asked: this image's, or the kept image's made again in [`Exact::ghosts`].
    fn changed(&mut self, memo: &SunMemo, objects: &[MemoObject]) -> Vec<Changed> {
        self.ghosts.begin_as(&self.rays);
        let mut out = Vec::new();
        for (here, o) in memo.changed(objects) {
            let Some(bounds) = o.bounds else { continue };
            let casters = match o.id.0 {
                _ if here => Casters::Here(o.casters.clone()),
                Some(t) => {
                    let model = DMat4::from_cols_array(&o.id.1.map(f64::from_bits));
                    Casters::Ghost(add_caster(&mut self.ghosts, topology(&self.shapes, &self.files, t), &model))
                }
                None => Casters::Unknown,
            };
            out.push(Changed { bounds, casters });
        }
        out
    }

    /// For the samples on a face turned to the sun of every pixel a shadow edge may cross
    /// ([`SHADOW_EDGE`]), and of every marked pixel where such a face shows at no pixel centre near it
    /// (thinner than a pixel: the GPU's frame does not say whether it is in the sun): whether each sees
    /// the sun ([`Exact::seen`]), from the geometry; which samples were asked ([`Exact::traced`]).
    /// Nothing when `shadows` is false (no shadows, or shadow edges left to the GPU). The casters
    /// ([`Exact::cast`]) are `objects`. The answers kept from an earlier image ([`SunMemo`]) serve
    /// where they hold: an image's in part, its base's; else the previous image's, which this
    /// image's then replace (a base's are kept as the base's too).
    #[allow(clippy::too_many_arguments)]
    fn sun_samples(
        &mut self,
        posed: &Posed,
        (w, h): (usize, usize),
        shadows: bool,
        mask: &[u8],
        (objects, scene, changed): (Vec<MemoObject>, Vec<u64>, Option<Vec<Changed>>),
        role: Role,
    ) {
        self.seen.clear();
        self.seen.resize(self.samples.len(), u64::MAX);
        self.soft.clear();
        self.soft.resize(self.samples.len(), 0);
        self.traced.clear();
        self.traced.resize(self.samples.len(), 0);
        self.points.clear();
        self.footprints.clear();
        if !shadows {
            return;
        }
        let to_sun = -posed.sun_direction.normalize();
        // Samples in the sun's coordinates.
        let cam = &posed.camera;
        let screen = Unproject::new(cam, (w, h), |p| self.rays.coords(p));
        let at = |z: [f64; 3], u: f64, v: f64| screen.at(z, u, v);
        // Per lit face in a pixel: its slot, face and the pixel's corners on its plane (None where the
        // plane is seen edge-on there).
        let grouped = std::mem::take(&mut self.faces);
        for (slot, p) in self.marked.iter().map(|&p| p as usize).enumerate() {
            let edge = self.marks[p] & SHADOW_EDGE != 0;
            let (x, y) = ((p % w) as f64, (p / w) as f64);
            for &(id, mine) in &grouped[self.faces_at[slot] as usize..self.faces_at[slot + 1] as usize] {
                // Only faces the sun lights, and of those, away from a shadow edge, only faces the
                // GPU's frame does not show near the pixel (whose light is read there).
                let lit = id != NO && {
                    let (b, face) = self.face(id);
                    let pixel = (x as i32, y as i32, w as i32, h as i32);
                    face.normal.dot(to_sun) > 0.0
                        && (edge || self.shown_at((b, face.normal.as_vec3()), pixel, mask).is_err())
                };
                if !lit {
                    continue;
                }
                self.traced[slot] |= mine;
                let z = self.face(id).1.inv_depth;
                let ends = [(x, y), (x + 1.0, y), (x + 1.0, y + 1.0), (x, y + 1.0)];
                let corners = ends
                    .iter()
                    .all(|&(u, v)| z[0] * u + z[1] * v + z[2] > 0.0)
                    .then(|| ends.map(|(u, v)| at(z, u, v)))
                    .filter(|c| c.iter().all(|p| p.is_finite()));
                let bounds = corners.unwrap_or_else(|| {
                    // The plane is seen edge-on at a corner: the box of its samples instead.
                    let (mut lo, mut hi) = (DVec3::INFINITY, DVec3::NEG_INFINITY);
                    let samples = (0..S).filter(|k| mine >> k & 1 != 0);
                    for p in samples.map(|k| at(z, x + f64::from(OFFSETS[k % N]), y + f64::from(OFFSETS[k / N]))) {
                        (lo, hi) = (lo.min(p), hi.max(p));
                    }
                    [lo, DVec3::new(hi.x, lo.y, lo.z), DVec3::new(hi.x, hi.y, lo.z), DVec3::new(lo.x, hi.y, lo.z)]
                });
                self.points.extend(bounds);
                self.footprints.push(Footprint {
                    slot: slot as u32,
                    face: id,
                    mine,
                    x: x as u16,
                    y: y as u16,
                    corners,
                    bounds,
                });
            }
        }
        self.faces = grouped;
        let memo = match role {
            Role::Part(_) => std::mem::take(&mut self.base_memo),
            Role::Whole | Role::Base => std::mem::take(&mut self.memo),
        };
        let answers = if self.footprints.is_empty() {
            Vec::new()
        } else {
            self.answer((&memo, &objects, &scene), changed, cam, w, at)
        };
        let bodies = self.bodies.iter().map(|b| b.key.clone()).collect();
        match role {
            Role::Part(_) => self.base_memo = memo,
            Role::Whole => self.memo = SunMemo::new(scene, bodies, objects, answers),
            Role::Base => {
                self.memo = SunMemo::new(scene, bodies, objects, answers);
                self.base_memo = self.memo.clone();
            }
        }
    }

    /// The sun's answer for every footprint ([`Exact::sun_samples`]), from `memo` where it holds
    /// (its scene is `scene` and no caster of an object only one of the two images has is near).
    fn answer(
        &mut self,
        (memo, objects, scene): (&SunMemo, &[MemoObject], &[u64]),
        changed: Option<Vec<Changed>>,
        cam: &crate::conventions::Camera,
        w: usize,
        at: impl Fn([f64; 3], f64, f64) -> DVec3,
    ) -> Vec<Answer> {
        self.rays.prepare(&self.points);
        let reuse = memo.scene == scene;
        let changed: Vec<Changed> = match changed {
            Some(changed) => changed,
            None if reuse => self.changed(memo, objects),
            None => Vec::new(),
        };
        let previous: Vec<Option<u32>> = self
            .bodies
            .iter()
            .map(|b| {
                let same = |k: &BodyKey| b.key.topology.is_some() && *k == b.key;
                if reuse { memo.bodies.iter().position(same).map(|i| i as u32) } else { None }
            })
            .collect();
        let mut answers: Vec<Answer> = Vec::with_capacity(self.footprints.len());
        let mut cursor = 0;
        // Per lit face in a pixel: the casters near it. One covering it whole (from all of the sun's
        // disc) shades all its samples; each of the others casts its shadow onto the face's plane, and
        // the samples inside the shadow's outline on screen are shaded, those within the penumbra's
        // half width of the outline asked one by one along their own direction within the disc. Where
        // the penumbra is many pixels wide ([`SOFT_PENUMBRA`]: a soft edge, which the GPU's own soft
        // shadow samples smoothly), the face's samples keep the GPU's light.
        let (mut candidates, mut partly, mut polygon, mut edges, mut uv) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Per caster and face: its shadow on the face's plane ([`Shadow`]), edges in `shadow_edges`.
        let (mut cast_on, mut shadow_edges) = (rustc_hash::FxHashMap::<(u32, u32), Shadow>::default(), Vec::new());
        for fp in &self.footprints {
            let mine = fp.mine;
            let (x, y) = (f64::from(fp.x), f64::from(fp.y));
            let (z, normal, point) = {
                let face = self.face(fp.face).1;
                (face.inv_depth, face.normal, face.point)
            };
            let sample = |k: usize| at(z, x + f64::from(OFFSETS[k % N]), y + f64::from(OFFSETS[k / N]));
            let corners = fp.bounds;
            let (mut lo, mut hi, mut depth) = (DVec2::INFINITY, DVec2::NEG_INFINITY, f64::INFINITY);
            for p in &corners {
                (lo, hi, depth) = (lo.min(p.truncate()), hi.max(p.truncate()), depth.min(p.z));
            }
            let slot = fp.slot as usize;
            let pixel = u32::from(fp.y) * w as u32 + u32::from(fp.x);
            let (b, _) = self.face(fp.face);
            let face = fp.face - self.first[b];
            while memo.pixels.get(cursor).is_some_and(|&q| q < pixel) {
                cursor += 1;
            }
            // A kept answer holds when every caster of an object only one of the two images has
            // leaves the footprint alone. The answer then comes from the casters both images share.
            let kept = previous[b].and_then(|body| {
                memo.answers[cursor..]
                    .iter()
                    .take_while(|a| a.pixel == pixel)
                    .find(|a| a.body == body && a.face == face && a.mine == mine)
                    .filter(|_| changed.iter().all(|c| self.leaves_alone(c, fp.corners.as_ref(), (lo, hi, depth))))
                    .map(|a| (a.unseen, a.soft))
            });
            let (unseen, soft) = match kept {
                Some(answer) => answer,
                None => 'answer: {
                    self.rays.candidates(lo, hi, depth, &mut candidates);
                    partly.clear();
                    let mut all = false;
                    for &c in &candidates {
                        match if fp.corners.is_some() { self.rays.classify(c, &corners) } else { sun_rays::Cover::Some }
                        {
                            sun_rays::Cover::None => {}
                            sun_rays::Cover::All => {
                                all = true;
                                break;
                            }
                            sun_rays::Cover::Some => partly.push(c),
                        }
                    }
                    if all {
                        break 'answer (mine, 0);
                    }
                    if partly.is_empty() {
                        break 'answer (0, 0);
                    }
                    // The footprint's smallest size across the rays per pixel (the smaller singular value of
                    // the pixel-to-(x, y) map), to turn widths across the rays into pixels.
                    let (du, dv) = ((corners[1] - corners[0]).truncate(), (corners[3] - corners[0]).truncate());
                    let (p2, q2, pq) = (du.length_squared(), dv.length_squared(), du.dot(dv));
                    let smallest = (((p2 + q2) - ((p2 - q2).powi(2) + 4.0 * pq * pq).sqrt()) / 2.0).max(0.0).sqrt();
                    // The penumbra's width here (twice the disc's shift), against the pixel's.
                    let widest = match fp.corners {
                        Some(corners) => partly.iter().map(|&c| 2.0 * self.rays.shift(c, &corners)).fold(0.0, f64::max),
                        None => 0.0,
                    };
                    if widest > SOFT_PENUMBRA * (du.length() + dv.length()) {
                        break 'answer (0, mine);
                    }
                    // Pixels per unit across the rays, at most (with a margin).
                    let per_unit = if fp.corners.is_some() && smallest > 0.0 { 1.1 / smallest } else { f64::INFINITY };
                    let (mut shaded, mut band) = (0u64, 0u64);
                    for &c in &partly {
                        // The caster's shadow on the face's plane, on screen: the same for every pixel
                        // of the face, made once.
                        let shadow = *cast_on.entry((c, fp.face)).or_insert_with(|| {
                            // The face's plane in the sun's coordinates.
                            let n = self.rays.coords(normal);
                            self.rays.shadow_on(c, n, n.dot(self.rays.coords(point)), &mut polygon);
                            if polygon.is_empty() {
                                Shadow::Nowhere
                            } else if screen_polygon(&polygon, &self.rays, cam, &mut edges, &mut uv) {
                                let start = shadow_edges.len();
                                shadow_edges.extend_from_slice(&edges);
                                Shadow::Edges(start as u32, shadow_edges.len() as u32)
                            } else {
                                Shadow::Unbounded
                            }
                        });
                        if shadow == Shadow::Nowhere {
                            continue;
                        }
                        let band_px = match fp.corners {
                            Some(corners) => self.rays.shift(c, &corners) * per_unit,
                            None => f64::INFINITY,
                        };
                        if let (true, Shadow::Edges(start, end)) = (band_px.is_finite(), shadow) {
                            let edges = &shadow_edges[start as usize..end as usize];
                            let (inner, outer) = if band_px > 0.0 {
                                (inside_mask(edges, x, y, -band_px), inside_mask(edges, x, y, band_px))
                            } else {
                                let m = inside_mask(edges, x, y, 0.0);
                                (m, m)
                            };
                            shaded |= inner;
                            band |= outer & !inner;
                        } else {
                            // Part of the shadow lies behind the camera, or the plane is seen edge-on: every
                            // sample on its own.
                            band |= mine;
                        }
                    }
                    let ask = band & mine & !shaded;
                    if ask != 0 {
                        let ask_of = |k: usize| ask >> k & 1 != 0;
                        for k in (0..S).filter(|&k| ask_of(k)) {
                            if !self.rays.sees_sun(&partly, sample(k), sun_rays::disc_point(k)) {
                                shaded |= 1 << k;
                            }
                        }
                    }
                    (shaded & mine, 0)
                }
            };
            self.seen[slot] &= !unseen;
            self.soft[slot] |= soft;
            answers.push(Answer {
                pixel,
                body: b as u32,
                face,
                mine,
                unseen,
                soft,
                lo,
                hi,
                depth,
                corners: fp.corners,
            });
        }
        answers
    }

    /// The objects of `objects` and `meshes` as (placement, topology, label, colour), topologies of new mesh
    /// files made on first sight.
    fn entries(&mut self, objects: &[crate::geometry::Object], meshes: &[crate::geometry::MeshObject]) -> Vec<Entry> {
        let mut out: Vec<Entry> =
            objects.iter().map(|o| (o.model(), Some(shape_index(o.shape)), o.label, o.color)).collect();
        for m in meshes {
            let i = match self.files.iter().position(|(f, _)| Arc::ptr_eq(f, &m.mesh)) {
                Some(i) => i,
                None => {
                    let faces = m.mesh.triangles.iter().map(|t| t.to_vec());
                    self.files.push((m.mesh.clone(), Topology::new(faces, !m.closed)));
                    self.files.len() - 1
                }
            };
            out.push((m.transform, Some(Shape::ALL.len() + i), m.label, m.color));
        }
        out
    }

    /// Lists this image's bodies (nominal ones first, see [`Exact::bodies`]), projecting only those not
    /// kept from the previous image, and marks the pixels the drawn ones' feature edges cross. Returns
    /// whether the nominal objects are the previous image's (so their kept coverage holds).
    fn project(&mut self, posed: &Posed, w: usize, h: usize) -> bool {
        let cam = &posed.camera;
        let (objects, meshes) = posed.drawables();
        let mut drawn = self.entries(&objects, &meshes);
        // Bent terminals: a mesh of their own, this image only.
        let own: Vec<Topology> = posed.bent_pins().map(|p| Topology::of_mesh(&p.local_mesh())).collect();
        drawn.extend(posed.bent_pins().map(|p| (p.transform, None, p.label, posed.pin_color)));
        let (objects, meshes) = posed.nominal_drawables();
        let nominal = self.entries(&objects, &meshes);
        let bits = |m: &DMat4| m.to_cols_array().map(f64::to_bits);
        let view = bits(&cam.view);
        let camera = [cam.focal_px.to_bits(), cam.near.to_bits()];
        let key = |(model, topology, label, _): &Entry| BodyKey {
            topology: *topology,
            label: *label,
            model: bits(model),
            view,
            camera,
            size: (w, h),
        };
        let mut nominal: Vec<(BodyKey, &Entry)> = nominal.iter().map(|e| (key(e), e)).collect();
        nominal.sort_by(|a, b| a.0.cmp(&b.0));
        nominal.dedup_by(|a, b| a.0 == b.0);
        let drawn: Vec<(BodyKey, &Entry)> = drawn.iter().map(|e| (key(e), e)).collect();
        let same = w * h <= KEPT_PIXELS
            && self.nominal == nominal.len()
            && self.bodies[..self.nominal].iter().zip(&nominal).all(|(b, (k, _))| b.key == *k);
        let mut previous = std::mem::take(&mut self.bodies);
        let kept: Vec<Body> = if same { previous.drain(..self.nominal).collect() } else { Vec::new() };
        let mut own_left = own.iter();
        let shapes = &self.shapes;
        let files = &self.files;
        let mut take = |key: BodyKey, (model, topology, ..): &Entry, previous: &mut Vec<Body>| -> Body {
            match previous.iter().position(|b| topology.is_some() && b.key == key) {
                Some(i) => previous.swap_remove(i),
                None => {
                    let topo = match topology {
                        Some(t) => self::topology(shapes, files, *t),
                        None => own_left.next().expect("one mesh per bent terminal"), // ok: made from the same list above
                    };
                    Body::project(key, topo, model, cam, (w, h))
                }
            }
        };
        self.bodies = if same {
            kept
        } else {
            self.kept = Kept::default();
            nominal.iter().map(|(k, e)| take(k.clone(), e, &mut previous)).collect()
        };
        self.nominal = self.bodies.len();
        self.absent.clear();
        self.absent.extend(self.bodies.iter().map(|b| !drawn.iter().any(|(k, _)| *k == b.key)));
        self.labels.clear();
        self.labels.extend(self.bodies.iter().map(|b| b.key.label));
        // An absent body's colour is never asked for.
        self.colors.clear();
        self.colors
            .extend(self.bodies.iter().map(|b| drawn.iter().find(|(k, _)| *k == b.key).map_or([0.0; 3], |(_, e)| e.3)));
        self.casters.clear();
        let mut bent = 0..;
        for (_, (model, topology, ..)) in &drawn {
            self.casters.push((*model, topology.ok_or_else(|| bent.next().unwrap_or(0))));
        }
        for (k, e) in drawn {
            let is_nominal =
                k.topology.is_some() && self.bodies[..self.nominal].binary_search_by(|b| b.key.cmp(&k)).is_ok();
            if !is_nominal {
                self.labels.push(k.label);
                self.colors.push(e.3);
                let body = take(k, e, &mut previous);
                self.bodies.push(body);
            }
        }
        self.own = own;
        self.first.clear();
        self.body_of.clear();
        let mut first = 0u32;
        for (b, body) in self.bodies.iter().enumerate() {
            if b >= self.nominal || !self.absent[b] {
                for &p in &body.marks {
                    self.marks[p as usize] = 1;
                }
            }
            self.first.push(first);
            first += body.faces.len() as u32;
            self.body_of.resize(first as usize, b as u32);
        }
        self.first.push(first);
        same
    }

    /// Lists per marked pixel the faces its samples show, each with its samples as bits
    /// ([`Exact::faces`]), for the sun's samples and the shading.
    fn group_faces(&mut self) {
        let (mut faces, mut at) = (std::mem::take(&mut self.faces), std::mem::take(&mut self.faces_at));
        faces.clear();
        at.clear();
        at.push(0);
        for slot in 0..self.marked.len() {
            let face = &self.samples_of(slot).face;
            let first = faces.len();
            // Where a run of equal faces starts: sample 0, and each sample whose face differs from the
            // one before it. Compared all at once (a byte each, which vectorises), then packed eight
            // bytes to eight bits by one multiplication.
            let mut differs = [1u8; S];
            for k in 1..S {
                differs[k] = u8::from(face[k] != face[k - 1]);
            }
            let mut rest = 0u64;
            for (c, eight) in differs.chunks_exact(8).enumerate() {
                let bytes = u64::from_le_bytes(std::array::from_fn(|i| eight[i]));
                rest |= (bytes.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * c);
            }
            while rest != 0 {
                let k = rest.trailing_zeros();
                rest &= rest - 1;
                // The run ends where the next one starts (or at the last sample).
                let end = if rest == 0 { S as u32 } else { rest.trailing_zeros() };
                let run_bits = (u64::MAX >> (64 - (end - k))) << k;
                let f = face[k as usize];
                match faces[first..].iter_mut().find(|(id, _)| *id == f) {
                    Some((_, bits)) => *bits |= run_bits,
                    None => faces.push((f, run_bits)),
                }
            }
            at.push(faces.len() as u32);
        }
        (self.faces, self.faces_at) = (faces, at);
    }

    /// The samples of marked pixel `slot` (its own, or the kept ones it shares: [`Exact::shared`]).
    fn samples_of(&self, slot: usize) -> &Samples {
        match self.shared[slot] {
            NO => &self.samples[slot],
            k => &self.kept.samples[k as usize],
        }
    }

    /// The body a face id belongs to, and the face.
    fn face(&self, id: u32) -> (usize, &Face) {
        let b = self.body_of[id as usize] as usize;
        (b, &self.bodies[b].faces[(id - self.first[b]) as usize])
    }

    /// Lists the marked pixels ([`Exact::marked`]), in order.
    fn collect_marked(&mut self) {
        self.marked.clear();
        // Eight marks at a time: most are 0.
        for (c, chunk) in self.marks.chunks(8).enumerate() {
            if chunk.iter().fold(0, |any, m| any | m) != 0 {
                self.marked.extend((0..chunk.len()).filter(|&k| chunk[k] != 0).map(|k| (8 * c + k) as u32));
            }
        }
    }

    /// Draws every face into the samples of the marked pixels it may cover, and finds the face in front
    /// at the centre of every pixel near a marked one (where [`Exact::shown_at`] looks). With `kept`,
    /// the nominal objects' share comes from [`Kept`] (drawn there once per pixel) except where an
    /// absent nominal object could reach; the result is the same either way.
    fn cover_marked(&mut self, w: usize, h: usize, kept: bool) {
        if self.slot.len() != w * h {
            self.slot.clear();
            self.slot.resize(w * h, NO);
        }
        for (slot, &p) in self.marked.iter().enumerate() {
            self.slot[p as usize] = slot as u32;
        }
        let n = self.marked.len();
        // With `kept`, emptied one by one in `nominal_share`, except the slots that share the kept
        // samples (most of them): what an earlier image left there is never read.
        if !kept {
            self.samples.clear();
        }
        self.samples.truncate(n);
        self.samples.resize(n, EMPTY);
        self.shared.clear();
        self.shared.resize(n, NO);
        dilate(&self.marked, w, h, &mut self.near, &mut self.nearby);
        self.draw_near(w, h, kept);
        for &p in &self.marked {
            self.slot[p as usize] = NO;
        }
    }

    /// Draws every face into the pixels `near` marks (listed in `nearby`): into the samples of those
    /// with a slot, and as the face in front at every one's centre. `near` is all 0 afterwards.
    fn draw_near(&mut self, w: usize, h: usize, kept: bool) {
        self.front.resize(w * h, NONE_IN_FRONT);
        for &p in &self.nearby {
            self.front[p as usize] = NONE_IN_FRONT;
        }
        let first_drawn = if kept {
            self.nominal_share(w, h);
            self.nominal
        } else {
            0
        };
        for b in first_drawn..self.bodies.len() {
            if b < self.nominal && self.absent[b] {
                continue;
            }
            for i in 0..self.bodies[b].faces.len() {
                let into = Into {
                    near: &self.near,
                    slot: &self.slot,
                    samples: &mut self.samples,
                    shared: (&mut self.shared, &self.kept.samples),
                    front: &mut self.front,
                    w,
                };
                draw_face(&self.bodies[b], i, self.first[b] + i as u32, into);
            }
        }
        for &p in &self.nearby {
            self.near[p as usize] = 0;
        }
    }

    /// The nominal objects' share of every marked and near pixel: kept, or drawn from the tile lists
    /// without the absent objects where those could reach.
    fn nominal_share(&mut self, w: usize, h: usize) {
        let nominal = self.nominal;
        let (bodies, first, absent) = (&self.bodies[..nominal], &self.first[..=nominal], &self.absent);
        let body_of = &self.body_of;
        let k = &mut self.kept;
        if k.slot.len() != w * h || k.tiles.is_empty() {
            *k = Kept::new(bodies, first, w, h);
        }
        // Where an absent nominal object's faces could reach, drawn afresh without it.
        if self.dirty.len() != w * h {
            self.dirty.clear();
            self.dirty.resize(w * h, false);
        }
        self.dirty_spans.clear();
        for body in bodies.iter().zip(absent).filter(|(_, a)| **a).map(|(b, _)| b) {
            for (face, &[x0, x1, y0, y1]) in body.faces.iter().zip(&body.bounds) {
                let edges = &body.edges[face.edges.clone()];
                for y in y0..=y1 {
                    if let Some((xa, xb)) = row_span(edges, y, x0, x1) {
                        let span = y as usize * w + xa as usize..y as usize * w + xb as usize + 1;
                        self.dirty[span.clone()].fill(true);
                        self.dirty_spans.push(span);
                    }
                }
            }
        }
        let dirty = &self.dirty;
        let Kept { tiles, tiles_x, slot, samples, front } = k;
        let draw = |p: usize, skip_absent: bool, mut s: Option<&mut Samples>, mut f: Option<&mut Front>| {
            let (x, y) = ((p % w) as u16, (p / w) as u16);
            for &id in &tiles[y as usize / TILE * *tiles_x + x as usize / TILE] {
                let b = body_of[id as usize] as usize;
                if skip_absent && absent[b] {
                    continue;
                }
                let i = (id - first[b]) as usize;
                let [x0, x1, y0, y1] = bodies[b].bounds[i];
                if x >= x0 && x <= x1 && y >= y0 && y <= y1 {
                    draw_face_at(&bodies[b], i, id, (x, y), s.as_deref_mut(), f.as_deref_mut());
                }
            }
        };
        // A near pixel's front face starts as none (`cover_marked`); a marked pixel's samples start
        // empty here, unless they are the kept ones.
        for p in self.nearby.iter().map(|&p| p as usize) {
            let mine = (self.slot[p] != NO).then(|| &mut self.samples[self.slot[p] as usize]);
            if dirty[p] {
                let mine = mine.map(|s| {
                    *s = EMPTY;
                    s
                });
                draw(p, true, mine, Some(&mut self.front[p]));
                continue;
            }
            if let Some(mine) = mine {
                if slot[p] != NO {
                    // The kept samples, shared until a face is drawn on them.
                    self.shared[self.slot[p] as usize] = slot[p];
                } else {
                    *mine = EMPTY;
                    draw(p, false, Some(&mut *mine), None);
                    if samples.len() < KEPT_MAX {
                        slot[p] = samples.len() as u32;
                        samples.push(mine.clone());
                    }
                }
            }
            self.front[p] = front[p];
        }
        for span in self.dirty_spans.drain(..) {
            self.dirty[span].fill(false);
        }
    }

    /// Colours every marked pixel: each of its 64 samples by its face, averaged in linear light. The
    /// samples of one side of an object (a face and the faces coplanar with it) get the shader's light
    /// ([`Shading`]) at their centroid on that face: the light maps read there, and the sun as the
    /// samples see it. Where a shadow edge may cross the pixel, a sample on a face turned to the sun
    /// sees it or not from the geometry ([`Exact::sun_samples`]; in a soft penumbra, as the GPU found);
    /// elsewhere the face sees the share of the sun the GPU found nearest ([`Exact::visibility`]).
    fn resolve(&mut self, posed: &Posed, px: &mut Pixels, sun: &[u8], atlas: &Atlas) {
        let (w, h) = (px.width as i32, px.height as i32);
        let background = posed.background.map(|c| c as f32);
        let shading = Shading::of(posed);
        let screen = Unproject::new(&posed.camera, (w as usize, h as usize), |p| p);
        self.find_lights(atlas);
        let mut groups: Vec<Side> = Vec::with_capacity(8);
        // Per face id: its sun's term (made on first use; it is the face's alone).
        let mut terms = std::mem::take(&mut self.terms);
        terms.clear();
        terms.resize(self.first.last().map_or(0, |&n| n as usize), None);
        let mut resolved = std::mem::take(&mut self.resolved);
        resolved.clear();
        for (slot, p) in self.marked.iter().map(|&p| p as usize).enumerate() {
            let (x, y) = ((p % w as usize) as i32, (p / w as usize) as i32);
            let (seen, soft, traced) = (self.seen[slot], self.soft[slot], self.traced[slot]);
            // Faces of one object turned the same way share a colour (a mesh's coplanar triangles).
            groups.clear();
            for &(f, bits) in &self.faces[self.faces_at[slot] as usize..self.faces_at[slot + 1] as usize] {
                let group = (f != NO).then(|| {
                    let (b, face) = self.face(f);
                    (b, face.normal.as_vec3())
                });
                match groups.iter_mut().find(|(g, ..)| *g == group) {
                    Some((_, _, b)) => *b |= bits,
                    None => groups.push((group, f, bits)),
                }
            }
            let mut sum = [0.0f32; 3];
            for &(group, f, bits) in &groups {
                let mut add = |c: [f32; 3], n: u32| {
                    for (total, c) in sum.iter_mut().zip(c) {
                        *total += c * n as f32;
                    }
                };
                let n = bits.count_ones();
                let Some((b, normal)) = group else {
                    add(background, n);
                    continue;
                };
                let face = self.face(f).1;
                let (u, v) = centroid(bits);
                let world = screen.at(face.inv_depth, f64::from(x) + u, f64::from(y) + v);
                let (local, strip) = self.lights[b];
                let light = atlas.light(strip, local.transform_point3(world), face.mesh_normal);
                let albedo = self.colors[b].map(|c| c as f32);
                let without = shading.without_sun(light);
                let base: [f32; 3] = std::array::from_fn(|i| albedo[i] * without[i]);
                let term = *terms[f as usize].get_or_insert_with(|| self.sun_term(&shading, f));
                let with = |v: f32| -> [f32; 3] { std::array::from_fn(|i| base[i] + term[i] * v) };
                if term == [0.0; 3] {
                    add(base, n);
                } else if bits & !traced == 0 {
                    let (lit, soft) = ((seen & !soft & bits).count_ones(), (soft & bits).count_ones());
                    add(with(1.0), lit);
                    add(base, n - lit - soft);
                    if soft > 0 {
                        add(with(self.visibility((b, normal), (x, y, w, h), &px.mask, sun)), soft);
                    }
                } else {
                    add(with(self.visibility((b, normal), (x, y, w, h), &px.mask, sun)), n);
                }
            }
            resolved.push((p, sum.map(|total| self.tables.encode(total / S as f32))));
        }
        self.terms = terms;
        for &(p, rgb) in &resolved {
            px.rgb[3 * p..3 * p + 3].copy_from_slice(&rgb);
        }
        self.resolved = resolved;
    }

    /// The label the GPU draws at the centre of pixel (x, y) ([`Face::covers`]: the nearest face
    /// covering it with corners snapped as the GPU snaps them; 0: the background), among the nominal
    /// objects this image draws (through the kept tiles when there are some) and its own.
    fn label_at(&self, x: usize, y: usize, (w, h): (usize, usize)) -> u8 {
        let centre = DVec2::new(x as f64 + 0.5, y as f64 + 0.5);
        let (x16, y16) = (x as u16, y as u16);
        let mut nearest: Option<(f64, u8)> = None;
        let mut consider = |b: usize, i: usize| {
            let body = &self.bodies[b];
            let [x0, x1, y0, y1] = body.bounds[i];
            let face = &body.faces[i];
            if x16 >= x0 && x16 <= x1 && y16 >= y0 && y16 <= y1 && face.covers(body, centre) {
                let z = face.inv_depth;
                let near = z[0] * centre.x + z[1] * centre.y + z[2];
                if nearest.is_none_or(|(n, _)| near > n) {
                    nearest = Some((near, body.key.label));
                }
            }
        };
        let tiles = &self.kept.tiles;
        if !tiles.is_empty() && self.kept.slot.len() == w * h {
            for &id in &tiles[y / TILE * self.kept.tiles_x + x / TILE] {
                let b = self.body_of[id as usize] as usize;
                if !self.absent[b] {
                    consider(b, (id - self.first[b]) as usize);
                }
            }
        } else {
            for b in (0..self.nominal).filter(|&b| !self.absent[b]) {
                for i in 0..self.bodies[b].faces.len() {
                    consider(b, i);
                }
            }
        }
        for b in self.nominal..self.bodies.len() {
            for i in 0..self.bodies[b].faces.len() {
                consider(b, i);
            }
        }
        nearest.map_or(0, |(_, label)| label)
    }

    /// Per body ([`Exact::lights`]): its unit frame (where its light maps are read) and its light maps
    /// (unit shapes only, as the GPU's instances have them).
    fn find_lights(&mut self, atlas: &Atlas) {
        self.lights.clear();
        self.lights.extend(self.bodies.iter().map(|b| {
            let local = DMat4::from_cols_array(&b.key.model.map(f64::from_bits)).inverse();
            let strip = match b.key.topology {
                Some(t) if t < Shape::ALL.len() => atlas.strip_of(b.key.label),
                _ => None,
            };
            (local, strip)
        }));
    }

    /// The sun's term of face `f`'s colour (before shadowing), with the normal the GPU's vertices
    /// carry (a bent terminal's are smooth; the shader takes the first vertex's), turned as the shader
    /// turns it. [`Exact::find_lights`] first.
    fn sun_term(&self, shading: &Shading, f: u32) -> [f32; 3] {
        let (b, face) = self.face(f);
        let turned = match face.mesh_normal {
            [0.0, 0.0, 0.0] => face.normal.as_vec3(),
            n => self.lights[b].0.transpose().transform_vector3(DVec3::from(n.map(f64::from))).normalize().as_vec3(),
        };
        shading.sunlit(self.colors[b].map(|c| c as f32), turned)
    }

    /// Draws the pixels of `fill` ([`Part::fill`]) as the GPU draws a pixel, one sample at its centre,
    /// over the base's frame (`px` and `sun` hold it on entry): where what is in front there changed
    /// (the defective terminal, or what the base showed where it stood), the label the GPU would draw
    /// ([`Exact::label_at`]), the colour of the face in front (none: the background's) and in `sun`
    /// (empty without shadows) the share of the sun's disc that point sees past the casters
    /// ([`Exact::cast`] first); elsewhere the base's pixel, its colour made again only where a
    /// changed object can take or give sun there (then past the changed casters alone where the
    /// base's share still holds). The disc is asked whole only where a penumbra can be nearly as wide
    /// as the pixel; a pixel whose corners on its face's plane do not all agree with its centre gets
    /// a partial share, so that the pass resolves it from the geometry. The marks, the edges and their
    /// colours then follow as for a frame the GPU drew.
    fn fill(
        &mut self,
        posed: &Posed,
        px: &mut Pixels,
        sun: &mut [u8],
        atlas: &Atlas,
        (fill, kept): (&Region, bool),
        objects: &[MemoObject],
    ) {
        let (w, h) = (px.width as usize, px.height as usize);
        if self.near.len() != w * h {
            self.near.clear();
            self.near.resize(w * h, 0);
        }
        if self.slot.len() != w * h {
            self.slot.clear();
            self.slot.resize(w * h, NO);
        }
        self.nearby.clear();
        let b = fill.bounds;
        for y in b.y0 as usize..b.y1 as usize {
            for p in y * w + b.x0 as usize..y * w + b.x1 as usize {
                if fill.mask[p] {
                    self.nearby.push(p as u32);
                    self.near[p] = 1;
                }
            }
        }
        self.draw_near(w, h, kept);
        let shading = Shading::of(posed);
        let screen = Unproject::new(&posed.camera, (w, h), |p| p);
        self.find_lights(atlas);
        let background = posed.background.map(|c| self.tables.encode(c as f32));
        // The labels of the nominal objects this image does not draw (its defective terminal's).
        let gone: Vec<u8> = (0..self.nominal).filter(|&b| self.absent[b]).map(|b| self.labels[b]).collect();
        // The casting objects only this image or its base has (its defective terminal, where it stood),
        // when the base's answers hold for this image's sun and camera: elsewhere, the base's share of
        // the sun (in `sun` on entry) is this image's.
        let changed = if sun.is_empty() {
            None
        } else {
            let memo = std::mem::take(&mut self.base_memo);
            let same = memo.scene == SunMemo::scene_of(posed, (w, h));
            let changed = same.then(|| self.changed(&memo, objects));
            self.base_memo = memo;
            changed.filter(|c| c.len() <= 64)
        };
        let mut asked: Vec<Asked> = Vec::new();
        self.points.clear();
        let (mut whole, mut ghosts): (Vec<DVec3>, Vec<u32>) = (Vec::new(), Vec::new());
        let mut span = (DVec2::INFINITY, DVec2::NEG_INFINITY, f64::INFINITY);
        // Per face id: its sun's term (made on first use).
        let mut terms = std::mem::take(&mut self.terms);
        terms.clear();
        terms.resize(self.first.last().map_or(0, |&n| n as usize), None);
        // The top right corner of the last pixel whose corners were made (pixel, face, corner).
        let mut top_right: Option<(usize, u32, DVec3)> = None;
        for &p in &self.nearby {
            let p = p as usize;
            let f = self.front[p].face;
            // What is in front at the centre changed where an object this image alone draws is in
            // front, or where the base showed one it does not draw. Elsewhere the pixel is the base's
            // as the GPU drew it — label, colour and share of the sun — unless its sun changed.
            let base_label = px.mask[p];
            let moved = |b: usize| b >= self.nominal || gone.contains(&base_label);
            if f == NO {
                if moved(0) {
                    px.mask[p] = self.label_at(p % w, p / w, (w, h));
                    px.rgb[3 * p..3 * p + 3].copy_from_slice(&background);
                    if let Some(s) = sun.get_mut(p) {
                        *s = 255;
                    }
                }
                continue;
            }
            let b = self.body_of[f as usize] as usize;
            let moved = moved(b);
            if moved {
                px.mask[p] = self.label_at(p % w, p / w, (w, h));
            }
            let term = *terms[f as usize].get_or_insert_with(|| self.sun_term(&shading, f));
            let sunlit = term != [0.0; 3] && !sun.is_empty();
            if !moved && !sunlit {
                continue;
            }
            let (z, mesh_normal) = (self.face(f).1.inv_depth, self.face(f).1.mesh_normal);
            let world = screen.at(z, (p % w) as f64 + 0.5, (p / w) as f64 + 0.5);
            let ask = if sunlit {
                // The centre, then the pixel's corners on the face's plane (none where it is seen
                // edge-on), in the sun's coordinates: its top ones (the left one is the pixel before's
                // right one on the same face), the bottom ones opposite them through the centre (the
                // plane's map from the screen is affine to within rounding across a pixel).
                let start = self.points.len();
                let centre = self.rays.coords(world);
                self.points.push(centre);
                let (x, y) = ((p % w) as f64, (p / w) as f64);
                let seen = |u: f64, v: f64| z[0] * u + z[1] * v + z[2] > 0.0;
                if seen(x, y) && seen(x + 1.0, y) && seen(x, y + 1.0) && seen(x + 1.0, y + 1.0) {
                    let left = match top_right {
                        Some((q, g, k)) if q + 1 == p && !p.is_multiple_of(w) && g == f => k,
                        _ => self.rays.coords(screen.at(z, x, y)),
                    };
                    let right = self.rays.coords(screen.at(z, x + 1.0, y));
                    top_right = Some((p, f, right));
                    let corners = [left, right, 2.0 * centre - left, 2.0 * centre - right];
                    if corners.iter().all(|c| c.is_finite()) {
                        self.points.extend(corners);
                    }
                }
                let footprint = bounds_of(&self.points[start..]);
                let ask = match &changed {
                    // The base's point: its share holds unless a changed object reaches it.
                    Some(changed) if !moved => {
                        let (mut here, mut all) = (0u64, false);
                        let (lo, hi, depth) = footprint;
                        for (k, c) in changed.iter().enumerate() {
                            if !self.rays.bounds_reach(c.bounds, footprint) {
                                continue;
                            }
                            // Where an object the base alone has reaches, the base's share holds
                            // where it saw all of the sun (taking an object away gives none), or
                            // where that object took none of it.
                            match &c.casters {
                                Casters::Here(_) => here |= 1 << k,
                                _ if sun[p] == 255 => {}
                                Casters::Ghost(range) => {
                                    ghosts.clear();
                                    ghosts.extend(range.clone().filter(|&i| self.ghosts.reaches(i, lo, hi, depth)));
                                    all |= sun_share(&self.ghosts, &ghosts, self.points[start], false) < 1.0;
                                }
                                Casters::Unknown => all = true,
                            }
                        }
                        if all {
                            Ask::All
                        } else if here == 0 || sun[p] == 0 {
                            // Nothing changed reaches it, or it is in the base's shadow already.
                            self.points.truncate(start);
                            continue;
                        } else {
                            Ask::Here(here)
                        }
                    }
                    _ => Ask::All,
                };
                if ask == Ask::All {
                    // The grid over the centres (about one a cell, so that a footprint mostly lies in
                    // one), spanning the corners too.
                    whole.push(centre);
                    let (lo, hi, depth) = footprint;
                    span = (span.0.min(lo), span.1.max(hi), span.2.min(depth));
                }
                Some(ask)
            } else {
                None
            };
            let (local, strip) = self.lights[b];
            let light = atlas.light(strip, local.transform_point3(world), mesh_normal);
            let albedo = self.colors[b].map(|c| c as f32);
            let without = shading.without_sun(light);
            let base: [f32; 3] = std::array::from_fn(|i| albedo[i] * without[i]);
            match ask {
                Some(ask) => asked.push(Asked { pixel: p, base, term, ask, end: self.points.len() as u32, face: f }),
                None => {
                    // Not lit by the sun (or no shadows): all of the sun's term.
                    let rgb = std::array::from_fn::<f32, 3, _>(|i| base[i] + term[i]).map(|c| self.tables.encode(c));
                    px.rgb[3 * p..3 * p + 3].copy_from_slice(&rgb);
                    if let Some(s) = sun.get_mut(p) {
                        *s = 255;
                    }
                }
            }
        }
        self.terms = terms;
        if asked.is_empty() {
            return;
        }
        if !whole.is_empty() {
            whole.extend([span.0.extend(span.2), span.1.extend(span.2)]);
        }
        self.rays.prepare(&whole);
        // A pixel corner's answer (past every caster) for a face, kept for the pixels around it that
        // show the same face: (this call's generation, face, sees the sun).
        let stride = w + 1;
        if self.corner_sun.len() != stride * (h + 1) {
            self.corner_sun.clear();
            self.corner_sun.resize(stride * (h + 1), (0, NO, false));
        }
        self.fill_generation = self.fill_generation.wrapping_add(1);
        if self.fill_generation == 0 {
            self.corner_sun.fill((0, NO, false));
            self.fill_generation = 1;
        }
        let generation = self.fill_generation;
        let mut candidates = Vec::new();
        let mut start = 0;
        for Asked { pixel: p, base, term, ask, end, face: f } in asked {
            let points = &self.points[start..end as usize];
            start = end as usize;
            let (lo, hi, depth) = bounds_of(points);
            let share = match ask {
                Ask::All => {
                    self.rays.candidates(lo, hi, depth, &mut candidates);
                    1.0
                }
                Ask::Here(here) => {
                    // The base's share, less what the changed objects that reach it take.
                    candidates.clear();
                    for (k, c) in changed.iter().flatten().enumerate() {
                        if let (true, Casters::Here(range)) = (here >> k & 1 != 0, &c.casters) {
                            candidates.extend(range.clone().filter(|&i| self.rays.reaches(i, lo, hi, depth)));
                        }
                    }
                    f32::from(sun[p]) / 255.0
                }
            };
            // The whole disc is asked where a penumbra can be nearly as wide as the pixel's footprint
            // (else the shadow's edge of one the centre lies in passes within the footprint's
            // inscribed circle, with corners on both sides of it).
            let footprint = (hi - lo).min_element();
            let wide =
                points.len() < 5 || candidates.iter().any(|&i| self.rays.penumbra(i, points[0].z) >= 0.8 * footprint);
            let mut v = share * sun_share(&self.rays, &candidates, points[0], wide);
            // A shadow's edge may cross the pixel where its centre does not tell (a sliver of shadow
            // between centres that show other faces): the GPU's share, filtered over the pixel, is
            // partial there, and so is this, so that the pass resolves it from the geometry.
            let lit = v > 0.5;
            let (x, y) = (p % w, p / w);
            let at = [y * stride + x, y * stride + x + 1, (y + 1) * stride + x + 1, (y + 1) * stride + x];
            let mut partial = false;
            for (&q, k) in points[1..].iter().zip(at) {
                let seen = match (ask, self.corner_sun[k]) {
                    (Ask::All, (g, face, seen)) if g == generation && face == f => seen,
                    _ => {
                        let seen = self.rays.sees_sun(&candidates, q, DVec2::ZERO);
                        if ask == Ask::All {
                            self.corner_sun[k] = (generation, f, seen);
                        }
                        seen
                    }
                };
                partial |= seen != lit;
            }
            if partial {
                v = v.clamp(1.0 / 255.0, 254.0 / 255.0);
            }
            let rgb = std::array::from_fn::<f32, 3, _>(|i| base[i] + term[i] * v).map(|c| self.tables.encode(c));
            px.rgb[3 * p..3 * p + 3].copy_from_slice(&rgb);
            sun[p] = (v * 255.0).round() as u8;
        }
        self.points.clear();
    }

    /// The share of the sun the GPU found (its shader's alpha) for the faces of body `body` turned
    /// towards `normal` near pixel (x, y) ([`Exact::shown_at`]); at the pixel itself when no pixel
    /// near shows the object. All of it without shadows.
    fn visibility(
        &self,
        side: (usize, glam::Vec3),
        (x, y, w, h): (i32, i32, i32, i32),
        mask: &[u8],
        sun: &[u8],
    ) -> f32 {
        if sun.is_empty() {
            return 1.0;
        }
        let q = match self.shown_at(side, (x, y, w, h), mask) {
            Ok(q) | Err(Some(q)) => q,
            Err(None) => (y * w + x) as usize,
        };
        f32::from(sun[q]) / 255.0
    }

    /// The nearest pixel around (x, y) whose centre shows a face of body `body` turned towards
    /// `normal`; else (a face thinner than a pixel) `Err` with the pixel of that object turned most
    /// like it, if any.
    fn shown_at(
        &self,
        (body, normal): (usize, glam::Vec3),
        (x, y, w, h): (i32, i32, i32, i32),
        mask: &[u8],
    ) -> Result<usize, Option<usize>> {
        let label = self.labels[body];
        let mut best: Option<(usize, f32)> = None;
        for (dx, dy) in AROUND {
            let (qx, qy) = (x + dx, y + dy);
            if qx < 0 || qy < 0 || qx >= w || qy >= h {
                continue;
            }
            let q = (qy * w + qx) as usize;
            let o = self.front[q].face;
            if mask[q] != label || o == NO || self.body_of[o as usize] != body as u32 {
                continue;
            }
            let t = self.face(o).1.normal.as_vec3().dot(normal);
            if t > 0.9999 {
                return Ok(q);
            }
            if best.is_none_or(|(_, b)| t > b) {
                best = Some((q, t));
            }
        }
        Err(best.map(|(q, _)| q))
    }
}

/// A pixel whose sun [`Exact::fill`] asks about: the colour of its face there without the sun and
/// the sun's term, how it is asked, where its points end in [`Exact::points`], and the face.
struct Asked {
    pixel: usize,
    base: [f32; 3],
    term: [f32; 3],
    ask: Ask,
    end: u32,
    face: u32,
}

/// How [`Exact::fill`] asks the sun about a pixel: past every caster, or (a point the base has too,
/// whose share of the sun the base's frame holds) past those of the changed objects (bits of its list)
/// that reach it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ask {
    All,
    Here(u64),
}

/// The bounds across the sun's rays of `points` (in the sun's coordinates) and the farthest from the
/// sun.
fn bounds_of(points: &[DVec3]) -> (DVec2, DVec2, f64) {
    let (mut lo, mut hi, mut depth) = (DVec2::INFINITY, DVec2::NEG_INFINITY, f64::INFINITY);
    for q in points {
        (lo, hi, depth) = (lo.min(q.truncate()), hi.max(q.truncate()), depth.min(q.z));
    }
    (lo, hi, depth)
}

/// The share of the sun's disc point `at` (in the sun's coordinates) sees past the casters
/// `candidates` ([`SunRays::candidates`] of it): without `wide`, whether its centre does; else all or
/// none when the sun's centre and four points of its rim agree, otherwise the share of the 64
/// directions over the disc ([`sun_rays::disc_point`]).
fn sun_share(rays: &SunRays, candidates: &[u32], at: DVec3, wide: bool) -> f32 {
    if candidates.is_empty() {
        return 1.0;
    }
    let centre = rays.sees_sun(candidates, at, DVec2::ZERO);
    let rim = [DVec2::X, DVec2::Y, DVec2::NEG_X, DVec2::NEG_Y];
    if !wide || rim.iter().all(|&d| rays.sees_sun(candidates, at, d) == centre) {
        return f32::from(u8::from(centre));
    }
    (0..S).filter(|&k| rays.sees_sun(candidates, at, sun_rays::disc_point(k))).count() as f32 / S as f32
}

/// A caster's shadow on a face's plane, on screen ([`Exact::answer`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shadow {
    /// It casts none there (nothing of it is nearer the sun than the plane).
    Nowhere,
    /// A convex polygon: its edge functions (`start..end` of `Exact::answer`'s store).
    Edges(u32, u32),
    /// Part of it lies behind the camera: each sample is asked on its own.
    Unbounded,
}

/// A casting object of an image, as [`SunMemo`] keeps it.
#[derive(Clone)]
struct MemoObject {
    /// Its topology (as [`BodyKey::topology`]; None for a mesh of its image alone) and placement.
    id: (Option<usize>, [u64; 16]),
    /// Its casters' bounds across the rays and nearest point to the sun (None: it casts nothing).
    bounds: Option<(DVec2, DVec2, f64)>,
    /// Its casters' indices in its image's [`SunRays`].
    casters: Range<u32>,
}

/// A casting object only one of two images has, and where its casters are to be asked about a
/// footprint ([`Exact::answer`]): this image's [`SunRays`], the kept image's (made again in
/// [`Exact::ghosts`]), or nowhere (a mesh of the kept image alone: only its bounds are known).
struct Changed {
    bounds: (DVec2, DVec2, f64),
    casters: Casters,
}

/// Where a changed object's casters are ([`Changed`]): their indices in this image's rays or in
/// [`Exact::ghosts`], or unknown.
enum Casters {
    Here(Range<u32>),
    Ghost(Range<u32>),
    Unknown,
}

/// One lit face's answer from the sun in one pixel: the face (body index in its image's bodies and
/// index among the body's faces), its samples, those the casters shade and those in a soft penumbra.
#[derive(Clone, Copy)]
struct Answer {
    pixel: u32,
    body: u32,
    face: u32,
    mine: u64,
    unseen: u64,
    soft: u64,
    /// The footprint's bounds across the rays and its depth (farthest from the sun), and its corners
    /// ([`Footprint::corners`]).
    lo: DVec2,
    hi: DVec2,
    depth: f64,
    corners: Option<[DVec3; 4]>,
}

/// The topology of index `t` ([`BodyKey::topology`]): a unit shape's, or a mesh file's.
fn topology<'a>(shapes: &'a [Topology], files: &'a [(Arc<TriangleMesh>, Topology)], t: usize) -> &'a Topology {
    if t < shapes.len() { &shapes[t] } else { &files[t - shapes.len()].1 }
}

/// Adds the faces of `topo` placed by `model` to `rays` as casters; returns their indices.
fn add_caster(rays: &mut SunRays, topo: &Topology, model: &DMat4) -> Range<u32> {
    let world: Vec<DVec3> = topo.positions.iter().map(|p| model.transform_point3(*p)).collect();
    let first = rays.count() as u32;
    let mut corners: Vec<DVec3> = Vec::with_capacity(4);
    for face in &topo.faces {
        corners.clear();
        corners.extend(face.iter().map(|&k| world[k as usize]));
        rays.add_face(&corners, topo.double_sided);
    }
    first..rays.count() as u32
}

/// The previous image's answers from the sun ([`Exact::sun_samples`]). A face's answer depends only on
/// the face, its samples, the camera, the image size, the sun and the casters near it
/// ([`SunRays::candidates`], in any order), so an image whose camera and sun are the previous one's
/// takes the answer of a face it shares with it unless a caster of an object only one of the two has
/// is near: the same bytes as asking again. A sweep's images differ by one terminal.
#[derive(Clone, Default)]
struct SunMemo {
    /// Camera, image size and sun, bit for bit.
    scene: Vec<u64>,
    bodies: Vec<BodyKey>,
    /// Sorted by identity.
    objects: Vec<MemoObject>,
    /// In the order the faces were asked (pixel order).
    answers: Vec<Answer>,
    /// Per answer, its pixel and its footprint's bounds and depth (as [`Answer`] has them, packed: the
    /// answers are walked through for every image drawn over a base).
    pixels: Vec<u32>,
    reach: Vec<(DVec2, DVec2, f64)>,
}

impl SunMemo {
    fn new(scene: Vec<u64>, bodies: Vec<BodyKey>, objects: Vec<MemoObject>, answers: Vec<Answer>) -> SunMemo {
        let pixels = answers.iter().map(|a| a.pixel).collect();
        let reach = answers.iter().map(|a| (a.lo, a.hi, a.depth)).collect();
        SunMemo { scene, bodies, objects, answers, pixels, reach }
    }

    /// What the answers depend on besides the casters: camera, image size and sun, bit for bit.
    fn scene_of(posed: &Posed, (w, h): (usize, usize)) -> Vec<u64> {
        let cam = &posed.camera;
        let to_sun = -posed.sun_direction.normalize();
        cam.view
            .to_cols_array()
            .into_iter()
            .chain([cam.focal_px, cam.near, posed.light.sun_angle_deg])
            .chain(to_sun.to_array())
            .map(f64::to_bits)
            .chain([w as u64, h as u64])
            .collect()
    }

    /// The pixels of the kept answers that do not hold for an image of `scene` with casting objects
    /// `objects` (all of them when the scene differs), in order, each once.
    fn invalidated(&self, scene: &[u64], objects: &[MemoObject], rays: &SunRays) -> Vec<u32> {
        let all = self.scene != scene;
        let changed: Vec<(DVec2, DVec2, f64)> =
            if all { Vec::new() } else { self.changed(objects).iter().filter_map(|(_, o)| o.bounds).collect() };
        let mut out: Vec<u32> = self
            .pixels
            .iter()
            .zip(&self.reach)
            .filter(|(_, r)| all || changed.iter().any(|c| rays.bounds_reach(*c, **r)))
            .map(|(p, _)| *p)
            .collect();
        out.dedup();
        out
    }

    /// The casting objects that only one of the kept image and `objects` (sorted) has, and every mesh
    /// of an image alone; each with true when it is one of `objects`.
    fn changed<'a>(&'a self, objects: &'a [MemoObject]) -> Vec<(bool, &'a MemoObject)> {
        let (mut a, mut b) = (self.objects.iter().peekable(), objects.iter().peekable());
        let mut out = Vec::new();
        loop {
            let next = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(x), Some(y)) if x.id == y.id && x.id.0.is_some() => {
                    a.next();
                    b.next();
                    continue;
                }
                (Some(x), Some(y)) => {
                    if x.id <= y.id {
                        a.next().map(|o| (false, o))
                    } else {
                        b.next().map(|o| (true, o))
                    }
                }
                (Some(_), None) => a.next().map(|o| (false, o)),
                (None, Some(_)) => b.next().map(|o| (true, o)),
            };
            out.extend(next);
        }
        out
    }
}

/// Where a point of the image on a face lies: a point (u, v) (pixel coordinates) on a face with
/// 1 / depth `z·(u, v, 1)` lies at eye + ray(u, v) · depth, with ray(u, v) = r0 + u·ru + v·rv, in
/// the coordinates a linear map (world to world, or to the sun's) takes the camera into.
struct Unproject {
    eye: DVec3,
    r0: DVec3,
    ru: DVec3,
    rv: DVec3,
}

impl Unproject {
    fn new(cam: &crate::conventions::Camera, (w, h): (usize, usize), to: impl Fn(DVec3) -> DVec3) -> Unproject {
        let from_view = cam.view.inverse();
        let f = cam.focal_px;
        let ray = |d: DVec3| to(from_view.transform_vector3(d));
        Unproject {
            eye: to(from_view.transform_point3(DVec3::ZERO)),
            r0: ray(DVec3::new(-(w as f64) / 2.0 / f, h as f64 / 2.0 / f, -1.0)),
            ru: ray(DVec3::X / f),
            rv: ray(-DVec3::Y / f),
        }
    }

    fn at(&self, z: [f64; 3], u: f64, v: f64) -> DVec3 {
        self.eye + (self.r0 + self.ru * u + self.rv * v) / (z[0] * u + z[1] * v + z[2])
    }
}

/// A lit face in a pixel whose sun is asked: its samples' slot, the face and its samples (as bits), the
/// pixel, and the pixel's corners on the face's plane in the sun's coordinates (None where the plane
/// is seen edge-on).
struct Footprint {
    slot: u32,
    face: u32,
    mine: u64,
    x: u16,
    y: u16,
    /// The pixel's corners on the face's plane (sun's coordinates), `None` where the plane is seen
    /// edge-on there.
    corners: Option<[DVec3; 4]>,
    /// Those corners, or else the box of the face's samples: a region holding every sample asked about.
    bounds: [DVec3; 4],
}

impl Kept {
    /// Lists the nominal faces (`bodies`, face ids from `first`) per tile and finds the face in front at
    /// every pixel centre; no samples drawn yet.
    fn new(bodies: &[Body], first: &[u32], w: usize, h: usize) -> Kept {
        let tiles_x = w.div_ceil(TILE);
        let mut tiles = vec![Vec::new(); tiles_x * h.div_ceil(TILE)];
        let mut front = vec![NONE_IN_FRONT; w * h];
        for (b, body) in bodies.iter().enumerate() {
            for (i, &[x0, x1, y0, y1]) in body.bounds.iter().enumerate() {
                let id = first[b] + i as u32;
                for ty in y0 as usize / TILE..=y1 as usize / TILE {
                    for tx in x0 as usize / TILE..=x1 as usize / TILE {
                        tiles[ty * tiles_x + tx].push(id);
                    }
                }
                let edges = &body.edges[body.faces[i].edges.clone()];
                for y in y0..=y1 {
                    let Some((xa, xb)) = row_span(edges, y, x0, x1) else { continue };
                    for x in xa..=xb {
                        draw_face_at(body, i, id, (x, y), None, Some(&mut front[y as usize * w + x as usize]));
                    }
                }
            }
        }
        Kept { tiles, tiles_x, slot: vec![NO; w * h], samples: Vec::new(), front }
    }
}

/// Where faces are drawn face by face: the pixels near marked ones, the marked ones' samples, and the
/// face in front at each near pixel's centre.
struct Into<'a> {
    near: &'a [u8],
    slot: &'a [u32],
    samples: &'a mut [Samples],
    /// [`Exact::shared`], and the kept samples it points into.
    shared: (&'a mut [u32], &'a [Samples]),
    front: &'a mut [Front],
    w: usize,
}

/// Draws face `i` of `body` (face id `id`) into every pixel near a marked one that it may reach.
fn draw_face(body: &Body, i: usize, id: u32, into: Into) {
    let [x0, x1, y0, y1] = body.bounds[i];
    let edges = &body.edges[body.faces[i].edges.clone()];
    for y in y0..=y1 {
        let Some((xa, xb)) = row_span(edges, y, x0, x1) else { continue };
        let row = y as usize * into.w;
        for x in xa..=xb {
            let p = row + x as usize;
            if into.near[p] == 0 {
                continue;
            }
            let slot = into.slot[p];
            let samples = (slot != NO).then(|| {
                let (shared, kept) = (&mut into.shared.0[slot as usize], into.shared.1);
                let samples = &mut into.samples[slot as usize];
                if *shared != NO {
                    // Drawn on: its own copy of the kept samples first.
                    samples.clone_from(&kept[*shared as usize]);
                    *shared = NO;
                }
                samples
            });
            draw_face_at(body, i, id, (x, y), samples, Some(&mut into.front[p]));
        }
    }
}

/// Draws face `i` of `body` into one pixel: into its samples (a marked pixel), and as the face in
/// front at its centre (a pixel near a marked one) when nearer than what is there (ties keep the face
/// drawn first).
fn draw_face_at(
    body: &Body,
    i: usize,
    id: u32,
    (x, y): (u16, u16),
    samples: Option<&mut Samples>,
    front: Option<&mut Front>,
) {
    let face = &body.faces[i];
    let edges = &body.edges[face.edges.clone()];
    let z = face.inv_depth;
    if let Some(samples) = samples {
        cover(edges, &z, id, u32::from(x), u32::from(y), samples);
    }
    if let Some(front) = front {
        let (u, v) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        if edges.iter().all(|e| e[0] * u + e[1] * v + e[2] >= 0.0) {
            let depth = (z[0] * u + z[1] * v + z[2]) as f32;
            if depth > front.inv_depth {
                *front = Front { inv_depth: depth, face: id };
            }
        }
    }
}

impl Body {
    /// Projects the faces of `topo` placed by `model` that are turned to the camera, and marks the pixels
    /// its feature edges cross.
    fn project(
        key: BodyKey,
        topo: &Topology,
        model: &DMat4,
        cam: &crate::conventions::Camera,
        (w, h): (usize, usize),
    ) -> Body {
        let eye = cam.position();
        let world: Vec<DVec3> = topo.positions.iter().map(|p| model.transform_point3(*p)).collect();
        // The unit normal of each face turned to the camera, None for the ones turned away.
        let facing: Vec<Option<DVec3>> = topo
            .faces
            .iter()
            .map(|f| {
                let a = world[f[0] as usize];
                let n = (1..f.len() - 1)
                    .map(|k| (world[f[k] as usize] - a).cross(world[f[k + 1] as usize] - a))
                    .fold(DVec3::ZERO, |s, x| s + x);
                let towards = n.dot(eye - a);
                if towards > 0.0 {
                    Some(n.normalize())
                } else if topo.double_sided && towards < 0.0 {
                    Some(-n.normalize())
                } else {
                    None
                }
            })
            .collect();
        let mut body = Body {
            key,
            faces: Vec::new(),
            bounds: Vec::new(),
            edges: Vec::new(),
            snapped: Vec::new(),
            marks: Vec::new(),
        };
        let mut corners: Vec<DVec3> = Vec::new();
        let mut projected: Vec<(DVec2, f64)> = Vec::new();
        let mut marks = Marks { w, h, list: &mut body.marks };
        for (i, f) in topo.faces.iter().enumerate() {
            let Some(normal) = facing[i] else { continue };
            corners.clear();
            corners.extend(f.iter().map(|&k| world[k as usize]));
            let visible = clip_near(&corners, cam);
            let (start, snapped) = (body.edges.len(), body.snapped.len());
            let into = (&mut body.edges, &mut body.snapped);
            if let Some((face, bounds)) = screen_face(&visible, cam, (w, h), into, &mut projected) {
                body.faces.push(Face { normal, mesh_normal: topo.normals[i], point: visible[0], ..face });
                body.bounds.push(bounds);
            } else {
                body.edges.truncate(start);
                body.snapped.truncate(snapped);
            }
            for k in 0..f.len() {
                let n = topo.neighbours[i][k];
                let feature = n == NO || facing[n as usize].is_none_or(|m| m.dot(normal) < CREASE_COS);
                if feature {
                    let (a, b) = (corners[k], corners[(k + 1) % f.len()]);
                    if let Some((a, b)) = clip_segment_near(a, b, cam) {
                        mark_segment(cam.project(a).0, cam.project(b).0, &mut marks);
                    }
                }
            }
        }
        // Nearest first, so that faces hidden behind them are passed over sooner (see [`cover`]).
        let nearest = |f: &Face, b: &[u16; 4]| {
            let z = f.inv_depth;
            let at = |u: u16, v: u16| z[0] * f64::from(u) + z[1] * f64::from(v) + z[2];
            at(b[0], b[2]).max(at(b[1] + 1, b[2])).max(at(b[0], b[3] + 1)).max(at(b[1] + 1, b[3] + 1))
        };
        let mut order: Vec<(f64, usize)> =
            body.faces.iter().zip(&body.bounds).map(|(f, b)| nearest(f, b)).zip(0..).collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut faces: Vec<Option<Face>> = std::mem::take(&mut body.faces).into_iter().map(Some).collect();
        body.faces = order.iter().filter_map(|&(_, i)| faces[i].take()).collect();
        body.bounds = order.iter().map(|&(_, i)| body.bounds[i]).collect();
        body
    }
}

/// Pixels listed by index (each edge of a body marks its own; duplicates are harmless).
struct Marks<'a> {
    w: usize,
    h: usize,
    list: &'a mut Vec<u32>,
}

/// The pixels of row `y` a convex face (its edge functions) may reach, within its bounds `x0..=x1`: for
/// each edge, the bound it puts on u anywhere in the row's band of v, the loosest over the band
/// (conservative: a pixel outside may be listed, none inside is left out). None if it reaches none.
fn row_span(edges: &[[f64; 3]], y: u16, x0: u16, x1: u16) -> Option<(u16, u16)> {
    let (v0, v1) = (f64::from(y), f64::from(y) + 1.0);
    let (mut lo, mut hi) = (f64::from(x0), f64::from(x1) + 1.0);
    for e in edges {
        let (a, b, c) = (e[0], e[1], e[2]);
        if a == 0.0 {
            if b * v0 + c < 0.0 && b * v1 + c < 0.0 {
                return None;
            }
            continue;
        }
        // a·u + b·v + c >= 0  <=>  u >= (a > 0) or <= (a < 0)  -(b·v + c) / a.
        let (at0, at1) = (-(b * v0 + c) / a, -(b * v1 + c) / a);
        if a > 0.0 {
            lo = lo.max(at0.min(at1));
        } else {
            hi = hi.min(at0.max(at1));
        }
    }
    // A margin for rounding, then the pixels [x, x + 1) that overlap [lo, hi].
    let (lo, hi) = (lo - 1e-7, hi + 1e-7);
    if lo > hi || lo.is_nan() || hi.is_nan() {
        return None;
    }
    let xa = (lo.floor().max(f64::from(x0))) as u16;
    let xb = (hi.floor().min(f64::from(x1))) as u16;
    (xa <= xb).then_some((xa, xb))
}

/// `near[p] = 1` for every pixel within two pixels (either axis) of a marked one (`marked`), and
/// those pixels listed in order (`nearby`). `near` is all 0 on entry (it is made so when its size
/// changes).
fn dilate(marked: &[u32], w: usize, h: usize, near: &mut Vec<u8>, nearby: &mut Vec<u32>) {
    if near.len() != w * h {
        near.clear();
        near.resize(w * h, 0);
    }
    nearby.clear();
    // Per row, the columns set in it lie within `extent` (then listed row by row, in order).
    let mut extent = vec![(usize::MAX, 0usize); h];
    for &p in marked {
        let (x, y) = (p as usize % w, p as usize / w);
        let (x0, x1) = (x.saturating_sub(2), (x + 3).min(w));
        for yy in y.saturating_sub(2)..(y + 3).min(h) {
            near[yy * w + x0..yy * w + x1].fill(1);
            let e = &mut extent[yy];
            *e = (e.0.min(x0), e.1.max(x1));
        }
    }
    for (y, &(x0, x1)) in extent.iter().enumerate() {
        let start = y * w + x0.min(x1);
        for (q, n) in (start..).zip(&near[start..y * w + x1]) {
            if *n != 0 {
                nearby.push(q as u32);
            }
        }
    }
}

fn shape_index(shape: Shape) -> usize {
    Shape::ALL.iter().position(|s| *s == shape).unwrap_or(0)
}

/// The part of a convex polygon (world space) in front of the near plane.
fn clip_near<'a>(corners: &'a [DVec3], cam: &crate::conventions::Camera) -> std::borrow::Cow<'a, [DVec3]> {
    let depth = |p: DVec3| -cam.view.transform_point3(p).z;
    if corners.iter().all(|&p| depth(p) >= cam.near) {
        return std::borrow::Cow::Borrowed(corners);
    }
    let d: Vec<f64> = corners.iter().map(|&p| depth(p)).collect();
    let n = corners.len();
    let mut poly = Vec::with_capacity(n + 1);
    for k in 0..n {
        let (a, b, da, db) = (corners[k], corners[(k + 1) % n], d[k], d[(k + 1) % n]);
        if da >= cam.near {
            poly.push(a);
        }
        if (da >= cam.near) != (db >= cam.near) {
            poly.push(a + (b - a) * ((cam.near - da) / (db - da)));
        }
    }
    std::borrow::Cow::Owned(poly)
}

/// The part of a segment in front of the near plane.
fn clip_segment_near(a: DVec3, b: DVec3, cam: &crate::conventions::Camera) -> Option<(DVec3, DVec3)> {
    let depth = |p: DVec3| -cam.view.transform_point3(p).z;
    let (da, db) = (depth(a), depth(b));
    match (da >= cam.near, db >= cam.near) {
        (true, true) => Some((a, b)),
        (false, false) => None,
        (true, false) => Some((a, a + (b - a) * ((cam.near - da) / (db - da)))),
        (false, true) => Some((a + (b - a) * ((cam.near - da) / (db - da)), b)),
    }
}

/// A convex polygon (world space, in front of the near plane) in pixel coordinates, its edge
/// functions appended to `edges`; None if it is degenerate (seen edge-on) or off the image.
fn screen_face(
    p: &[DVec3],
    cam: &crate::conventions::Camera,
    (w, h): (usize, usize),
    (edges, snapped): (&mut Vec<[f64; 3]>, &mut Vec<SnappedEdge>),
    scratch: &mut Vec<(DVec2, f64)>,
) -> Option<(Face, [u16; 4])> {
    let n = p.len();
    if n < 3 {
        return None;
    }
    scratch.clear();
    scratch.extend(p.iter().map(|&q| cam.project(q)));
    let projected = &scratch[..];
    let uv = |k: usize| projected[k].0;
    let area2 = polygon::winding(n, uv);
    if area2.abs() < 1e-12 || !area2.is_finite() {
        return None;
    }
    let lo = projected.iter().fold(DVec2::INFINITY, |a, b| a.min(b.0));
    let hi = projected.iter().fold(DVec2::NEG_INFINITY, |a, b| a.max(b.0));
    let (x0, y0) = (lo.x.floor().max(0.0), lo.y.floor().max(0.0));
    let (x1, y1) = (hi.x.floor().min(w as f64 - 1.0), hi.y.floor().min(h as f64 - 1.0));
    if x0 > x1 || y0 > y1 {
        return None;
    }
    let start = edges.len();
    polygon::push_edges(n, uv, area2.signum(), false, edges);
    // 1 / depth is affine on screen over a plane: fit it through three corners spread over the polygon.
    let (i, j, k) = (0, n / 3, 2 * n / 3);
    let (i, j, k) = if n == 3 { (0, 1, 2) } else { (i, j.max(1), k.max(2)) };
    let inv = |m: usize| 1.0 / projected[m].1;
    let (e1, e2) = (uv(j) - uv(i), uv(k) - uv(i));
    let a2 = e1.perp_dot(e2);
    if a2.abs() < 1e-12 {
        return None;
    }
    let (dw1, dw2) = (inv(j) - inv(i), inv(k) - inv(i));
    let za = (dw1 * e2.y - dw2 * e1.y) / a2;
    let zb = (dw2 * e1.x - dw1 * e2.x) / a2;
    let inv_depth = [za, zb, inv(i) - za * uv(i).x - zb * uv(i).y];
    // The corners snapped to 1/256 pixel, the edges turned so that the inside is on their positive
    // side, each owning a centre exactly on it when it is a top edge (going right) or a left one
    // (going up): `truth::raster`'s rule ([`Face::covers`]). A face that snaps to nothing has none.
    let first = snapped.len();
    let snap = |k: usize| (uv(k % n) * 256.0).round() / 256.0;
    let turn = polygon::winding(n, snap);
    if turn != 0.0 && turn.is_finite() {
        for k in 0..n {
            let (a, b) = if turn > 0.0 { (snap(k), snap(k + 1)) } else { (snap(k + 1), snap(k)) };
            let d = b - a;
            snapped.push((a, b, d.y < 0.0 || (d.y == 0.0 && d.x > 0.0)));
        }
    }
    let face = Face {
        edges: start..edges.len(),
        snapped: first..snapped.len(),
        inv_depth,
        normal: DVec3::ZERO,
        mesh_normal: [0.0; 3],
        point: DVec3::ZERO,
    };
    Some((face, [x0 as u16, x1 as u16, y0 as u16, y1 as u16]))
}

/// Marks (`1`) every pixel the segment a–b (pixel coordinates) passes through, inside the image.
fn mark_segment(a: DVec2, b: DVec2, marks: &mut Marks) {
    let (w, h) = (marks.w, marks.h);
    // Clip to the image (Liang–Barsky), then walk the pixel grid cell by cell (Amanatides–Woo).
    let d = b - a;
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-d.x, a.x), (d.x, w as f64 - a.x), (-d.y, a.y), (d.y, h as f64 - a.y)] {
        if p == 0.0 {
            if q < 0.0 {
                return;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 || !t0.is_finite() || !t1.is_finite() {
        return;
    }
    let (s, e) = (a + d * t0, a + d * t1);
    let cell = |p: DVec2| ((p.x.floor() as i64).clamp(0, w as i64 - 1), (p.y.floor() as i64).clamp(0, h as i64 - 1));
    let ((mut x, mut y), (ex, ey)) = (cell(s), cell(e));
    let step = |d: f64| if d > 0.0 { 1 } else { -1 };
    let (sx, sy) = (step(d.x), step(d.y));
    let next = |c: i64, sc: i64, p: f64, dd: f64| {
        if dd == 0.0 { f64::INFINITY } else { ((c + i64::from(sc > 0)) as f64 - p) / dd }
    };
    let (mut tx, mut ty) = (next(x, sx, s.x, e.x - s.x), next(y, sy, s.y, e.y - s.y));
    let (dtx, dty) = (1.0 / (e.x - s.x).abs(), 1.0 / (e.y - s.y).abs());
    for _ in 0..=((ex - x).abs() + (ey - y).abs()) {
        marks.list.push((y as usize * w + x as usize) as u32);
        if x == ex && y == ey {
            break;
        }
        if tx < ty {
            tx += dtx;
            x += sx;
        } else {
            ty += dty;
            y += sy;
        }
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            break;
        }
    }
}

/// The mark of a pixel a shadow edge may cross (with or without an object's edge, `1`).
const SHADOW_EDGE: u8 = 2;

/// Marks ([`SHADOW_EDGE`]) every pixel the GPU found partly in the sun (`sun`: the shader's alpha) and
/// both pixels of every pair of 8-neighbours where it differs.
fn mark_shadow_edges(sun: &[u8], w: usize, window: Rect, marks: &mut [u8]) {
    for y in window.y0 as usize..window.y1 as usize {
        for p in y * w + window.x0 as usize..y * w + window.x1 as usize {
            if sun[p] != 0 && sun[p] != 255 {
                marks[p] |= SHADOW_EDGE;
            }
        }
    }
    mark_pairs(sun, w, window, SHADOW_EDGE, marks);
}

/// The marks of pixel `p` alone from its labels and its sun (empty: no shadow edges): as
/// [`mark_label_changes`] and [`mark_shadow_edges`] over the whole image give it.
fn marks_at(mask: &[u8], sun: &[u8], (w, h): (usize, usize), p: usize) -> u8 {
    let (x, y) = (p % w, p / w);
    let mut out = 0;
    if sun.get(p).is_some_and(|s| *s != 0 && *s != 255) {
        out |= SHADOW_EDGE;
    }
    for q in (y.saturating_sub(1)..(y + 2).min(h))
        .flat_map(|qy| (x.saturating_sub(1)..(x + 2).min(w)).map(move |qx| qy * w + qx))
    {
        if mask[q] != mask[p] {
            out |= 1;
        }
        if !sun.is_empty() && sun[q] != sun[p] {
            out |= SHADOW_EDGE;
        }
    }
    out
}

/// Marks (`1`) both pixels of every pair of 8-neighbours whose labels differ.
fn mark_label_changes(mask: &[u8], w: usize, window: Rect, marks: &mut [u8]) {
    mark_pairs(mask, w, window, 1, marks);
}

/// Sets `bit` in the marks of both pixels of every pair of 8-neighbours within `window` (of an image
/// `w` wide) whose `values` differ.
fn mark_pairs(values: &[u8], w: usize, window: Rect, bit: u8, marks: &mut [u8]) {
    let (x0, x1, y0, y1) = (window.x0 as usize, window.x1 as usize, window.y0 as usize, window.y1 as usize);
    if x0 >= x1 {
        return;
    }
    // Row by row, each kind of pair over the whole row at once (no branches: the loops vectorize).
    let differ = |a: u8, b: u8| bit & 0u8.wrapping_sub(u8::from(a != b));
    for y in y0..y1 {
        let row = &values[y * w + x0..y * w + x1];
        // Along the row.
        let (top, rest) = marks[y * w..].split_at_mut(w);
        let top = &mut top[x0..x1];
        for ((m, a), b) in top.iter_mut().zip(row).zip(&row[1..]) {
            *m |= differ(*a, *b);
        }
        for ((m, a), b) in top[1..].iter_mut().zip(row).zip(&row[1..]) {
            *m |= differ(*a, *b);
        }
        if y + 1 >= y1 {
            continue;
        }
        // With the row below: straight down, down to the right, down to the left.
        let below = &values[(y + 1) * w + x0..(y + 1) * w + x1];
        let bottom = &mut rest[x0..x1];
        for (((t, m), a), b) in top.iter_mut().zip(bottom.iter_mut()).zip(row).zip(below) {
            let d = differ(*a, *b);
            *t |= d;
            *m |= d;
        }
        for (((t, m), a), b) in top.iter_mut().zip(bottom[1..].iter_mut()).zip(row).zip(&below[1..]) {
            let d = differ(*a, *b);
            *t |= d;
            *m |= d;
        }
        for (((t, m), a), b) in top[1..].iter_mut().zip(bottom.iter_mut()).zip(&row[1..]).zip(below) {
            let d = differ(*a, *b);
            *t |= d;
            *m |= d;
        }
    }
}

/// `x.floor()` for the small values of a span, saturated, branch-free (so that the eight rows of a
/// pixel are computed side by side).
fn floor(x: f64) -> i32 {
    let i = x.clamp(-1e9, 1e9) as i32;
    i - i32::from((i as f64) > x)
}

fn ceil(x: f64) -> i32 {
    -floor(-x)
}

/// Row `j`'s sample offset, (j + 0.5) / N, and the row index as a float.
const ROWS: [f64; N] = {
    let mut r = [0.0f64; N];
    let mut k = 0;
    while k < N {
        r[k] = k as f64;
        k += 1;
    }
    r
};

/// The samples of pixel (px, py) inside a convex polygon (its edge functions, each moved out by
/// `grow`): per row j, the columns lo[j]..hi[j]; None if the pixel is wholly outside an edge. Each
/// row's span is bounded by the edges that cross the pixel; the rows are computed side by side.
fn row_spans(face_edges: &[[f64; 3]], px: f64, py: f64, grow: f64) -> Option<([i32; N], [i32; N])> {
    let n = N as f64;
    // The span of each row: columns lo..hi.
    let mut lo = [0i32; N];
    let mut hi = [N as i32; N];
    for e in face_edges {
        // The edge function at the pixel's corner, and its lowest and highest value over the pixel.
        let c = e[0] * px + e[1] * py + (e[2] + grow);
        let low = c + e[0].min(0.0) + e[1].min(0.0);
        let high = c + e[0].max(0.0) + e[1].max(0.0);
        if high < 0.0 {
            return None; // the pixel is outside this edge
        }
        if low >= 0.0 {
            continue; // wholly inside this edge
        }
        // a·u + b·v + c >= 0 with u = (i + 0.5)/N, v = (j + 0.5)/N  <=>  i >= (a > 0) or <= (a < 0)
        // base + step·j; a horizontal edge (a = 0) keeps a row whole or empties it.
        if e[0] == 0.0 {
            for j in 0..N {
                let keep = c + e[1] * f64::from(OFFSETS[j]) >= 0.0;
                hi[j] = if keep { hi[j] } else { 0 };
            }
            continue;
        }
        let base = -(c + e[1] * 0.5 / n) / e[0] * n - 0.5;
        let step = -e[1] / e[0];
        if e[0] > 0.0 {
            for j in 0..N {
                lo[j] = lo[j].max(ceil(base + step * ROWS[j]));
            }
        } else {
            for j in 0..N {
                hi[j] = hi[j].min(floor(base + step * ROWS[j]) + 1);
            }
        }
    }
    Some((lo, hi))
}

/// A convex polygon in the sun's coordinates in pixel coordinates: its edge functions into `edges`
/// (the signed distance in pixels, positive inside); false if a corner lies behind the camera's near plane.
fn screen_polygon(
    polygon: &[DVec3],
    rays: &SunRays,
    cam: &crate::conventions::Camera,
    edges: &mut Vec<[f64; 3]>,
    uv: &mut Vec<DVec2>,
) -> bool {
    edges.clear();
    uv.clear();
    for p in polygon {
        let (q, depth) = cam.project(rays.world(*p));
        if depth <= cam.near || !q.is_finite() {
            return false;
        }
        uv.push(q);
    }
    let corner = |k: usize| uv[k];
    let area2 = polygon::winding(uv.len(), corner);
    if area2 == 0.0 || !area2.is_finite() {
        // Seen edge-on: covers no sample.
        edges.push([0.0, 0.0, -1.0]);
        return true;
    }
    polygon::push_edges(uv.len(), corner, area2.signum(), true, edges);
    true
}

/// The samples of pixel (x, y) inside a convex polygon (its edge functions, each moved out by `grow`),
/// as bits `j·N + i`.
fn inside_mask(edges: &[[f64; 3]], x: f64, y: f64, grow: f64) -> u64 {
    let Some((lo, hi)) = row_spans(edges, x, y, grow) else { return 0 };
    let mut mask = 0u64;
    for j in 0..N {
        let (a, b) = (lo[j].max(0), hi[j].min(N as i32));
        if a < b {
            mask |= ((1u64 << (b - a)) - 1) << (j * N + a as usize);
        }
    }
    mask
}

/// The mean position within the pixel of the samples `bits` (bits `j·N + i`, at least one).
fn centroid(bits: u64) -> (f64, f64) {
    const COLUMN: u64 = 0x0101_0101_0101_0101;
    let (mut u, mut v) = (0.0, 0.0);
    for (k, &offset) in OFFSETS.iter().enumerate() {
        let offset = f64::from(offset);
        u += offset * f64::from((bits & COLUMN << k).count_ones());
        v += offset * f64::from((bits >> (k * N) & 0xFF).count_ones());
    }
    let n = f64::from(bits.count_ones());
    (u / n, v / n)
}

/// Draws face `f` (its edge functions and its 1 / depth plane) into the 8 × 8 samples of pixel (x, y):
/// a sample inside it takes it when it is nearer than what the sample holds. Each row of samples inside
/// the face is one span, bounded by the edges that cross the pixel; the rows are computed side by side.
fn cover(face_edges: &[[f64; 3]], inv_depth: &[f64; 3], f: u32, x: u32, y: u32, out: &mut Samples) {
    let (px, py) = (x as f64, y as f64);
    // Hidden: nearer faces already hold every sample (with a margin for the samples' f32 rounding).
    let nearest = inv_depth[0] * px + inv_depth[1] * py + inv_depth[2] + inv_depth[0].max(0.0) + inv_depth[1].max(0.0);
    if nearest * (1.0 + 1e-5) < f64::from(out.floor) {
        return;
    }
    let Some((lo, hi)) = row_spans(face_edges, px, py, 0.0) else { return };
    let z0 = (inv_depth[0] * px + inv_depth[1] * py + inv_depth[2]) as f32;
    let (za, zb) = (inv_depth[0] as f32, inv_depth[1] as f32);
    for (j, &v) in OFFSETS.iter().enumerate() {
        let (lo, hi) = (lo[j], hi[j]);
        if lo >= hi {
            continue;
        }
        let zrow = zb * v + z0;
        let row = j * N;
        let depths: &mut [f32; N] = (&mut out.inv_depth[row..row + N]).try_into().expect("a row of N"); // ok: N wide
        let faces: &mut [u32; N] = (&mut out.face[row..row + N]).try_into().expect("a row of N"); // ok: N wide
        // Branch-free over the whole row (vectorised), the span as a mask.
        for i in 0..N {
            let depth = za * OFFSETS[i] + zrow;
            let take = (i as i32 >= lo) & ((i as i32) < hi) & (depth > depths[i]);
            depths[i] = if take { depth } else { depths[i] };
            faces[i] = if take { f } else { faces[i] };
        }
    }
    out.floor = out.inv_depth.iter().fold(f32::INFINITY, |a, &b| a.min(b));
}

/// [`cover`] sample by sample: what it must equal.
#[cfg(test)]
fn cover_slow(face_edges: &[[f64; 3]], inv_depth: &[f64; 3], f: u32, x: u32, y: u32, out: &mut Samples) {
    for (j, &v) in OFFSETS.iter().enumerate() {
        for (i, &u) in OFFSETS.iter().enumerate() {
            let (su, sv) = (x as f64 + f64::from(u), y as f64 + f64::from(v));
            if face_edges.iter().all(|e| e[0] * su + e[1] * sv + e[2] >= 0.0) {
                let depth = (inv_depth[0] * su + inv_depth[1] * sv + inv_depth[2]) as f32;
                let s = j * N + i;
                if depth > out.inv_depth[s] {
                    out.inv_depth[s] = depth;
                    out.face[s] = f;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both pixels of every pair of 8-neighbours within the window whose values differ get the bit,
    /// and no other pixel does: [`mark_pairs`] against the pairs visited one by one, on random values
    /// in windows of every shape (edges of the image included).
    #[test]
    fn pairs_of_differing_neighbours_are_marked() {
        let (w, h) = (13usize, 9usize);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..200 {
            let values: Vec<u8> = (0..w * h).map(|_| (next() % 3) as u8).collect();
            let (xa, xb) = ((next() % (w as u64 + 1)) as u32, (next() % (w as u64 + 1)) as u32);
            let (ya, yb) = ((next() % (h as u64 + 1)) as u32, (next() % (h as u64 + 1)) as u32);
            let window = Rect { x0: xa.min(xb), x1: xa.max(xb), y0: ya.min(yb), y1: ya.max(yb) };
            let start: Vec<u8> = (0..w * h).map(|_| (next() % 2) as u8 * 4).collect();
            let mut want = start.clone();
            for y in window.y0 as usize..window.y1 as usize {
                for x in window.x0 as usize..window.x1 as usize {
                    for (dx, dy) in [(1i64, 0i64), (0, 1), (1, 1), (-1, 1)] {
                        let (qx, qy) = (x as i64 + dx, y as i64 + dy);
                        let inside =
                            qx >= i64::from(window.x0) && qx < i64::from(window.x1) && qy < i64::from(window.y1);
                        let (p, q) = (y * w + x, qy as usize * w + qx.max(0) as usize);
                        if inside && values[p] != values[q] {
                            want[p] |= 2;
                            want[q] |= 2;
                        }
                    }
                }
            }
            let mut got = start;
            mark_pairs(&values, w, window, 2, &mut got);
            assert_eq!(got, want, "round {round}, window {window:?}");
        }
    }

    /// A square face half over one pixel's samples: exactly 32 of its 64 samples.
    #[test]
    fn coverage_is_counted_on_the_8x8_grid() {
        // The square [0.5, 3] × [0, 3] (counter-clockwise in pixel space), at 1 / depth 0.5.
        let sq = [DVec2::new(0.5, 0.0), DVec2::new(3.0, 0.0), DVec2::new(3.0, 3.0), DVec2::new(0.5, 3.0)];
        let edges: Vec<[f64; 3]> = (0..4)
            .map(|k| {
                let (a, b) = (sq[k], sq[(k + 1) % 4]);
                let d = b - a;
                let sign = 1.0; // shoelace area of this winding is positive
                let (ea, eb) = (-d.y * sign, d.x * sign);
                [ea, eb, -(ea * a.x + eb * a.y)]
            })
            .collect();
        let mut px = EMPTY;
        cover(&edges, &[0.0, 0.0, 0.5], 7, 0, 0, &mut px);
        assert_eq!(px.face.iter().filter(|f| **f == 7).count(), 32);
        // Each row: the right half of the columns.
        assert!((0..N).all(|j| (0..N).all(|i| (px.face[j * N + i] == 7) == (i >= N / 2))));
        // A nearer face over the left quarter takes those samples; a farther one takes none.
        let mut slow = px.clone();
        let left: Vec<[f64; 3]> = vec![[1.0, 0.0, 0.0], [-1.0, 0.0, 0.25]];
        cover(&left, &[0.0, 0.0, 0.9], 8, 0, 0, &mut px);
        cover_slow(&left, &[0.0, 0.0, 0.9], 8, 0, 0, &mut slow);
        assert_eq!(px.face.iter().filter(|f| **f == 8).count(), 16);
        assert_eq!(px.face, slow.face);
        cover(&left, &[0.0, 0.0, 0.1], 9, 0, 0, &mut px);
        assert!(!px.face.contains(&9));
    }

    #[test]
    fn a_segment_marks_the_pixels_it_passes_through() {
        let (w, h) = (8, 6);
        let mut list = Vec::new();
        let mut marks = Marks { w, h, list: &mut list };
        mark_segment(DVec2::new(0.5, 0.5), DVec2::new(3.5, 1.7), &mut marks);
        let got: Vec<(usize, usize)> = list.iter().map(|&p| (p as usize % w, p as usize / w)).collect();
        // From (0.5, 0.5) to (3.5, 1.7): the line crosses y = 1 at x = 1.75.
        assert_eq!(got, vec![(0, 0), (1, 0), (1, 1), (2, 1), (3, 1)]);
        // Off the image: nothing; clipped: only the part inside.
        let mut list = Vec::new();
        let mut marks = Marks { w, h, list: &mut list };
        mark_segment(DVec2::new(-5.0, -1.0), DVec2::new(20.0, -1.0), &mut marks);
        assert!(marks.list.is_empty());
        mark_segment(DVec2::new(-5.0, 2.5), DVec2::new(20.0, 2.5), &mut marks);
        assert_eq!(list, (0..w as u32).map(|x| 2 * w as u32 + x).collect::<Vec<_>>());
    }

    /// Spans equal sample-by-sample tests for random faces (triangles to hexagons, tiny faces, slivers),
    /// drawn over each other in random depth order. (A sample exactly on an edge may fall either way:
    /// the span's bound is computed, not tested, so it can round the other way.)
    #[test]
    fn spans_equal_sample_tests() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for round in 0..4000 {
            let (mut fast, mut slow) = (EMPTY, EMPTY);
            for f in 0..3u32 {
                // A convex polygon: corners at sorted angles around a centre near the pixel.
                let n = rng.random_range(3..=6);
                let centre = DVec2::new(rng.random_range(-1.0..2.0), rng.random_range(-1.0..2.0));
                let mut angles: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..std::f64::consts::TAU)).collect();
                angles.sort_by(f64::total_cmp);
                let radius = if round % 3 == 0 { 0.05 } else { rng.random_range(0.1..3.0) };
                let stretch = DVec2::new(1.0, if round % 5 == 0 { 0.01 } else { 1.0 });
                let corners: Vec<DVec2> =
                    angles.iter().map(|a| centre + DVec2::new(a.cos(), a.sin()) * radius * stretch).collect();
                let edges: Vec<[f64; 3]> = (0..n)
                    .map(|k| {
                        let (a, b) = (corners[k], corners[(k + 1) % n]);
                        let d = b - a;
                        [-d.y, d.x, -(-d.y * a.x + d.x * a.y)]
                    })
                    .collect();
                let z = [rng.random_range(-0.1..0.1), rng.random_range(-0.1..0.1), rng.random_range(0.5..1.0)];
                cover(&edges, &z, f, 0, 0, &mut fast);
                cover_slow(&edges, &z, f, 0, 0, &mut slow);
            }
            assert_eq!(fast.face, slow.face, "round {round}");
        }
    }

    #[test]
    fn dilation_reaches_two_pixels() {
        let (w, h) = (7, 6);
        let mut marks = vec![0u8; w * h];
        marks[2 * w + 3] = 1;
        let marked: Vec<u32> = (0..w * h).filter(|p| marks[*p] != 0).map(|p| p as u32).collect();
        let (mut near, mut nearby) = (Vec::new(), Vec::new());
        dilate(&marked, w, h, &mut near, &mut nearby);
        let listed: Vec<u32> = (0..w * h).filter(|p| near[*p] == 1).map(|p| p as u32).collect();
        assert_eq!(nearby, listed);
        let got: Vec<(usize, usize)> = (0..w * h).filter(|p| near[*p] == 1).map(|p| (p % w, p / w)).collect();
        let want: Vec<(usize, usize)> = (0..5).flat_map(|y| (1..6).map(move |x| (x, y))).collect();
        assert_eq!(got, want);
    }

    /// Scattered marks, at the borders too: every pixel within two of one is near, listed in order.
    #[test]
    fn dilation_lists_every_near_pixel_in_order() {
        let (w, h) = (19, 13);
        let mut state = 7u64;
        let (mut near, mut nearby) = (Vec::new(), Vec::new());
        for _ in 0..30 {
            let mut marked: Vec<u32> = (0..5)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 33) % (w * h) as u64) as u32
                })
                .collect();
            marked.sort_unstable();
            marked.dedup();
            dilate(&marked, w, h, &mut near, &mut nearby);
            let want: Vec<u32> = (0..(w * h) as u32)
                .filter(|&q| {
                    let (x, y) = (q as usize % w, q as usize / w);
                    marked.iter().any(|&p| x.abs_diff(p as usize % w) <= 2 && y.abs_diff(p as usize / w) <= 2)
                })
                .collect();
            assert_eq!(nearby, want);
            assert!((0..w * h).all(|q| (near[q] != 0) == want.contains(&(q as u32))));
            // As `cover_marked` leaves it for the next image.
            for &q in &nearby {
                near[q as usize] = 0;
            }
        }
    }
}
