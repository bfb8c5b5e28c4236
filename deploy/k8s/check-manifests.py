#!/usr/bin/python3
"""Checks Kubernetes manifests offline, without a cluster.

  check-manifests.py [--server-binary BIN] [--external-secret NAME]...
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
  Deployment's selector against its template's labels, unique container,
  port and volume names, volume mounts of existing volumes, probes and
  Service targetPorts on named ports that exist, requests <= limits, a few
  enumerations (protocol, imagePullPolicy, strategy, Service type, ...);
- references: ConfigMaps, PersistentVolumeClaims and Secrets that pods use
  exist among the manifests (or are named with --external-secret), with the
  keys the pods ask for;
- tandem-server: one replica, Recreate, mutual TLS from the Secret's files,
  non-root, read-only root filesystem, no capabilities, the probes; its
  config (from the ConfigMap it mounts) listens on 0.0.0.0 on the gRPC
  container port and serves metrics on the metrics port. With
  --server-binary, tandem-server itself parses that config with the
  container's arguments (--print_config) and the resolved TLS files and
  output.dir must lie in the Secret's and the volume's mounts.

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

CONFIG = Configuration()
CONFIG.client_side_validation = True


class Findings:
    def __init__(self):
        self.items = []

    def add(self, where, message):
        self.items.append(f"{where}: {message}")


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
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            p = c.get(probe)
            if not isinstance(p, dict):
                continue
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


# ---- tandem-server ----
def port_of(listen):
    m = re.fullmatch(r"(.*):([0-9]+)", listen or "")
    return (m.group(1), int(m.group(2))) if m else (None, None)


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
    if image.rsplit("/", 1)[-1].split(":")[0].split("@")[0] != "tandem-server":
        out.add(f"{cw}.image", f"{image!r} is not a tandem-server image")
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

    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    mounts = {m.get("mountPath"): volumes.get(m.get("name"), {})
              for m in c.get("volumeMounts") or []}
    args = list(c.get("args") or [])
    if sum(a.startswith("--set=") or a == "--set" for a in args) > 1:
        out.add(f"{cw}.args", "more than one --set: tandem-server keeps only "
                "the last (join the overrides with commas)")
    config_args = [a for a in args if a.startswith("--config=")]
    if len(config_args) != 1:
        out.add(f"{cw}.args", "needs one --config=FILE")
        return
    config_path = config_args[0][len("--config="):]
    mount_dir, _, file_name = config_path.rpartition("/")
    cm_ref = (mounts.get(mount_dir) or {}).get("configMap")
    if cm_ref is None:
        out.add(f"{cw}.args", f"{config_path} is not in a mounted ConfigMap")
        return
    key = next((it.get("key") for it in cm_ref.get("items") or []
                if it.get("path") == file_name), file_name)
    cm = find(objects, "ConfigMap", cm_ref.get("name")) or {}
    text = (cm.get("data") or {}).get(key)
    if text is None:
        out.add(f"{cw}.args", f"ConfigMap {cm_ref.get('name')!r} has no {key}")
        return
    try:
        config = json.loads(text)
    except ValueError as e:
        out.add(f"ConfigMap/{cm_ref.get('name')}.data.{key}", f"not JSON: {e}")
        return

    if binary:
        # tandem-server itself resolves the config with the container's args.
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "server.json")
            with open(local, "w") as f:
                f.write(text)
            cmd = [binary] + [f"--config={local}" if a.startswith("--config=")
                              else a for a in args] + ["--print_config"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                out.add(f"{cw}.args", "tandem-server --print_config with the "
                        f"container's arguments failed: {r.stderr.strip()}")
                return
            config = json.loads(r.stdout)
    else:
        # The same for the flags used here: --out, --listen, --set a.b=v,...
        for a in args:
            flag, _, value = a.partition("=")
            if flag == "--out":
                config.setdefault("output", {})["dir"] = value
            elif flag == "--listen":
                config.setdefault("server", {})["listen"] = value
            elif flag == "--set":
                for item in value.split(","):
                    key, _, v = item.partition("=")
                    section, _, field = key.partition(".")
                    config.setdefault(section, {})[field] = v
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
    outdir = (config.get("output") or {}).get("dir", "runs")
    if not any(outdir == m or outdir.startswith(m.rstrip("/") + "/")
               for m, v in mounts.items() if "persistentVolumeClaim" in v):
        out.add(f"{cw}", f"output.dir {outdir} is not on a "
                "PersistentVolumeClaim")
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


def volumes_mounted_at(mounts, kind):
    return [m for m, v in mounts.items() if kind in v]


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
                for c in (tpl.get("spec") or {}).get("containers") or []:
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
    ap.add_argument("--server-binary", metavar="BIN")
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
    check_tandem_server(objects, out, a.server_binary)
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
