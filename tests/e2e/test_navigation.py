import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECTIONS = [
    ("Network Policies", "policies"),
    ("Workspaces", "workspaces"),
    ("Projects", "projects"),
    ("Traffic Paths", "traffic"),
    ("Reachability", "reachability"),
    ("History", "history"),
    ("Members", "members"),
    ("Platform settings", "platform-settings"),
]


def test_a_platform_admin_signs_in_and_visits_every_section(page, demo_cluster, screenshot):
    User.objects.create_superuser("alice", password="pw-alice-1")
    page.goto("/history/")
    expect(page).to_have_url("/login/?next=/history/")
    screenshot(page, "00-login")
    login(page, "alice", "pw-alice-1")
    header = page.locator("#cluster-status")
    expect(header.get_by_text("Simulator")).to_be_visible()
    expect(header.get_by_text("Healthy")).to_be_visible()
    for index, (label, slug) in enumerate(SECTIONS, start=1):
        page.get_by_role("navigation", name="Sections").get_by_role("link", name=label).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(label)
        expect(page.get_by_role("link", name=label)).to_have_attribute("aria-current", "page")
        screenshot(page, f"{index:02d}-{slug}")


def test_workspace_and_project_pages_open_from_their_lists(page, demo_cluster, screenshot):
    User.objects.create_superuser("alice", password="pw-alice-1")
    login(page, "alice", "pw-alice-1")
    page.goto("/workspaces/")
    page.locator("table tbody tr a").first.click()
    expect(page.get_by_role("heading", name="Network isolation")).to_be_visible()
    screenshot(page, "08-workspace-detail")
    page.locator("table tbody tr a").first.click()
    expect(page.get_by_text("Isolation in effect")).to_be_visible()
    screenshot(page, "09-project-detail")


def test_a_job_started_from_history_updates_live_until_done(page, demo_cluster, screenshot):
    User.objects.create_superuser("alice", password="pw-alice-1")
    login(page, "alice", "pw-alice-1")
    page.goto("/history/")
    page.get_by_role("button", name="Check the cluster connection").click()
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-job-status", "succeeded")
    expect(status.get_by_text("Connected to")).to_be_visible()
    screenshot(page, "10-history-job")
