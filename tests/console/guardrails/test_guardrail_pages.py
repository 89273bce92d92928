"""The Guardrails page: what each role sees, and creating, editing and deleting expectations."""

from __future__ import annotations

import pytest
import yaml
from django.urls import reverse

from cluster.errors import NotFoundError
from console.core import cluster
from console.core.models import Change, ExpectationState
from isolation.guardrails.model import API_VERSION

pytestmark = pytest.mark.django_db(transaction=True)

LIST = reverse("guardrail_list")
NEW = reverse("guardrail_new")
PLATFORM = {"every-project-reaches-dns", "no-project-reaches-cloud-metadata",
            "no-project-reaches-the-management-network"}
VIOLATED = "no-project-reaches-the-management-network"  # the platform tier closes the other


def _names(response) -> set[str]:
    assert response.status_code == 200
    return {row.state.name for row in response.context["rows"]}


def _document(name: str, namespace: str | None, **spec) -> str:
    kind = "ConnectivityExpectation" if namespace else "ClusterConnectivityExpectation"
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    body = {"from": {"namespace": "shop"}, "to": {"namespace": "catalog"},
            "ports": [{"port": 8080, "protocol": "TCP"}], "expect": "Allowed", **spec}
    return yaml.safe_dump({"apiVersion": API_VERSION, "kind": kind, "metadata": metadata,
                           "spec": body})


def test_a_platform_admin_sees_every_expectation_and_the_violated_one_explained(
        demo_cluster, personas, login_as):
    response = login_as("alice").get(LIST)
    assert _names(response) == PLATFORM | {
        "shop/shop-reaches-ledger", "billing/card-terminals-reach-payments",
        "billing/reporting-cannot-reach-billing", "reporting/ingress-reaches-dashboard"}
    rows = {row.state.name: row for row in response.context["rows"]}
    violated = rows[VIOLATED]
    assert violated.state.status == "violated"
    assert violated.violations and all(v["reason"].startswith("Allowed:")
                                       for v in violated.violations)
    assert rows["no-project-reaches-cloud-metadata"].state.status == "holds"
    assert rows["shop/shop-reaches-ledger"].state.status == "holds"
    assert all(row.can_edit for row in rows.values())
    assert "10.10.0.0/16" in response.content.decode()


def test_a_project_admin_sees_their_project_and_the_platform_ones_that_involve_it_read_only(
        demo_cluster, personas, login_as):
    response = login_as("carol").get(LIST)
    assert _names(response) == PLATFORM | {"shop/shop-reaches-ledger"}
    rows = {row.state.name: row for row in response.context["rows"]}
    assert rows["shop/shop-reaches-ledger"].can_edit
    assert not rows["every-project-reaches-dns"].can_edit
    page = response.content.decode()
    assert "reporting" not in page       # team-b is another tenant: never named
    assert "read-only" in page


def test_another_tenant_never_sees_the_projects_expectations_of_team_a(demo_cluster, personas,
                                                                       login_as):
    client = login_as("frank")
    assert _names(client.get(LIST)) == PLATFORM | {"reporting/ingress-reaches-dashboard"}
    page = client.get(LIST).content.decode()
    assert "shop" not in page and "billing" not in page
    edit = reverse("guardrail_edit", args=["shop", "shop-reaches-ledger"])
    assert client.get(edit).status_code == 404


def test_viewers_read_every_expectation_they_may_see_and_change_none(demo_cluster, personas,
                                                                     login_as):
    client = login_as("dave")
    response = client.get(LIST)
    assert len(_names(response)) == 7
    assert not any(row.can_edit for row in response.context["rows"])
    assert client.get(NEW).status_code == 403
    erin = login_as("erin")
    assert _names(erin.get(LIST)) == PLATFORM | {"shop/shop-reaches-ledger"}
    edit = reverse("guardrail_edit", args=["shop", "shop-reaches-ledger"])
    assert erin.get(edit).status_code == 403


def test_the_page_filters_by_project_and_workspace(demo_cluster, personas, login_as):
    client = login_as("alice")
    assert _names(client.get(LIST, {"project": "reporting"})) == PLATFORM | {
        "reporting/ingress-reaches-dashboard", "billing/reporting-cannot-reach-billing"}
    assert "reporting/ingress-reaches-dashboard" not in _names(
        client.get(LIST, {"workspace": "team-a"}))
    assert _names(client.get(LIST, {"status": "violated"})) == {VIOLATED}


