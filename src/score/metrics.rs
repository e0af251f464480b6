//! The localisation metrics of one heat map against one ground-truth region, on the image's pixel
//! grid (the map already resampled to the image size). Negative map values count as 0: callers pass
//! the map through [`clamp_negative`] first.
//!
//! Ties are resolved by expectation, never by pixel order: when several pixels share the maximum,
//! `pointing_game` is the share of them within the tolerance; when the K-th highest value is shared,
//! `relevance_rank` counts the tied pixels in the region pro rata; `pixel_auroc` gives tied values
//! their average rank (the trapezoidal ROC AUC of scikit-learn's `roc_auc_score`). A map without
//! ties gets exactly the textbook value.

/// Negative values count as 0.
pub fn clamp_negative(values: &mut [f64]) {
    for v in values {
        if *v < 0.0 {
            *v = 0.0;
        }
    }
}

/// The metrics of one NG image. None where the metric is undefined: the map has no energy (no
/// positive value) for the energy shares; no pixel outside the region for the AUROC.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    pub pointing_game: f64,
    pub energy_pointing_game: Option<f64>,
    pub relevance_mass: Option<f64>,
    pub relevance_rank: f64,
    pub pixel_auroc: Option<f64>,
}

/// The map's peak (largest value), its first position in row-major order, and its total.
pub fn peak_total(map: &[f64], width: usize) -> (f64, [usize; 2], f64) {
    let mut best = (f64::NEG_INFINITY, 0usize);
    for (i, &v) in map.iter().enumerate() {
        if v > best.0 {
            best = (v, i);
        }
    }
    (best.0, [best.1 % width, best.1 / width], map.iter().sum())
}

/// All five metrics. `region` and `bbox` are per-pixel flags on the same grid as `map`; `region` must
/// not be empty.
pub fn metrics(map: &[f64], region: &[bool], bbox: &[bool], width: usize, tolerance: f64) -> Metrics {
    Metrics {
        pointing_game: pointing_game(map, region, width, tolerance),
        energy_pointing_game: energy_share(map, bbox),
        relevance_mass: energy_share(map, region),
        relevance_rank: relevance_rank(map, region),
        pixel_auroc: auroc(map, region),
    }
}

/// 1 if the map's maximum lies within `tolerance` pixels of the region (Euclidean distance between
/// pixel centres; 0 = on the region), else 0. A maximum shared by several pixels scores the share
/// of them that hit.
pub fn pointing_game(map: &[f64], region: &[bool], width: usize, tolerance: f64) -> f64 {
    let max = map.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let xy = |i: usize| ((i % width) as f64, (i / width) as f64);
    let region_px: Vec<(f64, f64)> = region.iter().enumerate().filter(|(_, r)| **r).map(|(i, _)| xy(i)).collect();
    let tol2 = tolerance * tolerance;
    let (mut hits, mut maxima) = (0usize, 0usize);
    for (i, _) in map.iter().enumerate().filter(|(_, v)| **v == max) {
        maxima += 1;
        let (x, y) = xy(i);
        if region[i] || region_px.iter().any(|&(rx, ry)| (rx - x).powi(2) + (ry - y).powi(2) <= tol2) {
            hits += 1;
        }
    }
    hits as f64 / maxima as f64
}

/// The share of the map's energy (sum of values) on the flagged pixels; None for a map without energy.
pub fn energy_share(map: &[f64], inside: &[bool]) -> Option<f64> {
    let total: f64 = map.iter().sum();
    let within: f64 = map.iter().zip(inside).filter(|(_, f)| **f).map(|(v, _)| v).sum();
    (total > 0.0).then(|| within / total)
}

/// The share of the K highest-valued pixels that lie in the region, K = the region's size.
pub fn relevance_rank(map: &[f64], region: &[bool]) -> f64 {
    let k = region.iter().filter(|r| **r).count();
    if k == 0 {
        return 0.0;
    }
    let mut sorted: Vec<f64> = map.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let t = sorted[k - 1]; // the K-th highest value
    let (mut above, mut above_in, mut at, mut at_in) = (0usize, 0usize, 0usize, 0usize);
    for (&v, &r) in map.iter().zip(region) {
        if v > t {
            above += 1;
            above_in += r as usize;
        } else if v == t {
            at += 1;
            at_in += r as usize;
        }
    }
    // The top K holds every pixel above t and (K − above) of the `at` tied pixels, any of them equally.
    let hits = above_in as f64 + (k - above) as f64 * at_in as f64 / at as f64;
    hits / k as f64
}

