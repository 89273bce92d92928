"""Requests over the upload limit (issue 13, item 5).

A draft just over MAX_YAML_BYTES is still read, through the CSRF check, so the editor answers it
with its own message; a body too large to read at all gets a 413 that says how large it was and
what is accepted, never Django's technical 400 nor a 500, in DEBUG and in production.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from console.core.models import Job

pytestmark = pytest.mark.django_db

LINE = "# a comment line of a draft that is far too long\n"


@pytest.fixture(scope="module")
def shared_demo():
    from kubesim import SimulatorServer

    server = SimulatorServer(seed="demo")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def alice(settings, shared_demo, django_user_model):
    """A browser-like client: the CSRF check is enforced, as for a real form post."""
    settings.KUBE_API_URL = shared_demo.url
    settings.KUBECONFIG = ""
    cache.clear()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.create_superuser("alice"))
    browser.get(reverse("policy_create"))   # sets the CSRF cookie
    yield browser
    cache.clear()


def token(client: Client) -> str:
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def over_the_limit_draft() -> str:
    """MAX_YAML_BYTES + 1 bytes of many short lines: form-encoded, it is about 1.3 times
    larger (each newline is %0A, each space +), well over the old upload limit."""
    size = settings.MAX_YAML_BYTES + 1
    text = LINE * (size // len(LINE) + 1)
    return text[:size]


def post_form(client: Client, data: dict[str, str], **headers):
    return client.post(reverse("policy_create"), urlencode(data),
                       content_type="application/x-www-form-urlencoded", **headers)


def test_a_draft_just_over_the_limit_is_answered_by_the_editor(alice, debug):
    draft = over_the_limit_draft()
    response = post_form(alice, {"csrfmiddlewaretoken": token(alice), "yaml": draft,
                                 "action": "review"})
    assert response.status_code == 400
    body = response.content.decode()
    size, limit = f"{len(draft.encode()):,}", f"{settings.MAX_YAML_BYTES:,}"
    assert f"The YAML is {size} bytes; a policy may be at most {limit} bytes." in body
    assert 'id="policy-form"' in body     # the editor, not an error page
    assert "RequestDataTooBig" not in body and "Request body exceeded" not in body
    assert not Job.objects.exists()


def test_a_draft_just_over_the_limit_is_kept_in_the_editor(alice, debug):
    draft = over_the_limit_draft()
    response = post_form(alice, {"csrfmiddlewaretoken": token(alice), "yaml": draft,
                                 "action": "review"})
    assert response.status_code == 400
    assert response.context["text"] == draft
    assert html.escape(LINE * 3) in response.content.decode()


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_body_three_times_the_read_limit_is_a_413_with_its_size(alice, debug, encoding):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if encoding == "urlencoded":
        body = urlencode({"csrfmiddlewaretoken": token(alice), "yaml": "#" * (3 * limit)})
        response = alice.post(reverse("policy_create"), body,
                              content_type="application/x-www-form-urlencoded")
    else:
        response = alice.post(reverse("policy_create"), {
            "csrfmiddlewaretoken": token(alice), "yaml": "#" * (3 * limit)})
    assert response.status_code == 413
    page = response.content.decode()
    length = int(response.wsgi_request.META["CONTENT_LENGTH"])
    assert length > 3 * limit
    assert f"The request is {length:,} bytes; the largest accepted is {limit:,}." in page
    assert "<h1" in page and "bootstrap.min.css" in page     # a page, styled
    assert "Traceback" not in page and "RequestDataTooBig" not in page
    assert not Job.objects.exists()


def test_an_htmx_request_too_large_gets_the_message_as_a_fragment(alice, debug):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = urlencode({"yaml": "#" * (3 * limit)})
    response = alice.post(reverse("reachability_whatif"), body,
                          content_type="application/x-www-form-urlencoded",
                          HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token(alice))
    # htmx swaps only successful responses: the fragment says what went wrong.
    assert response.status_code == 200
    page = response.content.decode()
    assert "the largest accepted is" in page and "<html" not in page


def test_too_many_fields_is_a_413_that_says_so(alice, debug):
    fields = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = post_form(alice, {"csrfmiddlewaretoken": token(alice), **fields})
    assert response.status_code == 413
    assert (f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields"
            in response.content.decode())
