//! The terminals' shapes and sizes: `[pin.square]`, `[pin.round]`, `[pin.triangle]` (sizes and tip,
//! the seed's values by default) and `[pin.meshes]` (pattern letters naming mesh files).

use super::MeshFile;
use super::schema::{ProblemKind, Problems, Section, found};
use super::sections::read_mesh_file;
use crate::conventions::{Named, PIN_HALF_HEIGHT, ROUND_RADIUS, ROUND_SEGMENTS, SQUARE_HALF_WIDTH, TRIANGLE_RADIUS};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Value;

/// Largest terminal size (width, depth, radius, height), in scene units.
pub const MAX_TERMINAL_SIZE: f64 = 100.0;
/// Smallest terminal size.
pub const MIN_TERMINAL_SIZE: f64 = 0.01;
/// Segments of a round terminal.
pub const MIN_SEGMENTS: i64 = 3;
pub const MAX_SEGMENTS: i64 = 256;

/// The end of a terminal above its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TipStyle {
    /// The cross-section runs up to the top face (the seed's terminals).
    Flat,
    /// The last `tip_length` tapers to a point on the terminal's axis (local x = y = 0).
    Pointed,
    /// The last `tip_length` is a 45° chamfer: the top face is the cross-section inset by `tip_length`.
    Chamfer,
}

impl Named for TipStyle {
    const ALL: &'static [TipStyle] = &[TipStyle::Flat, TipStyle::Pointed, TipStyle::Chamfer];
    fn name(self) -> &'static str {
        match self {
            TipStyle::Flat => "flat",
            TipStyle::Pointed => "pointed",
            TipStyle::Chamfer => "chamfer",
        }
    }
}

/// A terminal's tip: its style and, unless flat, its length along the axis (scene units).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Tip {
    pub tip: TipStyle,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip_length: Option<f64>,
}

impl Tip {
    pub const FLAT: Tip = Tip { tip: TipStyle::Flat, tip_length: None };

    /// The tip's length (0 for a flat tip).
    pub fn length(&self) -> f64 {
        self.tip_length.unwrap_or(0.0)
    }
}

/// `[pin.square]`: a box `width` (x) × `depth` (y) × `height` (z) around the terminal's centre.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SquareSize {
    pub width: f64,
    pub depth: f64,
    pub height: f64,
    #[serde(flatten)]
    pub tip: Tip,
}

/// `[pin.round]`: a cylinder of `radius` and `height` with `segments` flat sides.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RoundSize {
    pub radius: f64,
    pub height: f64,
    pub segments: u32,
    #[serde(flatten)]
    pub tip: Tip,
}

/// `[pin.triangle]`: a triangular prism of circumradius `radius` and `height`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TriangleSize {
    pub radius: f64,
    pub height: f64,
    #[serde(flatten)]
    pub tip: Tip,
}

impl SquareSize {
    pub const SEED: SquareSize = SquareSize {
        width: 2.0 * SQUARE_HALF_WIDTH,
        depth: 2.0 * SQUARE_HALF_WIDTH,
        height: 2.0 * PIN_HALF_HEIGHT,
        tip: Tip::FLAT,
    };
    pub fn is_seed(&self) -> bool {
        *self == Self::SEED
    }
}

impl RoundSize {
    pub const SEED: RoundSize =
        RoundSize { radius: ROUND_RADIUS, height: 2.0 * PIN_HALF_HEIGHT, segments: ROUND_SEGMENTS, tip: Tip::FLAT };
    pub fn is_seed(&self) -> bool {
        *self == Self::SEED
    }
}

impl TriangleSize {
    pub const SEED: TriangleSize =
        TriangleSize { radius: TRIANGLE_RADIUS, height: 2.0 * PIN_HALF_HEIGHT, tip: Tip::FLAT };
    pub fn is_seed(&self) -> bool {
        *self == Self::SEED
    }
}

/// Reads `[pin.square]`, `[pin.round]`, `[pin.triangle]` and `[pin.meshes]` of the `[pin]` section.
pub(super) fn read_shapes(
    pin: &mut Section<'_>,
    scene_dir: &Path,
    p: &mut Problems,
) -> (SquareSize, RoundSize, TriangleSize, BTreeMap<String, MeshFile>) {
    let d = SquareSize::SEED;
    let mut s = Section::child(pin, "square", p);
    let (width, depth) = (size(&mut s, "width", d.width, p), size(&mut s, "depth", d.depth, p));
    let height = size(&mut s, "height", d.height, p);
    // A chamfer's inset must leave a top face: less than the half of the narrower side.
    let tip = read_tip(&mut s, height, width.min(depth) / 2.0, "half the smaller of width and depth", p);
    s.finish(p);
    let square = SquareSize { width, depth, height, tip };

    let d = RoundSize::SEED;
    let mut s = Section::child(pin, "round", p);
    let radius = size(&mut s, "radius", d.radius, p);
    let height = size(&mut s, "height", d.height, p);
    let segments = s.int("segments", d.segments as i64, MIN_SEGMENTS, MAX_SEGMENTS, p) as u32;
    let inradius = radius * (std::f64::consts::PI / segments as f64).cos();
    let tip = read_tip(&mut s, height, inradius, "the inradius radius·cos(180°/segments)", p);
    s.finish(p);
    let round = RoundSize { radius, height, segments, tip };

    let d = TriangleSize::SEED;
    let mut s = Section::child(pin, "triangle", p);
    let radius = size(&mut s, "radius", d.radius, p);
    let height = size(&mut s, "height", d.height, p);
    let tip = read_tip(&mut s, height, radius / 2.0, "the inradius radius/2", p);
    s.finish(p);
    let triangle = TriangleSize { radius, height, tip };

    let meshes = read_meshes(pin, scene_dir, p);
    (square, round, triangle, meshes)
}

