//! `pinsynth bench`: images/second end to end (render, readback, PNG encode, write) on the default scene,
//! at 224² and 512², for each anti-aliasing mode, compared with Blender 3.4.1 Workbench measured on the
//! same kind of machine (`shared/blender-refs/README.md`).

use super::tune_software_rasteriser;
use clap::Args;
use pinsynth::dataset::DatasetOptions;
use pinsynth::progress::Quiet;
use pinsynth::run::{RunOptions, render_dataset};
use pinsynth::spec::Scene;
use std::path::Path;

/// Blender 3.4.1 Workbench (8× AA), median seconds per image on the 2-core reference machine.
const BLENDER_WORKBENCH_S: [(u32, f64); 2] = [(224, 0.074), (512, 0.157)];

#[derive(Args)]
pub struct BenchArgs {
    /// Images per measurement.
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Image sizes (square), comma separated.
    #[arg(long, value_delimiter = ',', default_value = "224,512")]
    pub sizes: Vec<u32>,
    /// Anti-aliasing modes to measure, comma separated (the default scene uses exact).
    #[arg(long, value_delimiter = ',', default_value = "exact,msaa4,fxaa,ssaa3,none")]
    pub antialias: Vec<String>,
    /// Render workers (default: one per core).
    #[arg(long, short, default_value_t = 0)]
    pub jobs: usize,
    /// Images drawn side by side per GPU submission (the output is identical for any value).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Where the datasets are written (default: the system temp dir), each row into a fresh folder;
    /// all removed at the end. File creation speed varies a lot between file systems: compare rows of
    /// one run, and try a tmpfs (`--dir /dev/shm`) to see the rendering cost alone.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Also measure every row with this optional ground truth on (comma separated: depth, amodal),
    /// right after the same row without it.
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(pinsynth::spec::TRUTH_KINDS))]
    pub truth: Vec<String>,
}

pub fn bench(a: BenchArgs) -> anyhow::Result<()> {
    let opts = RunOptions {
        jobs: a.jobs,
        batch: a.batch,
        dataset: DatasetOptions { preview: 0, ..DatasetOptions::default() },
        ..RunOptions::default()
    };
    tune_software_rasteriser(opts.workers());
    let base = a.dir.clone().unwrap_or_else(std::env::temp_dir).join(format!("pinsynth-bench-{}", std::process::id()));
    println!(
        "pinsynth bench: default scene (mixed 3x9, sweep), {} images per row, {} workers, writes to {}",
        a.count,
        opts.workers(),
        base.display()
    );
    println!(
        "{:>5}  {:<6}  {:<12}  {:>9}  {:>10}  {:>14}",
        "size", "aa", "truth", "seconds", "images/s", "x Blender WB"
    );
    let truth_rows: Vec<Vec<String>> = if a.truth.is_empty() { vec![vec![]] } else { vec![vec![], a.truth.clone()] };
    let result = (|| -> anyhow::Result<()> {
        let mut row = 0;
        for &size in &a.sizes {
            for (aa, truth) in a.antialias.iter().flat_map(|aa| truth_rows.iter().map(move |t| (aa, t))) {
                let mut sets = vec![
                    format!("image.width={size}"),
                    format!("image.height={size}"),
                    format!("image.antialias=\"{aa}\""),
                    format!("sweep.count={}", a.count),
                ];
                sets.extend(truth.iter().map(|k| format!("truth.{k}=true")));
                let truth = if truth.is_empty() { "-".to_string() } else { truth.join(",") };
                let scene =
                    Scene::parse(include_str!("../../scenes/default.toml"), Path::new("scenes/default.toml"), &sets)
                        .map_err(|e| anyhow::Error::new(pinsynth::Error::from(e)))?;
                row += 1;
                let out = base.join(format!("{row:02}-{size}-{aa}"));
                let s = render_dataset(&scene, &out, &opts, &Quiet).map_err(anyhow::Error::new)?;
                let blender = BLENDER_WORKBENCH_S
                    .iter()
                    .find(|(s, _)| *s == size)
                    .map(|(_, t)| format!("{:.0}x", s.images_per_second() * t))
                    .unwrap_or("-".into());
                println!(
                    "{size:>5}  {aa:<6}  {truth:<12}  {:>9.2}  {:>10.0}  {:>14}",
                    s.seconds,
                    s.images_per_second(),
                    blender
                );
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&base);
    result
}
