"""Parsing and validating ConnectivityExpectation documents: field paths like the API server's."""

from __future__ import annotations

import pytest

from isolation.guardrails.model import (
    API_VERSION,
    ExpectationError,
    parse_expectation,
    representative_address,
    validate_expectation,
)


def doc(spec, *, namespace="shop", name="e"):
    kind = "ConnectivityExpectation" if namespace else "ClusterConnectivityExpectation"
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


BASE = {"from": {"namespace": "shop"}, "to": {"namespace": "billing"}, "expect": "Allowed"}


def fields(obj):
    return [issue.field for issue in validate_expectation(obj)]


def test_names_are_ns_slash_name_or_name_when_cluster_scoped():
    assert parse_expectation(doc(BASE)).name == "shop/e"
    assert parse_expectation(doc(BASE, namespace=None, name="dns")).name == "dns"


@pytest.mark.parametrize(("spec", "field"), [
    ({**BASE, "expect": "Maybe"}, "spec.expect"),
    ({k: v for k, v in BASE.items() if k != "expect"}, "spec.expect"),
    ({**BASE, "from": None}, "spec.from"),
    ({**BASE, "to": {"cidr": "10.0.0.300/24"}}, "spec.to.cidr"),
    ({**BASE, "to": {"cidr": "10.0.0.0/24", "namespace": "x"}}, "spec.to"),
    ({**BASE, "from": {"service": "a/b"}}, "spec.from.service"),
    ({**BASE, "to": {"service": "just-a-name"}}, "spec.to.service"),
    ({**BASE, "to": {"namespace": "a", "namespaceSelector": {}}}, "spec.to"),
    ({**BASE, "from": {"namespace": "a", "podSelector": {"matchLabels": {"bad key!": "x"}}}},
     "spec.from.podSelector.matchLabels"),
    ({**BASE, "from": {"namespaceSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}},
     "spec.from.namespaceSelector.matchExpressions[0].values"),
    ({**BASE, "ports": [{"port": 0}]}, "spec.ports[0].port"),
    ({**BASE, "ports": [{"port": 53, "protocol": "ICMP"}]}, "spec.ports[0].protocol"),
    ({**BASE, "ports": []}, "spec.ports"),
    ({**BASE, "colour": "red"}, "spec.colour"),
    ({**BASE, "from": {"pods": {}}}, "spec.from.pods"),
])
def test_invalid_fields_are_named(spec, field):
    assert field in fields(doc(spec))
    with pytest.raises(ExpectationError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_expectation(doc(spec))


def test_a_cluster_scoped_peer_must_name_or_select_its_namespace():
    spec = {**BASE, "from": {"podSelector": {}}}
    assert "spec.from.namespace" in fields(doc(spec, namespace=None))
    assert fields(doc(spec)) == []  # namespaced: the expectation's own namespace
    assert parse_expectation(doc(spec)).source.namespace == "shop"


def test_wrong_api_version_and_namespace_on_a_cluster_kind_are_refused():
    obj = doc(BASE, namespace=None)
    obj["metadata"]["namespace"] = "shop"
    obj["apiVersion"] = "isolation.tenant-console.io/v2"
    assert {"apiVersion", "metadata.namespace"} <= set(fields(obj))


@pytest.mark.parametrize(("cidr", "address"), [
    ("203.0.113.0/24", "203.0.113.1"),
    ("169.254.169.254/32", "169.254.169.254"),
    ("10.0.0.0/31", "10.0.0.0"),
    ("2001:db8::/64", "2001:db8::1"),
])
def test_a_cidr_is_evaluated_at_a_representative_address(cidr, address):
    assert representative_address(cidr) == address


def test_ports_default_to_tcp_and_names_are_kept():
    parsed = parse_expectation(doc({**BASE, "ports": [{"port": 5432}, {"port": "dns", "protocol": "UDP"}]}))
    assert [(p.port, p.protocol) for p in parsed.ports] == [(5432, "TCP"), ("dns", "UDP")]
    assert parse_expectation(doc(BASE)).ports is None
