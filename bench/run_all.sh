#!/usr/bin/env bash
# Runs every benchmark in sequence (about 15 minutes on 2 cores) and prints
# their figures. Run on an otherwise idle machine.
set -uo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}"
echo "== training throughput";   "$B/bench/training/training_bench"
echo "== max pool";              "$B/bench/training/max_pool_bench"
echo "== TorchScript vs C++";     bench/torchscript_speed.sh "$B"
echo "== aggregation";           "$B/bench/aggregation/aggregation_bench"
echo "== round overhead";        "$B/bench/round_overhead/round_overhead" 2>/dev/null
echo "== client memory";         bench/client_memory.sh "$B"
echo "== split overhead (vgg5)"; "$B/bench/split/split_overhead" --model vgg5 2>/dev/null
echo "== split overhead (cnn)";  "$B/bench/split/split_overhead" --model cnn 2>/dev/null
echo "== offload policies";      "$B/bench/offload/offload_experiment" --config configs/fedadapt-fixed.json --rounds 4 --policies none,fixed,greedy --out /tmp/tandem-offload-runs 2>/dev/null
echo "== hostile connections";   bench/hostile_connections.sh "$B"
echo "== over-selection";        bench/over_selection.sh "$B"
echo "== fedbuff";               bench/fedbuff.sh "$B"
echo "== accuracy benchmark";    bench/fmnist_accuracy.sh "$B"
