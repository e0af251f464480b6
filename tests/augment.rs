//! `pinsynth augment`: exact expectations on small synthetic images — pixel equalities for
//! flips and quarter turns, hand-computed fill-mode values, the plan/apply trim bounds and cut halves,
//! ground truth that follows every geometric op, determinism across thread counts, and the exact
//! text of input errors. Every tolerance here is zero: all of this is CPU-side and exact.

mod common;

use image::{DynamicImage, GenericImageView, GrayImage, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use pinsynth::augment::{
    self, Affine, AugmentSpec, BalanceOptions, FillMode, Op, OutputFormat, RunOptions, Sample, YesNo,
};
use pinsynth::progress::Quiet;
use pinsynth::seed::path_stream;
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};

fn rgb(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| Rgb([(x * 10 + y) as u8, (y * 10 + x) as u8, (x * y) as u8]))
}

fn opts(out: &Path) -> RunOptions {
    RunOptions {
        out: out.to_path_buf(),
        seed: 7,
        copies: 2,
        balance: None,
        strict: false,
        overwrite: false,
        originals: true,
        format: OutputFormat::Keep,
        jpeg_quality: 95,
    }
}

fn apply(op: Op, sample: Sample) -> Sample {
    op.apply(sample).expect("op applies")
}

fn png(path: &Path, img: DynamicImage) {
    fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
    img.save_with_format(path, ImageFormat::Png).expect("write png");
}

// ---- flips and quarter turns -------------------------------------------------------------------

#[test]
fn flips_and_rot90_are_exact_pixel_permutations() {
    let src = rgb(5, 3);
    let s = || Sample::new(DynamicImage::ImageRgb8(src.clone()));
    let fh = apply(Op::FlipHorizontal, s()).image.to_rgb8();
    let fv = apply(Op::FlipVertical, s()).image.to_rgb8();
    let r1 = apply(Op::Rot90 { k: 1 }, s()).image.to_rgb8();
    for (x, y, p) in src.enumerate_pixels() {
        assert_eq!(fh.get_pixel(4 - x, y), p);
        assert_eq!(fv.get_pixel(x, 2 - y), p);
        // np.rot90: out[i, j] = in[j, W-1-i], i.e. the input pixel (x, y) lands at (y, W-1-x).
        assert_eq!(r1.get_pixel(y, 4 - x), p);
    }
    assert_eq!(r1.dimensions(), (3, 5));
    let r2 = apply(Op::Rot90 { k: 2 }, s()).image.to_rgb8();
    let both = apply(Op::FlipVertical, apply(Op::FlipHorizontal, s())).image.to_rgb8();
    assert_eq!(r2, both);
    assert_eq!(apply(Op::Rot90 { k: 4 }, s()).image.to_rgb8(), src);
}

#[test]
fn keypoints_follow_flips_and_turns_in_continuous_coordinates() {
    let mut s = Sample::new(DynamicImage::ImageRgb8(rgb(5, 3)));
    s.points = vec![[0.5, 0.5], [5.0, 0.0], [2.25, 1.75]];
    assert_eq!(apply(Op::FlipHorizontal, s.clone()).points, vec![[4.5, 0.5], [0.0, 0.0], [2.75, 1.75]]);
    assert_eq!(apply(Op::FlipVertical, s.clone()).points, vec![[0.5, 2.5], [5.0, 3.0], [2.25, 1.25]]);
    // Counter-clockwise: the top-right corner (5, 0) becomes the top-left corner.
    assert_eq!(apply(Op::Rot90 { k: 1 }, s.clone()).points, vec![[0.5, 4.5], [0.0, 0.0], [1.75, 2.75]]);
}

// ---- fill modes ---------------------------------------------------------------------------------

