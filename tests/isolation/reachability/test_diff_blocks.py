"""The reachability change counted per class pair equals the change compared pair by pair."""

from __future__ import annotations

import copy
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isolation.reachability.build import build_matrix
from isolation.reachability.engine import Cluster, Connection, diff
from isolation.reachability.matrix import MatrixDelta
from isolation.snapshot import Snapshot

NODES = [{"kind": "Node", "metadata": {"name": f"node-{n}"},
          "status": {"addresses": [{"type": "InternalIP", "address": f"192.168.0.{n + 1}"}]}}
         for n in range(2)]
# A node's own address (its pods always admit it), an outside client, an address among pods.
EXTRA_IPS = ["192.168.0.1", "203.0.113.9", "10.0.1.200"]


def build(spec: dict, policies: list | None = None, pods: list | None = None) -> Cluster:
    snapshot = Snapshot(namespaces=spec["namespaces"],
                        pods=spec["pods"] if pods is None else pods, nodes=NODES,
                        network_policies=spec["policies"] if policies is None else policies)
    return Cluster.from_snapshot(snapshot, extra_ips=EXTRA_IPS)


def pairwise_diff(before: Cluster, after: Cluster) -> tuple[list[Connection], list[Connection]]:
    """The change by its definition: every source (pods in both, then the extra IPs both
    know) × every other destination pod in both × each of its slots, verdict by verdict."""
    before_keys = {p.key for p in before.pods}
    common = [pod.key for pod in after.pods if pod.key in before_keys]
    sources = common + [ip for ip in after.extra_ips if ip in set(before.extra_ips)]
    destinations = [after.endpoint(key) for key in common]
    slots = after.slots_for(destinations, None)
    old = build_matrix(before, [before.endpoint(r) for r in sources],
                       [before.endpoint(r) for r in common], slots)
    new = build_matrix(after, [after.endpoint(r) for r in sources], destinations, slots)
    allowed, blocked = [], []
    for i, source in enumerate(sources):
        for j, destination in enumerate(common):
            if destination == source:
                continue
            for port, protocol in slots[j]:
                was, now = old.allowed(i, j, (port, protocol)), new.allowed(i, j, (port, protocol))
                if was != now:
                    (allowed if now else blocked).append(
                        Connection(source, destination, port, protocol, now))
    return allowed, blocked


def namespace_of(ref: str) -> str:
    return ref.split("/", 1)[0] if "/" in ref else "outside"


