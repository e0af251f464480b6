"""Renderer.sample(i) against the CLI's dataset: the same pixels as images/<id>.png and
masks/<id>.png decoded, the same record as manifest.jsonl's line, in any order."""

import random

import numpy as np
import pytest

import pinsynth
from conftest import REPO, SCENES


@pytest.fixture(scope="module", params=list(SCENES))
def rendered(request, cli_datasets):
    """Every sample of one scene, rendered in a shuffled order by one Renderer."""
    path, overrides, cli = cli_datasets[request.param]
    scene = pinsynth.Scene.from_file(REPO / path, overrides=overrides)
    renderer = pinsynth.Renderer(scene)
    order = list(range(len(scene)))
    random.Random(7).shuffle(order)
    samples = {i: renderer.sample(i) for i in order}
    return request.param, scene, cli, samples


def test_scene_size_matches_the_cli_dataset(rendered):
    name, scene, cli, samples = rendered
    assert len(scene) == scene.image_count == len(cli.records) == len(samples) > 0


def test_images_and_masks_equal_the_cli_pngs(rendered):
    name, scene, cli, samples = rendered
    for i, (image, mask, record) in samples.items():
        h, w = scene.height, scene.width
        assert image.dtype == np.uint8 and image.shape == (h, w, 3), (name, i)
        assert mask.dtype == np.uint8 and mask.shape == (h, w), (name, i)
        expected = cli.image(i)
        assert expected.shape == (h, w, 3)
        assert np.array_equal(image, expected), f"{name} image {i}: {np.count_nonzero(image != expected)} values differ"
        assert np.array_equal(mask, cli.mask(i)), f"{name} mask {i} differs"


def test_records_equal_the_manifest_lines(rendered):
    name, scene, cli, samples = rendered
    for i, (_, _, record) in samples.items():
        assert record == cli.records[i], (name, i)
        assert record["split"] in ("train", "val", "test")


def test_the_scenes_cover_balance_randomization_and_every_label(cli_datasets):
    # Guards the test data: excluded images, photometric randomization, OK and NG images.
    default = cli_datasets["default"][2].records
    assert any(r["excluded"] for r in default) and not all(r["excluded"] for r in default)
    assert {r["label"] for r in default} == {"ok", "ng"}
    assert {r["defect"]["type"] for r in default if r["defect"]} >= {"offset", "tilt", "missing"}
    randomized = cli_datasets["randomized"][2].records
    assert all(r["randomize"]["noise_sd"] > 0 or r["randomize"]["blur_sigma"] > 0 for r in randomized[:8])


def test_samples_iterates_the_given_indices(cli_datasets):
    path, overrides, cli = cli_datasets["default"]
    renderer = pinsynth.Renderer(pinsynth.Scene.from_file(REPO / path, overrides=overrides))
    got = list(renderer.samples([5, 2, 5, np.int64(0)]))
    assert [r["index"] for _, _, r in got] == [5, 2, 5, 0]
    assert np.array_equal(got[0][0], got[2][0]) and np.array_equal(got[0][0], cli.image(5))
    assert len(list(renderer.samples())) == len(cli.records)


@pytest.mark.parametrize("name", ["default", "truth"])
def test_records_as_manifest_lines_or_labels_and_images_channels_first(cli_datasets, name):
    # record="json": the manifest line itself (a str); record="label": its label alone; layout="chw":
    # the CLI's pixels channels first, contiguous. On render threads and on the calling thread alike.
    path, overrides, cli = cli_datasets[name]
    scene = pinsynth.Scene.from_file(REPO / path, overrides=overrides)
    h, w = scene.height, scene.width
    order = list(range(len(scene)))[::-1]
    for renderer in (pinsynth.Renderer(scene, batch=3, jobs=2), pinsynth.Renderer(scene)):
        lines = list(renderer.samples(order, record="json"))
        light = list(renderer.samples(order, record="label", layout="chw"))
        assert len(lines) == len(light) == len(order)
        for i, (image, mask, line), (planes, mask_chw, label) in zip(order, lines, light):
            assert isinstance(line, str) and line == cli.lines[i], (name, i)
            assert np.array_equal(image, cli.image(i))
            assert isinstance(label, str) and label == cli.records[i]["label"], (name, i)
            assert planes.dtype == np.uint8 and planes.shape == (3, h, w) and planes.flags.c_contiguous
            assert np.array_equal(planes.transpose(1, 2, 0), cli.image(i)), f"{name} image {i} channels first"
            assert np.array_equal(mask_chw, cli.mask(i))
    image, mask, label, truth = renderer.sample(1, truth=["depth"], record="label", layout="chw")
    assert image.shape == (3, h, w) and label == cli.records[1]["label"] and truth["depth"].shape == (h, w)


