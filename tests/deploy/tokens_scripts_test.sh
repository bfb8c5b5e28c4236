#!/usr/bin/env bash
# Checks deploy/make-token.sh and deploy/revoke-device.sh on a scratch tokens
# file: a token is issued once per device, its digest is the SHA-256 of the
# token, and revoking removes exactly that device's line (refusing an unknown
# device or a missing file).
#
#   tokens_scripts_test.sh SOURCE_DIR
set -euo pipefail
SRC="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tokens="$tmp/tokens"

"$SRC/deploy/make-token.sh" dev-a "$tokens" "$tmp/a" >/dev/null
"$SRC/deploy/make-token.sh" dev-b "$tokens" "$tmp/b" >/dev/null
if "$SRC/deploy/make-token.sh" dev-a "$tokens" "$tmp/a2" 2>/dev/null; then
  fail "a second token for dev-a was issued"
fi
want="dev-b $(tr -d '\n' <"$tmp/b" | sha256sum | cut -d' ' -f1)"
grep -qx "$want" "$tokens" || fail "dev-b's line is not its token's SHA-256"

"$SRC/deploy/revoke-device.sh" dev-a "$tokens" >/dev/null
[ "$(cat "$tokens")" = "$want" ] || fail "revoking dev-a left: $(cat "$tokens")"
set +e
"$SRC/deploy/revoke-device.sh" dev-a "$tokens" 2>/dev/null
[ $? -eq 1 ] || fail "revoking dev-a twice did not exit 1"
"$SRC/deploy/revoke-device.sh" dev-a "$tmp/missing" 2>/dev/null
[ $? -eq 2 ] || fail "a missing tokens file did not exit 2"
set -e
echo "PASS"
