//! The view-independent light of a scene, baked once into small light maps on every object's faces:
//! the sky visibility (the cosine-weighted share of the hemisphere no object hides, which the world
//! colour lights) and the bounce light (what the other surfaces send towards the point). Both depend
//! only on where the objects stand and where the sun is, not on the camera, so one bake serves every
//! image of a scene: it is made from the scene's *nominal* objects (every terminal in place, no defect)
//! and its own sun, and reused while those stay the same (randomized colours and sun strength are
//! applied per image; a defect or a jittered sun changes the bounce light only slightly; shadows come
//! from a shadow map per image and move with the sun).
//!
//! Light maps: every object (a prism over a convex cross-section: box, cylinder, triangle, housing slab)
//! has six *charts*, one per axis direction of its local frame; a face belongs to the chart of its
//! normal's dominant axis (the shader picks it the same way) and is looked up by its local coordinates
//! on the other two axes, on a grid of nodes about [`CELL`] world units apart, bilinearly. The meshes
//! stay the coarse ones the masks are drawn with.
//!
//! Each node shoots a fixed set of [`RAYS`] cosine-distributed rays (a Fibonacci spiral, the same for
//! every node: deterministic, and the error varies smoothly). A ray that leaves the scene sees the
//! world colour; one that hits a surface sees its radiance: the sun on it (shadowed exactly), the world
//! colour times an estimate of its sky visibility, and one more bounce (the first pass's light map at the
//! hit). Light from terminals and from the housing is kept apart, per unit colour, so the colours can
//! change per image.

use super::box_corners;
use crate::conventions::{round_ring, triangle_ring};
use crate::geometry::{Object, Shape};
use glam::{DMat4, DVec3};

/// Rays per light-map node.
const RAYS: usize = 64;
/// Sky visibility assumed at a hit point in the first pass.
const FIRST_PASS_SKY: f64 = 0.5;
/// 1: one bounce; 2: two.
const PASSES: usize = 2;
/// Target spacing of light-map nodes, world units (a terminal's side: 2 × 8 cells).
const CELL: f64 = 0.25;
/// The most cells along one axis of an object.
const MAX_CELLS: u32 = 64;

/// What a bake depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct BakeInputs {
    /// Every object as it nominally stands (colours are not used: light is kept per unit colour).
    pub objects: Vec<Object>,
    /// Unit vector towards the sun.
    pub to_sun: DVec3,
    /// Sun irradiance / π (0 = no sun).
    pub sun: f64,
    /// World colour (linear RGB) as light; zero when the world does not light the scene.
    pub world: [f64; 3],
    /// Terminal and housing colours, for the light bounced twice.
    pub pin_color: [f64; 3],
    pub housing_color: [f64; 3],
    pub shadows: bool,
    /// Whether bounce light is baked (else only the sky visibility).
    pub bounce: bool,
}

/// Per object: its label, where its nodes start among all objects' (each chart's nodes in turn, as
/// [`Bake::new`] makes them) and its cells per axis.
fn layout(objects: &[Object]) -> Vec<(u8, u32, [u32; 3])> {
    let mut start = 0;
    objects
        .iter()
        .map(|o| {
            let c = cells(o);
            let at = start;
            start += chart_start(c, 6);
            (o.label, at, c)
        })
        .collect()
}

/// Light-map cells of an object along its local x, y and z.
pub fn cells(o: &Object) -> [u32; 3] {
    let h = o.half_extents;
    [h.x, h.y, h.z].map(|e| ((2.0 * e / CELL).ceil() as u32).clamp(1, MAX_CELLS))
}

/// Chart `c` (0..6: +x, -x, +y, -y, +z, -z): its axis, and the local axes its grid runs along (u, v).
fn chart_axes(c: usize) -> (usize, usize, usize) {
    let axis = c / 2;
    (axis, (axis + 1) % 3, (axis + 2) % 3)
}

/// Nodes of chart `c` along u and v.
fn chart_nodes(cells: [u32; 3], c: usize) -> (u32, u32) {
    let (_, u, v) = chart_axes(c);
    (cells[u] + 1, cells[v] + 1)
}

/// Where chart `c` starts among an object's nodes.
fn chart_start(cells: [u32; 3], c: usize) -> u32 {
    (0..c).map(|k| chart_nodes(cells, k)).map(|(a, b)| a * b).sum()
}

/// The chart of a (local) normal: its dominant axis and side (ties go to z, then y: the same rule as
/// `shaders/scene.wgsl`).
fn chart_of(n: DVec3) -> usize {
    let a = n.abs();
    let axis = if a.z >= a.x && a.z >= a.y {
        2
    } else if a.y >= a.x {
        1
    } else {
        0
    };
    2 * axis + usize::from(n[axis] < 0.0)
}

