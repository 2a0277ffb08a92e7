#!/usr/bin/env bash
# Installs the packages, builds nasq and runs the main job on the default stack:
# search, final training, evaluation, report and export of Fashion-MNIST.
#
# usage: scripts/demo.sh [STACK.toml]   (as root on a fresh Debian 12 machine)
set -euo pipefail
cd "$(dirname "$0")/.."

stack="${1:-configs/fashion-mnist.toml}"
scripts/install-deps.sh
scripts/build.sh
build/bin/nasq run "$stack"
