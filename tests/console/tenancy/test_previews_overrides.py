"""Allowlist entries that a platform policy overrides say so, in the entry's preview and on the
project page: the demo's Calico tier `platform` denies every project's egress to the cloud
metadata address before any project policy, so an entry allowing it changes nothing. Tenants
read "a platform policy" instead of the policy's name."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.scope import Scope
from console.tenancy.previews import override_warnings
from isolation.reachability.layers import PolicyRef
from isolation.review.overrides import Override

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NAMED = "GlobalNetworkPolicy platform.deny-cloud-metadata (tier platform, egress rule 0, Deny)"
METADATA_ENTRY = {"egress": [{"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}],
                              "ports": [{"port": 80, "protocol": "TCP"}]}]}


def external_preview(cidr, port="80"):
    return {"action": "preview", "direction": "egress", "cidr": cidr, "except_cidrs": "",
            "ports-TOTAL_FORMS": "1", "ports-INITIAL_FORMS": "0",
            "ports-0-protocol": "TCP", "ports-0-port": port}


def preview(client, project, cidr):
    url = reverse("project_entry_new", args=[project, "external"])
    return client.post(url, external_preview(cidr), **HTMX).content.decode()


def test_a_platform_admin_reads_which_policy_overrides_a_metadata_entry(demo_cluster, personas,
                                                                      login_as):
    body = preview(login_as("alice"), "shop", "169.254.169.254/32")
    assert "data-overrides" in body
    assert f"This entry is overridden by {NAMED}" in body
    assert "169.254.169.254 on TCP 80 is denied" in body


def test_a_project_admin_reads_a_platform_policy_without_its_name(demo_cluster, personas,
                                                                 login_as):
    body = preview(login_as("carol"), "shop", "169.254.169.254/32")
    assert "This entry is overridden by a platform policy" in body
    assert "deny-cloud-metadata" not in body
    assert "tier platform" not in body


def test_an_entry_no_platform_policy_decides_gets_no_warning(demo_cluster, personas, login_as):
    body = preview(login_as("alice"), "shop", "10.0.0.0/8")
    assert "data-impact" in body or "data-preview" in body
    assert "data-overrides" not in body


def test_a_range_holding_the_metadata_address_is_overridden_there(demo_cluster, personas,
                                                                 login_as):
    body = preview(login_as("bob"), "shop", "169.254.0.0/16")
    assert "This entry is overridden by" in body
    assert "169.254.169.254 on TCP 80" in body


def put_entry(name, project, spec):
    cluster.gateway().create({
        "apiVersion": "network.kubesphere.io/v1alpha1", "kind": "NamespaceNetworkPolicy",
        "metadata": {"name": name, "namespace": project}, "spec": spec})


@pytest.mark.parametrize(("person", "named"), [("alice", True), ("dave", True),
                                               ("carol", False), ("erin", False)])
def test_the_project_page_marks_the_overridden_entry(demo_cluster, personas, login_as, person,
                                                     named):
    put_entry("read-metadata", "shop", METADATA_ENTRY)
    put_entry("to-partners", "shop", {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                                                  "ports": [{"port": 443}]}]})
    body = login_as(person).get(reverse("project_detail", args=["shop"])).content.decode()
    assert 'data-overridden-count="1"' in body
    assert "1 allowlist entry is overridden by a platform policy." in body
    marked = body.split('data-entry="read-metadata"')[1].split("</li>")[0]
    assert "data-entry-overridden" in marked
    assert (NAMED in marked) is named
    assert ("a platform policy:" in marked) is not named
    other = body.split('data-entry="to-partners"')[1].split("</li>")[0]
    assert "data-entry-overridden" not in other


def test_a_project_without_overridden_entries_shows_no_count(demo_cluster, personas, login_as):
    body = login_as("alice").get(reverse("project_detail", args=["billing"])).content.decode()
    assert "data-overridden-count" not in body
    assert "data-entry-overridden" not in body


def scope_of(visible, everything=False):
    known = frozenset({"shop", "web", "catalog"})
    return Scope(everything, frozenset(visible), known, {"shop": "team-a", "catalog": "team-a",
                                                         "web": "team-b"})


def calico_policy_override(namespace):
    ref = PolicyRef("Calico NetworkPolicy", f"{namespace}/no-egress", "Deny", "egress", 2,
                    priority=5, tier="default")
    return Override(ref, "shop/cart-0", "web/blog-0", 8080, "TCP")


@pytest.mark.parametrize(("namespace", "visible", "everything", "expected"), [
    ("shop", {"shop"}, False,
     "Calico NetworkPolicy shop/no-egress (tier default, egress rule 2, Deny)"),
    ("web", {"shop"}, False, "a policy of another project"),
    ("web", set(), True, "Calico NetworkPolicy web/no-egress (tier default, egress rule 2, Deny)"),
])
def test_a_namespaced_policy_is_named_only_within_the_scope(namespace, visible, everything,
                                                           expected):
    [warning] = override_warnings([calico_policy_override(namespace)],
                                  scope_of(visible, everything))
    assert warning.startswith(f"This entry is overridden by {expected}: ")
    if not everything:
        assert "web/blog-0" not in warning  # a pod outside the scope is not named either


def test_the_workspace_page_counts_overridden_entries_per_project(demo_cluster, personas,
                                                                  login_as):
    put_entry("read-metadata", "shop", METADATA_ENTRY)
    put_entry("metadata-too", "shop", {"egress": [{"to": [
        {"ipBlock": {"cidr": "169.254.0.0/16"}}]}]})
    body = login_as("bob").get(reverse("workspace_detail", args=["team-a"])).content.decode()
    shop = body.split('data-project="shop"')[1].split("</tr>")[0]
    assert 'data-overridden-entries="2"' in shop
    assert "2 overridden by platform policies" in shop
    billing = body.split('data-project="billing"')[1].split("</tr>")[0]
    assert "data-overridden-entries" not in billing


@pytest.mark.parametrize(("enabled", "shown"), [("1", True), ("0", False)])
def test_enabling_isolation_previews_the_entries_a_platform_policy_overrides(
        demo_cluster, personas, login_as, enabled, shown):
    put_entry("read-metadata", "shop", METADATA_ENTRY)
    url = reverse("project_isolation_preview", args=["shop"]) + f"?enabled={enabled}"
    body = login_as("carol").get(url).content.decode()
    assert ('data-switch-overridden="1"' in body) is shown
    assert ("This entry is overridden by a platform policy" in body) is shown
    if shown:
        block = body.split('data-switch-overridden="1"')[1].split("data-preview>")[0]
        assert "<code>read-metadata</code>" in block
        assert "deny-cloud-metadata" not in block
