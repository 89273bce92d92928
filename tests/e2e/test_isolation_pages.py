"""The isolation pages in a browser, on the demo cluster: the workflow of issue 7, step by step.

After each step the reachability the project page shows is compared with the reachability
engine's own answer for the cluster as it is then (read through the gateway), so the page can
never show a result the engine would not give.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from console.core import cluster
from console.tenancy.reconcile import repair_drift
from isolation.compiler.intent import workspace_isolation_patch
from isolation.reachability.engine import Cluster
from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-iso-pages-1"


@pytest.fixture
def alice(demo_cluster):
    repair_drift()  # the demo cluster starts with its generated policies in place
    return User.objects.create_superuser("alice", password=PASSWORD)


def shown_reachability(page) -> dict[tuple[str, str], dict[str, str]]:
    """(inbound/outbound, peer) -> the row's data attributes, as the page shows them."""
    expect(page.locator("[data-reachability]")).to_be_visible()
    rows = page.locator("[data-reach-table] tr[data-reach-row]").evaluate_all(
        """rows => rows.map(r => ({table: r.closest('table').dataset.reachTable,
                                   ...r.dataset}))""")
    return {(r["table"], r["reachRow"]): r for r in rows}


def engine_reachability(project: str, shown: dict) -> dict[tuple[str, str], tuple[int, int]]:
    """The engine's (allowed, total) for every row the page shows, computed independently:
    namespace rows from the matrix grouped by namespace, outside rows per address."""
    engine = Cluster.from_snapshot(cluster.snapshot())
    own = [pod.key for pod in engine.pods if pod.namespace == project]
    inbound = {src: c for (src, _), c in engine.matrix(destinations=own).by_namespace().items()}
    outbound = {dst: c for (_, dst), c in engine.matrix(sources=own).by_namespace().items()}
    result = {}
    for (table, key), row in shown.items():
        if row["scope"] != "outside":
            counts = (inbound if table == "inbound" else outbound)[key]
        elif table == "inbound":
            counts = engine.matrix(sources=[key], destinations=own).counts()
        else:
            ports = [(int(p.split()[1]), p.split()[0]) for p in row["ports"].split(", ")]
            counts = engine.matrix(sources=own, destinations=[key], ports=ports).counts()
        result[(table, key)] = (counts.allowed, counts.total)
    return result


def assert_page_matches_engine(page, project: str) -> dict:
    page.reload()
    shown = shown_reachability(page)
    assert shown, "the page shows no reachability rows"
    expected = engine_reachability(project, shown)
    assert {k: (int(r["allowed"]), int(r["total"])) for k, r in shown.items()} == expected
    return shown


def finish_job(scope) -> None:
    expect(scope.locator(".job-status")).to_have_attribute("data-job-status", "succeeded")


def test_workspace_isolation_is_switched_on_after_reading_its_preview(page, alice, screenshot):
    login(page, "alice", PASSWORD)
    page.goto("/workspaces/")
    expect(page.locator("tr[data-workspace='team-b']").get_by_text("Off")).to_be_visible()
    screenshot(page, "iso-01-workspaces")
    page.get_by_role("link", name="team-b").click()
    page.get_by_role("link", name="Turn on isolation…").click()
    preview = page.locator("[data-switch-preview]")
    expect(preview.locator("[data-impact-pairs]")).to_be_visible()
    expect(preview.locator("[data-preview-warnings]")).to_contain_text("Cuts calls across workspaces")
    expect(preview.locator("tr[data-pair='shop→web']")).to_contain_text("blocked")
    screenshot(page, "iso-02-workspace-preview")
    preview.get_by_role("button", name="Turn on workspace isolation").click()
    finish_job(page.locator("#isolation-panel"))
    # The page updates itself once the job ends.
    expect(page.locator("[data-workspace-isolated]")).to_have_attribute("data-workspace-isolated", "true")
    for project in ("web", "reporting"):
        row = page.locator(f"tr[data-project='{project}']")
        expect(row).to_have_attribute("data-mode", "workspace")
        expect(row).to_have_attribute("data-status", "in step")
    page.locator("[data-generated-for='web'] summary").click()
    expect(page.locator("[data-generated-for='web']")).to_contain_text("nsnp-network-isolate")
    screenshot(page, "iso-03-workspace-isolated")
    page.goto("/projects/web/")
    shown = assert_page_matches_engine(page, "web")
    assert shown[("inbound", "shop")]["allowed"] == "0"   # another workspace
    controller = shown[("inbound", "kubesphere-controls-system")]   # the ingress controller
    assert controller["allowed"] == controller["total"]


