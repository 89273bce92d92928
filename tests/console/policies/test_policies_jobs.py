"""The apply-policy and delete-policy jobs: guarded writes, safe reruns, one history entry."""

import pytest

from console.core import jobs
from console.core.models import Change, Job, JobStatus
from console.policies.jobs import same_policy
from tests.console.policies.support import create, exists, live, netpol

pytestmark = pytest.mark.django_db


def run(kind, params, user=None):
    job = Job.objects.create(kind=kind, params=params, requested_by=user, project="shop",
                             target=f"{params['namespace']}/{params['name']}")
    assert jobs.claim(job.pk) == "claimed"
    jobs.run(job.pk)
    job.refresh_from_db()
    return job


def apply_params(obj, mode="create", base_version=""):
    meta = obj["metadata"]
    return {"mode": mode, "namespace": meta["namespace"], "name": meta["name"], "object": obj,
            "yaml": "", "base_version": base_version}


def test_a_create_that_already_happened_is_recognised_on_a_rerun(demo_cluster, personas):
    obj = netpol("shop", "deny")
    create(obj)  # the first run wrote it, then its worker died before finishing
    job = run("apply-policy", apply_params(obj), personas["carol"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert Change.objects.filter(job=job).count() == 1


def test_a_create_racing_a_different_policy_of_the_same_name_fails_as_a_conflict(demo_cluster):
    create(netpol("shop", "deny", ingress=[{}]))
    job = run("apply-policy", apply_params(netpol("shop", "deny")))
    assert job.status == JobStatus.FAILED and job.result["conflict"]
    assert "Someone else created shop/deny" in job.error
    assert live("shop", "deny")["spec"]["ingress"] == [{}]
    assert not Change.objects.exists()


def test_a_replace_of_a_deleted_policy_fails_and_says_it_can_be_created_again(demo_cluster):
    job = run("apply-policy", apply_params(netpol("shop", "gone"), mode="edit", base_version="5"))
    assert job.status == JobStatus.FAILED
    assert job.result == {"conflict": True, "deleted": True}
    assert "create it again from your draft" in job.error


def test_a_policy_the_server_refuses_fails_with_its_causes(demo_cluster):
    job = run("apply-policy", apply_params(netpol("shop", "bad", ingress=[{"ports": [{"port": 0}]}])))
    assert job.status == JobStatus.FAILED
    assert "spec.ingress[0].ports[0].port" in job.error and not exists("shop", "bad")


def test_a_finished_apply_rerun_records_no_second_change(demo_cluster):
    obj = netpol("shop", "deny")
    job = run("apply-policy", apply_params(obj))
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
    jobs.claim(job.pk)
    jobs.run(job.pk)
    assert Change.objects.filter(job=job).count() == 1


def test_deleting_an_already_deleted_policy_succeeds_without_a_change(demo_cluster):
    job = run("delete-policy", {"namespace": "shop", "name": "never", "resource_version": "1"})
    assert job.status == JobStatus.SUCCEEDED and "already deleted" in job.message
    assert not Change.objects.exists()


def test_a_delete_records_the_impact_of_removing_the_policy(demo_cluster):
    created = create(netpol("shop", "deny"))
    job = run("delete-policy", {"namespace": "shop", "name": "deny",
                                "resource_version": created["metadata"]["resourceVersion"]})
    change = Change.objects.get(job=job)
    assert change.reachability_delta["allowed"] > 0 and change.reachability_delta["blocked"] == 0


@pytest.mark.parametrize(("a", "b", "same"), [
    (netpol("s", "p"), netpol("s", "p", policyTypes=["Ingress"]), True),
    (netpol("s", "p", ingress=[{"ports": [{"port": 80}]}]),
     netpol("s", "p", ingress=[{"ports": [{"port": 80, "protocol": "TCP"}]}]), True),
    (netpol("s", "p"), netpol("s", "p", ingress=[{}]), False),
    (netpol("s", "p"), {**netpol("s", "p"), "metadata": {"name": "p", "namespace": "s",
                                                         "labels": {"a": "b"}}}, False),
    (netpol("s", "p"), {"metadata": {"name": "p"}, "spec": "junk"}, False),
])
def test_same_policy_compares_meaning_not_spelling(a, b, same):
    assert same_policy(a, b) is same


def test_a_conflict_names_the_edited_version_and_the_one_that_won_the_race(demo_cluster,
                                                                            monkeypatch):
    from console.core import cluster

    first = create(netpol("shop", "deny"))
    base = first["metadata"]["resourceVersion"]
    stale = cluster.snapshot()  # what the job reads just before someone else writes
    theirs = live("shop", "deny")
    theirs["spec"]["ingress"] = [{}]
    won = cluster.gateway().replace(theirs)["metadata"]["resourceVersion"]
    monkeypatch.setattr(cluster, "snapshot", lambda *args, **kwargs: stale)

    mine = netpol("shop", "deny", ingress=[{"ports": [{"port": 8080, "protocol": "TCP"}]}])
    job = run("apply-policy", apply_params(mine,
                                           mode="edit", base_version=base))

    assert job.status == JobStatus.FAILED and job.result["conflict"]
    assert f"version {base} then, {won} now" in job.error
    assert base != won
