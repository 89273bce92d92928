"""Isolation previews, reconcile reports and job messages in the reader's language; the English
wording stays as it was."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import translation

from console.core import cluster
from console.core.language import save_language
from console.core.models import Change, Job, JobStatus
from console.tenancy import reconcile
from console.tenancy import services as iso
from console.tenancy.previews import project_reachability
from console.tenancy.reconcile import Write, summarize_writes
from console.tenancy.services import _problem_text, _summary
from isolation.text import gettext as _

POLICY = {"metadata": {"namespace": "shop", "name": "nsnp-network-isolate"}}


def _preview(created: int, blocked: int, allowed: int):
    impact = SimpleNamespace(unchanged=False, newly_blocked=[object()] * blocked,
                             newly_allowed=[object()] * allowed)
    after = [{"metadata": {"namespace": "shop", "name": f"p{n}"}} for n in range(created)]
    return SimpleNamespace(generated_before=[], generated_after=after, impact=impact)


CHANGE = SimpleNamespace(description="Turn on isolation of project shop")


def test_a_preview_summary_reads_in_chinese():
    with translation.override("zh-hans"):
        summary = _summary(CHANGE, _preview(2, 1, 3), kubesphere=False)
    assert summary == ("Turn on isolation of project shop。 将创建 2 个生成的策略（由控制台写入）。 "
                       "1 个连接将被阻止，3 个将被允许。")


def test_a_preview_summary_in_english_is_unchanged():
    with translation.override("en"):
        assert _summary(CHANGE, _preview(2, 1, 3), kubesphere=True) == (
            "Turn on isolation of project shop. 2 generated policies to create (KubeSphere's "
            "controller will write them). 1 connection becomes blocked and 3 become allowed.")


def test_a_compiler_problem_is_said_in_the_readers_language():
    problem = _("{field}: {message}", field="spec.ports[0]", message="x")
    with translation.override("zh-hans"):
        assert _problem_text("shop", "db", problem) == "条目 shop/db：spec.ports[0]：x"
        assert _problem_text("", "node/n1", "x") == "节点 n1：x"
    with translation.override("en"):
        assert _problem_text("shop", "db", problem) == "Entry shop/db: spec.ports[0]: x"
        assert _problem_text("shop", "", "x") == "Project shop: x"


def test_reconcile_sentences_read_in_chinese():
    write = Write("create", "shop", "nsnp-network-isolate", None, POLICY)
    with translation.override("zh-hans"):
        assert summarize_writes(["shop", "web"], [], [POLICY]) == (
            "项目 shop、web 的生成策略：已创建 1 个。")
        assert summarize_writes(None, [], []) == "集群 已经同步：没有写入任何内容。"
        assert write.sentence() == "已创建 shop/nsnp-network-isolate"
    with translation.override("en"):
        assert summarize_writes(["shop", "web"], [], [POLICY]) == (
            "Generated policies of projects shop, web: 1 created.")
        assert summarize_writes(None, [], []) == "The cluster was already in step: nothing written."
        assert summarize_writes(["a", "b", "c", "d"], [POLICY], []) == (
            "Generated policies of 4 projects: 1 deleted.")
        assert write.sentence() == "shop/nsnp-network-isolate created"


@pytest.mark.django_db(transaction=True)
def test_a_switch_job_reports_in_the_requesters_language(demo_cluster, personas):
    reconcile.repair_drift()
    Change.objects.all().delete()
    save_language(personas["alice"], "zh-hans")
    job = iso.start_workspace_isolation(personas["alice"], "team-b", True)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert "项目 reporting、web 的生成策略：已创建 2 个。" in job.message
    assert "可达性：" in job.message
    assert Change.objects.get().summary == job.message


@pytest.mark.django_db(transaction=True)
def test_a_switch_job_and_its_history_entry_read_in_chinese_whoever_started_it(demo_cluster,
                                                                              personas):
    reconcile.repair_drift()
    Change.objects.all().delete()
    job = iso.start_workspace_isolation(personas["alice"], "team-b", True)   # in English
    job = Job.objects.get(pk=job.pk)
    change = Change.objects.get(job=job)
    assert change.summary.startswith("Network isolation turned on for workspace team-b. ")
    with translation.override("zh-hans"):
        message, summary = str(job.shown_message), str(change.shown_summary)
    assert message == summary
    assert summary.startswith("已为企业空间 team-b 开启网络隔离。")
    assert "项目 reporting、web 的生成策略：已创建 2 个。" in summary and "可达性：" in summary


@pytest.mark.django_db(transaction=True)
def test_a_jobs_progress_says_the_change_it_writes_in_the_readers_language(demo_cluster,
                                                                          personas,
                                                                          monkeypatch):
    from console.core import jobs

    said = []
    report = jobs.JobContext.progress

    def progress(ctx, percent, message=""):
        report(ctx, percent, message)
        said.append(ctx.job.shown_message)

    monkeypatch.setattr(jobs.JobContext, "progress", progress)
    reconcile.repair_drift()
    iso.start_project_isolation(personas["alice"], "shop", True)
    with translation.override("zh-hans"):
        assert "为项目 shop 开启网络隔离" in [str(message) for message in said]


@pytest.mark.django_db(transaction=True)
def test_a_switch_job_reports_in_english_otherwise(demo_cluster, personas):
    reconcile.repair_drift()
    job = iso.start_workspace_isolation(personas["alice"], "team-b", True)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert "Generated policies of projects reporting, web: 2 created." in job.message
    assert " Reachability: " in job.message


@pytest.mark.django_db
def test_a_projects_reachability_notes_read_in_chinese(demo_cluster):
    with translation.override("zh-hans"):
        rows = project_reachability(cluster.snapshot(), "shop").inbound
        assert [r.note for r in rows if r.key == "shop"] == ["本项目"]
    with translation.override("en"):
        rows = project_reachability(cluster.snapshot(), "shop").inbound
        assert [r.note for r in rows if r.key == "shop"] == ["this project"]


def test_the_ports_tried_from_outside_are_said_where_the_row_is_shown(demo_cluster):
    rows = project_reachability(cluster.snapshot(), "shop").inbound
    outside = [r for r in rows if r.scope == "outside" and r.ports == "declared ports"]
    assert outside
    with translation.override("zh-hans"):
        assert {str(r.ports) for r in outside} == {"已声明的端口"}


def test_an_intent_change_is_a_sentence_said_in_the_readers_language():
    from console.tenancy import intent
    from isolation.snapshot import Snapshot

    change = intent.create_workspace(Snapshot(), "team-c")   # worked out in English...
    assert (change.description, change.done) == ("Create workspace team-c",
                                                 "Workspace team-c created")
    with translation.override("zh-hans"):                     # ...read in Chinese
        assert (str(change.description), str(change.done)) == ("创建企业空间 team-c",
                                                               "已创建企业空间 team-c")
        refused = intent.create_workspace(Snapshot(), "Team C")
    assert refused.issues == [("name", "最多 63 个小写字母、数字和“-”，且必须以字母或数字开头和结尾")]
    moved = intent.move_project(Snapshot(), "shop", "team-b")
    with translation.override("zh-hans"):
        assert str(moved.description) == "将项目 shop 移动到企业空间 team-b"
        assert str(_("{done}.", done=moved.done)) == "已将项目 shop 移动到企业空间 team-b。"
