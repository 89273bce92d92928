"""Browser tests of the History page: a change's diff and its revert, live, with a new entry."""

import copy

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from console.core import cluster
from console.core.audit import record_change
from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def edited_policy(demo_cluster):
    """alice narrowed reporting's Prometheus rule to one port; the change is in the history."""
    alice = User.objects.create_superuser("alice", password="pw-alice-1")
    gw = cluster.gateway()
    live = gw.get_object("NetworkPolicy", "allow-prometheus-scrape", "reporting")
    edited = copy.deepcopy(live)
    edited["spec"]["ingress"][0]["ports"] = [{"port": 9090, "protocol": "TCP"}]
    written = gw.replace(edited)
    from isolation.review.impact import impact_of

    before = gw.snapshot()
    before = before.with_network_policies(
        [p if p["metadata"]["name"] != "allow-prometheus-scrape" else live
         for p in before.network_policies])
    return record_change(kind="policy-apply", target="reporting/allow-prometheus-scrape",
                         summary="Narrowed the Prometheus scrape to port 9090", author=alice,
                         workspace="team-b", project="reporting", before=[live], after=[written],
                         impact=impact_of(before, gw.snapshot()))


def test_a_change_is_reverted_from_its_diff_with_a_live_job(page, edited_policy, screenshot):
    login(page, "alice", "pw-alice-1")
    page.goto("/history/")
    row = page.locator("tr", has_text="reporting/allow-prometheus-scrape")
    expect(row.get_by_text("▼ 1")).to_be_visible()
    screenshot(page, "history-list")
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("policy-apply")
    expect(page.locator(".yaml-diff tr.added td.right", has_text="port: 9090")).to_be_visible()
    screenshot(page, "history-detail")
    page.get_by_role("link", name="Revert…").click()
    expect(page.get_by_text("is put back as it was before")).to_be_visible()
    expect(page.get_by_text("▲ 1 newly allowed")).to_be_visible()
    screenshot(page, "history-revert-preview")
    page.get_by_role("button", name=f"Revert change #{edited_policy.pk}").click()
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-job-status", "succeeded")
    expect(status.get_by_text("reverted")).to_be_visible()
    screenshot(page, "history-revert-done")
    page.get_by_role("link", name="Open the new history entry").click()
    expect(page.get_by_role("link", name=f"Change #{edited_policy.pk}")).to_be_visible()
    live = cluster.gateway().get_object("NetworkPolicy", "allow-prometheus-scrape", "reporting")
    assert "ports" not in live["spec"]["ingress"][0]


def test_a_conflicting_revert_is_shown_and_offers_no_button(page, edited_policy, screenshot):
    gw = cluster.gateway()
    live = gw.get_object("NetworkPolicy", "allow-prometheus-scrape", "reporting")
    live["spec"]["ingress"][0]["ports"] = [{"port": 9091, "protocol": "TCP"}]
    gw.replace(live)
    login(page, "alice", "pw-alice-1")
    page.goto(f"/history/{edited_policy.pk}/revert/")
    expect(page.locator("#revert-conflicts")).to_contain_text("changed since this change (spec)")
    expect(page.get_by_role("button", name=f"Revert change #{edited_policy.pk}")).to_have_count(0)
    screenshot(page, "history-revert-conflict")
