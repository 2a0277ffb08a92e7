#!/usr/bin/env bash
# Installs the Debian 12 packages nasq needs; only missing ones, so reruns are cheap.
#
# usage: scripts/install-deps.sh [--test]
#   --test  also installs what the test suite needs (python3-torch and
#           python3-onnx for the export tests, chromium for the report test)
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build ccache
  libtorch-dev libopenblas0
  libboost-dev libboost-program-options-dev libboost-graph-dev
  libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev
  zlib1g-dev libstb-dev libonnx-dev libprotobuf-dev
  doctest-dev
  dataset-fashion-mnist
)
test_packages=(python3-torch python3-onnx chromium)

packages=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
  packages+=("${test_packages[@]}")
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--test]" >&2
  exit 2
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root (or install them with apt-get)" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
