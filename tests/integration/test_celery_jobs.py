import pytest

from console.core import jobs
from console.core.models import Job, JobStatus
from tests.helpers import wait_for

pytestmark = pytest.mark.integration


def _status(job: Job) -> str:
    job.refresh_from_db()
    return job.status


def test_a_real_worker_takes_a_job_from_queued_through_running_to_succeeded(
        demo_cluster, celery_worker_factory):
    # The API server answers slowly once, so the job is seen running before it succeeds.
    demo_cluster.faults.inject("/version", hang=2.0, count=1)
    job = jobs.start("check-cluster", target="cluster")
    assert _status(job) == JobStatus.QUEUED
    worker = celery_worker_factory()
    wait_for(lambda: _status(job) == JobStatus.RUNNING, what="the job to run")
    wait_for(lambda: _status(job) == JobStatus.SUCCEEDED, what="the job to succeed")
    job.refresh_from_db()
    assert job.progress == 100
    assert job.celery_task_id
    assert "Connected to" in job.message
    assert "succeeded" in worker.output()


def test_a_failing_job_shows_its_error(demo_cluster, celery_worker_factory):
    demo_cluster.faults.inject("/version", status=403, count=100)
    job = jobs.start("check-cluster", target="cluster")
    celery_worker_factory()
    wait_for(lambda: _status(job) == JobStatus.FAILED, what="the job to fail")
    job.refresh_from_db()
    assert job.error
    assert job.finished_at is not None
