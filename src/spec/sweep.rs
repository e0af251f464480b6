//! The `[sweep]` section: a random sweep (per-parameter distributions, minimum defect magnitudes, an
//! exact OK fraction) or a grid sweep (the cartesian product of listed values), and which terminals
//! either may make defective.

use super::dist::{self, Dist};
use super::schema::{ProblemKind, Problems, Section, found, number, show};
use super::{
    Layout, MAX_AZIMUTH_DEG, MAX_BEND_DEG, MAX_BEND_HEIGHT, MAX_DPOS, MAX_GRAD_DEG, MAX_SWEEP_COUNT, read_pin,
};
use crate::conventions::PinKind;
use crate::conventions::{DefectType, Named};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use toml::Value;

/// Which terminals a sweep may make defective.
#[derive(Clone, Debug, PartialEq)]
pub enum PinSelection {
    All,
    List(Vec<[u32; 2]>),
    /// Every terminal of a kind and/or inside a region (inclusive column and row ranges).
    Where {
        kind: Option<PinKind>,
        x: Option<[u32; 2]>,
        y: Option<[u32; 2]>,
    },
}

impl PinSelection {
    /// The selected terminals: a list in its own order, otherwise in layout order (x outer, y inner).
    pub fn candidates(&self, layout: &Layout) -> Vec<[u32; 2]> {
        let inside = |r: &Option<[u32; 2]>, v: u32| r.is_none_or(|r| (r[0]..=r[1]).contains(&v));
        match self {
            PinSelection::List(l) => l.clone(),
            PinSelection::All => layout.terminals().map(|(x, y, _)| [x, y]).collect(),
            PinSelection::Where { kind, x, y } => layout
                .terminals()
                .filter(|(px, py, k)| kind.is_none_or(|kind| kind == *k) && inside(x, *px) && inside(y, *py))
                .map(|(x, y, _)| [x, y])
                .collect(),
        }
    }
}

impl Serialize for PinSelection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PinSelection::All => s.serialize_str("all"),
            PinSelection::List(l) => l.serialize(s),
            PinSelection::Where { kind, x, y } => {
                let mut m = s.serialize_map(None)?;
                if let Some(k) = kind {
                    m.serialize_entry("kind", k)?;
                }
                if let Some(x) = x {
                    m.serialize_entry("x", x)?;
                }
                if let Some(y) = y {
                    m.serialize_entry("y", y)?;
                }
                m.end()
            }
        }
    }
}

/// Distributions of the offset components.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dist3 {
    pub x: Dist,
    pub y: Dist,
    pub z: Dist,
}

/// Distributions of the tilt angles, degrees.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dist2 {
    pub x: Dist,
    pub y: Dist,
}

/// Distributions of a bend's parameters (see [`crate::conventions::Bend`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BendDists {
    pub height: Dist,
    pub angle_deg: Dist,
    pub azimuth_deg: Dist,
}

/// Relative weights of the defect types in a random sweep's NG images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DefectWeights {
    pub offset: f64,
    pub tilt: f64,
    pub offset_tilt: f64,
    pub missing: f64,
    /// Written to the resolved scene only when positive (scenes without bends resolve as before).
    #[serde(skip_serializing_if = "is_zero")]
    pub bent: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The values a grid's `bent` type combines (height × angle × azimuth).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BendAxes {
    pub bend_height: Vec<f64>,
    pub bend_angle_deg: Vec<f64>,
    pub bend_azimuth_deg: Vec<f64>,
}

/// A grid sweep: every terminal × defect type × the values of the axes that type uses, `repeat` times.
/// `offset` varies the dpos axes, `tilt` the grad axes, `offset_tilt` all five, `missing` none; a
/// combination that moves nothing is an OK image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Grid {
    pub types: Vec<DefectType>,
    pub dpos_x: Vec<f64>,
    pub dpos_y: Vec<f64>,
    pub dpos_z: Vec<f64>,
    pub grad_x: Vec<f64>,
    pub grad_y: Vec<f64>,
    /// Present when `types` has `bent` (so grids without bends resolve as before).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub bend: Option<BendAxes>,
    pub repeat: u64,
    pub pins: PinSelection,
}

