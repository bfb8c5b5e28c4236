#!/usr/bin/env bash
# Checks the manifests of deploy/k8s offline, without a cluster: the
# coordinator's kustomization (deploy/k8s) and the simulated fleet's
# (deploy/k8s/fleet-sim):
#   1. yamllint --strict on every *.yaml of both (syntax, duplicate keys,
#      indentation);
#   2. kubectl kustomize renders each kustomization (resources exist, the
#      ConfigMap is generated from its files and the pods refer to its
#      hashed name); without kubectl, check-manifests.py reads the
#      kustomization itself, and says so;
#   3. check-manifests.py on each result: every field against the
#      Kubernetes API schema (python3-kubernetes), a part of the API
#      server's own validation, references between the objects, and what
#      tandem-server (--target server) or the sharded fleet (--target
#      fleet-sim: tandem-server --fleet and the Indexed Job of tandem-sim
#      --shard) need (see its header). Given TANDEM_SERVER and TANDEM_SIM,
#      the built programs parse the ConfigMaps' configs with the
#      containers' arguments (--print_config).
#
#   deploy/k8s/validate.sh [TANDEM_SERVER [TANDEM_SIM]]
#
# TANDEM_SIM defaults to sim/tandem-sim beside TANDEM_SERVER's server/ in
# the same build folder, when it is there.
# Exits 0 when all pass, 1 on a broken manifest, 77 when yamllint or
# python3-kubernetes is missing (deploy/install-deps.sh --ci installs both).
# `kubectl apply --dry-run=client` and `kubectl create --dry-run=client`
# are not used: both ask an API server for the kinds and the schema.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVER_BIN="${1:-}"
SIM_BIN="${2:-}"
if [ -z "$SIM_BIN" ] && [ -n "$SERVER_BIN" ] &&
  [ -x "$(dirname "$SERVER_BIN")/../sim/tandem-sim" ]; then
  SIM_BIN="$(dirname "$SERVER_BIN")/../sim/tandem-sim"
fi
# Debian's python3-kubernetes is in the system python, not in a pyenv or
# virtualenv python3 that PATH may find first.
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3 || true)"

if ! command -v yamllint >/dev/null; then
  echo "SKIP: yamllint not installed (deploy/install-deps.sh --ci)"
  exit 77
fi
if [ -z "$PY" ] || ! "$PY" -c 'import kubernetes, yaml' 2>/dev/null; then
  echo "SKIP: python3-kubernetes not installed (deploy/install-deps.sh --ci)"
  exit 77
fi
if [ -n "$SERVER_BIN" ] && [ ! -x "$SERVER_BIN" ]; then
  echo "FAIL: $SERVER_BIN is not an executable tandem-server" >&2
  exit 1
fi
if [ -n "$SIM_BIN" ] && [ ! -x "$SIM_BIN" ]; then
  echo "FAIL: $SIM_BIN is not an executable tandem-sim" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== yamllint"
yamllint --strict -d '{extends: default, rules: {document-start: disable}}' \
  "$DIR"/*.yaml "$DIR"/fleet-sim/*.yaml || { echo "FAIL: yamllint" >&2; exit 1; }

if command -v kubectl >/dev/null; then
  echo "== kubectl kustomize ($(kubectl version --client 2>/dev/null | head -1))"
  echo "== check-manifests.py (schema: python3-kubernetes" \
    "$("$PY" -c 'import kubernetes; print(kubernetes.__version__)'))"
else
  echo "== kubectl not found: the kustomizations are read by check-manifests.py"
fi
# check KUSTOMIZATION_DIR CHECK-MANIFESTS-ARGS...
check() {
  local dir="$1" name
  shift
  name="${dir#"$DIR"}"
  echo "-- deploy/k8s$name"
  if command -v kubectl >/dev/null; then
    kubectl kustomize "$dir" >"$tmp/rendered.yaml" ||
      { echo "FAIL: kubectl kustomize $dir" >&2; exit 1; }
    "$PY" "$DIR/check-manifests.py" "$@" "$tmp/rendered.yaml" ||
      { echo "FAIL: check-manifests.py (deploy/k8s$name)" >&2; exit 1; }
  else
    "$PY" "$DIR/check-manifests.py" "$@" --kustomization "$dir" ||
      { echo "FAIL: check-manifests.py (deploy/k8s$name)" >&2; exit 1; }
  fi
}
bins=()
[ -z "$SERVER_BIN" ] || bins+=(--server-binary "$SERVER_BIN")
check "$DIR" --target server --external-secret tandem-server-tls \
  ${bins[@]+"${bins[@]}"}
[ -z "$SIM_BIN" ] || bins+=(--sim-binary "$SIM_BIN")
check "$DIR/fleet-sim" --target fleet-sim ${bins[@]+"${bins[@]}"}
[ -n "$SERVER_BIN" ] ||
  echo "note: no TANDEM_SERVER given: the configs were not parsed by tandem-server"
[ -n "$SIM_BIN" ] ||
  echo "note: no TANDEM_SIM given or found: fleet-sim's config was not parsed by tandem-sim"
echo "deploy/k8s: manifests valid"