/// A 4x4 grey image whose columns read 10 20 30 40 on every row, shifted by `shift_x` pixels
/// (Keras' ty: output column c samples input column c + shift_x), first row returned.
fn shifted_row(shift_x: f64, zoom_x: f64, fill_mode: FillMode, cval: f64) -> Vec<u8> {
    let img = GrayImage::from_fn(4, 4, |x, _| Luma([10 * (x as u8 + 1)]));
    let affine = Affine { theta: 0.0, shift_x, shift_y: 0.0, shear: 0.0, zoom_x, zoom_y: 1.0, fill_mode, cval };
    let out = apply(Op::Affine(affine), Sample::new(DynamicImage::ImageLuma8(img))).image.to_luma8();
    (0..4).map(|x| out.get_pixel(x, 0).0[0]).collect()
}

#[test]
fn fill_modes_match_hand_computed_scipy_values_shift_right() {
    // Output column c samples input column c - 1.5: -1.5, -0.5, 0.5, 1.5. Inside, linear
    // interpolation: 0.5 → (10+20)/2 = 15, 1.5 → 25.
    assert_eq!(shifted_row(-1.5, 1.0, FillMode::Constant, 0.0), [0, 0, 15, 25]);
    assert_eq!(shifted_row(-1.5, 1.0, FillMode::Constant, 99.0), [99, 99, 15, 25]);
    assert_eq!(shifted_row(-1.5, 1.0, FillMode::Nearest, 0.0), [10, 10, 15, 25]);
    // reflect (d c b a | a b c d): -0.5 is the mirror edge → a; -1.5 mirrors to 0.5 → 15.
    assert_eq!(shifted_row(-1.5, 1.0, FillMode::Reflect, 0.0), [15, 10, 15, 25]);
    // scipy 'wrap' has period n-1 = 3: -1.5 → 1.5 → 25; -0.5 → 2.5 → (30+40)/2 = 35.
    assert_eq!(shifted_row(-1.5, 1.0, FillMode::Wrap, 0.0), [25, 35, 15, 25]);
    // grid-wrap has period 4: -1.5 → 2.5 → 35; -0.5 → 3.5 → (40+10)/2 = 25.
    assert_eq!(shifted_row(-1.5, 1.0, FillMode::GridWrap, 0.0), [35, 25, 15, 25]);
}

#[test]
fn fill_modes_match_hand_computed_scipy_values_shift_left() {
    // Output column c samples input column c + 2.5: 2.5, 3.5, 4.5, 5.5.
    assert_eq!(shifted_row(2.5, 1.0, FillMode::Constant, 0.0), [35, 0, 0, 0]);
    assert_eq!(shifted_row(2.5, 1.0, FillMode::Nearest, 0.0), [35, 40, 40, 40]);
    // reflect about 3.5: 3.5 → d, 4.5 → 2.5 → 35, 5.5 → 1.5 → 25.
    assert_eq!(shifted_row(2.5, 1.0, FillMode::Reflect, 0.0), [35, 40, 35, 25]);
    // wrap, period 3: 3.5 → 0.5 → 15, 4.5 → 1.5 → 25, 5.5 → 2.5 → 35.
    assert_eq!(shifted_row(2.5, 1.0, FillMode::Wrap, 0.0), [35, 15, 25, 35]);
    // grid-wrap, period 4: 3.5 → between d and a → 25, 4.5 → 0.5 → 15, 5.5 → 1.5 → 25.
    assert_eq!(shifted_row(2.5, 1.0, FillMode::GridWrap, 0.0), [35, 25, 15, 25]);
}

#[test]
fn zoom_is_centred_like_keras() {
    // Keras zooms about (w/2 - 0.5) = 1.5: zoom 2 samples 1.5 + 2 (c - 1.5) = -1.5, 0.5, 2.5, 4.5.
    assert_eq!(shifted_row(0.0, 2.0, FillMode::Nearest, 0.0), [10, 15, 35, 40]);
    assert_eq!(shifted_row(0.0, 2.0, FillMode::Constant, 0.0), [0, 15, 35, 0]);
}

