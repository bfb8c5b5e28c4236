#!/usr/bin/env bash
# Checks that every tracked C++ file (*.h, *.cc) is formatted as
# .clang-format says (Google base). Fails naming the files that are not;
# `clang-format -i FILE` fixes one. Needs clang-format
# (deploy/install-deps.sh --ci).
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT="${CLANG_FORMAT:-clang-format-14}"

files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -- '*.h' '*.cc'
  else
    find . -path ./build -prune -o -path './build-*' -prune -o \
      \( -name '*.h' -o -name '*.cc' \) -print0
  fi
}

report="$(files | xargs -0 "$CLANG_FORMAT" --dry-run -Werror --style=file 2>&1)" \
  && status=0 || status=$?
if [ "$status" -ne 0 ]; then
  bad="$(printf '%s\n' "$report" | sed -nE 's#^(\./)?([^: ]+):[0-9]+:[0-9]+: error: .*#\2#p' | sort -u)"
  echo "format-check: not clang-formatted (fix with clang-format -i FILE):" >&2
  printf '%s\n' "${bad:-$report}" | sed 's/^/  /' >&2
  exit 1
fi
echo "format-check: $(files | tr -cd '\0' | wc -c) files clean"
