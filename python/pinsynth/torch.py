"""PyTorch datasets that render pinsynth samples on the fly (this module imports torch; the rest of
pinsynth does not).

    from torch.utils.data import DataLoader
    from pinsynth.torch import SyntheticDataset
    loader = DataLoader(SyntheticDataset(scene), batch_size=32, num_workers=2)
    for images, labels in loader: ...   # uint8 Bx3xHxW, int64 B (ImageFolder classes: ng 0, ok 1)

With `truth=["depth", "amodal"]` the transform also gets the optional ground truth (see
`Renderer.sample`): `transform(image, mask, record, truth)`.

Every item is a pure function of the scene and its index, byte-identical to what `pinsynth render`
writes, whatever the worker count or the order. Each process (the main one, each DataLoader worker)
opens its own renderer on first use; renderers are never pickled or shared across a fork.
"""

import os

import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from . import Renderer, Scene
from ._pinsynth import _default_batch, _truth_names

__all__ = ["CLASSES", "SyntheticDataset", "SyntheticMapDataset", "default_batch", "default_item"]

#: Class indices as torchvision's ImageFolder numbers pinsynth's imagefolder layout (alphabetical).
CLASSES = {"ng": 0, "ok": 1}


def default_item(image, mask, record, truth=None):
    """`(image, label)`: uint8 tensor 3xHxW (channels first: a view of the HxWx3 pixels, as
    torchvision's PILToTensor gives; no copy, batching makes the one copy) and the ImageFolder class
    index (`ng` 0, `ok` 1). The mask, record and truth are dropped; pass a `transform` to keep them.

    The datasets give these items without a transform, the same values made more cheaply: the
    renderer hands over the pixels channels first (a contiguous tensor, which batches by plain copy)
    and only the record's label (no dict of every pin)."""
    return torch.from_numpy(image).permute(2, 0, 1), CLASSES[record["label"]]


#: What the datasets ask of each sample without a transform: `default_item`'s values, made directly.
_DEFAULT_ASK = {"record": "label", "layout": "chw"}


def _default_fast(image, mask, label):
    return torch.from_numpy(image), CLASSES[label]


def default_batch(scene):
    """Images per GPU submission a streaming dataset draws unless told: what `pinsynth render` draws
    (as many as 32 MiB of pixels hold, at least 4 and at most 16: 16 up to 724x724, 8 at 1024x1024, 4
    from 1448x1448). On lavapipe, at 224x224, 16 instead of 4 took ~5 % less CPU time per sample in
    DataLoader workers (fewer submissions and hand-offs to the driver's queue thread, and the CPU pass
    runs over several images in a row)."""
    return _default_batch(scene.width, scene.height)


class _PerProcessRenderer:
    """One renderer per process, opened lazily: a DataLoader worker (forked or spawned) opens its
    own instead of inheriting the parent's GPU device. `jobs` None: render threads as `Renderer`'s
    `jobs` 0 (one per core) in the main process (a DataLoader without workers), 1 in each worker (the
    workers already use the cores)."""

    def __init__(self, scene, batch=1, jobs=None):
        if not isinstance(scene, Scene):
            raise TypeError(f"scene: expected pinsynth.Scene, got {type(scene).__name__}")
        if jobs is not None and (not isinstance(jobs, int) or jobs < 0):
            raise ValueError(f"jobs: expected None or an int >= 0 (0: one per core), got {jobs!r}")
        self.scene = scene
        self.batch = batch
        self.jobs = jobs
        self._renderer = None
        self._pid = None

    def get(self):
        if self._renderer is None or self._pid != os.getpid():
            info = get_worker_info()
            jobs = self.jobs if self.jobs is not None else (0 if info is None else 1)
            if (info is not None and info.num_workers > 1) or jobs != 1:
                # As `pinsynth render -j N` does: with several devices (workers or render threads),
                # Mesa's lavapipe rasterises on the submitting thread instead of starting a thread per
                # core for every device. Read when a device opens; this process's environment only.
                os.environ.setdefault("LP_NUM_THREADS", "0")
            self._renderer = Renderer(self.scene, batch=self.batch, jobs=jobs)
            self._pid = os.getpid()
        return self._renderer

    def __getstate__(self):
        return {"scene": self.scene, "batch": self.batch, "jobs": self.jobs}

    def __setstate__(self, state):
        self.__init__(state["scene"], state["batch"], state["jobs"])


class _SceneIndices:
    """What both datasets hold: the scene, its per-process renderer, the transform, the indices and
    the optional ground truth asked for."""

    def __init__(self, scene, transform=None, indices=None, truth=None, batch=1, jobs=None):
        self._renderer = _PerProcessRenderer(scene, batch, jobs)
        self.scene = scene
        self.transform = transform
        self.indices = range(len(scene)) if indices is None else [int(i) for i in indices]
        # Checked here, not in each worker; None (no truth dict) or a list of names.
        self.truth = None if truth is None else _truth_names(truth)
        # What each sample is rendered as: without a transform, default_item's values made directly
        # (the truth, which default_item drops, is not made).
        self._ask = _DEFAULT_ASK if transform is None else {"truth": self.truth}
        # The baked light, made once here: DataLoader workers forked later (each epoch, unless
        # persistent) inherit it instead of each baking again (~0.2 s of CPU at each worker's start).
        scene._bake()

    def __len__(self):
        return len(self.indices)

    def _item(self, sample):
        return _default_fast(*sample) if self.transform is None else self.transform(*sample)


class SyntheticDataset(_SceneIndices, IterableDataset):
    """Streams the scene's images (or `indices`) in order. DataLoader worker K of N takes the indices
    with index mod N == K, each worker rendering with its own renderer (`batch` images per GPU
    submission; the pixels do not depend on it); items are `transform(image, mask, record)` (NumPy
    uint8 HxWx3, uint8 HxW, manifest record dict; with `truth`, also the truth dict of
    `Renderer.sample`), by default `default_item`: `(image tensor 3xHxW, class index)`.

    Without DataLoader workers the main process renders ahead on one thread per core while the loop
    uses the samples made (`jobs`: `Renderer`'s; default None: every core there, one thread in each
    worker; `batch` None: `default_batch(scene)`). The items and their order do not depend on
    `jobs` or `batch`."""

    def __init__(self, scene, transform=None, indices=None, truth=None, batch=None, jobs=None):
        if batch is None and isinstance(scene, Scene):
            batch = default_batch(scene)
        super().__init__(scene, transform, indices, truth, batch, jobs)

    def _mine(self):
        info = get_worker_info()
        if info is None:
            return self.indices
        return (i for i in self.indices if i % info.num_workers == info.id)

    def __iter__(self):
        for sample in self._renderer.get().samples(self._mine(), **self._ask):
            yield self._item(sample)


class SyntheticMapDataset(_SceneIndices, Dataset):
    """Random access: `dataset[k]` renders the k-th image of the scene (or of `indices`), as
    `transform(image, mask, record)` (with `truth`, also the truth dict; default `default_item`).
    Works with any sampler and worker count."""

    def __init__(self, scene, transform=None, indices=None, truth=None):
        # One image per call: no render threads.
        super().__init__(scene, transform, indices, truth, batch=1, jobs=1)

    def __getitem__(self, k):
        if not -len(self.indices) <= k < len(self.indices):
            raise IndexError(f"index {k} out of range for a dataset of {len(self.indices)} images")
        return self._item(self._renderer.get().sample(self.indices[k], **self._ask))
