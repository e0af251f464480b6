"""mvtec/<category>/, held to the MVTec AD folder rules anomalib's MVTecAD datamodule applies:
train/good only (normal images), test/good + test/<defect type>/, and for every test/<type>/<stem>.png a
ground_truth/<type>/<stem>_mask.png with the same size, single channel, 0 normal / 255 anomalous.
Masks are compared with the manifest: the defective terminal's label in masks/ becomes 255 exactly;
a missing terminal's mask is non-empty and inside its projected box (bbox_px)."""
import math
from collections import Counter

import numpy as np
from PIL import Image

from common import check_counts, dataset_dir, done, in_layouts, instance_mask, manifest, pixels

root = dataset_dir()
records = manifest(root)
cat = root / "mvtec" / "connector"
assert sorted(p.name for p in cat.iterdir()) == ["ground_truth", "test", "train"], list(cat.iterdir())
assert [p.name for p in (cat / "train").iterdir()] == ["good"], "train holds only good images"

train = [r for r in in_layouts(records, "train") if r["label"] == "ok"]
test = in_layouts(records, "val") + in_layouts(records, "test")
check_counts("train/good", Counter(p.stem for p in (cat / "train/good").iterdir()), Counter(r["id"] for r in train))
want = Counter((r["defect"]["type"] if r["defect"] else "good", r["id"]) for r in test)
got = Counter((d.name, p.stem) for d in (cat / "test").iterdir() for p in d.iterdir())
check_counts("test", got, want)
types = {t for t, _ in want if t != "good"}
assert types <= {"offset", "tilt", "offset_tilt", "missing", "bent"}, types
assert {d.name for d in (cat / "ground_truth").iterdir()} == types

missing = 0
for r in test:
    if r["defect"] is None:
        assert not (cat / "ground_truth" / "good").exists()
        continue
    t = r["defect"]["type"]
    assert (pixels(cat / "test" / t / f"{r['id']}.png") == pixels(root / r["image"])).all()
    gt = Image.open(cat / "ground_truth" / t / f"{r['id']}_mask.png")
    assert gt.mode == "L" and gt.size == (r["width"], r["height"]), (gt.mode, gt.size)
    gt = np.asarray(gt)
    assert set(np.unique(gt)) <= {0, 255}, np.unique(gt)
    if r["defect"]["missing"]:
        missing += 1
        x, y, w, h = r["defect"]["bbox_px"]
        ys, xs = np.nonzero(gt)
        assert len(xs) > 0, f"{r['id']}: empty mask for a missing terminal"
        assert xs.min() >= math.floor(x) and xs.max() < math.ceil(x + w), r["id"]
        assert ys.min() >= math.floor(y) and ys.max() < math.ceil(y + h), r["id"]
    else:
        expected = np.where(instance_mask(root, r) == r["defect"]["label"], 255, 0)
        assert (gt == expected).all(), f"{r['id']}: ground truth differs from the defective terminal's pixels"
assert missing > 0, "the interop dataset should put a missing terminal into val/test"
done("mvtec", train_good=len(train), test=len(test), missing_masks=missing)
