// Draws terminals and the housing the way Blender's Cycles lights a material without a node tree:
// a pure diffuse (Lambert) surface of the material's colour, lit by
// * the sun: irradiance `strength` on a perpendicular surface, so radiance = albedo · E · cos θ / π,
//   blocked by every other object (a shadow ray per fragment, tested against each object's exact
//   shape: boxes as boxes, cylinders as cylinders), with a penumbra as wide as the sun's disc;
// * the world: a uniform environment of the world colour, seen through the sky visibility of the
//   point (the cosine-weighted share of the hemisphere no object hides);
// * bounce light: what the other surfaces reflect towards the point.
// The last two are view independent and change slowly over a face: they are baked per scene into
// every vertex of finely divided meshes (`render::bake`) and interpolated.
// Output: linear light into a target the hardware encodes to sRGB, and/or the instance label into an
// 8-bit integer target (the mask: one sample per pixel, nearest wins).

struct Frame {
    clip_from_world: mat4x4<f32>,
    camera_position: vec4<f32>,
    // xyz: unit vector from a surface toward the sun; w: tan of the sun's angular radius.
    to_sun: vec4<f32>,
    // x: sun irradiance / pi, y: extra uniform ambient (not Blender's), z: 1 = cast shadows.
    light: vec4<f32>,
    // World (environment) colour, linear; w: 1 = the world lights the scene.
    world: vec4<f32>,
    // Terminal and housing colours, for the baked bounce light.
    pin_color: vec4<f32>,
    housing_color: vec4<f32>,
    // x: first occluder of this image, y: their count, z: where this image's shadow grid starts in
    // `grid`, w: cells per side.
    occluders: vec4<u32>,
    // The shadow grid: cells over the plane across the sun's rays (axes grid_u, grid_v); each lists
    // the objects whose shadow can fall on a point projecting into it. x, y: origin, z, w: cells per unit.
    grid: vec4<f32>,
    grid_u: vec4<f32>,
    grid_v: vec4<f32>,
};

// An object as a shadow caster: local = M · world, where the unit shape is the box ±1 or the
// cylinder of radius 1, z in ±1.
struct Occluder {
    row0: vec4<f32>,
    row1: vec4<f32>,
    row2: vec4<f32>,
    // x: 1 = cylinder, y: label.
    info: vec4<u32>,
};

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> occluders: array<Occluder>;
// Per baked vertex (render::bake): x sky visibility,
// y irradiance from terminals per unit terminal colour, z the same from the housing, w unused.
@group(0) @binding(2) var<storage, read> baked: array<vec4<f32>>;
// Per cell: first entry and count (into this same array), then the entries (occluder indices).
@group(0) @binding(3) var<storage, read> grid: array<u32>;

struct VertexIn {
    @builtin(vertex_index) index: u32,
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
};

struct InstanceIn {
    @location(2) model_0: vec4<f32>,
    @location(3) model_1: vec4<f32>,
    @location(4) model_2: vec4<f32>,
    @location(5) model_3: vec4<f32>,
    // Rotation part of the rigid transform (normals of the unit meshes stay correct under the
    // per-axis scale because every face normal is either axis-aligned or lies in the x-y plane,
    // where the scale is uniform).
    @location(6) rot_0: vec3<f32>,
    @location(7) rot_1: vec3<f32>,
    @location(8) rot_2: vec3<f32>,
    @location(9) color: vec4<f32>,
    // x: label, y: offset of this object's baked vertices minus its mesh's first vertex.
    @location(10) label: vec2<u32>,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    // Albedo times the light that does not depend on the sun (world + bounce), linear.
    @location(0) ambient: vec3<f32>,
    // Albedo times the sun's radiance factor (E cos θ / π) before shadowing.
    @location(1) @interpolate(flat) sunlit: vec3<f32>,
    @location(2) world: vec3<f32>,
    @location(3) @interpolate(flat) label: u32,
};

@vertex
fn vs_main(v: VertexIn, i: InstanceIn) -> VertexOut {
    let model = mat4x4<f32>(i.model_0, i.model_1, i.model_2, i.model_3);
    let rot = mat3x3<f32>(i.rot_0, i.rot_1, i.rot_2);
    let world = model * vec4<f32>(v.position, 1.0);
    let n = normalize(rot * v.normal);
    let b = baked[v.index + i.label.y];
    let albedo = i.color.rgb;
    var out: VertexOut;
    out.clip = frame.clip_from_world * world;
    let env = frame.world.rgb * frame.world.w * b.x + frame.pin_color.rgb * b.y + frame.housing_color.rgb * b.z;
    out.ambient = albedo * (env + vec3<f32>(frame.light.y));
    out.sunlit = albedo * (frame.light.x * max(dot(n, frame.to_sun.xyz), 0.0));
    out.world = world.xyz;
    out.label = i.label.x;
    return out;
}

