#!/usr/bin/env bash
# The fault matrix of issue 24 (item 4), run on the testbed: a 3-device
# vgg5 fleet (pi3-00 offloading at split point 2, pi4-00 and pi4-01 training
# the whole model), 3 rounds, each fault injected by
# `deploy/tandem-testbed --fault`, then one table: the fault, its outcome
# (round completed with the others / failed cleanly and retried / run
# failed), the time to recover, what was lost (updates accepted twice?
# rounds lost? model against an uninterrupted run), and the evidence
# (metrics.jsonl and log lines). See docs/testbed.md, "Fault matrix".
#
#   sudo bench/testbed_faults.sh [--bin DIR] [--out DIR] [--only CASE,...]
#   bench/testbed_faults.sh --analyse DIR     # the table of an earlier run
#
# --bin: tandem-server/-client (default build/). --out: where the runs go
# (default runs/faults-<date>-<time>). --only: run only these cases (names
# below), e.g. to redo one; the table then covers what DIR holds. Takes
# about 10 minutes on an idle 2-core host. Needs root (the testbed does).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build
OUT=""
ONLY=""
ANALYSE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$(cd "$2" && pwd); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --only) ONLY=",$2,"; shift 2 ;;
    --analyse) ANALYSE=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "testbed_faults.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# Each case: name|config|--fault value ("" = none). Baselines first: the
# table compares the others with them.
CASES=(
  "base-ll|ll|corrupt-checkpoint"
  "base-ll-2|ll|"
  "base-exact|exact|"
  "kill-ll|ll|kill-client:device=pi3-00:round=2:at=stream:after=1.5"
  "kill-ll-restart|ll|kill-client:device=pi3-00:round=2:at=stream:after=1.5:restart=3"
  "kill-exact|exact|kill-client:device=pi3-00:round=2:at=stream:after=2"
  "kill-exact-restart|exact|kill-client:device=pi3-00:round=2:at=stream:after=2:restart=3"
  "cut-link|slow|cut-link:device=pi4-00:round=2:at=upload:after=0.3:for=10"
  "kill-server|ll|kill-server:round=2:at=stream:device=pi3-00:after=1.5:resume=3"
  "disk-full|ll|disk-full:size=6m"
  "clock-offset|ll|clock-offset:device=pi3-00:monotonic=86400:boottime=86400,clock-offset:device=pi4-00:monotonic=31536000:boottime=31536000"
  "freeze|ll|freeze:device=pi4-00:round=2:at=round:after=1:for=10"
)

# The fleet. ll: pi3-00 offloads at split point 2 in local_loss mode; exact:
# the same in exact mode; slow: ll with the pi4 links at 10 Mbit/s, so that
# an update upload (1.9 MB) lasts 1.5 s and can be cut in its middle.
# device_timeout_s 15: a killed device is given up after 15 s (default 30),
# still above the 10 s link cut; round_deadline_s 60; min_updates 2 of 3.
write_configs() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/ll.json" <<'EOF'
{
  "seed": 1,
  "server": { "rounds": 3, "min_devices": 3, "round_deadline_s": 60,
              "device_timeout_s": 15, "heartbeat_interval_ms": 2000 },
  "model": { "name": "vgg5" },
  "data": { "dataset": "fashion-mnist", "partition": "iid",
            "train_limit": 2000, "test_limit": 1000 },
  "training": { "local_epochs": 1, "batch_size": 100,
                "learning_rate": 0.05, "momentum": 0.9 },
  "strategy": { "name": "fedavg", "fraction": 1.0, "min_updates": 2 },
  "offload": { "policy": "fixed", "mode": "local_loss", "fixed": { "pi3": 2 },
               "activation_codec": "int8", "server_cores": 2 },
  "fleet": {
    "compute_time": "profiled",
    "profile": "configs/profiles/vgg5-fashion-mnist.json",
    "classes": [
      { "name": "pi3", "count": 1, "slowdown": 10.0, "bandwidth_mbps": 40, "latency_ms": 5 },
      { "name": "pi4", "count": 2, "slowdown": 5.0, "bandwidth_mbps": 40, "latency_ms": 5 }
    ]
  },
  "output": { "dir": "runs", "checkpoints": true }
}
EOF
  sed 's/"mode": "local_loss"/"mode": "exact"/' "$dir/ll.json" >"$dir/exact.json"
  sed 's/"name": "pi4", "count": 2, "slowdown": 5.0, "bandwidth_mbps": 40/"name": "pi4", "count": 2, "slowdown": 5.0, "bandwidth_mbps": 10/' \
    "$dir/ll.json" >"$dir/slow.json"
}

