#!/usr/bin/env bash
# Creates .venv in the repository with the Python libraries the interop tests (tests/interop.rs) load
# each dataset layout with: pycocotools (COCO), datasets (Hugging Face imagefolder), webdataset, and
# Pillow + numpy (ImageFolder and MVTec AD folder rules); and Quantus + scikit-learn, the independent
# implementations `pinsynth score` is checked against (tests/score.rs; Quantus does not need torch).
# Versions are pinned so a CI run tomorrow tests against the same readers as today; wheels only,
# nothing is compiled.
# Usage: scripts/setup-python.sh [--torch] [python]   (default: python3; env PYTHON works too)
#   --torch  also installs PyTorch + torchvision for examples/train_and_score.py (PyPI's Linux wheel
#            brings the CUDA libraries: about 3 GB to download, 5 GB installed; not needed by the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
torch=0
if [ "${1:-}" = "--torch" ]; then
  torch=1
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
  matplotlib==3.11.2
if [ "$torch" = 1 ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    torch==2.15.0 \
    torchvision==0.29.2
fi
.venv/bin/python -c 'import numpy, PIL, pycocotools, webdataset, datasets, quantus, sklearn; print("setup-python: .venv ready:", "numpy", numpy.__version__, "pillow", PIL.__version__, "datasets", datasets.__version__, "quantus", quantus.__version__, "scikit-learn", sklearn.__version__)'
