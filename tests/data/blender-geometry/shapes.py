"""Blender references for terminal sizes and tips, the shroud housing and terminals from mesh files.

Usage (everything after "--" goes to this script; make_refs.sh runs it):

  blender -b --factory-startup --python shapes.py -- --refs BLENDER_REFS_DIR --scene SET/scene.toml \
          --outdir SET --res 256 --cases CASES.json [--view VIEW.json]

The set's scene.toml is a pinsynth scene fragment ([layout], [pin.*], [housing]); this script reads the same
keys and builds the scene with Blender's own primitives and mesh operators, on top of the shared
gen_scene.py (camera, sun, housing box, defect operators, refs mode) and views.py (--view):

* square:   primitive_cube_add(size=1) + transform.resize((width, depth, height)), scale applied
* round:    primitive_cylinder_add(vertices=segments, radius, depth=height)
* triangle: primitive_cylinder_add(vertices=3, radius, depth=height)
* tip (tip_length L): the top face's vertices move down by L, then
    pointed: bmesh.ops.poke(top face, center_mode MEAN, offset L) -- a point on the axis, L above
    chamfer: bmesh.ops.inset_region(top face, thickness L, depth L, even offset) -- a 45 degree chamfer
* mesh terminal (pattern letter of [pin.meshes]): import_mesh.stl of the file (paths relative to tests/data),
  its origin moved to the terminal's centre (location = centre; the vertices are local coordinates)
* housing shape "shroud": the base box plus four walls of wall_thickness on the base's rim, wall_height above
  its top face, the y walls over the full length, the x walls between them; a notch removes notch_width,
  centred on the base's centre line, from one wall (primitive_cube_add + scale for every box), label 255.
The grid is gen_scene.py's 3 x 9 at pitch 1 (labels 1 + 9x + y).
"""
import argparse
import json
import math
import os
import sys
import tomllib

import bmesh
import bpy

ARGS = {}
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)  # tests/data: mesh paths in scene.toml are relative to it


def scene_kind(layout, x, y):
    kind = layout.get("kind", "mixed")
    if kind == "pattern":
        c = layout["pattern"][y][x]
        return {"S": "square", "R": "round", "T": "triangle", ".": None}.get(c, "mesh:" + c)
    if kind == "mixed":
        return "round" if ((x == 1 and y % 3 == 0) or (x != 1 and (y + 1) % 3 == 0)) else "square"
    return kind


def top_face(bm):
    bm.faces.ensure_lookup_table()
    return max(bm.faces, key=lambda f: (f.normal.z > 0.99, f.calc_center_median().z))


def add_tip(o, spec):
    tip = spec.get("tip", "flat")
    if tip == "flat":
        return
    length = float(spec["tip_length"])
    bm = bmesh.new()
    bm.from_mesh(o.data)
    top = top_face(bm)
    for v in top.verts:
        v.co.z -= length
    if tip == "pointed":
        bmesh.ops.poke(bm, faces=[top], offset=length, center_mode="MEAN")
    elif tip == "chamfer":
        bmesh.ops.inset_region(bm, faces=[top], thickness=length, depth=length, use_even_offset=True)
    else:
        raise ValueError(tip)
    bm.to_mesh(o.data)
    bm.free()
    o.data.update()


def add_terminal(kind, loc, pin):
    if kind == "square":
        s = pin.get("square", {})
        bpy.ops.mesh.primitive_cube_add(size=1.0, location=loc)
        bpy.ops.transform.resize(value=(s.get("width", 0.5), s.get("depth", 0.5), s.get("height", 2.0)))
        bpy.ops.object.transform_apply(location=False, rotation=False, scale=True)
    elif kind == "round":
        s = pin.get("round", {})
        bpy.ops.mesh.primitive_cylinder_add(vertices=s.get("segments", 32), radius=s.get("radius", 0.25),
                                            depth=s.get("height", 2.0), location=loc)
    elif kind == "triangle":
        s = pin.get("triangle", {})
        bpy.ops.mesh.primitive_cylinder_add(vertices=3, radius=s.get("radius", 0.25), depth=s.get("height", 2.0),
                                            location=loc)
    else:
        letter = kind.split(":")[1]
        path = os.path.join(DATA, pin["meshes"][letter])
        bpy.ops.object.select_all(action="DESELECT")
        bpy.ops.import_mesh.stl(filepath=path, global_scale=1.0, axis_forward="Y", axis_up="Z")
        o = bpy.context.selected_objects[0]
        bpy.context.view_layer.objects.active = o
        o.location = loc
        bpy.context.view_layer.update()
        return o, "mesh"
    o = bpy.context.active_object
    add_tip(o, s)
    return o, kind