#[test]
fn positive_rotation_turns_the_content_clockwise() {
    // theta = 90 about the centre of a 3x3: output (r, c) samples input (2 - c, r). The top-middle
    // pixel therefore appears middle-right.
    let img = GrayImage::from_fn(3, 3, |x, y| Luma([(10 * (3 * y + x + 1)) as u8]));
    let affine = Affine {
        theta: 90.0,
        shift_x: 0.0,
        shift_y: 0.0,
        shear: 0.0,
        zoom_x: 1.0,
        zoom_y: 1.0,
        fill_mode: FillMode::Nearest,
        cval: 0.0,
    };
    let out = apply(Op::Affine(affine), Sample::new(DynamicImage::ImageLuma8(img.clone()))).image.to_luma8();
    for (c, r, p) in out.enumerate_pixels() {
        assert_eq!(p, img.get_pixel(r, 2 - c), "output ({c}, {r})");
    }
}

// ---- plan/apply: trim and cut --------------------------------------------------------------------

#[test]
fn trim_stays_within_the_seed_formula_bounds_and_reaches_them() {
    for (w, h) in [(640u32, 480u32), (480, 640), (100, 100), (1000, 300), (19, 19), (300, 1000)] {
        let d = w.abs_diff(h) as f64;
        let (d2, d3) = ((d * 0.2) as u32, (d * 0.3) as u32);
        // Margins: short side [5, 9] per edge; long side [d3, d3 + 4 + d2] per edge.
        let (short_range, long_range) = ((5, 9), (d3, d3 + 4 + d2));
        let (x_range, y_range) = if h > w { (short_range, long_range) } else { (long_range, short_range) };
        let mut seen = [u32::MAX, 0, u32::MAX, 0, u32::MAX, 0, u32::MAX, 0];
        for i in 0..2000 {
            let op = augment::trim_box(w, h, &mut path_stream(3, "x.png", "trim", i)).expect("large enough");
            let Op::Crop { x, y, width, height } = op else { panic!("trim is a crop: {op:?}") };
            let (right, bottom) = (w - (x + width), h - (y + height));
            for (k, v) in [x, right, y, bottom].into_iter().enumerate() {
                seen[2 * k] = seen[2 * k].min(v);
                seen[2 * k + 1] = seen[2 * k + 1].max(v);
            }
        }
        let expect = [x_range.0, x_range.1, x_range.0, x_range.1, y_range.0, y_range.1, y_range.0, y_range.1];
        assert_eq!(seen, expect, "{w}x{h}: [left, right, top, bottom] margin min/max");
    }
}

#[test]
fn trim_refuses_images_too_small_for_the_rule() {
    let err = augment::trim_box(18, 40, &mut path_stream(0, "", "", 0)).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("image of 18x40 is too small for the random trim toward square (needs both sides >= 19)")
    );
}

#[test]
fn cut_halves_split_at_int_half_width() {
    let src = rgb(7, 3);
    let (a, b) = augment::cut_halves(7, 3);
    assert_eq!(a, Op::Crop { x: 0, y: 0, width: 3, height: 3 });
    assert_eq!(b, Op::Crop { x: 3, y: 0, width: 4, height: 3 });
    let sa = apply(a, Sample::new(DynamicImage::ImageRgb8(src.clone()))).image.to_rgb8();
    let sb = apply(b, Sample::new(DynamicImage::ImageRgb8(src.clone()))).image.to_rgb8();
    for (x, y, p) in src.enumerate_pixels() {
        let half = if x < 3 { sa.get_pixel(x, y) } else { sb.get_pixel(x - 3, y) };
        assert_eq!(half, p);
    }
}

