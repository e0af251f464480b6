//! Python bindings of the pinsynth library (the `pinsynth._pinsynth` extension module; the package in
//! `pinsynth/` re-exports it). Nothing here renders or labels on its own: scenes load through
//! `Scene::parse`, datasets through `run::render_dataset` (the CLI's `render`), single images through
//! `pipeline::FrameMaker::frame` (the code `render_dataset` runs per image), records through
//! `Record::to_json` (the manifest line). The GIL is released while anything renders.

use numpy::IntoPyArray;
use numpy::ndarray::{Array2, Array3};
use pinsynth::Error;
use pinsynth::conventions::valid_file_name;
use pinsynth::dataset::{DatasetOptions, Format, LayoutOptions, WriteError};
use pinsynth::params::Planner;
use pinsynth::pipeline::{Frame, FrameMaker};
use pinsynth::progress::Quiet;
use pinsynth::run::{RunOptions, render_dataset};
use pinsynth::spec::{Scene, SpecError, TRUTH_KINDS, TruthSpec};
use pinsynth::truth::amodal::AmodalMask;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIndexError, PyOSError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

/// Library errors as Python exceptions: bad input is a `ValueError` (an unreadable scene file an
/// `OSError`, a non-empty output directory a `FileExistsError`), anything else a `RuntimeError`.
fn to_py(err: Error) -> PyErr {
    let msg = pinsynth::describe(&err);
    match &err {
        Error::Spec(SpecError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(msg)
        }
        Error::Spec(SpecError::Read { .. }) => PyOSError::new_err(msg),
        Error::Write(WriteError::NotEmpty { .. }) => PyFileExistsError::new_err(msg),
        e if e.is_input_error() => PyValueError::new_err(msg),
        _ => PyRuntimeError::new_err(msg),
    }
}

/// A Python value as the TOML value of a `--set key=value` override (strings stay strings).
fn toml_value(v: &Bound<'_, PyAny>, key: &str) -> PyResult<toml::Value> {
    use toml::Value;
    if let Ok(b) = v.cast::<pyo3::types::PyBool>() {
        return Ok(Value::Boolean(b.is_true()));
    }
    if v.cast::<PyString>().is_ok() {
        return Ok(Value::String(v.extract::<String>()?));
    }
    if v.cast::<pyo3::types::PyInt>().is_ok() {
        return Ok(Value::Integer(v.extract::<i64>()?));
    }
    if v.cast::<pyo3::types::PyFloat>().is_ok() {
        return Ok(Value::Float(v.extract::<f64>()?));
    }
    if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
        let items: PyResult<Vec<_>> = v.try_iter()?.map(|item| toml_value(&item?, key)).collect();
        return Ok(Value::Array(items?));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut table = toml::Table::new();
        for (k, item) in d.iter() {
            table.insert(k.extract::<String>()?, toml_value(&item, key)?);
        }
        return Ok(Value::Table(table));
    }
    // Anything else that converts like a number (NumPy scalars).
    if let Ok(i) = v.extract::<i64>() {
        return Ok(Value::Integer(i));
    }
    if let Ok(f) = v.extract::<f64>() {
        return Ok(Value::Float(f));
    }
    Err(PyTypeError::new_err(format!(
        "override {key}: cannot use a {} as a scene value (use bool, int, float, str, list or dict)",
        v.get_type().name()?
    )))
}

/// `overrides` as `--set` assignments: a dict `{"image.width": 512}` or strings `"image.width=512"`.
fn assignments(overrides: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(o) = overrides else { return Ok(Vec::new()) };
    if let Ok(d) = o.cast::<PyDict>() {
        return d
            .iter()
            .map(|(k, v)| {
                let key: String = k.extract()?;
                Ok(format!("{key}={}", toml_value(&v, &key)?))
            })
            .collect();
    }
    if o.cast::<PyString>().is_ok() {
        return Err(PyTypeError::new_err(
            "overrides: give a dict {\"key.path\": value} or a list of \"key.path=value\"",
        ));
    }
    o.try_iter()?.map(|a| a?.extract::<String>()).collect()
}

/// A validated scene: every default resolved, every problem of the file reported at once.
#[pyclass(frozen, name = "Scene", module = "pinsynth")]
struct PyScene {
    scene: Arc<Scene>,
}

