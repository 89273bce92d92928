"""Isolation switches, project moves and new workspaces, run as jobs against the demo cluster.

Each change must write exactly its intent plus the generated policies that differ, record one
history entry, and leave the cluster in step (a reconcile afterwards writes nothing).
"""

from __future__ import annotations

import pytest

from cluster.errors import NotFoundError
from console.core import cluster
from console.core.models import Change, Job, JobStatus, PlatformSettings
from console.tenancy import reconcile
from console.tenancy import services as iso

pytestmark = pytest.mark.django_db(transaction=True)

API = "/apis/networking.k8s.io/v1/namespaces"
WORKSPACES = "/apis/tenant.kubesphere.io/v1alpha1/workspaces"


@pytest.fixture
def in_step(demo_cluster, api_writes, personas):
    """The demo cluster with its generated policies written, and a clean history."""
    reconcile.repair_drift()
    Change.objects.all().delete()
    api_writes.clear()
    return demo_cluster


def succeeded(job: Job) -> Job:
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def policy_names(namespace: str) -> set[str]:
    return {p["metadata"]["name"]
            for p in cluster.gateway().list_objects("NetworkPolicy", namespace)}


def test_isolating_a_workspace_writes_the_switch_and_one_policy_per_project(
        in_step, api_writes, personas):
    job = succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", True))
    assert sorted(api_writes) == sorted([
        ("PATCH", f"{WORKSPACES}/team-b"),
        ("POST", f"{API}/reporting/networkpolicies"),
        ("POST", f"{API}/web/networkpolicies"),
    ])
    assert job.result["writes"] == 2 and job.result["intent_written"] is True
    assert "nsnp-network-isolate" in policy_names("web")
    change = Change.objects.get()
    assert change.author == personas["alice"] and change.job == job
    assert change.before_objects[0]["spec"].get("networkIsolation") is not True
    assert change.after_objects[0]["spec"]["networkIsolation"] is True
    assert "nsnp-network-isolate" in change.generated_after_yaml
    assert change.generated_before_yaml == ""
    assert change.reachability_delta["blocked"] > 0


def test_a_reconcile_after_a_change_writes_nothing(in_step, api_writes, personas):
    succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", True))
    api_writes.clear()
    job = succeeded(iso.start_reconcile(personas["alice"]))
    assert api_writes == []
    assert job.result["writes"] == 0
    assert not Change.objects.filter(kind=reconcile.DRIFT_KIND).exists()


def test_asking_for_the_state_already_in_place_writes_nothing(in_step, api_writes, personas):
    job = succeeded(iso.start_workspace_isolation(personas["bob"], "team-a", True))
    assert api_writes == []
    assert job.result["intent_written"] is False
    assert "already held" in job.message


def test_turning_workspace_isolation_off_deletes_the_generated_policies(
        in_step, api_writes, personas):
    succeeded(iso.start_workspace_isolation(personas["bob"], "team-a", False))
    assert sorted(api_writes) == sorted([
        ("PATCH", f"{WORKSPACES}/team-a"),
        ("DELETE", f"{API}/shop/networkpolicies/nsnp-network-isolate"),
        ("DELETE", f"{API}/catalog/networkpolicies/nsnp-network-isolate"),
    ])
    # billing has project isolation, which wins: its policies stay.
    assert "nsnp-network-isolate" in policy_names("billing")
    assert "nsnp-network-isolate" not in policy_names("shop")


def test_disabling_project_isolation_keeps_the_allowlist_entries(in_step, api_writes, personas):
    succeeded(iso.start_project_isolation(personas["carol"], "billing", False))
    deleted = sorted(path.rsplit("/", 1)[1] for verb, path in api_writes if verb == "DELETE")
    assert deleted == ["nsnp-policy-from-clients", "nsnp-policy-from-shop",
                       "nsnp-policy-to-bank", "nsnp-policy-to-catalog"]
    assert ("PATCH", "/api/v1/namespaces/billing") in api_writes
    # The isolation policy falls back to workspace mode (team-a is isolated): rewritten.
    assert ("PUT", f"{API}/billing/networkpolicies/nsnp-network-isolate") in api_writes
    assert not any("namespacenetworkpolicies" in path for _, path in api_writes)
    state = iso.project_state("billing")
    assert state.mode == "workspace" and state.in_step
    assert len(state.entries) == 4
    assert all(not e.active and "Inactive" in e.problem for e in state.entries)


