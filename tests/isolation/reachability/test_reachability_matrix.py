"""The class-based matrix agrees with one-by-one checks, and its views add up."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isolation.reachability.engine import Cluster, Counts, diff
from isolation.snapshot import Snapshot

NODES = [{"kind": "Node", "metadata": {"name": f"node-{n}"},
          "status": {"addresses": [{"type": "InternalIP", "address": f"192.168.0.{n + 1}"}]}}
         for n in range(2)]
EXTRA_IPS = ["192.168.0.1", "203.0.113.9", "10.0.1.200"]


def build(spec, policies=None):
    snapshot = Snapshot(namespaces=spec["namespaces"], pods=spec["pods"], nodes=NODES,
                        network_policies=spec["policies"] if policies is None else policies)
    return Cluster.from_snapshot(snapshot, extra_ips=EXTRA_IPS)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_matrix_agrees_with_check_on_random_clusters(random_clusters, data):
    cluster = build(data.draw(random_clusters.cluster_spec()))
    matrix = cluster.matrix()
    seen = 0
    for connection in matrix.connections():
        verdict = cluster.check(connection.src, connection.dst, connection.port,
                                connection.protocol)
        assert verdict.allowed == connection.allowed, verdict.explain()
        seen += 1
    counts = matrix.counts()
    assert counts.total == seen
    assert counts.allowed == sum(c.allowed for c in matrix.connections())
    by_namespace = matrix.by_namespace()
    assert sum(c.allowed for c in by_namespace.values()) == counts.allowed
    assert sum(c.denied for c in by_namespace.values()) == counts.denied


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_diff_lists_exactly_the_changed_connections(random_clusters, data):
    spec = data.draw(random_clusters.cluster_spec())
    other = data.draw(random_clusters.cluster_spec())
    before, after = build(spec), build(spec, policies=other["policies"])
    old = {(c.src, c.dst, c.port, c.protocol): c.allowed for c in before.matrix().connections()}
    new = {(c.src, c.dst, c.port, c.protocol): c.allowed for c in after.matrix().connections()}
    result = diff(before, after)
    assert {(c.src, c.dst, c.port, c.protocol) for c in result.newly_allowed} == {
        key for key in new if new[key] and not old[key]}
    assert {(c.src, c.dst, c.port, c.protocol) for c in result.newly_blocked} == {
        key for key in new if old[key] and not new[key]}


@pytest.fixture
def two_teams(k8s):
    return k8s.cluster(
        [k8s.namespace("a1", ws="alpha"), k8s.namespace("a2", ws="alpha"),
         k8s.namespace("b1", ws="beta")],
        [k8s.pod("a1/web", "10.0.1.1", {"app": "web"}, ports=((80, "TCP", "http"), (443, "TCP", None))),
         k8s.pod("a1/api", "10.0.1.2", {"app": "api"}),
         k8s.pod("a2/db", "10.0.2.1", {"app": "db"}, ports=((5432, "TCP", None),)),
         k8s.pod("b1/job", "10.0.3.1", {"app": "job"})],
        [{"kind": "NetworkPolicy", "metadata": {"name": "same-ws", "namespace": ns},
          "spec": {"podSelector": {}, "ingress": [{"from": [
              {"namespaceSelector": {"matchLabels": {"ws": "alpha"}}}]}]}}
         for ns in ("a1", "a2")],
        extra_ips=["198.51.100.1"])


def test_declared_ports_are_the_default_slots(two_teams):
    matrix = two_teams.matrix()
    assert [e.name for e in matrix.sources] == ["a1/web", "a1/api", "a2/db", "b1/job",
                                                "198.51.100.1"]
    assert matrix.ports_of(0) == ((80, "TCP"), (443, "TCP"))
    # 5 sources; destinations have 2+1+1+1 slots; the 4 pods skip themselves
    assert matrix.counts().total == 5 * 5 - (2 + 1 + 1 + 1)


def test_counts_by_namespace_and_workspace(two_teams):
    matrix = two_teams.matrix()
    by_ns = matrix.by_namespace()
    assert by_ns[("b1", "a1")] == Counts(allowed=0, denied=3)
    assert by_ns[("a2", "a1")] == Counts(allowed=3, denied=0)
    assert by_ns[("external", "b1")] == Counts(allowed=1, denied=0)
    by_ws = matrix.by_workspace({"a1": "alpha", "a2": "alpha", "b1": "beta"})
    assert by_ws[("alpha", "alpha")] == Counts(allowed=8, denied=0)
    assert by_ws[("beta", "alpha")] == Counts(allowed=0, denied=4)
    assert by_ws[(None, "alpha")] == Counts(allowed=0, denied=4)


def test_given_ports_apply_to_every_destination(two_teams):
    matrix = two_teams.matrix(["b1/job"], ["a1/web", "198.51.100.1"], [(80, "TCP"), (53, "UDP")])
    verdicts = Counter((c.dst, c.allowed) for c in matrix.connections())
    assert verdicts == {("a1/web", False): 2, ("198.51.100.1", True): 2}
    assert matrix.allowed(0, 1, (53, "UDP"))
    with pytest.raises(KeyError):
        matrix.allowed(0, 0, 8080)


def test_diff_of_a_new_allow_rule(k8s, two_teams):
    snapshot_policies = [
        {"kind": "NetworkPolicy", "metadata": {"name": "same-ws", "namespace": ns},
         "spec": {"podSelector": {}, "ingress": [{"from": [
             {"namespaceSelector": {"matchLabels": {"ws": "alpha"}}},
             *([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b1"}}}]
               if ns == "a2" else [])]}]}}
        for ns in ("a1", "a2")]
    after = k8s.cluster(
        [k8s.namespace("a1", ws="alpha"), k8s.namespace("a2", ws="alpha"),
         k8s.namespace("b1", ws="beta")],
        [k8s.pod("a1/web", "10.0.1.1", {"app": "web"}, ports=((80, "TCP", "http"), (443, "TCP", None))),
         k8s.pod("a1/api", "10.0.1.2", {"app": "api"}),
         k8s.pod("a2/db", "10.0.2.1", {"app": "db"}, ports=((5432, "TCP", None),)),
         k8s.pod("b1/job", "10.0.3.1", {"app": "job"})],
        snapshot_policies, extra_ips=["198.51.100.1"])
    change = diff(two_teams, after)
    assert [c.to_dict() for c in change.newly_allowed] == [
        {"from": "b1/job", "to": "a2/db", "port": 5432, "protocol": "TCP", "allowed": True}]
    assert change.newly_blocked == []
    assert diff(two_teams, two_teams).unchanged