impl PyScene {
    fn load(py: Python<'_>, text: Option<&str>, path: &Path, overrides: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let sets = assignments(overrides)?;
        let scene = py.detach(|| match text {
            Some(t) => Scene::parse(t, path, &sets),
            None => Scene::load(path, &sets),
        });
        scene.map(|s| PyScene { scene: Arc::new(s) }).map_err(|e| to_py(e.into()))
    }
}

#[pymethods]
impl PyScene {
    /// Reads a scene file. `overrides` (a dict `{"sweep.count": 100}` or a list of `"key.path=value"`)
    /// work like the CLI's `--set`. Raises ValueError listing every problem, as `pinsynth validate` does.
    #[staticmethod]
    #[pyo3(signature = (path, overrides = None))]
    fn from_file(py: Python<'_>, path: PathBuf, overrides: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        PyScene::load(py, None, &path, overrides)
    }

    /// Reads a scene from TOML text; `name` stands for the file in error messages.
    #[staticmethod]
    #[pyo3(signature = (text, overrides = None, name = "<string>"))]
    fn from_toml(py: Python<'_>, text: &str, overrides: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Self> {
        PyScene::load(py, Some(text), Path::new(name), overrides)
    }

    /// The resolved scene as TOML (what `scene.resolved.toml` holds); loads again to the same scene.
    fn to_toml(&self) -> String {
        self.scene.to_toml()
    }

    /// Number of images: cases first, then the sweep.
    #[getter]
    fn image_count(&self) -> u64 {
        self.scene.image_count()
    }

    fn __len__(&self) -> usize {
        self.scene.image_count() as usize
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.scene.seed()
    }

    #[getter]
    fn width(&self) -> u32 {
        self.scene.image.width
    }

    #[getter]
    fn height(&self) -> u32 {
        self.scene.image.height
    }

    fn __repr__(&self) -> String {
        let s = &self.scene;
        format!("<pinsynth.Scene {}x{}, {} images, seed {}>", s.image.width, s.image.height, s.image_count(), s.seed())
    }

    /// Pickles as its resolved TOML (DataLoader workers started with `spawn` get a copy).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((py.get_type::<PyScene>().getattr("from_toml")?, (self.scene.to_toml(),)))
    }

    /// Bakes the scene's world and bounce light into this process's cache of bakes, as a renderer's
    /// first image would. The torch datasets call it when made, so that DataLoader workers forked later
    /// (every epoch, unless persistent) start with the bake instead of each making it again.
    fn _bake(&self, py: Python<'_>) {
        let scene = &self.scene;
        py.detach(|| pinsynth::run::bake(scene))
    }

    /// Renders the dataset into `out_dir`, exactly as `pinsynth render` does (same files, same bytes);
    /// returns the summary (`images`, `ok`, `ng`, `seconds`, `workers`, `adapter`, `counts`).
    #[pyo3(signature = (
        out_dir, formats = None, overwrite = false, jobs = 0, preview = 32, batch = 0,
        ng_by_type = false, category = "connector", shard_size = 1000, shard = None, resume = false
    ))]
    #[allow(clippy::too_many_arguments)] // ok: mirrors the CLI's options as keyword arguments
    fn render<'py>(
        &self,
        py: Python<'py>,
        out_dir: PathBuf,
        formats: Option<Vec<String>>,
        overwrite: bool,
        jobs: usize,
        preview: usize,
        batch: usize,
        ng_by_type: bool,
        category: &str,
        shard_size: usize,
        shard: Option<&str>,
        resume: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let formats = formats
            .unwrap_or_else(|| vec!["imagefolder".to_string()])
            .iter()
            .map(|f| f.parse::<Format>().map_err(|e| PyValueError::new_err(format!("formats: {e}"))))
            .collect::<PyResult<Vec<_>>>()?;
        if !valid_file_name(category) {
            return Err(PyValueError::new_err(format!(
                "category {category:?}: use 1-128 letters, digits, `_`, `-` and `.` (not starting with `.`)"
            )));
        }
        if shard_size == 0 {
            return Err(PyValueError::new_err("shard_size: must be at least 1"));
        }
        if resume && overwrite {
            return Err(PyValueError::new_err("resume and overwrite exclude each other"));
        }
        let shard = shard
            .map(|s| s.parse::<pinsynth::shard::Shard>().map_err(|e| PyValueError::new_err(format!("shard: {e}"))))
            .transpose()?;
        let layouts = LayoutOptions { formats, ng_by_type, category: category.to_string(), shard_size };
        let opts = RunOptions {
            jobs,
            batch,
            dataset: DatasetOptions { overwrite, preview, layouts },
            shard,
            resume,
            cancel: None,
        };
        let scene = Arc::clone(&self.scene);
        let summary = py.detach(move || render_dataset(&scene, &out_dir, &opts, &Quiet)).map_err(to_py)?;
        let mut json = serde_json::json!({
            "images": summary.images(),
            "ok": summary.ok(),
            "ng": summary.ng(),
            "seconds": summary.seconds,
            "images_per_second": summary.images_per_second(),
            "workers": summary.workers,
            "adapter": summary.adapter,
        });
        json["counts"] = serde_json::to_value(&summary.counts).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        json_loads(py, &json.to_string())
    }
}

fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// The optional ground truth a `truth=` argument names: one name, comma-separated names (as the CLI's
/// `--truth`) or a list of names, each of [`TRUTH_KINDS`]; `None` when not given.
fn truth_kinds(truth: Option<&Bound<'_, PyAny>>) -> PyResult<Option<TruthSpec>> {
    let Some(t) = truth else { return Ok(None) };
    let names: Vec<String> = if let Ok(s) = t.extract::<String>() {
        s.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect()
    } else {
        t.try_iter()
            .map_err(|_| PyTypeError::new_err("truth: give a list of names, e.g. [\"depth\", \"amodal\"]"))?
            .map(|n| n?.extract::<String>())
            .collect::<PyResult<_>>()?
    };
    let mut spec = TruthSpec::default();
    for name in names {
        match name.as_str() {
            "depth" => spec.depth = true,
            "amodal" => spec.amodal = true,
            other => {
                return Err(PyValueError::new_err(format!(
                    "truth: unknown kind {other:?} (use {})",
                    TRUTH_KINDS.join(", ")
                )));
            }
        }
    }
    Ok(Some(spec))
}

/// The names a `truth=` argument gives, checked (ValueError naming the kinds there are), in the order
/// of [`TRUTH_KINDS`]; for Python code that passes it on later (the torch datasets).
#[pyfunction]
fn _truth_names(truth: &Bound<'_, PyAny>) -> PyResult<Vec<&'static str>> {
    let spec = truth_kinds(Some(truth))?.unwrap_or_default();
    Ok([("depth", spec.depth), ("amodal", spec.amodal)].into_iter().filter(|(_, on)| *on).map(|(k, _)| k).collect())
}

/// The most images per GPU submission the CLI draws for images of `width × height` unless told
/// ([`pinsynth::run::default_batch`]); for the torch datasets' default.
#[pyfunction]
fn _default_batch(width: u32, height: u32) -> usize {
    pinsynth::run::default_batch(width, height)
}

/// How `sample`/`samples` hand over a sample's record (`record=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum RecordForm {
    /// The `manifest.jsonl` line as a dict.
    #[default]
    Dict,
    /// The `manifest.jsonl` line as a str (the bytes the manifest holds).
    Json,
    /// Only its `label` (`"ok"` or `"ng"`): what a classifier's target needs, without building the
    /// dict of every pin.
    Label,
}

/// The memory order of a sample's image (`layout=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Layout {
    /// H×W×3, as the PNG (and PIL, NumPy images) hold it.
    #[default]
    Hwc,
    /// 3×H×W, channels first, as PyTorch models take it: `torch.from_numpy` gives a contiguous
    /// tensor that batches with one plain copy.
    Chw,
}

/// What a caller asked of each sample: the optional ground truth and the forms of record and image.
#[derive(Clone, Copy, Debug, Default)]
struct Ask {
    truth: Option<TruthSpec>,
    record: RecordForm,
    layout: Layout,
}

