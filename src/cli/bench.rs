//! `pinsynth bench`: images/second end to end (render, readback, PNG encode, write) on the default scene
//! (or `--scene FILE`), at 224² and 512², for each anti-aliasing mode, compared with Blender 3.4.1
//! Workbench measured on the same kind of machine (`shared/blender-refs/README.md`), and with
//! `--blender SCRIPT` with Blender measured in the same run, before and after the rows.

use super::{InputError, blender, tune_software_rasteriser};
use anyhow::Context;
use clap::Args;
use pinsynth::dataset::DatasetOptions;
use pinsynth::params::Planner;
use pinsynth::progress::{Quiet, process_cpu_seconds};
use pinsynth::render::{Pixels, Renderer, StageTimes};
use pinsynth::run::{RunOptions, render_dataset};
use pinsynth::spec::Scene;
use std::path::Path;
use std::time::{Duration, Instant};

/// Time per stage over a run of images on one worker.
struct Budget {
    images: u64,
    pose: Duration,
    render: StageTimes,
    truth: Duration,
    encode: Duration,
    write: Duration,
    /// CPU time of the process (all threads) over the images, when the system tells it.
    cpu: Option<f64>,
    /// One bake of the scene's light, timed afresh.
    bake: Duration,
}

/// Renders `count` images of `scene` on one thread, stage by stage, writing image and mask PNGs into `dir`.
fn stage_budget(scene: &Scene, dir: &Path, count: u64) -> anyhow::Result<Budget> {
    std::fs::create_dir_all(dir)?;
    let planner = Planner::new(scene);
    let mut renderer = Renderer::new(scene.image.antialias, 1)?;
    let images = count.clamp(1, planner.image_count());
    let (mut pose, mut truth, mut encode, mut write) = (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut pixels = Pixels::default();
    let encoded = pinsynth::dataset::Encoded::default();
    let terminals = pinsynth::geometry::Terminals::new(&scene.pin);
    let cpu_start = process_cpu_seconds();
    for index in 0..images {
        let t0 = Instant::now();
        let params = planner.image(index);
        let posed = pinsynth::geometry::pose(scene, &terminals, &params);
        let t1 = Instant::now();
        renderer.render(&posed, &mut pixels)?;
        let t2 = Instant::now();
        let record = pinsynth::truth::record(&params, &posed, &pixels, None, false);
        let t3 = Instant::now();
        // Encoded as a dataset's writers do (reusing the rows of the frames the renderer keeps).
        let paths = [dir.join(format!("{index}.png")), dir.join(format!("{index}.mask.png"))];
        let (rgb, mask) = encoded.of(&pixels, [&paths[0], &paths[1]])?;
        let t4 = Instant::now();
        std::fs::write(&paths[0], rgb)?;
        std::fs::write(&paths[1], mask)?;
        std::hint::black_box(record);
        let t5 = Instant::now();
        pose += t1 - t0;
        truth += t3 - t2;
        encode += t4 - t3;
        write += t5 - t4;
    }
    let cpu = cpu_start.and_then(|start| Some(process_cpu_seconds()? - start));
    // Bakes are shared within a process (the throughput row already made this one): time one afresh.
    let nominal = pinsynth::geometry::Nominal::of(scene, &terminals);
    let t = Instant::now();
    std::hint::black_box(pinsynth::render::bake::Bake::new(pinsynth::render::bake_inputs(&nominal)));
    let bake = t.elapsed();
    Ok(Budget { images, pose, render: renderer.stage_times(), truth, encode, write, cpu, bake })
}

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
    /// The most images drawn per GPU submission; 0: as many as 32 MiB of pixels hold, 4 to 16 (the
    /// output is identical for any value).
    #[arg(long, default_value_t = 0)]
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
    /// Measure this scene file instead of the default scene (its image size, anti-aliasing and count
    /// are set by the options above; e.g. a scene with a large housing mesh).
    #[arg(long)]
    pub scene: Option<std::path::PathBuf>,
    /// Also measure Blender Workbench on the default scene, before and after the rows, with this
    /// script (the spec's gen_scene.py; Blender from $BLENDER, else `blender` on the PATH), and
    /// compare each row with the Blender of the same run.
    #[arg(long, value_name = "GEN_SCENE_PY")]
    pub blender: Option<std::path::PathBuf>,
}

/// Images of the untimed row before the measured ones.
const WARM_UP: u64 = 32;

/// Blender Workbench's median seconds per image at each size, measured in this run.
type BlenderTimes = Vec<(u32, f64)>;

/// Measures Blender at every size of `sizes` (`when`: before or after the rows), printing each.
fn measure_blender(script: &Path, sizes: &[u32], dir: &Path, when: &str) -> anyhow::Result<BlenderTimes> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut times = Vec::new();
    for &size in sizes {
        let s = blender::median_seconds(script, size, dir)?;
        println!(
            "Blender Workbench {when} the rows, {size}x{size}: {s:.4} s per image (median of {})",
            blender::IMAGES
        );
        times.push((size, s));
    }
    Ok(times)
}

