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
    /// The most images drawn per GPU submission (0 = [`default_batch`]). Output bytes do not depend
    /// on it (tested).
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

/// The most images drawn per GPU submission unless told otherwise: as many as 32 MiB of pixels hold,
/// from 4 to 16 (16 up to 724 × 724, 8 at 1024 × 1024, 4 from 1448 × 1448). Each submission costs a
/// round of hand-offs to the driver, mapping and waiting: on lavapipe at 224², rendering the default
/// scene with 16 instead of 4 took 0.91 of the CPU time and 0.90 of the wall time (3,000 images, 10
/// runs in turn); 32 was no faster than 16 (1,000 images, 16 runs in turn: 0.99) and held 25 MiB more.
/// A worker's first takes hold fewer, and so do the last of a run ([`chunk`]), so that the first
/// images come as soon as before and no worker is left with a long batch at the end.
pub fn default_batch(width: u32, height: u32) -> usize {
    let per_image = (width as usize * height as usize * 4).max(1);
    ((32 << 20) / per_image).clamp(4, 16)
}

/// How many images a worker takes next, at most `batch`: its `k`-th take (from 0) at most 4 · 2ᵏ,
/// and at most a `2 · workers`-th of the `remaining` images (at least 4), so that workers finish
/// together. Which images share a submission never changes the output.
fn chunk(batch: u64, k: u32, remaining: u64, workers: u64) -> u64 {
    let ramp = 4u64 << k.min(32);
    let share = remaining.div_ceil(2 * workers.max(1)).max(4);
    batch.min(ramp).min(share).max(1)
}

/// One renderer per worker (at most one per batch), each with its own device, drawing batches of
/// `batch` images (0 = [`default_batch`]).
pub fn open_renderers(scene: &Scene, workers: usize, batch: usize) -> Result<Vec<Renderer>, Error> {
    let batch = if batch == 0 { default_batch(scene.image.width, scene.image.height) } else { batch };
    // A worker's first take is at most 4 images ([`chunk`]).
    let n = workers.clamp(1, scene.image_count().div_ceil(batch.min(4) as u64).max(1) as usize);
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
                'work: for k in 0.. {
                    // Batches are consecutive positions of this run's work (a shard or a resume may
                    // start anywhere).
                    if abort.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let mut first = next.load(Ordering::Relaxed);
                    let taken = loop {
                        if first >= total {
                            break 'work;
                        }
                        let n = chunk(batch, k, total - first, workers as u64);
                        match next.compare_exchange_weak(first, first + n, Ordering::Relaxed, Ordering::Relaxed) {
                            Ok(_) => break n,
                            Err(now) => first = now,
                        }
                    };
                    let positions = first..(first + taken).min(total);
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

#[cfg(test)]
mod tests {
    use super::{chunk, default_batch};

    #[test]
    fn takes_grow_from_four_and_shrink_at_the_end() {
        // A worker's takes double from 4 up to the batch, however many it has taken.
        let takes: Vec<u64> = (0..6).map(|k| chunk(16, k, 10_000, 2)).collect();
        assert_eq!(takes, [4, 8, 16, 16, 16, 16]);
        assert_eq!(chunk(16, 40, 10_000, 2), 16);
        assert_eq!(chunk(16, u32::MAX, 10_000, 2), 16);
        // Near the end, a 2·workers-th of what is left, at least 4.
        assert_eq!(chunk(16, 9, 40, 2), 10);
        assert_eq!(chunk(16, 9, 9, 2), 4);
        assert_eq!(chunk(16, 9, 40, 4), 5);
        // A batch below 4 is kept.
        assert_eq!(chunk(1, 0, 10_000, 2), 1);
        assert_eq!(chunk(3, 7, 10_000, 2), 3);
    }

    #[test]
    fn the_default_batch_holds_32_mib_of_pixels_between_4_and_16() {
        assert_eq!(default_batch(224, 224), 16);
        assert_eq!(default_batch(724, 724), 16);
        assert_eq!(default_batch(1024, 1024), 8);
        assert_eq!(default_batch(1448, 1448), 4);
        assert_eq!(default_batch(4096, 4096), 4);
    }
}