impl Grid {
    /// Combinations of one defect type at one terminal.
    pub fn type_size(&self, t: DefectType) -> u64 {
        let dpos = (self.dpos_x.len() * self.dpos_y.len() * self.dpos_z.len()) as u64;
        let grad = (self.grad_x.len() * self.grad_y.len()) as u64;
        match t {
            DefectType::Offset => dpos,
            DefectType::Tilt => grad,
            DefectType::OffsetTilt => dpos * grad,
            DefectType::Missing => 1,
            DefectType::Bent => self
                .bend
                .as_ref()
                .map_or(0, |b| (b.bend_height.len() * b.bend_angle_deg.len() * b.bend_azimuth_deg.len()) as u64),
        }
    }

    /// Images per terminal (every type's combinations, `repeat` times), None on overflow.
    pub fn per_pin(&self) -> Option<u64> {
        self.types.iter().try_fold(0u64, |acc, t| acc.checked_add(self.type_size(*t)))?.checked_mul(self.repeat)
    }
}

/// A seeded sweep, after the cases.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// Images (for a grid, derived from it).
    pub count: u64,
    pub seed: u64,
    pub mode: SweepMode,
}

/// How a sweep decides its defects: each mode carries only its own keys.
// One per scene, read and cloned rarely: the size difference (the random sweep's distributions) costs
// nothing, and boxing would only add indirection at every use.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum SweepMode {
    Random(RandomSweep),
    Grid(Grid),
}

/// A random sweep: per-parameter distributions drawn from each image's own stream.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomSweep {
    /// Exactly `floor(count · ok_fraction)` images are OK, spread evenly over the indices.
    pub ok_fraction: f64,
    pub pins: PinSelection,
    /// An offset is redrawn until `|dpos| >= min_offset`.
    pub min_offset: f64,
    /// A tilt is redrawn until the terminal's axis leans at least this far from vertical.
    pub min_tilt_deg: f64,
    pub dpos: Dist3,
    pub grad: Dist2,
    /// Drawn for `bent` images (written to the resolved scene only when `weights.bent` > 0 or they are
    /// not the defaults, so scenes without bends resolve as before).
    pub bend: BendDists,
    pub weights: DefectWeights,
}

impl Serialize for Sweep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let mode = match self.mode {
            SweepMode::Random(_) => "random",
            SweepMode::Grid(_) => "grid",
        };
        m.serialize_entry("mode", mode)?;
        m.serialize_entry("count", &self.count)?;
        m.serialize_entry("seed", &self.seed)?;
        match &self.mode {
            SweepMode::Grid(grid) => m.serialize_entry("grid", grid)?,
            SweepMode::Random(r) => {
                m.serialize_entry("ok_fraction", &r.ok_fraction)?;
                m.serialize_entry("min_offset", &r.min_offset)?;
                m.serialize_entry("min_tilt_deg", &r.min_tilt_deg)?;
                m.serialize_entry("pins", &r.pins)?;
                m.serialize_entry("dpos", &r.dpos)?;
                m.serialize_entry("grad", &r.grad)?;
                if r.weights.bent > 0.0 || r.bend != random_defaults().bend {
                    m.serialize_entry("bend", &r.bend)?;
                }
                m.serialize_entry("weights", &r.weights)?;
            }
        }
        m.end()
    }
}

const RANDOM_ONLY: [&str; 8] = ["ok_fraction", "pins", "min_offset", "min_tilt_deg", "dpos", "grad", "bend", "weights"];

