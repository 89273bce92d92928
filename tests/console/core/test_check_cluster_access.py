"""Viewers write nothing, jobs included: POST /jobs/check-cluster/ is refused (item 12)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from console.core.models import Job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("person", ["dave", "erin"])
def test_a_viewer_cannot_start_a_cluster_check(demo_cluster, personas, login_as, person):
    response = login_as(person).post(reverse("job_check_cluster"), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_user_with_no_role_cannot_start_a_cluster_check(demo_cluster, client):
    User.objects.create_user("nobody", password="pw-nobody-1")
    client.login(username="nobody", password="pw-nobody-1")
    assert client.post(reverse("job_check_cluster")).status_code == 403
    assert not Job.objects.exists()


@pytest.mark.parametrize("person", ["alice", "bob", "carol"])
def test_admins_may_still_check_the_cluster(demo_cluster, personas, login_as, person,
                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login_as(person).post(reverse("job_check_cluster"), HTTP_HX_REQUEST="true")
    assert response.status_code == 202
    assert Job.objects.filter(kind="check-cluster", requested_by=personas[person]).exists()
