"""What the history keeps beside a summary is said in the reader's language too: the warnings
of a recorded reachability delta (on the page and in the JSON export, with the summary), and
why a revert was refused, whoever started it."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import translation

from console.core import cluster
from console.core.audit import record_change
from console.core.language import save_language
from console.core.models import Change, ExpectationState, Job, JobStatus
from console.history.revert import plan_revert, start_revert
from isolation.review.impact import impact_of, with_policies
from isolation.text import gettext as _

pytestmark = pytest.mark.django_db

DENY_EGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "deny-egress", "namespace": "shop"},
               "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
DNS_CHINESE = "阻断 DNS：shop/"
DNS_ENGLISH = "Blocks DNS: shop/"




@pytest.fixture
def cut_off(demo_cluster, personas) -> Change:
    """A change recorded by an English reader that cuts shop's pods off DNS."""
    before = cluster.snapshot()
    impact = impact_of(before, with_policies(before, upsert=[DENY_EGRESS]))
    with translation.override("en"):
        return record_change(kind="policy-apply", target="shop/deny-egress",
                             summary=_("Created {ref}.", ref="shop/deny-egress"),
                             author=personas["carol"], workspace="team-a", project="shop",
                             after=[DENY_EGRESS], impact=impact)


def test_a_recorded_warning_is_kept_as_a_sentence(cut_off):
    kept = cut_off.reachability_delta["warnings"]
    assert kept[0]["msgid"].startswith("{head}: {source} → {destination}")
    assert kept[0]["fields"]["head"] == {"msgid": "Blocks DNS"}


def test_a_recorded_warning_reads_in_chinese_on_the_detail(cut_off, personas, login_as):
    save_language(personas["carol"], "zh-hans")
    body = login_as("carol").get(reverse("history_detail", args=[cut_off.pk])).text
    assert DNS_CHINESE in body and "Pod 将无法解析 Service 名称。" in body
    assert DNS_ENGLISH not in body


def test_a_recorded_warning_reads_in_english_otherwise(cut_off, login_as):
    body = login_as("carol").get(reverse("history_detail", args=[cut_off.pk])).text
    assert DNS_ENGLISH in body and "Pods will fail to resolve Service names." in body


def test_the_export_says_the_summary_and_warnings_in_the_requesters_language(cut_off, created,
                                                                             personas,
                                                                             login_as):
    save_language(personas["carol"], "zh-hans")
    exported = json.loads(login_as("carol").get(reverse("history_export")).content)
    records = {r["id"]: r for r in exported["changes"]}
    assert records[cut_off.pk]["summary"] == "已创建 shop/deny-egress。"
    assert any(w.startswith(DNS_CHINESE) for w in
               records[cut_off.pk]["reachability_delta"]["warnings"])
    assert records[created.pk]["summary"] == "Created deny-all"   # recorded as plain text
    save_language(personas["carol"], "en")
    exported = json.loads(login_as("carol").get(reverse("history_export")).content)
    record = next(r for r in exported["changes"] if r["id"] == cut_off.pk)
    assert record["summary"] == "Created shop/deny-egress."
    assert record["reachability_delta"]["warnings"][0].startswith(DNS_ENGLISH)


def test_a_revert_refused_to_an_english_requester_reads_in_chinese(
        changed_since, personas, django_capture_on_commit_callbacks):
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        job = start_revert(personas["carol"], changed_since)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.FAILED
    assert job.error == ("Not reverted, nothing was written: NetworkPolicy shop/deny-all changed "
                         "since this change (spec); it is left as it is.")
    with translation.override("zh-hans"):
        assert str(job.shown_error) == ("未回滚，没有写入任何内容：NetworkPolicy shop/deny-all "
                                        "在该变更之后又被修改（spec）；保持不动。")


def test_why_a_change_cannot_be_reverted_is_said_in_the_readers_language(created):
    Change.objects.filter(pk=created.pk).update(status=JobStatus.FAILED, before_objects=[],
                                                after_objects=[])
    plan = plan_revert(Change.objects.get(pk=created.pk), cluster.gateway())
    with translation.override("zh-hans"):
        assert [str(b) for b in plan.blockers] == [
            "只有已成功的变更才能回滚。", "该变更没有记录任何对象，因此没有可恢复的内容。"]
    with translation.override("en"):
        assert [str(b) for b in plan.blockers] == [
            "Only a change that succeeded can be reverted.",
            "This change recorded no objects, so there is nothing to put back."]


@pytest.mark.django_db(transaction=True)
def test_the_guardrail_list_names_the_breaking_change_in_the_readers_language(
        demo_cluster, personas, login_as):
    login_as("alice").get(reverse("guardrail_list"))           # evaluates the expectations
    state = ExpectationState.objects.filter(status="violated").first()
    change = record_change(kind="platform-settings", target="platform",
                           summary=_("Changed the platform settings."), author=personas["alice"])
    ExpectationState.objects.filter(pk=state.pk).update(change=change)
    save_language(personas["alice"], "zh-hans")
    body = login_as("alice").get(reverse("guardrail_list")).text
    assert "修改了平台设置。" in body and "Changed the platform settings." not in body
    save_language(personas["alice"], "en")
    assert "Changed the platform settings." in login_as("alice").get(
        reverse("guardrail_list")).text
