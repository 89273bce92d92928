"""What a job or a recorded change works on is said in the reader's language when it is words
("every exposure", "3 namespaces"); a name stays as it is. The columns keep the English, which
the History filters and the JSON export read."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from console.core import jobs
from console.core.audit import record_change
from console.core.language import save_language
from console.core.models import Change, Job
from isolation.text import gettext as _
from isolation.text import ngettext

pytestmark = pytest.mark.django_db


def test_a_job_target_given_as_words_is_kept_as_a_sentence(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = jobs.start("check-cluster", target=_("every exposure"))
    stored = Job.objects.get(pk=job.pk)
    assert stored.target == "every exposure"
    assert stored.said["target"] == {"msgid": "every exposure"}
    with translation.override("zh-hans"):
        assert str(stored.shown_target) == "所有暴露"
    with translation.override("en"):
        assert str(stored.shown_target) == "every exposure"


def test_a_job_target_that_is_a_name_is_shown_as_stored(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = jobs.start("check-cluster", target="shop/deny-all")
    stored = Job.objects.get(pk=job.pk)
    assert "target" not in stored.said
    with translation.override("zh-hans"):
        assert stored.shown_target == "shop/deny-all"


def test_a_change_recorded_for_many_namespaces_names_them_in_the_readers_language():
    target = ngettext("{count} namespace", "{count} namespaces", 3, count=3)
    change = record_change(kind="drift-repair", target=target, summary="Repaired drift")
    stored = Change.objects.get(pk=change.pk)
    assert stored.target == "3 namespaces"                    # what the filters compare
    with translation.override("zh-hans"):
        assert str(stored.shown_target) == "3 个命名空间"


def test_the_history_page_says_job_and_change_targets_in_chinese(
        demo_cluster, personas, login_as, django_capture_on_commit_callbacks):
    client = login_as("alice")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("job_check_cluster"),
                           HTTP_HX_REQUEST="true").status_code == 202
    record_change(kind="drift-repair", target=ngettext(
        "{count} namespace", "{count} namespaces", 2, count=2), summary="Repaired drift")
    save_language(personas["alice"], "zh-hans")
    body = client.get(reverse("history")).content.decode()
    assert "<td>集群</td>" in body and "<td>2 个命名空间</td>" in body
    assert "<td>cluster</td>" not in body and "2 namespaces" not in body
