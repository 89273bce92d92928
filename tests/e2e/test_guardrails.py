"""Guardrails in the browser: the header's count, the page with its violated expectation, and a
switch that breaks a platform guardrail applied with an override."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.core import cluster
from console.core.models import Change, JobStatus
from console.tenancy import services as iso
from isolation.guardrails.model import API_VERSION
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reconciled(demo_cluster):
    """The demo cluster with its generated isolation policies written, as `make run` has it
    (the reconcile also evaluates the guardrails)."""
    job = iso.start_reconcile()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return demo_cluster


def test_a_project_admin_follows_the_header_to_the_violated_expectation(page, reconciled,
                                                                        personas, screenshot):
    login(page, "carol", PASSWORD)
    page.goto("/projects/")
    badge = page.locator("[data-violated-guardrails]")
    expect(badge).to_have_text("1 guardrail violated")
    badge.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Guardrails")
    violated = page.locator('tr[data-expectation="no-project-reaches-the-management-network"]')
    expect(violated.get_by_text("Violated", exact=True)).to_be_visible()
    expect(page.locator('tr[data-violations-of="no-project-reaches-the-management-network"]')
           ).to_contain_text("10.10.0.1")
    screenshot(page, "guardrails-01-violated")

    page.get_by_label("State").select_option("")
    expect(page.locator("tr[data-expectation]")).to_have_count(4)
    holds = page.locator('tr[data-expectation="shop/shop-reaches-ledger"]')
    expect(holds.get_by_text("Holds", exact=True)).to_be_visible()
    expect(holds.get_by_role("link", name="Edit shop/shop-reaches-ledger")).to_be_visible()
    expect(page.locator('tr[data-expectation="every-project-reaches-dns"]')
           ).to_contain_text("read-only")
    expect(page.get_by_text("reporting")).to_have_count(0)
    screenshot(page, "guardrails-02-all")

    page.get_by_role("link", name="New expectation").click()
    editor = page.get_by_label("Expectation (YAML)")
    editor.fill(editor.input_value().replace("expect: Allowed", "expect: Sometimes"))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("[data-field-errors]")).to_contain_text("spec.expect")
    screenshot(page, "guardrails-04-invalid")


def test_a_platform_admin_overrides_a_platform_guardrail_with_a_reason(page, reconciled,
                                                                     personas, screenshot):
    cluster.gateway().create({
        "apiVersion": API_VERSION, "kind": "ClusterConnectivityExpectation",
        "metadata": {"name": "shop-open-to-its-workspace"},
        "spec": {"description": "The workspace's projects reach the shop",
                 "from": {"namespace": "catalog"}, "to": {"namespace": "shop"},
                 "expect": "Allowed"}})
    login(page, "alice", PASSWORD)
    page.goto("/projects/shop/isolation/preview/?enabled=1")
    checks = page.locator("[data-guardrail-checks]")
    expect(checks).to_contain_text("This change breaks 1 guardrail")
    expect(checks).to_contain_text("shop-open-to-its-workspace")
    page.get_by_label("To apply it anyway, give the reason").fill(
        "The shop moves behind the API gateway today")
    page.get_by_role("button", name="Override the guardrail").click()
    expect(page.locator("[data-override-given]")).to_contain_text("Override recorded")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "guardrails-03-override")
    page.get_by_role("button", name="Enable isolation").click()
    expect(page.get_by_text("Succeeded").first).to_be_visible(timeout=30_000)
    override = Change.objects.get(kind="guardrail-override")
    assert "The shop moves behind the API gateway today" in override.summary


def test_the_guardrail_pages_have_no_serious_accessibility_violation(browser, live_server,
                                                                    reconciled, personas):
    from tests.e2e.test_accessibility import violations_on

    context = browser.new_context(base_url=live_server.url, bypass_csp=True,
                                  viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        login(page, "carol", PASSWORD)
        found = violations_on(page, [
            ("guardrails", "/guardrails/", "table[data-guardrails]"),
            ("guardrail-new", "/guardrails/new/", "textarea"),
            ("guardrail-edit", "/guardrails/project/shop/shop-reaches-ledger/edit/", "textarea"),
        ])
    finally:
        context.close()
    assert not found, f"axe violations: {found}"
