//! Drives the chain over a whole dataset: render workers (each with its own GPU device, since one
//! lavapipe device rasterises on one queue thread) take image indices from a shared counter, render,
//! encode and write `images/` and `masks/` in parallel; the calling thread puts records back in index
//! order and hands them to the layout writers. Every image is a pure function of (scene, index), so the
//! output does not depend on the number of workers or their timing.

use crate::Error;
use crate::dataset::split::{BalancePlan, assign_split, stratum};
use crate::dataset::{
    LayoutOptions, LayoutWriter, Manifest, OutputDir, Preview, Sample, WriteError, layout_writers, write_atomic,
};
use crate::geometry::{Posed, pose};
use crate::randomize::photometric;
use crate::render::{Pixels, Renderer};
use crate::scale::{SHARD_FILE, Shard, ShardFile, Work, journal};
use crate::spec::Scene;
use crate::sweep::{ImageParams, image_params};
use crate::truth::{self, Record};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// How a dataset is rendered.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Render workers (each opens its own device). 0 = one per core.
    pub jobs: usize,
    /// Replace pinsynth's outputs in a non-empty output directory.
    pub overwrite: bool,
    /// Images on the contact sheet (`preview.png`); 0 = none.
    pub preview: usize,
    /// Images drawn side by side per GPU submission (0 = 1). Output bytes do not depend on it (tested);
    /// on lavapipe it gains nothing, on a GPU it saves per-submission latency.
    pub batch: usize,
    /// Which dataset layouts to write, and their options.
    pub layouts: LayoutOptions,
    /// Render only this shard's images (index mod N == K); ids do not change.
    pub shard: Option<Shard>,
    /// Finish an interrupted run in the output directory (see [`crate::scale::journal`]).
    pub resume: bool,
    /// Set (by anyone, e.g. the CLI's Ctrl-C handler) to stop the run: no new image is started, the
    /// ones in flight are finished and journalled in order, and the run returns
    /// [`Error::Interrupted`] with the journal (`manifest.jsonl.partial`) consistent, so `resume`
    /// finishes it. The library installs no signal handler.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 0,
            overwrite: false,
            preview: 32,
            batch: 0,
            layouts: LayoutOptions::default(),
            shard: None,
            resume: false,
            cancel: None,
        }
    }
}

impl RunOptions {
    pub fn workers(&self) -> usize {
        if self.jobs > 0 { self.jobs } else { std::thread::available_parallelism().map_or(1, |n| n.get()) }
    }
}

/// Told about progress; called from the thread that called [`render_dataset`].
pub trait Observer {
    fn started(&self, _total: u64, _adapter: &str) {}
    fn advanced(&self, _done: u64) {}
}

/// An observer that says nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// What a run did. Image counts come from `counts` (what `summary.json` holds).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub seconds: f64,
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
    fn count(&mut self, r: &Record) {
        self.images += 1;
        let by_split = if r.excluded { &mut self.excluded } else { &mut self.splits };
        let split = r.split.map_or("none", |s| s.as_str());
        *by_split
            .entry(split.to_string())
            .or_default()
            .entry(r.label.clone())
            .or_default()
            .entry(r.defect_type().unwrap_or("none").to_string())
            .or_default() += 1;
    }
}

impl Summary {
    pub fn images_per_second(&self) -> f64 {
        self.images() as f64 / self.seconds.max(1e-9)
    }

