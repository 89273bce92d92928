"""What a review keeps, and what it leaves for the next one: the page holds the review without
its objects, the read draft stays as it was read, `forget` drops every kept read."""

import pytest
import yaml
from django.conf import settings
from django.urls import reverse

from console.policies import draft
from console.policies.parsed import PARSED_DRAFTS
from isolation.calico import kubernetes
from isolation.review.rules import PARSED_RULES
from tests.console.policies.support import create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_platform_guardrails")]

WIDE = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: shop
spec:
  podSelector: {{}}
  ingress:
  - from: [{{ipBlock: {{cidr: 10.0.0.0/8}}}}]
    ports: [{{port: 8080}}, {{port: 9000}}]
  - from: [{{namespaceSelector: {{}}}}]
"""


def review(client, text, url=None, **data):
    return client.post(url or reverse("policy_create"), {"yaml": text, "action": "review", **data})


def test_the_page_holds_the_review_without_the_policy_it_read(demo_cluster, personas, login_as):
    response = review(login_as("carol"), WIDE.format(name="wide"))
    shown = response.context["review"]
    assert response.status_code == 200 and shown.ok
    assert (shown.namespace, shown.name) == ("shop", "wide")
    assert "spec" not in shown.draft and "spec" not in shown.stored
    assert shown.diff_page.rows and any("port: 9000" in row.right for row in shown.diff)


def test_a_review_and_its_apply_leave_the_read_draft_as_it_was_read(demo_cluster, personas,
                                                                    login_as):
    create(yaml.safe_load(WIDE.format(name="edited")))
    client = login_as("carol")
    url = reverse("policy_edit", args=["shop", "edited"])
    text = WIDE.format(name="edited").replace("9000", "9001")
    base = client.get(url).context["base_version"]
    response = review(client, text, url, base_version=base)
    assert response.status_code == 200, response.context["review"].diagnostics
    (document,) = PARSED_DRAFTS.documents(draft.normalise(text),
                                          max_bytes=settings.MAX_YAML_BYTES)
    assert document.data == yaml.safe_load(text)
    applied = client.post(url, {"yaml": text, "action": "apply", "base_version": base,
                                "reviewed": response.context["reviewed"]})
    assert applied.status_code == 302
    assert document.data == yaml.safe_load(text)


def test_forget_drops_the_rules_and_conversions_kept(demo_cluster, personas, login_as):
    assert review(login_as("carol"), WIDE.format(name="wide")).status_code == 200
    assert len(PARSED_RULES) > 0
    draft.forget()
    assert len(PARSED_RULES) == 0 and not kubernetes._CONVERSIONS._rules
