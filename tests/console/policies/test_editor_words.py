"""The YAML editor's words come with every page that shows one, in the page's language: its
status line (cursor position, problem counts in the right form, the keyboard hint) and
CodeMirror's own search, go-to-line, problem list and folding phrases."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from console.core.templatetags.editor_words import words
from tests.console.policies.support import create, netpol

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_platform_guardrails")]

ZH = {"accept-language": "zh-Hans"}
GNP_URL = ("projectcalico.org", "globalnetworkpolicies", "platform.deny-cloud-metadata")
WORDS = re.compile(r'<script id="editor-words" type="application/json">(.*?)</script>', re.S)
BUNDLE = Path(settings.BASE_DIR) / "static" / "editor" / "editor.bundle.js"


def editor_words(response) -> dict:
    assert response.status_code == 200
    found = WORDS.findall(response.content.decode())
    assert len(found) == 1, "the page should carry the editor's words once"
    return json.loads(found[0])


def test_the_editor_says_its_words_in_chinese(demo_cluster, personas, login_as):
    said = editor_words(login_as("alice").get(reverse("policy_create"), headers=ZH))
    assert said["position"] == "第 {line} 行，第 {column} 列"
    assert said["errors"] == ["{count} 个错误", "{count} 个错误"]
    assert said["warnings"] == ["{count} 条警告", "{count} 条警告"]
    assert said["notes"] == ["{count} 条提示", "{count} 条提示"]
    assert said["separator"] == "、"
    assert said["hint"].startswith("按 Tab 缩进；先按 Esc 再按 Tab 可离开编辑器。")
    assert said["readOnlyHint"] == "只读。按 Tab 移到下一个控件。"
    assert said["phrases"]["Find"] == "查找"
    assert said["phrases"]["replaced $ matches"] == "已替换 $ 处匹配"
    english = [text for text in said["phrases"].values() if re.search(r"[A-Za-z]{2}", text)]
    assert english == []


def test_the_editor_says_its_words_in_english_with_singular_and_plural(demo_cluster, personas,
                                                                       login_as):
    said = editor_words(login_as("alice").get(reverse("policy_create")))
    assert said["position"] == "Line {line}, column {column}"
    assert said["errors"] == ["{count} error", "{count} errors"]
    assert said["warnings"] == ["{count} warning", "{count} warnings"]
    assert said["notes"] == ["{count} note", "{count} notes"]
    assert said["separator"] == ", "
    assert said["readOnlyHint"] == "Read-only. Tab moves to the next control."
    assert said["phrases"]["Diagnostics"] == "Problems"
    assert said["phrases"]["replaced match on line $"] == "replaced match on line $"


def test_every_page_with_an_editor_carries_the_words(demo_cluster, personas, login_as):
    create(netpol("shop", "allow-web", ingress=[{"from": [{"podSelector": {}}]}]))
    client = login_as("alice")
    for address in (reverse("policy_detail", args=["shop", "allow-web"]),
                    reverse("policy_edit", args=["shop", "allow-web"]),
                    reverse("policy_kind_detail", args=GNP_URL),
                    reverse("project_detail", args=["shop"]),
                    reverse("project_isolation_preview", args=["shop"]),
                    reverse("workspace_assign")):
        assert editor_words(client.get(address, headers=ZH))["position"].startswith("第 "), address


def test_every_phrase_given_is_one_the_bundle_says():
    bundle = BUNDLE.read_text(encoding="utf-8")
    unknown = [phrase for phrase in words()["phrases"] if f'"{phrase}"' not in bundle]
    assert unknown == []
