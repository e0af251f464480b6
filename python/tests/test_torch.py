"""pinsynth.torch: DataLoader workers split the indices (worker K of N takes index mod N == K), each
with its own renderer, and every item equals the CLI's files whatever the worker count or order."""

import hashlib
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, get_worker_info

import pinsynth
from pinsynth.torch import CLASSES, SyntheticDataset, SyntheticMapDataset, default_batch, default_item
from conftest import REPO


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def who_and_what(image, mask, record):
    """A transform that reports which worker rendered which image, and what it rendered."""
    info = get_worker_info()
    return record["index"], [info.id, info.num_workers] if info else None, digest(image), digest(mask), record


@pytest.fixture(scope="module")
def default_scene(cli_datasets):
    path, overrides, cli = cli_datasets["default"]
    return pinsynth.Scene.from_file(REPO / path, overrides=overrides), cli


@pytest.fixture(scope="module")
def expected(default_scene):
    scene, cli = default_scene
    return {i: (digest(cli.image(i)), digest(cli.mask(i)), cli.records[i]) for i in range(len(scene))}


@pytest.mark.filterwarnings("ignore:This DataLoader will create 3 worker processes")
@pytest.mark.parametrize("workers", [0, 2, 3])
def test_iterable_dataset_splits_indices_across_workers(default_scene, expected, workers):
    scene, _ = default_scene
    loader = DataLoader(SyntheticDataset(scene, transform=who_and_what), batch_size=None, num_workers=workers)
    items = list(loader)
    assert sorted(i for i, *_ in items) == list(range(len(scene)))
    if workers == 0:
        # The main process renders on a thread per core, the items still in order.
        assert [i for i, *_ in items] == list(range(len(scene)))
    for index, worker, image, mask, record in items:
        if workers == 0:
            assert worker is None
        else:
            assert worker == [index % workers, workers], f"image {index} rendered by worker {worker}"
        assert [image, mask, record] == list(expected[index]), f"image {index} differs from the CLI's"
    if workers:
        # Within each worker the indices come in order.
        for k in range(workers):
            mine = [i for i, w, *_ in items if w[0] == k]
            assert mine == list(range(k, len(scene), workers))


def test_iterable_dataset_with_spawned_workers(default_scene, expected):
    # A spawned worker gets the scene pickled (as its resolved TOML) and opens its own renderer.
    scene, _ = default_scene
    ds = SyntheticDataset(scene, transform=who_and_what, indices=[0, 1, 2, 3, 9])
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="spawn")
    items = list(loader)
    assert sorted(i for i, *_ in items) == [0, 1, 2, 3, 9]
    for index, worker, image, mask, record in items:
        assert worker == [index % 2, 2]
        assert [image, mask, record] == list(expected[index])


def test_default_items_batch_like_imagefolder(default_scene):
    scene, cli = default_scene
    loader = DataLoader(SyntheticDataset(scene), batch_size=8, num_workers=0)
    images, labels = next(iter(loader))
    assert images.dtype == torch.uint8 and tuple(images.shape) == (8, 3, scene.height, scene.width)
    assert labels.dtype == torch.int64
    for k in range(8):
        assert np.array_equal(images[k].permute(1, 2, 0).numpy(), cli.image(k))
        assert labels[k].item() == CLASSES[cli.records[k]["label"]]
    assert CLASSES == {"ng": 0, "ok": 1}
    assert len(SyntheticDataset(scene)) == len(scene)


@pytest.mark.parametrize("workers", [0, 2])
def test_default_items_equal_default_item_of_each_sample(default_scene, workers):
    # Without a transform the datasets make default_item's values directly (pixels channels first, the
    # label alone): the same batches as with default_item itself, the images contiguous.
    scene, _ = default_scene
    direct = list(DataLoader(SyntheticDataset(scene), batch_size=8, num_workers=workers))
    through = list(DataLoader(SyntheticDataset(scene, transform=default_item), batch_size=8, num_workers=workers))
    assert len(direct) == len(through) and sum(len(labels) for _, labels in direct) == len(scene)
    for (images, labels), (images_t, labels_t) in zip(direct, through):
        assert torch.equal(images, images_t) and torch.equal(labels, labels_t)
    maps = SyntheticMapDataset(scene)
    for k in (0, 5, len(scene) - 1):
        image, label = maps[k]
        assert image.is_contiguous() and image.shape == (3, scene.height, scene.width)
        image_t, label_t = SyntheticMapDataset(scene, transform=default_item)[k]
        assert torch.equal(image, image_t) and label == label_t


def test_default_render_batch_follows_the_image_size():
    # As many images as 32 MiB of RGBA pixels hold, 4 to 16; what SyntheticDataset draws per submission.
    sized = lambda w, h: pinsynth.Scene.from_toml(f"[image]\nwidth = {w}\nheight = {h}\n[sweep]\ncount = 8\n")
    assert default_batch(sized(224, 224)) == 16 and default_batch(sized(724, 724)) == 16
    assert default_batch(sized(725, 725)) == 15
    assert default_batch(sized(1024, 1024)) == 8
    assert default_batch(sized(1448, 1448)) == 4 and default_batch(sized(1024, 2048)) == 4
    assert default_batch(sized(4096, 4096)) == 4
    assert SyntheticDataset(sized(224, 224))._renderer.batch == 16
    assert SyntheticDataset(sized(224, 224), batch=2)._renderer.batch == 2


def test_map_dataset_random_access_with_workers(default_scene, expected):
    scene, _ = default_scene
    ds = SyntheticMapDataset(scene, transform=who_and_what)
    assert len(ds) == len(scene)
    g = torch.Generator().manual_seed(3)
    loader = DataLoader(ds, batch_size=None, shuffle=True, generator=g, num_workers=2)
    items = list(loader)
    order = [i for i, *_ in items]
    assert sorted(order) == list(range(len(scene))) and order != sorted(order)
    for index, worker, image, mask, record in items:
        assert worker is not None
        assert [image, mask, record] == list(expected[index])
    assert ds[-1][0] == len(scene) - 1
    with pytest.raises(IndexError):
        ds[len(scene)]


def test_map_dataset_over_chosen_indices(default_scene, expected):
    scene, _ = default_scene
    ds = SyntheticMapDataset(scene, transform=who_and_what, indices=[7, 3])
    assert len(ds) == 2
    assert [ds[0][0], ds[1][0]] == [7, 3]
    assert list(ds[1][2:]) == list(expected[3])


def test_scene_pickles_as_its_resolved_toml_and_renderers_do_not(default_scene):
    scene, _ = default_scene
    again = pickle.loads(pickle.dumps(scene))
    assert again.to_toml() == scene.to_toml() and len(again) == len(scene)
    with pytest.raises(TypeError):
        pickle.dumps(pinsynth.Renderer(scene))
    with pytest.raises(TypeError, match="expected pinsynth.Scene"):
        SyntheticDataset("scenes/default.toml")


def test_forked_workers_after_the_main_process_streamed(default_scene, expected):
    # The main process streams first (its renderer starts render threads); DataLoader workers forked
    # afterwards inherit that renderer without its threads, drop it and open their own.
    scene, _ = default_scene
    ds = SyntheticDataset(scene, transform=who_and_what, indices=range(8))
    assert [i for i, *_ in DataLoader(ds, batch_size=None, num_workers=0)] == list(range(8))
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork", timeout=120)
    items = list(loader)
    assert sorted(i for i, *_ in items) == list(range(8))
    for index, worker, image, mask, record in items:
        assert worker == [index % 2, 2] and [image, mask, record] == list(expected[index])
