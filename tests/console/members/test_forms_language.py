"""Refused input is explained next to its field in the reader's language: member and account
names, workspace names, port ranges, namespace names of the platform settings, expectation
YAML."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from console.core.access import Access
from console.core.language import save_language
from console.guardrails.forms import ExpectationForm
from console.tenancy.forms import PortRowForm, WorkspaceCreateForm
from console.tenancy.platform_forms import PlatformSettingsForm


def _errors(form, field: str, language: str) -> list[str]:
    with translation.override(language):
        assert not form.is_valid()
        return [str(error) for error in form.errors[field]]


@pytest.mark.parametrize(("data", "chinese", "english"), [
    ("team-a", "已存在名为 team-a 的企业空间。", "There is already a workspace named team-a."),
    ("new", "'new' 已被控制台保留；请换一个名称。",
     "'new' is reserved by the console; choose another name."),
])
def test_a_refused_workspace_name_is_explained_in_the_readers_language(data, chinese, english):
    for language, expected in (("zh-hans", chinese), ("en", english)):
        form = WorkspaceCreateForm({"name": data}, existing=["team-a"])
        assert _errors(form, "name", language) == [expected]


@pytest.mark.parametrize(("port", "chinese", "english"), [
    ("70000", "70000 不是端口：请使用 1 到 65535。", "70000 is not a port: use 1 to 65535."),
    ("9000-8000", "范围的结束（8000）早于开始（9000）。",
     "The range ends (8000) before it starts (9000)."),
])
def test_a_refused_port_is_explained_in_the_readers_language(port, chinese, english):
    for language, expected in (("zh-hans", chinese), ("en", english)):
        form = PortRowForm({"protocol": "TCP", "port": port})
        assert _errors(form, "port", language) == [expected]


@pytest.mark.django_db
def test_a_refused_namespace_name_is_explained_in_the_readers_language():
    data = {"always_allowed_namespaces": "Kube_System", "detect_ingress_namespaces": "on",
            "snat_cidrs": "", "cni_mode": "", "engine_mode": "console"}
    assert _errors(PlatformSettingsForm(data), "always_allowed_namespaces", "zh-hans") == [
        "不是命名空间名称：Kube_System（小写字母、数字和“-”，最多 63 个字符）。"]
    assert _errors(PlatformSettingsForm(data), "always_allowed_namespaces", "en") == [
        "Not a namespace name: Kube_System (lowercase letters, digits and '-', at most 63 "
        "characters)."]


def test_unreadable_expectation_yaml_is_explained_in_the_readers_language():
    def form():
        return ExpectationForm({"document": "a: [1"}, access=Access(username="alice"),
                               workspace_of={})

    assert _errors(form(), "document", "zh-hans")[0].startswith("无法读取该 YAML：")
    assert _errors(form(), "document", "en")[0].startswith("The YAML cannot be read: ")


@pytest.mark.django_db
def test_granting_to_an_unknown_user_is_refused_in_chinese(demo_cluster, personas, login_as):
    save_language(personas["alice"], "zh-hans")
    refused = login_as("alice").post(reverse("member_list"), {"username": "zoe",
                                                              "role": "viewer"})
    assert "没有名为 &#x27;zoe&#x27; 的用户。请先在“创建用户”中创建该账号。" in refused.text


@pytest.mark.django_db
def test_an_existing_account_name_is_refused_in_chinese(demo_cluster, personas, login_as):
    save_language(personas["alice"], "zh-hans")
    refused = login_as("alice").post(reverse("member_user_invite"), {"username": "erin"})
    assert refused.status_code == 400
    assert "已存在名为 &#x27;erin&#x27; 的账号。" in refused.text