def test_project_isolation_allowlists_and_disabling_keep_the_entries(page, alice, screenshot):
    login(page, "alice", PASSWORD)
    page.goto("/projects/shop/")
    expect(page.locator("[data-off-state]")).to_be_visible()
    before = assert_page_matches_engine(page, "shop")
    assert before[("inbound", "catalog")]["allowed"] != "0"   # team-a's workspace isolation
    screenshot(page, "iso-04-project-off")

    # Enable project isolation, after its preview.
    page.get_by_role("link", name="Enable isolation…").click()
    panel = page.locator("#isolation-panel")
    expect(panel.locator("[data-preview-summary]")).to_contain_text("shop")
    expect(panel.locator("tr[data-pair='catalog→shop']")).to_contain_text("blocked")
    screenshot(page, "iso-05-project-enable-preview")
    panel.get_by_role("button", name="Enable isolation").click()
    finish_job(panel)
    expect(page.locator("[data-mode]")).to_have_attribute("data-mode", "project")
    expect(page.locator("[data-off-state]")).to_have_count(0)
    expect(page.locator("#generated-title")).to_be_visible()
    isolated = assert_page_matches_engine(page, "shop")
    assert isolated[("inbound", "catalog")]["allowed"] == "0"
    assert isolated[("inbound", "billing")]["allowed"] == "0"
    screenshot(page, "iso-06-project-isolated")

    # Internal entry: catalog may reach shop.
    page.get_by_role("link", name="Add internal entry").click()
    dialog = page.locator("#dialog")
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.locator("[data-field-error='direction']")).to_be_visible()
    expect(dialog.locator("[data-field-error='projects']")).to_have_text("Select at least one project.")
    dialog.get_by_label("Ingress", exact=True).check()
    dialog.get_by_label("catalog").check()
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.locator("tr[data-pair='catalog→shop']")).to_contain_text("allowed")
    screenshot(page, "iso-07-internal-entry-preview")
    dialog.get_by_role("button", name="Add entry").click()
    finish_job(dialog)
    dialog.get_by_role("button", name="Close").first.click()
    internal = page.locator("#tab-internal [data-entry]")
    expect(internal).to_have_count(1)
    expect(internal).to_contain_text("project catalog")
    expect(internal).to_have_attribute("data-entry-active", "true")
    with_internal = assert_page_matches_engine(page, "shop")
    catalog = with_internal[("inbound", "catalog")]
    assert catalog["allowed"] == catalog["total"] != "0"
    assert with_internal[("inbound", "web")]["allowed"] == "0"
    screenshot(page, "iso-08-internal-entry")

    # External entry: clients of 203.0.113.0/24 on TCP 8080, typed wrong first.
    page.get_by_role("tab", name="External allowlist").click()
    page.get_by_role("link", name="Add external entry").click()
    dialog.get_by_label("Ingress", exact=True).check()
    dialog.get_by_label("Network segment (CIDR)").fill("203.0.113.7/24")
    dialog.get_by_label("Port or range of row 1").fill("80800")
    dialog.get_by_role("button", name="Add port").click()
    expect(dialog.get_by_label("Port or range of row 2")).to_be_visible()
    dialog.get_by_label("Protocol of port row 2").select_option("UDP")
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.locator("[data-field-error='cidr']")).to_contain_text("host bits")
    expect(dialog.locator("[data-field-error='port']")).to_contain_text("80800")
    screenshot(page, "iso-09-external-entry-errors")
    dialog.get_by_label("Network segment (CIDR)").fill("203.0.113.0/24")
    dialog.get_by_label("Port or range of row 1").fill("8080")
    dialog.get_by_role("button", name="Remove port row 2").click()
    expect(dialog.get_by_label("Port or range of row 2")).to_have_count(0)
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.locator("[data-preview]")).to_be_visible()
    screenshot(page, "iso-10-external-entry-preview")
    dialog.get_by_role("button", name="Add entry").click()
    finish_job(dialog)
    dialog.get_by_role("button", name="Close").first.click()
    external = page.locator("#tab-external [data-entry]")
    expect(external).to_contain_text("203.0.113.0/24")
    expect(external.locator("[data-port]")).to_have_text("TCP 8080")
    expect(page.locator("#tab-external")).to_be_visible()   # the tab stayed open
    expect(page.locator("#generated-yaml")).to_contain_text("203.0.113.0/24", use_inner_text=False)
    with_external = assert_page_matches_engine(page, "shop")
    outside = with_external[("inbound", "203.0.113.1")]
    assert outside["allowed"] == "2" and outside["total"] == "3"   # storefront's 8080, not cart
    page.get_by_role("tab", name="External allowlist").click()
    expect(page.locator("#tab-external")).to_have_class("tab-pane fade active show")
    screenshot(page, "iso-11-external-entry")

    # Disable: the entries are kept, inactive.
    page.get_by_role("link", name="Disable isolation…").click()
    expect(panel).to_contain_text("kept")
    screenshot(page, "iso-12-project-disable-preview")
    panel.get_by_role("button", name="Disable isolation").click()
    finish_job(panel)
    expect(page.locator("[data-kept-entries]")).to_contain_text("2 allowlist entries are kept")
    entries = page.locator("[data-entry]")
    expect(entries).to_have_count(2)
    for index in range(2):
        expect(entries.nth(index)).to_have_attribute("data-entry-active", "false")
    after = assert_page_matches_engine(page, "shop")
    assert after[("inbound", "catalog")]["allowed"] != "0"   # back to workspace isolation
    screenshot(page, "iso-13-project-disabled-entries-kept")


