"""The reader files AdminNetworkPolicies by API group and kind, never by kind alone."""

from __future__ import annotations

import pytest

from isolation.snapshot import Snapshot, SnapshotError, field_of, load_snapshot

ADMIN = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-metadata}
spec:
  priority: 10
  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{networks: [169.254.169.254/32]}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec: {subject: {namespaces: {}}}
"""
ELSEWHERE = """\
apiVersion: v1
kind: AdminNetworkPolicy
metadata: {name: wrong-group}
spec: {priority: 1, subject: {namespaces: {}}}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: AdminNetworkPolicy
metadata: {name: other-version}
spec: {priority: 1, subject: {namespaces: {}}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: calico-deny}
spec: {selector: all()}
---
apiVersion: crd.projectcalico.org/v1
kind: NetworkPolicy
metadata: {name: calico-np, namespace: shop}
spec: {selector: all()}
"""


def test_admin_policies_of_their_group_are_read():
    snapshot = load_snapshot(ADMIN)
    assert [p["metadata"]["name"] for p in snapshot.admin_network_policies] == ["deny-metadata"]
    assert [p["metadata"]["name"] for p in snapshot.baseline_admin_network_policies] == [
        "default"]
    assert snapshot.ignored == [] and snapshot.network_policies == []
    assert load_snapshot(ADMIN, engine_fields_only=True).objects() == snapshot.objects()


def test_the_same_kinds_of_another_group_or_version_are_ignored_with_a_warning():
    snapshot = load_snapshot(ADMIN + "---\n" + ELSEWHERE)
    assert [p["metadata"]["name"] for p in snapshot.admin_network_policies] == ["deny-metadata"]
    assert snapshot.ignored == [
        "v1 AdminNetworkPolicy wrong-group",
        "policy.networking.k8s.io/v1alpha2 AdminNetworkPolicy other-version",
    ]
    assert [p["metadata"]["name"] for p in snapshot.calico_global_network_policies] == [
        "calico-deny"]
    assert [p["metadata"]["name"] for p in snapshot.calico_network_policies] == ["calico-np"]
    assert snapshot.network_policies == []
    with pytest.raises(SnapshotError, match="apiVersion 'v1' is not served for kind "
                                            "AdminNetworkPolicy"):
        load_snapshot(ELSEWHERE, allow_unknown_kinds=False)


def test_objects_are_filed_by_group_and_kind():
    assert field_of({"apiVersion": "policy.networking.k8s.io/v1alpha1",
                     "kind": "AdminNetworkPolicy"}) == "admin_network_policies"
    assert field_of({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy"}) == \
        "calico_network_policies"
    assert field_of({"apiVersion": "projectcalico.org/v2", "kind": "NetworkPolicy"}) is None
    assert field_of({"kind": "BaselineAdminNetworkPolicy"}) == "baseline_admin_network_policies"
    snapshot = Snapshot()
    with pytest.raises(KeyError):
        snapshot.add({"apiVersion": "example.com/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "x", "namespace": "shop"}})
    snapshot.add({"apiVersion": "policy.networking.k8s.io/v1alpha1",
                  "kind": "AdminNetworkPolicy", "metadata": {"name": "a"}})
    assert len(snapshot.admin_network_policies) == 1
    assert snapshot.with_network_policies([]).admin_network_policies == \
        snapshot.admin_network_policies


def test_the_same_admin_policy_twice_is_refused():
    with pytest.raises(SnapshotError, match="appears twice"):
        load_snapshot(ADMIN + "---\n" + ADMIN)
