"""The History list, detail, filters and exports, each within the user's scope."""

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from console.core.audit import record_change
from console.core.models import Change
from console.history.services import side_by_side

pytestmark = pytest.mark.django_db

POLICY_BEFORE = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "allow-web", "namespace": "shop"},
                 "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}}
POLICY_AFTER = {**POLICY_BEFORE, "spec": {"podSelector": {}, "ingress": []}}
DELTA = {"allowed": 0, "blocked": 2,
         "newly_allowed": [],
         "newly_blocked": [{"from": "web/blog-1", "to": "shop/cart-1", "port": 9000,
                            "protocol": "TCP", "allowed": False},
                           {"from": "shop/storefront-1", "to": "shop/cart-1", "port": 9000,
                            "protocol": "TCP", "allowed": False}],
         "pairs": [{"from": "web", "to": "shop", "allowed": 0, "blocked": 1},
                   {"from": "shop", "to": "shop", "allowed": 0, "blocked": 1}],
         "warnings": ["Cuts calls across workspaces that work today: web/blog-1 → shop/cart-1 "
                      "on TCP 9000. Add an allowlist entry if these calls are intended."]}


@pytest.fixture
def changes(personas):
    shop = record_change(kind="policy-apply", target="shop/allow-web", summary="Edited allow-web",
                         author=personas["bob"], workspace="team-a", project="shop",
                         before=[POLICY_BEFORE], after=[POLICY_AFTER])
    Change.objects.filter(pk=shop.pk).update(reachability_delta=DELTA)
    team_b = record_change(kind="workspace-isolation", target="team-b", summary="Isolated team-b",
                           author=personas["frank"], workspace="team-b")
    drift = record_change(kind="reconcile", target="billing", summary="Repaired drift",
                          author_label="drift repair", workspace="team-a", project="billing")
    system = record_change(kind="policy-delete", target="kube-system/x", summary="Deleted x",
                           author=personas["alice"], project="kube-system",
                           before=[{**POLICY_BEFORE, "metadata": {"name": "x",
                                                                  "namespace": "kube-system"}}])
    return {"shop": shop, "team_b": team_b, "drift": drift, "system": system}


def listed(client, **params) -> set[str]:
    body = client.get(reverse("history"), params).content.decode()
    return {target for target in ("shop/allow-web", "team-b", "billing", "kube-system/x")
            if f"<td>{target}</td>" in body}


@pytest.mark.parametrize(("person", "visible"), [
    ("alice", {"shop/allow-web", "team-b", "billing", "kube-system/x"}),
    ("dave", {"shop/allow-web", "team-b", "billing", "kube-system/x"}),
    ("bob", {"shop/allow-web", "billing"}),
    ("carol", {"shop/allow-web"}),
    ("erin", {"shop/allow-web"}),
    ("frank", {"team-b"}),
])
def test_each_role_lists_only_the_changes_of_its_scope(demo_cluster, changes, login_as, person,
                                                       visible):
    assert listed(login_as(person)) == visible


@pytest.mark.parametrize(("params", "visible"), [
    (dict(author="bob"), {"shop/allow-web"}),
    (dict(author="drift repair"), {"billing"}),
    (dict(kind="policy-delete"), {"kube-system/x"}),
    (dict(project="shop"), {"shop/allow-web"}),
    (dict(workspace="team-a"), {"shop/allow-web", "billing"}),
    (dict(workspace="team-a", author="alice"), set()),
])
def test_filters_narrow_the_list(demo_cluster, changes, login_as, params, visible):
    assert listed(login_as("alice"), **params) == visible


def test_the_list_shows_the_reachability_delta_and_offers_only_present_values(demo_cluster,
                                                                            changes, login_as):
    body = login_as("bob").get(reverse("history")).content.decode()
    assert "▼ 2" in body
    assert '<option>drift repair</option>' in body and '<option>frank</option>' not in body
    assert "Check the cluster connection" in body and "Recent jobs" in body


def test_a_filter_with_no_match_says_so(demo_cluster, changes, login_as):
    body = login_as("alice").get(reverse("history"), {"author": "nobody"}).content.decode()
    assert "No change matches these filters" in body


def test_the_detail_shows_a_side_by_side_yaml_diff(demo_cluster, changes, login_as):
    body = login_as("bob").get(reverse("history_detail", args=[changes["shop"].pk])
                               ).content.decode()
    assert f"Change #{changes['shop'].pk}: policy-apply shop/allow-web" in body
    assert '<td class="left">  ingress:</td>' in body
    assert '<td class="right">  ingress: []</td>' in body
    assert "Revert…" in body


def test_the_detail_hides_another_tenants_pods_from_a_project_admin(demo_cluster, changes,
                                                                    login_as):
    body = login_as("carol").get(reverse("history_detail", args=[changes["shop"].pk])
                                 ).content.decode()
    assert "a pod in another project → shop/cart-1 on 9000/TCP" in body
    assert "shop/storefront-1 → shop/cart-1" in body
    assert "web" not in body.split('id="impact"')[1].split("</section>")[0]


