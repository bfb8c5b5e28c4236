#!/usr/bin/python3
"""Checks Kubernetes manifests offline, without a cluster.

  check-manifests.py [--target server|fleet-sim] [--server-binary BIN]
                     [--sim-binary BIN] [--external-secret NAME]...
                     (RENDERED.yaml | --kustomization DIR)

RENDERED.yaml is what `kubectl kustomize DIR` prints; without kubectl,
--kustomization DIR reads DIR/kustomization.yaml itself (resources,
configMapGenerator and images only; generated names get no hash suffix).

Checks, with each finding named by its document and field path:
- schema: every field of every object is one the Kubernetes API defines, of
  its type, and no required field is missing. The schema is the API models
  of Debian's python3-kubernetes (22.x: Kubernetes 1.22; a field added to
  Kubernetes later is reported as unknown);
- a part of what the API server validates: names, label values, a
  Deployment's selector against its template's labels, a Job's restart
  policy, selector and (Indexed) completions, unique container, port, env
  and volume names, volume mounts of existing volumes, env fieldRef paths,
  no probes on init containers, probes and Service targetPorts on named
  ports that exist, requests <= limits, a few enumerations (protocol,
  imagePullPolicy, strategy, Service type, completionMode, policyTypes, ...);
- references: ConfigMaps, PersistentVolumeClaims and Secrets that pods use
  exist among the manifests (or are named with --external-secret), with the
  keys the pods ask for; every $(VAR) in a container's command and args is
  an env var of that container (else the kubelet passes it as is);
  NetworkPolicy selectors select pod templates here, on their ports;
- --target server (default): Deployment/tandem-server, the coordinator of
  real devices: one replica, Recreate, mutual TLS from the Secret's files,
  non-root, read-only root filesystem, no capabilities, the probes; its
  config (from the ConfigMap it mounts) listens on 0.0.0.0 on the gRPC
  container port and serves metrics on the metrics port. With
  --server-binary, tandem-server itself parses that config with the
  container's arguments (--print_config) and the resolved TLS files and
  output.dir must lie in the Secret's and the volume's mounts.
- --target fleet-sim: a simulated fleet, i.e. a Job running `tandem-server
  --fleet` (one pod, image tandem-server, hardened and probed as above, no
  TLS since tandem-sim has none) and an Indexed Job of `tandem-sim --shard
  $(VAR)/N --server HOST:PORT` (image tandem-sim, VAR the pod's
  job-completion-index by the downward API, N = completions = parallelism
  <= the fleet's devices, HOST:PORT a ClusterIP Service selecting the
  coordinator on a port that reaches its gRPC port, init containers of
  tandem images only, waiting on that same HOST:PORT if on any), both on
  one ConfigMap. The config (resolved by tandem-server --print_config and
  tandem-sim --print_config with each container's arguments, given the
  binaries; the two must agree but for server.listen and output.dir)
  listens on 0.0.0.0 on the gRPC port, serves metrics on the metrics port,
  writes to a PersistentVolumeClaim, has fleet.compute_time "profiled", a
  fleet.profile in a ConfigMap both pods mount (a valid profile of the
  config's model, identical to configs/profiles/ of the same name), and
  server.threads and fleet.concurrency from 1 to the containers' CPU
  limits. A NetworkPolicy must let only the shard pods reach the gRPC port.

Exit status: 0 clean, 1 findings, 2 usage, 77 python3-kubernetes missing.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

try:
    from kubernetes.client import Configuration
    from kubernetes.client import models
except ImportError:
    print("check-manifests: python3-kubernetes is not installed", file=sys.stderr)
    sys.exit(77)

# apiVersion group of each kind this checks; another kind is a finding.
GROUP_OF_KIND = {
    "ConfigMap": "", "Secret": "", "Service": "", "ServiceAccount": "",
    "PersistentVolumeClaim": "", "Namespace": "",
    "Deployment": "apps", "StatefulSet": "apps",
    "Job": "batch", "CronJob": "batch",
    "NetworkPolicy": "networking.k8s.io", "Ingress": "networking.k8s.io",
    "PodDisruptionBudget": "policy",
}
ENUMS = {
    ("V1ContainerPort", "protocol"): {"TCP", "UDP", "SCTP"},
    ("V1ServicePort", "protocol"): {"TCP", "UDP", "SCTP"},
    ("V1Container", "image_pull_policy"): {"Always", "IfNotPresent", "Never"},
    ("V1DeploymentStrategy", "type"): {"Recreate", "RollingUpdate"},
    ("V1ServiceSpec", "type"):
        {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"},
    ("V1PodSpec", "restart_policy"): {"Always", "OnFailure", "Never"},
    ("V1SeccompProfile", "type"): {"RuntimeDefault", "Localhost", "Unconfined"},
    ("V1PodSecurityContext", "fs_group_change_policy"):
        {"OnRootMismatch", "Always"},
    ("V1HTTPGetAction", "scheme"): {"HTTP", "HTTPS"},
    ("V1JobSpec", "completion_mode"): {"NonIndexed", "Indexed"},
    ("V1NetworkPolicySpec", "policy_types"): {"Ingress", "Egress"},
    ("V1NetworkPolicyPort", "protocol"): {"TCP", "UDP", "SCTP"},
}
# Fields of type Quantity, which accept a number as well as a string.
QUANTITIES = {("V1ResourceRequirements", "limits"),
              ("V1ResourceRequirements", "requests"),
              ("V1EmptyDirVolumeSource", "size_limit")}
PRIMITIVES = {"str": (str,), "int": (int,), "float": (int, float),
              "bool": (bool,), "datetime": (str,), "date": (str,)}
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
IANA_SVC_NAME = re.compile(r"(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?")
ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
# What an env var's valueFrom.fieldRef may name (the API server's list).
FIELD_PATH = re.compile(
    r"metadata\.(name|namespace|uid)|metadata\.(labels|annotations)\['[^']+'\]"
    r"|spec\.(nodeName|serviceAccountName)|status\.(hostIP|hostIPs|podIP|podIPs)")
# $(VAR) in command and args, as the kubelet expands them ($$ escapes).
VAR_REF = re.compile(r"\$\$|\$\(([-._a-zA-Z0-9]*)\)")
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
# The images deploy/ builds; a pod of these manifests runs no other image.
TANDEM_IMAGES = {"tandem-server", "tandem-client", "tandem-sim"}
SOURCE_DIR = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))

CONFIG = Configuration()
CONFIG.client_side_validation = True


class Findings:
    def __init__(self):
        self.items = []

    def add(self, where, message):
        item = f"{where}: {message}"
        if item not in self.items:  # e.g. a ConfigMap both pods use
            self.items.append(item)


def type_name(value):
    return {dict: "an object", list: "a list", str: "a string",
            bool: "a boolean", int: "an integer", float: "a number",
            type(None): "null"}.get(type(value), type(value).__name__)


def check_schema(value, typ, path, out, owner=None, attr=None):
    """Checks `value` against the API model type `typ` (python3-kubernetes's
    openapi_types notation)."""
    if value is None:
        return  # null: unset
    m = re.fullmatch(r"list\[(.*)\]", typ)
    if m:
        if not isinstance(value, list):
            out.add(path, f"expected a list, got {type_name(value)}")
            return
        for i, item in enumerate(value):
            check_schema(item, m.group(1), f"{path}[{i}]", out, owner, attr)
        return
    m = re.fullmatch(r"dict\(str, (.*)\)", typ)
    if m:
        if not isinstance(value, dict):
            out.add(path, f"expected an object, got {type_name(value)}")
            return
        for k, v in value.items():
            check_schema(v, m.group(1), f"{path}.{k}", out, owner, attr)
        return
    if typ == "object":
        return  # IntOrString and free-form fields
    if typ in PRIMITIVES:
        ok = isinstance(value, PRIMITIVES[typ])
        if typ in ("int", "float") and isinstance(value, bool):
            ok = False
        if not ok and (owner, attr) in QUANTITIES and \
                isinstance(value, (int, float)) and not isinstance(value, bool):
            ok = True
        if not ok:
            out.add(path, f"expected {typ}, got {type_name(value)} {value!r}")
        elif (owner, attr) in ENUMS and value not in ENUMS[(owner, attr)]:
            out.add(path, f"{value!r} is not one of "
                    f"{', '.join(sorted(ENUMS[(owner, attr)]))}")
        return
    cls = getattr(models, typ, None)
    if cls is None:
        out.add(path, f"no API type {typ} to check against")
        return
    if not isinstance(value, dict):
        out.add(path, f"expected an object ({typ}), got {type_name(value)}")
        return
    attr_of = {j: a for a, j in cls.attribute_map.items()}
    for key, v in value.items():
        if key not in attr_of:
            known = ", ".join(sorted(attr_of))
            out.add(f"{path}.{key}", f"unknown field (known in {typ}: {known})")
            continue
        check_schema(v, cls.openapi_types[attr_of[key]], f"{path}.{key}", out,
                     typ, attr_of[key])
    # Required fields: the model's setter refuses None for them.
    probe = cls.__new__(cls)
    probe.local_vars_configuration = CONFIG
    for a, j in cls.attribute_map.items():
        if value.get(j) is None:
            try:
                setattr(probe, a, None)
            except ValueError:
                out.add(f"{path}.{j}", "required field missing")


def model_for(doc):
    api = doc.get("apiVersion")
    kind = doc.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return None, "apiVersion and kind must be strings"
    group, _, version = api.rpartition("/")
    if kind not in GROUP_OF_KIND:
        return None, f"kind {kind} is not one this script checks"
    if GROUP_OF_KIND[kind] != group:
        want = GROUP_OF_KIND[kind]
        return None, f"{kind} is in API group '{want}', not '{group}'"
    name = version[:1].upper() + version[1:] + kind
    if not hasattr(models, name):
        return None, f"no {kind} in {api}"
    return name, None


# ---- quantities (requests <= limits) ----
SUFFIX = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
          "P": 1e15, "E": 1e18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
          "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity(v):
    m = re.fullmatch(r"([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)", str(v))
    if not m or m.group(2) not in SUFFIX:
        return None
    try:
        return float(m.group(1)) * SUFFIX[m.group(2)]
    except ValueError:
        return None


# ---- semantic checks ----
def check_meta(doc, where, out):
    meta = doc.get("metadata") or {}
    name = meta.get("name")
    kind = doc.get("kind")
    rule = DNS1035_LABEL if kind == "Service" else DNS1123_SUBDOMAIN
    if not isinstance(name, str) or not rule.fullmatch(name) or len(name) > 253:
        out.add(f"{where}.metadata.name", f"{name!r} is not a valid {kind} name")
    for field in ("labels", "annotations"):
        for k, v in (meta.get(field) or {}).items():
            if not isinstance(v, str):
                out.add(f"{where}.metadata.{field}.{k}", "value must be a string")
            elif field == "labels" and (len(v) > 63 or not LABEL_VALUE.fullmatch(v)):
                out.add(f"{where}.metadata.labels.{k}", f"invalid label value {v!r}")


def pod_templates(doc):
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "Job"):
        yield "spec.template", spec.get("template") or {}
    elif kind == "CronJob":
        yield ("spec.jobTemplate.spec.template",
               ((spec.get("jobTemplate") or {}).get("spec") or {})
               .get("template") or {})


def check_pod(tpl, where, out, objects):
    spec = tpl.get("spec") or {}
    volumes = {}
    for i, v in enumerate(spec.get("volumes") or []):
        n = v.get("name")
        if not isinstance(n, str) or not DNS1123_LABEL.fullmatch(n):
            out.add(f"{where}.spec.volumes[{i}].name", f"invalid name {n!r}")
        if n in volumes:
            out.add(f"{where}.spec.volumes[{i}].name", f"duplicate volume {n!r}")
        volumes[n] = v
        check_volume_ref(v, f"{where}.spec.volumes[{i}]", out, objects)
    ports = {}
    names = set()
    every = [(f"{field}[{i}]", c) for field in ("initContainers", "containers")
             for i, c in enumerate(spec.get(field) or [])]
    for label, c in every:
        cw = f"{where}.spec.{label}"
        n = c.get("name")
        if not isinstance(n, str) or not DNS1123_LABEL.fullmatch(n):
            out.add(f"{cw}.name", f"invalid name {n!r}")
        if n in names:
            out.add(f"{cw}.name", f"duplicate container {n!r}")
        names.add(n)
        for pi, p in enumerate(c.get("ports") or []):
            pn = p.get("name")
            if pn is None:
                continue
            if not isinstance(pn, str) or len(pn) > 15 or \
                    not IANA_SVC_NAME.fullmatch(pn):
                out.add(f"{cw}.ports[{pi}].name",
                        f"{pn!r} is not a port name (IANA_SVC_NAME, <= 15)")
            if pn in ports:
                out.add(f"{cw}.ports[{pi}].name", f"duplicate port name {pn!r}")
            ports[pn] = p.get("containerPort")
        paths = set()
        for mi, m in enumerate(c.get("volumeMounts") or []):
            if m.get("name") not in volumes:
                out.add(f"{cw}.volumeMounts[{mi}].name",
                        f"no volume {m.get('name')!r} in the pod")
            if m.get("mountPath") in paths:
                out.add(f"{cw}.volumeMounts[{mi}].mountPath", "mounted twice")
            paths.add(m.get("mountPath"))
        check_env(c, cw, out, objects)
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            p = c.get(probe)
            if not isinstance(p, dict):
                continue
            if label.startswith("initContainers"):
                out.add(f"{cw}.{probe}", "an init container takes no probes")
            handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc")
                        if h in p]
            if len(handlers) != 1:
                out.add(f"{cw}.{probe}", "needs exactly one of exec, httpGet, "
                        f"tcpSocket, grpc (has {handlers})")
            for h in ("httpGet", "tcpSocket"):
                port = (p.get(h) or {}).get("port")
                if isinstance(port, str) and not port.isdigit() and \
                        port not in {q.get("name") for q in c.get("ports") or []}:
                    out.add(f"{cw}.{probe}.{h}.port",
                            f"no container port named {port!r}")
        res = c.get("resources") or {}
        for r, lim in (res.get("limits") or {}).items():
            req = (res.get("requests") or {}).get(r)
            ql, qr = quantity(lim), quantity(req) if req is not None else None
            if ql is None or (req is not None and qr is None):
                out.add(f"{cw}.resources", f"{r}: not a quantity")
            elif qr is not None and qr > ql:
                out.add(f"{cw}.resources.requests.{r}",
                        f"{req} is more than the limit {lim}")
    return ports


def var_refs(text):
    """The names $(NAME) references in `text` ($$ escapes a reference)."""
    return [m.group(1) for m in VAR_REF.finditer(text) if m.group(0) != "$$"]


def expand(text, values):
    """`text` with $(NAME) replaced as the kubelet does, from `values`."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return values.get(m.group(1), m.group(0))
    return VAR_REF.sub(sub, text)