/// Per object (in `BakeInputs::objects` order), per light-map node: `[sky visibility, light from
/// terminals per unit terminal colour, light from the housing per unit housing colour, 0]`.
pub struct Bake {
    pub inputs: BakeInputs,
    /// Every object's nodes one after the other.
    pub data: Vec<[f32; 4]>,
    /// Per object: its label, where its nodes start in `data` and its cells per axis.
    objects: Vec<(u8, u32, [u32; 3])>,
}

/// A shape as a ray target: the convex prism it is drawn as, in its unit frame.
struct Target {
    /// World bounding box (of the unit cube's corners, a little larger) for a quick rejection.
    lo: DVec3,
    hi: DVec3,
    local: DMat4,
    world: DMat4,
    /// Bounding planes in the unit frame: outward normal, offset (inside: n·p <= d).
    planes: Vec<(DVec3, f64)>,
    pin: bool,
}

/// The side planes of a prism over `ring` (counter-clockwise corners), plus its top and bottom.
fn prism_planes(ring: &[(f64, f64)]) -> Vec<(DVec3, f64)> {
    let n = ring.len();
    let mut planes: Vec<(DVec3, f64)> = (0..n)
        .map(|i| {
            let (p, q) = (ring[i], ring[(i + 1) % n]);
            let normal = DVec3::new(q.1 - p.1, -(q.0 - p.0), 0.0).normalize();
            (normal, normal.x * p.0 + normal.y * p.1)
        })
        .collect();
    planes.push((DVec3::Z, 1.0));
    planes.push((-DVec3::Z, 1.0));
    planes
}

