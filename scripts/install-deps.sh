#!/usr/bin/env bash
# Installs everything pinsynth and its tests need on Debian/Ubuntu besides a Rust toolchain: the Vulkan
# loader and Mesa's lavapipe (software Vulkan; real GPUs use their own driver), vulkan-tools for
# `vulkaninfo`, python3-venv, and then the Python virtual environment of the interop tests
# (scripts/setup-python.sh: .venv with pinned numpy, Pillow, pycocotools, webdataset, datasets), so
# that `cargo test --release` runs every test. Runs apt-get as root, or through sudo.
# Usage: scripts/install-deps.sh [--no-python]   (--no-python: skip the venv; the interop tests are
# then reported ignored, with that reason)
set -euo pipefail
python=1
for arg in "$@"; do
  case "$arg" in
    --no-python) python=0 ;;
    *) echo "install-deps: unknown option $arg (allowed: --no-python)" >&2; exit 1 ;;
  esac
done
packages=(mesa-vulkan-drivers libvulkan1 vulkan-tools)
[ "$python" -eq 1 ] && packages+=(python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: ${packages[*]} already installed"
else
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi
if [ "$python" -eq 1 ]; then
  "$(dirname "$0")/setup-python.sh"
fi
