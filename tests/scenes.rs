//! The example scenes in scenes/, one named test each (found on disk, so a new scene is tested without
//! editing this file): every scene loads, makes images, and its resolved form loads back to the same
//! scene. `reference.toml` must list the real defaults.

use libtest_mimic::{Arguments, Failed, Trial};
use pinsynth::spec::Scene;
use std::path::{Path, PathBuf};

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenes/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut trials: Vec<Trial> = paths
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
            Trial::test(format!("scene::{name}"), move || check_scene(&path))
        })
        .collect();
    trials.push(Trial::test("reference_scene_lists_the_actual_defaults", reference_lists_the_defaults));
    libtest_mimic::run(&args, trials).exit();
}

fn check_scene(path: &Path) -> Result<(), Failed> {
    let scene = Scene::load(path, &[]).map_err(|e| e.to_string())?;
    if scene.image_count() == 0 {
        return Err(format!("{} renders nothing", path.display()).into());
    }
    let again = Scene::parse(&scene.to_toml(), Path::new("resolved.toml"), &[]).map_err(|e| e.to_string())?;
    if again != scene {
        return Err("its scene.resolved.toml does not load back to the same scene".into());
    }
    // What the README says about two of them.
    let expect = match path.file_stem().and_then(|s| s.to_str()) {
        Some("default") => Some((scene.image_count(), 300)),
        Some("blog_cases") => Some((scene.cases.len() as u64, 6)),
        _ => None,
    };
    match expect {
        Some((got, want)) if got != want => Err(format!("{got} images or cases, the README says {want}").into()),
        _ => Ok(()),
    }
}

fn reference_lists_the_defaults() -> Result<(), Failed> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/reference.toml");
    let reference = Scene::load(&path, &[]).map_err(|e| e.to_string())?;
    let defaults = Scene::parse("[sweep]", Path::new("empty.toml"), &[]).map_err(|e| e.to_string())?;
    if reference != defaults {
        return Err("scenes/reference.toml differs from the built-in defaults".into());
    }
    Ok(())
}
