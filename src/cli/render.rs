//! `pinsynth render`, `validate` and `info`.

use super::tune_software_rasteriser;
use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use pinsynth::conventions::valid_file_name;
use pinsynth::dataset::{DatasetOptions, Format, LayoutOptions};
use pinsynth::progress::Progress;
use pinsynth::run::{RunOptions, render_dataset};
use pinsynth::spec::Scene;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct SceneArgs {
    /// Scene file (TOML). See scenes/ for commented examples.
    pub scene: PathBuf,
    /// Override a key of the scene, e.g. --set image.width=512 (repeatable).
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub set: Vec<String>,
}

impl SceneArgs {
    pub fn load(&self) -> anyhow::Result<Scene> {
        self.load_with(&[])
    }

    /// Loads the scene with `extra` overrides after the `--set` ones.
    pub fn load_with(&self, extra: &[String]) -> anyhow::Result<Scene> {
        let set: Vec<String> = self.set.iter().chain(extra).cloned().collect();
        Scene::load(&self.scene, &set).map_err(|e| anyhow::Error::new(pinsynth::Error::from(e)))
    }
}

#[derive(Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub scene: SceneArgs,
    /// Output dataset directory (must be empty or new, unless --overwrite).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace pinsynth's outputs in a non-empty output directory (other files are left alone).
    #[arg(long)]
    pub overwrite: bool,
    /// Render workers, each with its own GPU device (default: one per core).
    #[arg(long, short, default_value_t = 0)]
    pub jobs: usize,
    /// Images on the contact sheet preview.png (0 = none).
    #[arg(long, default_value_t = 32)]
    pub preview: usize,
    /// The most images drawn per GPU submission; 0: as many as 32 MiB of pixels hold, 4 to 16 (the
    /// output is identical for any value).
    #[arg(long, default_value_t = 0)]
    pub batch: usize,
    /// Render only shard K of N: the images whose index mod N == K, ids unchanged (join the shards'
    /// outputs with `pinsynth merge`).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<pinsynth::shard::Shard>,
    /// Finish an interrupted run in --out: keep the images its manifest records, render the rest.
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,
    #[command(flatten)]
    pub layouts: LayoutArgs,
    /// Optional ground truth, comma-separated: depth (depth/<id>.tiff), amodal (full silhouettes and
    /// visible fractions in the manifest and COCO); the same as --set truth.depth=true etc.
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(pinsynth::spec::TRUTH_KINDS))]
    pub truth: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Which dataset layouts to write (shared by `render` and `merge`, which must be given the same).
#[derive(Args)]
pub struct LayoutArgs {
    /// Dataset layouts to write besides images/, masks/ and manifest.jsonl (comma-separated):
    /// imagefolder, mvtec, coco, wds, hf. They share image files by hard link where possible.
    #[arg(long, value_delimiter = ',', default_value = "imagefolder")]
    pub format: Vec<Format>,
    /// imagefolder: one NG class per defect type (ng_offset, ng_tilt, ng_offset_tilt, ng_missing, ng_bent).
    #[arg(long)]
    pub ng_by_type: bool,
    /// mvtec: the category folder (mvtec/<category>/).
    #[arg(long, default_value = "connector", value_parser = category)]
    pub category: String,
    /// wds: samples per WebDataset shard.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_size: u64,
}

impl LayoutArgs {
    pub fn options(&self) -> LayoutOptions {
        LayoutOptions {
            formats: self.format.clone(),
            ng_by_type: self.ng_by_type,
            category: self.category.clone(),
            shard_size: self.shard_size as usize,
        }
    }
}

fn category(s: &str) -> Result<String, String> {
    if valid_file_name(s) {
        Ok(s.to_string())
    } else {
        Err("use 1-128 letters, digits, `_`, `-` and `.` (not starting with `.`)".to_string())
    }
}

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub scene: SceneArgs,
}

/// An indicatif progress bar on stderr (hidden when stderr is not a terminal or with --quiet).
pub struct Bar(pub ProgressBar);

impl Bar {
    pub fn new(quiet: bool) -> Bar {
        let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(0) };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} images, {rate}, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()) // ok: the template is a literal
                .with_key("rate", |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} images/s", s.per_sec());
                })
                .progress_chars("=> "),
        );
        Bar(bar)
    }
}

impl Progress for Bar {
    fn start(&self, total: u64, _what: &str) {
        // The adapter is named in the summary line; the bar stays on one line.
        self.0.set_length(total);
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}

pub fn render(a: RenderArgs) -> anyhow::Result<()> {
    let truth: Vec<String> = a.truth.iter().map(|k| format!("truth.{k}=true")).collect();
    let scene = a.scene.load_with(&truth)?;
    let opts = RunOptions {
        jobs: a.jobs,
        batch: a.batch,
        dataset: DatasetOptions { overwrite: a.overwrite, preview: a.preview, layouts: a.layouts.options() },
        shard: a.shard,
        resume: a.resume,
        cancel: None,
    };
    tune_software_rasteriser(opts.workers());
    // After the environment is set: the handler runs on a thread of its own.
    let opts = RunOptions { cancel: Some(super::cancel_on_ctrl_c()), ..opts };
    let bar = Bar::new(a.quiet);
    let result = render_dataset(&scene, &a.out, &opts, &bar);
    bar.0.finish_and_clear();
    let summary = result.map_err(anyhow::Error::new)?;
    print_summary(&summary, &a.out);
    Ok(())
}

/// The one-line summary of a render or a merge.
pub fn print_summary(summary: &pinsynth::dataset::Summary, out: &std::path::Path) {
    let types: Vec<String> = summary.defect_types().iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "{} images ({} OK, {} NG{}) in {:.2} s = {:.0} images/s, {} -> {}",
        summary.images(),
        summary.ok(),
        summary.ng(),
        if types.is_empty() { String::new() } else { format!(": {}", types.join(", ")) },
        summary.seconds,
        summary.images_per_second(),
        match summary.workers {
            0 => summary.adapter.clone(),
            1 => format!("1 worker on {}", summary.adapter),
            n => format!("{n} workers on {}", summary.adapter),
        },
        out.display()
    );
}

pub fn validate(a: ValidateArgs) -> anyhow::Result<()> {
    let scene = a.scene.load()?;
    let mut out = std::io::stdout().lock();
    out.write_all(scene.to_toml().as_bytes()).context("writing to stdout")?;
    writeln!(out, "# {}: valid, {} images", a.scene.scene.display(), scene.image_count())
        .context("writing to stdout")?;
    Ok(())
}

pub fn info() -> anyhow::Result<()> {
    let gpu = pinsynth::render::Gpu::new().map_err(|e| anyhow::Error::new(pinsynth::Error::from(e)))?;
    println!("adapter: {}", gpu.describe());
    println!("max texture side: {}", gpu.limits.max_texture_dimension_2d);
    Ok(())
}