def add_pins(layout_name, pin_mat, defect=None, log=None):
    import gen_scene
    scene = ARGS["scene"]
    pins = []
    for x in range(3):
        for y in range(9):
            kind = scene_kind(scene.get("layout", {}), x, y)
            if kind is None:
                continue
            o, k = add_terminal(kind, (x - 1.0, y - 4.0, 0), scene.get("pin", {}))
            o.name = "pin_x%d_y%d" % (x, y)
            o["grid_x"], o["grid_y"], o["kind"] = x, y, k
            o.pass_index = gen_scene.pin_label(x, y)
            o.data.materials.clear()
            o.data.materials.append(pin_mat)
            if defect is not None and (x, y) == (defect["x"], defect["y"]):
                if defect.get("missing"):
                    me = o.data
                    bpy.data.objects.remove(o, do_unlink=True)
                    bpy.data.meshes.remove(me)
                    continue
                bpy.ops.object.select_all(action="DESELECT")
                o.select_set(True)
                bpy.context.view_layer.objects.active = o
                gen_scene.apply_defect(o, defect, log)
            pins.append(o)
    bpy.context.view_layer.update()
    return pins


def shroud_boxes(h):
    size, centre = h.get("size", [3.5, 9.5, 0.5]), h.get("center", [0.0, 0.0, -1.0])
    lo = [centre[i] - size[i] / 2 for i in range(3)]
    hi = [centre[i] + size[i] / 2 for i in range(3)]
    t, z0, z1 = h.get("wall_thickness", 0.25), hi[2], hi[2] + h.get("wall_height", 1.0)
    walls = {
        "-x": ([lo[0], lo[1], z0], [lo[0] + t, hi[1], z1], 1),
        "+x": ([hi[0] - t, lo[1], z0], [hi[0], hi[1], z1], 1),
        "-y": ([lo[0] + t, lo[1], z0], [hi[0] - t, lo[1] + t, z1], 0),
        "+y": ([lo[0] + t, hi[1] - t, z0], [hi[0] - t, hi[1], z1], 0),
    }
    out = []
    for side, (a, b, axis) in walls.items():
        if side != h.get("notch", "none"):
            out.append((a, b))
            continue
        w = h.get("notch_width", 1.0)
        g0, g1 = centre[axis] - w / 2, centre[axis] + w / 2
        b1, a2 = list(b), list(a)
        b1[axis], a2[axis] = g0, g1
        out += [(a, b1), (a2, b)]
    return out


def wrap_build(prev):
    def build(res, height=None):
        import gen_scene
        scene, cam, mat, housing = prev(res, height)
        h = ARGS["scene"].get("housing", {})
        if h.get("shape", "box") == "shroud":
            hmat = housing.data.materials[0]
            for i, (a, b) in enumerate(shroud_boxes(h)):
                bpy.ops.mesh.primitive_cube_add(size=1.0, location=[(a[k] + b[k]) / 2 for k in range(3)])
                w = bpy.context.active_object
                w.name = "shroud_wall_%d" % i
                w.scale = [b[k] - a[k] for k in range(3)]
                w.data.materials.append(hmat)
                w.pass_index = gen_scene.HOUSING_LABEL
                w.color = (1.0, 1.0, 1.0, 1.0)  # the mask pass's colour for label 255 (Raw view transform)
            bpy.context.view_layer.update()
        return scene, cam, mat, housing
    return build


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    ap = argparse.ArgumentParser(prog="shapes.py")
    ap.add_argument("--refs", required=True, help="folder with gen_scene.py and views.py")
    ap.add_argument("--scene", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--res", type=int, default=256)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--view", default=None)
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.abspath(a.refs))
    import gen_scene
    import views  # patches gen_scene.build_static_scene with the --view camera
    with open(a.scene, "rb") as f:
        ARGS["scene"] = tomllib.load(f)
    if a.view:
        views.VIEW.update(json.load(open(a.view)))
    gen_scene.build_static_scene = wrap_build(gen_scene.build_static_scene)
    gen_scene.add_pins = add_pins
    refs = argparse.Namespace(outdir=a.outdir, res=a.res, height=None, layout="mixed", cases=a.cases)
    gen_scene.mode_refs(refs)
    if a.view:
        with open(os.path.join(a.outdir, "view.json"), "w") as f:
            json.dump(views.VIEW, f, indent=1)
    with open(os.path.join(a.outdir, "geometry.json"), "w") as f:
        json.dump({"scene": "scene.toml", "made_by": "shapes.py"}, f, indent=1)


if __name__ == "__main__":
    main()
