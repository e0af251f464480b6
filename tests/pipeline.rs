//! The library's one-image entry point is the path a dataset run takes: `FrameMaker::frame(i)` gives
//! the same pixels (after the photometric randomization), mask and manifest record as image `i` of a
//! rendered dataset, and an index outside the scene is an error naming the range.

mod common;

use pinsynth::pipeline::FrameMaker;
use pinsynth::spec::Scene;
use std::path::{Path, PathBuf};

/// Renders `scenes/default.toml` with `sets` into a temporary folder (the CLI's `render`); returns the
/// folder (removed when dropped), the dataset's path and a frame maker of the same scene.
fn rendered(sets: &[&str]) -> (tempfile::TempDir, PathBuf, FrameMaker) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ds");
    let mut args = vec!["render", "scenes/default.toml", "--quiet", "--preview", "0", "--out", out.to_str().unwrap()];
    for s in sets {
        args.extend(["--set", s]);
    }
    common::ok(common::run(&args));
    let overrides: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let scene = Scene::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/default.toml"), &overrides).unwrap();
    (dir, out, common::frame_maker(&scene))
}

#[test]
fn a_frame_is_the_image_the_dataset_holds() {
    let (_dir, out, mut maker) = rendered(&[
        "sweep.count=4",
        "image.width=64",
        "image.height=48",
        "randomize.noise_sd=3",
        "randomize.brightness=[-0.1, 0.1]",
    ]);
    let lines: Vec<String> =
        std::fs::read_to_string(out.join("manifest.jsonl")).unwrap().lines().map(String::from).collect();
    assert_eq!(lines.len(), 4);
    for (i, line) in lines.iter().enumerate() {
        let frame = maker.frame(i as u64).unwrap();
        assert_eq!(&frame.record.to_json().unwrap(), line, "record {i}");
        assert!(frame.record.randomize.as_ref().is_some_and(|r| r.noise_sd == Some(3.0)));
        let p = &frame.pixels;
        let rgb = image::open(out.join(&frame.record.image)).unwrap().into_rgb8().into_raw();
        let mask = image::open(out.join(&frame.record.mask)).unwrap().into_luma8().into_raw();
        assert!(rgb == p.rgb, "image {i}: the frame's pixels differ from images/");
        assert!(mask == p.mask, "image {i}: the frame's mask differs from masks/");
    }
    let err = maker.frame(4).err().map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some("image index 4 is out of range: the scene makes 4 images (0..4)"));
}

/// Images of a sweep are encoded by reusing the rows of the kept frame they were drawn over (OK
/// images, images drawn in part, repeated defects): every file holds the bytes a whole encoding of
/// its pixels gives, and those pixels are the frame's.
#[test]
fn images_encoded_over_a_kept_frame_are_the_bytes_of_encoding_them_whole() {
    let (_dir, out, mut maker) = rendered(&[
        "sweep.count=40",
        "sweep.ok_fraction=0.2",
        "sweep.pins=[[0, 1], [2, 7], [1, 4]]",
        "sweep.weights.missing=2.0",
        "image.width=96",
        "image.height=80",
    ]);
    let mut distinct = std::collections::HashSet::new();
    for i in 0..40u64 {
        let frame = maker.frame(i).unwrap();
        let path = out.join(&frame.record.image);
        let bytes = std::fs::read(&path).unwrap();
        let rgb = image::load_from_memory(&bytes).unwrap().into_rgb8();
        let whole = pinsynth::codec::png_rgb(rgb.as_raw(), rgb.width(), rgb.height()).unwrap();
        assert!(bytes == whole, "{}: not the bytes of encoding its pixels whole", path.display());
        assert!(rgb.as_raw() == &frame.pixels.rgb, "{}: not the frame's pixels", path.display());
        let mask_path = out.join(&frame.record.mask);
        let bytes = std::fs::read(&mask_path).unwrap();
        let mask = image::load_from_memory(&bytes).unwrap().into_luma8();
        let whole = pinsynth::codec::png_gray(mask.as_raw(), mask.width(), mask.height()).unwrap();
        assert!(bytes == whole, "{}: not the bytes of encoding its mask whole", mask_path.display());
        assert!(mask.as_raw() == &frame.pixels.mask, "{}: not the frame's mask", mask_path.display());
        distinct.insert(rgb.into_raw());
    }
    // OK images and repeated missing terminals share pixels: some images are copies.
    assert!(distinct.len() < 35, "{} distinct images of 40", distinct.len());
}
