#!/usr/bin/env bash
# Configures (Release, Ninja) and builds Tandem into build/. Extra arguments
# are build targets (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${TANDEM_BUILD_DIR:-build}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
# LibTorch translation units need ~1.5 GiB each: one job per core is enough.
cmake --build "$BUILD_DIR" -j "$(nproc)" ${1:+--target "$@"}
