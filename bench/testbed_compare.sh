#!/usr/bin/env bash
# Simulated against emulated round times (issue 24's goal): measures the
# vgg5 profile on this host, then runs deploy/tandem-testbed --compare with
# it on
#   - issue 24's 2-device fleet (pi3 at slowdown 10 and pi4 at 5 from
#     configs/fedadapt-fixed.json, 40 Mbit/s, 1,000 examples each, 4 rounds):
#     no offload, pi3 in exact mode at split point 2, pi3 in local_loss mode
#     at split point 2;
#   - configs/fedadapt-5dev.json (1,200 examples each, 4 rounds): no offload,
#     and greedy with offload.server_cores SPARE (default 0.9: the host's 2
#     cores less the devices' quotas, 1.1 cores, are what the coordinator's
#     tails get on the testbed).
# Prints each run's per-device table (sim/emu) and the slowest device's
# mean round with greedy against none, emulated and simulated.
# Usage: sudo bench/testbed_compare.sh [BUILD_DIR] [SPARE]
#   (after ./deploy/build.sh; root; about 12 minutes on a 2-core machine)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
SPARE="${2:-0.9}"
OUT="$(mktemp -d /tmp/tandem-testbed-compare-XXXXXX)"
PROFILE="$OUT/vgg5-host.json"

"$BUILD_DIR/sim/tandem-sim" --config configs/fedadapt-5dev.json \
  --measure_profile "$PROFILE"

/usr/bin/python3 - "$OUT" <<'PYEOF'
import json, sys
out = sys.argv[1]
c = json.load(open("configs/fedadapt-fixed.json"))
c["fleet"]["classes"] = [k for k in c["fleet"]["classes"]
                         if k["name"] in ("pi3", "pi4")]
for k in c["fleet"]["classes"]:
    k.update(count=1, bandwidth_mbps=40, latency_ms=0)
c["server"].update(rounds=4, min_devices=2)
c["strategy"].update(min_updates=2)
c["data"]["train_limit"] = 2000
json.dump(c, open(f"{out}/two.json", "w"), indent=1)
PYEOF

# NAME CONFIG OVERRIDES
run() {
  echo "== $1"
  ./deploy/tandem-testbed --config "$2" --bin "$BUILD_DIR" --out "$OUT/$1" \
    --set "fleet.profile=$PROFILE,$3" --compare | sed -n '/^mode /,/^(mean/p'
}
run two-none "$OUT/two.json" "offload.policy=none"
run two-exact "$OUT/two.json" "offload.mode=exact"
run two-local-loss "$OUT/two.json" "offload.mode=local_loss"
run 5dev-none configs/fedadapt-5dev.json \
  "data.train_limit=6000,server.rounds=4,offload.policy=none"
run 5dev-greedy configs/fedadapt-5dev.json \
  "data.train_limit=6000,server.rounds=4,offload.server_cores=$SPARE"

# The slowest device's mean round, greedy against none.
/usr/bin/python3 - "$OUT" <<'PYEOF'
import glob, json, sys
out = sys.argv[1]
def slowest(name, key):
    t = json.load(open(glob.glob(f"{out}/{name}/testbed-*/testbed.json")[0]))
    return max(r[key] for r in t["compare"]["rows"])
for key, what in (("emulated_s", "emulated"), ("simulated_s", "simulated")):
    none, greedy = slowest("5dev-none", key), slowest("5dev-greedy", key)
    print(f"5dev slowest mean round, greedy / none, {what}: "
          f"{greedy:.2f} / {none:.2f} = {greedy / none:.3f}")
PYEOF
echo "testbed directories: $OUT"
