"""--truth depth,amodal loaded with the real libraries: every depth/<id>.tiff opens with Pillow as mode "F"
(float32) at the image's size, 0 exactly on the mask's background (up to rasteriser ties); every amodal
mask decodes with pycocotools (the manifest's amodal_rle and COCO's amodal_segmentation, equal), holds
the visible mask (instance mask == label), has amodal_pixels pixels and the visible fraction."""
import numpy as np
from PIL import Image
from pycocotools import mask as mask_util
from pycocotools.coco import COCO

from common import SPLITS, dataset_dir, done, in_layouts, instance_mask, manifest

root = dataset_dir()
records = manifest(root)
occluded = 0
for r in records:
    depth_img = Image.open(root / r["depth"])
    assert depth_img.mode == "F", depth_img.mode
    depth = np.asarray(depth_img)
    assert depth.dtype == np.float32 and depth.shape == (r["height"], r["width"]), depth.shape
    mask = instance_mask(root, r)
    assert ((depth == 0) != (mask == 0)).sum() <= 3, r["id"]
    assert (depth[mask > 0] > 0).all() and np.isfinite(depth).all(), r["id"]
    for p in r["pins"]:
        m = mask_util.decode({"size": [r["height"], r["width"]], "counts": p["amodal_rle"]})
        assert int(m.sum()) == p["amodal_pixels"], (r["id"], p["label"])
        assert not ((mask == p["label"]) & (m == 0)).any(), f"{r['id']} {p['label']}: visible outside amodal"
        assert abs(p["visible_fraction"] - p["pixels"] / max(p["amodal_pixels"], 1)) < 1e-6
        occluded += p["visible_fraction"] < 1
n_ann = 0
for split in SPLITS:
    want = {r["index"] + 1: r for r in in_layouts(records, split)}
    if not want:
        continue
    coco = COCO(str(root / "coco" / "annotations" / f"instances_{split}.json"))
    for a in coco.loadAnns(coco.getAnnIds()):
        pin = next(p for p in want[a["image_id"]]["pins"] if p["label"] == a["label"])
        assert a["amodal_segmentation"]["counts"] == pin["amodal_rle"]
        assert a["amodal_area"] == pin["amodal_pixels"] and a["visible_fraction"] == pin["visible_fraction"]
        full = mask_util.decode(a["amodal_segmentation"])
        assert (coco.annToMask(a) <= full).all(), a["id"]
        n_ann += 1
assert occluded > 0, "no terminal is partly hidden"
done("truth", images=len(records), annotations=n_ann, occluded_terminals=occluded)
