"""A policy of thousands of rules is validated rule by rule exactly as a small one: the broken
rules hidden among valid ones are each reported, with their path, and nothing else is."""

from __future__ import annotations

import pytest

from isolation.netpol.schema import schema_issues
from isolation.netpol.validation import (
    default_network_policy,
    validate_defaulted_network_policy,
    validate_network_policy,
)
from isolation.yamlio import plain_copy


def _rule(i: int) -> dict:
    return {"from": [{"ipBlock": {"cidr": f"10.{i // 256 % 256}.{i % 256}.0/24"}}],
            "ports": [{"port": 1024 + i, "protocol": "TCP"}]}


def _policy(rules: list[dict]) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "big", "namespace": "shop"},
            "spec": {"podSelector": {}, "ingress": rules}}


BROKEN = {
    3: ({"ports": [{"port": 0}]}, "spec.ingress[3].ports[0].port"),
    5: ({"ports": [{"port": 80, "protocol": "ICMP"}]}, "spec.ingress[5].ports[0].protocol"),
    7: ({"from": [{"ipBlock": {"cidr": "10.0.0.1"}}]}, "spec.ingress[7].from[0].ipBlock.cidr"),
    9: ({"from": [{"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.1.0.0/24"]}}]},
        "spec.ingress[9].from[0].ipBlock.except[0]"),
    11: ({"from": [{"ipBlock": {"cidr": "10.0.0.0/24"}, "podSelector": {}}]},
         "spec.ingress[11].from[0]"),
    13: ({"ports": [{"port": "http", "endPort": 90}]}, "spec.ingress[13].ports[0].endPort"),
    15: ({"ports": [{"port": 80, "endPort": 70}]}, "spec.ingress[15].ports[0].endPort"),
    17: ({"from": [{}]}, "spec.ingress[17].from[0]"),
    19: ({"ports": [{"port": 70000}]}, "spec.ingress[19].ports[0].port"),
}


def test_every_broken_rule_among_thousands_is_reported_at_its_path():
    rules = [_rule(i) for i in range(5000)]
    for index, (rule, _) in BROKEN.items():
        rules[index * 250] = rule
    issues = validate_network_policy(_policy(rules))
    expected = [field.replace(f"[{index}]", f"[{index * 250}]", 1)
                for index, (_, field) in sorted(BROKEN.items())]
    assert [issue.field for issue in issues] == expected


@pytest.mark.parametrize("index", sorted(BROKEN))
def test_a_broken_rule_reads_the_same_alone_and_among_others(index):
    rule, _ = BROKEN[index]
    alone = validate_network_policy(_policy([rule]))
    among = validate_network_policy(_policy([_rule(1), rule, _rule(2)]))
    assert [(i.message, i.reason) for i in among] == [(i.message, i.reason) for i in alone]
    assert [i.field.replace("[1]", "[0]", 1) for i in among] == [i.field for i in alone]


@pytest.mark.parametrize("policy", [
    _policy([_rule(i) for i in range(20)]),
    _policy([BROKEN[3][0], {"ports": [None]}, None]),
    {"metadata": {"name": "Bad_Name"}, "spec": {"egress": [{"to": [], "ports": [{}]}],
                                                "policyTypes": []}},
    {"metadata": {"name": "x"}, "spec": {"policyTypes": "Ingress"}},
    {"metadata": {"name": "x"}, "spec": None},
])
def test_a_defaulted_policy_validates_as_the_policy_it_came_from(policy):
    defaulted = default_network_policy(policy)
    assert validate_defaulted_network_policy(defaulted) == validate_network_policy(defaulted)


def test_wrong_types_and_unknown_fields_deep_in_a_large_policy_name_their_paths():
    rules = [_rule(i) for i in range(3000)]
    rules[2000] = {"ports": [{"port": 1.5}], "fromm": []}
    policy = _policy(rules)
    policy["metadata"]["labels"] = {"app": 7}
    issues = schema_issues(policy)
    assert [(issue.field, issue.reason) for issue in issues] == [
        ("metadata.labels[app]", "FieldValueTypeInvalid"),
        ("spec.ingress[2000].ports[0].port", "FieldValueTypeInvalid"),
        ("spec.ingress[2000].fromm", "FieldValueUnknown"),
    ]


def test_a_plain_copy_is_equal_and_shares_nothing():
    shared = {"matchLabels": {"app": "web"}}
    policy = _policy([{"from": [{"podSelector": shared}, {"podSelector": shared}]}])
    copied = plain_copy(policy)
    assert copied == policy
    peers = copied["spec"]["ingress"][0]["from"]
    assert peers[0]["podSelector"] is not peers[1]["podSelector"]
    assert peers[0]["podSelector"] is not shared
