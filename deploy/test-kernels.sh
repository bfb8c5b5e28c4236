#!/usr/bin/env bash
# Runs the numerics-sensitive test suites that reach BLAS through LibTorch
# (tests/ml, tests/offload, tests/sim: split and local-loss exactness,
# determinism, resume; tests/strategies links no BLAS) under OpenBLAS
# kernels other than the one the host's own run used: Prescott (SSE3, what
# OpenBLAS 0.3.21 falls back to on CPUs it does not know) and, when the CPU
# has AVX2 and FMA, Haswell. A kernel is skipped
# when it is the one OpenBLAS picks here anyway (Zen runs Haswell's kernels),
# since ./deploy/test.sh's main ctest run covered it. Usage:
#   deploy/test-kernels.sh [BUILD_DIR]   (after a build; default build/)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
SUITES=(ml offload sim)

# OpenBLAS's own choice on this host, as Tandem names it.
own=$(env -u OPENBLAS_CORETYPE TANDEM_BLAS_KERNEL=off \
  "$BUILD_DIR/sim/tandem-sim" --version |
  sed -n 's/.*, kernel \([A-Za-z0-9]*\) .*/\1/p')
case "$own" in Zen | Haswell) own=Haswell ;; esac

kernels=(Prescott)
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  kernels+=(Haswell)
fi
for kernel in "${kernels[@]}"; do
  if [ "$kernel" = "$own" ]; then
    echo "test-kernels: $kernel is this host's own kernel: covered already"
    continue
  fi
  for suite in "${SUITES[@]}"; do
    echo "test-kernels: tests/$suite under OPENBLAS_CORETYPE=$kernel"
    (cd "$BUILD_DIR/tests/$suite" &&
      OPENBLAS_CORETYPE="$kernel" ctest --output-on-failure -j "$(nproc)")
  done
done
