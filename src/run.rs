//! Drives the pipeline over a whole dataset: render workers (each a [`FrameMaker`] with its own GPU
//! device, since one lavapipe device rasterises on one queue thread) take image indices from a shared
//! counter, make frames and write `images/` and `masks/` in parallel; the calling thread puts records
//! back in index order and hands them to the dataset writers. Every image is a pure function of
//! (scene, index), so the output does not depend on the number of workers or their timing.

use crate::Error;
use crate::dataset::{self, DatasetOptions, OutputDir, Sample, Summary, write_atomic};
use crate::params::Planner;
use crate::pipeline::{Frame, FrameMaker};
use crate::progress::Progress;
use crate::render::Renderer;
use crate::shard::{Shard, ShardFile, Work, journal};
use crate::spec::Scene;
use crate::truth::Record;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// How a dataset is rendered.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Render workers (each opens its own device). 0 = one per core.
    pub jobs: usize,
    /// Images drawn per GPU submission (0 = [`DEFAULT_BATCH`]). Output bytes do not depend on it
    /// (tested).
    pub batch: usize,
    /// The output directory's protection, the layouts and the preview.
    pub dataset: DatasetOptions,
    /// Render only this shard's images (index mod N == K); ids do not change.
    pub shard: Option<Shard>,
    /// Finish an interrupted run in the output directory (see [`crate::shard::journal`]).
    pub resume: bool,
    /// Set (by anyone, e.g. the CLI's Ctrl-C handler) to stop the run: no new image is started, the
    /// ones in flight are finished and journalled in order, and the run returns
    /// [`Error::Interrupted`] with the journal (`manifest.jsonl.partial`) consistent, so `resume`
    /// finishes it. The library installs no signal handler.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl RunOptions {
    pub fn workers(&self) -> usize {
        workers(self.jobs)
    }
}

/// Render workers for `jobs`: 0 = one per core.
pub fn workers(jobs: usize) -> usize {
    if jobs > 0 { jobs } else { std::thread::available_parallelism().map_or(1, |n| n.get()) }
}

