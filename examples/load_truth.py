# Depth maps and amodal masks ([truth] depth / amodal, or --truth depth,amodal) with Pillow and numpy.
# Usage: python examples/load_truth.py DATASET [--sheet OUT.png]
import json, sys
import numpy as np
from PIL import Image

def rle_decode(counts, h, w):
    """COCO compressed RLE string -> h x w uint8 mask (as pycocotools.mask.decode, without it)."""
    runs, i = [], 0
    while i < len(counts):
        x, k, more = 0, 0, True
        while more:
            c = ord(counts[i]) - 48; x |= (c & 0x1F) << 5 * k; more = c & 0x20; i += 1; k += 1
            if not more and c & 0x10: x |= -1 << 5 * k
        runs.append(x + (runs[-2] if len(runs) > 2 else 0))
    flat = np.repeat(np.arange(len(runs)) % 2, runs).astype(np.uint8)  # column-major
    return flat.reshape(w, h).T

root = sys.argv[1]
r = json.loads(open(f"{root}/manifest.jsonl").readline())
depth = np.asarray(Image.open(f"{root}/{r['depth']}"))          # float32, scene units, 0 = background
mask = np.asarray(Image.open(f"{root}/{r['mask']}"))
amodal = {p["label"]: rle_decode(p["amodal_rle"], r["height"], r["width"]) for p in r["pins"]}
assert depth.dtype == np.float32 and depth.shape == mask.shape
assert all(((mask == l) <= (m == 1)).all() for l, m in amodal.items()), "visible must lie inside amodal"
assert all(m.sum() == p["amodal_pixels"] for p, m in zip(r["pins"], amodal.values()))
hidden = min(r["pins"], key=lambda p: p["visible_fraction"])
print(r["id"], f"depth {depth[depth > 0].min():.3f}..{depth.max():.3f};",
      f"terminal {hidden['label']} is {hidden['visible_fraction']:.0%} visible")
if "--sheet" in sys.argv:  # image | depth (near = bright) | amodal silhouettes over the visible mask
    img = np.asarray(Image.open(f"{root}/{r['image']}").convert("RGB"))
    d = np.where(depth > 0, 1 - (depth - depth[depth > 0].min()) / np.ptp(depth[depth > 0]), 0)
    dimg = np.repeat((d * 255).astype(np.uint8)[..., None], 3, axis=2)
    a = np.zeros_like(img)
    for l, m in amodal.items():
        a[m == 1] = [60, 60, 160]
    a[(mask > 0) & (mask < 255)] = [120, 220, 220]
    a[amodal[hidden["label"]] == 1] = [240, 80, 80]
    Image.fromarray(np.concatenate([img, dimg, a], axis=1)).save(sys.argv[sys.argv.index("--sheet") + 1])