def test_enabling_project_isolation_again_brings_the_entries_back(in_step, personas):
    succeeded(iso.start_project_isolation(personas["carol"], "billing", False))
    succeeded(iso.start_project_isolation(personas["carol"], "billing", True))
    assert {"nsnp-policy-from-shop", "nsnp-policy-to-bank"} <= policy_names("billing")
    state = iso.project_state("billing")
    assert state.mode == "project" and all(e.active for e in state.entries)


def test_moving_a_project_reconciles_it_and_the_entries_that_name_it(in_step, personas):
    preview = iso.preview_move("shop", "team-b")
    assert preview.valid
    assert any("billing/policy-from-shop" in p for p in preview.problems)
    assert preview.namespaces == ["billing", "shop"]
    job = succeeded(iso.start_move_project(personas["alice"], "shop", "team-b"))
    assert job.result["namespaces"] == ["billing", "shop"]
    # team-b is not isolated, and billing's entry now names a foreign project.
    assert "nsnp-network-isolate" not in policy_names("shop")
    assert "nsnp-policy-from-shop" not in policy_names("billing")
    ns = cluster.gateway().get_object("Namespace", "shop")
    assert ns["metadata"]["labels"]["kubesphere.io/workspace"] == "team-b"
    entry = next(e for e in iso.project_state("billing").entries if e.name == "policy-from-shop")
    assert not entry.active and "team-a" in entry.problem


def test_creating_a_workspace_makes_an_unisolated_one(in_step, api_writes, personas):
    job = succeeded(iso.start_create_workspace(personas["alice"], "team-c"))
    assert api_writes == [("POST", WORKSPACES)]
    workspace = cluster.gateway().get_object("Workspace", "team-c")
    assert workspace["spec"]["networkIsolation"] is False
    assert Change.objects.get(job=job).kind == "isolation-workspace-create"
    assert iso.workspace_state("team-c").projects == []


@pytest.mark.parametrize(("start", "field"), [
    (lambda user: iso.start_create_workspace(user, "team-a"), "name"),
    (lambda user: iso.start_create_workspace(user, "Team_C"), "name"),
    (lambda user: iso.start_workspace_isolation(user, "no-such-ws", True), "workspace"),
    (lambda user: iso.start_project_isolation(user, "no-such-project", True), "project"),
    (lambda user: iso.start_project_isolation(user, "kube-system", True), "project"),
    (lambda user: iso.start_move_project(user, "shop", "team-a"), "workspace"),
    (lambda user: iso.start_move_project(user, "shop", "no-such-ws"), "workspace"),
])
def test_a_change_that_cannot_be_made_is_refused_before_any_job(
        in_step, api_writes, personas, start, field):
    with pytest.raises(iso.IntentError) as refused:
        start(personas["alice"])
    assert field in [f for f, _ in refused.value.issues]
    assert api_writes == [] and not Job.objects.exists()


def test_a_workspace_preview_shows_policies_and_blocked_connections(in_step, api_writes):
    preview = iso.preview_workspace_isolation("team-b", True)
    assert preview.valid
    assert [p["metadata"]["name"] for p in preview.generated_after] == [
        "nsnp-network-isolate", "nsnp-network-isolate"]
    assert preview.generated_before == []
    assert preview.impact is not None and preview.impact.newly_blocked
    assert "become blocked" in preview.summary
    assert api_writes == []


def test_a_preview_of_an_unknown_workspace_has_issues_and_no_impact(in_step):
    preview = iso.preview_workspace_isolation("nowhere", True)
    assert not preview.valid and preview.impact is None
    assert preview.issues == [("workspace", "Workspace nowhere does not exist.")]


