"""The Network Policies list as deployed: served from the watched model, its content rendered
once per cluster version, roles, language and query and kept for every web process. What is
kept must never show a reader a state, language or scope that is not theirs."""

import pytest
from django.urls import reverse

from console.core import cluster
from tests.console.core.watched_model import other_gateway_write, watched_model
from tests.console.policies.support import netpol

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_platform_guardrails")]
ZH = {"accept-language": "zh-Hans"}


@pytest.fixture
def watched(demo_cluster, redis_cache):
    with watched_model() as model:
        yield model


def page(client, **params) -> str:
    response = client.get(reverse("policy_list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_policy_the_console_creates_shows_on_the_next_view(watched, personas, login_as):
    client = login_as("alice")
    assert "kept-new" not in page(client, q="kept")
    cluster.gateway().create(netpol("shop", "kept-new"))
    assert "kept-new" in page(client, q="kept")


def test_a_policy_created_behind_the_consoles_back_shows_once_the_model_has_it(
        watched, personas, login_as):
    client = login_as("alice")
    assert "by-kubectl" not in page(client)
    other_gateway_write(lambda gw: gw.create(netpol("billing", "by-kubectl")))
    assert "by-kubectl" in page(client, q="by-kubectl")
    assert "by-kubectl" in page(client, project="billing")


def test_each_reader_gets_the_list_in_their_language(watched, personas, login_as):
    client = login_as("alice")
    english = page(client)
    assert "Create policy" in english and "创建策略" not in english
    chinese = client.get(reverse("policy_list"), headers=ZH).content.decode()
    assert "创建策略" in chinese and "Create policy" not in chinese


def test_a_kept_list_never_shows_another_tenants_policies(watched, personas, login_as):
    cluster.gateway().create(netpol("shop", "shop-own"))
    assert "allow-prometheus-scrape" in page(login_as("alice"))
    assert "allow-prometheus-scrape" in page(login_as("alice"), q="o")
    for reader in ("carol", "bob"):
        client = login_as(reader)
        assert "shop-own" in page(client)
        assert "allow-prometheus-scrape" not in page(client)
        assert "allow-prometheus-scrape" not in page(client, q="o")
    assert "Create policy" not in page(login_as("erin"))


def test_the_htmx_table_is_kept_apart_from_the_page(watched, personas, login_as):
    client = login_as("alice")
    full = page(client, q="nsnp")
    table = client.get(reverse("policy_list"), {"q": "nsnp"}, headers={"HX-Request": "true"})
    assert "<html" in full and "<html" not in table.content.decode()
    assert 'id="policy-table"' in table.content.decode()


def test_a_kept_detail_page_follows_the_policy_its_reader_and_their_language(
        watched, personas, login_as):
    created = cluster.gateway().create(netpol("shop", "kept-detail", policyTypes=["Ingress"]))
    url = reverse("policy_detail", args=["shop", "kept-detail"])
    alice = login_as("alice")
    assert "Egress" not in alice.get(url).content.decode().split('id="policy-yaml"')[1]
    changed = {**created, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    cluster.gateway().replace(changed)
    assert "Egress" in alice.get(url).content.decode().split('id="policy-yaml"')[1]
    assert '<html lang="zh-hans"' in alice.get(url, headers=ZH).content.decode()
    assert login_as("frank").get(url).status_code == 404
    assert login_as("carol").get(url).status_code == 200
