"""The isolation shown is the cluster's, with the intent beside it (issue 13, item 23).

Turning isolation off failed after all retries: the intent says off, but the generated
policies are still in the cluster, so isolation is still in effect. The pages must say so
("On (turning off failed)" with the error), not "Off".
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
from isolation.compiler.intent import workspace_isolation_patch

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
