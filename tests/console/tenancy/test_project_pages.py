"""Project › Network Isolation: the switch, the allowlists and the effective result, per role.

Demo cluster: team-a holds shop (project isolation off), catalog and billing (project isolation
on, 4 entries); team-b holds web and reporting. Jobs run inside the request (eager mode).
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from console.core import cluster
from console.core.models import Job, JobStatus
from isolation.reachability.engine import Cluster

pytestmark = pytest.mark.django_db

OK, FORBIDDEN, HIDDEN = "ok", 403, 404
ISOLATE = "kubesphere.io/network-isolate"
HTMX = {"HTTP_HX_REQUEST": "true"}


def annotation(project: str) -> str | None:
    namespace = cluster.gateway().get_object("Namespace", project)
    return (namespace["metadata"].get("annotations") or {}).get(ISOLATE)


def entries(project: str) -> dict[str, dict]:
    return {e["metadata"]["name"]: e
            for e in cluster.gateway().list_objects("NamespaceNetworkPolicy", project)}


@pytest.fixture
def reconciled(demo_cluster):
    """The demo cluster with its generated policies written, as a running console keeps it."""
    from console.tenancy.reconcile import repair_drift

    repair_drift()
    return demo_cluster


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Make a request and run the jobs it starts, as the eager worker does after commit."""

    def request(method, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return method(*args, **kwargs)

    return request


def internal(direction="ingress", **fields):
    return {"action": "save", "direction": direction, "peer_type": "project", **fields}


def external(cidr, ports=(("TCP", "443"),), *, direction="ingress", except_cidrs="",
             action="save"):
    data = {"action": action, "direction": direction, "cidr": cidr, "except_cidrs": except_cidrs,
            "ports-TOTAL_FORMS": str(len(ports)), "ports-INITIAL_FORMS": "0"}
    for i, (protocol, port) in enumerate(ports):
        data[f"ports-{i}-protocol"], data[f"ports-{i}-port"] = protocol, port
    return data


@pytest.mark.parametrize(("person", "outcome"), [
    ("alice", OK), ("bob", OK), ("carol", OK),
    ("dave", FORBIDDEN), ("erin", FORBIDDEN), ("frank", HIDDEN),
])
def test_enabling_project_isolation_is_allowed_exactly_to_admins_in_scope(
        demo_cluster, personas, login_as, person, outcome, run):
    response = run(login_as(person).post, reverse("project_isolation", args=["shop"]), {"enabled": "1"})
    if outcome == OK:
        assert response.status_code == 302
        job = Job.objects.get()
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert response.url.endswith(f"?job={job.pk}")
        assert annotation("shop") == "enabled"
    else:
        assert response.status_code == outcome
        assert annotation("shop") is None
        assert not Job.objects.exists()


@pytest.mark.parametrize("person", ["dave", "erin"])
@pytest.mark.parametrize(("name", "args", "data"), [
    ("project_isolation", ["shop"], {"enabled": "1"}),
    ("project_entry_new", ["shop", "internal"], internal(projects=["catalog"])),
    ("project_entry_new", ["shop", "external"], external("10.0.0.0/8")),
    ("project_entry_edit", ["billing", "policy-from-shop"], internal(projects=["catalog"])),
    ("project_entry_delete", ["billing", "policy-from-shop"], {}),
])
def test_viewers_get_403_on_every_change_and_nothing_is_written(
        demo_cluster, personas, login_as, person, name, args, data, run):
    response = run(login_as(person).post, reverse(name, args=args), data)
    expected = 404 if person == "erin" and args[0] == "billing" else 403
    assert response.status_code == expected
    assert not Job.objects.exists()
    assert len(entries("billing")) == 4 and not entries("shop")


@pytest.mark.parametrize(("person", "controls"), [("carol", True), ("erin", False), ("dave", False)])
def test_change_controls_show_only_to_those_who_may_change(demo_cluster, personas, login_as,
                                                           person, controls):
    body = login_as(person).get(reverse("project_detail", args=["billing" if person == "dave"
                                                                else "shop"])).content.decode()
    for label in ("isolation…", "Add internal entry", "Add external entry"):
        assert (label in body) is controls


def test_the_off_state_teaches_what_isolation_does(demo_cluster, personas, login_as):
    body = login_as("carol").get(reverse("project_detail", args=["shop"])).content.decode()
    assert "Project network isolation is not enabled" in body
    assert "Minimal configuration" in body and "What stays reachable" in body
    assert "Enable isolation…" in body
    assert f'href="{reverse("traffic_list")}?project=shop"' in body


def test_the_enable_preview_groups_what_it_blocks_by_project_pair(demo_cluster, personas,
                                                                  login_as):
    url = reverse("project_isolation_preview", args=["shop"]) + "?enabled=1"
    response = login_as("bob").get(url, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-pair="catalog→shop"' in body
    assert "newly blocked" in body
    assert annotation("shop") is None  # a preview writes nothing
    assert "<html" not in body  # a fragment for the page's panel


def test_an_internal_entry_needs_a_direction_and_at_least_one_project(demo_cluster, personas,
                                                                     login_as, run):
    url = reverse("project_entry_new", args=["billing", "internal"])
    response = run(login_as("bob").post, url, {"action": "save",
                                                                 "peer_type": "project"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Select a traffic direction." in body
    assert "Select at least one project." in body
    assert len(entries("billing")) == 4


@pytest.mark.parametrize(("data", "message"), [
    (external("10.0.0.0/33"), "is not a network segment"),
    (external("10.1.2.3/16"), "has host bits set; the segment is 10.1.0.0/16"),
    (external("banana"), "is not a network segment"),
    (external("10.0.0.0/8", except_cidrs="192.168.0.0/24"), "must lie strictly inside 10.0.0.0/8"),
    (external("10.0.0.0/8", ports=[("TCP", "0")]), "0 is not a port"),
    (external("10.0.0.0/8", ports=[("TCP", "70000")]), "70000 is not a port"),
    (external("10.0.0.0/8", ports=[("TCP", "9000-8000")]), "ends (8000) before it starts"),
    (external("10.0.0.0/8", ports=[("TCP", "http")]), "Enter a port number"),
    (external("10.0.0.0/8", ports=[("ICMP", "1")]), "Select a valid choice"),
])
def test_a_bad_external_entry_is_shown_next_to_its_field_and_changes_nothing(
        demo_cluster, personas, login_as, data, message, run):
    url = reverse("project_entry_new", args=["shop", "external"])
    response = run(login_as("carol").post, url, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not entries("shop")
    assert not Job.objects.exists()


def test_an_external_entry_takes_ipv6_several_ports_and_a_range(demo_cluster, personas,
                                                                login_as, run):
    data = external("2001:db8::/64", [("TCP", "443"), ("UDP", "5000-5010"), ("SCTP", "")],
                    direction="egress", except_cidrs="2001:db8::/112")
    response = run(login_as("carol").post, reverse("project_entry_new", args=["shop", "external"]),
                                      data)
    assert response.status_code == 302
    (name, entry), = entries("shop").items()
    assert name.startswith("policy-to-")
    assert entry["spec"] == {"egress": [{
        "to": [{"ipBlock": {"cidr": "2001:db8::/64", "except": ["2001:db8::/112"]}}],
        "ports": [{"protocol": "TCP", "port": 443},
                  {"protocol": "UDP", "port": 5000, "endPort": 5010}]}]}


def test_a_service_entry_names_the_services_chosen_in_another_project(demo_cluster, personas,
                                                                      login_as, run):
    client = login_as("bob")   # a workspace admin sees the Services of every project of team-a
    url = reverse("project_entry_new", args=["shop", "internal"])
    reload = run(client.post, url, {"action": "reload", "peer_type": "service",
                               "service_project": "catalog"}, **HTMX)
    assert reload.status_code == 200
    assert 'value="catalog/catalog-api"' in reload.content.decode()
    assert "Select at least one" not in reload.content.decode()  # a reload shows no errors
    saved = run(client.post, url, {"action": "save", "direction": "egress", "peer_type": "service",
                              "service_project": "catalog", "services": ["catalog/catalog-api"]})
    assert saved.status_code == 302
    (entry,) = entries("shop").values()
    assert entry["spec"] == {"egress": [{"to": [{"service": {"name": "catalog-api",
                                                             "namespace": "catalog"}}]}]}


def test_an_internal_entry_may_not_name_a_project_of_another_workspace(demo_cluster, personas,
                                                                       login_as, run):
    url = reverse("project_entry_new", args=["shop", "internal"])
    response = run(login_as("alice").post, url, internal(projects=["web"]))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not entries("shop")


def test_previewing_an_entry_shows_its_impact_and_writes_nothing(reconciled, personas,
                                                                 login_as, run):
    url = reverse("project_entry_new", args=["billing", "internal"])
    response = run(login_as("bob").post, url, {**internal(projects=["catalog"]), "action": "preview"},
                                    **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-pair="catalog→billing"' in body
    assert 'value="save"' in body  # the confirm button appears only after a preview
    assert len(entries("billing")) == 4


def test_editing_an_entry_rewrites_it_and_a_stale_version_is_a_conflict(demo_cluster, personas,
                                                                        login_as, run):
    client = login_as("bob")
    url = reverse("project_entry_edit", args=["billing", "policy-from-shop"])
    form = client.get(url).content.decode()
    assert re.search(r'value="shop"[^>]*checked', form)
    assert not re.search(r'value="catalog"[^>]*checked', form)
    version = entries("billing")["policy-from-shop"]["metadata"]["resourceVersion"]
    stale = run(client.post, url, {**internal(projects=["catalog"]), "resource_version": "1"})
    assert stale.status_code == 400
    assert "changed by someone else" in stale.content.decode()
    fresh = run(client.post, url, {**internal(projects=["shop", "catalog"]),
                              "resource_version": version})
    assert fresh.status_code == 302
    peers = entries("billing")["policy-from-shop"]["spec"]["ingress"][0]["from"]
    assert sorted(p["namespace"]["name"] for p in peers) == ["catalog", "shop"]


def test_an_entry_the_form_cannot_express_is_shown_as_yaml(demo_cluster, personas, login_as):
    cluster.gateway().create({
        "apiVersion": "network.kubesphere.io/v1alpha1", "kind": "NamespaceNetworkPolicy",
        "metadata": {"name": "both-ways", "namespace": "billing"},
        "spec": {"ingress": [{"from": [{"namespace": {"name": "shop"}}]}],
                 "egress": [{"to": [{"namespace": {"name": "shop"}}]}]}})
    body = login_as("bob").get(reverse("project_entry_edit",
                                       args=["billing", "both-ways"])).content.decode()
    assert "a shape the form does not write" in body
    assert "data-yaml-editor" in body


def test_deleting_an_entry_previews_then_removes_it_and_its_policy(demo_cluster, personas,
                                                                   login_as, run):
    client = login_as("bob")
    url = reverse("project_entry_delete", args=["billing", "policy-to-bank"])
    preview = client.get(url, **HTMX).content.decode()
    assert "nsnp-policy-to-bank" in preview and "Delete entry" in preview
    response = run(client.post, url, **HTMX)
    assert response.status_code == 202
    assert "job-status" in response.content.decode()  # the live job card
    assert Job.objects.get().status == JobStatus.SUCCEEDED
    assert "policy-to-bank" not in entries("billing")
    policies = {p["metadata"]["name"] for p in cluster.gateway().list_objects("NetworkPolicy",
                                                                              "billing")}
    assert "nsnp-policy-to-bank" not in policies


def test_deleting_a_missing_entry_is_a_404(demo_cluster, personas, login_as):
    response = login_as("bob").get(reverse("project_entry_delete", args=["billing", "nope"]))
    assert response.status_code == 404


def test_disabling_project_isolation_keeps_the_entries_inactive(demo_cluster, personas,
                                                                login_as, run):
    client = login_as("bob")
    preview = client.get(reverse("project_isolation_preview", args=["billing"]) + "?enabled=0")
    assert "are <strong>kept</strong>" in preview.content.decode()
    run(client.post, reverse("project_isolation", args=["billing"]), {"enabled": "0"})
    assert annotation("billing") is None
    assert len(entries("billing")) == 4
    body = client.get(reverse("project_detail", args=["billing"])).content.decode()
    assert "4 allowlist entries are kept" in body
    assert body.count('data-entry-active="false"') == 4
    assert 'data-entry-active="true"' not in body


def test_add_and_remove_port_rows_rerender_the_form_without_errors(demo_cluster, personas,
                                                                   login_as, run):
    client = login_as("carol")
    url = reverse("project_entry_new", args=["shop", "external"])
    added = run(client.post, url, external("", [("TCP", "80")], action="add-port"), **HTMX)
    body = added.content.decode()
    assert added.status_code == 200
    assert 'name="ports-1-port"' in body and 'value="80"' in body
    assert "data-field-error" not in body
    removed = run(client.post, url, {**external("", [("TCP", "80"), ("UDP", "53")],
                                           action="remove-port-0")}, **HTMX)
    body = removed.content.decode()
    assert 'name="ports-1-port"' not in body and 'value="53"' in body


def test_an_htmx_request_with_errors_gets_its_fragment_with_200(demo_cluster, personas,
                                                                login_as, run):
    url = reverse("project_entry_new", args=["shop", "external"])
    response = run(login_as("carol").post, url, external("nonsense"), **HTMX)
    assert response.status_code == 200  # htmx swaps only successful responses
    assert 'data-field-error="cidr"' in response.content.decode()


def test_the_effective_result_is_the_engines_answer(reconciled, personas, login_as):
    body = login_as("dave").get(reverse("project_reachability", args=["billing"]),
                                **HTMX).content.decode()
    engine = Cluster.from_snapshot(cluster.snapshot())
    own = [p.key for p in engine.pods if p.namespace == "billing"]
    inbound = engine.matrix(destinations=own).by_namespace()
    for (source, _), counts in inbound.items():
        assert (f'data-reach-row="{source}" data-allowed="{counts.allowed}" '
                f'data-total="{counts.total}"') in body
    assert 'data-reach-row="203.0.113.1"' in body  # an address of its external entry


def test_a_cluster_that_cannot_be_read_gives_an_explanation(no_cluster, personas, login_as):
    response = login_as("alice").get(reverse("project_detail", args=["shop"]))
    assert response.status_code == 503
    assert "No cluster connected" in response.content.decode()


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ("?workspace=team-b", {"web", "reporting"}, {"shop", "billing"}),
    ("?q=shop", {"shop"}, {"web", "billing"}),
    ("?q=o&workspace=team-b", {"reporting"}, {"shop", "web"}),
])
def test_the_project_list_filters_by_workspace_and_name(demo_cluster, personas, login_as,
                                                        query, shown, hidden):
    body = login_as("dave").get(reverse("project_list") + query).content.decode()
    for project in shown:
        assert f'data-project="{project}"' in body
    for project in hidden:
        assert f'data-project="{project}"' not in body


@pytest.mark.parametrize("spec", [
    {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                  "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 80,
                                                              "endPort": 90}]}]},
    {"egress": [{"to": [{"ipBlock": {"cidr": "2001:db8::/64"}}]}]},
])
def test_an_external_entry_reads_back_into_the_form_unchanged(spec):
    from console.tenancy.forms import ExternalEntryForm, external_initial

    values, rows = external_initial(spec)
    data = {**values, "ports-TOTAL_FORMS": str(len(rows)), "ports-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        data[f"ports-{i}-protocol"], data[f"ports-{i}-port"] = row["protocol"], row["port"]
    form = ExternalEntryForm(data, ports_data=data)
    assert form.is_valid(), form.errors
    assert form.spec() == spec


@pytest.mark.parametrize("spec", [
    {"ingress": [{"from": [{"namespace": {"name": "a"}}]}],
     "egress": [{"to": [{"namespace": {"name": "a"}}]}]},
    {"ingress": [{"from": [{"namespace": {"name": "a"}}, {"ipBlock": {"cidr": "10.0.0.0/8"}}]}]},
    {"ingress": [{"from": [{"namespace": {"name": "a"}}], "ports": [{"port": 80}]}]},
    {"egress": [{"to": [{"service": {"name": "x", "namespace": "a"}},
                        {"service": {"name": "y", "namespace": "b"}}]}]},
    {"ingress": [{"from": [{"namespace": {"name": "a"}}]}, {"from": [{"namespace": {"name": "b"}}]}]},
])
def test_entries_the_form_does_not_write_are_not_forced_into_it(spec):
    from console.tenancy.forms import external_initial, internal_initial

    assert internal_initial(spec) is None
    assert external_initial(spec) is None
