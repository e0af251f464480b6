//! The results of `score`: per image, then means overall / per defect type / per split; written as
//! JSON (`FILE.json`) and CSV (`--csv`).

use super::ScoreOptions;
use super::metrics::Metrics;
use crate::dataset::{WriteError, write_atomic};
use serde::Serialize;
use serde::ser::SerializeMap;
use std::collections::BTreeMap;
use std::path::Path;

/// The metric names, in output order.
pub const METRICS: [&str; 5] =
    ["pointing_game", "energy_pointing_game", "relevance_mass", "relevance_rank", "pixel_auroc"];

fn metric_values(m: &Metrics) -> [Option<f64>; 5] {
    [Some(m.pointing_game), m.energy_pointing_game, m.relevance_mass, Some(m.relevance_rank), m.pixel_auroc]
}

/// One scored image.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageScore {
    pub id: String,
    /// The defect type, or `ok`.
    pub kind: String,
    pub split: Option<String>,
    /// The map's file name.
    pub map: String,
    /// None for an OK image.
    pub metrics: Option<Metrics>,
    /// The map's largest value (after resampling, negatives as 0) and its first pixel `[x, y]`.
    pub peak: f64,
    pub peak_px: [usize; 2],
    /// The sum of the map's values at the image size.
    pub total: f64,
}

impl ImageScore {
    pub fn values(&self) -> Option<[Option<f64>; 5]> {
        self.metrics.as_ref().map(metric_values)
    }
}

impl Serialize for ImageScore {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("type", &self.kind)?;
        m.serialize_entry("split", &self.split)?;
        m.serialize_entry("map", &self.map)?;
        if let Some(values) = self.values() {
            for (name, v) in METRICS.iter().zip(values) {
                m.serialize_entry(name, &v)?;
            }
        }
        m.serialize_entry("peak", &self.peak)?;
        m.serialize_entry("peak_px", &self.peak_px)?;
        m.serialize_entry("total", &self.total)?;
        m.end()
    }
}

/// Means over a group of images: metrics over its NG images (each over the images where it is
/// defined; null when none), peak and total over its OK images.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    pub images: usize,
    pub ng: usize,
    pub ok: usize,
    pub means: [Option<f64>; 5],
    pub ok_peak: Option<f64>,
    pub ok_total: Option<f64>,
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (n, s) = v.fold((0usize, 0.0f64), |(n, s), x| (n + 1, s + x));
    (n > 0).then(|| s / n as f64)
}

impl Group {
    fn of<'a>(images: impl Iterator<Item = &'a ImageScore> + Clone) -> Group {
        let ng: Vec<[Option<f64>; 5]> = images.clone().filter_map(ImageScore::values).collect();
        let ok: Vec<&ImageScore> = images.clone().filter(|s| s.metrics.is_none()).collect();
        let mut means = [None; 5];
        for (k, m) in means.iter_mut().enumerate() {
            *m = mean(ng.iter().filter_map(|v| v[k]));
        }
        Group {
            images: ng.len() + ok.len(),
            ng: ng.len(),
            ok: ok.len(),
            means,
            ok_peak: mean(ok.iter().map(|s| s.peak)),
            ok_total: mean(ok.iter().map(|s| s.total)),
        }
    }

    pub fn get(&self, metric: &str) -> Option<f64> {
        METRICS.iter().position(|m| *m == metric).and_then(|i| self.means[i])
    }
}

impl Serialize for Group {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("images", &self.images)?;
        m.serialize_entry("ng", &self.ng)?;
        m.serialize_entry("ok", &self.ok)?;
        for (name, v) in METRICS.iter().zip(self.means) {
            m.serialize_entry(name, &v)?;
        }
        m.serialize_entry("ok_peak", &self.ok_peak)?;
        m.serialize_entry("ok_total", &self.ok_total)?;
        m.end()
    }
}

