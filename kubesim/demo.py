"""The demo cluster (`--seed demo`): three Calico IPIP nodes, KubeSphere's platform namespaces,
two workspaces with five projects, Services of every exposure type, Ingresses, hand-written
NetworkPolicies, the allowlist of an isolated project and the NetworkPolicies the isolation
engine generates from that intent (so a fresh demo starts in step: nothing to repair).

The story it tells: workspace `team-a` has network isolation on; its project `billing` is
isolated on its own and admits, from outside, only the client range 203.0.113.0/24 on its
payments gateway, which runs on node-2 only: behind a Local LoadBalancer it answers through
node-2 only, and behind the Cluster-policy NodePort `payments-api` it works when traffic enters
on node-2 but not through the other nodes, until their tunnel addresses are allowlisted.
Workspace `team-b` is not isolated; its project `reporting` is protected by hand-written
policies instead.

Platform policies above the projects': a Calico tier `platform` (order 100, before the default
tier where Calico runs the projects' NetworkPolicies) whose GlobalNetworkPolicy denies every
project pod's egress to the cloud metadata address and passes the rest on, and the
BaselineAdminNetworkPolicy `default`, which lets the monitoring stack scrape the projects no
NetworkPolicy isolates (the isolated ones admit it only once `kubesphere-monitoring-system` is
an always-allowed namespace of the platform settings). The platform tier does not yet close the
management network's SSH port: guardrail `no-project-reaches-the-management-network` is
violated until a Deny rule for 10.10.0.0/16 port 22 joins the platform tier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from isolation.compiler.generate import IsolationSettings, desired_policies
from isolation.snapshot import KIND_FIELDS, Snapshot, with_name_label
from kubesim.demo_builders import (
    container,
    daemonset,
    deployment,
    endpoints_for,
    expectation,
    generated_policy,
    meta,
    network_policy,
    node,
    nsnp,
    pod,
    service,
)
from kubesim.objects import SYSTEM_NAMESPACES, console_crds, namespace
from kubesim.policy_crds import policy_crds

DEMO_YAML = Path(__file__).resolve().parent / "demo.yaml"
NODES = {"node-1": "192.168.0.11", "node-2": "192.168.0.12", "node-3": "192.168.0.13"}
POD_CIDRS = {"node-1": "10.233.64.0/24", "node-2": "10.233.65.0/24", "node-3": "10.233.66.0/24"}
TUNNELS = {"node-1": "10.233.64.1", "node-2": "10.233.65.1", "node-3": "10.233.66.1"}
WORKSPACES = {"team-a": True, "team-b": False}
PROJECTS = {"shop": "team-a", "billing": "team-a", "catalog": "team-a", "reporting": "team-b",
            "web": "team-b"}
ISOLATED_PROJECT = "billing"
PLATFORM = ("kubesphere-system", "kubesphere-controls-system", "kubesphere-monitoring-system")
OPENELB = "lb.kubesphere.io/v1alpha1"


def _port(name: str | None, port: int, target: int | str | None = None, protocol: str = "TCP",
          node_port: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"port": port, "protocol": protocol, "targetPort": target if target is not None else port}
    if name:
        out = {"name": name, **out}
    if node_port:
        out["nodePort"] = node_port
    return out


# (namespace, app, image, ports, nodes with pod IPs, extra labels)
_APPS: list[tuple[str, str, str, list[tuple[str | None, int, str]], list[tuple[str, str]], dict[str, str]]] = [
    ("kube-system", "coredns", "coredns/coredns:1.11.1",
     [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")],
     [("node-1", "10.233.64.2"), ("node-2", "10.233.65.2")], {"k8s-app": "kube-dns"}),
    ("kubesphere-controls-system", "kubesphere-router", "registry.k8s.io/ingress-nginx/controller:v1.11.2",
     [("http", 80, "TCP"), ("https", 443, "TCP"), ("metrics", 10254, "TCP")],
     [("node-1", "10.233.64.3"), ("node-2", "10.233.65.3")],
     {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}),
    ("kubesphere-system", "ks-console", "kubesphere/ks-console:v3.4.1", [("http", 8000, "TCP")],
     [("node-1", "10.233.64.4")], {"tier": "frontend"}),
    ("kubesphere-system", "ks-apiserver", "kubesphere/ks-apiserver:v3.4.1", [("http", 9090, "TCP")],
     [("node-1", "10.233.64.5")], {"tier": "backend"}),
    ("kubesphere-monitoring-system", "prometheus-k8s", "quay.io/prometheus/prometheus:v2.53.0",
     [("web", 9090, "TCP")], [("node-3", "10.233.66.2")], {"app.kubernetes.io/name": "prometheus"}),
    ("shop", "storefront", "nginx:1.27.0", [("http", 8080, "TCP")],
     [("node-1", "10.233.64.20"), ("node-3", "10.233.66.20")], {"tier": "frontend"}),
    ("shop", "cart", "registry.example.com/shop/cart:2.3.1", [(None, 9000, "TCP")],
     [("node-2", "10.233.65.20")], {"tier": "backend"}),
    ("billing", "payments-gateway", "registry.example.com/payments/gateway:1.8.0",
     [("https", 8443, "TCP"), ("metrics", 9102, "TCP")], [("node-2", "10.233.65.21")], {"tier": "frontend"}),
    ("billing", "ledger", "postgres:16.3", [("postgres", 5432, "TCP")],
     [("node-3", "10.233.66.21")], {"tier": "database"}),
    ("catalog", "catalog-api", "registry.example.com/catalog/api:4.0.2", [("http", 8080, "TCP")],
     [("node-2", "10.233.65.22"), ("node-3", "10.233.66.22")], {"tier": "backend"}),
    ("reporting", "dashboard", "grafana/grafana:11.1.0", [("http", 3000, "TCP")],
     [("node-1", "10.233.64.23")], {"tier": "frontend"}),
    ("web", "blog", "ghost:5.88.1", [("http", 2368, "TCP"), (None, 9102, "TCP")],
     [("node-3", "10.233.66.24")], {"tier": "frontend"}),
]

_SUFFIXES = ["x7k2p", "m4q9w", "c8v3n", "t6h5r", "b2j8d"]


def _workloads() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    controllers, pods = [], []
    for ns, app, image, ports, placements, extra in _APPS:
        labels = {"app": app, **extra}
        containers = [container(app.split("-")[-1] if app != "kubesphere-router" else "controller", image, ports)]
        controllers.append(deployment(app, ns, labels, containers, len(placements)))
        replica_set = f"{app}-{meta('rs', app, ns)['uid'][:10].replace('-', '')}"
        for index, (node_name, ip) in enumerate(placements):
            name = f"{replica_set}-{_SUFFIXES[index]}"
            pods.append(pod(name, ns, {**labels, "pod-template-hash": replica_set.rsplit("-", 1)[1]}, node_name,
                            NODES[node_name], ip, containers, owner=("ReplicaSet", replica_set)))
    dns_labels = {"k8s-app": "nodelocaldns"}
    dns_container = [container("node-cache", "kubesphere/k8s-dns-node-cache:1.22.20",
                               [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9253, "TCP")])]
    controllers.append(daemonset("nodelocaldns", "kube-system", dns_labels, dns_container, len(NODES)))
    for index, (node_name, ip) in enumerate(NODES.items()):
        pods.append(pod(f"nodelocaldns-{_SUFFIXES[index]}", "kube-system", dns_labels, node_name, ip, ip,
                        dns_container, owner=("DaemonSet", "nodelocaldns"), host_network=True))
    return controllers, pods


def _services() -> list[dict[str, Any]]:
    layer2 = {OPENELB: "openelb", "protocol.openelb.kubesphere.io/v1alpha1": "layer2",
              "eip.openelb.kubesphere.io/v1alpha2": "eip-pool"}
    bgp = {OPENELB: "openelb", "protocol.openelb.kubesphere.io/v1alpha1": "bgp",
           "eip.openelb.kubesphere.io/v1alpha2": "eip-pool-bgp"}
    return [
        service("kubernetes", "default", None, [_port("https", 443, 6443)], cluster_ip="10.233.0.1",
                labels={"component": "apiserver", "provider": "kubernetes"}),
        service("kube-dns", "kube-system", {"k8s-app": "kube-dns"},
                [_port("dns", 53, 53, "UDP"), _port("dns-tcp", 53, 53), _port("metrics", 9153, 9153)],
                cluster_ip="10.233.0.3", labels={"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}),
        service("kubesphere-router", "kubesphere-controls-system", {"app": "kubesphere-router"},
                [_port("http", 80, "http", node_port=31080), _port("https", 443, "https", node_port=31443)],
                type_="NodePort", etp="Cluster", labels={"app": "kubesphere-router"}),
        service("ks-console", "kubesphere-system", {"app": "ks-console"}, [_port("http", 80, 8000, node_port=30880)],
                type_="NodePort", etp="Cluster", labels={"app": "ks-console"}),
        service("ks-apiserver", "kubesphere-system", {"app": "ks-apiserver"}, [_port("http", 80, 9090)]),
        service("prometheus-k8s", "kubesphere-monitoring-system", {"app": "prometheus-k8s"},
                [_port("web", 9090, "web")]),
        service("storefront", "shop", {"app": "storefront"}, [_port("http", 80, "http")]),
        service("storefront-np", "shop", {"app": "storefront"}, [_port("http", 80, "http", node_port=30080)],
                type_="NodePort", etp="Cluster"),
        service("storefront-lb", "shop", {"app": "storefront"}, [_port("http", 80, "http", node_port=30180)],
                type_="LoadBalancer", etp="Cluster", annotations=layer2, lb_ip="192.168.0.200"),
        service("cart", "shop", {"app": "cart"}, [_port("grpc", 9000)]),
        service("payments-gateway", "billing", {"app": "payments-gateway"},
                [_port("https", 443, "https", node_port=31843)],
                type_="LoadBalancer", etp="Local", annotations=bgp, lb_ip="172.22.0.10"),
        # Cluster policy in front of a pod on node-2 only: the allowlist admits the client range,
        # which the policy sees only when traffic enters on node-2; elsewhere it sees a tunnel IP.
        service("payments-api", "billing", {"app": "payments-gateway"},
                [_port("https", 443, "https", node_port=31844)], type_="NodePort", etp="Cluster"),
        service("ledger", "billing", {"app": "ledger"}, [_port("postgres", 5432, "postgres")]),
        service("catalog-api", "catalog", {"app": "catalog-api"}, [_port("http", 80, "http", node_port=30081)],
                type_="NodePort", etp="Local"),
        service("dashboard", "reporting", {"app": "dashboard"}, [_port("http", 80, "http")]),
        service("blog", "web", {"app": "blog"}, [_port("http", 80, "http"), _port("metrics", 9102)]),
    ]


def _ingresses() -> list[dict[str, Any]]:
    def ingress(name: str, ns: str, host: str, backend: str) -> dict[str, Any]:
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": meta("Ingress", name, ns, minutes=12),
                "spec": {"ingressClassName": "nginx", "rules": [{"host": host, "http": {"paths": [
                    {"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": backend, "port": {"number": 80}}}}]}}]},
                "status": {"loadBalancer": {"ingress": [{"ip": ip} for ip in NODES.values()]}}}
    ingress_class = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                     "metadata": meta("IngressClass", "nginx",
                                      annotations={"ingressclass.kubernetes.io/is-default-class": "true"}),
                     "spec": {"controller": "k8s.io/ingress-nginx"}}
    return [ingress_class, ingress("storefront", "shop", "shop.example.com", "storefront"),
            ingress("dashboard", "reporting", "reports.example.com", "dashboard")]


def _policies() -> list[dict[str, Any]]:
    dns_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    return [
        network_policy("default-deny", "reporting", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
                       annotations={"kubesphere.io/description": "Nothing in or out unless allowed below"}),
        network_policy("allow-dns-egress", "reporting", {
            "podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}},
                               {"ipBlock": {"cidr": "169.254.25.10/32"}}],
                        "ports": dns_ports}]}),
        network_policy("allow-from-ingress-controller", "reporting", {
            "podSelector": {"matchLabels": {"app": "dashboard"}}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "kubesphere-controls-system"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}}],
                "ports": [{"protocol": "TCP", "port": "http"}]}]}),
        network_policy("allow-prometheus-scrape", "reporting", {
            "podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "kubesphere-monitoring-system"}}}]}]}),
    ]


def _allowlist() -> list[dict[str, Any]]:
    return [
        nsnp("policy-from-shop", ISOLATED_PROJECT, {"ingress": [{"from": [{"namespace": {"name": "shop"}}]}]},
             description="The shop project may call billing"),
        nsnp("policy-to-catalog", ISOLATED_PROJECT,
             {"egress": [{"to": [{"service": {"name": "catalog-api", "namespace": "catalog"}}]}]},
             description="Billing looks up prices in the catalog"),
        nsnp("policy-from-clients", ISOLATED_PROJECT,
             {"ingress": [{"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}],
                           "ports": [{"protocol": "TCP", "port": 8443}]}]},
             description="Card terminals reach the payments gateway"),
        nsnp("policy-to-bank", ISOLATED_PROJECT,
             {"egress": [{"to": [{"ipBlock": {"cidr": "198.51.100.0/24", "except": ["198.51.100.128/25"]}}],
                          "ports": [{"protocol": "TCP", "port": 443}]}]},
             description="The acquiring bank's API"),
    ]


def _platform_policies() -> list[dict[str, Any]]:
    """The Calico tier `platform` with its GlobalNetworkPolicy, and the baseline (see the
    module docstring), stored as a cluster without Calico's API server stores them."""
    calico = "crd.projectcalico.org/v1"
    tier = {"apiVersion": calico, "kind": "Tier", "metadata": meta("Tier", "platform"),
            "spec": {"order": 100}}
    metadata = {"apiVersion": calico, "kind": "GlobalNetworkPolicy",
                "metadata": meta("GlobalNetworkPolicy", "platform.deny-cloud-metadata",
                                 annotations={"kubesphere.io/description":
                                              "No project reads the cloud instance metadata"}),
                "spec": {"tier": "platform", "order": 10, "selector": "all()",
                         "namespaceSelector": "has(kubesphere.io/workspace)",
                         "types": ["Egress"],
                         "egress": [{"action": "Deny",
                                     "destination": {"nets": ["169.254.169.254/32"]}},
                                    {"action": "Pass"}]}}
    baseline = {"apiVersion": "policy.networking.k8s.io/v1alpha1",
                "kind": "BaselineAdminNetworkPolicy", "metadata": meta(
                    "BaselineAdminNetworkPolicy", "default"),
                "spec": {"subject": {"namespaces": _PROJECT_NAMESPACES},
                         "ingress": [{"name": "monitoring-scrapes", "action": "Allow", "from": [
                             {"namespaces": {"matchLabels": {
                                 "kubernetes.io/metadata.name": "kubesphere-monitoring-system"}}}]}]}}
    return [tier, metadata, baseline]


