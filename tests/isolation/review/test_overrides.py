"""An allowlist entry is overridden when a layer before the NetworkPolicies decides what it is
meant to allow: a Calico tier before the default one, a default-tier Calico policy ordered
before the Kubernetes policies, an AdminNetworkPolicy. A Pass, the baseline and later tiers
never override an entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from isolation.reachability.engine import Cluster
from isolation.review.overrides import (
    Intended,
    addresses_in,
    entry_overrides,
    overrides,
)
from isolation.snapshot import load_snapshot
from tests.isolation.adminnetpol.houses import anp, banp, netpol, snapshot_of, team

DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"
V3 = "projectcalico.org/v3"
METADATA = "169.254.169.254"


@pytest.fixture(scope="module")
def demo():
    return load_snapshot(DEMO.read_text())


def egress_entry(cidr, port=None, excluded=()):
    peer = {"ipBlock": {"cidr": cidr, **({"except": list(excluded)} if excluded else {})}}
    rule = {"to": [peer], **({"ports": [{"port": port, "protocol": "TCP"}]} if port else {})}
    return {"egress": [rule]}


def test_the_demo_metadata_entry_is_overridden_by_the_platform_tier(demo):
    found = entry_overrides(demo, "shop", egress_entry(f"{METADATA}/32", 80))
    assert [o.describe() for o in found] == [
        "GlobalNetworkPolicy platform.deny-cloud-metadata (tier platform, egress rule 0, Deny)"]
    override = found[0]
    assert override.denies and override.platform
    assert override.source.startswith("shop/")
    assert (override.destination, override.port, override.protocol) == (METADATA, 80, "TCP")


@pytest.mark.parametrize(("cidr", "excluded", "overridden"), [
    ("169.254.0.0/16", (), True),                 # the denied address is inside the range
    ("169.254.0.0/16", (f"{METADATA}/32",), False),  # ... unless the entry leaves it out
    ("10.0.0.0/8", (), False),
    (f"{METADATA}/32", (), True),
])
def test_a_range_is_overridden_where_it_holds_a_denied_network(demo, cidr, excluded,
                                                              overridden):
    found = entry_overrides(demo, "shop", egress_entry(cidr, excluded=excluded))
    assert bool(found) is overridden
    if overridden:
        assert found[0].destination == METADATA


def test_an_entry_of_another_project_s_pods_is_not_overridden_in_the_demo(demo):
    assert entry_overrides(demo, "shop", {"ingress": [{"from": [{"namespace": {
        "name": "web"}}]}]}) == []


def tier(name, order):
    return {"apiVersion": V3, "kind": "Tier", "metadata": {"name": name}, "spec": {"order": order}}


def gnp(name, tier_name, order, **spec):
    return {"apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": name},
            "spec": {"tier": tier_name, "order": order, **spec}}


RED_TO_BLUE = [Intended(("red/red-0",), ("blue/blue-0",), ((8080, "TCP"),))]
NO_RED_IN = [{"action": "Deny", "source": {"selector": "team == 'red'"}}]
ANP_DENY = anp("no-red", 20, {"namespaces": team("blue")}, ingress=[
    {"name": "no-red", "action": "Deny", "from": [{"namespaces": team("red")}]}])
ANP_PASS = anp("pass-red", 10, {"namespaces": team("blue")}, ingress=[
    {"name": "to-projects", "action": "Pass", "from": [{"namespaces": team("red")}]}])
ANP_ALLOW = anp("allow-red", 10, {"namespaces": team("blue")}, ingress=[
    {"name": "red", "action": "Allow", "from": [{"namespaces": team("red")}]}])
BANP_DENY = banp({"namespaces": team("blue")}, ingress=[
    {"name": "no-red", "action": "Deny", "from": [{"namespaces": team("red")}]}])


@pytest.mark.parametrize(("objects", "expected"), [
    # a tier before the default one
    ([tier("platform", 100), gnp("platform.no-red", "platform", 10, selector="team == 'blue'",
                                 ingress=NO_RED_IN)],
     ["GlobalNetworkPolicy platform.no-red (tier platform, ingress rule 0, Deny)"]),
    # a tier after the default one decides only what the NetworkPolicies leave: never first
    ([tier("late", 2_000_000), gnp("late.no-red", "late", 10, selector="team == 'blue'",
                                   ingress=NO_RED_IN)], []),
    # in the default tier, before the Kubernetes policies' order 1000 ...
    ([gnp("no-red", "default", 100, selector="team == 'blue'", ingress=NO_RED_IN)],
     ["GlobalNetworkPolicy no-red (tier default, ingress rule 0, Deny)"]),
    # ... and after it
    ([gnp("no-red", "default", 2000, selector="team == 'blue'", ingress=NO_RED_IN)], []),
    # the end of a tier whose policy selects the pod
    ([tier("platform", 100), gnp("platform.blue", "platform", 10, selector="team == 'blue'",
                                 types=["Ingress"], ingress=[])],
     ["GlobalNetworkPolicy platform.blue (tier platform, end of tier, Deny)"]),
    ([ANP_DENY], ['AdminNetworkPolicy no-red (priority 20, ingress rule 0 "no-red", Deny)']),
    # a Pass of higher priority hands red to the NetworkPolicies: the deny never applies
    ([ANP_PASS, ANP_DENY], []),
    ([ANP_ALLOW], ['AdminNetworkPolicy allow-red (priority 10, ingress rule 0 "red", Allow)']),
    # the baseline comes after the NetworkPolicies
    ([BANP_DENY], []),
])
def test_only_layers_before_the_network_policies_override(objects, expected):
    blue_isolated = netpol("blue/from-red", podSelector={},
                           ingress=[{"from": [{"namespaceSelector": team("red")}]}])
    cluster = Cluster.from_snapshot(snapshot_of([*objects, blue_isolated]))
    found = overrides(cluster, RED_TO_BLUE)
    assert [o.describe() for o in found] == expected
    assert all(o.denies == ("Deny" in text) for o, text in zip(found, expected, strict=True))


def test_the_other_end_s_platform_egress_deny_overrides_an_ingress_entry():
    no_red_out = gnp("platform.red-stays", "platform", 10, selector="team == 'red'",
                     types=["Egress"], egress=[{"action": "Deny", "destination": {
                         "selector": "team == 'blue'"}}])
    snapshot = snapshot_of([tier("platform", 100), no_red_out])
    found = entry_overrides(snapshot, "blue", {"ingress": [{"from": [{"namespace": {
        "name": "red"}}], "ports": [{"port": 80, "protocol": "TCP"}]}]})
    assert [(o.ref.direction, o.ref.policy, o.source, o.destination) for o in found] == [
        ("egress", "platform.red-stays", "red/red-0", "blue/blue-0")]


def test_a_service_peer_is_tried_on_the_service_s_pods():
    snapshot = snapshot_of([ANP_DENY])
    snapshot.services.append({"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "api", "namespace": "blue"}, "spec": {"selector": {"team": "blue"}}})
    found = entry_overrides(snapshot, "red", {"egress": [{"to": [{"service": {
        "name": "api", "namespace": "blue"}}], "ports": [{"port": 8080}]}]})
    assert [o.ref.policy for o in found] == ["no-red"]
    assert found[0].destination.startswith("blue/")


def test_a_cluster_of_network_policies_only_overrides_nothing():
    cluster = Cluster.from_snapshot(snapshot_of([]))
    assert overrides(cluster, RED_TO_BLUE) == []


def test_a_named_port_is_resolved_on_the_destination_pod():
    cluster = Cluster.from_snapshot(snapshot_of([ANP_DENY]))
    found = overrides(cluster, [Intended(("red/red-0",), ("blue/blue-1",), (("web", "TCP"),))])
    assert [(o.port, o.protocol) for o in found] == [(80, "TCP")]


@pytest.mark.parametrize(("network", "excluded", "inside", "expected"), [
    ("10.0.0.0/8", (), (), ["10.0.0.1"]),
    ("10.0.0.0/8", ("10.0.0.0/24",), (), ["10.0.1.0"]),
    ("10.0.0.0/8", (), ("10.9.0.0/16", "192.168.0.0/16"), ["10.0.0.1", "10.9.0.1"]),
    ("169.254.169.254/32", (), ("169.254.0.0/16",), ["169.254.169.254"]),
])
def test_addresses_tried_in_a_range(network, excluded, inside, expected):
    import ipaddress

    assert addresses_in(ipaddress.ip_network(network), excluded,
                        [ipaddress.ip_network(n) for n in inside]) == expected
