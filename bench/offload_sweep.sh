#!/usr/bin/env bash
# Sweeps the pi3 class (fleet.classes.0) over link bandwidth x slowdown and
# shows, per offload policy, how close it comes to the cost-model bound:
# score = (policy's slowest-round ratio to none) / (the bound's ratio),
# 1.00 = at the bound (bench/offload/sweep_report.cc). At each grid point
# none, greedy and the shipped ppo policy (configs/policies/
# ppo-default.policy, never trained on these fleets) run in one
# offload_experiment. A point that fails is recorded as
# "result": null and the sweep goes on. Writes sweep.json and sweep.html.
# Takes roughly (35 points x 3 policies x rounds) short simulator runs; needs
# ./deploy/build.sh first.
#   bench/offload_sweep.sh [config] [rounds] [train_limit]
# SWEEP_LINKS and SWEEP_SLOWDOWNS (space-separated) restrict the grid:
#   SWEEP_LINKS="40" SWEEP_SLOWDOWNS="10" bench/offload_sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG="${1:-configs/fedadapt-5dev.json}"
ROUNDS="${2:-3}"
TRAIN_LIMIT="${3:-6000}"
LINKS="${SWEEP_LINKS:-5 10 20 40 80 160 400}"
SLOWDOWNS="${SWEEP_SLOWDOWNS:-2 5 10 20 40}"
SIM=./build/sim/tandem-sim
EXPERIMENT=./build/bench/offload/offload_experiment
REPORT=./build/bench/offload/sweep_report

for bin in "$SIM" "$EXPERIMENT" "$REPORT"; do
  if [[ ! -x "$bin" ]]; then
    echo "offload_sweep: $bin missing; run ./deploy/build.sh first" >&2
    exit 2
  fi
done
for v in $LINKS $SLOWDOWNS "$ROUNDS" "$TRAIN_LIMIT"; do
  if [[ ! "$v" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "offload_sweep: '$v' is not a number" >&2
    exit 2
  fi
done

# Runs every policy at one grid point; files in DIR. Fails unless
# DIR/point.json was written.
#   run_point LINK SLOWDOWN DIR
run_point() {
  local cost="fleet.classes.0.bandwidth_mbps=$1,fleet.classes.0.slowdown=$2"
  cost+=",data.train_limit=$TRAIN_LIMIT"
  mkdir -p "$3"
  # tandem-sim's --set is one comma-separated list (a repeated --set
  # replaces the earlier one).
  "$EXPERIMENT" --config "$CONFIG" --policies none,greedy,ppo --out "$3" \
    --set "$cost,server.rounds=$ROUNDS" \
    --json "$3/point.json" >"$3/table.txt" 2>"$3/point.log" &&
    [[ -s "$3/point.json" ]]
}

# "greedy 0.412, ppo 0.551, bound 0.381" (slowest-round ratios to none) from
# offload_experiment's printed table.
ratios() {
  awk '/^  slowest mean round .*total time/ { b = $4; sub(",", "", b) }
       /^  slowest mean round / && !/total time/ { g = $5; p = $6 }
       END { if (b == "") b = "n/a"
             printf "greedy %s, ppo %s, bound %s", g, p, b }' "$1"
}

OUT="$(mktemp -d)"
SWEEP="$OUT/sweep.json"
START=$SECONDS
total=$(($(wc -w <<<"$LINKS") * $(wc -w <<<"$SLOWDOWNS")))
n=0
failed=0
sep=""
printf '[' >"$SWEEP"
for link in $LINKS; do
  for slowdown in $SLOWDOWNS; do
    n=$((n + 1))
    dir="$OUT/link${link}-slowdown${slowdown}"
    t0=$SECONDS
    printf '%s{"pi3_link_mbps": %s, "pi3_slowdown": %s, "result": ' \
      "$sep" "$link" "$slowdown" >>"$SWEEP"
    if run_point "$link" "$slowdown" "$dir"; then
      cat "$dir/point.json" >>"$SWEEP"
      status="ok ($(ratios "$dir/table.txt") of none)"
    else
      echo -n "null" >>"$SWEEP"
      failed=$((failed + 1))
      status="FAILED, see $dir/*.log"
      if grep -q '^comparison report:' "$dir/table.txt" 2>/dev/null; then
        status="FAILED: ran but wrote no point.json (offload_experiment"
        status+=" built before --json? run ./deploy/build.sh)"
      fi
    fi
    printf '}' >>"$SWEEP"
    sep=$',\n'
    echo "[$n/$total] pi3 link $link Mbit/s, slowdown $slowdown:" \
      "$status, $((SECONDS - t0)) s"
  done
done
printf ']\n' >>"$SWEEP"

if ! "$REPORT" "$SWEEP" "$OUT/sweep.html"; then
  echo "offload_sweep: sweep_report failed on $SWEEP" >&2
fi
echo "sweep results: $SWEEP ($failed of $total points failed)"
echo "runs and logs: $OUT/link*-slowdown*/"
echo "wall time: $((SECONDS - START)) s"
