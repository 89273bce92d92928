"""Workspaces: the list, creating one, assigning projects, and Workspace › Network Isolation.

Demo cluster: team-a (isolation on; shop, catalog, billing) and team-b (isolation off; web,
reporting). Jobs run as the eager worker runs them, after the request's transaction.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import Job, JobStatus

pytestmark = pytest.mark.django_db

OK, FORBIDDEN, HIDDEN = "ok", 403, 404
HTMX = {"HTTP_HX_REQUEST": "true"}
WORKSPACE_LABEL = "kubesphere.io/workspace"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Make a request and run the jobs it starts, as the eager worker does after commit."""

    def request(method, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return method(*args, **kwargs)

    return request


@pytest.fixture
def reconciled(demo_cluster):
    from console.tenancy.reconcile import repair_drift

    repair_drift()
    return demo_cluster


def isolated(workspace: str) -> bool:
    return bool(cluster.gateway().get_object("Workspace", workspace)["spec"].get(
        "networkIsolation"))


def workspace_of(namespace: str) -> str | None:
    labels = cluster.gateway().get_object("Namespace", namespace)["metadata"].get("labels") or {}
    return labels.get(WORKSPACE_LABEL)


def test_the_list_shows_isolation_state_and_project_counts(demo_cluster, personas, login_as):
    body = login_as("dave").get(reverse("workspace_list")).content.decode()
    team_a = body[body.index('data-workspace="team-a"'):body.index('data-workspace="team-b"')]
    assert "On" in team_a and "<td>3</td>" in team_a and "<td>1</td>" in team_a
    team_b = body[body.index('data-workspace="team-b"'):]
    assert "Off" in team_b.split("</tr>")[0] and "<td>2</td>" in team_b
    assert "Create workspace" not in body


@pytest.mark.parametrize(("person", "outcome"), [
    ("alice", OK), ("bob", OK),
    ("carol", FORBIDDEN), ("dave", FORBIDDEN), ("erin", FORBIDDEN), ("frank", HIDDEN),
])
def test_switching_workspace_isolation_is_allowed_exactly_to_its_admins(
        demo_cluster, personas, login_as, run, person, outcome):
    url = reverse("workspace_isolation", args=["team-a"])
    response = run(login_as(person).post, url, {"enabled": "0"})
    if outcome == OK:
        assert response.status_code == 302
        assert Job.objects.get().status == JobStatus.SUCCEEDED
        assert not isolated("team-a")
    else:
        assert response.status_code == outcome
        assert isolated("team-a")
        assert not Job.objects.exists()


@pytest.mark.parametrize(("person", "controls"), [("bob", True), ("carol", False),
                                                  ("dave", False)])
def test_only_its_admins_see_the_switch(demo_cluster, personas, login_as, person, controls):
    body = login_as(person).get(reverse("workspace_detail", args=["team-a"])).content.decode()
    assert ("Turn off isolation…" in body) is controls
    assert "Assign a project" not in body  # platform admins only


def test_the_preview_warns_about_calls_across_workspaces_it_cuts(reconciled, personas,
                                                                 login_as):
    url = reverse("workspace_isolation_preview", args=["team-b"]) + "?enabled=1"
    response = login_as("frank").get(url, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Check these before you confirm" in body
    assert "Cuts calls across workspaces that work today" in body
    # shop is another tenant's project: frank sees the pair without its name
    assert 'data-pair="other projects→web"' in body
    assert "shop" not in body
    assert not isolated("team-b")


def test_turning_isolation_on_shows_the_job_and_then_each_project_applied(
        reconciled, personas, login_as, run):
    client = login_as("frank")
    response = run(client.post, reverse("workspace_isolation", args=["team-b"]),
                   {"enabled": "1"}, **HTMX)
    assert response.status_code == 202
    assert "job-status" in response.content.decode()
    assert isolated("team-b")
    body = client.get(reverse("workspace_detail", args=["team-b"])).content.decode()
    for project in ("web", "reporting"):
        assert f'data-project="{project}" data-mode="workspace" data-status="in step"' in body
    assert 'data-generated-for="web"' in body and "nsnp-network-isolate" in body


def test_a_drifted_project_and_a_failed_job_are_shown(reconciled, personas, login_as):
    cluster.gateway().delete("NetworkPolicy", "nsnp-network-isolate", namespace="shop")
    Job.objects.create(kind="isolation-project", project="catalog", workspace="team-a",
                       status=JobStatus.FAILED, error="The API server refused the patch.")
    body = login_as("bob").get(reverse("workspace_detail", args=["team-a"])).content.decode()
    # The isolation in effect is the cluster's: shop's policy is gone, so shop is not
    # isolated until the next reconcile puts it back (the intent is shown beside it).
    assert 'data-project="shop" data-mode="off" data-status="drifted"' in body
    assert "Off (intent: workspace isolation)" in body
    assert "nsnp-network-isolate is missing" in body
    assert 'data-project="catalog" data-mode="workspace" data-status="failed"' in body
    assert "The API server refused the patch." in body


@pytest.mark.parametrize(("person", "status"), [("alice", 302), ("bob", 403), ("dave", 403),
                                                ("frank", 403)])
def test_only_platform_admins_create_workspaces(demo_cluster, personas, login_as, run, person,
                                                status):
    response = run(login_as(person).post, reverse("workspace_create"), {"name": "team-c"})
    assert response.status_code == status
    names = {w["metadata"]["name"] for w in cluster.gateway().list_objects("Workspace")}
    assert ("team-c" in names) is (status == 302)


@pytest.mark.parametrize(("name", "message"), [
    ("Team_C", "Use lower-case letters"),
    ("team-a", "There is already a workspace named team-a."),
    ("new", "reserved by the console"),
    ("", "This field is required."),
])
def test_a_bad_workspace_name_is_refused_next_to_the_field(demo_cluster, personas, login_as,
                                                           run, name, message):
    response = run(login_as("alice").post, reverse("workspace_create"), {"name": name})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert len(cluster.gateway().list_objects("Workspace")) == 2


def test_a_platform_admin_moves_a_project_after_its_preview(reconciled, personas, login_as,
                                                            run):
    client = login_as("alice")
    url = reverse("workspace_assign")
    form = client.get(url + "?project=shop").content.decode()
    assert "shop (in team-a)" in form and "kube-system (no workspace)" in form
    preview = client.post(url, {"action": "preview", "project": "shop", "workspace": "team-b"},
                          **HTMX).content.decode()
    assert "policy-from-shop" in preview  # billing's entry naming shop stops working
    assert 'value="confirm"' in preview
    assert workspace_of("shop") == "team-a"
    response = run(client.post, url, {"action": "confirm", "project": "shop",
                                      "workspace": "team-b"})
    assert response.status_code == 302
    assert workspace_of("shop") == "team-b"


def test_assigning_a_namespace_without_workspace_puts_it_in_one(demo_cluster, personas,
                                                                login_as, run):
    response = run(login_as("alice").post, reverse("workspace_assign"),
                   {"action": "confirm", "project": "default", "workspace": "team-b"})
    assert response.status_code == 302
    assert workspace_of("default") == "team-b"


def test_assigning_to_the_same_workspace_is_refused(demo_cluster, personas, login_as, run):
    response = run(login_as("alice").post, reverse("workspace_assign"),
                   {"action": "confirm", "project": "web", "workspace": "team-b"})
    assert response.status_code == 400
    assert "web is already in team-b." in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.parametrize("person", ["bob", "carol", "dave", "frank"])
def test_only_platform_admins_assign_projects(demo_cluster, personas, login_as, run, person):
    response = run(login_as(person).post, reverse("workspace_assign"),
                   {"action": "confirm", "project": "web", "workspace": "team-a"})
    assert response.status_code == 403
    assert workspace_of("web") == "team-b"


def test_a_finished_job_named_in_the_address_is_shown_only_to_who_may_see_it(
        demo_cluster, personas, login_as, run):
    run(login_as("bob").post, reverse("workspace_isolation", args=["team-a"]), {"enabled": "0"})
    job = Job.objects.get()
    url = reverse("workspace_detail", args=["team-a"]) + f"?job={job.pk}"
    assert f'id="job-{job.pk}"' in login_as("bob").get(url).content.decode()
    assert f'id="job-{job.pk}"' not in login_as("carol").get(url).content.decode()


def test_the_list_searches_by_name_and_refreshes_as_a_fragment(demo_cluster, personas, login_as):
    client = login_as("alice")
    body = client.get(reverse("workspace_list") + "?q=-b").content.decode()
    assert 'data-workspace="team-b"' in body and 'data-workspace="team-a"' not in body
    fragment = client.get(reverse("workspace_list") + "?q=zzz&part=table", **HTMX)
    assert "No workspace matches" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