impl Ask {
    fn of(truth: Option<&Bound<'_, PyAny>>, record: &str, layout: &str) -> PyResult<Ask> {
        let record = match record {
            "dict" => RecordForm::Dict,
            "json" => RecordForm::Json,
            "label" => RecordForm::Label,
            other => {
                return Err(PyValueError::new_err(format!(
                    "record: unknown form {other:?} (use \"dict\", \"json\" or \"label\")"
                )));
            }
        };
        let layout = match layout {
            "hwc" => Layout::Hwc,
            "chw" => Layout::Chw,
            other => {
                return Err(PyValueError::new_err(format!("layout: unknown order {other:?} (use \"hwc\" or \"chw\")")));
            }
        };
        Ok(Ask { truth: truth_kinds(truth)?, record, layout })
    }
}

/// One rendered sample, converted to the shapes Python gets while the GIL is released.
struct Prepared {
    image: Array3<u8>,
    mask: Array2<u8>,
    /// The `manifest.jsonl` line, or the record's label alone ([`RecordForm::Label`]).
    record: String,
    form: RecordForm,
    /// Present when asked for.
    truth: Option<TruthArrays>,
}

/// The optional ground truth asked for: the depth map and the amodal masks (pins × H × W).
struct TruthArrays {
    depth: Option<Array2<f32>>,
    amodal: Option<Array3<u8>>,
}

impl Prepared {
    fn of(frame: Frame, ask: Ask) -> Result<Prepared, String> {
        let record = match ask.record {
            RecordForm::Dict | RecordForm::Json => frame.record.to_json().map_err(|e| e.to_string())?,
            RecordForm::Label => frame.record.label,
        };
        let pixels = frame.pixels;
        let (w, h) = (pixels.width as usize, pixels.height as usize);
        let shape_err = |e: numpy::ndarray::ShapeError| format!("rendered buffer: {e}");
        let image = match ask.layout {
            Layout::Hwc => Array3::from_shape_vec((h, w, 3), pixels.rgb),
            Layout::Chw => Array3::from_shape_vec((3, h, w), channels_first(&pixels.rgb)),
        }
        .map_err(shape_err)?;
        let mask = Array2::from_shape_vec((h, w), pixels.mask).map_err(shape_err)?;
        let truth = ask
            .truth
            .map(|want| {
                let depth = match frame.depth.filter(|_| want.depth) {
                    Some(d) => Some(Array2::from_shape_vec((h, w), d).map_err(shape_err)?),
                    None => None,
                };
                let amodal = frame.amodal.filter(|_| want.amodal).map(|masks| amodal_stack(&masks, w, h));
                Ok::<_, String>(TruthArrays { depth, amodal })
            })
            .transpose()?;
        Ok(Prepared { image, mask, record, form: ask.record, truth })
    }

    /// `(image, mask, record)`, or `(image, mask, record, truth)` when truth was asked for. The arrays
    /// take over the rendered buffers (no copy; channels first: one copy, made here).
    fn into_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let image = self.image.into_pyarray(py).into_any();
        let mask = self.mask.into_pyarray(py).into_any();
        let record = match self.form {
            RecordForm::Dict => json_loads(py, &self.record)?,
            RecordForm::Json | RecordForm::Label => PyString::new(py, &self.record).into_any(),
        };
        let Some(arrays) = self.truth else { return PyTuple::new(py, [image, mask, record]) };
        let truth = PyDict::new(py);
        if let Some(d) = arrays.depth {
            truth.set_item("depth", d.into_pyarray(py))?;
        }
        if let Some(a) = arrays.amodal {
            truth.set_item("amodal", a.into_pyarray(py))?;
        }
        PyTuple::new(py, [image, mask, record, truth.into_any()])
    }
}

/// RGB pixels (H×W×3) as three planes (3×H×W).
fn channels_first(rgb: &[u8]) -> Vec<u8> {
    let n = rgb.len() / 3;
    let mut planes = vec![0u8; 3 * n];
    let (r, gb) = planes.split_at_mut(n);
    let (g, b) = gb.split_at_mut(n);
    for (((px, r), g), b) in rgb.chunks_exact(3).zip(r).zip(g).zip(b) {
        (*r, *g, *b) = (px[0], px[1], px[2]);
    }
    planes
}

