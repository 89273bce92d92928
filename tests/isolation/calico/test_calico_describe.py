"""Calico rules read as sentences that say what, to whom, and before or after project policy."""

from __future__ import annotations

from isolation.calico.describe import describe_policy
from isolation.calico.evaluate import CalicoPolicySet
from isolation.calico.model import parse_tier


def gnp(name: str, **spec):
    return {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


def test_a_metadata_deny_reads_as_the_platform_rule_it_is():
    text = describe_policy(gnp("deny-metadata", order=10, selector="all()", egress=[
        {"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}}]))
    assert [r.sentence for r in text.rules] == [
        "Deny egress to 169.254.169.254/32 from every pod of every namespace, "
        "before any project policy"]
    assert text.directions == ("egress",)
    assert text.rules[0].field == "spec.egress[0]"


def test_a_namespaced_allow_names_peer_ports_subject_and_position():
    text = describe_policy({
        "apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"order": 2000, "selector": "app == 'web'", "ingress": [{
            "action": "Allow", "protocol": "TCP", "source": {"selector": "app == 'gw'"},
            "destination": {"ports": [8080, "9000:9010"]}}]}})
    assert text.rules[0].sentence == (
        "Allow ingress from pods with app=gw of namespace shop on TCP 8080, 9000:9010 "
        "to pods with app=web of namespace shop, after project policies")


def test_pass_and_log_say_where_the_traffic_goes_next():
    text = describe_policy(gnp("p", order=1000, selector="has(team)", namespaceSelector="env == 'prod'",
                               ingress=[{"action": "Log"}, {"action": "Pass", "protocol": "UDP"}]))
    first, second = (r.sentence for r in text.rules)
    assert first == ("Log ingress from anywhere to pods with label team of namespaces with "
                     "env=prod, then going on to the next rule, beside project policies "
                     "(same order 1000, taken by name)")
    assert "over UDP" in second and "handing the decision to the next tier" in second


def test_a_tier_after_the_default_tier_is_said_to_be_reached_only_on_pass():
    policies = CalicoPolicySet.from_objects([
        {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "late"}},
        gnp("late.catch", tier="late", ingress=[{"action": "Deny", "source": {
            "notSelector": "app == 'ok'", "notNets": ["10.0.0.0/8"]}}])])
    text = describe_policy(policies.policies[0], policies.tier("late"))
    assert text.rules[0].sentence == (
        "Deny ingress from anything but pods with app=ok and outside 10.0.0.0/8 to every pod "
        "of every namespace, after project policies (tier late): only for traffic the default "
        "tier passes on or does not decide")


def test_an_earlier_tier_runs_before_any_project_policy():
    tier = parse_tier({"metadata": {"name": "platform"}, "spec": {"order": 100}})
    text = describe_policy(gnp("platform.x", tier="platform", egress=[{"action": "Deny"}]), tier)
    assert text.position == "before any project policy (tier platform)"
    assert text.name == "platform.x"


def test_a_pre_dnat_policy_is_marked_as_acting_on_hosts():
    text = describe_policy(gnp("nodeports", preDNAT=True, applyOnForward=True, ingress=[
        {"action": "Deny", "source": {"nets": ["0.0.0.0/0"]}}]))
    assert text.host_only
