"""Reverting a history entry: the before state put back as a job and a new entry, conflicts shown
and never overwritten."""

import copy
import re

import pytest
from django.urls import reverse

from cluster.errors import NotFoundError
from console.core import cluster
from console.core.audit import clean, record_change
from console.core.models import Change, Job

pytestmark = pytest.mark.django_db

NEW_POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "deny-all", "namespace": "shop"},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


@pytest.fixture
def gw(demo_cluster):
    return cluster.gateway()


def created_policy_change(gw, author) -> Change:
    written = gw.create(copy.deepcopy(NEW_POLICY))
    return record_change(kind="policy-apply", target="shop/deny-all", summary="Created deny-all",
                         author=author, workspace="team-a", project="shop", before=[],
                         after=[written])


def edited_policy_change(gw, author) -> Change:
    live = gw.get_object("NetworkPolicy", "allow-prometheus-scrape", "reporting")
    edited = copy.deepcopy(live)
    edited["spec"]["ingress"] = []
    written = gw.replace(edited)
    return record_change(kind="policy-apply", target="reporting/allow-prometheus-scrape",
                         summary="Edited", author=author, workspace="team-b",
                         project="reporting", before=[live], after=[written])


def revert(client, change, capture):
    with capture(execute=True):
        return client.post(reverse("history_revert", args=[change.pk]))


