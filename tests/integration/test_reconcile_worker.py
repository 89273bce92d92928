"""Isolation jobs on a real Celery worker and Redis, with the API server misbehaving.

Every run must end either in success after retries or in a visible failure, and a worker killed
in the middle of a job must not leave the cluster half-done: the message is redelivered (late
acknowledgement) and the next worker finishes the work.
"""

from __future__ import annotations

import signal
import time

import pytest

from console.celery import app as celery_app
from console.core import cluster
from console.core.models import Job, JobStatus
from console.tenancy import reconcile
from console.tenancy import services as iso
from console.tenancy.config import isolation_settings
from tests.helpers import wait_for

pytestmark = pytest.mark.integration

POLICIES = "/apis/networking.k8s.io/v1/namespaces/*/networkpolicies"
DEMO_GENERATED = 7
VISIBILITY_SECONDS = 5
UNACKED_INDEX = "unacked_index"   # kombu's Redis transport: delivery tag -> delivery time


def status_of(job: Job) -> str:
    job.refresh_from_db()
    return job.status


def generated_count() -> int:
    gw = cluster.gateway()
    return len(reconcile.generated_policies(gw.list_objects("NetworkPolicy"), None, "console"))


def unacked_older_than(broker, seconds: float) -> bool:
    deliveries = broker.zrange(UNACKED_INDEX, 0, -1, withscores=True)
    return bool(deliveries) and all(time.time() - at > seconds for _, at in deliveries)


def writes_still_needed(namespaces: list[str] | None = None) -> int:
    gw = cluster.gateway()
    return reconcile.reconcile(gw, gw.snapshot(), isolation_settings(), namespaces,
                               dry_run=True).plan.writes


@pytest.mark.parametrize("fault", [
    {"status": 500, "count": 2},
    {"status": 429, "count": 2},
    {"hang": 3.0, "count": 1},
])
def test_api_faults_during_a_change_end_in_success_after_retries(
        demo_cluster, celery_worker_factory, fault):
    demo_cluster.faults.inject(POLICIES, method="POST", **fault)
    job = iso.start_workspace_isolation(None, "team-b", True)
    celery_worker_factory(KUBE_REQUEST_TIMEOUT="1")
    wait_for(lambda: status_of(job) in (JobStatus.SUCCEEDED, JobStatus.FAILED), timeout=60,
             what="the job to finish")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts >= 2
    assert demo_cluster.faults.pending() == 0
    assert writes_still_needed(["reporting", "web"]) == 0


def test_a_permanent_api_error_fails_visibly_and_the_drift_shows(
        demo_cluster, celery_worker_factory):
    demo_cluster.faults.inject(POLICIES, method="POST", status=403, count=100)
    job = iso.start_reconcile()
    celery_worker_factory()
    wait_for(lambda: status_of(job) == JobStatus.FAILED, timeout=60, what="the job to fail")
    job.refresh_from_db()
    assert "forbidden" in job.error.lower() and "writes were made" in job.error
    assert job.attempts == 1
    state = iso.project_state("shop")
    assert state.status == "drifted" and state.drift
    assert writes_still_needed() == DEMO_GENERATED


def test_a_worker_killed_mid_job_is_replaced_and_the_cluster_converges(
        demo_cluster, celery_worker_factory, redis_broker, monkeypatch):
    visibility = {"visibility_timeout": VISIBILITY_SECONDS}
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", visibility)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    env = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS), "JOB_STALE_SECONDS": "2"}
    # Every policy write hangs a second, so the job is still running when the worker dies.
    demo_cluster.faults.inject(POLICIES, method="POST", hang=1.0, count=DEMO_GENERATED)
    job = iso.start_reconcile()
    first = celery_worker_factory(**env)
    wait_for(lambda: status_of(job) == JobStatus.RUNNING and generated_count() >= 1,
             timeout=30, what="the reconcile to be under way")
    first.stop(signal.SIGKILL)
    assert generated_count() < DEMO_GENERATED   # killed in the middle: work left to do
    demo_cluster.faults.clear()
    # The broker hands the unacknowledged message out again once its visibility timeout has
    # passed; a starting worker sweeps for such messages.
    wait_for(lambda: unacked_older_than(redis_broker, VISIBILITY_SECONDS), timeout=30,
             what="the dead worker's message to become visible again")
    celery_worker_factory(**env)
    wait_for(lambda: status_of(job) == JobStatus.SUCCEEDED, timeout=60,
             what="the redelivered job to succeed")
    job.refresh_from_db()
    assert job.attempts == 2
    assert generated_count() == DEMO_GENERATED
    assert writes_still_needed() == 0
