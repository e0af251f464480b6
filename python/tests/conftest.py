"""Shared fixtures: the repository, the `pinsynth` binary the CLI datasets come from, and small
datasets rendered once per session by the CLI (the reference every Python result is held to)."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]

# Small scenes that still cover what a sample depends on: cases + a sweep with every defect type, a
# non-square image, [balance] (excluded images) and [split]; and heavy domain randomization (camera,
# colours, blur, tone curve, seeded sensor noise after readback).
SCENES = {
    "default": ("scenes/default.toml", {
        "sweep.count": 40, "sweep.seed": 1, "sweep.ok_fraction": 0.25, "balance.ok_per_ng": 0.5,
        "image.width": 96, "image.height": 80,
    }),
    "randomized": ("scenes/randomized.toml", {"sweep.count": 24, "image.width": 112, "image.height": 112}),
    "blog_cases": ("scenes/blog_cases.toml", {"image.width": 128, "image.height": 128}),
    # [truth] depth and amodal (records with amodal fields and a depth path), an oblique camera, bent
    # terminals.
    "truth": ("scenes/depth_amodal.toml", {"sweep.count": 16, "image.width": 96, "image.height": 80}),
}


def cli_sets(overrides):
    """The overrides as the CLI's --set arguments."""
    out = []
    for key, value in overrides.items():
        out += ["--set", f"{key}={json.dumps(value)}"]
    return out


@pytest.fixture(scope="session")
def pinsynth_bin():
    """The CLI binary: $PINSYNTH_BIN (tests/python.rs passes cargo's), else target/release/pinsynth."""
    path = Path(os.environ.get("PINSYNTH_BIN", REPO / "target" / "release" / "pinsynth"))
    if not path.is_file():
        pytest.fail(f"no pinsynth binary at {path}: run `cargo build --release` or set PINSYNTH_BIN")
    return path


def run_cli(pinsynth_bin, *args, check=True):
    out = subprocess.run([str(pinsynth_bin), *map(str, args)], cwd=REPO, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"pinsynth {' '.join(map(str, args))} failed ({out.returncode}):\n{out.stderr}")
    return out


class CliDataset:
    """A dataset `pinsynth render` wrote, read back: decoded PNGs and manifest records by index."""

    def __init__(self, root):
        self.root = Path(root)
        self.lines = (self.root / "manifest.jsonl").read_text().splitlines()
        self.records = [json.loads(line) for line in self.lines]
        assert [r["index"] for r in self.records] == list(range(len(self.records)))

    def image(self, i):
        return np.asarray(Image.open(self.root / self.records[i]["image"]))

    def mask(self, i):
        return np.asarray(Image.open(self.root / self.records[i]["mask"]))

    def depth(self, i):
        """depth/<id>.tiff decoded by Pillow (mode F: float32 H×W)."""
        return np.asarray(Image.open(self.root / self.records[i]["depth"]))


@pytest.fixture(scope="session")
def cli_datasets(pinsynth_bin, tmp_path_factory):
    """name -> (scene file, overrides, CliDataset) for every scene in SCENES, rendered by the CLI."""
    out = {}
    for name, (path, overrides) in SCENES.items():
        root = tmp_path_factory.mktemp("cli") / name
        run_cli(pinsynth_bin, "render", path, "--out", root, "--quiet", *cli_sets(overrides))
        out[name] = (path, overrides, CliDataset(root))
    return out
