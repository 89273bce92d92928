"""The compiler scenarios: the cluster of `cluster.yaml` plus isolation intent, and the table
of named scenarios whose output is kept as golden YAML next to this file."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from isolation.compiler.generate import IsolationSettings
from isolation.compiler.tenancy import ISOLATE_ANNOTATION, WORKSPACE_LABEL
from isolation.snapshot import Snapshot, load_snapshot, with_name_label

GOLDEN_DIR = Path(__file__).parent


@cache
def _base() -> Snapshot:
    return load_snapshot((GOLDEN_DIR / "cluster.yaml").read_text())


def cluster() -> Snapshot:
    """A fresh copy of the scenario cluster (safe to modify)."""
    return copy.deepcopy(_base())


def _find(objects: list[dict[str, Any]], name: str, namespace: str | None = None):
    for obj in objects:
        meta = obj["metadata"]
        if meta["name"] == name and (namespace is None or meta.get("namespace") == namespace):
            return obj
    raise KeyError(f"{namespace}/{name}" if namespace else name)


def isolate_workspace(snapshot: Snapshot, workspace: str, value: Any = True) -> Snapshot:
    _find(snapshot.workspaces, workspace).setdefault("spec", {})["networkIsolation"] = value
    return snapshot


def isolate_project(snapshot: Snapshot, namespace: str, value: str = "enabled") -> Snapshot:
    meta = _find(snapshot.namespaces, namespace)["metadata"]
    meta.setdefault("annotations", {})[ISOLATE_ANNOTATION] = value
    return snapshot


def add_namespace(snapshot: Snapshot, name: str, workspace: str | None = None,
                  annotations: dict[str, str] | None = None) -> Snapshot:
    meta: dict[str, Any] = {"name": name}
    if workspace:
        meta["labels"] = {WORKSPACE_LABEL: workspace}
    if annotations:
        meta["annotations"] = dict(annotations)
    snapshot.namespaces.append(with_name_label({"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": meta}))
    return snapshot


def move_project(snapshot: Snapshot, namespace: str, workspace: str) -> Snapshot:
    _find(snapshot.namespaces, namespace)["metadata"]["labels"][WORKSPACE_LABEL] = workspace
    return snapshot


def entry(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    """A NamespaceNetworkPolicy; `spec` takes ingress=[...] and/or egress=[...]."""
    return {"apiVersion": "network.kubesphere.io/v1alpha1", "kind": "NamespaceNetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def add_entry(snapshot: Snapshot, namespace: str, name: str, **spec: Any) -> Snapshot:
    snapshot.nsnps.append(entry(namespace, name, **spec))
    return snapshot


def annotate_node(snapshot: Snapshot, node: str, key: str, value: str) -> Snapshot:
    _find(snapshot.nodes, node)["metadata"].setdefault("annotations", {})[key] = value
    return snapshot


def remove(snapshot: Snapshot, kind_attr: str, name: str, namespace: str | None = None):
    objects = getattr(snapshot, kind_attr)
    objects.remove(_find(objects, name, namespace))
    return snapshot


def ns_peer(name: str) -> dict[str, Any]:
    return {"namespace": {"name": name}}


def svc_peer(namespace: str, name: str) -> dict[str, Any]:
    return {"service": {"name": name, "namespace": namespace}}


def ip_peer(cidr: str, *excepts: str) -> dict[str, Any]:
    block: dict[str, Any] = {"cidr": cidr}
    if excepts:
        block["except"] = list(excepts)
    return {"ipBlock": block}


NO_DETECTION = IsolationSettings(detect_ingress_namespaces=False)
KUBESPHERE = IsolationSettings(engine_mode="kubesphere", detect_ingress_namespaces=False)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    build: Callable[[], Snapshot]
    settings: IsolationSettings = field(default=NO_DETECTION)


def _workspace_a() -> Snapshot:
    return isolate_workspace(cluster(), "team-a")


def _shop() -> Snapshot:
    return isolate_project(cluster(), "shop")


def _project_wins() -> Snapshot:
    return isolate_project(isolate_workspace(cluster(), "team-a"), "shop")


def _snat_annotation() -> Snapshot:
    snapshot = isolate_workspace(cluster(), "team-a")
    annotate_node(snapshot, "node-1", "kubesphere.io/snat-node-ips", "192.168.0.11;not-an-ip")
    annotate_node(snapshot, "node-2", "kubesphere.io/snat-node-ips", "192.168.0.12")
    return snapshot


def _namespace_peers() -> Snapshot:
    return add_entry(_shop(), "shop", "from-billing-audit",
                     ingress=[{"from": [ns_peer("billing"), ns_peer("audit")]}])


def _service_peers() -> Snapshot:
    snapshot = add_entry(_shop(), "shop", "from-api", ingress=[{"from": [svc_peer("billing",
                                                                                    "api")]}])
    return add_entry(snapshot, "shop", "to-billing",
                     egress=[{"to": [svc_peer("billing", "api"), svc_peer("billing", "grpc"),
                                     ns_peer("audit")]}])


def _ip_blocks() -> Snapshot:
    snapshot = add_entry(_shop(), "shop", "from-partners", ingress=[{
        "from": [ip_peer("203.0.113.0/24", "203.0.113.128/25"), ip_peer("198.51.100.7/32")],
        "ports": [{"port": 8443}, {"port": 8000, "endPort": 8100, "protocol": "TCP"}],
    }])
    return add_entry(snapshot, "shop", "to-databases", egress=[{
        "to": [ip_peer("10.1.0.0/16"), ip_peer("2001:db8::/64")],
        "ports": [{"port": 5432, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
    }])


def _egress_keeps_own_project() -> Snapshot:
    return add_entry(_shop(), "shop", "to-audit", egress=[{"to": [ns_peer("audit")]}])


def _entries_kept_when_off() -> Snapshot:
    # shop's entries exist, but shop is not project-isolated: team-a isolation is on, so shop
    # is in workspace mode; audit has an entry and no isolation at all.
    snapshot = isolate_workspace(cluster(), "team-a")
    add_entry(snapshot, "shop", "from-billing", ingress=[{"from": [ns_peer("billing")]}])
    add_entry(snapshot, "shop", "to-audit", egress=[{"to": [ns_peer("audit")]}])
    isolate_workspace(snapshot, "team-b", False)
    return add_entry(snapshot, "web", "from-anywhere", ingress=[{"from": [ip_peer("0.0.0.0/0")]}])


def _invalid_entries() -> Snapshot:
    snapshot = _shop()
    add_entry(snapshot, "shop", "missing-service", egress=[{"to": [svc_peer("billing", "nope")]}])
    add_entry(snapshot, "shop", "no-selector", egress=[{"to": [svc_peer("billing",
                                                                         "external-db")]}])
    add_entry(snapshot, "shop", "bad-cidr", ingress=[{"from": [ip_peer("10.0.0.0/33")]}])
    add_entry(snapshot, "shop", "except-outside", ingress=[{"from": [ip_peer("10.0.0.0/16",
                                                                             "10.1.0.0/24")]}])
    add_entry(snapshot, "shop", "other-workspace", ingress=[{"from": [ns_peer("web")]}])
    add_entry(snapshot, "shop", "network-isolate", ingress=[{"from": [ns_peer("billing")]}])
    add_entry(snapshot, "shop", "bad-port", ingress=[{"from": [ns_peer("billing")],
                                                      "ports": [{"port": 70000}]}])
    return add_entry(snapshot, "shop", "good", ingress=[{"from": [ns_peer("audit")]}])


def _unmanaged() -> Snapshot:
    snapshot = add_namespace(cluster(), "legacy", workspace="gone",
                             annotations={"kubesphere.io/network-isolate": "enabled"})
    add_namespace(snapshot, "loose", annotations={"kubesphere.io/network-isolate": "enabled"})
    return add_entry(snapshot, "loose", "from-shop", ingress=[{"from": [ns_peer("shop")]}])


def _dns_without_service() -> Snapshot:
    return remove(_egress_keeps_own_project(), "services", "kube-dns", "kube-system")


def _kubesphere_project() -> Snapshot:
    snapshot = _service_peers()
    annotate_node(snapshot, "node-2", "kubesphere.io/snat-node-ips", "192.168.0.12;192.168.0.11")
    return snapshot


SCENARIOS = [
    Scenario("off-everywhere", "No isolation switched on: nothing is generated.", cluster),
    Scenario("workspace-isolation", "Workspace team-a isolated: each of its projects admits "
             "only team-a.", _workspace_a),
    Scenario("project-isolation", "Project shop isolated: it admits only itself.", _shop),
    Scenario("project-wins-over-workspace", "team-a and shop both isolated: shop is in "
             "project mode, billing and audit in workspace mode.", _project_wins),
    Scenario("always-allowed-configured", "Configured always-allowed namespaces join rule 1, "
             "sorted.", _workspace_a,
             IsolationSettings(always_allowed_namespaces=("monitoring", "kube-system"),
                               detect_ingress_namespaces=False)),
    Scenario("fix-ingress-controller-detected", "Fix: the namespace running the ingress "
             "controller is allowed by default (detected from its pods).", _workspace_a,
             IsolationSettings()),
    Scenario("fix-snat-from-node-addresses", "Fix: node SNAT/tunnel addresses chosen in the "
             "settings (offered from Node InternalIPs and Calico tunnel annotations) form rule "
             "2.", _workspace_a,
             IsolationSettings(detect_ingress_namespaces=False,
                               snat_cidrs=("192.168.0.12", "192.168.0.11", "10.233.90.0/32",
                                           "10.233.96.0"))),
    Scenario("snat-node-annotation", "KubeSphere's kubesphere.io/snat-node-ips Node annotation "
             "still feeds rule 2; unparsable values are reported and dropped.",
             _snat_annotation),
    Scenario("entry-namespace-peers", "Internal allowlist entry: ingress from two projects of "
             "the workspace.", _namespace_peers),
    Scenario("fix-service-target-ports", "Fix: Service peers select the Service's pods in its "
             "namespace; on egress they are allowed on the targetPorts resolved to container "
             "ports (named http -> 8080, numeric 9090), not on the Service ports 80/9000.",
             _service_peers),
    Scenario("entry-ip-blocks", "External allowlist entries: CIDRs (IPv4 and IPv6) with "
             "except, ports and port ranges, per direction.", _ip_blocks),
    Scenario("fix-egress-keeps-own-project", "Fix: once an egress entry exists, egress is "
             "restricted to DNS, the allowlist and the project itself.",
             _egress_keeps_own_project),
    Scenario("fix-entries-kept-when-off", "Fix: entries of projects whose isolation is not "
             "`project` are kept, inactive, and generate nothing.", _entries_kept_when_off),
    Scenario("invalid-entries-reported", "Invalid entries are reported one by one and left "
             "out; the valid entry still compiles; the broken egress entries keep egress "
             "restricted.", _invalid_entries),
    Scenario("unmanaged-namespaces", "Namespaces without a workspace, or whose workspace does "
             "not exist, are never isolated.", _unmanaged),
    Scenario("dns-without-service", "Without a kube-dns/coredns Service the DNS rule falls "
             "back on the k8s-app=kube-dns pods.", _dns_without_service),
    Scenario("kubesphere-engine-project", "Engine mode kubesphere: what KubeSphere v3 writes "
             "for the fix-service-target-ports intent (Service ports, no egress to the own "
             "project, kubesphere.io/namespace selectors, no markers).", _kubesphere_project,
             KUBESPHERE),
    Scenario("kubesphere-engine-workspace", "Engine mode kubesphere, workspace mode with "
             "allowed namespaces in configuration order.", _workspace_a,
             IsolationSettings(engine_mode="kubesphere", detect_ingress_namespaces=False,
                               always_allowed_namespaces=("monitoring", "ingress-nginx"))),
]
