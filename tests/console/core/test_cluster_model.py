"""`cluster.snapshot()` served from the watched model (issue 15, goal 7): the demo simulator over
HTTP, a ClusterWatcher and its publisher in threads of this process, the model in a real Redis.

A snapshot from the model sends no request to the API server; one that lists does. Every test
checks what a page would get against what listing the cluster gives.
"""

from __future__ import annotations

import random
import threading
from types import SimpleNamespace

import pytest

from cluster.watch import ClusterWatcher
from console.core import cluster
from console.core.management.commands.watch_cluster import ModelPublisher
from isolation.snapshot import Snapshot
from tests.helpers import wait_for


def start_model(*, publishing: bool = True) -> SimpleNamespace:
    gateway = cluster.new_gateway()
    watcher = ClusterWatcher(gateway, watch_seconds=30).start()
    assert watcher.wait_synced(10)
    publisher = ModelPublisher(watcher)
    stopping = threading.Event()
    thread = threading.Thread(target=publisher.run, args=(stopping,), daemon=True)
    if publishing:
        thread.start()
    else:
        publisher.publish()
    wait_for(lambda: cluster._model_snapshot(None) is not None, timeout=10, what="the model")
    return SimpleNamespace(gateway=gateway, watcher=watcher, publisher=publisher,
                           stopping=stopping, thread=thread)


def stop_model(model: SimpleNamespace) -> None:
    model.stopping.set()
    if model.thread.is_alive():
        model.thread.join(5)
    model.watcher.stop()
    model.gateway.close()


@pytest.fixture
def model(demo_cluster, redis_cache):
    running = start_model()
    yield running
    stop_model(running)


@pytest.fixture
def held_model(demo_cluster, redis_cache):
    """A model published once, then only when the test says so."""
    running = start_model(publishing=False)
    yield running
    stop_model(running)


def listed(namespaces: list[str] | None = None) -> Snapshot:
    return cluster.gateway().snapshot(namespaces=namespaces)


def names(objects: list[dict]) -> set[str]:
    return {obj["metadata"]["name"] for obj in objects}


def test_a_page_reads_the_model_without_asking_the_api_server(model, api_reads):
    served = cluster.snapshot()
    assert api_reads == []
    assert served == listed()
    assert {"shop", "web"} <= names(served.namespaces) and served.pods


def test_a_change_by_someone_else_reaches_the_pages(model, api_reads):
    other = cluster.new_gateway()   # not the console's gateway: nothing waits for this write
    other.merge_patch("Namespace", "shop", {"metadata": {"labels": {"owner": "kubectl"}}})
    other.close()
    wait_for(lambda: next(n for n in cluster.snapshot().namespaces
                          if n["metadata"]["name"] == "shop")["metadata"]["labels"].get("owner"),
             timeout=5, what="the label in the served snapshot")
    assert [path for path in api_reads if "namespaces" in path] == []


def test_the_console_sees_its_own_write_at_once(held_model, api_reads):
    created = cluster.gateway().create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}})
    api_reads.clear()
    # The model is behind the write; the snapshot waits for the next publication.
    threading.Timer(0.3, held_model.publisher.publish).start()
    served = cluster.snapshot()
    assert "fresh" in names(served.namespaces)
    assert api_reads == []   # served from the model, not listed
    assert created["metadata"]["resourceVersion"] <= held_model.watcher.kind_state("Namespace")[1]


def test_a_model_that_does_not_catch_up_with_a_write_is_not_served(held_model, api_reads,
                                                                    monkeypatch):
    monkeypatch.setattr(cluster, "MODEL_CATCH_UP_SECONDS", 0.2)
    cluster.gateway().create({"apiVersion": "v1", "kind": "Namespace",
                              "metadata": {"name": "fresh"}})
    api_reads.clear()
    served = cluster.snapshot()   # never published: listed instead
    assert "fresh" in names(served.namespaces)
    assert api_reads != []


