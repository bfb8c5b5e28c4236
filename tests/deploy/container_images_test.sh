#!/usr/bin/env bash
# Checks the images deploy/build-images.sh made (it does not build them:
# that downloads ~280 MB of Debian packages, so this is not part of ctest or
# .ci/run). For tandem-server and tandem-client: the program runs as uid
# 10001, `--version` names the program, LibTorch and OpenBLAS, no apt lists
# or .deb files are left; then one federated run: the coordinator (config
# read-only, run directory in a folder from outside) and one client train
# one round on 3000 Fashion-MNIST images from the image's own dataset, on
# the host's network, and the run's summary.json names the device.
#
#   tests/deploy/container_images_test.sh              # podman images
#   tests/deploy/container_images_test.sh --rootfs OUT_DIR
#
# Default: the podman images tandem-{server,client}:latest (also checks
# USER and ENTRYPOINT). --rootfs: no podman; unpacks build-images.sh's
# OUT_DIR/tandem-{server,client}-rootfs.tar and runs the programs with
# chroot in new mount and PID namespaces (needs root). ~5 s with podman,
# ~15 s with --rootfs, on 2 cores. Exits 77 when podman or an image is
# missing.
#
# TANDEM_PODMAN_RUN_ARGS  extra `podman run` options (see
#                         deploy/build-images.sh), e.g. "--runtime runc
#                         --ulimit nofile=20000:20000 --ulimit nproc=4096:4096"
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
ROOTFS_DIR=""
if [ "${1:-}" = "--rootfs" ]; then
  ROOTFS_DIR="${2:?--rootfs needs the output folder of build-images.sh}"
fi
# shellcheck disable=SC2206
EXTRA=(${TANDEM_PODMAN_RUN_ARGS:-})
NAMES=(tandem-server tandem-client)

tmp="$(mktemp -d)"
server_ctr="tandem-test-server-$$"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  if [ -z "$ROOTFS_DIR" ]; then
    podman rm -f "$server_ctr" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "$ROOTFS_DIR" ]; then
  if ! command -v podman >/dev/null; then
    echo "SKIP: podman not installed"
    exit 77
  fi
  for name in "${NAMES[@]}"; do
    if ! podman image exists "$name:latest"; then
      echo "SKIP: no $name:latest image (deploy/build-images.sh builds it)"
      exit 77
    fi
  done
  # inside NAME [OPTIONS...] -- COMMAND ARGS...: COMMAND in NAME's image.
  inside() {
    local name="$1" opts=()
    shift
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    podman run --rm ${EXTRA[@]+"${EXTRA[@]}"} "${opts[@]}" \
      --entrypoint "$1" "$name:latest" "${@:2}"
  }
  # The run's folder and config, as the coordinator sees them.
  out="$tmp/out"
  mkdir "$out"
  config="$tmp/server.json"
  start_server() {
    podman run -d --name "$server_ctr" ${EXTRA[@]+"${EXTRA[@]}"} \
      --network host \
      -v "$config:/etc/tandem/server.json:ro" \
      -v "$out:/var/lib/tandem/out:U" \
      tandem-server:latest "$@" >/dev/null
  }
  server_running() {
    [ "$(podman inspect -f '{{.State.Running}}' "$server_ctr")" = true ]
  }
  wait_server() {  # sets server_code; the log goes to $tmp/server.log
    server_code="$(podman wait "$server_ctr")"
    podman logs "$server_ctr" >"$tmp/server.log" 2>&1
  }
  run_client() { podman run --rm ${EXTRA[@]+"${EXTRA[@]}"} --network host \
    tandem-client:latest "$@"; }
else
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: --rootfs needs root"; exit 77; }
  for name in "${NAMES[@]}"; do
    tarball="$ROOTFS_DIR/$name-rootfs.tar"
    [ -f "$tarball" ] || { echo "SKIP: no $tarball"; exit 77; }
    mkdir "$tmp/$name"
    tar -xf "$tarball" -C "$tmp/$name"
  done
  # inside NAME [--user] -- COMMAND ARGS...: COMMAND in NAME's root file
  # system, as the tandem user with --user, in its working directory.
  inside() {
    local root="$tmp/$1" user=()
    shift
    if [ "$1" = --user ]; then user=(--userspec=10001:10001); shift; fi
    shift
    unshare --mount --pid --fork --mount-proc="$root/proc" \
      chroot "${user[@]}" "$root" /bin/sh -c 'cd /var/lib/tandem && exec "$@"' \
      sh "$@"
  }
  out="$tmp/tandem-server/var/lib/tandem/out"
  install -d -o 10001 -g 10001 "$out"
  install -d "$tmp/tandem-server/etc/tandem"
  config="$tmp/tandem-server/etc/tandem/server.json"
  start_server() {
    inside tandem-server --user -- /usr/local/bin/tandem-server "$@" \
      >"$tmp/server.log" 2>&1 &
    server_pid=$!
  }
  server_running() { kill -0 "$server_pid" 2>/dev/null; }
  wait_server() {
    server_code=0
    wait "$server_pid" || server_code=$?
    server_pid=""
  }
  run_client() { inside tandem-client --user -- /usr/local/bin/tandem-client "$@"; }
