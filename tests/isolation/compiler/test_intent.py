"""Validation of allowlist entries and the intent objects/patches the console writes."""

from __future__ import annotations

import pytest

from isolation.compiler.intent import (
    entries_invalidated_by_move,
    entry_object,
    is_port_name,
    move_project_patch,
    namespaces_affected_by_move,
    project_isolation_patch,
    validate_entry,
    validate_move,
    workspace_isolation_patch,
)
from tests.golden.scenarios import (
    add_entry,
    add_namespace,
    cluster,
    entry,
    ip_peer,
    ns_peer,
    svc_peer,
)
from tests.isolation.netpol.language import said_in_chinese

VALID = [
    entry("shop", "from-billing", ingress=[{"from": [ns_peer("billing")]}]),
    entry("shop", "to-api", egress=[{"to": [svc_peer("billing", "api")]}]),
    entry("shop", "self", ingress=[{"from": [ns_peer("shop")]}]),
    entry("shop", "cidr", egress=[{"to": [ip_peer("10.0.0.0/8", "10.1.0.0/16", "10.2.3.0/24")],
                                   "ports": [{"port": 443}, {"port": 53, "protocol": "UDP"},
                                             {"port": 8000, "endPort": 8080},
                                             {"port": "https", "protocol": "SCTP"},
                                             {"protocol": "UDP"}]}]),
    entry("shop", "v6", ingress=[{"from": [ip_peer("2001:db8::/32", "2001:db8:1::/48")]}]),
    entry("shop", "both", ingress=[{"from": [ns_peer("audit")]}],
          egress=[{"to": [ns_peer("audit")]}], policyTypes=["Ingress", "Egress"]),
]


@pytest.mark.parametrize("candidate", VALID, ids=[e["metadata"]["name"] for e in VALID])
def test_valid_entries_have_no_issues(candidate):
    assert validate_entry(candidate, cluster()) == []


def _rule(peers, ports=None, direction="ingress"):
    rule = {"from" if direction == "ingress" else "to": peers}
    if ports is not None:
        rule["ports"] = ports
    return entry("shop", "e", **{direction: [rule]})


