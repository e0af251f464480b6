//! Per-image parameters: a pure function of the scene, its seed and the image index.
//!
//! Image `i` gets its own ChaCha8 stream keyed by (seed, i), so it is the same whether 10 or 10⁶ images
//! are made, in any order, on any thread. Cases come first (indices 0..cases), then the sweep: a
//! random one ([`dist`]) or a grid ([`grid`]).

mod grid;

use crate::conventions::{Bend, DefectType, PinKind};
use crate::seed;
use crate::spec::draw;
use crate::spec::{Case, DefectSpec, RandomSweep, Scene, SweepMode, sweep_id_width};
use rand::RngExt;

/// One defective terminal, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Defect {
    pub pin: [u32; 2],
    pub kind: PinKind,
    pub dpos: [f64; 3],
    pub grad: [f64; 2],
    pub missing: bool,
    /// A bent terminal (a bend of angle 0 is no bend: the sweeps never make one).
    pub bend: Option<Bend>,
}

impl Defect {
    /// Missing, else bent (whatever else moves), else by what moves.
    pub fn defect_type(&self) -> DefectType {
        let moved = self.dpos.iter().any(|v| *v != 0.0);
        let tilted = self.grad.iter().any(|v| *v != 0.0);
        match (self.missing, moved, tilted) {
            (true, _, _) => DefectType::Missing,
            _ if self.bend.is_some() => DefectType::Bent,
            (false, true, true) => DefectType::OffsetTilt,
            (false, false, true) => DefectType::Tilt,
            _ => DefectType::Offset,
        }
    }
}

/// What the scene's cases and sweep decide for image `index`: its id, the seed it derives from and
/// its defect. The rest of an image's parameters (randomization, split, balance) are added by
/// [`crate::params`].
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    pub index: u64,
    pub id: String,
    /// The scene seed this image was derived from.
    pub seed: u64,
    pub defect: Option<Defect>,
}

/// Id, seed and defect of image `index` (0 ≤ index < [`Scene::image_count`]).
pub fn draw(scene: &Scene, index: u64) -> Drawn {
    let n_cases = scene.cases.len() as u64;
    if index < n_cases {
        return case_params(scene, &scene.cases[index as usize], index);
    }
    let sweep = scene.sweep.as_ref().expect("index < image_count implies a sweep"); // ok: caller contract, checked by image_count
    let i = index - n_cases;
    Drawn {
        index,
        id: format!("{:0width$}", i, width = sweep_id_width(sweep.count)),
        seed: sweep.seed,
        defect: match &sweep.mode {
            SweepMode::Grid(g) => grid::grid_defect(scene, g, i),
            SweepMode::Random(r) => sweep_defect(scene, r, sweep.seed, i),
        },
    }
}

fn case_params(scene: &Scene, case: &Case, index: u64) -> Drawn {
    Drawn { index, id: case.name.clone(), seed: scene.seed(), defect: case.defect.as_ref().map(|d| resolve(scene, d)) }
}

fn resolve(scene: &Scene, d: &DefectSpec) -> Defect {
    let kind = scene.layout.kind_at(d.pin[0], d.pin[1]).unwrap_or(PinKind::Square); // validation guarantees a terminal
    Defect { pin: d.pin, kind, dpos: d.dpos, grad: d.grad, missing: d.missing, bend: d.bend }
}

/// Image `i` of the sweep is OK iff `floor((i+1)·f) > floor(i·f)`: exactly `floor(count·f)` OK images,
/// evenly spread, decided by the index alone.
pub fn sweep_is_ok(ok_fraction: f64, i: u64) -> bool {
    ((i + 1) as f64 * ok_fraction).floor() > (i as f64 * ok_fraction).floor()
}

