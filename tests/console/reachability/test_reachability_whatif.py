"""What if: the reachability a switch or a drafted policy would cause, computed without writing."""

import re

import pytest
from django.urls import reverse

from console.core import cluster

pytestmark = pytest.mark.django_db

DENY_SHOP = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""


def whatif(client, **params):
    return client.get(reverse("reachability_whatif"), params)


def test_turning_a_workspace_switch_on_shows_the_connections_it_cuts(demo_cluster, personas,
                                                                    login_as):
    response = whatif(login_as("alice"), change="workspace", workspace="team-b", isolation="on")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Turn workspace isolation on for team-b" in body
    # 20 from other pods, and the outside clients the engine samples
    assert int(re.search(r"▼ (\d+) newly blocked", body).group(1)) >= 20
    assert "Blocks monitoring scrapes" in body
    assert "not in step with its intent" in body
    assert "shop/cart-be171b259-x7k2p → web/blog-dd31d0bdc-x7k2p on 2368/TCP" in body


def test_a_project_admin_sees_another_tenants_pods_only_as_other_projects(demo_cluster, personas,
                                                                         login_as):
    body = whatif(login_as("carol"), change="project", project="shop", isolation="on"
                  ).content.decode()
    assert "Turn project isolation on for shop" in body
    assert "a pod in another project → shop/cart-be171b259-x7k2p on 9000/TCP" in body
    assert "other projects" in body
    for foreign in ("web/", "reporting/", "billing/", "catalog/", "prometheus", "blog"):
        assert foreign not in body


def test_a_preview_writes_nothing(demo_cluster, personas, login_as):
    whatif(login_as("alice"), change="project", project="shop", isolation="on")
    namespace = cluster.gateway().get_object("Namespace", "shop")
    assert "kubesphere.io/network-isolate" not in (namespace["metadata"].get("annotations") or {})
    assert not cluster.gateway().list_objects("NetworkPolicy", "shop")


def test_a_drafted_policy_is_previewed_from_its_yaml(demo_cluster, personas, login_as):
    response = login_as("carol").post(reverse("reachability_whatif"),
                                      {"change": "policy", "yaml": DENY_SHOP})
    body = response.content.decode()
    assert response.status_code == 200
    assert "▲ 0 newly allowed" in body
    assert "shop/cart-be171b259-x7k2p → shop/storefront-cf1fcd5cf-m4q9w on 8080/TCP" in body


def test_deleting_policies_is_previewed(demo_cluster, personas, login_as):
    client = login_as("alice")
    alone = client.post(reverse("reachability_whatif"),
                        {"change": "policy", "remove": "reporting/default-deny"}).content.decode()
    # allow-dns-egress still isolates reporting's egress, so nothing changes yet
    assert "No change in reachability" in alone
    body = client.post(reverse("reachability_whatif"), {
        "change": "policy", "remove": "reporting/default-deny, reporting/allow-dns-egress",
    }).content.decode()
    assert "▼ 0 newly blocked" in body
    assert "reporting/dashboard-f0f02792e-x7k2p → shop/cart-be171b259-x7k2p on 9000/TCP" in body


@pytest.mark.parametrize(("person", "data", "message"), [
    ("alice", {"yaml": "kind: NetworkPolicy\nmetadata: {name: x}\nspec:\n  podSelector: 5\n"},
     "Line 4: "),
    ("alice", {"yaml": "a: [\n"}, "Line "),
    ("alice", {"yaml": "kind: Pod\nmetadata: {name: x}\n"}, "is not a NetworkPolicy"),
    ("carol", {"yaml": DENY_SHOP.replace("namespace: shop", "namespace: web")},
     "namespace web is not one of your projects"),
    ("carol", {"remove": "reporting/default-deny"}, "no NetworkPolicy reporting/default-deny in "
                                                   "your projects"),
    ("alice", {"remove": "nonsense"}, "is not namespace/name"),
    ("alice", {}, "Paste the NetworkPolicy YAML"),
])
def test_a_bad_draft_is_refused_with_its_reason(demo_cluster, personas, login_as, person, data,
                                                message):
    response = login_as(person).post(reverse("reachability_whatif"), {"change": "policy", **data})
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize(("person", "params", "message"), [
    ("frank", dict(change="workspace", workspace="team-a"), "no workspace team-a among yours"),
    ("carol", dict(change="project", project="web"), "no project web among yours"),
    ("alice", dict(change="project", project="kube-system"), "belongs to no workspace"),
    ("alice", dict(change="both"), "Choose what to try"),
])
def test_a_switch_outside_the_scope_is_refused(demo_cluster, personas, login_as, person, params,
                                               message):
    response = whatif(login_as(person), **params)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.fixture
def slow(monkeypatch):
    """Every preview is expected to take longer than the page may wait."""
    from console.reachability import whatif as reachability_whatif

    monkeypatch.setattr(reachability_whatif, "INLINE_SECONDS", -1.0)


def test_a_slow_preview_runs_as_a_job_the_page_polls(demo_cluster, personas, login_as, slow,
                                                     django_capture_on_commit_callbacks):
    from console.core.models import Job

    client = login_as("bob")
    with django_capture_on_commit_callbacks(execute=True):
        page = whatif(client, change="project", project="shop", isolation="on").content.decode()
    job = Job.objects.get(kind="reachability-what-if")
    assert f'hx-get="/reachability/what-if/{job.pk}/"' in page
    assert job.status == "succeeded", job.error
    polled = client.get(reverse("reachability_whatif_job", args=[job.pk]),
                        HTTP_HX_REQUEST="true")
    assert polled.status_code == 286
    assert "Turn project isolation on for shop" in polled.content.decode()
    assert login_as("frank").get(reverse("reachability_whatif_job", args=[job.pk])
                                 ).status_code == 404


def test_a_change_outside_the_scope_is_refused_before_any_job(demo_cluster, personas, login_as,
                                                              slow):
    from console.core.models import Job

    response = whatif(login_as("frank"), change="workspace", workspace="team-a")
    assert response.status_code == 400
    assert not Job.objects.exists()
