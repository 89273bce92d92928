"""Calico tiers, orders and rules decide traffic exactly as Calico documents.

Each test is one rule of issue 16's list of rules that are easy to get wrong, or one field of
a Calico rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from isolation.calico.endpoint import Endpoint
from isolation.calico.evaluate import BY_RULE, END_OF_TIER, PROFILE, CalicoPolicySet

V3 = "projectcalico.org/v3"


def gnp(name: str, *, order: float | None = None, tier: str | None = None,
        selector: str = "all()", api: str = V3, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"selector": selector, **spec}
    if order is not None:
        body["order"] = order
    if tier is not None:
        body["tier"] = tier
    return {"apiVersion": api, "kind": "GlobalNetworkPolicy", "metadata": {"name": name},
            "spec": body}


def cnp(key: str, *, order: float | None = None, selector: str = "all()",
        tier: str | None = None, **spec: Any) -> dict[str, Any]:
    namespace, name = key.split("/")
    body: dict[str, Any] = {"selector": selector, **spec}
    if order is not None:
        body["order"] = order
    if tier is not None:
        body["tier"] = tier
    return {"apiVersion": V3, "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": body}


def tier(name: str, order: float | None = None, **spec: Any) -> dict[str, Any]:
    body = dict(spec)
    if order is not None:
        body["order"] = order
    return {"apiVersion": V3, "kind": "Tier", "metadata": {"name": name}, "spec": body}


def knp(key: str, **spec: Any) -> dict[str, Any]:
    namespace, name = key.split("/")
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def deny(**entity: Any) -> dict[str, Any]:
    return {"action": "Deny", **entity}


def allow(**entity: Any) -> dict[str, Any]:
    return {"action": "Allow", **entity}


WEB = Endpoint.pod("shop", {"app": "web"}, namespace_labels={"team": "a"}, ip="10.0.1.1",
                   service_account="web-sa", service_account_labels={"role": "front"},
                   named_ports=(("http", 8080, "TCP"),))
DB = Endpoint.pod("shop", {"app": "db"}, namespace_labels={"team": "a"}, ip="10.0.1.2")
BARE = Endpoint.pod("shop", {}, namespace_labels={"team": "a"}, ip="10.0.1.3")
OTHER = Endpoint.pod("other", {"app": "web"}, namespace_labels={"team": "b"}, ip="10.0.2.1")
OUTSIDE = Endpoint.address("203.0.113.9")


def policy_set(*objects: dict[str, Any]) -> CalicoPolicySet:
    result = CalicoPolicySet.from_objects(objects)
    assert not result.problems, result.problems
    return result


def ingress(policies: CalicoPolicySet, dst: Endpoint = WEB, src: Endpoint = DB,
            port: int = 80, protocol: str = "TCP"):
    return policies.decide("ingress", dst, src, port, protocol)


def egress(policies: CalicoPolicySet, src: Endpoint = WEB, dst: Endpoint = OUTSIDE,
           port: int = 80, protocol: str = "TCP"):
    return policies.decide("egress", src, dst, port, protocol)


# -- tiers ------------------------------------------------------------------------------------

def test_tiers_run_by_order_whatever_their_names():
    policies = policy_set(
        tier("zeta", 10), tier("alpha", 20),
        gnp("zeta.allow", tier="zeta", ingress=[allow()]),
        gnp("alpha.deny", tier="alpha", ingress=[deny()]))
    assert policies.tier_names == ("zeta", "alpha", "default")
    decision = ingress(policies)
    assert (decision.action, decision.tier, decision.policy) == ("Allow", "zeta", "zeta.allow")


def test_a_tier_without_order_runs_after_the_default_tier():
    policies = policy_set(
        tier("late"),
        gnp("late.deny", tier="late", ingress=[deny()]),
        gnp("pass-all", ingress=[{"action": "Pass"}]))
    assert policies.tier_names == ("default", "late")
    assert ingress(policies).policy == "late.deny"


def test_the_default_tier_sits_at_order_one_million():
    policies = policy_set(tier("before", 999_999), tier("after", 1_000_001))
    assert policies.tier_names == ("before", "default", "after")


def test_tiers_of_equal_order_run_by_name():
    policies = policy_set(
        tier("b", 5), tier("a", 5),
        gnp("b.deny", tier="b", ingress=[deny()]),
        gnp("a.allow", tier="a", ingress=[allow()]))
    assert policies.tier_names[:2] == ("a", "b")
    assert ingress(policies).allowed


def test_end_of_tier_deny_needs_a_policy_of_the_tier_selecting_the_endpoint():
    policies = policy_set(
        tier("security", 100),
        gnp("security.db-only", tier="security", selector="app == 'db'", ingress=[allow()]))
    assert ingress(policies, dst=WEB).reason == PROFILE
    denied = ingress(policies, dst=DB, src=OUTSIDE, port=80, protocol="UDP")
    assert denied.allowed  # the Allow rule has no criteria
    strict = policy_set(
        tier("security", 100),
        gnp("security.db-only", tier="security", selector="app == 'db'",
            ingress=[allow(protocol="TCP")]))
    end = ingress(strict, dst=DB, src=OUTSIDE, protocol="UDP")
    assert (end.action, end.reason, end.tier) == ("Deny", END_OF_TIER, "security")


def test_end_of_tier_deny_needs_the_policy_to_apply_to_that_direction():
    policies = policy_set(gnp("ingress-only", types=["Ingress"], ingress=[allow(protocol="UDP")]))
    assert not ingress(policies).allowed
    assert egress(policies).reason == PROFILE


def test_a_pass_out_of_the_last_tier_lands_on_the_profile_which_allows():
    policies = policy_set(gnp("pass", ingress=[{"action": "Pass"}]))
    decision = ingress(policies)
    assert (decision.action, decision.reason) == ("Allow", PROFILE)


def test_pass_skips_the_rest_of_its_tier():
    policies = policy_set(
        tier("late"),
        gnp("pass", order=1, ingress=[{"action": "Pass"}]),
        gnp("deny", order=2, ingress=[deny()]),
        gnp("late.allow", tier="late", ingress=[allow()]))
    decision = ingress(policies)
    assert (decision.action, decision.policy) == ("Allow", "late.allow")


def test_a_tier_whose_default_action_is_pass_hands_unmatched_traffic_on():
    policies = policy_set(
        tier("platform", 100, defaultAction="Pass"),
        gnp("platform.db", tier="platform", selector="all()", ingress=[allow(protocol="UDP")]),
        gnp("deny-all", ingress=[deny()]))
    decision = ingress(policies)
    assert (decision.action, decision.policy) == ("Deny", "deny-all")
    assert policies.decide_tier("platform", "ingress", WEB, DB, 80, "TCP").action == "Pass"


def test_decide_tier_says_when_a_tier_does_not_apply():
    policies = policy_set(gnp("db-only", selector="app == 'db'", ingress=[deny()]))
    assert policies.decide_tier("default", "ingress", WEB, DB, 80, "TCP") is None
    assert policies.decide_tier("default", "ingress", DB, WEB, 80, "TCP").action == "Deny"


# -- order within a tier ----------------------------------------------------------------------

def test_policies_run_by_order_and_a_policy_without_order_runs_last():
    policies = policy_set(
        gnp("a-no-order", ingress=[deny()]),
        gnp("b-late", order=200, ingress=[deny()]),
        gnp("c-early", order=100, ingress=[allow()]))
    assert [p.name for p in policies.policies] == ["c-early", "b-late", "a-no-order"]
    assert ingress(policies).policy == "c-early"


def test_policies_of_equal_order_run_by_name():
    policies = policy_set(gnp("b", order=5, ingress=[deny()]), gnp("a", order=5, ingress=[allow()]))
    assert ingress(policies).policy == "a"


def test_rules_run_in_order_and_log_goes_on():
    policies = policy_set(gnp("p", ingress=[{"action": "Log"}, deny(), allow()]))
    decision = ingress(policies)
    assert (decision.action, decision.rule_index, decision.logged) == ("Deny", 1, (("p", 0),))


# -- Kubernetes NetworkPolicies under Calico --------------------------------------------------

def test_a_calico_deny_of_lower_order_beats_a_kubernetes_allow():
    policies = CalicoPolicySet.from_objects(
        [gnp("deny-db", order=10, ingress=[deny(source={"selector": "app == 'db'"})])],
        k8s_policies=[knp("shop/allow-all", podSelector={}, ingress=[{}])])
    decision = ingress(policies)
    assert (decision.action, decision.policy) == ("Deny", "deny-db")


def test_a_calico_allow_of_higher_order_still_allows_what_kubernetes_policies_do_not():
    policies = CalicoPolicySet.from_objects(
        [gnp("allow-monitoring", order=2000, ingress=[allow(source={"selector": "app == 'db'"})])],
        k8s_policies=[knp("shop/deny-all", podSelector={}, policyTypes=["Ingress"])])
    assert ingress(policies).policy == "allow-monitoring"
    denied = ingress(policies, src=BARE)
    assert (denied.action, denied.reason) == ("Deny", END_OF_TIER)


def test_a_kubernetes_policy_is_a_default_tier_policy_of_order_1000():
    policies = CalicoPolicySet.from_objects(
        [gnp("early", order=999, ingress=[{"action": "Log"}]),
         gnp("late", order=1001, ingress=[deny()])],
        k8s_policies=[knp("shop/allow-db", podSelector={},
                          ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                                    "ports": [{"port": 80}]}])])
    assert [p.key for p in policies.policies] == ["early", "shop/knp.default.allow-db", "late"]
    decision = ingress(policies)
    assert (decision.kind, decision.rule_index, decision.peer_index) == (
        "KubernetesNetworkPolicy", 0, 0)
    assert ingress(policies, port=81).policy == "late"


def test_kubernetes_named_ports_resolve_on_the_destination_pod():
    policies = CalicoPolicySet.from_objects(
        [], k8s_policies=[knp("shop/http", podSelector={},
                              ingress=[{"ports": [{"port": "http"}]}])])
    assert ingress(policies, port=8080).allowed
    assert not ingress(policies, port=80).allowed
    assert not ingress(policies, dst=DB, port=8080).allowed


def test_objects_are_dispatched_on_api_group_and_kind():
    calico = cnp("shop/deny", ingress=[deny()])
    kubernetes = knp("shop/deny", podSelector={}, policyTypes=["Ingress"])
    assert CalicoPolicySet.from_objects([calico]).policies[0].kind == "NetworkPolicy"
    assert CalicoPolicySet.from_objects([kubernetes]).policies[0].kind == "KubernetesNetworkPolicy"
    other = {"apiVersion": "example.com/v1", "kind": "NetworkPolicy", "metadata": {"name": "x"}}
    problems = CalicoPolicySet.from_objects([other]).problems
    assert [p.ref for p in problems] == ["NetworkPolicy x"]


# -- types ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "ingress_isolated", "egress_isolated"), [
    ({}, True, False),
    ({"ingress": [allow(protocol="UDP")]}, True, False),
    ({"egress": [allow(protocol="UDP")]}, False, True),
    ({"ingress": [], "egress": [allow(protocol="UDP")]}, False, True),
    ({"ingress": [allow(protocol="UDP")], "egress": [allow(protocol="UDP")]}, True, True),
    ({"types": ["Egress"]}, False, True),
])
def test_types_default_from_the_rules_present(spec, ingress_isolated, egress_isolated):
    policies = policy_set(gnp("p", **spec))
    assert (not ingress(policies).allowed) is ingress_isolated
    assert (not egress(policies).allowed) is egress_isolated


# -- rule peers -------------------------------------------------------------------------------

@pytest.mark.parametrize("entity", [
    {"selector": "all()"}, {"notSelector": "app == 'nope'"},
    {"serviceAccounts": {"names": ["web-sa"]}}])
def test_selector_fields_of_a_namespaced_policy_limit_the_rule_to_its_namespace(entity):
    policies = policy_set(cnp("shop/p", egress=[deny(destination=entity)]))
    other = Endpoint.pod("other", {"app": "web"}, service_account="web-sa", ip="10.0.2.1")
    assert egress(policies, dst=other).reason == END_OF_TIER
    assert egress(policies, dst=DB if "serviceAccounts" not in entity else WEB).reason == BY_RULE


def test_a_namespace_selector_opens_a_namespaced_rule_to_other_namespaces():
    policies = policy_set(cnp("shop/p", ingress=[deny(source={
        "selector": "app == 'web'", "namespaceSelector": "team == 'b'"})]))
    assert ingress(policies, src=OTHER).reason == BY_RULE
    assert ingress(policies, src=WEB).reason == END_OF_TIER


def test_a_global_rule_selector_matches_pods_of_every_namespace():
    policies = policy_set(gnp("p", ingress=[deny(source={"selector": "app == 'web'"})]))
    assert ingress(policies, dst=DB, src=OTHER).reason == BY_RULE


def test_namespace_selectors_see_the_namespace_name_label():
    policies = policy_set(gnp("p", ingress=[deny(source={
        "namespaceSelector": "projectcalico.org/name == 'other'"})]))
    assert ingress(policies, src=OTHER).reason == BY_RULE
    assert ingress(policies, src=DB).reason == END_OF_TIER


@pytest.mark.parametrize("entity", [
    {"selector": "all()"}, {"namespaceSelector": "all()"}, {"selector": "!has(app)"},
    {"serviceAccounts": {"selector": "all()"}}])
def test_selectors_never_match_a_bare_address(entity):
    policies = policy_set(gnp("p", ingress=[deny(source=entity)]))
    assert ingress(policies, src=OUTSIDE).reason == END_OF_TIER


def test_a_lone_global_not_selector_matches_outside_addresses():
    policies = policy_set(gnp("p", ingress=[deny(source={"notSelector": "app == 'db'"})]))
    assert ingress(policies, src=OUTSIDE).reason == BY_RULE
    assert ingress(policies, src=DB).reason == END_OF_TIER


def test_not_equal_and_not_in_match_pods_lacking_the_label():
    policies = policy_set(gnp("p", ingress=[deny(source={"selector": "app != 'db'"}),
                                            deny(source={"selector": "app not in {'db'}"})]))
    assert ingress(policies, src=BARE).rule_index == 0
    assert ingress(policies, src=DB).reason == END_OF_TIER


def test_nets_match_pod_ips_too():
    policies = policy_set(gnp("p", egress=[deny(destination={"nets": ["10.0.1.0/24"]})]))
    assert egress(policies, dst=DB).reason == BY_RULE
    assert egress(policies, dst=OTHER).reason == END_OF_TIER


def test_not_nets_leave_out_the_listed_addresses():
    policies = policy_set(gnp("p", egress=[deny(destination={"notNets": ["10.0.0.0/8"]})]))
    assert egress(policies, dst=OUTSIDE).reason == BY_RULE
    assert egress(policies, dst=DB).reason == END_OF_TIER


def test_nets_and_selectors_must_both_match():
    policies = policy_set(gnp("p", egress=[deny(destination={
        "nets": ["10.0.1.0/24"], "selector": "app == 'db'"})]))
    assert egress(policies, dst=DB).reason == BY_RULE
    assert egress(policies, dst=BARE).reason == END_OF_TIER


def test_pods_of_one_label_class_are_told_apart_by_their_ip():
    twin = Endpoint.pod("shop", {"app": "db"}, namespace_labels={"team": "a"}, ip="10.9.9.9")
    policies = policy_set(gnp("p", egress=[deny(destination={
        "nets": ["10.0.1.0/24"], "selector": "app == 'db'"})]))
    assert egress(policies, dst=DB).reason == BY_RULE
    assert egress(policies, dst=twin).reason == END_OF_TIER


def test_service_accounts_by_name_and_by_labels():
    policies = policy_set(gnp("p", ingress=[
        deny(source={"serviceAccounts": {"names": ["web-sa"], "selector": "role == 'front'"}})]))
    assert ingress(policies, dst=DB, src=WEB).reason == BY_RULE
    assert ingress(policies, dst=WEB, src=DB).reason == END_OF_TIER


# -- ports and protocols ----------------------------------------------------------------------

@pytest.mark.parametrize(("destination", "port", "matched"), [
    ({"ports": [80]}, 80, True),
    ({"ports": ["80"]}, 81, False),
    ({"ports": ["8000:8100"]}, 8080, True),
    ({"ports": ["8000:8100"]}, 8101, False),
    ({"ports": ["http"]}, 8080, True),
    ({"ports": ["http"]}, 80, False),
    ({"notPorts": [22]}, 80, True),
    ({"notPorts": ["1:1024"]}, 80, False),
    ({"ports": ["1:9000"], "notPorts": [8080]}, 8080, False),
])
def test_destination_ports(destination, port, matched):
    policies = policy_set(gnp("p", ingress=[deny(protocol="TCP", destination=destination)]))
    assert (ingress(policies, port=port).reason == BY_RULE) is matched


def test_named_ports_match_only_with_the_rules_protocol_and_never_outside():
    policies = policy_set(gnp("p", egress=[deny(protocol="UDP", destination={"ports": ["http"]})]))
    assert egress(policies, src=DB, dst=WEB, port=8080, protocol="UDP").reason == END_OF_TIER
    assert egress(policies, src=DB, dst=OUTSIDE, port=8080, protocol="UDP").reason == END_OF_TIER


@pytest.mark.parametrize(("rule", "protocol", "matched"), [
    ({"protocol": "TCP"}, "TCP", True),
    ({"protocol": "UDP"}, "TCP", False),
    ({"protocol": 6}, "TCP", True),
    ({"protocol": "tcp"}, "TCP", True),
    ({"notProtocol": "UDP"}, "TCP", True),
    ({"notProtocol": "TCP"}, "TCP", False),
    ({"protocol": "ICMP"}, "TCP", False),
])
def test_protocol_and_not_protocol(rule, protocol, matched):
    policies = policy_set(gnp("p", ingress=[deny(**rule)]))
    assert (ingress(policies, protocol=protocol).reason == BY_RULE) is matched


def test_a_rule_on_source_ports_is_not_evaluated_and_says_so():
    policies = policy_set(gnp("p", ingress=[deny(protocol="TCP", source={"ports": [1234]})]))
    assert ingress(policies).reason == END_OF_TIER
    assert policies.policies[0].unmodelled == ("spec.ingress[0].source.ports",)


# -- policy selection -------------------------------------------------------------------------

def test_a_global_policy_namespace_selector_limits_the_pods_it_applies_to():
    policies = policy_set(gnp("p", namespaceSelector="team == 'b'", ingress=[deny()]))
    assert ingress(policies, dst=OTHER).reason == BY_RULE
    assert ingress(policies, dst=WEB).reason == PROFILE


def test_a_namespaced_policy_applies_to_its_namespace_only():
    policies = policy_set(cnp("other/p", ingress=[deny()]))
    assert ingress(policies, dst=OTHER).reason == BY_RULE
    assert ingress(policies, dst=WEB).reason == PROFILE


def test_policy_selectors_see_calicos_own_labels():
    policies = policy_set(gnp("p", selector="projectcalico.org/namespace == 'other' && "
                                            "pcns.team == 'b'", ingress=[deny()]))
    assert ingress(policies, dst=OTHER).reason == BY_RULE
    assert ingress(policies, dst=WEB).reason == PROFILE


def test_pre_dnat_policies_are_listed_but_never_decide_pod_traffic():
    policies = policy_set(gnp("nodeports", preDNAT=True, applyOnForward=True,
                              ingress=[deny(source={"nets": ["0.0.0.0/0"]})]))
    assert [p.name for p in policies.host_policies] == ["nodeports"]
    assert ingress(policies, src=OUTSIDE).reason == PROFILE


def test_outside_addresses_have_no_policy_of_their_own():
    policies = policy_set(gnp("p", ingress=[deny()], egress=[deny()]))
    assert policies.allows(OUTSIDE, OUTSIDE, 80, "TCP")
    assert not policies.allows(OUTSIDE, WEB, 80, "TCP")
    assert not policies.allows(WEB, OUTSIDE, 80, "TCP")


# -- names, tiers and problems ----------------------------------------------------------------

def test_policy_names_carry_their_tier_and_crd_names_lose_the_default_prefix():
    policies = policy_set(
        tier("security", 10),
        gnp("block", tier="security", ingress=[deny()]),
        gnp("default.legacy", api="crd.projectcalico.org/v1", ingress=[deny()]))
    assert sorted(p.name for p in policies.policies) == ["legacy", "security.block"]


def test_a_policy_of_an_unknown_tier_is_reported_and_left_out():
    result = CalicoPolicySet.from_objects([gnp("x", tier="nope", ingress=[deny()])])
    assert not result.policies
    [problem] = result.problems
    assert problem.ref == "GlobalNetworkPolicy x"
    assert problem.issues[0].field == "spec.tier"
    assert not problem.evaluated


def test_an_unknown_field_is_reported_but_the_policy_still_counts():
    policy = gnp("x", ingress=[deny()])
    policy["spec"]["egres"] = []
    result = CalicoPolicySet.from_objects([policy])
    assert [p.name for p in result.policies] == ["x"]
    assert result.problems[0].evaluated

