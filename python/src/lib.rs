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
use pinsynth::pipeline::FrameMaker;
use pinsynth::progress::Quiet;
use pinsynth::run::{RunOptions, render_dataset};
use pinsynth::spec::{Scene, SpecError};
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIndexError, PyOSError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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

    /// Renders the dataset into `out_dir`, exactly as `pinsynth render` does (same files, same bytes);
    /// returns the summary (`images`, `ok`, `ng`, `seconds`, `workers`, `adapter`, `counts`).
    #[pyo3(signature = (
        out_dir, formats = None, overwrite = false, jobs = 0, preview = 32, batch = pinsynth::run::DEFAULT_BATCH,
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

/// Renders single images of a scene by index, each exactly as the dataset render writes it. Owns one
/// GPU device; give each thread or DataLoader worker its own.
#[pyclass(frozen, name = "Renderer", module = "pinsynth")]
struct PyRenderer {
    scene: Arc<Scene>,
    maker: Mutex<FrameMaker>,
}

impl PyRenderer {
    fn index(&self, index: i64) -> PyResult<u64> {
        let n = self.scene.image_count();
        u64::try_from(index).ok().filter(|i| *i < n).ok_or_else(|| {
            PyIndexError::new_err(format!("index {index} out of range: the scene has {n} images (0..{n})"))
        })
    }
}

#[pymethods]
impl PyRenderer {
    #[new]
    fn new(py: Python<'_>, scene: &Bound<'_, PyScene>) -> PyResult<Self> {
        let scene = Arc::clone(&scene.get().scene);
        py.detach(|| {
            let maker = FrameMaker::new(&scene)?;
            Ok::<_, Error>(PyRenderer { scene, maker: Mutex::new(maker) })
        })
        .map_err(to_py)
    }

    /// Image `index` of the scene as `(image, mask, record)`: `image` uint8 H×W×3 (the pixels of
    /// `images/<id>.png`), `mask` uint8 H×W (`masks/<id>.png`), `record` its `manifest.jsonl` line as a
    /// dict. The GIL is released while it renders.
    fn sample<'py>(&self, py: Python<'py>, index: i64) -> PyResult<Bound<'py, PyTuple>> {
        let index = self.index(index)?;
        let (rendered, line) = py
            .detach(|| {
                let mut maker = self.maker.lock().map_err(|_| "a render panicked on this renderer".to_string())?;
                let out = maker.frame(index).map_err(|e| pinsynth::describe(&e))?;
                let line = out.record.to_json().map_err(|e| e.to_string())?;
                Ok::<_, String>((out, line))
            })
            .map_err(PyRuntimeError::new_err)?;
        let pixels = rendered.pixels;
        let (w, h) = (pixels.width as usize, pixels.height as usize);
        let shape_err = |e: numpy::ndarray::ShapeError| PyRuntimeError::new_err(format!("rendered buffer: {e}"));
        let image = Array3::from_shape_vec((h, w, 3), pixels.rgb).map_err(shape_err)?.into_pyarray(py);
        let mask = Array2::from_shape_vec((h, w), pixels.mask).map_err(shape_err)?.into_pyarray(py);
        let record = json_loads(py, &line)?;
        PyTuple::new(py, [image.into_any(), mask.into_any(), record])
    }

    /// Iterates `sample(i)` over `indices` (default: every image in order).
    #[pyo3(signature = (indices = None))]
    fn samples(slf: &Bound<'_, Self>, indices: Option<&Bound<'_, PyAny>>) -> PyResult<Samples> {
        let py = slf.py();
        let indices = match indices {
            Some(i) => i.try_iter()?,
            None => {
                let all = py.import("builtins")?.getattr("range")?.call1((slf.get().scene.image_count(),))?;
                all.try_iter()?
            }
        };
        Ok(Samples { renderer: slf.clone().unbind(), indices: indices.unbind() })
    }

    fn __len__(&self) -> usize {
        self.scene.image_count() as usize
    }

    /// The GPU adapter this renderer draws on.
    #[getter]
    fn adapter(&self) -> PyResult<String> {
        let m = self.maker.lock().map_err(|_| PyRuntimeError::new_err("a render panicked on this renderer"))?;
        Ok(m.renderer().gpu().describe())
    }
}

/// The iterator `Renderer.samples` returns.
#[pyclass(frozen, module = "pinsynth")]
struct Samples {
    renderer: Py<PyRenderer>,
    indices: Py<pyo3::types::PyIterator>,
}

#[pymethods]
impl Samples {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(i) = self.indices.bind(py).clone().next() else { return Ok(None) };
        let i: i64 = i?.extract()?;
        self.renderer.get().sample(py, i).map(Some)
    }
}

/// pinsynth: synthetic connector-inspection images rendered headless with wgpu.
#[pymodule]
mod _pinsynth {
    #[pymodule_export]
    use super::{PyRenderer, PyScene, Samples};

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
