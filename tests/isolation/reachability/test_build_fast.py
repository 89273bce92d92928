"""The matrix builder's bulk paths: tiled transposition, per-namespace selection, Deployments
sharing classes, and Calico's default tier composed around the Kubernetes policies; each
checked against plain numpy or against `Cluster.check`, the pairwise reference."""

from __future__ import annotations

import numpy as np
import pytest

from bench.admin_bench import admin_policies
from bench.calico_bench import calico_policies
from bench.reachability_bench import generate
from isolation.reachability import build
from isolation.reachability.engine import Cluster
from isolation.snapshot import Snapshot


def _cluster(objects: list[dict]) -> Cluster:
    snapshot = Snapshot()
    for obj in objects:
        snapshot.add(obj)
    return Cluster.from_snapshot(snapshot)


def _agrees_with_checks(cluster: Cluster, every: int = 1) -> int:
    """Compare every `every`-th matrix verdict with `Cluster.check`; the number allowed."""
    connections = list(cluster.matrix().connections())
    for connection in connections[::every]:
        verdict = cluster.check(connection.src, connection.dst, connection.port,
                                connection.protocol)
        assert connection.allowed == verdict.allowed, verdict.explain()
    allowed = sum(c.allowed for c in connections)
    assert 0 < allowed < len(connections)
    return allowed


@pytest.mark.parametrize("size", [1, 5, 17, 40])
@pytest.mark.parametrize("words", [1, 2])
def test_the_tiled_and_equals_the_plain_transposed_and(monkeypatch, size, words):
    monkeypatch.setattr(build, "_TILE", 8)  # several tiles, the last one partial
    rng = np.random.default_rng(size * words)
    egress = rng.integers(0, 256, (size, size, words), dtype=np.uint8)
    ingress = rng.integers(0, 256, (size, size, words), dtype=np.uint8)
    expected = egress & ingress.transpose(1, 0, 2)
    build._and_transposed(egress, ingress)
    assert (egress == expected).all()


def test_the_tiled_and_skips_only_rows_left_alone(monkeypatch):
    monkeypatch.setattr(build, "_TILE", 4)
    rng = np.random.default_rng(3)
    egress = rng.integers(0, 256, (19, 19, 1), dtype=np.uint8)
    ingress = rng.integers(0, 256, (19, 19, 1), dtype=np.uint8)
    rows = np.zeros(19, dtype=bool)
    rows[[2, 13]] = True
    ingress[~rows] = 255  # rows not isolated allow everything
    expected = egress & ingress.transpose(1, 0, 2)
    build._and_transposed(egress, ingress, rows)
    assert (egress == expected).all()


def test_row_ids_are_equal_exactly_for_equal_rows():
    membership = np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0], [0, 0, 0]], dtype=bool)
    ids = build._row_ids(membership)
    assert ids[0] == ids[2] and ids[1] == ids[4]
    assert len({ids[0], ids[1], ids[3]}) == 3
    assert build._row_ids(np.zeros((3, 0), dtype=bool)) == [0, 0, 0]
    assert build._row_ids(np.zeros((0, 2), dtype=bool)) == []


def test_deployments_share_classes_and_agree_with_checks():
    cluster = _cluster(generate(400, 10, 60, seed=11, replicas=8))
    matrix = cluster.matrix()
    assert matrix.class_count <= 400 // 8 + 10  # replicas share a class (ipBlocks may split)
    _agrees_with_checks(cluster, every=53)


def test_more_classes_than_one_tile_agree_with_checks(monkeypatch):
    monkeypatch.setattr(build, "_TILE", 64)
    cluster = _cluster(generate(300, 12, 90, seed=4))
    assert cluster.matrix().class_count > 64 * 3
    _agrees_with_checks(cluster, every=41)