def check_env(c, cw, out, objects):
    names = set()
    for i, e in enumerate(c.get("env") or []):
        ew = f"{cw}.env[{i}]"
        n = e.get("name")
        if not isinstance(n, str) or not ENV_NAME.fullmatch(n):
            out.add(f"{ew}.name", f"invalid env var name {n!r}")
        if n in names:
            out.add(f"{ew}.name", f"duplicate env var {n!r}")
        names.add(n)
        source = e.get("valueFrom") or {}
        if e.get("value") is not None and source:
            out.add(ew, "value and valueFrom exclude each other")
        if len(source) > 1:
            out.add(f"{ew}.valueFrom", "needs exactly one source")
        field = (source.get("fieldRef") or {}).get("fieldPath")
        if "fieldRef" in source and not FIELD_PATH.fullmatch(str(field)):
            out.add(f"{ew}.valueFrom.fieldRef.fieldPath",
                    f"{field!r} is not a field the downward API exposes")
        ref = source.get("configMapKeyRef")
        if ref and not ref.get("optional"):
            cm = find(objects, "ConfigMap", ref.get("name"))
            if cm is None:
                out.add(ew, f"no ConfigMap {ref.get('name')!r} among the manifests")
            elif ref.get("key") not in (cm.get("data") or {}):
                out.add(ew, f"ConfigMap {ref.get('name')!r} has no key "
                        f"{ref.get('key')!r}")
    if c.get("envFrom"):
        return  # its names are not all known here
    for field in ("command", "args"):
        for i, a in enumerate(c.get(field) or []):
            for ref in var_refs(a) if isinstance(a, str) else []:
                if ref not in names:
                    out.add(f"{cw}.{field}[{i}]", f"$({ref}) is no env var of "
                            "the container: it would be passed as is")