fn size(s: &mut Section<'_>, key: &'static str, default: f64, p: &mut Problems) -> f64 {
    s.f64(key, default, MIN_TERMINAL_SIZE, MAX_TERMINAL_SIZE, p)
}

/// `tip` and `tip_length`: a pointed tip shorter than the terminal, a chamfer also narrower than
/// `max_inset` (named `inset_name` in messages).
fn read_tip(s: &mut Section<'_>, height: f64, max_inset: f64, inset_name: &str, p: &mut Problems) -> Tip {
    let tip = s.named("tip", TipStyle::Flat, p);
    let path = s.key_path("tip_length");
    let raw = s.get("tip_length");
    let length = match (tip, raw) {
        (TipStyle::Flat, None) => return Tip::FLAT,
        (TipStyle::Flat, Some(_)) => {
            p.invalid(
                &path,
                raw.map(super::schema::show).unwrap_or_default(),
                "only with tip = \"pointed\" or \"chamfer\"",
            );
            return Tip::FLAT;
        }
        (_, None) => {
            p.push(
                &path,
                ProblemKind::Missing {
                    expected: format!(
                        "the tip's length along the axis for tip = \"{}\", 0 < tip_length < height",
                        tip.name()
                    ),
                },
            );
            return Tip::FLAT;
        }
        (_, Some(v)) => match super::schema::number(v) {
            Some(x) => x,
            None => {
                p.push(&path, ProblemKind::WrongType { expected: "a number".into(), found: found(v) });
                return Tip::FLAT;
            }
        },
    };
    let upper = if tip == TipStyle::Chamfer { height.min(max_inset) } else { height };
    if !(length > 0.0 && length < upper) {
        // Bounds printed rounded down to 1e-6, so every value below the printed one is allowed.
        let down = |x: f64| (x * 1e6).floor() / 1e6;
        let why = if tip == TipStyle::Chamfer {
            format!("0 < tip_length < {} (below the height {height} and {inset_name} {})", down(upper), down(max_inset))
        } else {
            format!("0 < tip_length < {} (the height)", down(upper))
        };
        p.out_of_range(&path, length, why);
        return Tip::FLAT;
    }
    Tip { tip, tip_length: Some(length) }
}

/// Letters the layout uses for the built-in shapes and for "no terminal".
pub const RESERVED_LETTERS: [char; 4] = ['S', 'R', 'T', '.'];

/// `[pin.meshes]`: `B = "blade.stl"`: an upper-case letter (not S, R, T) → a mesh file whose local
/// origin is the terminal's centre.
fn read_meshes(pin: &mut Section<'_>, scene_dir: &Path, p: &mut Problems) -> BTreeMap<String, MeshFile> {
    let path = pin.key_path("meshes");
    let mut out = BTreeMap::new();
    match pin.get("meshes") {
        None => {}
        Some(Value::Table(t)) => {
            let mut s = Section::of_table(path.clone(), t);
            for key in t.keys() {
                let letter = match key.chars().collect::<Vec<_>>()[..] {
                    [c] if c.is_ascii_uppercase() && !RESERVED_LETTERS.contains(&c) => c,
                    _ => {
                        p.invalid(
                            format!("{path}.{key}"),
                            format!("{:?}", t[key].as_str().unwrap_or("…")),
                            "name a mesh terminal with one upper-case letter other than S, R and T (its pattern letter)",
                        );
                        continue;
                    }
                };
                // The key is one letter: leak-free static name from the letter table.
                if let Some(m) = read_mesh_file(&mut s, letter_key(letter), scene_dir, p) {
                    out.insert(letter.to_string(), m);
                }
            }
            // Every key was either read or reported above.
        }
        Some(other) => p.push(
            &path,
            ProblemKind::WrongType { expected: "a table of letter = \"file\"".into(), found: found(other) },
        ),
    }
    out
}

/// The one-letter key `c` as a static string (the schema walker remembers keys as `&'static str`).
fn letter_key(c: char) -> &'static str {
    const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let i = (c as u8 - b'A') as usize; // ok: callers pass A..=Z
    &LETTERS[i..i + 1]
}