pub(super) fn read_sweep(root: &mut Section<'_>, layout: &Layout, p: &mut Problems) -> Option<Sweep> {
    root.get("sweep")?;
    let mut s = Section::child(root, "sweep", p);
    let grid_mode = s.choice("mode", false, &[("random", false), ("grid", true)], p);
    let count_value = s.get("count");
    let count = s.int("count", 100, 0, MAX_SWEEP_COUNT, p) as u64;
    let seed = s.int("seed", 0, 0, i64::MAX, p) as u64;
    if grid_mode {
        for key in RANDOM_ONLY {
            if let Some(v) = s.get(key) {
                p.invalid(
                    s.key_path(key),
                    show(v),
                    "only with mode = \"random\" (a grid lists its values in [sweep.grid])",
                );
            }
        }
        let g = Section::child(&mut s, "grid", p);
        let grid = read_grid(g, layout, p);
        s.finish(p);
        let grid = grid?;
        let derived = grid.per_pin().and_then(|n| n.checked_mul(grid.pins.candidates(layout).len() as u64));
        let derived = match derived {
            Some(n) if n <= MAX_SWEEP_COUNT as u64 => n,
            _ => {
                p.invalid(
                    "sweep.grid",
                    "{…}",
                    format!(
                        "the grid has more than {MAX_SWEEP_COUNT} combinations; use fewer values or a random sweep"
                    ),
                );
                return None;
            }
        };
        if count_value.is_some() && count != derived {
            p.invalid(
                "sweep.count",
                count,
                format!("a grid sweep has {derived} images (terminals × combinations × repeat); leave count out"),
            );
        }
        return Some(Sweep { count: derived, seed, mode: SweepMode::Grid(grid) });
    }
    if let Some(v) = s.get("grid") {
        p.invalid(s.key_path("grid"), show(v), "only with mode = \"grid\"");
    }
    let ok_fraction = s.f64("ok_fraction", 0.2, 0.0, 1.0, p);
    let min_offset = s.f64("min_offset", 0.0, 0.0, MAX_DPOS, p);
    let min_tilt_deg = s.f64("min_tilt_deg", 0.0, 0.0, MAX_GRAD_DEG, p);
    let pins_path = s.key_path("pins");
    let pins = read_pins(&pins_path, s.get("pins"), layout, p);
    let d0 = random_defaults();
    let mut d = Section::child(&mut s, "dpos", p);
    let dpos = Dist3 {
        x: dist::read(&mut d, "x", d0.dpos.x, -MAX_DPOS, MAX_DPOS, p),
        y: dist::read(&mut d, "y", d0.dpos.y, -MAX_DPOS, MAX_DPOS, p),
        z: dist::read(&mut d, "z", d0.dpos.z, -MAX_DPOS, MAX_DPOS, p),
    };
    d.finish(p);
    let mut g = Section::child(&mut s, "grad", p);
    let grad = Dist2 {
        x: dist::read(&mut g, "x", d0.grad.x, -MAX_GRAD_DEG, MAX_GRAD_DEG, p),
        y: dist::read(&mut g, "y", d0.grad.y, -MAX_GRAD_DEG, MAX_GRAD_DEG, p),
    };
    g.finish(p);
    let mut b = Section::child(&mut s, "bend", p);
    let bend = BendDists {
        height: dist::read(&mut b, "height", d0.bend.height, 0.0, MAX_BEND_HEIGHT, p),
        angle_deg: dist::read(&mut b, "angle_deg", d0.bend.angle_deg, -MAX_BEND_DEG, MAX_BEND_DEG, p),
        azimuth_deg: dist::read(&mut b, "azimuth_deg", d0.bend.azimuth_deg, -MAX_AZIMUTH_DEG, MAX_AZIMUTH_DEG, p),
    };
    b.finish(p);
    let mut w = Section::child(&mut s, "weights", p);
    let weights = DefectWeights {
        offset: w.f64("offset", 1.0, 0.0, 1e6, p),
        tilt: w.f64("tilt", 1.0, 0.0, 1e6, p),
        offset_tilt: w.f64("offset_tilt", 1.0, 0.0, 1e6, p),
        missing: w.f64("missing", 0.5, 0.0, 1e6, p),
        bent: w.f64("bent", 0.0, 0.0, 1e6, p),
    };
    if weights.offset + weights.tilt + weights.offset_tilt + weights.missing + weights.bent <= 0.0 && ok_fraction < 1.0
    {
        p.invalid(w.path.clone(), "all 0", "at least one defect-type weight must be positive when ok_fraction < 1");
    }
    w.finish(p);
    s.finish(p);
    if weights.bent > 0.0 && bend.angle_deg.support()[0] <= 0.0 && bend.angle_deg.support()[1] >= 0.0 {
        p.invalid(
            "sweep.bend.angle_deg",
            {
                let [lo, hi] = bend.angle_deg.support();
                format!("values in [{lo}, {hi}]")
            },
            "can draw 0 (no bend, yet labelled bent): keep the angle on one side of 0, e.g. uniform = [10, 45] and \
             azimuth_deg for the direction",
        );
    }
    let random = RandomSweep { ok_fraction, pins, min_offset, min_tilt_deg, dpos, grad, bend, weights };
    check_min_magnitudes(&random, seed, p);
    Some(Sweep { count, seed, mode: SweepMode::Random(random) })
}

