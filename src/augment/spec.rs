//! The augmentation options in Keras `ImageDataGenerator`'s own names (`rotation_range`,
//! `zoom_range`, `fill_mode`, …), read from a TOML file or the command line, validated once into an
//! [`Augmenter`] that draws the concrete [`Op`]s of each copy the way Keras' `get_random_transform`
//! does.

use super::{Affine, AugmentError, FillMode, Op};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// `zoom_range`: a float z meaning [1-z, 1+z], or an explicit [lower, upper] (Keras' two forms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ZoomRange {
    Scalar(f64),
    Pair(f64, f64),
}

/// Raw options, every field optional; later sources override earlier ones with [`Self::merge`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AugmentSpec {
    pub rotation_range: Option<f64>,
    pub width_shift_range: Option<f64>,
    pub height_shift_range: Option<f64>,
    pub shear_range: Option<f64>,
    pub zoom_range: Option<ZoomRange>,
    pub channel_shift_range: Option<f64>,
    pub brightness_range: Option<[f64; 2]>,
    pub horizontal_flip: Option<bool>,
    pub vertical_flip: Option<bool>,
    /// pinsynth extension: a random number (0..=3) of counter-clockwise quarter turns.
    pub rot90: Option<bool>,
    pub fill_mode: Option<String>,
    pub cval: Option<f64>,
}

