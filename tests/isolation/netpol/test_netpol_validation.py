"""NetworkPolicy defaulting and validation answer like kube-apiserver."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from isolation.netpol.validation import (
    default_network_policy,
    parse_field_path,
    stored_network_policy,
    unknown_fields,
    validate_network_policy,
)
from isolation.yamlio import load_documents, locate


def policy(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-web", "namespace": "shop"},
        "spec": spec,
    }


def peer_rule(*peers: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"from": list(peers)}]


def port_rule(*ports: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"ports": list(ports)}]


def test_a_policy_without_pod_selector_selects_every_pod_of_its_namespace():
    assert default_network_policy(policy())["spec"]["podSelector"] == {}


def test_defaulting_does_not_modify_the_input():
    original = policy(ingress=port_rule({"port": 80}))
    snapshot = copy.deepcopy(original)
    default_network_policy(original)
    assert original == snapshot


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, ["Ingress"]),
    ({"ingress": []}, ["Ingress"]),
    ({"egress": [{}]}, ["Ingress", "Egress"]),
    ({"egress": []}, ["Ingress"]),
    ({"egress": [{}], "policyTypes": []}, ["Ingress", "Egress"]),
    ({"egress": [{}], "policyTypes": ["Ingress"]}, ["Ingress"]),
    ({"policyTypes": ["Egress"]}, ["Egress"]),
])
def test_policy_types_are_defaulted_only_when_absent_or_empty(spec, expected):
    assert default_network_policy(policy(**spec))["spec"]["policyTypes"] == expected


def test_ports_without_protocol_default_to_tcp_in_both_directions():
    result = default_network_policy(policy(
        ingress=port_rule({"port": 80}, {"port": 53, "protocol": "UDP"}),
        egress=[{"ports": [{"port": "dns"}, None]}],
    ))
    assert [p["protocol"] for p in result["spec"]["ingress"][0]["ports"]] == ["TCP", "UDP"]
    assert [p["protocol"] for p in result["spec"]["egress"][0]["ports"]] == ["TCP", "TCP"]


def test_defaulting_twice_changes_nothing():
    once = default_network_policy(policy(egress=port_rule({"port": 80})))
    assert default_network_policy(once) == once


def test_the_stored_form_drops_what_the_api_server_omits():
    stored = stored_network_policy(policy(
        podSelector={"matchLabels": {}}, egress=[],
        ingress=[{"from": [], "ports": [{"port": 80, "endPort": None}]},
                 {"from": [{"podSelector": {}, "namespaceSelector": None}]}]))
    assert stored["spec"] == {
        "podSelector": {},
        "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}, {"from": [{"podSelector": {}}]}],
        "policyTypes": ["Ingress"],
    }


def test_a_valid_policy_has_no_issues():
    valid = policy(
        podSelector={"matchLabels": {"app.kubernetes.io/name": "web"},
                     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]},
                                          {"key": "legacy", "operator": "DoesNotExist"}]},
        ingress=[{
            "from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"a": "b"}}},
                     {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                     {"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]}}],
            "ports": [{"port": 80}, {"port": "http-alt", "protocol": "UDP"},
                      {"port": 8000, "endPort": 9000, "protocol": "SCTP"}, {"protocol": "UDP"}],
        }],
        egress=[{}],
        policyTypes=["Ingress", "Egress"],
    )
    assert validate_network_policy(valid) == []


def test_a_cidr_with_host_bits_is_accepted_as_the_api_server_does_by_default():
    assert validate_network_policy(policy(
        ingress=peer_rule({"ipBlock": {"cidr": "10.0.0.7/24", "except": ["10.0.0.8/30"]}}))) == []


QUALIFIED_NAME_PART = "name part must consist of alphanumeric characters"

INVALID_CASES = [
    # (name, policy, field, reason, detail fragment)
    ("protocol", policy(ingress=port_rule({"port": 80, "protocol": "XTP"})),
     "spec.ingress[0].ports[0].protocol", "FieldValueNotSupported",
     'supported values: "TCP", "UDP", "SCTP"'),
    ("port zero", policy(ingress=port_rule({"port": 0})),
     "spec.ingress[0].ports[0].port", "FieldValueInvalid", "must be between 1 and 65535, inclusive"),
    ("port too big", policy(egress=port_rule({"port": 65536})),
     "spec.egress[0].ports[0].port", "FieldValueInvalid", "must be between 1 and 65535, inclusive"),
    ("numeric string port", policy(ingress=port_rule({"port": "80"})),
     "spec.ingress[0].ports[0].port", "FieldValueInvalid", "must contain at least one letter (a-z)"),
    ("upper-case port name", policy(ingress=port_rule({"port": "HTTP"})),
     "spec.ingress[0].ports[0].port", "FieldValueInvalid",
     "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
    ("long port name", policy(ingress=port_rule({"port": "a-very-long-port-name"})),
     "spec.ingress[0].ports[0].port", "FieldValueInvalid", "must be no more than 15 characters"),
    ("double hyphen", policy(ingress=port_rule({"port": "web--api"})),
     "spec.ingress[0].ports[0].port", "FieldValueInvalid", "must not contain consecutive hyphens"),
    ("end port below port", policy(ingress=port_rule({"port": 90, "endPort": 80})),
     "spec.ingress[0].ports[0].endPort", "FieldValueInvalid", "must be greater than or equal to `port`"),
    ("end port with named port", policy(ingress=port_rule({"port": "http", "endPort": 80})),
     "spec.ingress[0].ports[0].endPort", "FieldValueInvalid",
     "may not be specified when `port` is non-numeric"),
    ("end port without port", policy(ingress=port_rule({"endPort": 80})),
     "spec.ingress[0].ports[0].endPort", "FieldValueInvalid",
     "may not be specified when `port` is not specified"),
    ("end port out of range", policy(ingress=port_rule({"port": 80, "endPort": 70000})),
     "spec.ingress[0].ports[0].endPort", "FieldValueInvalid", "must be between 1 and 65535"),
    ("bad cidr", policy(ingress=peer_rule({"ipBlock": {"cidr": "10.0.0.0/33"}})),
     "spec.ingress[0].from[0].ipBlock.cidr", "FieldValueInvalid", "must be a valid CIDR value"),
    ("cidr without length", policy(egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.1"}}]}]),
     "spec.egress[0].to[0].ipBlock.cidr", "FieldValueInvalid", "must be a valid CIDR value"),
    ("netmask notation", policy(ingress=peer_rule({"ipBlock": {"cidr": "10.0.0.0/255.0.0.0"}})),
     "spec.ingress[0].from[0].ipBlock.cidr", "FieldValueInvalid", "must be a valid CIDR value"),
    ("empty cidr", policy(ingress=peer_rule({"ipBlock": {"cidr": ""}})),
     "spec.ingress[0].from[0].ipBlock.cidr", "FieldValueRequired", ""),
    ("except outside cidr",
     policy(ingress=peer_rule({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}})),
     "spec.ingress[0].from[0].ipBlock.except[0]", "FieldValueInvalid",
     "must be a strict subset of `cidr`"),
    ("except equal to cidr",
     policy(ingress=peer_rule({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}})),
     "spec.ingress[0].from[0].ipBlock.except[0]", "FieldValueInvalid",
     "must be a strict subset of `cidr`"),
    ("except of another family",
     policy(ingress=peer_rule({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["fd00::/64"]}})),
     "spec.ingress[0].from[0].ipBlock.except[0]", "FieldValueInvalid",
     "must be a strict subset of `cidr`"),
    ("except not a cidr",
     policy(ingress=peer_rule({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["nope"]}})),
     "spec.ingress[0].from[0].ipBlock.except[0]", "FieldValueInvalid", "must be a valid CIDR value"),
    ("ipBlock and selector",
     policy(ingress=peer_rule({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}})),
     "spec.ingress[0].from[0]", "FieldValueForbidden",
     "may not specify both ipBlock and another peer"),
    ("empty peer", policy(ingress=peer_rule({})),
     "spec.ingress[0].from[0]", "FieldValueRequired", "must specify a peer"),
    ("In without values",
     policy(podSelector={"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}),
     "spec.podSelector.matchExpressions[0].values", "FieldValueRequired",
     "must be specified when `operator` is 'In' or 'NotIn'"),
    ("NotIn without values",
     policy(ingress=peer_rule({"namespaceSelector": {"matchExpressions": [
         {"key": "team", "operator": "NotIn"}]}})),
     "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values", "FieldValueRequired",
     "must be specified when `operator` is 'In' or 'NotIn'"),
    ("Exists with values",
     policy(podSelector={"matchExpressions": [{"key": "app", "operator": "Exists",
                                                "values": ["x"]}]}),
     "spec.podSelector.matchExpressions[0].values", "FieldValueForbidden",
     "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
    ("unknown operator",
     policy(podSelector={"matchExpressions": [{"key": "app", "operator": "Equals",
                                                "values": ["x"]}]}),
     "spec.podSelector.matchExpressions[0].operator", "FieldValueInvalid",
     "not a valid selector operator"),
    ("bad expression key",
     policy(podSelector={"matchExpressions": [{"key": "-app", "operator": "Exists"}]}),
     "spec.podSelector.matchExpressions[0].key", "FieldValueInvalid", QUALIFIED_NAME_PART),
    ("bad expression value",
     policy(podSelector={"matchExpressions": [{"key": "app", "operator": "In",
                                                "values": ["a b"]}]}),
     "spec.podSelector.matchExpressions[0].values[0]", "FieldValueInvalid",
     "a valid label must be an empty string"),
    ("bad label key prefix", policy(podSelector={"matchLabels": {"Example.com/app": "x"}}),
     "spec.podSelector.matchLabels", "FieldValueInvalid",
     "prefix part a lowercase RFC 1123 subdomain must consist"),
    ("label key with two slashes", policy(podSelector={"matchLabels": {"a/b/c": "x"}}),
     "spec.podSelector.matchLabels", "FieldValueInvalid",
     "with an optional DNS subdomain prefix and '/'"),
    ("label key name too long", policy(podSelector={"matchLabels": {"k" * 64: "x"}}),
     "spec.podSelector.matchLabels", "FieldValueInvalid", "name part must be no more than 63"),
    ("label value too long", policy(podSelector={"matchLabels": {"app": "v" * 64}}),
     "spec.podSelector.matchLabels", "FieldValueInvalid", "must be no more than 63 characters"),
    ("label value bad characters", policy(podSelector={"matchLabels": {"app": "web/1"}}),
     "spec.podSelector.matchLabels", "FieldValueInvalid", "a valid label must be an empty string"),
    ("policy type", policy(policyTypes=["Ingres"]),
     "spec.policyTypes[0]", "FieldValueNotSupported", 'supported values: "Ingress", "Egress"'),
    ("three policy types", policy(policyTypes=["Ingress", "Egress", "Ingress"]),
     "spec.policyTypes", "FieldValueInvalid", "may not specify more than two policyTypes"),
    ("upper-case name", {**policy(), "metadata": {"name": "Allow-Web"}},
     "metadata.name", "FieldValueInvalid", "a lowercase RFC 1123 subdomain must consist"),
    ("missing name", {**policy(), "metadata": {}},
     "metadata.name", "FieldValueRequired", "name or generateName is required"),
    ("bad namespace", {**policy(), "metadata": {"name": "a", "namespace": "my.ns"}},
     "metadata.namespace", "FieldValueInvalid", "a lowercase RFC 1123 label must consist"),
    ("bad metadata label", {**policy(), "metadata": {"name": "a", "labels": {"x": "a b"}}},
     "metadata.labels", "FieldValueInvalid", "a valid label must be an empty string"),
]


@pytest.mark.parametrize(("policy_obj", "field", "reason", "detail"),
                         [case[1:] for case in INVALID_CASES],
                         ids=[case[0] for case in INVALID_CASES])
def test_invalid_policy_is_rejected_with_the_api_server_field_and_reason(
        policy_obj, field, reason, detail):
    issues = validate_network_policy(policy_obj)
    matching = [i for i in issues if i.field == field and i.reason == reason]
    assert matching, f"expected {field} {reason}, got {[str(i) for i in issues]}"
    assert any(detail in i.detail for i in matching)


def test_unsupported_protocol_message_reads_like_kubectl():
    [issue] = validate_network_policy(policy(ingress=port_rule({"port": 80, "protocol": "XTP"})))
    assert str(issue) == ('spec.ingress[0].ports[0].protocol: Unsupported value: "XTP": '
                          'supported values: "TCP", "UDP", "SCTP"')
    assert issue.value == "XTP"


def test_invalid_name_message_carries_the_value_and_the_pattern():
    [issue] = validate_network_policy({**policy(), "metadata": {"name": "Bad_Name"}})
    assert issue.message.startswith('Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain')
    assert issue.message.endswith(
        "(e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def test_required_message_has_no_value():
    [issue] = validate_network_policy(policy(ingress=peer_rule({})))
    assert issue.message == "Required value: must specify a peer"


def test_every_problem_of_a_policy_is_reported():
    issues = validate_network_policy(policy(
        ingress=[{"ports": [{"port": 0, "protocol": "ICMP"}], "from": [{}]}],
        policyTypes=["Sideways"],
    ))
    assert [i.field for i in issues] == [
        "spec.ingress[0].ports[0].protocol", "spec.ingress[0].ports[0].port",
        "spec.ingress[0].from[0]", "spec.policyTypes[0]",
    ]


@pytest.mark.parametrize(("obj", "field"), [
    (policy(ingress=port_rule({"port": 80.5})), "spec.ingress[0].ports[0].port"),
    (policy(ingress=port_rule({"port": True})), "spec.ingress[0].ports[0].port"),
    (policy(ingress=port_rule({"port": 80, "endPort": "90"})), "spec.ingress[0].ports[0].endPort"),
    (policy(podSelector={"matchLabels": {"enabled": True}}), "spec.podSelector.matchLabels[enabled]"),
    (policy(ingress={"from": []}), "spec.ingress"),
    (policy(ingress=[{"from": {"podSelector": {}}}]), "spec.ingress[0].from"),
    ({**policy(), "spec": "everything"}, "spec"),
])
def test_values_of_the_wrong_type_are_reported_alone(obj, field):
    issues = validate_network_policy(obj)
    assert [(i.field, i.reason) for i in issues] == [(field, "FieldValueTypeInvalid")]


@pytest.mark.parametrize("garbage", [None, [], "text", 5,
                                     {"spec": {"ingress": [None, {"from": [None]}]}},
                                     {"metadata": None, "spec": {"ingress": [{"ports": [None]}]}}])
def test_validation_never_raises_on_odd_input(garbage):
    assert isinstance(validate_network_policy(garbage), list)


def test_unknown_fields_are_flagged_with_their_path():
    obj = policy(ingress=[{"from": [{"podSelector": {}, "namespaceSelectr": {}}], "port": [80]}])
    obj["spce"] = {}
    issues = unknown_fields(obj)
    assert sorted(i.field for i in issues) == [
        "spce", "spec.ingress[0].from[0].namespaceSelectr", "spec.ingress[0].port"]
    assert all(i.reason == "FieldValueUnknown" for i in issues)
    assert 'unknown field "spce"' in [i.message for i in issues]


def test_unknown_fields_accepts_what_kubectl_prints():
    obj = policy(ingress=[{"from": [{"podSelector": {}}]}])
    obj["metadata"].update({
        "uid": "3c0e", "resourceVersion": "12", "generation": 1,
        "creationTimestamp": "2024-01-01T00:00:00Z", "labels": {"a": "b"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
                           "fieldsV1": {"f:spec": {}}, "time": "2024-01-01T00:00:00Z"}],
    })
    assert unknown_fields(obj) == []


@pytest.mark.parametrize(("path", "steps"), [
    ("spec.ingress[0].ports[1].port", ("spec", "ingress", 0, "ports", 1, "port")),
    ("metadata.name", ("metadata", "name")),
    ("spec.podSelector.matchLabels[app.kubernetes.io/name]",
     ("spec", "podSelector", "matchLabels", "app.kubernetes.io/name")),
    ("spec.policyTypes[10]", ("spec", "policyTypes", 10)),
])
def test_field_paths_split_into_keys_and_indexes(path, steps):
    assert parse_field_path(path) == steps


def test_an_issue_points_at_its_yaml_line():
    text = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: 80
    - port: 70000
"""
    [document] = load_documents(text)
    [issue] = validate_network_policy(document.data)
    assert locate(document.node, parse_field_path(issue.field)) == (10, 13)
