"""Every policy kind on the Network Policies pages in a browser, with screenshots: the list of
all kinds, a GlobalNetworkPolicy and an AdminNetworkPolicy."""

import pytest
from playwright.sync_api import expect

from console.core import cluster
from console.policies import services
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("no_platform_guardrails")]

ANP = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
       "metadata": {"name": "deny-smtp"},
       "spec": {"priority": 10,
                "subject": {"namespaces": {"matchLabels": {"kubesphere.io/workspace": "team-b"}}},
                "egress": [{"name": "no-smtp", "action": "Deny",
                            "to": [{"networks": ["0.0.0.0/0"]}],
                            "ports": [{"portNumber": {"port": 25}}]}]}}


def test_the_list_and_details_of_every_kind(page, live_server, demo_cluster, personas,
                                            screenshot):
    cluster.gateway().create(ANP)
    services.forget()
    login(page, "alice", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto("/policies/?sort=name&kind=")
    table = page.locator("#policy-table")
    for label in ("Calico GNP", "ANP", "BANP", "Tier", "NetworkPolicy"):
        expect(table.get_by_text(label, exact=True).first).to_be_visible()
    expect(table.get_by_text("cluster-wide").first).to_be_visible()
    screenshot(page, "policy-kinds-list")

    page.get_by_label("Kind").select_option("calico-gnp")
    expect(table.locator("tbody tr")).to_have_count(1)
    table.get_by_role("link", name="platform.deny-cloud-metadata").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("platform.deny-cloud-metadata")
    expect(page.locator("#policy-sentences")).to_contain_text(
        "Deny egress to 169.254.169.254/32")
    expect(page.locator("#policy-position")).to_contain_text("Before any project policy")
    screenshot(page, "policy-kinds-gnp-detail")

    page.goto("/policies/?kind=anp")
    page.locator("#policy-table").get_by_role("link", name="deny-smtp").click()
    expect(page.locator("#policy-sentences")).to_contain_text("Deny egress to 0.0.0.0/0")
    screenshot(page, "policy-kinds-anp-detail")
