#!/bin/sh
# Regenerates the Blender references in this folder (Blender 3.4.1, headless, about a minute on 2 cores).
# Usage: tests/data/blender-geometry/make_refs.sh BLENDER_REFS_DIR
#   BLENDER_REFS_DIR holds geometry.py, gen_scene.py and views.py (the project's shared blender-refs folder,
#   ../shared/blender-refs beside the repository).
# Each set is one folder: refs.json, mask_<case>.png, geometry.json (and view.json for the oblique camera).
# The shaded Workbench renders Blender also writes are deleted: the tests use the exact masks only.
set -eu
refs=$(cd "${1:?usage: make_refs.sh BLENDER_REFS_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
run() {
    set_name=$1; shift
    blender -b --factory-startup --python "$refs/geometry.py" -- refs --outdir "$here/$set_name" --res 256 "$@"
    rm -f "$here/$set_name"/shaded_*.png
}
run tri_default --layout triangle --cases "$here/cases_tri.json"
run tri_oblique --layout triangle --cases "$here/cases_tri.json" --view "$here/view_oblique.json"
run trimixed_oblique --layout tri-mixed --cases "$here/cases_stl.json" --view "$here/view_oblique.json"
run stl_default --layout mixed --housing-stl "$here/../meshes/shroud.stl" --cases "$here/cases_stl.json"
run stl_oblique --layout tri-mixed --housing-stl "$here/../meshes/shroud.stl" --cases "$here/cases_stl.json" \
    --view "$here/view_oblique.json"
# Terminal sizes and tips, the shroud preset and mesh terminals (shapes.py; the set's scene.toml is a copy of
# inputs/<name>.toml, read by shapes.py here and by tests/reference.rs).
shapes() {
    set_name=$1; input=$2; cases=$3; shift 3
    mkdir -p "$here/$set_name"
    cp "$here/inputs/$input.toml" "$here/$set_name/scene.toml"
    blender -b --factory-startup --python "$here/shapes.py" -- --refs "$refs" --scene "$here/$set_name/scene.toml" \
        --outdir "$here/$set_name" --res 256 --cases "$here/$cases" "$@"
    rm -f "$here/$set_name"/shaded_*.png
}
for input in sizes pointed chamfer shroud; do
    shapes "${input}_default" "$input" cases_shapes.json
    shapes "${input}_oblique" "$input" cases_shapes.json --view "$here/view_oblique.json"
done
shapes meshpin_default meshpin cases_meshpin.json
shapes meshpin_oblique meshpin cases_meshpin.json --view "$here/view_oblique.json"
