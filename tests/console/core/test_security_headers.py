"""Every page carries the Content-Security-Policy and the other security headers.

The pages are those of the access matrix, fetched as the platform admin (who may open them all).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core.middleware import render_policy
from tests.console.core.test_access_matrix import MATRIX

pytestmark = pytest.mark.django_db

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
       "form-action 'self'")

PAGES = sorted({(name, args) for (name, args), row in MATRIX.items() if row["alice"] == 200})


def assert_security_headers(response) -> None:
    assert response["Content-Security-Policy"] == CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("name", "args"), PAGES, ids=[f"{n}{list(a)}" for n, a in PAGES])
def test_every_console_page_sends_the_csp_and_security_headers(demo_cluster, personas, login_as,
                                                               name, args):
    response = login_as("alice").get(reverse(name, args=args))
    assert response.status_code == 200
    assert_security_headers(response)


def test_the_login_page_and_refusals_send_them_too(demo_cluster, personas, client, login_as):
    assert_security_headers(client.get(reverse("login")))
    assert_security_headers(client.get(reverse("policy_list")))  # the redirect to the login
    assert_security_headers(login_as("erin").get(reverse("platform_settings")))  # 403
    assert_security_headers(login_as("erin").get(reverse("project_detail", args=["web"])))  # 404


def test_the_policy_forbids_inline_scripts_and_framing():
    directives = dict(part.split(" ", 1) for part in CSP.split("; "))
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_the_policy_is_a_setting_and_may_only_report(settings, client):
    settings.CONTENT_SECURITY_POLICY = {"default-src": "'self'", "script-src": ["'self'", "'sha256-x'"]}
    settings.CSP_REPORT_ONLY = True
    response = client.get(reverse("login"))
    assert "Content-Security-Policy" not in response
    assert response["Content-Security-Policy-Report-Only"] == \
        "default-src 'self'; script-src 'self' 'sha256-x'"
    assert render_policy({"object-src": "'none'"}) == "object-src 'none'"
