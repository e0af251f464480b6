//! `pinsynth report`.

use clap::Args;
use pinsynth::report::ReportOptions;
use std::path::PathBuf;

#[derive(Args)]
pub struct ReportArgs {
    /// A pinsynth dataset (a folder with manifest.jsonl).
    pub dataset: PathBuf,
    /// Output folder: index.html and img/ [default: DATASET/report].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace an existing non-empty output folder's files.
    #[arg(long)]
    pub overwrite: bool,
    /// `pinsynth score` results to show [default: DATASET/score.json when present].
    #[arg(long, value_name = "FILE.json")]
    pub score: Option<PathBuf>,
    /// Images per contact sheet.
    #[arg(long, default_value_t = 16)]
    pub per_sheet: usize,
    /// Full-size examples (one per defect type, then an OK image).
    #[arg(long, default_value_t = 5)]
    pub examples: usize,
}

pub fn report(a: ReportArgs) -> anyhow::Result<()> {
    let opts = ReportOptions {
        out: a.out.clone().unwrap_or_else(|| a.dataset.join("report")),
        overwrite: a.overwrite,
        score: a.score,
        per_sheet: a.per_sheet,
        examples: a.examples,
    };
    let index =
        pinsynth::report::report(&a.dataset, &opts).map_err(|e| anyhow::Error::new(pinsynth::Error::from(e)))?;
    println!("wrote {}", index.display());
    Ok(())
}
