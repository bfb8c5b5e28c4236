#!/usr/bin/env bash
# Over-selection on virtual time: the quickstart fleet (10 devices, IID,
# slowdowns 1, 3 and 8 with their links) sampling half of its devices a
# round, without over-selection and with strategy.over_selection 1.6 (8
# sampled, the 5 first to finish aggregated). Prints each run's rounds and
# virtual time to 88% test accuracy, and their ratio. About 2 minutes on 2
# cores.
#
#   bench/over_selection.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}"
OUT="$(mktemp -d /tmp/tandem-over-selection.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT

run() {  # $1 = label, $2 = over_selection
  "$B/sim/tandem-sim" --config configs/quickstart.json --out "$OUT/$1" \
    --set "server.rounds=30,server.target_accuracy=0.88,server.stop_at_target=true,strategy.fraction=0.5,strategy.min_updates=5,strategy.over_selection=$2" \
    >/dev/null
  bench/target_time.py "$OUT/$1" "$1"
}

run "fraction 0.5" 1
run "fraction 0.5, over_selection 1.6" 1.6
python3 -c "
a = float(open('$OUT/fraction 0.5.t').read())
b = float(open('$OUT/fraction 0.5, over_selection 1.6.t').read())
print('virtual time to 88%%: over-selection / none = %.3f' % (b / a))"