pub fn bench(a: BenchArgs) -> anyhow::Result<()> {
    let opts = RunOptions {
        jobs: a.jobs,
        batch: a.batch,
        dataset: DatasetOptions { preview: 0, ..DatasetOptions::default() },
        ..RunOptions::default()
    };
    if let Some(script) = &a.blender {
        if a.scene.is_some() {
            anyhow::bail!(InputError(
                "--blender measures Blender on the default scene only (the script builds it): drop --scene".into()
            ));
        }
        blender::check(script)?;
    }
    tune_software_rasteriser(opts.workers());
    let base = a.dir.clone().unwrap_or_else(std::env::temp_dir).join(format!("pinsynth-bench-{}", std::process::id()));
    let (path, text) = match &a.scene {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            (path.clone(), text)
        }
        None => ("scenes/default.toml".into(), include_str!("../../scenes/default.toml").to_string()),
    };
    let name = match &a.scene {
        Some(path) => path.display().to_string(),
        None => "default scene (mixed 3x9, sweep)".to_string(),
    };
    println!(
        "pinsynth bench: {name}, {} images per row, {} workers, writes to {}",
        a.count,
        opts.workers(),
        base.display()
    );
    // The anti-aliasing column as wide as its longest name (`exact_geometry`).
    let aw = a.antialias.iter().map(|m| m.len()).max().unwrap_or(0).max(6);
    let truth_rows: Vec<Vec<String>> = if a.truth.is_empty() { vec![vec![]] } else { vec![vec![], a.truth.clone()] };
    let mut budgets = Vec::new();
    // The measured scene at `size`² with anti-aliasing `aa`, `count` images and the optional truth `truth`.
    let row_scene = |size: u32, aa: &str, count: u64, truth: &[String]| -> anyhow::Result<Scene> {
        let mut sets = vec![
            format!("image.width={size}"),
            format!("image.height={size}"),
            format!("image.antialias=\"{aa}\""),
            format!("sweep.count={count}"),
        ];
        sets.extend(truth.iter().map(|k| format!("truth.{k}=true")));
        Scene::parse(&text, &path, &sets).map_err(|e| anyhow::Error::new(pinsynth::Error::from(e)))
    };
    let result = (|| -> anyhow::Result<()> {
        let blender_dir = base.join("blender");
        let before = match &a.blender {
            Some(script) => measure_blender(script, &a.sizes, &blender_dir, "before")?,
            None => Vec::new(),
        };
        // One untimed row first, as Blender's median leaves out Blender's own start: a kernel that
        // pages out memory left idle a while (this machine's does: DAMON) makes the first row after
        // a pause, or after Blender's run, wait for the disk to load the Vulkan drivers and the
        // shader cache again (1.8–5.2 s instead of ~0.9 s for 1,000 images, 16–28 major faults).
        if let (Some(&size), Some(aa)) = (a.sizes.first(), a.antialias.first()) {
            let n = a.count.min(WARM_UP);
            let scene = row_scene(size, aa, n, &[])?;
            render_dataset(&scene, &base.join("warm-up"), &opts, &Quiet).map_err(anyhow::Error::new)?;
            println!("(warm-up: {n} images at {size}x{size}, {aa}, untimed)");
        }
        println!(
            "{:>5}  {:<aw$}  {:<12}  {:>9}  {:>10}  {:>14}  {:>11}  {:>13}  {:>11}",
            "size",
            "aa",
            "truth",
            "seconds",
            "images/s",
            "x Blender WB",
            "CPU ms/img",
            "first image s",
            "images/s after"
        );
        // Each row's size, anti-aliasing, truth and images/s, for the comparison with this run's Blender.
        let mut rates: Vec<(u32, String, String, f64)> = Vec::new();
        let mut row = 0;
        for &size in &a.sizes {
            for (aa, truth) in a.antialias.iter().flat_map(|aa| truth_rows.iter().map(move |t| (aa, t))) {
                let scene = row_scene(size, aa, a.count, truth)?;
                let truth = if truth.is_empty() { "-".to_string() } else { truth.join(",") };
                row += 1;
                let out = base.join(format!("{row:02}-{size}-{aa}"));
                let cpu_start = process_cpu_seconds();
                let s = render_dataset(&scene, &out, &opts, &Quiet).map_err(anyhow::Error::new)?;
                let cpu = cpu_start.and_then(|start| Some(process_cpu_seconds()? - start));
                // Blender was measured on the default scene only.
                let blender = BLENDER_WORKBENCH_S
                    .iter()
                    .find(|(s, _)| *s == size && a.scene.is_none())
                    .map(|(_, t)| format!("{:.0}x", s.images_per_second() * t))
                    .unwrap_or("-".into());
                let cpu = cpu.map_or("-".into(), |c| format!("{:.2}", c * 1e3 / s.images() as f64));
                println!(
                    "{size:>5}  {aa:<aw$}  {truth:<12}  {:>9.3}  {:>10.0}  {:>14}  {cpu:>11}  {:>13.3}  {:>14.0}",
                    s.seconds,
                    s.images_per_second(),
                    blender,
                    s.first_image_seconds,
                    s.images_per_second_after_first()
                );
                rates.push((size, aa.clone(), truth.clone(), s.images_per_second()));
                let dir = base.join(format!("{row:02}-stages"));
                budgets.push((size, aa.clone(), stage_budget(&scene, &dir, a.count.min(300))?));
            }
        }
        if let Some(script) = &a.blender {
            let after = measure_blender(script, &a.sizes, &blender_dir, "after")?;
            print_against_blender(&rates, &before, &after, aw);
        }
        println!();
        println!(
            "Where one image's time goes (ms/image; one worker, one image per submission, the stages one after the other):"
        );
        println!(
            "{:>5}  {:<aw$}  {:>6}  {:>7}  {:>8}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}   {:>11}",
            "size", "aa", "pose", "render", "readback", "AA", "truth", "encode", "write", "total", "CPU", "bake (once)"
        );
        for (size, aa, b) in &budgets {
            let ms = |d: Duration| d.as_secs_f64() * 1e3 / b.images as f64;
            let r = &b.render;
            let total = b.pose + r.render + r.readback + r.antialias + b.truth + b.encode + b.write;
            let cpu = b.cpu.map_or("-".into(), |c| format!("{:.3}", c * 1e3 / b.images as f64));
            println!(
                "{size:>5}  {aa:<aw$}  {:>6.3}  {:>7.3}  {:>8.3}  {:>6.3}  {:>6.3}  {:>6.3}  {:>6.3}  {:>6.3}  {cpu:>6}   {:>10.2}s",
                ms(b.pose),
                ms(r.render),
                ms(r.readback),
                ms(r.antialias),
                ms(b.truth),
                ms(b.encode),
                ms(b.write),
                ms(total),
                b.bake.as_secs_f64()
            );
        }
        for (size, aa, b) in &budgets {
            let r = &b.render;
            if r.copied + r.repeated + r.partial + r.traced > 0 {
                let pixels = u64::from(*size) * u64::from(*size);
                let share = |drawn: u64, n: u64| 100.0 * drawn as f64 / (n.max(1) * pixels) as f64;
                println!(
                    "{size:>5}  {aa:<aw$}  frames: {} drawn whole, {} copied from the scene's base frame, {} copied from an \
                     earlier image (the same defect), {} drawn in part by the GPU ({:.1} % of the pixels on average), {} \
                     drawn in part by the CPU ({:.1} %), {} base frame(s) drawn",
                    r.whole,
                    r.copied,
                    r.repeated,
                    r.partial,
                    share(r.partial_pixels, r.partial),
                    r.traced,
                    share(r.traced_pixels, r.traced),
                    r.bases
                );
                let e = r.partial_edges;
                let parts = (r.partial + r.traced).max(1) as f64;
                if e.resolved + e.kept > 0 {
                    println!(
                        "{size:>5}  {aa:<aw$}  edge pixels per image drawn in part: {:.0} resolved, {:.0} kept the base's colour",
                        e.resolved as f64 / parts,
                        e.kept as f64 / parts
                    );
                }
            }
        }
        println!(
            "(render: upload, shadow map, geometry, msaa4's and ssaa3's anti-aliasing on the GPU, waiting; AA: the CPU pass of exact or fxaa;"
        );
        println!(
            " CPU: the process's CPU time, all threads, GPU driver included (1/100 s ticks), per image: on a shared machine steadier than the wall clock)"
        );
        println!(
            "(first image s: from the row's start until its first image was written, once per run; images/s after: the rest of the row's images \
             over the rest of its time. x Blender WB compares the whole row, start included, with Blender's 0.074 s (224²) and 0.157 s \
             (512²) per image on the reference machine; --blender measures Blender in the same run)"
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&base);
    result
}

/// Each row against Blender measured in this run: its images/s times Blender's seconds per image
/// before and after the rows.
fn print_against_blender(rates: &[(u32, String, String, f64)], before: &BlenderTimes, after: &BlenderTimes, aw: usize) {
    let at = |times: &BlenderTimes, size: u32| times.iter().find(|(s, _)| *s == size).map(|(_, t)| *t);
    println!();
    println!("Against Blender Workbench measured in this run (median s per image before and after the rows):");
    println!(
        "{:>5}  {:<aw$}  {:<12}  {:>10}  {:>14}  {:>13}  {:>22}",
        "size", "aa", "truth", "images/s", "Blender before", "Blender after", "x this run's Blender"
    );
    for (size, aa, truth, rate) in rates {
        let (Some(b), Some(f)) = (at(before, *size), at(after, *size)) else { continue };
        let (lo, hi) = ((rate * b).min(rate * f), (rate * b).max(rate * f));
        println!(
            "{size:>5}  {aa:<aw$}  {truth:<12}  {rate:>10.0}  {b:>14.4}  {f:>13.4}  {:>22}",
            format!("{lo:.0}-{hi:.0}x")
        );
    }
}
