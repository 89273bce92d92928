"""Evaluating expectations: each peer kind, each verdict, no-pod ends, capping, reasons."""

from __future__ import annotations

import pytest

from isolation.guardrails.evaluate import (
    MAX_VIOLATIONS,
    evaluate,
    evaluate_snapshot,
    newly_violated,
    parse_expectations,
)
from isolation.guardrails.model import API_VERSION, parse_expectation
from isolation.snapshot import Snapshot
from tests.isolation.conftest import K8s


def doc(spec, *, namespace=None, name="e"):
    kind = "ConnectivityExpectation" if namespace else "ClusterConnectivityExpectation"
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def cluster(*policies, extra=()):
    snapshot = Snapshot()
    for obj in [K8s.namespace("shop", team="a"), K8s.namespace("billing", team="b"),
                K8s.namespace("kube-system"),
                K8s.pod("shop/web-1", "10.0.0.1", {"app": "web"}),
                K8s.pod("shop/web-2", "10.0.0.2", {"app": "web"}),
                K8s.pod("billing/ledger", "10.0.1.1", {"app": "ledger"},
                        ports=((5432, "TCP", "postgres"), (9102, "TCP", "metrics"))),
                K8s.pod("kube-system/dns", "10.0.2.1", {"k8s-app": "kube-dns"},
                        ports=((53, "UDP", "dns"), (53, "TCP", "dns-tcp"))),
                *policies, *extra]:
        snapshot.add(obj)
    return snapshot


DENY_BILLING = K8s.policy("billing/deny-all", podSelector={}, policyTypes=["Ingress"])
SHOP_TO_LEDGER = K8s.policy("billing/from-shop", podSelector={"matchLabels": {"app": "ledger"}},
                            policyTypes=["Ingress"],
                            ingress=[{"from": [{"namespaceSelector": {"matchLabels": {
                                "kubernetes.io/metadata.name": "shop"}}}],
                                "ports": [{"port": 5432}]}])
DENY_EGRESS = K8s.policy("shop/no-egress", podSelector={}, policyTypes=["Egress"])


def run(snapshot, spec, **kw):
    [result] = evaluate(snapshot, [parse_expectation(doc(spec, **kw))])
    return result


TO_LEDGER = {"namespace": "billing", "podSelector": {"matchLabels": {"app": "ledger"}}}


@pytest.mark.parametrize(("source", "destination", "ports", "policies", "expect", "holds", "pairs"), [
    # namespace → namespace + pods, on one port
    ({"namespace": "shop"}, TO_LEDGER, [{"port": 5432}], [], "Allowed", True, 2),
    ({"namespace": "shop"}, TO_LEDGER, [{"port": 5432}], [DENY_BILLING], "Allowed", False, 2),
    ({"namespace": "shop"}, TO_LEDGER, [{"port": 5432}], [DENY_BILLING, SHOP_TO_LEDGER],
     "Allowed", True, 2),
    # ports omitted: every declared port of the destination (5432 and 9102)
    ({"namespace": "shop"}, TO_LEDGER, None, [DENY_BILLING, SHOP_TO_LEDGER], "Allowed", False, 4),
    ({"namespace": "shop"}, TO_LEDGER, None, [DENY_BILLING], "Denied", True, 4),
    # namespaceSelector + podSelector
    ({"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {"matchLabels": {"app": "web"}}},
     {"namespace": "kube-system"}, [{"port": 53, "protocol": "UDP"}], [DENY_EGRESS], "Denied", True, 2),
    # any pod → DNS: the two shop pods, the ledger (the DNS pod is no pair with itself)
    ({"namespaceSelector": {}, "podSelector": {}}, {"namespace": "kube-system"},
     [{"port": 53, "protocol": "UDP"}], [DENY_EGRESS], "Allowed", False, 3),
    ({"namespaceSelector": {}, "podSelector": {}}, {"namespace": "kube-system"},
     [{"port": 53, "protocol": "UDP"}], [], "Allowed", True, 3),
    # an outside address as source and as destination
    ({"cidr": "203.0.113.0/24"}, TO_LEDGER, [{"port": 5432}], [DENY_BILLING], "Denied", True, 1),
    ({"cidr": "203.0.113.0/24"}, TO_LEDGER, [{"port": 5432}], [], "Denied", False, 1),
    ({"namespace": "shop"}, {"cidr": "169.254.169.254/32"}, [{"port": 80}], [DENY_EGRESS],
     "Denied", True, 2),
    ({"namespace": "shop"}, {"cidr": "169.254.169.254/32"}, [{"port": 80}], [], "Denied", False, 2),
    # a named port is resolved on each destination pod
    ({"namespace": "shop"}, TO_LEDGER, [{"port": "postgres"}], [DENY_BILLING, SHOP_TO_LEDGER],
     "Allowed", True, 2),
])
def test_peer_kinds_and_verdicts(source, destination, ports, policies, expect, holds, pairs):
    spec = {"from": source, "to": destination, "expect": expect}
    if ports is not None:
        spec["ports"] = ports
    result = run(cluster(*policies), spec)
    assert (result.holds, result.pairs) == (holds, pairs)
    assert result.violation_count == (0 if holds else result.violation_count)
    assert holds or result.violation_count > 0


def test_a_service_destination_uses_its_target_ports():
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ledger", "namespace": "billing"},
               "spec": {"selector": {"app": "ledger"},
                        "ports": [{"port": 80, "targetPort": "postgres", "protocol": "TCP"}]}}
    snapshot = cluster(DENY_BILLING, SHOP_TO_LEDGER, extra=[service])
    result = run(snapshot, {"from": {"namespace": "shop"}, "to": {"service": "billing/ledger"},
                            "expect": "Allowed"})
    assert (result.holds, result.pairs) == (True, 2)  # 5432 only, not the metrics port
    # a listed Service port maps to its target port
    result = run(snapshot, {"from": {"namespace": "shop"}, "to": {"service": "billing/ledger"},
                            "ports": [{"port": 80}], "expect": "Allowed"})
    assert (result.holds, result.pairs) == (True, 2)
    missing = run(snapshot, {"from": {"namespace": "shop"}, "to": {"service": "billing/nope"},
                             "expect": "Allowed"})
    assert not missing.holds and "no Service billing/nope" in missing.reason


