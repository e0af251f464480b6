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

/// The camera rule every draw must keep (the static camera is the case of zero jitter): `look_at` lies
/// on the optical axis at depth |look_at − location|, so the camera must stay farther than `near`
/// from it (closer, the point it looks at is clipped; at 0 the view direction is undefined); and `up`
/// must not be parallel to the view direction (sin of the angle at least `MIN_UP_SIN`), or the
/// image's orientation is undefined.
/// Roll turns `up` about the view axis, which keeps its angle to the view direction, so it can never
/// break the view; `fov_y_deg` is kept within 1..=170 by its range check.
pub const MIN_UP_SIN: f64 = 1e-6;

/// Every drawn coordinate is rounded to 1e-6 (the value recorded is the value used), so a draw can
/// lie up to half of that beyond its jitter box: the worst case is taken over the box widened by this.
const DRAW_ROUNDING: f64 = 5e-7;

/// Extremes of the view vector d = look_at − location over every draw: d lies in the box
/// `d0 ± c` (location ± camera_jitter and look_at ± look_at_jitter add up per axis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewExtremes {
    /// Smallest |d|: the closest look_at can come to the camera.
    pub min_distance: f64,
    /// Largest |d|.
    pub max_distance: f64,
    /// Smallest |d × û|: the closest d comes to the line along `up`.
    pub min_off_up: f64,
}

impl ViewExtremes {
    /// Worst case over the box `d0 ± c` (c ≥ 0 per axis), `up` non-zero.
    pub fn of_box(d0: [f64; 3], c: [f64; 3], up: [f64; 3]) -> ViewExtremes {
        let gap = |x: f64, c: f64| (x.abs() - c).max(0.0);
        let min_distance = (0..3).map(|i| gap(d0[i], c[i]).powi(2)).sum::<f64>().sqrt();
        let max_distance = (0..3).map(|i| (d0[i].abs() + c[i]).powi(2)).sum::<f64>().sqrt();
        let n = (up[0] * up[0] + up[1] * up[1] + up[2] * up[2]).sqrt();
        let u = up.map(|x| x / n);
        ViewExtremes { min_distance, max_distance, min_off_up: box_line_distance(d0, c, u) }
    }

    /// Whether look_at stays beyond the near plane (see [`MIN_UP_SIN`]).
    pub fn distance_ok(&self, near: f64) -> bool {
        self.min_distance > near
    }

    /// Whether `up` stays off the view direction (see [`MIN_UP_SIN`]): a lower bound of the sine of
    /// the angle between them over every draw, against the threshold.
    pub fn up_ok(&self) -> bool {
        self.min_off_up >= MIN_UP_SIN * self.max_distance
    }

    /// Whether every draw gives a well-defined view with look_at drawn (see [`MIN_UP_SIN`]).
    pub fn is_safe(&self, near: f64) -> bool {
        self.distance_ok(near) && self.up_ok()
    }
}

/// Distance from the box `d0 ± c` to the line {t·u} (u a unit vector): the minimum over t of
/// f(t) = Σ max(0, |d0ᵢ − t·uᵢ| − cᵢ)², a convex piecewise quadratic. Each piece between consecutive
/// breakpoints (where a term switches on or off) is one quadratic: its minimum, clamped to the
/// piece, is a candidate; the smallest candidate is the exact minimum.
fn box_line_distance(d0: [f64; 3], c: [f64; 3], u: [f64; 3]) -> f64 {
    let f = |t: f64| (0..3).map(|i| ((d0[i] - t * u[i]).abs() - c[i]).max(0.0).powi(2)).sum::<f64>();
    let mut cuts: Vec<f64> =
        (0..3).filter(|&i| u[i] != 0.0).flat_map(|i| [(d0[i] - c[i]) / u[i], (d0[i] + c[i]) / u[i]]).collect();
    cuts.sort_by(f64::total_cmp);
    let mut best = f64::INFINITY;
    let mut bounds = vec![f64::NEG_INFINITY];
    bounds.extend(cuts.iter().copied());
    bounds.push(f64::INFINITY);
    for w in bounds.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let probe = match (lo.is_finite(), hi.is_finite()) {
            (true, true) => 0.5 * (lo + hi),
            (false, true) => hi - 1.0,
            (true, false) => lo + 1.0,
            (false, false) => 0.0,
        };
        // On this piece term i is (sᵢ(d0ᵢ − t·uᵢ) − cᵢ)² when active: solve the summed derivative = 0.
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..3 {
            let r = d0[i] - probe * u[i];
            if r.abs() > c[i] {
                let s = r.signum();
                num += s * u[i] * (s * d0[i] - c[i]);
                den += u[i] * u[i];
            }
        }
        let t = if den > 0.0 { num / den } else { probe };
        let t = if t.is_finite() { t.clamp(lo, hi) } else { probe };
        best = best.min(f(t)).min(f(probe));
        if lo.is_finite() {
            best = best.min(f(lo));
        }
    }
    best.max(0.0).sqrt()
}

/// The view vector's box for scale `sc` of camera_jitter and `sl` of look_at_jitter.
fn view_box(scene_cam: &super::CameraSpec, r: &Randomize, sc: f64, sl: f64) -> ([f64; 3], [f64; 3]) {
    let a = r.camera_jitter.unwrap_or([0.0; 3]);
    let b = r.look_at_jitter.unwrap_or([0.0; 3]);
    let round = |x: f64| if x > 0.0 { DRAW_ROUNDING } else { 0.0 };
    let d0 = [0, 1, 2].map(|i| scene_cam.look_at[i] - scene_cam.location[i]);
    let c = [0, 1, 2].map(|i| sc * a[i] + round(a[i]) + sl * b[i] + round(b[i]));
    (d0, c)
}

