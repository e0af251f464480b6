//! Scene files: TOML in, a validated [`Scene`] with every default resolved out.
//!
//! Reading collects every problem in the file (see [`schema`]) and reports each with the file, the
//! key path, the value and what is allowed. After [`Scene::load`] nothing downstream re-checks input.
//! [`Scene::to_toml`] writes the resolved scene back in the same schema (`scene.resolved.toml`), so a
//! resolved file loads again to the same scene.

pub mod dist;
pub mod draw;
pub mod housing;
mod randomize;
pub mod schema;
mod sections;
mod sweep;
pub mod terminal;

pub use housing::{HousingShape, NotchSide, Shroud};
pub use randomize::Randomize;
pub(crate) use sections::read_pin;
pub use sections::sweep_id_width;
use sections::{apply_override, read_scene};
pub use sweep::{BendAxes, BendDists, DefectWeights, Dist2, Dist3, Grid, PinSelection, RandomSweep, Sweep, SweepMode};
pub use terminal::{RoundSize, SquareSize, Tip, TipStyle, TriangleSize};

use crate::conventions::{self, Named, PinKind};
use schema::{Problem, Problems};
use serde::Serialize;
use std::path::{Path, PathBuf};
use toml::Table;

/// Errors reading a scene file.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read scene file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: malformed TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: invalid --set {assignment:?}: {reason}")]
    BadOverride { path: PathBuf, assignment: String, reason: String },
    #[error("{}", invalid_message(path, problems))]
    Invalid { path: PathBuf, problems: Vec<Problem> },
}

fn invalid_message(path: &Path, problems: &[Problem]) -> String {
    schema::report(&format!("{}: invalid scene", path.display()), problems)
}

/// How the colour image is anti-aliased. The mask is never anti-aliased (one sample at each pixel centre).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Antialias {
    /// One sample per pixel (aliased edges).
    None,
    /// Hardware multisampling with 4 samples.
    Msaa4,
    /// Supersampling on a 3 × 3 grid of each pixel (the centre sample also gives the mask: one pass).
    Ssaa3,
    /// One sample per pixel, then FXAA (fast approximate anti-aliasing) on the CPU.
    Fxaa,
    /// One sample per pixel, then every pixel an edge crosses — an object's or a shadow's — resolved
    /// from the exact geometry on an 8 × 8 grid of samples, on the CPU (colours from the GPU's
    /// shading; shadows from the casters themselves).
    Exact,
    /// As `Exact` for objects' edges only; shadow edges stay as the GPU's one sample per pixel drew
    /// them (faster, less exact where shadows fall).
    ExactGeometry,
}

impl Named for Antialias {
    const ALL: &'static [Antialias] = &[
        Antialias::None,
        Antialias::Msaa4,
        Antialias::Ssaa3,
        Antialias::Fxaa,
        Antialias::Exact,
        Antialias::ExactGeometry,
    ];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for LayoutKind {
    const ALL: &'static [LayoutKind] =
        &[LayoutKind::Square, LayoutKind::Round, LayoutKind::Triangle, LayoutKind::Mixed, LayoutKind::Pattern];
    fn name(self) -> &'static str {
        match self {
            LayoutKind::Square => "square",
            LayoutKind::Round => "round",
            LayoutKind::Triangle => "triangle",
            LayoutKind::Mixed => "mixed",
            LayoutKind::Pattern => "pattern",
        }
    }
}

impl Antialias {
    pub fn as_str(self) -> &'static str {
        match self {
            Antialias::None => "none",
            Antialias::Msaa4 => "msaa4",
            Antialias::Ssaa3 => "ssaa3",
            Antialias::Fxaa => "fxaa",
            Antialias::Exact => "exact",
            Antialias::ExactGeometry => "exact_geometry",
        }
    }
}

