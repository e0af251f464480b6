//! Per-image parameters: everything that differs from one image to the next, a pure function of the
//! scene, its seed and the image index — the defect ([`crate::sweep`]), the domain-randomized values
//! ([`crate::randomize`]), the split and whether `[balance]` leaves the image out ([`crate::split`]).
//! Decided before anything is rendered, so the renderer, the ground truth and the writers all read
//! the same values.

use crate::randomize::{self, Sampled};
use crate::spec::Scene;
use crate::split::{BalancePlan, Split, assign_split, stratum};
use crate::sweep::{self, Defect};

/// Everything that differs from one image to the next.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageParams {
    pub index: u64,
    pub id: String,
    /// The scene seed this image was derived from.
    pub seed: u64,
    pub defect: Option<Defect>,
    /// Domain-randomized values, when the scene's `[randomize]` turns any on.
    pub randomize: Option<Sampled>,
    /// train, val or test, from the scene's `[split]`.
    pub split: Split,
    /// Left out of every layout by the scene's `[balance]` (still rendered, in images/ and the manifest).
    pub excluded: bool,
}

/// The per-image parameters of one scene. Balancing needs one cheap pass over every image's label
/// (no rendering), done once here; after that [`Planner::image`] is a pure function of the index.
#[derive(Clone, Debug)]
pub struct Planner {
    scene: Scene,
    balance: BalancePlan,
}

impl Planner {
    pub fn new(scene: &Scene) -> Planner {
        Planner { balance: BalancePlan::for_scene(scene), scene: scene.clone() }
    }

    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// How many images the scene makes.
    pub fn image_count(&self) -> u64 {
        self.scene.image_count()
    }

    /// Parameters of image `index` (0 ≤ index < [`Planner::image_count`]).
    pub fn image(&self, index: u64) -> ImageParams {
        let scene = &self.scene;
        let sweep::Drawn { index, id, seed, defect } = sweep::draw(scene, index);
        let ty = defect.as_ref().map(|d| d.defect_type().as_str());
        let split = assign_split(&scene.split, scene.seed(), &stratum(ty), &id);
        let excluded = self.balance.excludes(&id, defect.is_some(), split);
        ImageParams { randomize: randomize::sample_image(scene, index), index, id, seed, defect, split, excluded }
    }
}
