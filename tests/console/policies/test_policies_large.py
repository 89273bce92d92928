"""Large policies stay small pages: rules, diffs and problems are shown a page at a time, with
a count and a "show more" that fetches the next page (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from console.policies.detail import RULES_PAGE
from console.policies.text import DIFF_PAGE_ROWS, DiffRow, diff_page, folded, side_by_side
from tests.console.policies.support import as_yaml, create, live, netpol

pytestmark = pytest.mark.django_db

HUGE = 20_000
PAGE_BYTES = 400_000  # a detail page of 20,000 rules stays well under 1 MB


def rules(count: int, port: int = 8080) -> list[dict]:
    return [{"from": [{"ipBlock": {"cidr": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32"}}],
             "ports": [{"port": port}]} for i in range(count)]


def big(name: str, count: int, **spec) -> dict:
    return netpol("shop", name, policyTypes=["Ingress"], ingress=rules(count), **spec)


def rule_numbers(body: str) -> list[int]:
    return [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", body)]


def test_the_detail_of_a_20000_rule_policy_shows_the_first_rules_a_count_and_a_link(
        demo_cluster, personas, login_as):
    create(big("huge", HUGE))
    response = login_as("carol").get(reverse("policy_detail", args=["shop", "huge"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) < PAGE_BYTES
    assert rule_numbers(body) == list(range(1, RULES_PAGE + 1))
    assert f"{HUGE} rules" in body
    assert f"show all {HUGE} rules" in body
    more = f'{reverse("policy_rules", args=["shop", "huge"])}?direction=ingress&amp;start={RULES_PAGE}'
    assert f'hx-get="{more}"' in body
    assert 'id="yaml-truncated"' in body  # the YAML tab shows the first lines, not 1.8 MB


def test_show_more_rules_returns_the_next_page(demo_cluster, personas, login_as):
    create(big("huge", 120))
    client = login_as("erin")  # a viewer of shop may read them
    url = reverse("policy_rules", args=["shop", "huge"])
    body = client.get(url, {"direction": "ingress", "start": RULES_PAGE},
                      HTTP_HX_REQUEST="true").content.decode()
    assert rule_numbers(body) == list(range(RULES_PAGE + 1, 2 * RULES_PAGE + 1))
    assert "<html" not in body
    assert f"start={2 * RULES_PAGE}" in body and "Show the next 20 of 20 more rules" in body
    last = client.get(url, {"direction": "ingress", "start": 2 * RULES_PAGE},
                      HTTP_HX_REQUEST="true").content.decode()
    assert rule_numbers(last) == list(range(2 * RULES_PAGE + 1, 121))
    assert "rules-more" not in last
    page = client.get(url, {"direction": "ingress", "start": RULES_PAGE}).content.decode()
    assert "<html" in page and "Ingress rules 51–100 of 120" in page
    assert client.get(url, {"direction": "sideways"}).status_code == 404


def test_rules_of_a_policy_outside_ones_access_are_not_shown(demo_cluster, personas, login_as):
    create(big("huge", 60))
    response = login_as("frank").get(reverse("policy_rules", args=["shop", "huge"]),
                                     {"direction": "ingress"})
    assert response.status_code in (403, 404)


def test_a_small_policy_shows_every_rule_without_a_link(demo_cluster, personas, login_as):
    create(big("small", 3))
    body = login_as("carol").get(reverse("policy_detail", args=["shop", "small"])).content.decode()
    assert rule_numbers(body) == [1, 2, 3]
    assert "rules-more" not in body and "show all" not in body
    assert 'id="yaml-truncated"' not in body


def test_the_review_of_an_edit_folds_unchanged_lines(demo_cluster, personas, login_as):
    create(big("wide", 400))
    policy = live("shop", "wide")
    policy["spec"]["ingress"][200]["ports"][0]["port"] = 9090
    response = login_as("carol").post(reverse("policy_edit", args=["shop", "wide"]), {
        "action": "review", "yaml": as_yaml(policy),
        "base_version": policy["metadata"]["resourceVersion"]})
    body = response.content.decode()
    assert response.status_code == 200, body[:2000]
    assert re.search(r"… [\d,]+ unchanged lines …", body)
    assert body.count('class="diff-gap"') == 2
    assert "9090" in body and "diff-more" not in body


def test_show_more_returns_the_next_rows_of_the_review_diff(demo_cluster, personas, login_as):
    text = as_yaml(big("long", 200))
    client = login_as("carol")
    body = client.post(reverse("policy_create"), {"action": "review", "yaml": text}
                       ).content.decode()
    more = reverse("policy_create_diff")
    assert f'hx-post="{more}"' in body and f'"start": "{DIFF_PAGE_ROWS}"' in body
    response = client.post(more, {"action": "review", "yaml": text, "start": DIFF_PAGE_ROWS},
                           HTTP_HX_REQUEST="true")
    rows = response.content.decode()
    assert response.status_code == 200 and "<html" not in rows
    numbers = [int(n) for n in re.findall(r'border-start" style="width:3rem">(\d+)</td>', rows)]
    assert numbers == list(range(DIFF_PAGE_ROWS + 1, 2 * DIFF_PAGE_ROWS + 1))
    assert f'"start": "{2 * DIFF_PAGE_ROWS}"' in rows


def test_show_more_pages_through_the_diff_that_was_reviewed(demo_cluster, personas, login_as):
    text = as_yaml(big("kept", 200))
    client = login_as("carol")
    assert client.post(reverse("policy_create"), {"action": "review", "yaml": text}
                       ).status_code == 200
    create(big("kept", 200))  # checked again now, the draft would be refused: it exists
    response = client.post(reverse("policy_create_diff"),
                           {"action": "review", "yaml": text, "start": DIFF_PAGE_ROWS},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'"start": "{2 * DIFF_PAGE_ROWS}"' in response.content.decode()
    other = login_as("dave").post(reverse("policy_create_diff"),
                                  {"action": "review", "yaml": text, "start": DIFF_PAGE_ROWS})
    assert other.status_code in (403, 409)  # another user's kept diff is not theirs


def test_show_more_of_the_review_diff_checks_the_draft_again(demo_cluster, personas, login_as):
    foreign = as_yaml(netpol("billing-b", "x", policyTypes=["Ingress"]))
    response = login_as("carol").post(reverse("policy_create_diff"),
                                      {"action": "review", "yaml": foreign, "start": 0})
    assert response.status_code == 409


def test_folding_keeps_context_around_changes():
    rows = [DiffRow("equal", i, "a", i, "a") for i in range(1, 21)]
    rows[10] = DiffRow("change", 11, "b", 11, "c")
    kinds = [r.kind for r in folded(rows, context=3)]
    assert kinds == ["gap"] + ["equal"] * 3 + ["change"] + ["equal"] * 3 + ["gap"]
    assert folded(rows, context=3)[0].left == "7 unchanged lines"
    assert folded(side_by_side("x\n" * 20_000, "x\n" * 20_000 + "y\n"))[0].left == \
        "19,997 unchanged lines"


def test_a_diff_page_counts_what_is_left():
    rows = [DiffRow("insert", None, "", i, "x") for i in range(1, 701)]
    page = diff_page(rows, 600)
    assert (page.start, page.end, page.remaining, len(page.rows)) == (600, 700, 0, 100)
    assert diff_page(rows).next_size == DIFF_PAGE_ROWS


TRICKY = {"a": [[1, 2], [], {}, [{"b": None, "c": True}]], "d": {"e": [], "f": {}},
          "yes": "yes", "time": "10:30", "words": "a b", "empty": "", "float": 1.5,
          "dash": "-x", "hex": "0x1F", "accent": "Ünï", "null": "null", "long": "x" * 200,
          "multi": "one\ntwo", "numbers": "1_000"}


def test_policy_yaml_is_written_as_pyyaml_writes_it():
    import yaml

    from console.policies.text import dump
    from isolation.snapshot import load_snapshot

    demo = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"
    objects = load_snapshot(demo.read_text()).objects() + [big("many", 500), TRICKY]
    for obj in objects:
        assert dump(obj) == yaml.dump(obj, Dumper=yaml.SafeDumper, sort_keys=False,
                                      default_flow_style=False, allow_unicode=True)


# -- the impact's connections, a page at a time ------------------------------------------------

def listed_connections(body: str) -> list[str]:
    return re.findall(r'<li><span class="badge text-bg-(?:danger|success)">\w+</span> (.+?)</li>', body)


def test_the_impact_lists_a_page_of_connections_and_shows_more_on_demand(
        demo_cluster, personas, login_as, monkeypatch):
    from console.policies import draft

    monkeypatch.setattr(draft, "IMPACT_PAGE", 2)
    text = as_yaml(netpol("shop", "deny-everything", policyTypes=["Ingress", "Egress"]))
    client = login_as("carol")
    body = client.post(reverse("policy_create"), {"action": "review", "yaml": text}
                       ).content.decode()
    blocked = int(re.search(r"(\d+) newly blocked", body).group(1))
    assert blocked > 4
    assert body.count('<span class="badge text-bg-danger">Blocked</span>') == 2
    more = reverse("policy_create_impact")
    assert f'hx-post="{more}"' in body and '"which": "blocked", "start": "2"' in body
    listable = int(re.search(r"2 of (\d+) listed", body).group(1))
    assert 4 < listable <= blocked       # alike connections to other projects are merged
    response = client.post(more, {"action": "review", "yaml": text, "which": "blocked",
                                  "start": 2}, HTTP_HX_REQUEST="true")
    rows = response.content.decode()
    assert response.status_code == 200 and "<html" not in rows
    assert rows.count("Blocked</span>") == 2 and '"start": "4"' in rows
    everything = [listed_connections(client.post(more, {
        "action": "review", "yaml": text, "which": "blocked", "start": start},
        HTTP_HX_REQUEST="true").content.decode()) for start in range(0, listable, 2)]
    flat = [c for page in everything for c in page]
    assert len(flat) == listable         # each kept connection listed once
    assert flat[:2] == listed_connections(body)[:2]
    last = client.post(more, {"action": "review", "yaml": text, "which": "blocked",
                              "start": listable - 1}, HTTP_HX_REQUEST="true").content.decode()
    assert "impact-more" not in last     # nothing after the last one


def test_more_of_an_impact_needs_the_users_own_review(demo_cluster, personas, login_as,
                                                      monkeypatch):
    from console.policies import draft

    monkeypatch.setattr(draft, "IMPACT_PAGE", 2)
    text = as_yaml(netpol("shop", "deny-everything", policyTypes=["Ingress", "Egress"]))
    more = reverse("policy_create_impact")
    fresh = login_as("carol").post(more, {"action": "review", "yaml": text, "which": "blocked",
                                          "start": 2})
    assert fresh.status_code == 409 and b"review the draft again" in fresh.content
    login_as("carol").post(reverse("policy_create"), {"action": "review", "yaml": text})
    other = login_as("bob").post(more, {"action": "review", "yaml": text, "which": "blocked",
                                        "start": 2})
    assert other.status_code == 409      # another user's kept impact is not theirs
    wrong = login_as("carol").post(more, {"action": "review", "yaml": text, "which": "nothing",
                                          "start": 2})
    assert wrong.status_code == 409
