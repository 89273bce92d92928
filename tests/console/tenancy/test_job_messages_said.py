"""An isolation job's message is kept as a sentence: the requester's words in its row, and each
reader's own language on the page."""

from __future__ import annotations

import pytest
from django.utils import translation

from console.core.models import Job, JobStatus
from console.tenancy import reconcile
from console.tenancy import services as iso


@pytest.mark.django_db(transaction=True)
def test_a_switch_jobs_message_reads_in_chinese_for_a_chinese_reader(demo_cluster, personas):
    reconcile.repair_drift()
    job = iso.start_workspace_isolation(personas["alice"], "team-b", True)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert "Generated policies of projects reporting, web: 2 created." in job.message
    with translation.override("zh-hans"):
        said = str(job.shown_message)
    assert "项目 reporting、web 的生成策略：已创建 2 个。" in said and "可达性：" in said
    assert "Generated policies" not in said


@pytest.mark.django_db(transaction=True)
def test_a_drift_repair_jobs_message_reads_in_chinese(demo_cluster, personas,
                                                       django_capture_on_commit_callbacks):
    from console.core import jobs
    from console.tenancy import intent

    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start(intent.KIND_RECONCILE, user=personas["alice"])
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.said["message"]["msgid"] == "Generated policies of {where}: {counts}."
    with translation.override("zh-hans"):
        assert str(job.shown_message).startswith("集群 的生成策略：已创建 ")