#[test]
fn plan_and_apply_trim_cut_and_turn() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    png(&input.join("cls/wide.png"), DynamicImage::ImageRgb8(rgb(701, 300)));
    png(&input.join("cls/photo.png"), DynamicImage::ImageRgb8(rgb(64, 48)));
    fs::write(input.join("cls/broken.png"), b"not a png").expect("write");

    let (rows, skipped) = augment::plan(&input, false).expect("plan");
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0].error.to_string().starts_with(&format!("cannot decode {}", input.join("cls/broken.png").display()))
    );
    let row = |name: &str| rows.iter().find(|r| r.file.ends_with(name)).expect("listed").clone();
    let (wide, photo) = (row("wide.png"), row("photo.png"));
    assert_eq!(
        (wide.width, wide.height, wide.cut, wide.reverse, wide.plus90),
        (701, 300, YesNo::Yes, YesNo::No, YesNo::No)
    );
    assert_eq!(
        (photo.width, photo.height, photo.cut, photo.reverse, photo.plus90),
        (64, 48, YesNo::No, YesNo::Yes, YesNo::Yes)
    );

    let csv = tmp.path().join("plan.csv");
    augment::write_plan(&rows, &csv).expect("write plan");
    let text = fs::read_to_string(&csv).expect("read plan");
    assert!(text.starts_with("file,height,width,cut,reverse,plus90\n"));
    assert!(text.contains("/cls/photo.png,48,64,no,yes,yes\n"));
    let rows = augment::read_plan(&csv).expect("read plan");

    let out = tmp.path().join("out");
    let o = opts(&out);
    let summary = augment::apply_plan(&rows, Some(&input), &o, &Quiet).expect("apply");
    assert_eq!((summary.written, summary.copied), (4, 2));
    // Each variant is its op followed by the trim drawn from (seed, path, variant): check pixels.
    let src = rgb(64, 48);
    for (name, op) in [("flip_lr", Op::FlipHorizontal), ("plus90", Op::Rot90 { k: 1 })] {
        let turned = apply(op, Sample::new(DynamicImage::ImageRgb8(src.clone())));
        let (w, h) = turned.image.dimensions();
        let trim = augment::trim_box(w, h, &mut path_stream(o.seed, "cls/photo.png", name, 0)).expect("trim");
        let expected = apply(trim, turned).image.to_rgb8();
        let got = image::open(out.join(format!("cls/photo({name}).png"))).expect("variant written").to_rgb8();
        assert_eq!(got, expected, "{name}");
    }
    for name in ["cut_A", "cut_B"] {
        let got = image::open(out.join(format!("cls/wide({name}).png"))).expect("cut written");
        let w = if name == "cut_A" { 350 } else { 351 };
        assert!(got.width() <= w - 10 && got.height() <= 300 - 10, "{name} trimmed: {:?}", got.dimensions());
    }
    assert_eq!(fs::read(out.join("cls/photo.png")).ok(), fs::read(input.join("cls/photo.png")).ok());
}

#[test]
fn edited_plan_with_a_bad_value_names_the_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let csv = tmp.path().join("plan.csv");
    fs::write(&csv, "file,height,width,cut,reverse,plus90\na.png,10,10,maybe,no,no\n").expect("write");
    let err = augment::read_plan(&csv).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.starts_with(&format!("{}: CSV deserialize error: record 1 (line: 2", csv.display())), "{err}");
    assert!(err.contains("unknown variant `maybe`, expected `yes` or `no`"), "{err}");
}

// ---- pinsynth datasets: ground truth follows the image ------------------------------------------

/// A 64x48 dataset record: four 11x11 terminals (labels 1..4) on a housing (255) band; the image
/// paints each label its own colour; pins carry top/bottom keypoints inside their terminal.
fn write_dataset(dir: &Path, records: &[(&str, &str, &str)]) {
    let mut lines = Vec::new();
    let centres = [(12u32, 14u32), (30, 14), (48, 30), (20, 32)];
    for (index, (id, label, split)) in records.iter().enumerate() {
        let mut mask = GrayImage::from_fn(64, 48, |_, y| Luma([if (6..42).contains(&y) { 255 } else { 0 }]));
        let mut pins = Vec::new();
        for (i, &(cx, cy)) in centres.iter().enumerate() {
            let l = i as u8 + 1;
            for y in cy - 5..=cy + 5 {
                for x in cx - 5..=cx + 5 {
                    mask.put_pixel(x, y, Luma([l]));
                }
            }
            let (u, v) = (cx as f64 + 0.5, cy as f64 + 0.5);
            pins.push(json!({"label": l, "x": i, "y": 0, "kind": "square", "defective": false, "top_px": [u, v - 2.0],
                "bottom_px": [u + 1.5, v + 2.5], "bbox": [cx - 5, cy - 5, 11, 11], "pixels": 121}));
        }
        let image = RgbImage::from_fn(64, 48, |x, y| {
            let m = mask.get_pixel(x, y).0[0];
            Rgb([m, m.wrapping_mul(3), 40])
        });
        png(&dir.join(format!("images/{id}.png")), DynamicImage::ImageRgb8(image));
        png(&dir.join(format!("masks/{id}.png")), DynamicImage::ImageLuma8(mask));
        let rec = json!({"id": id, "label": label, "image": format!("images/{id}.png"),
            "mask": format!("masks/{id}.png"), "width": 64, "height": 48, "seed": 1, "defect": null, "pins": pins,
            "index": index, "split": split, "excluded": false});
        lines.push(rec.to_string());
    }
    fs::write(dir.join("manifest.jsonl"), lines.join("\n") + "\n").expect("manifest");
}