def test_unknown_record_forms_and_layouts_raise_value_error():
    renderer = pinsynth.Renderer(pinsynth.Scene.from_toml("[sweep]\ncount = 3\n"))
    with pytest.raises(ValueError, match=r'^record: unknown form "xml" \(use "dict", "json" or "label"\)$'):
        renderer.sample(0, record="xml")
    with pytest.raises(ValueError, match=r'^layout: unknown order "CHW" \(use "hwc" or "chw"\)$'):
        renderer.samples([0], layout="CHW")  # raised by the call, before anything renders


def test_index_out_of_range_raises_index_error():
    scene = pinsynth.Scene.from_toml("[sweep]\ncount = 3\n")
    renderer = pinsynth.Renderer(scene)
    for bad in (3, -1, 10**6):
        with pytest.raises(IndexError, match=rf"index {bad} out of range: the scene has 3 images \(0\.\.3\)"):
            renderer.sample(bad)
    with pytest.raises(IndexError):
        list(renderer.samples([0, 7]))


def test_overrides_as_strings_equal_overrides_as_dict():
    a = pinsynth.Scene.from_file(REPO / "scenes/default.toml", overrides={"image.width": 64, "layout.kind": "round"})
    b = pinsynth.Scene.from_file(REPO / "scenes/default.toml", overrides=["image.width=64", "layout.kind=round"])
    assert a.to_toml() == b.to_toml()
    assert (a.width, a.height, len(a)) == (64, 224, 300)
    assert 'kind = "round"' in a.to_toml()


def test_render_threads_give_the_same_samples_in_the_order_asked(cli_datasets):
    path, overrides, cli = cli_datasets["default"]
    scene = pinsynth.Scene.from_file(REPO / path, overrides=overrides)
    threaded = pinsynth.Renderer(scene, batch=2, jobs=3)
    assert threaded.jobs == 3 and pinsynth.Renderer(scene, jobs=0).jobs >= 1
    order = list(range(len(scene)))
    random.Random(3).shuffle(order)
    got = list(threaded.samples(order))
    assert [r["index"] for _, _, r in got] == order
    for image, mask, record in got:
        i = record["index"]
        assert np.array_equal(image, cli.image(i)), f"image {i} differs from the CLI's"
        assert np.array_equal(mask, cli.mask(i)), f"mask {i} differs from the CLI's"
        assert record == cli.records[i]
    # Stopped early (chunks still in flight), then again: the threads are reused and nothing of the
    # first iterator reaches the second.
    it = threaded.samples(order)
    first = [next(it)[2]["index"] for _ in range(3)]
    del it
    again = [r["index"] for _, _, r in threaded.samples(order[:7])]
    assert first == order[:3] and again == order[:7]
    # Two iterators at once (the second renders on the calling thread): both in order, both right.
    a, b = threaded.samples(order[:6]), threaded.samples(order[:6])
    for (ia, _, ra), (ib, _, rb) in zip(a, b):
        assert ra == rb and np.array_equal(ia, ib) and np.array_equal(ia, cli.image(ra["index"]))
    # A bad index is raised in its place, after the samples before it; the ones after it follow.
    it = threaded.samples([1, 2, 3, 99, 4, 5, 6, 7, 8])
    assert [next(it)[2]["index"] for _ in range(3)] == [1, 2, 3]
    with pytest.raises(IndexError, match=r"index 99 out of range"):
        next(it)
    assert [r["index"] for _, _, r in it] == [4, 5, 6, 7, 8]
