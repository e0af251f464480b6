//! Geometric ops — flips, quarter turns, crops and Keras' affine transform — applied to the image,
//! its mask (nearest neighbour) and its keypoints with the same parameters.
//!
//! Flips, quarter turns and crops are exact pixel permutations and use the `image` crate. The
//! affine resampler is written here because neither `image` nor `imageproc` offers scipy's boundary
//! modes: `imageproc::geometric_transformations::warp` only fills with a constant and samples at
//! pixel corners, whereas Keras (`apply_affine_transform`) calls `scipy.ndimage.affine_transform`
//! with `order=1`, pixel centres at integer indices and `mode=fill_mode`.

use super::{AugmentError, Channel, Sample, per_buffer};
use glam::{DAffine2, DVec2};
use image::{DynamicImage, GrayImage, ImageBuffer, Luma, Pixel, imageops};
use serde::{Deserialize, Serialize};

/// How the affine transform fills points that map outside the source, with scipy's semantics
/// (what Keras produces, since it passes `fill_mode` straight to `scipy.ndimage.affine_transform`).
/// Shown on one row `a b c d`:
/// - `constant`: `k k k | a b c d | k k k` with `k = cval`; no interpolation across the edge.
/// - `nearest`: `a a a | a b c d | d d d`.
/// - `reflect`: `c b a | a b c d | d c b` (half-sample symmetric: the edge pixel repeats).
/// - `wrap`: scipy's legacy `wrap`, whose period is n-1 because the first and last samples
///   coincide: `b c d | a b c d | b c d`. So a 1-pixel shift right of `a b c d` gives `c a b c`,
///   not the `d a b c` that Keras' docstring (`abcd abcd abcd`) suggests.
/// - `grid-wrap` (pinsynth extension, scipy's `grid-wrap`): true period n, `b c d | a b c d | a b c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FillMode {
    Constant,
    Nearest,
    Reflect,
    Wrap,
    GridWrap,
}

impl FillMode {
    pub const NAMES: &'static str = "constant, nearest, reflect, wrap, grid-wrap";

    pub fn parse(name: &str) -> Option<FillMode> {
        Some(match name {
            "constant" => FillMode::Constant,
            "nearest" => FillMode::Nearest,
            "reflect" => FillMode::Reflect,
            "wrap" => FillMode::Wrap,
            "grid-wrap" => FillMode::GridWrap,
            _ => return None,
        })
    }
}

/// Parameters of Keras' `apply_affine_transform`, in unambiguous names. Correspondence with Keras'
/// `transform_parameters`: `theta` = theta, `shift_y` = tx (rows), `shift_x` = ty (columns),
/// `shear` = shear, `zoom_y` = zx (rows), `zoom_x` = zy (columns).
/// Like Keras, the matrix maps *output* to *input* indices: a positive shift samples the input
/// further right/down (content moves left/up), a zoom above 1 shows more of the input (content
/// shrinks), and a positive `theta` turns the content clockwise on screen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Affine {
    /// Rotation in degrees.
    pub theta: f64,
    /// Shift in pixels along x (columns).
    pub shift_x: f64,
    /// Shift in pixels along y (rows).
    pub shift_y: f64,
    /// Shear angle in degrees.
    pub shear: f64,
    pub zoom_x: f64,
    pub zoom_y: f64,
    pub fill_mode: FillMode,
    /// Fill value for `constant`, in 8-bit units (scaled for 16-bit images).
    pub cval: f64,
}

/// A Keras matrix written as its two top rows, in (row, col) index order: `[[a00, a01, b0], [a10, a11, b1]]`.
fn rows(m: [[f64; 3]; 2]) -> DAffine2 {
    DAffine2::from_cols(DVec2::new(m[0][0], m[1][0]), DVec2::new(m[0][1], m[1][1]), DVec2::new(m[0][2], m[1][2]))
}

/// `input_index = a · output_index + b`, indices as (row, col) with pixel centres at integers.
/// (glam's products sum in numpy's order, so the matrices are bit for bit the ones Keras builds.)
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mapping(DAffine2);