use common::manifest;

/// Runs one op family on the dataset and checks every augmented record's ground truth.
fn check_ground_truth(spec: AugmentSpec, expect_op: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (input, out) = (tmp.path().join("ds"), tmp.path().join("out"));
    write_dataset(&input, &[("000001", "ng", "train")]);
    let aug = spec.validate("test").expect("valid spec");
    let mut o = opts(&out);
    o.copies = 6;
    augment::run(&input, &aug, &o, &Quiet).expect("run");
    let records = manifest(&out);
    assert_eq!(records.len(), 7, "original + 6 copies");
    let mut op_seen = false;
    let mut inside = 0;
    for rec in records.iter().filter(|r| r.get("augment").is_some()) {
        let ops = rec["augment"]["ops"].as_array().expect("ops");
        op_seen |= ops.iter().any(|op| op["op"] == expect_op);
        assert_eq!(rec["augment"]["source"], "000001");
        let mask = image::open(out.join(rec["mask"].as_str().expect("mask path"))).expect("mask").to_luma8();
        let img = image::open(out.join(rec["image"].as_str().expect("image path"))).expect("image");
        assert_eq!(
            (rec["width"].as_u64(), rec["height"].as_u64()),
            (Some(img.width() as u64), Some(img.height() as u64))
        );
        assert_eq!(mask.dimensions(), img.dimensions());
        for pin in rec["pins"].as_array().expect("pins") {
            let label = pin["label"].as_u64().expect("label") as u8;
            let count = mask.pixels().filter(|p| p.0[0] == label).count() as u64;
            assert_eq!(pin["pixels"].as_u64(), Some(count), "pixels of {label} in {}", rec["id"]);
            let bbox = augment::bbox_of_label(&mask, label).map(|b| json!(b)).unwrap_or(Value::Null);
            assert_eq!(pin["bbox"], bbox, "bbox of {label} in {}", rec["id"]);
            for key in ["top_px", "bottom_px"] {
                let (u, v) = (pin[key][0].as_f64().expect("u"), pin[key][1].as_f64().expect("v"));
                if u >= 1.0 && v >= 1.0 && u < mask.width() as f64 - 1.0 && v < mask.height() as f64 - 1.0 {
                    inside += 1;
                    let under = mask.get_pixel(u as u32, v as u32).0[0];
                    assert_eq!(under, label, "{key} of pin {label} at ({u}, {v}) in {} ({ops:?})", rec["id"]);
                }
            }
        }
    }
    assert!(op_seen, "no copy drew `{expect_op}`");
    assert!(inside >= 24, "too few keypoints stayed inside to check ({inside})");
}

#[test]
fn ground_truth_follows_rotation() {
    let spec = AugmentSpec { rotation_range: Some(40.0), fill_mode: Some("constant".into()), ..Default::default() };
    check_ground_truth(spec, "affine");
}

#[test]
fn ground_truth_follows_shift() {
    let spec = AugmentSpec { width_shift_range: Some(0.2), height_shift_range: Some(0.2), ..Default::default() };
    check_ground_truth(spec, "affine");
}

#[test]
fn ground_truth_follows_zoom() {
    let spec = AugmentSpec { zoom_range: Some(augment::ZoomRange::Pair(0.7, 1.3)), ..Default::default() };
    check_ground_truth(spec, "affine");
}

