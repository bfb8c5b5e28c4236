#!/usr/bin/env bash
# Runs Clang's thread-safety analysis (ABSL_GUARDED_BY, ABSL_LOCKS_EXCLUDED,
# ...: GCC ignores them) over every translation unit of a configured build
# that does not need LibTorch and can hold a finding, with the analysis'
# warnings as errors. A unit can hold a finding only if it or a project
# header it includes, at any depth, uses a lock or an annotation (absl's
# mutex.h or thread_annotations.h, or an ABSL_*GUARDED*/*LOCK* macro): the
# others (about two thirds) are not parsed.
# Commands come from the build's compile_commands.json (argument: the build
# directory, default build/, configured with -DTANDEM_UNITY=OFF); LibTorch
# units (torch include dirs, precompiled header) and generated code are left
# out. Fails naming the findings.
# Needs clang++-14 and jq (deploy/install-deps.sh --ci).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-${TANDEM_BUILD_DIR:-build}}"
CLANG="${CLANG:-clang++-14}"
DB="$BUILD_DIR/compile_commands.json"
if [ ! -f "$DB" ]; then
  echo "check-thread-safety: no $DB; configure the build first" >&2
  exit 1
fi
BUILD_ABS="$(cd "$BUILD_DIR" && pwd)"

# One shell command per checked unit: `cd DIR && CLANG ARGS`, where ARGS are
# the GCC command's minus the compiler (and ccache), -W*/-w (Clang's -Wall
# differs from GCC's; warnings are the GCC build's job), and output and
# dependency-file flags.
commands() {
  jq -r --arg build "$BUILD_ABS/" '
    .[]
    | select(.file | startswith($build) | not)
    | select(.command | test("/torch/|cmake_pch") | not)
    | "cd " + .directory + " && " + .command' "$DB" |
    sed -E \
      -e 's#&& (/[^ ]*ccache )?/[^ ]*(c\+\+|g\+\+)[^ ]* #\&\& CLANG #' \
      -e 's# -W[^ ]*##g; s# -w( |$)#\1#g' \
      -e 's# -o [^ ]*##; s# -MM?D( |$)#\1#g; s# -M[FTQ] [^ ]*##g' \
      -e "s#&& CLANG #\&\& $CLANG -fsyntax-only -Wno-everything -Wthread-safety -Werror=thread-safety #"
}

# Tracked sources that use a lock or an annotation, then, to a fixed point,
# those that include one of them (project includes are root-relative).
lock_users() {
  local marked next
  marked="$(git ls-files '*.h' '*.cc' | xargs grep -lE \
    'absl/synchronization/mutex.h|absl/base/thread_annotations.h|ABSL_[A-Z_]*(GUARDED|LOCK)' |
    sort)"
  while :; do
    next="$( (
      printf '%s\n' "$marked"
      git ls-files '*.h' '*.cc' | xargs grep -lF \
        -f <(printf '#include "%s"\n' $marked)
    ) | sort -u)"
    [ "$next" = "$marked" ] && break
    marked="$next"
  done
  printf '%s\n' "$marked"
}

# Keeps the commands whose unit (the argument after -c) is a lock user.
only_lock_users() {
  local root users
  root="$(pwd)/"
  users="$(lock_users | sed "s#^#${root}#")"
  awk 'NR == FNR { keep[$0] = 1; next }
       { for (i = 1; i < NF; ++i) if ($i == "-c" && keep[$(i + 1)]) print }' \
    <(printf '%s\n' "$users") -
}

start=$SECONDS
list="$(commands | only_lock_users)"
count="$(printf '%s\n' "$list" | grep -c .)" || true
if [ "$count" -eq 0 ]; then
  echo "check-thread-safety: no unit of $DB to check: configure that" \
    "build with -DTANDEM_UNITY=OFF (a unity build lists its batches, not" \
    "the sources)" >&2
  exit 1
fi
if ! printf '%s\n' "$list" | xargs -d '\n' -n 1 -P "$(nproc)" bash -c; then
  echo "check-thread-safety: FAILED (findings above)" >&2
  exit 1
fi
echo "check-thread-safety: $count translation units (the lock users) clean" \
  "in $((SECONDS - start)) s"