/// How terminals are arranged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutKind {
    Square,
    Round,
    Triangle,
    Mixed,
    Pattern,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImageSpec {
    pub width: u32,
    pub height: u32,
    /// Background (Blender world) colour, linear RGB.
    pub background: [f64; 3],
    pub antialias: Antialias,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Layout {
    pub kind: LayoutKind,
    pub columns: u32,
    pub rows: u32,
    pub pitch: f64,
    /// For `pattern`: `rows` strings of `columns` characters (`S`, `R`, `T`, `.` or a mesh letter of
    /// `[pin.meshes]`); string index = y.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Vec<String>>,
}

impl Layout {
    /// The terminal at (x, y), or None where the pattern has no terminal.
    pub fn kind_at(&self, x: u32, y: u32) -> Option<PinKind> {
        match self.kind {
            LayoutKind::Square => Some(PinKind::Square),
            LayoutKind::Round => Some(PinKind::Round),
            LayoutKind::Triangle => Some(PinKind::Triangle),
            LayoutKind::Mixed => Some(conventions::mixed_kind(x, y)),
            LayoutKind::Pattern => {
                let row = self.pattern.as_ref()?.get(y as usize)?;
                match row.as_bytes().get(x as usize)? {
                    b'S' => Some(PinKind::Square),
                    b'R' => Some(PinKind::Round),
                    b'T' => Some(PinKind::Triangle),
                    b'.' => None,
                    _ => Some(PinKind::Mesh),
                }
            }
        }
    }

    /// The pattern letter at (x, y) of a mesh terminal (`[pin.meshes]`), else None.
    pub fn mesh_letter_at(&self, x: u32, y: u32) -> Option<char> {
        if self.kind_at(x, y) != Some(PinKind::Mesh) {
            return None;
        }
        self.pattern.as_ref()?.get(y as usize)?.as_bytes().get(x as usize).map(|&b| b as char)
    }

    /// Every terminal present, x outer and y inner (the original's creation order).
    pub fn terminals(&self) -> impl Iterator<Item = (u32, u32, PinKind)> + '_ {
        (0..self.columns).flat_map(move |x| (0..self.rows).filter_map(move |y| self.kind_at(x, y).map(|k| (x, y, k))))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PinStyle {
    /// Terminal colour (Blender `diffuse_color`), linear RGB.
    pub color: [f64; 3],
    /// Sizes and tips per shape (written to the resolved scene only when not the seed's, so a
    /// scene without them resolves to the same file as before these keys existed).
    #[serde(skip_serializing_if = "SquareSize::is_seed")]
    pub square: SquareSize,
    #[serde(skip_serializing_if = "RoundSize::is_seed")]
    pub round: RoundSize,
    #[serde(skip_serializing_if = "TriangleSize::is_seed")]
    pub triangle: TriangleSize,
    /// Mesh terminals by pattern letter (`[pin.meshes]`), each file read once.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub meshes: std::collections::BTreeMap<String, MeshFile>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Housing {
    pub enabled: bool,
    /// The box, or for a shroud its base.
    pub size: [f64; 3],
    pub center: [f64; 3],
    pub color: [f64; 3],
    /// A housing from a mesh file in place of the box (`size` and `center` are then not used).
    pub mesh: Option<MeshFile>,
    /// The box alone, or a shroud (walls on the box's rim, see [`housing`]).
    pub shape: HousingShape,
}

/// As the input schema: `size` and `center` only for the box, `mesh` only when set (the reader
/// refuses both together).
impl Serialize for Housing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("Housing", 9)?;
        st.serialize_field("enabled", &self.enabled)?;
        match &self.mesh {
            None => {
                st.serialize_field("size", &self.size)?;
                st.serialize_field("center", &self.center)?;
            }
            Some(m) => st.serialize_field("mesh", m)?,
        }
        st.serialize_field("color", &self.color)?;
        // The box is written as before shapes existed (no `shape` key), so old scenes resolve alike.
        if let HousingShape::Shroud(sh) = &self.shape {
            st.serialize_field("shape", "shroud")?;
            st.serialize_field("wall_height", &sh.wall_height)?;
            st.serialize_field("wall_thickness", &sh.wall_thickness)?;
            st.serialize_field("notch", &sh.notch)?;
            if sh.notch != NotchSide::None {
                st.serialize_field("notch_width", &sh.notch_width)?;
            }
        }
        st.end()
    }
}

