#!/usr/bin/env bash
# Installs the packages, builds nasq from scratch and runs every test.
#
# usage: scripts/test.sh   (as root on a fresh Debian 12 machine)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test
BUILD_DIR="${BUILD_DIR:-build-test}" scripts/build.sh --clean
cd "${BUILD_DIR:-build-test}"
ctest --output-on-failure --timeout 900 -j 1
