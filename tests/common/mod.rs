//! Helpers shared by the integration tests: running the `pinsynth` binary, reading a dataset back,
//! opening a GPU. Each test crate uses some of them.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The stdout of a successful run; panics with its stderr otherwise.
pub fn ok(out: Output) -> String {
    assert!(out.status.success(), "pinsynth failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every file below `dir` with its bytes, by relative path: two datasets are identical iff their trees are.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).expect("prefix").to_path_buf(), std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// The frame maker of `scene`, or a failed test that names the fix: a test that needs a GPU adapter
/// never passes silently without one (skip GPU tests explicitly with `cargo test -- --skip <name>`).
pub fn frame_maker(scene: &pinsynth::spec::Scene) -> pinsynth::pipeline::FrameMaker {
    match pinsynth::pipeline::FrameMaker::new(scene) {
        Ok(m) => m,
        Err(e) => panic!("no Vulkan adapter — install mesa-vulkan-drivers (or a GPU driver): {e}"),
    }
}
