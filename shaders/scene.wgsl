// Draws terminals and the housing the way Blender's Cycles lights a material without a node tree:
// a pure diffuse (Lambert) surface of the material's colour, lit by
// * the sun: irradiance `strength` on a perpendicular surface, so radiance = albedo · E · cos θ / π,
//   blocked by every object: a shadow map per image (`vs_shadow`: a depth-only pass from the sun over
//   the scene's light-space bounds, back faces only, so a lit face never shadows itself) read with four
//   bilinear comparison taps spread over the pixel's footprint and over the sun's disc as wide as the
//   penumbra of the casters a blocker search finds (percentage-closer soft shadows), so shadow edges
//   are anti-aliased and penumbrae lie on both sides of the hard shadow's edge;
// * the world: a uniform environment of the world colour, seen through the sky visibility of the point
//   (the cosine-weighted share of the hemisphere no object hides);
// * bounce light: what the other surfaces reflect towards the point.
// The last two are view independent: they are baked once per scene into small light maps on every
// object's faces (`render::bake`), one texture, read per fragment with one bilinear sample.
// Output: linear light into a target the hardware encodes to sRGB, and/or the instance label into an
// 8-bit integer target (the mask: one sample per pixel, nearest wins).

struct Frame {
    clip_from_world: mat4x4<f32>,
    // This image's shadow map: x, y its texture coordinates, z its depth (0 = nearest the sun).
    shadow_from_world: mat4x4<f32>,
    // xyz: unit vector from a surface toward the sun.
    to_sun: vec4<f32>,
    // x: sun irradiance / pi, y: extra uniform ambient (not Blender's), z: 1 = cast shadows.
    light: vec4<f32>,
    // x, y: the penumbra's half width in texture units per unit of shadow depth (tan of the sun's
    // angular radius, scaled); z: depth bias.
    shadow: vec4<f32>,
    // World (environment) colour, linear; w: 1 = the world lights the scene.
    world: vec4<f32>,
    // Terminal and housing colours for the baked bounce light (scaled by this image's sun).
    pin_color: vec4<f32>,
    housing_color: vec4<f32>,
    // xy: 1 / the light-map texture's size in texels.
    light_maps: vec4<f32>,
};

@group(0) @binding(0) var<uniform> frame: Frame;
// Light maps (render::bake::Atlas), a texel per node: x sky visibility, y irradiance from terminals
// per unit terminal colour, z the same from the housing.
@group(0) @binding(1) var light_maps: texture_2d<f32>;
@group(0) @binding(2) var shadow_map: texture_depth_2d;
@group(0) @binding(3) var shadow_sampler: sampler_comparison;
@group(0) @binding(4) var light_sampler: sampler;

struct VertexIn {
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
    // x: label; y: where the object's light-map strip starts in the texture (x | y << 16); z: its
    // cells along local x, y, z (8 bits each; 0 = no light map).
    @location(10) label: vec4<u32>,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) @interpolate(flat) albedo: vec3<f32>,
    // Albedo times the sun's radiance factor (E cos θ / π) before shadowing.
    @location(1) @interpolate(flat) sunlit: vec3<f32>,
    // Position in the shadow map.
    @location(2) shadow: vec3<f32>,
    // Position in the light maps (texture coordinates: linear over a face).
    @location(3) light_uv: vec2<f32>,
    @location(4) @interpolate(flat) label: u32,
};

