//! The Python package's pytest suite (`python/tests/`), run against the `pinsynth` binary this build
//! made: samples equal to the CLI's files, Scene.render, error messages, DataLoader worker splitting,
//! the GIL released. One test, `pytest`, that fails with pytest's output.
//!
//! The interpreter is `$PINSYNTH_PYTHON`, else `.venv/bin/python`, with the package installed by
//! `scripts/setup-python.sh`. Without it: under `CI` the test fails saying what to run; elsewhere it is
//! reported ignored with a loud "skipped" line, never a silent pass. An installed extension older than
//! the Rust sources fails the test (rebuild with `scripts/setup-python.sh`) instead of testing old code.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

mod common;
use common::{python, repo};

/// The suite takes under a minute; a hang must not eat the CI budget.
const TIME_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The installed extension module's file, or why the suite cannot run.
fn installed_extension(python: &Path) -> Result<PathBuf, String> {
    let probe = "import pytest, torch, PIL, numpy, pinsynth._pinsynth as m; print(m.__file__)";
    let out = Command::new(python)
        .args(["-c", probe])
        .env("NODEVICE_SELECT", "1")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{} cannot import pinsynth, pytest and torch: {}",
            python.display(),
            err.trim().lines().last().unwrap_or("")
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The newest modification time of the sources the installed package is built from.
fn newest_source() -> Option<(SystemTime, PathBuf)> {
    fn walk(dir: &Path, newest: &mut Option<(SystemTime, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, newest);
            } else if p.extension().is_some_and(|x| x == "rs" || x == "wgsl" || x == "py")
                && let Ok(t) = e.metadata().and_then(|m| m.modified())
                && newest.as_ref().is_none_or(|(n, _)| t > *n)
            {
                *newest = Some((t, p));
            }
        }
    }
    let mut newest = None;
    for dir in ["src", "shaders", "python/src", "python/pinsynth"] {
        walk(&repo().join(dir), &mut newest);
    }
    newest
}

fn pytest(python: &Path, extension: &Path) -> Result<(), Failed> {
    let built = std::fs::metadata(extension).and_then(|m| m.modified()).map_err(|e| format!("{e}"))?;
    if let Some((_, source)) = newest_source().filter(|(t, _)| *t > built) {
        return Err(format!(
            "the installed extension {} is older than {}: rebuild it with scripts/setup-python.sh",
            extension.display(),
            source.display()
        )
        .into());
    }
    // Output to files (no pipe to drain while waiting); a hung suite is killed, not waited for.
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let file = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut child = Command::new(python)
        .args(["-m", "pytest", "python/tests", "-q", "-p", "no:cacheprovider"])
        .current_dir(repo())
        .env("PINSYNTH_BIN", env!("CARGO_BIN_EXE_pinsynth"))
        .env("NODEVICE_SELECT", "1")
        .stdout(file(&out_path)?)
        .stderr(file(&err_path)?)
        .spawn()
        .map_err(|e| format!("cannot run pytest: {e}"))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("waiting for pytest: {e}"))? {
            break Some(status);
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).to_string();
    let (stdout, stderr) = (read(&out_path), read(&err_path));
    let summary = stdout.trim().lines().last().unwrap_or("").to_string();
    let Some(status) = status else {
        return Err(format!("pytest ran longer than {TIME_LIMIT:?} and was killed:\n{stdout}{stderr}").into());
    };
    match status.code() {
        Some(0) => {
            eprintln!("pytest: {summary}");
            Ok(())
        }
        // pytest's exit code 5: nothing was collected, which must not pass as success.
        Some(5) => Err(format!("pytest collected no tests in python/tests:\n{stdout}").into()),
        code => Err(format!("pytest failed (exit code {code:?}):\n{stdout}{stderr}").into()),
    }
}

fn main() {
    let args = Arguments::from_args();
    let python = python();
    let trial = match installed_extension(&python) {
        Ok(extension) => Trial::test("pytest", move || pytest(&python, &extension)),
        Err(p) if std::env::var_os("CI").is_some() => {
            let msg = format!("{p}; run scripts/setup-python.sh (or set PINSYNTH_PYTHON) before the tests");
            Trial::test("pytest", move || Err(msg.into()))
        }
        Err(p) => {
            let msg = format!("skipped: pytest: {p}; run scripts/setup-python.sh");
            eprintln!("{msg}");
            // Ignored; and if run anyway (--include-ignored), it fails rather than passes.
            Trial::test("pytest", move || Err(msg.into())).with_ignored_flag(true)
        }
    };
    libtest_mimic::run(&args, vec![trial]).exit();
}
