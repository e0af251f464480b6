//! `pinsynth augment …`: argument parsing, progress bar and summary around
//! `pinsynth::augment`. Option names are Keras `ImageDataGenerator`'s, dashed.

use super::InputError;
use super::render::Bar;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use pinsynth::augment::{
    self, AugmentError, AugmentSpec, BalanceOptions, OutputFormat, RunOptions, Summary, ZoomRange,
};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AugmentCommand {
    /// Cut/flip/turn plan, step 1: list every image with its size and propose what to write (a CSV
    /// to review): wide images cut in two halves, all others flipped left-right and turned 90°.
    Plan {
        /// Folder of JPEG/PNG images (searched recursively).
        input: PathBuf,
        /// Where to write the plan (columns file,height,width,cut,reverse,plus90).
        #[arg(short, long, value_name = "CSV")]
        out: PathBuf,
        /// Fail on an unreadable or corrupt image instead of reporting and skipping it.
        #[arg(long)]
        strict: bool,
        /// No progress output (the plan reads every image; accepted for one vocabulary across commands).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Cut/flip/turn plan, step 2: write what a (reviewed) plan says — <stem>(flip_lr|plus90|cut_A|cut_B).<ext>,
    /// each randomly trimmed toward square.
    Apply {
        /// A plan written by `augment plan` (possibly edited).
        plan: PathBuf,
        /// Folder to mirror the listed files' folders under (default: their deepest common folder).
        #[arg(long)]
        root: Option<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Keras ImageDataGenerator-style random augmentation of a folder or a pinsynth dataset.
    Run {
        /// Image folder, or pinsynth dataset (a folder with manifest.jsonl).
        input: PathBuf,
        /// TOML file with the same keys as Keras (rotation_range = 20, zoom_range = [0.8, 1.2], …);
        /// command-line options override it.
        #[arg(long, value_name = "TOML")]
        config: Option<PathBuf>,
        #[command(flatten)]
        ops: OpArgs,
        /// Augmented copies per image (the test split is never augmented).
        #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000), conflicts_with = "balance")]
        copies: u32,
        /// Oversample minority classes (folders: class = parent folder; datasets: `label`) up to
        /// --balance-ratio x the majority, per split; the test split is never touched.
        #[arg(long)]
        balance: bool,
        /// Target size of each minority class relative to the majority, in (0, 1].
        #[arg(long, value_name = "R", default_value_t = 1.0, requires = "balance")]
        balance_ratio: f64,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Measure images/second of a typical Keras-style run on synthetic JPEG photos.
    Bench {
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// WIDTHxHEIGHT of the synthetic photos.
        #[arg(long, default_value = "640x480", value_parser = parse_size)]
        size: (u32, u32),
        /// Worker threads (default: all cores).
        #[arg(short = 'j', long = "jobs", alias = "threads")] // --threads: the old name, hidden
        jobs: Option<usize>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
}

/// `--format` of augmented images.
#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Keep,
    Png,
    Jpeg,
}

/// Options shared by `apply` and `run`.
#[derive(Args)]
pub struct CommonArgs {
    /// Output folder; mirrors the input's structure. Must be empty unless --overwrite.
    #[arg(long, short)]
    out: PathBuf,
    /// Seed of every random draw; each output depends only on (seed, source path, copy).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write into a non-empty output folder.
    #[arg(long)]
    overwrite: bool,
    /// Fail on the first unreadable or corrupt image instead of reporting and skipping it.
    #[arg(long)]
    strict: bool,
    /// Do not copy the original images into the output folder.
    #[arg(long)]
    no_originals: bool,
    /// Output format: keep the source's (default), or force png / jpeg.
    #[arg(long, value_enum, default_value_t = FormatArg::Keep)]
    format: FormatArg,
    /// JPEG quality for JPEG outputs.
    #[arg(long, default_value_t = 95, value_parser = clap::value_parser!(u8).range(1..=100))]
    jpeg_quality: u8,
    /// Worker threads (default: all cores). Results are identical for any count.
    #[arg(short = 'j', long = "jobs", alias = "threads")] // --threads: the old name, hidden
    jobs: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Keras ImageDataGenerator's options, same names with dashes.
#[derive(Args)]
pub struct OpArgs {
    /// Degrees; angle drawn uniformly in [-R, R].
    #[arg(long, value_name = "R")]
    rotation_range: Option<f64>,
    /// Fraction of the width (< 1) or pixels (>= 1); shift drawn in [-S, S].
    #[arg(long, value_name = "S")]
    width_shift_range: Option<f64>,
    /// Fraction of the height (< 1) or pixels (>= 1); shift drawn in [-S, S].
    #[arg(long, value_name = "S")]
    height_shift_range: Option<f64>,
    /// Shear angle in degrees, drawn in [-S, S].
    #[arg(long, value_name = "S")]
    shear_range: Option<f64>,
    /// Z for [1-Z, 1+Z] or LO,HI; x and y zoom drawn independently.
    #[arg(long, value_name = "Z|LO,HI", value_parser = parse_zoom)]
    zoom_range: Option<ZoomRange>,
    /// Intensity (8-bit units) added to all channels, drawn in [-C, C].
    #[arg(long, value_name = "C")]
    channel_shift_range: Option<f64>,
    /// LO,HI: brightness factor drawn in [LO, HI].
    #[arg(long, value_name = "LO,HI", value_parser = parse_pair)]
    brightness_range: Option<(f64, f64)>,
    /// Mirror left-right with probability 1/2.
    #[arg(long)]
    horizontal_flip: bool,
    /// Mirror top-bottom with probability 1/2.
    #[arg(long)]
    vertical_flip: bool,
    /// pinsynth extension: turn by a random multiple of 90 degrees first.
    #[arg(long)]
    rot90: bool,
    /// constant | nearest | reflect | wrap | grid-wrap (scipy semantics, as Keras).
    #[arg(long)]
    fill_mode: Option<String>,
    /// Fill value for fill_mode = constant (8-bit units).
    #[arg(long)]
    cval: Option<f64>,
}

impl OpArgs {
    fn spec(&self) -> AugmentSpec {
        let flag = |b: bool| b.then_some(true);
        AugmentSpec {
            rotation_range: self.rotation_range,
            width_shift_range: self.width_shift_range,
            height_shift_range: self.height_shift_range,
            shear_range: self.shear_range,
            zoom_range: self.zoom_range,
            channel_shift_range: self.channel_shift_range,
            brightness_range: self.brightness_range.map(|(lo, hi)| [lo, hi]),
            horizontal_flip: flag(self.horizontal_flip),
            vertical_flip: flag(self.vertical_flip),
            rot90: flag(self.rot90),
            fill_mode: self.fill_mode.clone(),
            cval: self.cval,
        }
    }
}

fn parse_pair(s: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = s.split_once(',').ok_or("expected LO,HI (e.g. 0.8,1.2)")?;
    let num = |t: &str| t.trim().parse::<f64>().map_err(|e| format!("{t:?}: {e}"));
    Ok((num(lo)?, num(hi)?))
}

fn parse_zoom(s: &str) -> Result<ZoomRange, String> {
    if s.contains(',') {
        parse_pair(s).map(|(lo, hi)| ZoomRange::Pair(lo, hi))
    } else {
        s.trim().parse().map(ZoomRange::Scalar).map_err(|e| format!("{s:?}: {e}"))
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once('x').ok_or("expected WIDTHxHEIGHT (e.g. 640x480)")?;
    let num = |t: &str| t.parse::<u32>().ok().filter(|v| *v >= 19).ok_or(format!("{t:?} is not a size >= 19"));
    Ok((num(w)?, num(h)?))
}

/// Library errors caused by the user's input exit with 1, the rest with 2.
fn lib_err(e: AugmentError) -> anyhow::Error {
    anyhow::Error::new(pinsynth::Error::from(e))
}

fn bar(quiet: bool) -> Bar {
    Bar::new(quiet)
}

fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global().context("cannot start worker threads")?;
    }
    Ok(())
}

impl CommonArgs {
    fn options(&self, copies: u32, balance: Option<BalanceOptions>) -> RunOptions {
        RunOptions {
            out: self.out.clone(),
            seed: self.seed,
            copies,
            balance,
            strict: self.strict,
            overwrite: self.overwrite,
            originals: !self.no_originals,
            format: match self.format {
                FormatArg::Keep => OutputFormat::Keep,
                FormatArg::Png => OutputFormat::Png,
                FormatArg::Jpeg => OutputFormat::Jpeg,
            },
            jpeg_quality: self.jpeg_quality,
        }
    }
}

fn print_summary(what: &str, s: &Summary, out: &std::path::Path) {
    for skipped in &s.skipped {
        eprintln!("warning: skipped {}", skipped.error);
    }
    let kind = if s.dataset { "dataset records" } else { "images" };
    println!(
        "{what}: {} source {kind}, {} new images, {} originals copied, {} skipped -> {}",
        s.sources,
        s.written,
        s.copied,
        s.skipped.len(),
        out.display()
    );
}

pub fn run(cmd: AugmentCommand) -> anyhow::Result<()> {
    match cmd {
        AugmentCommand::Plan { input, out, strict, quiet: _ } => {
            let (rows, skipped) = augment::plan(&input, strict).map_err(lib_err)?;
            for s in &skipped {
                eprintln!("warning: skipped {}", s.error);
            }
            augment::write_plan(&rows, &out).map_err(lib_err)?;
            let cut = rows.iter().filter(|r| r.cut == augment::YesNo::Yes).count();
            println!(
                "plan: {} images ({cut} to cut, {} to flip and turn), {} skipped -> {}",
                rows.len(),
                rows.len() - cut,
                skipped.len(),
                out.display()
            );
        }
        AugmentCommand::Apply { plan, root, common } => {
            set_threads(common.jobs)?;
            let rows = augment::read_plan(&plan).map_err(lib_err)?;
            let opts = common.options(0, None);
            let progress = bar(common.quiet);
            let summary = augment::apply_plan(&rows, root.as_deref(), &opts, &progress).map_err(lib_err)?;
            progress.0.finish_and_clear();
            print_summary("apply", &summary, &opts.out);
        }
        AugmentCommand::Run { input, config, ops, copies, balance, balance_ratio, common } => {
            set_threads(common.jobs)?;
            let (file_spec, problems, origin) = match &config {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| InputError(format!("cannot read {}: {e}", path.display())))?;
                    let (spec, problems) =
                        AugmentSpec::parse_toml(&text, &path.display().to_string()).map_err(lib_err)?;
                    (spec, problems, format!("{} and the command line", path.display()))
                }
                None => (AugmentSpec::default(), Vec::new(), "the command line".to_string()),
            };
            let aug = file_spec.merge(ops.spec()).validate_with(&origin, problems).map_err(lib_err)?;
            if balance && !(balance_ratio > 0.0 && balance_ratio <= 1.0) {
                return Err(InputError(format!("--balance-ratio {balance_ratio} is out of range (0, 1]")).into());
            }
            let opts = common.options(copies, balance.then_some(BalanceOptions { ratio: balance_ratio }));
            let progress = bar(common.quiet);
            let summary = augment::run(&input, &aug, &opts, &progress).map_err(lib_err)?;
            progress.0.finish_and_clear();
            print_summary("augment", &summary, &opts.out);
        }
        AugmentCommand::Bench { count, size: (width, height), jobs, quiet } => {
            set_threads(jobs)?;
            let progress = bar(quiet);
            let report = augment::bench::bench(count, width, height, &progress).map_err(lib_err)?;
            progress.0.finish_and_clear();
            let threads = rayon::current_num_threads();
            println!(
                "augment: {} images {width}x{height} in {:.2} s = {:.1} images/s ({threads} threads)",
                report.count,
                report.seconds,
                report.images_per_second()
            );
        }
    }
    Ok(())
}
