//! Image-space randomization of the colour image after readback, in camera order: optics blur, then
//! the tone curve (gamma, contrast about mid-grey, brightness), then sensor noise from the image's own
//! noise stream, then 8-bit quantisation. The mask is never touched.

use super::Sampled;
use crate::seed;
use image::RgbImage;
use rand_distr::{Distribution, Normal};

/// Whether `s` changes pixels at all.
pub fn is_active(s: &Sampled) -> bool {
    s.blur_sigma.is_some_and(|v| v > 0.0)
        || s.brightness.is_some_and(|v| v != 0.0)
        || s.contrast.is_some_and(|v| v != 1.0)
        || s.gamma.is_some_and(|v| v != 1.0)
        || s.noise_sd.is_some_and(|v| v > 0.0)
}

/// Applies the sampled effects to `rgb` (8-bit RGB, `width` × `height`) of image `index` of a scene
/// with seed `seed`.
pub fn apply(rgb: &mut [u8], width: u32, height: u32, s: &Sampled, seed: u64, index: u64) {
    if !is_active(s) {
        return;
    }
    if let Some(sigma) = s.blur_sigma.filter(|v| *v > 0.0)
        && let Some(img) = RgbImage::from_raw(width, height, rgb.to_vec())
    {
        rgb.copy_from_slice(&imageproc::filter::gaussian_blur_f32(&img, sigma as f32));
    }
    let (gamma, contrast, brightness) =
        (s.gamma.unwrap_or(1.0), s.contrast.unwrap_or(1.0), s.brightness.unwrap_or(0.0));
    let curve: Vec<f64> =
        (0..256).map(|x| (((x as f64 / 255.0).powf(gamma) - 0.5) * contrast + 0.5 + brightness) * 255.0).collect();
    let noise = s.noise_sd.filter(|v| *v > 0.0).and_then(|sd| Normal::new(0.0, sd).ok());
    let mut rng = seed::image_stream(seed, index, seed::NOISE);
    for v in rgb.iter_mut() {
        let n = noise.map_or(0.0, |d| d.sample(&mut rng));
        *v = (curve[*v as usize] + n).round().clamp(0.0, 255.0) as u8;
    }
}
