"""Builders for the demo cluster's objects: deterministic uids and timestamps, pods in the
state a kubelet reports, and Endpoints / EndpointSlices derived from the pods they select."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

_NAMESPACE_UUID = uuid.UUID("6f1b0c8e-4b7a-4f55-9d0e-2f4c8a1d9b30")
_EPOCH = datetime.datetime(2025, 3, 3, 9, 0, 0, tzinfo=datetime.UTC)


def uid(*parts: str) -> str:
    """A stable uid for a demo object, so the demo is identical on every start."""
    return str(uuid.uuid5(_NAMESPACE_UUID, "/".join(parts)))


def stamp(minutes: int = 0) -> str:
    return (_EPOCH + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(kind: str, name: str, namespace: str | None = None, *, labels: dict[str, str] | None = None,
         annotations: dict[str, str] | None = None, minutes: int = 0) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    metadata["uid"] = uid(kind, namespace or "", name)
    metadata["creationTimestamp"] = stamp(minutes)
    return metadata


def node(name: str, internal_ip: str, pod_cidr: str, tunnel_ip: str, *, control_plane: bool = False) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
              "node-role.kubernetes.io/worker": ""}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    annotations = {"projectcalico.org/IPv4Address": f"{internal_ip}/24",
                   "projectcalico.org/IPv4IPIPTunnelAddr": tunnel_ip,
                   "node.alpha.kubernetes.io/ttl": "0",
                   "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": meta("Node", name, labels=labels, annotations=annotations),
        "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]},
        "status": {
            "addresses": [{"type": "InternalIP", "address": internal_ip}, {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "8", "memory": "32863768Ki", "pods": "110"},
            "allocatable": {"cpu": "7600m", "memory": "31712792Ki", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status", "lastHeartbeatTime": stamp(5),
                            "lastTransitionTime": stamp(1)}],
            "nodeInfo": {"kubeletVersion": "v1.31.0", "kubeProxyVersion": "v1.31.0",
                         "containerRuntimeVersion": "containerd://1.7.13", "osImage": "Ubuntu 22.04.4 LTS",
                         "kernelVersion": "5.15.0-105-generic", "operatingSystem": "linux",
                         "architecture": "amd64"},
        },
    }


def container(name: str, image: str, ports: list[tuple[str | None, int, str]] | None = None) -> dict[str, Any]:
    """A container; ports are (name or None, containerPort, protocol)."""
    out: dict[str, Any] = {"name": name, "image": image}
    if ports:
        out["ports"] = []
        for port_name, number, protocol in ports:
            entry: dict[str, Any] = {"containerPort": number, "protocol": protocol}
            if port_name:
                entry = {"name": port_name, **entry}
            out["ports"].append(entry)
    return out


def pod(name: str, namespace: str, labels: dict[str, str], node_name: str, host_ip: str, pod_ip: str,
        containers: list[dict[str, Any]], *, owner: tuple[str, str] | None = None,
        host_network: bool = False, minutes: int = 10) -> dict[str, Any]:
    """A Running pod as the kubelet reports it; `owner` is (kind, name) of its controller."""
    metadata = meta("Pod", name, namespace, labels=labels, minutes=minutes)
    if owner:
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                        "uid": uid(owner[0], namespace, owner[1]), "controller": True,
                                        "blockOwnerDeletion": True}]
    spec: dict[str, Any] = {"nodeName": node_name, "containers": containers}
    if host_network:
        spec["hostNetwork"] = True
        spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    started = stamp(minutes + 1)
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec,
        "status": {
            "phase": "Running", "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "startTime": started, "qosClass": "BestEffort",
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": started}
                           for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                     "PodScheduled")],
            "containerStatuses": [{"name": c["name"], "image": c["image"], "ready": True, "started": True,
                                   "restartCount": 0, "state": {"running": {"startedAt": started}}}
                                  for c in containers],
        },
    }


def deployment(name: str, namespace: str, labels: dict[str, str], containers: list[dict[str, Any]],
               replicas: int, *, minutes: int = 8) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": meta("Deployment", name, namespace, labels=labels, minutes=minutes),
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers}}},
        "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas,
                   "availableReplicas": replicas, "updatedReplicas": replicas},
    }


def daemonset(name: str, namespace: str, labels: dict[str, str], containers: list[dict[str, Any]],
              nodes: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": meta("DaemonSet", name, namespace, labels=labels, minutes=6),
        "spec": {"selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)},
                              "spec": {"hostNetwork": True, "containers": containers}}},
        "status": {"currentNumberScheduled": nodes, "desiredNumberScheduled": nodes, "numberReady": nodes,
                   "numberAvailable": nodes, "observedGeneration": 1},
    }


def service(name: str, namespace: str, selector: dict[str, str] | None,
            ports: list[dict[str, Any]], *, type_: str = "ClusterIP", cluster_ip: str | None = None,
            etp: str | None = None, labels: dict[str, str] | None = None,
            annotations: dict[str, str] | None = None, lb_ip: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": type_, "ports": ports}
    if selector is not None:
        spec["selector"] = dict(selector)
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    if etp:
        spec["externalTrafficPolicy"] = etp
    status: dict[str, Any] = {"loadBalancer": {"ingress": [{"ip": lb_ip, "ipMode": "VIP"}]} if lb_ip else {}}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": meta("Service", name, namespace, labels=labels, annotations=annotations, minutes=9),
            "spec": spec, "status": status}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _resolve(target: Any, pods: list[dict[str, Any]], protocol: str) -> int | None:
    if isinstance(target, int):
        return target
    for p in pods:
        for c in p["spec"]["containers"]:
            for port in c.get("ports") or []:
                if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                    return port["containerPort"]
    return None


def _target_ref(p: dict[str, Any]) -> dict[str, Any]:
    md = p["metadata"]
    return {"kind": "Pod", "namespace": md["namespace"], "name": md["name"], "uid": md["uid"]}


def endpoints_for(svc: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Endpoints and EndpointSlice the endpoint controllers would write for `svc`."""
    md = svc["metadata"]
    selector = svc["spec"].get("selector")
    if selector is None:
        return []
    chosen = [p for p in pods if p["metadata"]["namespace"] == md["namespace"]
              and _matches(selector, p["metadata"].get("labels") or {}) and p["status"].get("podIP")]
    ports = []
    for sp in svc["spec"]["ports"]:
        protocol = sp.get("protocol", "TCP")
        number = _resolve(sp.get("targetPort", sp["port"]), chosen, protocol)
        if number is not None:
            entry = {"port": number, "protocol": protocol}
            if sp.get("name"):
                entry = {"name": sp["name"], **entry}
            ports.append(entry)
    addresses = [{"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"], "targetRef": _target_ref(p)}
                 for p in chosen]
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": meta("Endpoints", md["name"], md["namespace"], labels=md.get("labels"), minutes=11),
                 "subsets": [{"addresses": addresses, "ports": ports}] if addresses and ports else []}
    slice_labels = {**(md.get("labels") or {}), "kubernetes.io/service-name": md["name"],
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    slice_name = f"{md['name']}-{uid('slice', md['namespace'], md['name'])[:5]}"
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {**meta("EndpointSlice", slice_name, md["namespace"], labels=slice_labels, minutes=11),
                     "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": md["name"],
                                          "uid": md["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [a["ip"]], "nodeName": a["nodeName"], "targetRef": a["targetRef"],
                       "conditions": {"ready": True, "serving": True, "terminating": False}}
                      for a in addresses],
        "ports": ports,
    }
    return [endpoints, endpoint_slice]


