//! Every input a user can give: the exact messages for long and colliding ids, corrupt images,
//! Ctrl-C and error causes, and one option vocabulary across subcommands. (Bad scene files with their
//! exact text live in tests/data/bad/, run by tests/errors.rs.)

use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{ok, path_str as s, run as pinsynth, stderr, tree};

// ---- 3: ids of every allowed length in WebDataset shards ------------------------------------------

#[test]
fn a_128_character_id_goes_into_every_layout_and_its_tar_member_keeps_the_full_name() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "L".repeat(128);
    let scene = tmp.path().join("long.toml");
    std::fs::write(
        &scene,
        format!(
            "[split]\ntrain = 1\nval = 0\ntest = 0\n[[case]]\nname = \"{long}\"\n\
             defect = {{ pin = [1, 4], grad = [20, 0] }}\n[[case]]\nname = \"v1.2\"\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("ds");
    ok(pinsynth(&["render", s(&scene), "--out", s(&out), "--format", "imagefolder,mvtec,coco,wds,hf", "-q"]));
    let mut archive = tar::Archive::new(std::fs::File::open(out.join("wds/train-000000.tar")).unwrap());
    let names: Vec<String> =
        archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
    let want: Vec<String> = [&long, "v1_2"]
        .iter()
        .flat_map(|k| ["png", "mask.png", "json", "cls"].map(|ext| format!("{k}.{ext}")))
        .collect();
    assert_eq!(names, want);
    assert!(out.join(format!("imagefolder/train/ng/{long}.png")).is_file());
    assert!(!out.join("manifest.jsonl.partial").exists());
}

// ---- 6: messages and one vocabulary -------------------------------------------------------------

#[test]
fn a_cause_is_printed_only_when_it_adds_something() {
    let tmp = tempfile::tempdir().unwrap();
    let scene = tmp.path().join("latin1.toml");
    std::fs::write(&scene, b"[image]\nwidth = 224 # \xe9\n").unwrap();
    let o = pinsynth(&["validate", s(&scene)]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("error: cannot read scene file {}: stream did not contain valid UTF-8\n", s(&scene))
    );
}

#[test]
fn help_describes_what_commands_do_and_every_subcommand_speaks_quiet_and_jobs() {
    let help = ok(pinsynth(&["--help"]));
    assert!(help.contains("augment   Augment photos or datasets: a cut/flip/turn plan to review and apply"), "{help}");
    for args in
        [&["--help"][..], &["augment", "--help"], &["augment", "plan", "--help"], &["augment", "apply", "--help"]]
    {
        let text = ok(pinsynth(args)).to_lowercase();
        assert!(!text.contains("seed-000") && !text.contains("seed 000"), "{args:?}: {text}");
    }
    for cmd in [
        &["render"][..],
        &["merge"],
        &["augment", "plan"],
        &["augment", "apply"],
        &["augment", "run"],
        &["augment", "bench"],
    ] {
        let text = ok(pinsynth(&[cmd, &["--help"]].concat()));
        assert!(text.contains("-q, --quiet"), "{cmd:?} has no -q/--quiet:\n{text}");
    }
    for cmd in [&["render"][..], &["bench"], &["augment", "apply"], &["augment", "run"], &["augment", "bench"]] {
        let text = ok(pinsynth(&[cmd, &["--help"]].concat()));
        assert!(text.contains("-j, --jobs"), "{cmd:?} has no -j/--jobs:\n{text}");
        assert!(!text.contains("--threads"), "{cmd:?} shows the old name:\n{text}");
    }
    // The old name still works (hidden alias).
    let tmp = tempfile::tempdir().unwrap();
    let o = pinsynth(&["augment", "run", s(tmp.path()), "--out", s(&tmp.path().join("o")), "--threads", "1"]);
    assert_eq!(stderr(&o), "error: no augmentation operation given (e.g. --rotation-range 20 or --horizontal-flip)\n");
}

// ---- 2: the largest amplitude named in the message is itself accepted ---------------------------

#[test]
fn the_largest_allowed_jitter_named_in_the_error_is_accepted_and_a_little_more_is_not() {
    for (file, key, named, more) in [
        ("tests/data/bad/randomize_camera_reaches_look_at.toml", "camera_jitter", "[0, 0, 13.899]", "[0, 0, 13.9]"),
        ("tests/data/bad/randomize_up_parallel.toml", "look_at_jitter", "[2.799, 0, 0]", "[2.8, 0, 0]"),
    ] {
        let o = pinsynth(&["validate", file]);
        assert!(stderr(&o).contains(&format!("largest allowed amplitude {named}")), "{}", stderr(&o));
        ok(pinsynth(&["validate", file, "--set", &format!("randomize.{key}={named}")]));
        let o = pinsynth(&["validate", file, "--set", &format!("randomize.{key}={more}")]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    }
}

// ---- 5: Ctrl-C ------------------------------------------------------------------------------------

/// Still running when the test sees its first records (two workers, 3 × 3 supersampling), quick anyway.
const SLOW: &[&str] = &[
    "--set",
    "sweep.count=150",
    "--set",
    "image.width=224",
    "--set",
    "image.height=224",
    "--set",
    "image.antialias=ssaa3",
    "--format",
    "imagefolder,coco,wds",
    "--jobs",
    "2",
    "--quiet",
];

#[test]
fn ctrl_c_stops_with_a_consistent_journal_and_resume_gives_the_uninterrupted_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, stopped) = (tmp.path().join("whole"), tmp.path().join("stopped"));
    fn args(out: &Path) -> Vec<&str> {
        [&["render", "scenes/default.toml", "--out", s(out)][..], SLOW].concat()
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_pinsynth"))
        .args(args(&stopped))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let journal = stopped.join("manifest.jsonl.partial");
    // Wait for records (a count, not a duration): the handler is installed before rendering starts.
    while std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count()) < 10 {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be interrupted");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    // The journal holds exactly the images that were finished, every one complete.
    let records = std::fs::read_to_string(&journal).unwrap();
    let n = records.lines().count();
    assert!(records.ends_with('\n') && n < 150, "{n} records");
    assert_eq!(stderr(&out), format!("interrupted after {n} of 150 images; rerun with --resume\n"));
    assert_eq!(
        std::fs::read_dir(stopped.join("images")).unwrap().count(),
        n,
        "in-flight images finished, none half-done"
    );
    assert!(!stopped.join("manifest.jsonl").exists() && !stopped.join("summary.json").exists());

    ok(pinsynth(&args(&whole)));
    let resumed = ok(pinsynth(&[args(&stopped), vec!["--resume"]].concat()));
    assert!(resumed.starts_with("150 images ("), "{resumed}");
    assert!(tree(&whole) == tree(&stopped), "the resumed run differs from the uninterrupted one");
}

// ---- 4: truncated and corrupt images --------------------------------------------------------------

/// A 640 × 480 photo-like JPEG (about 100 kB) and a PNG, each whole and cut short.
fn photos(dir: &Path) -> (usize, usize) {
    use image::{DynamicImage, RgbImage};
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(640, 480, |x, y| {
        let n = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) >> 7;
        image::Rgb([(x / 3) as u8 ^ n as u8, (y / 2) as u8, (n >> 3) as u8])
    }));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let mut jpeg = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    std::fs::write(dir.join("good.jpg"), &jpeg).unwrap();
    std::fs::write(dir.join("cut.jpg"), &jpeg[..4096]).unwrap();
    std::fs::write(dir.join("sub/good.png"), &png).unwrap();
    // Without its 12-byte IEND chunk: the pixel data is whole and a lenient decoder reads it.
    std::fs::write(dir.join("sub/cut.png"), &png[..png.len() - 12]).unwrap();
    (jpeg.len(), png.len())
}

