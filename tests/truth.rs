//! Optional ground truth (`[truth] depth`, `[truth] amodal`, `--truth`): depth values against the
//! camera conventions worked out independently here (a ray through the pixel centre meeting a known
//! plane), the CPU rasteriser against the GPU's mask and Blender's masks, amodal masks that hold the
//! visible ones and record occlusion, the files on disk, and the default output untouched.

mod common;

use glam::{DVec2, DVec3};
use pinsynth::geometry::pose;
use pinsynth::params::Planner;
use pinsynth::spec::Scene;
use pinsynth::truth::{amodal, depth};
use serde_json::Value;
use std::path::Path;

fn scene(text: &str) -> Scene {
    Scene::parse(text, Path::new("truth.toml"), &[]).unwrap_or_else(|e| panic!("{e}"))
}

const OBLIQUE: &str = "[camera]\nlocation = [6, -9, 8]\nlook_at = [0, 0, 0]\nup = [0, 0, 1]\nfov_y_deg = 42\n";

/// Where the ray through pixel centre (x, y) meets the plane z = `z` (world), and its depth along the
/// view axis. From the camera's pose alone: camera-space direction (u/f, v/f, -1) per unit depth.
fn ray_hit(scene: &Scene, x: usize, y: usize, z: f64) -> (DVec3, f64) {
    let c = &scene.camera;
    let (w, h) = (scene.image.width as f64, scene.image.height as f64);
    let f = (h / 2.0) / (c.fov_y_deg.to_radians() / 2.0).tan();
    let eye = DVec3::from(c.location);
    let forward = (DVec3::from(c.look_at) - eye).normalize();
    let right = forward.cross(DVec3::from(c.up)).normalize();
    let up = right.cross(forward);
    let (u, v) = ((x as f64 + 0.5 - w / 2.0) / f, (h / 2.0 - (y as f64 + 0.5)) / f);
    let dir = forward + right * u + up * v; // per unit of view-axis depth
    let d = (z - eye.z) / dir.z;
    (eye + dir * d, d)
}

#[test]
fn depth_from_above_is_the_distance_to_each_plane() {
    let s = scene("[truth]\ndepth = true\n[[case]]\nname = \"ok\"\n");
    let frame = common::frame_maker(&s).frame(0).unwrap();
    let depth = frame.depth.expect("a depth map");
    let (w, h) = (224usize, 224usize);
    assert_eq!(depth.len(), w * h);
    let mask = &frame.pixels.mask;
    // The camera at z = 14 looks straight down: the housing's top (z = -0.75) is 14.75 away, a
    // terminal's top face (z = 1) 13, the background 0.
    let mut housing = 0;
    for (i, (&d, &l)) in depth.iter().zip(mask).enumerate() {
        match l {
            0 => assert_eq!(d, 0.0, "background pixel {i}"),
            255 => {
                housing += 1;
                assert!((d - 14.75).abs() < 1e-4, "housing pixel {i}: {d}");
            }
            // A top face (13) or a side down to the housing's top (14.75).
            _ => assert!((13.0 - 1e-4..=14.75 + 1e-4).contains(&d), "terminal pixel {i}: {d}"),
        }
    }
    assert!(housing > 5000, "{housing}");
    for p in &frame.record.pins {
        let (x, y) = (p.top_px[0].floor() as usize, p.top_px[1].floor() as usize);
        assert_eq!(mask[y * w + x], p.label);
        assert!((depth[y * w + x] - 13.0).abs() < 1e-4, "terminal {}: {}", p.label, depth[y * w + x]);
    }
    let _ = h;
}