_PROJECT_NAMESPACES = {"matchExpressions": [{"key": "kubesphere.io/workspace", "operator": "Exists"}]}


def _expectations() -> list[dict[str, Any]]:
    """Guardrails: connectivity promises of the platform and of projects. All hold in the demo
    as seeded except `no-project-reaches-the-management-network`: only `reporting` (and
    `billing`, once its generated policies restrict egress) limit their egress, so the other
    projects' pods reach SSH on 10.10.0.0/16; the Guardrails page shows it violated until the
    platform tier denies it. `no-project-reaches-cloud-metadata` holds through the platform
    tier's GlobalNetworkPolicy."""
    projects = {"namespaceSelector": _PROJECT_NAMESPACES, "podSelector": {}}
    return [
        expectation("every-project-reaches-dns", None, {
            "description": "Every project resolves names through CoreDNS",
            "from": projects,
            "to": {"namespace": "kube-system", "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}},
            "ports": [{"port": 53, "protocol": "UDP"}], "expect": "Allowed"}),
        expectation("no-project-reaches-cloud-metadata", None, {
            "description": "No project can read the cloud provider's instance metadata",
            "from": projects, "to": {"cidr": "169.254.169.254/32"},
            "ports": [{"port": 80, "protocol": "TCP"}], "expect": "Denied"}),
        expectation("shop-reaches-ledger", "shop", {
            "description": "The shop books orders in billing's ledger",
            "from": {"namespace": "shop"},
            "to": {"namespace": "billing", "podSelector": {"matchLabels": {"app": "ledger"}}},
            "ports": [{"port": 5432, "protocol": "TCP"}], "expect": "Allowed"}),
        expectation("card-terminals-reach-payments", ISOLATED_PROJECT, {
            "description": "Card terminals reach the payments gateway",
            "from": {"cidr": "203.0.113.0/24"}, "to": {"service": "billing/payments-gateway"},
            "expect": "Allowed"}),
        expectation("reporting-cannot-reach-billing", ISOLATED_PROJECT, {
            "description": "Team B's reporting never talks to billing",
            "from": {"namespace": "reporting"}, "to": {"namespace": ISOLATED_PROJECT},
            "expect": "Denied"}),
        expectation("ingress-reaches-dashboard", "reporting", {
            "description": "The ingress controller serves reports.example.com",
            "from": {"namespace": "kubesphere-controls-system",
                     "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}},
            "to": {"service": "reporting/dashboard"}, "expect": "Allowed"}),
        expectation("no-project-reaches-the-management-network", None, {
            "description": "No project opens SSH sessions into the management network",
            "from": projects, "to": {"cidr": "10.10.0.0/16"},
            "ports": [{"port": 22, "protocol": "TCP"}], "expect": "Denied"}),
    ]


def _calico() -> list[dict[str, Any]]:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "ippools.crd.projectcalico.org"},
           "spec": {"group": "crd.projectcalico.org", "scope": "Cluster",
                    "names": {"plural": "ippools", "singular": "ippool", "kind": "IPPool", "listKind": "IPPoolList"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}}}]}}
    pool = {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
            "metadata": meta("IPPool", "default-ipv4-ippool"),
            "spec": {"cidr": "10.233.64.0/18", "blockSize": 24, "ipipMode": "Always", "vxlanMode": "Never",
                     "natOutgoing": True, "nodeSelector": "all()"}}
    return [crd, pool]


