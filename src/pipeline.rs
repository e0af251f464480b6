//! The frame step: image `index` of a scene → its parameters ([`crate::params`]) → posed geometry
//! ([`crate::geometry`]) → pixels and instance mask ([`crate::render`]) → every image effect
//! (the photometric randomization, applied here and nowhere else) → ground truth ([`crate::truth`]).
//! A [`Frame`] is everything the writers need; a dataset run ([`crate::run`]) and a one-image caller
//! (a test, a language binding) go through the same [`FrameMaker`].

use crate::Error;
use crate::geometry::{Posed, Terminals, pose};
use crate::params::{ImageParams, Planner};
use crate::randomize::photometric;
use crate::render::{Pixels, Renderer};
use crate::spec::{Scene, TruthSpec};
use crate::truth::amodal::AmodalMask;
use crate::truth::{self, Record};
use std::sync::Arc;

/// One finished image: its parameters, its pixels after every image effect, and its ground truth.
#[derive(Clone, Debug)]
pub struct Frame {
    pub params: ImageParams,
    /// Colour (RGB8, row-major, after the photometric randomization) and instance mask (one byte per
    /// pixel: 0 background, terminal labels, 255 housing).
    pub pixels: Pixels,
    /// The image's manifest record.
    pub record: Record,
    /// `[truth] depth` (or asked for by [`FrameMaker::frames_with`]): distance along the view axis per
    /// pixel (row-major, 0 = background).
    pub depth: Option<Vec<f32>>,
    /// `[truth] amodal` (or asked for by [`FrameMaker::frames_with`]): each terminal's amodal mask, in
    /// the order of the record's pins.
    pub amodal: Option<Vec<AmodalMask>>,
}

/// Errors of asking for a frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("image index {index} is out of range: the scene makes {count} images (0..{count})")]
    IndexOutOfRange { index: u64, count: u64 },
}

/// Makes the frames of one scene on one renderer (one GPU device).
///
/// ```no_run
/// # fn main() -> Result<(), pinsynth::Error> {
/// let scene = pinsynth::spec::Scene::load(std::path::Path::new("scenes/default.toml"), &[])?;
/// let mut maker = pinsynth::pipeline::FrameMaker::new(&scene)?;
/// let frame = maker.frame(0)?;
/// println!("{} is {}", frame.record.id, frame.record.label);
/// # Ok(())
/// # }
/// ```
pub struct FrameMaker {
    planner: Arc<Planner>,
    /// The terminal shapes (mesh files, generated tips), built once, shared by every image.
    terminals: Terminals,
    renderer: Renderer,
}

impl FrameMaker {
    /// Opens a GPU device for `scene` (its anti-aliasing, one image per submission).
    pub fn new(scene: &Scene) -> Result<FrameMaker, Error> {
        let renderer = Renderer::new(scene.image.antialias, 1)?;
        Ok(FrameMaker::with_renderer(Arc::new(Planner::new(scene)), renderer))
    }

    /// Makes the frames of `planner`'s scene on `renderer` (several makers can share one planner).
    pub fn with_renderer(planner: Arc<Planner>, renderer: Renderer) -> FrameMaker {
        FrameMaker { terminals: Terminals::new(&planner.scene().pin), planner, renderer }
    }

    pub fn planner(&self) -> &Planner {
        &self.planner
    }

    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// How many images the scene makes (valid indices are `0..image_count()`).
    pub fn image_count(&self) -> u64 {
        self.planner.image_count()
    }

    /// Frame `index` of the scene.
    pub fn frame(&mut self, index: u64) -> Result<Frame, Error> {
        let mut frames = self.frames(&[index])?;
        Ok(frames.pop().expect("one frame per index")) // ok: frames returns one per index
    }

    /// The frames of `indices`, drawn [`Renderer::batch`] at a time; the pixels do not depend on the
    /// batch an image lands in (tests/cli.rs compares batch sizes byte for byte).
    pub fn frames(&mut self, indices: &[u64]) -> Result<Vec<Frame>, Error> {
        self.frames_with(indices, TruthSpec::default())
    }

    /// Like [`FrameMaker::frames`], also making the ground truth `extra` asks for beyond the scene's
    /// `[truth]` (for a caller that wants the arrays, not the files). The records stay the scene's
    /// manifest lines: they describe only the truth the scene itself asks for.
    pub fn frames_with(&mut self, indices: &[u64], extra: TruthSpec) -> Result<Vec<Frame>, Error> {
        let count = self.image_count();
        if let Some(&index) = indices.iter().find(|&&i| i >= count) {
            return Err(FrameError::IndexOutOfRange { index, count }.into());
        }
        let scene = self.planner.scene();
        let params: Vec<ImageParams> = indices.iter().map(|&i| self.planner.image(i)).collect();
        let posed: Vec<Posed> = params.iter().map(|p| pose(scene, &self.terminals, p)).collect();
        let mut pixels = vec![Pixels::default(); posed.len()];
        self.renderer.render_batch(&posed, &mut pixels)?;
        Ok(params
            .into_iter()
            .zip(posed)
            .zip(pixels)
            .map(|((params, posed), mut pixels)| {
                if let Some(s) = &params.randomize {
                    photometric::apply(&mut pixels.rgb, pixels.width, pixels.height, s, params.seed, params.index);
                    // Noise or blur of its own: no longer the kept frame's pixels.
                    pixels.like = None;
                }
                let want = scene.truth;
                let amodal = (want.amodal || extra.amodal).then(|| {
                    let stats = truth::MaskStats::of(&pixels.mask, pixels.width);
                    truth::amodal::amodal_masks(&posed, &pixels.mask, &stats)
                });
                let in_record = amodal.as_deref().filter(|_| want.amodal);
                let record = truth::record(&params, &posed, &pixels, in_record, want.depth);
                let depth = (want.depth || extra.depth).then(|| truth::depth::depth_map(&posed).0);
                Frame { params, pixels, record, depth, amodal }
            })
            .collect())
    }
}
