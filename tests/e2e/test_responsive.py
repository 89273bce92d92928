"""Every main page at 1440, 1024 and 390 px: the page itself never scrolls sideways (wide
tables scroll inside their card), and a screenshot per page and width is kept in
test-artifacts/screenshots/responsive-<page>-<width>.png to be looked at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from console.core.models import JobStatus
from console.tenancy import services as iso
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1440, 1024, 390)

# (name in the screenshot file, address, a selector that shows the page has rendered)
PAGES = [
    ("policies", "/policies/", "table"),
    ("policy-detail", "/policies/billing/nsnp-network-isolate/", "h1"),
    ("workspaces", "/workspaces/", "table"),
    ("workspace-detail", "/workspaces/team-a/", "table"),
    ("projects", "/projects/", "table"),
    ("project-detail", "/projects/shop/", "[data-reachability]"),
    ("traffic", "/traffic/", "tr[data-exposure]"),
    ("traffic-detail", "/traffic/service/billing/payments-api/", "#traffic-diagram svg"),
    ("traffic-ingress", "/traffic/ingress/reporting/dashboard/", "#traffic-diagram svg"),
    ("reachability", "/reachability/", "#reach-grid"),
    ("history", "/history/", "h1"),
    ("members", "/members/", "table[data-members]"),
    ("platform-settings", "/settings/", "h1"),
]

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# The outermost elements reaching past the window's right edge, to name in a failure.
CULPRITS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && !(el.parentElement &&
        el.parentElement.getBoundingClientRect().right > window.innerWidth + 1)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
               ' ' + Math.round(r.right));
    }
  }
  return out.slice(0, 5);
}"""


@pytest.fixture
def reconciled(demo_cluster):
    job = iso.start_reconcile()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return demo_cluster


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(page, reconciled, personas, screenshot, width):
    login(page, "alice", PASSWORD)
    page.set_viewport_size({"width": width, "height": 900})
    overflowing = {}
    for name, address, ready in PAGES:
        page.goto(address)
        expect(page.locator(ready).first).to_be_visible(timeout=15_000)
        page.wait_for_load_state("networkidle")
        screenshot(page, f"responsive-{name}-{width}")
        excess = page.evaluate(OVERFLOW)
        if excess > 0:
            overflowing[name] = (excess, page.evaluate(CULPRITS))
    assert not overflowing, f"pages wider than the {width} px window (excess px): {overflowing}"


def test_the_header_collapses_on_a_phone_and_sign_out_stays_reachable(page, reconciled,
                                                                        personas, screenshot):
    login(page, "alice", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/traffic/")
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()
    page.get_by_role("button", name="Toggle navigation").click()
    # Opened, its animation over ("collapsing" gives way to "collapse show"): a click during
    # the animation can land before the menu stands still.
    expect(page.locator("#header-menu")).to_have_class(re.compile(r"^(?=.*\bshow\b)(?!.*\bcollapsing\b)"))
    expect(sign_out).to_be_visible()
    box = sign_out.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    nav = page.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link", name="Members")).to_be_visible()
    screenshot(page, "responsive-header-open-390")
    nav.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members")


# The console's name in the header: [the width its text needs, the width it is given].
BRAND = "() => { const s = document.querySelector('.navbar-brand span'); return [s.scrollWidth, s.clientWidth]; }"


@pytest.mark.parametrize(("width", "language"), [(1440, "en"), (1024, "en"), (1024, "zh-hans"),
                                                 (768, "en")])
def test_the_consoles_name_is_whole_on_wide_screens_and_ends_in_an_ellipsis_on_narrow_ones(
        page, reconciled, personas, width, language):
    login(page, "alice", PASSWORD)
    page.set_viewport_size({"width": width, "height": 700})
    page.goto("/projects/")
    if language != "en":
        page.get_by_role("button", name="简体中文").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    needed, given = page.evaluate(BRAND)
    if width >= 992:
        assert needed <= given, f"the name is cut at {width} px: {needed} px in {given}"
    else:
        assert page.locator(".navbar-brand span").evaluate(
            "s => getComputedStyle(s).textOverflow") == "ellipsis"
    assert page.evaluate(OVERFLOW) <= 0


def test_the_sidebar_stays_in_view_on_a_long_page(page, reconciled, personas):
    login(page, "alice", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 700})
    page.goto("/traffic/")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("window.scrollY") > 0, "the page should be long enough to scroll"
    link = page.get_by_role("navigation", name="Sections").get_by_role("link", name="Members")
    expect(link).to_be_in_viewport()


def test_a_dialog_closes_after_its_job_succeeds_and_a_toast_says_what_was_done(page, reconciled,
                                                                               personas,
                                                                               screenshot):
    login(page, "alice", PASSWORD)
    page.goto("/workspaces/")
    page.get_by_role("link", name="Create workspace").click()
    dialog = page.locator("#dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill("team-z")
    dialog.get_by_role("button", name="Create").click()
    toast = page.locator("#toasts .toast")
    expect(toast).to_be_visible()
    expect(toast).to_have_attribute("data-toast-status", "succeeded")
    expect(toast).to_contain_text("team-z")
    expect(page.locator("#toasts")).to_have_attribute("aria-live", "polite")
    expect(dialog).to_be_hidden()
    screenshot(page, "responsive-toast-1400")
    expect(page.locator("tr[data-workspace='team-z']")).to_be_visible()


def test_a_matrix_cell_brings_its_detail_into_view_and_focus(page, reconciled, personas):
    login(page, "alice", PASSWORD)
    page.set_viewport_size({"width": 1024, "height": 700})
    page.goto("/reachability/")
    grid = page.locator("#reach-grid")
    expect(grid).to_be_visible()
    row = grid.locator("tr", has=page.get_by_role("rowheader", name="shop"))
    row.locator("td a[title^='shop → reporting']").click()
    heading = page.locator("#drill-card").get_by_role("heading", name="shop → reporting")
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
