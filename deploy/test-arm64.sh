#!/usr/bin/env bash
# One short federated round with the arm64 tandem-client (deploy/
# build-arm64.sh) running under qemu-user against a native tandem-server on
# 127.0.0.1: checks that the device's update was accepted and aggregated.
#
#   deploy/test-arm64.sh [ARM64_BUILD_DIR]  (default: ../build-arm64 next to
#                                            the checkout)
#
# Environment: TANDEM_ARM64_SYSROOT (default ../arm64-sysroot), TANDEM_BUILD_DIR
# (the native build with server/tandem-server; default build/),
# TANDEM_ARM64_SERVER=1 runs the arm64 tandem-server under qemu too instead
# of the native one, TANDEM_ARM64_KEEP=1 keeps the work folder. Needs the
# Fashion-MNIST files of Debian's dataset-fashion-mnist on the host (the
# client reads them through qemu's -L fallback to host paths). Takes ~35 s.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="$(pwd)"
PARENT="$(dirname "$SRC")"
ARM_BUILD="${1:-$PARENT/build-arm64}"
SYSROOT="${TANDEM_ARM64_SYSROOT:-$PARENT/arm64-sysroot}"
NATIVE_BUILD="${TANDEM_BUILD_DIR:-$SRC/build}"
CLIENT="$ARM_BUILD/client/tandem-client"
QEMU="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"

fail() { echo "test-arm64: FAIL: $*" >&2; exit 1; }
[ -n "$QEMU" ] || fail "no qemu-aarch64-static (apt-get install qemu-user-static)"
arm64() { "$QEMU" -L "$SYSROOT" "$@"; }
if [ "${TANDEM_ARM64_SERVER:-0}" = 1 ]; then
  SERVER="$ARM_BUILD/server/tandem-server"
  RUN_SERVER=arm64
else
  SERVER="$NATIVE_BUILD/server/tandem-server"
  RUN_SERVER=""
fi
[ -x "$SERVER" ] || fail "no $SERVER (deploy/build.sh or deploy/build-arm64.sh)"
[ -x "$CLIENT" ] || fail "no arm64 $CLIENT (deploy/build-arm64.sh)"
file -b "$CLIENT" | grep -q "ARM aarch64" ||
  fail "$CLIENT is not an arm64 executable: $(file -b "$CLIENT")"

WORK="$(mktemp -d /tmp/tandem-arm64.XXXXXX)"
server_pid="" client_pid=""
cleanup() {
  for pid in $client_pid $server_pid; do kill "$pid" 2>/dev/null || true; done
  if [ "${TANDEM_ARM64_KEEP:-0}" = 1 ]; then
    echo "test-arm64: kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# The arm64 binaries start (all their shared libraries load) under qemu.
for bin in "$CLIENT" "$ARM_BUILD/server/tandem-server"; do
  [ -x "$bin" ] || continue
  start=$SECONDS
  arm64 "$bin" --version > "$WORK/version.txt" 2>&1 ||
    { cat "$WORK/version.txt" >&2; fail "$bin --version under qemu"; }
  echo "test-arm64: arm64 $(head -1 "$WORK/version.txt"):" \
    "$(grep -E '^(LibTorch|BLAS)' "$WORK/version.txt" | paste -sd ' ')" \
    "($((SECONDS - start)) s under qemu)"
done

# One device, one round of 4 batches of 32 from 640 training images; generous
# timeouts for emulation (the round itself takes ~10 s under qemu).
cat > "$WORK/config.json" <<EOF
{
  "seed": 1,
  "server": {"rounds": 1, "min_devices": 1, "join_timeout_s": 300,
             "round_deadline_s": 900, "device_timeout_s": 60,
             "heartbeat_interval_ms": 1000, "poll_timeout_s": 2},
  "model": {"name": "cnn"},
  "data": {"train_limit": 640, "test_limit": 200},
  "training": {"local_epochs": 1, "batch_size": 32, "learning_rate": 0.05,
               "max_batches": 4},
  "strategy": {"name": "fedavg", "min_updates": 1},
  "output": {"dir": "$WORK/runs"}
}
EOF

start=$SECONDS
$RUN_SERVER "$SERVER" --config="$WORK/config.json" --listen=127.0.0.1:0 \
  --port_file="$WORK/port" > "$WORK/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do
  [ -s "$WORK/port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "server exited"; }
  sleep 0.1
done
port="$(cat "$WORK/port" 2>/dev/null || true)"
[ -n "$port" ] || { cat "$WORK/server.log" >&2; fail "no port file"; }

arm64 "$CLIENT" --server="127.0.0.1:$port" \
  --device_id=arm64-a --device_class=arm64 --threads=1 \
  --give_up_after_s=120 > "$WORK/client.log" 2>&1 &
client_pid=$!

show_logs() {
  echo "--- server.log" >&2; tail -30 "$WORK/server.log" >&2
  echo "--- client.log" >&2; tail -30 "$WORK/client.log" >&2
}
# Both exit by themselves after the round (at most 20 minutes).
wait_exit() {  # PID SECONDS NAME; sets rc
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$1" 2>/dev/null && { show_logs; fail "$3 still running after $2 s"; }
  rc=0
  wait "$1" || rc=$?
}
wait_exit "$server_pid" 1200 tandem-server
server_rc=$rc server_pid=""
wait_exit "$client_pid" 60 tandem-client
client_rc=$rc client_pid=""
elapsed=$((SECONDS - start))
[ "$server_rc" = 0 ] || { show_logs; fail "${RUN_SERVER:-native} tandem-server exited $server_rc"; }
[ "$client_rc" = 0 ] || { show_logs; fail "arm64 tandem-client exited $client_rc"; }

run="$(find "$WORK/runs" -mindepth 1 -maxdepth 1 -type d | head -1)"
metrics="$run/metrics.jsonl"
[ -s "$metrics" ] || { show_logs; fail "no $metrics"; }
python3 - "$metrics" <<'EOF' || { show_logs; fail "metrics.jsonl check"; }
import json, sys
records = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
rounds = [r for r in records if r.get("type") == "round"]
devices = [r for r in records if r.get("type") == "device"]
assert len(rounds) == 1, rounds
r = rounds[0]
assert r["status"] == "ok" and r["participants"] == 1, r  # aggregated
d = [x for x in devices if x["device"] == "arm64-a"]
assert len(d) == 1 and d[0]["status"] == "accepted", devices
d = d[0]
assert d["batches"] == 4 and d["samples"] > 0 and d["bytes_up"] > 0, d
print(f"test-arm64: round 1 aggregated (accuracy {r.get('accuracy', 'n/a')});"
      f" arm64-a accepted: {d['batches']} batches of {d['samples']} samples,"
      f" train loss {d['train_loss']:.3f}, {d['bytes_up']} bytes up,"
      f" compute {d['compute_s']:.1f} s")
EOF
echo "test-arm64: PASS with ${RUN_SERVER:-native} tandem-server and arm64" \
  "tandem-client in ${elapsed} s (server start to both exits)"