fn shape_planes(shape: Shape) -> Vec<(DVec3, f64)> {
    match shape {
        Shape::Box | Shape::Slab => prism_planes(&[(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]),
        Shape::Cylinder => prism_planes(&round_ring().collect::<Vec<_>>()),
        Shape::Prism3 => prism_planes(&triangle_ring()),
    }
}

/// How far past ±1 a shape's unit frame is taken to reach, for the quick rejection before [`clip`] (a
/// cylinder has 34 planes).
const UNIT_EDGE: f64 = 1.0 + 1e-6;

/// Entry and exit of the ray `o + t·d` through the convex solid `planes`, with the entry plane's index.
fn clip(planes: &[(DVec3, f64)], o: DVec3, d: DVec3) -> Option<(f64, f64, usize)> {
    let (mut near, mut far, mut entry) = (f64::NEG_INFINITY, f64::INFINITY, 0);
    for (k, (n, off)) in planes.iter().enumerate() {
        let (dn, on) = (n.dot(d), off - n.dot(o));
        if dn.abs() < 1e-12 {
            if on < 0.0 {
                return None;
            }
            continue;
        }
        let t = on / dn;
        if dn < 0.0 {
            if t > near {
                (near, entry) = (t, k);
            }
        } else {
            far = far.min(t);
        }
    }
    (far > near).then_some((near, far, entry))
}

impl Target {
    fn of(o: &Object) -> Target {
        let world = o.model();
        let (mut lo, mut hi) = (DVec3::INFINITY, DVec3::NEG_INFINITY);
        for corner in box_corners(DVec3::NEG_ONE, DVec3::ONE) {
            let p = world.transform_point3(corner);
            (lo, hi) = (lo.min(p), hi.max(p));
        }
        let margin = DVec3::splat(1e-6 * (1.0 + lo.abs().max(hi.abs()).max_element()));
        Target {
            lo: lo - margin,
            hi: hi + margin,
            local: world.inverse(),
            world,
            planes: shape_planes(o.shape),
            pin: o.shape != Shape::Slab,
        }
    }

    /// A sphere around the target's box, a little larger than the box's own (for [`Ahead::may_meet`]).
    fn sphere(&self) -> (DVec3, f64) {
        let (centre, radius) = ((self.lo + self.hi) * 0.5, (self.hi - self.lo).length() * 0.5);
        (centre, radius + 1e-7 * (1.0 + centre.abs().max_element() + radius))
    }

    /// Whether the target's box lies wholly behind the plane through `p` with normal `n`, farther
    /// than `margin` from it.
    fn behind(&self, p: DVec3, n: DVec3, margin: f64) -> bool {
        box_corners(self.lo, self.hi).iter().all(|&corner| (corner - p).dot(n) < -margin)
    }

    /// Whether `p` lies strictly inside the shape.
    fn contains(&self, p: DVec3) -> bool {
        let l = self.local.transform_point3(p);
        self.planes.iter().all(|(n, d)| n.dot(l) < d - 1e-6)
    }

    /// Distance to the first surface the ray `p + t·d` (d unit, world) meets at t > 0, with the local
    /// hit point and the local normal there.
    fn hit(&self, ray: &Ray) -> Option<(f64, DVec3, DVec3)> {
        if !ray.meets_box(self.lo, self.hi) {
            return None;
        }
        // The same ray in the unit frame (its direction no longer unit: t is unchanged).
        let unit = Ray::new(self.local.transform_point3(ray.origin), self.local.transform_vector3(ray.direction));
        if !unit.meets_box(DVec3::splat(-UNIT_EDGE), DVec3::splat(UNIT_EDGE)) {
            return None;
        }
        let (lo, ld) = (unit.origin, unit.direction);
        let (near, far, entry) = clip(&self.planes, lo, ld)?;
        // A ray from a point on the surface into the shape (a node on the crease where a terminal meets
        // the housing) meets it at once.
        (far > near.max(1e-6) && near > -1e-9).then(|| {
            let near = near.max(0.0);
            (near, lo + ld * near, self.planes[entry].0)
        })
    }

    /// World normal of a local normal (normals transform with the inverse transpose).
    fn world_normal(&self, n: DVec3) -> DVec3 {
        self.local.transpose().transform_vector3(n).normalize()
    }
}

/// A ray `origin + t·direction` (t > 0) with its direction's inverse, for box tests.
struct Ray {
    origin: DVec3,
    direction: DVec3,
    inverse: DVec3,
}

impl Ray {
    fn new(origin: DVec3, direction: DVec3) -> Ray {
        Ray { origin, direction, inverse: direction.recip() }
    }

    /// Whether the ray may meet the box `lo`..`hi` (at t >= 0).
    fn meets_box(&self, lo: DVec3, hi: DVec3) -> bool {
        let (a, b) = ((lo - self.origin) * self.inverse, (hi - self.origin) * self.inverse);
        if a.is_finite() && b.is_finite() {
            return a.max(b).min_element() >= a.min(b).max_element().max(0.0);
        }
        // Parallel to a pair of the box's planes.
        let (mut near, mut far) = (0.0f64, f64::INFINITY);
        for k in 0..3 {
            let (o, d, inv) = (self.origin[k], self.direction[k], self.inverse[k]);
            if d.abs() < 1e-12 {
                if o < lo[k] || o > hi[k] {
                    return false;
                }
                continue;
            }
            let (a, b) = ((lo[k] - o) * inv, (hi[k] - o) * inv);
            near = near.max(a.min(b));
            far = far.min(a.max(b));
        }
        far >= near
    }
}

/// A target a node's rays may meet, with its sphere ([`Target::sphere`]) as seen from the node.
struct Ahead {
    target: usize,
    /// From the node to the sphere's centre, its length squared, and the radius squared.
    to_centre: DVec3,
    distance2: f64,
    radius2: f64,
    /// At most the distance from the node to the sphere along a direction of unit length (to within
    /// 1e-9 of it: the directions' rounding), so no nearer point of the target.
    nearest: f64,
}

impl Ahead {
    fn new(target: usize, origin: DVec3, (centre, radius): (DVec3, f64)) -> Ahead {
        let to_centre = centre - origin;
        let distance2 = to_centre.length_squared();
        let nearest = (distance2.sqrt() - radius) * (1.0 - 1e-9) - 1e-9;
        Ahead { target, to_centre, distance2, radius2: radius * radius, nearest }
    }

    /// Whether the ray from the node along `d` (`dd`: its length squared) may meet the sphere: it
    /// starts inside, or heads towards the centre and passes within the radius of it.
    fn may_meet(&self, d: DVec3, dd: f64) -> bool {
        if self.distance2 <= self.radius2 {
            return true;
        }
        let along = d.dot(self.to_centre);
        along > 0.0 && self.distance2 * dd - along * along <= self.radius2 * dd
    }
}

/// What a light-map node's ray meets ([`Bake::new`]): where the first pass's light map is read there
/// ([`Lookup`]), whether the object is a terminal, and the sun's light on it there (0 in shadow).
struct Hit {
    at: Lookup,
    pin: bool,
    sun: f64,
}

/// Where a light map is read bilinearly: the first of the four nodes, the nodes per row of its chart,
/// and the weights along the chart's two axes.
#[derive(Clone, Copy)]
struct Lookup {
    node: u32,
    row: u32,
    s: f64,
    t: f64,
}

impl Lookup {
    /// The light map of an object (nodes from `start`, `cells` per axis) at local point `l` with local
    /// normal `n`: what `shaders/scene.wgsl` does per fragment.
    fn of(start: u32, cells: [u32; 3], l: DVec3, n: DVec3) -> Lookup {
        let c = chart_of(n);
        let (_, ua, va) = chart_axes(c);
        let (nu, nv) = chart_nodes(cells, c);
        let f = |x: f64, nodes: u32| {
            let cells = (nodes - 1) as f64;
            let p = ((x + 1.0) / 2.0 * cells).clamp(0.0, cells);
            let i = (p.floor() as u32).min(nodes - 2);
            (i, p - i as f64)
        };
        let ((i, s), (j, t)) = (f(l[ua], nu), f(l[va], nv));
        Lookup { node: start + chart_start(cells, c) + j * nu + i, row: nu, s, t }
    }

    fn read(&self, data: &[[f64; 3]]) -> [f64; 3] {
        let (at, row, s, t) = (self.node as usize, self.row as usize, self.s, self.t);
        let mut out = [0.0; 3];
        for (k, o) in out.iter_mut().enumerate() {
            let top = data[at][k] * (1.0 - s) + data[at + 1][k] * s;
            let bottom = data[at + row][k] * (1.0 - s) + data[at + row + 1][k] * s;
            *o = top * (1.0 - t) + bottom * t;
        }
        out
    }
}

/// `f` of each chunk of `items` (with their `inside` flags), in order, one chunk per core (every item
/// is independent: the result does not depend on the split).
fn chunks_on_cores<T: Sync, R: Send>(items: &[T], inside: &[bool], f: &(dyn Fn(&[T], &[bool]) -> R + Sync)) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> =
            items.chunks(chunk).zip(inside.chunks(chunk)).map(|(c, i)| s.spawn(move || f(c, i))).collect();
        handles.into_iter().map(|h| h.join().expect("bake thread")).collect() // ok: a panic in a bake thread is a bug
    })
}

