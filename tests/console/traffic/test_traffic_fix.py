"""The advisor's one-click fix: preview, the job that saves the entry, and what it changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import Change, Job, JobStatus

pytestmark = pytest.mark.django_db(transaction=True)

REF = ["service", "billing", "payments-api"]
FIX = reverse("traffic_fix", args=REF)
DETAIL = reverse("traffic_detail", args=REF)


def _entries() -> dict[str, dict]:
    return {e["metadata"]["name"]: e
            for e in cluster.gateway().list_objects("NamespaceNetworkPolicy", "billing")}


def _preview(client) -> dict:
    response = client.get(FIX)
    assert response.status_code == 200
    fix = response.context["fix"]
    return {"digest": fix.digest, "name": fix.name, "client": "203.0.113.9"}


def test_the_preview_shows_the_entry_and_that_it_will_work_through_every_node(demo_cluster,
                                                                            personas, login_as):
    response = login_as("bob").get(FIX)
    fix = response.context["fix"]
    assert fix.spec == {"ingress": [{
        "from": [{"ipBlock": {"cidr": "10.233.64.1/32"}}, {"ipBlock": {"cidr": "10.233.66.1/32"}}],
        "ports": [{"protocol": "TCP", "port": 8443}]}]}
    assert fix.preview.valid
    assert fix.after.status == "every"
    assert "Works when it enters on node-1, node-2 or node-3" in response.content.decode()
    assert not Job.objects.exclude(kind="render-diagram").exists()


def test_adding_the_entry_makes_the_nodeport_work_through_every_node(demo_cluster, personas,
                                                                   login_as):
    client = login_as("bob")
    before = set(_entries())
    posted = _preview(client)
    response = client.post(FIX, posted)
    assert response.status_code == 202
    job = response.context["job"]
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    added = set(_entries()) - before
    assert added == {posted["name"]}
    assert Change.objects.filter(project="billing", job=job).count() == 1
    detail = client.get(DETAIL)
    assert detail.context["result"].status == "every"
    assert not detail.context["advice"].missing
    assert "billing" not in detail.context["ctx"].anticipated  # verified on the cluster's policies


def test_a_fix_posted_for_a_trace_that_changed_is_shown_again_and_writes_nothing(demo_cluster,
                                                                               personas, login_as):
    client = login_as("bob")
    posted = {**_preview(client), "digest": "0" * 64}
    response = client.post(FIX, posted)
    assert response.status_code == 200
    assert response.context["changed"]
    assert "The cluster changed since you looked" in response.content.decode()
    assert posted["name"] not in _entries()
    assert not Job.objects.exclude(kind="render-diagram").exists()


def test_a_fix_never_replaces_an_entry_of_the_same_name(demo_cluster, personas, login_as):
    client = login_as("bob")
    existing = _entries()["policy-from-clients"]["spec"]
    response = client.post(FIX, {**_preview(client), "name": "policy-from-clients"})
    assert response.status_code == 202
    entries = _entries()
    assert entries["policy-from-clients"]["spec"] == existing
    assert len(entries) == 5


def test_nothing_to_add_says_so(demo_cluster, personas, login_as):
    response = login_as("bob").get(reverse("traffic_fix", args=["service", "billing",
                                                                "payments-gateway"]))
    assert "Nothing is missing any more" in response.content.decode()


@pytest.mark.parametrize(("persona", "project", "name"), [
    ("dave", "billing", "payments-api"), ("erin", "shop", "storefront-np")])
def test_viewers_cannot_add_entries(demo_cluster, personas, login_as, persona, project, name):
    client = login_as(persona)
    url = reverse("traffic_fix", args=["service", project, name])
    assert client.get(url).status_code == 403
    assert client.post(url, {"digest": "0" * 64}).status_code == 403


def test_a_project_isolated_by_its_workspace_only_gets_no_entry(demo_cluster, personas, login_as):
    client = login_as("carol")
    url = reverse("traffic_fix", args=["service", "shop", "storefront-np"])
    digest = client.get(reverse("traffic_detail", args=["service", "shop", "storefront-np"])
                        ).context["result"].digest
    response = client.post(url, {"digest": digest})
    assert response.status_code == 200
    assert "isolated by its workspace only" in response.content.decode()
    assert cluster.gateway().list_objects("NamespaceNetworkPolicy", "shop") == []
