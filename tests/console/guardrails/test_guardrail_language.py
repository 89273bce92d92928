"""An expectation's ends, reasons and explained violations are kept as sentences: the state's
columns keep their English, every reader reads them in their own language, and a tenant never
reads the names of another tenant's projects or pods, in either language."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from console.core.language import save_language
from console.core.models import Change, ExpectationState
from console.core.scope import Scope
from console.guardrails import services
from isolation.text import gettext as _

pytestmark = pytest.mark.django_db(transaction=True)

LIST = reverse("guardrail_list")
VIOLATED = "no-project-reaches-the-management-network"


def _page(login_as, personas, name: str, language: str) -> str:
    save_language(personas[name], language)
    response = login_as(name).get(LIST)
    assert response.status_code == 200
    return response.content.decode()


def test_the_state_keeps_english_columns_and_the_sentences_beside_them(demo_cluster, personas,
                                                                       login_as):
    login_as("alice").get(LIST)
    state = ExpectationState.objects.get(name=VIOLATED)
    assert state.source == "pods in namespaces that have kubesphere.io/workspace"
    assert state.said["source"]["msgid"] == "{pods} in namespaces that have {keys}"
    assert state.violations and all(v["reason"].startswith("Allowed: ")
                                    for v in state.violations)
    assert len(state.said["violations"]) == len(state.violations)
    assert [str(v["reason"]) for v in state.said_violations] == [
        v["reason"] for v in state.violations]          # the same words, in English


def test_a_platform_admin_reads_the_expectations_in_chinese(demo_cluster, personas, login_as):
    page = _page(login_as, personas, "alice", "zh-hans")
    assert "带有标签 kubesphere.io/workspace 的命名空间中的Pod" in page
    assert "已允许：" in page and "Allowed:" not in page
    assert "pods in namespaces that have" not in page
    assert "billing/ledger" in page                  # everything is theirs to see


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_tenant_reads_no_name_of_another_tenant_in_either_language(demo_cluster, personas,
                                                                     login_as, language):
    carol = _page(login_as, personas, "carol", language)
    # (shop's own expectation is described by its author as reaching "billing's ledger")
    assert carol.count("billing") == carol.count("billing&#x27;s ledger")
    for name in ("catalog", "reporting", "ledger-"):
        assert name not in carol
    hidden_pod = "另一个项目中的 Pod" if language == "zh-hans" else "a pod in another project"
    assert hidden_pod in carol
    frank = _page(login_as, personas, "frank", language)
    for name in ("shop", "billing", "catalog"):
        assert name not in frank


def test_hidden_words_are_said_in_the_readers_language_and_name_nothing(demo_cluster, personas,
                                                                       login_as):
    login_as("alice").get(LIST)
    state = ExpectationState.objects.get(name="shop/shop-reaches-ledger")
    scope = Scope(everything=False, visible=frozenset({"shop"}),
                  known=frozenset({"shop", "billing", "kube-system"}),
                  workspace_of={"shop": "team-a", "billing": "team-a"})
    shown = services._shown_text(state.said_destination, scope)
    assert "billing" not in shown
    with translation.override("zh-hans"):
        said = str(shown)
    assert "billing" not in said and "另一个项目" in said and "app=ledger" in said


def test_a_state_evaluated_before_its_sentences_were_kept_shows_its_columns(demo_cluster,
                                                                            personas, login_as):
    login_as("alice").get(LIST)
    ExpectationState.objects.update(said={})
    state = ExpectationState.objects.get(name=VIOLATED)
    assert state.said_source == state.source and state.said_violations == state.violations
    carol = _page(login_as, personas, "carol", "zh-hans")
    assert "pods in namespaces that have kubesphere.io/workspace" in carol
    assert carol.count("billing") == carol.count("billing&#x27;s ledger")
    for name in ("catalog", "reporting"):
        assert name not in carol


def test_an_expectations_history_entry_reads_in_the_readers_language(demo_cluster, personas,
                                                                     login_as):
    client = login_as("carol")
    client.get(LIST)
    delete = reverse("guardrail_delete", args=["shop", "shop-reaches-ledger"])
    version = client.get(delete).context["version"]
    assert client.post(delete, {"resource_version": version}).status_code == 302
    change = Change.objects.get(kind="guardrail")
    assert change.summary == "Connectivity expectation shop/shop-reaches-ledger deleted."
    save_language(personas["carol"], "zh-hans")
    history = login_as("carol").get(reverse("history_detail", args=[change.pk])).content.decode()
    assert "已删除连通性期望 shop/shop-reaches-ledger。" in history
    assert "Connectivity expectation" not in history


def test_an_override_in_the_history_reads_in_the_readers_language(db, personas):
    check = services.GuardrailCheck(violations=(), needs_override=True, can_override=True)
    with translation.override("en"):
        override = services.record_override(
            personas["alice"], check, "DNS moves to a node-local cache",
            target=_("revert of change #{number}", number=7))
    assert override.target == "revert of change #7"
    assert override.summary == ("Guardrail override for revert of change #7: applied although "
                                "it breaks a platform guardrail. Reason: DNS moves to a "
                                "node-local cache")
    with translation.override("zh-hans"):
        assert str(override.shown_summary) == (
            "对 变更 #7 的回滚 强制执行守护规则：尽管违反了 一条平台守护规则，仍已应用。"
            "理由：DNS moves to a node-local cache")
