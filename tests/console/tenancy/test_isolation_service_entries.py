"""Allowlist entries (NamespaceNetworkPolicies): add, change, delete, validation, conflicts."""

from __future__ import annotations

import re

import pytest

from cluster.errors import NotFoundError
from console.core import cluster, jobs
from console.core.models import Change, Job, JobStatus
from console.tenancy import reconcile
from console.tenancy import services as iso

pytestmark = pytest.mark.django_db(transaction=True)

API = "/apis/networking.k8s.io/v1/namespaces"
NSNP = "/apis/network.kubesphere.io/v1alpha1/namespaces"
TO_BANK = {"egress": [{"to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}],
                       "ports": [{"protocol": "TCP", "port": 443}]}]}


@pytest.fixture
def in_step(demo_cluster, api_writes, personas):
    reconcile.repair_drift()
    Change.objects.all().delete()
    api_writes.clear()
    return demo_cluster


def finished(job: Job) -> Job:
    job.refresh_from_db()
    assert job.finished
    return job


def entry(name: str, namespace: str = "billing") -> dict:
    return cluster.gateway().get_object("NamespaceNetworkPolicy", name, namespace)


def test_adding_an_entry_writes_it_and_its_generated_policy(in_step, api_writes, personas):
    spec = {"ingress": [{"from": [{"namespace": {"name": "catalog"}}],
                         "ports": [{"protocol": "TCP", "port": 8080}]}]}
    job = finished(iso.start_save_entry(personas["carol"], "billing", None, spec))
    assert job.status == JobStatus.SUCCEEDED, job.error
    name = job.params["name"]
    assert re.fullmatch(r"policy-from-[0-9a-z]{6}", name)
    assert api_writes == [("POST", f"{NSNP}/billing/namespacenetworkpolicies"),
                          ("POST", f"{API}/billing/networkpolicies")]
    saved = entry(name)
    assert saved["spec"] == spec
    assert saved["metadata"]["labels"] == {"kubesphere.io/policy-type": "ingress",
                                           "kubesphere.io/policy-traffic": "inside"}
    generated = cluster.gateway().get_object("NetworkPolicy", f"nsnp-{name}", "billing")
    assert generated["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8080}]
    change = Change.objects.get(job=job)
    assert change.before_objects == [] and change.after_objects[0]["spec"] == spec
    assert f"nsnp-{name}" in change.generated_after_yaml


def test_an_egress_entry_gets_a_policy_to_name(in_step, personas):
    job = finished(iso.start_save_entry(personas["carol"], "billing", None, TO_BANK))
    assert job.params["name"].startswith("policy-to-")


def test_changing_an_entry_replaces_it_and_rewrites_only_its_policy(
        in_step, api_writes, personas):
    current = entry("policy-to-bank")
    job = finished(iso.start_save_entry(personas["carol"], "billing", "policy-to-bank", TO_BANK,
                                        resource_version=current["metadata"]["resourceVersion"]))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert api_writes == [
        ("PUT", f"{NSNP}/billing/namespacenetworkpolicies/policy-to-bank"),
        ("PUT", f"{API}/billing/networkpolicies/nsnp-policy-to-bank")]
    assert entry("policy-to-bank")["spec"] == TO_BANK
    # The description the entry carried is kept.
    assert entry("policy-to-bank")["metadata"]["annotations"]["kubesphere.io/description"]


def test_deleting_an_entry_deletes_its_generated_policy(in_step, api_writes, personas):
    job = finished(iso.start_delete_entry(personas["carol"], "billing", "policy-from-shop"))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert api_writes == [
        ("DELETE", f"{NSNP}/billing/namespacenetworkpolicies/policy-from-shop"),
        ("DELETE", f"{API}/billing/networkpolicies/nsnp-policy-from-shop")]
    change = Change.objects.get(job=job)
    assert change.after_objects == [] and "policy-from-shop" in change.before_yaml
    with pytest.raises(NotFoundError):
        entry("policy-from-shop")


def test_an_entry_of_a_project_without_isolation_is_saved_but_inactive(
        in_step, api_writes, personas):
    spec = {"ingress": [{"from": [{"namespace": {"name": "billing"}}]}]}
    preview = iso.preview_entry("shop", None, spec)
    assert preview.valid and any("inactive" in p for p in preview.problems)
    finished(iso.start_save_entry(personas["bob"], "shop", None, spec))
    assert [verb for verb, _ in api_writes] == ["POST"]
    state = iso.project_state("shop")
    assert len(state.entries) == 1 and not state.entries[0].active


@pytest.mark.parametrize(("spec", "field", "words"), [
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
     "spec.egress[0].to[0].ipBlock.cidr", "not a valid CIDR"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}]},
     "spec.egress[0].to[0].ipBlock.except[0]", "strictly inside"),
    ({"egress": [{"to": [{"service": {"name": "nope", "namespace": "catalog"}}]}]},
     "spec.egress[0].to[0].service.name", "does not exist"),
    ({"ingress": [{"from": [{"namespace": {"name": "web"}}]}]},
     "spec.ingress[0].from[0].namespace.name", "team-b"),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                   "ports": [{"protocol": "TCP", "port": 70000}]}]},
     "spec.ingress[0].ports[0].port", "between 1 and 65535"),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                   "ports": [{"protocol": "ICMP", "port": 1}]}]},
     "spec.ingress[0].ports[0].protocol", "TCP, UDP or SCTP"),
    ({}, "spec", "at least one"),
])
def test_an_invalid_entry_is_refused_and_nothing_is_written(
        in_step, api_writes, personas, spec, field, words):
    preview = iso.preview_entry("billing", None, spec)
    assert not preview.valid and preview.impact is None
    with pytest.raises(iso.IntentError) as refused:
        iso.start_save_entry(personas["carol"], "billing", None, spec)
    messages = dict(refused.value.issues)
    assert field in messages and words in messages[field]
    assert dict(preview.issues) == messages
    assert api_writes == [] and not Job.objects.exists()