# What a testbed run may leave behind: namespaces, cgroups, tmpfs mounts.
leftovers() {
  local left=""
  if ip netns list | grep -Eq '^tb-(coord|d[0-9]+)( |$)'; then
    left+="namespaces: $(ip netns list | grep -E '^tb-' | tr '\n' ' ') "
  fi
  for c in /sys/fs/cgroup/cpu/tb-testbed /sys/fs/cgroup/tb-testbed \
           /sys/fs/cgroup/unified/tb-testbed; do
    [ -e "$c" ] && left+="cgroup $c "
  done
  if grep -E '^tmpfs ' /proc/mounts | grep -q '/testbed-'; then
    left+="tmpfs: $(grep -E '^tmpfs ' /proc/mounts | grep '/testbed-' | cut -d' ' -f2) "
  fi
  echo "${left:-clean}"
}

run_cases() {
  write_configs "$OUT/configs"
  echo "load before: $(cat /proc/loadavg)" | tee "$OUT/load"
  local spec name config faults
  for spec in "${CASES[@]}"; do
    IFS='|' read -r name config faults <<<"$spec"
    if [ -n "$ONLY" ] && [[ "$ONLY" != *",$name,"* ]]; then continue; fi
    rm -rf "${OUT:?}/$name"
    mkdir -p "$OUT/$name"
    local args=(--config "$OUT/configs/$config.json" --bin "$BIN"
                --out "$OUT/$name")
    [ -n "$faults" ] && args+=(--fault "$faults")
    echo "== $name: deploy/tandem-testbed ${args[*]}"
    local code=0
    "$ROOT/deploy/tandem-testbed" "${args[@]}" >"$OUT/$name/testbed.log" 2>&1 \
      || code=$?
    echo "$code" >"$OUT/$name/exit"
    leftovers >"$OUT/$name/clean"
    echo "   exit $code; $(grep -c '^tandem-testbed: round' "$OUT/$name/testbed.log" || true) round lines; cleanup: $(cat "$OUT/$name/clean")"
    if [ "$(cat "$OUT/$name/clean")" != clean ]; then
      echo "testbed_faults.sh: the testbed left $(cat "$OUT/$name/clean") behind" >&2
      exit 1
    fi
  done
  echo "load after: $(cat /proc/loadavg)" | tee -a "$OUT/load"
}