// How deep the ray from `p` towards the sun runs through `o` (world units; negative: it passes by, the
// amount grows with the distance from the shadow's edge) and the distance to `o` along the ray.
fn depth_in(o: Occluder, p: vec3<f32>) -> vec2<f32> {
    let d = frame.to_sun.xyz;
    let lo = vec3<f32>(dot(o.row0.xyz, p) + o.row0.w, dot(o.row1.xyz, p) + o.row1.w, dot(o.row2.xyz, p) + o.row2.w);
    let ld = vec3<f32>(dot(o.row0.xyz, d), dot(o.row1.xyz, d), dot(o.row2.xyz, d));
    // The ray p + t·d (t in world units, the same in local space) against the z slab ...
    let inv = 1.0 / ld;
    let tz0 = (-1.0 - lo.z) * inv.z;
    let tz1 = (1.0 - lo.z) * inv.z;
    var t_near = min(tz0, tz1);
    var t_far = max(tz0, tz1);
    if o.info.x == 1u {
        // ... and the infinite cylinder x² + y² = 1. Across its side the measure is the distance
        // (world units) by which the ray's closest approach to the axis stays inside the radius:
        // linear across the shadow's edge, unlike the chord's length.
        let a = dot(ld.xy, ld.xy);
        let bh = dot(lo.xy, ld.xy);
        let t_close = select(max(-bh / a, 0.0), 0.0, a < 1e-12);
        let closest = length(lo.xy + t_close * ld.xy);
        let radius = 1.0 / length(o.row0.xyz);
        let side = (1.0 - closest) * radius;
        if side > 0.0 {
            let c = dot(lo.xy, lo.xy) - 1.0;
            let s = sqrt(max(bh * bh - a * c, 0.0));
            if a > 1e-12 {
                t_near = max(t_near, (-bh - s) / a);
                t_far = min(t_far, (-bh + s) / a);
            }
        }
        t_near = max(t_near, 0.0);
        return vec2<f32>(min(side, t_far - t_near), t_near);
    } else {
        // ... and the x and y slabs.
        let tx0 = (-1.0 - lo.x) * inv.x;
        let tx1 = (1.0 - lo.x) * inv.x;
        let ty0 = (-1.0 - lo.y) * inv.y;
        let ty1 = (1.0 - lo.y) * inv.y;
        t_near = max(t_near, max(min(tx0, tx1), min(ty0, ty1)));
        t_far = min(t_far, min(max(tx0, tx1), max(ty0, ty1)));
    }
    t_near = max(t_near, 0.0);
    return vec2<f32>(t_far - t_near, t_near);
}

// Share of the sun's disc that `o` leaves visible from the pixel around `p` (1 = not in its shadow):
// the depth of the ray through `o` is about linear across the shadow's edge; it is turned into
// coverage over the penumbra (the sun's disc of angular radius r seen past an edge at distance t is
// about 2·t·tan r wide) or over the pixel (its change to the neighbouring pixels), whichever is wider.
fn occluder_visibility(o: Occluder, p: vec3<f32>, dx: vec3<f32>, dy: vec3<f32>) -> f32 {
    let here = depth_in(o, p);
    // Far from the edge (beyond a generous bound on the ramp's half width) the answer is plain.
    let reach = 8.0 * (length(dx) + length(dy)) + 2.0 * here.y * frame.to_sun.w;
    if here.x < -reach {
        return 1.0;
    }
    if here.x > reach {
        return 0.0;
    }
    let pixel = abs(depth_in(o, p + dx).x - here.x) + abs(depth_in(o, p + dy).x - here.x);
    let width = max(2.0 * here.y * frame.to_sun.w, pixel);
    if width <= 1e-6 {
        return select(1.0, 0.0, here.x > 0.0);
    }
    return clamp(0.5 - here.x / width, 0.0, 1.0);
}

fn sun_visibility(p: vec3<f32>, dx: vec3<f32>, dy: vec3<f32>, label: u32) -> f32 {
    let n = frame.occluders.w;
    let gu = (dot(p, frame.grid_u.xyz) - frame.grid.x) * frame.grid.z;
    let gv = (dot(p, frame.grid_v.xyz) - frame.grid.y) * frame.grid.w;
    if gu < 0.0 || gv < 0.0 || gu >= f32(n) || gv >= f32(n) {
        return 1.0;
    }
    let cell = frame.occluders.z + 2u * (u32(gv) * n + u32(gu));
    let start = grid[cell];
    let end = start + grid[cell + 1u];
    var v = 1.0;
    for (var k = start; k < end; k++) {
        let o = occluders[grid[k]];
        if o.info.y != label {
            v = min(v, occluder_visibility(o, p, dx, dy));
        }
    }
    return v;
}

fn shade(in: VertexOut) -> vec3<f32> {
    // The world-space step to the next pixel (taken here, in uniform control flow).
    let dx = dpdx(in.world);
    let dy = dpdy(in.world);
    var sun = in.sunlit;
    if frame.light.z > 0.5 && any(sun > vec3<f32>(0.0)) {
        sun *= sun_visibility(in.world, dx, dy, in.label);
    }
    return in.ambient + sun;
}

@fragment
fn fs_color(in: VertexOut) -> @location(0) vec4<f32> {
    return vec4<f32>(shade(in), 1.0);
}

struct LabelOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) @interpolate(flat) label: u32,
};

// msaa4's separate mask pass: position and label only.
@vertex
fn vs_label(v: VertexIn, i: InstanceIn) -> LabelOut {
    let model = mat4x4<f32>(i.model_0, i.model_1, i.model_2, i.model_3);
    return LabelOut(frame.clip_from_world * (model * vec4<f32>(v.position, 1.0)), i.label.x);
}

@fragment
fn fs_label(in: LabelOut) -> @location(0) u32 {
    return in.label;
}

struct BothOut {
    @location(0) color: vec4<f32>,
    @location(1) label: u32,
};

@fragment
fn fs_both(in: VertexOut) -> BothOut {
    return BothOut(vec4<f32>(shade(in), 1.0), in.label);
}