/// One problem in the options; validation reports all of them at once.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecProblem {
    #[error("not valid TOML: {message}")]
    Syntax { message: String },
    #[error("unknown option `{key}`{}", suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownKey { key: String, suggestion: Option<&'static str> },
    #[error("`{key}` must be {expected}")]
    WrongType { key: &'static str, expected: &'static str },
    #[error("`{key}` = {value} is out of range [{min}, {max}]")]
    OutOfRange { key: &'static str, value: f64, min: f64, max: f64 },
    #[error("`{key}` = [{lower}, {upper}]: lower bound exceeds upper bound")]
    Reversed { key: &'static str, lower: f64, upper: f64 },
    #[error("`fill_mode` = {value:?} is not one of {}", FillMode::NAMES)]
    UnknownFillMode { value: String },
}

/// Every option key and the range its numbers must lie in.
const KEYS: [&str; 12] = [
    "rotation_range",
    "width_shift_range",
    "height_shift_range",
    "shear_range",
    "zoom_range",
    "channel_shift_range",
    "brightness_range",
    "horizontal_flip",
    "vertical_flip",
    "rot90",
    "fill_mode",
    "cval",
];

impl AugmentSpec {
    /// Parses an op file. `origin` names it in errors. Collects every problem before failing.
    pub fn from_toml(text: &str, origin: &str) -> Result<AugmentSpec, AugmentError> {
        let (spec, problems) = AugmentSpec::parse_toml(text);
        if problems.is_empty() { Ok(spec) } else { Err(AugmentError::Spec { origin: origin.to_string(), problems }) }
    }

    /// Parses an op file, returning what could be read and every problem found, so they can be
    /// reported together with validation's (see [`Self::validate_with`]).
    pub fn parse_toml(text: &str) -> (AugmentSpec, Vec<SpecProblem>) {
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                return (AugmentSpec::default(), vec![SpecProblem::Syntax { message: e.message().trim().to_string() }]);
            }
        };
        let mut spec = AugmentSpec::default();
        let mut problems = Vec::new();
        for (key, value) in &table {
            let Some(&known) = KEYS.iter().find(|k| **k == key.as_str()) else {
                let suggestion = crate::spec::schema::did_you_mean(key, &KEYS);
                problems.push(SpecProblem::UnknownKey { key: key.clone(), suggestion });
                continue;
            };
            let float = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
            let wrong = |expected| SpecProblem::WrongType { key: known, expected };
            let ok = match known {
                "zoom_range" => match value {
                    toml::Value::Array(a) if a.len() == 2 => {
                        let pair = float(&a[0]).zip(float(&a[1]));
                        spec.zoom_range = pair.map(|(lo, hi)| ZoomRange::Pair(lo, hi));
                        pair.is_some()
                    }
                    v => {
                        spec.zoom_range = float(v).map(ZoomRange::Scalar);
                        spec.zoom_range.is_some()
                    }
                },
                "brightness_range" => {
                    let pair = value.as_array().filter(|a| a.len() == 2).and_then(|a| float(&a[0]).zip(float(&a[1])));
                    spec.brightness_range = pair.map(|(lo, hi)| [lo, hi]);
                    pair.is_some()
                }
                "horizontal_flip" | "vertical_flip" | "rot90" => {
                    let slot = match known {
                        "horizontal_flip" => &mut spec.horizontal_flip,
                        "vertical_flip" => &mut spec.vertical_flip,
                        _ => &mut spec.rot90,
                    };
                    *slot = value.as_bool();
                    slot.is_some()
                }
                "fill_mode" => {
                    spec.fill_mode = value.as_str().map(str::to_string);
                    spec.fill_mode.is_some()
                }
                _ => {
                    let slot = match known {
                        "rotation_range" => &mut spec.rotation_range,
                        "width_shift_range" => &mut spec.width_shift_range,
                        "height_shift_range" => &mut spec.height_shift_range,
                        "shear_range" => &mut spec.shear_range,
                        "channel_shift_range" => &mut spec.channel_shift_range,
                        _ => &mut spec.cval,
                    };
                    *slot = float(value);
                    slot.is_some()
                }
            };
            if !ok {
                problems.push(wrong(expected_type(known)));
            }
        }
        (spec, problems)
    }

    /// `other`'s options win where both are set (command line over file).
    pub fn merge(self, other: AugmentSpec) -> AugmentSpec {
        AugmentSpec {
            rotation_range: other.rotation_range.or(self.rotation_range),
            width_shift_range: other.width_shift_range.or(self.width_shift_range),
            height_shift_range: other.height_shift_range.or(self.height_shift_range),
            shear_range: other.shear_range.or(self.shear_range),
            zoom_range: other.zoom_range.or(self.zoom_range),
            channel_shift_range: other.channel_shift_range.or(self.channel_shift_range),
            brightness_range: other.brightness_range.or(self.brightness_range),
            horizontal_flip: other.horizontal_flip.or(self.horizontal_flip),
            vertical_flip: other.vertical_flip.or(self.vertical_flip),
            rot90: other.rot90.or(self.rot90),
            fill_mode: other.fill_mode.or(self.fill_mode),
            cval: other.cval.or(self.cval),
        }
    }

    /// Checks every range and resolves Keras' defaults (`fill_mode = "nearest"`, `cval = 0`).
    pub fn validate(&self, origin: &str) -> Result<Augmenter, AugmentError> {
        self.validate_with(origin, Vec::new())
    }

    /// [`Self::validate`], reporting `earlier` problems (e.g. from [`Self::parse_toml`]) first.
    pub fn validate_with(&self, origin: &str, earlier: Vec<SpecProblem>) -> Result<Augmenter, AugmentError> {
        let mut problems = earlier;
        let mut check = |key: &'static str, value: f64, min: f64, max: f64| {
            if !(min..=max).contains(&value) {
                problems.push(SpecProblem::OutOfRange { key, value, min, max });
            }
            value
        };
        // Shifts follow Keras: below 1 a fraction of the size, from 1 on a number of pixels.
        let rotation = check("rotation_range", self.rotation_range.unwrap_or(0.0), 0.0, 360.0);
        let width_shift = check("width_shift_range", self.width_shift_range.unwrap_or(0.0), 0.0, 10_000.0);
        let height_shift = check("height_shift_range", self.height_shift_range.unwrap_or(0.0), 0.0, 10_000.0);
        let shear = check("shear_range", self.shear_range.unwrap_or(0.0), 0.0, 89.0);
        let zoom = match self.zoom_range {
            None => [1.0, 1.0],
            Some(ZoomRange::Scalar(z)) => {
                let z = check("zoom_range", z, 0.0, 0.99);
                [1.0 - z, 1.0 + z]
            }
            Some(ZoomRange::Pair(lo, hi)) => {
                [check("zoom_range", lo, 0.01, 100.0), check("zoom_range", hi, 0.01, 100.0)]
            }
        };
        let channel_shift = check("channel_shift_range", self.channel_shift_range.unwrap_or(0.0), 0.0, 255.0);
        let brightness = self
            .brightness_range
            .map(|[lo, hi]| [check("brightness_range", lo, 0.0, 10.0), check("brightness_range", hi, 0.0, 10.0)]);
        let cval = check("cval", self.cval.unwrap_or(0.0), 0.0, 255.0);
        if zoom[0] > zoom[1] {
            problems.push(SpecProblem::Reversed { key: "zoom_range", lower: zoom[0], upper: zoom[1] });
        }
        if let Some([lo, hi]) = brightness.filter(|[lo, hi]| lo > hi) {
            problems.push(SpecProblem::Reversed { key: "brightness_range", lower: lo, upper: hi });
        }
        let name = self.fill_mode.as_deref().unwrap_or("nearest");
        let fill_mode = FillMode::parse(name).unwrap_or_else(|| {
            problems.push(SpecProblem::UnknownFillMode { value: name.to_string() });
            FillMode::Nearest
        });
        if !problems.is_empty() {
            return Err(AugmentError::Spec { origin: origin.to_string(), problems });
        }
        let augmenter = Augmenter {
            rotation,
            width_shift,
            height_shift,
            shear,
            zoom,
            channel_shift,
            brightness,
            horizontal_flip: self.horizontal_flip.unwrap_or(false),
            vertical_flip: self.vertical_flip.unwrap_or(false),
            rot90: self.rot90.unwrap_or(false),
            fill_mode,
            cval,
        };
        if augmenter.is_identity() { Err(AugmentError::NoOperations) } else { Ok(augmenter) }
    }
}

