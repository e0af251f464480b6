//! Anti-aliasing modes: the mask is the same one-sample-per-pixel mask in every mode, and the colour
//! image of each anti-aliased mode is measurably closer to a 9-sample supersampled render than an
//! aliased one. Needs a Vulkan adapter (CI installs lavapipe).

mod common;

use pinsynth::render::Pixels;
use pinsynth::spec::{Antialias, Scene};
use std::path::Path;

/// The Blender reference case with a tilted terminal (slanted edges) at 256².
const SCENE: &str =
    "[image]\nwidth = 256\nheight = 256\n[[case]]\nname = \"tilt\"\ndefect = { pin = [0, 4], grad = [20, 0] }\n";

fn render(aa: Antialias) -> Pixels {
    let scene = Scene::parse(SCENE, Path::new("aa.toml"), &[format!("image.antialias=\"{}\"", aa.as_str())]).unwrap();
    common::frame_maker(&scene).frame(0).unwrap().pixels
}

fn rms(a: &[u8], b: &[u8]) -> f64 {
    (a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

#[test]
fn every_mode_keeps_the_one_sample_mask_and_antialiasing_reduces_error() {
    let none = render(Antialias::None);
    let msaa = render(Antialias::Msaa4);
    let fxaa = render(Antialias::Fxaa);
    let ssaa = render(Antialias::Ssaa3);
    let exact = render(Antialias::Exact);
    assert_eq!(msaa.mask, none.mask, "msaa4 draws the mask in its own one-sample pass");
    assert_eq!(exact.mask, none.mask, "exact never touches the mask");
    // exact only replaces pixels that edges cross: most pixels are the one-sample frame's.
    let same = exact.rgb.chunks(3).zip(none.rgb.chunks(3)).filter(|(a, b)| a == b).count();
    assert!(same > exact.rgb.len() / 3 * 4 / 5, "{same} of {} pixels kept", exact.rgb.len() / 3);
    assert_eq!(fxaa.mask, none.mask, "fxaa never touches the mask");
    // ssaa3 takes the centre sample of a 3×3 grid: the same point, rasterised at 3× resolution, where an
    // edge passing exactly through a pixel centre may fall the other way (8 pixels of 65536 measured).
    let differing = ssaa.mask.iter().zip(&none.mask).filter(|(a, b)| a != b).count();
    assert!(differing <= 32, "{differing} mask pixels differ between ssaa3 and one-sample rendering");
    // Against the 9-sample supersampled colour: measured RMS none 4.4, fxaa 3.8, msaa4 1.5 (of 255).
    let (e_none, e_msaa, e_fxaa) = (rms(&none.rgb, &ssaa.rgb), rms(&msaa.rgb, &ssaa.rgb), rms(&fxaa.rgb, &ssaa.rgb));
    assert!(e_msaa < 0.5 * e_none, "msaa4 rms {e_msaa:.2} vs none {e_none:.2}");
    assert!(e_fxaa < e_none, "fxaa rms {e_fxaa:.2} vs none {e_none:.2}");
    // Anti-aliased object edges have in-between colours: at pixels where the mask changes, msaa4 has far
    // more distinct colours than the one-sample render (measured 887 vs 597: the baked light varies too).
    let edge = |i: usize| {
        let w = none.width as usize;
        let l = none.mask[i];
        [i.wrapping_sub(1), i + 1, i.wrapping_sub(w), i + w].iter().any(|&j| none.mask.get(j).is_some_and(|&m| m != l))
    };
    let distinct = |p: &Pixels| {
        (0..p.mask.len())
            .filter(|&i| edge(i))
            .map(|i| [p.rgb[3 * i], p.rgb[3 * i + 1], p.rgb[3 * i + 2]])
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    assert!(3 * distinct(&msaa) > 4 * distinct(&none), "{} vs {}", distinct(&msaa), distinct(&none));
}

/// The scene rendered at `factor`× its size without anti-aliasing, box-filtered back in linear light:
/// the exact pixel-area average the anti-aliasing modes approximate (64 samples per pixel at 8×).
fn box_filtered(scene_toml: &str, sets: &[String], factor: u32) -> Vec<u8> {
    let small = Scene::parse(scene_toml, Path::new("aa.toml"), sets).unwrap();
    let (w, h) = (small.image.width, small.image.height);
    let mut big_sets = sets.to_vec();
    big_sets.extend([
        format!("image.width={}", w * factor),
        format!("image.height={}", h * factor),
        "image.antialias=\"none\"".to_string(),
    ]);
    let big = Scene::parse(scene_toml, Path::new("aa.toml"), &big_sets).unwrap();
    let px = common::frame_maker(&big).frame(0).unwrap().pixels;
    let lin = |v: u8| {
        let c = v as f64 / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let srgb = |l: f64| {
        let c = if l <= 0.0031308 { l * 12.92 } else { 1.055 * l.powf(1.0 / 2.4) - 0.055 };
        (c * 255.0).round().clamp(0.0, 255.0) as u8
    };
    let table: Vec<f64> = (0..=255u8).map(lin).collect();
    let (bw, f) = ((w * factor) as usize, factor as usize);
    let mut out = vec![0u8; (w * h * 3) as usize];
    for y in 0..h as usize {
        for x in 0..w as usize {
            for c in 0..3 {
                let mut sum = 0.0;
                for sy in 0..f {
                    for sx in 0..f {
                        sum += table[px.rgb[((y * f + sy) * bw + x * f + sx) * 3 + c] as usize];
                    }
                }
                out[(y * w as usize + x) * 3 + c] = srgb(sum / (f * f) as f64);
            }
        }
    }
    out
}

/// RMS (of 255) of each anti-aliasing mode against the 8× box-filtered frame, with shadows on, from the
/// default camera and an oblique one, and of the default mode under other suns and a third camera. The
/// issue's goal is 0.6 for the default mode; the other bounds are the figures measured on lavapipe with
/// a margin (see README "Anti-aliasing"), so a regression fails.
#[test]
fn antialiasing_error_against_the_8x_box_filtered_frame() {
    const OBLIQUE: &str = "[camera]\nlocation = [6.0, -9.0, 8.0]\nup = [0.0, 0.0, 1.0]\nfov_y_deg = 42.0\n[light]\nsun_rotation_deg = [20.0, 35.0, 0.0]\n";
    // (scene, mode, bound)
    let views = [
        ("sun [50, 30, 0]", "[light]\nsun_rotation_deg = [50.0, 30.0, 0.0]\n"),
        ("sun [15, -40, 0]", "[light]\nsun_rotation_deg = [15.0, -40.0, 0.0]\n"),
        (
            "camera [-5, 7, 10]",
            "[camera]\nlocation = [-5.0, 7.0, 10.0]\n[light]\nsun_rotation_deg = [-35.0, 25.0, 0.0]\n",
        ),
        ("default, 448²", ""),
        (
            "camera [4, -2.2, 11.8], a 2° sun",
            "[camera]\nlocation = [4.0, -2.2, 11.8]\nup = [0.0, 0.0, 1.0]\nfov_y_deg = 40.0\n\
             [light]\nsun_rotation_deg = [53.0, -17.0, 202.0]\nsun_angle_deg = 2.0\n",
        ),
    ];
    let bounds: [(&str, Antialias, f64); 17] = [
        ("default", Antialias::Exact, EXACT_BOUND),
        ("default", Antialias::ExactGeometry, EXACT_GEOMETRY_BOUND),
        ("default", Antialias::Msaa4, MSAA4_BOUND),
        ("default", Antialias::Ssaa3, SSAA3_BOUND),
        ("default", Antialias::Fxaa, FXAA_BOUND),
        ("default", Antialias::None, NONE_BOUND),
        ("oblique", Antialias::Exact, EXACT_BOUND),
        ("oblique", Antialias::ExactGeometry, EXACT_GEOMETRY_BOUND),
        ("oblique", Antialias::Msaa4, MSAA4_BOUND),
        ("oblique", Antialias::Ssaa3, SSAA3_BOUND),
        ("oblique", Antialias::Fxaa, FXAA_BOUND),
        ("oblique", Antialias::None, NONE_BOUND),
        (views[0].0, Antialias::Exact, EXACT_BOUND), // 0.33
        (views[1].0, Antialias::Exact, EXACT_BOUND), // 0.32
        (views[2].0, Antialias::Exact, EXACT_BOUND), // 0.29
        (views[3].0, Antialias::Exact, EXACT_BOUND), // 0.27
        (views[4].0, Antialias::Exact, EXACT_BOUND), // 0.50 (0.61 with exact.rs SOFT_PENUMBRA at 2)
    ];
    let scene_of = |name: &str| {
        let size = if name == views[3].0 { 448 } else { 224 };
        let base = format!(
            "[image]\nwidth = {size}\nheight = {size}\n[[case]]\nname = \"tilt\"\ndefect = {{ pin = [0, 4], grad = [20, 0] }}\n"
        );
        match views.iter().find(|v| v.0 == name) {
            Some((_, view)) => format!("{view}{base}"),
            None if name == "oblique" => format!("{OBLIQUE}{base}"),
            None => base,
        }
    };
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for name in ["default", "oblique", views[0].0, views[1].0, views[2].0, views[3].0, views[4].0] {
        let toml = scene_of(name);
        let reference = box_filtered(&toml, &[], 8);
        for (_, aa, bound) in bounds.iter().filter(|b| b.0 == name) {
            let sets = [format!("image.antialias=\"{}\"", aa.as_str())];
            let scene = Scene::parse(&toml, Path::new("aa.toml"), &sets).unwrap();
            let px = common::frame_maker(&scene).frame(0).unwrap().pixels;
            let e = rms(&px.rgb, &reference);
            report.push(format!("{name} {}: {e:.2}", aa.as_str()));
            if e > *bound {
                failures.push(format!("{name} {}: RMS {e:.2} > {bound}", aa.as_str()));
            }
        }
    }
    eprintln!("RMS vs 8x box filter: {}", report.join(", "));
    assert!(failures.is_empty(), "{}", failures.join("; "));
}

/// Measured (RMS of 255, default | oblique camera): see the test's output.
const EXACT_BOUND: f64 = 0.6; // the goal; 0.28 | 0.18 (shadow edges from the casters too)
const EXACT_GEOMETRY_BOUND: f64 = 1.9; // 1.51 | 0.75 (shadow edges as the GPU's one sample drew them)
const MSAA4_BOUND: f64 = 2.3; // 2.01 | 1.60
const SSAA3_BOUND: f64 = 1.5; // 1.30 | 0.93
const FXAA_BOUND: f64 = 6.0; // 5.31 | 2.80
const NONE_BOUND: f64 = 7.0; // 6.23 | 4.62

/// Moving the sun moves the shadows: the same OK scene under two sun rotations (as `[randomize]`'s sun
/// jitter draws them) has the same mask but a different set of shadowed housing pixels, and turning
/// `light.shadows` off removes them.
#[test]
fn the_sun_casts_shadows_that_move_with_it() {
    let base = "[image]\nwidth = 160\nheight = 160\n[[case]]\nname = \"ok\"\n";
    let render = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let scene = Scene::parse(base, Path::new("sun.toml"), &sets).unwrap();
        common::frame_maker(&scene).frame(0).unwrap().pixels
    };
    // A housing pixel is in shadow when it is far darker than the sunlit housing (sRGB ~97).
    let shadowed = |p: &Pixels| -> Vec<bool> {
        p.mask.iter().enumerate().map(|(i, &l)| l == 255 && p.rgb[3 * i + 1] < 60).collect()
    };
    let a = render(&["light.sun_rotation_deg=[30.0, 20.0, 0.0]"]);
    let b = render(&["light.sun_rotation_deg=[40.0, 10.0, 0.0]"]);
    let off = render(&["light.sun_rotation_deg=[30.0, 20.0, 0.0]", "light.shadows=false"]);
    assert_eq!(a.mask, b.mask, "the sun does not move the geometry");
    let (sa, sb, so) = (shadowed(&a), shadowed(&b), shadowed(&off));
    let housing = a.mask.iter().filter(|&&l| l == 255).count();
    let count = |s: &[bool]| s.iter().filter(|&&x| x).count();
    assert!(count(&sa) > housing / 10, "{} of {housing} housing pixels in shadow", count(&sa));
    let moved = sa.iter().zip(&sb).filter(|(x, y)| x != y).count();
    assert!(moved > housing / 20, "only {moved} shadowed pixels moved with the sun");
    assert_eq!(count(&so), 0, "shadows off: no housing pixel is dark");
}

/// The oblique view of the Blender reference cases (camera up and to the side, looking down at 45°).
const OBLIQUE: [&str; 2] = ["camera.location=[9.0, -7.0, 9.0]", "camera.look_at=[0.0, 0.0, 0.5]"];

#[test]
fn exact_antialiasing_matches_the_8x_box_filtered_frame() {
    let tips_and_shroud = [
        "pin.square.tip=\"pointed\"",
        "pin.square.tip_length=0.35",
        "pin.round.tip=\"chamfer\"",
        "pin.round.tip_length=0.06",
        "housing.shape=\"shroud\"",
        "housing.notch=\"-x\"",
    ];
    const BENT: &str = "[image]\nwidth = 256\nheight = 256\n[[case]]\nname = \"bent\"\n\
                        defect = { pin = [1, 4], bend = { height = 1.0, angle_deg = 35, azimuth_deg = 60 } }\n";
    let cases = [
        ("default", SCENE, Vec::new()),
        ("oblique", SCENE, OBLIQUE.map(String::from).to_vec()),
        ("oblique, tips and shroud", SCENE, OBLIQUE.iter().chain(&tips_and_shroud).map(|s| s.to_string()).collect()),
        ("oblique, bent", BENT, OBLIQUE.map(String::from).to_vec()),
    ];
    for (view, scene, overrides) in cases {
        // Geometry edges only (shadows off; the test above bounds shadow edges). Measured: 0.12, 0.12,
        // 0.16, 0.12.
        let mut overrides = overrides;
        overrides.push("light.shadows=false".to_string());
        let reference = box_filtered(scene, &overrides, 8);
        let mut errors = Vec::new();
        for aa in [Antialias::None, Antialias::Msaa4, Antialias::Exact] {
            let mut o = overrides.clone();
            o.push(format!("image.antialias=\"{}\"", aa.as_str()));
            let scene = Scene::parse(scene, Path::new("aa.toml"), &o).unwrap();
            let px = common::frame_maker(&scene).frame(0).unwrap().pixels;
            errors.push((aa, rms(&px.rgb, &reference)));
        }
        eprintln!("{view}: RMS vs the 8x box-filtered frame: {errors:?}");
        let exact = errors[2].1;
        assert!(exact <= 0.6, "{view}: exact RMS {exact:.3} (goal <= 0.6); all: {errors:?}");
    }
}

/// The exact pass keeps the nominal objects' coverage from one image to the next (and each object's
/// projection while it stays put, and the sun's answers of faces it shares with the image before): an
/// image drawn after others equals the same image drawn by a fresh renderer, whatever came before — a terminal moved, tilted, missing or bent, OK images, and a camera
/// that changes from image to image (every kept thing given up).
#[test]
fn exact_frames_do_not_depend_on_the_frames_before() {
    const CASES: &str = "[image]\nwidth = 160\nheight = 128\n\
        [[case]]\nname = \"ok\"\n\
        [[case]]\nname = \"offset\"\ndefect = { pin = [1, 4], dpos = [0.3, 0.2, 0.0] }\n\
        [[case]]\nname = \"missing\"\ndefect = { pin = [0, 2], missing = true }\n\
        [[case]]\nname = \"tilt\"\ndefect = { pin = [2, 7], grad = [25, 10] }\n\
        [[case]]\nname = \"bent\"\ndefect = { pin = [1, 1], bend = { height = 0.8, angle_deg = 40, azimuth_deg = 120 } }\n\
        [[case]]\nname = \"ok_again\"\n";
    let jitter = ["randomize.camera_jitter=[0.3, 0.3, 0.3]".to_string(), "sweep.seed=5".to_string()];
    for sets in [Vec::new(), OBLIQUE.map(String::from).to_vec(), jitter.to_vec()] {
        let scene = Scene::parse(CASES, Path::new("kept.toml"), &sets).unwrap();
        let mut maker = common::frame_maker(&scene);
        let order = [0u64, 1, 2, 1, 3, 4, 0, 5, 2];
        let in_order: Vec<Vec<u8>> = order.iter().map(|&i| maker.frame(i).unwrap().pixels.rgb).collect();
        for (k, &i) in order.iter().enumerate() {
            let fresh = common::frame_maker(&scene).frame(i).unwrap().pixels.rgb;
            assert!(fresh == in_order[k], "{sets:?}: image {i} drawn after {:?} differs from a fresh one", &order[..k]);
        }
    }
}

/// `exact_geometry` is `exact` without the shadow edges: with shadows off the two agree (to a level
/// where `exact` draws on the CPU); with shadows on they differ only where shadows fall, and `exact` is
/// the nearer to the 8× frame there.
#[test]
fn exact_geometry_is_exact_without_the_shadow_edges() {
    let frame = |aa: &str, shadows: bool| {
        let sets = [format!("image.antialias=\"{aa}\""), format!("light.shadows={shadows}")];
        let scene = Scene::parse(SCENE, Path::new("aa.toml"), &sets).unwrap();
        common::frame_maker(&scene).frame(0).unwrap().pixels
    };
    // `exact` draws the pixels the defect can change on the CPU over the scene's base frame (one
    // sample at each centre, by the shader's rule), `exact_geometry` on the GPU: with shadows off, the
    // same mask and colours within a level (measured: 29 of 196,608 values differ, by 1).
    let (a, b) = (frame("exact", false), frame("exact_geometry", false));
    assert!(a.mask == b.mask, "shadows off: exact's and exact_geometry's masks differ");
    let off: Vec<u8> = a.rgb.iter().zip(&b.rgb).map(|(x, y)| x.abs_diff(*y)).filter(|d| *d > 0).collect();
    let most = off.iter().max().copied().unwrap_or(0);
    assert!(most <= 1 && off.len() < 300, "shadows off: {} values differ, by up to {most}", off.len());
    let (a, b) = (frame("exact", true), frame("exact_geometry", true));
    assert_eq!(a.mask, b.mask);
    let differ = a.rgb.chunks(3).zip(b.rgb.chunks(3)).filter(|(x, y)| x != y).count();
    assert!(differ > 100, "only {differ} pixels differ with shadows on");
    let reference = box_filtered(SCENE, &[], 8);
    let (ea, eb) = (rms(&a.rgb, &reference), rms(&b.rgb, &reference));
    assert!(ea < 0.6 * eb, "exact {ea:.2} vs exact_geometry {eb:.2}");
}