// Where unit-mesh point `p` of a face with local normal `n` lies in the light maps: the face's chart is
// its normal's dominant axis and side (ties go to z, then y, as in render::bake), charts +x, -x, +y,
// -y, +z, -z side by side in the object's strip, a texel per node, nodes over [-1, 1] on the chart's
// two other axes.
fn light_uv(p: vec3<f32>, n: vec3<f32>, map: vec4<u32>) -> vec2<f32> {
    if map.z == 0u {
        return frame.light_maps.xy;
    }
    let nodes = vec3<u32>(map.z & 255u, (map.z >> 8u) & 255u, (map.z >> 16u) & 255u) + vec3<u32>(1u);
    let a = abs(n);
    var axis = 0u;
    if a.z >= a.x && a.z >= a.y {
        axis = 2u;
    } else if a.y >= a.x {
        axis = 1u;
    }
    let c = 2u * axis + select(0u, 1u, n[axis] < 0.0);
    // Chart widths: along y for ±x, z for ±y, x for ±z.
    let offset = select(0u, nodes.y, c >= 1u) + select(0u, nodes.y, c >= 2u) + select(0u, nodes.z, c >= 3u)
        + select(0u, nodes.z, c >= 4u) + select(0u, nodes.x, c >= 5u);
    let ua = (axis + 1u) % 3u;
    let va = (axis + 2u) % 3u;
    let f = (vec2<f32>(p[ua], p[va]) + 1.0) * 0.5 * vec2<f32>(f32(nodes[ua] - 1u), f32(nodes[va] - 1u));
    let origin = vec2<f32>(f32((map.y & 65535u) + offset), f32(map.y >> 16u));
    return (origin + 0.5 + f) * frame.light_maps.xy;
}

@vertex
fn vs_main(v: VertexIn, i: InstanceIn) -> VertexOut {
    let model = mat4x4<f32>(i.model_0, i.model_1, i.model_2, i.model_3);
    let rot = mat3x3<f32>(i.rot_0, i.rot_1, i.rot_2);
    let world = model * vec4<f32>(v.position, 1.0);
    let n = normalize(rot * v.normal);
    var out: VertexOut;
    out.clip = frame.clip_from_world * world;
    out.albedo = i.color.rgb;
    out.sunlit = i.color.rgb * (frame.light.x * max(dot(n, frame.to_sun.xyz), 0.0));
    out.shadow = (frame.shadow_from_world * world).xyz;
    out.light_uv = light_uv(v.position, v.normal, i.label);
    out.label = i.label.x;
    return out;
}

// The most a tap is moved for the pixel's footprint, in shadow-map texels along each axis.
const FOOTPRINT_TEXELS = 2.0;

// Where the blocker search looks, in units of the widest penumbra's half width: the centre, and four
// points turned so that their offsets along any direction differ.
const SEARCH = array<vec2<f32>, 5>(
    vec2<f32>(0.0, 0.0),
    vec2<f32>(0.95, 0.3),
    vec2<f32>(-0.3, 0.95),
    vec2<f32>(-0.95, -0.3),
    vec2<f32>(0.3, -0.95),
);

// The soft shadow's taps within the sun's disc (unit radius): across an edge of either axis they fall
// at ±0.2 and ±0.64, where the share of a disc past a straight edge is 3/8 and 1/8 (5/8 and 7/8).
const DISC = array<vec2<f32>, 4>(
    vec2<f32>(0.64, 0.2),
    vec2<f32>(-0.2, 0.64),
    vec2<f32>(0.2, -0.64),
    vec2<f32>(-0.64, -0.2),
);

