"""Cross-check of `pinsynth score` against independent implementations on the same maps: Quantus 0.6
(PointingGame, RelevanceMassAccuracy, RelevanceRankAccuracy, AUC) and scikit-learn's roc_auc_score.
Maps are read with numpy / Pillow and resized with OpenCV (cv2.resize, INTER_LINEAR: the convention
the README states); regions come from the instance masks (mask == defect label) and, for a missing
terminal, from matplotlib's point-in-polygon test on `defect.ghost_px` at pixel centres.

Where the metric's value depends on how ties are broken (a maximum shared by several pixels, or the
K-th highest value shared), Quantus' choice is arbitrary and pinsynth counts ties pro rata: those
images are left out of that metric's comparison, and at least 80 % of the images must be compared.

usage: score_quantus.py DATASET MAPS_DIR SCORE_JSON
"""
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import quantus
from matplotlib.path import Path as Polygon
from PIL import Image
from scipy import ndimage
from sklearn.metrics import roc_auc_score

dataset, maps, score_json = (Path(a) for a in sys.argv[1:4])
records = [json.loads(l) for l in (dataset / "manifest.jsonl").read_text().splitlines() if l.strip()]
score = json.loads(score_json.read_text())
per_image = {e["id"]: e for e in score["per_image"]}
tolerance = score["tolerance"]


def load_map(rid, w, h):
    npy, png = maps / f"{rid}.npy", maps / f"{rid}.png"
    if npy.exists():
        a = np.load(npy).astype(np.float64)
    elif png.exists():
        a = np.asarray(Image.open(png)).astype(np.float64)
    else:
        return None
    assert a.ndim == 2, (rid, a.shape)
    if a.shape != (h, w):
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.maximum(a, 0.0)


def pixel_centres(w, h):
    ys, xs = np.mgrid[0:h, 0:w]
    return np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], axis=1)


def region_of(r):
    w, h, d = r["width"], r["height"], r["defect"]
    if d.get("ghost_px"):
        return Polygon(d["ghost_px"]).contains_points(pixel_centres(w, h), radius=1e-9).reshape(h, w) | Polygon(
            d["ghost_px"]
        ).contains_points(pixel_centres(w, h), radius=-1e-9).reshape(h, w)
    mask = np.asarray(Image.open(dataset / r["mask"]))
    return mask == d["label"]


def box_of(r):
    w, h = r["width"], r["height"]
    x, y, bw, bh = r["defect"]["bbox_px"]
    c = pixel_centres(w, h)
    return ((c[:, 0] >= x) & (c[:, 0] <= x + bw) & (c[:, 1] >= y) & (c[:, 1] <= y + bh)).reshape(h, w)


ids, A, S, B, D = [], [], [], [], []
missing = []
for r in records:
    a = load_map(r["id"], r["width"], r["height"])
    if a is None:
        missing.append(r["id"])
        continue
    e = per_image[r["id"]]
    assert np.isclose(e["peak"], a.max(), rtol=1e-6, atol=1e-9), (r["id"], e["peak"], a.max())
    assert np.isclose(e["total"], a.sum(), rtol=1e-6), (r["id"], e["total"], a.sum())
    if r["defect"] is None:
        assert "relevance_mass" not in e, e
        continue
    s = region_of(r)
    assert s.any(), r["id"]
    ids.append(r["id"])
    A.append(a)
    S.append(s)
    B.append(box_of(r))
    # Pixels whose centre lies within `tolerance` of a region pixel's centre.
    D.append(ndimage.distance_transform_edt(~s) <= tolerance)

assert missing == score["missing_maps"], (missing, score["missing_maps"])
assert len(ids) >= 30, f"only {len(ids)} NG images with maps"
A = np.stack(A)[:, None]
x = np.zeros((len(ids), 3) + A.shape[2:], dtype=np.float32)
y = np.zeros(len(ids), dtype=int)
types = {r["id"]: r["defect"]["type"] for r in records if r["defect"]}
assert any(types[i] == "missing" for i in ids), "no missing terminal among the compared images"


def quantus_scores(metric, masks):
    m = metric(disable_warnings=True, normalise=False, abs=False)
    return np.asarray(m(model=None, x_batch=x, y_batch=y, a_batch=A, s_batch=np.stack(masks)[:, None].astype(float), channel_first=True), dtype=float)


reference = {
    "pointing_game": quantus_scores(quantus.PointingGame, D),
    "energy_pointing_game": quantus_scores(quantus.RelevanceMassAccuracy, B),
    "relevance_mass": quantus_scores(quantus.RelevanceMassAccuracy, S),
    "relevance_rank": quantus_scores(quantus.RelevanceRankAccuracy, S),
    "pixel_auroc": quantus_scores(quantus.AUC, S),
}
sk = np.array([roc_auc_score(s.ravel(), a.ravel()) for s, a in zip(S, A[:, 0])])
assert np.allclose(sk, reference["pixel_auroc"], atol=1e-12), "Quantus AUC != scikit-learn"

compared = {}
for name, ref in reference.items():
    n = 0
    for i, rid in enumerate(ids):
        a = A[i, 0].ravel()
        if name == "pointing_game" and np.count_nonzero(a == a.max()) > 1:
            continue
        if name == "relevance_rank":
            k = int(S[i].sum())
            top = np.sort(a)[::-1]
            if k < a.size and top[k - 1] == top[k]:
                continue
        ours = per_image[rid][name]
        assert ours is not None, (rid, name)
        assert abs(ours - ref[i]) <= 1e-6, f"{rid} ({types[rid]}): {name} pinsynth {ours} vs reference {ref[i]}"
        n += 1
    assert n >= 0.8 * len(ids), f"{name}: only {n} of {len(ids)} images compared"
    compared[name] = n
    mean = np.mean([per_image[i][name] for i in ids])
    assert abs(mean - score["overall"][name]) < 1e-9, (name, mean, score["overall"][name])

pg = reference["pointing_game"]
assert 0 < pg.mean() < 1, "maps too easy or too hard to tell anything"
print(
    f"score interop: {len(ids)} NG images ({sum(types[i] == 'missing' for i in ids)} missing terminals), "
    f"{len(missing)} without a map; compared per metric {compared}; "
    f"means pinsynth vs Quantus: "
    + ", ".join(f"{k} {score['overall'][k]:.4f}/{np.nanmean(v):.4f}" for k, v in reference.items())
)