/// Everything `score` found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreSummary {
    /// Images scored (NG and OK).
    pub images: usize,
    pub tolerance: f64,
    pub overall: Group,
    pub by_type: BTreeMap<String, Group>,
    pub by_split: BTreeMap<String, Group>,
    pub per_image: Vec<ImageScore>,
    /// Images that have no map in the maps directory (not scored, not guessed).
    pub missing_maps: Vec<String>,
    /// NG images whose defective terminal has no visible pixel (hidden): no region to score against.
    pub empty_regions: Vec<String>,
    /// The worst-scored NG images, worst first (lowest relevance mass, then pointing game, then id):
    /// the contact sheet's order.
    pub worst: Vec<String>,
}

impl ScoreSummary {
    pub fn new(
        per_image: Vec<ImageScore>,
        missing_maps: Vec<String>,
        empty_regions: Vec<String>,
        opts: &ScoreOptions,
    ) -> ScoreSummary {
        let mut by_type = BTreeMap::new();
        let mut by_split = BTreeMap::new();
        let kinds: std::collections::BTreeSet<&str> = per_image.iter().map(|s| s.kind.as_str()).collect();
        for k in kinds {
            by_type.insert(k.to_string(), Group::of(per_image.iter().filter(|s| s.kind == k)));
        }
        let splits: std::collections::BTreeSet<&str> = per_image.iter().filter_map(|s| s.split.as_deref()).collect();
        for sp in splits {
            by_split.insert(sp.to_string(), Group::of(per_image.iter().filter(|s| s.split.as_deref() == Some(sp))));
        }
        let mut ng: Vec<&ImageScore> = per_image.iter().filter(|s| s.metrics.is_some()).collect();
        let key = |s: &ImageScore| {
            let m = s.metrics.unwrap_or(Metrics {
                pointing_game: 0.0,
                energy_pointing_game: None,
                relevance_mass: None,
                relevance_rank: 0.0,
                pixel_auroc: None,
            });
            (m.relevance_mass.unwrap_or(-1.0), m.pointing_game)
        };
        ng.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(a.id.cmp(&b.id))
        });
        let worst = ng.iter().take(opts.worst).map(|s| s.id.clone()).collect();
        ScoreSummary {
            images: per_image.len(),
            tolerance: opts.tolerance,
            overall: Group::of(per_image.iter()),
            by_type,
            by_split,
            per_image,
            missing_maps,
            empty_regions,
            worst,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default(); // ok: plain data, no NaN (None instead)
        s.push('\n');
        s
    }

    /// The per-image table: scored images in manifest order, then those without a map and those
    /// without a region (`status` says which), metrics empty where undefined.
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["id", "type", "split", "status", "map"];
        header.extend(METRICS);
        header.extend(["peak", "total"]);
        w.write_record(&header)?;
        let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for s in &self.per_image {
            let mut row = vec![s.id.clone(), s.kind.clone(), s.split.clone().unwrap_or_default(), "scored".into()];
            row.push(s.map.clone());
            let vals = s.values().unwrap_or([None; 5]);
            row.extend(vals.iter().map(|v| num(*v)));
            row.extend([num(Some(s.peak)), num(Some(s.total))]);
            w.write_record(&row)?;
        }
        for (ids, status) in [(&self.missing_maps, "no_map"), (&self.empty_regions, "empty_region")] {
            for id in ids {
                let mut row = vec![id.clone(), String::new(), String::new(), status.to_string(), String::new()];
                row.extend(std::iter::repeat_n(String::new(), 7));
                w.write_record(&row)?;
            }
        }
        w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }

    /// Writes the JSON (and the CSV when asked), each through a temporary name.
    pub fn write(&self, json: &Path, csv_path: Option<&Path>) -> Result<(), WriteError> {
        write_atomic(json, self.to_json().as_bytes())?;
        if let Some(p) = csv_path {
            let bytes = self.to_csv().map_err(|source| WriteError::Csv { path: p.to_path_buf(), source })?;
            write_atomic(p, &bytes)?;
        }
        Ok(())
    }
}
