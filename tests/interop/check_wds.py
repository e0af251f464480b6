"""wds/<split>-NNNNNN.tar read with webdataset: every sample of the split once, in index order, with
image, mask, record and class equal to the dataset's files and manifest."""
import io

import numpy as np
import webdataset as wds
from PIL import Image

from common import SPLITS, dataset_dir, done, in_layouts, instance_mask, manifest

root = dataset_dir()
records = manifest(root)
total = 0
keys = []
for split in SPLITS:
    want = in_layouts(records, split)
    shards = sorted(str(p) for p in (root / "wds").glob(f"{split}-*.tar"))
    if not want:
        assert not shards, shards
        continue
    assert shards[0].endswith(f"{split}-000000.tar"), shards
    # decode() with no image handler: json and cls are decoded, images stay the PNG bytes.
    ds = wds.WebDataset(shards, shardshuffle=False).decode()
    got = list(ds)
    # The key is the id with dots as `_`, in full: ids of up to 128 characters (GNU long names in the tar).
    assert [s["__key__"] for s in got] == [r["id"].replace(".", "_") for r in want], split
    for s, r in zip(got, want):
        assert sorted(k for k in s if not k.startswith("__")) == ["cls", "json", "mask.png", "png"], s.keys()
        assert s["cls"] == (0 if r["label"] == "ok" else 1)
        assert s["json"] == r, r["id"]
        assert s["png"] == (root / r["image"]).read_bytes(), r["id"]
        assert s["mask.png"] == (root / r["mask"]).read_bytes(), r["id"]
        assert (np.asarray(Image.open(io.BytesIO(s["mask.png"]))) == instance_mask(root, r)).all(), r["id"]
    total += len(got)
    keys += [s["__key__"] for s in got]
assert "L" * 128 in keys and "v1_2" in keys, "the 128-character id and the dotted id are in the shards"
done("wds", samples=total)
