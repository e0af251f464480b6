"""pinsynth: synthetic connector-inspection images rendered headless, streamed into NumPy and PyTorch.

    import pinsynth
    scene = pinsynth.Scene.from_file("scenes/default.toml", overrides={"sweep.count": 100})
    image, mask, record = pinsynth.Renderer(scene).sample(0)   # uint8 HxWx3, uint8 HxW, manifest dict
    scene.render("dataset", formats=["imagefolder", "coco"])   # what `pinsynth render` writes

`pinsynth.torch` (imports torch) has `SyntheticDataset` and `SyntheticMapDataset` for DataLoaders.
"""

import os

# As the CLI does: Mesa's device-select layer only prints a spurious XDG_RUNTIME_DIR error in headless
# sessions (wgpu picks the adapter itself). Must be set before the first device opens.
os.environ.setdefault("NODEVICE_SELECT", "1")

from ._pinsynth import Renderer, Scene, __version__  # noqa: E402

__all__ = ["Renderer", "Scene", "__version__"]
