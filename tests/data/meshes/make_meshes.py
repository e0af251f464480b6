"""Writes the test meshes of tests/data/meshes (stdlib only; rerun to regenerate byte-identical files).

shroud.*: a shrouded header housing in world coordinates: a base 3.5 x 9.5 x 0.5 centred at (0, 0, -1)
(as the default box housing), walls 0.25 thick around it up to z = 0, and a ramp (wedge) outside the
+X wall. The same triangles are written as binary STL, ASCII STL, OBJ and glTF binary (.glb).

pressfit.stl: a press-fit terminal in local coordinates (origin = the terminal's centre, z from -1 to 1, as
pinsynth's and Blender's primitives): a wide foot (z -1 .. -0.6), an "eye of the needle" (two beams around a
hole, z -0.6 .. -0.1), a shaft 0.24 x 0.24 up to z = 0.7 and a pyramid tip to the apex (0, 0, 1).
blade.obj: a flat blade terminal 0.6 x 0.12, z -1 .. 0.8, with a wedge tip to an edge at z = 1 (OBJ).
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def box(x0, y0, z0, x1, y1, z1):
    c = [(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]  # index = 4*ix + 2*iy + iz
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    tris = []
    for a, b, cc, d in quads:
        tris += [(c[a], c[b], c[cc]), (c[a], c[cc], c[d])]
    return tris


def wedge(x0, x1, y0, y1, z0, z1):
    """A ramp: full height z1 at x0, down to z0 at x1."""
    p = {"a": (x0, y0, z0), "b": (x1, y0, z0), "c": (x0, y0, z1), "d": (x0, y1, z0), "e": (x1, y1, z0),
         "f": (x0, y1, z1)}
    faces = [("a", "c", "b"), ("d", "e", "f"), ("a", "b", "e", "d"), ("a", "d", "f", "c"), ("b", "c", "f", "e")]
    tris = []
    for f in faces:
        v = [p[k] for k in f]
        tris.append((v[0], v[1], v[2]))
        if len(v) == 4:
            tris.append((v[0], v[2], v[3]))
    return tris


def shroud():
    t = box(-1.75, -4.75, -1.25, 1.75, 4.75, -0.75)
    t += box(-2.0, -5.0, -1.25, -1.75, 5.0, 0.0)
    t += box(1.75, -5.0, -1.25, 2.0, 5.0, 0.0)
    t += box(-1.75, -5.0, -1.25, 1.75, -4.75, 0.0)
    t += box(-1.75, 4.75, -1.25, 1.75, 5.0, -0.25)
    t += wedge(2.0, 2.75, -1.0, 1.0, -1.25, -0.5)
    return t


def pyramid(x0, y0, x1, y1, z0, apex):
    """A pyramid on the rectangle [x0, x1] x [y0, y1] at z0 up to the point apex."""
    c = [(x0, y0, z0), (x1, y0, z0), (x1, y1, z0), (x0, y1, z0)]
    tris = [(c[0], c[2], c[1]), (c[0], c[3], c[2])]
    for i in range(4):
        tris.append((c[i], c[(i + 1) % 4], apex))
    return tris


def pressfit():
    t = box(-0.25, -0.12, -1.0, 0.25, 0.12, -0.6)
    t += box(-0.25, -0.12, -0.6, -0.1, 0.12, -0.1)
    t += box(0.1, -0.12, -0.6, 0.25, 0.12, -0.1)
    t += box(-0.25, -0.12, -0.1, 0.25, 0.12, 0.0)
    t += box(-0.12, -0.12, 0.0, 0.12, 0.12, 0.7)
    t += pyramid(-0.12, -0.12, 0.12, 0.12, 0.7, (0.0, 0.0, 1.0))
    return t


def blade():
    t = box(-0.3, -0.06, -1.0, 0.3, 0.06, 0.8)
    a, b = (-0.3, 0.0, 1.0), (0.3, 0.0, 1.0)
    lo = [(-0.3, -0.06, 0.8), (0.3, -0.06, 0.8), (0.3, 0.06, 0.8), (-0.3, 0.06, 0.8)]
    t += [(lo[0], lo[1], b), (lo[0], b, a), (lo[2], lo[3], a), (lo[2], a, b), (lo[1], lo[2], b), (lo[3], lo[0], a)]
    return t


def write_stl(path, tris, name):
    with open(path, "wb") as f:
        f.write(name.encode().ljust(80, b" "))
        f.write(struct.pack("<I", len(tris)))
        for t in tris:
            f.write(struct.pack("<3f", *normal(t)))
            for v in t:
                f.write(struct.pack("<3f", *v))
            f.write(b"\0\0")


def write_obj(path, tris, name):
    verts = sorted({v for t in tris for v in t})
    index = {v: i for i, v in enumerate(verts)}
    with open(path, "w") as f:
        f.write("# %s\no %s\n" % (name, name.split()[-1]))
        for v in verts:
            f.write("v %g %g %g\n" % v)
        for t in tris:
            f.write("f %d %d %d\n" % tuple(index[v] + 1 for v in t))


def normal(t):
    (ax, ay, az), (bx, by, bz), (cx, cy, cz) = t
    u, v = (bx - ax, by - ay, bz - az), (cx - ax, cy - ay, cz - az)
    n = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    length = sum(x * x for x in n) ** 0.5 or 1.0
    return tuple(x / length for x in n)


def main():
    tris = shroud()
    with open(os.path.join(HERE, "shroud.stl"), "wb") as f:
        f.write(b"pinsynth test shroud".ljust(80, b" "))
        f.write(struct.pack("<I", len(tris)))
        for t in tris:
            f.write(struct.pack("<3f", *normal(t)))
            for v in t:
                f.write(struct.pack("<3f", *v))
            f.write(b"\0\0")
    with open(os.path.join(HERE, "shroud_ascii.stl"), "w") as f:
        f.write("solid shroud\n")
        for t in tris:
            f.write("  facet normal %g %g %g\n    outer loop\n" % normal(t))
            for v in t:
                f.write("      vertex %g %g %g\n" % v)
            f.write("    endloop\n  endfacet\n")
        f.write("endsolid shroud\n")
    verts = sorted({v for t in tris for v in t})
    index = {v: i for i, v in enumerate(verts)}
    with open(os.path.join(HERE, "shroud.obj"), "w") as f:
        f.write("# pinsynth test shroud\no shroud\n")
        for v in verts:
            f.write("v %g %g %g\n" % v)
        for t in tris:
            f.write("f %d %d %d\n" % tuple(index[v] + 1 for v in t))
    pos = b"".join(struct.pack("<3f", *v) for v in verts)
    idx = b"".join(struct.pack("<3I", *(index[v] for v in t)) for t in tris)
    binary = pos + idx
    lo = [min(v[i] for v in verts) for i in range(3)]
    hi = [max(v[i] for v in verts) for i in range(3)]
    gltf = {
        "asset": {"version": "2.0", "generator": "pinsynth make_meshes.py"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": "shroud"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "mode": 4}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(verts), "type": "VEC3", "min": lo, "max": hi},
            {"bufferView": 1, "componentType": 5125, "count": 3 * len(tris), "type": "SCALAR"},
        ],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(pos)},
                        {"buffer": 0, "byteOffset": len(pos), "byteLength": len(idx)}],
        "buffers": [{"byteLength": len(binary)}],
    }
    js = json.dumps(gltf, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    binary += b"\0" * (-len(binary) % 4)
    body = struct.pack("<II", len(js), 0x4E4F534A) + js + struct.pack("<II", len(binary), 0x004E4942) + binary
    with open(os.path.join(HERE, "shroud.glb"), "wb") as f:
        f.write(struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body)


if __name__ == "__main__":
    main()
    write_stl(os.path.join(HERE, "pressfit.stl"), pressfit(), "pinsynth test press-fit terminal")
    write_obj(os.path.join(HERE, "blade.obj"), blade(), "pinsynth test blade")