def test_a_write_recorded_by_another_process_is_waited_for(model, api_reads, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr(cluster, "MODEL_CATCH_UP_SECONDS", 0.2)
    ahead = int(model.watcher.kind_state("Pod")[1]) + 1000   # a worker's write not seen yet
    cache.set(f"{cluster.model_prefix()}written:Pod", ahead, 60)
    served = cluster.snapshot()
    assert api_reads != []
    assert served == listed()


def test_a_stale_heartbeat_means_listing_as_before(held_model, api_reads, settings):
    settings.CLUSTER_MODEL_HEARTBEAT_TTL = 0.3
    held_model.publisher.beat()
    held_model.publisher.last_beat = 0.0
    held_model.publisher.alive = False
    held_model.publisher.beat()   # the last beat, with the short time-to-live
    wait_for(lambda: cluster._model_snapshot(None) is None, timeout=5,
             what="the heartbeat to expire")
    api_reads.clear()
    assert cluster.snapshot() == listed()
    assert api_reads != []


def test_without_a_watcher_snapshots_list_as_before(demo_cluster, redis_cache, api_reads):
    served = cluster.snapshot()
    assert api_reads != []
    assert served == listed()


def test_a_stopped_watcher_takes_its_model_back(model, api_reads):
    model.stopping.set()
    model.thread.join(5)
    api_reads.clear()
    cluster.snapshot()
    assert api_reads != []


def test_an_unchanged_kind_is_not_decoded_again(model):
    first = cluster.snapshot()
    second = cluster.snapshot()
    assert first.pods[0] is second.pods[0]
    assert first.pods is not second.pods   # each caller may reorder or filter its own lists
    cluster.gateway().create({"apiVersion": "v1", "kind": "Namespace",
                              "metadata": {"name": "fresh"}})
    third = cluster.snapshot()
    assert "fresh" in names(third.namespaces)
    assert third.pods[0] is first.pods[0]


def random_writes(rng: random.Random, count: int) -> None:
    """`count` writes through the console's gateway over namespaces, pods and policies."""
    gw = cluster.gateway()
    made: list[tuple[str, str, str]] = []   # (kind, namespace, name)
    spaces = ["shop", "web"]
    for n in range(count):
        choice = rng.random()
        if choice < 0.15 or len(spaces) < 4:
            name = f"ns-{n}"
            gw.create({"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": name, "labels": {"n": str(n)}}})
            spaces.append(name)
        elif choice < 0.45:
            ns = rng.choice(spaces)
            gw.create({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                       "metadata": {"name": f"np-{n}", "namespace": ns},
                       "spec": {"podSelector": {"matchLabels": {"app": f"a{n % 3}"}},
                                "policyTypes": ["Ingress"]}})
            made.append(("NetworkPolicy", ns, f"np-{n}"))
        elif choice < 0.7:
            ns = rng.choice(spaces)
            gw.create({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": f"pod-{n}", "namespace": ns,
                                    "labels": {"app": f"a{n % 3}"}},
                       "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
            made.append(("Pod", ns, f"pod-{n}"))
        elif made and choice < 0.85:
            kind, ns, name = made.pop(rng.randrange(len(made)))
            gw.delete(kind, name, namespace=ns)
        elif made:
            kind, ns, name = rng.choice(made)
            gw.merge_patch(kind, name, {"metadata": {"labels": {"touched": str(n)}}},
                           namespace=ns)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_model_snapshots_equal_listed_ones_after_random_writes(model, api_reads, seed):
    rng = random.Random(seed)
    random_writes(rng, 40)
    every = sorted(names(listed().namespaces))
    choices = [None, [], ["shop"], ["shop", "no-such-namespace"], rng.sample(every, 3),
               rng.sample(every, min(12, len(every))), every]
    for namespaces in choices:
        api_reads.clear()
        served = cluster.snapshot(namespaces)
        assert api_reads == [], namespaces   # from the model, holding every write above
        assert served == listed(namespaces), namespaces


def patch_pod_label(pod: dict, value: str) -> None:
    other = cluster.new_gateway()
    other.merge_patch("Pod", pod["metadata"]["name"], {"metadata": {"labels": {"seen": value}}},
                      namespace=pod["metadata"]["namespace"])
    other.close()


def pod_label(snapshot: Snapshot, pod: dict) -> str | None:
    found = next(p for p in snapshot.pods if p["metadata"]["name"] == pod["metadata"]["name"]
                 and p["metadata"]["namespace"] == pod["metadata"]["namespace"])
    return (found["metadata"].get("labels") or {}).get("seen")


def test_a_changed_pod_is_applied_without_decoding_the_other_pods(model):
    first = cluster.snapshot()
    changed, unchanged = first.pods[0], first.pods[1]
    patch_pod_label(changed, "one")
    wait_for(lambda: pod_label(cluster.snapshot(), changed) == "one", timeout=5,
             what="the changed pod")
    later = cluster.snapshot()
    assert later.pods[1] is unchanged
    assert later == listed()


def publish_until(model: SimpleNamespace, condition, what: str) -> None:
    def published() -> bool:
        model.publisher.publish()
        return condition()

    wait_for(published, timeout=5, what=what)


def test_a_new_process_reads_the_whole_kind_and_the_changes_after_it(held_model):
    pod = cluster.snapshot().pods[0]
    for value in ("a", "b", "c"):   # published one by one, as changes
        patch_pod_label(pod, value)
        publish_until(held_model, lambda value=value: pod_label(cluster.snapshot(), pod) == value,
                      f"label {value}")
    cluster._decoded.clear()   # what a web process that starts now holds
    served = cluster.snapshot()
    assert pod_label(served, pod) == "c"
    assert served == listed()


def test_a_reader_too_far_behind_decodes_the_whole_kind(held_model, monkeypatch):
    """More changes than FULL_AFTER_CHANGES at once: the kind is published whole."""
    monkeypatch.setattr(cluster, "FULL_AFTER_CHANGES", 2)
    pods = cluster.snapshot().pods[:4]
    for n, pod in enumerate(pods):
        patch_pod_label(pod, f"v{n}")
    wait_for(lambda: held_model.watcher.kind_state("Pod")[2] == listed().pods, timeout=5,
             what="the watcher to see the changes")
    held_model.publisher.publish()
    served = cluster.snapshot()
    assert [pod_label(served, pod) for pod in pods] == ["v0", "v1", "v2", "v3"]
    assert served == listed()


def test_lost_changes_are_read_from_the_whole_kind_published_later(held_model, redis_cache,
                                                                   monkeypatch):
    pod = cluster.snapshot().pods[0]
    patch_pod_label(pod, "lost")
    wait_for(lambda: pod_label(Snapshot(pods=held_model.watcher.kind_state("Pod")[2]), pod)
             == "lost", timeout=5, what="the watcher to see the change")
    held_model.publisher.publish()
    for key in redis_cache.scan_iter("*change:Pod:*"):   # expired from the cache
        redis_cache.delete(key)
    cluster._decoded.clear()
    assert cluster._model_snapshot(None) is None   # cannot be brought up: pages list
    monkeypatch.setattr(cluster, "FULL_EVERY_SECONDS", 0.0)
    held_model.publisher.publish()   # the whole kind again, as it is due
    assert pod_label(cluster.snapshot(), pod) == "lost"


def test_a_kind_published_whole_in_the_background_serves_a_new_process(model, monkeypatch):
    monkeypatch.setattr(cluster, "FULL_EVERY_SECONDS", 0.0)   # every change is due whole
    pod = cluster.snapshot().pods[0]
    patch_pod_label(pod, "whole")
    wait_for(lambda: pod_label(Snapshot(pods=model.watcher.kind_state("Pod")[2]), pod) == "whole"
             and model.publisher.whole.get("Pod", (0,))[0] >= model.watcher.head("Pod")[0],
             timeout=5, what="the whole kind to be published")
    cluster._decoded.clear()   # what a web process that starts now holds
    served = cluster.snapshot()
    assert pod_label(served, pod) == "whole"
    assert served == listed()