fn random_defaults() -> RandomSweep {
    RandomSweep {
        ok_fraction: 0.2,
        pins: PinSelection::All,
        min_offset: 0.0,
        min_tilt_deg: 0.0,
        dpos: Dist3 { x: Dist::Uniform([-0.2, 0.2]), y: Dist::Uniform([-0.2, 0.2]), z: Dist::Uniform([-0.5, 0.0]) },
        grad: Dist2 { x: Dist::Uniform([-20.0, 20.0]), y: Dist::Uniform([-20.0, 20.0]) },
        bend: BendDists {
            height: Dist::Uniform([0.5, 1.5]),
            angle_deg: Dist::Uniform([10.0, 45.0]),
            azimuth_deg: Dist::Uniform([0.0, 360.0]),
        },
        weights: DefectWeights { offset: 1.0, tilt: 1.0, offset_tilt: 1.0, missing: 0.5, bent: 0.0 },
    }
}

/// A minimum magnitude must be reachable, and reached often enough that redrawing (bounded, see
/// [`super::draw::MAX_REDRAWS`]) cannot realistically run out: checked here on a fixed trial stream.
fn check_min_magnitudes(sweep: &RandomSweep, seed: u64, p: &mut Problems) {
    use super::draw::{TRIAL_DRAWS, TRIAL_MIN_HITS, offset_trials, tilt_deg, tilt_trials};
    let w = &sweep.weights;
    if sweep.min_offset > 0.0 && w.offset + w.offset_tilt > 0.0 {
        let d = &sweep.dpos;
        let largest = (d.x.max_abs().powi(2) + d.y.max_abs().powi(2) + d.z.max_abs().powi(2)).sqrt();
        let hits = offset_trials(sweep, seed);
        if largest < sweep.min_offset {
            p.invalid(
                "sweep.min_offset",
                sweep.min_offset,
                format!("no offset reaches it: the largest |dpos| sweep.dpos allows is {largest:.4}"),
            );
        } else if hits < TRIAL_MIN_HITS {
            p.invalid(
                "sweep.min_offset",
                sweep.min_offset,
                format!("only {hits} of {TRIAL_DRAWS} trial draws of sweep.dpos reach it; widen sweep.dpos or lower min_offset"),
            );
        }
    }
    if sweep.min_tilt_deg > 0.0 && w.tilt + w.offset_tilt > 0.0 {
        let largest = tilt_deg([sweep.grad.x.max_abs(), sweep.grad.y.max_abs()]);
        let hits = tilt_trials(sweep, seed);
        if largest < sweep.min_tilt_deg {
            p.invalid(
                "sweep.min_tilt_deg",
                sweep.min_tilt_deg,
                format!("no tilt reaches it: the largest tilt sweep.grad allows is {largest:.4}°"),
            );
        } else if hits < TRIAL_MIN_HITS {
            p.invalid(
                "sweep.min_tilt_deg",
                sweep.min_tilt_deg,
                format!("only {hits} of {TRIAL_DRAWS} trial draws of sweep.grad reach it; widen sweep.grad or lower min_tilt_deg"),
            );
        }
    }
}