def test_a_viewer_sees_the_isolation_pages_without_change_controls(page, alice, screenshot):
    from console.core.models import Role, RoleBinding

    erin = User.objects.create_user("erin", password=PASSWORD)
    RoleBinding.objects.create(user=erin, role=Role.VIEWER, project="shop")
    login(page, "erin", PASSWORD)
    page.goto("/projects/shop/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("shop")
    expect(page.locator("[data-reachability]")).to_be_visible()
    for label in ("Enable isolation…", "Add internal entry", "Add external entry"):
        expect(page.get_by_role("link", name=label)).to_have_count(0)
    screenshot(page, "iso-14-viewer")


def test_the_lists_show_isolation_in_effect_while_the_cluster_lags_the_switch(page, alice,
                                                                              screenshot):
    """team-a's switch says off but its projects still hold its policies (a failed turn-off):
    both lists say what is in effect, with the intent beside it."""
    cluster.gateway().merge_patch("Workspace", "team-a", workspace_isolation_patch(False))
    login(page, "alice", PASSWORD)
    page.goto("/workspaces/")
    row = page.locator('tr[data-workspace="team-a"]')
    expect(row.locator(".iso-switch .switch-word")).to_have_text("Off")
    expect(row.locator("[data-shown]")).to_have_text("On (intent: off)")
    screenshot(page, "iso-lists-01-workspaces-lagging")
    page.goto("/projects/")
    row = page.locator('tr[data-project="shop"]')
    expect(row).to_contain_text("Workspace isolation")
    expect(row.locator("[data-transition]")).to_have_text("intent: off")
    screenshot(page, "iso-lists-02-projects-lagging")
    repair_drift()
    page.reload()
    expect(page.locator('tr[data-project="shop"]')).to_contain_text("Not isolated")
    expect(page.locator('tr[data-project="shop"] [data-transition]')).to_have_count(0)
