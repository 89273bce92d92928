"""The reachability matrix: grouping, filters, drill-down, the background job and the scope."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from console.core.models import Job

pytestmark = pytest.mark.django_db

FOREIGN_TO_CAROL = ("web", "reporting", "billing", "catalog", "kube-system", "blog", "dashboard")


def matrix(client, **params):
    return client.get(reverse("reachability"), params)


def cell_titles(body: str) -> list[str]:
    return re.findall(r'title="([^"]+→[^"]+)"', body)


def test_projects_are_rows_and_columns_with_counts(demo_cluster, personas, login_as):
    body = matrix(login_as("alice")).content.decode()
    titles = cell_titles(body)
    assert "shop → reporting: all blocked (0 of 3 connections)" in titles
    assert "shop → catalog: all allowed (6 of 6 connections)" in titles
    assert "reporting → kube-system: partly allowed (4 of 6 connections)" in titles
    assert '<span class="reach-symbol" aria-hidden="true">✕</span>0/3' in body


def test_with_many_projects_in_view_the_matrix_opens_by_workspace(demo_cluster, personas,
                                                                  login_as, monkeypatch):
    from console.reachability import matrix as matrices

    monkeypatch.setattr(matrices, "MANY_PROJECTS", 3)
    client = login_as("alice")
    body = matrix(client).content.decode()
    assert "team-a → team-b: partly allowed (14 of 21 connections)" in cell_titles(body)
    assert 'id="grouped-for-size"' in body and '<option value="workspace" selected>' in body
    chosen = matrix(client, level="project").content.decode()
    assert "shop → catalog: all allowed (6 of 6 connections)" in cell_titles(chosen)
    assert 'id="grouped-for-size"' not in chosen
    monkeypatch.setattr(matrices, "MANY_PROJECTS", 100)
    assert "shop → catalog: all allowed (6 of 6 connections)" in cell_titles(
        matrix(client).content.decode())


def test_a_project_admin_sees_their_project_and_others_only_together(demo_cluster, personas,
                                                                     login_as):
    body = matrix(login_as("carol")).content.decode()
    titles = cell_titles(body)
    assert "shop → shop: all allowed (6 of 6 connections)" in titles
    # reporting denies all its egress, so other projects reach shop only in part; no counts
    assert "Other projects → shop: partly allowed" in titles
    for name in FOREIGN_TO_CAROL:
        assert name not in body


def test_a_workspace_admin_sees_the_projects_of_their_workspace(demo_cluster, personas, login_as):
    body = matrix(login_as("bob"), level="project").content.decode()
    titles = cell_titles(body)
    assert {t.split(":")[0] for t in titles} >= {"billing → catalog", "shop → billing",
                                                 "Other projects → shop"}
    body = re.sub(r"\b[A-Za-z0-9]{64}\b", "", body)   # CSRF tokens: random letters may spell anything
    assert "reporting" not in body and "web" not in body


def test_workspaces_group_projects_and_keep_system_namespaces_apart(demo_cluster, personas,
                                                                   login_as):
    titles = cell_titles(matrix(login_as("alice"), level="workspace").content.decode())
    assert "team-a → team-b: partly allowed (14 of 21 connections)" in titles
    assert any(t.startswith("Outside workspaces → team-b") for t in titles)


def test_the_pod_level_has_one_column_per_pod_of_the_project(demo_cluster, personas, login_as):
    body = matrix(login_as("alice"), level="pod", project="reporting").content.decode()
    titles = cell_titles(body)
    assert "shop → dashboard-f0f02792e-x7k2p: all blocked (0 of 3 connections)" in titles
    assert ("kubesphere-controls-system → dashboard-f0f02792e-x7k2p: all allowed "
            "(2 of 2 connections)") in titles


def test_the_port_filter_counts_only_those_ports(demo_cluster, personas, login_as):
    titles = cell_titles(matrix(login_as("alice"), ports="3000, 53/UDP").content.decode())
    # 3 shop pods × (3000/TCP, 53/UDP) on the one dashboard pod and on the two DNS pods
    assert "shop → reporting: all blocked (0 of 6 connections)" in titles
    assert "shop → kube-system: all allowed (12 of 12 connections)" in titles


def test_external_sources_are_rows_cut_at_node_addresses(demo_cluster, personas, login_as):
    titles = cell_titles(matrix(login_as("alice"), external="192.168.0.0/24, 203.0.113.9"
                                ).content.decode())
    assert "192.168.0.0/24 → reporting: partly allowed (1 of 5 connections)" in titles
    assert "203.0.113.9 → reporting: all blocked (0 of 1 connection)" in titles


@pytest.mark.parametrize(("params", "field", "message"), [
    (dict(ports="http"), "ports", "is not a port like 8080 or 53/UDP"),
    (dict(external="10.233.64.20"), "external", "is the address of a pod"),
    (dict(external="example.com"), "external", "neither an IP address nor a CIDR"),
    (dict(level="pod"), "project", "Choose the project whose pods to show"),
    (dict(workspace="nope"), "workspace", "There is no workspace nope among yours"),
])
def test_bad_filters_are_marked_next_to_their_field(demo_cluster, personas, login_as, params,
                                                    field, message):
    response = matrix(login_as("alice"), **params)
    body = response.content.decode()
    assert response.status_code == 400
    assert re.search(rf'is-invalid" id="f-{field}"', body)
    assert message in body


def test_a_project_admin_cannot_filter_on_a_foreign_project(demo_cluster, personas, login_as):
    response = matrix(login_as("carol"), level="pod", project="web")
    assert response.status_code == 400
    assert "There is no project web among yours" in response.content.decode()


def test_a_cell_opens_on_its_pod_pairs_with_links_that_explain_each_port(demo_cluster, personas,
                                                                        login_as):
    response = login_as("alice").get(reverse("reachability_cell"),
                                     {"row": "ns:shop", "col": "ns:reporting"},
                                     HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "0 of 3 connections allowed" in body
    assert body.count("✕ 3000/TCP") == 3
    assert ("/reachability/check/?source=shop%2Fcart-be171b259-x7k2p&amp;destination="
            "reporting%2Fdashboard-f0f02792e-x7k2p&amp;port=3000&amp;protocol=TCP") in body
    assert "<html" not in body


def test_a_cell_opened_without_htmx_shows_the_whole_page(demo_cluster, personas, login_as):
    body = login_as("alice").get(reverse("reachability_cell"),
                                 {"row": "ns:shop", "col": "ns:reporting"}).content.decode()
    assert 'id="reach-grid"' in body and 'id="drill-card"' in body


def test_a_workspace_cell_opens_on_its_project_pairs(demo_cluster, personas, login_as):
    body = login_as("alice").get(reverse("reachability_cell"),
                                 {"level": "workspace", "row": "ws:team-a", "col": "ws:team-b"}
                                 ).content.decode()
    assert "shop</td><td>reporting" in body
    assert "row=ns%3Ashop&amp;col=ns%3Areporting" in body


@pytest.mark.parametrize(("person", "row", "col"), [
    ("carol", "other", "ns:shop"),
    ("carol", "ns:web", "ns:shop"),
    ("carol", "ns:shop", "ns:billing"),
    ("frank", "pod:shop/cart-be171b259-x7k2p", "ns:web"),
    ("alice", "ext:203.0.113.9", "ns:shop"),   # not one of the query's external sources
])
def test_cells_outside_the_scope_do_not_open(demo_cluster, personas, login_as, person, row, col):
    response = login_as(person).get(reverse("reachability_cell"), {"row": row, "col": col})
    assert response.status_code == 404


@pytest.fixture
def slow(monkeypatch):
    """Every grid is expected to take longer than the page may wait."""
    from console.reachability import matrix as reachability_matrix

    monkeypatch.setattr(reachability_matrix, "INLINE_SECONDS", -1.0)


def test_a_slow_cluster_computes_the_matrix_in_a_job_for_its_requester(
        demo_cluster, personas, login_as, slow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = matrix(login_as("bob")).content.decode()
    job = Job.objects.get(kind="reachability-matrix")
    assert job.status == "succeeded" and job.requested_by.username == "bob"
    assert f'hx-get="/reachability/matrix/{job.pk}/"' in body
    result = login_as("bob").get(reverse("reachability_matrix_job", args=[job.pk]),
                                 HTTP_HX_REQUEST="true")
    assert result.status_code == 286
    assert "shop → billing: all allowed" in result.content.decode()
    assert login_as("carol").get(reverse("reachability_matrix_job", args=[job.pk])
                                 ).status_code == 404
    cache.clear()
    again = matrix(login_as("bob")).content.decode()
    assert 'id="reach-grid"' in again and "hx-trigger" not in again.split('id="matrix-area"')[1]
    assert Job.objects.filter(kind="reachability-matrix").count() == 1


def test_a_running_matrix_job_is_polled_and_reused(demo_cluster, personas, login_as, slow):
    client = login_as("bob")
    first = matrix(client).content.decode()
    job = Job.objects.get(kind="reachability-matrix")
    assert job.status == "queued"
    assert 'hx-trigger="every 1s"' in first and "computed in the background" in first
    matrix(client)
    assert Job.objects.filter(kind="reachability-matrix").count() == 1
    matrix(client, refresh="1")
    assert Job.objects.filter(kind="reachability-matrix").count() == 2


def test_the_matrix_comes_as_a_fragment_for_htmx(demo_cluster, personas, login_as):
    response = login_as("alice").get(reverse("reachability"), {"level": "workspace"},
                                     HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="matrix-area">')
    assert "<html" not in body
