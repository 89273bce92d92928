"""A review sees every layer the engine evaluates: Calico tiers, AdminNetworkPolicies (Pass
included) and the baseline decide around the NetworkPolicies in impact previews and lint as
they do in Reachability › Check, and a change to such an object is reviewable too."""

from __future__ import annotations

import pytest

from isolation.reachability.engine import Cluster, diff
from isolation.review.clusters import ChangeClusters, object_key, with_objects
from isolation.review.impact import impact_of, with_policies
from tests.isolation.adminnetpol.houses import anp, banp, netpol, snapshot_of, team

V3 = "projectcalico.org/v3"
PLATFORM_TIER = {"apiVersion": V3, "kind": "Tier", "metadata": {"name": "platform"},
                 "spec": {"order": 100}}


def gnp(name: str, **spec) -> dict:
    return {"apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": name},
            "spec": {"tier": "platform", "order": 10, **spec}}


# Blue's pods admit nothing from red, before any project policy.
GNP_RED_TO_BLUE = gnp("platform.no-red-to-blue", selector="team == 'blue'", types=["Ingress"],
                      ingress=[{"action": "Deny", "source": {"selector": "team == 'red'"}},
                               {"action": "Pass"}])
GNP_NO_METADATA = gnp("platform.no-metadata", selector="all()", types=["Egress"],
                      egress=[{"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}},
                              {"action": "Pass"}])
ANP_DENY_RED = anp("no-red-to-blue", 20, {"namespaces": team("blue")}, ingress=[
    {"name": "no-red", "action": "Deny", "from": [{"namespaces": team("red")}]}])
ANP_PASS_RED = anp("red-to-blue-is-the-projects-call", 10, {"namespaces": team("blue")},
                   ingress=[{"name": "red", "action": "Pass",
                             "from": [{"namespaces": team("red")}]}])
BANP_DENY_RED = banp({"namespaces": team("blue")}, ingress=[
    {"name": "no-red", "action": "Deny", "from": [{"namespaces": team("red")}]}])

BLUE_CLOSED = netpol("blue/closed", podSelector={}, policyTypes=["Ingress"])
BLUE_FROM_RED = netpol("blue/from-red", podSelector={},
                       ingress=[{"from": [{"namespaceSelector": team("red")}]}])


def pairs(connections) -> set[tuple[str, str]]:
    """(source namespace or address, destination namespace) of each connection."""
    return {(c.src.split("/")[0], c.dst.split("/")[0]) for c in connections}


def engine_diff(before, after, outside):
    """What Reachability › Check says changes: the engine over each whole snapshot."""
    return diff(Cluster.from_snapshot(before, outside), Cluster.from_snapshot(after, outside))


@pytest.mark.parametrize(("platform", "added", "blocked", "allowed"), [
    # no platform policy: closing blue cuts every team (blue's own pods from each other
    # too) and the outside
    ([], BLUE_CLOSED, {"red", "blue", "green", "gold", "198.18.0.1"}, set()),
    # a Calico deny before the default tier already stops red: closing blue cannot cut it
    ([PLATFORM_TIER, GNP_RED_TO_BLUE], BLUE_CLOSED, {"blue", "green", "gold", "198.18.0.1"}, set()),
    # an ANP deny does the same
    ([ANP_DENY_RED], BLUE_CLOSED, {"blue", "green", "gold", "198.18.0.1"}, set()),
    # ... unless an ANP of higher priority passes red on to the projects' policies
    ([ANP_PASS_RED, ANP_DENY_RED], BLUE_CLOSED, {"red", "blue", "green", "gold", "198.18.0.1"}, set()),
    # the baseline denies red while no NetworkPolicy selects blue; one that admits red opens it
    ([BANP_DENY_RED], BLUE_FROM_RED, {"blue", "green", "gold", "198.18.0.1"}, {"red"}),
    ([], BLUE_FROM_RED, {"blue", "green", "gold", "198.18.0.1"}, set()),
])
def test_adding_a_network_policy_is_reviewed_with_the_platform_layers(platform, added,
                                                                      blocked, allowed):
    before = snapshot_of(platform)
    after = with_policies(before, upsert=[added])
    impact = impact_of(before, after)
    assert pairs(impact.newly_blocked) == {(source, "blue") for source in blocked}
    assert pairs(impact.newly_allowed) == {(source, "blue") for source in allowed}
    clusters = ChangeClusters.of(before, after)
    assert (impact.newly_allowed, impact.newly_blocked) == astuple(
        engine_diff(before, after, clusters.outside))


def astuple(change):
    return change.newly_allowed, change.newly_blocked


def test_an_allow_to_the_metadata_address_changes_nothing_under_a_calico_deny():
    egress_to_blue = netpol("red/egress", podSelector={}, policyTypes=["Egress"],
                            egress=[{"to": [{"namespaceSelector": team("blue")}]}])
    before = snapshot_of([PLATFORM_TIER, GNP_NO_METADATA, egress_to_blue])
    metadata = netpol("red/metadata", podSelector={}, policyTypes=["Egress"], egress=[
        {"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}], "ports": [{"port": 80}]}])
    after = with_policies(before, upsert=[metadata])
    clusters = ChangeClusters.of(before, after)
    verdict = clusters.after.check("red/red-0", "169.254.169.254", 80)
    assert not verdict.allowed
    assert (verdict.egress.decided_by.kind, verdict.egress.decided_by.policy) == (
        "GlobalNetworkPolicy", "platform.no-metadata")
    assert impact_of(before, after, clusters=clusters).unchanged
    # without the platform tier the same policy opens the address
    bare = ChangeClusters.of(snapshot_of([egress_to_blue]),
                             with_policies(snapshot_of([egress_to_blue]), upsert=[metadata]))
    assert bare.after.check("red/red-0", "169.254.169.254", 80).allowed


def test_both_sides_check_as_the_engine_does():
    snapshot = snapshot_of([PLATFORM_TIER, GNP_RED_TO_BLUE, GNP_NO_METADATA, ANP_PASS_RED,
                            BANP_DENY_RED, BLUE_FROM_RED])
    clusters = ChangeClusters.of(snapshot, snapshot)
    engine = Cluster.from_snapshot(snapshot)
    for source, destination in [("red/red-0", "blue/blue-0"), ("green/green-1", "blue/blue-0"),
                                ("blue/blue-1", "169.254.169.254"), ("gold/gold-0", "red/red-1")]:
        expected = engine.check(source, destination, 80)
        for side in (clusters.before, clusters.after, clusters.after_declared):
            assert side.check(source, destination, 80) == expected
    assert clusters.before.matrix().counts() == engine.matrix().counts()


def test_platform_objects_in_both_sides_are_parsed_once():
    before = snapshot_of([PLATFORM_TIER, GNP_RED_TO_BLUE, ANP_DENY_RED, BANP_DENY_RED])
    clusters = ChangeClusters.of(before, with_policies(before, upsert=[BLUE_CLOSED]))
    assert clusters.before_side.calico is clusters.after_side.calico
    assert all(a is b for a, b in zip(clusters.before_side.admin, clusters.after_side.admin,
                                      strict=True))


V1_GNP_RED_TO_BLUE = {**GNP_RED_TO_BLUE, "apiVersion": "crd.projectcalico.org/v1"}


@pytest.mark.parametrize(("start", "change", "blocked", "allowed"), [
    # a new platform deny is reviewed like a NetworkPolicy
    ([], {"upsert": [PLATFORM_TIER, GNP_RED_TO_BLUE]}, {("red", "blue")}, set()),
    # deleting the ANP deny (by group, kind and name) opens red to blue again
    ([ANP_DENY_RED],
     {"remove": [("policy.networking.k8s.io", "AdminNetworkPolicy", "", "no-red-to-blue")]},
     set(), {("red", "blue")}),
    # a Calico object stored in one of Calico's API groups is named in either
    ([PLATFORM_TIER, V1_GNP_RED_TO_BLUE],
     {"remove": [("projectcalico.org", "GlobalNetworkPolicy", "", "platform.no-red-to-blue")]},
     set(), {("red", "blue")}),
    # deleting the baseline opens red to blue, which no NetworkPolicy selects
    ([BANP_DENY_RED], {"remove": [("policy.networking.k8s.io", "BaselineAdminNetworkPolicy",
                                   "", "default")]}, set(), {("red", "blue")}),
])
def test_changes_to_platform_objects_are_reviewable(start, change, blocked, allowed):
    before = snapshot_of(start)
    after = with_objects(before, **change)
    impact = impact_of(before, after)
    assert pairs(impact.newly_blocked) == blocked
    assert pairs(impact.newly_allowed) == allowed


def test_a_replaced_platform_object_keeps_every_other_object():
    before = snapshot_of([PLATFORM_TIER, GNP_RED_TO_BLUE, BLUE_FROM_RED])
    opened = gnp("platform.no-red-to-blue", selector="team == 'blue'", types=["Ingress"],
                 ingress=[{"action": "Pass"}])
    after = with_objects(before, upsert=[opened])
    assert after.calico_global_network_policies == [opened]
    assert after.calico_tiers == before.calico_tiers
    assert after.network_policies[0] is before.network_policies[0]
    assert before.calico_global_network_policies == [GNP_RED_TO_BLUE]
    assert object_key(opened) == ("projectcalico.org", "GlobalNetworkPolicy", "",
                                  "platform.no-red-to-blue")
    assert pairs(impact_of(before, after).newly_allowed) == {("red", "blue")}


def test_a_kind_no_engine_evaluates_cannot_be_changed_here():
    with pytest.raises(KeyError):
        with_objects(snapshot_of([]), remove=[("", "Pod", "red", "red-0")])
