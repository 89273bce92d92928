"""An impact counted per project pair says what listing every changed connection would say."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isolation.compiler.generate import IsolationSettings
from isolation.compiler.tenancy import detect_ingress_namespaces, workspace_of
from isolation.reachability.engine import Cluster, Connection
from isolation.review.clusters import ChangeClusters
from isolation.review.impact import (
    DNS_POD_LABELS,
    EXAMPLES_PER_PAIR,
    MONITORING_POD_LABELS,
    Impact,
    PairDelta,
    impact_of,
    pods_labelled,
    with_generated_policies,
    with_policies,
)
from isolation.snapshot import Snapshot, with_name_label

WORKSPACES = {"ws-a": ["a0", "a1", "a2"], "ws-b": ["b0", "b1"]}
APP_PORTS = [(80, "TCP"), (8080, "TCP"), (53, "UDP"), (53, "TCP")]
DENY_EGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "deny-egress", "namespace": "a1"},
               "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}


def _namespace(name: str, workspace: str | None = None, isolated: bool = False) -> dict:
    metadata: dict[str, Any] = {"name": name, "labels": {}}
    if workspace:
        metadata["labels"]["kubesphere.io/workspace"] = workspace
    if isolated:
        metadata["annotations"] = {"kubesphere.io/network-isolate": "enabled"}
    return with_name_label({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})


def _pod(ns: str, name: str, index: int, labels: dict[str, str],
         ports: list[tuple[int, str]]) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"nodeName": f"node-{index % 2}", "containers": [{
                "name": "main", "image": "app",
                "ports": [{"containerPort": n, "protocol": p} for n, p in ports]}]},
            "status": {"phase": "Running", "podIP": f"10.0.{index // 200}.{index % 200 + 1}"}}


def tenancy_snapshot(pods_of: dict[str, list[list[tuple[int, str]]]],
                     workspace_on: dict[str, bool], project_on: set[str]) -> Snapshot:
    """Two workspaces of projects with their pods, plus DNS, an ingress controller and
    Prometheus; isolation as given."""
    snapshot = Snapshot()
    for n in range(2):
        snapshot.add({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{n}"},
                      "status": {"addresses": [{"type": "InternalIP",
                                                "address": f"192.168.0.{n + 1}"}]}})
    for name, on in workspace_on.items():
        snapshot.add({"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
                      "metadata": {"name": name}, "spec": {"networkIsolation": on}})
    index = 0
    for ns, name, labels, ports in (
            ("kube-system", "coredns", {"k8s-app": "kube-dns"}, [(53, "UDP"), (53, "TCP")]),
            ("ingress-nginx", "controller", {"app.kubernetes.io/name": "ingress-nginx"},
             [(80, "TCP")]),
            ("monitoring", "prometheus", {"app": "prometheus"}, [(9090, "TCP")])):
        snapshot.add(_namespace(ns))
        snapshot.add(_pod(ns, name, index, labels, ports))
        index += 1
    for workspace, projects in WORKSPACES.items():
        for project in projects:
            snapshot.add(_namespace(project, workspace, project in project_on))
            for number, ports in enumerate(pods_of.get(project, [])):
                snapshot.add(_pod(project, f"app-{number}", index, {"app": f"app-{number}"},
                                  ports))
                index += 1
    return snapshot


def listed_change(before: Snapshot, after: Snapshot) -> tuple[list[Connection], list[Connection]]:
    """Every changed connection, verdict by verdict over both whole matrices."""
    clusters = ChangeClusters.of(before, after)
    old, new = clusters.before_matrix, clusters.after_matrix
    common = [p.key for p in new.pods if p.key in {q.key for q in old.pods}]
    sources = common + [ip for ip in new.extra_ips if ip in set(old.extra_ips)]
    allowed, blocked = [], []
    for was, now in zip(_connections(old, sources, common), _connections(new, sources, common),
                        strict=True):
        if was.allowed != now.allowed:
            (allowed if now.allowed else blocked).append(now)
    return allowed, blocked


def _connections(cluster: Cluster, sources: list[str], destinations: list[str]):
    return cluster.matrix(sources, destinations).connections()


def _ns(ref: str) -> str:
    return ref.split("/", 1)[0] if "/" in ref else "(outside the cluster)"


def listed_pairs(allowed: list[Connection], blocked: list[Connection]) -> list[PairDelta]:
    """Project pairs by walking both lists, examples the first allowed then blocked ones."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    examples: dict[tuple[str, str], list[Connection]] = defaultdict(list)
    for index, connections in ((0, allowed), (1, blocked)):
        for c in connections:
            key = (_ns(c.src), _ns(c.dst))
            counts[key][index] += 1
            if len(examples[key]) < EXAMPLES_PER_PAIR:
                examples[key].append(c)
    pairs = [PairDelta(src, dst, a, b, tuple(examples[(src, dst)]))
             for (src, dst), (a, b) in counts.items()]
    return sorted(pairs, key=lambda p: (-(p.allowed + p.blocked), p.src_namespace, p.dst_namespace))


