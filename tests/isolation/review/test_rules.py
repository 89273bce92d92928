"""Policies parsed with the rules they share with earlier reads: the same policy as
`parse_policy` gives, each distinct rule parsed once."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from isolation.netpol.model import parse_policy
from isolation.netpol.validation import stored_network_policy
from isolation.review.rules import PARSED_RULES, ParsedRules, parse_reusing_rules


@pytest.fixture(autouse=True)
def nothing_kept():
    PARSED_RULES.clear()
    yield
    PARSED_RULES.clear()


def policy(name: str = "web", **spec: Any) -> dict[str, Any]:
    return stored_network_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                  "metadata": {"name": name, "namespace": "shop"}, "spec": spec})


def block(i: int, port: int = 80) -> dict[str, Any]:
    return {"from": [{"ipBlock": {"cidr": f"10.0.0.{i}/32"}}], "ports": [{"port": port}]}


SHAPES = [
    policy(),
    policy(podSelector={"matchLabels": {"app": "web"}}, policyTypes=["Ingress", "Egress"],
           ingress=[block(1), {}, {"from": [{"podSelector": {}, "namespaceSelector": {
               "matchExpressions": [{"key": "team", "operator": "In", "values": ["a"]}]}}]}],
           egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                    "ports": [{"port": "dns", "protocol": "UDP"}, {"port": 1, "endPort": 9}]}]),
    policy(policyTypes=["Egress"], egress=[{}]),
]


@pytest.mark.parametrize("obj", SHAPES)
def test_a_policy_is_parsed_as_parse_policy_parses_it(obj):
    assert parse_reusing_rules(obj) == parse_policy(obj)
    assert parse_reusing_rules(obj) == parse_policy(obj)    # from the kept rules
    assert parse_reusing_rules(obj).source == obj


def test_an_edited_policy_reads_again_only_the_rule_that_changed():
    before = parse_reusing_rules(policy(ingress=[block(i) for i in range(50)]))
    edited = policy(ingress=[block(i, port=81 if i == 7 else 80) for i in range(50)])
    after = parse_reusing_rules(edited)
    assert after == parse_policy(edited)
    assert [a is b for a, b in zip(before.ingress, after.ingress, strict=True)] == \
        [i != 7 for i in range(50)]


def test_an_equal_rule_at_another_place_keeps_its_own_index():
    parse_reusing_rules(policy(ingress=[block(1), block(2)]))
    moved = policy(ingress=[block(2), block(1), block(3)])
    assert parse_reusing_rules(moved) == parse_policy(moved)
    assert [r.index for r in parse_reusing_rules(moved).ingress] == [0, 1, 2]


def test_a_rule_marshal_cannot_write_is_parsed_but_not_kept():
    obj = policy(ingress=[block(1)])
    obj["spec"]["ingress"][0]["note"] = datetime.date(2024, 1, 2)   # not a field: ignored
    assert parse_reusing_rules(obj) == parse_policy(obj)
    assert len(PARSED_RULES) == 0


def test_the_kept_rules_are_bounded():
    rules = ParsedRules(size=3)
    parsed = rules.rules("ingress", [block(i) for i in range(5)], "web")
    assert [r.index for r in parsed] == list(range(5)) and len(rules) == 3