#[test]
fn oblique_depth_is_where_the_pixel_ray_meets_the_surface() {
    let s = scene(&format!(
        "{OBLIQUE}[image]\nwidth = 200\nheight = 150\n[truth]\ndepth = true\n[[case]]\nname = \"ok\"\n"
    ));
    let frame = common::frame_maker(&s).frame(0).unwrap();
    let depth = frame.depth.expect("a depth map");
    let (w, h) = (200usize, 150usize);
    let mask = &frame.pixels.mask;
    let (mut housing, mut tops, mut worst) = (0, 0, 0.0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let l = mask[y * w + x];
            // Away from label edges, so the surface under the centre is not in doubt.
            if [(0, 1), (2, 1), (1, 0), (1, 2)].iter().any(|&(dx, dy)| mask[(y + dy - 1) * w + x + dx - 1] != l) {
                continue;
            }
            let d = depth[y * w + x] as f64;
            if l == 255 {
                let (p, want) = ray_hit(&s, x, y, -0.75);
                if p.x.abs() < 1.7 && p.y.abs() < 4.7 {
                    housing += 1;
                    worst = worst.max((d - want).abs() / want);
                }
            } else if l > 0 {
                // The terminal's top face (z = 1) where the ray meets it well inside its outline.
                let pin = frame.record.pins.iter().find(|p| p.label == l).unwrap();
                let c = DVec2::new(pin.x as f64 - 1.0, pin.y as f64 - 4.0);
                let (p, want) = ray_hit(&s, x, y, 1.0);
                if (p.x - c.x).abs() < 0.15 && (p.y - c.y).abs() < 0.15 {
                    tops += 1;
                    worst = worst.max((d - want).abs() / want);
                }
            }
        }
    }
    assert!(housing > 1000 && tops > 100, "{housing} housing and {tops} top-face pixels checked");
    assert!(worst < 1e-6, "relative depth error {worst}");
}

/// The CPU rasteriser's nearest surface is the GPU mask's label on (nearly) every pixel: the two only
/// differ on centres within rasteriser precision of an edge.
#[test]
fn depth_surfaces_agree_with_the_rendered_mask() {
    let s = scene(&format!(
        "{OBLIQUE}[layout]\nkind = \"pattern\"\npattern = [\"STR\", \"RST\", \"TRS\", \"SSS\"]\n[sweep]\ncount = 6\nseed = 3\n\
         ok_fraction = 0\n[sweep.weights]\nbent = 2\n[randomize]\ncamera_jitter = [1, 1, 1]\n"
    ));
    let planner = Planner::new(&s);
    let mut maker = common::frame_maker(&s);
    let (mut differ, mut total) = (0usize, 0usize);
    for i in 0..6 {
        let params = planner.image(i);
        let posed = pose(&s, &pinsynth::geometry::Terminals::new(&s.pin), &params);
        let frame = maker.frame(i).unwrap();
        let (_, labels) = depth::depth_map(&posed);
        differ += labels.iter().zip(&frame.pixels.mask).filter(|(a, b)| a != b).count();
        total += labels.len();
    }
    let share = differ as f64 / total as f64;
    eprintln!(
        "CPU nearest-surface labels differ from the GPU mask on {differ} of {total} pixels ({:.5} %)",
        share * 100.0
    );
    assert!(share < 2e-4, "{differ} of {total} pixels differ");
}

/// From straight above nothing but the housing hides a terminal: its silhouette is its visible mask
/// plus the part inside the housing. The CPU silhouette alone (before the union with the visible
/// pixels) against the GPU's mask: every visible pixel is in it, and every other pixel of it is
/// housing.
#[test]
fn silhouettes_equal_the_visible_masks_where_nothing_occludes() {
    let s = scene(
        "[layout]\nkind = \"mixed\"\n[[case]]\nname = \"b\"\ndefect = { pin = [1, 4], bend = { height = 1.3, angle_deg = 35, azimuth_deg = 30 } }\n\
         [[case]]\nname = \"t\"\ndefect = { pin = [2, 2], grad = [12, -5] }\n",
    );
    let planner = Planner::new(&s);
    let mut maker = common::frame_maker(&s);
    for i in 0..2 {
        let posed = pose(&s, &pinsynth::geometry::Terminals::new(&s.pin), &planner.image(i));
        let frame = maker.frame(i).unwrap();
        for pin in &posed.pins {
            let cpu = amodal::silhouette(&posed, pin);
            let missed = cpu.iter().zip(&frame.pixels.mask).filter(|&(&c, &l)| c == 0 && l == pin.label).count();
            let extra =
                cpu.iter().zip(&frame.pixels.mask).filter(|&(&c, &l)| c == 1 && l != pin.label && l != 255).count();
            assert!(
                missed == 0 && extra == 0,
                "image {i} terminal {}: {missed} visible pixels missed, {extra} extra",
                pin.label
            );
        }
    }
}

