#!/usr/bin/env bash
# Installs Tandem's build and run dependencies from Debian's packages; with
# --ci also the tools of CI's checks (clang for the thread-safety analysis,
# clang-format, jq). Idempotent: quiet and fast when everything is there.
set -euo pipefail

PACKAGES=(
  cmake g++ ninja-build ccache
  libtorch-dev libopenblas0-pthread
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libzip-dev libssl-dev openssl dataset-fashion-mnist
  prometheus-cpp-dev
)
# deploy/check-thread-safety.sh and deploy/format-check.sh; systemd-analyze
# (tests/deploy) and promtool (tests/server/metrics_test.cc). `prometheus`,
# for its promtool, is large: 19 MB to download, ~320 MB installed with its
# web UI's JavaScript dependencies. yamllint and python3-kubernetes (the
# Kubernetes API schema) for deploy/k8s/validate.sh (tests/deploy).
CI_PACKAGES=(clang-14 clang-format-14 jq systemd prometheus yamllint python3-torch
  python3-kubernetes)
if [ "${1:-}" = "--ci" ]; then
  PACKAGES+=("${CI_PACKAGES[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
