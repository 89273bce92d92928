"""Host endpoints and pre-DNAT policy (for traffic entering through NodePorts and load
balancers), and what the matrix may compute once per label class."""

from __future__ import annotations

from typing import Any

from isolation.calico.endpoint import Endpoint
from isolation.calico.evaluate import CalicoPolicySet

V3 = "projectcalico.org/v3"
WEB = Endpoint.pod("shop", {"app": "web"}, ip="10.0.1.1", named_ports=(("http", 8080, "TCP"),))
DB = Endpoint.pod("shop", {"app": "db"}, ip="10.0.1.2")
OUTSIDE = Endpoint.address("203.0.113.9")


def gnp(name: str, selector: str = "all()", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": name},
            "spec": {"selector": selector, **spec}}


def deny(**entity: Any) -> dict[str, Any]:
    return {"action": "Deny", **entity}


def policy_set(*objects: dict[str, Any]) -> CalicoPolicySet:
    result = CalicoPolicySet.from_objects(objects)
    assert not result.problems, result.problems
    return result


# -- host endpoints and pre-DNAT policy -------------------------------------------------------

HOST = {"apiVersion": V3, "kind": "HostEndpoint",
        "metadata": {"name": "node-1-eth0", "labels": {"role": "edge"}},
        "spec": {"node": "node-1", "interfaceName": "eth0", "expectedIPs": ["192.168.0.11"]}}


def test_host_endpoints_are_read_and_listed():
    policies = policy_set(HOST)
    [host] = policies.host_endpoints
    assert (host.name, host.node, str(host.expected_ips[0])) == (
        "node-1-eth0", "node-1", "192.168.0.11")


def test_pre_dnat_policy_filters_clients_on_the_node_port_and_has_no_default_deny():
    policies = policy_set(HOST, gnp(
        "nodeports", selector="role == 'edge'", preDNAT=True, applyOnForward=True, order=10,
        ingress=[{"action": "Allow", "protocol": "TCP",
                  "source": {"nets": ["203.0.113.0/24"]}, "destination": {"ports": [30080]}},
                 {"action": "Deny", "protocol": "TCP", "destination": {"ports": [30080]}}]))
    [host] = policies.host_endpoints
    allowed = policies.decide_pre_dnat(host, OUTSIDE, 30080, "TCP")
    assert (allowed.action, allowed.rule_index) == ("Allow", 0)
    denied = policies.decide_pre_dnat(host, Endpoint.address("198.51.100.1"), 30080, "TCP")
    assert (denied.action, denied.rule_index) == ("Deny", 1)
    assert policies.decide_pre_dnat(host, OUTSIDE, 30443, "TCP") is None


def test_pre_dnat_policy_applies_only_to_the_host_endpoints_it_selects():
    policies = policy_set(HOST, gnp("other", selector="role == 'core'", preDNAT=True,
                                    applyOnForward=True, ingress=[deny()]))
    assert policies.decide_pre_dnat(policies.host_endpoints[0], OUTSIDE, 80, "TCP") is None


# -- what the matrix may compute once per label class -----------------------------------------

def test_a_decision_is_the_same_for_a_label_class_unless_rules_look_at_ips_or_port_names():
    by_labels = policy_set(gnp("p", ingress=[deny(source={"selector": "app == 'db'"})]))
    assert by_labels.same_for_label_class("ingress", WEB, DB, "TCP")
    by_ips = policy_set(gnp("p", ingress=[deny(source={"nets": ["10.0.1.0/24"]})]))
    assert not by_ips.same_for_label_class("ingress", WEB, DB, "TCP")
    by_name = policy_set(gnp("p", ingress=[deny(protocol="TCP", destination={"ports": ["http"]})]))
    assert not by_name.same_for_label_class("ingress", WEB, DB, "TCP")
    assert by_name.same_for_label_class("ingress", WEB, DB, "UDP")


def test_the_matrix_learns_which_labels_and_networks_the_policies_read():
    policies = policy_set(gnp("p", selector="has(app) && pcns.team == 'a'",
                              namespaceSelector="env == 'prod'", ingress=[
                                  deny(source={"notSelector": "tier in {'x'}",
                                               "namespaceSelector": "zone == 'z'"}),
                                  deny(source={"nets": ["10.0.0.0/8"],
                                                "notNets": ["10.1.0.0/16"]})]))
    pods, namespaces = policies.label_keys()
    assert pods == {"app", "pcns.team", "tier"}
    assert namespaces == {"env", "zone", "team"}
    assert sorted(str(n) for n in policies.networks()) == ["10.0.0.0/8", "10.1.0.0/16"]