/// Blender's masks from its default camera: our silhouettes of the original reference cases and of
/// the bent ones agree with them wherever Blender sees the terminal or the background (occluded
/// parts aside), on at least 99.8 % of the silhouette's pixels.
#[test]
fn silhouettes_agree_with_blender_where_nothing_occludes() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut sets: Vec<(std::path::PathBuf, String)> = vec![(data.join("blender"), "mixed".into())];
    for layout in ["square", "round", "triangle"] {
        sets.push((data.join(format!("blender-bent/{layout}_default")), layout.into()));
    }
    let (mut differ, mut total) = (0usize, 0usize);
    for (dir, layout) in sets {
        let refs: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("refs.json")).unwrap()).unwrap();
        for case in refs["cases"].as_array().unwrap() {
            let mut toml =
                format!("[image]\nwidth = 256\nheight = 256\n[layout]\nkind = \"{layout}\"\n[[case]]\nname = \"c\"\n");
            if let Some(d) = case["defect"].as_object() {
                toml += &common::defect_line(d);
            }
            let s = scene(&toml);
            let posed = pose(&s, &pinsynth::geometry::Terminals::new(&s.pin), &Planner::new(&s).image(0));
            let blender: Vec<u8> = image::open(dir.join(case["mask_png"].as_str().unwrap()))
                .unwrap()
                .to_rgb8()
                .pixels()
                .map(|p| p[0])
                .collect();
            for pin in &posed.pins {
                let cpu = amodal::silhouette(&posed, pin);
                // Where Blender sees this terminal or nothing (the housing and a leaning neighbour may
                // hide a part of it: that part is in the silhouette, not in Blender's visible mask).
                let n = cpu
                    .iter()
                    .zip(&blender)
                    .filter(|&(&c, &l)| (l == 0 && c == 1) || (l == pin.label && c == 0))
                    .count();
                differ += n;
                total += cpu.iter().filter(|&&c| c == 1).count();
            }
        }
    }
    eprintln!("silhouettes vs Blender: {differ} pixels differ of {total} silhouette pixels");
    assert!(total > 70_000, "{total}");
    assert!((differ as f64) < 0.002 * total as f64, "{differ} of {total}");
}