impl Affine {
    /// Builds the matrix exactly as Keras does: `rotation · shift · shear · zoom`, each factor only
    /// when it is not the identity, then `transform_matrix_offset_center` around
    /// (h/2 - 0.5, w/2 - 0.5).
    pub(crate) fn mapping(&self, width: u32, height: u32) -> Mapping {
        let mut m: Option<DAffine2> = None;
        let mut push = |f: DAffine2| m = Some(m.map_or(f, |acc| acc * f));
        if self.theta != 0.0 {
            let t = self.theta.to_radians();
            push(rows([[t.cos(), -t.sin(), 0.0], [t.sin(), t.cos(), 0.0]]));
        }
        if self.shift_y != 0.0 || self.shift_x != 0.0 {
            push(rows([[1.0, 0.0, self.shift_y], [0.0, 1.0, self.shift_x]]));
        }
        if self.shear != 0.0 {
            let s = self.shear.to_radians();
            push(rows([[1.0, -s.sin(), 0.0], [0.0, s.cos(), 0.0]]));
        }
        if self.zoom_y != 1.0 || self.zoom_x != 1.0 {
            push(rows([[self.zoom_y, 0.0, 0.0], [0.0, self.zoom_x, 0.0]]));
        }
        let m = m.unwrap_or(DAffine2::IDENTITY);
        let centre = DVec2::new(f64::from(height) / 2.0 - 0.5, f64::from(width) / 2.0 - 0.5);
        Mapping(DAffine2::from_translation(centre) * m * DAffine2::from_translation(-centre))
    }

    pub(crate) fn apply(&self, sample: Sample) -> Sample {
        let (w, h) = (sample.image.width(), sample.image.height());
        let map = self.mapping(w, h);
        let (mode, cval) = (self.fill_mode, self.cval);
        let image = per_buffer!(sample.image, buf => warp_buffer(&buf, &map, mode, cval));
        let mask = sample.mask.map(|m| warp_mask(&m, &map));
        let points = sample.points.iter().map(|p| map.forward_point(*p)).collect();
        Sample { image, mask, points }
    }
}

impl Mapping {
    fn input_of(&self, row: f64, col: f64) -> (f64, f64) {
        let p = self.0.transform_point2(DVec2::new(row, col));
        (p.x, p.y)
    }

    /// Where a keypoint `[u, v]` (continuous, corner origin) lands: invert the output→input map.
    fn forward_point(&self, [u, v]: [f64; 2]) -> [f64; 2] {
        let (m, t) = (self.0.matrix2, self.0.translation);
        let (r, c) = (v - 0.5 - t.x, u - 0.5 - t.y);
        let [a, c2, b, d] = m.to_cols_array();
        let det = a * d - b * c2;
        let row = (d * r - b * c) / det;
        let col = (-c2 * r + a * c) / det;
        [col + 0.5, row + 0.5]
    }
}

/// The two taps and the weight of the second along one axis, or `None` for `constant`'s fill.
/// Mirrors scipy's `map_coordinate` followed by its per-tap boundary mapping (for `order=1`).
fn axis_taps(x: f64, len: usize, mode: FillMode) -> Option<(usize, usize, f64)> {
    let last = len - 1;
    let lastf = last as f64;
    if len == 1 {
        return (mode != FillMode::Constant || x == 0.0).then_some((0, 0, 0.0));
    }
    let x = match mode {
        FillMode::Constant if x < 0.0 || x > lastf => return None,
        FillMode::Constant => x,
        FillMode::Nearest => x.clamp(0.0, lastf),
        FillMode::Reflect => {
            // Period 2n about the pixel edges -0.5 and n-0.5; taps beyond the edge repeat it.
            let p = 2.0 * len as f64;
            let y = (x + 0.5).rem_euclid(p) - 0.5;
            let y = if y > lastf + 0.5 { p - 1.0 - y } else { y };
            if y < 0.0 {
                return Some((0, 0, 0.0));
            }
            y.min(lastf)
        }
        FillMode::Wrap => {
            // scipy: in += sz * ((int)(-in / sz) + 1) below 0, in -= sz * (int)(in / sz) above n-1.
            let sz = lastf;
            if x < 0.0 {
                x + sz * ((-x / sz).trunc() + 1.0)
            } else if x > lastf {
                x - sz * (x / sz).trunc()
            } else {
                x
            }
        }
        FillMode::GridWrap => {
            let y = x.rem_euclid(len as f64);
            let i0 = (y.floor() as usize).min(last);
            return Some((i0, if i0 == last { 0 } else { i0 + 1 }, y - i0 as f64));
        }
    };
    let i0 = (x.floor() as usize).min(last);
    Some((i0, (i0 + 1).min(last), x - i0 as f64))
}

