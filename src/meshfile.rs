//! Mesh files (a housing or a terminal from CAD): STL (binary and ASCII), Wavefront OBJ and glTF 2.0
//! binary (`.glb`), read with the formats' maintained crates into one triangle list. Units are scene
//! units and coordinates are taken as they are (no transform, no recentring); a `.glb`'s node
//! transforms are applied, as any glTF viewer (and Blender's importer) does.
//!
//! Files are read once when the scene is resolved; every image reuses the triangles.

use std::path::{Path, PathBuf};

/// The most triangles one mesh file may have: far above a detailed connector housing (~10⁵), low
/// enough that a mistaken export (a scanned point cloud) fails early instead of exhausting memory.
pub const MAX_TRIANGLES: usize = 2_000_000;

/// The file extensions read, lower case.
pub const EXTENSIONS: [&str; 3] = ["stl", "obj", "glb"];

/// A triangle soup in scene units (corners as stored, winding as stored).
#[derive(Clone, Debug, PartialEq)]
pub struct TriangleMesh {
    pub triangles: Vec<[[f32; 3]; 3]>,
}

impl TriangleMesh {
    /// Smallest and largest corner coordinates.
    pub fn bounds(&self) -> ([f32; 3], [f32; 3]) {
        let mut lo = [f32::INFINITY; 3];
        let mut hi = [f32::NEG_INFINITY; 3];
        for p in self.triangles.iter().flatten() {
            for i in 0..3 {
                lo[i] = lo[i].min(p[i]);
                hi[i] = hi[i].max(p[i]);
            }
        }
        (lo, hi)
    }
}

/// Why a mesh file could not be used. The caller names the scene key; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum MeshFileError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid {format} file: {message}")]
    Parse { path: PathBuf, format: &'static str, message: String },
    #[error("{path}: unknown mesh format; use a file ending in .stl, .obj or .glb")]
    UnknownFormat { path: PathBuf },
    #[error("{path} has no triangles")]
    Empty { path: PathBuf },
    /// `triangle` counts from 1.
    #[error("{path}: triangle {triangle} of the file has a non-finite vertex coordinate ({value})")]
    NonFinite { path: PathBuf, triangle: usize, value: f32 },
    #[error("{path} has {count} triangles; at most {MAX_TRIANGLES} are allowed")]
    TooMany { path: PathBuf, count: usize },
}

/// Reads a mesh file, its format chosen by the extension (case-insensitive).
pub fn load(path: &Path) -> Result<TriangleMesh, MeshFileError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    let read = || std::fs::read(path).map_err(|source| MeshFileError::Read { path: path.to_path_buf(), source });
    let parse =
        |format: &'static str, message: String| MeshFileError::Parse { path: path.to_path_buf(), format, message };
    let triangles = match ext.as_str() {
        "stl" => {
            let bytes = read()?;
            // A binary STL declares its triangle count in bytes 80..84 and then has 50 bytes per
            // triangle: refuse an absurd or wrong count before stl_io allocates for it.
            if bytes.len() >= 84 && !bytes.starts_with(b"solid") {
                let count = u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]) as usize;
                if count > MAX_TRIANGLES {
                    return Err(MeshFileError::TooMany { path: path.to_path_buf(), count });
                }
                if bytes.len() < 84 + 50 * count {
                    let message = format!(
                        "binary STL of {count} triangles needs {} bytes, the file has {}",
                        84 + 50 * count,
                        bytes.len()
                    );
                    return Err(parse("STL", message));
                }
            }
            stl_triangles(&bytes).map_err(|e| parse("STL", e))?
        }
        "obj" => {
            let bytes = read()?;
            obj_triangles(&bytes).map_err(|e| parse("OBJ", e))?
        }
        "glb" => {
            let bytes = read()?;
            if !bytes.starts_with(b"glTF") {
                return Err(parse("glTF binary (.glb)", "it does not start with the glb magic bytes `glTF`".into()));
            }
            glb_triangles(&bytes).map_err(|e| parse("glTF binary (.glb)", e))?
        }
        _ => return Err(MeshFileError::UnknownFormat { path: path.to_path_buf() }),
    };
    check(path, TriangleMesh { triangles })
}

fn check(path: &Path, mesh: TriangleMesh) -> Result<TriangleMesh, MeshFileError> {
    let path = || path.to_path_buf();
    if mesh.triangles.is_empty() {
        return Err(MeshFileError::Empty { path: path() });
    }
    if mesh.triangles.len() > MAX_TRIANGLES {
        return Err(MeshFileError::TooMany { path: path(), count: mesh.triangles.len() });
    }
    for (i, t) in mesh.triangles.iter().enumerate() {
        if let Some(&value) = t.iter().flatten().find(|v| !v.is_finite()) {
            return Err(MeshFileError::NonFinite { path: path(), triangle: i + 1, value });
        }
    }
    Ok(mesh)
}

