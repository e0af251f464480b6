//! `coco/annotations/instances_<split>.json` + `coco/<split>/<id>.png`: COCO instance segmentation and
//! keypoints, as pycocotools reads them. Categories 1 `terminal` and 2 `defective_terminal`; one
//! annotation per terminal with visible pixels: compressed RLE segmentation (decodes to exactly the
//! mask's pixels of that terminal), tight `bbox` `[x, y, w, h]`, `area` = pixel count, `iscrowd` 0, and
//! keypoints `top`, `bottom` (projected face centres; visibility 2 when the mask shows the terminal
//! there, 1 when inside the image but hidden, 0 with coordinates 0 outside the image).
//!
//! Streaming: per split, the `images` and `annotations` arrays are written to two temporary part files
//! as records arrive; `finish` joins header, parts and footer into `instances_<split>.json.partial`
//! and renames it into place. Nothing holds more than one image's annotations.

use super::files::{PartialFile, create_dir, partial_name};
use super::rle::{counts_to_string, encode_counts};
use super::{LayoutWriter, Sample, Split, WriteError, link_or_copy};
use crate::truth::PinTruth;
use serde_json::json;
use std::path::{Path, PathBuf};

pub const TERMINAL: u64 = 1;
pub const DEFECTIVE_TERMINAL: u64 = 2;

struct SplitParts {
    images: PartialFile,
    annotations: PartialFile,
    n_images: u64,
    n_annotations: u64,
}

pub struct Coco {
    dir: PathBuf,
    parts: [Option<SplitParts>; 3],
}

impl Coco {
    pub fn create(root: &Path) -> Result<Coco, WriteError> {
        let dir = root.join("coco");
        create_dir(&dir.join("annotations"))?;
        Ok(Coco { dir, parts: [None, None, None] })
    }

    fn json_path(&self, split: Split) -> PathBuf {
        self.dir.join("annotations").join(format!("instances_{}.json", split.as_str()))
    }

    fn parts(&mut self, split: Split) -> Result<&mut SplitParts, WriteError> {
        let slot = split as usize;
        if self.parts[slot].is_none() {
            create_dir(&self.dir.join(split.as_str()))?;
            let json = self.json_path(split);
            let part = |name: &str| PartialFile::create(&partial_name(&json).with_extension(name));
            self.parts[slot] = Some(SplitParts {
                images: part("images")?,
                annotations: part("annotations")?,
                n_images: 0,
                n_annotations: 0,
            });
        }
        Ok(self.parts[slot].as_mut().expect("just set")) // ok: set above
    }
}

/// The categories, with the keypoint names and skeleton.
pub fn categories() -> serde_json::Value {
    let cat = |id: u64, name: &str| json!({"id": id, "name": name, "supercategory": "terminal", "keypoints": ["top", "bottom"], "skeleton": [[1, 2]]});
    json!([cat(TERMINAL, "terminal"), cat(DEFECTIVE_TERMINAL, "defective_terminal")])
}

/// One keypoint triple: visibility 2 where the mask shows the terminal, 1 hidden, 0 outside the image.
fn keypoint(p: [f64; 2], label: u8, mask: &[u8], width: u32, height: u32) -> [f64; 3] {
    let inside = p[0] >= 0.0 && p[1] >= 0.0 && p[0] < width as f64 && p[1] < height as f64;
    if !inside {
        return [0.0, 0.0, 0.0];
    }
    let under = mask[p[1].floor() as usize * width as usize + p[0].floor() as usize];
    [p[0], p[1], if under == label { 2.0 } else { 1.0 }]
}

/// The annotation of one visible terminal (None when it has no visible pixels).
pub fn annotation(
    pin: &PinTruth,
    mask: &[u8],
    width: u32,
    height: u32,
    id: u64,
    image_id: u64,
) -> Option<serde_json::Value> {
    let bbox = pin.bbox?;
    let counts = encode_counts(mask, width, height, |v| v == pin.label);
    let top = keypoint(pin.top_px, pin.label, mask, width, height);
    let bottom = keypoint(pin.bottom_px, pin.label, mask, width, height);
    let labelled = [top[2], bottom[2]].iter().filter(|v| **v > 0.0).count();
    let mut ann = json!({
        "id": id,
        "image_id": image_id,
        "category_id": if pin.defective { DEFECTIVE_TERMINAL } else { TERMINAL },
        "segmentation": {"size": [height, width], "counts": counts_to_string(&counts)},
        "area": pin.pixels,
        "bbox": bbox,
        "iscrowd": 0,
        "keypoints": [top[0], top[1], top[2], bottom[0], bottom[1], bottom[2]],
        "num_keypoints": labelled,
        "pin": [pin.x, pin.y],
        "label": pin.label,
    });
    // `[truth] amodal`: the full silhouette beside the visible one, and the visible share.
    if let (Some(rle), Some(area), Some(fraction)) = (&pin.amodal_rle, pin.amodal_pixels, pin.visible_fraction) {
        ann["amodal_segmentation"] = json!({"size": [height, width], "counts": rle});
        ann["amodal_area"] = json!(area);
        ann["visible_fraction"] = json!(fraction);
    }
    Some(ann)
}

