"""A review keeps what it read for the next one (the draft's text, the cluster at its
versions), and never what the cluster answers: a change to the cluster between two reviews of
the same draft shows in the second, as it would in a fresh process."""

import pytest
from django.urls import reverse

from console.policies.draft import forget
from tests.console.policies.support import create, netpol

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


def review(client, text):
    response = client.post(reverse("policy_create"), {"yaml": text, "action": "review"})
    return response.context["review"]


def seen(result):
    """What the user reads of a review."""
    impact = result.impact
    return (result.checks, [(d.line, d.message) for d in result.diagnostics],
            impact.allowed, impact.blocked, impact.newly_blocked[:50], impact.warnings,
            [v.name for v in result.guardrails.violations], result.diff_page.rows)


def test_a_draft_reviewed_again_reads_as_it_did_then_as_a_fresh_process_reads_it(
        demo_cluster, personas, login_as):
    client = login_as("alice")
    first = review(client, NO_EGRESS)
    assert first.ok and first.impact.blocked
    assert seen(review(client, NO_EGRESS)) == seen(first)
    forget()
    assert seen(review(client, NO_EGRESS)) == seen(first)


def test_a_change_to_the_cluster_between_two_reviews_shows_in_the_impact_and_guardrails(
        demo_cluster, personas, login_as):
    client = login_as("alice")
    first = review(client, NO_EGRESS)
    assert first.impact.blocked
    assert "every-project-reaches-dns" in [v.name for v in first.guardrails.violations]
    # Someone else cuts the project's egress first: the draft now blocks nothing new, and
    # the DNS expectation it broke is broken already.
    create(netpol("shop", "cut-first", policyTypes=["Egress"]))
    second = review(client, NO_EGRESS)
    assert second.ok
    assert not second.impact.blocked
    assert "every-project-reaches-dns" not in [v.name for v in second.guardrails.violations]
    forget()
    assert seen(review(client, NO_EGRESS)) == seen(second)


def test_the_same_text_is_checked_by_the_cluster_again(demo_cluster, personas, login_as):
    client = login_as("alice")
    assert review(client, NO_EGRESS).ok
    create(netpol("shop", "no-egress", policyTypes=["Egress"]))
    again = review(client, NO_EGRESS)
    assert not again.ok
    assert again.checks["Server dry-run"] == "failed"
    assert "already exists" in again.errors[0].message


def test_an_edited_draft_is_read_anew(demo_cluster, personas, login_as):
    client = login_as("alice")
    assert review(client, NO_EGRESS).ok
    broken = review(client, NO_EGRESS.replace("policyTypes: [Egress]", "policyTypes: [Outward]"))
    assert not broken.ok
    assert broken.checks["Validation"] == "failed"
    assert any("Outward" in d.message for d in broken.errors)
    assert review(client, NO_EGRESS).ok
