#!/usr/bin/env bash
# Runs a scenario with every offload policy and prints the comparison table
# (ratios against "none" measured in the same run); writes comparison.html.
# The ppo policy is first trained on the scenario's cost model
# (tandem-sim --train_policy), then loaded and kept learning online.
#   bench/offload_experiment.sh [config] [rounds] [policies]
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG="${1:-configs/fedadapt-5dev.json}"
ROUNDS="${2:-6}"
POLICIES="${3:-none,greedy,ppo}"
OUT="$(mktemp -d)"
./build/sim/tandem-sim --config "$CONFIG" --train_policy \
  --policy_out "$OUT/ppo.policy" --episodes 300 > "$OUT/ppo-training.json"
./build/bench/offload/offload_experiment --config "$CONFIG" --rounds "$ROUNDS" \
  --policies "$POLICIES" --out "$OUT" --set "offload.ppo_load=$OUT/ppo.policy" \
  2>"$OUT/progress.log"
echo "runs and progress log: $OUT"