/// `f` of every item of `items` (with its `inside` flag), in order, the items split over the cores.
fn on_cores<T: Sync, R: Send>(items: &[T], inside: &[bool], f: &(dyn Fn((&T, &bool)) -> R + Sync)) -> Vec<R> {
    chunks_on_cores(items, inside, &|c, i| c.iter().zip(i).map(f).collect::<Vec<_>>()).into_iter().flatten().collect()
}

/// What `trace` pushes for every node (nothing for the nodes `inside`), the nodes split over the
/// cores: every node's hits one after the other, and where each node's end. (One list per core, not
/// one per node: a list per node, each made room for every ray, was most of the bake's memory and
/// page faults.)
fn trace_on_cores(nodes: &[Node], inside: &[bool], trace: &(dyn Fn(&Node, &mut Vec<Hit>) + Sync)) -> Traced {
    let parts = chunks_on_cores(nodes, inside, &|c, i| {
        let (mut hits, mut ends) = (Vec::new(), Vec::with_capacity(c.len()));
        for (n, &inside) in c.iter().zip(i) {
            if !inside {
                trace(n, &mut hits);
            }
            ends.push(hits.len());
        }
        (hits, ends)
    });
    let mut traced = Traced { hits: Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum()), ends: Vec::new() };
    for (hits, ends) in parts {
        let before = traced.hits.len();
        traced.ends.extend(ends.iter().map(|e| before + e));
        traced.hits.extend(hits);
    }
    traced
}

/// Every node's hits ([`trace_on_cores`]).
struct Traced {
    hits: Vec<Hit>,
    ends: Vec<usize>,
}

impl Traced {
    /// Each node's hits, in node order.
    fn per_node(&self) -> Vec<&[Hit]> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let hits = &self.hits[start..end];
                start = end;
                hits
            })
            .collect()
    }
}

/// Cosine-distributed directions around +z: a Fibonacci spiral over the unit disc, lifted.
pub(super) fn directions() -> Vec<DVec3> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..RAYS)
        .map(|i| {
            let r2 = (i as f64 + 0.5) / RAYS as f64;
            let (r, a) = (r2.sqrt(), golden * i as f64);
            DVec3::new(r * a.cos(), r * a.sin(), (1.0 - r2).sqrt())
        })
        .collect()
}

/// A light-map node on an object's surface.
struct Node {
    object: usize,
    chart: usize,
    position: DVec3,
    normal: DVec3,
}

/// The surface point of chart `c`'s node at local (u, v) of its grid: where a ray from outside along the
/// chart's axis first meets the shape (nodes beyond the outline move inwards until one does).
fn surface_node(planes: &[(DVec3, f64)], c: usize, u: f64, v: f64) -> (DVec3, DVec3) {
    let (axis, ua, va) = chart_axes(c);
    let sign = if c.is_multiple_of(2) { 1.0 } else { -1.0 };
    for k in 0..=20 {
        let s = 1.0 - k as f64 / 20.0;
        let mut o = DVec3::ZERO;
        o[axis] = 3.0 * sign;
        o[ua] = u * s;
        o[va] = v * s;
        let mut d = DVec3::ZERO;
        d[axis] = -sign;
        if let Some((near, _, entry)) = clip(planes, o, d) {
            return (o + d * near, planes[entry].0);
        }
    }
    let mut n = DVec3::ZERO;
    n[axis] = sign;
    (n, n) // ok: unreachable for a solid containing the origin (the last try is the axis itself)
}

impl Bake {
    pub fn new(inputs: BakeInputs) -> Bake {
        Bake::traced(inputs, true)
    }

