"""Error pages render with no user, no session and no database (issue 13, item 14)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse

from console.core.context_processors import console


@pytest.fixture
def strict_hosts(settings):
    settings.ALLOWED_HOSTS = ["console.example.com"]
    settings.DEBUG = False


@pytest.mark.django_db
def test_a_bad_host_header_is_answered_400_with_the_explanation_page(client, strict_hosts,
                                                                     django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/", HTTP_HOST="evil.example.org")
    assert response.status_code == 400
    body = response.content.decode()
    assert "The request was refused" in body
    assert "Sign out" not in body
    assert response["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.mark.django_db
def test_a_bad_host_header_on_a_post_is_a_400_not_a_500(client, strict_hosts):
    response = client.post(reverse("job_check_cluster"), HTTP_HOST="evil.example.org")
    assert response.status_code == 400


def test_the_context_processor_treats_a_request_without_user_as_anonymous():
    request = RequestFactory().get("/")
    assert not hasattr(request, "user")
    assert console(request) == {}


@pytest.mark.django_db
def test_the_context_processor_reads_nothing_until_a_template_asks(rf, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        context = console(request)
    assert list(context["nav"]) == []
    assert not context["access"].platform_admin


@pytest.mark.django_db
def test_the_expired_form_page_needs_no_user_session_or_database(no_cluster,
                                                                  django_assert_num_queries):
    User.objects.create_user("alice", password="pw-alice-1")
    strict = Client(enforce_csrf_checks=True)
    strict.login(username="alice", password="pw-alice-1")
    # The CSRF check refuses before any view; the page it renders reads nothing.
    with django_assert_num_queries(0):
        response = strict.post(reverse("job_check_cluster"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "Reload the page" in body and "alice" not in body


@pytest.mark.django_db
def test_not_found_renders_for_a_signed_in_user(client, no_cluster):
    User.objects.create_superuser("alice", password="pw-alice-1")
    client.login(username="alice", password="pw-alice-1")
    assert client.get("/no-such-page/").status_code == 404
