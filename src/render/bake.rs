//! The view-independent light of a scene, baked once into the vertices of every object's mesh: the sky
//! visibility (the cosine-weighted share of the hemisphere no object hides, which the world colour
//! lights) and the bounce light (what the other surfaces send towards the point). Both depend only on
//! where the objects stand and where the sun is, not on the camera, so one bake serves every image of a
//! scene: it is made from the scene's *nominal* objects (every terminal in place, no defect) and its own
//! sun, and reused while those stay the same (randomized colours and sun strength are applied per image;
//! a defect or a jittered sun changes the bounce light only slightly and the shadows not at all, which
//! are traced per pixel).
//!
//! Each vertex shoots a fixed set of [`RAYS`] cosine-distributed rays (a Fibonacci spiral, the same for
//! every vertex: deterministic, and the error varies smoothly over a face). A ray that leaves the
//! scene sees the world colour; one that hits a surface sees its radiance: the sun on it (shadowed
//! exactly), the world colour times an estimate of its sky visibility, and one more bounce (the first
//! pass's result at the nearest baked vertex of the surface hit). Light from terminals and from the
//! housing is kept apart, per unit colour, so the colours can change per image.

use super::meshes;
use crate::geometry::{Object, Shape};
use glam::{DMat4, DVec3};

/// Rays per baked vertex.
const RAYS: usize = 64;
/// Sky visibility assumed at a hit point in the first pass.
const FIRST_PASS_SKY: f64 = 0.5;
/// 1: one bounce; 2: two.
const PASSES: usize = 2;

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

/// Per object (in `BakeInputs::objects` order), per vertex of its shape's mesh: `[sky visibility,
/// light from terminals per unit terminal colour, light from the housing per unit housing colour, 0]`.
pub struct Bake {
    pub inputs: BakeInputs,
    pub per_object: Vec<Vec<[f32; 4]>>,
    /// Where each object's values start in [`Bake::gpu_data`], by label.
    offsets: Vec<(u8, u32)>,
    /// Where a block of "open sky, no bounce" values starts (for an object the bake does not know).
    pub fallback: u32,
}

/// A shape as a ray target: its inverse transform to the unit shape.
struct Target {
    /// Bounding sphere (centre, radius²) for a quick rejection.
    centre: DVec3,
    radius2: f64,
    local: DMat4,
    world: DMat4,
    cylinder: bool,
    pin: bool,
}

impl Target {
    fn of(o: &Object) -> Target {
        let world = o.rigid * DMat4::from_scale(o.half_extents);
        Target {
            centre: world.transform_point3(DVec3::ZERO),
            radius2: o.half_extents.length_squared() * (1.0 + 1e-9),
            local: world.inverse(),
            world,
            cylinder: o.shape == Shape::Cylinder,
            pin: o.shape != Shape::Slab,
        }
    }

    /// Whether `p` lies strictly inside the shape.
    fn contains(&self, p: DVec3) -> bool {
        let l = self.local.transform_point3(p);
        let e = 1.0 - 1e-6;
        l.z.abs() < e && if self.cylinder { l.x * l.x + l.y * l.y < e * e } else { l.x.abs() < e && l.y.abs() < e }
    }

    /// Entry and exit distances of the ray `p + t·d` (d unit), if it meets the shape at t > 0.
    fn hit(&self, p: DVec3, d: DVec3) -> Option<(f64, f64)> {
        let c = self.centre - p;
        let along = c.dot(d);
        if c.length_squared() - along * along > self.radius2 || (along < 0.0 && c.length_squared() > self.radius2) {
            return None;
        }
        let lo = self.local.transform_point3(p);
        let ld = self.local.transform_vector3(d);
        let slab = |o: f64, d: f64| {
            let (a, b) = ((-1.0 - o) / d, (1.0 - o) / d);
            (a.min(b), a.max(b))
        };
        let (mut near, mut far) = slab(lo.z, ld.z);
        if self.cylinder {
            let a = ld.x * ld.x + ld.y * ld.y;
            let bh = lo.x * ld.x + lo.y * ld.y;
            let c = lo.x * lo.x + lo.y * lo.y - 1.0;
            if a < 1e-12 {
                if c > 0.0 {
                    return None;
                }
            } else {
                let disc = bh * bh - a * c;
                if disc < 0.0 {
                    return None;
                }
                let s = disc.sqrt();
                near = near.max((-bh - s) / a);
                far = far.min((-bh + s) / a);
            }
        } else {
            let (x0, x1) = slab(lo.x, ld.x);
            let (y0, y1) = slab(lo.y, ld.y);
            near = near.max(x0).max(y0);
            far = far.min(x1).min(y1);
        }
        (far > near.max(1e-6)).then_some((near, far))
    }
}

