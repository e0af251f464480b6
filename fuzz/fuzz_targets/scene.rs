//! Scene files: any bytes give a valid scene or a clear error, never a panic; a valid scene's resolved
//! form (`scene.resolved.toml`) reads back to the same scene, and a valid scene's images can be drawn.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pinsynth::spec::Scene;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(scene) = Scene::parse(text, Path::new("fuzz.toml"), &[]) {
        let again = Scene::parse(&scene.to_toml(), Path::new("resolved.toml"), &[])
            .unwrap_or_else(|e| panic!("resolved scene does not read back: {e}\n{}", scene.to_toml()));
        assert_eq!(scene, again, "resolved scene reads back differently");
        // Per-image parameters and posing must not panic for any valid scene: first and last image.
        for index in [0, scene.image_count() - 1] {
            let params = pinsynth::sweep::image_params(&scene, index);
            let _ = pinsynth::geometry::pose(&scene, &params);
        }
    } else if let Err(e) = Scene::parse(text, Path::new("fuzz.toml"), &[]) {
        let _ = e.to_string();
    }
});