INVALID = [
    ("cidr-not-parseable", _rule([ip_peer("10.0.0.0/33")]), "spec.ingress[0].from[0].ipBlock.cidr"),
    ("cidr-bare-address", _rule([ip_peer("10.0.0.1")]), "spec.ingress[0].from[0].ipBlock.cidr"),
    ("cidr-missing", _rule([{"ipBlock": {}}]), "spec.ingress[0].from[0].ipBlock.cidr"),
    ("except-outside", _rule([ip_peer("10.0.0.0/16", "10.1.0.0/24")]),
     "spec.ingress[0].from[0].ipBlock.except[0]"),
    ("except-equal", _rule([ip_peer("10.0.0.0/16", "10.0.0.0/16")]),
     "spec.ingress[0].from[0].ipBlock.except[0]"),
    ("except-other-family", _rule([ip_peer("10.0.0.0/8", "2001:db8::/64")]),
     "spec.ingress[0].from[0].ipBlock.except[0]"),
    ("port-zero", _rule([ns_peer("billing")], [{"port": 0}]), "spec.ingress[0].ports[0].port"),
    ("port-too-big", _rule([ns_peer("billing")], [{"port": 65536}]),
     "spec.ingress[0].ports[0].port"),
    ("port-digits-as-text", _rule([ns_peer("billing")], [{"port": "80"}]),
     "spec.ingress[0].ports[0].port"),
    ("port-bool", _rule([ns_peer("billing")], [{"port": True}]), "spec.ingress[0].ports[0].port"),
    ("port-bad-name", _rule([ns_peer("billing")], [{"port": "Web_Port"}]),
     "spec.ingress[0].ports[0].port"),
    ("end-port-below", _rule([ns_peer("billing")], [{"port": 90, "endPort": 80}]),
     "spec.ingress[0].ports[0].endPort"),
    ("end-port-named", _rule([ns_peer("billing")], [{"port": "http", "endPort": 90}]),
     "spec.ingress[0].ports[0].endPort"),
    ("protocol", _rule([ns_peer("billing")], [{"port": 80, "protocol": "ICMP"}]),
     "spec.ingress[0].ports[0].protocol"),
    ("protocol-lowercase", _rule([ns_peer("billing")], [{"port": 80, "protocol": "tcp"}]),
     "spec.ingress[0].ports[0].protocol"),
    ("service-missing", _rule([svc_peer("billing", "nope")]), "spec.ingress[0].from[0].service.name"),
    ("service-no-selector", _rule([svc_peer("billing", "external-db")]),
     "spec.ingress[0].from[0].service.name"),
    ("service-no-namespace", _rule([{"service": {"name": "api"}}]),
     "spec.ingress[0].from[0].service.namespace"),
    ("service-other-workspace", _rule([svc_peer("web", "frontend")]),
     "spec.ingress[0].from[0].service.namespace"),
    ("namespace-other-workspace", _rule([ns_peer("web")]), "spec.ingress[0].from[0].namespace.name"),
    ("namespace-without-workspace", _rule([ns_peer("kube-system")]),
     "spec.ingress[0].from[0].namespace.name"),
    ("namespace-missing", _rule([ns_peer("ghost")]), "spec.ingress[0].from[0].namespace.name"),
    ("two-peer-kinds", _rule([{**ns_peer("billing"), **ip_peer("10.0.0.0/8")}]),
     "spec.ingress[0].from[0]"),
    ("empty-peer", _rule([{}]), "spec.ingress[0].from[0]"),
    ("unknown-peer-field", _rule([{"podSelector": {}}]), "spec.ingress[0].from[0].podSelector"),
    ("no-peers", _rule([]), "spec.ingress[0].from"),
    ("no-peers-egress", _rule([], direction="egress"), "spec.egress[0].to"),
    ("wrong-peer-key", entry("shop", "e", ingress=[{"to": [ns_peer("billing")]}]),
     "spec.ingress[0].to"),
    ("no-rules", entry("shop", "e"), "spec"),
    ("rules-not-list", entry("shop", "e", ingress={"from": []}), "spec.ingress"),
    ("reserved-name", entry("shop", "network-isolate", ingress=[{"from": [ns_peer("audit")]}]),
     "metadata.name"),
    ("bad-name", entry("shop", "Allow_All", ingress=[{"from": [ns_peer("audit")]}]),
     "metadata.name"),
    ("long-name", entry("shop", "a" * 250, ingress=[{"from": [ns_peer("audit")]}]),
     "metadata.name"),
    ("project-missing", entry("ghost", "e", ingress=[{"from": [ip_peer("10.0.0.0/8")]}]),
     "metadata.namespace"),
    ("project-without-workspace", entry("default", "e", ingress=[{"from": [ip_peer(
        "10.0.0.0/8")]}]), "metadata.namespace"),
]


@pytest.mark.parametrize("candidate, field", [(e, f) for _, e, f in INVALID],
                         ids=[name for name, _, _ in INVALID])
def test_invalid_entries_are_rejected_at_the_field(candidate, field):
    issues = validate_entry(candidate, cluster())
    assert field in [issue.field for issue in issues], issues
    assert all(issue.message for issue in issues)


def test_every_problem_of_an_entry_is_reported_at_once():
    candidate = entry("shop", "e", ingress=[{"from": [ip_peer("nope/8"), ns_peer("web")],
                                             "ports": [{"port": 0, "protocol": "XTP"}]}])
    fields = [issue.field for issue in validate_entry(candidate, cluster())]
    assert fields == ["spec.ingress[0].from[0].ipBlock.cidr",
                      "spec.ingress[0].from[1].namespace.name",
                      "spec.ingress[0].ports[0].protocol", "spec.ingress[0].ports[0].port"]


