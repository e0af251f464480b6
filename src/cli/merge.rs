//! `pinsynth merge`.

use super::render::{Bar, LayoutArgs, print_summary};
use clap::Args;
use pinsynth::dataset::DatasetOptions;
use std::path::PathBuf;

#[derive(Args)]
pub struct MergeArgs {
    /// The shard output directories (every shard of one run, any order).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Merged dataset directory (must be empty or new, unless --overwrite).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace pinsynth's outputs in a non-empty output directory.
    #[arg(long)]
    pub overwrite: bool,
    /// Images on the contact sheet preview.png (0 = none); as given to `render`.
    #[arg(long, default_value_t = 32)]
    pub preview: usize,
    /// The layouts, as given to `render`.
    #[command(flatten)]
    pub layouts: LayoutArgs,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn merge(a: MergeArgs) -> anyhow::Result<()> {
    let opts = DatasetOptions { overwrite: a.overwrite, preview: a.preview, layouts: a.layouts.options() };
    let bar = Bar::new(a.quiet);
    let summary = pinsynth::shard::merge::merge(&a.dirs, &a.out, &opts, &bar).map_err(anyhow::Error::new)?;
    bar.0.finish_and_clear();
    print_summary(&summary, &a.out);
    Ok(())
}