    /// The bake, with each ray asking only the targets it may meet (`cull`), or every target in
    /// turn (the definition; for the tests: the same bytes).
    fn traced(inputs: BakeInputs, cull: bool) -> Bake {
        let targets: Vec<Target> = inputs.objects.iter().map(Target::of).collect();
        let cells: Vec<[u32; 3]> = inputs.objects.iter().map(cells).collect();
        let mut nodes: Vec<Node> = Vec::new();
        let mut starts = Vec::with_capacity(targets.len());
        for (i, t) in targets.iter().enumerate() {
            starts.push(nodes.len());
            for c in 0..6 {
                let (nu, nv) = chart_nodes(cells[i], c);
                for j in 0..nv {
                    for k in 0..nu {
                        let u = -1.0 + 2.0 * k as f64 / (nu - 1) as f64;
                        let v = -1.0 + 2.0 * j as f64 / (nv - 1) as f64;
                        let (local, n) = surface_node(&t.planes, c, u, v);
                        nodes.push(Node {
                            object: i,
                            chart: c,
                            position: t.world.transform_point3(local),
                            normal: t.world_normal(n),
                        });
                    }
                }
            }
        }
        starts.push(nodes.len());
        // A node inside another object (the housing's top under a terminal, a terminal's foot in the
        // housing) is never seen but colours its neighbours through interpolation: it is not traced and
        // takes the values of the nearest node of its chart that is outside.
        let inside: Vec<bool> = nodes
            .iter()
            .map(|n| targets.iter().enumerate().any(|(k, t)| k != n.object && t.contains(n.position)))
            .collect();
        let dirs = directions();
        let spheres: Vec<(DVec3, f64)> = targets.iter().map(Target::sphere).collect();
        // The first surface along a ray from a node (`d` of unit length): of the nearest hits, the
        // first target's. `ahead` is sorted by how near a target's sphere comes to the node, so once a
        // hit is nearer than the next sphere, no target left can be met nearer. A target whose sphere
        // the ray misses is not asked (the sphere holds its box with a margin far above rounding, so
        // no target that would be met is left out: the same hit as asking every one in turn).
        let nearest_hit = |p: DVec3, d: DVec3, ahead: &[Ahead]| {
            let ray = Ray::new(p, d);
            let dd = d.length_squared();
            let mut best: Option<(f64, usize, DVec3, DVec3)> = None;
            for a in ahead {
                if cull && best.is_some_and(|b| a.nearest > b.0) {
                    break;
                }
                if cull && !a.may_meet(d, dd) {
                    continue;
                }
                if let Some((near, l, n)) = targets[a.target].hit(&ray)
                    && best.is_none_or(|b| near < b.0 || (near == b.0 && a.target < b.1))
                {
                    best = Some((near, a.target, l, n));
                }
            }
            best
        };
        // Towards the sun, each target's box seen along the rays (its corners' bounds on two axes
        // across them, with a margin far above rounding) and how far towards the sun it reaches: a
        // ray towards the sun from a point outside those bounds, or beyond that reach, does not meet
        // the box and the target is not asked.
        let [across_u, across_v, _] = tangent_frame(inputs.to_sun);
        let sun_bounds: Vec<[f64; 5]> = targets
            .iter()
            .map(|t| {
                let mut b = [f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
                for c in box_corners(t.lo, t.hi) {
                    let (u, v) = (c.dot(across_u), c.dot(across_v));
                    b = [b[0].min(u), b[1].max(u), b[2].min(v), b[3].max(v), b[4].max(c.dot(inputs.to_sun))];
                }
                let m = 1e-7 * (1.0 + t.lo.abs().max(t.hi.abs()).max_element());
                [b[0] - m, b[1] + m, b[2] - m, b[3] + m, b[4] + m]
            })
            .collect();
        let lit = |p: DVec3, skip: usize| {
            let ray = Ray::new(p, inputs.to_sun);
            let (u, v, w) = (p.dot(across_u), p.dot(across_v), p.dot(inputs.to_sun));
            !inputs.shadows
                || targets.iter().zip(&sun_bounds).enumerate().all(|(k, (t, b))| {
                    let missed = u < b[0] || u > b[1] || v < b[2] || v > b[3] || w > b[4];
                    k == skip || (cull && missed) || t.hit(&ray).is_none()
                })
        };
        let world = DVec3::from(inputs.world);
        let (pin_color, housing_color) = (DVec3::from(inputs.pin_color), DVec3::from(inputs.housing_color));
        let data_offsets: Vec<u32> = starts.iter().map(|&s| s as u32).collect();
        // The rays are traced once: per node, what each ray that meets a surface meets (in ray order;
        // the others see the sky). Pass 1 takes sky visibility and one bounce from them; pass 2 the
        // bounce again, with the first pass's sky visibility and bounce at the hit points (light
        // bounced twice).
        let trace = |n: &Node, hits: &mut Vec<Hit>| {
            let frame = tangent_frame(n.normal);
            let origin = n.position + n.normal * 1e-5;
            // Every ray leaves the node's side of its tangent plane (its directions are within the
            // hemisphere: d·n ≥ 0.088), so a target whose box lies wholly behind that plane, by a
            // margin above rounding, is never met: only the others are asked.
            let margin = 1e-6 * (1.0 + origin.abs().max_element());
            let mut ahead: Vec<Ahead> = (0..targets.len())
                .filter(|&k| k != n.object && !targets[k].behind(origin, n.normal, margin))
                .map(|k| Ahead::new(k, origin, spheres[k]))
                .collect();
            if cull {
                ahead.sort_by(|a, b| a.nearest.total_cmp(&b.nearest));
            }
            for d in &dirs {
                let dir = frame[0] * d.x + frame[1] * d.y + frame[2] * d.z;
                let Some((t, k, l, ln)) = nearest_hit(origin, dir, &ahead) else { continue };
                let q = origin + dir * t;
                let wn = targets[k].world_normal(ln);
                let sun = inputs.sun * wn.dot(inputs.to_sun).max(0.0);
                let sun = if sun > 0.0 && lit(q + wn * 1e-5, k) { sun } else { 0.0 };
                let at = Lookup::of(data_offsets[k], cells[k], l, ln);
                hits.push(Hit { at, pin: targets[k].pin, sun });
            }
        };
        let traced = trace_on_cores(&nodes, &inside, &trace);
        let hits = traced.per_node();
        let mut first: Vec<[f64; 3]> = Vec::new();
        for pass in 0..PASSES {
            let one = |(hits, &inside): (&&[Hit], &bool)| {
                if inside {
                    return [0.0; 3];
                }
                let (mut from_pins, mut from_housing) = (0.0f64, 0.0f64);
                // Light from terminals/housing is kept per unit colour as a scalar: the second bounce's
                // colour uses the nominal colours' mean.
                for h in hits.iter() {
                    let (sky_q, bounce_q) = if pass == 0 {
                        (FIRST_PASS_SKY, 0.0)
                    } else {
                        let f = h.at.read(&first);
                        (f[0], f[1] * mean(pin_color) + f[2] * mean(housing_color))
                    };
                    let radiance = h.sun + mean(world) * sky_q + bounce_q;
                    if h.pin {
                        from_pins += radiance;
                    } else {
                        from_housing += radiance;
                    }
                }
                let count = dirs.len() as f64;
                [(dirs.len() - hits.len()) as f64 / count, from_pins / count, from_housing / count]
            };
            let mut out: Vec<[f64; 3]> = on_cores(&hits, &inside, &one);
            fill_inside(&nodes, &inside, &starts, &mut out);
            first = out;
        }
        if !inputs.bounce {
            first.iter_mut().for_each(|v| (v[1], v[2]) = (0.0, 0.0));
        }
        let data = first.iter().map(|v| [v[0] as f32, v[1] as f32, v[2] as f32, 0.0]).collect();
        let objects = layout(&inputs.objects);
        debug_assert!(objects.iter().zip(&data_offsets).all(|(o, &s)| o.1 == s), "layout = the nodes made");
        Bake { inputs, data, objects }
    }

    /// The bake of `inputs` whose light maps are `data` (read back from [`super::bake_cache`]), if
    /// `data` holds exactly their nodes.
    pub fn from_data(inputs: BakeInputs, data: Vec<[f32; 4]>) -> Option<Bake> {
        let objects = layout(&inputs.objects);
        let nodes = objects.last().map_or(0, |&(_, start, c)| start + chart_start(c, 6));
        (data.len() == nodes as usize).then_some(Bake { inputs, data, objects })
    }

    /// Where the light map of the object labelled `label` starts, and its cells per axis.
    pub fn map_of(&self, label: u8) -> Option<(u32, [u32; 3])> {
        self.objects.iter().find(|(l, ..)| *l == label).map(|&(_, o, c)| (o, c))
    }

    /// The light maps as one texture for the GPU (hardware bilinear filtering between nodes): each
    /// object's six charts side by side in a strip (+x, -x, +y, -y, +z, -z; one texel per node), strips
    /// packed in rows. The 2 × 2 texels at the origin hold open sky without bounce light, for objects
    /// without a light map.
    pub fn atlas(&self) -> Atlas {
        let strip = |cells: [u32; 3]| {
            let nodes = (0..6).map(|c| chart_nodes(cells, c));
            (nodes.clone().map(|n| n.0).sum::<u32>(), nodes.map(|n| n.1).max().unwrap_or(1))
        };
        let width = self.objects.iter().map(|o| strip(o.2).0).max().unwrap_or(0).max(ATLAS_WIDTH);
        // Shelf packing, in object order (deterministic).
        let (mut x, mut y, mut row) = (2u32, 0u32, 2u32);
        let mut origins = Vec::with_capacity(self.objects.len());
        for &(label, _, cells) in &self.objects {
            let (w, h) = strip(cells);
            if x + w > width {
                (x, y, row) = (0, y + row, 0);
            }
            origins.push((label, [x, y], cells));
            x += w;
            row = row.max(h);
        }
        let height = (y + row).max(2);
        let mut texels = vec![[0.0f32; 4]; (width * height) as usize];
        for t in [0, 1, width as usize, width as usize + 1] {
            texels[t] = [1.0, 0.0, 0.0, 0.0];
        }
        for (&(_, start, cells), &(_, [x0, y0], _)) in self.objects.iter().zip(&origins) {
            let mut x = x0;
            for c in 0..6 {
                let (nu, nv) = chart_nodes(cells, c);
                let base = (start + chart_start(cells, c)) as usize;
                for j in 0..nv {
                    for i in 0..nu {
                        // As the GPU holds them (16-bit floats), so that the CPU reads the same.
                        texels[((y0 + j) * width + x + i) as usize] =
                            self.data[base + (j * nu + i) as usize].map(|v| half::f16::from_f32(v).to_f32());
                    }
                }
                x += nu;
            }
        }
        Atlas { width, height, texels, origins }
    }
}

/// The narrowest light-map atlas, texels.
const ATLAS_WIDTH: u32 = 256;

/// The light maps as one texture (see [`Bake::atlas`]).
pub struct Atlas {
    pub width: u32,
    pub height: u32,
    /// Row-major RGBA: sky visibility, light from terminals, light from the housing, 0.
    pub texels: Vec<[f32; 4]>,
    /// Per object: its label, where its strip starts and its cells per axis.
    pub origins: Vec<(u8, [u32; 2], [u32; 3])>,
}

impl Atlas {
    /// Where the strip of the object labelled `label` starts, and its cells per axis.
    pub fn strip_of(&self, label: u8) -> Option<([u32; 2], [u32; 3])> {
        self.origins.iter().find(|(l, ..)| *l == label).map(|&(_, o, c)| (o, c))
    }

