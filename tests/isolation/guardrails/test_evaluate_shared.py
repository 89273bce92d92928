"""The shared reading of large expectations (merged classes, per-bit column totals) gives the
same verdicts and counts as reading every pair, and the namespaces an expectation involves."""

from __future__ import annotations

import copy

import pytest

from isolation.guardrails import evaluate as evaluation
from isolation.guardrails.model import API_VERSION, involved_namespaces, parse_expectation
from isolation.reachability.inventory import namespace_labels
from isolation.snapshot import load_snapshot
from kubesim.demo import DEMO_YAML

PROJECTS = {"namespaceSelector": {"matchExpressions": [
    {"key": "kubesphere.io/workspace", "operator": "Exists"}]}, "podSelector": {}}
ANY_POD = {"namespaceSelector": {}, "podSelector": {}}
EXTRA = [
    ("any-pod-reaches-any-pod", ANY_POD, ANY_POD, None, "Allowed"),
    ("projects-never-reach-billing", PROJECTS, {"namespace": "billing"}, None, "Denied"),
    ("projects-reach-billing-on-8443", PROJECTS, {"namespace": "billing"},
     [{"port": 8443, "protocol": "TCP"}], "Allowed"),
    ("billing-reaches-any-pod-on-80", {"namespace": "billing"}, ANY_POD,
     [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}], "Denied"),
]


def _expectations(snapshot):
    docs = [*snapshot.cluster_expectations, *snapshot.expectations]
    for name, source, destination, ports, expect in EXTRA:
        spec = {"from": source, "to": destination, "expect": expect}
        if ports:
            spec["ports"] = ports
        docs.append({"apiVersion": API_VERSION, "kind": "ClusterConnectivityExpectation",
                     "metadata": {"name": name}, "spec": copy.deepcopy(spec)})
    return [parse_expectation(doc) for doc in docs]


@pytest.mark.parametrize("gather_cells", [0, 50, 10**9])
def test_every_reading_gives_the_same_counts(monkeypatch, gather_cells):
    snapshot = load_snapshot(DEMO_YAML.read_text())
    expectations = _expectations(snapshot)
    expected = evaluation.evaluate(snapshot, expectations)
    monkeypatch.setattr(evaluation, "GATHER_CELLS", gather_cells)
    monkeypatch.setattr(evaluation, "UNPACKED_CELLS", 64)    # many small blocks
    results = evaluation.evaluate(snapshot, expectations)
    assert [(r.name, r.holds, r.pairs, r.violation_count, r.reason) for r in results] == [
        (r.name, r.holds, r.pairs, r.violation_count, r.reason) for r in expected]
    assert [len(r.violations) for r in results] == [len(r.violations) for r in expected]
    assert any(not r.holds for r in results) and any(r.holds for r in results)


def test_violations_are_capped_but_all_counted():
    snapshot = load_snapshot(DEMO_YAML.read_text())
    wide = [e for e in _expectations(snapshot) if e.name == "any-pod-reaches-any-pod"]
    [result] = evaluation.evaluate(snapshot, wide, max_violations=3)
    assert len(result.violations) == 3 and result.violation_count > 3
    assert all(v.reason.startswith("Denied:") for v in result.violations)


def test_an_expectation_involves_the_namespaces_either_end_can_name():
    snapshot = load_snapshot(DEMO_YAML.read_text())
    labels = namespace_labels(snapshot)
    by_name = {e.name: e for e in _expectations(snapshot)}
    assert involved_namespaces(by_name["shop/shop-reaches-ledger"], labels) == {"shop", "billing"}
    projects = involved_namespaces(by_name["no-project-reaches-cloud-metadata"], labels)
    assert {"shop", "billing", "catalog", "reporting"} <= projects
    assert "kube-system" not in projects
    assert involved_namespaces(by_name["billing/card-terminals-reach-payments"],
                               labels) == {"billing"}
    assert by_name["every-project-reaches-dns"].source.describe() == (
        "pods in namespaces that have kubesphere.io/workspace")
