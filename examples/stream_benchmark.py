"""Samples per second into a PyTorch DataLoader: rendered on the fly by pinsynth.torch.SyntheticDataset
against reading the same dataset's PNGs back with torchvision.datasets.ImageFolder.

    python examples/stream_benchmark.py [scene.toml] [--count 600] [--size 224] [--workers 0,2] [--set k=v]
                                        [--render-batch N] [--render-jobs N]

Both sides deliver the same items: (uint8 tensor 3xHxW, class index) in batches of --batch-size. The
PNGs are read right after being written (warm page cache), which favours the disk side. Workers are
persistent; the first epoch (worker start-up and, when streaming, each worker opening its renderer) is
reported apart; then --rounds epochs of each alternate and the best of each is compared. The load
average is printed before and after: on a shared machine it says how much the figures can be trusted.

OpenMP's idle threads (torch's intra-op pool) sleep at once instead of spinning first:
OMP_WAIT_POLICY=PASSIVE unless the environment sets it (it must be set before torch is imported).
Spinning threads take a core from the render threads of a DataLoader without workers; reading PNGs
is not affected by it. Set it yourself to compare (ACTIVE: idle threads spin throughout).
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402 (after OMP_WAIT_POLICY)
import torchvision  # noqa: E402
from torch.utils.data import ConcatDataset, DataLoader  # noqa: E402
from torchvision.transforms import PILToTensor  # noqa: E402

import pinsynth  # noqa: E402
from pinsynth.torch import SyntheticDataset, default_batch  # noqa: E402


def drain(loader):
    """Iterates the loader once; returns (samples, seconds)."""
    n, t0 = 0, time.perf_counter()
    for images, labels in loader:
        n += len(labels)
    return n, time.perf_counter() - t0


def main():
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scene", nargs="?", default=str(here / "scenes" / "default.toml"))
    ap.add_argument("--count", type=int, default=600, help="images (sweep.count)")
    ap.add_argument("--size", type=int, default=224, help="image width and height")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", default="0,2", help="DataLoader worker counts to try, comma-separated")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="scene override, as the CLI's --set (e.g. image.antialias=fxaa)")
    ap.add_argument("--rounds", type=int, default=3, help="timed epochs per configuration after the first; the best is reported")
    ap.add_argument("--render-batch", type=int, default=None,
                    help="images per GPU submission in each streaming renderer (default: SyntheticDataset's, "
                         "pinsynth.torch.default_batch; the pixels do not depend on it)")
    ap.add_argument("--render-jobs", type=int, default=None,
                    help="render threads of the streaming dataset (default: SyntheticDataset's, one per core "
                         "without DataLoader workers, one in each worker)")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",")]

    sets = [f"sweep.count={args.count}", f"image.width={args.size}", f"image.height={args.size}", *args.set]
    scene = pinsynth.Scene.from_file(args.scene, overrides=sets)
    print("load average %.2f %.2f %.2f (1, 5, 15 min) at the start" % os.getloadavg()
          + f"; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dataset"
        summary = scene.render(out, formats=["imagefolder"], preview=0)
        print(f"{len(scene)} images {args.size}x{args.size} {' '.join(args.set)} render batch {args.render_batch or default_batch(scene)}, render jobs {args.render_jobs or 'default'}; scene.render wrote the PNG dataset in "
              f"{summary['seconds']:.2f} s ({summary['images_per_second']:.0f} images/s, {summary['workers']} workers)")
        splits = sorted(p for p in (out / "imagefolder").iterdir() if p.is_dir())
        folder = ConcatDataset(
            [torchvision.datasets.ImageFolder(str(s), transform=PILToTensor()) for s in splits]
        )
        assert len(folder) == len(scene), (len(folder), len(scene))

        print(f"{'workers':>7}  {'stream (pinsynth)':>18}  {'ImageFolder (PNG)':>18}  ratio   first epoch (start-up included)")
        for w in workers:
            loaders = {
                name: DataLoader(ds, batch_size=args.batch_size, num_workers=w, persistent_workers=w > 0)
                for name, ds in (("stream", SyntheticDataset(scene, batch=args.render_batch, jobs=args.render_jobs)), ("disk", folder))
            }
            first = {name: drain(loader) for name, loader in loaders.items()}
            rates = {name: [] for name in loaders}
            for _ in range(args.rounds):  # alternating, so that the machine's load falls on both alike
                for name, loader in loaders.items():
                    n, s = drain(loader)
                    assert n == len(scene)
                    rates[name].append(n / s)
            best = {name: max(r) for name, r in rates.items()}
            firsts = ", ".join(f"{name} {n / s:.0f}/s" for name, (n, s) in first.items())
            print(f"{w:>7}  {best['stream']:>13.0f} /s  {best['disk']:>13.0f} /s  {best['stream'] / best['disk']:.2f}"
                  f"    {firsts}")
            del loaders
    print("load average %.2f %.2f %.2f (1, 5, 15 min) at the end" % os.getloadavg())
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, pinsynth {pinsynth.__version__}, "
          f"{torch.get_num_threads()} torch threads")


if __name__ == "__main__":
    main()
