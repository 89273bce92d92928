"""A real worker's heartbeat (issue 13, item 22): /healthz sees it, then sees it gone.

The worker is started with a short heartbeat TTL; after it is killed with SIGKILL (no clean
shutdown, so its key is not deleted) the key expires and /healthz says "no worker" with 503.
"""

from __future__ import annotations

import json
import signal

import pytest
from django.urls import reverse

from console.core.models import Job
from console.tenancy import services as iso
from tests.helpers import wait_for

from .conftest import REDIS_TEST_URL

pytestmark = pytest.mark.integration

TTL = 2


def healthz(client) -> tuple[int, dict]:
    response = client.get(reverse("healthz"))
    return response.status_code, json.loads(response.content)


def test_healthz_follows_a_real_workers_heartbeat(client, settings, demo_cluster,
                                                  celery_worker_factory, redis_broker):
    settings.REDIS_URL = REDIS_TEST_URL
    settings.WORKER_WAIT_WARNING_SECONDS = 0
    status, data = healthz(client)
    assert (status, data["worker"]) == (503, "no worker")

    worker = celery_worker_factory(WORKER_HEARTBEAT_TTL=str(TTL),
                                   WORKER_HEARTBEAT_INTERVAL="0.5")
    wait_for(lambda: healthz(client)[1]["worker"] == "ok", timeout=60,
             what=f"the worker's heartbeat (log: {worker.log})")
    status, data = healthz(client)
    assert status == 200 and data["status"] == "ok"
    # The worker really runs jobs.
    job = iso.start_reconcile()
    wait_for(lambda: Job.objects.get(pk=job.pk).finished, timeout=60, what="the job to run")

    worker.stop(signal.SIGKILL)
    wait_for(lambda: healthz(client)[1]["worker"] == "no worker", timeout=TTL + 10,
             what="the heartbeat to expire")
    status, data = healthz(client)
    assert status == 503 and data["status"] == "unavailable"
    # A job queued now says it is waiting for a worker.
    queued = iso.start_reconcile()
    assert "waiting for a worker" in Job.objects.get(pk=queued.pk).worker_note
