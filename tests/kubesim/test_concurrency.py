"""Several clients at once (the web process and the worker share one simulator)."""

from __future__ import annotations

import threading

from kubernetes import client
from kubernetes.client.rest import ApiException

from kubesim import SimulatorServer


def _core(server: SimulatorServer) -> client.CoreV1Api:
    cfg = client.Configuration()
    cfg.host = server.url
    return client.CoreV1Api(client.ApiClient(cfg))


def _run(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_concurrent_creates_get_distinct_resource_versions(sim) -> None:
    versions: list[int] = []
    lock = threading.Lock()

    def create(worker: int) -> None:
        core = _core(sim)
        for i in range(20):
            rv = int(core.create_namespace({"metadata": {"name": f"w{worker}-{i}"}}).metadata.resource_version)
            with lock:
                versions.append(rv)

    _run([threading.Thread(target=create, args=(w,)) for w in range(6)])
    assert len(versions) == len(set(versions)) == 120
    assert len(_core(sim).list_namespace().items) == 124


def test_optimistic_concurrency_loses_no_update(sim) -> None:
    _core(sim).create_namespace({"metadata": {"name": "counter", "annotations": {"count": "0"}}})
    conflicts = []

    def increment() -> None:
        core = _core(sim)
        for _ in range(15):
            while True:
                ns = core.read_namespace("counter")
                ns.metadata.annotations["count"] = str(int(ns.metadata.annotations["count"]) + 1)
                try:
                    core.replace_namespace("counter", ns)
                    break
                except ApiException as exc:
                    assert exc.status == 409
                    conflicts.append(1)

    _run([threading.Thread(target=increment) for _ in range(4)])
    assert _core(sim).read_namespace("counter").metadata.annotations["count"] == "60"
