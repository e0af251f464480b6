//! `augment run --config ops.toml`: any bytes give options or a clear error; valid options draw ops.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pinsynth::augment::AugmentSpec;
use rand::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok((spec, problems)) = AugmentSpec::parse_toml(text, "fuzz.toml") else { return };
    match spec.validate_with("fuzz.toml", problems) {
        Ok(aug) => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(data.len() as u64);
            for (w, h) in [(1, 1), (19, 40), (640, 480)] {
                let _ = aug.draw(&mut rng, w, h);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
