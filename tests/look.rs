//! How close pinsynth's default look is to Blender's path tracer: one test per Cycles reference found in
//! `tests/data/look/<set>/` (`look.json` lists the cases, `look_<case>.png` is Cycles' render,
//! `mask_<case>.png` Blender's ID mask, `view.json` the camera and sun when not the default). Each test
//! renders the same scene with the default settings and measures the PSNR over the connector region
//! (Blender's mask > 0 grown by 3 pixels) against the bound in `<set>/bounds.toml`. On failure
//! `expected | diff (×4) | actual` goes to `tests/diffs/look-<set>-<case>.png`.
//!
//! `public/` holds the spec's 6 cases (1024 samples); the other sets were made with
//! `tests/data/look/make_refs.sh` (512 samples, other cameras, suns, layouts and image sizes).

mod common;

use libtest_mimic::{Arguments, Failed, Trial};
use pinsynth::pipeline::FrameMaker;
use pinsynth::spec::Scene;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/look").join(rel)
}

/// Pixels within this distance (Chebyshev) of Blender's mask count as the connector region.
const GROW_PX: i64 = 3;

fn main() {
    let args = Arguments::from_args();
    let mut sets: Vec<PathBuf> = std::fs::read_dir(data(""))
        .expect("tests/data/look")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("look.json").exists())
        .collect();
    sets.sort();
    let mut trials = Vec::new();
    for set in sets {
        let look: Value = serde_json::from_str(&std::fs::read_to_string(set.join("look.json")).expect("look.json"))
            .expect("look.json parses");
        let bounds: toml::Table = std::fs::read_to_string(set.join("bounds.toml"))
            .map(|s| s.parse().expect("bounds.toml parses"))
            .unwrap_or_default();
        let set_name = set.file_name().expect("name").to_string_lossy().to_string();
        for case in look["cases"].as_array().expect("cases").iter().cloned() {
            let name = case["name"].as_str().expect("name").to_string();
            let bound = bounds.get(&name).and_then(|v| v.as_float());
            let (set, look) = (set.clone(), look.clone());
            trials.push(Trial::test(format!("{set_name}::{name}"), move || check(&set, &look, &case, bound)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn arr(v: &Value) -> String {
    let items: Vec<String> =
        v.as_array().expect("array").iter().map(|x| format!("{}", x.as_f64().expect("num"))).collect();
    format!("[{}]", items.join(", "))
}

/// The pinsynth scene of a Cycles reference: its size, layout, camera, sun and defect.
pub fn scene_toml(look: &Value, case: &Value) -> String {
    let res = look["res"].as_array().expect("res");
    let mut t = format!(
        "[image]\nwidth = {}\nheight = {}\n[layout]\nkind = \"{}\"\n",
        res[0],
        res[1],
        look["layout"].as_str().unwrap_or("mixed")
    );
    let view = &look["view"];
    if let Some(c) = view.get("camera") {
        t += "[camera]\n";
        for key in ["location", "look_at", "up"] {
            if let Some(v) = c.get(key) {
                t += &format!("{key} = {}\n", arr(v));
            }
        }
        if let Some(f) = c.get("fov_y_deg") {
            t += &format!("fov_y_deg = {}\n", f.as_f64().expect("fov"));
        }
    }
    if let Some(s) = view.get("sun_rotation_deg") {
        t += &format!("[light]\nsun_rotation_deg = {}\n", arr(s));
    }
    t += "[[case]]\nname = \"c\"\n";
    if let Some(d) = case["defect"].as_object() {
        t += &common::defect_line(d);
    }
    t
}

fn check(set: &Path, look: &Value, case: &Value, bound: Option<f64>) -> Result<(), Failed> {
    let name = case["name"].as_str().unwrap_or_default();
    let toml = scene_toml(look, case);
    let scene = Scene::parse(&toml, Path::new("look-case.toml"), &[])?;
    let out = FrameMaker::new(&scene)?.frame(0)?;
    let reference = image::open(set.join(format!("look_{name}.png")))?.to_rgb8();
    let mask = image::open(set.join(format!("mask_{name}.png")))?.to_luma8();
    let (w, h) = (out.pixels.width as i64, out.pixels.height as i64);
    if (reference.width() as i64, reference.height() as i64) != (w, h) {
        return Err(format!("reference is {}x{}, render {w}x{h}", reference.width(), reference.height()).into());
    }
    let db = psnr_region(reference.as_raw(), &out.pixels.rgb, mask.as_raw(), w, h);
    let set_name = set.file_name().unwrap_or_default().to_string_lossy();
    eprintln!("look {set_name}::{name}: {db:.2} dB");
    let failed = bound.is_none_or(|b| db < b);
    if failed || std::env::var_os("LOOK_PANELS").is_some() {
        write_panels(&format!("look-{set_name}-{name}"), w as u32, h as u32, reference.as_raw(), &out.pixels.rgb);
    }
    let Some(bound) = bound else {
        return Err(format!("{db:.2} dB; no bound for {name} in {}", set.join("bounds.toml").display()).into());
    };
    if db < bound {
        return Err(format!("PSNR {db:.2} dB over the connector region, bound {bound} dB").into());
    }
    Ok(())
}

/// PSNR (8-bit sRGB, all channels) over the pixels within [`GROW_PX`] of a non-zero mask pixel.
pub fn psnr_region(a: &[u8], b: &[u8], mask: &[u8], w: i64, h: i64) -> f64 {
    let (mut sum, mut n) = (0.0f64, 0u64);
    for y in 0..h {
        for x in 0..w {
            let near = (-GROW_PX..=GROW_PX).any(|dy| {
                (-GROW_PX..=GROW_PX).any(|dx| {
                    let (u, v) = (x + dx, y + dy);
                    u >= 0 && v >= 0 && u < w && v < h && mask[(v * w + u) as usize] > 0
                })
            });
            if near {
                let i = ((y * w + x) * 3) as usize;
                for c in 0..3 {
                    let d = a[i + c] as f64 - b[i + c] as f64;
                    sum += d * d;
                }
                n += 3;
            }
        }
    }
    10.0 * (255.0f64 * 255.0 / (sum / n.max(1) as f64).max(1e-12)).log10()
}

/// Writes `expected | diff | actual` side by side (diff = |expected - actual| × 4).
fn write_panels(name: &str, w: u32, h: u32, expected: &[u8], actual: &[u8]) {
    common::write_diff_sheet(name, (w, h), expected, actual, |e, a| {
        [0, 1, 2].map(|c| e[c].abs_diff(a[c]).saturating_mul(4))
    });
}
