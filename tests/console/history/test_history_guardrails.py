"""Reverting a change is checked against the connectivity expectations like any change: the
revert preview shows what it breaks, and a platform guardrail needs a platform admin's
override with a reason, recorded in the History."""

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import Change
from tests.console.policies.support import exists

pytestmark = pytest.mark.django_db

CLOSED = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: closed
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubesphere.io/workspace: team-a}}
"""


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    def post(client, url, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **extra)
    return post


@pytest.fixture
def closing_change(no_platform_guardrails, demo_cluster, personas, login_as, run_jobs):
    """carol closes shop to team-b through the editor; then the platform promises it."""
    client = login_as("carol")
    reviewed = client.post(reverse("policy_create"), {"yaml": CLOSED, "action": "review"})
    assert reviewed.status_code == 200
    applied = run_jobs(client, reverse("policy_create"), {
        "yaml": CLOSED, "action": "apply", "reviewed": reviewed.context["reviewed"]})
    assert applied.status_code == 302 and exists("shop", "closed")
    cluster.gateway().create({
        "apiVersion": "isolation.tenant-console.io/v1alpha1",
        "kind": "ClusterConnectivityExpectation", "metadata": {"name": "web-never-reaches-shop"},
        "spec": {"from": {"namespace": "web"}, "to": {"namespace": "shop"}, "expect": "Denied"}})
    return Change.objects.exclude(kind="guardrail-override").get(target="shop/closed")


def test_the_revert_preview_shows_the_broken_guardrail_and_refuses_without_an_override(
        closing_change, login_as, run_jobs):
    url = reverse("history_revert", args=[closing_change.pk])
    alice = login_as("alice")
    page = alice.get(url)
    assert page.status_code == 200
    assert 'data-broken-guardrail="web-never-reaches-shop"' in page.content.decode()
    assert 'form="revert-form"' in page.content.decode()
    refused = run_jobs(alice, url, {})
    assert refused.status_code == 409
    assert "Not reverted" in refused.content.decode()
    assert exists("shop", "closed")


def test_a_platform_admin_reverts_with_a_reason_recorded(closing_change, login_as, run_jobs):
    url = reverse("history_revert", args=[closing_change.pk])
    done = run_jobs(login_as("alice"), url, {"override_reason": "web moves into team-a"})
    assert done.status_code == 202
    assert not exists("shop", "closed")
    override = Change.objects.get(kind="guardrail-override")
    assert "web moves into team-a" in override.summary
    assert override.target == f"revert of change #{closing_change.pk}"
