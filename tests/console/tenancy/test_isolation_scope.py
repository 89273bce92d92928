"""The isolation pages name nothing outside the user's scope.

Demo cluster: team-a holds shop, catalog and billing; team-b (the foreign tenant) holds web and
reporting. carol administers shop, erin views shop, bob administers team-a, alice sees
everything. Projects, workspaces and pods outside a user's scope are folded into "other
projects" / "a pod in another project"; their counts appear only summed.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core import cluster
from console.tenancy.previews import FOLDED, project_reachability
from tests.console.tenancy.test_project_pages import external

pytestmark = pytest.mark.django_db

FOREIGN = ("web", "reporting")
SYSTEM = ("kube-system", "kubesphere-system", "kubesphere-monitoring-system",
          "kubesphere-controls-system")


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Make a request and run the jobs it starts, as the eager worker does after commit."""

    def request(method, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return method(*args, **kwargs)

    return request


def pod_names(namespaces) -> list[str]:
    return [p["metadata"]["name"] for p in cluster.snapshot().pods
            if p["metadata"]["namespace"] in namespaces]


def assert_names_nothing_of(body: str, namespaces) -> None:
    # Generated policies of the user's own projects may still select system namespaces by
    # label; what must not appear is a pod, a table row or a project pair of theirs.
    for namespace in namespaces:
        assert f"{namespace}/" not in body
        assert f'data-reach-row="{namespace}"' not in body
        assert f'→{namespace}"' not in body and f'data-pair="{namespace}→' not in body
    for name in pod_names(namespaces):
        assert name not in body
    if set(namespaces) & set(FOREIGN):
        assert "team-b" not in body


@pytest.mark.parametrize(("person", "url", "hidden"), [
    ("carol", reverse("project_isolation_preview", args=["shop"]), FOREIGN + SYSTEM),
    ("bob", reverse("workspace_isolation_preview", args=["team-a"]), FOREIGN + SYSTEM),
])
def test_a_switch_preview_folds_pods_outside_the_scope(demo_cluster, personas, login_as,
                                                       person, url, hidden):
    full = login_as("alice").get(url, {"enabled": "1"}).content.decode()
    body = login_as(person).get(url, {"enabled": "1"}).content.decode()
    assert "web/blog-" in full and "Cuts calls across workspaces" in full
    assert_names_nothing_of(body, hidden)
    assert "Cuts calls across workspaces that work today" in body
    assert "a pod in another project" in body
    assert 'data-pair="other projects→' in body
    # The change's totals name nothing, so they stay those of the whole change.
    total = full.split('data-newly-blocked="', 1)[1].split('"', 1)[0]
    assert f'data-newly-blocked="{total}"' in body


def test_an_entry_preview_folds_pods_outside_the_scope(demo_cluster, personas, login_as, run):
    url = reverse("project_entry_new", args=["shop", "external"])
    data = external("10.0.0.0/8", ports=(("TCP", "8080"), ("TCP", "9000")), action="preview")
    carol = login_as("carol")
    assert run(carol.post, reverse("project_isolation", args=["shop"]),
               {"enabled": "1"}).status_code == 302
    body = carol.post(url, data).content.decode()
    full = login_as("alice").post(url, data).content.decode()
    assert "web/blog-" in full and 'data-pair="web→shop"' in full
    assert_names_nothing_of(body, FOREIGN + SYSTEM + ("catalog", "billing"))
    assert 'data-pair="other projects→shop"' in body
    assert "a pod in another project → shop/" in body


@pytest.mark.parametrize(("person", "visible"), [
    ("carol", {"shop"}),
    ("erin", {"shop"}),
    ("bob", {"shop", "catalog", "billing"}),
])
def test_the_effective_result_sums_projects_outside_the_scope_into_one_row(
        demo_cluster, personas, login_as, person, visible):
    url = reverse("project_reachability", args=["shop"])
    body = login_as(person).get(url).content.decode()
    full = project_reachability(cluster.snapshot(), "shop")
    assert_names_nothing_of(body, FOREIGN + SYSTEM)
    for direction, rows in (("inbound", full.inbound), ("outbound", full.outbound)):
        table = body.split(f'data-reach-table="{direction}"', 1)[1].split("</table>", 1)[0]
        hidden = [r for r in rows if r.scope != "outside" and r.key not in visible]
        assert (f'data-reach-row="{FOLDED}" data-allowed="{sum(r.allowed for r in hidden)}" '
                f'data-total="{sum(r.total for r in hidden)}"') in table
        for row in rows:
            if row.key in visible:
                assert f'data-reach-row="{row.key}" data-allowed="{row.allowed}"' in table
    assert "Other projects" in body


def test_someone_who_sees_everything_still_sees_every_project(demo_cluster, personas,
                                                              login_as):
    body = login_as("alice").get(reverse("project_reachability", args=["shop"])).content.decode()
    for namespace in FOREIGN + SYSTEM:
        assert f'data-reach-row="{namespace}"' in body
    assert FOLDED not in body
    assert "team-b" in body


# -- the Service picker of the internal allowlist (issue 13, item 11) --------------------------

def service_names(namespace: str) -> list[str]:
    return [s["metadata"]["name"] for s in cluster.gateway().list_objects("Service", namespace)]


@pytest.mark.parametrize("action", ["reload", "preview"])
def test_the_service_picker_lists_no_services_of_a_project_the_user_cannot_see(
        demo_cluster, personas, login_as, action):
    hidden = service_names("billing")
    assert hidden
    url = reverse("project_entry_new", args=["shop", "internal"])
    response = login_as("carol").post(url, {"action": action, "direction": "egress",
                                            "peer_type": "service", "service_project": "billing"},
                                      HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code in (200, 400)
    for name in hidden:
        assert f"billing/{name}" not in body and f">{name}<" not in body


def test_the_edit_form_lists_no_services_of_a_project_the_user_cannot_see(
        demo_cluster, personas, login_as, run):
    bob = login_as("bob")
    saved = run(bob.post, reverse("project_entry_new", args=["shop", "internal"]),
                {"action": "save", "direction": "egress", "peer_type": "project",
                 "projects": ["catalog"]})
    assert saved.status_code == 302
    (name,) = [e["metadata"]["name"]
               for e in cluster.gateway().list_objects("NamespaceNetworkPolicy", "shop")]
    response = login_as("carol").post(
        reverse("project_entry_edit", args=["shop", name]),
        {"action": "reload", "direction": "egress", "peer_type": "service",
         "service_project": "billing"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    for service in service_names("billing"):
        assert f"billing/{service}" not in body


def test_a_service_of_a_project_the_user_cannot_see_cannot_be_allowed(demo_cluster, personas,
                                                                      login_as, run):
    (service, *_) = service_names("billing")
    url = reverse("project_entry_new", args=["shop", "internal"])
    response = run(login_as("carol").post, url,
                   {"action": "save", "direction": "egress", "peer_type": "service",
                    "service_project": "billing", "services": [f"billing/{service}"]})
    assert response.status_code == 400
    assert "You cannot see the Services of billing" in response.content.decode()
    assert not cluster.gateway().list_objects("NamespaceNetworkPolicy", "shop")


def test_the_form_asks_for_services_only_of_projects_the_user_may_see():
    from console.tenancy.forms import InternalEntryForm

    asked: list[str] = []

    def services(project: str) -> list[tuple[str, bool]]:
        asked.append(project)
        return [("api", True)]

    data = {"peer_type": "service", "service_project": "billing"}
    projects = ["shop", "catalog", "billing"]
    hidden = InternalEntryForm(data, project="shop", workspace_projects=projects,
                               services=services, visible_projects={"shop", "catalog"})
    assert list(hidden.fields["services"].choices) == [] and asked == []
    assert ("billing", "billing") in hidden.fields["service_project"].choices  # may be named
    by_default = InternalEntryForm(data, project="shop", workspace_projects=projects,
                                   services=services)
    assert list(by_default.fields["services"].choices) == [] and asked == []
    shown = InternalEntryForm({**data, "service_project": "catalog"}, project="shop",
                              workspace_projects=projects, services=services,
                              visible_projects={"shop", "catalog"})
    assert list(shown.fields["services"].choices) == [("catalog/api", "api")]
    assert asked == ["catalog"]
