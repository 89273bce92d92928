"""Redis down (REDIS_URL on a closed port): pages that need no job keep working, /healthz says
so with a 503, and a job started meanwhile fails with a message instead of waiting forever."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from console.celery import app as celery_app
from console.core import jobs
from console.core.cache import DegradingRedisCache, reset_outages
from console.core.models import Job, JobStatus

CLOSED = "redis://127.0.0.1:1/0"   # nothing listens on port 1


@pytest.fixture
def redis_down(settings):
    """The console configured as with REDIS_URL set, that Redis being unreachable."""
    reset_outages()
    settings.REDIS_URL = CLOSED
    settings.CACHES = {"default": {"BACKEND": "console.core.cache.DegradingRedisCache",
                                   "LOCATION": CLOSED,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}}
    conf = celery_app.conf
    saved = {"broker_url": conf.broker_url, "task_always_eager": conf.task_always_eager}
    conf.broker_url, conf.task_always_eager = CLOSED, False
    _forget_connections()            # pools built earlier point at the memory broker
    yield
    conf.broker_url, conf.task_always_eager = saved["broker_url"], saved["task_always_eager"]
    _forget_connections()
    reset_outages()


def _forget_connections() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def alice(client, db):
    user = User.objects.create_superuser("alice", password="pw-alice-1")
    client.login(username="alice", password="pw-alice-1")
    return user


@pytest.mark.django_db
def test_healthz_answers_503_json_with_redis_unreachable(client, redis_down, no_cluster):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "unavailable", "database": "ok",
                                            "redis": "unreachable", "worker": "unknown",
                                            "cluster": "not configured"}


@pytest.mark.django_db
def test_healthz_reports_redis_unreachable_with_a_cluster_configured(client, redis_down,
                                                                     demo_cluster):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    data = json.loads(response.content)
    assert data["redis"] == "unreachable" and data["cluster"] == "ok"


def test_signed_in_pages_keep_working_without_redis(client, alice, redis_down, demo_cluster):
    for _ in range(2):   # the second request runs while the outage is already known
        response = client.get(reverse("policy_list"))
        assert response.status_code == 200


def test_the_cache_behaves_as_a_miss_and_logs_the_outage_once(redis_down, caplog):
    backend = DegradingRedisCache(CLOSED, {"OPTIONS": {"socket_connect_timeout": 1}})
    with caplog.at_level(logging.WARNING, logger="console.core.cache"):
        for _ in range(3):
            assert backend.get("k", "default") == "default"
            backend.set("k", 1)
            assert backend.add("k", 1) is False
            assert backend.delete("k") is False
            assert backend.get_many(["a", "b"]) == {}
            assert backend.get_or_set("k", 5) == 5
    warnings = [r for r in caplog.records if r.name == "console.core.cache"]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert not backend.available()


@pytest.mark.django_db(transaction=True)
def test_starting_a_job_with_the_broker_down_fails_the_job_with_a_message(redis_down, alice):
    job = jobs.start("check-cluster", target="cluster", user=alice)
    assert job.status == JobStatus.FAILED
    stored = Job.objects.get(pk=job.pk)
    assert stored.status == JobStatus.FAILED
    assert stored.error == "the job queue (Redis) is unreachable; try again when it is back"
    assert stored.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_check_cluster_page_shows_the_queue_message_instead_of_a_500(client, alice,
                                                                         redis_down):
    response = client.post(reverse("job_check_cluster"), HTTP_HX_REQUEST="true")
    assert response.status_code < 500
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert "the job queue (Redis) is unreachable" in response.content.decode()
