//! `--set key.path=value` on the reference scene: the input is split at newlines into overrides.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pinsynth::spec::Scene;
use std::path::Path;

const REFERENCE: &str = include_str!("../../scenes/reference.toml");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sets: Vec<String> = text.split('\n').map(str::to_string).collect();
    match Scene::parse(REFERENCE, Path::new("reference.toml"), &sets) {
        Ok(scene) => {
            let again = Scene::parse(&scene.to_toml(), Path::new("resolved.toml"), &[])
                .unwrap_or_else(|e| panic!("resolved scene does not read back: {e}\n{}", scene.to_toml()));
            assert_eq!(scene, again);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
