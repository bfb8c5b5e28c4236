#!/usr/bin/env bash
# Rounds and time to 90% test accuracy on configs/fmnist-iid-10.json (10
# devices, IID, FedAvg; the run stops at the target or after 50 rounds).
#   bench/fmnist_accuracy.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
OUT="$(mktemp -d)"
"$BUILD/sim/tandem-sim" --config configs/fmnist-iid-10.json --out "$OUT" | tee "$OUT/log"
RUN="$(ls -d "$OUT"/*/ | head -1)"
echo "target reached:"
grep -A6 '"target"' "$RUN/summary.json" | head -7
