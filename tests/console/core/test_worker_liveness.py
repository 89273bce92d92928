"""Worker liveness (issue 13, item 22): the heartbeat key in Redis, /healthz and the job card.

Uses the local Redis (TEST_REDIS_URL's server, database 11): a worker's heartbeat is its key
`console:worker:<name>` with a time-to-live, set here by hand as a worker's thread would.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
import redis
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from console.core import worker
from console.core.models import Job, JobStatus

# heartbeats are found by scanning a whole database: each parallel test process scans its own
_XDIST_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
REDIS_UNIT_URL = os.environ.get("TEST_REDIS_UNIT_URL", f"redis://127.0.0.1:6379/{1 + _XDIST_INDEX % 8}")

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_redis(settings):
    client = redis.Redis.from_url(REDIS_UNIT_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"these tests need Redis at {REDIS_UNIT_URL}: {exc}")
    _forget(client)
    settings.REDIS_URL = REDIS_UNIT_URL
    settings.WORKER_HEARTBEAT_TTL = 30
    settings.WORKER_WAIT_WARNING_SECONDS = 5
    yield client
    _forget(client)
    client.close()


def _forget(client) -> None:
    for key in client.scan_iter(match=worker.KEY_PREFIX + "*"):
        client.delete(key)


@pytest.fixture
def alice(client):
    User.objects.create_superuser("alice", password="pw-alice-1")
    client.login(username="alice", password="pw-alice-1")
    return client


def healthz(client) -> tuple[int, dict]:
    response = client.get(reverse("healthz"))
    return response.status_code, json.loads(response.content)


def card(client, job: Job) -> str:
    return client.get(reverse("job_status", args=[job.pk])).content.decode()


def test_healthz_says_ok_while_a_worker_heartbeat_exists(client, live_redis, no_cluster):
    worker.beat(live_redis, "celery@test")
    status, data = healthz(client)
    assert status == 200
    assert data["worker"] == "ok" and data["redis"] == "ok" and data["status"] == "ok"


def test_healthz_is_unavailable_with_redis_and_no_worker(client, live_redis, no_cluster):
    status, data = healthz(client)
    assert status == 503
    assert data["worker"] == "no worker" and data["status"] == "unavailable"


def test_healthz_without_redis_says_not_configured(client, settings, no_cluster):
    settings.REDIS_URL = ""
    status, data = healthz(client)
    assert status == 200 and data["worker"] == "not configured"


def test_a_heartbeat_expires_with_its_ttl(live_redis, settings):
    settings.WORKER_HEARTBEAT_TTL = 0.2
    worker.beat(live_redis, "celery@short")
    assert worker.status() == "ok"
    assert live_redis.pttl(worker.KEY_PREFIX + "celery@short") <= 200


def test_the_heartbeat_thread_keeps_the_key_and_removes_it_on_shutdown(live_redis, settings):
    settings.WORKER_HEARTBEAT_INTERVAL = 0.05
    beat = worker.Heartbeat("celery@thread")
    beat.start()
    try:
        from tests.helpers import wait_for

        wait_for(lambda: worker.status() == "ok", timeout=5, what="the first heartbeat")
    finally:
        beat.stop()
    assert worker.status() == "no worker"


def test_a_queued_job_with_no_worker_says_it_is_waiting(alice, live_redis):
    job = Job.objects.create(kind="check-cluster", target="cluster",
                             created_at=timezone.now() - timedelta(seconds=45))
    body = card(alice, job)
    assert "waiting for a worker for 45 s" in body
    worker.beat(live_redis, "celery@test")
    assert "waiting for a worker" not in card(alice, job)


def test_a_just_queued_job_gives_the_worker_a_moment(alice, live_redis):
    job = Job.objects.create(kind="check-cluster", target="cluster")
    assert "waiting for a worker" not in card(alice, job)


def test_a_running_job_whose_worker_is_gone_says_so(alice, live_redis, settings):
    settings.JOB_STALE_SECONDS = 60
    now = timezone.now()
    job = Job.objects.create(kind="check-cluster", target="cluster", status=JobStatus.RUNNING,
                             progress=31, started_at=now - timedelta(seconds=40),
                             heartbeat_at=now - timedelta(seconds=20))
    # No worker heartbeat and the job quiet for a while: its worker is lost.
    assert "worker lost at 31%; it will be retried" in card(alice, job)
    # A live worker, and the job's own heartbeat recent: nothing to say.
    worker.beat(live_redis, "celery@test")
    assert "worker lost" not in card(alice, job)
    # A live worker (another one), but this job's heartbeat is stale: lost all the same.
    Job.objects.filter(pk=job.pk).update(heartbeat_at=now - timedelta(seconds=100))
    assert "worker lost at 31%; it will be retried" in card(alice, job)


def test_finished_jobs_and_jobs_without_redis_carry_no_note(alice, settings):
    settings.REDIS_URL = ""
    old = timezone.now() - timedelta(seconds=300)
    queued = Job.objects.create(kind="check-cluster", target="cluster", created_at=old)
    done = Job.objects.create(kind="check-cluster", target="cluster", created_at=old,
                              status=JobStatus.SUCCEEDED)
    assert "data-worker-note" not in card(alice, queued)
    assert "data-worker-note" not in card(alice, done)
