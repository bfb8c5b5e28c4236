#!/usr/bin/env python3
"""When a tandem-sim run reached server.target_accuracy.

  bench/target_time.py OUT_DIR LABEL

Reads the single run directory under OUT_DIR, prints the round, the updates
accepted up to it, the virtual and the wall time to it, and writes the
virtual time to OUT_DIR.t for the caller's ratio.
Exits 1 when the target was not reached.
"""
import glob
import json
import sys

out, label = sys.argv[1], sys.argv[2]
run = glob.glob(out + "/*")[0]
summary = json.load(open(run + "/summary.json"))
target = summary.get("target") or {}
if not target:
    print("%s: target not reached in %d rounds" % (label, summary["rounds"]))
    sys.exit(1)
records = [json.loads(line) for line in open(run + "/metrics.jsonl")]
updates = sum(1 for r in records if r.get("status") == "accepted"
              and r["round"] <= target["round"])
print("%s: %.0f%% at round %d after %d updates, %.1f s of virtual time "
      "(%.0f s wall)" % (label, 100 * target["accuracy"], target["round"],
                         updates, target["virtual_time_s"],
                         target["wall_time_s"]))
open(out + ".t", "w").write(str(target["virtual_time_s"]))