def _namespaces() -> list[dict[str, Any]]:
    out = [namespace(name) for name in SYSTEM_NAMESPACES]
    out += [namespace(name, {"kubesphere.io/namespace": name}) for name in PLATFORM]
    for project, workspace in PROJECTS.items():
        annotations = {"kubesphere.io/creator": "admin"}
        if project == ISOLATED_PROJECT:
            annotations["kubesphere.io/network-isolate"] = "enabled"
        out.append(namespace(project, {"kubesphere.io/workspace": workspace, "kubesphere.io/namespace": project},
                             annotations))
    for obj in out:
        obj["metadata"].update(meta("Namespace", obj["metadata"]["name"]) | obj["metadata"])
    return out


def demo_objects() -> list[dict[str, Any]]:
    """Every object of the demo cluster, in an order a server accepts (CRDs and namespaces first)."""
    workspaces = [{"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
                   "metadata": meta("Workspace", name, labels={"kubesphere.io/creator": "admin"}),
                   "spec": {"manager": "admin", "networkIsolation": isolated}}
                  for name, isolated in WORKSPACES.items()]
    nodes = [node(name, ip, POD_CIDRS[name], TUNNELS[name], control_plane=name == "node-1")
             for name, ip in NODES.items()]
    controllers, pods = _workloads()
    services = _services()
    endpoints = [obj for svc in services for obj in endpoints_for(svc, pods)]
    kubernetes_endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                            "metadata": meta("Endpoints", "kubernetes", "default"),
                            "subsets": [{"addresses": [{"ip": NODES["node-1"]}],
                                         "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]}
    objects = [*console_crds(), *_calico(), *policy_crds(), *_namespaces(), *workspaces, *nodes, *controllers, *pods, *services,
               kubernetes_endpoints, *endpoints, *_ingresses(), *_policies(), *_platform_policies(),
               *_allowlist()]
    return [*objects, *_generated(objects), *_expectations()]


def _generated(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The NetworkPolicies the isolation engine generates for the demo's intent, so a fresh
    demo starts in step (the first reconcile writes nothing). Computed by the pure compiler with
    the platform settings' defaults (`IsolationSettings()`: no always-allowed namespaces,
    ingress namespaces detected, no SNAT addresses, engine mode console), which are the defaults
    of the console's PlatformSettings row."""
    snapshot = Snapshot()
    for obj in objects:
        if obj.get("kind") in KIND_FIELDS:
            snapshot.add(with_name_label(obj) if obj["kind"] == "Namespace" else obj)
    return [generated_policy(policy) for policy in desired_policies(snapshot, IsolationSettings()).policies]
