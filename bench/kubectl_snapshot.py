"""Cluster snapshots shaped like what `kubectl get ns,nodes,pods,svc,ep,ingress,networkpolicies,
workspaces,nsnp -A -o yaml` (or `-o json`) prints for a real cluster.

Every Pod carries what the API server returns: managedFields (two managers, fieldsV1 trees),
ownerReferences, annotations, containers with env, volumeMounts, resources and probes, volumes,
and a status with conditions and containerStatuses: 6-8 KB of YAML each. There is about one
NetworkPolicy per five pods, a Service (+ Endpoints) per deployment, a few Ingresses.

    python bench/kubectl_snapshot.py --pods 5000 --out DIR     # writes DIR/pods-5000.{yaml,json}

The YAML is written in kubectl's style (one `kind: List`, keys sorted, sequences not indented,
long strings folded at 80 columns); the JSON as `kubectl -o json` (4-space indent).
"""

from __future__ import annotations

import argparse
import json
import os
import random
from pathlib import Path
from typing import Any

import yaml

PODS_PER_DEPLOYMENT = 5
DEPLOYMENTS_PER_NAMESPACE = 2
NODES = 20
STAMP = "2026-11-02T09:14:27Z"


def _uid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _fields(keys: list[str]) -> dict[str, Any]:
    return {f"f:{k}": {} for k in keys}


def _managed_fields(containers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    spec_containers = {}
    for c in containers:
        spec_containers[f'k:{{"name":"{c["name"]}"}}'] = {
            ".": {}, **_fields(["image", "imagePullPolicy", "name", "terminationMessagePath",
                                "terminationMessagePolicy"]),
            "f:env": {f'k:{{"name":"{e["name"]}"}}': {".": {}, "f:name": {}, "f:value": {}}
                      for e in c["env"]},
            "f:ports": {f'k:{{"containerPort":{p["containerPort"]},"protocol":"TCP"}}': {
                ".": {}, **_fields(["containerPort", "name", "protocol"])} for p in c["ports"]},
            "f:livenessProbe": {".": {}, "f:httpGet": {".": {}, **_fields(["path", "port"])},
                                **_fields(["periodSeconds"])},
            "f:readinessProbe": {".": {}, "f:httpGet": {".": {}, **_fields(["path", "port"])},
                                 **_fields(["periodSeconds"])},
            "f:resources": {".": {}, "f:limits": {".": {}, **_fields(["cpu", "memory"])},
                            "f:requests": {".": {}, **_fields(["cpu", "memory"])}},
        }
    controller = {
        "apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kube-controller-manager",
        "operation": "Update", "time": STAMP,
        "fieldsV1": {
            "f:metadata": {"f:generateName": {}, "f:labels": {".": {}, **_fields(
                ["app.kubernetes.io/name", "app.kubernetes.io/part-of", "pod-template-hash",
                 "tier"])},
                "f:ownerReferences": {".": {}, 'k:{"uid":"x"}': {}}},
            "f:spec": {"f:containers": spec_containers, **_fields(
                ["dnsPolicy", "enableServiceLinks", "restartPolicy", "schedulerName",
                 "securityContext", "serviceAccount", "serviceAccountName",
                 "terminationGracePeriodSeconds"]),
                "f:volumes": {'k:{"name":"config"}': {".": {}, "f:configMap": {
                    ".": {}, **_fields(["defaultMode", "name"])}, "f:name": {}}}},
        }}
    kubelet = {
        "apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kubelet",
        "operation": "Update", "subresource": "status", "time": STAMP,
        "fieldsV1": {"f:status": {
            "f:conditions": {f'k:{{"type":"{t}"}}': {".": {}, **_fields(
                ["lastProbeTime", "lastTransitionTime", "status", "type"])}
                for t in ("ContainersReady", "Initialized", "PodReadyToStartContainers",
                          "Ready")},
            **_fields(["containerStatuses", "hostIP", "hostIPs", "phase", "podIP",
                       "startTime"]),
            "f:podIPs": {".": {}, 'k:{"ip":"10.0.0.1"}': {".": {}, "f:ip": {}}}}}}
    return [controller, kubelet]


def _container(rng: random.Random, app: str, index: int) -> dict[str, Any]:
    port = 8080 + index
    return {
        "env": [{"name": f"{app.upper().replace('-', '_')}_SETTING_{k}",
                 "value": f"value-{rng.randrange(10_000)}"} for k in range(4)]
        + [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}}],
        "image": f"registry.example.com/team/{app}:1.{rng.randrange(40)}.{rng.randrange(10)}",
        "imagePullPolicy": "IfNotPresent",
        "livenessProbe": {"failureThreshold": 3, "httpGet": {"path": "/healthz", "port": port,
                                                             "scheme": "HTTP"},
                          "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1},
        "name": f"{app}-{index}" if index else app,
        "ports": [{"containerPort": port, "name": "http" if not index else f"http-{index}",
                   "protocol": "TCP"}],
        "readinessProbe": {"failureThreshold": 3, "httpGet": {"path": "/ready", "port": port,
                                                              "scheme": "HTTP"},
                           "periodSeconds": 5, "successThreshold": 1, "timeoutSeconds": 1},
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"},
                      "requests": {"cpu": "100m", "memory": "128Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [
            {"mountPath": "/etc/app", "name": "config", "readOnly": True},
            {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
             "name": "kube-api-access-x7k2p", "readOnly": True}],
    }


