//! FXAA (Timothy Lottes' Fast Approximate Anti-Aliasing, the 3.11 "quality" algorithm) on the CPU, on
//! the read-back sRGB image: `antialias = "fxaa"`. On lavapipe a 4× multisampled frame costs about
//! three plain ones, while this costs ~0.65 ms per 224² image on the worker that encodes it. It is a
//! perceptual smoothing, not a coverage estimate: against a 9-sample supersampled render its RMS error
//! is 3.8 (of 255) where msaa4's is 1.5 and no anti-aliasing's 4.4 (numbers in README.md).
//!
//! Edges are found and followed on perceptual luma (as FXAA intends); pixels are blended in linear light
//! so a half-covered edge pixel gets the physically right mean. Flat regions are untouched. The mask is
//! never filtered.

use super::srgb::Tables;

/// Minimum local contrast to treat a pixel as an edge: 8 of 255 (FXAA's 0.0312), and 1/8 of the
/// brightest luma around (FXAA's 0.125).
const EDGE_THRESHOLD_MIN: u8 = 8;
const EDGE_THRESHOLD_SHIFT: u32 = 3;
/// How much sub-pixel aliasing (single-pixel features) is smoothed: FXAA's default 0.75.
const SUBPIXEL_QUALITY: f32 = 0.75;
/// Steps (in pixels) of the search for the ends of an edge.
const STEPS: [i32; 7] = [1, 1, 1, 2, 2, 4, 8];

/// sRGB tables: linear [0, 1] in 4096 steps → byte.
fn tables() -> &'static Tables<4096> {
    static T: std::sync::OnceLock<Tables<4096>> = std::sync::OnceLock::new();
    T.get_or_init(Tables::new)
}

