//! Class balancing (the oversampling workflow): oversample the rarer classes — typically NG — with
//! augmented copies until each reaches a target fraction of the largest class, per split, never
//! touching the test split.

/// `--balance`: bring every class to `ratio` x the size of the largest class of its group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BalanceOptions {
    /// Target size of each minority class relative to the majority, in (0, 1].
    pub ratio: f64,
}

impl Default for BalanceOptions {
    fn default() -> Self {
        BalanceOptions { ratio: 1.0 }
    }
}

/// One source image as balancing sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceItem {
    /// Items are balanced within their group: a folder's split (`train`, `val`) or a dataset's
    /// `split` key.
    pub group: String,
    /// The class: the image's folder (`ok`, `ng`) or a dataset record's `label`.
    pub class: String,
    /// Test-split items are never augmented and do not count.
    pub test: bool,
}

/// Copies to make of each item (same order). Within a group, a class of `n` items below
/// `target = ceil(ratio * majority)` needs `target - n` copies, dealt out round-robin in item order:
/// the first `(target - n) % n` items get one more than the rest. The majority gets none.
pub fn balance_copies(items: &[BalanceItem], opts: &BalanceOptions) -> Vec<u32> {
    use std::collections::BTreeMap;
    let mut classes: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate().filter(|(_, it)| !it.test) {
        classes.entry((item.group.as_str(), item.class.as_str())).or_default().push(i);
    }
    let mut majority: BTreeMap<&str, usize> = BTreeMap::new();
    for ((group, _), members) in &classes {
        let m = majority.entry(group).or_default();
        *m = (*m).max(members.len());
    }
    let mut copies = vec![0u32; items.len()];
    for ((group, _), members) in &classes {
        let target = (opts.ratio * majority[group] as f64).ceil() as usize;
        let n = members.len();
        let need = target.saturating_sub(n);
        for (rank, &i) in members.iter().enumerate() {
            copies[i] = (need / n + usize::from(rank < need % n)) as u32;
        }
    }
    copies
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(group: &str, class: &str, test: bool) -> BalanceItem {
        BalanceItem { group: group.into(), class: class.into(), test }
    }

    #[test]
    fn minority_reaches_the_majority_exactly() {
        // train: 10 ok, 3 ng → ng needs 7 copies: 3, 2, 2. test: untouched.
        let mut items: Vec<BalanceItem> = (0..10).map(|_| item("train", "ok", false)).collect();
        items.extend((0..3).map(|_| item("train", "ng", false)));
        items.extend((0..4).map(|_| item("test", "ng", true)));
        let copies = balance_copies(&items, &BalanceOptions::default());
        assert_eq!(copies, [vec![0; 10], vec![3, 2, 2], vec![0; 4]].concat());
    }

    #[test]
    fn ratio_sets_the_target_per_group() {
        // 8 ok, 2 ng, ratio 0.5 → target 4 → 2 copies, one each; group b is already balanced.
        let mut items: Vec<BalanceItem> = (0..8).map(|_| item("a", "ok", false)).collect();
        items.extend((0..2).map(|_| item("a", "ng", false)));
        items.extend([item("b", "ok", false), item("b", "ng", false)]);
        let copies = balance_copies(&items, &BalanceOptions { ratio: 0.5 });
        assert_eq!(copies, [vec![0; 8], vec![1, 1], vec![0, 0]].concat());
    }
}
