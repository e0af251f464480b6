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
    // Anti-aliased edges have in-between colours: far more distinct colours than the flat-shaded faces.
    let distinct =
        |p: &Pixels| p.rgb.chunks(3).map(|c| [c[0], c[1], c[2]]).collect::<std::collections::HashSet<_>>().len();
    assert!(distinct(&msaa) > 2 * distinct(&none), "{} vs {}", distinct(&msaa), distinct(&none));
}

/// The frame of `scene` (with `overrides`) drawn at 8× width and height without anti-aliasing and
/// box-filtered 8 × 8 in linear light: the reference every mode's coverage is measured against.
fn reference_8x(scene: &str, overrides: &[String]) -> Pixels {
    let base = Scene::parse(scene, Path::new("aa.toml"), overrides).unwrap();
    let (w, h) = (base.image.width as usize, base.image.height as usize);
    let mut big = overrides.to_vec();
    big.extend([
        "image.antialias=\"none\"".to_string(),
        format!("image.width={}", w * 8),
        format!("image.height={}", h * 8),
    ]);
    let big = Scene::parse(scene, Path::new("aa.toml"), &big).unwrap();
    let px = common::frame_maker(&big).frame(0).unwrap().pixels;
    let lin = |v: u8| {
        let c = v as f64 / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let enc = |c: f64| {
        let s = if c <= 0.0031308 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
        (s.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
    };
    let mut rgb = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0.0;
                for j in 0..8 {
                    for i in 0..8 {
                        sum += lin(px.rgb[((y * 8 + j) * w * 8 + x * 8 + i) * 3 + c]);
                    }
                }
                rgb[(y * w + x) * 3 + c] = enc(sum / 64.0);
            }
        }
    }
    Pixels { width: w as u32, height: h as u32, rgb, mask: Vec::new() }
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
        let reference = reference_8x(scene, &overrides);
        let mut errors = Vec::new();
        for aa in [Antialias::None, Antialias::Msaa4, Antialias::Exact] {
            let mut o = overrides.clone();
            o.push(format!("image.antialias=\"{}\"", aa.as_str()));
            let scene = Scene::parse(scene, Path::new("aa.toml"), &o).unwrap();
            let px = common::frame_maker(&scene).frame(0).unwrap().pixels;
            errors.push((aa, rms(&px.rgb, &reference.rgb)));
        }
        eprintln!("{view}: RMS vs the 8x box-filtered frame: {errors:?}");
        let exact = errors[2].1;
        assert!(exact <= 0.6, "{view}: exact RMS {exact:.3} (goal <= 0.6); all: {errors:?}");
    }
}