def test_a_policy_of_the_same_name_not_made_by_the_console_is_left_alone(
        in_step, api_writes, personas):
    cluster.gateway().create({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "nsnp-network-isolate", "namespace": "web"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    api_writes.clear()
    preview = iso.preview_workspace_isolation("team-b", True)
    assert any("web/nsnp-network-isolate" in p and "not generated" in p
               for p in preview.problems)
    job = succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", True))
    assert ("POST", f"{API}/web/networkpolicies") not in api_writes
    assert any("web/nsnp-network-isolate" in p for p in job.shown_result["problems"])
    hand_written = cluster.gateway().get_object("NetworkPolicy", "nsnp-network-isolate", "web")
    assert "ingress" not in hand_written["spec"]


def test_kubesphere_engine_mode_writes_the_intent_only(in_step, api_writes, personas):
    PlatformSettings.objects.update_or_create(pk=1, defaults={"engine_mode": "kubesphere"})
    job = succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", True))
    assert api_writes == [("PATCH", f"{WORKSPACES}/team-b")]
    assert job.result["writes"] == 0
    change = Change.objects.get(job=job)
    # What KubeSphere's controller will write: bare objects, without the console's marks.
    assert "nsnp-network-isolate" in change.generated_after_yaml
    assert "app.kubernetes.io/managed-by" not in change.generated_after_yaml
    state = iso.project_state("web")
    assert not state.in_step
    assert any("KubeSphere's controller will create it" in d for d in state.drift)


def test_a_transient_api_error_is_retried_and_the_job_still_succeeds(
        in_step, api_writes, personas):
    in_step.faults.inject(f"{API}/web/networkpolicies", status=500, method="POST")
    job = succeeded(iso.start_workspace_isolation(personas["alice"], "team-b", True))
    assert job.attempts == 2
    assert "nsnp-network-isolate" in policy_names("web")
    assert Change.objects.filter(job=job).count() == 1


def test_a_permanent_api_error_fails_the_job_with_its_message(in_step, personas):
    in_step.faults.inject(f"{API}/*/networkpolicies", status=403, method="POST", count=10)
    job = iso.start_workspace_isolation(personas["alice"], "team-b", True)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "writes were made" in job.error
    assert not Change.objects.filter(job=job).exists()
    # The intent was written; the next reconcile finishes the work.
    in_step.faults.clear()
    succeeded(iso.start_reconcile())
    assert "nsnp-network-isolate" in policy_names("web")


def test_workspace_state_shows_each_projects_applied_state(in_step, personas):
    state = iso.workspace_state("team-a")
    assert state.isolated and state.in_step
    rows = {p.name: p for p in state.projects}
    assert rows["billing"].mode == "project" and rows["billing"].active_entries == 4
    assert rows["shop"].status == "in step"
    cluster.gateway().delete("NetworkPolicy", "nsnp-network-isolate", namespace="shop")
    Job.objects.create(kind="isolation-project", project="catalog", status=JobStatus.FAILED,
                       error="The API refused")
    rows = {p.name: p for p in iso.workspace_state("team-a").projects}
    assert rows["shop"].status == "drifted" and rows["shop"].drift
    assert rows["catalog"].status == "failed" and rows["catalog"].failed == "The API refused"
    Job.objects.create(kind="isolation-workspace", workspace="team-a")
    rows = {p.name: p for p in iso.workspace_state("team-a").projects}
    assert {r.status for r in rows.values()} == {"pending"}


def test_state_of_an_unknown_project_or_workspace_is_not_found(in_step):
    with pytest.raises(NotFoundError):
        iso.project_state("nowhere")
    with pytest.raises(NotFoundError):
        iso.workspace_state("nowhere")


def test_invalid_stored_settings_are_ignored_not_fatal(db):
    PlatformSettings.objects.update_or_create(pk=1, defaults={
        "always_allowed_namespaces": ["ingress-nginx", "Not A Name"],
        "snat_cidrs": ["192.168.0.0/24", "nonsense"], "engine_mode": "bogus"})
    settings = iso.isolation_settings()
    assert settings.always_allowed_namespaces == ("ingress-nginx",)
    assert settings.snat_cidrs == ("192.168.0.0/24",)
    assert settings.engine_mode == "console"