/// The amodal masks as one pins × H × W array of 0/1, in the order of the record's pins.
fn amodal_stack(masks: &[AmodalMask], w: usize, h: usize) -> Array3<u8> {
    let mut out = Array3::<u8>::zeros((masks.len(), h, w));
    for (mut plane, m) in out.outer_iter_mut().zip(masks) {
        let [x0, y0, bw, bh] = m.bbox.map(|v| v as usize);
        for (y, row) in m.mask.chunks_exact(bw.max(1)).take(bh).enumerate() {
            for (x, &v) in row.iter().enumerate() {
                plane[[y0 + y, x0 + x]] = v;
            }
        }
    }
    out
}

/// Renders single images of a scene by index, each exactly as the dataset render writes it. Owns one
/// GPU device (and with `jobs` > 1 one more per render thread of `samples`); give each thread or
/// DataLoader worker its own.
#[pyclass(frozen, name = "Renderer", module = "pinsynth")]
struct PyRenderer {
    scene: Arc<Scene>,
    /// Always Some, except in a forked copy being dropped (see `Drop`).
    maker: Mutex<Option<FrameMaker>>,
    /// The process that opened the devices.
    pid: u32,
    /// Render threads `samples` uses (1: none, it renders on the calling thread with `maker`).
    jobs: usize,
    /// The render threads, opened on the first `samples` with `jobs` > 1; an iterator takes them while
    /// it runs and puts them back when it ends (a second iterator at the same time renders alone).
    pool: Mutex<PoolSlot>,
}

/// Where a renderer's render threads are.
enum PoolSlot {
    NotOpened,
    Idle(Pool),
    /// An iterator has them (or is opening them).
    InUse,
}

fn closed() -> String {
    "this renderer was closed".to_string()
}

/// Whether this process is not `pid` (a process forked from it: a DataLoader worker).
fn forked_from(pid: u32) -> bool {
    std::process::id() != pid
}

impl Drop for PyRenderer {
    /// A forked process has a copy of the renderer but none of the driver's threads behind its devices
    /// (lavapipe's queue and rasteriser threads): tearing the copy down would wait for them forever,
    /// so it is left as it is (its render threads, [`Pool`], see to themselves). A DataLoader worker
    /// that inherits a renderer opens its own.
    fn drop(&mut self) {
        if forked_from(self.pid)
            && let Ok(m) = self.maker.get_mut()
        {
            std::mem::forget(m.take());
        }
    }
}

/// What a render thread gets: indices (all valid) and what is asked of each sample.
type Chunk = (Vec<u64>, Ask);

/// Render threads for [`Samples`], each with its own [`FrameMaker`] (its own device). Chunks of
/// indices go to the threads in turn and their samples are taken back in the same turn, so they
/// arrive in the order asked whichever thread drew them; an image's pixels do not depend on the
/// renderer that draws it.
struct Pool {
    workers: Vec<PoolWorker>,
    /// The process that started the threads: a process forked from it has a copy of this pool (an
    /// iterator's, or its renderer's) but none of the threads.
    pid: u32,
}

impl Drop for Pool {
    /// As [`PyRenderer`]'s: in a forked process the copy is left as it is (joining a thread of
    /// another process would wait forever).
    fn drop(&mut self) {
        if forked_from(self.pid) {
            std::mem::forget(std::mem::take(&mut self.workers));
        }
    }
}

