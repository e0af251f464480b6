#!/usr/bin/env bash
# Creates .venv in the repository with
#  - the Python libraries the interop tests (tests/interop.rs) load each dataset layout with: pycocotools
#    (COCO), datasets (Hugging Face imagefolder), webdataset, and Pillow + numpy (ImageFolder, MVTec AD);
#  - Quantus + scikit-learn, the independent implementations `pinsynth score` is checked against
#    (tests/score.rs; Quantus does not need torch);
#  - what the Python package (python/, tests/python.rs) needs: maturin to build it, pytest, torch and
#    torchvision (the DataLoader tests, examples/stream_benchmark.py, examples/train_and_score.py);
# then builds and installs the pinsynth Python package (python/) into it.
# Versions are pinned so a CI run tomorrow tests against the same libraries as today; wheels only.
# torch from PyPI brings its CUDA libraries: about 2.9 GB to download, 5.4 GB installed (CPU-only
# wheels are not on PyPI; the CUDA ones run on the CPU too).
# Usage: scripts/setup-python.sh [--torch] [python]   (default: python3; env PYTHON works too)
#   --torch  accepted for compatibility: torch is always installed now (the pytest suite needs it).
#   PINSYNTH_SKIP_PACKAGE=1 skips building the pinsynth package (only the libraries).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--torch" ]; then
  shift
fi
python=${1:-${PYTHON:-python3}}
if ! "$python" -m venv --help >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup-python: installing python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "setup-python: $python has no venv module; install it (Debian/Ubuntu: sudo apt-get install python3-venv)" >&2
    exit 1
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
  numpy==2.4.6 \
  pillow==13.0.0 \
  pycocotools==2.0.11 \
  webdataset==1.0.2 \
  datasets==5.2.0 \
  quantus==0.6.0 \
  scikit-learn==1.9.1 \
  scipy==1.17.1 \
  opencv-python==5.0.0.93 \
  matplotlib==3.11.2 \
  maturin==1.16.0 \
  pytest==9.2.0 \
  torch==2.15.0 \
  torchvision==0.29.2
.venv/bin/python -c 'import numpy, PIL, pycocotools, webdataset, datasets, quantus, sklearn, torch, torchvision; print("setup-python: .venv ready:", "numpy", numpy.__version__, "pillow", PIL.__version__, "datasets", datasets.__version__, "quantus", quantus.__version__, "scikit-learn", sklearn.__version__, "torch", torch.__version__)'
if [ -z "${PINSYNTH_SKIP_PACKAGE:-}" ]; then
  # The package's Rust crate is its own workspace; building it in the repository's target/ lets it reuse
  # the dependencies the root crate compiled with the same features (the PyO3 macros' syn features make
  # wgpu and the other users of proc-macros compile once more).
  echo "setup-python: building the pinsynth Python package (python/; first build takes a few minutes)"
  PATH="$PWD/.venv/bin:$PATH" MATURIN_PEP517_ARGS="--locked" CARGO_TARGET_DIR="$PWD/target" \
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation --force-reinstall \
    --no-deps ./python
  .venv/bin/python -c 'import pinsynth; print("setup-python: pinsynth", pinsynth.__version__, "installed")'
fi
