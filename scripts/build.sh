#!/usr/bin/env bash
# Configures and builds nasq in BUILD_DIR (default: build) with Ninja.
#
# usage: scripts/build.sh [--clean] [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${BUILD_DIR:-build}"
if [[ "${1:-}" == "--clean" ]]; then
  shift
  rm -rf "$build_dir"
fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
# Two jobs: LibTorch translation units need 1-2 GiB of memory each.
cmake --build "$build_dir" -j "${NASQ_JOBS:-2}"