fi

for name in "${NAMES[@]}"; do
  if [ -z "$ROOTFS_DIR" ]; then
    [ "$(podman image inspect -f '{{.Config.User}}' "$name:latest")" = \
      "10001:10001" ] || fail "$name: USER is not 10001:10001"
    entrypoint="$(podman image inspect -f '{{json .Config.Entrypoint}}' \
      "$name:latest")"
    [ "$entrypoint" = "[\"/usr/local/bin/$name\"]" ] ||
      fail "$name: entrypoint $entrypoint"
    user=()
    as_root=(--user 0)
  else
    user=(--user)
    as_root=()
  fi
  version="$(inside "$name" ${user[@]+"${user[@]}"} -- /usr/local/bin/"$name" \
    --version 2>&1)" || fail "$name --version:"$'\n'"$version"
  grep -q "^$name [0-9]" <<<"$version" || fail "$name --version: $version"
  grep -q "^LibTorch: " <<<"$version" || fail "$name --version: no LibTorch"
  grep -qi "^BLAS: .*openblas" <<<"$version" ||
    fail "$name: not OpenBLAS: $version"
  uid="$(inside "$name" ${user[@]+"${user[@]}"} -- /usr/bin/id -u)"
  [ "$uid" = 10001 ] || fail "$name runs as uid $uid"
  left="$(inside "$name" ${as_root[@]+"${as_root[@]}"} -- /usr/bin/find /var/lib/apt/lists /var/cache/apt \
    -type f ! -name lock)"
  [ -z "$left" ] || fail "$name: apt files left:"$'\n'"$left"
  echo "ok: $name: $(head -1 <<<"$version"), uid $uid, no apt caches"
done

cat >"$config" <<'EOF'
{
  "seed": 1,
  "server": { "rounds": 1, "min_devices": 1, "join_timeout_s": 60,
              "round_deadline_s": 60, "device_timeout_s": 5,
              "heartbeat_interval_ms": 300, "poll_timeout_s": 2 },
  "model": { "name": "cnn" },
  "data": { "dataset": "fashion-mnist", "train_limit": 3000,
            "test_limit": 1000 },
  "training": { "local_epochs": 1, "batch_size": 32, "learning_rate": 0.05 },
  "strategy": { "name": "fedavg", "min_updates": 1 }
}
EOF
chmod 0644 "$config"
start=$SECONDS
# The coordinator binds 127.0.0.1 on a free port and writes it to the run
# folder.
start_server --config=/etc/tandem/server.json --listen=127.0.0.1:0 \
  --out=/var/lib/tandem/out --port_file=/var/lib/tandem/out/port
for _ in $(seq 100); do
  [ -s "$out/port" ] && break
  server_running || break
  sleep 0.3
done
if [ ! -s "$out/port" ]; then
  wait_server || true
  fail "the coordinator wrote no port:"$'\n'"$(cat "$tmp/server.log")"
fi
port="$(cat "$out/port")"
client_log="$(run_client --server="127.0.0.1:$port" --device_id=box-00 \
  --threads=1 --give_up_after_s=20 2>&1)" ||
  fail "tandem-client:"$'\n'"$client_log"
wait_server
[ "$server_code" = 0 ] || fail "tandem-server exited $server_code:"$'\n'"$(cat "$tmp/server.log")"
summary="$(find "$out" -name summary.json | head -1)"
[ -n "$summary" ] || fail "no summary.json:"$'\n'"$(cat "$tmp/server.log")"
grep -q '"box-00"' "$summary" || fail "summary names no box-00: $(cat "$summary")"
grep -q '"rounds": *1[,}[:space:]]' "$summary" ||
  fail "summary: $(cat "$summary")"
echo "ok: one round, coordinator and client, in $((SECONDS - start)) s:" \
  "$(grep -o '"final_accuracy": *[0-9.]*' "$summary")"
echo "PASS"
