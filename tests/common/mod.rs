//! Helpers shared by the integration tests: running the `pinsynth` binary, reading a dataset back,
//! opening a GPU. Each test crate uses some of them.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use walkdir::WalkDir;

/// The `pinsynth` binary, run from the repository root (so `scenes/…` paths work).
pub fn pinsynth() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pinsynth"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Runs `pinsynth args…` to completion.
pub fn run(args: &[&str]) -> Output {
    pinsynth().args(args).output().expect("run pinsynth")
}

/// The stdout of a successful run; panics with its stderr otherwise.
pub fn ok(out: Output) -> String {
    assert!(out.status.success(), "pinsynth failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every file below `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("walk the tree"))
        .filter(|e| !e.file_type().is_dir())
        .map(|e| e.into_path())
        .collect()
}

/// Every file below `dir` with its bytes, by relative path: two datasets are identical iff their trees are.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p.strip_prefix(dir).expect("under dir").to_path_buf(), bytes)
        })
        .collect()
}

/// The records of `dir/manifest.jsonl` as JSON values.
pub fn manifest(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("manifest.jsonl"))
        .expect("manifest.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The frame maker of `scene`, or a failed test that names the fix: a test that needs a GPU adapter
/// never passes silently without one (skip GPU tests explicitly with `cargo test -- --skip <name>`).
pub fn frame_maker(scene: &pinsynth::spec::Scene) -> pinsynth::pipeline::FrameMaker {
    match pinsynth::pipeline::FrameMaker::new(scene) {
        Ok(m) => m,
        Err(e) => panic!("no Vulkan adapter — install mesa-vulkan-drivers (or a GPU driver): {e}"),
    }
}

/// The repository root (the crate's manifest directory).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path as `&str`, for command-line arguments (test paths are UTF-8).
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The stderr of a run, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A libtest-mimic check: `Err(msg)` when `cond` is false.
pub fn check(cond: bool, msg: impl Into<String>) -> Result<(), libtest_mimic::Failed> {
    if cond { Ok(()) } else { Err(msg.into().into()) }
}

/// The Python interpreter of the Python-side tests: `PINSYNTH_PYTHON`, else the repository's `.venv`
/// (made by scripts/setup-python.sh).
pub fn python() -> PathBuf {
    std::env::var_os("PINSYNTH_PYTHON").map_or_else(|| repo().join(".venv/bin/python"), PathBuf::from)
}

/// Why `python` cannot import `packages` (a comma-separated import list), if it cannot.
pub fn python_problem(python: &Path, packages: &str) -> Option<String> {
    match Command::new(python).args(["-c", &format!("import {packages}")]).output() {
        Err(e) => Some(format!("cannot run {}: {e}", python.display())),
        Ok(o) if !o.status.success() => Some(format!(
            "{} cannot import {packages}: {}",
            python.display(),
            String::from_utf8_lossy(&o.stderr).trim().lines().last().unwrap_or("")
        )),
        Ok(_) => None,
    }
}

/// Writes `expected | diff | actual` side by side into `tests/diffs/<name>.png` (RGB8 images of
/// `w` × `h`); `diff` colours a pixel from its expected and actual colours.
pub fn write_diff_sheet(
    name: &str,
    (w, h): (u32, u32),
    expected: &[u8],
    actual: &[u8],
    diff: impl Fn([u8; 3], [u8; 3]) -> [u8; 3],
) {
    let mut sheet = image::RgbImage::new(w * 3, h);
    for y in 0..h {
        for x in 0..w {
            let i = ((y * w + x) * 3) as usize;
            let e = [expected[i], expected[i + 1], expected[i + 2]];
            let a = [actual[i], actual[i + 1], actual[i + 2]];
            sheet.put_pixel(x, y, image::Rgb(e));
            sheet.put_pixel(w + x, y, image::Rgb(diff(e, a)));
            sheet.put_pixel(2 * w + x, y, image::Rgb(a));
        }
    }
    let dir = repo().join("tests/diffs");
    let _ = std::fs::create_dir_all(&dir);
    let _ = sheet.save(dir.join(format!("{name}.png")));
}

/// The `defect = { … }` line of a `[[case]]` for a Blender reference case's `defect` object (`x`, `y`,
/// `dposX`…, `gradX`…; a bent terminal's `bendHeight`, `bendAngle`, `bendAzimuth`).
pub fn defect_line(d: &serde_json::Map<String, Value>) -> String {
    let g = |k: &str| d.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let bend = if d.contains_key("bendAngle") {
        format!(
            ", bend = {{ height = {}, angle_deg = {}, azimuth_deg = {} }}",
            g("bendHeight"),
            g("bendAngle"),
            g("bendAzimuth")
        )
    } else {
        String::new()
    };
    format!(
        "defect = {{ pin = [{}, {}], dpos = [{}, {}, {}], grad = [{}, {}]{bend} }}\n",
        d["x"],
        d["y"],
        g("dposX"),
        g("dposY"),
        g("dposZ"),
        g("gradX"),
        g("gradY")
    )
}
