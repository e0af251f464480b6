//! Train/val/test assignment and class balance: pure functions of the scene's seed and each image's
//! id and stratum, so adding images to a dataset never moves an existing image to another split.
//!
//! * **Split.** Image `id` in stratum `s` (its label and defect type: `ok`, `ng/offset`, …) gets
//!   `u = hash(seed, "split", s, id)` in [0, 1) and goes to train if `u < train`, val if
//!   `u < train + val`, else test. Every stratum is split with the same fractions *in expectation*;
//!   a stratum of n images deviates by about √n images (an exact per-stratum allocation would have to
//!   look at the other images, and then adding images could move existing ones).
//! * **Balance** (`ok_per_ng` > 0): in each split, the majority class keeps the
//!   `round(ok_per_ng · n_ng)` OK images (or `round(n_ok / ok_per_ng)` NG images) with the smallest
//!   `hash(seed, "balance", id)`; the rest are *excluded*: rendered, in `images/` and the manifest
//!   (`"excluded": true`), but in no layout. Never duplicated. A split with only one class is kept as is.
//!   The selection is exact; it needs one pass over every image's label before rendering
//!   ([`BalancePlan::new`], a cheap pure function of the scene), with memory independent of the count.

use crate::seed::{stable_hash, unit};
use crate::spec::{BalanceSpec, Scene, SplitSpec};
use crate::sweep;
use serde::{Deserialize, Serialize};

/// The part of the dataset an image belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl crate::conventions::Named for Split {
    const ALL: &'static [Split] = &Split::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// The stratum of an image: `ok`, or `ng/<defect type>`.
pub fn stratum(defect_type: Option<&str>) -> String {
    match defect_type {
        None => "ok".to_string(),
        Some(t) => format!("ng/{t}"),
    }
}

/// The split of image `id` in `stratum`.
pub fn assign_split(spec: &SplitSpec, seed: u64, stratum: &str, id: &str) -> Split {
    let u = unit(stable_hash(seed, &["split", stratum, id]));
    if u < spec.train {
        Split::Train
    } else if u < spec.train + spec.val {
        Split::Val
    } else {
        Split::Test
    }
}

/// The key that orders images for balancing (smallest kept first).
pub fn balance_key(seed: u64, id: &str) -> u64 {
    stable_hash(seed, &["balance", id])
}

/// Which class of a split is cut, and the largest key kept.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cut {
    ng: bool,
    /// Images of the cut class with `key <= max_key` are kept (None: none kept).
    max_key: Option<u64>,
}

/// Which images balancing excludes, decided once per run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BalancePlan {
    cuts: [Option<Cut>; 3],
    seed: u64,
}

/// Keys are bucketed by their top bits to find the cut without holding every key.
const BUCKET_BITS: u32 = 16;

fn bucket(key: u64) -> usize {
    (key >> (64 - BUCKET_BITS)) as usize
}

impl BalancePlan {
    /// Plans the balance of the images `items()` yields as `(balance key, is NG, split)`. Called
    /// twice: once to count per split, class and key bucket, then to collect the keys of the one bucket
    /// per split where the cut falls. Memory: 2¹⁶ buckets, whatever the image count.
    pub fn from_items<I: Iterator<Item = (u64, bool, Split)>>(
        spec: &BalanceSpec,
        seed: u64,
        items: impl Fn() -> I,
    ) -> BalancePlan {
        let mut plan = BalancePlan { cuts: [None; 3], seed };
        if spec.ok_per_ng <= 0.0 {
            return plan;
        }
        let mut counts = [[0u64; 2]; 3];
        let mut hist = vec![[[0u64; 2]; 3]; 1 << BUCKET_BITS];
        for (key, ng, split) in items() {
            counts[split.index()][ng as usize] += 1;
            hist[bucket(key)][split.index()][ng as usize] += 1;
        }
        // Per split: the cut class, the rank of the last kept key inside its bucket, and that bucket.
        let mut boundary: [Option<(bool, u64, usize)>; 3] = [None; 3];
        for s in Split::ALL {
            let [n_ok, n_ng] = counts[s.index()];
            if n_ok == 0 || n_ng == 0 {
                continue;
            }
            let target_ok = (spec.ok_per_ng * n_ng as f64).round() as u64;
            let (ng, n, keep) = if n_ok > target_ok {
                (false, n_ok, target_ok)
            } else {
                (true, n_ng, (n_ok as f64 / spec.ok_per_ng).round() as u64)
            };
            if keep >= n {
                continue;
            }
            if keep == 0 {
                plan.cuts[s.index()] = Some(Cut { ng, max_key: None });
                continue;
            }
            let mut before = 0;
            for (b, h) in hist.iter().enumerate() {
                let c = h[s.index()][ng as usize];
                if before + c >= keep {
                    boundary[s.index()] = Some((ng, keep - before, b));
                    break;
                }
                before += c;
            }
        }
        drop(hist);
        if boundary.iter().all(Option::is_none) {
            return plan;
        }
        let mut keys: [Vec<u64>; 3] = Default::default();
        for (key, ng, split) in items() {
            if let Some((cut_ng, _, b)) = boundary[split.index()]
                && ng == cut_ng
                && bucket(key) == b
            {
                keys[split.index()].push(key);
            }
        }
        for s in Split::ALL {
            if let Some((ng, rank, _)) = boundary[s.index()] {
                let k = &mut keys[s.index()];
                k.sort_unstable();
                plan.cuts[s.index()] = Some(Cut { ng, max_key: k.get(rank as usize - 1).copied() });
            }
        }
        plan
    }