if [ -z "$ANALYSE" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "testbed_faults.sh: needs root (the testbed does): sudo $0" >&2
    exit 2
  fi
  OUT=${OUT:-$ROOT/runs/faults-$(date +%Y%m%d-%H%M%S)}
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
  cd "$ROOT"  # the configs' relative paths (the profile) are from here
  start=$(date +%s)
  run_cases
  echo "matrix wall time: $(( $(date +%s) - start )) s" | tee -a "$OUT/load"
else
  OUT=$(cd "$ANALYSE" && pwd)
fi

python3 - "$OUT" <<'PY'
"""Reads every case's testbed.json, metrics.jsonl files, summaries and logs;
prints the table (markdown) and the evidence, writes matrix.md/json."""
import collections
import glob
import json
import os
import re
import statistics
import sys

OUT = sys.argv[1]
# Fields that hold wall-clock time: left out when runs are compared.
WALL = {"compute_s", "cpu_s", "link_s", "round_time_s", "round_wall_s",
        "tail_s", "virtual_time_s", "wall_time_s", "timing_s"}
FAMILY = {"ll": "base-ll", "slow": "base-ll", "exact": "base-exact"}


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def load(name):
    paths = sorted(glob.glob(f"{OUT}/{name}/testbed-*/testbed.json"))
    if not paths:
        return None
    tj = json.load(open(paths[-1]))
    c = {"name": name, "tj": tj, "dir": os.path.dirname(paths[-1]),
         "exit": int(read(f"{OUT}/{name}/exit", "-1")),
         "clean": read(f"{OUT}/{name}/clean", "?"),
         "config": os.path.basename(tj.get("config", "?"))[:-5],
         "faults": tj.get("faults", []), "runs": []}
    for d in tj.get("server_run_dirs") or []:
        m = os.path.join(d, "metrics.jsonl")
        lines = [json.loads(l) for l in open(m) if l.strip()] \
            if os.path.exists(m) else []
        s = os.path.join(d, "summary.json")
        c["runs"].append({"dir": d, "lines": lines,
                          "summary": json.load(open(s))
                          if os.path.exists(s) else None})
    return c


CASES = {}
for path in sorted(glob.glob(f"{OUT}/*/exit")):
    name = os.path.basename(os.path.dirname(path))
    c = load(name)
    if c:
        CASES[name] = c


def event(c, *actions):
    for f in c["faults"]:
        for e in f["events"]:
            if e.get("action") in actions:
                return e
    return None


def events(c):
    return [e for f in c["faults"] for e in f["events"]]


def sha(c):
    s = c["runs"][-1]["summary"] if c["runs"] else None
    return s.get("weights_sha256") if s else None


def accepted_twice(c):
    n = collections.Counter(
        (l["round"], l["device"]) for r in c["runs"] for l in r["lines"]
        if l.get("type") == "device" and l.get("status") == "accepted")
    twice = sorted(k for k, v in n.items() if v > 1)
    return ", ".join(f"{d} r{r} x{n[(r, d)]}" for r, d in twice) or "no"


def rejections(c):
    s = c["runs"][-1]["summary"] if c["runs"] else None
    return (s or {}).get("rejections") or {}


def deterministic(c):
    """(type, round, device) -> the line without wall-clock fields; a
    resumed run's lines replace the earlier run's."""
    out = {}
    for r in c["runs"]:
        for l in r["lines"]:
            if l.get("type") in ("round", "device"):
                out[(l["type"], l["round"], l.get("device", ""))] = {
                    k: v for k, v in l.items() if k not in WALL}
    return out


def compare(c, base, from_round=1):
    """'identical' or the first difference, rounds >= from_round."""
    if base is None:
        return "no baseline"
    a, b = deterministic(c), deterministic(base)
    keys = sorted(k for k in set(a) | set(b) if k[1] >= from_round)
    for k in keys:
        if a.get(k) != b.get(k):
            if k not in a or k not in b:
                return f"{k[0]} line r{k[1]} {k[2]} only in " + \
                    ("this run" if k in a else "the uninterrupted run")
            diff = sorted(f for f in set(a[k]) | set(b[k])
                          if a[k].get(f) != b[k].get(f))
            return f"{k[0]} line r{k[1]} {k[2]}: {', '.join(diff)} differ"
    return "identical"


def model(c, expect_same):
    base = CASES.get(FAMILY.get(c["config"], ""))
    mine, theirs = sha(c), sha(base) if base else None
    if mine is None:
        return "no final model (no summary.json)"
    if theirs is None:
        return f"sha {mine[:12]} (no baseline)"
    if mine == theirs:
        return f"same as uninterrupted ({mine[:12]})"
    return f"differs ({mine[:12]} vs {theirs[:12]})" + \
        ("" if expect_same else ": expected, an update is missing")


def round_lines(c, rnd):
    return [r for r in c["tj"].get("rounds", []) if r["round"] == rnd]


def device_line(c, rnd, dev):
    found = None
    for r in c["runs"]:
        for l in r["lines"]:
            if l.get("type") == "device" and l["round"] == rnd \
                    and l["device"] == dev:
                found = l
    return found


def typical_round_s(c, skip):
    ws = [r["round_wall_s"] for r in c["tj"].get("rounds", [])
          if r["round"] != skip and r.get("status") == "ok"
          and r["round"] > 1 and "round_wall_s" in r]
    return statistics.median(ws) if ws else None


def metrics_evidence(c, rnd, dev):
    out = []
    for r in round_lines(c, rnd):
        out.append(f"run {r.get('run', 1)} round line r{rnd}: status "
                   f"{r.get('status')}, attempt {r.get('attempt')}, "
                   f"participants {r.get('participants')}/"
                   f"{r.get('sampled')}, dropped {r.get('dropped')}, "
                   f"round_wall_s {r.get('round_wall_s', 0):.1f}"
                   + (f", reason: {r['reason']}" if r.get("reason") else ""))
    if dev:
        l = device_line(c, rnd, dev)
        out.append(f"device line r{rnd} {dev}: " +
                   (f"status {l['status']}, round_time_s "
                    f"{l.get('round_time_s', 0):.2f}, compute_s "
                    f"{l.get('compute_s', 0):.2f}, link_s "
                    f"{l.get('link_s', 0):.2f}" if l else "none"))
    return out


LOG_TIME = re.compile(r"^[IWE](\d\d:\d\d:\d\d\.\d{3}) ")
KEEP = re.compile(r"failed|timed out|joined|resuming|left|rejected|"
                  r"attempt|cannot|live session|broken|retrying|refused|"
                  r"final accuracy|SIGTERM|split training of|exporting|"
                  r"done after", re.I)


def log_evidence(c, start_utc, end_utc, n=14):
    """Lines of the coordinator's and clients' logs about the fault; of a
    client's retries only the first and the count."""
    out = []
    for path in sorted(glob.glob(os.path.join(c["dir"], "logs", "*.log"))):
        who = os.path.basename(path)[:-4]
        retries = []
        for line in open(path, errors="replace"):
            m = LOG_TIME.match(line)
            t = m.group(1) if m else None
            if not ((t is None and line.startswith("tandem-server:")) or (
                    t and start_utc <= t <= end_utc and KEEP.search(line)
                    and "WITHOUT TLS" not in line)):
                continue
            if "retrying" in line:
                retries.append((t, line))
                continue
            out.append((t or "99", f"{who}: {line.strip()[:200]}"))
        if retries:
            t, line = retries[0]
            more = f" (and {len(retries) - 1} more retries until " \
                f"{retries[-1][0]})" if len(retries) > 1 else ""
            out.append((t, f"{who}: {line.strip()[:200]}{more}"))
    out.sort()
    return [l for _t, l in out[:n]]


def shorten(c, text):
    return text.replace(c["dir"] + "/", "")


def event_text(e):
    flow = ""
    if "up_bytes_since_trigger" in e:
        flow = (f" [link since the trigger: {e['up_bytes_since_trigger']} B "
                f"up, {e['down_bytes_since_trigger']} B down]")
    return f"{e['utc']} {e['what']}{flow}"


def utc_plus(utc, seconds):
    h, m, s = utc.split(":")
    t = int(h) * 3600 + int(m) * 60 + float(s) + seconds
    return f"{int(t // 3600) % 24:02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}"


ROWS = []


def add(label, case, outcome, recover, lost, twice, model_text, evidence):
    ROWS.append({"fault": label, "case": case, "outcome": outcome,
                 "recover": recover, "lost": lost, "twice": twice,
                 "model": model_text, "evidence": evidence})


def device_fault(label, name, dev, rnd, restart_word):
    """A device lost for a while (killed, cut, stopped): how its round
    ended and when."""
    c = CASES.get(name)
    if c is None:
        return
    act = event(c, "kill", "cut", "stop")
    back = event(c, "restart", "restore", "continue")
    if act is None:
        return add(label, name, "fault never triggered", "-", "-", "-",
                   "-", [e["what"] for e in events(c)])
    lines = round_lines(c, rnd)
    failed = [r for r in lines if r.get("status") == "failed"]
    closed = next((r for r in lines if r.get("status") != "failed"), None)
    mine = device_line(c, rnd, dev)
    got_in = mine is not None and mine.get("status") == "accepted"
    if c["tj"].get("error"):
        outcome = "run failed: " + c["tj"]["error"].splitlines()[0]
    elif closed is None:
        outcome = f"round {rnd} never closed"
    elif failed:
        outcome = (f"round {rnd} failed cleanly ({failed[0].get('reason')}) "
                   f"and was retried: attempt {closed.get('attempt')} ok")
    elif got_in:
        outcome = (f"round {rnd} completed with {dev} "
                   f"({closed['participants']}/{closed['sampled']}): "
                   + restart_word)
    else:
        outcome = (f"round {rnd} completed with the others "
                   f"({closed['participants']}/{closed['sampled']}, "
                   f"{closed.get('dropped')} dropped)")
    recover = "-"
    if closed:
        typical = typical_round_s(c, rnd)
        recover = f"{closed['t'] - act['t']:.1f} after the fault"
        if back:
            recover += f", {closed['t'] - back['t']:.1f} after the " + \
                back["action"]
        if typical:
            recover += (f" (round {rnd} took {closed['round_wall_s']:.1f} "
                        f"s; others {typical:.1f})")
    later = [r for r in range(rnd + 1, c["tj"]["rounds"][-1]["round"] + 1)
             if (device_line(c, r, dev) or {}).get("status") == "accepted"] \
        if c["tj"].get("rounds") else []
    absent = [r for r in range(rnd + 1, 4) if r not in later]
    lost = []
    if not got_in:
        lost.append(f"{dev}'s round-{rnd} update")
    if absent:
        lost.append(f"{dev} absent from round(s) "
                    f"{', '.join(map(str, absent))}")
    ok_rounds = {r["round"] for r in c["tj"].get("rounds", [])
                 if r.get("status") == "ok"}
    if len(ok_rounds) < 3:
        lost.append(f"rounds completed: {sorted(ok_rounds)}")
    rej = rejections(c)
    if rej:
        lost.append("rejections counted: " + ", ".join(
            f"{k} {v}" for k, v in rej.items()))
    evidence = [event_text(e) for e in events(c)]
    evidence += metrics_evidence(c, rnd, dev)
    nxt = device_line(c, rnd + 1, dev)
    if nxt:
        evidence.append(f"device line r{rnd + 1} {dev}: status "
                        f"{nxt['status']}, round_time_s "
                        f"{nxt.get('round_time_s', 0):.2f}, link_s "
                        f"{nxt.get('link_s', 0):.2f} (a device reports its "
                        f"upload's time with its next round)")
    end = utc_plus(act["utc"], (closed["t"] - act["t"]) + 1) if closed \
        else "99"
    evidence += log_evidence(c, utc_plus(act["utc"], -0.5), end)
    evidence = [shorten(c, e) for e in evidence]
    outcome = shorten(c, outcome)
    add(label, name, outcome, recover, "; ".join(lost) or "nothing",
        accepted_twice(c), model(c, got_in), evidence)


def baselines():
    a, b = CASES.get("base-ll"), CASES.get("base-ll-2")
    if a and b:
        same = sha(a) == sha(b)
        add("none (local_loss), run twice", "base-ll, base-ll-2",
            f"3 rounds ok in both", "-", "nothing", accepted_twice(a),
            ("deterministic: weights_sha256 equal "
             f"({sha(a)[:12]}), metrics without wall-clock fields "
             f"{compare(a, b)}") if same else
            f"NOT deterministic: {sha(a)} vs {sha(b)}; metrics "
            f"{compare(a, b)}",
            [f"base-ll: {sha(a)}", f"base-ll-2: {sha(b)}"])
    e = CASES.get("base-exact")
    if e:
        add("none (exact)", "base-exact",
            f"{len(e['tj'].get('rounds', []))} rounds ok", "-", "nothing",
            accepted_twice(e), f"sha {sha(e)[:12] if sha(e) else '-'}",
            [f"base-exact: {sha(e)}"])


def kill_server():
    c = CASES.get("kill-server")
    if c is None:
        return
    kill, resume = event(c, "kill"), event(c, "resume")
    ck = next((e.get("checkpoint") for e in events(c)
               if "checkpoint" in e), None)
    rnd = 2
    if resume is None:
        return add("coordinator SIGKILL in a local_loss round, resumed",
                   "kill-server", "not resumed: " + (c["tj"].get("error")
                                                    or "?"), "-", "-", "-",
                   "-", [e["what"] for e in events(c)])
    first = next((r for r in c["tj"]["rounds"] if r.get("run", 1) > 1), None)
    run1 = [r["round"] for r in c["tj"]["rounds"] if r.get("run", 1) == 1]
    outcome = (f"resumed from latest.ckpt (= {ck}); round {rnd} re-run "
               f"from its start with " +
               (f"{first['participants']}/{first['sampled']} devices"
                if first else "?") +
               f"; rounds in run 1: {run1}, in run 2: "
               f"{[r['round'] for r in c['tj']['rounds'] if r.get('run', 1) > 1]}")
    recover = (f"{first['t'] - kill['t']:.1f} from the kill to the resumed "
               f"run's first round close ({first['t'] - resume['t']:.1f} "
               f"from the restart; 3 s supervisor delay)"
               if first else "-")
    base = CASES.get("base-ll")
    same = compare(c, base, from_round=1)
    evidence = [event_text(e) for e in events(c)]
    for r in c["runs"]:
        res = [l for l in r["lines"] if l.get("type") not in
               ("round", "device")]
        if res:
            evidence.append(f"{os.path.basename(r['dir'])}: first record "
                            + json.dumps(res[0])[:200])
    evidence += metrics_evidence(c, rnd, None)
    evidence += log_evidence(c, utc_plus(kill["utc"], -0.5),
                             utc_plus(resume["utc"], 3), n=16)
    evidence = [shorten(c, e) for e in evidence]
    outcome = shorten(c, outcome)
    add("coordinator SIGKILL in a local_loss round, resumed", "kill-server",
        outcome, recover,
        f"the round in flight (r{rnd}: every device's work until the kill)",
        accepted_twice(c),
        model(c, True) + f"; metrics lines without wall-clock fields, "
        f"rounds 1-3: {same}", evidence)


def disk_full():
    c = CASES.get("disk-full")
    if c is None:
        return
    ev = events(c)
    resume = next((e for e in ev if "resume_exit" in e), None)
    log = os.path.join(c["dir"], "logs", "server.log")
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    last = [l for l in text.splitlines() if l.startswith("tandem-server:")]
    rounds = [r["round"] for r in c["tj"].get("rounds", [])]
    names_ckpt = "latest.ckpt" in text
    outcome = (f"run failed (coordinator exit "
               f"{c['tj'].get('server_exit_code')}) after round line(s) "
               f"{rounds}; its message: {last[-1] if last else '?'}; "
               f"the failed latest.ckpt write itself is "
               + ("logged" if names_ckpt else "NOT logged") +
               "; clients were told the run is over and exited "
               + str(sorted(set(v for k, v in c["tj"].get(
                   "client_exit_codes", {}).items()))))
    files = next((e.get("files") for e in ev if "files" in e), {}) or {}
    lost = (f"summary.json {'written' if 'summary.json' in files else 'NOT written'}, "
            f"report.html {'written' if 'report.html' in files else 'NOT written'}; "
            f"rounds not run: {[r for r in range(1, 4) if r not in rounds]}")
    model_text = (f"previous checkpoint intact: latest.ckpt = "
                  f"{resume.get('checkpoint')}, resuming from it: exit "
                  f"{resume['resume_exit']} ({resume['resume_message']})"
                  if resume else "no latest.ckpt")
    add("checkpoint disk full (output.dir on a 6 MiB tmpfs; a checkpoint "
        "is 1.86 MB)", "disk-full", shorten(c, outcome), "-", lost,
        accepted_twice(c), model_text,
        [shorten(c, e["what"]) for e in ev] + [shorten(c, l) for l in last])


def corrupt():
    c = CASES.get("base-ll")
    if c is None:
        return
    ev = [e for e in events(c) if "where" in e]
    bad = [e for e in ev if e["where"] != "intact"]
    ok = all(e["exit"] == 2 and e["names_file"] for e in bad)
    intact = next((e for e in ev if e["where"] == "intact"), None)
    outcome = ("refused, exit 2, naming the file: " +
               "; ".join(f"{e['where']}: "
                         f"{e['message'].split(': ')[-1]}" for e in bad)
               if ok else "NOT refused as it should be: " +
               "; ".join(f"{e['where']}: exit {e['exit']} {e['message']}"
                         for e in bad))
    add("corrupted latest.ckpt at resume (16 bytes flipped at the head, "
        "middle, tail)", "base-ll", outcome, "-", "-", "-",
        ("the intact file loads: " + intact["message"]) if intact else "-",
        [shorten(c, e["what"]) for e in ev])


def clock():
    c = CASES.get("clock-offset")
    if c is None:
        return
    ev = events(c)
    ok = [r for r in c["tj"].get("rounds", []) if r.get("status") == "ok"]
    add("client clocks offset (time namespaces: pi3-00 CLOCK_MONOTONIC and "
        "CLOCK_BOOTTIME +1 day, pi4-00 +365 days, from their start)",
        "clock-offset",
        f"{len(ok)} rounds ok with all devices "
        f"({min(r['participants'] for r in ok) if ok else 0}/3 each)",
        "-", "nothing", accepted_twice(c),
        model(c, True) + "; metrics without wall-clock fields: "
        + compare(c, CASES.get("base-ll")),
        [e["what"] for e in ev])


baselines()
device_fault("client SIGKILL 1.5 s into its local_loss stream (round 2)",
             "kill-ll", "pi3-00", 2, "")
device_fault("same, restarted 3 s later (same id)", "kill-ll-restart",
             "pi3-00", 2, "it rejoined once its old session expired and "
             "trained round 2 again")
device_fault("client SIGKILL 2 s into its exact stream (round 2)",
             "kill-exact", "pi3-00", 2, "")
device_fault("same, restarted 3 s later (same id)", "kill-exact-restart",
             "pi3-00", 2, "it rejoined once its old session expired and "
             "trained round 2 again")
device_fault("link cut 10 s (ip link set down) 0.3 s into pi4-00's update "
             "upload (10 Mbit/s)", "cut-link", "pi4-00", 2,
             "its upload resumed")
kill_server()
disk_full()
corrupt()
clock()
device_fault("client stopped 10 s (SIGSTOP/SIGCONT) 1 s into round 2: "
             "every clock it reads jumps 10 s", "freeze", "pi4-00", 2,
             "it went on where it stopped")


def cell(text):
    return str(text).replace("|", "/").replace("\n", " ")


md = ["| # | fault | outcome | time to recover (s) | lost | accepted twice? "
      "| model / resumed run vs uninterrupted |",
      "|---|---|---|---|---|---|---|"]
for i, r in enumerate(ROWS, 1):
    md.append(f"| {i} | {cell(r['fault'])} | {cell(r['outcome'])} | "
              f"{cell(r['recover'])} | {cell(r['lost'])} | "
              f"{cell(r['twice'])} | {cell(r['model'])} |")
md.append("")
md.append("Evidence (fault events in UTC as the logs write them; "
          "metrics.jsonl lines; log lines):")
md.append("")
for i, r in enumerate(ROWS, 1):
    md.append(f"{i}. {r['fault']} ({r['case']}):")
    for e in r["evidence"]:
        md.append(f"   - {e}")
md.append("")
for name, c in CASES.items():
    md.append(f"- {name}: testbed exit {c['exit']}, "
              f"{c['tj'].get('duration_s', 0):.0f} s, cleanup: {c['clean']}")
load = read(os.path.join(OUT, "load"))
if load:
    md += ["", *load.splitlines()]
text = "\n".join(md) + "\n"
print(text)
open(os.path.join(OUT, "matrix.md"), "w").write(text)
json.dump(ROWS, open(os.path.join(OUT, "matrix.json"), "w"), indent=2)
print(f"(also in {OUT}/matrix.md and matrix.json)")
PY