def test_the_reserved_name_is_refused(in_step, personas):
    with pytest.raises(iso.IntentError) as refused:
        iso.start_save_entry(personas["carol"], "billing", "network-isolate", TO_BANK)
    assert "metadata.name" in dict(refused.value.issues)


def test_deleting_an_entry_that_does_not_exist_is_refused(in_step, personas):
    with pytest.raises(iso.IntentError):
        iso.start_delete_entry(personas["carol"], "billing", "no-such-entry")
    assert not iso.preview_entry_delete("billing", "no-such-entry").valid


def test_saving_over_a_version_changed_since_it_was_opened_is_a_conflict(
        in_step, api_writes, personas):
    opened = entry("policy-to-bank")["metadata"]["resourceVersion"]
    theirs = {"egress": [{"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]}]}
    cluster.gateway().merge_patch("NamespaceNetworkPolicy", "policy-to-bank",
                                  {"spec": theirs}, namespace="billing")
    api_writes.clear()
    with pytest.raises(iso.IntentError) as refused:
        iso.start_save_entry(personas["carol"], "billing", "policy-to-bank", TO_BANK,
                             resource_version=opened)
    assert "changed by someone else" in dict(refused.value.issues)["metadata.resourceVersion"]
    assert api_writes == []


def test_a_conflict_that_happens_while_the_job_waits_fails_it_visibly(
        in_step, api_writes, personas):
    opened = entry("policy-to-bank")["metadata"]["resourceVersion"]
    theirs = {"egress": [{"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]}]}
    cluster.gateway().merge_patch("NamespaceNetworkPolicy", "policy-to-bank",
                                  {"spec": theirs}, namespace="billing")
    api_writes.clear()
    # As if the entry changed between the start check and the job.
    job = finished(jobs.start("isolation-entry-save", target="project/billing", params={
        "project": "billing", "name": "policy-to-bank", "spec": TO_BANK, "create": False,
        "resource_version": opened}, user=personas["carol"], project="billing"))
    assert job.status == JobStatus.FAILED
    assert "changed by someone else since you opened it" in job.error
    assert api_writes == []
    assert entry("policy-to-bank")["spec"] == theirs


def test_an_entry_whose_service_disappears_shows_its_problem(in_step, personas):
    cluster.gateway().delete("Service", "catalog-api", namespace="catalog")
    state = iso.project_state("billing")
    broken = next(e for e in state.entries if e.name == "policy-to-catalog")
    assert not broken.active and "does not exist" in broken.problem
    assert all(e.active for e in state.entries if e.name != "policy-to-catalog")
    # Its generated policy is no longer wanted: drift until the next reconcile.
    assert not state.in_step


def test_project_state_describes_entries_for_the_pages(in_step):
    state = iso.project_state("billing")
    assert state.mode == "project" and state.in_step and state.status == "in step"
    entries = {e.name: e for e in state.entries}
    bank = entries["policy-to-bank"]
    assert bank.directions == ("egress",) and bank.kind == "external"
    assert bank.peers == ["198.51.100.0/24 except 198.51.100.128/25"]
    assert bank.ports == ["TCP 443"] and bank.resource_version
    assert entries["policy-to-catalog"].peers == ["Service catalog/catalog-api"]
    assert entries["policy-from-shop"].kind == "internal"
    assert [e.name for e in state.entries_for("ingress")] == ["policy-from-clients",
                                                               "policy-from-shop"]
    assert {p["metadata"]["name"] for p in state.generated} == {
        "nsnp-network-isolate", "nsnp-policy-from-clients", "nsnp-policy-from-shop",
        "nsnp-policy-to-bank", "nsnp-policy-to-catalog"}


def test_an_entry_preview_shows_the_policy_it_generates_and_the_impact(in_step):
    spec = {"ingress": [{"from": [{"namespace": {"name": "catalog"}}]}]}
    preview = iso.preview_entry("billing", None, spec)
    assert preview.valid and preview.name.startswith("policy-from-")
    after = {p["metadata"]["name"] for p in preview.generated_after}
    assert f"nsnp-{preview.name}" in after
    assert preview.impact is not None and preview.impact.newly_allowed
    assert all(c.src.startswith("catalog/") for c in preview.impact.newly_allowed)


def redeliver(kind: str, params: dict, **fields) -> Job:
    """Run a job as a second delivery would: it was claimed once before."""
    job = Job.objects.create(kind=kind, params=params, attempts=1, **fields)
    assert jobs.claim(job.pk) == "claimed"
    jobs.run(job.pk)
    return finished(job)


def test_a_redelivered_entry_job_finds_its_work_done_and_writes_nothing(
        in_step, api_writes, personas):
    spec = {"ingress": [{"from": [{"namespace": {"name": "catalog"}}],
                         "ports": [{"port": 8080}]}]}   # the server adds protocol: TCP
    first = finished(iso.start_save_entry(personas["carol"], "billing", None, spec))
    api_writes.clear()
    again = redeliver("isolation-entry-save", dict(first.params), project="billing")
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert api_writes == [] and again.result["intent_written"] is False


def test_a_redelivered_delete_of_an_entry_already_deleted_succeeds(
        in_step, api_writes, personas):
    finished(iso.start_delete_entry(personas["carol"], "billing", "policy-from-shop"))
    api_writes.clear()
    again = redeliver("isolation-entry-delete", {"project": "billing",
                                                 "name": "policy-from-shop"})
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert api_writes == []


def test_a_redelivered_workspace_creation_succeeds_once_the_workspace_exists(
        in_step, api_writes, personas):
    finished(iso.start_create_workspace(personas["alice"], "team-c"))
    api_writes.clear()
    again = redeliver("isolation-workspace-create", {"workspace": "team-c"})
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert api_writes == []


def test_an_entry_created_by_someone_else_under_the_same_name_is_not_overwritten(
        in_step, api_writes, personas):
    theirs = {"egress": [{"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]}]}
    cluster.gateway().create({"apiVersion": "network.kubesphere.io/v1alpha1",
                              "kind": "NamespaceNetworkPolicy",
                              "metadata": {"name": "policy-to-x", "namespace": "billing"},
                              "spec": theirs})
    api_writes.clear()
    job = finished(jobs.start("isolation-entry-save", params={
        "project": "billing", "name": "policy-to-x", "spec": TO_BANK, "create": True,
        "resource_version": None}, user=personas["carol"], project="billing"))
    assert job.status == JobStatus.FAILED and "someone else" in job.error
    assert api_writes == [] and entry("policy-to-x")["spec"] == theirs
