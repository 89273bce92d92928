"""The whole-cluster snapshot the domain engines read."""

from __future__ import annotations

import pytest

from cluster.errors import MissingCRDError
from tests.cluster.objects import namespace, network_policy, nsnp, pod, workspace


def populate(gw, namespaces=("shop", "bank")):
    gw.create(workspace("team-a", isolated=True))
    for i, ns in enumerate(namespaces):
        gw.create(namespace(ns, **{"kubesphere.io/workspace": "team-a"}))
        gw.create(pod(ns, "web", ip=f"10.0.{i}.1", app="web"))
        gw.create(network_policy(ns, "allow-web"))
        gw.create(nsnp(ns, "office"))


def names(objects):
    return sorted(f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}" for o in objects)


def test_snapshot_holds_every_kind_as_plain_api_objects(gateway_with_crds):
    populate(gateway_with_crds)

    snap = gateway_with_crds.snapshot()

    assert {"/shop", "/bank"} <= set(names(snap.namespaces))
    assert names(snap.pods) == ["bank/web", "shop/web"]
    assert names(snap.network_policies) == ["bank/allow-web", "shop/allow-web"]
    assert names(snap.workspaces) == ["/team-a"]
    assert names(snap.nsnps) == ["bank/office", "shop/office"]
    assert all(obj["kind"] and obj["apiVersion"] for obj in snap.objects())
    assert not any("managedFields" in obj["metadata"] for obj in snap.objects())
    assert snap.pods[0]["spec"]["containers"][0]["ports"][0]["containerPort"] == 80


@pytest.mark.parametrize("count", [2, 12])  # per-namespace reads, and cluster-wide filtered
def test_snapshot_limited_to_namespaces_leaves_the_others_out(gateway_with_crds, count):
    wanted = [f"p-{i}" for i in range(count)]
    populate(gateway_with_crds, [*wanted, "other"])

    snap = gateway_with_crds.snapshot(namespaces=wanted)

    assert names(snap.namespaces) == sorted(f"/{ns}" for ns in wanted)
    assert not any("managedFields" in obj["metadata"] for obj in snap.objects())
    assert names(snap.pods) == sorted(f"{ns}/web" for ns in wanted)
    assert names(snap.nsnps) == sorted(f"{ns}/office" for ns in wanted)
    assert names(snap.workspaces) == ["/team-a"]  # cluster-scoped kinds stay complete


def test_snapshot_of_an_absent_namespace_is_empty_not_an_error(gateway_with_crds):
    snap = gateway_with_crds.snapshot(namespaces=["ghost"])

    assert snap.namespaces == [] and snap.pods == []


def test_snapshot_of_a_cluster_without_the_crds_still_has_its_policies(gateway):
    gateway.create(namespace("shop"))
    gateway.create(network_policy("shop", "allow-web"))

    snap = gateway.snapshot()

    assert snap.workspaces == [] and snap.nsnps == [] and snap.ip_pools == []
    assert names(snap.network_policies) == ["shop/allow-web"]


def test_strict_snapshot_refuses_a_cluster_without_the_crds(gateway):
    with pytest.raises(MissingCRDError):
        gateway.snapshot(strict=True)
