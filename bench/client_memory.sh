#!/usr/bin/env bash
# Peak RSS of one tandem-client training one round against a local
# tandem-server, per model, on Fashion-MNIST (the partition a 10-device
# fleet gives it), and on CIFAR-10 when a folder of its binary batches is
# given. Prints one line per run: data set, model, peak RSS (MiB, the
# client's own getrusage report).
#
#   bench/client_memory.sh [CIFAR10_DIR]
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$SRC/build"
for b in server/tandem-server client/tandem-client; do
  [ -x "$BIN/$b" ] || { echo "build first: deploy/build.sh" >&2; exit 1; }
done
tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# run DATASET PATH MODEL: one round of one device; prints its peak RSS.
run() {
  local dataset="$1" path="$2" model="$3"
  cat >"$tmp/config.json" <<JSON
{"seed": 1,
 "server": {"rounds": 1, "min_devices": 1, "poll_timeout_s": 2,
            "join_timeout_s": 60, "round_deadline_s": 600},
 "model": {"name": "$model"},
 "data": {"dataset": "$dataset", "path": "$path", "test_limit": 1000},
 "training": {"local_epochs": 1, "batch_size": 32, "max_batches": 50},
 "strategy": {"name": "fedavg", "min_updates": 1},
 "fleet": {"classes": [{"name": "device", "count": 10}]},
 "output": {"dir": "$tmp/runs", "checkpoints": false}}
JSON
  rm -f "$tmp/port"
  "$BIN/server/tandem-server" --config "$tmp/config.json" \
    --listen 127.0.0.1:0 --port_file "$tmp/port" >"$tmp/server.log" 2>&1 &
  local server=$!
  for _ in $(seq 600); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  "$BIN/client/tandem-client" --server "127.0.0.1:$(cat "$tmp/port")" \
    --device_id device-03 --threads 1 >"$tmp/client.log" 2>&1
  wait "$server"
  local rss
  rss="$(grep -o 'peak RSS [0-9]* MiB' "$tmp/client.log" | grep -o '[0-9]*')"
  printf '%-14s %-5s peak RSS %s MiB\n' "$dataset" "$model" "$rss"
}

for model in cnn vgg5; do run fashion-mnist "" "$model"; done
if [ $# -ge 1 ]; then
  for model in cnn vgg5; do run cifar10 "$1" "$model"; done
else
  echo "cifar10: skipped (pass a folder of CIFAR-10 binary batches)"
fi