def _pod(rng: random.Random, namespace: str, app: str, workspace: str, number: int,
         pod_ip: str, node: str, host_ip: str) -> dict[str, Any]:
    template_hash = f"{rng.getrandbits(40):010x}"[:10]
    name = f"{app}-{template_hash}-{rng.getrandbits(25):05x}"
    containers = [_container(rng, app, k) for k in range(1 + (number % 5 == 4))]
    statuses = [{
        "containerID": f"containerd://{rng.getrandbits(256):064x}",
        "image": c["image"], "imageID": f"{c['image']}@sha256:{rng.getrandbits(256):064x}",
        "lastState": {}, "name": c["name"], "ready": True, "restartCount": 0, "started": True,
        "state": {"running": {"startedAt": STAMP}},
        "volumeMounts": [{"mountPath": m["mountPath"], "name": m["name"], "readOnly": True,
                          "recursiveReadOnly": "Disabled"} for m in c["volumeMounts"]],
    } for c in containers]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "annotations": {"kubectl.kubernetes.io/restartedAt": STAMP,
                            "prometheus.io/scrape": "true", "prometheus.io/port": "9090",
                            "description": "A long human written note about this workload "
                                           "that kubectl folds across several lines because "
                                           "it is longer than eighty columns."},
            "creationTimestamp": STAMP, "generateName": f"{app}-{template_hash}-",
            "labels": {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": workspace,
                       "pod-template-hash": template_hash,
                       "tier": ("frontend", "backend", "data")[number % 3]},
            "managedFields": _managed_fields(containers),
            "name": name, "namespace": namespace,
            "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": True,
                                 "controller": True, "kind": "ReplicaSet",
                                 "name": f"{app}-{template_hash}", "uid": _uid(rng)}],
            "resourceVersion": str(rng.randrange(10**6, 10**8)), "uid": _uid(rng)},
        "spec": {
            "containers": containers, "dnsPolicy": "ClusterFirst", "enableServiceLinks": True,
            "nodeName": node, "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {"fsGroup": 2000, "runAsNonRoot": True},
            "serviceAccount": "default", "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [{"effect": "NoExecute", "key": f"node.kubernetes.io/{t}",
                             "operator": "Exists", "tolerationSeconds": 300}
                            for t in ("not-ready", "unreachable")],
            "volumes": [
                {"configMap": {"defaultMode": 420, "name": f"{app}-config"}, "name": "config"},
                {"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}],
                                   "name": "kube-root-ca.crt"}},
                    {"downwardAPI": {"items": [{"fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.namespace"},
                        "path": "namespace"}]}}]}}],
        },
        "status": {
            "conditions": [{"lastProbeTime": None, "lastTransitionTime": STAMP, "status": "True",
                            "type": t} for t in ("PodReadyToStartContainers", "Initialized",
                                                 "Ready", "ContainersReady", "PodScheduled")],
            "containerStatuses": statuses, "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "phase": "Running", "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "qosClass": "Burstable", "startTime": STAMP},
    }


def _meta(rng: random.Random, name: str, namespace: str | None = None,
          **extra: Any) -> dict[str, Any]:
    meta = {"creationTimestamp": STAMP, "name": name,
            "resourceVersion": str(rng.randrange(10**6, 10**8)), "uid": _uid(rng), **extra}
    if namespace:
        meta["namespace"] = namespace
    return meta


