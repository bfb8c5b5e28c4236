#!/usr/bin/env bash
# Peak resident memory of one tandem-client process training vgg5 (batch 100)
# on its Fashion-MNIST partition, against a coordinator on 127.0.0.1.
#   bench/client_memory.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cat > "$WORK/config.json" <<JSON
{ "server": { "rounds": 2, "min_devices": 1, "poll_timeout_s": 2 },
  "model": { "name": "vgg5" },
  "data": { "test_limit": 1000 },
  "training": { "batch_size": 100, "learning_rate": 0.05, "max_batches": 60 },
  "strategy": { "min_updates": 1 },
  "output": { "dir": "$WORK/runs", "checkpoints": false } }
JSON
"$BUILD/server/tandem-server" --config "$WORK/config.json" \
  --listen 127.0.0.1:0 --port_file "$WORK/port" > "$WORK/server.log" 2>&1 &
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
"$BUILD/client/tandem-client" --server "127.0.0.1:$(cat "$WORK/port")" \
  --device_id mem-probe --threads 1 2>&1 | grep -E "peak RSS|examples"
wait