@pytest.mark.parametrize("spec", [
    {"from": {"namespace": "nowhere"}, "to": {"namespace": "shop"}, "expect": "Denied"},
    {"from": {"namespace": "shop"}, "to": {"namespace": "billing",
                                           "podSelector": {"matchLabels": {"app": "gone"}}},
     "expect": "Denied"},
    {"from": {"namespaceSelector": {"matchLabels": {"team": "z"}}, "podSelector": {}},
     "to": {"cidr": "10.9.0.0/16"}, "ports": [{"port": 80}], "expect": "Denied"},
])
def test_an_end_that_matches_no_pods_never_holds(spec):
    result = run(cluster(), spec)
    assert not result.holds
    assert "matches no pods" in result.reason
    assert result.to_dict()["reason"] == result.reason


def test_an_outside_destination_without_ports_is_reported():
    result = run(cluster(), {"from": {"namespace": "shop"}, "to": {"cidr": "10.9.0.0/16"},
                             "expect": "Denied"})
    assert not result.holds and "no ports" in result.reason


def test_violations_name_the_deciding_policy_and_rule():
    denied = run(cluster(DENY_BILLING), {"from": {"namespace": "shop"}, "to": TO_LEDGER,
                                         "ports": [{"port": 5432}], "expect": "Allowed"})
    first = denied.violations[0].to_dict()
    assert set(first) == {"from", "to", "port", "protocol", "reason"}
    assert first["to"] == "billing/ledger" and first["port"] == 5432
    assert "billing/deny-all" in first["reason"]
    allowed = run(cluster(DENY_BILLING, SHOP_TO_LEDGER),
                  {"from": {"namespace": "shop"}, "to": TO_LEDGER, "ports": [{"port": 5432}],
                   "expect": "Denied"})
    assert "billing/from-shop ingress rule 0" in allowed.violations[0].reason


def test_violations_are_capped_with_the_full_count():
    pods = [K8s.pod(f"shop/p-{n}", f"10.0.3.{n}", {"app": "many"}) for n in range(1, 13)]
    snapshot = cluster(DENY_BILLING, extra=pods)
    result = run(snapshot, {"from": {"namespace": "shop"}, "to": TO_LEDGER, "expect": "Allowed"})
    assert result.pairs == 14 * 2
    assert result.violation_count == 28
    assert len(result.violations) == MAX_VIOLATIONS
    assert result.to_dict()["violation_count"] == 28


def test_many_expectations_share_one_evaluation_and_match_pairwise_checks():
    from isolation.reachability.engine import Cluster

    snapshot = cluster(DENY_BILLING, SHOP_TO_LEDGER, DENY_EGRESS)
    specs = [
        {"from": {"namespaceSelector": {}, "podSelector": {}}, "to": {"namespaceSelector": {}, "podSelector": {}},
         "expect": "Allowed"},
        {"from": {"namespace": "shop"}, "to": TO_LEDGER, "ports": [{"port": 5432}, {"port": 80}],
         "expect": "Denied"},
        {"from": {"cidr": "10.0.3.0/24"}, "to": {"namespace": "shop"}, "expect": "Allowed"},
    ]
    parsed = [parse_expectation(doc(s, name=f"e{n}")) for n, s in enumerate(specs)]
    results = evaluate(snapshot, parsed)
    engine = Cluster.from_snapshot(snapshot)
    pods = [p.key for p in engine.pods]
    # any → any on declared ports, counted pair by pair
    expected = sum(1 for s in pods for d in pods if s != d
                   for port, proto in engine.pod(d).declared_ports()
                   if not engine.check(s, d, port, proto).allowed)
    assert results[0].violation_count == expected
    assert results[0].pairs == sum(len(engine.pod(d).declared_ports()) * (len(pods) - 1) for d in pods)
    assert [r.name for r in results] == ["e0", "e1", "e2"]


def test_expectations_travel_in_the_snapshot_and_bad_ones_are_errors():
    snapshot = cluster()
    snapshot.add(doc({"from": {"namespace": "shop"}, "to": TO_LEDGER, "expect": "Allowed"},
                     namespace="shop", name="ok"))
    snapshot.add(doc({"from": {"namespace": "shop"}, "to": {"cidr": "x"}, "expect": "Allowed"},
                     name="broken"))
    results, errors = evaluate_snapshot(snapshot)
    assert [r.name for r in results] == ["shop/ok"]
    assert len(errors) == 1 and "spec.to.cidr" in str(errors[0])
    assert parse_expectations([{"kind": "Pod"}]) == ([], [])


def test_newly_violated_is_held_before_and_not_after():
    before = run(cluster(), {"from": {"namespace": "shop"}, "to": TO_LEDGER, "expect": "Allowed"})
    after = run(cluster(DENY_BILLING), {"from": {"namespace": "shop"}, "to": TO_LEDGER,
                                        "expect": "Allowed"})
    assert newly_violated([before], [after]) == [after]
    assert newly_violated([after], [after]) == []
