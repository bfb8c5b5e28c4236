#!/usr/bin/env bash
# Issue #12's hostile-connections goal: an honest 4-device run (tandem-server
# and 4 tandem-client processes on loopback, per-device join tokens, cnn on
# 8,000 Fashion-MNIST images, 2 local epochs, 6 rounds) with and without 200 hostile
# connections open (bench/hostile/hostile_load.cc: silent split streams,
# PullTask long-polls under forged sessions, impersonating joins, silent
# PushUpdate streams). Prints the mean wall time of rounds 2-6 of each run
# and their ratio. About 2 minutes on 2 cores; run on an idle machine.
#
#   bench/hostile_connections.sh [BUILD_DIR] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
B="$(realpath "${1:-build}")"
N="${2:-200}"
T="$(mktemp -d /tmp/tandem-hostile.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$T"' EXIT

for i in 0 1 2 3; do
  deploy/make-token.sh "dev-0$i" "$T/tokens" "$T/dev-0$i.token" >/dev/null
done
cat >"$T/config.json" <<JSON
{"seed": 1,
 "server": {"rounds": 6, "min_devices": 4, "join_timeout_s": 120,
            "round_deadline_s": 120, "tokens_file": "$T/tokens"},
 "model": {"name": "cnn"},
 "data": {"train_limit": 8000, "test_limit": 1000},
 "training": {"local_epochs": 2, "batch_size": 32, "learning_rate": 0.05},
 "strategy": {"name": "fedavg", "min_updates": 4},
 "output": {"dir": "$T/runs"}}
JSON

# Runs the honest fleet; $1 = hostile connections (0: none). Prints the mean
# round_wall_s of rounds 2-6.
run() {
  rm -rf "$T/runs" "$T/port"
  "$B/server/tandem-server" --config="$T/config.json" --listen=127.0.0.1:0 \
    --port_file="$T/port" >"$T/server-$1.log" 2>&1 &
  local server=$!
  while [ ! -s "$T/port" ]; do sleep 0.05; done
  local port
  port="$(cat "$T/port")"
  local hostile=""
  if [ "$1" -gt 0 ]; then
    "$B/bench/hostile/hostile_load" --server="127.0.0.1:$port" \
      --connections="$1" --seconds=600 >"$T/hostile.log" 2>&1 &
    hostile=$!
    sleep 3  # let the connections open and start their calls
  fi
  for i in 0 1 2 3; do
    "$B/client/tandem-client" --server="127.0.0.1:$port" --device_id="dev-0$i" \
      --token_file="$T/dev-0$i.token" --threads=1 >"$T/dev-0$i-$1.log" 2>&1 &
  done
  wait "$server"
  if [ -n "$hostile" ]; then
    local open
    open="$(ls /proc/"$hostile"/task | wc -l)"
    kill "$hostile"
    echo "hostile_load: $open threads; $(tail -1 "$T/hostile.log")" >&2
  fi
  python3 - "$T/runs" <<'PY'
import glob, json, sys
run = glob.glob(sys.argv[1] + "/*")[0]
rounds = [json.loads(l) for l in open(run + "/metrics.jsonl")]
walls = [r["round_wall_s"] for r in rounds if r.get("type") == "round" and r["round"] >= 2]
print("%.3f" % (sum(walls) / len(walls)))
PY
}

base="$(run 0)"
echo "honest run alone: mean round wall time ${base} s"
hostile="$(run "$N")"
echo "with $N hostile connections: mean round wall time ${hostile} s"
python3 -c "print('ratio (hostile / alone): %.3f (goal: at most 1.2)' % ($hostile / $base))"
