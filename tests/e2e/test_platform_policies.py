"""Platform policies in a browser, on the demo cluster: a check that a Calico GlobalNetworkPolicy
denies, and an allowlist entry that such a policy makes useless."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STOREFRONT = "shop/storefront-cf1fcd5cf-m4q9w"
METADATA = "169.254.169.254"
GNP = "platform.deny-cloud-metadata"


@pytest.fixture
def alice(demo_cluster):
    return User.objects.create_superuser("alice", password="pw-alice-1")


def test_a_check_is_explained_by_the_calico_deny_that_decides_it(page, alice, screenshot):
    login(page, "alice", "pw-alice-1")
    page.goto(f"/reachability/check/?source={STOREFRONT}&destination={METADATA}&port=80")
    result = page.locator("#check-result")
    expect(result.get_by_text("Denied").first).to_be_visible()
    expect(result).to_contain_text(GNP)
    expect(result).to_contain_text("platform")        # the tier it runs in
    screenshot(page, "platform-01-check-denied-by-calico")


def test_an_external_entry_to_the_metadata_address_is_flagged_as_overridden(page, alice,
                                                                           screenshot):
    login(page, "alice", "pw-alice-1")
    page.goto("/projects/shop/")
    page.get_by_role("tab", name="External allowlist").click()
    page.get_by_role("link", name="Add external entry").click()
    dialog = page.locator("#dialog")
    dialog.get_by_label("Egress", exact=True).check()
    dialog.get_by_label("Network segment (CIDR)").fill(f"{METADATA}/32")
    dialog.get_by_label("Port or range of row 1").fill("80")
    dialog.get_by_role("button", name="Preview").click()
    warning = dialog.locator("[data-overrides]")
    expect(warning).to_be_visible()
    expect(warning.locator("[data-override]").first).to_contain_text(GNP)
    expect(warning.locator("[data-override]").first).to_contain_text("Deny")
    screenshot(page, "platform-02-entry-overridden")