fn sweep_defect(scene: &Scene, sweep: &RandomSweep, sweep_seed: u64, i: u64) -> Option<Defect> {
    if sweep_is_ok(sweep.ok_fraction, i) {
        return None;
    }
    let mut rng = seed::image_stream(sweep_seed, i, seed::DEFECT);
    // Draw order is part of the format: type, pin, then the components the type uses (offset before
    // tilt), each redrawn until it reaches its minimum magnitude.
    let w = &sweep.weights;
    let ty = DefectType::ALL[draw::pick(&[w.offset, w.tilt, w.offset_tilt, w.missing, w.bent], &mut rng)];
    let candidates = sweep.pins.candidates(&scene.layout);
    let pin = candidates[rng.random_range(0..candidates.len())];
    let (dpos, grad) = match ty {
        DefectType::Missing | DefectType::Bent => ([0.0; 3], [0.0; 2]),
        DefectType::Offset => (draw::offset(sweep, &mut rng), [0.0; 2]),
        DefectType::Tilt => ([0.0; 3], draw::tilt(sweep, &mut rng)),
        DefectType::OffsetTilt => {
            let d = draw::offset(sweep, &mut rng);
            (d, draw::tilt(sweep, &mut rng))
        }
    };
    let kind = scene.layout.kind_at(pin[0], pin[1]).unwrap_or(PinKind::Square);
    let bend = (ty == DefectType::Bent).then(|| draw::bend(sweep, &mut rng));
    Some(Defect { pin, kind, dpos, grad, missing: ty == DefectType::Missing, bend })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scene(text: &str) -> Scene {
        Scene::parse(text, Path::new("t.toml"), &[]).unwrap()
    }

    #[test]
    fn ok_fraction_is_exact() {
        let n = (0..1000).filter(|&i| sweep_is_ok(0.2, i)).count();
        assert_eq!(n, 200);
        assert_eq!((0..7).filter(|&i| sweep_is_ok(0.0, i)).count(), 0);
        assert_eq!((0..7).filter(|&i| sweep_is_ok(1.0, i)).count(), 7);
    }

    #[test]
    fn image_i_does_not_depend_on_count() {
        let small = scene("[sweep]\ncount = 10\nseed = 7");
        let big = scene("[sweep]\ncount = 100000\nseed = 7");
        for i in 0..10 {
            assert_eq!(draw(&small, i).defect, draw(&big, i).defect);
        }
        assert_eq!(draw(&small, 3).id, "000003");
    }

    #[test]
    fn sampled_defects_stay_in_their_ranges_and_types() {
        let s = scene(
            "[sweep]\ncount = 400\nseed = 1\nok_fraction = 0\n[sweep.weights]\nmissing = 0\noffset = 0\noffset_tilt = 0\n[sweep.grad]\nx = [5, 6]\ny = [-2, -1]",
        );
        for i in 0..400 {
            let d = draw(&s, i).defect.unwrap();
            assert_eq!(d.defect_type(), DefectType::Tilt);
            assert!((5.0..=6.0).contains(&d.grad[0]) && (-2.0..=-1.0).contains(&d.grad[1]));
            assert_eq!(d.dpos, [0.0; 3]);
        }
    }

    #[test]
    fn grid_counts_every_combination_once() {
        // 9 middle-column terminals × gx in -20..=20 step 5 (9 values) × 2 repeats.
        let s = scene(
            "[layout]\nkind = \"square\"\n[sweep]\nmode = \"grid\"\n[sweep.grid]\ntypes = [\"tilt\"]\ngrad_x = { from = -20, to = 20, step = 5 }\nrepeat = 2\npins = { x = [1, 1] }",
        );
        assert_eq!(s.image_count(), 9 * 9 * 2);
        let mut seen = std::collections::BTreeSet::new();
        let mut ok = 0;
        for i in 0..s.image_count() {
            match draw(&s, i).defect {
                None => ok += 1,
                Some(d) => {
                    assert_eq!((d.pin[0], d.grad[1], d.dpos), (1, 0.0, [0.0; 3]));
                    assert!(seen.insert((d.pin, (d.grad[0] * 10.0) as i64, i % 2)), "image {i} repeats a combination");
                }
            }
        }
        assert_eq!(ok, 9 * 2, "gx = 0 moves nothing: an OK image per terminal and repeat");
        assert_eq!(seen.len(), 9 * 8 * 2);
        // Types add up: offset (2 × 3 × 1) + missing (1) per terminal, for every round terminal of the mixed layout.
        let s = scene(
            "[sweep]\nmode = \"grid\"\n[sweep.grid]\ntypes = [\"offset\", \"missing\"]\ndpos_x = [-0.1, 0.1]\ndpos_y = [-0.1, 0, 0.1]\ngrad_x = [5, 10]\npins = { kind = \"round\" }",
        );
        let round = s.layout.terminals().filter(|t| t.2 == PinKind::Round).count() as u64;
        assert_eq!(s.image_count(), round * 7);
        let missing = (0..s.image_count()).filter(|&i| draw(&s, i).defect.is_some_and(|d| d.missing)).count();
        assert_eq!(missing as u64, round);
    }

    #[test]
    fn min_magnitudes_hold_and_distributions_stay_in_support() {
        let s = scene(
            "[sweep]\ncount = 300\nseed = 3\nok_fraction = 0\nmin_tilt_deg = 3\nmin_offset = 0.1\npins = { kind = \"square\", y = [2, 5] }\n[sweep.grad]\nx = { normal = [0, 4], clamp = [-10, 10] }\ny = { choice = [-1, 0, 1], weights = [1, 2, 1] }\n[sweep.dpos]\nz = { fixed = 0 }",
        );
        for i in 0..300 {
            let d = draw(&s, i).defect.unwrap();
            assert_eq!(d.kind, PinKind::Square);
            assert!((2..=5).contains(&d.pin[1]));
            let t = d.defect_type();
            if matches!(t, DefectType::Tilt | DefectType::OffsetTilt) {
                assert!(draw::tilt_deg(d.grad) >= 3.0, "image {i}: {:?}", d.grad);
                assert!(d.grad[0].abs() <= 10.0 && [-1.0, 0.0, 1.0].contains(&d.grad[1]));
            }
            if matches!(t, DefectType::Offset | DefectType::OffsetTilt) {
                assert!(draw::offset_norm(d.dpos) >= 0.1, "image {i}: {:?}", d.dpos);
                assert_eq!(d.dpos[2], 0.0);
            }
        }
    }

    #[test]
    fn sweep_draws_are_pinned() {
        // The draws of a sweep are part of the format: datasets made by earlier versions (before
        // distributions, minimum magnitudes and grids existed) must come out the same. Golden values,
        // not a second copy of the sampler; never change them.
        use PinKind::{Round, Square};
        let d = |pin: [u32; 2], kind, dpos: [f64; 3], grad: [f64; 2], missing| {
            Some(Defect { pin, kind, dpos, grad, missing, bend: None })
        };
        let z3 = [0.0; 3];
        let z2 = [0.0; 2];
        let golden = [
            (
                "[sweep]\ncount = 500\nseed = 1",
                0,
                d([1, 2], Square, z3, [-17.54413640787524, -15.011229834250237], false),
            ),
            ("[sweep]\ncount = 500\nseed = 1", 1, d([0, 2], Round, z3, z2, true)),
            (
                "[sweep]\ncount = 500\nseed = 1",
                2,
                d([2, 6], Square, z3, [-3.7647884120339086, -11.472073761831085], false),
            ),
            ("[sweep]\ncount = 500\nseed = 1", 3, d([2, 4], Square, z3, z2, true)),
            (
                "[sweep]\ncount = 500\nseed = 1",
                7,
                d([2, 3], Square, [0.05914110087178093, -0.1095745957747612, -0.3819074836830155], z2, false),
            ),
            (
                "[sweep]\ncount = 500\nseed = 1",
                123,
                d([2, 1], Square, [0.1399104328712215, 0.026276891039085093, -0.36766399547415163], z2, false),
            ),
            ("[sweep]\ncount = 500\nseed = 1", 499, None),
            (
                "[sweep]\ncount = 500\nseed = 9\n[sweep.grad]\ny = [0, 0]",
                0,
                d([1, 2], Square, z3, [-19.96772883157459, 0.0], false),
            ),
            (
                "[sweep]\ncount = 500\nseed = 9\n[sweep.grad]\ny = [0, 0]",
                1,
                d([1, 0], Round, z3, [9.226967300295705, 0.0], false),
            ),
            (
                "[sweep]\ncount = 500\nseed = 9\n[sweep.grad]\ny = [0, 0]",
                7,
                d(
                    [2, 1],
                    Square,
                    [0.1119252310522762, -0.06652064743107183, -0.009130637161764099],
                    [17.925835208439565, 0.0],
                    false,
                ),
            ),
            (
                "[sweep]\ncount = 500\nseed = 9\n[sweep.grad]\ny = [0, 0]",
                123,
                d([2, 4], Square, [-0.1769558295599466, -0.050732111156891246, -0.35770710346003], z2, false),
            ),
        ];
        for (text, i, want) in golden {
            assert_eq!(draw(&scene(text), i).defect, want, "{text}: image {i}");
        }
    }

    #[test]
    fn random_bends_stay_in_their_ranges() {
        let s = scene(
            "[sweep]\ncount = 300\nseed = 4\nok_fraction = 0\n[sweep.weights]\noffset = 0\ntilt = 0\noffset_tilt = 0\nmissing = 1\nbent = 3\n[sweep.bend]\nheight = [0.8, 1.2]\nangle_deg = { normal = [-30, 5], clamp = [-40, -20] }\nazimuth_deg = { choice = [0, 90] }",
        );
        let mut bent = 0;
        for i in 0..300 {
            let d = draw(&s, i).defect.unwrap();
            match d.defect_type() {
                DefectType::Bent => {
                    bent += 1;
                    let b = d.bend.unwrap();
                    assert!((0.8..=1.2).contains(&b.height), "{b:?}");
                    assert!((-40.0..=-20.0).contains(&b.angle_deg), "{b:?}");
                    assert!(b.azimuth_deg == 0.0 || b.azimuth_deg == 90.0, "{b:?}");
                    assert_eq!((d.dpos, d.grad, d.missing), ([0.0; 3], [0.0; 2], false));
                }
                DefectType::Missing => assert!(d.bend.is_none()),
                t => panic!("image {i}: {t:?}"),
            }
        }
        // Weights 3 : 1.
        assert!((200..250).contains(&bent), "{bent}");
    }

    #[test]
    fn a_bent_grid_walks_height_angle_and_azimuth() {
        let s = scene(
            "[layout]\nkind = \"triangle\"\n[sweep]\nmode = \"grid\"\n[sweep.grid]\ntypes = [\"bent\", \"tilt\"]\nbend_height = [0.5, 1.5]\nbend_angle_deg = [0, 20, 40]\nbend_azimuth_deg = { from = 0, to = 270, step = 90 }\ngrad_x = [10]\npins = [[1, 4]]",
        );
        // 2 × 3 × 4 bends + 1 tilt.
        assert_eq!(s.image_count(), 25);
        let mut seen = std::collections::HashSet::new();
        for i in 0..24 {
            let d = draw(&s, i).defect;
            let Some(d) = d else {
                continue;
            };
            let b = d.bend.expect("a bend");
            assert_eq!((d.kind, d.defect_type()), (PinKind::Triangle, DefectType::Bent));
            assert!(b.angle_deg != 0.0);
            assert!(seen.insert(((b.height * 10.0) as i64, b.angle_deg as i64, b.azimuth_deg as i64)));
        }
        // The angle-0 combinations (2 heights × 4 azimuths) are OK images.
        assert_eq!(seen.len(), 16);
        assert_eq!(draw(&s, 0).defect, None);
        let last = draw(&s, 23).defect.unwrap().bend.unwrap();
        assert_eq!((last.height, last.angle_deg, last.azimuth_deg), (1.5, 40.0, 270.0));
        assert_eq!(draw(&s, 24).defect.unwrap().defect_type(), DefectType::Tilt);
    }
}
