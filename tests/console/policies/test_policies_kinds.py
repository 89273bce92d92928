"""Calico policies, tiers, AdminNetworkPolicies and the baseline on the Network Policies pages:
the list, the detail pages, the editor (validation, dry run, apply, delete) and tenancy."""

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import Change
from console.policies import services
from tests.console.policies.support import as_yaml

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_platform_guardrails")]

GNP = "platform.deny-cloud-metadata"
GNP_URL = ("projectcalico.org", "globalnetworkpolicies", GNP)
BANP_URL = ("policy.networking.k8s.io", "baselineadminnetworkpolicies", "default")
TIER_URL = ("projectcalico.org", "tiers", "platform")


def gnp(name="platform.deny-smtp", order=20, **spec):
    return {"apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"tier": "platform", "order": order, "selector": "all()",
                     "namespaceSelector": "has(kubesphere.io/workspace)", "types": ["Egress"],
                     "egress": [{"action": "Deny", "protocol": "TCP",
                                 "destination": {"ports": [25]}}], **spec}}


def anp(name="deny-smtp", priority=10, namespace_labels=None):
    return {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"priority": priority,
                     "subject": {"namespaces": {"matchLabels": namespace_labels or {
                         "kubesphere.io/workspace": "team-b"}}},
                     "egress": [{"name": "no-smtp", "action": "Deny",
                                 "to": [{"networks": ["0.0.0.0/0"]}],
                                 "ports": [{"portNumber": {"port": 25}}]}]}}


def write(obj):
    created = cluster.gateway().create(obj)
    services.forget()
    return created


def rows(response):
    return {(row.kind.slug, row.name): row for row in response.context["listing"].page}


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    def post(client, url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)
    return post


def review(client, text, url=None):
    return client.post(url or reverse("policy_create"), {"yaml": text, "action": "review"})


def apply(client, run_jobs, text, url=None):
    reviewed = review(client, text, url)
    assert reviewed.status_code == 200, reviewed.context["review"].diagnostics
    response = run_jobs(client, url or reverse("policy_create"), {
        "yaml": text, "action": "apply", "reviewed": reviewed.context["reviewed"]})
    assert response.status_code == 302
    return client.get(response["Location"], follow=True)


# -- the list ---------------------------------------------------------------------------------


def test_the_list_shows_every_kind_with_its_badge_tier_order_and_actions(demo_cluster, personas,
                                                                         login_as):
    write(anp())
    response = login_as("alice").get(reverse("policy_list"), {"sort": "name"})
    found = rows(response)
    assert found[("calico-gnp", GNP)].tier == "platform"
    assert found[("calico-gnp", GNP)].order == "10"
    assert found[("calico-gnp", GNP)].actions == ("Deny egress", "Pass egress")
    assert found[("anp", "deny-smtp")].order == "10"
    assert found[("anp", "deny-smtp")].actions == ("Deny egress",)
    assert found[("banp", "default")].actions == ("Allow ingress",)
    assert ("tier", "platform") in found
    assert any(slug == "netpol" for slug, _ in found)
    page = response.content.decode()
    for label in ("Calico GNP", "ANP", "BANP", "Tier", "cluster-wide"):
        assert label in page
    assert found[("calico-gnp", GNP)].pods > 0


@pytest.mark.parametrize(("kind", "expected"), [
    ("calico-gnp", {GNP}), ("banp", {"default"}), ("tier", {"platform"}), ("anp", {"deny-smtp"}),
])
def test_the_kind_filter_keeps_only_that_kind(demo_cluster, personas, login_as, kind, expected):
    write(anp())
    client = login_as("alice")
    response = client.get(reverse("policy_list"), {"kind": kind})
    assert {name for _, name in rows(response)} == expected
    assert all(row.kind.slug == kind for row in response.context["listing"].page)
    table = client.get(reverse("policy_list"), {"kind": kind}, HTTP_HX_REQUEST="true")
    assert table.status_code == 200
    assert 'id="policy-table"' in table.content.decode()
    assert all(name in table.content.decode() for name in expected)


def test_a_project_filter_keeps_the_cluster_wide_policies_that_apply_to_it(demo_cluster, personas,
                                                                            login_as):
    write(anp())  # applies to team-b's projects only
    shop = rows(login_as("alice").get(reverse("policy_list"), {"project": "shop"}))
    assert ("calico-gnp", GNP) in shop and ("anp", "deny-smtp") not in shop
    reporting = rows(login_as("alice").get(reverse("policy_list"), {"project": "reporting"}))
    assert ("anp", "deny-smtp") in reporting


# -- detail pages -----------------------------------------------------------------------------