/// `"all"`, a list of `[x, y]`, or `{ kind = "square" | "round" | "triangle" | "mesh", x = [min, max], y = [min, max] }`.
fn read_pins(path: &str, v: Option<&Value>, layout: &Layout, p: &mut Problems) -> PinSelection {
    let before = p.0.len();
    let selection = match v {
        None => PinSelection::All,
        Some(Value::String(a)) if a == "all" => PinSelection::All,
        Some(Value::Array(items)) if !items.is_empty() => PinSelection::List(
            items.iter().enumerate().filter_map(|(i, v)| read_pin(&format!("{path}[{i}]"), v, layout, p)).collect(),
        ),
        Some(Value::Table(t)) => {
            let mut s = Section::of_table(path.to_string(), t);
            let choices: Vec<(&str, Option<PinKind>)> = PinKind::ALL.iter().map(|k| (k.name(), Some(*k))).collect();
            let kind = s.choice("kind", None, &choices, p);
            let x = read_span(&mut s, "x", layout.columns, p);
            let y = read_span(&mut s, "y", layout.rows, p);
            s.finish(p);
            PinSelection::Where { kind, x, y }
        }
        Some(other) => {
            p.push(
                path,
                ProblemKind::WrongType {
                    expected: "\"all\", a non-empty list of [x, y], or { kind = …, x = [min, max], y = [min, max] }"
                        .into(),
                    found: show(other),
                },
            );
            PinSelection::All
        }
    };
    if p.0.len() == before && selection.candidates(layout).is_empty() {
        p.invalid(path, v.map(show).unwrap_or_default(), "selects no terminal of the layout");
    }
    selection
}

/// An inclusive index range `[min, max]` within `0..n`.
fn read_span(s: &mut Section<'_>, key: &'static str, n: u32, p: &mut Problems) -> Option<[u32; 2]> {
    let path = s.key_path(key);
    let r = s.get(key).and_then(|v| super::schema::floats_value::<2>(&path, v, 0.0, f64::from(n - 1), p))?;
    if r.iter().any(|v| v.fract() != 0.0) || r[0] > r[1] {
        p.invalid(&path, format!("[{}, {}]", r[0], r[1]), "needs two whole numbers, min <= max");
        return None;
    }
    Some([r[0] as u32, r[1] as u32])
}

fn read_grid(mut s: Section<'_>, layout: &Layout, p: &mut Problems) -> Option<Grid> {
    let before = p.0.len();
    let types_path = s.key_path("types");
    let types = match s.get("types") {
        None => vec![DefectType::OffsetTilt],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let t = v.as_str().and_then(DefectType::from_name);
                if t.is_none() {
                    p.push(
                        format!("{types_path}[{i}]"),
                        ProblemKind::BadChoice {
                            value: show(v),
                            allowed: DefectType::ALL.iter().map(|t| format!("{:?}", t.name())).collect(),
                        },
                    );
                }
                t
            })
            .collect(),
        Some(other) => {
            p.push(
                &types_path,
                ProblemKind::WrongType { expected: "a non-empty list of defect types".into(), found: found(other) },
            );
            Vec::new()
        }
    };
    let mut axis = |key: &'static str, limit: f64, p: &mut Problems| read_axis(&mut s, key, [-limit, limit], 0.0, p);
    let dpos_x = axis("dpos_x", MAX_DPOS, p);
    let dpos_y = axis("dpos_y", MAX_DPOS, p);
    let dpos_z = axis("dpos_z", MAX_DPOS, p);
    let grad_x = axis("grad_x", MAX_GRAD_DEG, p);
    let grad_y = axis("grad_y", MAX_GRAD_DEG, p);
    let bend = BendAxes {
        bend_height: read_axis(&mut s, "bend_height", [0.0, MAX_BEND_HEIGHT], 1.0, p),
        bend_angle_deg: read_axis(&mut s, "bend_angle_deg", [-MAX_BEND_DEG, MAX_BEND_DEG], 0.0, p),
        bend_azimuth_deg: read_axis(&mut s, "bend_azimuth_deg", [-MAX_AZIMUTH_DEG, MAX_AZIMUTH_DEG], 0.0, p),
    };
    let bend = types.contains(&DefectType::Bent).then_some(bend);
    let repeat = s.int("repeat", 1, 1, MAX_SWEEP_COUNT, p) as u64;
    let pins_path = s.key_path("pins");
    let pins = read_pins(&pins_path, s.get("pins"), layout, p);
    s.finish(p);
    (p.0.len() == before).then_some(Grid { types, dpos_x, dpos_y, dpos_z, grad_x, grad_y, bend, repeat, pins })
}

/// Most values one grid axis may list (a guard against a mistyped step).
pub const MAX_AXIS_VALUES: f64 = 100_000.0;