fn warp_buffer<P>(
    src: &ImageBuffer<P, Vec<P::Subpixel>>,
    map: &Mapping,
    mode: FillMode,
    cval8: f64,
) -> ImageBuffer<P, Vec<P::Subpixel>>
where
    P: Pixel,
    P::Subpixel: Channel,
{
    let (w, h) = src.dimensions();
    let ch = usize::from(P::CHANNEL_COUNT);
    let cval = cval8 * <P::Subpixel as Channel>::PER_U8;
    let data = src.as_raw();
    let mut out = ImageBuffer::<P, Vec<P::Subpixel>>::new(w, h);
    let stride = w as usize * ch;
    let (wf, hf) = (f64::from(w), f64::from(h));
    let mut acc = [0.0f64; 4];
    for (i, px) in out.chunks_exact_mut(ch).enumerate() {
        let (row, col) = ((i / w as usize) as f64, (i % w as usize) as f64);
        let (ri, ci) = map.input_of(row, col);
        let taps = if ri >= 0.0 && ci >= 0.0 && ri < hf - 1.0 && ci < wf - 1.0 {
            // Interior fast path (most pixels): every mode agrees, and `as` truncation is floor.
            let (r0, c0) = (ri as usize, ci as usize);
            Some(((r0, r0 + 1, ri - r0 as f64), (c0, c0 + 1, ci - c0 as f64)))
        } else {
            axis_taps(ri, h as usize, mode).zip(axis_taps(ci, w as usize, mode))
        };
        let Some(((r0, r1, tr), (c0, c1, tc))) = taps else {
            px.iter_mut().for_each(|v| *v = <P::Subpixel as Channel>::round_from(cval));
            continue;
        };
        let corners = [
            (r0 * stride + c0 * ch, (1.0 - tr) * (1.0 - tc)),
            (r0 * stride + c1 * ch, (1.0 - tr) * tc),
            (r1 * stride + c0 * ch, tr * (1.0 - tc)),
            (r1 * stride + c1 * ch, tr * tc),
        ];
        acc[..ch].fill(0.0);
        for (base, weight) in corners {
            for k in 0..ch {
                acc[k] += data[base + k].to_f64() * weight;
            }
        }
        for (v, a) in px.iter_mut().zip(acc) {
            *v = <P::Subpixel as Channel>::round_from(a);
        }
    }
    out
}

/// Nearest-neighbour warp of an instance mask (scipy `order=0`: index `floor(x + 0.5)`). Points
/// outside the source — exactly where `constant` shows `cval` — become 0 (background) whatever the
/// fill mode, so no terminal label is ever invented.
fn warp_mask(src: &GrayImage, map: &Mapping) -> GrayImage {
    let (w, h) = src.dimensions();
    let (lr, lc) = (f64::from(h) - 1.0, f64::from(w) - 1.0);
    GrayImage::from_fn(w, h, |col, row| {
        let (ri, ci) = map.input_of(f64::from(row), f64::from(col));
        if ri < 0.0 || ri > lr || ci < 0.0 || ci > lc {
            return Luma([0]);
        }
        let (r, c) = ((ri + 0.5).floor().min(lr) as u32, (ci + 0.5).floor().min(lc) as u32);
        *src.get_pixel(c, r)
    })
}

pub(crate) fn flip_horizontal(s: Sample) -> Sample {
    let w = f64::from(s.image.width());
    Sample {
        image: s.image.fliph(),
        mask: s.mask.map(|m| imageops::flip_horizontal(&m)),
        points: s.points.iter().map(|&[u, v]| [w - u, v]).collect(),
    }
}

pub(crate) fn flip_vertical(s: Sample) -> Sample {
    let h = f64::from(s.image.height());
    Sample {
        image: s.image.flipv(),
        mask: s.mask.map(|m| imageops::flip_vertical(&m)),
        points: s.points.iter().map(|&[u, v]| [u, h - v]).collect(),
    }
}

