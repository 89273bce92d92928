"""Watch: initial state, live changes filtered by selectors, resume, 410 Expired, timeouts."""

from __future__ import annotations

import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from kubesim import SimulatorServer


def _np(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "spec": {"podSelector": {}}}


def _events(net: client.NetworkingV1Api, *, stop_after: int | None = None, **kwargs) -> list[tuple[str, str]]:
    out = []
    stream = watch.Watch()
    for event in stream.stream(net.list_namespaced_network_policy, "default", timeout_seconds=1,
                               _request_timeout=10, **kwargs):
        out.append((event["type"], event["object"].metadata.name))
        if stop_after and len(out) >= stop_after:
            stream.stop()
    return out


def test_watch_starts_with_the_current_objects_then_ends_at_its_timeout(sim, net) -> None:
    net.create_namespaced_network_policy("default", _np("a"))
    net.create_namespaced_network_policy("default", _np("b"))
    assert _events(net) == [("ADDED", "a"), ("ADDED", "b")]


def test_watch_from_a_resource_version_replays_later_changes_only(sim, net) -> None:
    net.create_namespaced_network_policy("default", _np("before"))
    rv = net.list_namespaced_network_policy("default").metadata.resource_version
    net.create_namespaced_network_policy("default", _np("after"))
    net.patch_namespaced_network_policy("after", "default", {"metadata": {"labels": {"x": "1"}}})
    net.delete_namespaced_network_policy("before", "default")
    assert _events(net, resource_version=rv) == [("ADDED", "after"), ("MODIFIED", "after"), ("DELETED", "before")]


def test_objects_entering_and_leaving_a_selection_appear_as_added_and_deleted(sim, net) -> None:
    net.create_namespaced_network_policy("default", _np("p", team="a"))
    rv = net.list_namespaced_network_policy("default").metadata.resource_version
    net.patch_namespaced_network_policy("p", "default", {"metadata": {"labels": {"team": "b"}}})
    net.patch_namespaced_network_policy("p", "default", {"metadata": {"labels": {"team": "a"}}})
    assert _events(net, resource_version=rv, label_selector="team=a") == [("DELETED", "p"), ("ADDED", "p")]


def test_watch_delivers_changes_made_while_it_is_open(sim, net) -> None:
    started = threading.Event()

    def writer() -> None:
        started.wait(5)
        net.create_namespaced_network_policy("default", _np("live"))

    net.create_namespaced_network_policy("default", _np("marker"))
    thread = threading.Thread(target=writer)
    thread.start()
    seen = []
    stream = watch.Watch()
    for event in stream.stream(net.list_namespaced_network_policy, "default", timeout_seconds=5,
                               _request_timeout=10):
        seen.append((event["type"], event["object"].metadata.name))
        started.set()
        if event["object"].metadata.name == "live":
            stream.stop()
    thread.join()
    assert seen == [("ADDED", "marker"), ("ADDED", "live")]


def test_watch_from_a_compacted_resource_version_answers_410_expired(sim, net) -> None:
    net.create_namespaced_network_policy("default", _np("old"))
    rv = net.list_namespaced_network_policy("default").metadata.resource_version
    net.create_namespaced_network_policy("default", _np("new"))
    sim.store.compact()
    with pytest.raises(ApiException) as caught:
        _events(net, resource_version=rv)
    assert caught.value.status == 410


def test_watch_history_is_bounded_and_older_versions_expire() -> None:
    server = SimulatorServer(history=3).start()
    try:
        cfg = client.Configuration()
        cfg.host = server.url
        net = client.NetworkingV1Api(client.ApiClient(cfg))
        rv = net.list_namespaced_network_policy("default").metadata.resource_version
        for i in range(5):
            net.create_namespaced_network_policy("default", _np(f"p{i}"))
        with pytest.raises(ApiException) as caught:
            _events(net, resource_version=rv)
        assert caught.value.status == 410
        recent = str(int(rv) + 3)
        assert [name for _t, name in _events(net, resource_version=recent)] == ["p3", "p4"]
    finally:
        server.stop()


def test_stopping_the_server_ends_open_watches() -> None:
    server = SimulatorServer().start()
    cfg = client.Configuration()
    cfg.host = server.url
    api = client.NetworkingV1Api(client.ApiClient(cfg))
    result: list[object] = []

    def run() -> None:
        try:
            result.extend(watch.Watch().stream(api.list_namespaced_network_policy, "default",
                                               timeout_seconds=60, _request_timeout=60))
        except Exception as exc:  # noqa: BLE001 - a dropped connection is an acceptable end too
            result.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    server.stop()
    thread.join(30)
    assert not thread.is_alive()
