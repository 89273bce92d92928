"""Failures of the API become classified errors with actionable messages (injected faults)."""

from __future__ import annotations

import pytest

from cluster.errors import (
    InvalidError,
    PermanentClusterError,
    TransientClusterError,
)
from tests.cluster.objects import namespace, record_requests


@pytest.mark.parametrize(("status", "expected"), [
    (500, "failed with 500 Internal Server Error while trying to list namespaces"),
    (503, "failed with 503 Service Unavailable while trying to list namespaces"),
    (429, "is throttling requests (429 Too Many Requests)"),
])
def test_server_failures_and_throttling_are_transient(gateway, empty_simulator, status, expected):
    empty_simulator.faults.inject("/api/v1/namespaces", status=status, count=1)

    with pytest.raises(TransientClusterError) as caught:
        gateway.list_objects("Namespace")

    assert caught.value.status == status
    assert expected in caught.value.message
    assert gateway.list_objects("Namespace") is not None  # the fault was one request only


def test_throttling_passes_on_the_servers_retry_after(gateway, empty_simulator):
    empty_simulator.faults.inject("/api/v1/namespaces", status=429, count=1)

    with pytest.raises(TransientClusterError) as caught:
        gateway.list_objects("Namespace")

    assert caught.value.retry_after == 1


def test_forbidden_is_permanent(gateway, empty_simulator):
    empty_simulator.faults.inject("/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies",
                                  status=403, count=1, method="POST")
    gateway.create(namespace("shop"))
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "deny", "namespace": "shop"}, "spec": {"podSelector": {}}}

    with pytest.raises(PermanentClusterError) as caught:
        gateway.create(policy)

    assert caught.value.status == 403
    assert not caught.value.retryable


def test_a_server_that_does_not_answer_in_time_is_transient(make_gateway, empty_simulator):
    gw = make_gateway(timeout=0.2)
    empty_simulator.faults.inject("/api/v1/namespaces", hang=2, count=1)

    with pytest.raises(TransientClusterError) as caught:
        gw.list_objects("Namespace")

    assert caught.value.message == (
        f"The Kubernetes API at {empty_simulator.url} did not answer within 0.2 s while trying "
        "to list namespaces.")


def test_a_refused_connection_is_transient_and_names_the_address(make_gateway, empty_simulator):
    gw = make_gateway()
    empty_simulator.stop()

    with pytest.raises(TransientClusterError) as caught:
        gw.get_object("Namespace", "default")

    assert caught.value.message.startswith(
        f"The Kubernetes API at {empty_simulator.url} refused the connection")


def test_a_malformed_request_is_invalid(gateway):
    with pytest.raises(InvalidError) as caught:
        gateway.list_objects("Pod", label_selector="app in (web")

    assert caught.value.status == 400


def test_an_expired_continue_token_restarts_the_list_once(gateway, empty_simulator):
    for i in range(5):
        gateway.create(namespace(f"ns-{i}"))

    def expire_after_first_page(n):
        if n == 1:
            empty_simulator.faults.inject("/api/v1/namespaces", status=410, count=1)

    requests = record_requests(gateway, expire_after_first_page)

    names = [n["metadata"]["name"] for n in gateway.list_objects("Namespace", page_size=2)]

    assert {f"ns-{i}" for i in range(5)} <= set(names)
    assert len(names) == len(set(names))
    assert "continue=" in requests[1] and "continue=" not in requests[2]


def test_a_list_that_keeps_expiring_is_transient(gateway, empty_simulator):
    for i in range(5):
        gateway.create(namespace(f"ns-{i}"))

    def expire_after_every_first_page(n):
        if n in (1, 3):
            empty_simulator.faults.inject("/api/v1/namespaces", status=410, count=1)

    record_requests(gateway, expire_after_every_first_page)

    with pytest.raises(TransientClusterError) as caught:
        gateway.list_objects("Namespace", page_size=2)

    assert caught.value.message == (
        "The list of namespaces expired twice while being read in pages of 2; try again.")


def test_a_write_that_is_not_answered_in_time_is_transient(make_gateway, empty_simulator):
    gw = make_gateway(timeout=0.2)
    empty_simulator.faults.inject("/api/v1/namespaces", hang=2, count=1, method="POST")

    with pytest.raises(TransientClusterError) as caught:
        gw.create(namespace("shop"), dry_run=True)

    assert caught.value.message == (
        f"The Kubernetes API at {empty_simulator.url} did not answer within 0.2 s while trying "
        "to create namespaces shop.")


def test_a_write_to_a_stopped_server_is_transient(make_gateway, empty_simulator):
    gw = make_gateway()
    empty_simulator.stop()

    with pytest.raises(TransientClusterError) as caught:
        gw.create(namespace("shop"))

    assert "refused the connection while trying to create namespaces shop" in caught.value.message