#[test]
fn ground_truth_follows_shear() {
    let spec = AugmentSpec { shear_range: Some(25.0), fill_mode: Some("reflect".into()), ..Default::default() };
    check_ground_truth(spec, "affine");
}

#[test]
fn ground_truth_follows_flips() {
    check_ground_truth(AugmentSpec { horizontal_flip: Some(true), ..Default::default() }, "flip_horizontal");
    check_ground_truth(AugmentSpec { vertical_flip: Some(true), ..Default::default() }, "flip_vertical");
}

#[test]
fn ground_truth_follows_rot90() {
    check_ground_truth(AugmentSpec { rot90: Some(true), ..Default::default() }, "rot90");
}

#[test]
fn ground_truth_follows_everything_at_once() {
    let spec = AugmentSpec {
        rotation_range: Some(20.0),
        width_shift_range: Some(0.1),
        height_shift_range: Some(0.1),
        shear_range: Some(10.0),
        zoom_range: Some(augment::ZoomRange::Scalar(0.2)),
        channel_shift_range: Some(30.0),
        brightness_range: Some([0.8, 1.2]),
        horizontal_flip: Some(true),
        vertical_flip: Some(true),
        rot90: Some(true),
        fill_mode: Some("wrap".into()),
        cval: None,
    };
    check_ground_truth(spec, "brightness");
}

#[test]
fn flipped_masks_are_exactly_the_flipped_source() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (input, out) = (tmp.path().join("ds"), tmp.path().join("out"));
    write_dataset(&input, &[("a", "ok", "train")]);
    let aug = AugmentSpec { horizontal_flip: Some(true), ..Default::default() }.validate("t").expect("valid");
    let mut o = opts(&out);
    o.copies = 4;
    augment::run(&input, &aug, &o, &Quiet).expect("run");
    let src = image::open(input.join("masks/a.png")).expect("mask").to_luma8();
    let mut flipped = 0;
    for rec in manifest(&out).iter().filter(|r| r.get("augment").is_some()) {
        let mask = image::open(out.join(rec["mask"].as_str().expect("path"))).expect("mask").to_luma8();
        if rec["augment"]["ops"] == json!([{"op": "flip_horizontal"}]) {
            flipped += 1;
            assert_eq!(mask, image::imageops::flip_horizontal(&src));
        } else {
            assert_eq!(rec["augment"]["ops"], json!([]));
            assert_eq!(mask, src);
        }
    }
    assert!(flipped > 0);
}

#[test]
fn balancing_oversamples_ng_per_split_and_never_touches_test() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (input, out) = (tmp.path().join("ds"), tmp.path().join("out"));
    let mut recs = Vec::new();
    let ids: Vec<String> = (0..12).map(|i| format!("{i:03}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let (label, split) = match i {
            0..=5 => ("ok", "train"),
            6..=7 => ("ng", "train"),
            8 => ("ok", "test"),
            _ => ("ng", "test"),
        };
        recs.push((id.as_str(), label, split));
    }
    write_dataset(&input, &recs);
    let aug = AugmentSpec { horizontal_flip: Some(true), ..Default::default() }.validate("t").expect("valid");
    let mut o = opts(&out);
    o.balance = Some(BalanceOptions { ratio: 1.0 });
    let summary = augment::run(&input, &aug, &o, &Quiet).expect("run");
    assert_eq!((summary.sources, summary.written, summary.copied), (12, 4, 12));
    let records = manifest(&out);
    let count =
        |label: &str, split: &str| records.iter().filter(|r| r["label"] == label && r["split"] == split).count();
    assert_eq!((count("ok", "train"), count("ng", "train")), (6, 6));
    assert_eq!((count("ok", "test"), count("ng", "test")), (1, 3));
    let copies: Vec<&Value> = records.iter().filter_map(|r| r.get("augment")).map(|a| &a["source"]).collect();
    assert_eq!(copies, [&json!("006"), &json!("006"), &json!("007"), &json!("007")]);
}

// ---- folders: formats, errors, determinism --------------------------------------------------------

