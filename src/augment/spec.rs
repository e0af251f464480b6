//! The augmentation options in Keras `ImageDataGenerator`'s own names (`rotation_range`,
//! `zoom_range`, `fill_mode`, …), read from a TOML file or the command line, validated once into an
//! [`Augmenter`] that draws the concrete [`Op`]s of each copy the way Keras' `get_random_transform`
//! does.

use super::{Affine, AugmentError, FillMode, Op};
use crate::spec::schema::{Problem, ProblemKind, Problems, Section, found, number};
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

/// Every option key.
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
        let (spec, problems) = AugmentSpec::parse_toml(text, origin)?;
        if problems.is_empty() { Ok(spec) } else { Err(AugmentError::Spec { origin: origin.to_string(), problems }) }
    }

    /// Parses an op file with the scene files' schema reader (the same messages: unknown keys with a
    /// "did you mean", wrong types with what was found), returning what could be read and every
    /// problem found, so they can be reported together with validation's (see [`Self::validate_with`]).
    /// Ranges are checked by validation, after the command line has overridden the file.
    pub fn parse_toml(text: &str, origin: &str) -> Result<(AugmentSpec, Vec<Problem>), AugmentError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| AugmentError::Syntax {
            origin: origin.to_string(),
            message: e.message().trim().to_string(),
        })?;
        let mut spec = AugmentSpec::default();
        let mut p = Problems::default();
        let mut sec = Section::root(&table);
        for key in KEYS {
            let Some(value) = sec.get(key) else { continue };
            let wrong = |p: &mut Problems, expected: &str| {
                p.push(key, ProblemKind::WrongType { expected: expected.to_string(), found: found(value) });
            };
            let pair = || value.as_array().filter(|a| a.len() == 2).and_then(|a| number(&a[0]).zip(number(&a[1])));
            match key {
                "zoom_range" => {
                    spec.zoom_range = match value {
                        toml::Value::Array(_) => pair().map(|(lo, hi)| ZoomRange::Pair(lo, hi)),
                        v => number(v).map(ZoomRange::Scalar),
                    };
                    if spec.zoom_range.is_none() {
                        wrong(&mut p, "a number or a [lower, upper] pair of numbers");
                    }
                }
                "brightness_range" => {
                    spec.brightness_range = pair().map(|(lo, hi)| [lo, hi]);
                    if spec.brightness_range.is_none() {
                        wrong(&mut p, "a [lower, upper] pair of numbers");
                    }
                }
                "horizontal_flip" | "vertical_flip" | "rot90" => {
                    let slot = match key {
                        "horizontal_flip" => &mut spec.horizontal_flip,
                        "vertical_flip" => &mut spec.vertical_flip,
                        _ => &mut spec.rot90,
                    };
                    *slot = value.as_bool();
                    if slot.is_none() {
                        wrong(&mut p, "true or false");
                    }
                }
                "fill_mode" => {
                    spec.fill_mode = value.as_str().map(str::to_string);
                    if spec.fill_mode.is_none() {
                        wrong(&mut p, "a string");
                    }
                }
                _ => {
                    let slot = match key {
                        "rotation_range" => &mut spec.rotation_range,
                        "width_shift_range" => &mut spec.width_shift_range,
                        "height_shift_range" => &mut spec.height_shift_range,
                        "shear_range" => &mut spec.shear_range,
                        "channel_shift_range" => &mut spec.channel_shift_range,
                        _ => &mut spec.cval,
                    };
                    *slot = number(value);
                    if slot.is_none() {
                        wrong(&mut p, "a number");
                    }
                }
            }
        }
        sec.finish(&mut p);
        Ok((spec, p.0))
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
    pub fn validate_with(&self, origin: &str, earlier: Vec<Problem>) -> Result<Augmenter, AugmentError> {
        let mut problems = Problems(earlier);
        let mut check = |key: &'static str, value: f64, min: f64, max: f64| {
            if !(min..=max).contains(&value) {
                problems.out_of_range(key, value, format!("{min}..={max}"));
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
        let reversed = "the lower bound exceeds the upper bound";
        if zoom[0] > zoom[1] {
            problems.invalid("zoom_range", format!("[{}, {}]", zoom[0], zoom[1]), reversed);
        }
        if let Some([lo, hi]) = brightness.filter(|[lo, hi]| lo > hi) {
            problems.invalid("brightness_range", format!("[{lo}, {hi}]"), reversed);
        }
        let name = self.fill_mode.as_deref().unwrap_or("nearest");
        let fill_mode = FillMode::parse(name).unwrap_or_else(|| {
            let allowed = FillMode::NAMES.split(", ").map(|n| format!("{n:?}")).collect();
            problems.push("fill_mode", ProblemKind::BadChoice { value: format!("{name:?}"), allowed });
            FillMode::Nearest
        });
        if !problems.0.is_empty() {
            return Err(AugmentError::Spec { origin: origin.to_string(), problems: problems.0 });
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
    fn every_problem_is_reported_as_scene_files_report_theirs() {
        let text = "rotaton_range = 20\nzoom_range = 1.5\nfill_mode = \"mirror\"\nhorizontal_flip = 1\n";
        let msg = AugmentSpec::from_toml(text, "ops.toml").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            msg,
            "invalid augmentation options in ops.toml (2 problems)\n  \
             - horizontal_flip: expected true or false, found 1 (an integer)\n  \
             - rotaton_range: unknown key; did you mean `rotation_range`?"
        );
        let (spec, problems) =
            AugmentSpec::parse_toml("zoom_range = 1.5\nfill_mode = \"mirror\"\n", "x").expect("TOML");
        assert!(problems.is_empty());
        let msg = spec.validate("x").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            msg,
            "invalid augmentation options in x (2 problems)\n  - zoom_range = 1.5: out of range, allowed 0..=0.99\n  \
             - fill_mode = \"mirror\": not one of \"constant\", \"nearest\", \"reflect\", \"wrap\", \"grid-wrap\""
        );
        let msg = AugmentSpec::from_toml("zoom_range = [", "y").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("y: malformed TOML: "), "{msg}");
    }
}