struct PoolWorker {
    send: Option<mpsc::Sender<Chunk>>,
    /// In a mutex only so that [`Samples`] is `Sync` as a Python class must be (one iterator uses it).
    recv: Mutex<mpsc::Receiver<Result<Vec<Prepared>, String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Pool {
    /// Opens `jobs` renderers as the CLI's workers are opened (no more than the scene has batches;
    /// here, so that a missing driver fails at once) and a thread for each.
    fn open(scene: &Scene, jobs: usize, batch: usize) -> Result<Pool, Error> {
        let planner = Arc::new(Planner::new(scene));
        let workers = pinsynth::run::open_renderers(scene, jobs, batch)?
            .into_iter()
            .map(|renderer| {
                let mut maker = FrameMaker::with_renderer(Arc::clone(&planner), renderer);
                let (send, jobs) = mpsc::channel::<Chunk>();
                let (done, recv) = mpsc::channel();
                let thread = std::thread::spawn(move || {
                    for (indices, ask) in jobs {
                        let prepared = maker
                            .frames_with(&indices, ask.truth.unwrap_or_default())
                            .map_err(|e| pinsynth::describe(&e))
                            .and_then(|frames| frames.into_iter().map(|f| Prepared::of(f, ask)).collect());
                        if done.send(prepared).is_err() {
                            break;
                        }
                    }
                });
                PoolWorker { send: Some(send), recv: Mutex::new(recv), thread: Some(thread) }
            })
            .collect();
        Ok(Pool { workers, pid: std::process::id() })
    }
}

impl Drop for PoolWorker {
    /// Closes the thread's queue and waits for it to finish the chunk it is drawing.
    fn drop(&mut self) {
        self.send.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl PyRenderer {
    fn index(&self, index: i64) -> PyResult<u64> {
        let n = self.scene.image_count();
        u64::try_from(index).ok().filter(|i| *i < n).ok_or_else(|| {
            PyIndexError::new_err(format!("index {index} out of range: the scene has {n} images (0..{n})"))
        })
    }

    fn with_maker<R>(&self, f: impl FnOnce(&FrameMaker) -> R) -> PyResult<R> {
        let m = self.maker.lock().map_err(|_| PyRuntimeError::new_err("a render panicked on this renderer"))?;
        m.as_ref().map(f).ok_or_else(|| PyRuntimeError::new_err(closed()))
    }

    /// Renders `indices` (all valid) in one go, the GIL released.
    fn prepare(&self, py: Python<'_>, indices: &[u64], ask: Ask) -> PyResult<Vec<Prepared>> {
        py.detach(|| {
            let mut maker = self.maker.lock().map_err(|_| "a render panicked on this renderer".to_string())?;
            let maker_ref = maker.as_mut().ok_or_else(closed)?;
            let frames =
                maker_ref.frames_with(indices, ask.truth.unwrap_or_default()).map_err(|e| pinsynth::describe(&e))?;
            drop(maker);
            frames.into_iter().map(|f| Prepared::of(f, ask)).collect::<Result<Vec<_>, String>>()
        })
        .map_err(PyRuntimeError::new_err)
    }
}

#[pymethods]
impl PyRenderer {
    /// `batch`: how many images `samples` draws per GPU submission (the pixels do not depend on it).
    /// `jobs`: how many threads `samples` renders on, each with its own GPU device, while the caller
    /// uses the samples already made (0: one per core; 1: on the calling thread; at most one per
    /// `batch` images of the scene, as the CLI's workers). The samples and their order do not depend
    /// on it.
    #[new]
    #[pyo3(signature = (scene, batch = 1, jobs = 1))]
    fn new(py: Python<'_>, scene: &Bound<'_, PyScene>, batch: usize, jobs: usize) -> PyResult<Self> {
        if batch == 0 {
            return Err(PyValueError::new_err("batch: must be at least 1"));
        }
        let jobs = pinsynth::run::workers(jobs);
        let scene = Arc::clone(&scene.get().scene);
        py.detach(|| {
            let renderer = pinsynth::render::Renderer::new(scene.image.antialias, batch)?;
            let maker = FrameMaker::with_renderer(Arc::new(Planner::new(&scene)), renderer);
            let (maker, pool) = (Mutex::new(Some(maker)), Mutex::new(PoolSlot::NotOpened));
            Ok::<_, Error>(PyRenderer { scene, maker, pid: std::process::id(), jobs, pool })
        })
        .map_err(to_py)
    }

    /// Image `index` of the scene as `(image, mask, record)`: `image` uint8 H×W×3 (the pixels of
    /// `images/<id>.png`), `mask` uint8 H×W (`masks/<id>.png`), `record` its `manifest.jsonl` line as a
    /// dict. With `truth` (names of optional ground truth, `["depth", "amodal"]`), a 4-tuple whose last
    /// item is a dict of the ones asked for: `depth` float32 H×W (`depth/<id>.tiff`), `amodal` uint8
    /// pins×H×W of 0/1 (one mask per pin of `record["pins"]`, in that order). `record="json"` gives
    /// the manifest line as a str instead of a dict, `record="label"` only its label (`"ok"`, `"ng"`);
    /// `layout="chw"` gives the image channels first (3×H×W, contiguous). The GIL is released while it
    /// renders.
    #[pyo3(signature = (index, truth = None, record = "dict", layout = "hwc"))]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        index: i64,
        truth: Option<&Bound<'py, PyAny>>,
        record: &str,
        layout: &str,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let index = self.index(index)?;
        let ask = Ask::of(truth, record, layout)?;
        let prepared = self.prepare(py, &[index], ask)?.pop();
        prepared.ok_or_else(|| PyRuntimeError::new_err("no frame rendered"))?.into_py(py)
    }

    /// Iterates `sample(i, truth, record, layout)` over `indices` (default: every image in order),
    /// rendering up to `batch` of them per GPU submission; with `jobs` > 1 on that many threads, ahead
    /// of the caller (at most two batches per thread), the samples still in the order asked.
    #[pyo3(signature = (indices = None, truth = None, record = "dict", layout = "hwc"))]
    fn samples(
        slf: &Bound<'_, Self>,
        indices: Option<&Bound<'_, PyAny>>,
        truth: Option<&Bound<'_, PyAny>>,
        record: &str,
        layout: &str,
    ) -> PyResult<Samples> {
        let py = slf.py();
        let ask = Ask::of(truth, record, layout)?;
        let indices = match indices {
            Some(i) => i.try_iter()?,
            None => {
                let all = py.import("builtins")?.getattr("range")?.call1((slf.get().scene.image_count(),))?;
                all.try_iter()?
            }
        };
        Ok(Samples {
            renderer: slf.clone().unbind(),
            indices: indices.unbind(),
            ask,
            ready: VecDeque::new(),
            pending: None,
            pool: None,
            in_flight: VecDeque::new(),
            turn: 0,
            exhausted: false,
        })
    }

    fn __len__(&self) -> usize {
        self.scene.image_count() as usize
    }

    /// The most images drawn per GPU submission (what `batch` asked for, or fewer if they do not fit).
    #[getter]
    fn batch(&self) -> PyResult<usize> {
        self.with_maker(|m| m.renderer().batch())
    }

    /// How many threads `samples` renders on.
    #[getter]
    fn jobs(&self) -> usize {
        self.jobs
    }

    /// The GPU adapter this renderer draws on.
    #[getter]
    fn adapter(&self) -> PyResult<String> {
        self.with_maker(|m| m.renderer().gpu().describe())
    }
}

/// The iterator `Renderer.samples` returns: takes up to the renderer's batch of indices at a time,
/// renders them together (with render threads, several batches ahead), hands them out one by one. An
/// error (a bad index) is raised in its place in the sequence, after the samples before it.
#[pyclass(module = "pinsynth")]
struct Samples {
    renderer: Py<PyRenderer>,
    indices: Py<pyo3::types::PyIterator>,
    ask: Ask,
    ready: VecDeque<Prepared>,
    pending: Option<PyErr>,
    /// The renderer's threads while this iterator runs (taken from [`PyRenderer::pool`]).
    pool: Option<Pool>,
    /// The threads that have a chunk of this iterator's, oldest first; the next chunk goes to `turn`.
    in_flight: VecDeque<usize>,
    turn: usize,
    /// The indices ran out.
    exhausted: bool,
}

impl Samples {
    /// The next up to `batch` indices, checked. A bad one ends the batch and is kept to be raised after
    /// the samples before it (nothing more is taken until then); the indices after it follow.
    fn take(&mut self, py: Python<'_>, renderer: &PyRenderer, batch: usize) -> Vec<u64> {
        let mut take = Vec::with_capacity(batch);
        if self.exhausted || self.pending.is_some() {
            return take;
        }
        let mut it = self.indices.bind(py).clone();
        while take.len() < batch {
            let Some(i) = it.next() else {
                self.exhausted = true;
                break;
            };
            match i.and_then(|i| i.extract::<i64>()).and_then(|i| renderer.index(i)) {
                Ok(i) => take.push(i),
                Err(e) => {
                    self.pending = Some(e);
                    break;
                }
            }
        }
        take
    }

