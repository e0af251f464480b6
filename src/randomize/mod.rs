//! Domain randomization: per-image values drawn from the image's own stream (keyed by seed, index and
//! a tag of its own, so turning randomization on never changes a sweep's defects), applied to the scene
//! before posing ([`effective_scene`]: camera, light, colours, housing — masks and keypoints follow
//! because they are computed from the same posed geometry) and to the pixels after rendering
//! ([`photometric`]: blur, brightness/contrast/gamma, sensor noise — the mask is never touched).

pub mod photometric;

use crate::seed;
use crate::spec::dist::Dist;
use crate::spec::draw::sample;
use crate::spec::{Randomize, Scene};
use glam::{DQuat, DVec3};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The values one image was rendered with; only what `[randomize]` turns on (recorded in the manifest).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sampled {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera_location: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub look_at: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roll_deg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fov_y_deg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sun_rotation_deg: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sun_strength: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ambient: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_color: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub housing_color: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub housing_center: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blur_sigma: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brightness: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contrast: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_sd: Option<f64>,
}

use crate::conventions::round6 as r6;

fn jitter(base: [f64; 3], amp: Option<[f64; 3]>, rng: &mut ChaCha8Rng) -> Option<[f64; 3]> {
    let amp = amp?;
    let mut out = base;
    for (o, a) in out.iter_mut().zip(amp) {
        if a > 0.0 {
            *o = r6(*o + rng.random_range(-a..=a));
        }
    }
    Some(out)
}

fn draw(d: &Option<Dist>, rng: &mut ChaCha8Rng) -> Option<f64> {
    d.as_ref().map(|d| r6(sample(d, rng)))
}

/// The randomized values of image `index` (None when `[randomize]` is off). Draw order is part of
/// the format: the fields of [`Randomize`] in declaration order, each only when set.
pub fn sample_image(scene: &Scene, index: u64) -> Option<Sampled> {
    let r: &Randomize = &scene.randomize;
    if r.is_off() {
        return None;
    }
    let rng = &mut seed::image_stream(scene.seed(), index, seed::RANDOMIZE);
    let (c, l) = (&scene.camera, &scene.light);
    Some(Sampled {
        camera_location: jitter(c.location, r.camera_jitter, rng),
        look_at: jitter(c.look_at, r.look_at_jitter, rng),
        roll_deg: draw(&r.roll_deg, rng),
        fov_y_deg: draw(&r.fov_y_deg, rng),
        sun_rotation_deg: jitter(l.sun_rotation_deg, r.sun_rotation_jitter_deg, rng),
        sun_strength: draw(&r.sun_strength, rng),
        ambient: draw(&r.ambient, rng),
        pin_color: r.pin_hsv.map(|a| hsv_jitter(scene.pin.color, a, rng)),
        housing_color: r.housing_hsv.map(|a| hsv_jitter(scene.housing.color, a, rng)),
        background: r.background_hsv.map(|a| hsv_jitter(scene.image.background, a, rng)),
        housing_center: jitter(scene.housing.center, r.housing_offset, rng),
        blur_sigma: draw(&r.blur_sigma, rng),
        brightness: draw(&r.brightness, rng),
        contrast: draw(&r.contrast, rng),
        gamma: draw(&r.gamma, rng),
        noise_sd: draw(&r.noise_sd, rng),
    })
}

/// The scene as image `s` sees it: every randomized value put in place of the scene's own. Roll turns
/// `camera.up` about the viewing axis, so the camera conventions stay in one place.
pub fn effective_scene(scene: &Scene, s: &Sampled) -> Scene {
    let mut e = scene.clone();
    let set = |dst: &mut [f64; 3], v: Option<[f64; 3]>| {
        if let Some(v) = v {
            *dst = v;
        }
    };
    set(&mut e.camera.location, s.camera_location);
    set(&mut e.camera.look_at, s.look_at);
    set(&mut e.light.sun_rotation_deg, s.sun_rotation_deg);
    set(&mut e.pin.color, s.pin_color);
    set(&mut e.housing.color, s.housing_color);
    set(&mut e.image.background, s.background);
    set(&mut e.housing.center, s.housing_center);
    e.camera.fov_y_deg = s.fov_y_deg.unwrap_or(e.camera.fov_y_deg);
    e.light.sun_strength = s.sun_strength.unwrap_or(e.light.sun_strength);
    e.light.ambient = s.ambient.unwrap_or(e.light.ambient);
    if let Some(roll) = s.roll_deg {
        let axis = (DVec3::from(e.camera.look_at) - DVec3::from(e.camera.location)).normalize();
        e.camera.up = (DQuat::from_axis_angle(axis, roll.to_radians()) * DVec3::from(e.camera.up)).into();
    }
    e
}

/// ± jitter of a linear RGB colour in HSV (hue in degrees), clamped to 0..1.
fn hsv_jitter(rgb: [f64; 3], amp: [f64; 3], rng: &mut ChaCha8Rng) -> [f64; 3] {
    let [h, s, v] = rgb_to_hsv(rgb);
    let mut d = |a: f64| if a > 0.0 { rng.random_range(-a..=a) } else { 0.0 };
    let h = (h + d(amp[0])).rem_euclid(360.0);
    let s = (s + d(amp[1])).clamp(0.0, 1.0);
    let v = (v + d(amp[2])).clamp(0.0, 1.0);
    hsv_to_rgb([h, s, v]).map(r6)
}

fn rgb_to_hsv([r, g, b]: [f64; 3]) -> [f64; 3] {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let c = max - min;
    let h = if c == 0.0 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / c).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / c + 2.0)
    } else {
        60.0 * ((r - g) / c + 4.0)
    };
    [h, if max == 0.0 { 0.0 } else { c / max }, max]
}

fn hsv_to_rgb([h, s, v]: [f64; 3]) -> [f64; 3] {
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0).rem_euclid(2.0) - 1.0).abs());
    let m = v - c;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [(r + m).clamp(0.0, 1.0), (g + m).clamp(0.0, 1.0), (b + m).clamp(0.0, 1.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsv_round_trips() {
        for c in [[0.4, 0.8, 0.8], [0.15, 0.15, 0.15], [1.0, 0.0, 0.2], [0.0, 0.0, 0.0]] {
            let back = hsv_to_rgb(rgb_to_hsv(c));
            assert!(c.iter().zip(back).all(|(a, b)| (a - b).abs() < 1e-12), "{c:?} -> {back:?}");
        }
    }
}
