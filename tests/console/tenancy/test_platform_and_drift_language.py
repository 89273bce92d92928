"""The platform settings' history entries, drift repairs and what an isolation job kept are
recorded as sentences: whoever recorded them (an English admin, the periodic reconcile), a
reader of Simplified Chinese reads them in Chinese, and an English reader in the English they
always were."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from cluster.errors import NotFoundError, PermanentClusterError
from console.core import cluster
from console.core.language import save_language
from console.core.models import Change, Job, JobStatus
from console.tenancy import reconcile
from console.tenancy import services as iso
from console.tenancy.reconcile import Write
from console.tenancy.state import project_state, workspace_state
from isolation.compiler.generate import IsolationSettings
from isolation.snapshot import Snapshot

MONITORING = "kubesphere-monitoring-system"
POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "nsnp-network-isolate", "namespace": "shop"},
          "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


@pytest.fixture
def in_step(demo_cluster, personas):
    """The demo cluster with its generated policies written, and a clean history."""
    reconcile.repair_drift()
    Change.objects.all().delete()
    return demo_cluster




def _settings(**overrides) -> dict[str, str]:
    return {"always_allowed_namespaces": MONITORING, "detect_ingress_namespaces": "on",
            "snat_cidrs": "", "cni_mode": "", "engine_mode": "console", "action": "save",
            **overrides}


@pytest.mark.django_db(transaction=True)
def test_platform_settings_saved_in_english_read_in_chinese(in_step, monitoring_kept_out_of_shop,
                                                            personas, login_as):
    saved = login_as("alice").post(reverse("platform_settings"), _settings(
        override_reason="Prometheus scrapes shop from now on"))
    assert saved.status_code == 302
    change = Change.objects.get(kind="platform-settings")
    override = Change.objects.get(kind="guardrail-override")
    assert change.summary == "Changed the platform settings."
    assert override.target == "platform settings"          # the column keeps its English
    assert override.summary.startswith("Guardrail override for platform settings: ")
    with translation.override("zh-hans"):
        assert str(change.shown_summary) == "修改了平台设置。"
        assert str(override.shown_summary).startswith("对 平台设置 强制执行守护规则：")
        assert "Prometheus scrapes shop from now on" in str(override.shown_summary)
    with translation.override("en"):
        assert str(change.shown_summary) == "Changed the platform settings."
    save_language(personas["alice"], "zh-hans")           # she now reads Chinese
    body = login_as("alice").get(reverse("history")).content.decode()
    assert "修改了平台设置。" in body and "Changed the platform settings." not in body


@pytest.mark.django_db(transaction=True)
def test_a_drift_repair_recorded_by_the_reconcile_reads_in_chinese(in_step):
    cluster.gateway().delete("NetworkPolicy", "nsnp-network-isolate", namespace="shop")
    reconcile.repair_drift()
    change = Change.objects.get(kind=reconcile.DRIFT_KIND)
    assert change.summary == (
        "Drift repaired in project shop (1 policy): shop/nsnp-network-isolate was missing from "
        "the cluster; it was created from its source.")
    with translation.override("zh-hans"):
        assert str(change.shown_summary) == (
            "项目 shop 中的偏移已修复（1 个策略）：集群中缺少 shop/nsnp-network-isolate；"
            "已根据其来源创建。")
    with translation.override("en"):
        assert str(change.shown_summary) == change.summary


def test_each_kind_of_repair_is_said_in_the_readers_language():
    opened = {**POLICY, "spec": {**POLICY["spec"], "ingress": [{}]}}
    rewritten = Write("update", "shop", "nsnp-network-isolate", opened, POLICY)
    deleted = Write("delete", "web", "nsnp-leftover", POLICY, None)
    sentence = reconcile._repair_sentence
    with translation.override("zh-hans"):
        assert str(sentence(rewritten)) == (
            "shop/nsnp-network-isolate 在控制台之外被修改（spec）；已根据其来源重写。")
        assert str(sentence(deleted)) == (
            "web/nsnp-leftover 由控制台生成，但已没有任何意图需要它；已删除。")
    with translation.override("en"):
        assert str(sentence(rewritten)) == (
            "shop/nsnp-network-isolate had been changed outside the console (spec); it was "
            "rewritten from its source.")


@pytest.mark.django_db(transaction=True)
def test_an_isolation_jobs_problems_are_kept_as_sentences(in_step, personas):
    cluster.gateway().create({**POLICY, "metadata": {"name": "nsnp-network-isolate",
                                                     "namespace": "web"}})
    job = iso.start_workspace_isolation(personas["alice"], "team-b", True)   # in English
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    with translation.override("zh-hans"):
        problems = [str(p) for p in job.shown_result["problems"]]
    assert any(p.startswith("web/nsnp-network-isolate 已存在，但不是由控制台生成的")
               for p in problems), problems
    with translation.override("en"):
        problems = [str(p) for p in job.shown_result["problems"]]
    assert any(p.startswith("web/nsnp-network-isolate exists but was not generated")
               for p in problems), problems


@pytest.mark.django_db
def test_a_missing_project_or_workspace_is_named_in_the_readers_language(demo_cluster):
    with translation.override("zh-hans"):
        with pytest.raises(NotFoundError) as missing:
            project_state("nowhere")
        assert str(missing.value.message) == "项目 nowhere 不存在。"
        with pytest.raises(NotFoundError) as missing:
            workspace_state("nowhere")
        assert str(missing.value.message) == "企业空间 nowhere 不存在。"
    with translation.override("en"):
        assert str(missing.value.message) == "Workspace nowhere does not exist."



def test_intent_that_cannot_be_compiled_fails_a_job_in_the_readers_language():
    snapshot = Snapshot()
    snapshot.add({"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": "shop", "labels": "not a mapping"}})
    with pytest.raises(PermanentClusterError) as failed:
        reconcile.compile_intent(snapshot, IsolationSettings())
    with translation.override("zh-hans"):
        assert str(failed.value.message).startswith("无法编译集群中的隔离意图：")
        assert str(failed.value.message).endswith("。请修正该对象（例如使用 kubectl edit）后重试。")
    with translation.override("en"):
        assert str(failed.value.message).startswith(
            "The isolation intent in the cluster cannot be compiled: ")
