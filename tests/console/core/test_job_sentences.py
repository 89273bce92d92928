"""A job's message or error with names and numbers in it is kept as a sentence: its row keeps
the words its requester reads, and each reader is told it in their own language."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from console.core import jobs
from console.core.language import save_language
from console.core.models import Job, JobStatus
from isolation.text import gettext as _
from isolation.text import ngettext

pytestmark = pytest.mark.django_db


def _reconciled(done: int, total: int):
    return ngettext("Reconciled {namespace} ({done} of {total} project)",
                    "Reconciled {namespace} ({done} of {total} projects)", total,
                    namespace="shop", done=done, total=total)


def _running(user=None) -> Job:
    return Job.objects.create(kind="check-cluster", status=JobStatus.RUNNING, requested_by=user)


def test_a_progress_message_with_names_is_said_in_each_readers_language():
    job = _running()
    jobs.JobContext(job).progress(40, _reconciled(1, 3))
    stored = Job.objects.get(pk=job.pk)
    assert stored.message == "Reconciled shop (1 of 3 projects)"
    assert stored.said["message"]["msgid"] == "Reconciled {namespace} ({done} of {total} project)"
    with translation.override("zh-hans"):
        assert str(stored.shown_message) == "已调谐 shop（3 个项目中的第 1 个）"
    with translation.override("en"):
        assert str(stored.shown_message) == "Reconciled shop (1 of 3 projects)"


def test_a_fixed_progress_message_is_kept_as_its_msgid_and_translated_when_shown():
    job = _running()
    context = jobs.JobContext(job)
    context.progress(10, _reconciled(1, 1))
    context.progress(20, gettext_noop("Reading the cluster"))
    stored = Job.objects.get(pk=job.pk)
    assert stored.message == "Reading the cluster" and "message" not in stored.said
    with translation.override("zh-hans"):
        assert str(stored.shown_message) == "正在读取集群"


def test_a_job_row_written_before_sentences_were_kept_shows_its_message_as_stored():
    job = Job.objects.create(kind="check-cluster", status=JobStatus.SUCCEEDED,
                             message="Reconciled shop (1 of 3 projects)", error="old failure")
    with translation.override("zh-hans"):
        assert str(job.shown_message) == "Reconciled shop (1 of 3 projects)"
        assert job.shown_error == "old failure"


def test_the_result_message_and_the_error_are_kept_as_sentences():
    done = _running()
    jobs.finish(done.pk, result={"message": _("Created {ref}.", ref="shop/x"), "name": "x"})
    done.refresh_from_db()
    assert done.status == JobStatus.SUCCEEDED and done.message == "Created shop/x."
    assert done.result["message"] == "Created shop/x."          # the result stays plain JSON
    failed = _running()
    jobs.JobContext(failed).progress(50, _reconciled(2, 3))
    jobs.finish(failed.pk, error=_("{ref} was already deleted.", ref="shop/x"))
    failed.refresh_from_db()
    assert failed.error == "shop/x was already deleted."
    with translation.override("zh-hans"):
        assert str(done.shown_message) == "已创建 shop/x。"
        assert str(failed.shown_error) == "shop/x 已经被删除。"
        assert str(failed.shown_message) == "已调谐 shop（3 个项目中的第 2 个）"


def test_the_row_keeps_the_words_its_requester_reads_and_others_read_their_own():
    chinese = User.objects.create_user("mei")
    save_language(chinese, "zh-hans")
    job = _running(chinese)
    jobs.finish(job.pk, result={"message": _("Replaced {ref}.", ref="shop/web")})
    job.refresh_from_db()
    assert job.message == "已替换 shop/web。"
    with translation.override("en"):
        assert str(job.shown_message) == "Replaced shop/web."


def test_the_job_card_says_the_message_in_the_readers_language(client):
    reader = User.objects.create_superuser("lin", password="pw-lin-1")
    client.login(username="lin", password="pw-lin-1")
    job = _running(reader)
    jobs.JobContext(job).progress(40, _reconciled(1, 3))
    url = reverse("job_status", args=[job.pk])
    assert "Reconciled shop (1 of 3 projects)" in client.get(url).content.decode()
    save_language(reader, "zh-hans")
    page = client.get(url).content.decode()
    assert "已调谐 shop（3 个项目中的第 1 个）" in page and "Reconciled" not in page
