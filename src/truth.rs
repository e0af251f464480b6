//! Ground truth of one image: the manifest record, built from the posed geometry (projected face
//! centres, continuous pixel coordinates) and the rendered mask (visible pixels and boxes).

pub mod amodal;
pub mod depth;
pub mod raster;

use crate::conventions::DefectType;
use crate::conventions::{self, PinKind};
use crate::geometry::{Posed, PosedPin};
use crate::params::ImageParams;
use crate::render::Pixels;
use crate::render::polygon::convex_hull;
use crate::split::Split;
use glam::{DVec2, DVec3};
use serde::{Deserialize, Serialize};

/// One terminal present in the image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PinTruth {
    pub label: u8,
    pub x: u32,
    pub y: u32,
    pub kind: PinKind,
    /// The pattern letter of a mesh terminal (`[pin.meshes]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh: Option<char>,
    /// Whether this is the defective terminal.
    pub defective: bool,
    /// Projected top-face centre: continuous pixel coordinates, origin at the top-left corner.
    pub top_px: [f64; 2],
    /// Projected bottom-face centre (usually hidden by the housing).
    pub bottom_px: [f64; 2],
    /// Tight box of the terminal's visible mask pixels, `[x, y, w, h]`; None when fully hidden.
    pub bbox: Option<[u32; 4]>,
    /// Number of visible pixels in the mask.
    pub pixels: u64,
    /// `[truth] amodal`: pixels of the terminal's full silhouette, ignoring occlusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amodal_pixels: Option<u64>,
    /// `[truth] amodal`: visible pixels / amodal pixels (0 when the silhouette is empty, e.g. outside
    /// the image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_fraction: Option<f64>,
    /// `[truth] amodal`: the full silhouette as compressed COCO RLE (column-major runs, the string form
    /// pycocotools' `mask.decode({"size": [h, w], "counts": …})` reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amodal_rle: Option<String>,
}

/// The defect of an NG image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DefectTruth {
    #[serde(rename = "type")]
    pub defect_type: DefectType,
    pub pin: [u32; 2],
    pub label: u8,
    pub kind: PinKind,
    /// The pattern letter of a mesh terminal (`[pin.meshes]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh: Option<char>,
    pub dpos: [f64; 3],
    pub grad: [f64; 2],
    pub missing: bool,
    /// A bent terminal's bend (`{height, angle_deg, azimuth_deg}`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bend: Option<conventions::Bend>,
    /// Bounding box (`[x, y, w, h]`, continuous pixels) of the projected corners of the terminal as it
    /// stands, or for a missing terminal, as it would stand.
    pub bbox_px: [f64; 4],
    /// For a missing terminal: the outline (convex polygon, continuous pixels) it would cover in the
    /// image, from its top face down to where it enters the housing. The MVTec masks fill it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ghost_px: Option<Vec<[f64; 2]>>,
}

/// One line of `manifest.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub index: u64,
    pub label: String,
    pub image: String,
    pub mask: String,
    pub width: u32,
    pub height: u32,
    pub seed: u64,
    pub defect: Option<DefectTruth>,
    pub pins: Vec<PinTruth>,
    /// train, val or test, from the scene's `[split]`.
    pub split: Split,
    /// Left out of every layout by the scene's `[balance]` (still in images/ and the manifest).
    pub excluded: bool,
    /// `[truth] depth`: the depth map's path, `depth/<id>.tiff`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<String>,
    /// The domain-randomized values this image was rendered with; absent when nothing is randomized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub randomize: Option<crate::randomize::Sampled>,
}

impl Record {
    pub fn is_ok(&self) -> bool {
        self.defect.is_none()
    }

    /// The record as one manifest line (no newline): the bytes `manifest.jsonl`, the WebDataset
    /// `.json` member and a resumed run's journal check all use.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// The defect type's name, or None for an OK image.
    pub fn defect_type(&self) -> Option<&'static str> {
        self.defect.as_ref().map(|d| d.defect_type.as_str())
    }
}

use conventions::round6 as r6;

fn px(p: DVec2) -> [f64; 2] {
    [r6(p.x), r6(p.y)]
}

