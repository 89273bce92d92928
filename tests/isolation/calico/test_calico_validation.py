"""Calico objects are checked with field paths, as Calico's validator refuses them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from isolation.calico.model import parse_policy
from isolation.calico.validation import default_calico_policy, port_error, validate_object


def policy(api: str = "projectcalico.org/v3", kind: str = "NetworkPolicy",
           **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "p"}
    if kind == "NetworkPolicy":
        metadata["namespace"] = "shop"
    return {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec}


GOOD = policy(
    selector="app == 'web'", order=10.5, types=["Ingress", "Egress"],
    ingress=[{"action": "Allow", "protocol": "TCP",
              "source": {"selector": "has(app)", "namespaceSelector": "team == 'a'",
                         "serviceAccounts": {"names": ["sa"], "selector": "all()"}},
              "destination": {"ports": [80, "8000:8100", "http"], "notPorts": ["81"]}}],
    egress=[{"action": "Deny", "destination": {"nets": ["169.254.169.254/32", "10.0.0.1"],
                                               "notNets": ["fd00::/8"]}},
            {"action": "Pass"}, {"action": "Log", "protocol": 17}])


@pytest.mark.parametrize("api", ["projectcalico.org/v3", "crd.projectcalico.org/v1"])
def test_a_valid_policy_of_either_api_group_has_no_issues(api):
    obj = copy.deepcopy(GOOD)
    obj["apiVersion"] = api
    assert validate_object(obj) == []


@pytest.mark.parametrize(("spec", "field", "fragment"), [
    ({"selector": "app = 'x'"}, "spec.selector", "unexpected character '='"),
    ({"ingress": [{"action": "Allow", "source": {"selector": "has("}}]},
     "spec.ingress[0].source.selector", "expected a label key in has()"),
    ({"ingress": [{"action": "Allow", "source": {"notSelector": "a in {"}}]},
     "spec.ingress[0].source.notSelector", "position"),
    ({"egress": [{"action": "Allow", "destination": {"nets": ["10.0.0.0/33"]}}]},
     "spec.egress[0].destination.nets[0]", "must be a CIDR"),
    ({"egress": [{"action": "Allow", "destination": {"notNets": ["example.com"]}}]},
     "spec.egress[0].destination.notNets[0]", "must be a CIDR"),
    ({"egress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": [70000]}}]},
     "spec.egress[0].destination.ports[0]", "0-65535"),
    ({"egress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": ["90:80"]}}]},
     "spec.egress[0].destination.ports[0]", "low <= high"),
    ({"egress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": ["Http"]}}]},
     "spec.egress[0].destination.ports[0]", "named port"),
    ({"egress": [{"action": "Allow", "destination": {"ports": [80]}}]},
     "spec.egress[0].destination.ports", "ports need protocol"),
    ({"egress": [{"action": "Allow", "protocol": "ICMP", "destination": {"ports": [80]}}]},
     "spec.egress[0].destination.ports", "ports need protocol"),
    ({"egress": [{"action": "Reject"}]}, "spec.egress[0].action", "Unsupported value"),
    ({"egress": [{}]}, "spec.egress[0].action", "Required value"),
    ({"egress": [{"action": "Allow", "protocol": "HTTP"}]}, "spec.egress[0].protocol",
     "Unsupported value"),
    ({"egress": [{"action": "Allow", "protocol": 300}]}, "spec.egress[0].protocol", "1-255"),
    ({"egress": [{"action": "Allow", "ipVersion": 5}]}, "spec.egress[0].ipVersion", "Unsupported"),
    ({"egress": [{"action": "Allow", "icmp": {"type": 8}}]}, "spec.egress[0].icmp", "ICMP"),
    ({"types": ["Ingress", "Ingress"]}, "spec.types[1]", "Duplicate value"),
    ({"types": ["ingress"]}, "spec.types[0]", "Unsupported value"),
    ({"tier": "nope"}, "spec.tier", "no Tier of this name exists"),
    ({"order": "first"}, "spec.order", "must be of type number"),
    ({"ingress": {"action": "Allow"}}, "spec.ingress", "must be of type array"),
    ({"egres": []}, "spec.egres", "unknown field"),
])
def test_bad_fields_are_reported_at_their_path(spec, field, fragment):
    issues = validate_object(policy(**spec))
    assert any(i.field == field and fragment in i.message for i in issues), issues


def test_a_known_tier_is_accepted():
    assert validate_object(policy(tier="security"), known_tiers={"security"}) == []
    assert validate_object(policy(tier="kube-admin")) == []


@pytest.mark.parametrize(("spec", "field"), [
    ({"preDNAT": True}, "spec.applyOnForward"),
    ({"preDNAT": True, "applyOnForward": True, "doNotTrack": True}, "spec.doNotTrack"),
    ({"preDNAT": True, "applyOnForward": True, "egress": [{"action": "Deny"}]}, "spec.egress"),
    ({"doNotTrack": True}, "spec.applyOnForward"),
])
def test_pre_dnat_and_do_not_track_rules(spec, field):
    issues = validate_object(policy(kind="GlobalNetworkPolicy", **spec))
    assert field in [i.field for i in issues]


def test_global_only_fields_are_unknown_on_a_namespaced_policy():
    issues = validate_object(policy(preDNAT=True))
    assert [i.field for i in issues] == ["spec.preDNAT"]


@pytest.mark.parametrize(("obj", "field"), [
    ({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"}, "apiVersion"),
    ({"apiVersion": "projectcalico.org/v3", "kind": "Profile"}, "kind"),
    ({"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {}}, "metadata.name"),
    ({"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "Bad_Name"}},
     "metadata.name"),
    ({"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "t"},
      "spec": {"defaultAction": "Allow"}}, "spec.defaultAction"),
    ({"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "default"},
      "spec": {"order": 5}}, "spec.order"),
    ({"apiVersion": "projectcalico.org/v3", "kind": "HostEndpoint", "metadata": {"name": "h"},
      "spec": {"interfaceName": "eth0"}}, "spec.node"),
    ({"apiVersion": "projectcalico.org/v3", "kind": "HostEndpoint", "metadata": {"name": "h"},
      "spec": {"node": "n1"}}, "spec.expectedIPs"),
    ({"apiVersion": "projectcalico.org/v3", "kind": "HostEndpoint", "metadata": {"name": "h"},
      "spec": {"node": "n1", "expectedIPs": ["10.0.0.300"]}}, "spec.expectedIPs[0]"),
])
def test_other_kinds_are_checked_too(obj, field):
    assert field in [i.field for i in validate_object(obj)]


@pytest.mark.parametrize(("value", "ok"), [
    (0, True), (65535, True), (65536, False), ("443", True), ("1:2", True), ("2:1", False),
    ("a:b", False), ("https", True), ("-x", False), ("toolongportname1", False), ("123", True),
])
def test_port_values(value, ok):
    assert (port_error(value) is None) is ok


@pytest.mark.parametrize(("spec", "types"), [
    ({}, ["Ingress"]),
    ({"ingress": [{"action": "Allow"}]}, ["Ingress"]),
    ({"egress": [{"action": "Allow"}]}, ["Egress"]),
    ({"ingress": [], "egress": [{"action": "Allow"}]}, ["Egress"]),
    ({"ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}]}, ["Ingress", "Egress"]),
    ({"types": ["Egress"], "ingress": [{"action": "Allow"}]}, ["Egress"]),
])
def test_types_are_defaulted_like_calico_does(spec, types):
    defaulted = default_calico_policy(policy(**spec))
    assert defaulted["spec"]["types"] == types
    assert defaulted["spec"]["tier"] == "default"
    assert sorted(parse_policy(policy(**spec)).types) == sorted(types)
