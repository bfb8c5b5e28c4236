#!/usr/bin/env bash
# CI's one command (.ci/run). Installs what is missing, then, cheapest and
# quickest to fail first:
#   1. deploy/format-check.sh: clang-format over every tracked *.h/*.cc;
#   2. configures build-tsa/ (no unity batches; nothing is built there but
#      generated headers) and runs deploy/check-thread-safety.sh: Clang's
#      thread-safety analysis over every unit that does not need LibTorch;
#   3. builds the torch-free test suites (tests/core, tests/ml_data,
#      tests/strategies) with ASan+UBSan into build-asan/ and runs them; any
#      report fails;
#   4. configures build/ with -Werror (TANDEM_WERROR), builds everything and
#      runs all tests with ctest;
#   5. deploy/test-kernels.sh: the numerics-sensitive suites again under the
#      OpenBLAS kernels (Prescott, Haswell) the host did not use in step 4.
# Extra arguments go to step 4's ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${TANDEM_BUILD_DIR:-build}"
ASAN_DIR="${TANDEM_ASAN_BUILD_DIR:-build-asan}"
TSA_DIR="${TANDEM_TSA_BUILD_DIR:-build-tsa}"
# Sanitized test binaries also run at build time (test discovery).
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

step() { echo "== test.sh: $* (at ${SECONDS} s)"; }

./deploy/install-deps.sh --ci

step "format check"
./deploy/format-check.sh

step "thread-safety analysis"
# Configured only, without unity batches: the analysis reads each source's
# own command.
cmake -S . -B "$TSA_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTANDEM_UNITY=OFF >/dev/null
# Generated headers the analysed units include.
cmake --build "$TSA_DIR" --target tandem_proto_generated \
  tandem_build_version >/dev/null
./deploy/check-thread-safety.sh "$TSA_DIR"

step "ASan+UBSan: torch-free test suites"
cmake -S . -B "$ASAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DTANDEM_SANITIZE=address,undefined >/dev/null
# Ninja's per-folder targets: every test binary of these folders (none of
# them links LibTorch).
cmake --build "$ASAN_DIR" -j "$(nproc)" --target \
  tests/core/all tests/ml_data/all tests/strategies/all
# Only the binaries built above (ctest names a test after its binary).
(cd "$ASAN_DIR" && ctest --output-on-failure -j "$(nproc)" \
  -R '^(core|ml_data|strategies)_')

step "build (-Werror) and all tests"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTANDEM_WERROR=ON >/dev/null
TANDEM_BUILD_DIR="$BUILD_DIR" ./deploy/build.sh
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$(nproc)" "$@")

step "numerics under other BLAS kernels"
./deploy/test-kernels.sh "$BUILD_DIR"
step "done"
