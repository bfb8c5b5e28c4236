#!/usr/bin/env bash
# Issues a join token for one device, for fleets without per-device
# certificates (server.tokens_file; use it with server TLS, or the token
# crosses the network in clear).
#
#   deploy/make-token.sh DEVICE_ID TOKENS_FILE TOKEN_OUT
#
# Appends "DEVICE_ID <SHA-256 of the token, hex>" to TOKENS_FILE, the
# coordinator's file, which holds no token. Writes the token (64 hex
# characters from openssl's CSPRNG) to TOKEN_OUT, mode 0600: copy it to the
# device and start tandem-client with --token_file TOKEN_OUT (or set
# TANDEM_TOKEN). A device that already has a line is refused: delete the line
# to issue a new token.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 DEVICE_ID TOKENS_FILE TOKEN_OUT" >&2
  exit 2
fi
id="$1"
tokens="$2"
out="$3"
if ! [[ "$id" =~ ^[A-Za-z0-9._-]{1,128}$ ]]; then
  echo "make-token.sh: device id '$id': use 1-128 of [A-Za-z0-9._-]" >&2
  exit 2
fi
if [ -f "$tokens" ] && awk -v id="$id" '$1 == id { found = 1 } END { exit !found }' "$tokens"; then
  echo "make-token.sh: $id already has a token in $tokens; delete its line first" >&2
  exit 1
fi
umask 077
token="$(openssl rand -hex 32)"
printf '%s\n' "$token" >"$out"
digest="$(printf '%s' "$token" | openssl dgst -sha256 -r | cut -d' ' -f1)"
printf '%s %s\n' "$id" "$digest" >>"$tokens"
echo "make-token.sh: token for $id in $out; its digest appended to $tokens"