    /// With render threads: keeps two chunks per thread in flight and waits (the GIL released) for
    /// the oldest. False when there are no threads (`jobs` 1, or another iterator has them).
    fn fill_from_pool(&mut self, py: Python<'_>) -> PyResult<bool> {
        let renderer = self.renderer.clone_ref(py);
        let renderer = renderer.get();
        if self.pool.is_none() && (renderer.jobs <= 1 || !self.in_flight.is_empty()) {
            return Ok(false);
        }
        let batch = renderer.batch()?;
        if self.pool.is_none() {
            let lock = || renderer.pool.lock().map_err(|_| PyRuntimeError::new_err("a render thread panicked"));
            let state = std::mem::replace(&mut *lock()?, PoolSlot::InUse);
            self.pool = match state {
                PoolSlot::Idle(pool) => Some(pool),
                PoolSlot::NotOpened => {
                    // Opened with the lock released (and the GIL: opening takes a while).
                    let scene = Arc::clone(&renderer.scene);
                    match py.detach(|| Pool::open(&scene, renderer.jobs, batch)) {
                        Ok(pool) => Some(pool),
                        Err(e) => {
                            *lock()? = PoolSlot::NotOpened;
                            return Err(to_py(e));
                        }
                    }
                }
                // Another iterator has the threads: this one renders on the calling thread.
                PoolSlot::InUse => return Ok(false),
            };
        }
        let Some(threads) = self.pool.as_ref().map(|p| p.workers.len()) else { return Ok(false) };
        while self.in_flight.len() < 2 * threads {
            let take = self.take(py, renderer, batch);
            if take.is_empty() {
                break;
            }
            let Some(pool) = self.pool.as_ref() else { return Ok(false) };
            let worker = &pool.workers[self.turn];
            let sent = worker.send.as_ref().is_some_and(|s| s.send((take, self.ask)).is_ok());
            if !sent {
                return Err(PyRuntimeError::new_err("a render thread stopped"));
            }
            self.in_flight.push_back(self.turn);
            self.turn = (self.turn + 1) % threads;
        }
        let Some(oldest) = self.in_flight.pop_front() else { return Ok(true) };
        let Some(pool) = self.pool.as_ref() else { return Ok(false) };
        let recv = &pool.workers[oldest].recv;
        let got = py.detach(|| {
            let stopped = || "a render thread stopped".to_string();
            recv.lock().map_err(|_| stopped())?.recv().map_err(|_| stopped())?
        });
        self.ready = got.map_err(PyRuntimeError::new_err)?.into();
        Ok(true)
    }