/// A grid axis: a number, a list of numbers, or `{ from, to, step }` (to included when it falls on a
/// step), each value within `[lo, hi]`; `[default]` when absent. Values are rounded to 1e-9 so that a
/// stepped 0 is exactly 0.
fn read_axis(s: &mut Section<'_>, key: &'static str, [lo, hi]: [f64; 2], default: f64, p: &mut Problems) -> Vec<f64> {
    let path = s.key_path(key);
    let in_range = |i: Option<usize>, x: f64, p: &mut Problems| {
        let ok = (lo..=hi).contains(&x);
        if !ok {
            let at = i.map_or(path.clone(), |i| format!("{path}[{i}]"));
            p.out_of_range(at, x, format!("{lo}..={hi}"));
        }
        ok
    };
    match s.get(key) {
        None => vec![default],
        Some(v) if number(v).is_some() => number(v).filter(|x| in_range(None, *x, p)).into_iter().collect(),
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match number(item) {
                    Some(x) if in_range(Some(i), x, p) => out.push(x),
                    Some(_) => {}
                    None => p.push(
                        format!("{path}[{i}]"),
                        ProblemKind::WrongType { expected: "a number".into(), found: found(item) },
                    ),
                }
            }
            out
        }
        Some(Value::Table(t)) => {
            let mut r = Section::of_table(path.clone(), t);
            let from = r.f64("from", 0.0, lo, hi, p);
            let to = r.f64("to", 0.0, lo, hi, p);
            let step = r.f64("step", 1.0, 0.0, hi - lo, p);
            for k in ["from", "to", "step"] {
                if !t.contains_key(k) {
                    p.push(r.key_path(k), ProblemKind::Missing { expected: "a number".into() });
                }
            }
            r.finish(p);
            if step <= 0.0 || to < from {
                p.invalid(
                    &path,
                    format!("{{ from = {from}, to = {to}, step = {step} }}"),
                    "needs from <= to and a positive step",
                );
                return Vec::new();
            }
            let n = ((to - from) / step + 1e-9).floor() + 1.0;
            if n > MAX_AXIS_VALUES {
                p.invalid(&path, format!("{n} values"), format!("at most {MAX_AXIS_VALUES} values per axis"));
                return Vec::new();
            }
            (0..n as u64).map(|k| ((from + k as f64 * step) * 1e9).round() / 1e9).collect()
        }
        Some(other) => {
            p.push(
                &path,
                ProblemKind::WrongType {
                    expected: "a number, a non-empty list of numbers, or { from, to, step }".into(),
                    found: found(other),
                },
            );
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Scene;
    use std::path::Path;

    #[test]
    fn resolved_sweeps_load_back_to_the_same_scene() {
        for text in [
            "[sweep]\nmode = \"grid\"\n[sweep.grid]\ntypes = [\"tilt\", \"missing\"]\ngrad_x = { from = -20, to = 20, step = 5 }\nrepeat = 3\npins = { kind = \"round\", y = [2, 5] }",
            "[randomize]\nroll_deg = [-5, 5]\npin_hsv = [10, 0.1, 0.1]\nnoise_sd = { fixed = 2 }\n[sweep]\nmin_tilt_deg = 3\npins = { x = [1, 2] }\n[sweep.grad]\nx = { normal = [0, 5], clamp = [-9, 9] }\ny = { choice = [-1, 1], weights = [1, 3] }\n[sweep.dpos]\nz = -0.1",
            "[sweep]\nmode = \"grid\"\n[sweep.grid]\ntypes = [\"bent\"]\nbend_height = [0.5, 1.5]\nbend_angle_deg = { from = 10, to = 30, step = 10 }",
            "[sweep]\n[sweep.weights]\nbent = 2\n[sweep.bend]\nangle_deg = { normal = [30, 5], clamp = [10, 50] }",
            "[sweep]\n[sweep.bend]\nheight = 0.7",
            "[[case]]\nname = \"b\"\ndefect = { pin = [0, 3], grad = [5, 0], bend = { height = 0.5, angle_deg = -30, azimuth_deg = 45 } }",
        ] {
            let s = Scene::parse(text, Path::new("t.toml"), &[]).unwrap();
            let again =
                Scene::parse(&s.to_toml(), Path::new("r.toml"), &[]).unwrap_or_else(|e| panic!("{e}\n{}", s.to_toml()));
            assert_eq!(s, again);
        }
    }
}