def test_the_global_network_policy_page_reads_its_rules_and_position(demo_cluster, personas,
                                                                     login_as):
    response = login_as("alice").get(reverse("policy_kind_detail", args=GNP_URL))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Deny egress to 169.254.169.254/32 from every pod of namespaces with label " \
           "kubesphere.io/workspace, before any project policy (tier platform)." in page
    assert response.context["facts"].order == "10"
    assert "shop" in response.context["namespaces"]
    assert response.context["can_edit"]
    assert "169.254.169.254/32" in response.context["yaml"]


def test_the_anp_banp_and_tier_pages_say_where_they_run(demo_cluster, personas, login_as):
    write(anp())
    client = login_as("alice")
    page = client.get(reverse("policy_kind_detail", args=(
        "policy.networking.k8s.io", "adminnetworkpolicies", "deny-smtp")))
    assert page.status_code == 200
    assert page.context["facts"].order == "10"
    assert "before any project policy" in page.context["sentences"][0][1]
    assert set(page.context["namespaces"]) == {"reporting"} | (
        set(page.context["namespaces"]) - {"reporting"})
    banp = client.get(reverse("policy_kind_detail", args=BANP_URL))
    assert "unless a project policy selects the pod" in banp.context["sentences"][0][1]
    tier = client.get(reverse("policy_kind_detail", args=TIER_URL))
    assert [name for name, _ in tier.context["members"]] == [GNP]
    assert "before the project policies" in tier.content.decode()


def test_an_unknown_kind_url_is_not_found(demo_cluster, personas, login_as):
    client = login_as("alice")
    assert client.get(reverse("policy_kind_detail", args=(
        "example.com", "widgets", "x"))).status_code == 404
    # A namespaced kind on the cluster-wide route is not found either.
    assert client.get(reverse("policy_kind_detail", args=(
        "projectcalico.org", "networkpolicies", "x"))).status_code == 404


def test_the_existing_network_policy_urls_keep_working(demo_cluster, personas, login_as):
    response = login_as("alice").get(reverse("policy_detail", args=["reporting", "default-deny"]))
    assert response.status_code == 200


# -- the editor -------------------------------------------------------------------------------


def test_a_broken_gnp_is_refused_at_its_lines(demo_cluster, personas, login_as):
    text = as_yaml(gnp(egress=[{"action": "Drop", "destination": {"nets": ["10.0.0.0/33"]}}]))
    response = review(login_as("alice"), text)
    assert response.status_code == 400
    errors = response.context["review"].errors
    lines = text.splitlines()
    assert errors and all(e.line >= 1 for e in errors)
    assert any("action" in e.message and "Drop" in lines[e.line - 1] for e in errors)
    assert response.context["review"].checks["One policy"] == "passed"


def test_an_unknown_field_of_an_anp_is_named_at_its_line(demo_cluster, personas, login_as):
    obj = anp()
    obj["spec"]["priorty"] = 3
    text = as_yaml(obj)
    errors = review(login_as("alice"), text).context["review"].errors
    assert any("priorty" in e.message and "priorty" in text.splitlines()[e.line - 1]
               for e in errors)


def test_an_unknown_kind_names_the_supported_ones(demo_cluster, personas, login_as):
    response = review(login_as("alice"), "apiVersion: example.com/v1\nkind: Widget\n"
                                         "metadata: {name: x}\n")
    message = response.context["review"].errors[0].message
    assert "GlobalNetworkPolicy" in message and "AdminNetworkPolicy" in message


def test_a_calico_draft_of_an_unserved_version_names_the_one_written(demo_cluster, personas,
                                                                     login_as):
    obj = gnp()
    obj["apiVersion"] = "projectcalico.org/v9"
    errors = review(login_as("alice"), as_yaml(obj)).context["review"].errors
    assert errors[0].line == 1 and "crd.projectcalico.org/v1" in errors[0].message


def test_a_valid_gnp_passes_the_server_dry_run_and_previews_its_impact(demo_cluster, personas,
                                                                       login_as):
    response = review(login_as("alice"), as_yaml(gnp()))
    assert response.status_code == 200, response.context["review"].diagnostics
    checks = response.context["review"].checks
    assert checks["Server dry-run"] == "passed"
    assert response.context["review"].impact is not None
    assert not any(o["metadata"]["name"] == "platform.deny-smtp"
                   for o in cluster.gateway().list_objects("GlobalNetworkPolicy"))


def test_a_gnp_in_a_tier_that_does_not_exist_is_refused(demo_cluster, personas, login_as):
    errors = review(login_as("alice"), as_yaml(gnp(tier="nowhere"))).context["review"].errors
    assert any("spec.tier" in e.message for e in errors)


