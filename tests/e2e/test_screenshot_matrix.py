"""Every main page at 1440, 1024 and 390 px, in English and zh-Hans, in the light and the dark
colour mode: the page itself never scrolls sideways, and a screenshot of each combination is
kept in test-artifacts/screenshots/matrix-<page>-<width>-<lang>-<mode>.png to be looked at.

One signed-in browser context per language and mode visits every page at every width, so the
whole matrix costs four sign-ins."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.core.models import JobStatus
from console.tenancy import services as iso
from tests.conftest import PASSWORD
from tests.e2e.test_responsive import CULPRITS, OVERFLOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1440, 1024, 390)
# (language code in the file name, browser locale, the <html lang> the console answers with)
LANGUAGES = (("en", "en-US", "en"), ("zh-Hans", "zh-CN", "zh-hans"))
MODES = ("light", "dark")

# (name in the screenshot file, address, a selector that shows the page has rendered)
PAGES = [
    ("policies", "/policies/", "table"),
    ("policy-detail", "/policies/billing/nsnp-network-isolate/", "h1"),
    ("workspaces", "/workspaces/", "table"),
    ("workspace-detail", "/workspaces/team-a/", "table[data-projects]"),
    ("projects", "/projects/", "table"),
    ("project-detail", "/projects/shop/", "[data-reachability]"),
    ("traffic", "/traffic/", "tr[data-exposure]"),
    ("traffic-detail", "/traffic/service/billing/payments-api/", "#traffic-diagram svg"),
    ("reachability", "/reachability/", "#reach-grid"),
    ("guardrails", "/guardrails/", "tr[data-expectation]"),
    ("history", "/history/", "h1"),
    ("members", "/members/", "table[data-members]"),
    ("platform-settings", "/settings/", "h1"),
]


@pytest.fixture
def reconciled(demo_cluster):
    """The demo cluster with its generated isolation policies written, as `make run` has it."""
    job = iso.start_reconcile()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return demo_cluster


def _sign_in(page) -> None:
    # By the form's ids: the labels are in the browser's language.
    page.goto("/login/")
    page.locator("#id_username").fill("alice")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def test_every_page_fits_every_width_in_both_languages_and_both_modes(
        browser, live_server, reconciled, personas, screenshot):
    overflowing, errors, wrong_language = {}, [], {}
    for lang, locale, html_lang in LANGUAGES:
        for mode in MODES:
            context = browser.new_context(base_url=live_server.url, locale=locale,
                                          color_scheme=mode,
                                          viewport={"width": WIDTHS[0], "height": 900})
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            try:
                _sign_in(page)
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    for name, address, ready in PAGES:
                        page.goto(address)
                        expect(page.locator(ready).first).to_be_visible(timeout=15_000)
                        page.wait_for_load_state("networkidle")
                        if page.locator("html").get_attribute("lang") != html_lang:
                            wrong_language[name] = page.locator("html").get_attribute("lang")
                        screenshot(page, f"matrix-{name}-{width}-{lang}-{mode}")
                        excess = page.evaluate(OVERFLOW)
                        if excess > 0:
                            overflowing[(name, width, lang, mode)] = (excess,
                                                                      page.evaluate(CULPRITS))
            finally:
                context.close()
    assert not overflowing, f"pages wider than their window (excess px): {overflowing}"
    assert not wrong_language, f"pages not in the browser's language: {wrong_language}"
    assert not errors, f"JavaScript errors on the pages: {errors}"


def test_a_workspace_switch_in_the_list_works_from_the_keyboard_through_its_preview(
        browser, live_server, reconciled, personas, screenshot):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page)
        page.goto("/workspaces/")
        switch = page.locator("tr[data-workspace='team-b'] .iso-switch")
        expect(switch).to_have_accessible_name("Network isolation: Off (preview the change)")
        switch.focus()
        page.keyboard.press("Enter")
        preview = page.locator("#isolation-panel [data-switch-preview]")
        expect(preview).to_be_visible()
        screenshot(page, "matrix-workspace-switch-preview")
        preview.get_by_role("button", name="Turn on workspace isolation").click()
        expect(page.locator("#isolation-panel .job-status")).to_have_attribute(
            "data-job-status", "succeeded")
        row = page.locator("tr[data-workspace='team-b']")
        expect(row.locator(".iso-switch")).to_have_class("iso-switch iso-switch-sm is-on")
        expect(row.get_by_text("On", exact=True)).to_be_visible()
    finally:
        context.close()