fn expected_type(key: &str) -> &'static str {
    match key {
        "zoom_range" => "a number or a [lower, upper] pair of numbers",
        "brightness_range" => "a [lower, upper] pair of numbers",
        "horizontal_flip" | "vertical_flip" | "rot90" => "true or false",
        "fill_mode" => "a string",
        _ => "a number",
    }
}

/// Validated options: draws one copy's ops. Zero ranges mean "off", as in Keras.
#[derive(Clone, Debug, PartialEq)]
pub struct Augmenter {
    pub rotation: f64,
    pub width_shift: f64,
    pub height_shift: f64,
    pub shear: f64,
    pub zoom: [f64; 2],
    pub channel_shift: f64,
    pub brightness: Option<[f64; 2]>,
    pub horizontal_flip: bool,
    pub vertical_flip: bool,
    pub rot90: bool,
    pub fill_mode: FillMode,
    pub cval: f64,
}

impl Augmenter {
    fn is_identity(&self) -> bool {
        let off = |v: f64| v == 0.0;
        off(self.rotation)
            && off(self.width_shift)
            && off(self.height_shift)
            && off(self.shear)
            && self.zoom == [1.0, 1.0]
            && off(self.channel_shift)
            && self.brightness.is_none()
            && !self.horizontal_flip
            && !self.vertical_flip
            && !self.rot90
    }

    /// Draws one copy's ops for a `width` x `height` image, in Keras' order and with Keras'
    /// distributions (`get_random_transform`), then applies them in `apply_transform`'s order:
    /// affine, channel shift, horizontal flip, vertical flip, brightness. The quarter turn
    /// (pinsynth extension) comes first; shifts are relative to the turned image.
    pub fn draw(&self, rng: &mut ChaCha8Rng, width: u32, height: u32) -> Vec<Op> {
        let mut ops = Vec::new();
        let (mut w, mut h) = (f64::from(width), f64::from(height));
        if self.rot90 {
            let k = rng.random_range(0..4u8);
            if k % 2 == 1 {
                (w, h) = (h, w);
            }
            if k > 0 {
                ops.push(Op::Rot90 { k });
            }
        }
        let mut sym = |r: f64| {
            if r > 0.0 { rng.random_range(-r..=r) } else { 0.0 }
        };
        let theta = sym(self.rotation);
        let shift_y = sym(self.height_shift) * if self.height_shift < 1.0 { h } else { 1.0 };
        let shift_x = sym(self.width_shift) * if self.width_shift < 1.0 { w } else { 1.0 };
        let shear = sym(self.shear);
        let (zoom_y, zoom_x) = if self.zoom == [1.0, 1.0] {
            (1.0, 1.0)
        } else {
            let [lo, hi] = self.zoom;
            (rng.random_range(lo..=hi), rng.random_range(lo..=hi))
        };
        let flip_h = rng.random_bool(0.5) && self.horizontal_flip;
        let flip_v = rng.random_bool(0.5) && self.vertical_flip;
        let channel = (self.channel_shift > 0.0).then(|| rng.random_range(-self.channel_shift..=self.channel_shift));
        let bright = self.brightness.map(|[lo, hi]| rng.random_range(lo..=hi));

        let affine =
            Affine { theta, shift_x, shift_y, shear, zoom_x, zoom_y, fill_mode: self.fill_mode, cval: self.cval };
        if theta != 0.0 || shift_x != 0.0 || shift_y != 0.0 || shear != 0.0 || zoom_x != 1.0 || zoom_y != 1.0 {
            ops.push(Op::Affine(affine));
        }
        if let Some(intensity) = channel {
            ops.push(Op::ChannelShift { intensity });
        }
        if flip_h {
            ops.push(Op::FlipHorizontal);
        }
        if flip_v {
            ops.push(Op::FlipVertical);
        }
        if let Some(factor) = bright {
            ops.push(Op::Brightness { factor });
        }
        ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported() {
        let text = "rotaton_range = 20\nzoom_range = 1.5\nfill_mode = \"mirror\"\nhorizontal_flip = 1\n";
        let err = AugmentSpec::from_toml(text, "ops.toml").map(|s| s.validate("ops.toml"));
        let msg = match err {
            Err(e) => e.to_string(),
            Ok(_) => String::new(),
        };
        assert_eq!(
            msg,
            "invalid augmentation options in ops.toml:\n  - `horizontal_flip` must be true or false\n  \
             - unknown option `rotaton_range` (did you mean `rotation_range`?)"
        );
        let spec = AugmentSpec::from_toml("zoom_range = 1.5\nfill_mode = \"mirror\"\n", "x").expect("valid TOML"); // ok: test literal
        let msg = spec.validate("x").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            msg,
            "invalid augmentation options in x:\n  - `zoom_range` = 1.5 is out of range [0, 0.99]\n  \
             - `fill_mode` = \"mirror\" is not one of constant, nearest, reflect, wrap, grid-wrap"
        );
    }
}