/// Binary or ASCII STL (stl_io tells them apart). The stored normals are ignored: the renderer
/// computes flat normals from the corners, as Blender's importer does.
fn stl_triangles(bytes: &[u8]) -> Result<Vec<[[f32; 3]; 3]>, String> {
    let mut cursor = std::io::Cursor::new(bytes);
    let mesh = stl_io::read_stl(&mut cursor).map_err(|e| e.to_string())?;
    let v = &mesh.vertices;
    mesh.faces
        .iter()
        .map(|f| {
            let corner = |k: usize| v.get(f.vertices[k]).map(|p| [p[0], p[1], p[2]]).ok_or("vertex index out of range");
            Ok([corner(0)?, corner(1)?, corner(2)?])
        })
        .collect::<Result<_, &str>>()
        .map_err(str::to_string)
}

/// Wavefront OBJ: every object and group, polygons triangulated as fans.
fn obj_triangles(bytes: &[u8]) -> Result<Vec<[[f32; 3]; 3]>, String> {
    let options = tobj::LoadOptions { triangulate: true, single_index: false, ..Default::default() };
    let mut reader = std::io::BufReader::new(bytes);
    // Materials are not used: every mesh takes the scene's colour.
    let (models, _) =
        tobj::load_obj_buf(&mut reader, &options, |_| Ok(Default::default())).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for m in &models {
        let p = &m.mesh.positions;
        let corner = |i: u32| -> Result<[f32; 3], String> {
            let i = i as usize * 3;
            p.get(i..i + 3)
                .map(|c| [c[0], c[1], c[2]])
                .ok_or_else(|| format!("vertex index {} out of range", i / 3 + 1))
        };
        for t in m.mesh.indices.chunks_exact(3) {
            out.push([corner(t[0])?, corner(t[1])?, corner(t[2])?]);
        }
    }
    Ok(out)
}

/// glTF 2.0 binary: every triangle primitive of every mesh reachable from the default scene (or
/// all scenes when none is default), with its nodes' transforms applied.
fn glb_triangles(bytes: &[u8]) -> Result<Vec<[[f32; 3]; 3]>, String> {
    let gltf = gltf::Gltf::from_slice(bytes).map_err(|e| e.to_string())?;
    let blob = gltf.blob.as_deref();
    let mut out = Vec::new();
    let mut stack: Vec<(gltf::Node<'_>, glam::Mat4)> = match gltf.default_scene() {
        Some(s) => s.nodes().map(|n| (n, glam::Mat4::IDENTITY)).collect(),
        None => gltf.scenes().flat_map(|s| s.nodes()).map(|n| (n, glam::Mat4::IDENTITY)).collect(),
    };
    while let Some((node, parent)) = stack.pop() {
        let world = parent * glam::Mat4::from_cols_array_2d(&node.transform().matrix());
        if let Some(mesh) = node.mesh() {
            for prim in mesh.primitives() {
                if prim.mode() != gltf::mesh::Mode::Triangles {
                    return Err(format!("primitive mode {:?} (only triangles are read)", prim.mode()));
                }
                let reader = prim.reader(|b| match b.source() {
                    gltf::buffer::Source::Bin => blob,
                    gltf::buffer::Source::Uri(_) => None,
                });
                let positions: Vec<[f32; 3]> = reader
                    .read_positions()
                    .ok_or("a primitive without POSITION data in the file's binary chunk")?
                    .map(|p| world.transform_point3(glam::Vec3::from(p)).to_array())
                    .collect();
                let indices: Vec<u32> = match reader.read_indices() {
                    Some(i) => i.into_u32().collect(),
                    None => (0..positions.len() as u32).collect(),
                };
                for t in indices.chunks_exact(3) {
                    let corner =
                        |i: u32| positions.get(i as usize).copied().ok_or(format!("vertex index {i} out of range"));
                    out.push([corner(t[0])?, corner(t[1])?, corner(t[2])?]);
                }
            }
        }
        stack.extend(node.children().map(|c| (c, world)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/meshes").join(name)
    }

    /// The four files of the test shroud hold the same triangles (make_meshes.py writes them).
    #[test]
    fn every_format_reads_the_same_triangles() {
        let stl = load(&data("shroud.stl")).unwrap();
        assert_eq!(stl.triangles.len(), 5 * 12 + 8);
        assert_eq!(stl.bounds(), ([-2.0, -5.0, -1.25], [2.75, 5.0, 0.0]));
        let sorted = |m: TriangleMesh| {
            let mut t: Vec<[[u32; 3]; 3]> = m.triangles.iter().map(|t| t.map(|p| p.map(f32::to_bits))).collect();
            t.sort();
            t
        };
        let want = sorted(stl);
        for f in ["shroud_ascii.stl", "shroud.obj", "shroud.glb"] {
            assert_eq!(sorted(load(&data(f)).unwrap()), want, "{f}");
        }
    }
}
