"""The reachability matrix as deployed: once its grid was computed from the watched model's
current state, the page is rendered once per cluster version, roles, language and query and
kept for every web process. What is kept must never show a reader a state, language or scope
that is not theirs."""

import re

import pytest
from django.urls import reverse

from console.core import cluster
from tests.console.core.watched_model import watched_model

pytestmark = pytest.mark.django_db
ZH = {"accept-language": "zh-Hans"}
FOREIGN_TO_CAROL = ("web", "reporting", "billing", "catalog", "kube-system")


@pytest.fixture
def watched(demo_cluster, redis_cache):
    with watched_model() as model:
        yield model


def titles(client, **params) -> list[str]:
    response = client.get(reverse("reachability"), params)
    assert response.status_code == 200
    return re.findall(r'title="([^"]+→[^"]+)"', response.content.decode())


def test_a_policy_the_console_writes_shows_in_the_next_matrix(watched, personas, login_as):
    client = login_as("alice")
    assert "shop → catalog: all allowed (6 of 6 connections)" in titles(client)
    cluster.gateway().create({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "deny-all-ingress", "namespace": "catalog"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    after = titles(client)
    assert "shop → catalog: all allowed (6 of 6 connections)" not in after
    assert any(t.startswith("shop → catalog: all blocked") for t in after)


def test_each_reader_gets_the_matrix_in_their_language(watched, personas, login_as):
    client = login_as("alice")
    english = client.get(reverse("reachability")).content.decode()
    assert "Check a connection" in english
    chinese = client.get(reverse("reachability"), headers=ZH).content.decode()
    assert '<html lang="zh-hans"' in chinese and "Check a connection" not in chinese


def test_a_kept_matrix_never_shows_another_tenants_projects(watched, personas, login_as):
    assert "shop → reporting: all blocked (0 of 3 connections)" in titles(login_as("alice"))
    client = login_as("carol")
    body = client.get(reverse("reachability")).content.decode()
    assert "shop → shop: all allowed (6 of 6 connections)" in titles(client)
    for name in FOREIGN_TO_CAROL:
        assert name not in body