/// A rendered dataset with `--truth depth,amodal` from an oblique camera: depth files beside the
/// images, every terminal's amodal mask holding its visible one, occluded terminals with a visible
/// fraction below 1, COCO's amodal_segmentation equal to the manifest's; without `--truth` nothing of
/// it, and `--truth` is `--set truth.…=true`.
#[test]
fn a_dataset_with_depth_and_amodal() {
    use pinsynth::codec::rle;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, plain) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("plain"));
    let scene_file = dir.path().join("s.toml");
    std::fs::write(
        &scene_file,
        format!(
            "{OBLIQUE}[image]\nwidth = 128\nheight = 96\n[sweep]\ncount = 6\nseed = 2\n[sweep.weights]\nbent = 1\n"
        ),
    )
    .unwrap();
    let scene_arg = scene_file.to_str().unwrap();
    let base = ["render", scene_arg, "--quiet", "--preview", "0", "--format", "coco"];
    let with = |out: &Path, extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend(extra);
        common::ok(common::run(&args));
    };
    with(&a, &["--truth", "depth,amodal"]);
    with(&b, &["--set", "truth.depth=true", "--set", "truth.amodal=true"]);
    with(&plain, &[]);
    assert!(common::tree(&a) == common::tree(&b), "--truth and --set truth.… give different datasets");
    assert!(!plain.join("depth").exists());
    let plain_manifest = std::fs::read_to_string(plain.join("manifest.jsonl")).unwrap();
    assert!(!plain_manifest.contains("amodal") && !plain_manifest.contains("\"depth\""));
    let coco: Vec<Value> = ["train", "val", "test"]
        .iter()
        .filter_map(|s| std::fs::read_to_string(a.join(format!("coco/annotations/instances_{s}.json"))).ok())
        .flat_map(|t| serde_json::from_str::<Value>(&t).unwrap()["annotations"].as_array().unwrap().clone())
        .collect();
    let mut occluded = 0;
    for r in common::manifest(&a) {
        let id = r["id"].as_str().unwrap();
        let depth_file = a.join(r["depth"].as_str().unwrap());
        assert_eq!(r["depth"], format!("depth/{id}.tiff"));
        let mut d = tiff::decoder::Decoder::new(std::fs::File::open(&depth_file).unwrap()).unwrap();
        assert_eq!(d.dimensions().unwrap(), (128, 96));
        let tiff::decoder::DecodingResult::F32(depth) = d.read_image().unwrap() else { panic!("not float32") };
        let mask = image::open(a.join(r["mask"].as_str().unwrap())).unwrap().into_luma8().into_raw();
        let bg_differ = depth.iter().zip(&mask).filter(|&(&d, &l)| (d == 0.0) != (l == 0)).count();
        assert!(bg_differ <= 3, "{id}: background differs on {bg_differ} pixels");
        for p in r["pins"].as_array().unwrap() {
            let label = p["label"].as_u64().unwrap() as u8;
            let counts = rle::counts_from_string(p["amodal_rle"].as_str().unwrap()).unwrap();
            let full = rle::decode_counts(&counts, 128, 96);
            let amodal = full.iter().filter(|&&v| v == 1).count() as u64;
            assert_eq!(p["amodal_pixels"].as_u64().unwrap(), amodal, "{id} {label}");
            let visible = p["pixels"].as_u64().unwrap();
            assert!(mask.iter().zip(&full).all(|(&l, &v)| l != label || v == 1), "{id} {label}: visible ⊄ amodal");
            let fraction = p["visible_fraction"].as_f64().unwrap();
            assert!((fraction - visible as f64 / amodal as f64).abs() < 1e-6, "{id} {label}");
            occluded += usize::from(fraction < 0.9);
            if visible > 0 {
                let ann = coco
                    .iter()
                    .find(|c| c["image_id"] == r["index"].as_u64().unwrap() + 1 && c["label"] == label)
                    .unwrap_or_else(|| panic!("{id} {label}: no COCO annotation"));
                assert_eq!(ann["amodal_segmentation"]["counts"], p["amodal_rle"]);
                assert_eq!(ann["amodal_segmentation"]["size"], serde_json::json!([96, 128]));
                assert_eq!(ann["visible_fraction"], p["visible_fraction"]);
            }
        }
    }
    assert!(occluded > 20, "only {occluded} terminals occluded from the oblique camera");
}