def test_reverting_a_created_policy_deletes_it_and_records_the_revert(
        gw, personas, login_as, django_capture_on_commit_callbacks):
    change = created_policy_change(gw, personas["carol"])
    client = login_as("carol")
    preview = client.get(reverse("history_revert", args=[change.pk])).content.decode()
    assert "NetworkPolicy shop/deny-all, which the change created, is deleted" in preview
    assert '<td class="left">  name: deny-all</td>' in preview
    assert int(re.search(r"▲ (\d+) newly allowed", preview).group(1)) >= 42   # 7×6 in-cluster
    assert ('a pod in another project → shop/cart-be171b259-x7k2p on 9000/TCP '
            '<span class="text-body-secondary">(× 12)</span>') in preview
    response = revert(client, change, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    with pytest.raises(NotFoundError):
        gw.get_object("NetworkPolicy", "deny-all", "shop")
    job = Job.objects.get(kind="revert-change")
    assert job.status == "succeeded", job.error
    record = Change.objects.get(reverts=change)
    assert record.kind == "revert" and record.author.username == "carol"
    assert record.project == "shop" and record.job == job
    assert [o["metadata"]["name"] for o in record.before_objects] == ["deny-all"]
    assert record.after_objects == []
    assert record.reachability_delta["allowed"] > 0
    assert f"Recorded as change #{record.pk}" in job.message


def test_reverting_an_edit_puts_the_old_spec_back(gw, personas, login_as,
                                                  django_capture_on_commit_callbacks):
    change = edited_policy_change(gw, personas["frank"])
    revert(login_as("frank"), change, django_capture_on_commit_callbacks)
    live = gw.get_object("NetworkPolicy", "allow-prometheus-scrape", "reporting")
    assert live["spec"]["ingress"] == change.before_objects[0]["spec"]["ingress"] != []
    assert Change.objects.get(reverts=change).after_objects[0]["spec"] == live["spec"]


def test_reverting_a_deletion_creates_the_policy_again(gw, personas, login_as,
                                                       django_capture_on_commit_callbacks):
    live = gw.get_object("NetworkPolicy", "allow-dns-egress", "reporting")
    gw.delete("NetworkPolicy", "allow-dns-egress", namespace="reporting")
    change = record_change(kind="policy-delete", target="reporting/allow-dns-egress",
                           summary="Deleted", author=personas["frank"], workspace="team-b",
                           project="reporting", before=[live], after=[])
    revert(login_as("frank"), change, django_capture_on_commit_callbacks)
    assert gw.get_object("NetworkPolicy", "allow-dns-egress", "reporting")["spec"] == live["spec"]


def test_an_object_changed_since_is_a_conflict_and_is_not_overwritten(
        gw, personas, login_as, django_capture_on_commit_callbacks):
    change = edited_policy_change(gw, personas["frank"])
    live = gw.get_object("NetworkPolicy", "allow-prometheus-scrape", "reporting")
    live["metadata"].setdefault("labels", {})["team"] = "b"
    gw.replace(live)
    client = login_as("frank")
    page = client.get(reverse("history_revert", args=[change.pk])).content.decode()
    assert "changed since this change (labels)" in page
    assert "changed since the change and is left as it is" in page
    assert '<td class="right">    team: b</td>' in page
    assert "is already as it was before" not in page
    assert f"Revert change #{change.pk}</button>" not in page
    response = revert(client, change, django_capture_on_commit_callbacks)
    assert response.status_code == 409
    assert not Job.objects.filter(kind="revert-change").exists()
    after = gw.get_object("NetworkPolicy", "allow-prometheus-scrape", "reporting")
    assert after["metadata"]["labels"]["team"] == "b" and after["spec"]["ingress"] == []


def test_a_conflict_arising_after_the_preview_fails_the_job_without_writing(
        gw, personas, login_as, django_capture_on_commit_callbacks):
    from console.history.revert import start_revert

    first = created_policy_change(gw, personas["carol"])
    live = gw.get_object("NetworkPolicy", "deny-all", "shop")
    live["spec"]["policyTypes"] = ["Ingress", "Egress"]
    gw.replace(live)
    with django_capture_on_commit_callbacks(execute=True):
        job = start_revert(personas["carol"], first)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "nothing was written" in job.error and "changed since this change (spec)" in job.error
    assert not Change.objects.filter(reverts=first).exists()
    assert gw.get_object("NetworkPolicy", "deny-all", "shop")["spec"]["policyTypes"] == [
        "Ingress", "Egress"]


def test_a_revert_never_deletes_a_namespace(gw, personas, login_as):
    namespace = gw.create({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": "scratch"}})
    change = record_change(kind="project-create", target="scratch", summary="Created",
                           author=personas["alice"], before=[], after=[namespace])
    page = login_as("alice").get(reverse("history_revert", args=[change.pk])).content.decode()
    assert "Reverting would delete Namespace scratch" in page
    assert login_as("alice").post(reverse("history_revert", args=[change.pk])).status_code == 409
    assert gw.get_object("Namespace", "scratch")


def test_a_revert_already_done_has_nothing_to_write(gw, personas, login_as):
    change = edited_policy_change(gw, personas["frank"])
    live = gw.get_object("NetworkPolicy", "allow-prometheus-scrape", "reporting")
    live["spec"] = change.before_objects[0]["spec"]
    gw.replace(live)
    page = login_as("frank").get(reverse("history_revert", args=[change.pk])).content.decode()
    assert "Nothing to revert" in page
    assert "is already as it was before" in page


@pytest.mark.parametrize(("person", "status"), [("erin", 403), ("dave", 403), ("frank", 404),
                                                ("bob", 200)])
def test_only_editors_of_the_scope_may_revert(gw, personas, login_as, person, status):
    change = created_policy_change(gw, personas["carol"])
    client = login_as(person)
    assert client.get(reverse("history_revert", args=[change.pk])).status_code == status
    if status != 200:
        assert client.post(reverse("history_revert", args=[change.pk])).status_code == status
        assert gw.get_object("NetworkPolicy", "deny-all", "shop")


def test_a_failed_change_cannot_be_reverted(gw, personas, login_as):
    change = record_change(kind="policy-apply", target="shop/x", summary="failed",
                           author=personas["carol"], project="shop", status="failed",
                           after=[clean(NEW_POLICY)])
    assert "Only a change that succeeded" in login_as("carol").get(
        reverse("history_revert", args=[change.pk])).content.decode()


def test_reverting_a_project_switch_puts_the_intent_and_its_policies_back(
        gw, personas, login_as, django_capture_on_commit_callbacks):
    from console.tenancy import services

    with django_capture_on_commit_callbacks(execute=True):
        services.start_project_isolation(personas["carol"], "shop", True)
    switch = Change.objects.get(project="shop", reverts__isnull=True)
    assert gw.list_objects("NetworkPolicy", "shop"), "the switch generated the isolation policy"
    response = revert(login_as("carol"), switch, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    job = Job.objects.get(kind="revert-change")
    assert job.status == "succeeded", job.error
    annotations = gw.get_object("Namespace", "shop")["metadata"].get("annotations") or {}
    assert "kubesphere.io/network-isolate" not in annotations
    # team-a is isolated as a workspace, so shop falls back to admitting its whole workspace
    [policy] = gw.list_objects("NetworkPolicy", "shop")
    peers = policy["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubesphere.io/workspace": "team-a"}}} in peers
    record = Change.objects.get(reverts=switch)
    assert "kubernetes.io/metadata.name: shop" in record.generated_before_yaml
    assert "kubesphere.io/workspace: team-a" in record.generated_after_yaml


@pytest.mark.parametrize("person", ["carol", "bob", "frank"])
def test_only_a_platform_admin_may_revert_a_project_move(gw, personas, login_as, person,
                                                         django_capture_on_commit_callbacks):
    from console.tenancy import services
    with django_capture_on_commit_callbacks(execute=True):
        services.start_move_project(personas["alice"], "shop", "team-b")
    move = Change.objects.get(project="shop", reverts__isnull=True)
    client = login_as(person)
    assert client.get(reverse("history_revert", args=[move.pk])).status_code in (403, 404)
    assert client.post(reverse("history_revert", args=[move.pk])).status_code in (403, 404)
    labels = gw.get_object("Namespace", "shop")["metadata"]["labels"]
    assert labels["kubesphere.io/workspace"] == "team-b"
    assert login_as("alice").get(reverse("history_revert", args=[move.pk])).status_code == 200
