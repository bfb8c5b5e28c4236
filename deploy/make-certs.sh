#!/usr/bin/env bash
# Makes the certificates for mutual TLS between tandem-server and its
# devices with openssl alone: a private CA, a server certificate and one
# client certificate per device.
#
#   deploy/make-certs.sh OUT_DIR SERVER_NAME [DEVICE_ID ...]
#
# OUT_DIR      where to write (created if missing):
#                ca.key, ca.crt            the CA (EC P-256, 10 years)
#                server.key, server.crt    for tandem-server: subjectAltName
#                                          DNS:SERVER_NAME (IP: if it is an
#                                          IPv4 address), DNS:localhost,
#                                          IP:127.0.0.1; EKU serverAuth
#                devices/ID.key, ID.crt    per device: CN=ID, subjectAltName
#                                          URI:tandem://device/ID; EKU
#                                          clientAuth
# SERVER_NAME  the host name (or IPv4 address) devices dial
# DEVICE_ID    1-128 characters of [A-Za-z0-9._-] (not "." or ".."), the
#              same id the device joins with
#
# Re-running is safe: an existing CA is reused (so devices can be added
# later with the same CA), and an existing server or device certificate is
# kept, never overwritten; delete it to issue a new one. Keys are mode 0600
# and only ca.key must stay on the machine that runs this script: copy
# ca.crt + server.* to the server, and ca.crt + devices/ID.* to device ID.
# Leaf certificates last CERT_DAYS days (environment, default 825).
set -euo pipefail

usage() {
  echo "usage: $0 OUT_DIR SERVER_NAME [DEVICE_ID ...]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
OUT="$1"
SERVER_NAME="$2"
shift 2
CA_DAYS=3650
CERT_DAYS="${CERT_DAYS:-825}"

if ! [[ "$CERT_DAYS" =~ ^[1-9][0-9]{0,4}$ ]]; then
  echo "error: CERT_DAYS must be a positive number of days, got '$CERT_DAYS'" >&2
  exit 2
fi
if ! [[ "$SERVER_NAME" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]]; then
  echo "error: SERVER_NAME '$SERVER_NAME' is not a host name or IPv4 address" >&2
  exit 2
fi
for id in "$@"; do
  if ! [[ "$id" =~ ^[A-Za-z0-9._-]{1,128}$ ]] || [ "$id" = . ] || [ "$id" = .. ]; then
    echo "error: DEVICE_ID '$id' is invalid: use 1-128 characters of [A-Za-z0-9._-]" >&2
    exit 2
  fi
done
command -v openssl >/dev/null || { echo "error: openssl not found" >&2; exit 1; }

if [[ "$SERVER_NAME" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  SERVER_SAN="IP:$SERVER_NAME"
else
  SERVER_SAN="DNS:$SERVER_NAME"
fi
[ "$SERVER_SAN" = DNS:localhost ] && SERVER_SAN=""
[ "$SERVER_SAN" = IP:127.0.0.1 ] && SERVER_SAN=""
SERVER_SAN="${SERVER_SAN:+$SERVER_SAN,}DNS:localhost,IP:127.0.0.1"

mkdir -p "$OUT/devices"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
umask 077
created=()

new_key() { # FILE
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$1" 2>/dev/null
  chmod 600 "$1"
}

# issue KEY CRT SUBJECT EXTENSIONS: a CSR for KEY, signed by the CA into CRT.
issue() {
  local key="$1" crt="$2" subj="$3" ext="$4"
  printf '[x]\n%s\n' "$ext" >"$TMP/ext.cnf"
  openssl req -new -key "$key" -subj "$subj" -out "$TMP/req.csr"
  openssl x509 -req -in "$TMP/req.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$CERT_DAYS" -sha256 \
    -extfile "$TMP/ext.cnf" -extensions x -out "$TMP/new.crt" 2>/dev/null
  chmod 644 "$TMP/new.crt"
  mv "$TMP/new.crt" "$crt"
}

LEAF_EXT='basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid'

# The CA.
if [ -f "$OUT/ca.key" ] && [ -f "$OUT/ca.crt" ]; then
  echo "reusing CA $OUT/ca.crt"
elif [ -f "$OUT/ca.key" ] || [ -f "$OUT/ca.crt" ]; then
  echo "error: $OUT has only one of ca.key and ca.crt; restore the other or remove both" >&2
  exit 1
else
  new_key "$OUT/ca.key"
  openssl req -x509 -new -key "$OUT/ca.key" -sha256 -days "$CA_DAYS" \
    -subj "/O=Tandem/CN=Tandem CA" \
    -addext "basicConstraints = critical, CA:TRUE, pathlen:0" \
    -addext "keyUsage = critical, keyCertSign, cRLSign" \
    -out "$OUT/ca.crt"
  chmod 644 "$OUT/ca.crt"
  created+=("$OUT/ca.key" "$OUT/ca.crt")
fi
if ! openssl x509 -in "$OUT/ca.crt" -noout -checkend 0 >/dev/null; then
  echo "error: $OUT/ca.crt has expired" >&2
  exit 1
fi

# The server.
if [ -f "$OUT/server.crt" ]; then
  want="${SERVER_SAN%%,*}"
  want="${want/IP:/IP Address:}"
  if ! openssl x509 -in "$OUT/server.crt" -noout -ext subjectAltName \
      | tr ',' '\n' | sed 's/^ *//' | grep -qxF -- "$want"; then
    echo "error: existing $OUT/server.crt is not for $SERVER_NAME; remove server.crt and server.key to issue a new one" >&2
    exit 1
  fi
  echo "keeping $OUT/server.crt"
else
  [ -f "$OUT/server.key" ] || { new_key "$OUT/server.key"; created+=("$OUT/server.key"); }
  issue "$OUT/server.key" "$OUT/server.crt" "/O=Tandem/CN=$SERVER_NAME" \
    "$LEAF_EXT
extendedKeyUsage = serverAuth
subjectAltName = $SERVER_SAN"
  created+=("$OUT/server.crt")
fi

# The devices.
for id in "$@"; do
  key="$OUT/devices/$id.key"
  crt="$OUT/devices/$id.crt"
  if [ -f "$crt" ]; then
    echo "keeping $crt"
    continue
  fi
  [ -f "$key" ] || { new_key "$key"; created+=("$key"); }
  issue "$key" "$crt" "/O=Tandem/CN=$id" \
    "$LEAF_EXT
extendedKeyUsage = clientAuth
subjectAltName = URI:tandem://device/$id"
  created+=("$crt")
done

if [ ${#created[@]} -eq 0 ]; then
  echo "nothing new created in $OUT"
else
  echo "created:"
  printf '  %s\n' "${created[@]}"
fi