/// ROC AUC of the map's values for region (positive) against non-region pixels, by the rank-sum
/// (Mann–Whitney) formula with average ranks for ties; None when one class is empty.
pub fn auroc(map: &[f64], region: &[bool]) -> Option<f64> {
    let n_pos = region.iter().filter(|r| **r).count();
    let n_neg = region.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..map.len()).collect();
    order.sort_by(|&a, &b| map[a].total_cmp(&map[b]));
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && map[order[j + 1]] == map[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0; // ranks are 1-based
        let pos = order[i..=j].iter().filter(|&&p| region[p]).count();
        rank_sum += avg_rank * pos as f64;
        i = j + 1;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 × 10 image, region = the 2 × 3 block at x 2..4, y 5..8; box = x 1..5, y 4..9.
    fn setup() -> (usize, Vec<bool>, Vec<bool>) {
        let w = 10;
        let region = (0..100).map(|i| (2..4).contains(&(i % w)) && (5..8).contains(&(i / w))).collect();
        let bbox = (0..100).map(|i| (1..5).contains(&(i % w)) && (4..9).contains(&(i / w))).collect();
        (w, region, bbox)
    }

    fn peaked_at(x: usize, y: usize) -> Vec<f64> {
        (0..100).map(|i| if i == y * 10 + x { 1.0 } else { 0.0 }).collect()
    }

    #[test]
    fn map_peaked_on_the_region_scores_one() {
        let (w, region, bbox) = setup();
        let m = metrics(&peaked_at(3, 6), &region, &bbox, w, 0.0);
        assert_eq!(m.pointing_game, 1.0);
        assert_eq!(m.energy_pointing_game, Some(1.0));
        assert_eq!(m.relevance_mass, Some(1.0));
        // One positive pixel in the region, the other 5 of the top K = 6 are tied zeros: 1 + 5·5/99.
        assert!((m.relevance_rank - (1.0 + 5.0 * 5.0 / 99.0) / 6.0).abs() < 1e-12);
        // Region pixel above every negative; the other 5 region pixels tie with the 94 negatives.
        let expected = (94.0 + 5.0 * 94.0 * 0.5) / (6.0 * 94.0);
        assert!((m.pixel_auroc.unwrap() - expected).abs() < 1e-12);
        // A map that is high on the whole region and low elsewhere scores 1 everywhere.
        let block: Vec<f64> = region.iter().map(|&r| if r { 2.0 } else { 0.5 }).collect();
        let m = metrics(&block, &region, &bbox, w, 15.0);
        assert_eq!((m.pointing_game, m.relevance_rank, m.pixel_auroc), (1.0, 1.0, Some(1.0)));
        assert!((m.relevance_mass.unwrap() - 12.0 / (12.0 + 94.0 * 0.5)).abs() < 1e-12);
    }

    #[test]
    fn map_peaked_elsewhere_scores_zero() {
        let (w, region, bbox) = setup();
        let m = metrics(&peaked_at(9, 0), &region, &bbox, w, 0.0);
        assert_eq!(m.pointing_game, 0.0);
        assert_eq!(m.energy_pointing_game, Some(0.0));
        assert_eq!(m.relevance_mass, Some(0.0));
        // A map high everywhere except the region: rank 0, AUROC 0.
        let inverse: Vec<f64> = region.iter().map(|&r| if r { 0.0 } else { 1.0 }).collect();
        assert_eq!(relevance_rank(&inverse, &region), 0.0);
        assert_eq!(auroc(&inverse, &region), Some(0.0));
    }

    #[test]
    fn pointing_game_tolerance_is_between_pixel_centres() {
        let (w, region, _) = setup();
        // Region's nearest pixel to (6, 6) is (3, 6): distance 3.
        assert_eq!(pointing_game(&peaked_at(6, 6), &region, w, 2.999), 0.0);
        assert_eq!(pointing_game(&peaked_at(6, 6), &region, w, 3.0), 1.0);
        // (6, 9) to (3, 7): √13 ≈ 3.606.
        assert_eq!(pointing_game(&peaked_at(6, 9), &region, w, 3.6), 0.0);
        assert_eq!(pointing_game(&peaked_at(6, 9), &region, w, 3.61), 1.0);
    }

    #[test]
    fn uniform_map_scores_the_region_share() {
        let (w, region, bbox) = setup();
        let uniform = vec![0.7; 100];
        let m = metrics(&uniform, &region, &bbox, w, 0.0);
        assert!((m.relevance_mass.unwrap() - 0.06).abs() < 1e-12, "{m:?}");
        assert!((m.energy_pointing_game.unwrap() - 0.20).abs() < 1e-12);
        assert!((m.relevance_rank - 0.06).abs() < 1e-12);
        assert_eq!(m.pixel_auroc, Some(0.5));
        assert!((m.pointing_game - 0.06).abs() < 1e-12); // every pixel is a maximum; 6 of 100 hit
        // An all-zero map has no energy.
        let zero = vec![0.0; 100];
        assert_eq!(energy_share(&zero, &region), None);
    }

    #[test]
    fn auroc_matches_hand_computed_ties() {
        // Positives 0.8, 0.4; negatives 0.4, 0.1, 0.1: pairs (0.8>all)=3, (0.4 vs 0.4)=0.5, (0.4>0.1)×2 → 5.5/6.
        let map = [0.8, 0.4, 0.4, 0.1, 0.1];
        let region = [true, true, false, false, false];
        assert!((auroc(&map, &region).unwrap() - 5.5 / 6.0).abs() < 1e-12);
        assert_eq!(auroc(&map, &[true; 5]), None);
    }

    #[test]
    fn negative_values_count_as_zero() {
        let mut map = vec![-1.0, 2.0, -0.5, 2.0];
        clamp_negative(&mut map);
        assert_eq!(map, vec![0.0, 2.0, 0.0, 2.0]);
        assert_eq!(peak_total(&map, 2), (2.0, [1, 0], 4.0));
    }
}