/// Renders every image of `scene` into the dataset directory `out`.
pub fn render_dataset(scene: &Scene, out: &Path, opts: &RunOptions, progress: &dyn Progress) -> Result<Summary, Error> {
    let start = Instant::now();
    // Open the GPU first: a missing driver must fail before anything is written.
    let renderers = open_renderers(scene, opts.workers(), opts.batch)?;
    let work = Work::new(scene.image_count(), opts.shard);
    let resumed = if opts.resume { journal::reopen(out, scene, opts.shard)? } else { None };
    let (dir, journal) = match resumed {
        Some((dir, journal)) => (dir, Some(journal)),
        None => (OutputDir::prepare(out, opts.dataset.overwrite)?, None),
    };
    write_atomic(&dir.path("scene.resolved.toml"), scene.to_toml().as_bytes())?;
    if let Some(s) = opts.shard {
        ShardFile::of(s, scene.image_count()).write(&dir)?;
    }
    let planner = Arc::new(Planner::new(scene));
    let makers: Vec<FrameMaker> =
        renderers.into_iter().map(|r| FrameMaker::with_renderer(planner.clone(), r)).collect();
    let mut writers = dataset::writers(&dir.root, &opts.dataset)?;
    let mut summary = Summary { workers: makers.len(), ..Summary::default() };
    let mut in_order = |record: Record| -> Result<(), Error> {
        if summary.images() == 0 {
            summary.first_image_seconds = start.elapsed().as_secs_f64();
        }
        summary.count(&record);
        let sample = Sample::new(&record, &dir.root);
        writers.iter_mut().try_for_each(|w| w.write(&sample)).map_err(Error::from)
    };
    let mut done = 0;
    if let Some(journal) = journal {
        done = journal::replay(&journal, &dir.root, work, &mut in_order)?;
    }
    let encoded = dataset::Encoded::default();
    let write_files = |frame: Frame| -> Result<Record, Error> {
        dataset::write_frame(&dir, &frame, &encoded)?;
        Ok(frame.record)
    };
    let never = AtomicBool::new(false);
    let cancel = opts.cancel.as_deref().unwrap_or(&never);
    let adapter = for_each_frame(makers, work, done, progress, cancel, write_files, in_order)?;
    for w in writers.iter_mut() {
        w.finish()?;
    }
    summary.counts.write(&dir)?;
    summary.adapter = adapter;
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// Images drawn per GPU submission unless told otherwise. On lavapipe, 4 instead of 1 took 4-10 %
/// less CPU time per image at 224² (fewer submissions, map-and-wait rounds and hand-offs to the
/// driver's queue thread; `pinsynth bench --batch`, 4 runs alternating); on a GPU it saves
/// per-submission latency.
pub const DEFAULT_BATCH: usize = 4;

/// One renderer per worker (at most one per batch), each with its own device, drawing batches of
/// `batch` images (0 = [`DEFAULT_BATCH`]).
pub fn open_renderers(scene: &Scene, workers: usize, batch: usize) -> Result<Vec<Renderer>, Error> {
    let batch = if batch == 0 { DEFAULT_BATCH } else { batch };
    let n = workers.clamp(1, scene.image_count().div_ceil(batch as u64).max(1) as usize);
    // Side by side: opening a device compiles its pipelines, which takes a while on a software driver,
    // and loading the Vulkan drivers takes one core for tens of milliseconds, while the scene's light
    // is baked on the others for the first images.
    let open = || Renderer::new(scene.image.antialias, batch).map_err(Error::from);
    std::thread::scope(|s| {
        s.spawn(|| bake(scene));
        let opening: Vec<_> = (1..n).map(|_| s.spawn(open)).collect();
        let first = open();
        let rest = opening.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        let mut renderers = std::iter::once(first).chain(rest).collect::<Result<Vec<_>, _>>()?;
        Renderer::share_frames(&mut renderers);
        Ok(renderers)
    })
}

/// Bakes `scene`'s world and bounce light into the process's cache of bakes ([`crate::render::baked`]),
/// as a renderer's first image would; images then find it made.
pub fn bake(scene: &Scene) {
    let terminals = crate::geometry::Terminals::new(&scene.pin);
    let nominal = crate::geometry::Nominal::of(scene, &terminals);
    crate::render::baked(crate::render::bake_inputs(&nominal));
}

/// Makes the frames of `work` from position `start` on, one worker thread per maker. `per_frame` runs
/// on the workers; `in_order` runs on the calling thread, once per image, in index order. Returns the
/// adapter description. When `cancel` is set, workers take no new batch, the images in flight are
/// finished and handed to `in_order` while they continue the index order, and the call returns
/// [`Error::Interrupted`] (unless every image was done anyway).
fn for_each_frame<P, S>(
    makers: Vec<FrameMaker>,
    work: Work,
    start: u64,
    progress: &dyn Progress,
    cancel: &AtomicBool,
    per_frame: P,
    mut in_order: S,
) -> Result<String, Error>
where
    P: Fn(Frame) -> Result<Record, Error> + Sync,
    S: FnMut(Record) -> Result<(), Error>,
{
    let total = work.len();
    let workers = makers.len().max(1);
    let adapter = makers
        .iter()
        .map(|m| m.renderer().gpu().describe())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join("; ");
    progress.start(total, &adapter);
    progress.advance(start);
    let next = AtomicU64::new(start);
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::sync_channel::<Result<(u64, Record), Error>>(workers * 8);
    std::thread::scope(|scope| {
        for mut maker in makers {
            let tx = tx.clone();
            let (next, abort, per_frame) = (&next, &abort, &per_frame);
            scope.spawn(move || {
                let batch = maker.renderer().batch() as u64;
                'work: loop {
                    // Batches are consecutive positions of this run's work (a shard or a resume may
                    // start anywhere).
                    if abort.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let first = next.fetch_add(batch, Ordering::Relaxed);
                    if first >= total {
                        break;
                    }
                    let positions = first..(first + batch).min(total);
                    let indices: Vec<u64> = positions.clone().map(|pos| work.index(pos)).collect();
                    let frames = match maker.frames(&indices) {
                        Ok(frames) => frames,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            break;
                        }
                    };
                    for (pos, frame) in positions.zip(frames) {
                        let result = per_frame(frame);
                        let failed = result.is_err();
                        if tx.send(result.map(|r| (pos, r))).is_err() || failed {
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
                Ok((pos, record)) => {
                    pending.insert(pos, record);
                    while let Some(record) = pending.remove(&expected) {
                        if let Err(e) = in_order(record) {
                            abort.store(true, Ordering::Relaxed);
                            first_error.get_or_insert(e);
                            break;
                        }
                        expected += 1;
                        progress.advance(1);
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
