"""The reachability pages in Chinese: the aggregated "Other projects", the grid's notes and
hints, refused filters, and what a background job computed, said in the reader's language,
while what is compared and stored keeps its English."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from console.core.language import save_language
from console.core.models import Job
from console.core.scope import HIDDEN_NAMESPACE, HIDDEN_POD, OTHER_LABEL, Scope, scoped_delta
from console.reachability import grid as grids
from console.reachability import whatif as whatifs

pytestmark = pytest.mark.django_db

FOREIGN_TO_CAROL = ("web", "reporting", "billing", "catalog", "kube-system", "blog", "dashboard")


def _chinese(login_as, personas, name: str):
    save_language(personas[name], "zh-hans")
    return login_as(name)


def _titles(body: str) -> list[str]:
    return re.findall(r'title="([^"]+→[^"]+)"', body)


def test_the_hidden_words_compare_as_english_and_serialise_as_english():
    assert OTHER_LABEL == "Other projects" and HIDDEN_NAMESPACE == "other projects"
    assert sorted(["shop", HIDDEN_NAMESPACE]) == ["other projects", "shop"]
    assert json.dumps({"label": OTHER_LABEL}) == '{"label": "Other projects"}'
    scope = Scope(everything=False, visible=frozenset({"shop"}),
                  known=frozenset({"shop", "web"}), workspace_of={"shop": "a", "web": "b"})
    seen = scoped_delta({"pairs": [{"from": "web", "to": "shop", "allowed": 1, "blocked": 0}],
                         "newly_allowed": [{"from": "web/x", "to": "shop/y", "port": 80,
                                            "protocol": "TCP"}]}, scope)
    assert seen["pairs"][0]["from"] == HIDDEN_NAMESPACE
    assert seen["newly_allowed"][0]["from"] == HIDDEN_POD
    assert "web" not in json.dumps(seen)


def test_a_tenant_reads_the_matrix_in_chinese_with_other_projects_translated(
        demo_cluster, personas, login_as):
    body = _chinese(login_as, personas, "carol").get(reverse("reachability")).content.decode()
    titles = _titles(body)
    assert "其他项目 → shop: 部分允许" in titles
    assert "shop → shop: 全部允许 （6 条连接中的 6 条）" in titles
    assert "Other projects" not in body and "partly allowed" not in body
    assert "你无权访问的所有项目的 Pod，合在一起。" in body
    assert "端口为每个目标 Pod 已声明的容器端口" in body
    for name in FOREIGN_TO_CAROL:
        assert name not in body


def test_a_refused_filter_is_explained_in_chinese(demo_cluster, personas, login_as):
    client = _chinese(login_as, personas, "alice")
    response = client.get(reverse("reachability"), {"workspace": "nope"})
    assert response.status_code == 400
    assert "你的企业空间中没有 nope。" in response.content.decode()
    ports = client.get(reverse("reachability"), {"ports": "http"})
    assert "&#x27;http&#x27; 不是像 8080 或 53/UDP 这样的端口。" in ports.content.decode()


@pytest.fixture
def slow(monkeypatch):
    """Every grid and preview is expected to take longer than the page may wait."""
    from console.reachability import matrix as reachability_matrix

    monkeypatch.setattr(reachability_matrix, "INLINE_SECONDS", -1.0)
    monkeypatch.setattr(whatifs, "INLINE_SECONDS", -1.0)


def test_a_matrix_computed_by_a_job_is_shown_in_the_readers_language(
        demo_cluster, personas, login_as, slow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login_as("carol").get(reverse("reachability"))
    job = Job.objects.get(kind="reachability-matrix")
    assert job.status == "succeeded", job.error
    assert json.loads(json.dumps(job.result)) == job.result
    url = reverse("reachability_matrix_job", args=[job.pk])
    english = login_as("carol").get(url).content.decode()
    assert "Other projects → shop: partly allowed" in _titles(english)
    chinese = _chinese(login_as, personas, "carol").get(url).content.decode()
    assert "其他项目 → shop: 部分允许" in _titles(chinese)
    assert "你无权访问的所有项目的 Pod，合在一起。" in chinese
    assert "Pods of every project" not in chinese


def test_a_preview_computed_by_a_job_is_shown_in_the_readers_language(
        demo_cluster, personas, login_as, slow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login_as("carol").get(reverse("reachability_whatif"),
                              {"change": "project", "project": "shop", "isolation": "on"})
    job = Job.objects.get(kind="reachability-what-if")
    assert job.status == "succeeded", job.error
    assert job.message.startswith("Turn project isolation on for shop: ")
    url = reverse("reachability_whatif_job", args=[job.pk])
    english = login_as("carol").get(url).content.decode()
    assert "Turn project isolation on for shop" in english
    assert "a pod in another project → shop/cart-be171b259-x7k2p on 9000/TCP" in english
    chinese = _chinese(login_as, personas, "carol").get(url).content.decode()
    assert "为项目 shop 开启隔离" in chinese and "Turn project isolation" not in chinese
    assert "另一个项目中的 Pod → shop/cart-be171b259-x7k2p" in chinese
    assert "其他项目" in chinese and "other projects" not in chinese
    for name in ("web/", "reporting/", "billing/", "catalog/", "prometheus", "blog"):
        assert name not in chinese


def test_grid_sentences_survive_a_json_round_trip(demo_cluster):
    from console.core import cluster

    scope = Scope(everything=False, visible=frozenset({"shop"}),
                  known=frozenset({"shop", "web"}), workspace_of={"shop": "team-a"})
    grid = grids.compute_grid(scope, grids.MatrixQuery(), cluster.snapshot())
    kept = json.loads(json.dumps(grids.portable(grid)))
    other = next(row for row in kept["rows"] if row["key"] == grids.OTHER)
    assert other["label"] == {"msgid": "Other projects"}
