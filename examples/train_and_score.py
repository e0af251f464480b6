"""The seeds' whole loop on a CPU in minutes: render a dataset with pinsynth, train a small CNN from
scratch with PyTorch (no downloaded weights) on its ImageFolder layout, compute Grad-CAM for the test
split, then let `pinsynth score` say whether the model looks at the defective terminal, and write the
report page.

    scripts/setup-python.sh --torch           # PyTorch + torchvision into .venv (large download)
    cargo build --release
    .venv/bin/python examples/train_and_score.py --out /tmp/pinsynth-loop

Prints accuracy per class and per defect type, the score table, and the wall time of each step;
everything lands in --out (dataset/, maps/, score.json, score.csv, dataset/report/index.html,
summary.json). Seeded: the same arguments give the same dataset; training on a CPU is repeatable up
to PyTorch's own nondeterminism across thread counts.
"""
import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms

REPO = Path(__file__).resolve().parent.parent


def pinsynth_binary(arg):
    if arg:
        return arg
    built = REPO / "target" / "release" / "pinsynth"
    return str(built) if built.exists() else "pinsynth"


def run(cmd):
    print("$", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True)


class SmallCNN(nn.Module):
    """Four 3×3 conv blocks (8-16-32-64 channels, a 2× pooling before each of the last three), global
    max pooling (a defect anywhere should count), one linear layer: ~25 k parameters. The last block's
    1/8-resolution features are what Grad-CAM explains."""

    def __init__(self, classes=2):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())

        self.features = nn.Sequential(
            block(3, 8), nn.MaxPool2d(2), block(8, 16), nn.MaxPool2d(2), block(16, 32), nn.MaxPool2d(2), block(32, 64)
        )
        self.head = nn.Linear(64, classes)

    def forward(self, x):
        f = self.features(x)
        self.last_features = f  # kept for Grad-CAM
        return self.head(torch.amax(f, dim=(2, 3)))


def grad_cam(model, x, target):
    """Grad-CAM (Selvaraju et al. 2017): channel weights = spatial mean of d(logit)/d(features),
    map = ReLU(weighted sum of the feature maps), at the feature maps' resolution."""
    model.eval()
    x = x.clone().requires_grad_(False)
    logits = model(x)
    f = model.last_features
    grads = torch.autograd.grad(logits[:, target].sum(), f)[0]
    weights = grads.mean(dim=(2, 3), keepdim=True)
    return F.relu((weights * f).sum(dim=1)).detach()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pinsynth", help="the pinsynth binary (default: target/release/pinsynth, else PATH)")
    ap.add_argument("--count", type=int, default=1500, help="images to render")
    ap.add_argument("--size", type=int, default=96, help="image width and height")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    binary = pinsynth_binary(args.pinsynth)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    ds, maps = out / "dataset", out / "maps"
    times = {}

    t = time.time()
    run([binary, "render", REPO / "scenes/default.toml", "--out", ds, "--overwrite", "--quiet",
         "--set", f"sweep.count={args.count}", "--set", f"sweep.seed={args.seed}", "--set", "sweep.ok_fraction=0.5",
         "--set", f"image.width={args.size}", "--set", f"image.height={args.size}"])
    times["render_s"] = time.time() - t

    # ImageFolder: classes sorted by name, ng = 0, ok = 1.
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.25] * 3)])
    train = datasets.ImageFolder(ds / "imagefolder" / "train", transform=tf)
    test = datasets.ImageFolder(ds / "imagefolder" / "test", transform=tf)
    ng = train.class_to_idx["ng"]
    print(f"train {len(train)} images, test {len(test)}, classes {train.classes}", flush=True)

    t = time.time()
    model = SmallCNN()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    # The train split decoded once (a few MB), then shuffled batches of it each epoch.
    xs = torch.stack([train[i][0] for i in range(len(train))])
    ys = torch.tensor(train.targets)
    gen = torch.Generator().manual_seed(args.seed)
    loader = [None] * ((len(train) + 31) // 32)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.epochs * len(loader))
    for epoch in range(args.epochs):
        model.train()
        total, correct, loss_sum = 0, 0, 0.0
        order = torch.randperm(len(train), generator=gen)
        for b in range(len(loader)):
            idx = order[b * 32 : (b + 1) * 32]
            x, y = xs[idx], ys[idx]
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            total += len(y)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss_sum / total:.4f}, train accuracy {correct / total:.3f}", flush=True)
    times["train_s"] = time.time() - t

    # Test accuracy per class and per defect type; Grad-CAM of the NG logit for every test image.
    t = time.time()
    records = {json.loads(l)["id"]: json.loads(l) for l in (ds / "manifest.jsonl").read_text().splitlines()}
    if maps.exists():
        shutil.rmtree(maps)
    maps.mkdir()
    per_class, per_type = {}, {}
    model.eval()
    for i in range(0, len(test), 64):
        batch = [test[j] for j in range(i, min(i + 64, len(test)))]
        x = torch.stack([b[0] for b in batch])
        y = torch.tensor([b[1] for b in batch])
        with torch.no_grad():
            pred = model(x).argmax(1)
        cams = grad_cam(model, x, ng)
        for k, (path, _) in enumerate(test.samples[i : i + len(batch)]):
            rid = Path(path).stem
            np.save(maps / f"{rid}.npy", cams[k].numpy().astype(np.float32))
            hit = int(pred[k] == y[k])
            per_class.setdefault(test.classes[y[k]], []).append(hit)
            d = records[rid]["defect"]
            per_type.setdefault(d["type"] if d else "ok", []).append(hit)
    times["gradcam_s"] = time.time() - t

    t = time.time()
    run([binary, "score", ds, "--maps", maps, "--out", out / "score.json", "--csv", out / "score.csv", "--overwrite"])
    run([binary, "score", ds, "--maps", maps, "--out", out / "score_tol0.json", "--tolerance", "0", "--worst", "0", "--overwrite"])
    # Baseline: a uniform map (no information) scores the region's share of the image.
    base = out / "uniform_maps"
    base.mkdir(exist_ok=True)
    for path, _ in test.samples:
        np.save(base / f"{Path(path).stem}.npy", np.ones((1, 1), dtype=np.float32))
    run([binary, "score", ds, "--maps", base, "--out", out / "score_uniform.json", "--worst", "0", "--overwrite"])
    run([binary, "report", ds, "--score", out / "score.json", "--overwrite"])
    times["score_and_report_s"] = time.time() - t

    score = json.loads((out / "score.json").read_text())
    strict = json.loads((out / "score_tol0.json").read_text())
    uniform = json.loads((out / "score_uniform.json").read_text())
    summary = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "torch": torch.__version__,
        "train_images": len(train),
        "test_images": len(test),
        "test_accuracy": sum(sum(v) for v in per_class.values()) / len(test),
        "accuracy_per_class": {k: sum(v) / len(v) for k, v in sorted(per_class.items())},
        "accuracy_per_type": {k: [sum(v) / len(v), len(v)] for k, v in sorted(per_type.items())},
        "score_overall": score["overall"],
        "score_by_type": score["by_type"],
        "pointing_game_tolerance_0": strict["overall"]["pointing_game"],
        "uniform_map_baseline": uniform["overall"],
        "seconds": {k: round(v, 1) for k, v in times.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    sys.exit(main())
