//! What a run or a merge made: image counts per split × label × defect type (`summary.json`, only what
//! the scene determines, so reruns are identical) plus the timing the command line prints.

use super::{OutputDir, WriteError, write_atomic};
use crate::truth::Record;
use std::collections::BTreeMap;

/// What a run did. Image counts come from `counts` (what `summary.json` holds).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub seconds: f64,
    /// Seconds from the start until the first image was written (a render: opening the GPU devices,
    /// the first batch and the scene's base frame; 0 when nothing was written).
    pub first_image_seconds: f64,
    pub adapter: String,
    pub workers: usize,
    /// What `summary.json` holds.
    pub counts: Counts,
}

/// Images by split, label and defect type (`none` for OK): the dataset's `summary.json`. Only what
/// the scene determines (no timings), so the same scene gives the same file.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub images: u64,
    /// Images in the layouts, by split → label → defect type.
    pub splits: BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>,
    /// Images cut by `[balance]` (in images/ and the manifest only), same shape.
    pub excluded: BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>,
}

impl Counts {
    pub fn count(&mut self, r: &Record) {
        self.images += 1;
        let by_split = if r.excluded { &mut self.excluded } else { &mut self.splits };
        *by_split
            .entry(r.split.as_str().to_string())
            .or_default()
            .entry(r.label.clone())
            .or_default()
            .entry(r.defect_type().unwrap_or("none").to_string())
            .or_default() += 1;
    }

    /// Writes `summary.json` into `dir`.
    pub fn write(&self, dir: &OutputDir) -> Result<(), WriteError> {
        let path = dir.path("summary.json");
        let json =
            serde_json::to_string_pretty(self).map_err(|source| WriteError::Json { path: path.clone(), source })?;
        write_atomic(&path, format!("{json}\n").as_bytes())
    }
}

impl Summary {
    pub fn images_per_second(&self) -> f64 {
        self.images() as f64 / self.seconds.max(1e-9)
    }

    /// Images per second after the first was written: the rate of the stream once the run has
    /// started, without what a run spends once (as Blender's per-image figure leaves out its setup).
    pub fn images_per_second_after_first(&self) -> f64 {
        self.images().saturating_sub(1) as f64 / (self.seconds - self.first_image_seconds).max(1e-9)
    }

    pub fn count(&mut self, r: &Record) {
        self.counts.count(r);
    }

    pub fn images(&self) -> u64 {
        self.counts.images
    }

    /// Images per label, then per defect type (`none` for OK), over every split and the excluded ones.
    fn by_label(&self) -> BTreeMap<&str, BTreeMap<&str, u64>> {
        let mut out: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
        for labels in self.counts.splits.values().chain(self.counts.excluded.values()) {
            for (label, types) in labels {
                for (ty, n) in types {
                    *out.entry(label.as_str()).or_default().entry(ty.as_str()).or_default() += n;
                }
            }
        }
        out
    }

    pub fn ok(&self) -> u64 {
        self.by_label().get("ok").map_or(0, |t| t.values().sum())
    }

    pub fn ng(&self) -> u64 {
        self.by_label().get("ng").map_or(0, |t| t.values().sum())
    }

    /// NG images per defect type.
    pub fn defect_types(&self) -> BTreeMap<String, u64> {
        self.by_label().get("ng").map_or_else(BTreeMap::new, |t| t.iter().map(|(k, v)| (k.to_string(), *v)).collect())
    }
}