/// Cosine-distributed directions around +z: a Fibonacci spiral over the unit disc, lifted.
fn directions() -> Vec<DVec3> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..RAYS)
        .map(|i| {
            let r2 = (i as f64 + 0.5) / RAYS as f64;
            let (r, a) = (r2.sqrt(), golden * i as f64);
            DVec3::new(r * a.cos(), r * a.sin(), (1.0 - r2).sqrt())
        })
        .collect()
}

struct Point {
    object: usize,
    position: DVec3,
    normal: DVec3,
}

impl Bake {
    pub fn new(inputs: BakeInputs) -> Bake {
        let targets: Vec<Target> = inputs.objects.iter().map(Target::of).collect();
        let mut points: Vec<Point> = Vec::new();
        let mut ranges = Vec::with_capacity(inputs.objects.len());
        let mesh = Shape::ALL.map(meshes::of);
        for (i, t) in targets.iter().enumerate() {
            let m = &mesh[Shape::ALL.iter().position(|s| *s == inputs.objects[i].shape).unwrap_or(0)];
            let start = points.len();
            let rot = inputs.objects[i].rigid;
            for v in &m.vertices {
                let position = t.world.transform_point3(DVec3::from(v.position.map(f64::from)));
                let normal = rot.transform_vector3(DVec3::from(v.normal.map(f64::from))).normalize();
                points.push(Point { object: i, position, normal });
            }
            ranges.push(start..points.len());
        }
        let dirs = directions();
        let nearest_hit = |p: DVec3, d: DVec3, skip: usize| {
            let mut best: Option<(f64, usize)> = None;
            for (k, t) in targets.iter().enumerate() {
                if k == skip {
                    continue;
                }
                if let Some((near, _)) = t.hit(p, d)
                    && best.is_none_or(|(b, _)| near < b)
                {
                    best = Some((near, k));
                }
            }
            best
        };
        let lit = |p: DVec3, skip: usize| {
            !inputs.shadows || targets.iter().enumerate().all(|(k, t)| k == skip || t.hit(p, inputs.to_sun).is_none())
        };
        let world = DVec3::from(inputs.world);
        let (pin_color, housing_color) = (DVec3::from(inputs.pin_color), DVec3::from(inputs.housing_color));
        // Pass 1: sky visibility and one bounce; pass 2: the bounce again, with the first pass's sky
        // visibility and bounce at the hit points (light bounced twice).
        let mut first: Vec<[f64; 3]> = Vec::new();
        let mut result: Vec<[f32; 4]> = Vec::with_capacity(points.len());
        for pass in 0..PASSES {
            let one = |pt: &Point| {
                let frame = tangent_frame(pt.normal);
                let origin = pt.position + pt.normal * 1e-5;
                let (mut sky, mut from_pins, mut from_housing) = (0.0, 0.0f64, 0.0f64);
                // Per-unit-colour light from terminals/housing is kept as a scalar: colour bleeding of
                // the second bounce uses the nominal colours' mean.
                for d in &dirs {
                    let dir = frame[0] * d.x + frame[1] * d.y + frame[2] * d.z;
                    let Some((t, k)) = nearest_hit(origin, dir, pt.object) else {
                        sky += 1.0;
                        continue;
                    };
                    let q = origin + dir * t;
                    let n = surface_normal(&targets[k], q);
                    let sun = inputs.sun * n.dot(inputs.to_sun).max(0.0);
                    let sun = if sun > 0.0 && lit(q + n * 1e-5, k) { sun } else { 0.0 };
                    let (sky_q, bounce_q) = if pass == 0 {
                        (FIRST_PASS_SKY, 0.0)
                    } else {
                        let f = first[nearest_vertex(&targets[k], n, q, &points, &ranges[k])];
                        (f[0], f[1] * mean(pin_color) + f[2] * mean(housing_color))
                    };
                    let radiance = sun + mean(world) * sky_q + bounce_q;
                    if targets[k].pin {
                        from_pins += radiance;
                    } else {
                        from_housing += radiance;
                    }
                }
                let n = dirs.len() as f64;
                [sky / n, from_pins / n, from_housing / n]
            };
            let one = &one;
            // Every vertex is independent: split them over the cores (the result does not depend on it).
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
            let chunk = points.len().div_ceil(threads).max(1);
            let out: Vec<[f64; 3]> = std::thread::scope(|s| {
                let handles: Vec<_> =
                    points.chunks(chunk).map(|c| s.spawn(move || c.iter().map(one).collect::<Vec<_>>())).collect();
                handles.into_iter().flat_map(|h| h.join().expect("bake thread")).collect() // ok: a panic in a bake thread is a bug
            });
            result = out.iter().map(|v| [v[0] as f32, v[1] as f32, v[2] as f32, 0.0]).collect();
            first = out;
        }
        if !inputs.bounce {
            result.iter_mut().for_each(|v| (v[1], v[2]) = (0.0, 0.0));
        }
        // A vertex inside another object (the housing's grid under a terminal, a terminal's foot in the
        // housing) is never seen, but colours the faces around it through interpolation: give it the
        // values of the nearest vertex of its object that is outside.
        let inside: Vec<bool> = points
            .iter()
            .map(|pt| targets.iter().enumerate().any(|(k, t)| k != pt.object && t.contains(pt.position)))
            .collect();
        for r in &ranges {
            for i in r.clone().filter(|&i| inside[i]) {
                let p = &points[i];
                let nearest =
                    r.clone().filter(|&j| !inside[j] && points[j].normal.dot(p.normal) > 0.9).min_by(|&a, &b| {
                        let (da, db) = (
                            points[a].position.distance_squared(p.position),
                            points[b].position.distance_squared(p.position),
                        );
                        da.total_cmp(&db)
                    });
                if let Some(j) = nearest {
                    result[i] = result[j];
                }
            }
        }
        let per_object: Vec<Vec<[f32; 4]>> = ranges.into_iter().map(|r| result[r].to_vec()).collect();
        let mut offsets = Vec::with_capacity(per_object.len());
        let mut at = 0u32;
        for (o, v) in inputs.objects.iter().zip(&per_object) {
            offsets.push((o.label, at));
            at += v.len() as u32;
        }
        Bake { inputs, per_object, offsets, fallback: at }
    }

