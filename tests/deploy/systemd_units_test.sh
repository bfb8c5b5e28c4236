#!/usr/bin/env bash
# Checks deploy/systemd/tandem-{server,client}.service: the hardening and
# restart settings the units promise, and `systemd-analyze verify` on copies
# whose ExecStart runs the build's binaries (verify needs them to exist),
# with any finding (an unknown key, a bad value) as a failure. Then
# deploy/install-client.sh into a scratch root, and verify what it
# installed. Exits 77 (ctest: skipped) only without systemd-analyze.
#
#   systemd_units_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC="$1"
BUILD="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not installed (deploy/install-deps.sh)"
  exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

HARDENING=(DynamicUser=yes ProtectSystem=strict ProtectHome=yes
  PrivateTmp=yes NoNewPrivileges=yes StateDirectory=tandem
  Restart=on-failure StandardOutput=journal StandardError=journal)

# verify UNIT_FILES...: fails on a non-zero exit or on any output.
verify() {
  local out
  out="$(cd "$tmp" && systemd-analyze verify --man=no "$@" 2>&1)" ||
    fail "systemd-analyze verify $*:"$'\n'"$out"
  [ -z "$out" ] || fail "systemd-analyze verify $*:"$'\n'"$out"
}

for unit in tandem-server tandem-client; do
  file="$SRC/deploy/systemd/$unit.service"
  exe="$BUILD/${unit#tandem-}/$unit"
  [ -x "$exe" ] || fail "$exe not built"
  grep -q "^ExecStart=/usr/local/bin/$unit " "$file" ||
    fail "$unit: ExecStart is not /usr/local/bin/$unit"
  for setting in "${HARDENING[@]}" "RestartSec=.*" "StartLimitBurst=.*"; do
    grep -qx "$setting" "$file" || fail "$unit: no $setting"
  done
  sed "s#^ExecStart=/usr/local/bin/$unit #ExecStart=$exe #" "$file" \
    >"$tmp/$unit.service"
done
grep -q "^EnvironmentFile=/etc/tandem/client.env$" \
  "$SRC/deploy/systemd/tandem-client.service" ||
  fail "tandem-client: no EnvironmentFile=/etc/tandem/client.env"
grep -q "/etc/tandem/server.json" "$SRC/deploy/systemd/tandem-server.service" ||
  fail "tandem-server: config not from /etc/tandem/server.json"
# Mutual TLS by default: both take their TLS files as credentials.
for unit in tandem-server tandem-client; do
  grep -qx "LoadCredential=tls:/etc/tandem/tls" \
    "$SRC/deploy/systemd/$unit.service" || fail "$unit: no TLS credentials"
done
grep -q -- "--tls_cert=%d/tls_device.crt" \
  "$SRC/deploy/systemd/tandem-client.service" || fail "client without TLS"
grep -q "server.tls_client_ca=%d/tls_ca.crt" \
  "$SRC/deploy/systemd/tandem-server.service" || fail "server without mTLS"
verify "$tmp/tandem-server.service" "$tmp/tandem-client.service"
echo "units verified"

# install-client.sh into a scratch root: binary, unit, client.env.
root="$tmp/root"
for f in ca.crt dev.crt dev.key; do echo "$f" >"$tmp/$f"; done
"$SRC/deploy/install-client.sh" --root "$root" \
  --tls "$tmp/ca.crt" "$tmp/dev.crt" "$tmp/dev.key" \
  "$BUILD/client/tandem-client" >/dev/null
for f in ca.crt device.crt device.key; do
  [ "$(stat -c %a "$root/etc/tandem/tls/$f")" = 600 ] ||
    fail "tls/$f not installed with mode 0600"
done
cmp -s "$tmp/dev.key" "$root/etc/tandem/tls/device.key" ||
  fail "device key not installed"
[ -x "$root/usr/local/bin/tandem-client" ] || fail "binary not installed"
[ "$(stat -c %a "$root/etc/tandem/client.env")" = 600 ] ||
  fail "client.env not installed with mode 0600"
installed="$root/etc/systemd/system/tandem-client.service"
cmp -s "$installed" "$SRC/deploy/systemd/tandem-client.service" ||
  fail "unit not installed"
sed "s#^ExecStart=/usr/local/bin/#ExecStart=$root/usr/local/bin/#" \
  "$installed" >"$tmp/tandem-client.service"
verify "$tmp/tandem-client.service"
# Every variable the unit passes is set in the example environment file.
for var in $(grep -o '\${\?TANDEM_[A-Z_]*' "$installed" | tr -d '${' |
  sort -u); do
  grep -q "^$var=" "$root/etc/tandem/client.env" ||
    fail "client.env.example does not set $var"
done
echo "install-client.sh verified"
