#!/bin/sh
# Renders the example scenes that show one geometry feature each and keeps their contact sheets as
# scenes/previews/<scene>.png (the dataset's preview.png, first 8 images: OK framed green, NG red,
# the defect boxed yellow). Usage: scripts/scene-previews.sh [path/to/pinsynth]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/pinsynth}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$root/scenes/previews"
for scene in triangle_terminals housing_from_stl terminal_sizes terminal_tips shroud_header mesh_terminals; do
    "$bin" render "$root/scenes/$scene.toml" --out "$tmp/$scene" --quiet --preview 8
    cp "$tmp/$scene/preview.png" "$root/scenes/previews/$scene.png"
done
