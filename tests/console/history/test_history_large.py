"""A change to a very large object: its History page shows its diff a page at a time."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from console.core.audit import record_change
from console.history.services import DIFF_PAGE_ROWS

pytestmark = pytest.mark.django_db

HUGE = 20_000


def policy(count: int, port: int = 8080) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "huge", "namespace": "shop"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [
                {"from": [{"ipBlock": {"cidr": f"10.{i >> 8 & 255}.{i & 255}.0/24"}}],
                 "ports": [{"port": port if i == count // 2 else 8080}]} for i in range(count)]}}


def change(personas, before, after):
    return record_change(kind="policy-apply", target="shop/huge", summary="huge",
                         author=personas["carol"], workspace="team-a", project="shop",
                         before=before, after=after)


def test_the_change_creating_a_20000_rule_policy_shows_a_page_of_its_diff(
        demo_cluster, personas, login_as):
    created = change(personas, [], [policy(HUGE)])
    client = login_as("carol")
    response = client.get(reverse("history_detail", args=[created.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) < 400_000
    assert body.count('<tr class="added">') == DIFF_PAGE_ROWS
    more = f'{reverse("history_diff", args=[created.pk])}?diff=0&amp;start={DIFF_PAGE_ROWS}'
    assert f'hx-get="{more}"' in body
    rows = client.get(reverse("history_diff", args=[created.pk]),
                      {"diff": 0, "start": DIFF_PAGE_ROWS}, HTTP_HX_REQUEST="true")
    text = rows.content.decode()
    assert rows.status_code == 200 and "<html" not in text
    numbers = [int(n) for n in re.findall(r'<td class="num">(\d+)</td><td class="sign right">',
                                          text)]
    assert numbers == list(range(DIFF_PAGE_ROWS + 1, 2 * DIFF_PAGE_ROWS + 1))
    assert f"start={2 * DIFF_PAGE_ROWS}" in text


def test_an_edit_of_a_20000_rule_policy_folds_its_unchanged_lines(demo_cluster, personas,
                                                                  login_as):
    edited = change(personas, [policy(HUGE)], [policy(HUGE, port=9090)])
    body = login_as("carol").get(reverse("history_detail", args=[edited.pk])).content.decode()
    assert re.search(r"⋯ \d{2,3},\d{3} unchanged lines ⋯", body)
    assert "9090" in body and 'class="more"' not in body


def test_more_rows_of_a_change_one_may_not_see_are_not_found(demo_cluster, personas, login_as):
    created = change(personas, [], [policy(50)])
    client = login_as("frank")
    assert client.get(reverse("history_diff", args=[created.pk]), {"diff": 0}).status_code == 404
    carol = login_as("carol")
    assert carol.get(reverse("history_diff", args=[created.pk]), {"diff": 5}).status_code == 404
