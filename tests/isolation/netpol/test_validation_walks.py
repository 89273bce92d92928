"""The quick ways through a policy find what the full ways find: the schema walk's checks of
plain rules, validation without a defaulted copy, defaulting in place."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isolation.netpol import schema
from isolation.netpol.schema import schema_issues
from isolation.netpol.validation import (
    apply_network_policy_defaults,
    default_network_policy,
    defaulted_and_issues,
    lacks_network_policy_defaults,
    validate_network_policy,
    validate_typed_network_policy,
)

ODD = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False),
                st.text(max_size=4), st.builds(list), st.builds(dict),
                st.builds(lambda: ["x"]))
TEXT = st.one_of(st.sampled_from(["TCP", "UDP", "SCTP", "http", "web", "", "10.0.0.0/8",
                                  "10.1.2.3/32", "10.0.0.0/33", "::1/128", "fd00::/8", "app",
                                  "In", "NotIn", "Exists", "Bogus"]), st.text(max_size=6))


def maybe(values: st.SearchStrategy, odd_weight: int = 1) -> st.SearchStrategy:
    """Mostly `values`, sometimes anything (a wrong type, a null)."""
    return st.one_of(*([values] * 6), *([ODD] * odd_weight))


PORT = st.one_of(
    st.fixed_dictionaries({"port": maybe(st.one_of(st.integers(0, 70000), TEXT))},
                          optional={"protocol": maybe(TEXT), "endPort": maybe(st.integers(0, 70000)),
                                    "bogus": ODD}),
    ODD)
SELECTOR = st.fixed_dictionaries({}, optional={
    "matchLabels": maybe(st.dictionaries(TEXT, maybe(TEXT), max_size=2)),
    "matchExpressions": maybe(st.lists(st.fixed_dictionaries(
        {"key": maybe(TEXT), "operator": maybe(TEXT)},
        optional={"values": maybe(st.lists(maybe(TEXT), max_size=2))}), max_size=2)),
    "bogus": ODD})
PEER = st.one_of(
    st.fixed_dictionaries({"ipBlock": maybe(st.fixed_dictionaries(
        {"cidr": maybe(TEXT)}, optional={"except": maybe(st.lists(maybe(TEXT), max_size=2)),
                                         "bogus": ODD}))}),
    st.fixed_dictionaries({}, optional={"podSelector": maybe(SELECTOR),
                                        "namespaceSelector": maybe(SELECTOR),
                                        "ipBlock": maybe(st.fixed_dictionaries({"cidr": TEXT})),
                                        "bogus": ODD}),
    ODD)


def rules(peers_key: str) -> st.SearchStrategy:
    rule = st.fixed_dictionaries({}, optional={
        "ports": maybe(st.lists(PORT, max_size=3)), peers_key: maybe(st.lists(PEER, max_size=3)),
        "bogus": ODD})
    return maybe(st.lists(maybe(rule, odd_weight=0), min_size=1, max_size=4))


SPEC = st.fixed_dictionaries({"ingress": rules("from"), "egress": rules("to")}, optional={
    "podSelector": maybe(SELECTOR), "policyTypes": maybe(st.lists(maybe(TEXT), max_size=3))})
POLICIES = st.fixed_dictionaries(
    {"apiVersion": st.just("networking.k8s.io/v1"), "kind": st.just("NetworkPolicy"),
     "metadata": st.fixed_dictionaries({"name": maybe(TEXT), "namespace": maybe(TEXT)},
                                       optional={"labels": maybe(st.dictionaries(
                                           TEXT, maybe(TEXT), max_size=2))})},
    optional={"spec": maybe(SPEC, odd_weight=0)})
CHECKED = settings(max_examples=600, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def walked_the_long_way(obj: Any, monkeypatch: pytest.MonkeyPatch) -> list:
    with monkeypatch.context() as patched:
        patched.setattr(schema, "_FITS", {})
        return schema_issues(obj)


@CHECKED
@given(POLICIES)
def test_the_schema_walk_finds_in_plain_rules_what_the_full_walk_finds(obj):
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert schema_issues(obj) == walked_the_long_way(obj, monkeypatch)


@CHECKED
@given(POLICIES)
def test_validation_without_a_defaulted_copy_finds_what_validating_the_copy_finds(obj):
    kept = copy.deepcopy(obj)
    assert validate_network_policy(obj) == defaulted_and_issues(obj)[1]
    if not [i for i in schema_issues(obj) if i.reason != "FieldValueUnknown"]:
        assert validate_typed_network_policy(obj) == defaulted_and_issues(obj)[1]
    assert obj == kept


@CHECKED
@given(POLICIES)
def test_defaulting_in_place_gives_the_defaulted_copy(obj):
    expected = default_network_policy(obj)
    assert lacks_network_policy_defaults(obj) == (expected != obj)
    in_place = copy.deepcopy(obj)
    assert apply_network_policy_defaults(in_place) is in_place
    assert in_place == expected


def test_defaulting_a_defaulted_policy_in_place_writes_nothing():
    policy = default_network_policy({"metadata": {"name": "web"}, "spec": {
        "ingress": [{"ports": [{"port": 80}, None]}], "egress": [{}]}})
    ports = policy["spec"]["ingress"][0]["ports"]
    port = ports[0]
    assert not lacks_network_policy_defaults(policy)
    apply_network_policy_defaults(policy)
    assert policy["spec"]["ingress"][0]["ports"] is ports and ports[0] is port
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_a_large_plain_policy_has_no_schema_issue_and_a_wrong_value_deep_in_it_is_found():
    policy = {"metadata": {"name": "large"}, "spec": {"ingress": [
        {"from": [{"ipBlock": {"cidr": f"10.0.{i // 256}.{i % 256}/32"}}],
         "ports": [{"port": 1024 + i, "protocol": "TCP"}]} for i in range(2000)]}}
    assert schema_issues(policy) == []
    policy["spec"]["ingress"][1500]["ports"][0]["port"] = True
    policy["spec"]["ingress"][1700]["from"][0]["ipBlock"]["bogus"] = 1
    assert [(i.field, i.reason) for i in schema_issues(policy)] == [
        ("spec.ingress[1500].ports[0].port", "FieldValueTypeInvalid"),
        ("spec.ingress[1700].from[0].ipBlock.bogus", "FieldValueUnknown")]
