//! pinsynth: synthetic connector-inspection datasets rendered headless with wgpu.
//!
//! Data flows one way, and the modules are layered in that order (`tests/architecture.rs` fails when a
//! `use crate::…` points back up):
//!
//! 1. [`spec`]: scene TOML → validated, fully resolved [`spec::Scene`].
//! 2. Per-image parameters, a pure function of the scene, its seed and the image index:
//!    [`randomize`] (domain-randomized values), [`sweep`] (the defect), [`split`] (train/val/test and
//!    `[balance]`), gathered into [`params::ImageParams`] by [`params::Planner`].
//! 3. [`geometry`] (world transforms and defect semantics from the rules in [`conventions`]) →
//!    [`render`] (wgpu: pixels + instance mask) → [`truth`] (the manifest [`truth::Record`]).
//! 4. [`pipeline`]: the frame step joining 2–3 — [`pipeline::FrameMaker::frame`] turns an image index
//!    into a [`pipeline::Frame`] (pixels after every image effect + ground truth). This is the
//!    library's one-image entry point, used by [`run`] itself and by language bindings.
//! 5. [`dataset`] writers (manifest, layouts, preview, `summary.json`) → [`shard`] (`--shard`,
//!    `merge`, `--resume`) → [`run`], which drives the chain over many images.
//!
//! Beside the chain, used by any step: [`conventions`] (scene geometry rules), [`seed`] (hashes and
//! random streams), [`atomic`] (files written whole or not at all), [`codec`] (PNG), [`meshfile`]
//! (STL, OBJ, glTF meshes), [`progress`]. [`augment`] works on any image folder and on pinsynth
//! datasets, reusing the dataset's record type and file writes. [`score`] and [`report`] read
//! finished datasets (and heat maps) back.

pub mod atomic;
pub mod augment;
pub mod codec;
pub mod conventions;
pub mod dataset;
pub mod geometry;
pub mod meshfile;
pub mod params;
pub mod pipeline;
pub mod progress;
pub mod randomize;
pub mod render;
pub mod report;
pub mod run;
pub mod score;
pub mod seed;
pub mod shard;
pub mod spec;
pub mod split;
pub mod sweep;
pub mod truth;

/// Any error of the library, by the boundary it crossed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] spec::SpecError),
    #[error(transparent)]
    Frame(#[from] pipeline::FrameError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error(transparent)]
    Write(#[from] dataset::WriteError),
    #[error(transparent)]
    Shard(#[from] shard::ShardError),
    #[error(transparent)]
    Augment(#[from] augment::AugmentError),
    #[error(transparent)]
    Score(#[from] score::ScoreError),
    /// The run was cancelled ([`run::RunOptions::cancel`]); the journal holds the first `done` of the
    /// `total` images of this run's work.
    #[error("interrupted after {done} of {total} images; rerun with --resume")]
    Interrupted { done: u64, total: u64 },
}

impl Error {
    /// Whether the user's input (scene file, arguments, output directory) was at fault.
    pub fn is_input_error(&self) -> bool {
        match self {
            Error::Spec(_) | Error::Shard(_) | Error::Frame(_) => true,
            Error::Write(e) => {
                matches!(e, dataset::WriteError::NotEmpty { .. } | dataset::WriteError::NotADirectory { .. })
            }
            Error::Augment(e) => e.is_input_error(),
            Error::Score(e) => e.is_input_error(),
            Error::Render(_) | Error::Interrupted { .. } => false,
        }
    }
}

/// An error as people read it (the CLI after `error: `, the Python package in its exceptions): the
/// message, then each cause on its own `  caused by:` line, but only a cause that adds something — one
/// whose text is not already in what was said (an I/O error is usually in its context's message).
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut said = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !said.contains(&text) {
            said.push_str("\n  caused by: ");
            said.push_str(&text);
        }
        cause = c.source();
    }
    said
}
