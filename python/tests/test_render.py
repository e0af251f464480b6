"""Scene.render is the CLI's render: the same files with the same bytes."""

import json
import os

import pinsynth
from conftest import REPO, SCENES, cli_sets, run_cli


def tree(root):
    """Every regular file under root (relative path -> bytes)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


def test_render_writes_the_cli_dataset_byte_for_byte(pinsynth_bin, tmp_path):
    path, overrides = SCENES["default"]
    formats = ["imagefolder", "mvtec", "coco", "wds", "hf"]
    run_cli(pinsynth_bin, "render", path, "--out", tmp_path / "cli", "--quiet", "--format", ",".join(formats),
            "--shard-size", "8", *cli_sets(overrides))
    scene = pinsynth.Scene.from_file(REPO / path, overrides=overrides)
    summary = scene.render(tmp_path / "py", formats=formats, shard_size=8, jobs=2)
    cli, py = tree(tmp_path / "cli"), tree(tmp_path / "py")
    assert sorted(py) == sorted(cli)
    assert len(py) > 3 * len(scene)
    for name in cli:
        assert py[name] == cli[name], f"{name} differs"
    assert summary["images"] == len(scene) == summary["ok"] + summary["ng"]
    assert summary["workers"] == 2
    assert summary["counts"] == json.loads(cli["summary.json"])


def test_render_overwrite_and_defaults(tmp_path):
    scene = pinsynth.Scene.from_toml("[sweep]\ncount = 3\n[image]\nwidth = 32\nheight = 32\n")
    out = tmp_path / "ds"
    first = scene.render(out, preview=0)
    assert first["images"] == 3
    names = sorted(os.listdir(out))
    assert names == ["imagefolder", "images", "manifest.jsonl", "masks", "scene.resolved.toml", "summary.json"]
    again = scene.render(str(out), overwrite=True, preview=0, jobs=1)
    assert again["images"] == 3 and again["workers"] == 1
    assert tree(out)["scene.resolved.toml"].decode() == scene.to_toml()
