#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs all tests with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
./deploy/build.sh
cd "${TANDEM_BUILD_DIR:-build}"
exec ctest --output-on-failure -j "$(nproc)" "$@"
