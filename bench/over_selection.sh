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
  python3 - "$OUT/$1" "$1" <<'PY'
import glob, json, sys
run = glob.glob(sys.argv[1] + "/*")[0]
s = json.load(open(run + "/summary.json"))
t = s.get("target") or {}
if not t:
    print("%s: 88%% not reached in %d rounds" % (sys.argv[2], s["rounds"]))
    sys.exit(1)
print("%s: 88%% at round %d, %.1f s of virtual time" %
      (sys.argv[2], t["round"], t["virtual_time_s"]))
open(sys.argv[1] + ".t", "w").write(str(t["virtual_time_s"]))
PY
}

run "fraction 0.5" 1
run "fraction 0.5, over_selection 1.6" 1.6
python3 -c "
a = float(open('$OUT/fraction 0.5.t').read())
b = float(open('$OUT/fraction 0.5, over_selection 1.6.t').read())
print('virtual time to 88%%: over-selection / none = %.3f' % (b / a))"
