"""What the declared ports keep per rule: the answers they would give afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from isolation.netpol.model import parse_policy
from isolation.netpol.validation import stored_network_policy
from isolation.reachability.inventory import read_pods
from isolation.review.clusters import DeclaredPorts
from isolation.snapshot import load_snapshot

DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"


@pytest.fixture(scope="module")
def pods():
    return read_pods(load_snapshot(DEMO.read_text()))


def rules():
    ports = [[{"port": 8080}], [{"port": 1}], [{"port": 8000, "endPort": 8090}],
             [{"port": "http"}], [{"protocol": "UDP"}], [{"port": 53, "protocol": "UDP"}], []]
    return parse_policy(stored_network_policy({
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"ingress": [{"ports": p} for p in ports]}})).ingress


def test_a_rule_asked_again_gets_the_answer_it_gets_afresh(pods):
    kept = DeclaredPorts(pods)
    asked = rules()
    first = [kept.admits_rule(r) for r in asked]
    assert first == [kept.admits_rule(r) for r in asked]
    assert first == [DeclaredPorts(pods).admits_rule(r) for r in rules()]
    assert first[:2] == [True, False] and first[-1] is True


def test_further_ports_give_one_wider_set_per_set_of_ports(pods):
    declared = DeclaredPorts(pods)
    wider = declared.with_ports([(1, "TCP")])
    assert declared.with_ports({(1, "TCP")}) is wider
    assert declared.with_ports([(2, "TCP")]) is not wider
    (on_port_1,) = [r for r in rules() if r.ports and r.ports[0].port == 1]
    assert wider.admits_rule(on_port_1) and not declared.admits_rule(on_port_1)