def test_create_replace_and_delete_a_gnp(demo_cluster, personas, login_as, run_jobs):
    client = login_as("alice")
    page = apply(client, run_jobs, as_yaml(gnp()))
    assert page.status_code == 200
    gw = cluster.gateway()
    stored = gw.get_object("GlobalNetworkPolicy", "platform.deny-smtp")
    url = reverse("policy_kind_edit", args=("projectcalico.org", "globalnetworkpolicies",
                                            "platform.deny-smtp"))
    edit = client.get(url)
    assert edit.status_code == 200 and edit.context["base_version"]
    changed = gnp(order=30)
    text = as_yaml(changed)
    reviewed = client.post(url, {"yaml": text, "action": "review",
                                 "base_version": edit.context["base_version"]})
    assert reviewed.status_code == 200, reviewed.context["review"].diagnostics
    response = run_jobs(client, url, {"yaml": text, "action": "apply",
                                      "base_version": edit.context["base_version"],
                                      "reviewed": reviewed.context["reviewed"]})
    assert response.status_code == 302
    assert gw.get_object("GlobalNetworkPolicy", "platform.deny-smtp")["spec"]["order"] == 30
    assert stored["metadata"]["resourceVersion"] != gw.get_object(
        "GlobalNetworkPolicy", "platform.deny-smtp")["metadata"]["resourceVersion"]
    delete_url = reverse("policy_kind_delete", args=("projectcalico.org",
                                                     "globalnetworkpolicies",
                                                     "platform.deny-smtp"))
    confirm = client.get(delete_url)
    assert confirm.status_code == 200
    run_jobs(client, delete_url, {"resource_version": confirm.context["version"]})
    assert not any(o["metadata"]["name"] == "platform.deny-smtp"
                   for o in gw.list_objects("GlobalNetworkPolicy"))
    targets = set(Change.objects.values_list("target", flat=True))
    assert "GlobalNetworkPolicy platform.deny-smtp" in targets


def test_a_stale_edit_of_an_anp_is_a_conflict(demo_cluster, personas, login_as, run_jobs):
    client = login_as("alice")
    apply(client, run_jobs, as_yaml(anp()))
    url = reverse("policy_kind_edit", args=("policy.networking.k8s.io", "adminnetworkpolicies",
                                            "deny-smtp"))
    version = client.get(url).context["base_version"]
    gw = cluster.gateway()
    live = gw.get_object("AdminNetworkPolicy", "deny-smtp")
    live["spec"]["priority"] = 11
    gw.replace(live)
    response = client.post(url, {"yaml": as_yaml(anp(priority=12)), "action": "review",
                                 "base_version": version})
    assert response.status_code == 400 and response.context["review"].conflict


def test_create_and_delete_an_anp(demo_cluster, personas, login_as, run_jobs):
    client = login_as("alice")
    page = apply(client, run_jobs, as_yaml(anp()))
    assert page.status_code == 200
    gw = cluster.gateway()
    assert gw.get_object("AdminNetworkPolicy", "deny-smtp")["spec"]["priority"] == 10
    url = reverse("policy_kind_delete", args=("policy.networking.k8s.io",
                                              "adminnetworkpolicies", "deny-smtp"))
    confirm = client.get(url)
    run_jobs(client, url, {"resource_version": confirm.context["version"]})
    assert not gw.list_objects("AdminNetworkPolicy")


# -- tenancy ----------------------------------------------------------------------------------


def test_tenants_see_the_platform_policies_of_their_projects_read_only(demo_cluster, personas,
                                                                      login_as):
    write(anp())  # team-b only
    client = login_as("bob")
    found = rows(client.get(reverse("policy_list")))
    assert ("calico-gnp", GNP) in found and ("banp", "default") in found
    assert ("anp", "deny-smtp") not in found and ("tier", "platform") not in found
    page = client.get(reverse("policy_kind_detail", args=GNP_URL))
    assert page.status_code == 200 and not page.context["can_edit"]
    assert "team-b" not in page.content.decode()
    assert "reporting" not in page.context["namespaces"]
    assert page.context["hidden_namespaces"] > 0
    assert client.get(reverse("policy_kind_edit", args=GNP_URL)).status_code == 403
    assert client.get(reverse("policy_kind_delete", args=GNP_URL)).status_code == 403
    assert client.get(reverse("policy_kind_detail", args=(
        "policy.networking.k8s.io", "adminnetworkpolicies", "deny-smtp"))).status_code == 404
    assert client.get(reverse("policy_kind_detail", args=TIER_URL)).status_code == 404


def test_a_tenant_cannot_create_a_cluster_wide_policy(demo_cluster, personas, login_as):
    response = review(login_as("bob"), as_yaml(gnp()))
    assert response.status_code == 400
    assert response.context["review"].checks["Permission"] == "failed"


def test_tenant_pod_counts_leave_out_other_tenants(demo_cluster, personas, login_as):
    alice = rows(login_as("alice").get(reverse("policy_list")))[("calico-gnp", GNP)].pods
    bob = rows(login_as("bob").get(reverse("policy_list")))[("calico-gnp", GNP)].pods
    assert 0 < bob < alice
