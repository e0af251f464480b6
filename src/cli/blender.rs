//! Blender Workbench measured beside `pinsynth bench` (`--blender SCRIPT`): the spec's
//! `gen_scene.py sweep` (`../shared/blender-refs/`) run by Blender in the background, its median
//! seconds per image read back from the JSON it writes. Blender's speed moves with the machine's load
//! as much as pinsynth's does, so a ratio holds only against Blender measured in the same run.

use super::InputError;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Images in Blender's sweep, as the spec measured it (`gen_scene.py sweep --n 30`).
pub const IMAGES: u32 = 30;

/// The Blender program: `$BLENDER`, else `blender` on the PATH (Debian's package).
fn program() -> PathBuf {
    std::env::var_os("BLENDER").map_or_else(|| PathBuf::from("blender"), PathBuf::from)
}

/// Checks what `--blender SCRIPT` needs before anything is measured: the script is a file and Blender
/// starts (`blender --version`).
pub fn check(script: &Path) -> anyhow::Result<()> {
    if !script.is_file() {
        bail!(InputError(format!(
            "--blender {}: no such file (the spec's gen_scene.py, e.g. ../shared/blender-refs/gen_scene.py)",
            script.display()
        )));
    }
    let blender = program();
    let out = Command::new(&blender).arg("--version").output().map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound { "not found".to_string() } else { e.to_string() };
        InputError(format!(
            "--blender: cannot run {}: {what} (install Blender: apt-get install -y blender, or set BLENDER to its path)",
            blender.display()
        ))
    })?;
    if !out.status.success() {
        bail!(InputError(format!("--blender: {} --version failed ({}){}", blender.display(), out.status, tail(&out))));
    }
    Ok(())
}

/// Blender Workbench's median seconds per image for the default scene's sweep at `size`², its images
/// and JSON written under `dir`.
pub fn median_seconds(script: &Path, size: u32, dir: &Path) -> anyhow::Result<f64> {
    let (images, json) = (dir.join(format!("blender-{size}")), dir.join(format!("blender-{size}.json")));
    let _ = std::fs::remove_file(&json); // ok: absent or stale; a run that writes none is caught below
    let blender = program();
    let out = Command::new(&blender)
        .args(["-b", "--factory-startup", "--python"])
        .arg(script)
        .args(["--", "sweep", "--engine", "workbench", "--res", &size.to_string(), "--n", &IMAGES.to_string()])
        .arg("--imgdir")
        .arg(&images)
        .arg("--json")
        .arg(&json)
        .output()
        .with_context(|| format!("running {}", blender.display()))?;
    if !out.status.success() {
        bail!("{} -b --python {} -- sweep failed ({}){}", blender.display(), script.display(), out.status, tail(&out));
    }
    let text = std::fs::read_to_string(&json).with_context(|| {
        format!("reading Blender's sweep summary {} (did the script run?){}", json.display(), tail(&out))
    })?;
    parse_median(&text).with_context(|| format!("Blender's sweep summary {}", json.display()))
}

/// `median_s` of a `gen_scene.py sweep` summary: seconds per image, finite and > 0.
fn parse_median(text: &str) -> anyhow::Result<f64> {
    let value: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    match value.get("median_s").and_then(serde_json::Value::as_f64) {
        Some(s) if s.is_finite() && s > 0.0 => Ok(s),
        Some(s) => bail!("median_s = {s}: expected seconds > 0"),
        None => bail!("no number median_s"),
    }
}

/// The last lines Blender printed, to show with a failure.
fn tail(out: &std::process::Output) -> String {
    let text = [&out.stdout, &out.stderr].map(|b| String::from_utf8_lossy(b).into_owned()).join("\n");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    format!("; its last lines:\n{}", lines[lines.len().saturating_sub(12)..].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_read_from_the_sweep_summary() {
        assert_eq!(parse_median(r#"{"engine": "workbench", "median_s": 0.0712, "n": 30}"#).unwrap(), 0.0712);
        let err = |t: &str| format!("{:#}", parse_median(t).unwrap_err());
        assert_eq!(err(r#"{"min_s": 0.07}"#), "no number median_s");
        assert_eq!(err(r#"{"median_s": "fast"}"#), "no number median_s");
        assert_eq!(err(r#"{"median_s": 0}"#), "median_s = 0: expected seconds > 0");
        assert!(err("SWEEP_SUMMARY").starts_with("not JSON: "), "{}", err("SWEEP_SUMMARY"));
    }
}
