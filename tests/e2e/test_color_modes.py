"""Light and dark colour modes follow the system setting: the main pages load with Chromium's
`prefers-color-scheme` set to each, the page background changes, and every piece of text
stays readable against what is behind it. Screenshots are kept in
test-artifacts/screenshots/color-<mode>-<page>.png to be looked at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.core.models import Change, JobStatus
from console.tenancy import services as iso
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (name in the screenshot file, address, a selector that shows the page has rendered)
PAGES = [
    ("policies", "/policies/", "table"),
    ("policy-detail", "/policies/billing/nsnp-network-isolate/", "h1"),
    ("policy-editor", "/policies/new/", ".cm-editor"),
    ("workspaces", "/workspaces/", "table"),
    ("workspace-detail", "/workspaces/team-a/", "table"),
    ("projects", "/projects/", "table"),
    ("project-detail", "/projects/shop/", "[data-reachability]"),
    ("traffic", "/traffic/", "tr[data-exposure]"),
    ("traffic-detail", "/traffic/service/billing/payments-api/", "#traffic-diagram svg"),
    ("reachability", "/reachability/", "#reach-grid"),
    ("history", "/history/", "h1"),
    ("members", "/members/", "table[data-members]"),
    ("members-invite", "/members/users/invite/", "form[data-user-invite]"),
    ("platform-settings", "/settings/", "h1"),
]

BODY_BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"

# Every visible element with text of its own, whose colour contrasts with the first opaque
# background behind it by less than `minimum` (WCAG's ratio). Text over a gradient or image
# is skipped: its background is not one colour.
LOW_CONTRAST = """(minimum) => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g); if (!m) return null;
    return {r: +m[0], g: +m[1], b: +m[2], a: m.length > 3 ? +m[3] : 1}; };
  const lum = ({r, g, b}) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const blend = (top, bottom) => ({r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a), b: top.b * top.a + bottom.b * (1 - top.a), a: 1});
  const background = (el) => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e);
      if (s.backgroundImage !== 'none') return null;
      const c = parse(s.backgroundColor); if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; } }
    let colour = {r: 255, g: 255, b: 255, a: 1};
    if (layers.length && layers[layers.length - 1].a >= 1) colour = layers.pop();
    while (layers.length) colour = blend(layers.pop(), colour);
    return colour; };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg, .visually-hidden, .visually-hidden-focusable')) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const box = el.getBoundingClientRect(); const s = getComputedStyle(el);
    if (!box.width || !box.height || s.visibility === 'hidden' || +s.opacity === 0) continue;
    const bg = background(el); if (!bg) continue;
    const fg = blend(parse(s.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < minimum) out.push(`${el.tagName.toLowerCase()}.${el.className} ` +
      `"${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return out.slice(0, 8);
}"""


@pytest.fixture
def reconciled(demo_cluster):
    job = iso.start_reconcile()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return demo_cluster


def _visit_all(page, screenshot, mode: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    backgrounds, unreadable = {}, {}
    change = Change.objects.order_by("pk").first()  # the reconcile's: a YAML diff to read
    pages = [*PAGES, ("history-change", f"/history/{change.pk}/", ".yaml-diff")]
    for name, address, ready in pages:
        page.goto(address)
        expect(page.locator(ready).first).to_be_visible(timeout=15_000)
        page.wait_for_load_state("networkidle")
        screenshot(page, f"color-{mode}-{name}")
        backgrounds[name] = page.evaluate(BODY_BACKGROUND)
        low = page.evaluate(LOW_CONTRAST, 3)
        if low:
            unreadable[name] = low
    return backgrounds, unreadable


def test_every_page_follows_the_system_colour_scheme_and_stays_readable(
        browser, live_server, reconciled, personas, screenshot):
    seen = {}
    for mode in ("light", "dark"):
        context = browser.new_context(base_url=live_server.url, color_scheme=mode,
                                      viewport={"width": 1440, "height": 900})
        page = context.new_page()
        try:
            page.goto("/login/")
            screenshot(page, f"color-{mode}-login")
            login(page, "alice", PASSWORD)
            backgrounds, unreadable = _visit_all(page, screenshot, mode)
        finally:
            context.close()
        assert not unreadable, f"text below 3:1 contrast in {mode} mode: {unreadable}"
        seen[mode] = backgrounds
    for name in seen["light"]:
        assert seen["light"][name] == "rgb(255, 255, 255)", (name, seen["light"][name])
        assert seen["dark"][name] == "rgb(33, 37, 41)", (name, seen["dark"][name])


def test_the_login_page_is_dark_before_anyone_signs_in(browser, live_server, screenshot):
    context = browser.new_context(base_url=live_server.url, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto("/login/")
        assert page.evaluate(BODY_BACKGROUND) == "rgb(33, 37, 41)"
        expect(page.get_by_label("Username")).to_have_css("color", "rgb(222, 226, 230)")
    finally:
        context.close()
