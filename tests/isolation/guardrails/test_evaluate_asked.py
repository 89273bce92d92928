"""Expectations decided on an engine that only knows the ports they ask (the review's lighter
engine) hold, break and count as on the whole engine, explained by the whole one."""

from __future__ import annotations

import pytest

from isolation.guardrails.evaluate import asked_ports, evaluate, expectation_objects
from isolation.guardrails.evaluate import parse_expectations as parsed
from isolation.reachability.engine import Cluster
from isolation.review.clusters import ChangeClusters
from isolation.review.impact import with_policies
from isolation.snapshot import load_snapshot
from kubesim.demo import DEMO_YAML

NO_EGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "no-egress", "namespace": "shop"},
             "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}


@pytest.fixture(scope="module")
def demo():
    return load_snapshot(DEMO_YAML.read_text())


def test_the_asked_ports_are_the_numbered_ports_and_the_services_target_ports(demo):
    valid, _ = parsed(expectation_objects(demo))
    asked = asked_ports(demo, valid)
    assert {(22, "TCP"), (53, "UDP"), (80, "TCP"), (5432, "TCP")} <= asked
    assert all(isinstance(port, int) for port, _ in asked)


@pytest.mark.parametrize("change", [None, NO_EGRESS])
def test_the_lighter_engine_decides_as_the_whole_one(demo, change):
    after = with_policies(demo, upsert=[change]) if change else demo
    valid, _ = parsed(expectation_objects(after))
    clusters = ChangeClusters.of(demo, after)
    whole = Cluster.from_snapshot(after)
    lighter = evaluate(after, valid, whole,
                       matrix_cluster=clusters.after_asked(asked_ports(after, valid)))
    assert [r.to_dict() for r in lighter] == [r.to_dict() for r in evaluate(after, valid, whole)]
    if change:
        assert any(not r.holds for r in lighter)
