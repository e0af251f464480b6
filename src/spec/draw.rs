//! Drawing from a resolved scene's distributions: one value of a [`Dist`] from an image's own
//! stream, offsets and tilts redrawn up to their minimum magnitudes, and the fixed trial stream
//! validation uses to check that a minimum can be met. Beside the types it draws from, so the
//! sweep and the domain randomization share one sampler.

use super::RandomSweep;
use super::dist::Dist;
use crate::conventions;
use glam::{DVec2, DVec3};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// One value of `d`. Draw order is part of the format: a uniform or normal draws one number, a
/// choice one, a fixed value (or a uniform of zero width) none.
pub fn sample(d: &Dist, rng: &mut ChaCha8Rng) -> f64 {
    match d {
        Dist::Fixed(v) => *v,
        Dist::Uniform([a, b]) => {
            if a == b {
                *a
            } else {
                rng.random_range(*a..=*b)
            }
        }
        Dist::Normal { mean, sd, clamp } => {
            let n = Normal::new(*mean, *sd).map_or(*mean, |n| n.sample(rng)); // validation guarantees sd > 0
            n.clamp(clamp[0], clamp[1])
        }
        Dist::Choice { values, weights } => values[pick(weights, rng)],
    }
}

/// An index into `weights`, with probability proportional to the weight (zero weights never picked).
pub fn pick(weights: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    let mut chosen = 0;
    for (i, w) in weights.iter().enumerate() {
        if *w > 0.0 {
            chosen = i;
            if x < *w {
                break;
            }
            x -= w;
        }
    }
    chosen
}

/// How far a terminal with tilt `grad` (degrees) leans from vertical, in degrees: the angle its
/// axis makes with +Z under the defect rule of [`conventions::pin_transform`].
pub fn tilt_deg(grad: [f64; 2]) -> f64 {
    let m = conventions::pin_transform(DVec3::ZERO, DVec3::ZERO, DVec2::from(grad));
    m.transform_vector3(DVec3::Z).angle_between(DVec3::Z).to_degrees()
}

pub fn offset_norm(dpos: [f64; 3]) -> f64 {
    DVec3::from(dpos).length()
}

/// Redraws before a minimum magnitude gives up and keeps the last draw. Validation requires at least
/// [`TRIAL_MIN_HITS`] of [`TRIAL_DRAWS`] trial draws to pass (≥ 1 %), so giving up has a probability
/// below 0.99^10000 ≈ 1e-44 per image.
pub const MAX_REDRAWS: u32 = 10_000;
pub const TRIAL_DRAWS: u32 = 2000;
pub const TRIAL_MIN_HITS: u32 = 20;

/// An offset `|dpos| >= sweep.min_offset`, redrawn from `rng` as needed.
pub fn offset(sweep: &RandomSweep, rng: &mut ChaCha8Rng) -> [f64; 3] {
    let d = &sweep.dpos;
    let mut v = [0.0; 3];
    for _ in 0..MAX_REDRAWS {
        v = [sample(&d.x, rng), sample(&d.y, rng), sample(&d.z, rng)];
        if offset_norm(v) >= sweep.min_offset {
            break;
        }
    }
    v
}

/// A tilt leaning at least `sweep.min_tilt_deg`, redrawn from `rng` as needed.
pub fn tilt(sweep: &RandomSweep, rng: &mut ChaCha8Rng) -> [f64; 2] {
    let g = &sweep.grad;
    let mut v = [0.0; 2];
    for _ in 0..MAX_REDRAWS {
        v = [sample(&g.x, rng), sample(&g.y, rng)];
        if sweep.min_tilt_deg <= 0.0 || tilt_deg(v) >= sweep.min_tilt_deg {
            break;
        }
    }
    v
}

/// A bend's height, angle and azimuth, drawn in that order. Validation keeps the angle's
/// distribution on one side of 0, so every draw bends.
pub fn bend(sweep: &RandomSweep, rng: &mut ChaCha8Rng) -> conventions::Bend {
    let b = &sweep.bend;
    let height = sample(&b.height, rng);
    let angle_deg = sample(&b.angle_deg, rng);
    conventions::Bend { height, angle_deg, azimuth_deg: sample(&b.azimuth_deg, rng) }
}

fn trial_rng(seed: u64) -> ChaCha8Rng {
    crate::seed::image_stream(seed, 0, crate::seed::TRIAL)
}

/// How many of [`TRIAL_DRAWS`] offsets reach `min_offset` (a fixed stream: the verdict never changes).
pub fn offset_trials(sweep: &RandomSweep, seed: u64) -> u32 {
    let mut rng = trial_rng(seed);
    let d = &sweep.dpos;
    (0..TRIAL_DRAWS)
        .filter(|_| {
            offset_norm([sample(&d.x, &mut rng), sample(&d.y, &mut rng), sample(&d.z, &mut rng)]) >= sweep.min_offset
        })
        .count() as u32
}

/// How many of [`TRIAL_DRAWS`] tilts reach `min_tilt_deg`.
pub fn tilt_trials(sweep: &RandomSweep, seed: u64) -> u32 {
    let mut rng = trial_rng(seed);
    let g = &sweep.grad;
    (0..TRIAL_DRAWS)
        .filter(|_| tilt_deg([sample(&g.x, &mut rng), sample(&g.y, &mut rng)]) >= sweep.min_tilt_deg)
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilt_angle_follows_the_defect_rule() {
        assert!((tilt_deg([20.0, 0.0]) - 20.0).abs() < 1e-9);
        assert!((tilt_deg([0.0, -7.0]) - 7.0).abs() < 1e-9);
        // cos θ = cos gx · cos gy
        let expect = (20f64.to_radians().cos() * 20f64.to_radians().cos()).acos().to_degrees();
        assert!((tilt_deg([20.0, 20.0]) - expect).abs() < 1e-9);
    }

    #[test]
    fn choice_follows_its_weights() {
        let d = Dist::Choice { values: vec![1.0, 2.0], weights: vec![3.0, 1.0] };
        let mut rng = crate::seed::image_stream(1, 2, crate::seed::StreamTag::new("test"));
        let ones = (0..4000).filter(|_| sample(&d, &mut rng) == 1.0).count();
        assert!((2800..3200).contains(&ones), "{ones}");
    }
}