def changed_sides(random_clusters, data) -> tuple[Cluster, Cluster]:
    """Two sides of a change: other policies, and sometimes pods gone, new or relabelled."""
    spec = data.draw(random_clusters.cluster_spec())
    other = data.draw(random_clusters.cluster_spec())
    pods = copy.deepcopy(spec["pods"])
    if data.draw(st.booleans()):
        pods = pods[data.draw(st.integers(0, 1)):]
        for pod in pods[:data.draw(st.integers(0, len(pods)))]:
            pod["metadata"]["labels"] = dict(other["pods"][0]["metadata"]["labels"])
        added = [copy.deepcopy(p) for p in other["pods"]
                 if p["metadata"]["namespace"] in {n["metadata"]["name"]
                                                   for n in spec["namespaces"]}][:1]
        for pod in added:
            pod["metadata"]["name"] = "added"
        pods += added
        taken = {p["status"]["podIP"] for p in pods[:-1]}
        if pods and pods[-1]["status"]["podIP"] in taken:
            pods.pop()
    return build(spec), build(spec, policies=other["policies"], pods=pods)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_change_lists_exactly_the_connections_whose_verdict_differs(random_clusters, data):
    before, after = changed_sides(random_clusters, data)
    allowed, blocked = pairwise_diff(before, after)
    change = diff(before, after)
    assert list(change.newly_allowed) == allowed
    assert list(change.newly_blocked) == blocked
    assert len(change.newly_allowed) == len(allowed)
    assert len(change.newly_blocked) == len(blocked)
    assert change.newly_blocked[:3] == blocked[:3]
    assert change.newly_blocked[1::2] == blocked[1::2]
    if blocked:
        assert change.newly_blocked[-1] == blocked[-1]
        assert change.newly_blocked[len(blocked) // 2] == blocked[len(blocked) // 2]
    assert change.unchanged == (not allowed and not blocked)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_counts_per_namespace_pair_add_up_to_the_listed_connections(random_clusters, data):
    before, after = changed_sides(random_clusters, data)
    allowed, blocked = pairwise_diff(before, after)
    delta = diff(before, after).delta
    names = sorted({namespace_of(r) for r in delta.sources + delta.destinations})
    position = {name: n for n, name in enumerate(names)}
    src_ids = [position[namespace_of(r)] for r in delta.sources]
    dst_ids = [position[namespace_of(r)] for r in delta.destinations]
    for now, listed in ((True, allowed), (False, blocked)):
        counts = delta.grouped_counts(now, src_ids, len(names), dst_ids, len(names))
        expected = Counter((namespace_of(c.src), namespace_of(c.dst)) for c in listed)
        assert {(names[a], names[b]): int(counts[a, b])
                for a in range(len(names)) for b in range(len(names)) if counts[a, b]} \
            == dict(expected)
        per_row = delta.row_counts(now)
        assert [int(n) for n in per_row] == [sum(c.src == s for c in listed)
                                             for s in delta.sources]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_first_connections_of_each_pair_are_those_listed_first(random_clusters, data):
    before, after = changed_sides(random_clusters, data)
    allowed, blocked = pairwise_diff(before, after)
    delta = diff(before, after).delta
    names = sorted({namespace_of(r) for r in delta.sources + delta.destinations})
    position = {name: n for n, name in enumerate(names)}
    src_ids = [position[namespace_of(r)] for r in delta.sources]
    # destinations of the first namespace are left out of every group
    dst_ids = [position[namespace_of(r)] if namespace_of(r) != names[0] else -1
               for r in delta.destinations]
    wanted_most = data.draw(st.integers(1, 4))
    for now, listed in ((True, allowed), (False, blocked)):
        counts = delta.grouped_counts(now, src_ids, len(names), dst_ids, len(names))
        wanted = counts.clip(max=wanted_most)
        found = delta.first_per_group(now, src_ids, dst_ids, wanted)
        expected: dict[tuple[int, int], list[Connection]] = {}
        for c in listed:
            if namespace_of(c.dst) == names[0]:
                continue
            key = (position[namespace_of(c.src)], position[namespace_of(c.dst)])
            if len(expected.setdefault(key, [])) < wanted_most:
                expected[key].append(c)
        assert found == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_port_filter_counts_and_finds_only_that_port(random_clusters, data):
    before, after = changed_sides(random_clusters, data)
    allowed, blocked = pairwise_diff(before, after)
    delta = diff(before, after).delta
    port = data.draw(st.sampled_from([53, 80, 8080]))
    kept = [data.draw(st.booleans()) for _ in delta.destinations]
    for now, listed in ((True, allowed), (False, blocked)):
        chosen = [c for c in listed if c.port == port
                  and kept[delta.destinations.index(c.dst)]]
        rows = delta.row_counts(now, dst_mask=kept, port=port)
        assert int(rows.sum()) == len(chosen)
        for i, source in enumerate(delta.sources):
            columns = [j for j, keep in enumerate(kept) if keep]
            js, ks = delta.hits(i, now, columns, port)
            assert [delta.connection(i, int(j), int(k), now) for j, k in zip(js, ks, strict=True)] == \
                [c for c in chosen if c.src == source]


def test_a_node_reaches_its_own_pods_whatever_the_change(k8s):
    namespaces = [k8s.namespace("a"), k8s.namespace("b")]
    pods = [k8s.pod("a/web", "10.0.0.1", {"app": "web"}, node="node-1"),
            k8s.pod("a/api", "10.0.0.2", {"app": "api"}, node="node-2"),
            k8s.pod("b/job", "10.0.1.1", {"app": "job"}, node="node-1")]
    nodes = [k8s.node("node-1", "192.168.0.1"), k8s.node("node-2", "192.168.0.2")]
    deny = k8s.policy("a/deny", podSelector={}, policyTypes=["Ingress"])
    before = k8s.cluster(namespaces, pods, [], nodes, extra_ips=["192.168.0.1", "203.0.113.9"])
    after = k8s.cluster(namespaces, pods, [deny], nodes, extra_ips=["192.168.0.1", "203.0.113.9"])
    change = diff(before, after)
    blocked = {(c.src, c.dst) for c in change.newly_blocked}
    assert ("192.168.0.1", "a/web") not in blocked     # its own node: kubelet probes
    assert ("192.168.0.1", "a/api") in blocked
    assert ("203.0.113.9", "a/web") in blocked
    assert ("b/job", "a/api") in blocked
    assert not change.newly_allowed
    assert len(change.newly_blocked) == len(blocked) == 7


def test_matrices_of_different_ends_cannot_be_compared(k8s):
    cluster = k8s.cluster([k8s.namespace("a")], [k8s.pod("a/web", "10.0.0.1"),
                                                  k8s.pod("a/api", "10.0.0.2")])
    web, api = cluster.endpoint("a/web"), cluster.endpoint("a/api")
    one = build_matrix(cluster, [web, api], [web], cluster.slots_for([web], None))
    other = build_matrix(cluster, [api, web], [web], cluster.slots_for([web], None))
    with pytest.raises(ValueError, match="same ends"):
        MatrixDelta(one, other)
