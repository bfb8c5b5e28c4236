#!/usr/bin/env bash
# Runs a scenario with every offload policy and prints the comparison table
# (ratios against "none" measured in the same run); writes comparison.html.
# The ppo policy is the shipped one (configs/policies/ppo-default.policy),
# never trained on this scenario; it does not learn online here.
#   bench/offload_experiment.sh [config] [rounds] [policies]
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG="${1:-configs/fedadapt-5dev.json}"
ROUNDS="${2:-6}"
POLICIES="${3:-none,greedy,ppo}"
OUT="$(mktemp -d)"
./build/bench/offload/offload_experiment --config "$CONFIG" --rounds "$ROUNDS" \
  --policies "$POLICIES" --out "$OUT" 2>"$OUT/progress.log"
echo "runs and progress log: $OUT"
