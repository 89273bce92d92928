"""Browser tests of the Reachability page: a check with its explanation, a matrix drill-down."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STOREFRONT = "shop/storefront-cf1fcd5cf-m4q9w"
DASHBOARD = "reporting/dashboard-f0f02792e-x7k2p"


@pytest.fixture
def alice(db):
    return User.objects.create_superuser("alice", password="pw-alice-1")


def test_a_denied_check_names_the_policy_that_isolates_the_destination(page, demo_cluster, alice,
                                                                      screenshot):
    login(page, "alice", "pw-alice-1")
    page.goto("/reachability/check/")
    page.get_by_label("From", exact=True).fill(STOREFRONT)
    page.get_by_label("To", exact=True).fill("service:reporting/dashboard")
    page.get_by_label("Port", exact=True).fill("80")
    page.get_by_role("button", name="Check").click()
    result = page.locator("#check-result")
    expect(result.get_by_text("Denied").first).to_be_visible()
    expect(result.get_by_text("is isolated by").first).to_be_visible()
    expect(result.get_by_role("link", name="reporting/default-deny").first).to_be_visible()
    # The answer came in the page, and its URL can be shared.
    expect(page).to_have_url(re.compile(r"destination=service%3Areporting%2Fdashboard.*port=80"))
    screenshot(page, "reachability-check-denied")
    page.reload()
    expect(page.locator("#check-result").get_by_text("Denied").first).to_be_visible()


def test_an_allowed_check_shows_the_rule_that_allows_it(page, demo_cluster, alice, screenshot):
    login(page, "alice", "pw-alice-1")
    page.goto("/reachability/check/?source=kubesphere-controls-system/"
              "kubesphere-router-ff2eaad60-m4q9w&destination=" + DASHBOARD + "&port=3000")
    result = page.locator("#check-result")
    expect(result.get_by_text("Allowed").first).to_be_visible()
    expect(result.get_by_role("link", name="reporting/allow-from-ingress-controller").first
           ).to_be_visible()
    expect(result.locator("code").first).to_contain_text("spec.ingress[0]")
    screenshot(page, "reachability-check-allowed")


def test_a_matrix_cell_drills_down_to_pods_and_ports(page, demo_cluster, alice, screenshot):
    login(page, "alice", "pw-alice-1")
    page.goto("/reachability/")
    grid = page.locator("#reach-grid")
    expect(grid).to_be_visible()
    screenshot(page, "reachability-matrix")
    row = grid.locator("tr", has=page.get_by_role("rowheader", name="shop"))
    row.locator("td a[title^='shop → reporting']").click()
    drill = page.locator("#drill-card")
    expect(drill.get_by_role("heading", name="shop → reporting")).to_be_visible()
    expect(drill.get_by_role("link", name="✕ 3000/TCP blocked").first).to_be_visible()
    screenshot(page, "reachability-drill-down")
    drill.get_by_role("link", name="✕ 3000/TCP blocked").first.click()
    expect(page.locator("#check-result").get_by_text("Denied").first).to_be_visible()


def test_what_if_shows_the_connections_a_switch_would_cut(page, demo_cluster, alice, screenshot):
    login(page, "alice", "pw-alice-1")
    page.goto("/reachability/what-if/")
    page.get_by_label("Project isolation").check()
    page.get_by_label("or project").select_option("shop")
    page.get_by_role("button", name="Preview the switch").click()
    impact = page.locator("#impact")
    expect(impact.get_by_text("Turn project isolation on for shop")).to_be_visible()
    expect(impact.locator(".badge", has_text="newly blocked")).to_be_visible()
    screenshot(page, "reachability-what-if")


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_a_bad_port_in_check_is_shown_at_its_field_in_the_styled_page(page, demo_cluster, alice,
                                                                      screenshot, settings,
                                                                      debug):
    settings.DEBUG = debug   # in DEBUG, django-htmx would replace the page with a 400's body
    login(page, "alice", "pw-alice-1")
    page.goto("/reachability/check/")
    page.get_by_label("From", exact=True).fill(STOREFRONT)
    page.get_by_label("To", exact=True).fill(DASHBOARD)
    page.get_by_label("Port", exact=True).fill("70000")
    page.get_by_role("button", name="Check").click()
    port = page.get_by_label("Port", exact=True)
    expect(port).to_have_class(re.compile(r"\bis-invalid\b"))
    feedback = page.locator("#c-port ~ .invalid-feedback")
    expect(feedback).to_contain_text("not between 1 and 65535")
    expect(feedback).to_be_visible()
    # Still the whole, styled page: its heading, tabs and navigation bar are there.
    expect(page.get_by_role("heading", name="Reachability", level=1)).to_be_visible()
    expect(page.locator("header.navbar")).to_have_css("background-color", "rgb(36, 46, 66)")
    expect(port).to_have_value("70000")
    screenshot(page, f"reachability-check-bad-port-{'debug' if debug else 'production'}")
