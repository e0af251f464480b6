"""Renderer.sample(i, truth=[...]): the depth map equals the CLI's depth/<id>.tiff decoded, the amodal
masks equal the CLI's `amodal_rle` decoded by pycocotools, whether or not the scene itself asks for
them (the record stays the scene's manifest line either way); in any order, batched or not, and
through the torch datasets."""

import random

import numpy as np
import pytest
from pycocotools import mask as coco_mask
from torch.utils.data import DataLoader

import pinsynth
from pinsynth.torch import SyntheticDataset, SyntheticMapDataset
from conftest import REPO, CliDataset, cli_sets, run_cli

OFF = {"truth.depth": False, "truth.amodal": False}

# pycocotools 2.0.11 with NumPy 2 warns once per decode about its own __array__ call.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


@pytest.fixture(scope="module")
def truth_cli(cli_datasets):
    """The `truth` scene's CLI dataset (depth TIFFs, amodal RLE in the records)."""
    path, overrides, cli = cli_datasets["truth"]
    return path, overrides, cli


@pytest.fixture(scope="module")
def plain_cli(truth_cli, pinsynth_bin, tmp_path_factory):
    """The same scene with [truth] turned off, rendered by the CLI (records without truth fields)."""
    path, overrides, _ = truth_cli
    root = tmp_path_factory.mktemp("cli") / "plain"
    run_cli(pinsynth_bin, "render", path, "--out", root, "--quiet", *cli_sets({**overrides, **OFF}))
    return CliDataset(root)


def amodal_of(record):
    """The CLI record's amodal masks decoded by pycocotools: pins × H × W of 0/1."""
    h, w = record["height"], record["width"]
    planes = [coco_mask.decode({"size": [h, w], "counts": p["amodal_rle"].encode()}) for p in record["pins"]]
    return np.stack(planes) if planes else np.zeros((0, h, w), np.uint8)


def check(i, sample, cli, truth_cli, record_cli):
    image, mask, record, truth = sample
    assert set(truth) == {"depth", "amodal"}
    assert np.array_equal(image, cli.image(i)) and np.array_equal(mask, cli.mask(i)), i
    assert record == record_cli.records[i], i
    depth, amodal = truth["depth"], truth["amodal"]
    assert depth.dtype == np.float32 and depth.shape == mask.shape
    expected = truth_cli.depth(i)
    assert expected.dtype == np.float32
    assert np.array_equal(depth, expected), f"image {i}: {np.count_nonzero(depth != expected)} depths differ"
    pins = truth_cli.records[i]["pins"]
    assert amodal.dtype == np.uint8 and amodal.shape == (len(pins), *mask.shape)
    assert np.array_equal(amodal, amodal_of(truth_cli.records[i])), f"image {i}: amodal masks differ"
    for plane, pin in zip(amodal, pins):
        assert plane.sum() == pin["amodal_pixels"]
        assert np.all(plane[mask == pin["label"]] == 1), "the visible part lies inside the amodal mask"


def test_the_truth_scene_has_depth_and_hidden_parts(truth_cli):
    _, _, cli = truth_cli
    assert all(r["depth"] for r in cli.records)
    fractions = [p["visible_fraction"] for r in cli.records for p in r["pins"]]
    assert min(fractions) < 0.9 and max(fractions) > 0.0
    d = cli.depth(0)
    assert d.dtype == np.float32 and (d == 0).any() and (d > 0).any()


def test_truth_of_a_scene_that_asks_for_it(truth_cli):
    path, overrides, cli = truth_cli
    renderer = pinsynth.Renderer(pinsynth.Scene.from_file(REPO / path, overrides=overrides))
    order = list(range(len(cli.records)))
    random.Random(3).shuffle(order)
    for i in order:
        check(i, renderer.sample(i, truth=["depth", "amodal"]), cli, cli, cli)


