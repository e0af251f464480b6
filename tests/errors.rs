//! Bad scene files, one named test each: `tests/data/bad/<name>.toml` beside `<name>.stderr`, the exact
//! text `pinsynth validate` must print. Each must also exit with code 1 (invalid input) and make
//! `pinsynth render` write nothing. Expected texts are written only with `UPDATE_REFS=1`.

mod common;
use common::run as pinsynth;

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/data/bad"))
        .expect("tests/data/bad")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let trials = files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
            Trial::test(name.clone(), move || bad_scene(&name))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn bad_scene(name: &str) -> Result<(), Failed> {
    let rel = format!("tests/data/bad/{name}.toml");
    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/bad/{name}.stderr"));
    let out = pinsynth(&["validate", &rel]);
    let stderr = String::from_utf8(out.stderr)?;
    if std::env::var_os("UPDATE_REFS").is_some() {
        std::fs::write(&expected_path, &stderr)?;
        // A regeneration run is never mistaken for a test run: it writes, then fails.
        return Err(format!("wrote {} (UPDATE_REFS is set); rerun without it to test", expected_path.display()).into());
    }
    let expected = std::fs::read_to_string(&expected_path)
        .map_err(|e| format!("missing {} ({e}); run with UPDATE_REFS=1 to create it", expected_path.display()))?;
    if stderr != expected {
        return Err(format!("stderr differs.\n--- expected\n{expected}--- actual\n{stderr}").into());
    }
    if out.status.code() != Some(1) || !out.stdout.is_empty() {
        return Err(format!(
            "exit code {:?} (expected 1), stdout {:?}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
        )
        .into());
    }
    // The same file given to `render` fails the same way before anything is written.
    let dir = tempfile::tempdir()?;
    let target = dir.path().join("never");
    let out = pinsynth(&["render", &rel, "--out", target.to_str().unwrap_or_default(), "--quiet"]);
    if out.status.code() != Some(1) || target.exists() || String::from_utf8(out.stderr)? != expected {
        return Err(
            format!("render: exit code {:?}, output dir created: {}", out.status.code(), target.exists()).into()
        );
    }
    Ok(())
}
