#!/usr/bin/env bash
# Installs tandem-client as a systemd service on a board: the binary as
# /usr/local/bin/tandem-client, deploy/systemd/tandem-client.service, and
# /etc/tandem/client.env from deploy/systemd/client.env.example (an existing
# one is kept), then enables and starts the unit once client.env names a
# device (a new one from the example needs editing first). The board needs the binary's shared libraries (Debian's LibTorch,
# OpenBLAS, gRPC, Protobuf, Abseil: deploy/install-deps.sh installs them);
# missing ones are reported.
#
#   deploy/install-client.sh [--dry-run] [--root DIR]
#                            [--tls CA_CRT DEVICE_CRT DEVICE_KEY] [BINARY]
#
# BINARY     the tandem-client to install (default: build/client/tandem-client)
# --tls      the coordinator's CA and this device's certificate and key
#            (deploy/make-certs.sh: ca.crt, devices/ID.crt, devices/ID.key),
#            installed as /etc/tandem/tls/{ca,device}.crt and device.key,
#            mode 0600; the unit needs them (mutual TLS)
# --root DIR install under DIR instead of / (packaging, tests); systemctl is
#            not run
# --dry-run  print the commands, change nothing
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
ROOT=""
DRY_RUN=0
TLS=()
BINARY="$SRC/build/client/tandem-client"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift ;;
    --tls)
      [ $# -ge 4 ] || { echo "install-client: --tls needs CA_CRT DEVICE_CRT DEVICE_KEY" >&2; exit 2; }
      TLS=("$2" "$3" "$4"); shift 3 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "install-client: unknown option $1" >&2; exit 2 ;;
    *) BINARY="$1" ;;
  esac
  shift
done

run() {
  if [ "$DRY_RUN" -eq 1 ]; then echo "+ $*"; else "$@"; fi
}

if [ ! -x "$BINARY" ]; then
  echo "install-client: $BINARY is not an executable (build it first:" \
    "deploy/build.sh tandem-client)" >&2
  exit 1
fi
if command -v ldd >/dev/null && ldd "$BINARY" | grep -q "not found"; then
  echo "install-client: warning: libraries missing on this machine" \
    "(deploy/install-deps.sh installs them):" >&2
  ldd "$BINARY" | grep "not found" >&2
fi

run install -D -m 0755 "$BINARY" "$ROOT/usr/local/bin/tandem-client"
run install -D -m 0644 "$SRC/deploy/systemd/tandem-client.service" \
  "$ROOT/etc/systemd/system/tandem-client.service"
ENV_FILE="$ROOT/etc/tandem/client.env"
NEW_ENV=0
if [ -e "$ENV_FILE" ]; then
  echo "install-client: keeping $ENV_FILE"
else
  NEW_ENV=1
  run install -D -m 0600 "$SRC/deploy/systemd/client.env.example" "$ENV_FILE"
fi

TLS_DIR="$ROOT/etc/tandem/tls"
if [ ${#TLS[@]} -eq 3 ]; then
  for f in "${TLS[@]}"; do
    [ -f "$f" ] || { echo "install-client: --tls: $f is not a file" >&2; exit 2; }
  done
  run install -D -m 0600 "${TLS[0]}" "$TLS_DIR/ca.crt"
  run install -D -m 0600 "${TLS[1]}" "$TLS_DIR/device.crt"
  run install -D -m 0600 "${TLS[2]}" "$TLS_DIR/device.key"
elif [ ! -f "$TLS_DIR/device.crt" ]; then
  NEW_ENV=1  # do not start: the unit needs the TLS files
  echo "install-client: no $TLS_DIR/device.crt yet: install the TLS files" \
    "with --tls (deploy/make-certs.sh makes them)"
fi

if [ -n "$ROOT" ]; then
  echo "install-client: installed under $ROOT (systemctl not run)"
  exit 0
fi
run systemctl daemon-reload
run systemctl enable tandem-client.service
if [ "$NEW_ENV" -eq 1 ]; then
  echo "install-client: check $ENV_FILE (TANDEM_SERVER, TANDEM_DEVICE_ID)" \
    "and $TLS_DIR, then: systemctl start tandem-client"
else
  run systemctl restart tandem-client.service
fi
echo "install-client: logs: journalctl -u tandem-client -f"
