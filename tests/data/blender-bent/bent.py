"""Blender references for bent terminals, on top of the shared geometry.py (which wraps gen_scene.py).

Usage (Blender 3.4.1, headless; BLENDER_REFS_DIR = the folder with gen_scene.py, views.py, geometry.py):

  BLENDER_REFS_DIR=DIR blender -b --factory-startup --python bent.py -- refs --outdir OUT --res 256 \
          --layout square|round|triangle --cases cases_bent.json [--view VIEW.json]

A case's defect may carry a bend besides the original five parameters:
  "bendHeight" (scene units above the terminal's bottom, along its axis), "bendAngle" (degrees),
  "bendAzimuth" (degrees, 0 = local +X, 90 = local +Y).
It is applied to the defective terminal after the original five operator calls, on its mesh, as a user
would in Blender:
  1. bpy.ops.object.transform_apply(scale=True): the cube's (1, 1, 4) scale goes into the mesh, so the mesh
     is in scene units (nothing moves in the world);
  2. bmesh.ops.bisect_plane at z = bottom + bendHeight (the plane z = const in the terminal's local frame):
     every face the plane crosses is cut, the side gets a vertex row there;
  3. bmesh.ops.rotate of the vertices strictly above the plane by bendAngle about the horizontal axis
     (-sin az, cos az, 0) through (0, 0, bottom + bendHeight) (mathutils' right-handed Matrix.Rotation).
The top keypoint of a bent terminal is its top-face centre (the centre of the local bounding box's top face,
as gen_scene.py defines it, taken before the bend) turned by the same rotation; the bottom one is unchanged.
The bounding box in refs.json is Blender's bound_box of the bent mesh.
"""
import math
import os
import sys

import bmesh
import bpy
from mathutils import Matrix, Vector

sys.path.insert(0, os.environ["BLENDER_REFS_DIR"])
import gen_scene  # noqa: E402
import geometry  # noqa: E402  (patches gen_scene: layouts with triangles, --view)

BEND_KEYS = ("bendHeight", "bendAngle", "bendAzimuth")
_apply_defect = gen_scene.apply_defect
_face_centres = gen_scene.face_centres
_full_defect = gen_scene.full_defect


def apply_defect(o, d, log=None):
    bent = any(d.get(k) for k in BEND_KEYS)
    if bent:
        bpy.ops.object.transform_apply(location=False, rotation=False, scale=True)
    _apply_defect(o, d, log)
    if not bent:
        return
    me = o.data
    bb = [Vector(c) for c in o.bound_box]
    zmin, zmax = min(c.z for c in bb), max(c.z for c in bb)
    cx = (min(c.x for c in bb) + max(c.x for c in bb)) / 2
    cy = (min(c.y for c in bb) + max(c.y for c in bb)) / 2
    zc = zmin + d["bendHeight"]
    az = math.radians(d.get("bendAzimuth", 0.0))
    pivot = Vector((0.0, 0.0, zc))
    rot = Matrix.Rotation(math.radians(d["bendAngle"]), 3, Vector((-math.sin(az), math.cos(az), 0.0)))
    bm = bmesh.new()
    bm.from_mesh(me)
    bmesh.ops.bisect_plane(bm, geom=bm.verts[:] + bm.edges[:] + bm.faces[:], plane_co=pivot,
                           plane_no=(0.0, 0.0, 1.0))
    above = [v for v in bm.verts if v.co.z > zc + 1e-6]
    bmesh.ops.rotate(bm, cent=pivot, matrix=rot, verts=above)
    bm.to_mesh(me)
    bm.free()
    me.update()
    top = pivot + rot @ (Vector((cx, cy, zmax)) - pivot)
    o["bend_top_local"] = list(top)
    o["bend_bottom_local"] = [cx, cy, zmin]
    bpy.context.view_layer.update()


def face_centres(o):
    if "bend_top_local" in o:
        return (o.matrix_world @ Vector(o["bend_top_local"]), o.matrix_world @ Vector(o["bend_bottom_local"]))
    return _face_centres(o)


def full_defect(d):
    out = _full_defect(d)
    if out is not None:
        for k in BEND_KEYS:
            if k in d:
                out[k] = float(d[k])
    return out


gen_scene.apply_defect = apply_defect
gen_scene.face_centres = face_centres
gen_scene.full_defect = full_defect

if __name__ == "__main__":
    geometry.main()