/// Per-label pixel counts and extents of a mask, in one pass.
pub struct MaskStats {
    pub count: [u64; 256],
    /// min x, min y, max x, max y per label.
    pub extent: [[u32; 4]; 256],
}

impl MaskStats {
    /// Walks each row as runs of equal labels (a mask row is a few long runs): one update per run
    /// instead of per pixel, the same counts and extents.
    pub fn of(mask: &[u8], width: u32) -> MaskStats {
        let mut count = [0u64; 256];
        let mut extent = [[u32::MAX, u32::MAX, 0, 0]; 256];
        for (y, row) in mask.chunks_exact(width as usize).enumerate() {
            let y = y as u32;
            let mut start = 0;
            while start < row.len() {
                let l = row[start];
                let end = start + run_length(&row[start..], l);
                let e = &mut extent[l as usize];
                count[l as usize] += (end - start) as u64;
                e[0] = e[0].min(start as u32);
                e[1] = e[1].min(y);
                e[2] = e[2].max(end as u32 - 1);
                e[3] = e[3].max(y);
                start = end;
            }
        }
        MaskStats { count, extent }
    }

    pub fn bbox(&self, label: u8) -> Option<[u32; 4]> {
        let e = self.extent[label as usize];
        (self.count[label as usize] > 0).then(|| [e[0], e[1], e[2] - e[0] + 1, e[3] - e[1] + 1])
    }
}

