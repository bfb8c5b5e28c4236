#!/usr/bin/env bash
# Checks the manifests of deploy/k8s offline, without a cluster:
#   1. yamllint --strict on every *.yaml here (syntax, duplicate keys,
#      indentation);
#   2. kubectl kustomize renders the kustomization (resources exist, the
#      ConfigMap is generated from server.json and the Deployment refers to
#      its hashed name); without kubectl, check-manifests.py reads the
#      kustomization itself, and says so;
#   3. check-manifests.py on the result: every field against the Kubernetes
#      API schema (python3-kubernetes), a part of the API server's own
#      validation, references between the objects, and what tandem-server
#      needs (see its header). Given TANDEM_SERVER, the built tandem-server
#      parses the ConfigMap's config with the container's arguments.
#
#   deploy/k8s/validate.sh [TANDEM_SERVER]
#
# Exits 0 when all pass, 1 on a broken manifest, 77 when yamllint or
# python3-kubernetes is missing (deploy/install-deps.sh --ci installs both).
# `kubectl apply --dry-run=client` and `kubectl create --dry-run=client`
# are not used: both ask an API server for the kinds and the schema.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVER_BIN="${1:-}"
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
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== yamllint"
yamllint --strict -d '{extends: default, rules: {document-start: disable}}' \
  "$DIR"/*.yaml || { echo "FAIL: yamllint" >&2; exit 1; }

args=(--external-secret tandem-server-tls)
[ -z "$SERVER_BIN" ] || args+=(--server-binary "$SERVER_BIN")
if command -v kubectl >/dev/null; then
  echo "== kubectl kustomize ($(kubectl version --client 2>/dev/null | head -1))"
  kubectl kustomize "$DIR" >"$tmp/rendered.yaml" ||
    { echo "FAIL: kubectl kustomize $DIR" >&2; exit 1; }
  echo "== check-manifests.py (schema: python3-kubernetes" \
    "$("$PY" -c 'import kubernetes; print(kubernetes.__version__)'))"
  "$PY" "$DIR/check-manifests.py" "${args[@]}" "$tmp/rendered.yaml" ||
    { echo "FAIL: check-manifests.py" >&2; exit 1; }
else
  echo "== kubectl not found: the kustomization is read by check-manifests.py"
  "$PY" "$DIR/check-manifests.py" "${args[@]}" --kustomization "$DIR" ||
    { echo "FAIL: check-manifests.py" >&2; exit 1; }
fi
[ -n "$SERVER_BIN" ] ||
  echo "note: no TANDEM_SERVER given: the config was not parsed by tandem-server"
echo "deploy/k8s: manifests valid"
