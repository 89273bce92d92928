"""Guardrails in the policy editor and on delete: a change that breaks a connectivity
expectation shows it at the top of the review with the deciding rule; one that breaks a
platform expectation is applied only by a platform admin giving a reason, recorded in the
History; the refusal writes nothing."""

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import Change, Job
from tests.console.policies.support import exists, netpol

pytestmark = pytest.mark.django_db

NO_EGRESS = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: no-egress
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Egress]
"""
# The draft fixed: DNS, and the ledger the project promised itself to reach.
WITH_DNS = NO_EGRESS.replace("name: no-egress", "name: only-dns") + """  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: billing}}
      podSelector: {matchLabels: {app: ledger}}
    ports: [{port: 5432, protocol: TCP}]
"""


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    def post(client, url, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **extra)
    return post


def review(client, text):
    return client.post(reverse("policy_create"), {"yaml": text, "action": "review"})


def apply(client, run_jobs, reviewed, **extra):
    return run_jobs(client, reverse("policy_create"), {
        "yaml": reviewed.context["text"], "action": "apply",
        "reviewed": reviewed.context["reviewed"], **extra})


def test_the_review_shows_the_broken_platform_guardrail_and_a_project_admin_cannot_apply(
        demo_cluster, personas, login_as, run_jobs):
    client = login_as("carol")
    reviewed = review(client, NO_EGRESS)
    assert reviewed.status_code == 200
    page = reviewed.content.decode()
    assert 'data-broken-guardrail="every-project-reaches-dns"' in page
    assert "only a platform admin can apply it" in page
    violation = reviewed.context["review"].guardrails.violations[0]
    assert violation.platform and "shop/no-egress" in " ".join(c["reason"] for c in violation.violations)

    refused = apply(client, run_jobs, reviewed, override_reason="we know")
    assert refused.status_code == 409
    assert "Not applied" in refused.content.decode()
    assert not exists("shop", "no-egress")
    assert not Job.objects.filter(kind="apply-policy").exists()


def test_a_platform_admin_applies_it_only_with_a_reason_recorded_in_the_history(
        demo_cluster, personas, login_as, run_jobs):
    client = login_as("alice")
    reviewed = review(client, NO_EGRESS)
    assert 'name="override_reason"' in reviewed.content.decode()
    without = apply(client, run_jobs, reviewed)
    assert without.status_code == 409 and not exists("shop", "no-egress")

    done = apply(client, run_jobs, reviewed, override_reason="DNS moves to a node-local cache")
    assert done.status_code == 302
    assert exists("shop", "no-egress")
    override = Change.objects.get(kind="guardrail-override")
    assert "every-project-reaches-dns" in override.summary
    assert "DNS moves to a node-local cache" in override.summary
    assert override.author.username == "alice" and override.project == "shop"


def test_the_fixed_draft_breaks_nothing_and_is_applied_by_the_project_admin(
        demo_cluster, personas, login_as, run_jobs):
    client = login_as("carol")
    reviewed = review(client, WITH_DNS)
    assert reviewed.context["review"].guardrails is not None
    assert not reviewed.context["review"].guardrails.breaks
    assert "data-broken-guardrail" not in reviewed.content.decode()
    assert apply(client, run_jobs, reviewed).status_code == 302
    assert exists("shop", "only-dns")
    assert not Change.objects.filter(kind="guardrail-override").exists()


@pytest.fixture
def shop_closed_to_team_b(demo_cluster):
    """A platform promise that web (team-b) never reaches shop, kept by a policy of shop."""
    gateway = cluster.gateway()
    gateway.create(netpol("shop", "closed", podSelector={}, policyTypes=["Ingress"],
                          ingress=[{"from": [{"namespaceSelector": {"matchLabels": {
                              "kubesphere.io/workspace": "team-a"}}}]}]))
    gateway.create({"apiVersion": "isolation.tenant-console.io/v1alpha1",
                    "kind": "ClusterConnectivityExpectation",
                    "metadata": {"name": "web-never-reaches-shop"},
                    "spec": {"from": {"namespace": "web"}, "to": {"namespace": "shop"},
                             "expect": "Denied"}})
    return demo_cluster


def test_deleting_the_policy_that_keeps_a_platform_promise_needs_the_override(
        shop_closed_to_team_b, personas, login_as, run_jobs):
    url = reverse("policy_delete", args=["shop", "closed"])
    carol = login_as("carol")
    page = carol.get(url)
    assert 'data-broken-guardrail="web-never-reaches-shop"' in page.content.decode()
    version = page.context["version"]
    refused = run_jobs(carol, url, {"resource_version": version, "override_reason": "no"})
    assert refused.status_code == 409 and exists("shop", "closed")

    alice = login_as("alice")
    done = run_jobs(alice, url, {"resource_version": version,
                                 "override_reason": "web now reads the shop API"})
    assert done.status_code == 302
    assert not exists("shop", "closed")
    assert "web now reads the shop API" in Change.objects.get(
        kind="guardrail-override").summary


def test_a_broken_project_guardrail_warns_but_does_not_block(demo_cluster, personas, login_as,
                                                             run_jobs):
    only_dns = WITH_DNS.split("  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: billing}}")[0]
    client = login_as("carol")
    reviewed = review(client, only_dns)
    page = reviewed.content.decode()
    assert 'data-broken-guardrail="shop/shop-reaches-ledger"' in page
    assert "Project guardrails do not block the change" in page
    assert apply(client, run_jobs, reviewed).status_code == 302
    assert exists("shop", "only-dns")