/// The amodal masks (made within each terminal's box) are exactly the whole-image silhouette united
/// with the visible mask, and their RLE decodes to them.
#[test]
fn amodal_masks_are_the_silhouette_and_the_visible_pixels() {
    use pinsynth::codec::rle;
    let s = scene(&format!(
        "{OBLIQUE}[image]\nwidth = 160\nheight = 120\n[truth]\namodal = true\n[[case]]\nname = \"b\"\n\
         defect = {{ pin = [2, 3], bend = {{ height = 0.9, angle_deg = -40, azimuth_deg = 120 }} }}\n"
    ));
    let posed = pose(&s, &pinsynth::geometry::Terminals::new(&s.pin), &Planner::new(&s).image(0));
    let frame = common::frame_maker(&s).frame(0).unwrap();
    let mask = &frame.pixels.mask;
    let stats = pinsynth::truth::MaskStats::of(mask, 160);
    let masks = amodal::amodal_masks(&posed, mask, &stats);
    assert_eq!(masks.len(), 27);
    for (pin, a) in posed.pins.iter().zip(&masks) {
        let want: Vec<u8> =
            amodal::silhouette(&posed, pin).iter().zip(mask).map(|(&c, &l)| c | u8::from(l == pin.label)).collect();
        let got = rle::decode_counts(&rle::counts_from_string(&a.rle(160, 120)).unwrap(), 160, 120);
        assert!(got == want, "terminal {}", pin.label);
        assert_eq!(a.pixels, want.iter().map(|&v| v as u64).sum::<u64>());
        let record = frame.record.pins.iter().find(|p| p.label == pin.label).unwrap();
        assert_eq!(record.amodal_rle.as_deref(), Some(a.rle(160, 120).as_str()));
    }
}

/// Depth files and amodal records survive sharding: two shards merged equal one run, byte for byte.
#[test]
fn shards_with_depth_and_amodal_merge_into_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let base = |out: &str, extra: &[&str]| {
        let mut args = vec!["render", "scenes/depth_amodal.toml", "--quiet", "--preview", "4", "--format", "coco"];
        args.extend(["--set", "sweep.count=6", "--set", "image.width=64", "--set", "image.height=48", "--out", out]);
        args.extend(extra);
        common::ok(common::run(&args));
    };
    base(&p("single"), &[]);
    base(&p("s0"), &["--shard", "0/2"]);
    base(&p("s1"), &["--shard", "1/2"]);
    common::ok(common::run(&[
        "merge",
        &p("s1"),
        &p("s0"),
        "--out",
        &p("merged"),
        "--preview",
        "4",
        "--format",
        "coco",
        "--quiet",
    ]));
    let single = common::tree(&dir.path().join("single"));
    assert_eq!(single.keys().filter(|k| k.starts_with("depth")).count(), 6);
    assert!(single == common::tree(&dir.path().join("merged")), "the merged shards differ from the single run");
}

/// Blender renders of every terminal alone (tests/data/blender-bent/amodal.py: the others and the
/// housing hidden) from the oblique camera, where terminals hide each other: our amodal masks (the
/// CPU silhouette ∪ the visible pixels) equal them on ≥ 99.8 % of each terminal's silhouette pixels.
#[test]
fn amodal_masks_agree_with_blender_terminals_rendered_alone() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/blender-bent");
    let (mut differ, mut total, mut hidden) = (0usize, 0usize, 0usize);
    for set in ["amodal_square_oblique", "amodal_triangle_oblique"] {
        let dir = data.join(set);
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("amodal.json")).unwrap()).unwrap();
        let c = &doc["view"]["camera"];
        for case in doc["cases"].as_array().unwrap() {
            let defect = common::defect_line(case["defect"].as_object().unwrap());
            let s = scene(&format!(
                "[image]\nwidth = 256\nheight = 256\n[layout]\nkind = {}\n[camera]\nlocation = {}\nlook_at = {}\nup = {}\n\
                 fov_y_deg = {}\n[truth]\namodal = true\n[[case]]\nname = \"c\"\n{defect}",
                doc["layout"], c["location"], c["look_at"], c["up"], c["fov_y_deg"],
            ));
            let frame = common::frame_maker(&s).frame(0).unwrap();
            for p in &frame.record.pins {
                let file = dir.join(format!("alone_{}_{}.png", case["name"].as_str().unwrap(), p.label));
                let blender: Vec<bool> =
                    image::open(&file).unwrap().to_rgb8().pixels().map(|px| px[0] == 255).collect();
                let counts = pinsynth::codec::rle::counts_from_string(p.amodal_rle.as_deref().unwrap()).unwrap();
                let ours = pinsynth::codec::rle::decode_counts(&counts, 256, 256);
                let n = ours.iter().zip(&blender).filter(|&(&o, &b)| (o == 1) != b).count();
                let size = blender.iter().filter(|&&b| b).count();
                assert!((n as f64) <= 0.002 * size as f64, "{set} terminal {}: {n} of {size} pixels differ", p.label);
                differ += n;
                total += size;
                hidden += usize::from(p.visible_fraction.unwrap() < 0.95);
            }
        }
    }
    eprintln!(
        "amodal masks vs Blender terminals alone: {differ} of {total} pixels differ; {hidden} terminals < 95 % visible"
    );
    assert!(hidden > 20, "the view should hide parts of many terminals: {hidden}");
}

