//! The `pinsynth` binary end to end: determinism, output-directory protection, ground truth that agrees
//! with the written files, and the messages people see when something is wrong.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

mod common;
use common::{ok, tree};

fn pinsynth(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = common::pinsynth();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run pinsynth")
}

const SMALL: &[&str] = &["--set", "sweep.count=30", "--set", "image.width=160", "--set", "image.height=128", "--quiet"];

fn render(out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["render", "scenes/default.toml", "--out", out.to_str().expect("utf-8 path")];
    args.extend_from_slice(SMALL);
    args.extend_from_slice(extra);
    ok(pinsynth(&args, &[]))
}

#[test]
fn same_scene_and_seed_give_identical_bytes_for_any_worker_count() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = ["j1-batch1", "j2", "j2-again", "j2-batch3"].map(|d| tmp.path().join(d));
    render(&dirs[0], &["--jobs", "1", "--batch", "1"]);
    render(&dirs[1], &["--jobs", "2"]);
    render(&dirs[2], &["--jobs", "2"]);
    render(&dirs[3], &["--jobs", "2", "--batch", "3"]);
    let trees = dirs.map(|d| tree(&d));
    assert_eq!(
        trees[0].len(),
        30 * 3 + 4,
        "images + masks + imagefolder links + manifest, resolved scene, preview, summary"
    );
    assert!(trees[0] == trees[1], "1 worker drawing 1 per submission vs 2 drawing 4 differ");
    assert!(trees[1] == trees[2], "two runs with 2 workers differ");
    assert!(trees[0] == trees[3], "images drawn 3 per submission differ from one per submission");
    assert!(trees[1] == trees[3], "images drawn 3 per submission differ from the default 4");
}

#[test]
fn resolved_scene_renders_the_same_dataset_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    render(&a, &[]);
    let resolved = a.join("scene.resolved.toml");
    ok(pinsynth(&["render", resolved.to_str().unwrap(), "--out", b.to_str().unwrap(), "--quiet"], &[]));
    assert_eq!(std::fs::read(a.join("manifest.jsonl")).unwrap(), std::fs::read(b.join("manifest.jsonl")).unwrap());
    assert_eq!(std::fs::read(&resolved).unwrap(), std::fs::read(b.join("scene.resolved.toml")).unwrap());
}

