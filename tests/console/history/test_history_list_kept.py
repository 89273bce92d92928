"""The History list as deployed: its changes rendered once per state of the change log and of
the watched cluster model, roles, language and query, and kept for every web process. What is
kept must never show a reader a change log, language or scope that is not theirs."""

import pytest
from django.urls import reverse

from console.core.audit import record_change
from tests.console.core.watched_model import watched_model

pytestmark = pytest.mark.django_db
ZH = {"accept-language": "zh-Hans"}


@pytest.fixture
def watched(demo_cluster, redis_cache):
    with watched_model() as model:
        yield model


@pytest.fixture
def changes(personas):
    record_change(kind="policy-apply", target="shop/allow-web", summary="Edited allow-web",
                  author=personas["bob"], workspace="team-a", project="shop")
    record_change(kind="workspace-isolation", target="team-b", summary="Isolated team-b",
                  author=personas["frank"], workspace="team-b")


def page(client, **params) -> str:
    response = client.get(reverse("history"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_change_recorded_since_shows_on_the_next_view(watched, changes, personas, login_as):
    client = login_as("alice")
    assert "<td>billing</td>" not in page(client)
    record_change(kind="reconcile", target="billing", summary="Repaired drift",
                  author_label="drift repair", workspace="team-a", project="billing")
    assert "<td>billing</td>" in page(client)
    table = client.get(reverse("history"), headers={"HX-Request": "true"}).content.decode()
    assert "<td>billing</td>" in table and "<html" not in table


def test_an_author_removed_since_is_named_unknown_on_the_next_view(watched, changes, personas,
                                                                   login_as):
    client = login_as("alice")
    assert "frank" in page(client)
    personas["frank"].delete()
    assert "frank" not in page(client)


def test_each_reader_gets_the_list_in_their_language(watched, changes, personas, login_as):
    client = login_as("alice")
    assert "Export as JSON" in page(client)
    chinese = client.get(reverse("history"), headers=ZH).content.decode()
    assert '<html lang="zh-hans"' in chinese and "Show every change" not in chinese
    assert "Changes</h2>" not in chinese and "Export as JSON" not in chinese


def test_a_kept_list_never_shows_another_tenants_changes(watched, changes, personas, login_as):
    assert "<td>team-b</td>" in page(login_as("alice"))
    carols = page(login_as("carol"))
    assert "<td>shop/allow-web</td>" in carols and "<td>team-b</td>" not in carols
    franks = page(login_as("frank"))
    assert "<td>team-b</td>" in franks and "<td>shop/allow-web</td>" not in franks
