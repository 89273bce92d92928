"""AdminNetworkPolicy / BaselineAdminNetworkPolicy validation: what the CRDs refuse, with the
API server's field paths; and the sentences of `describe`."""

from __future__ import annotations

import copy

import pytest

from isolation.adminnetpol.describe import describe_admin_policy
from isolation.adminnetpol.model import parse_admin_policy
from isolation.adminnetpol.validation import (
    default_admin_policy,
    defaulted_and_issues,
    unknown_fields,
    validate_admin_policy,
)
from tests.isolation.adminnetpol.houses import anp, banp, team

METADATA = anp("deny-metadata", 10, {"namespaces": {}}, egress=[
    {"name": "block", "action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]}])


def fields(obj) -> list[str]:
    return [issue.field for issue in validate_admin_policy(obj)]


def with_spec(**changes):
    obj = copy.deepcopy(METADATA)
    obj["spec"].update(changes)
    return obj


def test_a_valid_policy_has_no_issues_and_ports_default_to_tcp():
    obj = with_spec(ingress=[{"action": "Allow", "from": [{"namespaces": {}}],
                              "ports": [{"portNumber": {"port": 80}},
                                        {"portRange": {"start": 1, "end": 2}}]}])
    defaulted, issues = defaulted_and_issues(obj)
    assert issues == []
    ports = defaulted["spec"]["ingress"][0]["ports"]
    assert ports[0]["portNumber"]["protocol"] == ports[1]["portRange"]["protocol"] == "TCP"
    assert "protocol" not in obj["spec"]["ingress"][0]["ports"][0]["portNumber"]
    assert default_admin_policy(defaulted) == defaulted


@pytest.mark.parametrize(("priority", "message"), [
    (-1, "spec.priority in body should be greater than or equal to 0"),
    (1001, "spec.priority in body should be less than or equal to 1000"),
])
def test_the_priority_is_from_0_to_1000(priority, message):
    issues = validate_admin_policy(with_spec(priority=priority))
    assert [(i.field, i.detail) for i in issues] == [("spec.priority", message)]
    assert validate_admin_policy(with_spec(priority=0)) == []
    assert validate_admin_policy(with_spec(priority=1000)) == []


def test_an_admin_policy_needs_a_priority_and_a_subject():
    obj = copy.deepcopy(METADATA)
    del obj["spec"]["priority"]
    del obj["spec"]["subject"]
    assert fields(obj) == ["spec.priority", "spec.subject"]


def test_the_subject_sets_exactly_one_selector():
    both = with_spec(subject={"namespaces": {}, "pods": {"namespaceSelector": {},
                                                          "podSelector": {}}})
    neither = with_spec(subject={})
    assert [(i.field, i.reason) for i in validate_admin_policy(both)] == [
        ("spec.subject", "FieldValueTooMany")]
    assert fields(neither) == ["spec.subject"]
    assert fields(with_spec(subject={"pods": {"podSelector": {}}})) == [
        "spec.subject.pods.namespaceSelector"]


def test_each_peer_sets_exactly_one_field_and_ingress_has_no_networks():
    obj = with_spec(egress=[{"action": "Deny", "to": [{"namespaces": {}, "nodes": {}}, {}]}],
                    ingress=[{"action": "Deny", "from": [{"networks": ["10.0.0.0/8"]}]}])
    assert fields(obj)[:3] == ["spec.ingress[0].from[0]", "spec.egress[0].to[0]",
                               "spec.egress[0].to[1]"]
    assert [i.field for i in unknown_fields(obj)] == ["spec.ingress[0].from[0].networks"]


def test_rules_need_a_known_action_and_at_least_one_peer():
    obj = with_spec(egress=[{"action": "Reject", "to": [{"namespaces": {}}]},
                            {"to": [{"namespaces": {}}]},
                            {"action": "Allow", "to": []}, {"action": "Allow"}])
    issues = validate_admin_policy(obj)
    assert [(i.field, i.reason) for i in issues] == [
        ("spec.egress[0].action", "FieldValueNotSupported"),
        ("spec.egress[1].action", "FieldValueRequired"),
        ("spec.egress[2].to", "FieldValueInvalid"),
        ("spec.egress[3].to", "FieldValueRequired")]
    assert 'supported values: "Allow", "Deny", "Pass"' in issues[0].message


def test_a_rule_name_has_at_most_100_characters():
    obj = with_spec(egress=[{"name": "x" * 101, "action": "Deny",
                             "to": [{"namespaces": {}}]}])
    assert [(i.field, i.reason) for i in validate_admin_policy(obj)] == [
        ("spec.egress[0].name", "FieldValueTooLong")]


@pytest.mark.parametrize(("port", "field"), [
    ({"portNumber": {"port": 0}}, "spec.ingress[0].ports[0].portNumber.port"),
    ({"portNumber": {"port": 65536}}, "spec.ingress[0].ports[0].portNumber.port"),
    ({"portNumber": {"port": 80, "protocol": "ICMP"}},
     "spec.ingress[0].ports[0].portNumber.protocol"),
    ({"portRange": {"start": 90, "end": 80}}, "spec.ingress[0].ports[0].portRange"),
    ({"portRange": {"start": 80, "end": 80}}, "spec.ingress[0].ports[0].portRange"),
    ({"portRange": {"start": 80}}, "spec.ingress[0].ports[0].portRange.end"),
    ({"namedPort": "not_a_name"}, "spec.ingress[0].ports[0].namedPort"),
    ({"namedPort": "web", "portNumber": {"port": 80}}, "spec.ingress[0].ports[0]"),
    ({}, "spec.ingress[0].ports[0]"),
])
def test_bad_ports_are_refused_at_their_field(port, field):
    obj = with_spec(ingress=[{"action": "Deny", "from": [{"namespaces": {}}],
                              "ports": [port]}])
    assert fields(obj) == [field]


def test_a_port_range_start_must_be_below_its_end():
    obj = with_spec(ingress=[{"action": "Deny", "from": [{"namespaces": {}}],
                              "ports": [{"portRange": {"start": 90, "end": 80}}]}])
    assert validate_admin_policy(obj)[0].detail == "Start port must be less than End port"


@pytest.mark.parametrize("network", ["10.0.0.1/8", "10.0.0.0", "not-a-cidr", "10.0.0.0/33"])
def test_networks_are_cidrs_without_host_bits(network):
    obj = with_spec(egress=[{"action": "Deny", "to": [{"networks": [network]}]}])
    assert fields(obj) == ["spec.egress[0].to[0].networks[0]"]


def test_networks_have_at_least_one_and_at_most_25_entries():
    many = [f"10.0.{n}.0/24" for n in range(26)]
    assert fields(with_spec(egress=[{"action": "Deny", "to": [{"networks": many}]}])) == [
        "spec.egress[0].to[0].networks"]
    assert fields(with_spec(egress=[{"action": "Deny", "to": [{"networks": []}]}])) == [
        "spec.egress[0].to[0].networks"]


def test_selectors_are_validated_like_label_selectors():
    obj = with_spec(subject={"namespaces": {"matchExpressions": [
        {"key": "team", "operator": "In"}]}})
    assert fields(obj) == ["spec.subject.namespaces.matchExpressions[0].values"]


def test_wrong_types_are_reported_alone():
    obj = with_spec(priority="high", subject="everything")
    assert [(i.field, i.reason) for i in validate_admin_policy(obj)] == [
        ("spec.priority", "FieldValueTypeInvalid"), ("spec.subject", "FieldValueTypeInvalid")]


def test_the_baseline_is_named_default_and_has_no_pass_and_no_priority():
    wrong_name = banp({"namespaces": {}}, name="baseline")
    assert [i.field for i in validate_admin_policy(wrong_name)] == ["metadata.name"]
    passing = banp({"namespaces": {}}, egress=[{"action": "Pass", "to": [{"namespaces": {}}]}])
    assert fields(passing) == ["spec.egress[0].action"]
    prioritised = banp({"namespaces": {}})
    prioritised["spec"]["priority"] = 3
    assert [i.field for i in unknown_fields(prioritised)] == ["spec.priority"]
    assert validate_admin_policy(banp({"namespaces": team("red")})) == []


def test_the_model_keeps_evaluation_order_and_actions():
    policy = parse_admin_policy(default_admin_policy(with_spec(ingress=[
        {"name": "web", "action": "Pass", "from": [{"pods": {"namespaceSelector": {},
                                                             "podSelector": team("red")}}],
         "ports": [{"namedPort": "http"}, {"portRange": {"start": 8000, "end": 9000}}]}])))
    assert (policy.kind, policy.tier, policy.priority) == ("AdminNetworkPolicy", "Admin", 10)
    assert [r.action for r in policy.ingress] == ["Pass"]
    assert policy.ingress[0].ports[1].matches(8080, "TCP", None)
    assert not policy.ingress[0].ports[1].matches(8080, "UDP", None)
    assert policy.ingress[0].ports[0].matches(81, "UDP", {"http": ((81, "UDP"),)})
    assert str(policy.egress[0].peers[0].networks[0]) == "169.254.169.254/32"


def test_rules_read_as_sentences():
    text = describe_admin_policy(METADATA)
    assert text.title == "AdminNetworkPolicy deny-metadata (priority 10)"
    assert text.egress[0].sentence == ("Deny egress to 169.254.169.254/32 from every pod of "
                                       "every namespace, before any project policy.")
    passing = describe_admin_policy(anp("p", 1, {"pods": {"namespaceSelector": team("red"),
                                                          "podSelector": {}}},
                                        ingress=[{"action": "Pass", "from": [
                                            {"namespaces": team("blue")}],
                                            "ports": [{"portNumber": {"port": 80}},
                                                      {"namedPort": "dns"}]}]))
    assert passing.ingress[0].sentence == (
        "Pass ingress from every pod of namespaces with team=blue on TCP 80 or the port named "
        "dns to every pod of namespaces with team=red on to the project policies, skipping "
        "every lower-priority admin policy.")
    baseline = describe_admin_policy(banp({"namespaces": {}}, egress=[
        {"action": "Deny", "to": [{"nodes": {}}, {"pods": {"namespaceSelector": {},
                                                         "podSelector": team("db")}}]}]))
    assert baseline.title == "BaselineAdminNetworkPolicy default"
    assert baseline.egress[0].sentence == (
        "Deny egress to every node or pods with team=db of every namespace from every pod of "
        "every namespace, unless a project policy selects the pod.")
