#!/usr/bin/env bash
# Revokes a device's join token without restarting the coordinator.
#
#   deploy/revoke-device.sh DEVICE_ID TOKENS_FILE
#
# Removes DEVICE_ID's line from TOKENS_FILE (server.tokens_file), written
# anew and renamed into place. A running tandem-server sees the change within
# a second (or at once on SIGHUP): the device's session ends, its long-polls
# and streams are cancelled, the open round drops it if it had not reported,
# and it cannot join again. Issue it a new token with make-token.sh.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 DEVICE_ID TOKENS_FILE" >&2
  exit 2
fi
id="$1"
tokens="$2"
if [ ! -f "$tokens" ]; then
  echo "revoke-device.sh: $tokens: no such file" >&2
  exit 2
fi
if ! awk -v id="$id" '$1 == id { found = 1 } END { exit !found }' "$tokens"; then
  echo "revoke-device.sh: $id has no token in $tokens" >&2
  exit 1
fi
tmp="$(mktemp "$(dirname "$tokens")/.tokens.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
awk -v id="$id" '$1 != id' "$tokens" >"$tmp"
chmod --reference="$tokens" "$tmp"
mv "$tmp" "$tokens"
trap - EXIT
echo "revoke-device.sh: $id's token removed from $tokens"
