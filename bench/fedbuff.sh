#!/usr/bin/env bash
# Buffered asynchronous aggregation (FedBuff) against synchronous FedAvg on
# a fleet with a 10x compute spread (configs/fmnist-spread-10x.json: 30
# devices, slowdowns 1, 3.16 and 10, Dirichlet 1.0, pinned cnn profile).
# Both keep 11 devices training: FedAvg samples 11 a round and waits for the
# slowest; FedBuff (strategy.buffer_size 5, concurrency 11) aggregates every
# 5 reports, each weighted 1/sqrt(1 + staleness). Prints each run's virtual
# time to 85% test accuracy and their ratio. About 1 minute on 2 cores.
#
#   bench/fedbuff.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}"
OUT="$(mktemp -d /tmp/tandem-fedbuff.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT

run() {  # $1 = label, $2 = --set overrides
  "$B/sim/tandem-sim" --config configs/fmnist-spread-10x.json \
    --out "$OUT/$1" --set "$2" >/dev/null
  bench/target_time.py "$OUT/$1" "$1"
}

run fedavg "strategy.buffer_size=0"
run fedbuff "strategy.buffer_size=5,strategy.concurrency=11,strategy.min_updates=5"
python3 -c "
a = float(open('$OUT/fedavg.t').read())
b = float(open('$OUT/fedbuff.t').read())
print('virtual time to 85%%: fedbuff / fedavg = %.3f' % (b / a))"
