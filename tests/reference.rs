//! Reference cases, one named test each, discovered on disk:
//! * `blender::<case>`: every case of `tests/data/blender/refs.json` (Blender 3.4.1, 256², mixed layout):
//!   the mask agrees with Blender's on >= 99.8 % of pixels, every terminal's projected top-face centre is
//!   within 0.01 px of Blender's, and the mask label under it is that terminal's.
//! * `blender_geometry::<set>::<case>`: every case of `tests/data/blender-geometry/<set>/refs.json`
//!   (made by `tests/data/blender-geometry/make_refs.sh`: triangular terminals, the mixed rule with
//!   triangles, a housing from an STL file; and, by its `shapes.py`, terminal sizes, pointed and
//!   chamfered tips, the shroud housing and press-fit terminals from an STL file, each set's scene
//!   being its `scene.toml`; the default camera or the oblique one of the set's `view.json`), with
//!   the same bounds, plus the defective terminal's projected bounding box.
//! * `blender_bent::<set>::<case>`: the same for bent terminals (square, round, triangle; default and
//!   oblique camera), `tests/data/blender-bent/` made by its `make_refs.sh` with `bent.py` on top of the
//!   shared `geometry.py`; the top keypoint is the bent top-face centre.
//! * `case::<name>`: every `tests/data/cases/<name>.toml` scene (one image) with `<name>.expect.toml`
//!   (expectations worked out by hand from the closed-form defect rule, projected here with an
//!   independent pinhole formula) and `<name>.mask.png` / `<name>.png` regression references.
//!
//! References are written only with `UPDATE_REFS=1` (and that run fails after writing, so it is never
//! mistaken for a test run); a missing reference fails. On failure
//! `expected | diff | actual` images go to `tests/diffs/`.

mod common;

use libtest_mimic::{Arguments, Failed, Trial};
use pinsynth::pipeline::FrameMaker;
use pinsynth::render::Gpu;
use pinsynth::spec::Scene;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

/// Blender's masks agree with ours on at least this share of pixels (the bound): both sample
/// each pixel centre once, so only edges that pass within rasteriser precision of a centre can differ.
const BLENDER_MASK_AGREEMENT: f64 = 0.998;
/// Projected top-face centres: Blender's refs.json has 6 decimals; our projection is f64.
const TOP_CENTRE_TOLERANCE_PX: f64 = 0.01;
/// Our own mask references: identical on the reference driver (lavapipe); other drivers may snap an
/// edge through a pixel centre the other way, so allow 0.1 % of pixels.
const OWN_MASK_AGREEMENT: f64 = 0.999;
/// Anti-aliased colour references: at most 0.5 % of pixels off by more than 24 (of 255) in a channel,
/// and a mean absolute difference of at most 1.0 (drivers differ in sample positions and rounding).
const COLOR_BAD_PIXEL_SHARE: f64 = 0.005;
const COLOR_BAD_PIXEL_DIFF: u8 = 24;
const COLOR_MEAN_DIFF: f64 = 1.0;

