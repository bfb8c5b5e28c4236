#!/usr/bin/env bash
# Builds container images of the coordinator, the device client and the fleet simulator (its shards) from
# Debian's packages, without any outside image registry: mmdebstrap makes a
# Debian 12 (bookworm) root file system holding only the runtime packages
# the binary links against (found from its NEEDED libraries with dpkg -S),
# plus OpenBLAS and Debian's dataset-fashion-mnist, then the binary goes in
# as /usr/local/bin/tandem-{server,client,sim}, a non-root user `tandem`
# (uid/gid 10001) owns the working directory /var/lib/tandem, and
# `podman import` turns the tarball into the image tandem-{server,client,sim}
# (tags latest and the program's version). Before packing, every image is
# checked inside its root file system: ldd finds all libraries and
# `tandem-* --version`, run as the tandem user, names OpenBLAS.
#
#   deploy/build-images.sh [--build DIR] [--only server|client|sim]
#                          [--no-dataset] [--no-import] [--oci-archive]
#                          [--no-slim] [--mirror URL] [OUT_DIR]
#
# OUT_DIR        where the root file system tarballs go (default
#                /tmp/tandem-images): tandem-NAME-rootfs.tar, the package
#                list tandem-NAME.packages, the --version text
#                tandem-NAME.version, and the shared .deb cache apt-cache/
#                (~280 MB; delete it to free the space, a rebuild then downloads
#                again)
# --build DIR    the CMake build folder holding server/tandem-server and
#                client/tandem-client (default: build/ of this checkout)
# --only NAME    build one image: server, client or sim
# --no-dataset   leave out dataset-fashion-mnist (30 MB); mount an
#                MNIST-format folder and set data.path (server) or --data
#                (client) instead
# --no-import    make the tarballs only (no podman needed)
# --oci-archive  also write OUT_DIR/tandem-NAME.oci.tar (podman save
#                --format oci-archive), to load on a machine without the
#                tarball (podman load, skopeo copy)
# --no-slim      keep the files only features Tandem never uses load
#                (Mesa's GPU drivers, LLVM, ...: see SLIM below; ~220 MB)
# --mirror URL   Debian mirror (default: deb.debian.org with bookworm,
#                -updates and -security)
#
# TANDEM_PODMAN_RUN_ARGS  extra `podman run` options for the smoke run of
#                each image, for machines where podman's defaults fail, e.g.
#                "--runtime runc --ulimit nofile=20000:20000 --ulimit
#                nproc=4096:4096" without CAP_SYS_RESOURCE (podman raises
#                nofile to 1048576) or on cgroup v1/v2 hybrid hosts (crun
#                refuses them)
#
# Needs root (or unprivileged user namespaces for mmdebstrap's unshare
# mode), mmdebstrap and podman (installed with apt-get when missing), the
# built binaries, and the network to a Debian mirror: ~280 MB of packages
# the first time (both images share them). ~2.5 min for the first image,
# ~1 min for each one after (2 cores). The images are large, ~720 MB each
# (~690 MB tarballs), nearly all of it Debian's LibTorch and the OpenCV,
# FFmpeg, Qt and GDAL libraries it links against.
set -euo pipefail

