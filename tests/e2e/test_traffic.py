"""Traffic Paths in the browser: the list, the diagrams, the explainer and the one-click fix."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.core.models import JobStatus
from console.tenancy import services as iso
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reconciled(demo_cluster):
    """The demo cluster with its generated isolation policies written, as `make run` has it."""
    job = iso.start_reconcile()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return demo_cluster


def _row(page, exposure: str):
    return page.locator(f'tr[data-exposure="{exposure}"]')


def test_the_advisors_fix_makes_a_nodeport_work_through_every_node(page, reconciled, personas,
                                                                   screenshot):
    login(page, "bob", PASSWORD)
    page.goto("/traffic/")
    expect(_row(page, "service/billing/payments-api").get_by_text("Some nodes only")).to_be_visible()
    screenshot(page, "traffic-01-list")
    page.get_by_label("Project").select_option("billing")
    expect(page).to_have_url("/traffic/?client=&project=billing")
    expect(page.locator("tr[data-exposure]")).to_have_count(2)

    page.get_by_role("link", name="payments-api").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("NodePort billing/payments-api")
    expect(page.locator("#verdict-summary")).to_contain_text("works when it enters on node-2".capitalize())
    missing = page.locator("#missing-entries")
    expect(missing.get_by_text("10.233.64.1/32")).to_be_visible()
    expect(missing.get_by_text("10.233.66.1/32")).to_be_visible()
    expect(page.locator("#traffic-diagram svg > title")).to_have_text("NodePort billing/payments-api")
    screenshot(page, "traffic-02-nodeport-cluster")
    page.locator("#traffic-diagram").screenshot(path=_diagram_path("traffic-02-nodeport-cluster-diagram"))

    page.get_by_role("link", name="Add to the external allowlist").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add to the external allowlist of billing")
    expect(page.locator("#predicted-summary")).to_contain_text("node-1, node-2 or node-3")
    screenshot(page, "traffic-03-fix-preview")
    page.get_by_role("button", name="Add the entry").click()
    expect(page.locator(".job-status")).to_have_attribute("data-job-status", "succeeded")
    screenshot(page, "traffic-04-fix-job")

    page.locator("#trace-again").click()
    expect(page.locator("#verdict-heading + p [data-status]")).to_have_attribute("data-status", "every")
    expect(page.locator("#verdict-summary")).to_contain_text("Works when it enters on node-1, node-2 or node-3")
    expect(page.get_by_text("Nothing is missing")).to_be_visible()
    screenshot(page, "traffic-05-after-fix")
    page.goto("/traffic/")
    expect(_row(page, "service/billing/payments-api").get_by_text("Every node")).to_be_visible()


def _diagram_path(name: str) -> str:
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")


@pytest.mark.parametrize(("url", "title", "name"), [
    ("/traffic/service/billing/payments-gateway/", "LoadBalancer billing/payments-gateway",
     "traffic-06-loadbalancer-local"),
    ("/traffic/ingress/shop/storefront/", "Ingress shop/storefront", "traffic-07-ingress"),
])
def test_diagrams_are_drawn_inline_and_downloadable(page, reconciled, personas, screenshot, url,
                                                    title, name):
    login(page, "alice", PASSWORD)
    page.goto(url)
    diagram = page.locator("#traffic-diagram svg")
    expect(diagram.locator("> title")).to_have_text(title)
    screenshot(page, name)
    page.locator("#traffic-diagram").screenshot(path=_diagram_path(f"{name}-diagram"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Download diagram (.svg)").click()
    assert download.value.suggested_filename.endswith(".svg")


def test_the_explainer_switches_cases_in_place(page, demo_cluster, personas, screenshot):
    login(page, "erin", PASSWORD)
    page.goto("/traffic/explain/")
    expect(page.locator("#explain-case h2")).to_have_text("NodePort, Cluster, IPIP, pod on another node")
    page.get_by_label("Ingress", exact=True).check()
    expect(page.locator("#explain-case h2")).to_have_text(
        "Ingress via NodePort, Cluster, IPIP, controller pod on another node")
    expect(page).to_have_url("/traffic/explain/?exposure=Ingress&ingress_via=NodePort"
                             "&traffic_policy=Cluster&cni=ipip&pod_on_entry_node=no")
    page.get_by_label("Local").check()
    page.get_by_label("VXLAN").check()
    page.get_by_label("Yes: the pod runs on the node the traffic enters").check()
    expect(page.locator("#explain-case h2")).to_have_text(
        "Ingress via NodePort, Local, VXLAN, controller pod on the entry node")
    expect(page.locator("#explain-case")).to_contain_text("the namespace kubesphere-controls-system")
    screenshot(page, "traffic-08-explainer")