/// `k` counter-clockwise quarter turns like `np.rot90`: a point (u, v) of a W-wide image goes to
/// (v, W - u) per turn. (`image`'s `rotate270` is one counter-clockwise turn.)
pub(crate) fn rot90(mut s: Sample, k: u8) -> Sample {
    for _ in 0..k % 4 {
        let w = f64::from(s.image.width());
        s = Sample {
            image: s.image.rotate270(),
            mask: s.mask.map(|m| imageops::rotate270(&m)),
            points: s.points.iter().map(|&[u, v]| [v, w - u]).collect(),
        };
    }
    s
}

pub(crate) fn crop(s: Sample, x: u32, y: u32, width: u32, height: u32) -> Result<Sample, AugmentError> {
    let (iw, ih) = (s.image.width(), s.image.height());
    let fits = width > 0 && height > 0 && x.checked_add(width).is_some_and(|r| r <= iw);
    if !fits || y.checked_add(height).is_none_or(|b| b > ih) {
        return Err(AugmentError::CropOutOfBounds { x, y, width, height, image_width: iw, image_height: ih });
    }
    let (dx, dy) = (f64::from(x), f64::from(y));
    Ok(Sample {
        image: s.image.crop_imm(x, y, width, height),
        mask: s.mask.map(|m| imageops::crop_imm(&m, x, y, width, height).to_image()),
        points: s.points.iter().map(|&[u, v]| [u - dx, v - dy]).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_taps_are_half_sample_symmetric() {
        // a b c d at 0..3: -1 → a (index 0), -2 → b, 4 → d, 5 → c, -0.5 and 3.5 → the edge pixel.
        assert_eq!(axis_taps(-1.0, 4, FillMode::Reflect), Some((0, 1, 0.0)));
        assert_eq!(axis_taps(-2.0, 4, FillMode::Reflect), Some((1, 2, 0.0)));
        assert_eq!(axis_taps(4.0, 4, FillMode::Reflect), Some((3, 3, 0.0)));
        assert_eq!(axis_taps(5.0, 4, FillMode::Reflect), Some((2, 3, 0.0)));
        assert_eq!(axis_taps(-0.5, 4, FillMode::Reflect), Some((0, 0, 0.0)));
        assert_eq!(axis_taps(3.5, 4, FillMode::Reflect), Some((3, 3, 0.0)));
    }

    #[test]
    fn wrap_has_scipy_period_n_minus_one() {
        // len 4 → period 3: -1 → 2, -3 → 3 (the coinciding end), 4 → 1, 6 → 0.
        assert_eq!(axis_taps(-1.0, 4, FillMode::Wrap), Some((2, 3, 0.0)));
        assert_eq!(axis_taps(-3.0, 4, FillMode::Wrap), Some((3, 3, 0.0)));
        assert_eq!(axis_taps(4.0, 4, FillMode::Wrap), Some((1, 2, 0.0)));
        assert_eq!(axis_taps(6.0, 4, FillMode::Wrap), Some((0, 1, 0.0)));
        assert_eq!(axis_taps(-1.0, 4, FillMode::GridWrap), Some((3, 0, 0.0)));
        assert_eq!(axis_taps(-0.5, 4, FillMode::GridWrap), Some((3, 0, 0.5)));
    }

    #[test]
    fn constant_has_no_interpolation_beyond_the_edge() {
        assert_eq!(axis_taps(-0.01, 4, FillMode::Constant), None);
        assert_eq!(axis_taps(3.0, 4, FillMode::Constant), Some((3, 3, 0.0)));
        assert_eq!(axis_taps(3.01, 4, FillMode::Constant), None);
    }

    #[test]
    fn forward_point_inverts_the_mapping() {
        let aff = Affine {
            theta: 17.0,
            shift_x: 3.0,
            shift_y: -2.0,
            shear: 8.0,
            zoom_x: 1.1,
            zoom_y: 0.9,
            fill_mode: FillMode::Constant,
            cval: 0.0,
        };
        let map = aff.mapping(40, 30);
        let [u, v] = map.forward_point([12.25, 7.75]);
        let (r, c) = map.input_of(v - 0.5, u - 0.5);
        assert!((r + 0.5 - 7.75).abs() < 1e-9 && (c + 0.5 - 12.25).abs() < 1e-9);
    }
}
