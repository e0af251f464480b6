//! pinsynth: synthetic connector-inspection datasets rendered headless with wgpu.
//!
//! Data flows one way: [`spec`] (scene TOML → validated [`spec::Scene`]) → [`sweep`] (per-image
//! parameters, a pure function of seed and index) → [`geometry`] (world transforms, defect semantics,
//! from the rules in [`conventions`]) → [`render`] (wgpu: pixels + instance mask) → [`truth`] (ground
//! truth) → [`dataset`] writers. [`run`] drives that chain over many images; [`augment`] works on any
//! image folder and on pinsynth datasets.

pub mod augment;
pub mod conventions;
pub mod dataset;
pub mod encode;
pub mod geometry;
pub mod randomize;
pub mod render;
pub mod report;
pub mod run;
pub mod scale;
pub mod score;
pub mod spec;
pub mod sweep;
pub mod truth;

/// Any error of the library, by the boundary it crossed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] spec::SpecError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error(transparent)]
    Write(#[from] dataset::WriteError),
    #[error(transparent)]
    Scale(#[from] scale::ScaleError),
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
        matches!(
            self,
            Error::Spec(_)
                | Error::Scale(_)
                | Error::Write(dataset::WriteError::NotEmpty { .. } | dataset::WriteError::NotADirectory { .. })
        ) || matches!(self, Error::Score(e) if e.is_input_error())
    }
}
