"""One ClusterView per snapshot: shared by every trace and digest of a list page, rebuilt when
the snapshot's lists change, and its per-namespace index equal to filtering the lists."""

from __future__ import annotations

from isolation.paths.cache import trace_digest
from isolation.paths.topology import ClusterView
from isolation.snapshot import Snapshot


def pod(namespace: str, name: str, app: str = "web") -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
            "spec": {"nodeName": "n1"}, "status": {"phase": "Running", "podIP": f"10.0.{len(name)}.{ord(name[-1])}"}}


def snapshot() -> Snapshot:
    snap = Snapshot()
    for obj in [pod("b", "b1"), pod("a", "a1"), pod("b", "b2"), pod("c", "c1"), pod("a", "a2")]:
        snap.add(obj)
    snap.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "a"},
              "spec": {"type": "NodePort", "selector": {"app": "web"},
                       "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}]}})
    return snap


def names(objs: list[dict]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


def test_the_same_snapshot_gets_the_same_view():
    snap = snapshot()
    assert ClusterView.of(snap) is ClusterView.of(snap)
    assert ClusterView.of(snap) is not ClusterView.of(snapshot())


def test_a_changed_list_gets_a_new_view():
    snap = snapshot()
    first = ClusterView.of(snap)
    snap.add(pod("a", "a3"))
    second = ClusterView.of(snap)
    assert second is not first
    assert names(second.in_namespaces("pods", {"a"})) == ["a1", "a2", "a3"]
    snap.pods = [p for p in snap.pods if p["metadata"]["namespace"] != "a"]
    assert ClusterView.of(snap).in_namespaces("pods", {"a"}) == []


def test_the_namespace_index_keeps_snapshot_order():
    snap = snapshot()
    view = ClusterView.of(snap)
    for wanted in ({"a"}, {"b"}, {"a", "c"}, {"a", "b", "c"}, {"zz"}, set()):
        expected = [p for p in snap.pods if p["metadata"]["namespace"] in wanted]
        assert view.in_namespaces("pods", wanted) == expected


def test_the_digest_is_unchanged_by_the_shared_view():
    """A digest computed with a fresh view equals one computed with the shared view."""
    snap = snapshot()
    shared = trace_digest(snap, service=("a", "web"), client_ip="203.0.113.9")
    ClusterView._recent = []
    assert trace_digest(snap, service=("a", "web"), client_ip="203.0.113.9") == shared
    other = snapshot()
    other.add(pod("a", "a9"))
    assert trace_digest(other, service=("a", "web"), client_ip="203.0.113.9") != shared
    assert trace_digest(other, service=("a", "web"), client_ip="203.0.113.9") == trace_digest(
        other, service=("a", "web"), client_ip="203.0.113.9")