def test_truth_of_a_scene_that_does_not_ask_for_it(truth_cli, plain_cli):
    # The arrays are the same as the CLI's with [truth] on; the record is the plain scene's line.
    path, overrides, cli = truth_cli
    scene = pinsynth.Scene.from_file(REPO / path, overrides={**overrides, **OFF})
    assert "amodal_rle" not in plain_cli.records[0]["pins"][0] and "depth" not in plain_cli.records[0]
    renderer = pinsynth.Renderer(scene, batch=3)
    order = list(range(len(cli.records)))
    random.Random(5).shuffle(order)
    got = list(renderer.samples(order, truth="depth,amodal"))
    assert [s[2]["index"] for s in got] == order
    for i, sample in zip(order, got):
        check(i, sample, cli, cli, plain_cli)
    # Without truth: the 3-tuple, the same as before.
    image, mask, record = renderer.sample(order[0])
    assert np.array_equal(image, cli.image(order[0])) and record == plain_cli.records[order[0]]


def test_only_the_truth_asked_for(truth_cli):
    path, overrides, cli = truth_cli
    renderer = pinsynth.Renderer(pinsynth.Scene.from_file(REPO / path, overrides={**overrides, **OFF}))
    *_, truth = renderer.sample(2, truth=["depth"])
    assert list(truth) == ["depth"] and np.array_equal(truth["depth"], cli.depth(2))
    *_, truth = renderer.sample(2, truth=("amodal",))
    assert list(truth) == ["amodal"] and np.array_equal(truth["amodal"], amodal_of(cli.records[2]))
    assert len(renderer.sample(2, truth=[])) == 4 and renderer.sample(2, truth=[])[3] == {}
    assert len(renderer.sample(2)) == 3


def test_bad_truth_names():
    renderer = pinsynth.Renderer(pinsynth.Scene.from_toml("[sweep]\ncount = 3\n"))
    with pytest.raises(ValueError, match=r'^truth: unknown kind "normals" \(use depth, amodal\)$'):
        renderer.sample(0, truth=["depth", "normals"])
    with pytest.raises(ValueError, match=r'^truth: unknown kind "Depth" \(use depth, amodal\)$'):
        renderer.samples(truth="Depth")
    with pytest.raises(TypeError, match=r"^truth: give a list of names"):
        renderer.sample(0, truth=3)
    with pytest.raises(ValueError, match=r"unknown kind \"x\""):
        SyntheticDataset(pinsynth.Scene.from_toml("[sweep]\ncount = 3\n"), truth=["x"])
    with pytest.raises(ValueError, match=r"^batch: must be at least 1$"):
        pinsynth.Renderer(pinsynth.Scene.from_toml("[sweep]\ncount = 3\n"), batch=0)


def test_batched_samples_raise_a_bad_index_in_its_place():
    scene = pinsynth.Scene.from_toml("[image]\nwidth = 32\nheight = 32\n[sweep]\ncount = 5\n")
    renderer = pinsynth.Renderer(scene, batch=4)
    assert renderer.batch == 4
    it = renderer.samples([4, 0, 9, 1])
    assert [next(it)[2]["index"], next(it)[2]["index"]] == [4, 0]
    with pytest.raises(IndexError, match=r"^index 9 out of range: the scene has 5 images \(0\.\.5\)$"):
        next(it)
    assert next(it)[2]["index"] == 1
    with pytest.raises(StopIteration):
        next(it)


def keep_truth(image, mask, record, truth):
    return record["index"], truth["depth"], truth["amodal"]


@pytest.mark.parametrize("workers", [0, 2])
def test_torch_datasets_pass_the_truth_to_the_transform(truth_cli, workers):
    path, overrides, cli = truth_cli
    scene = pinsynth.Scene.from_file(REPO / path, overrides={**overrides, **OFF})
    ds = SyntheticDataset(scene, transform=keep_truth, truth=["amodal", "depth"], batch=2)
    items = list(DataLoader(ds, batch_size=None, num_workers=workers))
    assert sorted(i for i, *_ in items) == list(range(len(cli.records)))
    for i, depth, amodal in items:
        assert np.array_equal(np.asarray(depth), cli.depth(i)), i
        assert np.array_equal(np.asarray(amodal), amodal_of(cli.records[i])), i
    ds = SyntheticMapDataset(scene, transform=keep_truth, truth="depth,amodal", indices=[5])
    i, depth, _ = ds[0]
    assert i == 5 and np.array_equal(depth, cli.depth(5))
