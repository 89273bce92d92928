"""Calico's CRD-stored policy kinds in the whole-cluster snapshot: read by group and kind when
their CRDs exist, none when they do not."""

from __future__ import annotations

from kubesim.policy_crds import calico_policy_crds
from tests.cluster.objects import namespace, network_policy

CALICO = "crd.projectcalico.org/v1"


def _calico(kind, name, namespace_=None, **spec):
    metadata = {"name": name, **({"namespace": namespace_} if namespace_ else {})}
    return {"apiVersion": CALICO, "kind": kind, "metadata": metadata, "spec": spec}


def test_calico_policies_are_read_by_group_never_as_kubernetes_ones(gateway):
    for crd in calico_policy_crds():
        gateway.create(crd)
    gateway.create(namespace("shop"))
    gateway.create(network_policy("shop", "same-name"))
    gateway.create(_calico("NetworkPolicy", "same-name", "shop", selector="all()",
                           ingress=[{"action": "Deny"}]))
    gateway.create(_calico("Tier", "platform", order=100))
    gateway.create(_calico("GlobalNetworkPolicy", "platform.deny-metadata", tier="platform",
                           selector="all()", egress=[{"action": "Deny", "destination": {
                               "nets": ["169.254.169.254/32"]}}]))
    gateway.create(_calico("HostEndpoint", "node-1-eth0", node="node-1",
                           interfaceName="eth0"))

    snap = gateway.snapshot()

    assert [p["apiVersion"] for p in snap.network_policies] == ["networking.k8s.io/v1"]
    assert [(p["apiVersion"], p["kind"], p["metadata"]["name"])
            for p in snap.calico_network_policies] == [(CALICO, "NetworkPolicy", "same-name")]
    assert [p["metadata"]["name"] for p in snap.calico_global_network_policies] == [
        "platform.deny-metadata"]
    assert [t["metadata"]["name"] for t in snap.calico_tiers] == ["platform"]
    assert [h["metadata"]["name"] for h in snap.calico_host_endpoints] == ["node-1-eth0"]


def test_a_cluster_without_calico_crds_reads_as_none(gateway):
    gateway.create(namespace("shop"))

    snap = gateway.snapshot()

    assert snap.calico_network_policies == snap.calico_global_network_policies == []
    assert snap.calico_tiers == snap.calico_host_endpoints == []
