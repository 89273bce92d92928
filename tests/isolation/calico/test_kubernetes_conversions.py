"""A Kubernetes NetworkPolicy as Calico's default tier sees it: each rule converted once per
process, the same rules for every policy that holds it."""

from __future__ import annotations

from typing import Any

import pytest

from isolation.calico import kubernetes
from isolation.calico.kubernetes import forget_converted, from_kubernetes
from isolation.netpol.model import parse_policy
from isolation.netpol.validation import stored_network_policy


def policy(name: str, namespace: str = "shop", **spec: Any):
    return parse_policy(stored_network_policy({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace}, "spec": spec}))


RULES = {
    "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                          {"podSelector": {"matchLabels": {"app": "web"}}}],
                 "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}, {"port": "http"}]},
                {}],
    "egress": [{"to": [{"namespaceSelector": {}}], "ports": [{"port": 443, "endPort": 445}]}],
}


@pytest.fixture(autouse=True)
def nothing_kept():
    forget_converted()
    yield
    forget_converted()


def converted_afresh(source) -> Any:
    forget_converted()
    return from_kubernetes(source)


def test_a_policy_converted_again_is_equal_and_shares_its_rules():
    source = policy("web", **RULES)
    first, again = from_kubernetes(source), from_kubernetes(source)
    assert first == again == converted_afresh(source)
    assert all(a is b for a, b in zip(first.ingress, again.ingress, strict=True))
    assert [(r.index, r.peer_index, r.protocol) for r in first.ingress] == [
        (0, 0, "TCP"), (0, 1, "TCP"), (0, 0, "UDP"), (0, 1, "UDP"), (1, None, None)]


def test_another_policy_holding_the_very_rules_gets_the_same_conversions():
    source = policy("web", **RULES)
    first = from_kubernetes(source)
    renamed = from_kubernetes(type(source)(**{**source.__dict__, "name": "copy"}))
    assert renamed.name == "knp.default.copy"
    assert all(a is b for a, b in zip(first.ingress, renamed.ingress, strict=True))


def test_the_same_rules_in_another_namespace_limit_their_peers_to_it():
    shop, bank = policy("web", "shop", **RULES), policy("web", "bank", **RULES)
    in_shop = from_kubernetes(shop)
    in_bank = from_kubernetes(type(shop)(**{**shop.__dict__, "namespace": "bank",
                                            "ingress": shop.ingress}))
    assert in_shop.ingress[1].source.namespace == "shop"
    assert in_bank.ingress[1].source.namespace == "bank"
    assert in_bank == converted_afresh(bank)


def test_what_is_kept_is_bounded(monkeypatch):
    monkeypatch.setattr(kubernetes._CONVERSIONS, "size", 2)
    source = policy("web", ingress=[{"ports": [{"port": p}]} for p in range(1, 6)])
    converted = from_kubernetes(source)
    assert len(kubernetes._CONVERSIONS._rules) == 2
    assert converted == converted_afresh(source)