def selects(selector, labels):
    """Whether a LabelSelector (matchLabels, matchExpressions) selects
    `labels`; an empty selector selects everything."""
    selector = selector or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def container_ports(tpl):
    """(port names to numbers, port numbers) of a pod template."""
    names, numbers = {}, set()
    for c in (tpl.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            numbers.add(p.get("containerPort"))
            if p.get("name"):
                names[p["name"]] = p.get("containerPort")
    return names, numbers


def find(objects, kind, name):
    for d in objects:
        if d.get("kind") == kind and (d.get("metadata") or {}).get("name") == name:
            return d
    return None


def check_volume_ref(v, where, out, objects):
    if "configMap" in v:
        ref = v["configMap"] or {}
        cm = find(objects, "ConfigMap", ref.get("name"))
        if cm is None and not ref.get("optional"):
            out.add(where, f"no ConfigMap {ref.get('name')!r} among the manifests")
        keys = set((cm or {}).get("data") or {}) | set(
            (cm or {}).get("binaryData") or {})
        for it in ref.get("items") or []:
            if cm is not None and it.get("key") not in keys:
                out.add(where, f"ConfigMap {ref.get('name')!r} has no key "
                        f"{it.get('key')!r}")
    if "persistentVolumeClaim" in v:
        claim = (v["persistentVolumeClaim"] or {}).get("claimName")
        if find(objects, "PersistentVolumeClaim", claim) is None:
            out.add(where, f"no PersistentVolumeClaim {claim!r} among the manifests")
    if "secret" in v:
        ref = v["secret"] or {}
        name = ref.get("secretName")
        s = find(objects, "Secret", name)
        if s is None and name not in EXTERNAL_SECRETS and not ref.get("optional"):
            out.add(where, f"no Secret {name!r} among the manifests "
                    "(--external-secret for one made elsewhere)")
        if s is not None:
            keys = set(s.get("data") or {}) | set(s.get("stringData") or {})
            for it in ref.get("items") or []:
                if it.get("key") not in keys:
                    out.add(where, f"Secret {name!r} has no key {it.get('key')!r}")
        mode = ref.get("defaultMode")
        if isinstance(mode, int) and not 0 <= mode <= 0o777:
            out.add(f"{where}.secret.defaultMode", f"{mode} is not a file mode")


def check_semantics(objects, out):
    pod_ports = []  # (labels, {port name: number})
    for idx, doc in enumerate(objects):
        where = describe(doc, idx)
        check_meta(doc, where, out)
        for path, tpl in pod_templates(doc):
            labels = (tpl.get("metadata") or {}).get("labels") or {}
            if doc.get("kind") in ("Deployment", "StatefulSet"):
                sel = ((doc.get("spec") or {}).get("selector") or {})
                for k, v in (sel.get("matchLabels") or {}).items():
                    if labels.get(k) != v:
                        out.add(f"{where}.spec.selector.matchLabels.{k}",
                                "does not match the template's labels")
                if not sel.get("matchLabels") and not sel.get("matchExpressions"):
                    out.add(f"{where}.spec.selector", "empty selector")
            if doc.get("kind") == "Deployment":
                strat = (doc.get("spec") or {}).get("strategy") or {}
                if strat.get("type") == "Recreate" and "rollingUpdate" in strat:
                    out.add(f"{where}.spec.strategy.rollingUpdate",
                            "not allowed with type Recreate")
                rp = (tpl.get("spec") or {}).get("restartPolicy", "Always")
                if rp != "Always":
                    out.add(f"{where}.{path}.spec.restartPolicy",
                            "a Deployment's pods must restart Always")
            if doc.get("kind") == "Job":
                check_job(doc, tpl, where, path, out)
            pod_ports.append((labels, check_pod(tpl, f"{where}.{path}", out,
                                                objects)))
    for idx, doc in enumerate(objects):
        if doc.get("kind") != "Service":
            continue
        where = describe(doc, idx)
        spec = doc.get("spec") or {}
        sel = spec.get("selector") or {}
        matched = [p for labels, p in pod_ports
                   if sel and all(labels.get(k) == v for k, v in sel.items())]
        if sel and not matched:
            out.add(f"{where}.spec.selector", "selects no pod template here")
        seen = set()
        for i, p in enumerate(spec.get("ports") or []):
            n = p.get("name")
            if n in seen:
                out.add(f"{where}.spec.ports[{i}].name", f"duplicate {n!r}")
            seen.add(n)
            tp = p.get("targetPort", p.get("port"))
            if isinstance(tp, str) and matched and \
                    not any(tp in ports for ports in matched):
                out.add(f"{where}.spec.ports[{i}].targetPort",
                        f"no container port named {tp!r} in the selected pods")


    templates = [(describe(doc, idx), tpl) for idx, doc in enumerate(objects)
                 for _, tpl in pod_templates(doc)]
    for idx, doc in enumerate(objects):
        if doc.get("kind") == "NetworkPolicy":
            check_network_policy(doc, describe(doc, idx), templates, out)


def check_job(doc, tpl, where, path, out):
    spec = doc.get("spec") or {}
    rp = (tpl.get("spec") or {}).get("restartPolicy")
    if rp not in ("OnFailure", "Never"):
        out.add(f"{where}.{path}.spec.restartPolicy",
                f"{rp!r}: a Job's pods must restart OnFailure or Never")
    if spec.get("selector") is not None and not spec.get("manualSelector"):
        out.add(f"{where}.spec.selector", "the Job controller sets it (unless "
                "manualSelector, which is rarely right)")
    for f in ("completions", "parallelism", "backoffLimit",
              "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        v = spec.get(f)
        if isinstance(v, int) and not isinstance(v, bool) and v < 0:
            out.add(f"{where}.spec.{f}", "must not be negative")
    if spec.get("completionMode") == "Indexed":
        if not isinstance(spec.get("completions"), int):
            out.add(f"{where}.spec.completions", "an Indexed Job needs it")
        if isinstance(spec.get("parallelism"), int) and spec["parallelism"] > 1e5:
            out.add(f"{where}.spec.parallelism", "at most 100000 when Indexed")


def check_network_policy(doc, where, templates, out):
    spec = doc.get("spec") or {}
    targets = [(w, t) for w, t in templates
               if selects(spec.get("podSelector"),
                          (t.get("metadata") or {}).get("labels") or {})]
    if not targets:
        out.add(f"{where}.spec.podSelector", "selects no pod template here")
    names, numbers = {}, set()
    for _, t in targets:
        n, m = container_ports(t)
        names.update(n)
        numbers |= m
    for i, rule in enumerate(spec.get("ingress") or []):
        rw = f"{where}.spec.ingress[{i}]"
        for j, peer in enumerate(rule.get("from") or []):
            if "podSelector" in peer and "namespaceSelector" not in peer and \
                    not any(selects(peer["podSelector"],
                                    (t.get("metadata") or {}).get("labels") or {})
                            for _, t in templates):
                out.add(f"{rw}.from[{j}].podSelector",
                        "selects no pod template here")
        for j, p in enumerate(rule.get("ports") or []):
            port = p.get("port")
            if isinstance(port, int) and targets and port not in numbers:
                out.add(f"{rw}.ports[{j}].port", f"{port} is no container "
                        "port of the selected pods")
            if isinstance(port, str) and targets and port not in names:
                out.add(f"{rw}.ports[{j}].port", f"no container port named "
                        f"{port!r} in the selected pods")


# ---- tandem programs ----
def port_of(listen):
    m = re.fullmatch(r"(.*):([0-9]+)", listen or "")
    return (m.group(1), int(m.group(2))) if m else (None, None)


def image_name(image):
    return (image or "").rsplit("/", 1)[-1].split(":")[0].split("@")[0]


# Flags of tandem-server and tandem-sim that take a value.
VALUE_FLAGS = {"config", "listen", "set", "out", "port_file", "shard", "server",
               "policy_out", "episodes", "measure_profile"}


def parse_flags(args):
    """[(flag name, value or None)] of a tandem program's arguments, in
    absl's forms --name=value, --name value and --name (a bool)."""
    flags, i = [], 0
    while i < len(args):
        a = str(args[i])
        name, eq, value = a.lstrip("-").partition("=")
        if not a.startswith("--"):
            flags.append((None, a))
        elif eq:
            flags.append((name, value))
        elif name in VALUE_FLAGS and i + 1 < len(args):
            flags.append((name, str(args[i + 1])))
            i += 1
        else:
            flags.append((name, None))
        i += 1
    return flags


def flag_values(args, name):
    return [v for n, v in parse_flags(args) if n == name]


def program_of(c):
    cmd = list(c.get("command") or []) + list(c.get("args") or [])
    return os.path.basename(str(cmd[0])) if cmd else None


def check_hardening(c, pod, cw, out):
    psc = pod.get("securityContext") or {}
    sc = c.get("securityContext") or {}
    if not (sc.get("runAsNonRoot", psc.get("runAsNonRoot"))):
        out.add(f"{cw}.securityContext", "runAsNonRoot must be true")
    if sc.get("runAsUser", psc.get("runAsUser")) in (None, 0):
        out.add(f"{cw}.securityContext", "runAsUser must name a non-root uid "
                "(the image's user may be root)")
    if sc.get("readOnlyRootFilesystem") is not True:
        out.add(f"{cw}.securityContext.readOnlyRootFilesystem", "must be true")
    if sc.get("allowPrivilegeEscalation") is not False:
        out.add(f"{cw}.securityContext.allowPrivilegeEscalation", "must be false")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        out.add(f"{cw}.securityContext.capabilities.drop", "must hold ALL")


def check_coordinator_container(c, cw, out):
    """Ports and probes of a tandem-server container; its ports by name."""
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        if probe not in c:
            out.add(f"{cw}", f"no {probe}")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    if "grpc" not in ports or "metrics" not in ports:
        out.add(f"{cw}.ports", "needs ports named grpc and metrics")
    if any("grpc" in (c.get(p) or {}) for p in ("livenessProbe", "readinessProbe",
                                                 "startupProbe")):
        out.add(f"{cw}", "a grpc probe needs grpc.health.v1, which "
                "tandem-server does not serve")
    ready = (c.get("readinessProbe") or {}).get("httpGet") or {}
    if ready and (ready.get("path") != "/metrics" or
                  ready.get("port") not in ("metrics", ports.get("metrics"))):
        out.add(f"{cw}.readinessProbe.httpGet",
                "tandem-server serves HTTP only at /metrics on the metrics port")
    return ports


def mounts_of(c, pod):
    """{mountPath: the pod's volume} of container `c`."""
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    return {m.get("mountPath"): volumes.get(m.get("name"), {})
            for m in c.get("volumeMounts") or []}


def configmap_file(path, mounts, objects):
    """(ConfigMap name, key, text) of the file `path` in a mounted ConfigMap,
    or an error message."""
    mount_dir, _, file_name = path.rpartition("/")
    ref = (mounts.get(mount_dir) or {}).get("configMap")
    if ref is None:
        return None, f"{path} is not in a mounted ConfigMap"
    items = ref.get("items")
    key = next((it.get("key") for it in items or []
                if it.get("path") == file_name), None if items else file_name)
    cm = find(objects, "ConfigMap", ref.get("name")) or {}
    text = (cm.get("data") or {}).get(key) if key is not None else None
    if text is None:
        return None, (f"{path}: ConfigMap {ref.get('name')!r} has no "
                      f"{key or file_name} mounted there")
    return (ref.get("name"), key, text), None


def resolve_config(program, binary, c, mounts, objects, cw, out, values=None):
    """The config `program` runs with in container `c`: its --config file
    (from a mounted ConfigMap) with the container's arguments, resolved by
    `binary --print_config` when given, else by the same rules here.
    Returns (config, (ConfigMap name, key)) or (None, None)."""
    args = [expand(str(a), values or {}) for a in c.get("args") or []]
    if sum(n == "set" for n, _ in parse_flags(args)) > 1:
        out.add(f"{cw}.args", f"more than one --set: {program} keeps only "
                "the last (join the overrides with commas)")
    config_args = [a for a in args if a.startswith("--config=")]
    if len(config_args) != 1:
        out.add(f"{cw}.args", "needs one --config=FILE")
        return None, None
    config_path = config_args[0][len("--config="):]
    found, err = configmap_file(config_path, mounts, objects)
    if err:
        out.add(f"{cw}.args", err)
        return None, None
    cm_name, key, text = found
    try:
        config = json.loads(text)
    except ValueError as e:
        out.add(f"ConfigMap/{cm_name}.data.{key}", f"not JSON: {e}")
        return None, None
    if binary:
        # The program itself resolves the config with the container's args.
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, os.path.basename(config_path))
            with open(local, "w") as f:
                f.write(text)
            cmd = [binary] + [f"--config={local}" if a.startswith("--config=")
                              else a for a in args] + ["--print_config"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                out.add(f"{cw}.args", f"{program} --print_config with the "
                        f"container's arguments failed: {r.stderr.strip()}")
                return None, None
            config = json.loads(r.stdout)
    else:
        # The same for the flags used here: --out, --set a.b=v,...
        for name, value in parse_flags(args):
            if name == "out":
                config.setdefault("output", {})["dir"] = value
            elif name == "set":
                for item in (value or "").split(","):
                    k, _, v = item.partition("=")
                    section, _, field = k.partition(".")
                    config.setdefault(section, {})[field] = v
    # tandem-server applies --listen after --print_config.
    for name, value in parse_flags(args):
        if name == "listen" and program == "tandem-server":
            config.setdefault("server", {})["listen"] = value
    return config, (cm_name, key)


def check_listen(config, ports, cw, out):
    server = config.get("server") or {}
    host, port = port_of(server.get("listen"))
    if host not in ("0.0.0.0", "[::]"):
        out.add(f"{cw}", f"server.listen {server.get('listen')!r} must be "
                "0.0.0.0:PORT in a pod")
    if port != ports.get("grpc"):
        out.add(f"{cw}", f"server.listen port {port} is not the grpc "
                f"containerPort {ports.get('grpc')}")
    host, port = port_of(server.get("metrics_listen"))
    if host not in ("0.0.0.0", "[::]") or port != ports.get("metrics"):
        out.add(f"{cw}", f"server.metrics_listen {server.get('metrics_listen')!r}"
                f" must be 0.0.0.0:{ports.get('metrics')} (metrics port, probe)")


def check_output_dir(config, mounts, cw, out):
    outdir = (config.get("output") or {}).get("dir", "runs")
    if not any(outdir == m or outdir.startswith(m.rstrip("/") + "/")
               for m, v in mounts.items() if "persistentVolumeClaim" in v):
        out.add(f"{cw}", f"output.dir {outdir} is not on a "
                "PersistentVolumeClaim")


def check_tandem_server(objects, out, binary):
    dep = find(objects, "Deployment", "tandem-server")
    if dep is None:
        out.add("manifests", "no Deployment tandem-server")
        return
    where = "Deployment/tandem-server"
    spec = dep.get("spec") or {}
    if spec.get("replicas") != 1:
        out.add(f"{where}.spec.replicas", "must be 1 (one coordinator)")
    if (spec.get("strategy") or {}).get("type") != "Recreate":
        out.add(f"{where}.spec.strategy.type", "must be Recreate")
    pod = (spec.get("template") or {}).get("spec") or {}
    cs = [c for c in pod.get("containers") or [] if c.get("name") == "tandem-server"]
    if len(cs) != 1:
        out.add(f"{where}", "needs one container named tandem-server")
        return
    c = cs[0]
    cw = f"{where}.containers[tandem-server]"
    image = c.get("image", "")
    if image_name(image) != "tandem-server":
        out.add(f"{cw}.image", f"{image!r} is not a tandem-server image")
    check_hardening(c, pod, cw, out)
    ports = check_coordinator_container(c, cw, out)
    mounts = mounts_of(c, pod)
    config, _ = resolve_config("tandem-server", binary, c, mounts, objects, cw,
                               out)
    if config is None:
        return
    server = config.get("server") or {}
    tls = volumes_mounted_at(mounts, "secret")
    for field in ("tls_cert", "tls_key", "tls_client_ca"):
        path = server.get(field, "")
        d, _, f = path.rpartition("/")
        sec = (mounts.get(d) or {}).get("secret")
        files = {it.get("path") for it in (sec or {}).get("items") or []}
        if not path:
            out.add(f"{cw}", f"server.{field} is not set: the systemd unit's "
                    "mutual TLS needs it")
        elif sec is None or (files and f not in files):
            out.add(f"{cw}", f"server.{field} {path} is not a file of the "
                    f"mounted Secret ({', '.join(tls) or 'none mounted'})")
    check_output_dir(config, mounts, cw, out)
    check_listen(config, ports, cw, out)


def volumes_mounted_at(mounts, kind):
    return [m for m, v in mounts.items() if kind in v]


# ---- a simulated fleet: tandem-server --fleet and tandem-sim --shard ----
def job_containers(objects, program, flag):
    """(Job, pod spec, container) of every Job container that runs
    `program` with --`flag`."""
    found = []
    for d in objects:
        if d.get("kind") != "Job":
            continue
        pod = (((d.get("spec") or {}).get("template") or {}).get("spec") or {})
        for c in pod.get("containers") or []:
            if program_of(c) == program and any(
                    n == flag and v not in ("false", "0", "no")
                    for n, v in parse_flags(c.get("args") or [])):
                found.append((d, pod, c))
    return found


def as_int(v):
    """An int config value (a --set override here is a string), else None."""
    try:
        return int(v) if not isinstance(v, (bool, float)) else None
    except (TypeError, ValueError):
        return None


def cpu_limit(c):
    return quantity(((c.get("resources") or {}).get("limits") or {}).get("cpu"))


def check_threads(value, field, c, cw, out):
    limit, value = cpu_limit(c), as_int(value)
    if value is None or value < 1:
        out.add(cw, f"{field} {value!r}: set it (0 means the node's cores, "
                "not the container's CPU limit)")
    elif limit is None:
        out.add(f"{cw}.resources.limits.cpu", f"set it ({field} {value})")
    elif value > limit:
        out.add(cw, f"{field} {value} is more than the CPU limit "
                f"{((c.get('resources') or {}).get('limits') or {}).get('cpu')}")


def check_profile(config, mounts, objects, cw, out):
    """fleet.profile: a file of a mounted ConfigMap holding a valid profile
    of the config's model (what ml/profile_file.cc reads), identical to the
    one of that name in configs/profiles/ if there is one."""
    fleet = config.get("fleet") or {}
    if fleet.get("compute_time") != "profiled":
        out.add(cw, f"fleet.compute_time {fleet.get('compute_time')!r}: a "
                "sharded fleet needs \"profiled\" (\"measured\" CPU seconds "
                "differ between pods and runs)")
    path = fleet.get("profile") or ""
    if not path:
        out.add(cw, "fleet.profile is not set: each pod would measure its own")
        return
    found, err = configmap_file(path, mounts, objects)
    if err:
        out.add(cw, f"fleet.profile: {err}")
        return
    cm_name, key, text = found
    where = f"ConfigMap/{cm_name}.data.{key}"
    try:
        profile = json.loads(text)
        model = (config.get("model") or {}).get("name")
        if profile["model"] != model:
            out.add(where, f"a profile of {profile['model']!r}, the config "
                    f"trains {model!r}")
        dataset = (config.get("data") or {}).get("dataset", "fashion-mnist")
        if dataset in ("fashion-mnist", "mnist") and \
                profile["input"] != [1, 28, 28, 10]:
            out.add(where, f"input {profile['input']} is not {dataset}'s "
                    "[1, 28, 28, 10]")
        if not profile["stages"]:
            out.add(where, "no stages")
        for s in profile["stages"]:
            for t in ("train_seconds_per_example", "aux_seconds_per_example"):
                if not 0 <= s[t] < 1:
                    out.add(where, f"stage {s['name']!r}: {t} out of [0, 1)")
            if s["out_elements"] < 1 or s["param_bytes"] < 0 or \
                    s["aux_param_bytes"] < 0:
                out.add(where, f"stage {s['name']!r}: sizes out of range")
    except (ValueError, KeyError, TypeError) as e:
        out.add(where, f"not a profile: {e!r}")
        return
    shipped = os.path.join(SOURCE_DIR, "configs", "profiles", key)
    if os.path.exists(shipped):
        with open(shipped) as f:
            if json.load(f) != profile:
                out.add(where, f"differs from configs/profiles/{key}")


def total_devices(config):
    return sum(as_int(c.get("count", 0)) or 0
               for c in (config.get("fleet") or {}).get("classes") or [])


def check_fleet_sim(objects, out, server_binary, sim_binary):
    # The coordinator.
    coords = job_containers(objects, "tandem-server", "fleet")
    if len(coords) != 1:
        out.add("manifests", f"needs one Job running tandem-server --fleet "
                f"(found {len(coords)})")
        return
    job, pod, c = coords[0]
    where = describe(job, 0)
    cw = f"{where}.containers[{c.get('name')}]"
    spec = job.get("spec") or {}
    for f in ("completions", "parallelism"):
        if spec.get(f, 1) != 1:
            out.add(f"{where}.spec.{f}", "must be 1 (one coordinator)")
    if image_name(c.get("image")) != "tandem-server":
        out.add(f"{cw}.image", f"{c.get('image')!r} is not a tandem-server image")
    check_hardening(c, pod, cw, out)
    ports = check_coordinator_container(c, cw, out)
    mounts = mounts_of(c, pod)
    config, config_ref = resolve_config("tandem-server", server_binary, c,
                                        mounts, objects, cw, out)
    if config is not None:
        server = config.get("server") or {}
        for field in ("tls_cert", "tls_key", "tls_client_ca"):
            if server.get(field):
                out.add(cw, f"server.{field} is set, but tandem-sim's shards "
                        "connect without TLS")
        check_output_dir(config, mounts, cw, out)
        check_listen(config, ports, cw, out)
        check_threads(server.get("threads"), "server.threads", c, cw, out)
        check_profile(config, mounts, objects, cw, out)
        n = total_devices(config)
        if n < 1:
            out.add(cw, "the config's fleet has no devices")
        if (as_int(server.get("min_devices", 1)) or 0) > n:
            out.add(cw, f"server.min_devices {server.get('min_devices')} is "
                    f"more than the fleet's {n} devices")
    coordinator_labels = ((spec.get("template") or {}).get("metadata") or {}) \
        .get("labels") or {}

    # The shards.
    shards = job_containers(objects, "tandem-sim", "shard")
    if len(shards) != 1:
        out.add("manifests", f"needs one Job running tandem-sim --shard "
                f"(found {len(shards)})")
        return
    sjob, spod, s = shards[0]
    swhere = describe(sjob, 0)
    sw = f"{swhere}.containers[{s.get('name')}]"
    sspec = sjob.get("spec") or {}
    shard_labels = ((sspec.get("template") or {}).get("metadata") or {}) \
        .get("labels") or {}
    if image_name(s.get("image")) != "tandem-sim":
        out.add(f"{sw}.image", f"{s.get('image')!r} is not a tandem-sim image")
    check_hardening(s, spod, sw, out)
    if sspec.get("completionMode") != "Indexed":
        out.add(f"{swhere}.spec.completionMode", "must be Indexed (the shard "
                "index is the pod's completion index)")
    args = [str(a) for a in s.get("args") or []]
    # --shard $(VAR)/N, VAR the pod's completion index.
    index_vars = {e.get("name") for e in s.get("env") or []
                  if ((e.get("valueFrom") or {}).get("fieldRef") or {})
                  .get("fieldPath") in (f"metadata.annotations['{COMPLETION_INDEX}']",
                                        f"metadata.labels['{COMPLETION_INDEX}']")}
    shard = flag_values(args, "shard")
    m = re.fullmatch(r"\$\(([-._a-zA-Z0-9]+)\)/([0-9]+)", shard[0] if shard else "")
    count = None
    if len(shard) != 1 or not m:
        out.add(f"{sw}.args", f"--shard {shard}: needs one --shard=$(VAR)/N")
    elif m.group(1) not in index_vars:
        out.add(f"{sw}.args", f"--shard: $({m.group(1)}) is not an env var "
                f"from the annotation {COMPLETION_INDEX} (valueFrom.fieldRef)")
    else:
        count = int(m.group(2))
    for f in ("completions", "parallelism"):
        if count is not None and sspec.get(f) != count:
            out.add(f"{swhere}.spec.{f}", f"{sspec.get(f)!r} is not the N of "
                    f"--shard I/{count} (every shard runs at once: the "
                    "coordinator waits for the whole fleet)")
    if count is not None and config is not None and \
            not 1 <= count <= total_devices(config):
        out.add(f"{sw}.args", f"--shard I/{count}: N must be 1 to the "
                f"fleet's {total_devices(config)} devices")
    # --server HOST:PORT: a Service of the coordinator, on its gRPC port.
    target = flag_values(args, "server")
    host, port = port_of(target[0] if len(target) == 1 else "")
    if host is None:
        out.add(f"{sw}.args", f"--server {target}: needs one --server=HOST:PORT")
    else:
        svc = next((d for d in objects if d.get("kind") == "Service" and
                    host.split(".")[0] == (d.get("metadata") or {}).get("name")),
                   None)
        if svc is None:
            out.add(f"{sw}.args", f"--server {host}:{port}: no Service "
                    f"{host.split('.')[0]!r} among the manifests")
        else:
            sv = describe(svc, 0)
            sspec_svc = svc.get("spec") or {}
            if sspec_svc.get("type", "ClusterIP") != "ClusterIP":
                out.add(f"{sv}.spec.type", "must be ClusterIP: the shards' "
                        "gRPC is plaintext")
            if not sspec_svc.get("selector") or \
                    not selects({"matchLabels": sspec_svc.get("selector")},
                                coordinator_labels):
                out.add(f"{sv}.spec.selector", "does not select the "
                        "coordinator's pods")
            sp = next((p for p in sspec_svc.get("ports") or []
                       if p.get("port") == port), None)
            if sp is None:
                out.add(f"{sw}.args", f"--server {host}:{port}: Service "
                        f"{host.split('.')[0]} has no port {port}")
            else:
                tp = sp.get("targetPort", sp.get("port"))
                tp = ports.get(tp) if isinstance(tp, str) else tp
                if tp != ports.get("grpc"):
                    out.add(f"{sw}.args", f"--server {host}:{port}: the "
                            f"Service's port {port} leads to {tp}, not the "
                            f"coordinator's grpc port {ports.get('grpc')}")
    # Init containers: tandem images only; a wait is for that HOST:PORT.
    for i, ic in enumerate(spod.get("initContainers") or []):
        iw = f"{swhere}.initContainers[{ic.get('name', i)}]"
        if image_name(ic.get("image")) not in TANDEM_IMAGES:
            out.add(f"{iw}.image", f"{ic.get('image')!r}: no outside images "
                    f"(one of {', '.join(sorted(TANDEM_IMAGES))})")
        check_hardening(ic, spod, iw, out)
        script = " ".join(str(a) for a in (ic.get("command") or []) +
                          (ic.get("args") or []))
        for wh, wp in re.findall(r"/dev/tcp/([^/\s'\"]+)/([0-9]+)", script):
            if host is not None and (wh, int(wp)) != (host, port):
                out.add(iw, f"waits for {wh}:{wp}, the shards dial "
                        f"{host}:{port}")
    # The shards' config: the coordinator's, from the same ConfigMap.
    smounts = mounts_of(s, spod)
    values = {n: "0" for n in index_vars}
    sconfig, sconfig_ref = resolve_config("tandem-sim", sim_binary, s, smounts,
                                          objects, sw, out, values)
    if sconfig is not None and config is not None:
        if sconfig_ref != config_ref:
            out.add(f"{sw}.args", f"--config is {sconfig_ref}, the "
                    f"coordinator's {config_ref}")
        a, b = json.loads(json.dumps(config)), json.loads(json.dumps(sconfig))
        for d in (a, b):
            d.get("server", {}).pop("listen", None)
            d.get("output", {}).pop("dir", None)
        if a != b:
            diff = sorted(f"{k}.{f}" for k in set(a) | set(b)
                          if isinstance(a.get(k), dict) or isinstance(b.get(k), dict)
                          for f in set(a.get(k) or {}) | set(b.get(k) or {})
                          if (a.get(k) or {}).get(f) != (b.get(k) or {}).get(f))
            out.add(sw, "the shards resolve another config than the "
                    f"coordinator (differing: {', '.join(diff) or 'top level'})")
        check_profile(sconfig, smounts, objects, sw, out)
        check_threads((sconfig.get("fleet") or {}).get("concurrency"),
                      "fleet.concurrency", s, sw, out)
    # Only the shards reach the coordinator's gRPC port.
    check_fleet_network_policy(objects, coordinator_labels, shard_labels,
                               ports.get("grpc"), out)


def check_fleet_network_policy(objects, coordinator_labels, shard_labels,
                               grpc_port, out):
    policies = [(describe(d, i), d.get("spec") or {})
                for i, d in enumerate(objects) if d.get("kind") == "NetworkPolicy"
                and selects((d.get("spec") or {}).get("podSelector"),
                            coordinator_labels)]
    admitted = False
    for where, spec in policies:
        types = spec.get("policyTypes") or ["Ingress"]
        if "Ingress" not in types:
            continue
        for i, rule in enumerate(spec.get("ingress") or []):
            rw = f"{where}.spec.ingress[{i}]"
            rule_ports = [p.get("port") for p in rule.get("ports") or []]
            if rule_ports and grpc_port not in rule_ports and \
                    "grpc" not in rule_ports:
                continue
            peers = rule.get("from") or []
            if not peers:
                out.add(rw, "admits every source to the coordinator's "
                        "plaintext gRPC port")
            for j, peer in enumerate(peers):
                sel = peer.get("podSelector") or {}
                only_shards = set(peer) == {"podSelector"} and \
                    bool(sel.get("matchLabels") or sel.get("matchExpressions")) \
                    and selects(sel, shard_labels)
                if not only_shards:
                    out.add(f"{rw}.from[{j}]", "admits more than the shard "
                            "pods to the coordinator's plaintext gRPC port")
                else:
                    admitted = True
    if not policies:
        out.add("manifests", "no NetworkPolicy selects the coordinator: any "
                "pod could reach its plaintext gRPC port")
    elif not admitted:
        out.add("manifests", "no NetworkPolicy rule admits the shard pods to "
                f"the coordinator's gRPC port {grpc_port}")


# ---- input ----
def describe(doc, idx):
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind', '?')}/{meta.get('name', f'#{idx}')}"


def load_all(text, source, out):
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        out.add(source, f"not YAML: {e}")
        return []
    for d in docs:
        if not isinstance(d, dict):
            out.add(source, f"a document is {type_name(d)}, not an object")
    return [d for d in docs if isinstance(d, dict)]


def mini_kustomize(directory, out):
    """What `kubectl kustomize` does for the fields used here."""
    path = os.path.join(directory, "kustomization.yaml")
    with open(path) as f:
        k = yaml.safe_load(f) or {}
    allowed = {"apiVersion", "kind", "resources", "configMapGenerator", "images"}
    for key in k:
        if key not in allowed:
            out.add(path, f"{key}: needs kubectl kustomize to check")
    docs = []
    for r in k.get("resources") or []:
        with open(os.path.join(directory, r)) as f:
            docs += load_all(f.read(), r, out)
    for g in k.get("configMapGenerator") or []:
        data = {}
        for spec in g.get("files") or []:
            key, _, file = spec.rpartition("=")
            with open(os.path.join(directory, file)) as f:
                data[key or os.path.basename(file)] = f.read()
        for lit in g.get("literals") or []:
            key, _, val = lit.partition("=")
            data[key] = val
        meta = {"name": g["name"]}
        labels = (g.get("options") or {}).get("labels")
        if labels:
            meta["labels"] = labels
        docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": meta, "data": data})
    for img in k.get("images") or []:
        for d in docs:
            for _, tpl in pod_templates(d):
                spec = tpl.get("spec") or {}
                for c in (spec.get("initContainers") or []) + \
                        (spec.get("containers") or []):
                    name, _, tag = c.get("image", "").partition(":")
                    if name == img.get("name"):
                        c["image"] = (img.get("newName", name) + ":" +
                                      str(img.get("newTag", tag or "latest")))
    return docs


EXTERNAL_SECRETS = set()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rendered", nargs="?", help="kubectl kustomize output")
    ap.add_argument("--kustomization", metavar="DIR")
    ap.add_argument("--target", choices=("server", "fleet-sim"),
                    default="server",
                    help="what the manifests run (see the checks above)")
    ap.add_argument("--server-binary", metavar="BIN")
    ap.add_argument("--sim-binary", metavar="BIN",
                    help="tandem-sim, for --target fleet-sim")
    ap.add_argument("--external-secret", action="append", default=[])
    a = ap.parse_args()
    if bool(a.rendered) == bool(a.kustomization):
        ap.error("give RENDERED.yaml or --kustomization DIR")
    EXTERNAL_SECRETS.update(a.external_secret)
    out = Findings()
    if a.kustomization:
        objects = mini_kustomize(a.kustomization, out)
    else:
        with open(a.rendered) if a.rendered != "-" else sys.stdin as f:
            objects = load_all(f.read(), a.rendered, out)
    for idx, doc in enumerate(objects):
        model, err = model_for(doc)
        if err:
            out.add(describe(doc, idx), err)
            continue
        check_schema(doc, model, describe(doc, idx), out)
    check_semantics(objects, out)
    if a.target == "server":
        check_tandem_server(objects, out, a.server_binary)
    else:
        check_fleet_sim(objects, out, a.server_binary, a.sim_binary)
    for item in out.items:
        print(f"check-manifests: {item}", file=sys.stderr)
    kinds = ", ".join(describe(d, i) for i, d in enumerate(objects))
    if out.items:
        print(f"check-manifests: {len(out.items)} finding(s) in {kinds}",
              file=sys.stderr)
        return 1
    print(f"check-manifests: {len(objects)} objects clean ({kinds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
