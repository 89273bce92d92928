"""Guardrails evaluated continuously, checked in previews, and the override of a platform one."""

from __future__ import annotations

import copy
import re

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import reverse

from console.core import cluster
from console.core.models import (
    Change,
    ExpectationState,
    ExpectationTransition,
    GuardrailOverride,
    JobStatus,
)
from console.guardrails import services
from console.guardrails.forms import OverrideForm
from console.tenancy import services as iso
from isolation.guardrails.model import API_VERSION
from isolation.snapshot import load_snapshot
from kubesim.demo import DEMO_YAML

pytestmark = pytest.mark.django_db(transaction=True)

LEDGER = "shop/shop-reaches-ledger"
# A platform promise that isolating shop breaks: catalog reaches shop (carol cannot see catalog).
OPEN_SHOP = {"apiVersion": API_VERSION, "kind": "ClusterConnectivityExpectation",
             "metadata": {"name": "shop-open-to-its-workspace"},
             "spec": {"from": {"namespace": "catalog"}, "to": {"namespace": "shop"},
                      "expect": "Allowed"}}


def _demo_snapshot():
    """The demo cluster in step (its generated policies in place)."""
    return load_snapshot(DEMO_YAML.read_text())


def _deny_all(namespace: str) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny-all", "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def _header_count(client) -> int:
    """The count the header shows (0 when it shows none)."""
    page = client.get(reverse("project_list")).content.decode()
    found = re.search(r'data-violated-guardrails="(\d+)"', page)
    return int(found.group(1)) if found else 0


# -- continuous evaluation ------------------------------------------------------------------------

def test_a_change_that_breaks_an_expectation_is_recorded_as_the_cause(demo_cluster, personas):
    services.refresh(force=True)
    assert ExpectationState.objects.get(name=LEDGER).status == "holds"
    job = iso.start_delete_entry(personas["alice"], "billing", "policy-from-shop")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    state = ExpectationState.objects.get(name=LEDGER)
    change = Change.objects.get(job=job)
    assert state.status == "violated"
    assert state.change == change
    assert state.violations and "Denied:" in state.violations[0]["reason"]
    transition = ExpectationTransition.objects.filter(name=LEDGER).first()
    assert (transition.previous, transition.status, transition.change) == (
        "holds", "violated", change)


def test_the_page_links_a_violation_to_the_change_that_caused_it(demo_cluster, personas,
                                                                  login_as):
    services.refresh(force=True)
    job = iso.start_delete_entry(personas["alice"], "billing", "policy-from-shop")
    change = Change.objects.get(job=job)
    page = login_as("carol").get(reverse("guardrail_list")).content.decode()
    assert reverse("history_detail", args=[change.pk]) in page


def test_a_change_made_outside_the_console_is_found_when_the_cluster_changes(demo_cluster,
                                                                           personas):
    assert services.refresh(force=True)
    cache.delete(services.CHECKED_KEY)
    assert not services.refresh()                 # the same cluster is not evaluated again
    before = ExpectationTransition.objects.count()
    cluster.gateway().create(_deny_all("billing"))
    cache.delete(services.CHECKED_KEY)
    assert services.refresh()
    state = ExpectationState.objects.get(name=LEDGER)
    assert state.status == "violated" and state.change is None
    assert ExpectationTransition.objects.filter(name=LEDGER).count() == 2
    assert ExpectationTransition.objects.count() == before + 2   # billing's own breaks too


def test_a_reconcile_evaluates_the_guardrails(demo_cluster, personas):
    from console.tenancy.reconcile import repair_drift

    assert not ExpectationState.objects.exists()
    repair_drift()
    assert ExpectationState.objects.count() == 7


def test_the_header_counts_the_violated_expectations_each_user_may_see(demo_cluster, personas,
                                                                       login_as):
    services.refresh(force=True)
    assert _header_count(login_as("alice")) == 1         # the management network
    cluster.gateway().create(_deny_all("billing"))
    services.refresh(force=True)
    assert _header_count(login_as("alice")) == 3         # billing admits nobody now
    assert _header_count(login_as("carol")) == 2         # shop's own, and the platform one
    assert _header_count(login_as("frank")) == 1         # team-b sees nothing of shop
    page = login_as("carol").get(reverse("project_list")).content.decode()
    assert 'data-violated-guardrails="2"' in page and reverse("guardrail_list") in page


# -- checks in previews ---------------------------------------------------------------------------

def test_check_change_names_the_newly_violated_expectation_and_its_deciding_rule(db, personas):
    before = _demo_snapshot()
    after = copy.deepcopy(before)
    after.network_policies.append(_deny_all("kube-system"))
    check = services.check_change(personas["alice"], before, after, key="k")
    assert [v.name for v in check.violations] == ["every-project-reaches-dns"]
    violation = check.violations[0]
    assert violation.platform and check.needs_override and check.can_override
    assert "kube-system/deny-all" in violation.violations[0]["reason"]
    assert services.check_change(personas["alice"], before, before).breaks is False