def listed_warnings(after: Snapshot, blocked: list[Connection]) -> list[str]:
    """The warnings by checking each blocked connection."""
    ingress = set(detect_ingress_namespaces(after))
    monitoring = pods_labelled(after, MONITORING_POD_LABELS)
    dns = pods_labelled(after, DNS_POD_LABELS)
    owner = workspace_of(after)
    groups: dict[str, list[Connection]] = defaultdict(list)
    for c in blocked:
        src_ns, dst_ns = _ns(c.src), _ns(c.dst)
        if src_ns in ingress:
            groups["ingress"].append(c)
        if c.src in monitoring:
            groups["monitoring"].append(c)
        if c.dst in dns and c.port == 53:
            groups["dns"].append(c)
        if owner.get(src_ns) and owner.get(dst_ns) and owner[src_ns] != owner[dst_ns]:
            groups["cross-workspace"].append(c)
    heads = {"ingress": "Blocks the ingress controller", "monitoring": "Blocks monitoring scrapes",
             "dns": "Blocks DNS", "cross-workspace": "Cuts calls across workspaces that work today"}
    found = []
    for kind, head in heads.items():
        if groups[kind]:
            first, more = groups[kind][0], len(groups[kind]) - 1
            found.append(f"{head}: {first.src} → {first.dst} on {first.protocol} {first.port}"
                         + (f" and {more} more" if more else ""))
    return found


def assert_same_as_listed(before: Snapshot, after: Snapshot) -> Impact:
    allowed, blocked = listed_change(before, after)
    impact = impact_of(before, after)
    assert len(impact.newly_allowed) == len(allowed)
    assert len(impact.newly_blocked) == len(blocked)
    assert impact.newly_allowed[:200] == allowed[:200]
    assert impact.newly_blocked[:200] == blocked[:200]
    assert impact.pairs == listed_pairs(allowed, blocked)
    assert [w.split(". ", 1)[0] for w in impact.warnings] == listed_warnings(after, blocked)
    stored = impact.to_dict()
    assert (stored["allowed"], stored["blocked"]) == (len(allowed), len(blocked))
    assert stored["newly_blocked"] == [c.to_dict() for c in blocked[:200]]
    return impact


port_lists = st.lists(st.sampled_from(APP_PORTS), min_size=1, max_size=2, unique=True)
intents = st.tuples(st.fixed_dictionaries({w: st.booleans() for w in WORKSPACES}),
                    st.sets(st.sampled_from([p for ps in WORKSPACES.values() for p in ps])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pods_of=st.fixed_dictionaries({p: st.lists(port_lists, max_size=3)
                                      for ps in WORKSPACES.values() for p in ps}),
       now=intents, then=intents, deny_egress=st.booleans())
def test_an_isolation_change_is_counted_and_sampled_as_its_connections_say(
        pods_of, now, then, deny_egress):
    isolation = IsolationSettings()
    before, _ = with_generated_policies(tenancy_snapshot(pods_of, *now), isolation)
    after, _ = with_generated_policies(tenancy_snapshot(pods_of, *then), isolation)
    if deny_egress:
        after = with_policies(after, upsert=[DENY_EGRESS])
    assert_same_as_listed(before, after)


def test_isolating_a_large_workspace_counts_every_cut_connection_once():
    projects = {p: [[(8080, "TCP")], [(8080, "TCP"), (53, "UDP")]] for p in WORKSPACES["ws-a"]}
    projects.update({p: [[(80, "TCP")]] * 3 for p in WORKSPACES["ws-b"]})
    isolation = IsolationSettings()
    before, _ = with_generated_policies(
        tenancy_snapshot(projects, {"ws-a": False, "ws-b": False}, set()), isolation)
    after, _ = with_generated_policies(
        tenancy_snapshot(projects, {"ws-a": True, "ws-b": False}, set()), isolation)
    impact = assert_same_as_listed(before, after)
    # ws-b's 6 pods, coredns, prometheus and the outside sample lose each ws-a pod's ports
    assert len(impact.newly_blocked) == 9 * 3 * 3
    assert not impact.newly_allowed
    assert {p.dst_namespace for p in impact.pairs} == set(WORKSPACES["ws-a"])
    assert all(len(p.examples) == EXAMPLES_PER_PAIR for p in impact.pairs if p.blocked >= 5)
    assert any(w.startswith("Blocks monitoring scrapes") for w in impact.warnings)
    assert any(w.startswith("Cuts calls across workspaces") and "and 53 more" in w
               for w in impact.warnings)


def test_no_change_lists_nothing_and_warns_of_nothing():
    snapshot, _ = with_generated_policies(
        tenancy_snapshot({"a0": [[(80, "TCP")]]}, {"ws-a": True, "ws-b": False}, {"a0"}),
        IsolationSettings())
    impact = impact_of(snapshot, snapshot)
    assert impact.unchanged
    assert impact.newly_blocked == [] and list(impact.newly_allowed) == []
    assert impact.pairs == [] and impact.warnings == []
    assert impact.to_dict()["newly_blocked"] == []
