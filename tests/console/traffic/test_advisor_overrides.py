"""The advisor warns when a platform policy decides what its fix would allow before the
project's NetworkPolicies: the NodePort `payments-api` of billing needs node-1's and node-3's
tunnel addresses allowlisted; a platform tier that denies the tunnel range to project pods
makes that entry useless, and the advisor and the fix page say so (tenants without the
policy's name)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core import cluster

pytestmark = pytest.mark.django_db(transaction=True)

REF = ["service", "billing", "payments-api"]
DETAIL = reverse("traffic_detail", args=REF)
FIX = reverse("traffic_fix", args=REF)
NAMED = "GlobalNetworkPolicy platform.no-tunnel-sources (tier platform, ingress rule 0, Deny)"


@pytest.fixture
def tunnels_denied(demo_cluster):
    """The demo with a platform rule denying project pods' ingress from the IPIP tunnel range."""
    cluster.gateway().create({
        "apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy",
        "metadata": {"name": "platform.no-tunnel-sources"},
        "spec": {"tier": "platform", "order": 20, "selector": "all()",
                 "namespaceSelector": "has(kubesphere.io/workspace)", "types": ["Ingress"],
                 "ingress": [{"action": "Deny", "source": {"nets": ["10.233.64.0/18"]}},
                             {"action": "Pass"}]}})
    return demo_cluster


def test_the_advisor_names_the_policy_that_overrides_its_fix(tunnels_denied, personas,
                                                            login_as):
    response = login_as("alice").get(DETAIL)
    advice = response.context["advice"]
    assert [entry["cidr"] for entry in advice.entries] == ["10.233.64.1/32", "10.233.66.1/32"]
    assert len(advice.overrides) == 1
    assert advice.overrides[0].startswith(f"This fix is overridden by {NAMED}: ")
    body = response.content.decode()
    assert 'data-overrides="1"' in body
    assert "is denied before the project&#x27;s NetworkPolicies are evaluated" in body


def test_the_fix_page_warns_a_workspace_admin_without_the_policy_name(tunnels_denied, personas,
                                                                      login_as):
    response = login_as("bob").get(FIX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "This fix is overridden by a platform policy: " in body
    assert "no-tunnel-sources" not in body
    assert response.context["fix"].spec["ingress"][0]["ports"] == [{"protocol": "TCP",
                                                                    "port": 8443}]


def test_the_demo_s_fix_is_not_overridden(demo_cluster, personas, login_as):
    """The demo's platform tier only denies the metadata address: the fix works as shown."""
    response = login_as("alice").get(DETAIL)
    assert response.context["advice"].entries
    assert response.context["advice"].overrides == []
    assert "data-overrides" not in response.content.decode()