/// How many bytes `row` starts with that equal `l`, eight at a time (a mask row is a few long runs).
fn run_length(row: &[u8], l: u8) -> usize {
    let splat = u64::from_le_bytes([l; 8]);
    let mut n = 0;
    let (chunks, rest) = row.as_chunks::<8>();
    for c in chunks {
        let diff = u64::from_le_bytes(*c) ^ splat;
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + rest.iter().position(|&m| m != l).unwrap_or(rest.len())
}

fn projected_bbox(posed: &Posed, pin: &PosedPin) -> [f64; 4] {
    let pts: Vec<DVec2> = pin.corners().iter().map(|c| posed.camera.project(*c).0).collect();
    let min = pts.iter().fold(DVec2::INFINITY, |a, p| a.min(*p));
    let max = pts.iter().fold(DVec2::NEG_INFINITY, |a, p| a.max(*p));
    [r6(min.x), r6(min.y), r6(max.x - min.x), r6(max.y - min.y)]
}

/// The outline a terminal would cover in the image: the convex hull of its projected outline at the
/// top face and where it enters the housing (z clipped to the housing's top when the housing is under
/// it). Both solids are convex prisms, so the hull is exactly their silhouette; only occlusion by
/// neighbours is not taken into account.
fn ghost_outline(posed: &Posed, pin: &PosedPin) -> Vec<[f64; 2]> {
    let (min, max) = pin.shape.bounds;
    let centre = pin.transform.transform_point3(DVec3::ZERO);
    // The housing's first box (the box, or a shroud's base) under the terminal's centre.
    let low = posed
        .housing
        .first()
        .map(|o| (o.rigid.transform_point3(DVec3::ZERO), o.half_extents))
        .filter(|(c, e)| (centre.x - c.x).abs() <= e.x && (centre.y - c.y).abs() <= e.y)
        .map_or(min.z, |(c, e)| (c.z + e.z - centre.z).clamp(min.z, max.z));
    let pts: Vec<DVec2> = pin
        .shape
        .points_above(low)
        .into_iter()
        .map(|p| posed.camera.project(pin.transform.transform_point3(p)).0)
        .collect();
    convex_hull(pts).into_iter().map(px).collect()
}

/// Paths of an image's files inside the dataset.
pub fn image_path(id: &str) -> String {
    format!("images/{id}.png")
}

pub fn mask_path(id: &str) -> String {
    format!("masks/{id}.png")
}

pub fn depth_path(id: &str) -> String {
    format!("depth/{id}.tiff")
}

/// Builds the manifest record of one rendered image; `amodal` (one per terminal present, in
/// `posed.pins` order) when `[truth] amodal` is on, `depth` when `[truth] depth` is.
pub fn record(
    params: &ImageParams,
    posed: &Posed,
    pixels: &Pixels,
    amodal: Option<&[amodal::AmodalMask]>,
    depth: bool,
) -> Record {
    let stats = MaskStats::of(&pixels.mask, pixels.width);
    let pins = posed
        .pins
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (top, bottom) = p.face_centres();
            let a = amodal.and_then(|a| a.get(i));
            let visible = stats.count[p.label as usize];
            PinTruth {
                amodal_pixels: a.map(|a| a.pixels),
                visible_fraction: a.map(|a| if a.pixels > 0 { r6(visible as f64 / a.pixels as f64) } else { 0.0 }),
                amodal_rle: a.map(|a| a.rle(pixels.width, pixels.height)),
                label: p.label,
                x: p.x,
                y: p.y,
                kind: p.kind,
                mesh: p.letter(),
                defective: p.defective,
                top_px: px(posed.camera.project(top).0),
                bottom_px: px(posed.camera.project(bottom).0),
                bbox: stats.bbox(p.label),
                pixels: stats.count[p.label as usize],
            }
        })
        .collect();
    let defect = params.defect.as_ref().map(|d| {
        let standing = posed.pins.iter().find(|p| p.defective).or(posed.nominal_defect_pin.as_ref());
        DefectTruth {
            defect_type: d.defect_type(),
            pin: d.pin,
            label: posed.nominal_defect_pin.as_ref().map_or(0, |p| p.label),
            kind: d.kind,
            mesh: posed.nominal_defect_pin.as_ref().and_then(|p| p.letter()),
            dpos: d.dpos,
            grad: d.grad,
            missing: d.missing,
            bend: d.bend,
            bbox_px: standing.map_or([0.0; 4], |p| projected_bbox(posed, p)),
            ghost_px: d.missing.then(|| posed.nominal_defect_pin.as_ref().map(|p| ghost_outline(posed, p))).flatten(),
        }
    });
    Record {
        label: if defect.is_some() { "ng" } else { "ok" }.to_string(),
        image: image_path(&params.id),
        mask: mask_path(&params.id),
        id: params.id.clone(),
        index: params.index,
        width: pixels.width,
        height: pixels.height,
        seed: params.seed,
        defect,
        pins,
        split: params.split,
        excluded: params.excluded,
        depth: depth.then(|| depth_path(&params.id)),
        randomize: params.randomize.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_stats_boxes_are_tight_and_inclusive() {
        #[rustfmt::skip]
        let mask = [
            0, 0, 0, 0,
            0, 7, 7, 0,
            0, 0, 7, 0,
        ];
        let s = MaskStats::of(&mask, 4);
        assert_eq!(s.count[7], 3);
        assert_eq!(s.bbox(7), Some([1, 1, 2, 2]));
        assert_eq!(s.bbox(9), None);
        assert_eq!(s.count[0], 9);
    }

    /// Runs of equal labels give what counting every pixel gives (a pseudo-random mask with runs of 1-40,
    /// rows of 37: runs found eight bytes at a time, and the rest).
    #[test]
    fn mask_stats_by_runs_equal_the_per_pixel_definition() {
        let (w, h) = (37u32, 23u32);
        let mut state = 12345u32;
        let mut mask = Vec::new();
        while mask.len() < (w * h) as usize {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let (label, run) = ((state >> 16) % 5 * 60, (state >> 8) % 40 + 1);
            mask.extend(std::iter::repeat_n(label as u8, run as usize));
        }
        mask.truncate((w * h) as usize);
        let s = MaskStats::of(&mask, w);
        for label in 0..=255u8 {
            let at: Vec<(u32, u32)> =
                (0..w * h).filter(|&i| mask[i as usize] == label).map(|i| (i % w, i / w)).collect();
            assert_eq!(s.count[label as usize], at.len() as u64, "label {label}");
            let bbox = (!at.is_empty()).then(|| {
                let (x0, y0) = (at.iter().map(|p| p.0).min().unwrap_or(0), at.iter().map(|p| p.1).min().unwrap_or(0));
                let (x1, y1) = (at.iter().map(|p| p.0).max().unwrap_or(0), at.iter().map(|p| p.1).max().unwrap_or(0));
                [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
            });
            assert_eq!(s.bbox(label), bbox, "label {label}");
        }
    }
}