def network_policy(name: str, namespace: str, spec: dict[str, Any], *,
                   annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta("NetworkPolicy", name, namespace, annotations=annotations, minutes=20), "spec": spec}


def nsnp(name: str, namespace: str, spec: dict[str, Any], *, description: str) -> dict[str, Any]:
    return {"apiVersion": "network.kubesphere.io/v1alpha1", "kind": "NamespaceNetworkPolicy",
            "metadata": meta("NamespaceNetworkPolicy", name, namespace,
                             annotations={"kubesphere.io/creator": "admin", "kubesphere.io/description": description},
                             minutes=25),
            "spec": spec}


def generated_policy(policy: dict[str, Any], *, minutes: int = 30) -> dict[str, Any]:
    """A NetworkPolicy the isolation compiler produced, with the stable uid and creation time
    every demo object has (its labels, annotations and spec are kept as compiled)."""
    metadata = dict(policy["metadata"])
    stable = meta("NetworkPolicy", metadata["name"], metadata.get("namespace"), minutes=minutes)
    return {**policy, "metadata": {**metadata, "uid": stable["uid"],
                                   "creationTimestamp": stable["creationTimestamp"]}}


def expectation(name: str, namespace: str | None, spec: dict[str, Any], *,
                minutes: int = 35) -> dict[str, Any]:
    """A ConnectivityExpectation (with `namespace`) or a ClusterConnectivityExpectation."""
    kind = "ConnectivityExpectation" if namespace else "ClusterConnectivityExpectation"
    return {"apiVersion": "isolation.tenant-console.io/v1alpha1", "kind": kind,
            "metadata": meta(kind, name, namespace, annotations={"kubesphere.io/creator": "admin"},
                             minutes=minutes),
            "spec": spec}