/// The housing is a closed box: every pixel whose centre lies inside its silhouette (more than half a
/// pixel from its outline) shows it or something in front of it, never the background. Its top
/// was once cut into 8 × 8 quads that met its sides in the middle of their edges, which left single
/// background pixels along the top's edge (the 2 × 10 pattern scene's pixel (185, 104) among them).
#[test]
fn the_housing_leaves_no_pixel_unlabelled_inside_its_outline() {
    use pinsynth::geometry::Shape;
    use pinsynth::render::polygon::convex_hull;
    let cameras = [
        "[camera]\nlocation = [3.0, -2.0, 13.0]\nlook_at = [0.0, 0.0, 0.0]\n",
        OBLIQUE,
        "[camera]\nlocation = [-7, 5, 9]\nlook_at = [0, 0, 0]\nup = [0, 0, 1]\nfov_y_deg = 35\n",
        "[camera]\nlocation = [0.4, -0.3, 11]\nlook_at = [0, 0, 0]\n",
    ];
    let mut checked = 0usize;
    for camera in cameras {
        let s = scene(&format!(
            "[image]\nwidth = 320\nheight = 240\n[layout]\nkind = \"pattern\"\npitch = 0.8\n\
             pattern = [\"RR\", \"SS\", \"SS\", \"SS\", \"S.\", \"SS\", \"SS\", \"SS\", \"SS\", \"RR\"]\n\
             [housing]\nsize = [2.2, 8.4, 0.5]\n{camera}[sweep]\ncount = 2\nseed = 3\n"
        ));
        let planner = Planner::new(&s);
        let mut maker = common::frame_maker(&s);
        for i in 0..2 {
            let posed = pose(&s, &pinsynth::geometry::Terminals::new(&s.pin), &planner.image(i));
            let frame = maker.frame(i).unwrap();
            let (objects, _) = posed.drawables();
            let housing = objects.iter().find(|o| o.shape == Shape::Slab).expect("a box housing");
            let corners: Vec<DVec2> = (0..8)
                .map(|k| {
                    let unit = DVec3::new([-1.0, 1.0][k & 1], [-1.0, 1.0][k >> 1 & 1], [-1.0, 1.0][k >> 2 & 1]);
                    posed.camera.project(housing.model().transform_point3(unit)).0
                })
                .collect();
            let hull = convex_hull(corners);
            let w = s.image.width as usize;
            // Inside every edge by more than half a pixel (the hull runs either way round).
            let turn = (hull[1] - hull[0]).perp_dot(hull[2] - hull[1]).signum();
            let inside = |p: DVec2| {
                (0..hull.len()).all(|k| {
                    let (a, b) = (hull[k], hull[(k + 1) % hull.len()]);
                    turn * (b - a).perp_dot(p - a) / (b - a).length() > 0.5
                })
            };
            for (q, &label) in frame.pixels.mask.iter().enumerate() {
                let centre = DVec2::new((q % w) as f64 + 0.5, (q / w) as f64 + 0.5);
                if inside(centre) {
                    checked += 1;
                    assert!(
                        label != 0,
                        "{camera}image {i}: pixel ({}, {}) inside the housing is background",
                        q % w,
                        q / w
                    );
                }
            }
        }
    }
    assert!(checked > 50_000, "only {checked} pixels inside the housing's outline");
}
