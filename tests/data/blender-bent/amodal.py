"""Blender references for amodal masks: every terminal rendered alone (all other terminals and the housing
hidden), so its ID mask is its full silhouette ignoring occlusion. On top of bent.py (bends) and the shared
geometry.py / views.py (layouts, camera).

Usage (BLENDER_REFS_DIR as for bent.py):

  BLENDER_REFS_DIR=DIR blender -b --factory-startup --python amodal.py -- --outdir OUT --res 256 \
          --layout square|round|triangle|mixed --cases CASES.json [--view VIEW.json]

Writes alone_<case>_<label>.png (8-bit, R = G = B = 255 on the terminal's pixels, 0 elsewhere; one sample
at each pixel centre, as the refs masks) and amodal.json (layout, view, cases, the labels rendered).
"""
import argparse
import json
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bent  # noqa: E402,F401  (patches gen_scene: bends; imports geometry and views)
import gen_scene  # noqa: E402
import geometry  # noqa: E402
import views  # noqa: E402


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    ap = argparse.ArgumentParser(prog="amodal.py")
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--res", type=int, default=256)
    ap.add_argument("--layout", default="square", choices=["triangle", "tri-mixed", "mixed", "square", "round"])
    ap.add_argument("--cases", required=True)
    ap.add_argument("--view", default=None)
    a = ap.parse_args(argv)
    if a.view:
        views.VIEW.update(json.load(open(a.view)))
    geometry.OPTS.update(layout=a.layout, housing_stl=None)
    os.makedirs(a.outdir, exist_ok=True)
    out = os.path.abspath(a.outdir)
    scene, cam, mat, housing = gen_scene.build_static_scene(a.res)
    cases = json.load(open(a.cases))
    doc = {"layout": a.layout, "view": views.VIEW, "res": a.res, "cases": []}
    pins = []
    for c in cases:
        gen_scene.remove_pins(pins)
        pins = gen_scene.add_pins("mixed", mat, c.get("defect"))
        gen_scene.configure_mask(scene, pins, housing)
        labels = []
        for o in pins:
            for p in pins:
                p.hide_render = p is not o
                p.color = (1.0, 1.0, 1.0, 1.0)
            housing.hide_render = True
            gen_scene.render_to(scene, os.path.join(out, "alone_%s_%d.png" % (c["name"], o.pass_index)))
            labels.append(o.pass_index)
        doc["cases"].append({"name": c["name"], "defect": gen_scene.full_defect(c.get("defect")), "labels": labels})
    with open(os.path.join(out, "amodal.json"), "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