def test_check_change_hides_what_another_tenant_may_not_see(db, personas):
    before = _demo_snapshot()
    after = before.with_network_policies([
        p for p in before.network_policies if p["metadata"]["name"] != "nsnp-policy-from-shop"])
    frank = services.check_change(personas["frank"], before, after)
    assert frank.violations == () and frank.hidden == 1 and not frank.needs_override
    carol = services.check_change(personas["carol"], before, after)
    assert [v.name for v in carol.violations] == [LEDGER] and carol.hidden == 0
    assert "billing/" not in str(carol.violations[0].violations)


def test_the_switch_preview_shows_the_broken_guardrail_at_the_top(demo_cluster, personas,
                                                                  login_as):
    cluster.gateway().create(OPEN_SHOP)
    preview = reverse("project_isolation_preview", args=["shop"])
    response = login_as("carol").get(preview, {"enabled": "1"})
    page = response.content.decode()
    assert 'data-broken-guardrail="shop-open-to-its-workspace"' in page
    assert page.index("data-guardrail-checks") < page.index("data-preview-summary")
    assert "only a platform admin can apply it" in page
    assert "pods of another project" in page and "catalog/" not in page


# -- the override -----------------------------------------------------------------------------------

def test_a_project_admin_cannot_apply_a_change_that_breaks_a_platform_guardrail(
        demo_cluster, personas, login_as):
    cluster.gateway().create(OPEN_SHOP)
    response = login_as("carol").post(reverse("project_isolation", args=["shop"]),
                                      {"enabled": "1"})
    assert response.status_code == 400
    assert "only a platform admin" in response.content.decode()
    refused = login_as("carol").post(reverse("guardrail_override"),
                                     {"key": "isolation-project:project/shop", "reason": "x"})
    assert refused.status_code == 403


def test_a_platform_admin_applies_it_with_a_reason_recorded_in_the_history(
        demo_cluster, personas, login_as):
    cluster.gateway().create(OPEN_SHOP)
    client = login_as("alice")
    start = reverse("project_isolation", args=["shop"])
    blocked = client.post(start, {"enabled": "1"})
    assert blocked.status_code == 400 and "give the reason" in blocked.content.decode()
    preview = client.get(reverse("project_isolation_preview", args=["shop"]), {"enabled": "1"})
    key = preview.context["guardrails"].key
    empty = client.post(reverse("guardrail_override"), {"key": key, "reason": " "},
                        HTTP_HX_REQUEST="true")
    assert "Give the reason" in empty.content.decode()
    given = client.post(reverse("guardrail_override"),
                        {"key": key, "reason": "Reporting moves to the API gateway today",
                         "expectation": "shop-open-to-its-workspace"}, HTTP_HX_REQUEST="true")
    assert "Override recorded" in given.content.decode()
    response = client.post(start, {"enabled": "1"})
    assert response.status_code in (302, 202)
    override = Change.objects.get(kind="guardrail-override")
    assert "Reporting moves to the API gateway today" in override.summary
    assert "shop-open-to-its-workspace" in override.summary
    assert override.author == User.objects.get(username="alice")
    assert override.job is not None and override.job.status == JobStatus.SUCCEEDED
    assert GuardrailOverride.objects.get().used_at is not None
    # an override is used once: the same change again needs a new reason
    iso.start_project_isolation(personas["alice"], "shop", False)
    with pytest.raises(iso.IntentError):
        iso.start_project_isolation(personas["alice"], "shop", True)


def test_the_override_form_asks_platform_admins_for_a_reason_and_refuses_others(db, personas):
    before = _demo_snapshot()
    after = copy.deepcopy(before)
    after.network_policies.append(_deny_all("kube-system"))
    check = services.check_change(personas["alice"], before, after, key="policy:x")
    assert not OverrideForm({}, check=check, user=personas["alice"]).is_valid()
    form = OverrideForm({"override_reason": "DNS moves"}, check=check, user=personas["alice"])
    assert form.is_valid() and form.cleaned_data["override_reason"] == "DNS moves"
    refused = OverrideForm({"override_reason": "DNS moves"}, check=check, user=personas["bob"])
    assert not refused.is_valid()
    calm = services.check_change(personas["bob"], before, before)
    assert OverrideForm({}, check=calm, user=personas["bob"]).is_valid()


def test_an_allowlist_preview_warns_of_a_project_guardrail_without_blocking_the_change(
        demo_cluster, personas, login_as):
    client = login_as("bob")
    delete = reverse("project_entry_delete", args=["billing", "policy-from-shop"])
    page = client.get(delete).content.decode()
    assert f'data-broken-guardrail="{LEDGER}"' in page
    assert "Project guardrails do not block the change" in page
    job = iso.start_delete_entry(personas["bob"], "billing", "policy-from-shop")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert not Change.objects.filter(kind="guardrail-override").exists()


def test_the_traffic_fix_preview_carries_the_guardrail_checks(demo_cluster, personas, login_as):
    response = login_as("bob").get(reverse("traffic_fix",
                                           args=["service", "billing", "payments-api"]))
    assert response.status_code == 200
    check = response.context["guardrails"]
    assert isinstance(check, services.GuardrailCheck) and not check.needs_override
