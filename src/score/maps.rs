//! Heat maps on disk: `DIR/<id>.npy` (2-D float32/float64, C or Fortran order, either byte order) or
//! `DIR/<id>.png` (8- or 16-bit grayscale, raw values 0..255 / 0..65535), read into a row-major
//! `f64` grid. Non-finite values are refused (naming the file and the element).

use super::ScoreError;
use std::path::{Path, PathBuf};

/// A 2-D map, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f64>,
}

impl Map {
    pub fn new(width: usize, height: usize, values: Vec<f64>) -> Map {
        assert_eq!(values.len(), width * height, "map size"); // ok: internal invariant
        Map { width, height, values }
    }
}

/// The map file of image `id` in `dir`: None when there is none; an error when both a `.npy` and a
/// `.png` exist (which one was meant cannot be guessed).
pub fn find(dir: &Path, id: &str) -> Result<Option<PathBuf>, ScoreError> {
    let npy = dir.join(format!("{id}.npy"));
    let png = dir.join(format!("{id}.png"));
    match (npy.is_file(), png.is_file()) {
        (true, true) => Err(ScoreError::AmbiguousMap { npy, png }),
        (true, false) => Ok(Some(npy)),
        (false, true) => Ok(Some(png)),
        (false, false) => Ok(None),
    }
}

/// Reads a map file (by extension), checks it is 2-D, non-empty and finite.
pub fn load(path: &Path) -> Result<Map, ScoreError> {
    let map = match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => load_npy(path)?,
        Some("png") => load_png(path)?,
        _ => {
            return Err(ScoreError::BadMap { path: path.to_path_buf(), reason: "expected a .npy or .png file".into() });
        }
    };
    if map.width == 0 || map.height == 0 {
        return Err(ScoreError::BadMap {
            path: path.to_path_buf(),
            reason: format!("empty map ({} × {})", map.width, map.height),
        });
    }
    if let Some(i) = map.values.iter().position(|v| !v.is_finite()) {
        return Err(ScoreError::BadMap {
            path: path.to_path_buf(),
            reason: format!("non-finite value {} at row {}, column {}", map.values[i], i / map.width, i % map.width),
        });
    }
    Ok(map)
}

fn load_npy(path: &Path) -> Result<Map, ScoreError> {
    let bad = |reason: String| ScoreError::BadMap { path: path.to_path_buf(), reason };
    let file =
        std::fs::File::open(path).map_err(|source| ScoreError::Io { action: "open", path: path.into(), source })?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file)).map_err(|e| bad(format!("not a .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    let [h, w] = shape[..] else {
        return Err(bad(format!("must be a 2-D array (height × width), found shape {shape:?}")));
    };
    let fortran = npy.order() == npyz::Order::Fortran;
    let dtype = npy.dtype();
    let float_size = match &dtype {
        npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float => Some(t.size_field()),
        _ => None,
    };
    let values: Vec<f64> = match float_size {
        Some(4) => npy.into_vec::<f32>().map_err(|e| bad(e.to_string()))?.into_iter().map(f64::from).collect(),
        Some(8) => npy.into_vec::<f64>().map_err(|e| bad(e.to_string()))?,
        _ => return Err(bad(format!("must hold float32 or float64 values, found dtype {}", dtype.descr()))),
    };
    let (w, h) = (w as usize, h as usize);
    if values.len() != w * h {
        return Err(bad(format!("holds {} values for shape {shape:?}", values.len())));
    }
    let values = if fortran {
        // Column-major on disk: element (row r, column c) is at c·h + r.
        (0..h).flat_map(|r| (0..w).map(move |c| (r, c))).map(|(r, c)| values[c * h + r]).collect()
    } else {
        values
    };
    Ok(Map::new(w, h, values))
}

fn load_png(path: &Path) -> Result<Map, ScoreError> {
    let bad = |reason: String| ScoreError::BadMap { path: path.to_path_buf(), reason };
    let img = image::ImageReader::open(path)
        .map_err(|source| ScoreError::Io { action: "open", path: path.into(), source })?
        .with_guessed_format()
        .map_err(|source| ScoreError::Io { action: "read", path: path.into(), source })?
        .decode()
        .map_err(|e| bad(format!("cannot decode: {e}")))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let values = match img {
        image::DynamicImage::ImageLuma8(g) => g.into_raw().into_iter().map(f64::from).collect(),
        image::DynamicImage::ImageLuma16(g) => g.into_raw().into_iter().map(f64::from).collect(),
        other => {
            return Err(bad(format!("must be 8- or 16-bit grayscale, found {:?}", other.color())));
        }
    };
    Ok(Map::new(w, h, values))
}

/// Bilinear resampling to `width × height` with the half-pixel-centre convention of
/// `torch.nn.functional.interpolate(mode="bilinear", align_corners=False)` and OpenCV's
/// `cv2.resize(..., interpolation=cv2.INTER_LINEAR)`: output pixel (i, j) samples the source at
/// `x = (i + 0.5)·w_in/w_out − 0.5`, `y = (j + 0.5)·h_in/h_out − 0.5`, each clamped to
/// `[0, w_in − 1]` / `[0, h_in − 1]` (edge pixels repeat), interpolating linearly between the four
/// nearest source pixels. No anti-aliasing when shrinking. A map of the image's size is returned as is.
pub fn resample(map: &Map, width: usize, height: usize) -> Map {
    if map.width == width && map.height == height {
        return map.clone();
    }
    let taps = |n_out: usize, n_in: usize| -> Vec<(usize, usize, f64)> {
        let scale = n_in as f64 / n_out as f64;
        (0..n_out)
            .map(|i| {
                let s = ((i as f64 + 0.5) * scale - 0.5).clamp(0.0, (n_in - 1) as f64);
                let i0 = s.floor() as usize;
                let i1 = (i0 + 1).min(n_in - 1);
                (i0, i1, s - i0 as f64)
            })
            .collect()
    };
    let xs = taps(width, map.width);
    let ys = taps(height, map.height);
    let v = |x: usize, y: usize| map.values[y * map.width + x];
    let mut out = Vec::with_capacity(width * height);
    for &(y0, y1, fy) in &ys {
        for &(x0, x1, fx) in &xs {
            let top = v(x0, y0) * (1.0 - fx) + v(x1, y0) * fx;
            let bottom = v(x0, y1) * (1.0 - fx) + v(x1, y1) * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    Map::new(width, height, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resample_identity_and_half_pixel_centres() {
        let m = Map::new(2, 1, vec![0.0, 1.0]);
        assert_eq!(resample(&m, 2, 1), m);
        // 2 → 4: centres at x = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
        let r = resample(&m, 4, 1);
        assert_eq!(r.values, vec![0.0, 0.25, 0.75, 1.0]);
        // 4 → 2 samples at x = 0.5 and 2.5: averages of neighbours.
        let m4 = Map::new(4, 1, vec![0.0, 2.0, 4.0, 8.0]);
        assert_eq!(resample(&m4, 2, 1).values, vec![1.0, 6.0]);
        // Vertical the same way, a 1×1 map fills the image.
        let one = Map::new(1, 1, vec![3.0]);
        assert_eq!(resample(&one, 3, 2).values, vec![3.0; 6]);
    }
}
