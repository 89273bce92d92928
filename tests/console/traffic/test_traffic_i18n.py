"""The Traffic Paths detail page in the reader's language: verdict, reasons, pitfalls, diagram."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)

PAYMENTS_API = ("service", "billing", "payments-api")
STOREFRONT = ("ingress", "shop", "storefront")
CHINESE = {"accept-language": "zh-Hans"}

# Sentences the traffic paths write on this page, as English says them.
ENGLISH = ["when it enters on", "the policy sees", "which no rule allows", "opens a connection",
           "receives it on", "masquerade to", "through tunl0", "Testing from a node misleads",
           "Allowlist ports are", "Cluster policy admits anyone", "Legend", "entry node",
           "outside the cluster", "Enters on node", "App sees", "It fails", "It works",
           "pods cannot be reached", "leg 1 (client to ingress controller)"]


def detail(client, ref=PAYMENTS_API, **headers):
    response = client.get(reverse("traffic_detail", args=ref), headers=headers)
    assert response.status_code == 200
    return response, html.unescape(response.content.decode())


@pytest.mark.parametrize(("persona", "ref"), [("bob", PAYMENTS_API), ("carol", STOREFRONT)])
def test_the_detail_page_answers_a_chinese_browser_in_chinese(demo_cluster, personas, login_as,
                                                              persona, ref):
    response, page = detail(login_as(persona), ref, **CHINESE)
    result = response.context["result"].result
    assert str(result.summary()) in page and "进入时" in page
    assert all(str(note) in page for note in result.pitfalls)
    svg = response.context["svg"]
    assert svg and "图例" in svg and "入口节点" in svg and "客户端" in svg
    assert [english for english in ENGLISH if english in page] == []


def test_the_detail_page_speaks_english_by_default(demo_cluster, personas, login_as):
    response, page = detail(login_as("bob"))
    assert "Works when it enters on node-2" in page
    assert "Testing from a node misleads" in page
    svg = response.context["svg"]
    assert "Legend" in svg and "entry node" in svg and "图例" not in svg


def test_a_diagram_drawn_for_an_english_reader_is_not_shown_to_a_chinese_one(demo_cluster,
                                                                             personas, login_as):
    client = login_as("bob")
    english, _ = detail(client)
    chinese, _ = detail(client, **CHINESE)
    assert "Legend" in english.context["svg"]
    assert "图例" in chinese.context["svg"] and "Legend" not in chinese.context["svg"]
    again, _ = detail(client)
    assert again.context["svg"] == english.context["svg"]


def test_the_explainer_draws_each_case_in_the_readers_language():
    from django.utils import translation

    from console.traffic import services

    english = services.explained("NodePort", "Cluster", "ipip", False)
    with translation.override("zh-hans"):
        chinese = services.explained("NodePort", "Cluster", "ipip", False)
    assert english.title == "NodePort, Cluster, IPIP, pod on another node"
    assert chinese.title == "NodePort, Cluster, IPIP, Pod 在其他节点上"
    assert english.svg != chinese.svg