#[test]
fn png_stays_lossless_png_with_its_colour_type_and_folders_are_mirrored() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    let rgba = RgbaImage::from_fn(20, 20, |x, y| Rgba([x as u8 * 12, y as u8 * 12, 7, 200]));
    png(&input.join("train/ng/a.png"), DynamicImage::ImageRgba8(rgba.clone()));
    let aug = AugmentSpec { horizontal_flip: Some(true), vertical_flip: Some(true), ..Default::default() }
        .validate("t")
        .expect("valid");
    augment::run(&input, &aug, &opts(&out), &Quiet).expect("run");
    for k in 1..=2 {
        let path = out.join(format!("train/ng/a_aug{k:03}.png"));
        let bytes = fs::read(&path).expect("copy written");
        assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::Png));
        let img = image::load_from_memory(&bytes).expect("decodes");
        assert_eq!(img.color(), image::ColorType::Rgba8);
        // Flips only: the multiset of pixels is unchanged, so nothing was lost to compression.
        let mut a: Vec<[u8; 4]> = img.to_rgba8().pixels().map(|p| p.0).collect();
        let mut b: Vec<[u8; 4]> = rgba.pixels().map(|p| p.0).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }
    assert_eq!(fs::read(out.join("train/ng/a.png")).ok(), fs::read(input.join("train/ng/a.png")).ok());
}

#[test]
fn corrupt_files_are_reported_by_name_and_skipped_or_fail_with_strict() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    png(&input.join("good.png"), DynamicImage::ImageRgb8(rgb(20, 20)));
    fs::write(input.join("bad.jpg"), b"\xff\xd8 truncated").expect("write");
    let aug = AugmentSpec { rotation_range: Some(10.0), ..Default::default() }.validate("t").expect("valid");
    let out = tmp.path().join("out");
    let summary = augment::run(&input, &aug, &opts(&out), &Quiet).expect("run");
    assert_eq!((summary.sources, summary.written, summary.skipped.len()), (2, 2, 1));
    assert_eq!(summary.skipped[0].path, input.join("bad.jpg"));
    let msg = summary.skipped[0].error.to_string();
    assert_eq!(
        msg,
        format!("{}: corrupt JPEG: expected a marker at byte 2, found 0x20", input.join("bad.jpg").display())
    );
    assert!(!out.join("bad.jpg").exists());

    let mut strict = opts(&tmp.path().join("out2"));
    strict.strict = true;
    let err = augment::run(&input, &aug, &strict, &Quiet).err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(err, msg);
}

#[test]
fn non_empty_output_is_refused_without_overwrite() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    png(&input.join("a.png"), DynamicImage::ImageRgb8(rgb(20, 20)));
    fs::create_dir_all(&out).expect("mkdir");
    fs::write(out.join("keep.txt"), "x").expect("write");
    let aug = AugmentSpec { horizontal_flip: Some(true), ..Default::default() }.validate("t").expect("valid");
    let err = augment::run(&input, &aug, &opts(&out), &Quiet).err().map(|e| e.to_string());
    let expected = format!("output folder {} is not empty (pass --overwrite to write into it)", out.display());
    assert_eq!(err, Some(expected));
    let mut o = opts(&out);
    o.overwrite = true;
    assert!(augment::run(&input, &aug, &o, &Quiet).is_ok());
    let err = augment::run(&input, &aug, &opts(&input.join("sub")), &Quiet).err().map(|e| e.to_string());
    let expected =
        format!("output folder {} lies inside the input folder {}", input.join("sub").display(), input.display());
    assert_eq!(err, Some(expected));
}

fn run_with_threads(threads: usize, input: &Path, out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let aug = AugmentSpec {
        rotation_range: Some(30.0),
        width_shift_range: Some(0.2),
        zoom_range: Some(augment::ZoomRange::Scalar(0.3)),
        channel_shift_range: Some(20.0),
        horizontal_flip: Some(true),
        fill_mode: Some("reflect".into()),
        ..Default::default()
    }
    .validate("t")
    .expect("valid");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    let mut o = opts(out);
    o.copies = 3;
    pool.install(|| augment::run(input, &aug, &o, &Quiet)).expect("run");
    let files: Vec<(PathBuf, Vec<u8>)> = common::tree(out).into_iter().collect();
    files
}

