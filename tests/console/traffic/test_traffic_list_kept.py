"""The Traffic Paths list as deployed: served from the watched model, its content rendered once
per cluster version, settings, roles, language and query and kept for every web process. What
is kept must never show a reader a state, language or scope that is not theirs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import PlatformSettings
from tests.console.core.watched_model import watched_model

pytestmark = pytest.mark.django_db(transaction=True)
ZH = {"accept-language": "zh-Hans"}


@pytest.fixture
def watched(demo_cluster, redis_cache):
    with watched_model() as model:
        yield model


def detail(kind: str, namespace: str, name: str) -> str:
    return reverse("traffic_detail", args=[kind, namespace, name])


def page(client, **params) -> str:
    response = client.get(reverse("traffic_list"), params)
    assert response.status_code == 200
    return response.content.decode()


def node_port(namespace: str, name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "NodePort", "selector": {"app": "storefront"},
                     "ports": [{"port": 81, "targetPort": 8080, "protocol": "TCP"}]}}


def test_a_service_the_console_exposes_shows_on_the_next_view(watched, personas, login_as):
    client = login_as("alice")
    assert detail("service", "shop", "kept-np") not in page(client)
    cluster.gateway().create(node_port("shop", "kept-np"))
    assert detail("service", "shop", "kept-np") in page(client)


def test_a_settings_change_is_a_new_page(watched, personas, login_as):
    client = login_as("alice")
    first = page(client)
    PlatformSettings.objects.filter(pk=1).update(cni_mode="vxlan")
    assert page(client) != first


def test_each_reader_gets_the_list_in_their_language(watched, personas, login_as):
    client = login_as("alice")
    assert "Explain a case" in page(client)
    chinese = client.get(reverse("traffic_list"), headers=ZH).content.decode()
    assert '<html lang="zh-hans"' in chinese and "Explain a case" not in chinese


def test_a_kept_list_never_shows_another_tenants_exposures(watched, personas, login_as):
    assert detail("ingress", "reporting", "dashboard") in page(login_as("alice"))
    carols = page(login_as("carol"))
    assert detail("ingress", "shop", "storefront") in carols
    assert detail("ingress", "reporting", "dashboard") not in carols
    assert detail("service", "billing", "payments-api") not in carols
    franks = page(login_as("frank"))
    assert detail("ingress", "reporting", "dashboard") in franks
    assert detail("ingress", "shop", "storefront") not in franks