impl LayoutWriter for Coco {
    fn name(&self) -> &'static str {
        "coco"
    }

    fn write(&mut self, sample: &Sample<'_>) -> Result<(), WriteError> {
        if !sample.in_layouts() {
            return Ok(());
        }
        let r = sample.record;
        let split = sample.split();
        let file_name = format!("{}.png", r.id);
        let dst = self.dir.join(split.as_str()).join(&file_name);
        let mask = sample.mask()?;
        let parts = self.parts(split)?;
        link_or_copy(&sample.image_path(), &dst)?;
        // COCO ids are positive: image id = index + 1.
        let image_id = r.index + 1;
        let image = json!({
            "id": image_id, "file_name": file_name, "width": r.width, "height": r.height,
            "label": r.label, "defect_type": r.defect_type(),
        });
        let sep = if parts.n_images == 0 { "" } else { ",\n" };
        parts.images.write(format!("{sep}{image}").as_bytes())?;
        parts.n_images += 1;
        for pin in &r.pins {
            let Some(ann) = annotation(pin, mask, r.width, r.height, parts.n_annotations + 1, image_id) else {
                continue;
            };
            let sep = if parts.n_annotations == 0 { "" } else { ",\n" };
            parts.annotations.write(format!("{sep}{ann}").as_bytes())?;
            parts.n_annotations += 1;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), WriteError> {
        for split in Split::ALL {
            let Some(parts) = self.parts[split as usize].take() else { continue };
            let path = self.json_path(split);
            let images = parts.images.flush_temp()?;
            let annotations = parts.annotations.flush_temp()?;
            let mut out = PartialFile::create(&path)?;
            let info = json!({"description": format!("pinsynth {} split", split.as_str()), "version": env!("CARGO_PKG_VERSION")});
            out.write(
                format!("{{\"info\": {info},\n\"licenses\": [],\n\"categories\": {},\n\"images\": [\n", categories())
                    .as_bytes(),
            )?;
            out.append_file(&images)?;
            out.write(b"\n],\n\"annotations\": [\n")?;
            out.append_file(&annotations)?;
            out.write(b"\n]}\n")?;
            out.commit()?;
            for p in [images, annotations] {
                std::fs::remove_file(&p).map_err(super::files::io_err("remove", &p))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conventions::PinKind;

    #[test]
    fn annotation_has_rle_box_area_and_keypoints() {
        #[rustfmt::skip]
        let mask = [
            0, 3, 3, 0,
            0, 3, 255, 0,
        ];
        let pin = PinTruth {
            label: 3,
            x: 0,
            y: 2,
            kind: PinKind::Square,
            mesh: None,
            defective: true,
            top_px: [1.5, 0.5],
            bottom_px: [2.5, 1.5],
            bbox: Some([1, 0, 2, 2]),
            pixels: 3,
            amodal_pixels: None,
            visible_fraction: None,
            amodal_rle: None,
        };
        let a = annotation(&pin, &mask, 4, 2, 7, 1).unwrap();
        assert_eq!(a["category_id"], 2);
        // Column-major: col 0 → 0 0, col 1 → 1 1, col 2 → 1 0, col 3 → 0 0: runs 2, 3, 3.
        assert_eq!(a["segmentation"], json!({"size": [2, 4], "counts": "233"}));
        assert_eq!(a["area"], 3);
        assert_eq!(a["bbox"], json!([1, 0, 2, 2]));
        assert_eq!(a["keypoints"], json!([1.5, 0.5, 2.0, 2.5, 1.5, 1.0]));
        assert_eq!(a["num_keypoints"], 2);
        let hidden = PinTruth { bbox: None, pixels: 0, ..pin };
        assert!(annotation(&hidden, &mask, 4, 2, 8, 1).is_none());
    }
}