/// A mesh file named in the scene, read once when the scene is resolved. Two are equal when they
/// read the same file with the same triangles (however the path was written).
#[derive(Clone, Debug, Serialize)]
#[serde(into = "PathBuf")]
pub struct MeshFile {
    /// The path as written in the scene (relative to the scene file's folder, or absolute).
    pub written: String,
    /// The path read (absolute): the resolved scene names it, so it loads again from anywhere.
    pub resolved: PathBuf,
    /// The triangles, in scene units, as stored in the file.
    pub mesh: std::sync::Arc<crate::meshfile::TriangleMesh>,
}

impl PartialEq for MeshFile {
    fn eq(&self, other: &MeshFile) -> bool {
        self.resolved == other.resolved && self.mesh == other.mesh
    }
}

impl From<MeshFile> for PathBuf {
    fn from(m: MeshFile) -> PathBuf {
        m.resolved
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CameraSpec {
    pub location: [f64; 3],
    pub look_at: [f64; 3],
    /// World direction that points up in the image.
    pub up: [f64; 3],
    /// Vertical field of view (Blender `sensor_fit = VERTICAL`).
    pub fov_y_deg: f64,
    pub near: f64,
    pub far: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Light {
    /// Sun rotation as Blender XYZ Euler angles; light travels along R·(0, 0, -1).
    pub sun_rotation_deg: [f64; 3],
    /// Sun irradiance (Blender W/m²): diffuse radiance = colour · strength · cos θ / π.
    pub sun_strength: f64,
    /// The sun's angular diameter (Blender's `angle`; default 0.526°): the width of shadow penumbras.
    pub sun_angle_deg: f64,
    /// Objects cast shadows from the sun.
    pub shadows: bool,
    /// The world colour (`image.background`) lights the scene from every direction the objects leave open.
    pub world_light: bool,
    /// Light bounced between surfaces (baked per scene, see `render::bake`).
    pub bounce: bool,
    /// Extra uniform light, not Blender's (0 = none): adds colour · ambient.
    pub ambient: f64,
}

/// One terminal's defect.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DefectSpec {
    pub pin: [u32; 2],
    pub dpos: [f64; 3],
    pub grad: [f64; 2],
    pub missing: bool,
    /// A bent terminal: `{ height, angle_deg, azimuth_deg }` (see [`conventions::Bend`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bend: Option<conventions::Bend>,
}

/// An explicitly listed image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Case {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defect: Option<DefectSpec>,
}

/// Train/val/test fractions (they sum to 1); see `dataset::split` for how images are assigned.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SplitSpec {
    pub train: f64,
    pub val: f64,
    pub test: f64,
}

/// Class balance of the layouts, per split.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BalanceSpec {
    /// Target OK images per NG image in every split; 0 = no balancing (every image is used).
    pub ok_per_ng: f64,
}

/// A validated scene with every default resolved.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scene {
    pub image: ImageSpec,
    pub layout: Layout,
    pub pin: PinStyle,
    pub housing: Housing,
    pub camera: CameraSpec,
    pub light: Light,
    pub split: SplitSpec,
    pub balance: BalanceSpec,
    #[serde(rename = "case", skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<Case>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
    #[serde(skip_serializing_if = "Randomize::is_off")]
    pub randomize: Randomize,
    /// Optional ground truth beyond the mask and keypoints (written to the resolved scene only when on).
    #[serde(skip_serializing_if = "TruthSpec::is_off")]
    pub truth: TruthSpec,
}

/// `[truth]`: optional ground truth, each off by default (`--truth depth,amodal` turns them on too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TruthSpec {
    /// `depth/<id>.tiff`: distance along the camera's view axis per pixel (float32, 0 = background).
    pub depth: bool,
    /// Each terminal's full silhouette ignoring occlusion (COCO RLE in the manifest and COCO's
    /// `amodal_segmentation`) and its visible fraction.
    pub amodal: bool,
}

impl TruthSpec {
    pub fn is_off(&self) -> bool {
        *self == TruthSpec::default()
    }
}

/// The names `--truth` takes, each a key of `[truth]`.
pub const TRUTH_KINDS: [&str; 2] = ["depth", "amodal"];

