"""What if refuses every draft the policy editor refuses, with the editor's words (issue 13,
item 6): both go through the schema check with unknown-field detection
(isolation.netpol.validation.unknown_fields), the API server's rules
(validate_network_policy) and the safe YAML reader (isolation.yamlio)."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

GOOD = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: try-it
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
MISSPELT = GOOD.replace("  podSelector: {}\n", "  podSelectr:\n    matchLabels: {app: cart}\n")
BAD_CIDR = GOOD + "  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.300/8\n"
DUPLICATE_KEY = GOOD.replace("  name: try-it\n", "  name: try-it\n  name: again\n")
BAD_TAG = GOOD.replace("  name: try-it\n", "  name: try-it\n  generation: !!int abc\n")


def editor_message(client, text: str) -> tuple[int, str]:
    """The line and message the policy editor gives for `text` (its first error)."""
    response = client.post(reverse("policy_create"), {"yaml": text, "action": "review"})
    assert response.status_code == 400
    first = response.context["review"].errors[0]
    return first.line, first.message


def what_if(client, text: str):
    return client.post(reverse("reachability_whatif"), {"change": "policy", "yaml": text})


@pytest.mark.parametrize("text", [MISSPELT, BAD_CIDR, DUPLICATE_KEY, BAD_TAG],
                         ids=["unknown-field", "bad-cidr", "duplicate-key", "bad-tag"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_what_if_refuses_what_the_editor_refuses_in_its_words(demo_cluster, personas, login_as,
                                                              text, htmx):
    client = login_as("alice")
    line, message = editor_message(client, text)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(reverse("reachability_whatif"), {"change": "policy", "yaml": text},
                           **headers)
    body = response.content.decode()
    assert response.status_code == (200 if htmx else 400)
    assert "No change in reachability" not in body
    assert f"Line {line}: {html.escape(message)}" in body
    assert 'class="form-control form-control-sm font-monospace is-invalid" id="w-yaml"' in body


def test_a_misspelt_field_is_named_at_its_key(demo_cluster, personas, login_as):
    response = what_if(login_as("alice"), MISSPELT)
    body = response.content.decode()
    assert response.status_code == 400
    assert ('Line 7: Unknown field &quot;spec.podSelectr&quot;: it is not part of the '
            "NetworkPolicy schema") in body


def test_a_draft_without_api_version_is_refused_as_by_the_editor(demo_cluster, personas, login_as):
    text = GOOD.replace("apiVersion: networking.k8s.io/v1\n", "")
    response = what_if(login_as("alice"), text)
    assert response.status_code == 400
    assert "apiVersion is missing: a NetworkPolicy is apiVersion: networking.k8s.io/v1." in \
        response.content.decode()


def test_the_document_is_named_when_there_are_several(demo_cluster, personas, login_as):
    response = what_if(login_as("alice"), GOOD + "---\n" + MISSPELT)
    assert response.status_code == 400
    assert "Document 2: Unknown field &quot;spec.podSelectr&quot;" in response.content.decode()


def test_a_valid_draft_is_still_previewed(demo_cluster, personas, login_as):
    response = what_if(login_as("alice"), GOOD)
    assert response.status_code == 200
    assert "is-invalid" not in response.content.decode()
