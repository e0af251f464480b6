//! The `[randomize]` section: domain randomization, every key optional and off when absent. Jitters
//! (`*_jitter`, `*_hsv`, `housing_offset`) are ± amplitudes of a uniform change around the scene's own
//! value; the other keys are distributions (any form of [`Dist`]) that replace the value.

use super::dist::{self, Dist};
use super::schema::{Problems, Section, floats_value};
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Randomize {
    /// ± jitter of camera.location per axis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera_jitter: Option<[f64; 3]>,
    /// ± jitter of camera.look_at per axis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub look_at_jitter: Option<[f64; 3]>,
    /// Roll about the viewing axis, degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roll_deg: Option<Dist>,
    /// Replaces camera.fov_y_deg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fov_y_deg: Option<Dist>,
    /// ± jitter of light.sun_rotation_deg per angle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sun_rotation_jitter_deg: Option<[f64; 3]>,
    /// Replaces light.sun_strength.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sun_strength: Option<Dist>,
    /// Replaces light.ambient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ambient: Option<Dist>,
    /// ± jitter of the terminal colour in HSV: hue in degrees, saturation and value in 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_hsv: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub housing_hsv: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background_hsv: Option<[f64; 3]>,
    /// ± jitter of housing.center per axis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub housing_offset: Option<[f64; 3]>,
    /// Gaussian blur sigma in pixels (0 = none), applied to the colour image after rendering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blur_sigma: Option<Dist>,
    /// Added to every channel (fraction of full scale).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brightness: Option<Dist>,
    /// Scales every channel about mid-grey.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contrast: Option<Dist>,
    /// Exponent on every channel (0..1 values): > 1 darkens mid-tones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<Dist>,
    /// Standard deviation of Gaussian sensor noise, 8-bit levels (seeded per image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_sd: Option<Dist>,
}

impl Randomize {
    pub fn is_off(&self) -> bool {
        *self == Randomize::default()
    }
}

pub(super) fn read_randomize(root: &mut Section<'_>, p: &mut Problems) -> Randomize {
    let mut s = Section::child(root, "randomize", p);
    let jitter = |s: &mut Section<'_>, key: &'static str, max: f64, p: &mut Problems| {
        let path = s.key_path(key);
        s.get(key).and_then(|v| floats_value::<3>(&path, v, 0.0, max, p))
    };
    let camera_jitter = jitter(&mut s, "camera_jitter", 100.0, p);
    let look_at_jitter = jitter(&mut s, "look_at_jitter", 100.0, p);
    let roll_deg = opt(&mut s, "roll_deg", -180.0, 180.0, p);
    let fov_y_deg = opt(&mut s, "fov_y_deg", 1.0, 170.0, p);
    let sun_rotation_jitter_deg = jitter(&mut s, "sun_rotation_jitter_deg", 180.0, p);
    let sun_strength = opt(&mut s, "sun_strength", 0.0, 100.0, p);
    let ambient = opt(&mut s, "ambient", 0.0, 10.0, p);
    let hsv = |s: &mut Section<'_>, key: &'static str, p: &mut Problems| {
        let path = s.key_path(key);
        let v = s.get(key).and_then(|v| floats_value::<3>(&path, v, 0.0, 180.0, p))?;
        if v[1] > 1.0 || v[2] > 1.0 {
            p.out_of_range(path, format!("{v:?}"), "hue 0..=180 degrees, saturation and value 0..=1");
            return None;
        }
        Some(v)
    };
    let pin_hsv = hsv(&mut s, "pin_hsv", p);
    let housing_hsv = hsv(&mut s, "housing_hsv", p);
    let background_hsv = hsv(&mut s, "background_hsv", p);
    let housing_offset = jitter(&mut s, "housing_offset", 100.0, p);
    let blur_sigma = opt(&mut s, "blur_sigma", 0.0, 20.0, p);
    let brightness = opt(&mut s, "brightness", -1.0, 1.0, p);
    let contrast = opt(&mut s, "contrast", 0.0, 10.0, p);
    let gamma = opt(&mut s, "gamma", 0.1, 10.0, p);
    let noise_sd = opt(&mut s, "noise_sd", 0.0, 255.0, p);
    s.finish(p);
    Randomize {
        camera_jitter,
        look_at_jitter,
        roll_deg,
        fov_y_deg,
        sun_rotation_jitter_deg,
        sun_strength,
        ambient,
        pin_hsv,
        housing_hsv,
        background_hsv,
        housing_offset,
        blur_sigma,
        brightness,
        contrast,
        gamma,
        noise_sd,
    }
}

fn opt(s: &mut Section<'_>, key: &'static str, lo: f64, hi: f64, p: &mut Problems) -> Option<Dist> {
    let path = s.key_path(key);
    s.get(key).and_then(|v| dist::read_value(&path, v, lo, hi, p))
}
