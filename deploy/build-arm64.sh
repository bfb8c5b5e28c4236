#!/usr/bin/env bash
# Cross-compiles tandem-client and tandem-server for Debian 12 arm64
# (aarch64-linux-gnu) on an x86_64 Debian 12 host.
#
#   deploy/build-arm64.sh [BUILD_DIR]     (default: ../build-arm64 next to
#                                          the checkout)
#
# 1. Installs the host tools if missing: Debian's cross compiler
#    (g++-aarch64-linux-gnu), qemu-user-static (deploy/test-arm64.sh runs the
#    binaries with it), mmdebstrap, cmake, ninja and the host protoc and
#    grpc_cpp_plugin for code generation.
# 2. Makes an arm64 sysroot of Debian's own arm64 packages (libtorch-dev,
#    libgrpc++-dev, ... and their dependencies) with mmdebstrap into
#    TANDEM_ARM64_SYSROOT (default: ../arm64-sysroot next to the checkout,
#    ~1.1 GB). The host's dpkg is not touched (no multiarch). Packages are
#    only extracted (--variant=extract: no maintainer scripts, so no qemu
#    needed), then fixed up: absolute symlinks made relative, and the BLAS/
#    LAPACK alternatives that libopenblas0-pthread's postinst would set.
#    Made once; delete the folder (or set TANDEM_ARM64_REFRESH=1) to remake.
# 3. Configures BUILD_DIR with deploy/arm64-toolchain.cmake and builds only
#    tandem-client and tandem-server (TANDEM_ARM64_TARGETS overrides), at
#    nice 19 with TANDEM_ARM64_JOBS jobs (default 1: a LibTorch translation
#    unit needs ~1.5 GiB). Measured on 2 cores: sysroot 1-1.5 min (download
#    and extraction), both targets from scratch ~7 min at -j1.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="$(pwd)"
PARENT="$(dirname "$SRC")"
BUILD_DIR="${1:-$PARENT/build-arm64}"
SYSROOT="${TANDEM_ARM64_SYSROOT:-$PARENT/arm64-sysroot}"
JOBS="${TANDEM_ARM64_JOBS:-1}"
read -r -a TARGETS <<< "${TANDEM_ARM64_TARGETS:-tandem-client tandem-server}"
SUITE=bookworm
MIRROR="${TANDEM_ARM64_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${TANDEM_ARM64_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

case "$BUILD_DIR" in
  "$SRC"/*|"$SRC") echo "build-arm64: keep BUILD_DIR outside the checkout" >&2
                   exit 2 ;;
esac

# The arm64 packages of the sysroot: the project's build dependencies
# (deploy/install-deps.sh) and what they need at run time.
SYSROOT_PACKAGES=(
  libc6-dev libstdc++-12-dev
  libtorch-dev libopenblas0-pthread
  libgrpc++-dev libprotobuf-dev
  # gRPC's CMake config checks that its (arm64) grpc_cpp_plugin exists; the
  # host's generates the code.
  protobuf-compiler-grpc
  libabsl-dev nlohmann-json3-dev libssl-dev zlib1g-dev libzip-dev
  prometheus-cpp-dev libcivetweb-dev
  libgtest-dev libgmock-dev  # the top CMakeLists.txt requires GTest
)
HOST_PACKAGES=(
  g++-aarch64-linux-gnu qemu-user-static mmdebstrap
  cmake ninja-build protobuf-compiler protobuf-compiler-grpc
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# --- 1. host tools ----------------------------------------------------------
missing=()
for p in "${HOST_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-arm64: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- 2. sysroot ---------------------------------------------------------------
stamp="$SYSROOT/.tandem-sysroot"
want="$SUITE ${SYSROOT_PACKAGES[*]}"
if [ "${TANDEM_ARM64_REFRESH:-0}" = 1 ] || [ ! -f "$stamp" ] ||
   [ "$(cat "$stamp")" != "$want" ]; then
  echo "build-arm64: making the arm64 sysroot in $SYSROOT"
  start=$SECONDS
  tmp="$SYSROOT.tmp"
  $SUDO rm -rf "$tmp"
  includes="$(IFS=,; echo "${SYSROOT_PACKAGES[*]}")"
  $SUDO mmdebstrap --variant=extract --architectures=arm64 \
    --include="$includes" "$SUITE" "$tmp" \
    "deb $MIRROR $SUITE main" \
    "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main"
  # Absolute symlinks (usr/lib/<triplet>/libz.so -> /lib/...) would point
  # into the host: make them relative to the sysroot.
  $SUDO find "$tmp" -type l -lname '/*' -print0 |
    while IFS= read -r -d '' link; do
      target="$(readlink "$link")"
      rel="$(realpath -ms --relative-to="$(dirname "$link")" "$tmp$target")"
      $SUDO ln -sfn "$rel" "$link"
    done
  # update-alternatives of libopenblas0-pthread (not run by --variant=extract):
  # libtorch needs libblas.so.3 and liblapack.so.3, they libopenblas.so.0.
  lib="$tmp/usr/lib/aarch64-linux-gnu"
  for so in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    if [ ! -e "$lib/$so" ]; then
      $SUDO ln -sfn "openblas-pthread/$so" "$lib/$so"
    fi
  done
  # Every library LibTorch needs resolves inside the sysroot (qemu's dynamic
  # loader lists them; no ld.so.cache, so only the default folders count).
  if qemu-aarch64-static -L "$tmp" "$tmp/lib/ld-linux-aarch64.so.1" --list \
       "$(ls "$lib"/libtorch_cpu.so.* | head -1)" 2>&1 | grep -E "not found|error while loading"; then
    echo "build-arm64: libraries missing in the sysroot $tmp" >&2
    exit 1
  fi
  echo "$want" | $SUDO tee "$tmp/.tandem-sysroot" > /dev/null
  $SUDO rm -rf "$SYSROOT"
  $SUDO mv "$tmp" "$SYSROOT"
  echo "build-arm64: sysroot made in $((SECONDS - start)) s," \
    "$(du -sh "$SYSROOT" | cut -f1)"
fi

# The host's protoc and grpc_cpp_plugin generate code compiled against the
# sysroot's headers: their versions must match.
host_protoc="$(dpkg-query -W -f='${Version}' protobuf-compiler)"
sysroot_protobuf="$(sed -n 's/^#define PROTOBUF_VERSION \([0-9]*\)$/\1/p' \
  "$SYSROOT/usr/include/google/protobuf/port_def.inc" | head -1)"
protoc_number="$(/usr/bin/protoc --version | sed 's/.* //')"  # e.g. 3.21.12
IFS=. read -r pmaj pmin ppatch <<< "$protoc_number"
if [ "$((pmaj * 1000000 + pmin * 1000 + ppatch))" != "$sysroot_protobuf" ]; then
  echo "build-arm64: host protoc $protoc_number ($host_protoc) does not match" \
    "the sysroot's protobuf headers ($sysroot_protobuf)" >&2
  exit 1
fi

# --- 3. configure and build ---------------------------------------------------
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$SRC" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$SRC/deploy/arm64-toolchain.cmake" \
    -DTANDEM_ARM64_SYSROOT="$SYSROOT"
fi
start=$SECONDS
nice -n 19 cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"
echo "build-arm64: built ${TARGETS[*]} in $((SECONDS - start)) s"
for t in "${TARGETS[@]}"; do
  find "$BUILD_DIR" -maxdepth 2 -type f -name "$t" -exec file {} \;
done
