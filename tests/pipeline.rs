//! The library's one-image entry point is the path a dataset run takes: `FrameMaker::frame(i)` gives
//! the same pixels (after the photometric randomization), mask and manifest record as image `i` of a
//! rendered dataset, and an index outside the scene is an error naming the range.

mod common;

use pinsynth::spec::Scene;
use std::path::Path;

#[test]
fn a_frame_is_the_image_the_dataset_holds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ds");
    let sets = [
        "sweep.count=4",
        "image.width=64",
        "image.height=48",
        "randomize.noise_sd=3",
        "randomize.brightness=[-0.1, 0.1]",
    ];
    let mut args = vec!["render", "scenes/default.toml", "--quiet", "--preview", "0", "--out", out.to_str().unwrap()];
    for s in &sets {
        args.extend(["--set", s]);
    }
    common::ok(common::run(&args));
    let overrides: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let scene = Scene::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/default.toml"), &overrides).unwrap();
    let mut maker = common::frame_maker(&scene);
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