@pytest.mark.parametrize(("person", "change", "status"), [
    ("carol", "team_b", 404), ("frank", "shop", 404), ("erin", "drift", 404),
    ("dave", "system", 200), ("bob", "system", 404),
])
def test_a_change_outside_the_scope_is_not_found(demo_cluster, changes, login_as, person, change,
                                                 status):
    client = login_as(person)
    pk = changes[change].pk
    assert client.get(reverse("history_detail", args=[pk])).status_code == status
    assert client.get(reverse("history_objects", args=[pk])).status_code == status


def test_only_editors_are_offered_the_revert(demo_cluster, changes, login_as):
    url = reverse("history_detail", args=[changes["shop"].pk])
    assert "Revert…" not in login_as("erin").get(url).content.decode()
    assert "Revert…" not in login_as("dave").get(url).content.decode()
    assert "Revert…" in login_as("carol").get(url).content.decode()


def test_the_export_is_json_of_the_visible_filtered_changes(demo_cluster, changes, login_as):
    response = login_as("carol").get(reverse("history_export"))
    assert response["Content-Disposition"].startswith('attachment; filename="history-')
    exported = json.loads(response.content)["changes"]
    assert [c["target"] for c in exported] == ["shop/allow-web"]
    record = exported[0]
    assert record["author"] == "bob" and record["after_objects"] == [POLICY_AFTER]
    assert record["reachability_delta"]["newly_blocked"][0]["from"] == "a pod in another project"
    assert "web/" not in response.content.decode()
    alice = json.loads(login_as("alice").get(reverse("history_export"), {"kind": "reconcile"}
                                             ).content)["changes"]
    assert [c["author"] for c in alice] == ["drift repair"]


def test_the_resulting_objects_download_as_yaml_for_kubectl_apply(demo_cluster, changes,
                                                                  login_as):
    client = login_as("alice")
    edited = client.get(reverse("history_objects", args=[changes["shop"].pk]))
    text = edited.content.decode()
    assert edited["Content-Type"].startswith("application/yaml")
    assert text.startswith(f"# Objects resulting from change #{changes['shop'].pk}")
    assert "kind: NetworkPolicy" in text and "ingress: []" in text
    deleted = client.get(reverse("history_objects", args=[changes["system"].pk])).content.decode()
    assert "# deleted by this change: kubectl delete networkpolicy x -n kube-system" in deleted
    assert "kind: NetworkPolicy" not in deleted


def test_generated_policies_are_exported_on_request(demo_cluster, personas, login_as):
    change = record_change(kind="project-isolation", target="shop", summary="on", project="shop",
                           author=personas["alice"], workspace="team-a",
                           generated_after=[{**POLICY_AFTER, "metadata": {
                               "name": "nsnp-network-isolate", "namespace": "shop"}}])
    url = reverse("history_objects", args=[change.pk])
    assert "nsnp-network-isolate" not in login_as("alice").get(url).content.decode()
    assert "nsnp-network-isolate" in login_as("alice").get(url, {"generated": "1"}
                                                         ).content.decode()


def test_an_author_removed_since_is_named_unknown(demo_cluster, changes, login_as):
    User.objects.filter(username="bob").delete()
    body = login_as("alice").get(reverse("history"), {"project": "shop"}).content.decode()
    assert "unknown" in body


@pytest.mark.parametrize(("before", "after", "kinds"), [
    ("a\nb\nc\n", "a\nB\nc\n", ["equal", "changed", "equal"]),
    ("a\nb\n", "a\nb\nc\n", ["equal", "equal", "added"]),
    ("a\nb\nc\n", "a\nc\n", ["equal", "removed", "equal"]),
    ("", "x\n", ["added"]),
])
def test_a_side_by_side_diff_pairs_lines(before, after, kinds):
    assert [row.kind for row in side_by_side(before, after)] == kinds


def test_long_unchanged_runs_are_folded_around_the_changes():
    before = "\n".join(f"line {i}" for i in range(20))
    after = before.replace("line 10", "line ten")
    rows = side_by_side(before, after, context=2)
    assert [r.kind for r in rows] == ["gap", "equal", "equal", "changed", "equal", "equal", "gap"]
    assert rows[0].left == "8 unchanged lines" and rows[-1].left == "7 unchanged lines"
    assert (rows[3].left_number, rows[3].left, rows[3].right) == (11, "line 10", "line ten")


def test_filtering_with_htmx_returns_only_the_changes(demo_cluster, changes, login_as):
    response = login_as("alice").get(reverse("history"), {"kind": "reconcile"},
                                     HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="changes">')
    assert "<td>billing</td>" in body and "<td>team-b</td>" not in body
