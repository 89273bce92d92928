"""The History pages, the revert and its job in Simplified Chinese: texts, dates and counts in
the reader's language, job messages in the requester's, the recorded history kept in the
console's default language."""


import pytest
from django.urls import reverse
from django.utils import timezone, translation

from console.core.audit import record_change
from console.core.models import Change, Job, UserPreference
from console.history.revert import start_revert
from console.history.services import side_by_side

pytestmark = pytest.mark.django_db





@pytest.fixture
def drift(personas) -> Change:
    return record_change(kind="reconcile", target="billing", summary="Repaired drift",
                         author=None, author_label="drift repair", workspace="team-a",
                         project="billing")


def in_chinese(client):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    return client


def chinese_date(moment) -> str:
    moment = timezone.localtime(moment)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def test_the_list_speaks_chinese_with_chinese_dates(created, drift, login_as):
    body = in_chinese(login_as("alice")).get(reverse("history")).text
    assert '<html lang="zh-hans"' in body
    for text in ("<h1 class=\"h3 mb-1\">历史记录</h1>", "导出为 JSON", "检查集群连接", "最近的任务",
                 "操作者", "筛选变更"):
        assert text in body, text
    assert chinese_date(created.created_at) in body
    # A system author is named in the reader's language, and still filters by its stored label.
    assert '<span class="badge text-bg-light border">偏移修复</span>' in body
    assert '<option value="drift repair">偏移修复</option>' in body
    for english in ("Recent jobs", "Export as JSON", "Every change the console made"):
        assert english not in body


def test_a_filter_without_match_says_so_in_chinese(created, login_as):
    body = in_chinese(login_as("alice")).get(reverse("history"), {"author": "nobody"}).text
    assert f'没有符合这些筛选条件的变更。<a href="{reverse("history")}">显示全部变更</a>。' in body


def test_the_detail_speaks_chinese(created, login_as):
    body = in_chinese(login_as("carol")).get(reverse("history_detail", args=[created.pk])).text
    assert f"变更 #{created.pk}：policy-apply shop/deny-all" in body
    assert "结果 YAML" in body and "回滚…" in body
    assert "对象：左侧为变更前的内容，右侧为变更后的内容；− 表示删除的行，+ 表示新增的行。" in body
    assert f"变更 #{created.pk} · 历史记录" in body  # the page's title
    assert "Resulting YAML" not in body and "on the left" not in body


def test_unchanged_runs_are_counted_in_the_readers_language():
    before = "\n".join(f"line {n}" for n in range(2000)) + "\nlast: 1"
    after = "\n".join(f"line {n}" for n in range(2000)) + "\nlast: 2"
    # Numbers follow each language's own grouping (Django's locale formats: none for zh-Hans).
    with translation.override("zh-hans"):
        assert side_by_side(before, after)[0].left == "1997 行未变化"
    with translation.override("en"):
        assert side_by_side(before, after)[0].left == "1,997 unchanged lines"


def test_the_revert_preview_and_its_job_speak_chinese_and_the_record_stays_english(
        created, login_as, django_capture_on_commit_callbacks):
    client = in_chinese(login_as("carol"))
    preview = client.get(reverse("history_revert", args=[created.pk])).text
    assert "NetworkPolicy shop/deny-all 由该变更创建，将被删除" in preview
    assert f"回滚变更 #{created.pk}</button>" in preview and "回滚会写入的内容" in preview
    assert "删除</span>" in preview and "左侧为当前内容，右侧为回滚后的内容" in preview
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("history_revert", args=[created.pk]))
    assert response.status_code == 202
    record = Change.objects.get(reverts=created)
    job = Job.objects.get(kind="revert-change")
    assert job.message == f"变更 #{created.pk} 已回滚：恢复了 1 个对象。已记录为变更 #{record.pk}。"
    assert "返回历史记录" in response.text
    assert record.summary == (f"Reverted change #{created.pk} (policy-apply shop/deny-all): "
                              "NetworkPolicy shop/deny-all, which the change created, is deleted.")


def test_a_job_run_without_a_request_speaks_its_requesters_saved_language(
        created, personas, django_capture_on_commit_callbacks):
    UserPreference.objects.create(user=personas["carol"], language="zh-hans")
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        job = start_revert(personas["carol"], created)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert job.message.startswith(f"变更 #{created.pk} 已回滚")


def test_a_conflict_fails_the_job_with_a_chinese_reason(changed_since, personas,
                                                        django_capture_on_commit_callbacks):
    UserPreference.objects.create(user=personas["carol"], language="zh-hans")
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        job = start_revert(personas["carol"], changed_since)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error.startswith("未回滚，没有写入任何内容：")
    assert "NetworkPolicy shop/deny-all 在该变更之后又被修改（spec）；保持不动。" in job.error


def test_a_reverts_summary_reads_in_the_readers_language_on_the_list_and_the_detail(
        created, personas, login_as, django_capture_on_commit_callbacks):
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        start_revert(personas["carol"], created)
    record = Change.objects.get(reverts=created)
    assert record.summary.startswith(f"Reverted change #{created.pk} (policy-apply ")
    chinese = (f"已回滚变更 #{created.pk}（policy-apply shop/deny-all）：NetworkPolicy "
               "shop/deny-all 由该变更创建，将被删除。")
    client = in_chinese(login_as("carol"))
    assert chinese in client.get(reverse("history_detail", args=[record.pk])).text
    assert chinese[:60] in client.get(reverse("history")).text
    english = login_as("alice").get(reverse("history_detail", args=[record.pk])).text
    assert record.summary in english


def test_a_summary_recorded_as_plain_text_shows_as_it_was_recorded(created, login_as):
    body = in_chinese(login_as("carol")).get(reverse("history_detail", args=[created.pk])).text
    assert "Created deny-all" in body and created.said == {}


def test_a_policy_jobs_summary_reads_in_the_readers_language(demo_cluster, personas,
                                                            django_capture_on_commit_callbacks):
    from console.core import jobs

    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        job = jobs.start("delete-policy", target="reporting/allow-prometheus-scrape",
                         user=personas["alice"],
                         params={"namespace": "reporting", "name": "allow-prometheus-scrape"})
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    change = Change.objects.get(job=job)
    assert change.summary.startswith(
        "Deleted NetworkPolicy reporting/allow-prometheus-scrape; newly allows ")
    with translation.override("zh-hans"):
        said = str(change.shown_summary)
    assert said.startswith("已删除 NetworkPolicy reporting/allow-prometheus-scrape；新增允许 ")
    assert "条连接" in said and "connection" not in said
