"""Behaviour of the isolation compiler beyond the golden files."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isolation.cli.compile import render_yaml
from isolation.compiler.generate import (
    ISOLATION_POLICY_NAME,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    SOURCE_ANNOTATION,
    IsolationSettings,
    desired_policies,
)
from isolation.compiler.reconcile import plan_reconcile
from isolation.compiler.tenancy import TenancyInputError
from isolation.netpol.validation import default_network_policy, validate_network_policy
from tests.golden.scenarios import (
    SCENARIOS,
    add_entry,
    add_namespace,
    cluster,
    ip_peer,
    isolate_project,
    isolate_workspace,
    ns_peer,
    remove,
    svc_peer,
)

PLAIN = IsolationSettings(detect_ingress_namespaces=False)


def _policy(result, namespace, name=ISOLATION_POLICY_NAME):
    for policy in result.policies:
        if policy["metadata"]["namespace"] == namespace and policy["metadata"]["name"] == name:
            return policy
    return None


def _names(result):
    return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in result.policies]


@pytest.mark.parametrize("value, isolated", [
    ("enabled", True), ("Enabled", False), ("true", False), ("", False), ("disabled", False),
])
def test_only_the_exact_annotation_value_enabled_isolates_a_project(value, isolated):
    result = desired_policies(isolate_project(cluster(), "shop", value), PLAIN)
    assert (result.modes["shop"] == "project") is isolated
    assert (_policy(result, "shop") is not None) is isolated


@pytest.mark.parametrize("value, isolated", [
    (True, True), (False, False), ("true", False), (1, False), (None, False),
])
def test_only_boolean_true_isolates_a_workspace(value, isolated):
    result = desired_policies(isolate_workspace(cluster(), "team-a", value), PLAIN)
    assert (result.modes["billing"] == "workspace") is isolated


def test_project_isolation_wins_over_workspace_isolation():
    snapshot = isolate_project(isolate_workspace(cluster(), "team-a"), "shop")
    result = desired_policies(snapshot, PLAIN)
    assert result.modes == {**result.modes, "shop": "project", "billing": "workspace"}
    peers = _policy(result, "shop")["spec"]["ingress"][0]["from"]
    assert peers == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "shop"}}}]


def test_workspace_mode_admits_the_whole_workspace_only():
    result = desired_policies(isolate_workspace(cluster(), "team-a"), PLAIN)
    assert _names(result) == [(ns, ISOLATION_POLICY_NAME) for ns in ("audit", "billing", "shop")]
    assert _policy(result, "web") is None
    for namespace in ("audit", "billing", "shop"):
        spec = _policy(result, namespace)["spec"]
        assert spec["policyTypes"] == ["Ingress"]
        assert spec["ingress"] == [{"from": [{"namespaceSelector": {"matchLabels": {
            "kubesphere.io/workspace": "team-a"}}}]}]


def test_namespaces_outside_managed_workspaces_are_never_isolated():
    snapshot = add_namespace(cluster(), "orphan", workspace="gone",
                             annotations={"kubesphere.io/network-isolate": "enabled"})
    add_namespace(snapshot, "loose", annotations={"kubesphere.io/network-isolate": "enabled"})
    result = desired_policies(snapshot, PLAIN)
    assert result.policies == []
    assert result.modes["orphan"] == result.modes["loose"] == "off"
    assert [(p.namespace, p.entry) for p in result.problems] == [("orphan", "")]


def test_switching_project_isolation_off_keeps_entries_inactive_and_they_come_back():
    snapshot = add_entry(cluster(), "shop", "from-billing", ingress=[{"from": [ns_peer("billing")]}])
    off = desired_policies(snapshot, PLAIN)
    assert off.policies == []
    assert off.inactive_entries == [("shop", "from-billing")]
    assert snapshot.nsnps, "compiling never removes intent"
    on = desired_policies(isolate_project(snapshot, "shop"), PLAIN)
    assert ("shop", "nsnp-from-billing") in _names(on)
    assert on.inactive_entries == []


def test_an_invalid_entry_does_not_block_the_other_entries_of_its_project():
    snapshot = isolate_project(cluster(), "shop")
    add_entry(snapshot, "shop", "broken", ingress=[{"from": [svc_peer("billing", "missing")]}])
    add_entry(snapshot, "shop", "fine", ingress=[{"from": [ns_peer("billing")]}])
    result = desired_policies(snapshot, PLAIN)
    assert ("shop", "nsnp-fine") in _names(result)
    assert ("shop", "nsnp-broken") not in _names(result)
    assert [(p.namespace, p.entry) for p in result.problems] == [("shop", "broken")]
    assert "billing/missing does not exist" in result.problems[0].message


def test_a_broken_egress_entry_still_restricts_egress():
    snapshot = isolate_project(cluster(), "shop")
    add_entry(snapshot, "shop", "to-missing", egress=[{"to": [svc_peer("billing", "missing")]}])
    spec = _policy(desired_policies(snapshot, PLAIN), "shop")["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]


def test_egress_stays_open_without_egress_entries():
    snapshot = add_entry(isolate_project(cluster(), "shop"), "shop", "in",
                         ingress=[{"from": [ns_peer("billing")]}])
    spec = _policy(desired_policies(snapshot, PLAIN), "shop")["spec"]
    assert spec["policyTypes"] == ["Ingress"] and "egress" not in spec


def test_egress_restriction_allows_dns_and_the_project_itself():
    snapshot = add_entry(isolate_project(cluster(), "shop"), "shop", "out",
                         egress=[{"to": [ns_peer("audit")]}])
    egress = _policy(desired_policies(snapshot, PLAIN), "shop")["spec"]["egress"]
    assert egress[0]["to"] == [{"ipBlock": {"cidr": "169.254.25.10/32"}}]
    assert egress[1]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert {(p["protocol"], p["port"]) for p in egress[1]["ports"]} == {("TCP", 53), ("UDP", 53)}
    assert egress[2] == {"to": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "shop"}}}]}


def test_dns_falls_back_to_coredns_service_when_kube_dns_is_missing():
    snapshot = remove(cluster(), "services", "kube-dns", "kube-system")
    snapshot.services.append({"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "coredns", "namespace": "kube-system"}, "spec": {
        "selector": {"k8s-app": "coredns"},
        "ports": [{"port": 53, "protocol": "UDP", "targetPort": "dns"}]}})
    add_entry(isolate_project(snapshot, "shop"), "shop", "out", egress=[{"to": [ns_peer("audit")]}])
    dns = _policy(desired_policies(snapshot, PLAIN), "shop")["spec"]["egress"][1]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "coredns"}}
    # no coredns pod declares the port named dns: the name is kept for the CNI to resolve
    assert dns["ports"] == [{"port": "dns", "protocol": "UDP"}]


def test_dns_cidrs_come_from_the_settings():
    snapshot = add_entry(isolate_project(cluster(), "shop"), "shop", "out",
                         egress=[{"to": [ns_peer("audit")]}])
    dns_settings = IsolationSettings(detect_ingress_namespaces=False,
                                     dns_cidrs=("10.96.0.10", "fd00::a/128"))
    egress = _policy(desired_policies(snapshot, dns_settings), "shop")["spec"]["egress"]
    assert egress[0]["to"] == [{"ipBlock": {"cidr": "10.96.0.10/32"}},
                               {"ipBlock": {"cidr": "fd00::a/128"}}]


@pytest.mark.parametrize("target, pods_declare, expected", [
    (8080, None, [8080]),
    ("http", ("http", 8080), [8080]),
    ("http", ("web", 8080), ["http"]),
    (None, None, [80]),
])
def test_egress_service_peers_use_the_pods_ports(target, pods_declare, expected):
    snapshot = isolate_project(cluster(), "shop")
    port = {"port": 80, "protocol": "TCP"}
    if target is not None:
        port["targetPort"] = target
    snapshot.services.append({"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "svc", "namespace": "audit"}, "spec": {"selector": {"app": "x"},
                                                       "ports": [port]}})
    container = {"name": "c"}
    if pods_declare:
        container["ports"] = [{"name": pods_declare[0], "containerPort": pods_declare[1]}]
    snapshot.pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "x-1", "namespace": "audit", "labels": {"app": "x"}},
        "spec": {"containers": [container]}})
    add_entry(snapshot, "shop", "out", egress=[{"to": [svc_peer("audit", "svc")]}])
    rule = _policy(desired_policies(snapshot, PLAIN), "shop", "nsnp-out")["spec"]["egress"][0]
    assert [p["port"] for p in rule["ports"]] == expected


def test_explicit_rule_ports_apply_to_service_peers_as_pod_ports():
    snapshot = add_entry(isolate_project(cluster(), "shop"), "shop", "out", egress=[{
        "to": [svc_peer("billing", "api")], "ports": [{"port": 9999}]}])
    egress = _policy(desired_policies(snapshot, PLAIN), "shop", "nsnp-out")["spec"]["egress"]
    assert egress == [{"to": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "billing"}}, "podSelector": {"matchLabels": {
            "app": "api"}}}], "ports": [{"port": 9999, "protocol": "TCP"}]}]


def test_ingress_controller_namespaces_are_allowed_only_when_detection_is_on():
    snapshot = isolate_workspace(cluster(), "team-a")
    detected = desired_policies(snapshot, IsolationSettings())
    plain = desired_policies(snapshot, PLAIN)
    assert detected.allowed_namespaces == ("ingress-nginx",)
    assert plain.allowed_namespaces == ()
    peers = _policy(detected, "shop")["spec"]["ingress"][0]["from"]
    assert peers[-1] == {"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "ingress-nginx"}}}


def test_snat_rule_appears_only_when_addresses_are_configured():
    snapshot = isolate_workspace(cluster(), "team-a")
    assert len(_policy(desired_policies(snapshot, PLAIN), "shop")["spec"]["ingress"]) == 1
    snat_settings = IsolationSettings(detect_ingress_namespaces=False,
                                      snat_cidrs=("192.168.0.11", "192.168.0.11/32"))
    result = desired_policies(snapshot, snat_settings)
    assert result.snat_cidrs == ("192.168.0.11/32",)
    assert _policy(result, "shop")["spec"]["ingress"][1] == {
        "from": [{"ipBlock": {"cidr": "192.168.0.11/32"}}]}


def test_every_generated_policy_is_marked_with_its_source():
    snapshot = isolate_project(isolate_workspace(cluster(), "team-a"), "shop")
    add_entry(snapshot, "shop", "in", ingress=[{"from": [ns_peer("billing")]}])
    sources = {}
    for policy in desired_policies(snapshot, PLAIN).policies:
        metadata = policy["metadata"]
        assert metadata["labels"] == {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
        sources[(metadata["namespace"], metadata["name"])] = metadata["annotations"][
            SOURCE_ANNOTATION]
    assert sources == {
        ("audit", ISOLATION_POLICY_NAME): "workspace/team-a",
        ("billing", ISOLATION_POLICY_NAME): "workspace/team-a",
        ("shop", ISOLATION_POLICY_NAME): "namespace/shop",
        ("shop", "nsnp-in"): "nsnp/shop/in",
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_generated_policies_pass_api_server_validation(scenario):
    for policy in desired_policies(scenario.build(), scenario.settings).policies:
        assert validate_network_policy(default_network_policy(policy)) == []


def test_output_does_not_depend_on_the_order_of_the_input():
    snapshot = isolate_project(isolate_workspace(cluster(), "team-a"), "shop")
    add_entry(snapshot, "shop", "b", egress=[{"to": [svc_peer("billing", "api"),
                                                    ns_peer("audit"), ip_peer("10.0.0.0/8")],
                                             "ports": [{"port": 443}, {"port": 80}]}])
    add_entry(snapshot, "shop", "a", ingress=[{"from": [ns_peer("billing"), ns_peer("audit")]}])
    reordered = copy.deepcopy(snapshot)
    for attr in ("namespaces", "pods", "services", "nsnps", "nodes", "workspaces"):
        getattr(reordered, attr).reverse()
    for entry in reordered.nsnps:
        for rule in entry["spec"].get("egress", []) + entry["spec"].get("ingress", []):
            for value in rule.values():
                value.reverse()
    first = desired_policies(snapshot, IsolationSettings())
    second = desired_policies(reordered, IsolationSettings())
    assert json.dumps(first.policies) == json.dumps(second.policies)


def test_compiling_does_not_modify_the_snapshot():
    snapshot = add_entry(isolate_project(cluster(), "shop"), "shop", "out",
                         egress=[{"to": [svc_peer("billing", "api")]}])
    before = copy.deepcopy(snapshot)
    desired_policies(snapshot, IsolationSettings())
    assert snapshot == before


def test_kubesphere_engine_reproduces_kubesphere_v3_shapes():
    snapshot = add_entry(isolate_project(cluster(), "shop"), "shop", "out",
                         egress=[{"to": [svc_peer("billing", "api")]}],
                         ingress=[{"from": [ns_peer("audit")]}])
    result = desired_policies(snapshot, IsolationSettings(engine_mode="kubesphere"))
    entry = _policy(result, "shop", "nsnp-out")
    assert entry["metadata"] == {"name": "nsnp-out", "namespace": "shop"}
    assert entry["spec"]["policyTypes"] == ["Egress", "Ingress"]
    assert entry["spec"]["egress"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    isolation = _policy(result, "shop")
    assert len(isolation["spec"]["egress"]) == 2, "no egress to the own project"
    assert result.allowed_namespaces == (), "KubeSphere detects nothing"


def test_kubesphere_engine_warns_that_workspace_mode_deletes_entries():
    snapshot = add_entry(isolate_workspace(cluster(), "team-a"), "shop", "in",
                         ingress=[{"from": [ns_peer("billing")]}])
    result = desired_policies(snapshot, IsolationSettings(engine_mode="kubesphere"))
    assert any(p.entry == "in" and "deletes" in p.message for p in result.problems)


@pytest.mark.parametrize("kwargs", [
    {"engine_mode": "calico"},
    {"always_allowed_namespaces": ("Kube_System",)},
    {"snat_cidrs": ("192.168.0.300",)},
    {"dns_cidrs": ("not-an-ip",)},
])
def test_settings_refuse_values_that_cannot_be_compiled(kwargs):
    with pytest.raises(ValueError):
        IsolationSettings(**kwargs)


def test_a_namespace_with_misshapen_labels_is_reported_with_the_field():
    snapshot = cluster()
    snapshot.namespaces[0]["metadata"]["labels"] = ["not", "a", "map"]
    with pytest.raises(TenancyInputError) as caught:
        desired_policies(snapshot, PLAIN)
    assert caught.value.field == "metadata.labels"
    assert caught.value.kind == "Namespace"


def test_policies_share_no_objects_so_yaml_has_no_aliases():
    snapshot = isolate_project(isolate_project(cluster(), "shop"), "billing")
    add_entry(snapshot, "shop", "out", egress=[{"to": [ns_peer("audit")]}])
    add_entry(snapshot, "billing", "out", egress=[{"to": [ns_peer("audit")]}])
    result = desired_policies(snapshot, PLAIN)
    assert "&id" not in render_yaml(result.policies)
    _policy(result, "shop")["spec"]["egress"][0]["ports"].clear()
    assert _policy(result, "billing")["spec"]["egress"][0]["ports"]


ENTRY_POOL = [
    ("shop", "in-ns", {"ingress": [{"from": [ns_peer("billing")]}]}),
    ("shop", "out-svc", {"egress": [{"to": [svc_peer("billing", "api")]}]}),
    ("shop", "bad", {"ingress": [{"from": [ip_peer("10.0.0.0/40")]}]}),
    ("billing", "out-cidr", {"egress": [{"to": [ip_peer("10.0.0.0/8", "10.1.0.0/16")],
                                         "ports": [{"port": 443}]}]}),
    ("audit", "in-svc", {"ingress": [{"from": [svc_peer("shop", "missing")]}]}),
    ("web", "in-cidr", {"ingress": [{"from": [ip_peer("2001:db8::/64")],
                                     "ports": [{"port": 80, "endPort": 90}]}]}),
]


@given(workspaces=st.sets(st.sampled_from(["team-a", "team-b"])),
       projects=st.sets(st.sampled_from(["shop", "billing", "audit", "web"])),
       entries=st.sets(st.integers(0, len(ENTRY_POOL) - 1)),
       detect=st.booleans())
@settings(max_examples=60, deadline=None)
def test_any_intent_compiles_to_valid_policies_that_reconcile_to_zero_writes(
        workspaces, projects, entries, detect):
    snapshot = cluster()
    for workspace in workspaces:
        isolate_workspace(snapshot, workspace)
    for project in projects:
        isolate_project(snapshot, project)
    for index in sorted(entries):
        namespace, name, spec = ENTRY_POOL[index]
        add_entry(snapshot, namespace, name, **copy.deepcopy(spec))
    options = IsolationSettings(detect_ingress_namespaces=detect)
    result = desired_policies(snapshot, options)
    for policy in result.policies:
        assert validate_network_policy(default_network_policy(policy)) == []
    assert plan_reconcile(result.policies, copy.deepcopy(result.policies)).in_step
    assert desired_policies(snapshot, options).policies == result.policies
    isolated = {ns for ns, mode in result.modes.items() if mode != "off"}
    assert {p["metadata"]["namespace"] for p in result.policies} == isolated