@pytest.mark.parametrize("garbage", [None, "text", {"metadata": "x"}, {"metadata": {}}])
def test_garbage_is_an_issue_not_an_exception(garbage):
    assert validate_entry(garbage, cluster())


@pytest.mark.parametrize("name, ok", [
    ("http", True), ("dns-tcp", True), ("h2c", True), ("a" * 15, True), ("a" * 16, False),
    ("8080", False), ("-http", False), ("http--alt", False), ("HTTP", False), ("", False),
])
def test_port_names_follow_iana_service_name_rules(name, ok):
    assert is_port_name(name) is ok


def test_entry_object_is_a_namespace_network_policy():
    obj = entry_object("shop", "to-api", {"egress": [{"to": [svc_peer("billing", "api")]}]})
    assert obj["apiVersion"] == "network.kubesphere.io/v1alpha1"
    assert obj["kind"] == "NamespaceNetworkPolicy"
    assert validate_entry(obj, cluster()) == []


def test_intent_patches_use_kubesphere_fields():
    assert workspace_isolation_patch(True) == {"spec": {"networkIsolation": True}}
    assert workspace_isolation_patch(False) == {"spec": {"networkIsolation": False}}
    assert project_isolation_patch(True) == {"metadata": {"annotations": {
        "kubesphere.io/network-isolate": "enabled"}}}
    assert project_isolation_patch(False) == {"metadata": {"annotations": {
        "kubesphere.io/network-isolate": None}}}
    assert move_project_patch("team-b") == {"metadata": {"labels": {
        "kubesphere.io/workspace": "team-b"}}}


def test_moving_a_project_needs_both_ends_to_exist():
    assert validate_move(cluster(), "shop", "team-b") == []
    assert [i.field for i in validate_move(cluster(), "ghost", "nowhere")] == [
        "metadata.name", "metadata.labels.kubesphere.io/workspace"]


def test_moving_a_project_lists_the_entries_it_would_break():
    snapshot = add_entry(cluster(), "shop", "from-billing", ingress=[{"from": [ns_peer("billing")]}])
    add_entry(snapshot, "audit", "to-shop", egress=[{"to": [ns_peer("shop")]}])
    add_entry(snapshot, "audit", "to-billing", egress=[{"to": [ns_peer("billing")]}])
    add_entry(snapshot, "shop", "cidr", ingress=[{"from": [ip_peer("10.0.0.0/8")]}])
    assert entries_invalidated_by_move(snapshot, "shop", "team-b") == [
        ("audit", "to-shop"), ("shop", "from-billing")]
    assert entries_invalidated_by_move(snapshot, "shop", "team-a") == []


def test_a_move_into_the_entry_workspace_is_not_reported_as_breaking():
    snapshot = add_namespace(cluster(), "newcomer", workspace="team-b")
    add_entry(snapshot, "shop", "to-newcomer", egress=[{"to": [ns_peer("newcomer")]}])
    assert entries_invalidated_by_move(snapshot, "newcomer", "team-a") == []


def test_a_move_reconciles_the_project_and_every_project_naming_it():
    snapshot = add_entry(cluster(), "audit", "to-shop", egress=[{"to": [ns_peer("shop")]}])
    add_entry(snapshot, "billing", "from-shop-svc", ingress=[{"from": [svc_peer("shop", "x")]}])
    add_entry(snapshot, "web", "cidr", ingress=[{"from": [ip_peer("10.0.0.0/8")]}])
    assert namespaces_affected_by_move(snapshot, "shop") == {"shop", "audit", "billing"}


def test_an_issue_is_said_in_the_readers_language_and_written_in_english():
    issues = validate_move(cluster(), "ghost", "nowhere")
    with said_in_chinese():
        assert [str(i.message) for i in issues] == ["项目 ghost 不存在", "企业空间 nowhere 不存在"]
    assert [i.message for i in issues] == ["project ghost does not exist",
                                           "workspace nowhere does not exist"]