    /// Gives the threads back to the renderer once nothing of this iterator's is in flight (in a
    /// forked process, where the threads do not exist, lets the copy go: see [`Pool`]'s `Drop`).
    fn give_back(&mut self, py: Python<'_>) {
        let Some(pool) = self.pool.take() else { return };
        if forked_from(pool.pid) {
            return;
        }
        for &w in &self.in_flight {
            py.detach(|| {
                if let Ok(r) = pool.workers[w].recv.lock() {
                    let _ = r.recv();
                }
            });
        }
        self.in_flight.clear();
        if let Ok(mut slot) = self.renderer.get().pool.lock() {
            *slot = PoolSlot::Idle(pool);
        }
    }
}

#[pymethods]
impl Samples {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        if self.ready.is_empty() {
            if !self.fill_from_pool(py)? {
                let renderer = self.renderer.clone_ref(py);
                let renderer = renderer.get();
                let take = self.take(py, renderer, renderer.batch()?);
                if !take.is_empty() {
                    self.ready = renderer.prepare(py, &take, self.ask)?.into();
                }
            }
            if self.ready.is_empty() {
                if let Some(e) = self.pending.take() {
                    return Err(e);
                }
                self.give_back(py);
                return Ok(None);
            }
        }
        self.ready.pop_front().map(|p| p.into_py(py)).transpose()
    }
}

impl Drop for Samples {
    fn drop(&mut self) {
        Python::attach(|py| self.give_back(py));
    }
}

/// pinsynth: synthetic connector-inspection images rendered headless with wgpu.
#[pymodule]
mod _pinsynth {
    #[pymodule_export]
    use super::{_default_batch, _truth_names, PyRenderer, PyScene, Samples};

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