// Share of the sun's disc seen from the pixel around shadow-map point `s` (1 = lit): four bilinear
// comparison taps at the pixel's quarter points (`dx`, `dy`: the step to the next pixel in the map),
// each moved by a point of the sun's disc as wide as the penumbra the casters found nearby give.
fn sun_visibility(s: vec3<f32>, dx: vec2<f32>, dy: vec2<f32>) -> f32 {
    let size = textureDimensions(shadow_map);
    let reference = s.z - frame.shadow.z;
    // Blocker search (as percentage-closer soft shadows do): the mean depth of the casters found at
    // the centre and at four points as far off as the widest penumbra reaches here (a caster at the
    // map's near end), so that a point in the outer half of a penumbra finds the caster too.
    let reach = reference * frame.shadow.xy;
    var found = 0.0;
    var depth = 0.0;
    for (var k = 0; k < 5; k++) {
        let offset = SEARCH[k] * reach;
        let texel = clamp(vec2<i32>((s.xy + offset) * vec2<f32>(size)), vec2<i32>(0), vec2<i32>(size) - vec2<i32>(1));
        let d = textureLoad(shadow_map, texel, 0);
        if d < reference {
            found += 1.0;
            depth += d;
        }
    }
    // The penumbra's half width along the map's axes (texture units): the sun's disc seen past the
    // casters found.
    var disc = vec2<f32>(0.0);
    if found > 0.0 {
        disc = (reference - depth / found) * frame.shadow.xy;
    }
    // Four bilinear comparison taps, each a quarter point of the pixel's footprint moved by a point of
    // the sun's disc (placed so that, across an edge of any direction, the taps fall near the quarter
    // points of the share of the disc a point sees): the pixel's area and the disc both.
    // The footprint is bounded (2 texels along each axis: a face seen nearly edge-on), so that a
    // lookup reaches a known distance (`render::frame_memo` draws only near what changed).
    let limit = vec2<f32>(FOOTPRINT_TEXELS) / vec2<f32>(size);
    let a = clamp(0.25 * dx, -limit, limit);
    let b = clamp(0.25 * dy, -limit, limit);
    var v = textureSampleCompareLevel(shadow_map, shadow_sampler, s.xy + a + b + DISC[0] * disc, reference);
    v += textureSampleCompareLevel(shadow_map, shadow_sampler, s.xy + a - b + DISC[1] * disc, reference);
    v += textureSampleCompareLevel(shadow_map, shadow_sampler, s.xy - a + b + DISC[2] * disc, reference);
    v += textureSampleCompareLevel(shadow_map, shadow_sampler, s.xy - a - b + DISC[3] * disc, reference);
    return 0.25 * v;
}

// The colour, and in alpha the share of the sun's disc the point sees (1 where the sun does not light
// it or shadows are off): the exact anti-aliasing pass (`render::exact`) finds shadow edges from it.
fn shade(in: VertexOut) -> vec4<f32> {
    // The step to the next pixel in the shadow map (taken here, in uniform control flow).
    let dx = dpdx(in.shadow.xy);
    let dy = dpdy(in.shadow.xy);
    // Sky visibility, light from terminals and from the housing.
    let b = textureSampleLevel(light_maps, light_sampler, in.light_uv, 0.0).xyz;
    let env = frame.world.rgb * (frame.world.w * b.x) + frame.pin_color.rgb * b.y + frame.housing_color.rgb * b.z;
    var visible = 1.0;
    if frame.light.z > 0.5 && any(in.sunlit > vec3<f32>(0.0)) {
        visible = sun_visibility(in.shadow, dx, dy);
    }
    return vec4<f32>(in.albedo * (env + vec3<f32>(frame.light.y)) + in.sunlit * visible, visible);
}

@fragment
fn fs_color(in: VertexOut) -> @location(0) vec4<f32> {
    return shade(in);
}

struct LabelOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) @interpolate(flat) label: u32,
};

// msaa4's separate mask pass: position and label only.
@vertex
fn vs_label(v: VertexIn, i: InstanceIn) -> LabelOut {
    let model = mat4x4<f32>(i.model_0, i.model_1, i.model_2, i.model_3);
    let world = model * vec4<f32>(v.position, 1.0);
    return LabelOut(frame.clip_from_world * world, i.label.x);
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
    return BothOut(shade(in), in.label);
}

// The shadow map's depth pass: positions in the sun's orthographic view.
@vertex
fn vs_shadow(v: VertexIn, i: InstanceIn) -> @builtin(position) vec4<f32> {
    let model = mat4x4<f32>(i.model_0, i.model_1, i.model_2, i.model_3);
    let s = frame.shadow_from_world * (model * vec4<f32>(v.position, 1.0));
    return vec4<f32>(2.0 * s.x - 1.0, 1.0 - 2.0 * s.y, s.z, 1.0);
}