/// Limits, in one place so messages and docs agree.
pub const MAX_IMAGE_SIDE: i64 = 4096;
pub const MAX_DPOS: f64 = 10.0;
pub const MAX_GRAD_DEG: f64 = 90.0;
/// A bend turns by at most this much either way (degrees).
pub const MAX_BEND_DEG: f64 = 90.0;
/// A bend's height above the terminal's bottom: within the terminal (0 ..= its height).
pub const MAX_BEND_HEIGHT: f64 = 2.0 * conventions::PIN_HALF_HEIGHT;
/// A bend's azimuth, degrees (either way round).
pub const MAX_AZIMUTH_DEG: f64 = 360.0;
pub const MAX_SWEEP_COUNT: i64 = 100_000_000;
pub const MAX_OK_PER_NG: f64 = 1000.0;
/// How far the split fractions' sum may be from 1 (decimal fractions like 0.7 + 0.15 + 0.15 are not exact).
const SPLIT_SUM_TOLERANCE: f64 = 1e-9;

impl Scene {
    /// Reads, overrides (`--set key.path=value`) and validates a scene file.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Scene, SpecError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| SpecError::Read { path: path.to_path_buf(), source })?;
        Scene::parse(&text, path, overrides)
    }

    /// Like [`Scene::load`] for text already in memory; `path` only names it in messages.
    pub fn parse(text: &str, path: &Path, overrides: &[String]) -> Result<Scene, SpecError> {
        let mut table: Table = text.parse().map_err(|e: toml::de::Error| SpecError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        for assignment in overrides {
            apply_override(&mut table, assignment).map_err(|reason| SpecError::BadOverride {
                path: path.to_path_buf(),
                assignment: assignment.clone(),
                reason,
            })?;
        }
        let mut problems = Problems::default();
        let scene = read_scene(&table, path.parent().unwrap_or(Path::new("")), &mut problems);
        if problems.0.is_empty() {
            Ok(scene)
        } else {
            Err(SpecError::Invalid { path: path.to_path_buf(), problems: problems.0 })
        }
    }

    /// The resolved scene as TOML in the input schema, with a header naming the program version.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_else(|e| format!("# could not serialise the scene: {e}\n")); // ok: plain data always serialises
        format!(
            "# Resolved by pinsynth {}, seed {}: every default filled in. Loads again as a scene file.\n{body}",
            env!("CARGO_PKG_VERSION"),
            self.seed()
        )
    }

    /// The seed the scene's images are derived from (the sweep's, or 0).
    pub fn seed(&self) -> u64 {
        self.sweep.as_ref().map_or(0, |s| s.seed)
    }

    /// Number of images: cases first, then the sweep.
    pub fn image_count(&self) -> u64 {
        self.cases.len() as u64 + self.sweep.as_ref().map_or(0, |s| s.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scene, SpecError> {
        Scene::parse(text, Path::new("t.toml"), &[])
    }

    #[test]
    fn empty_file_gives_the_blender_defaults() {
        // An empty file renders nothing (refused); one image is enough to see every default.
        let s = parse("[[case]]\nname = \"a\"\n").unwrap();
        assert_eq!((s.image.width, s.image.height), (224, 224));
        assert_eq!(s.layout.kind, LayoutKind::Mixed);
        assert_eq!((s.layout.columns, s.layout.rows), (3, 9));
        assert_eq!(s.camera.location, [0.0, 0.0, 14.0]);
        assert_eq!(s.housing.size, [3.5, 9.5, 0.5]);
        assert_eq!(s.layout.terminals().count(), 27);
    }

    #[test]
    fn resolved_toml_loads_back_to_the_same_scene() {
        let s = parse("[layout]\nkind = \"pattern\"\npattern = [\"SR\", \".S\"]\n[split]\ntrain = 0.5\nval = 0.25\ntest = 0.25\n[balance]\nok_per_ng = 1.5\n[sweep]\ncount = 5\npins = [[0, 0]]\n[[case]]\nname = \"a\"\ndefect = { pin = [1, 1], grad = [3, 0] }\n").unwrap();
        let again = Scene::parse(&s.to_toml(), Path::new("r.toml"), &[]).unwrap();
        assert_eq!(s, again);
    }

    #[test]
    fn split_fractions_must_sum_to_one() {
        let e = parse("[split]\ntrain = 0.8\nval = 0.3\n").unwrap_err().to_string();
        assert!(e.contains("split = train 0.8 + val 0.3 + test 0.15 = 1.25: the fractions must sum to 1"), "{e}");
        let s = parse("[split]\ntrain = 0.6\nval = 0.2\ntest = 0.2\n[sweep]\n").unwrap();
        assert_eq!(s.split, SplitSpec { train: 0.6, val: 0.2, test: 0.2 });
    }

    #[test]
    fn overrides_take_toml_values_or_bare_strings() {
        let s = Scene::parse("[sweep]", Path::new("t.toml"), &["image.width=512".into(), "layout.kind=round".into()])
            .unwrap();
        assert_eq!(s.image.width, 512);
        assert_eq!(s.layout.kind, LayoutKind::Round);
    }

    #[test]
    fn a_scene_without_images_is_refused() {
        let e = parse("[layout]\nkind = \"square\"\n").unwrap_err().to_string();
        assert!(e.ends_with("- sweep.count: missing, expected images: the scene has no [sweep] and no [[case]], so it renders nothing; add [sweep] with count = N for N seeded random images (or --set sweep.count=100), or one [[case]] table per image"), "{e}");
        let e = parse("[sweep]\ncount = 0\n").unwrap_err().to_string();
        assert!(e.contains("sweep.count = 0: the scene renders no images"), "{e}");
        assert_eq!(parse("[sweep]\ncount = 0\n[[case]]\nname = \"a\"\n").unwrap().image_count(), 1);
    }

    /// Sizes, tips, mesh terminals and the shroud resolve and read back; the seed's values are not
    /// written, so an old scene's resolved file is unchanged.
    #[test]
    fn shapes_and_shroud_round_trip() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/x.toml");
        let text = "[layout]\nkind = \"pattern\"\npattern = [\"SPT\", \"RBS\"]\n\
                    [pin.square]\nwidth = 0.6\ntip = \"pointed\"\ntip_length = 0.4\n\
                    [pin.round]\nsegments = 6\ntip = \"chamfer\"\ntip_length = 0.05\n\
                    [pin.meshes]\nP = \"meshes/pressfit.stl\"\nB = \"meshes/blade.obj\"\n\
                    [housing]\nshape = \"shroud\"\nnotch = \"-y\"\nnotch_width = 0.5\n[sweep]\n";
        let s = Scene::parse(text, &dir, &[]).unwrap();
        assert_eq!(s.pin.square.tip, Tip { tip: TipStyle::Pointed, tip_length: Some(0.4) });
        assert_eq!((s.pin.round.segments, s.pin.triangle), (6, TriangleSize::SEED));
        assert_eq!(s.layout.mesh_letter_at(1, 0), Some('P'));
        assert_eq!(s.layout.kind_at(1, 1), Some(PinKind::Mesh));
        assert_eq!(s.pin.meshes["B"].mesh.triangles.len(), 18);
        let HousingShape::Shroud(sh) = s.housing.shape else { panic!("a shroud") };
        assert_eq!((sh.notch, sh.notch_width, sh.wall_height), (NotchSide::MinusY, 0.5, 1.0));
        let again = Scene::parse(&s.to_toml(), Path::new("r.toml"), &[]).unwrap();
        assert_eq!(s, again);
        let plain = parse("[sweep]\n").unwrap().to_toml();
        assert!(!plain.contains("[pin.") && !plain.contains("shape") && !plain.contains("tip"), "{plain}");
    }

    #[test]
    fn pattern_cells_select_kinds() {
        let s = parse("[layout]\nkind = \"pattern\"\npattern = [\"SR.\"]\n[sweep]\n").unwrap();
        let t: Vec<_> = s.layout.terminals().collect();
        assert_eq!(t, vec![(0, 0, PinKind::Square), (1, 0, PinKind::Round)]);
    }
}
