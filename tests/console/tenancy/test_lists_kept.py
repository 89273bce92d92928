"""The Projects and Workspaces lists as deployed: served from the watched model, their
content rendered once per cluster version, roles, language and query and kept for every web
process. What is kept must never show a reader a state, language or scope that is not theirs;
each project's isolation switch shows to whoever may change that project."""

import pytest
from django.urls import reverse

from console.core import cluster
from tests.console.core.watched_model import other_gateway_write, watched_model

pytestmark = [pytest.mark.django_db]
ZH = {"accept-language": "zh-Hans"}


@pytest.fixture
def watched(demo_cluster, redis_cache):
    with watched_model() as model:
        yield model


def body(client, name: str, **params) -> str:
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode()


def namespace(name: str, workspace: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubesphere.io/workspace": workspace}}}


def switch(project: str) -> str:
    return reverse("project_isolation_preview", args=[project]) + "?enabled="


def test_a_project_the_console_adds_shows_on_the_next_view(watched, personas, login_as):
    client = login_as("alice")
    assert 'data-project="orders"' not in body(client, "project_list")
    cluster.gateway().create(namespace("orders", "team-a"))
    assert 'data-project="orders"' in body(client, "project_list")
    assert 'data-project="orders"' in body(client, "project_list", workspace="team-a")


def test_a_workspace_created_behind_the_consoles_back_shows_once_the_model_has_it(
        watched, personas, login_as):
    client = login_as("alice")
    assert 'data-workspace="team-c"' not in body(client, "workspace_list")
    other_gateway_write(lambda gw: gw.create({
        "apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
        "metadata": {"name": "team-c"}, "spec": {"networkIsolation": False}}))
    assert 'data-workspace="team-c"' in body(client, "workspace_list")


@pytest.mark.parametrize(("name", "english", "chinese"), [
    ("project_list", "Isolation in effect", "生效的隔离"),
    ("workspace_list", "With project isolation", "开启项目隔离的"),
])
def test_each_reader_gets_the_lists_in_their_language(watched, personas, login_as, name,
                                                      english, chinese):
    client = login_as("alice")
    assert english in body(client, name)
    translated = client.get(reverse(name), headers=ZH).content.decode()
    assert english not in translated and '<html lang="zh-hans"' in translated
    assert chinese in translated


@pytest.mark.parametrize(("name", "own", "foreign"), [
    ("project_list", 'data-project="shop"', 'data-project="reporting"'),
    ("workspace_list", 'data-workspace="team-a"', 'data-workspace="team-b"'),
])
def test_a_kept_list_never_shows_another_tenants_projects(watched, personas, login_as, name,
                                                          own, foreign):
    assert foreign in body(login_as("alice"), name)
    for reader in ("bob", "carol", "erin"):
        page = body(login_as(reader), name)
        assert own in page and foreign not in page


def test_the_isolation_switch_shows_to_whoever_may_change_the_project(watched, personas,
                                                                      login_as):
    from console.core.models import Role, RoleBinding

    RoleBinding.objects.create(user=personas["carol"], role=Role.VIEWER, workspace="team-a")
    assert switch("reporting") in body(login_as("alice"), "project_list")
    bobs = body(login_as("bob"), "project_list")
    assert switch("shop") in bobs and switch("billing") in bobs
    carols = body(login_as("carol"), "project_list")
    assert switch("shop") in carols and 'data-project="billing"' in carols
    assert switch("billing") not in carols and "iso-switch-readonly" in carols
    erins = body(login_as("erin"), "project_list")
    assert 'data-project="shop"' in erins and switch("shop") not in erins
    assert switch("web") in body(login_as("frank"), "project_list")
