"""Refused input in Check and What if is shown inside the form (issue 13, item 7).

A browser gets the whole page with status 400; htmx gets the form fragment with status 200,
since htmx swaps only successful responses (and in DEBUG django-htmx would replace the whole
page with a 400's body). Never a bare fragment for a page load, in DEBUG and production.
"""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

CART = "shop/cart-be171b259-x7k2p"
DASHBOARD = "reporting/dashboard-f0f02792e-x7k2p"
HEADING = '<h1 class="h3 mb-1">Reachability</h1>'

CASES = {
    "unknown-service": ("check", dict(source=CART, destination="service:shop/no-such-service",
                                      port="80"), "destination", "c-destination"),
    "port-70000": ("check", dict(source=CART, destination=DASHBOARD, port="70000"), "port",
                   "c-port"),
    "bad-yaml": ("whatif", dict(change="policy", yaml="kind: [\n"), "yaml", "w-yaml"),
}


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def ask(client, page: str, data: dict, **headers):
    if page == "check":
        return client.get(reverse("reachability_check"), data, **headers)
    return client.post(reverse("reachability_whatif"), data, **headers)


def error_at(body: str, element_id: str) -> str:
    """The invalid-feedback text right after the field `element_id` (marked is-invalid)."""
    match = re.search(rf'<(?:input|textarea|select) class="[^"]*is-invalid[^"]*" '
                      rf'id="{element_id}"[^>]*>(?:[^<]*</textarea>)?\s*'
                      r'<div class="invalid-feedback">([^<]+)</div>', body)
    assert match, f"no error next to #{element_id}"
    return match.group(1)


@pytest.mark.parametrize("case", list(CASES))
def test_a_page_load_gets_the_whole_page_with_the_error_at_its_field(demo_cluster, personas,
                                                                    login_as, debug, case):
    page, data, field, element_id = CASES[case]
    response = ask(login_as("alice"), page, data)
    body = response.content.decode()
    assert response.status_code == 400
    assert body.lstrip().startswith("<!doctype html>") and HEADING in body
    assert "bootstrap.min.css" in body
    error = response.context["error"]
    assert error.field == field
    assert error_at(body, element_id).endswith(html.escape(error.message))


@pytest.mark.parametrize("case", list(CASES))
def test_htmx_gets_the_form_fragment_with_the_error_at_its_field(demo_cluster, personas,
                                                                 login_as, debug, case):
    page, data, _, element_id = CASES[case]
    response = ask(login_as("alice"), page, data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    # 200: htmx swaps it into the form's area; a 400 would not be swapped (or, in DEBUG,
    # would replace the whole document with an unstyled fragment).
    assert response.status_code == 200
    area = "check-area" if page == "check" else "whatif-area"
    assert body.lstrip().startswith(f'<div id="{area}">')
    assert "<html" not in body and HEADING not in body
    assert "<form" in body
    assert error_at(body, element_id)


@pytest.mark.parametrize("case", list(CASES))
def test_a_boosted_htmx_page_load_gets_the_whole_page(demo_cluster, personas, login_as, case):
    page, data, _, element_id = CASES[case]
    response = ask(login_as("alice"), page, data, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    body = response.content.decode()
    assert response.status_code == 400
    assert HEADING in body
    assert error_at(body, element_id)


def test_the_check_keeps_what_was_typed(demo_cluster, personas, login_as):
    response = ask(login_as("alice"), "check", dict(source=CART, destination=DASHBOARD,
                                                    port="70000"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert f'value="{CART}"' in body and 'value="70000"' in body
    assert "not between 1 and 65535" in error_at(body, "c-port")


def test_what_if_keeps_the_draft(demo_cluster, personas, login_as):
    response = ask(login_as("alice"), "whatif", dict(change="policy", yaml="kind: [\n"),
                   HTTP_HX_REQUEST="true")
    assert "kind: [\n</textarea>" in response.content.decode()
