"""An expectation's ends in words, in English and in the console's Simplified Chinese."""

from __future__ import annotations

from isolation.guardrails.model import parse_expectation
from tests.isolation.netpol.language import said_in_chinese


def _expectation(source: dict, destination: dict) -> object:
    return parse_expectation({
        "apiVersion": "isolation.tenant-console.io/v1alpha1", "kind": "ClusterConnectivityExpectation",
        "metadata": {"name": "e"}, "spec": {"from": source, "to": destination, "expect": "Denied"}})


def test_the_ends_of_an_expectation_read_in_either_language():
    expectation = _expectation(
        {"namespaceSelector": {"matchExpressions": [{"key": "kubesphere.io/workspace",
                                                     "operator": "Exists"}]}},
        {"namespace": "billing", "podSelector": {"matchLabels": {"app": "ledger"}}})
    source, destination = expectation.source.describe(), expectation.destination.describe()
    assert source == "pods in namespaces that have kubesphere.io/workspace"
    assert destination == "pods with app=ledger of namespace billing"
    with said_in_chinese():
        assert str(source) == "带有标签 kubesphere.io/workspace 的命名空间中的Pod"
        assert str(destination) == "命名空间 billing 中的满足 app=ledger 的 Pod"
