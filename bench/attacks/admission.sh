#!/usr/bin/env bash
# One malicious device of five against FedAvg, with admission off and on
# (docs/security.md, "Outlying updates"): the quickstart's cnn, 4 honest
# devices and 1 attacker, 30,000 training images, 6 rounds. Prints each
# run's test accuracy per round and, per attack, its worst round and final
# accuracy against the same fleet with the fifth device honest. Attacks:
# Gaussian noise (10x the update's norm), a boosted update (5x), sign flip
# (5x), boosted model replacement that swaps classes 0 and 1 (class_swap,
# 5x), a slow drift towards that swapped model (class_swap, 2% a round) and
# training on flipped labels.
# Usage: bench/attacks/admission.sh [BUILD_DIR]   (after ./deploy/build.sh;
# 14 runs of about a minute each on a 2-core machine)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"
SIM="$BUILD_DIR/sim/tandem-sim"
OUT="$(mktemp -d /tmp/tandem-admission-XXXXXX)"
PY=/usr/bin/python3

# NAME ATTACK SCALE ADMISSION MULTIPLIER: writes $OUT/NAME.json.
config() {
  "$PY" - "$OUT" "$@" <<'PYEOF'
import json, sys
out, name, attack, scale, admission, multiplier = sys.argv[1:]
c = json.load(open("configs/quickstart.json"))
c["server"].update({"rounds": 6, "min_devices": 5})
c["data"]["train_limit"] = 30000
c["strategy"].update({"min_updates": 5, "admission": admission,
                      "admission_multiplier": float(multiplier)})
link = {"slowdown": 1.0, "bandwidth_mbps": 100, "latency_ms": 2}
c["fleet"]["classes"] = [
    dict(name="honest", count=4, **link),
    dict(name="attacker", count=1, attack=attack,
         attack_scale=float(scale), **link)]
c["output"]["dir"] = f"{out}/{name}"
json.dump(c, open(f"{out}/{name}.json", "w"), indent=1)
PYEOF
}

runs=(
  "reference none 1 off 2"
  "noise10-off random 10 off 2"    "noise10-on random 10 adaptive 2"
  "boost5-off scale 5 off 2"       "boost5-on scale 5 adaptive 2"
  "signflip5-off sign_flip 5 off 2" "signflip5-on sign_flip 5 adaptive 2"
  "signflip5-m1 sign_flip 5 adaptive 1"
  "swap5-off class_swap 5 off 2"    "swap5-on class_swap 5 adaptive 2"
  "drift-off class_swap 0.02 off 2" "drift-on class_swap 0.02 adaptive 2"
  "labelflip-off label_flip 1 off 2" "labelflip-on label_flip 1 adaptive 2"
)
for r in "${runs[@]}"; do
  set -- $r
  config "$@"
  echo "admission.sh: $1"
  # A run the attack breaks stops with an error; its rounds so far count.
  "$SIM" --config "$OUT/$1.json" >"$OUT/$1.log" 2>&1 || true
done

"$PY" - "$OUT" <<'PYEOF'
import glob, json, sys
out = sys.argv[1]
def accuracies(name):
    acc = {}
    for path in glob.glob(f"{out}/{name}/*/metrics.jsonl"):
        for line in open(path):
            j = json.loads(line)
            if j.get("type") == "round" and j.get("status") == "ok":
                acc[j["round"]] = j["accuracy"]
    return acc
ref = accuracies("reference")
print("reference (fifth device honest):",
      " ".join(f"{ref[r]:.4f}" for r in sorted(ref)))
print(f"{'run':16s} {'worst round (points)':>22s} {'final (points)':>15s}  accuracy per round")
for name in ["noise10-off", "noise10-on", "boost5-off", "boost5-on",
             "signflip5-off", "signflip5-on", "signflip5-m1", "swap5-off",
             "swap5-on", "drift-off", "drift-on", "labelflip-off",
             "labelflip-on"]:
    acc = accuracies(name)
    # A round rolled back or never completed leaves the model in use as it
    # was: the last accepted accuracy (0.1, chance, before any).
    got, last_ok = {}, 0.1
    for r in sorted(ref):
        last_ok = acc.get(r, last_ok)
        got[r] = last_ok
    worst = min(ref, key=lambda r: got[r] - ref[r])
    last = max(ref)
    print(f"{name:16s} {100 * (got[worst] - ref[worst]):+13.2f} (round {worst})"
          f" {100 * (got[last] - ref[last]):+15.2f}  "
          + " ".join(f"{acc[r]:.4f}" if r in acc else "-" for r in sorted(ref)))
print(f"runs: {out}")
PYEOF