/// Anti-aliases a tightly packed RGB8 sRGB image in place.
pub fn apply(rgb: &mut [u8], width: u32, height: u32) {
    let (w, h) = (width as i32, height as i32);
    if w < 3 || h < 3 {
        return;
    }
    // Rec. 601 luma in 8 bits (77, 150, 29 of 256), as FXAA's green-weighted luma.
    let luma8: Vec<u8> =
        rgb.chunks_exact(3).map(|p| ((77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32) >> 8) as u8).collect();
    let edges = candidates(&luma8, width as usize, height as usize);
    let luma: Vec<f32> = luma8.iter().map(|&l| l as f32 * (1.0 / 255.0)).collect();
    let src = rgb.to_vec();
    let t = tables();
    let at = |x: i32, y: i32| luma[(y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize];
    for y in 0..h {
        for x in 0..w {
            if !edges[(y * w + x) as usize] {
                continue;
            }
            let m = at(x, y);
            let (n, s, e, wl) = (at(x, y - 1), at(x, y + 1), at(x + 1, y), at(x - 1, y));
            let max = m.max(n).max(s).max(e).max(wl);
            let min = m.min(n).min(s).min(e).min(wl);
            let range = max - min;
            let (nw, ne, sw, se) = (at(x - 1, y - 1), at(x + 1, y - 1), at(x - 1, y + 1), at(x + 1, y + 1));
            let horizontal_edge =
                (-2.0 * wl + nw + sw).abs() + 2.0 * (-2.0 * m + n + s).abs() + (-2.0 * e + ne + se).abs()
                    >= (-2.0 * n + nw + ne).abs() + 2.0 * (-2.0 * m + wl + e).abs() + (-2.0 * s + sw + se).abs();
            // The neighbour across the edge: above/below for a horizontal edge, left/right otherwise.
            let (l1, l2) = if horizontal_edge { (n, s) } else { (wl, e) };
            let (g1, g2) = (l1 - m, l2 - m);
            let first_steeper = g1.abs() >= g2.abs();
            let gradient = 0.25 * g1.abs().max(g2.abs());
            let (side, side_luma) = if first_steeper { (-1, l1) } else { (1, l2) };
            let local_average = 0.5 * (side_luma + m);
            // Walk along the edge (between this row/column and the neighbour's) to both ends.
            let (along, across) = if horizontal_edge { ((1, 0), (0, side)) } else { ((0, 1), (side, 0)) };
            let edge_luma = |k: i32| {
                let (px, py) = (x + along.0 * k, y + along.1 * k);
                0.5 * (at(px, py) + at(px + across.0, py + across.1)) - local_average
            };
            let search = |dir: i32| {
                let mut k = 0;
                let mut delta = 0.0;
                for step in STEPS {
                    k += step * dir;
                    delta = edge_luma(k);
                    if delta.abs() >= gradient {
                        break;
                    }
                }
                (k.abs(), delta)
            };
            let (d1, delta1) = search(-1);
            let (d2, delta2) = search(1);
            let (closer, delta) = if d1 < d2 { (d1, delta1) } else { (d2, delta2) };
            let edge_offset =
                if (delta < 0.0) != (m < local_average) { 0.5 - closer as f32 / (d1 + d2) as f32 } else { 0.0 };
            let average = (2.0 * (n + s + e + wl) + nw + ne + sw + se) / 12.0;
            let sub1 = ((average - m).abs() / range).clamp(0.0, 1.0);
            let sub2 = (-2.0 * sub1 + 3.0) * sub1 * sub1;
            let weight = edge_offset.max(sub2 * sub2 * SUBPIXEL_QUALITY);
            if weight <= 0.0 {
                continue;
            }
            let i = (y * w + x) as usize * 3;
            let j = ((y + across.1).clamp(0, h - 1) * w + (x + across.0).clamp(0, w - 1)) as usize * 3;
            for c in 0..3 {
                let v = t.to_linear[src[i + c] as usize] * (1.0 - weight) + t.to_linear[src[j + c] as usize] * weight;
                rgb[i + c] = t.encode(v);
            }
        }
    }
}

/// Pixels whose local contrast (with their 4 neighbours, borders clamped) reaches FXAA's threshold.
/// Flat regions are most of an image, so this pass is branch-free over whole rows (vectorised).
fn candidates(luma: &[u8], w: usize, h: usize) -> Vec<bool> {
    let mut out = vec![false; w * h];
    let edge = |m: u8, n: u8, s: u8, e: u8, wl: u8| {
        let max = m.max(n).max(s).max(e).max(wl);
        let range = max - m.min(n).min(s).min(e).min(wl);
        range >= EDGE_THRESHOLD_MIN && range >= max >> EDGE_THRESHOLD_SHIFT
    };
    for y in 0..h {
        let row = &luma[y * w..(y + 1) * w];
        let up = &luma[y.saturating_sub(1) * w..][..w];
        let down = &luma[(y + 1).min(h - 1) * w..][..w];
        let flags = &mut out[y * w..(y + 1) * w];
        let inner = row[..w - 2].iter().zip(&row[1..w - 1]).zip(&row[2..]).zip(&up[1..w - 1]).zip(&down[1..w - 1]);
        for (f, ((((&l, &m), &r), &n), &s)) in flags[1..w - 1].iter_mut().zip(inner) {
            *f = edge(m, n, s, r, l);
        }
        flags[0] = edge(row[0], up[0], down[0], row[1], row[0]);
        flags[w - 1] = edge(row[w - 1], up[w - 1], down[w - 1], row[w - 1], row[w - 2]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> Vec<u8> {
        let f = &f;
        (0..h).flat_map(|y| (0..w).flat_map(move |x| [f(x, y); 3])).collect()
    }

    #[test]
    fn flat_regions_are_untouched() {
        let mut img = image(16, 16, |x, _| if x < 8 { 40 } else { 41 });
        let before = img.clone();
        apply(&mut img, 16, 16);
        assert_eq!(img, before, "a contrast below the threshold is not an edge");
    }

    /// A staircase edge (a line of slope 1/4 between black and white) gets intermediate values along the
    /// steps, only next to the edge, and never outside the two colours.
    #[test]
    fn a_staircase_edge_gets_smoothed() {
        let (w, h) = (32u32, 16u32);
        let inside = |x: u32, y: u32| (y as f32) < 4.0 + x as f32 / 4.0;
        let mut img = image(w, h, |x, y| if inside(x, y) { 255 } else { 0 });
        let before = img.clone();
        apply(&mut img, w, h);
        let changed: Vec<(u32, u32)> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&(x, y)| img[((y * w + x) * 3) as usize] != before[((y * w + x) * 3) as usize])
            .collect();
        assert!(changed.len() >= 16, "only {} pixels blended", changed.len());
        for &(x, y) in &changed {
            let near_edge = (y as i32 - (4.0 + x as f32 / 4.0).ceil() as i32).abs() <= 1;
            assert!(near_edge, "pixel ({x}, {y}) changed away from the edge");
            let v = img[((y * w + x) * 3) as usize];
            assert!(v > 0 && v < 255, "({x}, {y}) = {v}");
        }
    }
}
