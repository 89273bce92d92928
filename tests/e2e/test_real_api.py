"""A walk through the console in a browser with a real kube-apiserver behind it: the header names
the real server, a policy is written in the editor, applied and deleted, and a workspace's
isolation is switched on and off again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from console.tenancy.reconcile import repair_drift
from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.e2e.test_isolation_pages import finish_job
from tests.e2e.test_policies import editor_text, review, set_editor_text

pytestmark = [pytest.mark.browser, pytest.mark.realapi, pytest.mark.django_db(transaction=True)]


def test_a_policy_and_an_isolation_switch_on_a_real_api_server(page, real_cluster, personas,
                                                               screenshot):
    repair_drift()
    login(page, "alice", PASSWORD)
    page.goto("/policies/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Network Policies")
    expect(page.get_by_text("Simulator", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="default-deny")).to_be_visible()

    page.get_by_role("link", name="Create policy").click()
    page.get_by_label("Start from a template").select_option("deny-ingress")
    page.get_by_label("Project", exact=True).select_option("web")
    page.get_by_role("button", name="Load template").click()
    page.wait_for_selector(".cm-editor")
    set_editor_text(page, editor_text(page).replace("name: default-deny-ingress",
                                                    "name: real-deny-ingress"))
    review(page)
    expect(page.locator("#impact")).to_contain_text("newly blocked")
    page.get_by_role("button", name="Apply web/real-deny-ingress").click()
    expect(page.get_by_role("status").filter(has_text="Created web/real-deny-ingress")).to_be_visible()
    screenshot(page, "realapi-01-policy-created")

    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete real-deny-ingress").last.click()
    expect(page).to_have_url(re.compile(r"/policies/$"))
    expect(page.locator("#policy-table").get_by_role("link", name="real-deny-ingress")).to_have_count(0)

    page.goto("/workspaces/team-b/")
    page.get_by_role("link", name="Turn on isolation…").click()
    preview = page.locator("#isolation-panel")
    preview.get_by_role("button", name="Turn on workspace isolation").click()
    finish_job(preview)
    screenshot(page, "realapi-02-workspace-isolated")
    page.goto("/workspaces/team-b/")
    page.get_by_role("link", name="Turn off isolation…").click()
    page.locator("#isolation-panel").get_by_role("button", name="Turn off workspace isolation").click()
    finish_job(page.locator("#isolation-panel"))
