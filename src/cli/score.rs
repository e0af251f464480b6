//! `pinsynth score`.

use clap::Args;
use pinsynth::score::{ScoreOptions, ScoreOutputs, output::METRICS};
use std::path::PathBuf;

#[derive(Args)]
pub struct ScoreArgs {
    /// A pinsynth dataset (a folder with manifest.jsonl).
    pub dataset: PathBuf,
    /// Heat maps named by image id: DIR/<id>.npy (2-D float32/float64) or DIR/<id>.png (8/16-bit grey),
    /// any size (resampled bilinearly to the image size).
    #[arg(long, value_name = "DIR")]
    pub maps: PathBuf,
    /// Results as JSON [default: DATASET/score.json]; the worst-images sheet goes beside it
    /// (<stem>_worst.png).
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    /// Pointing game: the map's maximum hits when within this many pixels of the region (between
    /// pixel centres).
    #[arg(long, value_name = "PX", default_value_t = 15.0)]
    pub tolerance: f64,
    /// Also write the per-image table as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Images on the worst-images contact sheet (0 = none).
    #[arg(long, default_value_t = 16)]
    pub worst: usize,
    /// Replace existing output files.
    #[arg(long)]
    pub overwrite: bool,
}

pub fn score(a: ScoreArgs) -> anyhow::Result<()> {
    let out = ScoreOutputs {
        json: a.out.clone().unwrap_or_else(|| a.dataset.join("score.json")),
        csv: a.csv.clone(),
        overwrite: a.overwrite,
    };
    let opts = ScoreOptions { tolerance: a.tolerance, worst: a.worst };
    let s = pinsynth::score::score_to_files(&a.dataset, &a.maps, &out, &opts)
        .map_err(|e| anyhow::Error::new(pinsynth::Error::from(e)))?;
    println!(
        "scored {} images ({} NG, {} OK); {} without a map, {} NG without a visible region",
        s.images,
        s.overall.ng,
        s.overall.ok,
        s.missing_maps.len(),
        s.empty_regions.len()
    );
    let fmt = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"));
    println!("{:<14} {:>4} {}", "group", "ng", METRICS.join(" "));
    let mut rows = vec![("overall".to_string(), &s.overall)];
    rows.extend(s.by_type.iter().map(|(k, g)| (k.clone(), g)));
    rows.extend(s.by_split.iter().map(|(k, g)| (format!("split {k}"), g)));
    for (name, g) in rows.into_iter().filter(|(_, g)| g.ng > 0) {
        let cols: Vec<String> = METRICS.iter().map(|m| format!("{:>w$}", fmt(g.get(m)), w = m.len())).collect();
        println!("{name:<14} {:>4} {}", g.ng, cols.join(" "));
    }
    if s.overall.ok > 0 {
        println!("OK images: mean peak {}, mean total {}", fmt(s.overall.ok_peak), fmt(s.overall.ok_total));
    }
    println!("wrote {}", out.json.display());
    Ok(())
}