fn files(dir: &Path) -> Vec<String> {
    tree(dir).keys().map(|p| p.to_string_lossy().into_owned()).collect()
}

#[test]
fn truncated_jpeg_and_png_are_reported_by_name_skipped_and_fatal_with_strict() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("photos");
    let (_, png_len) = photos(&input);
    let cut_jpg = format!(
        "{}: truncated JPEG: the scan data is cut off, the file ends at byte 4096 before the end-of-image marker (FF D9)",
        s(&input.join("cut.jpg"))
    );
    let cut_png = format!(
        "{}: truncated PNG: the file ends at byte {} before the IEND chunk",
        s(&input.join("sub/cut.png")),
        png_len - 12
    );

    // plan: reads every file whole, lists only the sound ones.
    let plan = tmp.path().join("plan.csv");
    let o = pinsynth(&["augment", "plan", s(&input), "-o", s(&plan)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), format!("warning: skipped {cut_jpg}\nwarning: skipped {cut_png}\n"));
    let listed = std::fs::read_to_string(&plan).unwrap();
    assert!(listed.contains("good.jpg") && listed.contains("good.png") && !listed.contains("cut."), "{listed}");
    let o = pinsynth(&["augment", "plan", s(&input), "-o", s(&tmp.path().join("strict.csv")), "--strict"]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(1), format!("error: {cut_jpg}\n")));
    assert!(!tmp.path().join("strict.csv").exists());

    // apply: a plan that lists the cut files anyway (made before they were cut, say).
    let mut rows = String::from("file,height,width,cut,reverse,plus90\n");
    for f in ["good.jpg", "cut.jpg", "sub/good.png", "sub/cut.png"] {
        rows.push_str(&format!("{},480,640,no,yes,yes\n", s(&input.join(f))));
    }
    std::fs::write(&plan, rows).unwrap();
    let out = tmp.path().join("applied");
    let o = pinsynth(&["augment", "apply", s(&plan), "--out", s(&out), "--root", s(&input), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), format!("warning: skipped {cut_jpg}\nwarning: skipped {cut_png}\n"));
    assert_eq!(
        files(&out),
        [
            "good(flip_lr).jpg",
            "good(plus90).jpg",
            "good.jpg",
            "sub/good(flip_lr).png",
            "sub/good(plus90).png",
            "sub/good.png"
        ]
    );
    let o =
        pinsynth(&["augment", "apply", s(&plan), "--out", s(&tmp.path().join("a2")), "--root", s(&input), "--strict"]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(1), format!("error: {cut_jpg}\n")));

    // run: the same for Keras-style copies.
    let out = tmp.path().join("aug");
    let o = pinsynth(&["augment", "run", s(&input), "--out", s(&out), "--horizontal-flip", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), format!("warning: skipped {cut_jpg}\nwarning: skipped {cut_png}\n"));
    assert_eq!(files(&out), ["good.jpg", "good_aug001.jpg", "sub/good.png", "sub/good_aug001.png"]);
    let o =
        pinsynth(&["augment", "run", s(&input), "--out", s(&tmp.path().join("r2")), "--horizontal-flip", "--strict"]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(1), format!("error: {cut_jpg}\n")));
}

#[test]
fn a_truncated_image_in_a_pinsynth_dataset_is_skipped_with_its_record() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    ok(pinsynth(&[
        "render",
        "scenes/default.toml",
        "--out",
        s(&ds),
        "--set",
        "sweep.count=6",
        "--set",
        "image.width=64",
        "--set",
        "image.height=64",
        "-q",
        "--preview",
        "0",
    ]));
    let victim = ds.join("images/000002.png");
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let out = tmp.path().join("aug");
    let o = pinsynth(&["augment", "run", s(&ds), "--out", s(&out), "--horizontal-flip", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.starts_with(&format!("warning: skipped {}: truncated PNG: chunk IDAT at byte ", s(&victim))), "{e}");
    // 000002 is in val (augmented when sound); 000001 and 000003 are test images (copied only).
    assert_eq!(
        files(&out.join("images")),
        [
            "000000.png",
            "000000_aug001.png",
            "000001.png",
            "000003.png",
            "000004.png",
            "000004_aug001.png",
            "000005.png",
            "000005_aug001.png"
        ]
    );
    let manifest = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    assert!(!manifest.contains("000002"), "no record derived from the cut image");
}
