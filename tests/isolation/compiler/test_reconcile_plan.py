"""The reconcile planner: what to create, update and delete, and what never to touch."""

from __future__ import annotations

import copy

import pytest

from isolation.compiler.generate import IsolationSettings, desired_policies
from isolation.compiler.reconcile import Plan, canonical_spec, is_ours, plan_reconcile
from tests.golden.scenarios import add_entry, cluster, isolate_project, isolate_workspace, ns_peer


def _desired():
    snapshot = isolate_project(isolate_workspace(cluster(), "team-a"), "shop")
    add_entry(snapshot, "shop", "to-audit", egress=[{"to": [ns_peer("audit")]}])
    return desired_policies(snapshot, IsolationSettings()).policies


def _as_served(policy, uid="1"):
    """The object as the API server returns it: server fields added, defaults applied."""
    served = copy.deepcopy(policy)
    served["metadata"].update(uid=uid, resourceVersion="42", generation=3,
                              creationTimestamp="2026-01-01T00:00:00Z",
                              managedFields=[{"manager": "console"}])
    served["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    served["status"] = {}
    return served


def _find(policies, namespace, name):
    return next(p for p in policies if p["metadata"]["namespace"] == namespace
                and p["metadata"]["name"] == name)


def _foreign(namespace, name):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def test_an_empty_cluster_gets_every_policy_created():
    desired = _desired()
    plan = plan_reconcile(desired, [])
    assert plan.creates == desired
    assert plan.updates == [] and plan.deletes == [] and plan.conflicts == []
    assert plan.writes == len(desired)


def test_a_cluster_in_step_needs_no_write():
    desired = _desired()
    plan = plan_reconcile(desired, [_as_served(p) for p in desired])
    assert plan == Plan()
    assert plan.in_step and plan.writes == 0


def test_api_defaults_on_the_cluster_side_do_not_count_as_differences():
    desired = _desired()
    served = [_as_served(p) for p in desired]
    for policy in served:
        for rule in policy["spec"].get("egress", []):
            for port in rule.get("ports", []):
                if port["protocol"] == "TCP":
                    del port["protocol"]            # what a hand-written object omits
            rule.setdefault("ports", [])            # empty list: same as absent
        policy["spec"]["policyTypes"].reverse()
        policy["spec"]["podSelector"] = {"matchLabels": {}}
    assert plan_reconcile(desired, served).in_step


def test_a_policy_edited_with_kubectl_is_rewritten_and_reported_as_drift():
    desired = _desired()
    served = [_as_served(p) for p in desired]
    edited = _find(served, "shop", "nsnp-network-isolate")
    edited["spec"]["ingress"][0]["from"].append({"namespaceSelector": {}})
    plan = plan_reconcile(desired, served)
    assert plan.updates == [_find(desired, "shop", "nsnp-network-isolate")]
    assert plan.previous[("shop", "nsnp-network-isolate")] is edited
    assert plan.drift == ["shop/nsnp-network-isolate differs from its source (spec); it will "
                          "be rewritten"]


def test_a_changed_source_annotation_is_rewritten():
    desired = _desired()
    served = [_as_served(p) for p in desired]
    _find(served, "audit", "nsnp-network-isolate")["metadata"]["annotations"][
        "isolation.tenant-console.io/source"] = "namespace/audit"
    plan = plan_reconcile(desired, served)
    assert [p["metadata"]["namespace"] for p in plan.updates] == ["audit"]
    assert "source annotation" in plan.drift[0]


def test_a_generated_policy_deleted_with_kubectl_is_recreated():
    desired = _desired()
    served = [_as_served(p) for p in desired if p["metadata"]["name"] != "nsnp-to-audit"]
    plan = plan_reconcile(desired, served)
    assert [p["metadata"]["name"] for p in plan.creates] == ["nsnp-to-audit"]
    assert plan.drift == ["shop/nsnp-to-audit is missing; it will be created"]


def test_our_policies_no_longer_desired_are_deleted():
    desired = _desired()
    stray = _as_served(_find(desired, "shop", "nsnp-to-audit"))
    stray["metadata"]["name"] = "nsnp-old-entry"
    served = [_as_served(p) for p in desired] + [stray]
    plan = plan_reconcile(desired, served)
    assert plan.deletes == [("shop", "nsnp-old-entry")]
    assert plan.previous == {("shop", "nsnp-old-entry"): stray}


def test_switching_isolation_off_deletes_only_our_policies():
    served = [_as_served(p) for p in _desired()] + [_foreign("shop", "nsnp-by-hand"),
                                                   _foreign("shop", "default-deny")]
    plan = plan_reconcile([], served)
    assert plan.deletes == [("audit", "nsnp-network-isolate"), ("billing", "nsnp-network-isolate"),
                            ("shop", "nsnp-network-isolate"), ("shop", "nsnp-to-audit")]


@pytest.mark.parametrize("strip", ["label", "annotation", "both"])
def test_a_same_named_policy_not_ours_is_a_conflict_and_never_written(strip):
    desired = _desired()
    served = [_as_served(p) for p in desired]
    theirs = _find(served, "shop", "nsnp-network-isolate")
    if strip in ("label", "both"):
        theirs["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "kubesphere"}
    if strip in ("annotation", "both"):
        del theirs["metadata"]["annotations"]["isolation.tenant-console.io/source"]
    plan = plan_reconcile(desired, served)
    assert plan.writes == 0
    assert len(plan.conflicts) == 1 and plan.conflicts[0].startswith("shop/nsnp-network-isolate")


def test_kubesphere_generated_policies_are_conflicts_not_overwritten():
    desired = _desired()
    kubesphere = desired_policies(
        isolate_project(isolate_workspace(cluster(), "team-a"), "shop"),
        IsolationSettings(engine_mode="kubesphere")).policies
    plan = plan_reconcile(desired, kubesphere)
    assert plan.updates == [] and plan.deletes == []
    assert [c.split(" ")[0] for c in plan.conflicts] == [
        "audit/nsnp-network-isolate", "billing/nsnp-network-isolate", "shop/nsnp-network-isolate"]
    assert [p["metadata"]["name"] for p in plan.creates] == ["nsnp-to-audit"]


def test_the_namespace_scope_limits_both_sides():
    desired = _desired()
    served = [_as_served(p) for p in desired if p["metadata"]["namespace"] != "audit"]
    served.append(_as_served({**_find(desired, "shop", "nsnp-to-audit"),
                              "metadata": {**_find(desired, "shop", "nsnp-to-audit")["metadata"],
                                           "namespace": "billing"}}))
    plan = plan_reconcile(desired, served, namespaces={"shop"})
    assert plan.in_step
    plan = plan_reconcile(desired, served, namespaces={"audit", "billing"})
    assert [p["metadata"]["namespace"] for p in plan.creates] == ["audit"]
    assert plan.deletes == [("billing", "nsnp-to-audit")]


def test_the_plan_is_sorted_whatever_the_input_order():
    desired = _desired()
    plan = plan_reconcile(list(reversed(desired)), [])
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in plan.creates]
    assert keys == sorted(keys)


def test_duplicate_desired_policies_are_refused():
    desired = _desired()
    with pytest.raises(ValueError, match="generated twice"):
        plan_reconcile(desired + desired[:1], [])


def test_applying_a_plan_then_planning_again_gives_no_write():
    desired = _desired()
    cluster_state = {("shop", "nsnp-by-hand"): _foreign("shop", "nsnp-by-hand")}
    plan = plan_reconcile(desired, list(cluster_state.values()))
    for policy in plan.creates + plan.updates:
        key = (policy["metadata"]["namespace"], policy["metadata"]["name"])
        cluster_state[key] = _as_served(policy)
    for key in plan.deletes:
        del cluster_state[key]
    assert plan_reconcile(desired, list(cluster_state.values())).in_step


@pytest.mark.parametrize("policy, ours", [
    ({"metadata": {"labels": {"app.kubernetes.io/managed-by": "tenant-isolation-console"},
                   "annotations": {"isolation.tenant-console.io/source": "namespace/x"}}}, True),
    ({"metadata": {"labels": {"app.kubernetes.io/managed-by": "tenant-isolation-console"},
                   "annotations": {"isolation.tenant-console.io/source": ""}}}, False),
    ({"metadata": {"labels": {"app.kubernetes.io/managed-by": "tenant-isolation-console"}}},
     False),
    ({"metadata": {"annotations": {"isolation.tenant-console.io/source": "namespace/x"}}}, False),
    ({"metadata": {"labels": None, "annotations": "x"}}, False),
    ({}, False),
])
def test_ownership_needs_both_the_label_and_the_source_annotation(policy, ours):
    assert is_ours(policy) is ours


def test_canonical_spec_keeps_selectors_that_differ_in_meaning():
    one = {"spec": {"ingress": [{"from": [{"namespaceSelector": {}}]}]}}
    other = {"spec": {"ingress": [{"from": [{"podSelector": {}}]}]}}
    assert canonical_spec(one) != canonical_spec(other)
    assert canonical_spec({"spec": {"ingress": [{}]}}) != canonical_spec({"spec": {"ingress": []}})
