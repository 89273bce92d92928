"""A change that needed several attempts is recorded as one whole change (issue 13, item 20).

The first attempt writes the intent and part of the generated policies, then the API server
fails transiently; the retry finds the intent already in place and writes the rest. The one
history entry must still list every generated policy, the intent before and after, and the
reachability change from the cluster as the first attempt found it.
"""

from __future__ import annotations

import pytest

from console.core import cluster
from console.core.jobs import ATTEMPT_STATE
from console.core.models import Change, Job, JobStatus
from console.tenancy import reconcile
from console.tenancy import services as iso
from isolation import text as sentences

pytestmark = pytest.mark.django_db(transaction=True)

WEB_POLICIES = "/apis/networking.k8s.io/v1/namespaces/web/networkpolicies"


@pytest.fixture
def in_step(demo_cluster, api_writes, personas):
    reconcile.repair_drift()
    Change.objects.all().delete()
    api_writes.clear()
    return demo_cluster


def test_a_retried_change_records_every_write_of_every_attempt(in_step, api_writes, personas):
    gw = cluster.gateway()
    before = gw.snapshot()
    # The first attempt writes the switch and reporting's policy; web's write fails with a
    # transient error, so the job is retried.
    in_step.faults.inject(WEB_POLICIES, method="POST", status=503, count=1)
    job = iso.start_workspace_isolation(personas["alice"], "team-b", True)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    assert ("POST", WEB_POLICIES) in api_writes
    assert in_step.faults.pending() == 0
    after = gw.snapshot()

    change = Change.objects.get()
    assert change.job == job
    # The intent as the first attempt found it, and as it is now.
    assert change.before_objects[0]["spec"].get("networkIsolation") is not True
    assert change.after_objects[0]["spec"]["networkIsolation"] is True
    # Both generated policies, although the last attempt created only web's.
    generated = {(p["metadata"]["namespace"], p["metadata"]["name"])
                 for p in reconcile.generated_policies(after.network_policies, ["reporting", "web"],
                                                       "console")}
    assert generated == {("reporting", "nsnp-network-isolate"), ("web", "nsnp-network-isolate")}
    assert change.generated_after_yaml.count("name: nsnp-network-isolate") == 2
    assert "namespace: reporting" in change.generated_after_yaml
    assert "namespace: web" in change.generated_after_yaml
    assert change.generated_before_yaml == ""
    assert "already held" not in change.summary
    assert "2 created" in change.summary
    # The whole reachability change, from before the first attempt to after the last.
    expected, failure = reconcile.impact_between(before, after)
    assert not failure
    # (its warnings kept as sentences: the same words once loaded)
    assert sentences.load_all(change.reachability_delta) == expected.to_dict()
    assert change.reachability_delta["blocked"] > 0
    # The job's result is the final one; what the attempts kept is gone.
    assert job.result["writes"] == 2 and job.result["intent_written"] is True
    assert ATTEMPT_STATE not in job.result


def test_a_change_done_in_one_attempt_is_recorded_as_before(in_step, api_writes, personas):
    job = iso.start_workspace_isolation(personas["alice"], "team-b", True)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
    change = Change.objects.get()
    assert change.generated_after_yaml.count("name: nsnp-network-isolate") == 2
    assert "2 created" in change.summary
    assert Job.objects.get(pk=job.pk).result["writes"] == 2


def test_a_job_that_gives_up_keeps_nothing_of_its_attempts(in_step, personas):
    in_step.faults.inject(WEB_POLICIES, method="POST", status=503, count=100)
    job = iso.start_workspace_isolation(personas["alice"], "team-b", True)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "gave up" in job.error
    assert ATTEMPT_STATE not in job.result
    in_step.faults.clear()