# --- the customize hook: mmdebstrap runs this script again inside its
# --customize-hook with the root file system as $2 and the settings in
# TANDEM_* environment variables.
if [ "${1:-}" = "__customize" ]; then
  root="$2"
  name="$TANDEM_NAME"
  uid="$TANDEM_UID"
  fail() { echo "build-images: $name: $*" >&2; exit 1; }
  # The user and its group, written directly: the apt variant has no
  # passwd package (useradd), only base-passwd's /etc/passwd and /etc/group.
  shell=/usr/sbin/nologin
  [ -x "$root$shell" ] || shell=/bin/false
  grep -q "^tandem:" "$root/etc/group" ||
    echo "tandem:x:$uid:" >>"$root/etc/group"
  grep -q "^tandem:" "$root/etc/passwd" ||
    echo "tandem:x:$uid:$uid:Tandem:/var/lib/tandem:$shell" >>"$root/etc/passwd"
  if [ -f "$root/etc/shadow" ] && ! grep -q "^tandem:" "$root/etc/shadow"; then
    echo "tandem:!:19000::::::" >>"$root/etc/shadow"
  fi
  install -d -m 0750 -o "$uid" -g "$uid" "$root/var/lib/tandem"
  install -D -m 0755 "$TANDEM_BINARY" "$root/usr/local/bin/$name"
  if [ "$name" != tandem-client ]; then
    # The shipped run configs; their relative paths (configs/profiles/...)
    # resolve from the working directory /var/lib/tandem.
    install -d "$root/usr/share/tandem"
    cp -r "$TANDEM_SRC/configs" "$root/usr/share/tandem/configs"
    chmod -R a+rX,go-w "$root/usr/share/tandem"
    ln -s /usr/share/tandem/configs "$root/var/lib/tandem/configs"
  fi
  # Checks, inside the new root file system.
  missing="$(chroot "$root" ldd "/usr/local/bin/$name" | grep "not found" || true)"
  [ -z "$missing" ] || fail "libraries missing in the image:"$'\n'"$missing"
  chroot --userspec="$uid:$uid" "$root" "/usr/local/bin/$name" --version \
    >"$TANDEM_OUT/$name.version" || fail "--version failed in the image"
  cat "$TANDEM_OUT/$name.version"
  grep -qi "^BLAS: .*openblas" "$TANDEM_OUT/$name.version" ||
    fail "--version names no OpenBLAS (reference BLAS is 15x slower)"
  # shellcheck disable=SC2016  # dpkg-query's format, not the shell's
  chroot "$root" dpkg-query -W -f='${Package}\t${Version}\n' \
    >"$TANDEM_OUT/$name.packages"
  # Logs of the build; mmdebstrap removes the apt lists and .deb cache.
  rm -f "$root"/var/log/apt/*.log "$root"/var/log/dpkg.log \
    "$root"/var/cache/debconf/*-old
  exit 0
fi

SRC="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$SRC/build"
OUT=/tmp/tandem-images
NAMES=(server client sim)
DATASET=1
IMPORT=1
OCI_ARCHIVE=0
SLIM_IMAGE=1
MIRRORS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD="${2:?--build needs a directory}"; shift ;;
    --only)
      case "${2:-}" in
        server|client|sim) NAMES=("$2") ;;
        *) echo "build-images: --only server, client or sim" >&2; exit 2 ;;
      esac
      shift ;;
    --no-dataset) DATASET=0 ;;
    --no-import) IMPORT=0 ;;
    --oci-archive) OCI_ARCHIVE=1 ;;
    --no-slim) SLIM_IMAGE=0 ;;
    --mirror) MIRRORS=("${2:?--mirror needs a URL}"); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    -*) echo "build-images: unknown option $1" >&2; exit 2 ;;
    *) OUT="$1" ;;
  esac
  shift
done
if [ "$OCI_ARCHIVE" -eq 1 ] && [ "$IMPORT" -eq 0 ]; then
  echo "build-images: --oci-archive needs the podman import" >&2
  exit 2
fi
BUILD="$(cd "$BUILD" && pwd)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
need() {  # need COMMAND PACKAGE: installs PACKAGE when COMMAND is missing
  command -v "$1" >/dev/null && return 0
  echo "build-images: installing $2"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "$2"
}
need mmdebstrap mmdebstrap
need readelf binutils
if [ "$IMPORT" -eq 1 ]; then need podman podman; fi

# runtime_packages BINARY: the Debian packages of the libraries BINARY
# names as NEEDED (their dependencies come with them), one a line.
runtime_packages() {
  local bin="$1" lib path p pkg libs found=()
  libs="$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
  for lib in $libs; do
    path="$(ldd "$bin" | awk -v l="$lib" '$1 == l { print $3 }')"
    if [ -z "$path" ] || [ "$path" = "not" ]; then
      echo "build-images: $bin: $lib not found on this machine" \
        "(deploy/install-deps.sh)" >&2
      return 1
    fi
    # dpkg knows a file by the path its package ships (usrmerge: /lib or
    # /usr/lib), so try the resolved path and both spellings.
    pkg=""
    for p in "$path" "$(readlink -f "$path")" "/usr${path#/usr}" \
      "${path#/usr}"; do
      pkg="$(dpkg -S "$p" 2>/dev/null | grep -v '^diversion' |
        head -1 | cut -d: -f1)" || true
      [ -z "$pkg" ] || break
    done
    if [ -z "$pkg" ]; then
      echo "build-images: no Debian package ships $path ($lib)" >&2
      return 1
    fi
    found+=("$pkg")
  done
  printf '%s\n' "${found[@]}" | sort -u
}

# Files of the packages that only features Tandem never uses load (with
# dlopen, so they are not among the binary's libraries and the ldd check
# in the image would name any that were): Mesa's GPU drivers and the
# LLVM and Z3 they link, Intel Media SDK's hardware plugins, PyTorch's
# Python bindings, PROJ's projection grids (GDAL). ~220 MB.
SLIM=()
if [ "$SLIM_IMAGE" -eq 1 ]; then
  for f in '/usr/lib/*/dri/*' '/usr/lib/*/libLLVM-*.so*' '/usr/lib/*/libz3.so*' \
    '/usr/lib/*/libmfxhw64.so*' '/usr/lib/*/mfx/*' \
    '/usr/lib/*/libtorch_python.so*' '/usr/share/proj/*'; do
    SLIM+=(--dpkgopt="path-exclude=$f")
  done
fi

CACHE="$OUT/apt-cache"
mkdir -p "$CACHE"
SNAPSHOT="$(mktemp -d)"
trap 'rm -rf "$SNAPSHOT"' EXIT
export TANDEM_SRC="$SRC" TANDEM_OUT="$OUT" TANDEM_UID=10001
export TANDEM_SELF="$SRC/deploy/build-images.sh"

for n in "${NAMES[@]}"; do
  name="tandem-$n"
  bin="$BUILD/$n/$name"
  [ -x "$bin" ] || {
    echo "build-images: $bin is not built (deploy/build.sh $name)" >&2
    exit 1
  }
  # A copy, so that a build running meanwhile cannot change the binary
  # between the package list, the image and its checks.
  cp "$bin" "$SNAPSHOT/$name"
  bin="$SNAPSHOT/$name"
  deps="$(runtime_packages "$bin")"
  read -r -d '' -a packages <<<"$deps" || true
  # LibTorch finds its BLAS through the libblas.so.3 alternative.
  packages+=(libopenblas0-pthread)
  if [ "$DATASET" -eq 1 ]; then packages+=(dataset-fashion-mnist); fi
  echo "build-images: $name: ${packages[*]}"
  tarball="$OUT/$name-rootfs.tar"
  start=$SECONDS
  # The hooks' $1 is the root file system, expanded by mmdebstrap's sh.
  # shellcheck disable=SC2016
  TANDEM_NAME="$name" TANDEM_BINARY="$bin" mmdebstrap \
    --variant=apt \
    --include="$(IFS=,; echo "${packages[*]}")" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    ${SLIM[@]+"${SLIM[@]}"} \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in $CACHE /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives $CACHE" \
    --customize-hook='"$TANDEM_SELF" __customize "$1"' \
    bookworm "$tarball" ${MIRRORS[@]+"${MIRRORS[@]}"}
  version="$(sed -n '1s/^[^ ]* //p' "$OUT/$name.version")"
  echo "build-images: $name: $tarball, $(du -m "$tarball" | cut -f1) MB," \
    "$(wc -l <"$OUT/$name.packages") packages, $((SECONDS - start)) s"

  [ "$IMPORT" -eq 1 ] || continue
  changes=(
    --change "USER $TANDEM_UID:$TANDEM_UID"
    --change "WORKDIR /var/lib/tandem"
    --change "ENTRYPOINT [\"/usr/local/bin/$name\"]"
    --change "LABEL org.opencontainers.image.title=$name"
    --change "LABEL org.opencontainers.image.version=$version"
    --change "STOPSIGNAL SIGTERM"
  )
  if [ "$n" = server ]; then
    # A bare `podman run -p 50051:50051 tandem-server` coordinates the
    # quickstart run (10 devices); any arguments replace these.
    changes+=(
      --change 'CMD ["--config=/usr/share/tandem/configs/quickstart.json", "--listen=0.0.0.0:50051", "--out=/var/lib/tandem/runs"]'
      --change "EXPOSE 50051"
    )
  fi
  previous="$(podman image inspect -f '{{.Id}}' "$name:latest" 2>/dev/null || true)"
  podman import "${changes[@]}" --message "$name $version from $(basename "$tarball")" \
    "$tarball" "$name:latest" >/dev/null
  podman tag "$name:latest" "$name:$version"
  # The image this one replaces, unless still tagged or used by a container.
  if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect -f '{{.Id}}' "$name:latest")" ]; then
    podman rmi "$previous" >/dev/null 2>&1 || true
  fi
  echo "build-images: image $name:latest ($name:$version)," \
    "$(podman image inspect -f '{{.Size}}' "$name:latest" |
      awk '{ printf "%d MB", $1 / 1e6 }')"
  # The image was checked inside its root file system; this checks that
  # podman can run it here (it may not: see TANDEM_PODMAN_RUN_ARGS).
  # shellcheck disable=SC2086
  if ! err="$(podman run --rm ${TANDEM_PODMAN_RUN_ARGS:-} "$name:latest" \
    --version 2>&1 >/dev/null)"; then
    echo "build-images: warning: the image is built, but \`podman run" \
      "${TANDEM_PODMAN_RUN_ARGS:+$TANDEM_PODMAN_RUN_ARGS }$name:latest" \
      "--version\` fails on this machine: $err" >&2
  fi
  if [ "$OCI_ARCHIVE" -eq 1 ]; then
    rm -f "$OUT/$name.oci.tar"
    podman save --format oci-archive -o "$OUT/$name.oci.tar" "$name:latest"
    echo "build-images: $OUT/$name.oci.tar"
  fi
done
