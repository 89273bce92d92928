"""The Network Policies pages never name another tenant's projects, workspaces or pods to a
user who cannot see everything: those fold into "Other projects" / "a pod in another project",
and only aggregates are shown. Users who see everything still see every name."""

import pytest
from django.urls import reverse

from console.core.access import Access
from console.core.scope import HIDDEN_POD, Scope, redact_names
from tests.console.policies.support import as_yaml, create, netpol

pytestmark = pytest.mark.django_db

DENY_ALL = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""

# Pod references of namespaces carol (admin of shop only) may not see.
FOREIGN_TO_CAROL = ("web/", "reporting/", "kube-system/", "billing/", "catalog/")
# Project, workspace and pod names of team-a and of namespaces outside every workspace,
# none of which frank (admin of team-b) may see.
FOREIGN_TO_FRANK = ("billing", "shop", "catalog", "team-a", "kube-system", "kubesphere-system")


def page_text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def review(client, text):
    return client.post(reverse("policy_create"), {"yaml": text, "action": "review"})


# -- the reachability tab of a policy --------------------------------------------------------


def test_reach_of_a_foreign_tenants_neighbours_is_folded_into_other_projects(
        demo_cluster, personas, login_as):
    url = reverse("policy_reach", args=["reporting", "default-deny"])
    text = page_text(login_as("frank").get(url))
    for name in FOREIGN_TO_FRANK:
        assert name not in text, name
    assert "Other projects" in text and "data-folded" in text
    assert "reporting" in text and "team-b" in text
    rows = login_as("frank").get(url).context["reach"].inbound
    folded = [row for row in rows if row.folded]
    assert len(folded) == 1 and rows[-1] is folded[0]


def test_reach_names_every_namespace_for_a_platform_admin(demo_cluster, personas, login_as):
    text = page_text(login_as("alice").get(
        reverse("policy_reach", args=["reporting", "default-deny"])))
    assert "billing" in text and "kube-system" in text and "team-a" in text
    assert "data-folded" not in text


def test_a_workspace_admin_sees_its_projects_but_not_the_other_tenants(
        demo_cluster, personas, login_as):
    create(netpol("billing", "deny-all", policyTypes=["Ingress", "Egress"]))
    text = page_text(login_as("bob").get(reverse("policy_reach", args=["billing", "deny-all"])))
    assert "shop" in text and "team-a" in text
    for name in ("reporting", "team-b", "kube-system"):
        assert name not in text, name
    assert "Other projects" in text


# -- the impact of a draft, and of a deletion --------------------------------------------------


def test_a_project_admins_review_names_no_foreign_pod(demo_cluster, personas, login_as):
    response = review(login_as("carol"), DENY_ALL)
    result = response.context["review"]
    assert result.ok, result.diagnostics
    text = page_text(response) if response.status_code == 200 else response.content.decode()
    for ref in FOREIGN_TO_CAROL:
        assert ref not in text, ref
    assert HIDDEN_POD in text and "other projects" in text
    impact = result.impact
    assert impact.blocked > 0 and f"{impact.blocked} newly blocked" in text
    connections = impact.newly_blocked + impact.newly_allowed
    assert all(c["from"].startswith("shop/") or c["to"].startswith("shop/")
               or HIDDEN_POD in (c["from"], c["to"]) for c in connections)
    assert not any(ref in str(w) for w in impact.warnings for ref in FOREIGN_TO_CAROL)
    assert not any(ref in d.message for d in result.diagnostics for ref in FOREIGN_TO_CAROL)


def test_a_workspace_admins_review_names_its_projects_only(demo_cluster, personas, login_as):
    text = page_text(review(login_as("bob"), DENY_ALL))
    assert "catalog/" in text or "billing/" in text
    for ref in ("web/", "reporting/", "kube-system/"):
        assert ref not in text, ref


def test_a_platform_admins_review_names_every_pod(demo_cluster, personas, login_as):
    response = review(login_as("alice"), DENY_ALL)
    text = page_text(response)
    assert "kube-system/coredns" in text and "web/" in text
    assert HIDDEN_POD not in text and response.context["review"].impact.hidden == 0


def test_the_delete_preview_names_no_foreign_pod(demo_cluster, personas, login_as):
    create(netpol("shop", "deny-all", policyTypes=["Ingress", "Egress"]))
    url = reverse("policy_delete", args=["shop", "deny-all"])
    response = login_as("carol").get(url)
    text = page_text(response)
    for ref in FOREIGN_TO_CAROL:
        assert ref not in text, ref
    impact = response.context["impact"]
    assert impact.allowed > 0 and f"{impact.allowed} newly allowed" in text
    assert HIDDEN_POD in text
    everything = page_text(login_as("alice").get(url))
    assert "kube-system/coredns" in everything and HIDDEN_POD not in everything


# -- the detail page, its YAML and the lint messages -------------------------------------------


def test_the_detail_page_and_yaml_of_a_foreign_tenants_policy_name_nothing_of_others(
        demo_cluster, personas, login_as):
    client = login_as("frank")
    text = page_text(client.get(reverse("policy_detail", args=["reporting", "default-deny"])))
    yaml_text = page_text(client.get(reverse("policy_yaml", args=["reporting", "default-deny"])))
    for name in ("billing", "shop", "catalog", "kube-system"):
        assert name not in text and name not in yaml_text, name
    assert client.get(reverse("policy_detail", args=["billing", "policy-from-shop"])
                      ).status_code == 404


def test_lint_messages_name_no_foreign_pod_or_project(demo_cluster, personas, login_as):
    text = as_yaml(netpol("shop", "probe", policyTypes=["Egress"]))
    carol = review(login_as("carol"), text).context["review"]
    alice = review(login_as("alice"), text).context["review"]
    assert [f.code for f in carol.findings] == [f.code for f in alice.findings]
    assert "blocks-dns" in [f.code for f in alice.findings]
    assert any("kube-system/" in f.message for f in alice.findings)
    for finding in carol.findings:
        assert not any(ref in finding.message for ref in FOREIGN_TO_CAROL), finding.message
    assert any(HIDDEN_POD in f.message for f in carol.findings)


@pytest.mark.parametrize(("text", "expected"), [
    ("Blocks DNS egress: shop/a can no longer reach web/dns-1 on UDP 53.",
     f"Blocks DNS egress: shop/a can no longer reach {HIDDEN_POD} on UDP 53."),
    ("no ingress controller pod (web, shop) can reach it. Allow ingress from project web.",
     "no ingress controller pod (another project, shop) can reach it. Allow ingress from "
     "another project."),
    ("Add an egress rule to pods labelled k8s-app=kube-dns in project kube-system.",
     "Add an egress rule to pods labelled k8s-app=kube-dns in project kube-system."),
    ("Pods labelled app=web in shop; pod shop/web-1.",
     "Pods labelled app=web in shop; pod shop/web-1."),
])
def test_redacting_a_message_hides_foreign_pods_and_projects_only(text, expected):
    access = Access("carol", admin_projects=frozenset({"shop"}))
    workspace_of = {"shop": "team-a", "web": "team-b"}
    scope = Scope.of(access, ["shop", "web", "kube-system"], workspace_of, ["team-a", "team-b"])
    assert redact_names(text, scope) == expected
