//! An image's light as `shaders/scene.wgsl` applies it (`shade`), in one place for both sides: the
//! frame uniform the GPU reads is filled from it, and the exact anti-aliasing pass (`render::exact`)
//! colours the samples the GPU did not draw with it, at their own place on their own face.
//!
//! A point of a face of albedo `a` with normal `n`, light-map values `b` (sky visibility, light from
//! terminals per unit terminal colour, light from the housing per unit housing colour) and a share
//! `v` of the sun's disc in view has the linear colour
//! `a · (world · b.x + pin · b.y + housing · b.z + ambient) + a · sun · max(n·to_sun, 0) · v`.

use crate::geometry::Posed;
use glam::Vec3;

/// The light terms of one image, in the precision the shader uses.
#[derive(Clone, Copy, Debug)]
pub struct Shading {
    /// Sun irradiance / π.
    pub sun: f32,
    /// The extra uniform light (not Blender's).
    pub ambient: f32,
    /// Unit vector from a surface toward the sun.
    pub to_sun: Vec3,
    /// The world colour as light (zero when the world does not light the scene).
    pub world: [f32; 3],
    /// Whether the world lights the scene (the uniform keeps it apart from the colour).
    pub world_lights: bool,
    /// Terminal and housing colours for the baked bounce light, scaled by this image's sun (the bake
    /// used the scene's own).
    pub pin: [f32; 3],
    pub housing: [f32; 3],
}

impl Shading {
    pub fn of(p: &Posed) -> Shading {
        let light = &p.light;
        let nominal_sun = p.nominal.light.sun_strength;
        let bounce = if nominal_sun > 0.0 { light.sun_strength / nominal_sun } else { 1.0 };
        let rgb = |c: [f64; 3], k: f64| c.map(|c| (c * k) as f32);
        Shading {
            sun: (light.sun_strength / std::f64::consts::PI) as f32,
            ambient: light.ambient as f32,
            to_sun: (-p.sun_direction).as_vec3(),
            world: rgb(p.background, 1.0),
            world_lights: light.world_light,
            pin: rgb(p.pin_color, bounce),
            housing: rgb(p.housing.first().map_or(p.nominal.housing_color, |h| h.color), bounce),
        }
    }

    /// The light of a point without the sun, per unit albedo: `world · b.x + pin · b.y + housing · b.z +
    /// ambient` (the shader's `env + ambient`).
    pub fn without_sun(&self, b: [f32; 3]) -> [f32; 3] {
        let w = if self.world_lights { 1.0f32 } else { 0.0 };
        std::array::from_fn(|i| self.world[i] * (w * b[0]) + self.pin[i] * b[1] + self.housing[i] * b[2] + self.ambient)
    }

    /// The sun's light on a face of albedo `albedo` turned towards `normal` (unit), before shadowing.
    pub fn sunlit(&self, albedo: [f32; 3], normal: Vec3) -> [f32; 3] {
        let k = self.sun * normal.dot(self.to_sun).max(0.0);
        albedo.map(|a| a * k)
    }
}
