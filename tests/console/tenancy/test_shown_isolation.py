"""The isolation shown is the cluster's, with the intent beside it (issue 13, item 23).

Turning isolation off failed after all retries: the intent says off, but the generated
policies are still in the cluster, so isolation is still in effect. The pages must say so
("On (turning off failed)" with the error), not "Off"; the Projects and Workspaces lists too
("On (intent: off)" beside the row's switch).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.language import save_language
from console.core.models import Job, JobStatus
from console.tenancy import intent
from console.tenancy import services as iso
from console.tenancy.reconcile import repair_drift
from isolation.compiler.intent import project_isolation_patch, workspace_isolation_patch
from tests.console.core.watched_model import watched_model

pytestmark = pytest.mark.django_db

ERROR = "The API server is unavailable (gave up after 6 attempts)"


@pytest.fixture
def turning_off_failed(demo_cluster, personas):
    """team-a's switch says off, its projects still hold the workspace's policies, and the
    job that turned it off failed."""
    repair_drift()
    cluster.gateway().merge_patch("Workspace", "team-a", workspace_isolation_patch(False))
    Job.objects.create(kind=intent.KIND_WORKSPACE_ISOLATION, target="workspace/team-a",
                       workspace="team-a", params={"workspace": "team-a", "enabled": False},
                       status=JobStatus.FAILED, error=ERROR, requested_by=personas["bob"])
    return demo_cluster


def test_the_state_is_the_clusters_with_the_failed_intent_beside_it(turning_off_failed):
    state = iso.project_state("shop")
    assert state.intent_mode == "off"
    assert state.mode == "workspace"           # its generated policy is still there
    assert state.status == "failed" and state.failed == ERROR
    assert state.shown == "On (turning off failed)"
    workspace = iso.workspace_state("team-a")
    assert workspace.isolated is False
    assert workspace.shown == "On (turning off failed)"
    shop = next(p for p in workspace.projects if p.name == "shop")
    assert shop.mode == "workspace" and shop.shown == "On (turning off failed)"


def test_the_project_page_shows_isolation_in_effect_and_the_error(turning_off_failed,
                                                                  login_as):
    body = login_as("alice").get(reverse("project_detail", args=["shop"])).content.decode()
    assert "On (turning off failed)" in body
    assert ERROR in body
    assert 'data-mode="workspace"' in body
    assert "Not isolated" not in body


def test_the_workspace_page_shows_isolation_in_effect_and_the_error(turning_off_failed,
                                                                    login_as):
    body = login_as("alice").get(reverse("workspace_detail", args=["team-a"])).content.decode()
    assert "On (turning off failed)" in body
    assert ERROR in body
    assert 'data-project="shop" data-mode="workspace"' in body


def test_once_the_cluster_matches_the_intent_the_pages_say_off(turning_off_failed, login_as):
    repair_drift()
    state = iso.project_state("shop")
    assert state.mode == "off" and state.transition == ""
    body = login_as("alice").get(reverse("project_detail", args=["shop"])).content.decode()
    assert "turning off" not in body
    assert 'data-mode="off"' in body


def test_the_pages_say_the_failed_transition_in_chinese_with_no_english_word(turning_off_failed,
                                                                           personas, login_as):
    save_language(personas["alice"], "zh-hans")
    client = login_as("alice")
    workspace = client.get(reverse("workspace_detail", args=["team-a"])).content.decode()
    assert "集群中生成的策略仍在隔离其项目；开关状态为关闭。" in workspace
    assert "开启（关闭失败）" in workspace
    assert "the switch says" not in workspace and "turning off failed" not in workspace
    project = client.get(reverse("project_detail", args=["shop"])).content.decode()
    assert "集群中生成的策略实现的是这种隔离；意图是关闭隔离。" in project
    assert "the intent" not in project


def row_of(body: str, attribute: str) -> str:
    """The table row of a list page that starts with `attribute` (`data-project="shop"`)."""
    start = body.index(f"<tr {attribute}")
    return body[start:body.index("</tr>", start)]


def test_the_project_list_shows_isolation_in_effect_with_the_intent_beside_it(
        turning_off_failed, login_as):
    client = login_as("alice")
    shop = row_of(client.get(reverse("project_list")).content.decode(), 'data-project="shop"')
    assert "Workspace isolation" in shop and "Not isolated" not in shop
    assert 'data-transition="intent: off"' in shop
    # the project's own switch is the intent's: off, offering to turn it on
    assert "?enabled=1" in shop
    repair_drift()
    shop = row_of(client.get(reverse("project_list")).content.decode(), 'data-project="shop"')
    assert "Not isolated" in shop and "data-transition" not in shop


def test_the_workspace_list_shows_the_switch_with_the_isolation_in_effect_beside_it(
        turning_off_failed, login_as):
    client = login_as("alice")
    body = client.get(reverse("workspace_list")).content.decode()
    team_a = row_of(body, 'data-workspace="team-a"')
    assert "is-on" not in team_a                       # the switch: the intent, off
    assert 'data-shown="On (intent: off)"' in team_a   # the cluster: still isolated
    assert "data-shown" not in row_of(body, 'data-workspace="team-b"')
    repair_drift()
    team_a = row_of(client.get(reverse("workspace_list")).content.decode(),
                    'data-workspace="team-a"')
    assert "data-shown" not in team_a


def test_a_switch_turned_on_shows_off_in_the_lists_until_its_policies_are_written(
        demo_cluster, personas, login_as):
    repair_drift()
    cluster.gateway().merge_patch("Namespace", "shop", project_isolation_patch(True))
    client = login_as("alice")
    shop = row_of(client.get(reverse("project_list")).content.decode(), 'data-project="shop"')
    assert "Workspace isolation" in shop      # in effect: the workspace's policy, as before
    assert 'data-transition="intent: project isolation"' in shop
    assert "?enabled=0" in shop               # the switch shows the intent: on
    repair_drift()
    shop = row_of(client.get(reverse("project_list")).content.decode(), 'data-project="shop"')
    assert "Project isolation" in shop and "data-transition" not in shop


def test_the_lists_read_the_isolation_in_effect_from_the_watched_model_too(
        turning_off_failed, redis_cache, login_as):
    with watched_model():
        assert cluster.model_version() is not None
        body = login_as("alice").get(reverse("project_list")).content.decode()
        assert 'data-transition="intent: off"' in row_of(body, 'data-project="shop"')
        assert iso.modes_in_effect(cluster.model_version())["shop"] == "workspace"


def test_the_lists_say_the_isolation_in_effect_in_chinese(turning_off_failed, personas,
                                                         login_as):
    save_language(personas["alice"], "zh-hans")
    client = login_as("alice")
    for page, attribute, shown in (
            ("project_list", 'data-project="shop"', 'data-transition="意图：关闭"'),
            ("workspace_list", 'data-workspace="team-a"', 'data-shown="开启（意图：关闭）"')):
        row = row_of(client.get(reverse(page)).content.decode(), attribute)
        assert shown in row
        assert "intent" not in row