#[test]
fn outputs_are_identical_for_one_and_two_threads() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    for i in 0..8 {
        png(&input.join(format!("c{}/img{i}.png", i % 2)), DynamicImage::ImageRgb8(rgb(24 + i, 20)));
    }
    let one = run_with_threads(1, &input, &tmp.path().join("one"));
    let two = run_with_threads(2, &input, &tmp.path().join("two"));
    assert_eq!(one.len(), 8 * 4);
    assert_eq!(one, two);
    // And a different seed changes the copies.
    let aug = AugmentSpec { rotation_range: Some(30.0), ..Default::default() }.validate("t").expect("valid");
    let (mut a, mut b) = (opts(&tmp.path().join("s1")), opts(&tmp.path().join("s2")));
    (a.copies, b.copies, b.seed) = (1, 1, a.seed + 1);
    augment::run(&input, &aug, &a, &Quiet).expect("run");
    augment::run(&input, &aug, &b, &Quiet).expect("run");
    assert_ne!(fs::read(a.out.join("c0/img0_aug001.png")).ok(), fs::read(b.out.join("c0/img0_aug001.png")).ok());
}

// ---- the command line ------------------------------------------------------------------------------

fn pinsynth(args: &[&str]) -> (i32, String, String) {
    let out = common::run(args);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn cli_unknown_op_in_toml_exits_1_with_suggestion() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    png(&input.join("a.png"), DynamicImage::ImageRgb8(rgb(20, 20)));
    let ops = tmp.path().join("ops.toml");
    fs::write(&ops, "rotaton_range = 20\nzoom_range = [0.8, 1.2]\nfill_mode = \"mirror\"\n").expect("write");
    let (code, _, err) = pinsynth(&[
        "augment",
        "run",
        input.to_str().expect("utf8"),
        "--out",
        tmp.path().join("o").to_str().expect("utf8"),
        "--config",
        ops.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "error: invalid augmentation options in {} and the command line (2 problems)\n  \
             - rotaton_range: unknown key; did you mean `rotation_range`?\n  \
             - fill_mode = \"mirror\": not one of \"constant\", \"nearest\", \"reflect\", \"wrap\", \"grid-wrap\"\n",
            ops.display()
        )
    );
}

#[test]
fn cli_out_of_range_parameters_are_all_reported() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = pinsynth(&[
        "augment",
        "run",
        tmp.path().to_str().expect("utf8"),
        "--out",
        "/nonexistent/o",
        "--zoom-range",
        "1.5",
        "--shear-range",
        "95",
        "--fill-mode",
        "mirror",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: invalid augmentation options in the command line (3 problems)\n  \
         - shear_range = 95: out of range, allowed 0..=89\n  \
         - zoom_range = 1.5: out of range, allowed 0..=0.99\n  \
         - fill_mode = \"mirror\": not one of \"constant\", \"nearest\", \"reflect\", \"wrap\", \"grid-wrap\"\n"
    );
}

#[test]
fn cli_strict_fails_on_a_corrupt_file_with_exit_1() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    png(&input.join("a.png"), DynamicImage::ImageRgb8(rgb(20, 20)));
    fs::write(input.join("b.png"), b"garbage").expect("write");
    let out = tmp.path().join("o");
    let base =
        ["augment", "run", input.to_str().expect("utf8"), "--horizontal-flip", "--out", out.to_str().expect("utf8")];
    let (code, stdout, err) = pinsynth(&base);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("warning: skipped cannot decode {}", input.join("b.png").display())), "{err}");
    assert!(stdout.starts_with("augment: 2 source images, 1 new images, 1 originals copied, 1 skipped"), "{stdout}");
    let (code, _, err) = pinsynth(&[&base[..], &["--overwrite", "--strict"]].concat());
    assert_eq!(code, 1);
    assert!(err.starts_with(&format!("error: cannot decode {}", input.join("b.png").display())), "{err}");
}