    pub(crate) fn count(&mut self, r: &Record) {
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

/// Renders every image of `scene` into the dataset directory `out`.
pub fn render_dataset(scene: &Scene, out: &Path, opts: &RunOptions, obs: &dyn Observer) -> Result<Summary, Error> {
    let start = Instant::now();
    // Open the GPU first: a missing driver must fail before anything is written.
    let renderers = open_renderers(scene, opts.workers(), opts.batch)?;
    let work = Work::new(scene.image_count(), opts.shard);
    let resumed = if opts.resume { journal::reopen(out, scene, opts.shard)? } else { None };
    let (dir, journal) = match resumed {
        Some((dir, journal)) => (dir, Some(journal)),
        None => (OutputDir::prepare(out, opts.overwrite)?, None),
    };
    write_atomic(&dir.path("scene.resolved.toml"), scene.to_toml().as_bytes())?;
    let plan = BalancePlan::for_scene(scene);
    if let Some(s) = opts.shard {
        let info = ShardFile { shard: s.index, of: s.count, images: scene.image_count() };
        let json = serde_json::to_string(&info).unwrap_or_default(); // ok: three integers always serialise
        write_atomic(&dir.path(SHARD_FILE), json.as_bytes())?;
    }
    let mut writers = dataset_writers(&dir.root, opts)?;
    let mut summary = Summary { workers: renderers.len(), ..Summary::default() };
    let write_files = |params: &ImageParams, posed: &Posed, pixels: &Pixels| -> Result<Record, Error> {
        let record = truth::record(params, posed, pixels);
        let (w, h) = (pixels.width, pixels.height);
        let enc = |path: &str, r: Result<Vec<u8>, String>| {
            r.map_err(|message| WriteError::Encode { path: dir.path(path), message })
        };
        let rgb = image_rgb(params, pixels);
        write_atomic(&dir.path(&record.image), &enc(&record.image, crate::encode::png_rgb(&rgb, w, h))?)?;
        write_atomic(&dir.path(&record.mask), &enc(&record.mask, crate::encode::png_gray(&pixels.mask, w, h))?)?;
        Ok(record)
    };
    let mut done = 0;
    if let Some(journal) = journal {
        done = journal::replay(&journal, &dir.root, work, |record| {
            summary.count(&record);
            let sample = Sample::new(&record, &dir.root);
            writers.iter_mut().try_for_each(|w| w.write(&sample)).map_err(Error::from)
        })?;
    }
    let never = AtomicBool::new(false);
    let cancel = opts.cancel.as_deref().unwrap_or(&never);
    let adapter = for_each_image_until(scene, renderers, work, done, obs, cancel, write_files, |mut record| {
        assign_dataset_fields(&mut record, scene, &plan);
        summary.count(&record);
        let sample = Sample::new(&record, &dir.root);
        writers.iter_mut().try_for_each(|w| w.write(&sample)).map_err(Error::from)
    })?;
    for w in writers.iter_mut() {
        w.finish()?;
    }
    write_summary_json(&dir, &summary)?;
    summary.adapter = adapter;
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// Every writer of a dataset in `root`: the manifest, the chosen layouts and the preview. A render, a
/// resumed render and a merge all feed them the same records in the same order.
pub fn dataset_writers(root: &Path, opts: &RunOptions) -> Result<Vec<Box<dyn LayoutWriter>>, Error> {
    let mut writers: Vec<Box<dyn LayoutWriter>> = vec![Box::new(Manifest::create(root)?)];
    writers.extend(layout_writers(root, &opts.layouts)?);
    if opts.preview > 0 {
        writers.push(Box::new(Preview::new(root, opts.preview)));
    }
    Ok(writers)
}

/// `summary.json`: image counts per split × label × defect type (no timings, so reruns are identical).
pub fn write_summary_json(dir: &OutputDir, summary: &Summary) -> Result<(), Error> {
    let counts = serde_json::to_string_pretty(&summary.counts).unwrap_or_default(); // ok: plain data
    write_atomic(&dir.path("summary.json"), format!("{counts}\n").as_bytes())?;
    Ok(())
}

/// One renderer per worker (at most one per batch), each with its own device, drawing batches of
/// `batch` images (0 = 1).
pub fn open_renderers(scene: &Scene, workers: usize, batch: usize) -> Result<Vec<Renderer>, Error> {
    let batch = batch.max(1);
    let n = workers.clamp(1, scene.image_count().div_ceil(batch as u64).max(1) as usize);
    (0..n).map(|_| Renderer::new(scene.image.antialias, batch).map_err(Error::from)).collect()
}

/// Renders the images of `work` from position `start` on, one worker thread per renderer. `per_image` runs
/// on the workers; `in_order` runs on the calling thread, once per image, in index order. Returns the
/// adapter description.
pub fn for_each_image<P, S>(
    scene: &Scene,
    renderers: Vec<Renderer>,
    work: Work,
    start: u64,
    obs: &dyn Observer,
    per_image: P,
    in_order: S,
) -> Result<String, Error>
where
    P: Fn(&ImageParams, &Posed, &Pixels) -> Result<Record, Error> + Sync,
    S: FnMut(Record) -> Result<(), Error>,
{
    for_each_image_until(scene, renderers, work, start, obs, &AtomicBool::new(false), per_image, in_order)
}

/// [`for_each_image`] that stops when `cancel` is set: workers take no new batch, the images in
/// flight are finished and handed to `in_order` while they continue the index order, and the call
/// returns [`Error::Interrupted`] (unless every image was done anyway).
#[allow(clippy::too_many_arguments)] // the arguments of for_each_image plus the flag
pub fn for_each_image_until<P, S>(
    scene: &Scene,
    renderers: Vec<Renderer>,
    work: Work,
    start: u64,
    obs: &dyn Observer,
    cancel: &AtomicBool,
    per_image: P,
    mut in_order: S,
) -> Result<String, Error>
where
    P: Fn(&ImageParams, &Posed, &Pixels) -> Result<Record, Error> + Sync,
    S: FnMut(Record) -> Result<(), Error>,
{
    let total = work.len();
    let workers = renderers.len().max(1);
    let adapter = renderers
        .iter()
        .map(|r| r.gpu().describe())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join("; ");
    obs.started(total, &adapter);
    obs.advanced(start);
    let next = AtomicU64::new(start);
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::sync_channel::<Result<(u64, Record), Error>>(workers * 8);
    std::thread::scope(|scope| {
        for mut renderer in renderers {
            let tx = tx.clone();
            let (next, abort, per_image) = (&next, &abort, &per_image);
            scope.spawn(move || {
                let batch = renderer.batch() as u64;
                let mut pixels = vec![Pixels::default(); batch as usize];
                'work: loop {
                    // Batches are consecutive positions of this run's work (a shard or a resume may
                    // start anywhere); the pixels do not depend on the tile an image lands in
                    // (tests/cli.rs compares batch sizes byte for byte).
                    if abort.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let first = next.fetch_add(batch, Ordering::Relaxed);
                    if first >= total {
                        break;
                    }
                    let indices = first..(first + batch).min(total);
                    let params: Vec<ImageParams> =
                        indices.clone().map(|pos| image_params(scene, work.index(pos))).collect();
                    let posed: Vec<Posed> = params.iter().map(|p| pose(scene, p)).collect();
                    let n = posed.len();
                    if let Err(e) = renderer.render_batch(&posed, &mut pixels[..n]) {
                        let _ = tx.send(Err(e.into()));
                        break;
                    }
                    for (k, i) in indices.enumerate() {
                        let result = per_image(&params[k], &posed[k], &pixels[k]);
                        let failed = result.is_err();
                        if tx.send(result.map(|r| (i, r))).is_err() || failed {
                            break 'work;
                        }
                    }
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut expected = start;
        let mut first_error = None;
        for msg in rx {
            match msg {
                Err(e) => {
                    abort.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(e);
                }
                Ok(_) if first_error.is_some() => {}
                Ok((i, record)) => {
                    pending.insert(i, record);
                    while let Some(record) = pending.remove(&expected) {
                        if let Err(e) = in_order(record) {
                            abort.store(true, Ordering::Relaxed);
                            first_error.get_or_insert(e);
                            break;
                        }
                        expected += 1;
                        obs.advanced(expected);
                    }
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None if expected < total => Err(Error::Interrupted { done: expected, total }),
            None => Ok(adapter),
        }
    })
}

/// One rendered image with its parameters and ground truth.
pub struct Rendered {
    pub params: ImageParams,
    pub record: Record,
    pub pixels: Pixels,
}

/// Renders image `index` of `scene` on `renderer` (no files written): the library's one-image entry point.
pub fn render_one(renderer: &mut Renderer, scene: &Scene, index: u64) -> Result<Rendered, Error> {
    let params = image_params(scene, index);
    let posed = pose(scene, &params);
    let mut pixels = Pixels::default();
    renderer.render(&posed, &mut pixels)?;
    if let std::borrow::Cow::Owned(rgb) = image_rgb(&params, &pixels) {
        pixels.rgb = rgb;
    }
    let record = truth::record(&params, &posed, &pixels);
    Ok(Rendered { params, record, pixels })
}

/// Renders image `index` exactly as [`render_dataset`] writes it, without writing anything: the colour
/// image of `images/<id>.png`, the mask of `masks/<id>.png` and the `manifest.jsonl` record, split and
/// balance flag included. `plan` is [`BalancePlan::for_scene`] of `scene`, computed once by the caller.
pub fn render_frame(renderer: &mut Renderer, scene: &Scene, plan: &BalancePlan, index: u64) -> Result<Rendered, Error> {
    let mut out = render_one(renderer, scene, index)?;
    assign_dataset_fields(&mut out.record, scene, plan);
    Ok(out)
}

/// The colour image as written: the rendered pixels after the image's photometric randomization
/// (borrowed unchanged when there is none).
fn image_rgb<'a>(params: &ImageParams, pixels: &'a Pixels) -> std::borrow::Cow<'a, [u8]> {
    let mut rgb = std::borrow::Cow::Borrowed(&pixels.rgb[..]);
    if let Some(s) = params.randomize.as_ref().filter(|s| photometric::is_active(s)) {
        photometric::apply(rgb.to_mut(), pixels.width, pixels.height, s, params.seed, params.index);
    }
    rgb
}

/// The record fields that depend on the whole dataset: the split and the balance exclusion.
fn assign_dataset_fields(record: &mut Record, scene: &Scene, plan: &BalancePlan) {
    let split = assign_split(&scene.split, scene.seed(), &stratum(record.defect_type()), &record.id);
    record.split = Some(split);
    record.excluded = plan.excludes(&record.id, !record.is_ok(), split);
}
