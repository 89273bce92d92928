"""Pages that cannot read the cluster, and requests refused for want of rights, say so in the
reader's language: the page's title and the refusal's words."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation

from console.core.access import require_project, require_workspace, require_writer
from console.core.language import save_language
from console.members import views as members
from console.tenancy.views import platform, workspaces

pytestmark = pytest.mark.django_db

PAGES = [("workspace_list", "Workspaces", "企业空间"), ("project_list", "Projects", "项目"),
         ("reachability", "Reachability", "可达性"), ("member_list", "Members", "成员"),
         ("traffic_list", "Traffic Paths", "流量路径")]


@pytest.mark.parametrize(("page", "english", "chinese"), PAGES)
def test_a_page_without_its_cluster_is_titled_in_chinese(no_cluster, personas, login_as, page,
                                                         english, chinese):
    save_language(personas["alice"], "zh-hans")
    response = login_as("alice").get(reverse(page))
    assert response.status_code == 503
    body = response.content.decode()
    assert f'<h1 class="h3 mb-1">{chinese}</h1>' in body
    assert f'<h1 class="h3 mb-1">{english}</h1>' not in body


@pytest.mark.parametrize(("page", "english", "chinese"), PAGES)
def test_a_page_without_its_cluster_is_titled_in_english_otherwise(no_cluster, personas,
                                                                   login_as, page, english,
                                                                   chinese):
    response = login_as("alice").get(reverse(page))
    assert response.status_code == 503
    assert f'<h1 class="h3 mb-1">{english}</h1>' in response.content.decode()


def _request(**rights) -> SimpleNamespace:
    access = SimpleNamespace(platform_admin=False, read_only=True, can_manage_members=False,
                             can_view_workspace=lambda *_: True,
                             can_edit_workspace=lambda *_: False,
                             can_view_project=lambda *_: True,
                             can_edit_project=lambda *_: False, **rights)
    return SimpleNamespace(_console_access=access)


def _refusal(check) -> str:
    with pytest.raises(PermissionDenied) as refused:
        check()
    return str(refused.value)


REFUSALS = [
    (lambda: require_writer(_request()),
     "You have read-only access: viewers change nothing and start no jobs.",
     "你只有只读权限：查看者不能做任何修改，也不能启动作业。"),
    (lambda: require_workspace(_request(), "team-a", {}, known=True, edit=True),
     "You can view this workspace but not change it.", "你可以查看此企业空间，但不能修改它。"),
    (lambda: require_project(_request(), "shop", {}, known=True, edit=True),
     "You can view this project but not change it.", "你可以查看此项目，但不能修改它。"),
    (lambda: platform._require_platform_admin(_request()),
     "Only platform admins change the platform settings.", "只有平台管理员可以修改平台设置。"),
    (lambda: workspaces._require_platform_admin(_request()),
     "Only platform admins create workspaces and move projects.",
     "只有平台管理员可以创建企业空间和移动项目。"),
    (lambda: members._require_member_manager(_request()),
     "Only platform and workspace admins manage members.",
     "只有平台管理员和企业空间管理员可以管理成员。"),
]


@pytest.mark.parametrize(("check", "english", "chinese"), REFUSALS)
def test_a_refusal_is_said_in_the_readers_language(check, english, chinese):
    with translation.override("zh-hans"):
        assert _refusal(check) == chinese
    with translation.override("en"):
        assert _refusal(check) == english

