"""The simulator serves the policy kinds of AdminNetworkPolicy and Calico once their CRDs are
created, with the checks their CRDs make (an ANP without priority or with priority 1001 is
refused), over HTTP as a real API server does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from kubesim import SimulatorServer
from kubesim.policy_crds import policy_crds


def call(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method,
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def server():
    sim = SimulatorServer(seed="empty")
    sim.start()
    for crd in policy_crds():
        status, _ = call(f"{sim.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                         "POST", crd)
        assert status == 201, crd["metadata"]["name"]
    yield sim
    sim.stop()


def test_every_policy_kind_is_created_and_listed(server):
    objects = [
        ("/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies", {
            "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": "deny-metadata"},
            "spec": {"priority": 10, "subject": {"namespaces": {}}, "egress": [
                {"name": "metadata", "action": "Deny",
                 "to": [{"networks": ["169.254.169.254/32"]}]}]}}),
        ("/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies", {
            "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
            "metadata": {"name": "default"}, "spec": {"subject": {"namespaces": {}}}}),
        ("/apis/crd.projectcalico.org/v1/globalnetworkpolicies", {
            "apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": "default.deny-metadata"},
            "spec": {"order": 10, "selector": "all()", "types": ["Egress"], "egress": [
                {"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}}]}}),
        ("/apis/crd.projectcalico.org/v1/namespaces/shop/networkpolicies", {
            "apiVersion": "crd.projectcalico.org/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "platform.web", "namespace": "shop"},
            "spec": {"tier": "platform", "selector": "app == 'web'", "ingress": [{"action": "Allow"}]}}),
        ("/apis/crd.projectcalico.org/v1/tiers", {
            "apiVersion": "crd.projectcalico.org/v1", "kind": "Tier",
            "metadata": {"name": "platform"}, "spec": {"order": 100}}),
    ]
    call(f"{server.url}/api/v1/namespaces", "POST",
         {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    for path, obj in objects:
        status, created = call(server.url + path, "POST", obj)
        assert status == 201, (path, created)
        status, listed = call(server.url + path)
        assert status == 200
        assert [item["metadata"]["name"] for item in listed["items"]] == [obj["metadata"]["name"]]
        assert listed["items"][0]["spec"] == obj["spec"]


@pytest.mark.parametrize("spec", [
    {"subject": {"namespaces": {}}},                    # no priority
    {"priority": 1001, "subject": {"namespaces": {}}},  # out of range
    {"priority": 5},                                    # no subject
])
def test_an_admin_network_policy_the_crd_refuses_is_not_created(server, spec):
    path = "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies"
    status, body = call(server.url + path, "POST", {
        "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
        "metadata": {"name": "bad"}, "spec": spec})
    assert status == 422, body
    assert body["reason"] == "Invalid"
    assert call(server.url + path)[1]["items"] == []