fn main() {
    let args = Arguments::from_args();
    let gpu = Gpu::new().err().map(|e| e.to_string());
    let mut trials = Vec::new();
    let refs: Value = serde_json::from_str(
        &std::fs::read_to_string(data("blender/refs.json")).expect("tests/data/blender/refs.json"),
    )
    .expect("refs.json parses");
    for case in refs["cases"].as_array().expect("cases").iter().cloned() {
        let name = case["name"].as_str().expect("name").to_string();
        trials.push(gpu_trial(format!("blender::{name}"), &gpu, move || blender_case(&case)));
    }
    for (folder, group) in [("blender-geometry", "blender_geometry"), ("blender-bent", "blender_bent")] {
        let mut sets: Vec<PathBuf> = std::fs::read_dir(data(folder))
            .unwrap_or_else(|e| panic!("tests/data/{folder}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("refs.json").is_file())
            .collect();
        sets.sort();
        for dir in sets {
            let set = dir.file_name().expect("set name").to_string_lossy().to_string();
            let refs: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("refs.json")).expect("refs.json"))
                .expect("refs.json parses");
            for case in refs["cases"].as_array().expect("cases").iter().cloned() {
                let name = case["name"].as_str().expect("name").to_string();
                let dir = dir.clone();
                trials.push(gpu_trial(format!("{group}::{set}::{name}"), &gpu, move || geometry_case(&dir, &case)));
            }
        }
    }
    trials.push(gpu_trial("mesh_housing_equal_to_the_box_gives_the_box_mask".into(), &gpu, mesh_housing_equals_box));
    let semantics: Value =
        serde_json::from_str(&std::fs::read_to_string(data("blender/semantics.json")).expect("semantics.json"))
            .expect("semantics.json parses");
    for case in semantics["cases"].as_array().expect("cases").iter().filter(|c| !c["defect"].is_null()).cloned() {
        let name = case["name"].as_str().expect("name").to_string();
        trials.push(Trial::test(format!("semantics::{name}"), move || semantics_case(&case)));
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(data("cases"))
        .expect("tests/data/cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && !p.to_string_lossy().ends_with(".expect.toml"))
        .collect();
    cases.sort();
    for path in cases {
        let name = path.file_stem().expect("stem").to_string_lossy().to_string();
        trials.push(gpu_trial(format!("case::{name}"), &gpu, move || own_case(&path)));
    }
    libtest_mimic::run(&args, trials).exit();
}

/// A trial that needs a GPU adapter. Without one it fails, saying what to install — never a silent
/// pass. The one explicit opt-out, `PINSYNTH_NO_GPU=1`, reports it as ignored with the reason instead.
fn gpu_trial(
    name: String,
    gpu_error: &Option<String>,
    f: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    match gpu_error {
        None => Trial::test(name, f),
        Some(e) => {
            let msg = format!("no Vulkan adapter — install mesa-vulkan-drivers ({e})");
            let opted_out = std::env::var_os("PINSYNTH_NO_GPU").is_some();
            // Ignored only on request, and failing if run anyway (--include-ignored).
            Trial::test(name, move || Err(msg.into())).with_ignored_flag(opted_out)
        }
    }
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn blender_case(case: &Value) -> Result<(), Failed> {
    let toml = "[image]\nwidth = 256\nheight = 256\n[layout]\nkind = \"mixed\"\n";
    compare_with_blender(case, toml, &data("blender"), Path::new("blender-case.toml"), "blender")
}

/// A case of a `tests/data/blender-geometry/<set>`: the scene is made from the set's `geometry.json`
/// (layout, STL housing) and `view.json` (camera).
fn geometry_case(dir: &Path, case: &Value) -> Result<(), Failed> {
    let geometry: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("geometry.json"))?)?;
    let mut toml = String::from("[image]\nwidth = 256\nheight = 256\n");
    // Sets made by shapes.py: the scene fragment Blender built the scene from, read here as is.
    if let Some(fragment) = geometry["scene"].as_str() {
        toml += &std::fs::read_to_string(dir.join(fragment))?;
        toml.push('\n');
    } else {
        toml += "[layout]\n";
    }
    match geometry["layout"].as_str().unwrap_or_default() {
        _ if geometry["scene"].is_string() => {}
        // The original's mixed rule with triangles in place of the cylinders.
        "tri-mixed" => {
            let rows: Vec<String> = (0..9)
                .map(|y| {
                    (0..3)
                        .map(|x| match pinsynth::conventions::mixed_kind(x, y) {
                            pinsynth::conventions::PinKind::Round => 'T',
                            _ => 'S',
                        })
                        .collect()
                })
                .collect();
            toml += &format!("kind = \"pattern\"\npattern = {rows:?}\n");
        }
        other => toml += &format!("kind = \"{other}\"\n"),
    }
    if let Some(stl) = geometry["housing_stl"].as_str() {
        toml += &format!("[housing]\nmesh = \"meshes/{stl}\"\n");
    }
    if let Ok(view) = std::fs::read_to_string(dir.join("view.json")) {
        let view: Value = serde_json::from_str(&view)?;
        let c = &view["camera"];
        toml += &format!(
            "[camera]\nlocation = {}\nlook_at = {}\nup = {}\nfov_y_deg = {}\n",
            c["location"], c["look_at"], c["up"], c["fov_y_deg"]
        );
    }
    // The scene "file" sits in tests/data, so the mesh path is relative to it.
    let set = dir.file_name().unwrap_or_default().to_string_lossy().to_string();
    compare_with_blender(case, &toml, dir, &data("geometry-case.toml"), &format!("geometry-{set}"))
}

/// Renders `scene_toml` with the case's defect and compares mask, top-face centres and the defective
/// terminal's projected bounding box with Blender's.
fn compare_with_blender(
    case: &Value,
    scene_toml: &str,
    dir: &Path,
    scene_path: &Path,
    diff_prefix: &str,
) -> Result<(), Failed> {
    let name = case["name"].as_str().unwrap_or_default();
    let mut toml = format!("{scene_toml}[[case]]\nname = \"c\"\n");
    // gen_scene.py records a missing terminal's defect with zero offsets and no terminal at its place.
    let absent = |d: &serde_json::Map<String, Value>| {
        case["pins"].as_array().is_some_and(|pins| !pins.iter().any(|p| p["x"] == d["x"] && p["y"] == d["y"]))
    };
    if let Some(d) = case["defect"].as_object().filter(|d| absent(d)) {
        toml += &format!("defect = {{ pin = [{}, {}], missing = true }}\n", d["x"], d["y"]);
    } else if let Some(d) = case["defect"].as_object() {
        toml += &common::defect_line(d);
    }
    let scene = Scene::parse(&toml, scene_path, &[])?;
    let out = FrameMaker::new(&scene)?.frame(0)?;
    let reference = image::open(dir.join(case["mask_png"].as_str().unwrap_or_default()))?.to_rgb8();
    let blender_mask: Vec<u8> = reference.pixels().map(|p| p[0]).collect();
    let agree = agreement(&out.pixels.mask, &blender_mask);
    let mut problems = Vec::new();
    if agree < BLENDER_MASK_AGREEMENT {
        write_diff(
            &format!("{diff_prefix}-{name}-mask"),
            256,
            256,
            &labels_to_rgb(&blender_mask),
            &labels_to_rgb(&out.pixels.mask),
        );
        problems.push(format!(
            "mask agrees with Blender on {:.4} % of pixels (< {} %)",
            agree * 100.0,
            BLENDER_MASK_AGREEMENT * 100.0
        ));
    }
    let pins = case["pins"].as_array().expect("pins");
    let mut worst_px = 0.0f64;
    if pins.len() != out.record.pins.len() {
        problems.push(format!("{} terminals, Blender has {}", out.record.pins.len(), pins.len()));
    }
    for bp in pins {
        let (x, y) = (bp["x"].as_u64().unwrap_or(99) as u32, bp["y"].as_u64().unwrap_or(99) as u32);
        let Some(ours) = out.record.pins.iter().find(|p| p.x == x && p.y == y) else {
            problems.push(format!("terminal ({x}, {y}) missing"));
            continue;
        };
        let t = f64s(&bp["top_centre_px"]);
        let d = (ours.top_px[0] - t[0]).abs().max((ours.top_px[1] - t[1]).abs());
        worst_px = worst_px.max(d);
        if d > TOP_CENTRE_TOLERANCE_PX {
            problems.push(format!("({x}, {y}) top centre {:?} vs Blender {t:?} ({d:.4} px)", ours.top_px));
        }
        // The mask under the top centre is Blender's there: the terminal's own label on a flat top (every
        // flat-topped reference case), whatever lies behind the apex of a pointed tip seen from aside.
        let under = out.pixels.mask[(t[1].floor() as usize) * 256 + t[0].floor() as usize];
        let blender_under = bp["mask_label_at_top_centre"].as_u64();
        if Some(under as u64) != blender_under || ours.label as u64 != bp["label"].as_u64().unwrap_or(0) {
            problems.push(format!(
                "({x}, {y}) label {}: mask label {under} under the top centre, Blender's {blender_under:?}",
                ours.label
            ));
        }
        if ours.kind.as_str()
            != bp["kind"]
                .as_str()
                .map(|k| {
                    if k == "cylinder" {
                        "round"
                    } else if k == "cube" {
                        "square"
                    } else {
                        k
                    }
                })
                .unwrap_or_default()
        {
            problems.push(format!("({x}, {y}) is {:?}, Blender's is {}", ours.kind, bp["kind"]));
        }
        // The defect's box: our projected bound_box corners against Blender's.
        if let Some(d) = out.record.defect.as_ref().filter(|d| d.pin == [x, y]) {
            let b = f64s(&bp["bbox_corners_px_aabb"]);
            let ours = [d.bbox_px[0], d.bbox_px[1], d.bbox_px[0] + d.bbox_px[2], d.bbox_px[1] + d.bbox_px[3]];
            let err = ours.iter().zip(&b).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            if err > TOP_CENTRE_TOLERANCE_PX {
                problems.push(format!("({x}, {y}) defect box corners {ours:?}, Blender's {b:?} ({err:.4} px)"));
            }
        }
    }
    if std::env::var_os("REF_STATS").is_some() {
        eprintln!(
            "{diff_prefix}/{name}: mask agreement {:.4} %, worst top-centre error {worst_px:.6} px",
            agree * 100.0
        );
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n").into()) }
}

/// A mesh housing with the default box's corners (an OBJ, faces wound inward) gives exactly the box
/// housing's mask and terminal ground truth, from an oblique camera with a tilted terminal.
fn mesh_housing_equals_box() -> Result<(), Failed> {
    let common = "[image]\nwidth = 160\nheight = 120\n[camera]\nlocation = [5, -7, 9]\nup = [0, 0, 1]\n\
                  [[case]]\nname = \"c\"\ndefect = { pin = [2, 1], grad = [0, 25] }\n";
    let box_scene = Scene::parse(common, &data("box.toml"), &[])?;
    let mesh_scene =
        Scene::parse(&format!("{common}[housing]\nmesh = \"meshes/box_inward.obj\"\n"), &data("mesh.toml"), &[])?;
    let a = FrameMaker::new(&box_scene)?.frame(0)?;
    let b = FrameMaker::new(&mesh_scene)?.frame(0)?;
    let housing = a.pixels.mask.iter().filter(|&&l| l == 255).count();
    if housing < 1000 {
        return Err(format!("only {housing} housing pixels: the test view misses the housing").into());
    }
    let differ = a.pixels.mask.iter().zip(&b.pixels.mask).filter(|(x, y)| x != y).count();
    if differ > 0 {
        write_diff("mesh-box-mask", 160, 120, &labels_to_rgb(&a.pixels.mask), &labels_to_rgb(&b.pixels.mask));
        return Err(format!("{differ} mask pixels differ between the box and the same box as a mesh").into());
    }
    if a.record.pins != b.record.pins {
        return Err("the terminals' ground truth differs".into());
    }
    Ok(())
}

/// Blender's state after the five defect operators (`semantics.json`): the closed form in
/// `conventions::pin_transform` reproduces its top- and bottom-face centres to 1e-5 (6 decimals stored).
fn semantics_case(case: &Value) -> Result<(), Failed> {
    use glam::{DVec2, DVec3};
    let d = &case["defect"];
    let g = |k: &str| d[k].as_f64().unwrap_or(0.0);
    let (x, y) = (d["x"].as_u64().unwrap_or(0) as u32, d["y"].as_u64().unwrap_or(0) as u32);
    let p0 = pinsynth::conventions::pin_centre(x, y, 3, 9, 1.0);
    let m = pinsynth::conventions::pin_transform(
        p0,
        DVec3::new(g("dposX"), g("dposY"), g("dposZ")),
        DVec2::new(g("gradX"), g("gradY")),
    );
    let (top, bottom) = pinsynth::conventions::face_centres(&m);
    let want_top = DVec3::from_slice(&f64s(&case["top_centre_world"]));
    let want_bottom = DVec3::from_slice(&f64s(&case["bottom_centre_world"]));
    let err = (top - want_top).abs().max_element().max((bottom - want_bottom).abs().max_element());
    if err > 1e-5 {
        return Err(format!("top {top} bottom {bottom}, Blender top {want_top} bottom {want_bottom}").into());
    }
    Ok(())
}

/// Shares of equal labels.
fn agreement(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "mask sizes differ");
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

/// Independent pinhole projection (Blender's formula from blender-refs/README.md), for the camera at
/// (0, 0, cam_z) looking down -Z with image up = +Y.
fn project(p: [f64; 3], cam_z: f64, fov_y_deg: f64, w: u32, h: u32) -> [f64; 2] {
    let f = (h as f64 / 2.0) / (fov_y_deg.to_radians() / 2.0).tan();
    let depth = cam_z - p[2];
    [w as f64 / 2.0 + f * p[0] / depth, h as f64 / 2.0 - f * p[1] / depth]
}

fn own_case(path: &Path) -> Result<(), Failed> {
    let scene = Scene::load(path, &[])?;
    let expect: toml::Table = std::fs::read_to_string(path.with_extension("expect.toml"))?.parse()?;
    let out = FrameMaker::new(&scene)?.frame(0)?;
    let (w, h) = (out.pixels.width, out.pixels.height);
    let mut problems = Vec::new();
    let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap_or(f64::NAN);
    if let Some(n) = expect.get("terminals").and_then(|v| v.as_integer())
        && out.record.pins.len() as i64 != n
    {
        problems.push(format!("{} terminals present, expected {n}", out.record.pins.len()));
    }
    for pin in expect.get("pin").and_then(|v| v.as_array()).into_iter().flatten() {
        let at: Vec<u32> =
            pin["at"].as_array().expect("at").iter().map(|v| v.as_integer().unwrap_or(-1) as u32).collect();
        let label = pin["label"].as_integer().unwrap_or(-1);
        if let Some(top) = pin.get("top_world").and_then(|v| v.as_array()) {
            let top = [num(&top[0]), num(&top[1]), num(&top[2])];
            let expected = project(top, scene.camera.location[2], scene.camera.fov_y_deg, w, h);
            let present = pin.get("present").and_then(|v| v.as_bool()).unwrap_or(true);
            match out.record.pins.iter().find(|p| p.x == at[0] && p.y == at[1]) {
                Some(_) if !present => problems.push(format!("{at:?}: in the manifest, expected absent")),
                None if !present => {}
                Some(p) => {
                    let d = (p.top_px[0] - expected[0]).abs().max((p.top_px[1] - expected[1]).abs());
                    if d > TOP_CENTRE_TOLERANCE_PX {
                        problems.push(format!("{at:?}: top centre {:?}, expected {expected:?}", p.top_px));
                    }
                    if p.label as i64 != label {
                        problems.push(format!("{at:?}: label {}, expected {label}", p.label));
                    }
                }
                None => problems.push(format!("{at:?}: not in the manifest")),
            }
            let under = out.pixels.mask[(expected[1].floor() as usize) * w as usize + expected[0].floor() as usize];
            let want = pin.get("label_under_top").and_then(|v| v.as_integer()).unwrap_or(label);
            if under as i64 != want {
                problems.push(format!("{at:?}: mask label {under} under the top centre, expected {want}"));
            }
        }
        if let Some(px) = pin.get("pixels").and_then(|v| v.as_integer()) {
            let n = out.pixels.mask.iter().filter(|&&l| l as i64 == label).count() as i64;
            if n != px {
                problems.push(format!("{at:?}: {n} mask pixels with label {label}, expected {px}"));
            }
        }
    }
    // Regression references of our own renders.
    let mask_ref = path.with_extension("mask.png");
    let color_ref = path.with_extension("png");
    if std::env::var_os("UPDATE_REFS").is_some() {
        image::GrayImage::from_raw(w, h, out.pixels.mask.clone()).expect("mask size").save(&mask_ref)?;
        image::RgbImage::from_raw(w, h, out.pixels.rgb.clone()).expect("rgb size").save(&color_ref)?;
        // A regeneration run is never mistaken for a test run: it writes, then fails.
        problems.push(format!(
            "wrote {} and {} (UPDATE_REFS is set); rerun without it to test",
            mask_ref.display(),
            color_ref.display()
        ));
        return Err(problems.join("\n").into());
    }
    let name = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
    match image::open(&mask_ref) {
        Err(e) => problems
            .push(format!("missing reference {} ({e}); run with UPDATE_REFS=1 to create it", mask_ref.display())),
        Ok(m) => {
            let agree = agreement(&out.pixels.mask, m.to_luma8().as_raw());
            if agree < OWN_MASK_AGREEMENT {
                write_diff(
                    &format!("{name}-mask"),
                    w,
                    h,
                    &labels_to_rgb(m.to_luma8().as_raw()),
                    &labels_to_rgb(&out.pixels.mask),
                );
                problems.push(format!("mask agrees with {} on {:.4} % of pixels", mask_ref.display(), agree * 100.0));
            }
        }
    }
    match image::open(&color_ref) {
        Err(e) => problems
            .push(format!("missing reference {} ({e}); run with UPDATE_REFS=1 to create it", color_ref.display())),
        Ok(c) => {
            let c = c.to_rgb8();
            let diffs: Vec<u8> = c.as_raw().iter().zip(&out.pixels.rgb).map(|(a, b)| a.abs_diff(*b)).collect();
            let mean = diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64;
            let bad = diffs.chunks(3).filter(|px| px.iter().any(|&d| d > COLOR_BAD_PIXEL_DIFF)).count() as f64
                / (w * h) as f64;
            if mean > COLOR_MEAN_DIFF || bad > COLOR_BAD_PIXEL_SHARE {
                write_diff(&format!("{name}-color"), w, h, c.as_raw(), &out.pixels.rgb);
                problems.push(format!(
                    "colour differs from {}: mean {mean:.3}, {:.3} % of pixels off by > {COLOR_BAD_PIXEL_DIFF}",
                    color_ref.display(),
                    bad * 100.0
                ));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n").into()) }
}

/// Labels as visible colours (each label its own hue) for diff images.
fn labels_to_rgb(mask: &[u8]) -> Vec<u8> {
    mask.iter()
        .flat_map(|&l| {
            if l == 0 {
                [0, 0, 0]
            } else {
                [l.wrapping_mul(97), l.wrapping_mul(57).wrapping_add(80), l.wrapping_mul(23).wrapping_add(160)]
            }
        })
        .collect()
}

/// Writes `expected | diff | actual` side by side into tests/diffs/<name>.png.
fn write_diff(name: &str, w: u32, h: u32, expected: &[u8], actual: &[u8]) {
    common::write_diff_sheet(name, (w, h), expected, actual, |e, a| if e == a { [0, 0, 0] } else { [255, 0, 255] });
}