def test_a_project_admin_creates_an_expectation_of_their_project(demo_cluster, personas,
                                                                 login_as):
    client = login_as("carol")
    response = client.post(NEW, {"document": _document("shop-reaches-catalog", "shop")})
    assert response.status_code == 302, response.content.decode()
    stored = cluster.gateway().get_object("ConnectivityExpectation", "shop-reaches-catalog", "shop")
    assert stored["spec"]["to"] == {"namespace": "catalog"}
    assert ExpectationState.objects.filter(name="shop/shop-reaches-catalog").exists()
    assert Change.objects.filter(kind="guardrail", project="shop",
                                 target="expectation/shop/shop-reaches-catalog").exists()


def test_invalid_input_is_shown_with_its_field_path_and_nothing_is_written(
        demo_cluster, personas, login_as, api_writes):
    client = login_as("carol")
    response = client.post(NEW, {"document": _document(
        "bad", "shop", to={"namespace": "catalog", "podSelector": {"matchLabels": "app"}},
        expect="Maybe")})
    assert response.status_code == 400
    page = response.content.decode()
    assert "spec.to.podSelector.matchLabels" in page and "spec.expect" in page
    broken = client.post(NEW, {"document": "kind: [unclosed"})
    assert broken.status_code == 400 and "cannot be read" in broken.content.decode()
    assert api_writes == []


def test_project_admins_write_neither_other_projects_nor_platform_expectations(
        demo_cluster, personas, login_as, api_writes):
    client = login_as("carol")
    other = client.post(NEW, {"document": _document("mine-now", "billing")})
    assert other.status_code == 400 and "metadata.namespace" in other.content.decode()
    platform = client.post(NEW, {"document": _document("everyone", None)})
    assert platform.status_code == 400 and "only platform admins" in platform.content.decode()
    assert api_writes == []


def test_a_stale_edit_is_refused_with_the_current_version_shown(demo_cluster, personas,
                                                               login_as):
    client = login_as("alice")
    edit = reverse("guardrail_edit", args=["every-project-reaches-dns"])
    form = client.get(edit).context["form"]
    version = form.initial["resource_version"]
    cluster.gateway().merge_patch("ClusterConnectivityExpectation", "every-project-reaches-dns",
                                  {"spec": {"description": "Changed by someone else"}})
    text = form.initial["document"].replace("through CoreDNS", "through DNS")
    response = client.post(edit, {"document": text, "resource_version": version})
    assert response.status_code == 409
    assert "Changed by someone else" in response.content.decode()
    stored = cluster.gateway().get_object("ClusterConnectivityExpectation",
                                          "every-project-reaches-dns")
    assert stored["spec"]["description"] == "Changed by someone else"
    again = client.post(edit, {"document": text,
                               "resource_version": response.context["version"]})
    assert again.status_code == 302


def test_an_edit_cannot_rename_the_expectation(demo_cluster, personas, login_as):
    client = login_as("carol")
    edit = reverse("guardrail_edit", args=["shop", "shop-reaches-ledger"])
    form = client.get(edit).context["form"]
    text = form.initial["document"].replace("name: shop-reaches-ledger", "name: renamed")
    response = client.post(edit, {"document": text,
                                  "resource_version": form.initial["resource_version"]})
    assert response.status_code == 400 and "cannot change" in response.content.decode()


def test_deleting_an_expectation_removes_it_and_its_state(demo_cluster, personas, login_as):
    client = login_as("carol")
    client.get(LIST)
    delete = reverse("guardrail_delete", args=["shop", "shop-reaches-ledger"])
    assert client.get(delete).status_code == 200
    version = client.get(delete).context["version"]
    assert client.post(delete, {"resource_version": version}).status_code == 302
    with pytest.raises(NotFoundError):
        cluster.gateway().get_object("ConnectivityExpectation", "shop-reaches-ledger", "shop")
    assert not ExpectationState.objects.filter(name="shop/shop-reaches-ledger").exists()
    assert login_as("carol").post(
        reverse("guardrail_delete", args=["every-project-reaches-dns"])).status_code == 403
