from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from console.core import jobs
from console.core.models import Job, JobStatus


@pytest.fixture
def alice(client):
    user = User.objects.create_superuser("alice", password="pw-alice-1")
    client.login(username="alice", password="pw-alice-1")
    return user


@pytest.mark.django_db
def test_a_job_is_claimed_once():
    job = Job.objects.create(kind="check-cluster")
    assert jobs.claim(job.pk) == "claimed"
    assert jobs.claim(job.pk) == "busy"
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.attempts == 1


@pytest.mark.django_db
def test_a_finished_job_is_never_run_again():
    job = Job.objects.create(kind="check-cluster", status=JobStatus.SUCCEEDED)
    assert jobs.claim(job.pk) == "finished"
    job.refresh_from_db()
    assert job.attempts == 0


@pytest.mark.django_db
def test_a_job_left_running_by_a_dead_worker_is_claimed_again():
    stale = timezone.now() - jobs.STALE_AFTER - timedelta(seconds=1)
    job = Job.objects.create(kind="check-cluster", status=JobStatus.RUNNING, attempts=1,
                             heartbeat_at=stale)
    assert jobs.claim(job.pk) == "claimed"
    job.refresh_from_db()
    assert job.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_check_cluster_job_succeeds_against_the_demo_cluster(client, alice, demo_cluster):
    response = client.post(reverse("job_check_cluster"), HTTP_HX_REQUEST="true")
    assert response.status_code == 202
    job = Job.objects.get()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 100
    assert "Connected to" in job.message
    assert job.requested_by == alice


@pytest.mark.django_db(transaction=True)
def test_check_cluster_job_fails_visibly_when_the_cluster_is_down(client, alice, settings):
    settings.KUBE_API_URL = "http://127.0.0.1:9"
    client.post(reverse("job_check_cluster"))
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert "127.0.0.1:9" in job.error


@pytest.mark.django_db
def test_job_status_polls_until_finished_then_stops(client, alice):
    job = Job.objects.create(kind="check-cluster", status=JobStatus.RUNNING, progress=40,
                             requested_by=alice)
    running = client.get(reverse("job_status", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert running.status_code == 200
    assert 'hx-trigger="every 1s"' in running.content.decode()
    assert "40%" in running.content.decode()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="boom: the API refused")
    done = client.get(reverse("job_status", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert done.status_code == 286
    assert "boom: the API refused" in done.content.decode()
    assert "hx-trigger" not in done.content.decode()


@pytest.mark.django_db
def test_another_users_job_is_not_found(client):
    owner = User.objects.create_user("bob", password="pw-bob-1")
    User.objects.create_user("carol", password="pw-carol-1")
    job = Job.objects.create(kind="check-cluster", requested_by=owner)
    client.login(username="carol", password="pw-carol-1")
    assert client.get(reverse("job_status", args=[job.pk])).status_code == 404