    pub fn offset_of(&self, label: u8) -> Option<u32> {
        self.offsets.iter().find(|(l, _)| *l == label).map(|(_, o)| *o)
    }

    /// Every object's values one after the other, then the fallback block.
    pub fn gpu_data(&self) -> Vec<[f32; 4]> {
        let longest = Shape::ALL.map(|s| meshes::of(s).vertices.len()).into_iter().max().unwrap_or(0);
        let mut out: Vec<[f32; 4]> = self.per_object.concat();
        out.extend(std::iter::repeat_n([1.0, 0.0, 0.0, 0.0], longest));
        out
    }
}

fn mean(c: DVec3) -> f64 {
    (c.x + c.y + c.z) / 3.0
}

/// The outward normal of `t`'s surface at the hit point `q`.
fn surface_normal(t: &Target, q: DVec3) -> DVec3 {
    let l = t.local.transform_point3(q);
    // Which face: the coordinate closest to the unit shape's boundary.
    let local_normal = if t.cylinder {
        let radial = 1.0 - (l.x * l.x + l.y * l.y).sqrt();
        let cap = 1.0 - l.z.abs();
        if cap < radial { DVec3::new(0.0, 0.0, l.z.signum()) } else { DVec3::new(l.x, l.y, 0.0).normalize() }
    } else {
        let a = l.abs();
        if a.x >= a.y && a.x >= a.z {
            DVec3::new(l.x.signum(), 0.0, 0.0)
        } else if a.y >= a.z {
            DVec3::new(0.0, l.y.signum(), 0.0)
        } else {
            DVec3::new(0.0, 0.0, l.z.signum())
        }
    };
    // Normals transform with the inverse transpose (the unit shape is scaled per axis).
    t.local.transpose().transform_vector3(local_normal).normalize()
}

/// The baked vertex nearest to `q` among those of `range` whose normal agrees with `n`.
fn nearest_vertex(t: &Target, n: DVec3, q: DVec3, points: &[Point], range: &std::ops::Range<usize>) -> usize {
    if !t.pin {
        // The housing's top grid comes first in its mesh (see meshes::housing_slab).
        let l = t.local.transform_point3(q);
        if l.z > 1.0 - 1e-6 {
            let (nx, ny) = meshes::SLAB_GRID;
            let i = (((l.x + 1.0) / 2.0 * nx as f64).round() as i64).clamp(0, nx as i64) as usize;
            let j = (((l.y + 1.0) / 2.0 * ny as f64).round() as i64).clamp(0, ny as i64) as usize;
            return range.start + j * (nx as usize + 1) + i;
        }
    }
    let mut best = (f64::INFINITY, range.start);
    for i in range.clone() {
        let p = &points[i];
        if p.normal.dot(n) > 0.9 {
            let d = p.position.distance_squared(q);
            if d < best.0 {
                best = (d, i);
            }
        }
    }
    best.1
}

fn tangent_frame(n: DVec3) -> [DVec3; 3] {
    let a = if n.x.abs() < 0.9 { DVec3::X } else { DVec3::Y };
    let t = n.cross(a).normalize();
    [t, n.cross(t), n]
}