def snapshot_objects(pods: int, seed: int = 15) -> list[dict[str, Any]]:
    """The objects of a cluster with `pods` pods (in the order kubectl prints the kinds)."""
    rng = random.Random(seed)
    namespaces = max(1, pods // (PODS_PER_DEPLOYMENT * DEPLOYMENTS_PER_NAMESPACE))
    workspaces = max(1, namespaces // 10)
    nodes = [(f"worker-{n:02d}", f"10.1.0.{n + 10}") for n in range(NODES)]
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "ns", "node", "pod", "svc", "ep", "ing", "np", "ws", "nsnp")}
    for w in range(workspaces):
        out["ws"].append({"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
                          "metadata": _meta(rng, f"ws-{w:03d}"),
                          "spec": {"manager": "admin", "networkIsolation": w % 2 == 0}})
    for name, ip in nodes:
        out["node"].append({"apiVersion": "v1", "kind": "Node", "metadata": _meta(
            rng, name, labels={"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}),
            "spec": {"podCIDR": f"10.244.{int(ip.rsplit('.', 1)[1])}.0/24"},
            "status": {"addresses": [{"address": ip, "type": "InternalIP"},
                                     {"address": name, "type": "Hostname"}],
                       "nodeInfo": {"kubeletVersion": "v1.31.2", "osImage": "Ubuntu 24.04"}}})
    count = 0
    for n in range(namespaces):
        ns = f"team-{n:04d}"
        ws = f"ws-{n % workspaces:03d}"
        out["ns"].append({"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(
            rng, ns, labels={"kubernetes.io/metadata.name": ns, "kubesphere.io/workspace": ws}),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        for d in range(DEPLOYMENTS_PER_NAMESPACE):
            app = f"svc{d}-{n:04d}"
            ips = []
            for k in range(PODS_PER_DEPLOYMENT):
                if count >= pods:
                    break
                node, host_ip = nodes[count % NODES]
                ip = f"10.{128 + count // 65536}.{count // 256 % 256}.{count % 256}"
                out["pod"].append(_pod(rng, ns, app, ws, k, ip, node, host_ip))
                ips.append((ip, out["pod"][-1]["metadata"]["name"], node))
                count += 1
            selector = {"app.kubernetes.io/name": app}
            out["svc"].append({"apiVersion": "v1", "kind": "Service",
                               "metadata": _meta(rng, app, ns),
                               "spec": {"clusterIP": f"10.96.{n % 256}.{d + 10}",
                                        "ports": [{"name": "http", "port": 80, "protocol": "TCP",
                                                   "targetPort": "http"}],
                                        "selector": dict(selector), "type": "ClusterIP"}})
            out["ep"].append({"apiVersion": "v1", "kind": "Endpoints",
                              "metadata": _meta(rng, app, ns),
                              "subsets": [{"addresses": [{"ip": ip, "nodeName": node,
                                                          "targetRef": {"kind": "Pod",
                                                                        "name": pod,
                                                                        "namespace": ns}}
                                                         for ip, pod, node in ips],
                                           "ports": [{"name": "http", "port": 8080,
                                                      "protocol": "TCP"}]}]})
            out["np"].append({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": _meta(rng, f"allow-{app}", ns, generation=1),
                "spec": {"podSelector": {"matchLabels": dict(selector)},
                         "policyTypes": ["Ingress", "Egress"],
                         "ingress": [{"from": [
                             {"podSelector": {"matchLabels": {"tier": "frontend"}}},
                             {"namespaceSelector": {"matchLabels": {
                                 "kubesphere.io/workspace": ws}}}],
                             "ports": [{"port": 8080, "protocol": "TCP"}]}],
                         "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8",
                                                         "except": ["10.1.0.0/24"]}}]},
                                    {"ports": [{"port": 53, "protocol": "UDP"}]}]}})
        if n % 25 == 0:
            out["ing"].append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                               "metadata": _meta(rng, f"web-{n:04d}", ns),
                               "spec": {"ingressClassName": "nginx", "rules": [{
                                   "host": f"{ns}.example.com", "http": {"paths": [{
                                       "backend": {"service": {"name": f"svc0-{n:04d}",
                                                               "port": {"number": 80}}},
                                       "path": "/", "pathType": "Prefix"}]}}]}})
        if count >= pods:
            break
    return [obj for kind in ("ns", "node", "pod", "svc", "ep", "ing", "np", "ws", "nsnp")
            for obj in out[kind]]


def snapshot_list(pods: int, seed: int = 15) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": snapshot_objects(pods, seed), "kind": "List",
            "metadata": {"resourceVersion": ""}}


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def snapshot_paths(pods: int, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Where `write_snapshot` writes the snapshots of `pods` pods: DIR/pods-N.yaml, .json."""
    directory = Path(directory)
    return directory / f"pods-{pods}.yaml", directory / f"pods-{pods}.json"


def write_snapshot(pods: int, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
    """DIR/pods-N.yaml and DIR/pods-N.json (kept when already there); returns both paths."""
    yaml_path, json_path = snapshot_paths(pods, directory)
    yaml_path.parent.mkdir(parents=True, exist_ok=True)
    if not (yaml_path.exists() and json_path.exists()):
        data = snapshot_list(pods)
        tmp = yaml_path.with_suffix(".yaml.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            yaml.dump(data, handle, Dumper=_Dumper, default_flow_style=False, sort_keys=True,
                      allow_unicode=True, width=80)
        tmp.replace(yaml_path)
        tmp = json_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(json_path)
    return yaml_path, json_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, action="append", default=[])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    for pods in args.pods or [500]:
        for path in write_snapshot(pods, args.out):
            print(f"{path}  {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
