#!/bin/sh
# Regenerates the bent-terminal Blender references in this folder (Blender 3.4.1, headless, about a minute
# on 2 cores). Usage: tests/data/blender-bent/make_refs.sh BLENDER_REFS_DIR
#   BLENDER_REFS_DIR holds geometry.py, gen_scene.py and views.py (the project's shared blender-refs folder,
#   ../shared/blender-refs beside the repository); bent.py (here) adds the bend on top of them.
# Each set is one folder: refs.json, mask_<case>.png, geometry.json (and view.json for the oblique camera).
# The shaded Workbench renders Blender also writes are deleted: the tests use the exact masks only.
set -eu
BLENDER_REFS_DIR=$(cd "${1:?usage: make_refs.sh BLENDER_REFS_DIR}" && pwd)
export BLENDER_REFS_DIR
here=$(cd "$(dirname "$0")" && pwd)
run() {
    set_name=$1; shift
    blender -b --factory-startup --python "$here/bent.py" -- refs --outdir "$here/$set_name" --res 256 "$@"
    rm -f "$here/$set_name"/shaded_*.png
}
for layout in square round triangle; do
    run "${layout}_default" --layout "$layout" --cases "$here/cases_bent.json"
    run "${layout}_oblique" --layout "$layout" --cases "$here/cases_bent.json" --view "$here/view_oblique.json"
done
# Amodal references: every terminal rendered alone (amodal.py), one bent and tilted case, oblique camera.
for layout in square triangle; do
    blender -b --factory-startup --python "$here/amodal.py" -- --outdir "$here/amodal_${layout}_oblique" --res 256 \
        --layout "$layout" --cases "$here/cases_amodal.json" --view "$here/view_oblique.json"
done
