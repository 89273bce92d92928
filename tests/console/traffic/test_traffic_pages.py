"""The Traffic Paths pages on the demo cluster: list, detail, diagram, download and explainer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core.models import Job, JobStatus

pytestmark = pytest.mark.django_db(transaction=True)

PAYMENTS_API = ("service", "billing", "payments-api")
STOREFRONT = ("ingress", "shop", "storefront")


def url(view: str, ref: tuple[str, str, str] = PAYMENTS_API) -> str:
    return reverse(view, args=ref)


def rows(response) -> list[str]:
    return [f"{row.ref.kind}/{row.ref.key}" for row in response.context["page"]]


def test_the_list_shows_every_exposure_with_its_status_to_a_platform_admin(demo_cluster, personas,
                                                                          login_as):
    response = login_as("alice").get(reverse("traffic_list"))
    assert response.status_code == 200
    status = {f"{r.ref.kind}/{r.ref.key}": r.status for r in response.context["rows"]}
    assert status["service/billing/payments-api"] == "some"
    assert status["service/billing/payments-gateway"] == "every"
    assert status["ingress/shop/storefront"] == "every"
    assert status["service/kubesphere-system/ks-console"] == "every"
    assert "Some nodes only" in response.content.decode()


@pytest.mark.parametrize(("persona", "expected"), [
    ("carol", {"ingress/shop/storefront", "service/shop/storefront-lb", "service/shop/storefront-np"}),
    ("erin", {"ingress/shop/storefront", "service/shop/storefront-lb", "service/shop/storefront-np"}),
    ("frank", {"ingress/reporting/dashboard"}),
])
def test_the_list_holds_only_the_projects_a_user_can_see(demo_cluster, personas, login_as, persona,
                                                         expected):
    response = login_as(persona).get(reverse("traffic_list"))
    assert set(rows(response)) == expected


def test_the_list_filters_by_project(demo_cluster, personas, login_as):
    response = login_as("bob").get(reverse("traffic_list"), {"project": "billing"})
    assert rows(response) == ["service/billing/payments-api", "service/billing/payments-gateway"]


def test_a_project_the_user_cannot_see_is_refused_by_the_filter(demo_cluster, personas, login_as):
    response = login_as("frank").get(reverse("traffic_list"), {"project": "billing"})
    assert response.context["rows"] is None
    assert "Select a valid choice" in response.content.decode()


def test_a_bad_client_address_is_reported_next_to_the_field(demo_cluster, personas, login_as):
    response = login_as("alice").get(reverse("traffic_list"), {"client": "203.0.113.300"})
    assert response.status_code == 200
    assert response.context["rows"] is None
    assert "is neither an IP address nor a CIDR" in response.content.decode()


def test_a_client_outside_the_allowlist_reaches_payments_api_through_no_node(demo_cluster, personas,
                                                                           login_as):
    response = login_as("alice").get(reverse("traffic_list"),
                                     {"client": "198.51.100.7", "project": "billing"})
    status = {r.ref.name: r.status for r in response.context["rows"]}
    assert status == {"payments-api": "none", "payments-gateway": "none"}


def test_a_client_range_is_checked_at_each_stretch_the_policies_treat_alike(demo_cluster, personas,
                                                                             login_as):
    # 203.0.112.0/23: the lower half is outside billing's allowlist, the upper half inside it.
    response = login_as("alice").get(url("traffic_detail"), {"client": "203.0.112.0/23"})
    result = response.context["result"]
    assert result.samples == [("203.0.112.0", "none"), ("203.0.113.0", "some")]
    assert result.status == "some"
    assert {"cidr": "203.0.112.0/23", "ports": [{"port": 8443, "protocol": "TCP"}]} in result.needed


@pytest.mark.parametrize(("sort", "first"), [
    ("name", "service/catalog/catalog-api"),
    ("-name", "service/shop/storefront-np"),
    ("status", "service/catalog/catalog-api"),
    ("-status", "ingress/shop/storefront"),
])
def test_the_list_sorts_by_a_column(demo_cluster, personas, login_as, sort, first):
    response = login_as("alice").get(reverse("traffic_list"), {"sort": sort})
    assert rows(response)[0] == first


def test_an_htmx_filter_returns_only_the_results(demo_cluster, personas, login_as):
    response = login_as("alice").get(reverse("traffic_list"), {"project": "shop"},
                                     HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="traffic-results">')
    assert "<html" not in body
    assert rows(response) == ["ingress/shop/storefront", "service/shop/storefront-lb",
                              "service/shop/storefront-np"]


def test_an_htmx_filter_with_a_bad_client_shows_the_error(demo_cluster, personas, login_as):
    response = login_as("alice").get(reverse("traffic_list"), {"client": "nope"},
                                     HTTP_HX_REQUEST="true")
    assert "nope is neither an IP address nor a CIDR" in response.content.decode()


def test_the_detail_of_a_nodeport_names_what_the_project_still_lacks(demo_cluster, personas,
                                                                    login_as):
    response = login_as("bob").get(url("traffic_detail"))
    body = response.content.decode()
    advice = response.context["advice"]
    assert advice.entries == [
        {"cidr": "10.233.64.1/32", "ports": [{"port": 8443, "protocol": "TCP"}]},
        {"cidr": "10.233.66.1/32", "ports": [{"port": 8443, "protocol": "TCP"}]}]
    assert advice.can_fix
    assert "node-1&#x27;s tunl0" in body and "node-3&#x27;s tunl0" in body
    assert url("traffic_fix") in body
    assert "<svg" in body and "Works when it enters on node-2" in body


def test_a_viewer_sees_the_missing_entries_but_no_fix(demo_cluster, personas, login_as):
    response = login_as("dave").get(url("traffic_detail"))
    assert response.context["advice"].entries
    assert not response.context["advice"].can_fix
    assert url("traffic_fix") not in response.content.decode()
    assert "ask one of its administrators" in response.content.decode()


def test_a_workspace_isolated_project_is_told_to_switch_project_isolation_on(demo_cluster, personas,
                                                                             login_as):
    response = login_as("carol").get(url("traffic_detail", ("service", "shop", "storefront-np")))
    advice = response.context["advice"]
    assert advice.entries and not advice.can_fix
    assert "isolated by its workspace only" in advice.blocker
    assert reverse("project_detail", args=["shop"]) in response.content.decode()


def test_an_ingress_is_traced_in_two_legs(demo_cluster, personas, login_as):
    response = login_as("carol").get(url("traffic_detail", STOREFRONT))
    result = response.context["result"].result
    assert result.status == "every"
    assert all(len(path.legs) == 2 for path in result.paths)
    assert "X-Forwarded-For" in response.content.decode()


@pytest.mark.parametrize("view", ["traffic_detail", "traffic_diagram", "traffic_diagram_svg",
                                  "traffic_fix"])
def test_a_foreign_tenant_cannot_even_confirm_an_exposure_exists(demo_cluster, personas, login_as,
                                                                 view):
    assert login_as("frank").get(url(view)).status_code == 404


@pytest.mark.parametrize("ref", [("service", "billing", "nope"), ("pod", "billing", "payments-api"),
                                 ("service", "billing", "ledger")])
def test_an_unknown_or_unexposed_object_is_not_found(demo_cluster, personas, login_as, ref):
    assert login_as("alice").get(url("traffic_detail", ref)).status_code == 404


def test_the_diagram_is_drawn_once_by_a_job_and_then_served_from_the_cache(demo_cluster, personas,
                                                                          login_as):
    client = login_as("alice")
    first = client.get(url("traffic_detail"))
    job = Job.objects.get(kind="render-diagram")
    assert job.status == JobStatus.SUCCEEDED and job.params["digest"] == first.context["result"].digest
    second = client.get(url("traffic_detail"))
    assert Job.objects.filter(kind="render-diagram").count() == 1
    assert second.context["svg"] == first.context["svg"]


def test_another_client_address_is_drawn_under_another_key(demo_cluster, personas, login_as):
    client = login_as("alice")
    client.get(url("traffic_detail"))
    client.get(url("traffic_detail"), {"client": "198.51.100.7"})
    assert Job.objects.filter(kind="render-diagram").count() == 2


def test_the_polled_diagram_panel_stops_polling_once_drawn(demo_cluster, personas, login_as):
    client = login_as("alice")
    digest = client.get(url("traffic_detail")).context["result"].digest
    response = client.get(url("traffic_diagram"), {"digest": digest}, HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert response.content.decode().count("<svg") == 1


def test_a_queued_drawing_keeps_the_panel_polling(demo_cluster, personas, login_as):
    client = login_as("alice")
    Job.objects.create(kind="render-diagram", params={"digest": "f" * 64, "language": "en"})
    response = client.get(url("traffic_diagram"), {"digest": "f" * 64}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in response.content.decode()


def test_the_diagram_downloads_as_an_svg_file(demo_cluster, personas, login_as):
    response = login_as("erin").get(url("traffic_diagram_svg", STOREFRONT))
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == 'attachment; filename="ingress-shop-storefront.svg"'
    svg = response.content.decode()
    assert svg.startswith("<svg ") and "<title" in svg and "<desc" in svg


def test_the_pages_explain_an_unreachable_cluster_instead_of_failing(no_cluster, personas, login_as):
    client = login_as("alice")
    assert client.get(reverse("traffic_list")).status_code == 503
    assert client.get(url("traffic_detail")).status_code == 503


def test_with_a_worker_the_page_polls_until_the_drawing_is_ready(demo_cluster, personas, login_as,
                                                                 monkeypatch):
    from console.core import jobs
    from console.core import jobs as tasks

    monkeypatch.setattr(tasks.run_job, "delay", lambda job_id: type("R", (), {"id": "queued"})())
    client = login_as("alice")
    page = client.get(url("traffic_detail"))
    body = page.content.decode()
    assert page.context["svg"] is None and "Drawing the diagram" in body
    digest = page.context["result"].digest
    poll = f'{url("traffic_diagram")}?digest={digest}&amp;client=203.0.113.9'
    assert f'hx-get="{poll}"' in body
    waiting = client.get(url("traffic_diagram"), {"digest": digest}, HTTP_HX_REQUEST="true")
    assert waiting.status_code == 200 and "Drawing the diagram" in waiting.content.decode()

    job = Job.objects.get(kind="render-diagram")
    assert jobs.claim(job.pk) == "claimed" and jobs.run(job.pk) == JobStatus.SUCCEEDED
    ready = client.get(url("traffic_diagram"), {"digest": digest}, HTTP_HX_REQUEST="true")
    assert ready.status_code == 286 and "<svg" in ready.content.decode()


@pytest.mark.parametrize(("query", "row", "allow"), [
    ({}, 5, "10.233.64.0/32"),
    ({"traffic_policy": "Local", "pod_on_entry_node": "yes", "cni": "routed"}, 7, "203.0.113.9/32"),
    ({"exposure": "LoadBalancer", "cni": "vxlan", "pod_on_entry_node": "yes"}, 15, "203.0.113.9/32"),
    ({"exposure": "Ingress", "ingress_via": "LoadBalancer", "pod_on_entry_node": "yes"}, 38,
     "kubesphere-controls-system"),
])
def test_the_explainer_shows_a_case_of_the_decision_table_without_a_cluster(no_cluster, personas,
                                                                             login_as, query, row,
                                                                             allow):
    response = login_as("erin").get(reverse("traffic_explain"), query)
    path = response.context["case"].path
    assert path.row == row
    assert allow in response.content.decode()
    assert response.content.decode().count("<svg") == 1


def test_the_explainer_swaps_only_the_case_for_htmx(no_cluster, personas, login_as):
    response = login_as("erin").get(reverse("traffic_explain"), {"exposure": "Ingress"},
                                    HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="explain-case"') and "<form" not in body


def test_the_explainer_reports_a_value_it_does_not_know(no_cluster, personas, login_as):
    response = login_as("erin").get(reverse("traffic_explain"), {"cni": "flannel"})
    assert response.status_code == 200 and response.context["case"] is None
    assert "Select a valid choice" in response.content.decode()