def test_policies_sharing_a_selector_allow_the_union_of_their_rules(k8s):
    pods = [k8s.pod("shop/web-0", "10.0.0.1", {"app": "web"}, ports=[(80, "TCP", "http")]),
            k8s.pod("shop/web-1", "10.0.0.2", {"app": "web"}, ports=[(80, "TCP", "http")]),
            k8s.pod("shop/db-0", "10.0.0.3", {"app": "db"}, ports=[(5432, "TCP", "pg")]),
            k8s.pod("ops/probe-0", "10.0.1.1", {"app": "probe"}, ports=[(9090, "TCP", "m")])]
    web = {"matchLabels": {"app": "web"}}
    policies = [
        k8s.policy("shop/from-db", podSelector=web, ingress=[
            {"from": [{"podSelector": {"matchLabels": {"app": "db"}}}]}]),
        k8s.policy("shop/from-ops", podSelector=web, ingress=[
            {"from": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "ops"}}}], "ports": [{"port": 80}]}]),
        k8s.policy("shop/everything", podSelector={}, policyTypes=["Ingress"]),
        k8s.policy("empty/nobody", podSelector={}, policyTypes=["Ingress", "Egress"]),
    ]
    cluster = k8s.cluster([k8s.namespace("shop"), k8s.namespace("ops"),
                           k8s.namespace("empty")], pods, policies)
    matrix = cluster.matrix()
    verdicts = {(c.src, c.dst, c.port): c.allowed for c in matrix.connections()}
    assert verdicts[("shop/db-0", "shop/web-0", 80)]
    assert verdicts[("ops/probe-0", "shop/web-1", 80)]
    assert not verdicts[("shop/web-1", "shop/web-0", 80)]
    assert not verdicts[("ops/probe-0", "shop/db-0", 5432)]  # isolated by `everything` only
    assert verdicts[("shop/db-0", "ops/probe-0", 9090)]
    for (src, dst, port), allowed in verdicts.items():
        assert cluster.check(src, dst, port).allowed == allowed


def _calico_cluster(seed: int) -> Cluster:
    objects = generate(160, 8, 40, seed=seed)
    namespaces = [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"]
    return _cluster(objects + calico_policies(60, namespaces, seed=seed)
                    + admin_policies(12, seed=seed))


@pytest.mark.parametrize("seed", [2, 9])
def test_calico_tiers_around_the_kubernetes_policies_agree_with_checks(seed):
    cluster = _calico_cluster(seed)
    assert cluster.calico is not None
    _agrees_with_checks(cluster, every=29)


def test_a_pod_label_hides_the_namespace_label_calico_adds_under_the_same_key(k8s):
    calico = "projectcalico.org/v3"
    namespaces = [k8s.namespace("shop", team="blue"), k8s.namespace("ops", team="red")]
    pods = [k8s.pod("shop/web-0", "10.0.0.1", {"app": "web"}, ports=[(80, "TCP", "http")]),
            k8s.pod("shop/web-1", "10.0.0.2", {"app": "web", "pcns.team": "red"},
                    ports=[(80, "TCP", "http")]),
            k8s.pod("ops/job-0", "10.0.1.1", {"app": "job"}, ports=[(80, "TCP", "http")])]
    snapshot = Snapshot()
    for obj in [*namespaces, *pods, {
            "apiVersion": calico, "kind": "GlobalNetworkPolicy",
            "metadata": {"name": "red-only"},
            "spec": {"order": 10, "selector": "app == 'web'", "ingress": [
                {"action": "Allow", "source": {"selector": "pcns.team == 'red'"}},
                {"action": "Deny"}]}}]:
        snapshot.add(obj)
    cluster = Cluster.from_snapshot(snapshot)
    verdicts = {(c.src, c.dst): c.allowed for c in cluster.matrix().connections()}
    assert verdicts[("ops/job-0", "shop/web-0")]       # its namespace is team red
    assert verdicts[("shop/web-1", "shop/web-0")]      # its own label says red
    assert not verdicts[("shop/web-0", "shop/web-1")]  # blue namespace, no label of its own
    for (src, dst), allowed in verdicts.items():
        assert cluster.check(src, dst, 80).allowed == allowed


@pytest.mark.parametrize("direction", ["Ingress", "Egress"])
def test_the_grouped_network_policy_bits_are_the_dense_ones_of_the_isolated_rows(direction):
    cluster = _cluster(generate(160, 8, 40, seed=4))
    destinations = cluster._endpoints(None, with_extra_ips=False)
    builder = build._Builder(cluster, cluster._endpoints(None, with_extra_ips=True),
                             destinations, cluster.slots_for(destinations, None))
    builder._entities()
    builder._classes()
    dense, isolated = builder.network_policy_bits(direction)
    group, allowed = builder.network_policy_groups(direction)
    assert 0 < isolated.sum() < builder.classes
    assert ((group >= 0) == isolated).all()
    assert (allowed[group[isolated]] == dense[isolated]).all()
    assert len(allowed) < isolated.sum()  # rows covered alike share their bits


@pytest.mark.parametrize("seed", [2, 5])
def test_calico_tiers_composed_a_row_at_a_time_agree_with_checks(monkeypatch, seed):
    from isolation.reachability import compose
    monkeypatch.setattr(compose, "_CACHE_BYTES", 1)
    monkeypatch.setattr(build, "_TILE", 16)  # several tiles when joining the directions
    cluster = _calico_cluster(seed)
    _agrees_with_checks(cluster, every=37)
