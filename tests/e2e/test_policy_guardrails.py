"""A project admin drafts a policy that breaks the platform's "every project reaches DNS",
sees it at the top of the review with the deciding rule, fixes the draft and applies it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.console.policies.test_policies_guardrails import NO_EGRESS, WITH_DNS
from tests.e2e.conftest import login
from tests.e2e.test_policies import editor_text, review, set_editor_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_draft_that_breaks_dns_is_shown_fixed_and_applied(page, demo_cluster, personas,
                                                           screenshot):
    login(page, "carol", PASSWORD)
    page.goto("/policies/new/?project=shop")
    page.wait_for_selector(".cm-editor")
    set_editor_text(page, NO_EGRESS)
    review(page)
    broken = page.locator('[data-broken-guardrail="every-project-reaches-dns"]')
    expect(broken).to_be_visible()
    expect(broken).to_contain_text("shop/no-egress")   # the deciding policy, by name
    expect(page.locator("[data-override-refused]")).to_contain_text("only a platform admin")
    broken.scroll_into_view_if_needed()
    screenshot(page, "policy-guardrails-01-broken")

    # Applying anyway is refused and writes nothing.
    page.get_by_role("button", name="Apply shop/no-egress").click()
    expect(page.locator("#apply-refused")).to_contain_text("Not applied")

    # The fix: DNS, and the ledger the project promised itself.
    set_editor_text(page, WITH_DNS)
    assert "k8s-app: kube-dns" in editor_text(page)
    review(page)
    expect(page.locator("[data-broken-guardrail]")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "policy-guardrails-02-fixed")
    page.get_by_role("button", name="Apply shop/only-dns").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("only-dns")
    expect(page.get_by_role("status").filter(has_text="Created shop/only-dns")).to_be_visible()
