"""Reconciliation and drift repair against the demo cluster: the command, the beat task and
the engine's handling of conflicts, faults and concurrency."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from console.core import cluster
from console.core.models import Change, PlatformSettings
from console.tenancy import jobs as tasks
from console.tenancy import reconcile
from console.tenancy.config import isolation_settings
from isolation.compiler.generate import MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_ANNOTATION

pytestmark = pytest.mark.django_db(transaction=True)

API = "/apis/networking.k8s.io/v1/namespaces"
DEMO_GENERATED = 7   # shop, catalog: isolation; billing: isolation + 4 entries


@pytest.fixture
def in_step(demo_cluster, api_writes):
    reconcile.repair_drift()
    Change.objects.all().delete()
    api_writes.clear()
    return demo_cluster


def ours(name: str, namespace: str) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
                         "annotations": {SOURCE_ANNOTATION: "namespace/" + namespace}},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def test_the_first_reconcile_of_the_demo_writes_its_generated_policies(demo_cluster,
                                                                       api_writes):
    outcome = reconcile.repair_drift()
    assert outcome.write_count == DEMO_GENERATED
    assert [verb for verb, _ in api_writes] == ["POST"] * DEMO_GENERATED
    assert {c.project for c in Change.objects.all()} == {"billing", "catalog", "shop"}
    api_writes.clear()
    assert reconcile.repair_drift().write_count == 0
    assert api_writes == []


def test_drift_is_repaired_and_each_repair_recorded(in_step, api_writes):
    gw = cluster.gateway()
    edited = gw.get_object("NetworkPolicy", "nsnp-network-isolate", "shop")
    edited["spec"]["ingress"] = [{}]            # someone opened it to everything
    gw.replace(edited)
    gw.delete("NetworkPolicy", "nsnp-policy-to-bank", namespace="billing")
    gw.create(ours("nsnp-leftover", "web"))
    api_writes.clear()
    outcome = reconcile.repair_drift()
    assert sorted(api_writes) == sorted([
        ("PUT", f"{API}/shop/networkpolicies/nsnp-network-isolate"),
        ("POST", f"{API}/billing/networkpolicies"),
        ("DELETE", f"{API}/web/networkpolicies/nsnp-leftover"),
    ])
    assert outcome.write_count == 3
    changes = {c.project: c for c in Change.objects.all()}
    assert set(changes) == {"shop", "billing", "web"}
    assert all(c.author_label == "drift repair" and c.author is None
               for c in changes.values())
    assert "changed outside the console" in changes["shop"].summary
    assert "was missing" in changes["billing"].summary
    assert "no intent requires it" in changes["web"].summary
    # Closing the opened policy again blocks what the edit had let in.
    assert changes["shop"].reachability_delta["blocked"] > 0
    restored = gw.get_object("NetworkPolicy", "nsnp-network-isolate", "shop")
    assert restored["spec"]["ingress"][0]["from"]


def test_a_dry_run_prints_the_plan_and_writes_nothing(in_step, api_writes):
    cluster.gateway().delete("NetworkPolicy", "nsnp-network-isolate", namespace="catalog")
    api_writes.clear()
    out = StringIO()
    call_command("reconcile", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "would fix: catalog/nsnp-network-isolate is missing" in text
    assert "1 write would bring the cluster in step." in text
    assert api_writes == [] and not Change.objects.exists()


def test_the_command_repairs_and_reports(in_step, api_writes):
    cluster.gateway().delete("NetworkPolicy", "nsnp-network-isolate", namespace="catalog")
    out = StringIO()
    call_command("reconcile", "--namespace", "catalog", stdout=out)
    assert "repaired: catalog/nsnp-network-isolate was missing" in out.getvalue()
    assert Change.objects.get().project == "catalog"


def test_the_command_reports_an_unreachable_cluster_as_an_error(db, settings):
    settings.KUBE_API_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError, match="127.0.0.1:9"):
        call_command("reconcile", stdout=StringIO())


def test_the_beat_task_repairs_drift(in_step, api_writes):
    cluster.gateway().delete("NetworkPolicy", "nsnp-network-isolate", namespace="shop")
    api_writes.clear()
    result = tasks.reconcile_cluster()
    assert "1 created" in result
    assert api_writes == [("POST", f"{API}/shop/networkpolicies")]


def test_the_beat_task_never_runs_twice_at_once(in_step, api_writes):
    from django.core.cache import cache

    cluster.gateway().delete("NetworkPolicy", "nsnp-network-isolate", namespace="shop")
    api_writes.clear()
    cache.add(tasks.RECONCILE_LOCK, "1")
    try:
        assert tasks.reconcile_cluster() == "a reconcile is already running"
    finally:
        cache.delete(tasks.RECONCILE_LOCK)
    assert api_writes == []


def test_a_conflicting_write_is_read_again_and_retried(in_step, api_writes):
    gw = cluster.gateway()
    edited = gw.get_object("NetworkPolicy", "nsnp-network-isolate", "shop")
    edited["spec"]["ingress"] = [{}]
    gw.replace(edited)
    in_step.faults.inject(f"{API}/shop/networkpolicies/nsnp-network-isolate", status=409,
                          method="PUT")
    api_writes.clear()
    outcome = reconcile.repair_drift()
    assert outcome.write_count == 1
    # The first PUT was refused with 409 (by the fault, before the API saw it); the policy was
    # read again and the second PUT went through.
    assert in_step.faults.pending() == 0
    assert api_writes == [("PUT", f"{API}/shop/networkpolicies/nsnp-network-isolate")]
    assert reconcile.repair_drift().write_count == 0


def test_kubesphere_engine_mode_never_writes_policies(demo_cluster, api_writes):
    PlatformSettings.objects.update_or_create(pk=1, defaults={"engine_mode": "kubesphere"})
    outcome = reconcile.repair_drift()
    assert api_writes == [] and outcome.write_count == 0
    assert not outcome.in_step
    assert any("KubeSphere's controller will create it" in d
               for d in outcome.kubesphere_differences)
    assert "the console wrote none" in outcome.summary()


def test_writes_run_with_bounded_concurrency_and_report_each_namespace(
        demo_cluster, settings):
    settings.ISOLATION_WRITE_CONCURRENCY = 2
    demo_cluster.faults.inject(f"{API}/*/networkpolicies", hang=0.2, method="POST", count=20)
    busy = {"now": 0, "most": 0}
    lock = threading.Lock()
    handle = demo_cluster.api.handle

    def counting(request):
        if request.method == "POST":
            with lock:
                busy["now"] += 1
                busy["most"] = max(busy["most"], busy["now"])
        try:
            return handle(request)
        finally:
            if request.method == "POST":
                with lock:
                    busy["now"] -= 1

    demo_cluster.api.handle = counting
    reported: list[tuple[int, int, str]] = []
    gw = cluster.gateway()
    outcome = reconcile.reconcile(gw, gw.snapshot(), isolation_settings(),
                                  progress=lambda *args: reported.append(args))
    assert outcome.write_count == DEMO_GENERATED
    assert busy["most"] <= 2
    assert sorted(ns for _, _, ns in reported) == ["billing", "catalog", "shop"]
    assert [done for done, _, _ in reported] == [1, 2, 3]


def test_a_policy_edited_only_in_foreign_labels_is_not_drift(in_step, api_writes):
    gw = cluster.gateway()
    policy = gw.get_object("NetworkPolicy", "nsnp-network-isolate", "shop")
    policy["metadata"]["labels"]["team"] = "shop-owners"
    gw.replace(policy)
    api_writes.clear()
    assert reconcile.repair_drift().write_count == 0
    assert api_writes == []
