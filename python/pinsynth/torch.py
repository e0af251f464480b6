"""PyTorch datasets that render pinsynth samples on the fly (this module imports torch; the rest of
pinsynth does not).

    from torch.utils.data import DataLoader
    from pinsynth.torch import SyntheticDataset
    loader = DataLoader(SyntheticDataset(scene), batch_size=32, num_workers=2)
    for images, labels in loader: ...   # uint8 Bx3xHxW, int64 B (ImageFolder classes: ng 0, ok 1)

Every item is a pure function of the scene and its index, byte-identical to what `pinsynth render`
writes, whatever the worker count or the order. Each process (the main one, each DataLoader worker)
opens its own renderer on first use; renderers are never pickled or shared across a fork.
"""

import os

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from . import Renderer, Scene

__all__ = ["CLASSES", "SyntheticDataset", "SyntheticMapDataset", "default_item"]

#: Class indices as torchvision's ImageFolder numbers pinsynth's imagefolder layout (alphabetical).
CLASSES = {"ng": 0, "ok": 1}


def default_item(image, mask, record):
    """`(image, label)`: uint8 tensor 3xHxW (channels first, as torchvision.io.decode_image gives) and
    the ImageFolder class index (`ng` 0, `ok` 1). The mask and record are dropped; pass a `transform`
    to keep them."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))), CLASSES[record["label"]]


class _PerProcessRenderer:
    """One renderer per process, opened lazily: a DataLoader worker (forked or spawned) opens its
    own instead of inheriting the parent's GPU device."""

    def __init__(self, scene):
        if not isinstance(scene, Scene):
            raise TypeError(f"scene: expected pinsynth.Scene, got {type(scene).__name__}")
        self.scene = scene
        self._renderer = None
        self._pid = None

    def get(self):
        if self._renderer is None or self._pid != os.getpid():
            info = get_worker_info()
            if info is not None and info.num_workers > 1:
                # As `pinsynth render -j N` does: with several workers (one device each), Mesa's
                # lavapipe rasterises on the submitting thread instead of starting a thread per core
                # in every worker. Read when the device opens; this process's environment only.
                os.environ.setdefault("LP_NUM_THREADS", "0")
            self._renderer = Renderer(self.scene)
            self._pid = os.getpid()
        return self._renderer

    def __getstate__(self):
        return {"scene": self.scene}

    def __setstate__(self, state):
        self.__init__(state["scene"])


def _item(transform, sample):
    image, mask, record = sample
    return (transform or default_item)(image, mask, record)


class _SceneIndices:
    """What both datasets hold: the scene, its per-process renderer, the transform and the indices."""

    def __init__(self, scene, transform=None, indices=None):
        self._renderer = _PerProcessRenderer(scene)
        self.scene = scene
        self.transform = transform
        self.indices = range(len(scene)) if indices is None else [int(i) for i in indices]

    def __len__(self):
        return len(self.indices)


class SyntheticDataset(_SceneIndices, IterableDataset):
    """Streams the scene's images (or `indices`) in order. DataLoader worker K of N takes the indices
    with index mod N == K, each worker rendering with its own renderer; items are
    `transform(image, mask, record)` (NumPy uint8 HxWx3, uint8 HxW, manifest record dict), by default
    `default_item`: `(image tensor 3xHxW, class index)`."""

    def _mine(self):
        info = get_worker_info()
        if info is None:
            return self.indices
        return (i for i in self.indices if i % info.num_workers == info.id)

    def __iter__(self):
        renderer = self._renderer.get()
        for i in self._mine():
            yield _item(self.transform, renderer.sample(i))


class SyntheticMapDataset(_SceneIndices, Dataset):
    """Random access: `dataset[k]` renders the k-th image of the scene (or of `indices`), as
    `transform(image, mask, record)` (default `default_item`). Works with any sampler and worker count."""

    def __getitem__(self, k):
        if not -len(self.indices) <= k < len(self.indices):
            raise IndexError(f"index {k} out of range for a dataset of {len(self.indices)} images")
        return _item(self.transform, self._renderer.get().sample(self.indices[k]))
