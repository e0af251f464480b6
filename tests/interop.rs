//! Every dataset layout loaded by the real Python library that reads it (pycocotools, datasets,
//! webdataset; Pillow/numpy for the ImageFolder and MVTec AD folder rules), held to the manifest:
//! counts, labels, mask values, mask/annotation equality. One named test per check script in
//! `tests/interop/` and per example in `examples/load_*.py` (so the README's examples cannot rot).
//!
//! The interpreter is `$PINSYNTH_PYTHON`, else `.venv/bin/python` (made by `scripts/setup-python.sh`).
//! Without it or a package: under `CI` every test fails saying what to install; elsewhere each is
//! reported ignored with a loud "skipped" line, never a silent pass.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{python, python_problem, repo};

const PACKAGES: &str = "numpy, PIL, pycocotools, webdataset, datasets";

/// Renders the dataset every check reads: 80 images at 96², every format, small shards (several per
/// split), 1 OK per 2 NG from 25 % OK so that some images are excluded; seed 1 puts all four defect
/// types, five of them missing terminals, into val/test (the MVTec ghost masks). Two cases come
/// first: an id of the longest allowed length (128 characters: its tar members need GNU long names)
/// and one with a dot (its WebDataset key has `_`), then a bent terminal; with depth maps and amodal
/// masks (`--truth depth,amodal`).
fn render(out: &Path) -> Result<(), String> {
    let long = "L".repeat(128);
    // OK images: the minority class here, so balancing keeps them in the layouts.
    let cases = format!(
        "case=[{{ name = \"{long}\" }}, {{ name = \"v1.2\" }}, \
         {{ name = \"bent\", defect = {{ pin = [1, 4], bend = {{ angle_deg = 30, azimuth_deg = 45 }} }} }}]"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_pinsynth"))
        .current_dir(repo())
        .args(["render", "scenes/default.toml", "--quiet", "--out"])
        .arg(out)
        .args(["--format", "imagefolder,mvtec,coco,wds,hf", "--shard-size", "16"])
        .args(["--set", "sweep.count=80", "--set", "sweep.seed=1", "--set", "sweep.ok_fraction=0.25"])
        .args(["--set", "image.width=96", "--set", "image.height=96", "--set", "balance.ok_per_ng=0.5"])
        .args(["--set", &cases, "--truth", "depth,amodal"])
        .output()
        .map_err(|e| format!("cannot run pinsynth: {e}"))?;
    if !o.status.success() {
        return Err(format!("pinsynth render failed: {}", String::from_utf8_lossy(&o.stderr)));
    }
    Ok(())
}

fn run_script(python: &Path, script: &Path, dataset: &Path) -> Result<(), Failed> {
    let o = Command::new(python)
        .arg(script)
        .arg(dataset)
        .env("HF_DATASETS_OFFLINE", "1")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", dataset.join("../hf-home"))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed:\n{}{}",
            script.display(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
        .into())
    }
}

fn scripts() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for (dir, prefix, test) in [("tests/interop", "check_", "interop"), ("examples", "load_", "example")] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                name.starts_with(prefix) && name.ends_with(".py")
            })
            .collect();
        found.sort();
        for p in found {
            let stem = p.file_stem().expect("stem").to_string_lossy().to_string();
            out.push((format!("{test}::{stem}"), p));
        }
    }
    out
}

fn main() {
    let args = Arguments::from_args();
    let python = python();
    let scripts = scripts();
    let problem = python_problem(&python, PACKAGES);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dataset = tmp.path().join("dataset");
    // Render once, only if something will run (not for --list, nor when every test is filtered out).
    let wanted = !args.list && scripts.iter().any(|(name, _)| args.filter.as_ref().is_none_or(|f| name.contains(f)));
    let render_error = if problem.is_none() && wanted { render(&dataset).err() } else { None };
    let trials = scripts
        .into_iter()
        .map(|(name, script)| match (&problem, &render_error) {
            (Some(p), _) if std::env::var_os("CI").is_some() => {
                let msg = format!("{p}; run scripts/setup-python.sh (or set PINSYNTH_PYTHON) before the tests");
                Trial::test(name, move || Err(msg.into()))
            }
            (Some(p), _) => {
                let msg = format!("skipped: {name}: {p}; run scripts/setup-python.sh");
                eprintln!("{msg}");
                // Ignored; and if run anyway (--include-ignored), it fails rather than passes.
                Trial::test(name, move || Err(msg.into())).with_ignored_flag(true)
            }
            (None, Some(e)) => {
                let e = e.clone();
                Trial::test(name, move || Err(e.into()))
            }
            (None, None) => {
                let (python, dataset) = (python.clone(), dataset.clone());
                Trial::test(name, move || run_script(&python, &script, &dataset))
            }
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    drop(tmp);
    conclusion.exit();
}
