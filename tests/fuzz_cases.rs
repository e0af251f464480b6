//! The fuzz targets' properties (fuzz/README.md), run on a small bounded number of inputs so CI stays
//! fast: every committed seed and every input that once crashed a target (`fuzz/regressions/`), and a
//! few thousand seeded mutations of `scenes/reference.toml`, `--set` overrides and augment configs.
//! Each gives a valid scene or a clear error, never a panic, and a valid scene's resolved form reads
//! back to the same scene: validate(resolved(scene)) == scene.

use pinsynth::augment::AugmentSpec;
use pinsynth::spec::Scene;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

const REFERENCE: &str = include_str!("../scenes/reference.toml");

/// Mutations per test: a few thousand by default; `PINSYNTH_FUZZ_CASES=N` runs N (a long local run).
fn cases(default: usize) -> usize {
    std::env::var("PINSYNTH_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The scene property: parse; if valid, the resolved TOML parses to an equal scene.
fn scene_property(text: &str, sets: &[String]) -> bool {
    match Scene::parse(text, Path::new("fuzz.toml"), sets) {
        Ok(scene) => {
            let again = Scene::parse(&scene.to_toml(), Path::new("resolved.toml"), &[])
                .unwrap_or_else(|e| panic!("resolved scene does not read back: {e}\n{}", scene.to_toml()));
            assert_eq!(scene, again, "validate(resolved(scene)) != scene for\n{text}\n{sets:?}");
            let planner = pinsynth::params::Planner::new(&scene);
            let terminals = pinsynth::geometry::Terminals::new(&scene.pin);
            for index in [0, scene.image_count() - 1] {
                let params = planner.image(index);
                let _ = pinsynth::geometry::pose(&scene, &terminals, &params);
            }
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

fn augment_property(text: &str) {
    let Ok((spec, problems)) = AugmentSpec::parse_toml(text, "fuzz.toml") else { return };
    if let Ok(aug) = spec.validate_with("fuzz.toml", problems) {
        let mut rng = ChaCha8Rng::seed_from_u64(text.len() as u64);
        for (w, h) in [(1, 1), (19, 40), (640, 480)] {
            let _ = aug.draw(&mut rng, w, h);
        }
    }
}

fn files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<PathBuf> = match std::fs::read_dir(&root) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

#[test]
fn committed_seeds_and_former_crashes_keep_their_properties() {
    let mut n = 0;
    for target in ["scene", "overrides", "augment_config"] {
        for dir in [format!("fuzz/seeds/{target}"), format!("fuzz/regressions/{target}")] {
            for path in files(&dir) {
                let bytes = std::fs::read(&path).unwrap();
                let Ok(text) = std::str::from_utf8(&bytes) else { continue };
                match target {
                    "scene" => {
                        scene_property(text, &[]);
                    }
                    "overrides" => {
                        let sets: Vec<String> = text.split('\n').map(str::to_string).collect();
                        scene_property(REFERENCE, &sets);
                    }
                    _ => augment_property(text),
                }
                n += 1;
            }
        }
    }
    assert!(n >= 40, "only {n} seeds found");
}

/// Pieces a mutation may insert: keys, section headers and values of the scene schema.
const TOKENS: &[&str] = &[
    "[image]",
    "[layout]",
    "[camera]",
    "[randomize]",
    "[sweep]",
    "[sweep.grid]",
    "[[case]]",
    "[split]",
    "[balance]",
    "width = ",
    "count = ",
    "camera_jitter = ",
    "look_at = ",
    "up = ",
    "fov_y_deg = ",
    "name = \"",
    "pin = ",
    "grad = ",
    "dpos = ",
    "missing = true",
    "mode = \"grid\"",
    "pattern = [\"S.R\"]",
    "kind = \"pattern\"",
    "{ normal = [0, 1], clamp = [-1, 1] }",
    "{ choice = [1, 2], weights = [0, 0] }",
    "{ from = -20, to = 20, step = 0 }",
    "[0, 0, 0]",
    "[1e308, -1e308]",
    "nan",
    "inf",
    "-0.0",
    "0",
    "9223372036854775807",
    "-1",
    "\"\"",
    "\n",
    "=",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "\"",
];

fn mutate(base: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..rng.random_range(1..=8) {
        let at = if v.is_empty() { 0 } else { rng.random_range(0..=v.len()) };
        match rng.random_range(0..6) {
            0 if !v.is_empty() => {
                let end = (at + rng.random_range(1..=64)).min(v.len());
                v.drain(at.min(v.len())..end);
            }
            1 => {
                let t = TOKENS[rng.random_range(0..TOKENS.len())];
                v.splice(at..at, t.bytes());
            }
            2 if at < v.len() => v[at] = rng.random(),
            3 if at < v.len() => v[at] = b"0123456789.-+e[]{}=,\"\n "[rng.random_range(0..23)],
            4 => {
                // Copy a line of the base somewhere else (duplicate keys and sections).
                let lines: Vec<&[u8]> = base.split(|b| *b == b'\n').collect();
                let line = lines[rng.random_range(0..lines.len())];
                v.splice(at..at, line.iter().copied().chain([b'\n']));
            }
            _ => v.truncate(at),
        }
    }
    v
}

#[test]
fn mutated_reference_scenes_give_a_scene_or_an_error() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let bases: Vec<Vec<u8>> = ["scenes/reference.toml", "scenes/randomized.toml", "scenes/square_tilt_sweep.toml"]
        .iter()
        .map(|p| std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap())
        .collect();
    let mut valid = 0;
    let n = cases(3000);
    for i in 0..n {
        let bytes = mutate(&bases[i % bases.len()], &mut rng);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            valid += usize::from(scene_property(text, &[]));
        }
    }
    // Mostly small edits: a good share must stay valid, or the properties above were barely exercised.
    assert!(valid > n / 20, "only {valid} of {n} mutations were valid scenes");
}

#[test]
fn random_overrides_give_a_scene_or_an_error() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let n = cases(2000);
    let keys = [
        "image.width",
        "image.antialias",
        "layout.kind",
        "layout.rows",
        "layout.pattern",
        "camera.up",
        "camera.location",
        "camera.near",
        "sweep.count",
        "sweep.mode",
        "sweep.grid.grad_x",
        "sweep.dpos.x",
        "sweep.pins",
        "randomize.camera_jitter",
        "randomize.look_at_jitter",
        "randomize.roll_deg",
        "randomize.fov_y_deg",
        "case",
        "split.train",
        "balance.ok_per_ng",
        "",
        ".",
        "a..b",
        "sweep",
    ];
    for _ in 0..n {
        let sets: Vec<String> = (0..rng.random_range(1..=3))
            .map(|_| {
                let key = keys[rng.random_range(0..keys.len())];
                let value =
                    String::from_utf8_lossy(&mutate(TOKENS[rng.random_range(0..TOKENS.len())].as_bytes(), &mut rng))
                        .into_owned();
                format!("{key}={value}")
            })
            .collect();
        scene_property(REFERENCE, &sets);
    }
}

#[test]
fn mutated_augment_configs_give_options_or_an_error() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let base =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/augment_config/keras.toml")).unwrap();
    for _ in 0..cases(2000) {
        if let Ok(text) = String::from_utf8(mutate(&base, &mut rng)) {
            augment_property(&text);
        }
    }
}
