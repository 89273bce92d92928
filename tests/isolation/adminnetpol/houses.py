"""A small cluster of four projects for the AdminNetworkPolicy tests, and builders of ANPs.

Each project `red`, `blue`, `green`, `gold` (namespace label `team: <name>`) runs two pods,
`<name>-0` and `<name>-1` (pod label `team: <name>`), serving 80/TCP (named `web`),
8080/TCP, 53/UDP (named `dns`), 5353/UDP and 9003/SCTP: the shape of the network-policy-api
conformance setup, in our own words.
"""

from __future__ import annotations

from typing import Any

from isolation.reachability.engine import Cluster
from isolation.snapshot import Snapshot, with_name_label

API_VERSION = "policy.networking.k8s.io/v1alpha1"
TEAMS = ("red", "blue", "green", "gold")
PORTS = ((80, "TCP", "web"), (8080, "TCP", None), (53, "UDP", "dns"), (5353, "UDP", None),
         (9003, "SCTP", None))
OUTSIDE = "203.0.113.9"


def ip_of(pod: str) -> str:
    team, number = pod.rsplit("-", 1)
    return f"10.8.{TEAMS.index(team)}.{int(number) + 10}"


def anp(name: str, priority: int, subject: dict, ingress: list | None = None,
        egress: list | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"priority": priority, "subject": subject}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": API_VERSION, "kind": "AdminNetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


def banp(subject: dict, ingress: list | None = None, egress: list | None = None,
         name: str = "default") -> dict[str, Any]:
    spec: dict[str, Any] = {"subject": subject}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": API_VERSION, "kind": "BaselineAdminNetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


def team(name: str) -> dict[str, Any]:
    """A selector of the namespaces of one team (subject `namespaces` or a peer)."""
    return {"matchLabels": {"team": name}}


def team_pods(name: str) -> dict[str, Any]:
    return {"namespaceSelector": team(name), "podSelector": team(name)}


def netpol(key: str, **spec: Any) -> dict[str, Any]:
    namespace, name = key.split("/")
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def snapshot_of(policies: list[dict], nodes: list[dict] | None = None) -> Snapshot:
    snapshot = Snapshot()
    for name in TEAMS:
        snapshot.namespaces.append(with_name_label({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"team": name}}}))
        for number in (0, 1):
            pod = f"{name}-{number}"
            snapshot.pods.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod, "namespace": name, "labels": {"team": name}},
                "spec": {"nodeName": "node-a", "containers": [{"name": "main", "ports": [
                    {"containerPort": p, "protocol": proto, **({"name": n} if n else {})}
                    for p, proto, n in PORTS]}]},
                "status": {"phase": "Running", "podIP": ip_of(pod)}})
    snapshot.nodes.extend(nodes if nodes is not None else [
        node("node-a", "192.168.7.1", {"kubernetes.io/os": "linux"}),
        node("node-b", "192.168.7.2", {"kubernetes.io/os": "linux"}),
        node("node-c", "192.168.7.3", {})])
    for obj in policies:
        snapshot.add(obj)
    return snapshot


def node(name: str, address: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "status": {"addresses": [{"type": "InternalIP", "address": address}]}}


def cluster_of(policies: list[dict], nodes: list[dict] | None = None) -> Cluster:
    return Cluster.from_snapshot(snapshot_of(policies, nodes), extra_ips=[OUTSIDE])


def ref(name: str) -> str:
    """`red-0` → `red/red-0`; an address stays as it is."""
    return f"{name.rsplit('-', 1)[0]}/{name}" if name[0].isalpha() else name


def verdicts(cluster: Cluster, cases: list[tuple[str, str, int, str]]) -> list[bool]:
    """The check verdict of each (source, destination, port, protocol), after asserting the
    matrix says the same."""
    results = []
    for src, dst, port, protocol in cases:
        verdict = cluster.check(ref(src), ref(dst), port, protocol)
        matrix = cluster.matrix([ref(src)], [ref(dst)], [(port, protocol)])
        assert matrix.allowed(0, 0, (port, protocol)) == verdict.allowed, verdict.explain()
        results.append(verdict.allowed)
    return results