    /// The light maps at local point `l` of a face whose unit-mesh normal is `n`, of an object whose
    /// strip is `strip` (None: it has no light map and reads the open sky at the origin): what
    /// `shaders/scene.wgsl`'s `light_uv` and its bilinear, clamped sampler give, as
    /// `[sky visibility, light from terminals, light from the housing]`.
    pub fn light(&self, strip: Option<([u32; 2], [u32; 3])>, l: DVec3, n: [f32; 3]) -> [f32; 3] {
        // Texel space with texel centres at integers (texture coordinate · size - 0.5).
        let (x, y) = match strip {
            None => (0.5, 0.5),
            Some(([x0, y0], cells)) => {
                let c = chart_of(DVec3::new(f64::from(n[0]), f64::from(n[1]), f64::from(n[2])));
                let (_, ua, va) = chart_axes(c);
                let offset: u32 = (0..c).map(|k| chart_nodes(cells, k).0).sum();
                let (nu, nv) = chart_nodes(cells, c);
                let f = |p: f64, nodes: u32| (p + 1.0) * 0.5 * f64::from(nodes - 1);
                (f64::from(x0 + offset) + f(l[ua], nu), f64::from(y0) + f(l[va], nv))
            }
        };
        let (w, h) = (self.width as i64, self.height as i64);
        let (fx, fy) = (x.floor(), y.floor());
        let (s, t) = ((x - fx) as f32, (y - fy) as f32);
        let texel = |i: i64, j: i64| self.texels[(j.clamp(0, h - 1) * w + i.clamp(0, w - 1)) as usize];
        let (i, j) = (fx as i64, fy as i64);
        let (a, b, c, d) = (texel(i, j), texel(i + 1, j), texel(i, j + 1), texel(i + 1, j + 1));
        std::array::from_fn(|k| {
            let top = a[k] + (b[k] - a[k]) * s;
            let bottom = c[k] + (d[k] - c[k]) * s;
            top + (bottom - top) * t
        })
    }
}

/// Gives every inside node the values of the nearest outside node of its chart (if any).
fn fill_inside(nodes: &[Node], inside: &[bool], starts: &[usize], out: &mut [[f64; 3]]) {
    for w in starts.windows(2) {
        let range = w[0]..w[1];
        for i in range.clone().filter(|&i| inside[i]) {
            let p = &nodes[i];
            let nearest = range.clone().filter(|&j| !inside[j] && nodes[j].chart == p.chart).min_by(|&a, &b| {
                let (da, db) =
                    (nodes[a].position.distance_squared(p.position), nodes[b].position.distance_squared(p.position));
                da.total_cmp(&db)
            });
            if let Some(j) = nearest {
                out[i] = out[j];
            }
        }
    }
}

/// The light map of an object (nodes from `start`, `cells` per axis) at local point `l` with local
/// normal `n`, bilinearly.
#[cfg(test)]
fn sample(data: &[[f64; 3]], start: u32, cells: [u32; 3], l: DVec3, n: DVec3) -> [f64; 3] {
    Lookup::of(start, cells, l, n).read(data)
}

fn mean(c: DVec3) -> f64 {
    (c.x + c.y + c.z) / 3.0
}

fn tangent_frame(n: DVec3) -> [DVec3; 3] {
    let a = if n.x.abs() < 0.9 { DVec3::X } else { DVec3::Y };
    let t = n.cross(a).normalize();
    [t, n.cross(t), n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_lie_on_the_surface_and_charts_follow_the_normal() {
        for shape in Shape::ALL {
            let planes = shape_planes(shape);
            for c in 0..6 {
                for (u, v) in [(0.0, 0.0), (0.3, -0.4), (-0.9, 0.8)] {
                    let (p, n) = surface_node(&planes, c, u, v);
                    // On the boundary: inside every plane, on one of them.
                    assert!(planes.iter().all(|(q, d)| q.dot(p) <= d + 1e-9), "{shape:?} {c} {p}");
                    assert!(planes.iter().any(|(q, d)| (q.dot(p) - d).abs() < 1e-9), "{shape:?} {c} {p}");
                    // Near the middle of a chart the face found belongs to that chart.
                    if (u, v) == (0.0, 0.0) && !(shape == Shape::Prism3 && c != 4 && c != 5) {
                        assert_eq!(chart_of(n), c, "{shape:?} chart {c}: normal {n}");
                    }
                }
            }
        }
    }

    /// Asking each ray only the targets it may meet changes no bit of the bake: scenes of boxes,
    /// cylinders and prisms turned every way over a housing, under suns from every side.
    #[test]
    fn rays_asking_only_targets_they_may_meet_bake_the_same() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for round in 0..6 {
            let mut objects = vec![Object {
                shape: Shape::Slab,
                rigid: DMat4::from_translation(DVec3::new(0.0, 0.0, -0.25)),
                half_extents: DVec3::new(2.0, 3.0, 0.25),
                color: [0.15; 3],
                label: 255,
            }];
            for k in 0..7 {
                let shape = [Shape::Box, Shape::Cylinder, Shape::Prism3][k % 3];
                let axis = DVec3::new(next() - 0.5, next() - 0.5, next() + 0.2).normalize();
                let at = DVec3::new(3.6 * next() - 1.8, 5.6 * next() - 2.8, 1.2 * next());
                objects.push(Object {
                    shape,
                    rigid: DMat4::from_translation(at) * DMat4::from_axis_angle(axis, 2.0 * next()),
                    half_extents: DVec3::new(0.2 + 0.3 * next(), 0.2 + 0.3 * next(), 0.3 + next()),
                    color: [0.4, 0.8, 0.8],
                    label: k as u8 + 1,
                });
            }
            let to_sun = DVec3::new(next() - 0.5, next() - 0.5, next() * 0.8 + 0.1).normalize();
            let inputs = BakeInputs {
                objects,
                to_sun,
                sun: 1.0,
                world: [0.05; 3],
                pin_color: [0.4, 0.8, 0.8],
                housing_color: [0.15; 3],
                shadows: true,
                bounce: true,
            };
            let (culled, every) = (Bake::traced(inputs.clone(), true), Bake::traced(inputs, false));
            let bits = |b: &Bake| b.data.iter().flat_map(|v| v.map(f32::to_bits)).collect::<Vec<_>>();
            assert_eq!(bits(&culled), bits(&every), "round {round}");
        }
    }

    #[test]
    fn a_pin_on_the_housing_sees_less_sky_at_its_foot_than_at_its_top() {
        let pin = Object {
            shape: Shape::Box,
            rigid: DMat4::IDENTITY,
            half_extents: DVec3::new(0.25, 0.25, 1.0),
            color: [0.4, 0.8, 0.8],
            label: 1,
        };
        let housing = Object {
            shape: Shape::Slab,
            rigid: DMat4::from_translation(DVec3::new(0.0, 0.0, -1.0)),
            half_extents: DVec3::new(1.75, 4.75, 0.25),
            color: [0.15; 3],
            label: 255,
        };
        let bake = Bake::new(BakeInputs {
            objects: vec![pin, housing],
            to_sun: DVec3::Z,
            sun: 1.0,
            world: [0.05; 3],
            pin_color: pin.color,
            housing_color: housing.color,
            shadows: true,
            bounce: true,
        });
        let (start, cells) = bake.map_of(1).expect("pin baked");
        let data: Vec<[f64; 3]> = bake.data.iter().map(|v| [v[0] as f64, v[1] as f64, v[2] as f64]).collect();
        let side = |z: f64| sample(&data, start, cells, DVec3::new(1.0, 0.0, z), DVec3::X);
        let (foot, top) = (side(-0.7), side(0.9));
        assert!(foot[0] < top[0] - 0.1, "sky: foot {foot:?} top {top:?}");
        assert!(foot[2] > top[2], "light from the housing: foot {foot:?} top {top:?}");
        // The pin's top sees the whole sky.
        let cap = sample(&data, start, cells, DVec3::new(0.0, 0.0, 1.0), DVec3::Z);
        assert!(cap[0] > 0.99, "{cap:?}");
    }
}