    /// Plans the balance of every image of `scene` from their parameters (no rendering).
    pub fn for_scene(scene: &Scene) -> BalancePlan {
        let seed = scene.seed();
        if scene.balance.ok_per_ng <= 0.0 {
            return BalancePlan { cuts: [None; 3], seed };
        }
        BalancePlan::from_items(&scene.balance, seed, || {
            (0..scene.image_count()).map(move |i| {
                let p = sweep::draw(scene, i);
                let ty = p.defect.as_ref().map(|d| d.defect_type().as_str());
                let split = assign_split(&scene.split, seed, &stratum(ty), &p.id);
                (balance_key(seed, &p.id), p.defect.is_some(), split)
            })
        })
    }

    /// Whether balancing excludes an image.
    pub fn excludes(&self, id: &str, ng: bool, split: Split) -> bool {
        match self.cuts[split.index()] {
            Some(cut) if cut.ng == ng => cut.max_key.is_none_or(|m| balance_key(self.seed, id) > m),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPLIT: SplitSpec = SplitSpec { train: 0.7, val: 0.15, test: 0.15 };

    fn ids(n: u64) -> Vec<String> {
        (0..n).map(|i| format!("{i:06}")).collect()
    }

    #[test]
    fn adding_images_never_moves_existing_ones() {
        let small: Vec<Split> = ids(1000).iter().map(|id| assign_split(&SPLIT, 3, "ng/tilt", id)).collect();
        let big: Vec<Split> = ids(5000).iter().map(|id| assign_split(&SPLIT, 3, "ng/tilt", id)).collect();
        assert_eq!(small[..], big[..1000]);
    }

    #[test]
    fn fractions_hold_in_every_stratum() {
        for stratum in ["ok", "ng/offset", "ng/missing"] {
            let mut n = [0usize; 3];
            for id in ids(20_000) {
                n[assign_split(&SPLIT, 11, stratum, &id).index()] += 1;
            }
            // Binomial: sd of the train count is sqrt(20000 · 0.7 · 0.3) ≈ 65; allow 4 sd.
            assert!((n[0] as f64 - 14_000.0).abs() < 260.0, "{stratum}: {n:?}");
            assert!((n[1] as f64 - 3_000.0).abs() < 200.0, "{stratum}: {n:?}");
        }
    }

    #[test]
    fn zero_fraction_splits_stay_empty() {
        let only_train = SplitSpec { train: 1.0, val: 0.0, test: 0.0 };
        assert!(ids(1000).iter().all(|id| assign_split(&only_train, 0, "ok", id) == Split::Train));
    }

    fn items(n: u64, ok_every: u64) -> Vec<(String, bool, Split)> {
        ids(n)
            .into_iter()
            .enumerate()
            .map(|(i, id)| {
                let ng = !(i as u64).is_multiple_of(ok_every);
                let split = assign_split(&SPLIT, 5, if ng { "ng/offset" } else { "ok" }, &id);
                (id, ng, split)
            })
            .collect()
    }

    fn kept(plan: &BalancePlan, items: &[(String, bool, Split)]) -> [[u64; 2]; 3] {
        let mut n = [[0u64; 2]; 3];
        for (id, ng, split) in items {
            if !plan.excludes(id, *ng, *split) {
                n[split.index()][*ng as usize] += 1;
            }
        }
        n
    }

    fn plan(items: &[(String, bool, Split)], ok_per_ng: f64) -> BalancePlan {
        BalancePlan::from_items(&BalanceSpec { ok_per_ng }, 5, || {
            items.iter().map(|(id, ng, split)| (balance_key(5, id), *ng, *split))
        })
    }

    #[test]
    fn balance_keeps_exactly_the_target_ratio_per_split() {
        let items = items(3000, 5); // 1 OK : 4 NG
        let n = kept(&plan(&items, 1.0), &items);
        for s in Split::ALL {
            assert_eq!(n[s.index()][0], n[s.index()][1], "{s:?}: {n:?}");
        }
        let n2 = kept(&plan(&items, 0.5), &items);
        for s in Split::ALL {
            assert_eq!(n2[s.index()][1], 2 * n2[s.index()][0], "{s:?}: {n2:?}");
        }
        // OK is the minority: every OK image is kept.
        let ok_total: u64 = items.iter().filter(|i| !i.1).count() as u64;
        assert_eq!(n.iter().map(|s| s[0]).sum::<u64>(), ok_total);
    }

    #[test]
    fn balance_off_or_already_balanced_excludes_nothing() {
        let items = items(500, 2);
        assert_eq!(plan(&items, 0.0), BalancePlan { cuts: [None; 3], seed: 5 });
        let n = kept(&plan(&items, 0.0), &items);
        assert_eq!(n.iter().flatten().sum::<u64>(), 500);
    }
}
