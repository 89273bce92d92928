"""The cluster a review compares the draft with is read while the API server checks the draft:
the first review in a process of a cluster of large policies reads them meanwhile."""

from __future__ import annotations

import threading
import time

import pytest
from django.urls import reverse

from console.policies.draft import BASELINES, _ClusterRead, forget
from console.policies.kinds import KINDS, NETPOL
from tests.console.policies.support import as_yaml, netpol

pytestmark = pytest.mark.django_db

DRY_RUN = "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies"
LISTED = "/apis/networking.k8s.io/v1/networkpolicies"
HELD_SECONDS = 20   # long enough to tell "read meanwhile" from "read after"; released early


def draft() -> str:
    return as_yaml(netpol("shop", "web-from-api", policyTypes=["Ingress"], ingress=[
        {"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 8080}]}]))


def review(client):
    return client.post(reverse("policy_create"), {"yaml": draft(), "action": "review"})


def test_the_cluster_is_listed_while_the_dry_run_is_held(demo_cluster, personas, login_as):
    faults = demo_cluster.faults
    faults.inject(DRY_RUN, hang=HELD_SECONDS, method="POST")
    # Only to see when it is listed: nothing a review does before its read-ahead lists the
    # NetworkPolicies of the whole cluster.
    faults.inject(LISTED, hang=0.001, method="GET")
    listed_while_held = threading.Event()

    def release_once_listed() -> None:
        deadline = time.monotonic() + HELD_SECONDS
        while time.monotonic() < deadline:
            if faults.pending() == 0:   # both requests arrived, the dry run still held
                listed_while_held.set()
                break
            time.sleep(0.005)
        faults.released.set()

    watcher = threading.Thread(target=release_once_listed)
    watcher.start()
    try:
        response = review(login_as("carol"))
    finally:
        watcher.join()
        faults.released.clear()
        faults.clear()
    assert listed_while_held.is_set()
    body = response.content.decode()
    assert response.status_code == 200, body[:2000]
    assert "could not be read for the preview" not in body


def test_a_cluster_that_cannot_be_listed_is_said_in_the_preview(demo_cluster, personas,
                                                                  login_as):
    demo_cluster.faults.inject(LISTED, status=500, method="GET", count=20)
    response = review(login_as("carol"))
    body = response.content.decode()
    demo_cluster.faults.clear()
    assert response.status_code == 200    # the draft itself passed the server's dry run
    assert "The cluster could not be read for the preview" in body


def test_a_cluster_read_stopped_meanwhile_parses_no_policies(demo_cluster):
    forget()
    faults = demo_cluster.faults
    faults.inject(LISTED, hang=1.0, method="GET")   # held while the review ends
    read = _ClusterRead(KINDS[NETPOL])
    deadline = time.monotonic() + 30
    while faults.pending() and time.monotonic() < deadline:   # the list has begun
        time.sleep(0.005)
    read.stop()   # as a review does whose draft the API server refused
    snapshot, error = read._future.result(timeout=30)
    assert error is None and snapshot.network_policies
    # The snapshot it had listed is kept; none of its policies was parsed for a preview that
    # was not coming.
    assert [entry.before for entry in BASELINES._entries.values()] == [None]
