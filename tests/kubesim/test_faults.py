"""Injected faults: the next N matching requests fail or hang, then the server is healthy again."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import urllib3
from kubernetes.client.rest import ApiException


def test_injected_error_answers_the_next_matching_requests_only(sim, core) -> None:
    sim.faults.inject("/api/v1/namespaces*", status=500, count=2)
    for _ in range(2):
        with pytest.raises(ApiException) as caught:
            core.list_namespace()
        assert caught.value.status == 500
    assert len(core.list_namespace().items) == 4


def test_too_many_requests_carries_retry_after(sim, core) -> None:
    sim.faults.inject("*/namespaces/default", status=429)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{sim.url}/api/v1/namespaces/default")
    assert caught.value.code == 429
    assert caught.value.headers["Retry-After"] == "1"
    assert json.load(caught.value)["reason"] == "TooManyRequests"
    assert core.read_namespace("default").metadata.name == "default"


def test_the_client_retries_idempotent_requests_that_got_429_with_retry_after(sim, core) -> None:
    sim.faults.inject("*/namespaces/default", status=429)
    assert core.read_namespace("default").metadata.name == "default"
    assert sim.faults.served == 1


def test_faults_match_method_and_path(sim, core) -> None:
    sim.faults.inject("/api/v1/namespaces", status=503, method="POST")
    assert core.list_namespace().items
    with pytest.raises(ApiException) as caught:
        core.create_namespace({"metadata": {"name": "x"}})
    assert caught.value.status == 503
    assert sim.faults.pending() == 0


def test_a_hanging_request_times_out_on_the_client(sim, core) -> None:
    # the client retries a timed-out GET three times, so four requests must hang
    sim.faults.inject("/api/v1/namespaces", hang=5, count=4)
    with pytest.raises((urllib3.exceptions.MaxRetryError, urllib3.exceptions.ReadTimeoutError)):
        core.list_namespace(_request_timeout=(1, 0.2))
    assert sim.faults.pending() == 0


def test_clear_forgets_pending_faults(sim, core) -> None:
    sim.faults.inject("*", status=500, count=10)
    sim.faults.clear()
    assert core.read_namespace("default").metadata.name == "default"


def test_injected_error_bodies_are_status_objects(sim, core) -> None:
    sim.faults.inject("*", status=504)
    with pytest.raises(ApiException) as caught:
        core.list_namespace()
    assert '"reason":"Timeout"' in caught.value.body