#[test]
fn manifest_agrees_with_masks_and_imagefolder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let summary = render(&dir, &[]);
    assert!(summary.starts_with("30 images (6 OK, 24 NG: "), "{summary}");
    let manifest = std::fs::read_to_string(dir.join("manifest.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = manifest.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 30);
    let mut counts = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["id"], format!("{i:06}"));
        let label = r["label"].as_str().unwrap();
        *counts.entry(label.to_string()).or_insert(0) += 1;
        assert_eq!(r["defect"].is_null(), label == "ok");
        let image = std::fs::read(dir.join(r["image"].as_str().unwrap())).unwrap();
        let split = r["split"].as_str().unwrap();
        assert_eq!(std::fs::read(dir.join(format!("imagefolder/{split}/{label}/{i:06}.png"))).unwrap(), image);
        let mask = image::open(dir.join(r["mask"].as_str().unwrap())).unwrap();
        assert_eq!(mask.color(), image::ColorType::L8, "masks are 8-bit single channel");
        let mask = mask.to_luma8();
        assert_eq!((mask.width(), mask.height()), (160, 128));
        let pins = r["pins"].as_array().unwrap();
        let missing = r["defect"]["missing"].as_bool().unwrap_or(false);
        assert_eq!(pins.len(), if missing { 26 } else { 27 });
        for p in pins {
            let l = p["label"].as_u64().unwrap() as u8;
            assert_eq!(l as u64, 1 + 9 * p["x"].as_u64().unwrap() + p["y"].as_u64().unwrap());
            let n = mask.pixels().filter(|px| px[0] == l).count() as u64;
            assert_eq!(p["pixels"].as_u64().unwrap(), n, "pixel count of label {l}");
            if n > 0 {
                let bbox: Vec<u32> = p["bbox"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
                let inside =
                    |x: u32, y: u32| x >= bbox[0] && x < bbox[0] + bbox[2] && y >= bbox[1] && y < bbox[1] + bbox[3];
                assert!(
                    mask.enumerate_pixels().all(|(x, y, px)| px[0] != l || inside(x, y)),
                    "bbox of {l} not enclosing"
                );
                for edge in [
                    (bbox[0], bbox[1], bbox[0], bbox[1] + bbox[3] - 1),
                    (bbox[0] + bbox[2] - 1, bbox[1], bbox[0] + bbox[2] - 1, bbox[1] + bbox[3] - 1),
                ] {
                    assert!((edge.1..=edge.3).any(|y| mask.get_pixel(edge.0, y)[0] == l), "bbox of {l} not tight in x");
                }
            }
            let top: Vec<f64> = p["top_px"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            let under = mask.get_pixel(top[0].floor() as u32, top[1].floor() as u32)[0];
            // Straight terminals stand at z = 1, above any displaced one, so their tops are always visible.
            if !p["defective"].as_bool().unwrap() {
                assert_eq!(under, l, "record {i}: label under the top centre of terminal {l}");
            } else {
                assert!((1..=27).contains(&under), "record {i}: defective terminal's top over {under}");
            }
        }
    }
    assert_eq!(counts["ok"], 6);
    assert_eq!(counts["ng"], 24);
    let in_class = |label: &str| {
        ["train", "val", "test"]
            .iter()
            .filter_map(|s| std::fs::read_dir(dir.join(format!("imagefolder/{s}/{label}"))).ok())
            .map(|d| d.count())
            .sum::<usize>()
    };
    assert_eq!(in_class("ok"), 6);
    assert_eq!(in_class("ng"), 24);
    let preview = image::open(dir.join("preview.png")).unwrap();
    assert!(preview.width() > 160 && preview.height() >= 128);
}

#[test]
fn non_empty_output_directory_is_refused_then_overwritten_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
    let out = pinsynth(&["render", "scenes/default.toml", "--out", dir.to_str().unwrap(), "--quiet"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "error: output directory {} is not empty (1 entries); choose another directory or pass --overwrite to replace pinsynth's outputs in it\n",
            dir.display()
        )
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    render(&dir, &["--overwrite"]);
    assert_eq!(
        std::fs::read(dir.join("notes.txt")).unwrap(),
        b"mine",
        "--overwrite keeps files that are not pinsynth's"
    );
    assert!(dir.join("manifest.jsonl").exists());
    assert!(!tree(&dir).keys().any(|p| p.to_string_lossy().ends_with(".partial")));
}

#[test]
fn missing_vulkan_driver_says_what_to_install() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("never");
    let hide = [("VK_ICD_FILENAMES", "/nonexistent/icd.json"), ("VK_DRIVER_FILES", "/nonexistent/icd.json")];
    let out = pinsynth(&["render", "scenes/default.toml", "--out", dir.to_str().unwrap(), "--quiet"], &hide);
    assert_eq!(out.status.code(), Some(2), "a runtime failure, not bad input");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: no GPU adapter found ("), "{stderr}");
    assert!(
        stderr.contains(
            "\n  On Debian/Ubuntu install the software Vulkan driver: `sudo apt-get install mesa-vulkan-drivers`"
        ),
        "{stderr}"
    );
    assert!(!dir.exists(), "nothing written without a GPU");
    let out = pinsynth(&["info"], &hide);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_override_is_reported_with_the_file_and_assignment() {
    let out = pinsynth(&["validate", "scenes/default.toml", "--set", "image.width"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: scenes/default.toml: invalid --set \"image.width\": expected key.path=value\n"
    );
    let out =
        pinsynth(&["validate", "scenes/default.toml", "--set", "image.width=9999", "--set", "layout.kind=hex"], &[]);
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: scenes/default.toml: invalid scene (2 problems)\n  - image.width = 9999: out of range, allowed 8..=4096\n  - layout.kind = \"hex\": not one of \"square\", \"round\", \"triangle\", \"mixed\", \"pattern\"\n"
    );
}

#[test]
fn validate_prints_a_scene_that_loads_back() {
    let text = ok(pinsynth(&["validate", "scenes/default.toml", "--set", "image.width=512"], &[]));
    assert!(text.contains("[image]\nwidth = 512\n"), "{text}");
    assert!(text.ends_with("# scenes/default.toml: valid, 300 images\n"), "{text}");
    let scene = pinsynth::spec::Scene::parse(&text, Path::new("printed.toml"), &[]).unwrap();
    assert_eq!(scene.image.width, 512);
}

#[test]
fn bad_arguments_are_invalid_input() {
    let out = pinsynth(&["render", "scenes/default.toml", "--out", "x", "--shard", "3/2"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let out = pinsynth(&["render", "--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().starts_with("error: unexpected argument '--no-such-flag' found"));
    let out = pinsynth(&["--version"], &[]);
    assert_eq!(
        (out.status.code(), String::from_utf8(out.stdout).unwrap()),
        (Some(0), format!("pinsynth {}\n", env!("CARGO_PKG_VERSION")))
    );
}

/// A stand-in for Blender that answers `--version` and, for `gen_scene.py sweep`, writes the summary
/// JSON with a median of 0.05 s the first time and 0.08 s after (its calls counted in `calls`).
#[cfg(unix)]
fn fake_blender(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-blender");
    let calls = dir.join("calls");
    let script = format!(
        r#"#!/bin/sh
[ "$1" = "--version" ] && {{ echo "Blender 3.4.1"; exit 0; }}
echo "$*" >> "{calls}"
json=""
while [ $# -gt 0 ]; do [ "$1" = "--json" ] && json="$2"; shift; done
if [ $(wc -l < "{calls}") -eq 1 ]; then m=0.05; else m=0.08; fi
echo "{{\"engine\": \"workbench\", \"median_s\": $m}}" > "$json"
"#,
        calls = calls.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn bench_with_blender_compares_each_row_with_blender_measured_before_and_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    let blender = fake_blender(tmp.path());
    let script = tmp.path().join("gen_scene.py");
    std::fs::write(&script, "# the spec's script; the stand-in does not read it\n").unwrap();
    let out_dir = tmp.path().join("bench");
    std::fs::create_dir(&out_dir).unwrap();
    let (dir, script_arg) = (out_dir.to_str().expect("utf-8 path"), script.to_str().expect("utf-8 path"));
    let args =
        ["bench", "--sizes", "64", "--antialias", "none", "--count", "100", "--dir", dir, "--blender", script_arg];
    let env = [("BLENDER", blender.to_str().expect("utf-8 path"))];
    let out = ok(pinsynth(&args, &env));
    // Blender ran twice at 64², with the spec's sweep, before and after the rows.
    let calls = std::fs::read_to_string(tmp.path().join("calls")).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    for call in &calls {
        assert!(
            call.starts_with(&format!(
                "-b --factory-startup --python {script_arg} -- sweep --engine workbench --res 64 --n 30 --imgdir "
            )),
            "{call}"
        );
    }
    let lines: Vec<&str> = out.lines().collect();
    let position = |prefix: &str| lines.iter().position(|l| l.trim_start().starts_with(prefix));
    let (before, row, after) = (
        position("Blender Workbench before the rows, 64x64: 0.0500 s per image (median of 30)"),
        position("64  none"),
        position("Blender Workbench after the rows, 64x64: 0.0800 s per image (median of 30)"),
    );
    assert!(before < row && row < after && before.is_some(), "{out}");
    // One untimed row after Blender's first run, before the measured rows (32 images: fewer than a row).
    let warm_up = position("(warm-up: 32 images at 64x64, none, untimed)");
    assert!(before < warm_up && warm_up < row, "{out}");
    let rate: f64 = lines[row.unwrap()].split_whitespace().nth(4).unwrap().parse().unwrap();
    let compared = lines
        .iter()
        .filter(|l| l.trim_start().starts_with("64  none"))
        .nth(1)
        .unwrap_or_else(|| panic!("no comparison row in:\n{out}"));
    let cells: Vec<&str> = compared.split_whitespace().collect();
    // size, aa, truth, images/s, Blender before, after, the row's rate times each.
    assert_eq!(cells[3..6], [format!("{rate:.0}"), "0.0500".into(), "0.0800".into()], "{compared}");
    // (The rate is printed rounded to a whole image: its products may round either way by one.)
    let ratios: Vec<f64> = cells[6].trim_end_matches('x').split('-').map(|r| r.parse().unwrap()).collect();
    assert_eq!(ratios.len(), 2, "{compared}");
    for (ratio, seconds) in ratios.iter().zip([0.05, 0.08]) {
        assert!((ratio - rate * seconds).abs() <= 0.5 + 0.5 * seconds, "{compared}: {rate} x {seconds}");
    }
    // The bench removes what it and Blender wrote.
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0);
}

#[test]
fn bench_with_blender_refuses_a_missing_script_or_blender_before_measuring_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().expect("utf-8 path");
    let script = tmp.path().join("gen_scene.py");
    let bench = |script: &Path, env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["bench", "--sizes", "64", "--count", "10", "--dir", dir, "--blender"];
        args.push(script.to_str().expect("utf-8 path"));
        args.extend_from_slice(extra);
        let out = pinsynth(&args, env);
        (out.status.code(), String::from_utf8(out.stderr).unwrap(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, err, stdout) = bench(&script, &[], &[]);
    assert_eq!(
        (code, err.as_str(), stdout.as_str()),
        (
            Some(1),
            format!(
                "error: --blender {}: no such file (the spec's gen_scene.py, e.g. ../shared/blender-refs/gen_scene.py)\n",
                script.display()
            )
            .as_str(),
            ""
        )
    );
    std::fs::write(&script, "").unwrap();
    let missing = tmp.path().join("no-blender");
    let (code, err, stdout) = bench(&script, &[("BLENDER", missing.to_str().unwrap())], &[]);
    assert_eq!(
        (code, err.as_str(), stdout.as_str()),
        (
            Some(1),
            format!(
                "error: --blender: cannot run {}: not found (install Blender: apt-get install -y blender, or set BLENDER to its path)\n",
                missing.display()
            )
            .as_str(),
            ""
        )
    );
    let (code, err, _) = bench(&script, &[], &["--scene", "scenes/default.toml"]);
    assert_eq!(
        (code, err.as_str()),
        (Some(1), "error: --blender measures Blender on the default scene only (the script builds it): drop --scene\n")
    );
    // Nothing was written.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn bench_prints_each_row_with_its_first_image_and_the_rate_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().expect("utf-8 path");
    let args = ["bench", "--sizes", "64", "--antialias", "none", "--count", "200", "--dir", dir];
    let out = ok(pinsynth(&args, &[]));
    let row: Vec<&str> = out
        .lines()
        .find(|l| l.trim_start().starts_with("64  none"))
        .unwrap_or_else(|| panic!("no 64² row in:\n{out}"))
        .split_whitespace()
        .collect();
    // size, aa, truth, seconds, images/s, x Blender WB, CPU ms/img, first image s, images/s after.
    assert_eq!(row.len(), 9, "{row:?}");
    let num = |i: usize| row[i].parse::<f64>().unwrap_or_else(|_| panic!("column {i} of {row:?}"));
    let (seconds, rate, first, after) = (num(3), num(4), num(7), num(8));
    assert!(first > 0.0 && first <= seconds + 0.005, "first image at {first} s of {seconds} s");
    assert!(rate > 0.0 && after > 0.0, "{row:?}");
    // The row's images over its time: 200 images at `rate`, 199 of them at `after` after the first
    // (the times are printed to the millisecond).
    let near = |images: f64, n: f64, span: f64| (images - n).abs() <= n * 0.0011 / span + 1.0;
    assert!(near(rate * seconds, 200.0, seconds), "{row:?}");
    assert!(near(after * (seconds - first), 199.0, seconds - first), "{row:?}");
    // An untimed row of 32 images first.
    assert!(out.lines().any(|l| l == "(warm-up: 32 images at 64x64, none, untimed)"), "{out}");
    // The bench removes what it wrote.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