/// Checks that no draw of `[randomize]`'s camera jitters gives a degenerate view (see [`MIN_UP_SIN`]);
/// run on a scene whose camera passed its own check (the same rule without jitter);
/// a problem names the jitter, what can go wrong and the largest amplitude that keeps every draw safe
/// (the same direction scaled down, the other jitter as given).
pub(super) fn check_view(camera: &super::CameraSpec, r: &Randomize, p: &mut Problems) {
    if r.camera_jitter.is_none() && r.look_at_jitter.is_none() {
        return;
    }
    let extremes = |sc: f64, sl: f64| {
        let (d0, c) = view_box(camera, r, sc, sl);
        ViewExtremes::of_box(d0, c, camera.up)
    };
    let all = extremes(1.0, 1.0);
    if all.is_safe(camera.near) {
        return;
    }
    let mut why = Vec::new();
    if !all.distance_ok(camera.near) {
        why.push(format!(
            "the camera can come within camera.near = {} of look_at (or reach it), where look_at is not drawn",
            camera.near
        ));
    }
    // A box reaching the camera's own position holds every direction: the first reason says it all.
    if !all.up_ok() && all.min_distance > 0.0 {
        why.push(format!("the view direction can become parallel to camera.up = {:?}", camera.up));
    }
    let why = why.join("; ");
    for (key, amp, other_key, other) in [
        ("camera_jitter", r.camera_jitter, "look_at_jitter", r.look_at_jitter),
        ("look_at_jitter", r.look_at_jitter, "camera_jitter", r.camera_jitter),
    ] {
        let Some(amp) = amp.filter(|a| a.iter().any(|x| *x > 0.0)) else { continue };
        let at = |s: f64| if key == "camera_jitter" { extremes(s, 1.0) } else { extremes(1.0, s) };
        let with_other = other
            .filter(|o| o.iter().any(|x| *x > 0.0))
            .map(|o| format!(" with {other_key} = {}", show3(o)))
            .unwrap_or_default();
        let advice = if !at(0.0).is_safe(camera.near) {
            format!("no amplitude is safe{with_other}; reduce {other_key} first")
        } else {
            // Safety only shrinks as the box grows: bisect the largest safe scale of this jitter.
            let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if at(mid).is_safe(camera.near) { lo = mid } else { hi = mid }
            }
            // Shown rounded down to 1e-3, so the amplitude printed is itself safe.
            let largest = amp.map(|x| (x * lo * 1000.0).floor() / 1000.0);
            format!("largest allowed amplitude {}{with_other}", show3(largest))
        };
        p.invalid(format!("randomize.{key}"), show3(amp), format!("{why}; {advice}"));
    }
}

fn show3(v: [f64; 3]) -> String {
    format!("[{}, {}, {}]", v[0], v[1], v[2])
}

#[cfg(test)]
mod view_tests {
    use super::*;

    #[test]
    fn box_line_distance_matches_a_dense_search() {
        // A deterministic spread of boxes and directions; the exact minimum must be a lower bound of
        // every sampled point's distance and be approached by the best sample.
        let mut state = 1u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        for _ in 0..300 {
            let d0 = [next() * 5.0, next() * 5.0, next() * 5.0];
            let c = [next().abs() * 2.0, next().abs() * 2.0, next().abs() * 2.0];
            let mut u = [next(), next(), next()];
            let n = (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt();
            u = u.map(|x| x / n);
            let exact = box_line_distance(d0, c, u);
            let mut best = f64::INFINITY;
            let k = 24;
            for i in 0..=k {
                for j in 0..=k {
                    for l in 0..=k {
                        let s = |m: usize| m as f64 / k as f64 * 2.0 - 1.0;
                        let v = [d0[0] + s(i) * c[0], d0[1] + s(j) * c[1], d0[2] + s(l) * c[2]];
                        let t = v[0] * u[0] + v[1] * u[1] + v[2] * u[2];
                        let perp = [v[0] - t * u[0], v[1] - t * u[1], v[2] - t * u[2]];
                        best = best.min((perp[0] * perp[0] + perp[1] * perp[1] + perp[2] * perp[2]).sqrt());
                    }
                }
            }
            let cell = (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]).sqrt() / k as f64;
            assert!(exact <= best + 1e-9, "exact {exact} above sample {best} for {d0:?} ± {c:?} along {u:?}");
            assert!(best - exact <= cell + 1e-9, "exact {exact} far below samples {best} for {d0:?} ± {c:?}");
        }
    }

    #[test]
    fn roll_keeps_the_angle_between_up_and_the_view() {
        use glam::{DQuat, DVec3};
        let d = DVec3::new(0.3, -1.2, -14.0);
        let up = DVec3::new(0.2, 1.0, 0.1);
        for roll in [-180.0_f64, -37.0, 5.0, 90.0, 180.0] {
            let turned = DQuat::from_axis_angle(d.normalize(), roll.to_radians()) * up;
            assert!((d.cross(turned).length() - d.cross(up).length()).abs() < 1e-12);
        }
    }
}
