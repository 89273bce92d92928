"""Cached drawings follow the cluster: what a trace depends on gives a new drawing, nothing else."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.core import cluster, jobs, tenants
from console.core.models import Job, JobStatus

pytestmark = pytest.mark.django_db(transaction=True)

DETAIL = reverse("traffic_detail", args=["service", "billing", "payments-api"])


def _drawings() -> int:
    return Job.objects.filter(kind="render-diagram").count()


def _change_service(gw):
    gw.merge_patch("Service", "payments-api", {"metadata": {"labels": {"tier": "edge"}}},
                   namespace="billing")


def _change_pod(gw):
    pod = next(p for p in gw.list_objects("Pod", "billing")
               if p["metadata"]["name"].startswith("payments-gateway"))
    gw.merge_patch("Pod", pod["metadata"]["name"], {"metadata": {"labels": {"canary": "yes"}}},
                   namespace="billing")


def _change_node(gw):
    gw.merge_patch("Node", "node-1", {"metadata": {"annotations": {
        "projectcalico.org/IPv4IPIPTunnelAddr": "10.233.64.77"}}})


def _change_allowlist(gw):
    gw.create({"apiVersion": "network.kubesphere.io/v1alpha1", "kind": "NamespaceNetworkPolicy",
               "metadata": {"namespace": "billing", "name": "policy-from-office"},
               "spec": {"ingress": [{"from": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]}]}})


def _change_other_project(gw):
    gw.merge_patch("Service", "storefront-np", {"metadata": {"labels": {"tier": "edge"}}},
                   namespace="shop")


@pytest.mark.parametrize(("change", "redrawn"), [
    (_change_service, True),
    (_change_pod, True),
    (_change_node, True),
    (_change_allowlist, True),
    (_change_other_project, False),
])
def test_a_drawing_is_redrawn_exactly_when_its_inputs_change(demo_cluster, personas, login_as,
                                                             change, redrawn):
    client = login_as("alice")
    before = client.get(DETAIL).context["result"].digest
    change(cluster.gateway())
    tenants.forget()
    after = client.get(DETAIL).context["result"].digest
    assert (after != before) is redrawn
    assert _drawings() == (2 if redrawn else 1)


def test_a_new_tunnel_address_is_what_the_advisor_asks_for(demo_cluster, personas, login_as):
    _change_node(cluster.gateway())
    advice = login_as("alice").get(DETAIL).context["advice"]
    assert {"cidr": "10.233.64.77/32", "ports": [{"port": 8443, "protocol": "TCP"}]} in advice.entries


def test_a_drawing_asked_for_a_cluster_that_changed_meanwhile_says_so(demo_cluster, personas):
    job = jobs.start("render-diagram", params={
        "kind": "service", "namespace": "billing", "name": "payments-api",
        "client_ip": "203.0.113.9", "digest": "0" * 64})
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["changed"] is True and "cluster changed" in job.message


def test_a_drawing_of_an_exposure_that_is_gone_fails_with_the_reason(demo_cluster, personas):
    job = jobs.start("render-diagram", params={
        "kind": "service", "namespace": "billing", "name": "ledger",
        "client_ip": "203.0.113.9", "digest": "0" * 64})
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "billing/ledger cannot be traced" in job.error
