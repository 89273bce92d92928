"""The explainer: one case of the decision table, traced on a small two-node cluster.

A case is exposure × externalTrafficPolicy × CNI mode × whether the pod (for an Ingress, the
controller pod) runs on the entry node. The case cluster has node-a (where traffic enters) and
node-b, and a project `demo` isolated to itself, so every path that reaches the pod shows
exactly what the project would have to allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from isolation.paths.notes import robust_allowlist_advice
from isolation.paths.topology import CNI_MODES, IPIP_TUNNEL_ANNOTATION, VXLAN_TUNNEL_ANNOTATION
from isolation.paths.trace import trace
from isolation.paths.types import DEFAULT_CLIENT_IP, TRAFFIC_POLICIES, Checker, Path
from isolation.snapshot import Snapshot, with_name_label

CASE_NODES = {
    "node-a": {"ip": "192.168.0.11", "tunnel": "10.233.64.0", "pod_ip": "10.233.64.10",
               "controller_ip": "10.233.64.20"},
    "node-b": {"ip": "192.168.0.12", "tunnel": "10.233.65.0", "pod_ip": "10.233.65.7",
               "controller_ip": "10.233.65.20"},
}
CASE_PROJECT = "demo"
CASE_CONTROLLER_NAMESPACE = "kubesphere-controls-system"
CASE_LB_IP = "192.168.0.200"
CASE_TARGET_PORT = 8080
CASE_NODE_PORT = 30080


@dataclass(frozen=True)
class Case:
    """A case cluster and how to trace it."""

    snapshot: Snapshot
    service: tuple[str, str] | None
    ingress: tuple[str, str] | None
    entry_node: str = "node-a"


def _node(name: str, cni: str) -> dict[str, Any]:
    data = CASE_NODES[name]
    annotations = {"projectcalico.org/IPv4Address": f"{data['ip']}/24"}
    if cni == "ipip":
        annotations[IPIP_TUNNEL_ANNOTATION] = data["tunnel"]
    elif cni == "vxlan":
        annotations[VXLAN_TUNNEL_ANNOTATION] = data["tunnel"]
    return {"kind": "Node", "metadata": {"name": name, "annotations": annotations},
            "status": {"addresses": [{"type": "InternalIP", "address": data["ip"]},
                                     {"type": "Hostname", "address": name}]}}


def _pod(namespace: str, name: str, node: str, ip: str, labels: dict[str, str],
         port: int, port_name: str) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"namespace": namespace, "name": name, "labels": labels},
            "spec": {"nodeName": node, "containers": [{
                "name": "main", "image": "nginx",
                "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"}]}]},
            "status": {"phase": "Running", "podIP": ip, "hostIP": CASE_NODES[node]["ip"]}}


def _service(namespace: str, name: str, kind: str, policy: str | None,
             selector: dict[str, str], target: int | str) -> dict[str, Any]:
    port: dict[str, Any] = {"name": "http", "port": 80, "targetPort": target, "protocol": "TCP"}
    spec: dict[str, Any] = {"type": kind, "selector": selector, "ports": [port]}
    metadata: dict[str, Any] = {"namespace": namespace, "name": name}
    service: dict[str, Any] = {"kind": "Service", "metadata": metadata, "spec": spec}
    if kind in ("NodePort", "LoadBalancer"):
        port["nodePort"] = CASE_NODE_PORT
        spec["externalTrafficPolicy"] = policy
    if kind == "LoadBalancer":
        metadata["annotations"] = {"lb.kubesphere.io/v1alpha1": "openelb",
                                   "protocol.openelb.kubesphere.io/v1alpha1": "bgp",
                                   "eip.openelb.kubesphere.io/v1alpha2": "eip-pool"}
        service["status"] = {"loadBalancer": {"ingress": [{"ip": CASE_LB_IP}]}}
    return service


def _isolation_policy() -> dict[str, Any]:
    return {"kind": "NetworkPolicy",
            "metadata": {"namespace": CASE_PROJECT, "name": "nsnp-network-isolate"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [
                {"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": CASE_PROJECT}}}]}]}}


def case_snapshot(exposure_kind: str, traffic_policy: str, cni: str, pod_on_entry_node: bool,
                  *, ingress_via: str = "NodePort") -> Case:
    """The two-node cluster of one decision-table case (entry node: node-a).

    The project's pod runs on node-a when `pod_on_entry_node`, else on node-b; for an Ingress
    the controller pod is placed that way and the backend pod runs on node-b.
    """
    _check_case(exposure_kind, traffic_policy, cni, ingress_via)
    snapshot = Snapshot()
    for name in CASE_NODES:
        snapshot.add(_node(name, cni))
    if cni != "routed":
        field = "ipipMode" if cni == "ipip" else "vxlanMode"
        snapshot.add({"kind": "IPPool", "metadata": {"name": "default-ipv4-ippool"},
                      "spec": {"cidr": "10.233.64.0/18", field: "Always"}})
    for namespace in (CASE_PROJECT, CASE_CONTROLLER_NAMESPACE):
        snapshot.add(with_name_label({"kind": "Namespace", "metadata": {"name": namespace}}))
    snapshot.add(_isolation_policy())
    placed = "node-a" if pod_on_entry_node else "node-b"
    app = {"app": "web"}
    if exposure_kind == "Ingress":
        backend_node = "node-b"
        snapshot.add(_pod(CASE_PROJECT, "web-0", backend_node, CASE_NODES[backend_node]["pod_ip"],
                          app, CASE_TARGET_PORT, "http"))
        snapshot.add(_service(CASE_PROJECT, "web", "ClusterIP", None, app, "http"))
        labels = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
        snapshot.add(_pod(CASE_CONTROLLER_NAMESPACE, "ingress-nginx-controller-0", placed,
                          CASE_NODES[placed]["controller_ip"], labels, 80, "http"))
        snapshot.add(_service(CASE_CONTROLLER_NAMESPACE, "ingress-nginx-controller", ingress_via,
                              traffic_policy, labels, "http"))
        snapshot.add({"kind": "Ingress", "metadata": {"namespace": CASE_PROJECT, "name": "web"},
                      "spec": {"ingressClassName": "nginx", "rules": [{"http": {"paths": [{
                          "path": "/", "pathType": "Prefix", "backend": {"service": {
                              "name": "web", "port": {"number": 80}}}}]}}]}})
        return Case(snapshot, None, (CASE_PROJECT, "web"))
    snapshot.add(_pod(CASE_PROJECT, "web-0", placed, CASE_NODES[placed]["pod_ip"], app,
                      CASE_TARGET_PORT, "http"))
    snapshot.add(_service(CASE_PROJECT, "web", exposure_kind, traffic_policy, app, "http"))
    return Case(snapshot, (CASE_PROJECT, "web"), None)


def _check_case(exposure_kind: str, traffic_policy: str, cni: str, ingress_via: str) -> None:
    if exposure_kind not in ("NodePort", "LoadBalancer", "Ingress"):
        raise ValueError(f"exposure {exposure_kind!r} is not NodePort, LoadBalancer or Ingress")
    if traffic_policy not in TRAFFIC_POLICIES:
        raise ValueError(f"traffic policy {traffic_policy!r} is not Cluster or Local")
    if cni not in CNI_MODES:
        raise ValueError(f"CNI mode {cni!r} is not one of {', '.join(CNI_MODES)}")
    if ingress_via not in ("NodePort", "LoadBalancer"):
        raise ValueError(f"an Ingress is carried by a NodePort or LoadBalancer, not {ingress_via!r}")


def explain_case(exposure_kind: str, traffic_policy: str, cni: str, pod_on_entry_node: bool,
                 *, ingress_via: str = "NodePort", client_ip: str = DEFAULT_CLIENT_IP,
                 checker: Checker | None = None) -> Path:
    """The path of one decision-table case, entering on node-a of the case cluster.

    Guarantees: `row` is the case's row in the reference table; `needed_allowlist` is what an
    isolated project must allow for this very path; `notes` hold the robust allowlist for any
    node and placement, then the pitfalls that apply. A Local LoadBalancer whose pod is on
    another node is traced as the stale route it would take (`steady_state` False).
    """

    case = case_snapshot(exposure_kind, traffic_policy, cni, pod_on_entry_node,
                         ingress_via=ingress_via)
    result = trace(case.snapshot, service=case.service, ingress=case.ingress,
                   client_ip=client_ip, cni=cni, entry_nodes=[case.entry_node], checker=checker)
    path = result.paths[0]
    path.notes = [robust_allowlist_advice(exposure_kind, traffic_policy, cni), *result.pitfalls]
    return path
