"""The watched cluster model against a real kube-apiserver (tools/kube-testenv): the first list
equals the server's, and creates, updates and deletes arrive. (A fresh test server has not
compacted its history yet, so its 410 cannot be provoked here; the simulator's is.)"""

from __future__ import annotations

import pytest

from cluster.watch import ClusterWatcher
from tests.helpers import wait_for

pytestmark = pytest.mark.realapi


@pytest.fixture
def watcher(real_gateway):
    started = ClusterWatcher(real_gateway, kinds=("Namespace", "NetworkPolicy", "Workspace"),
                             watch_seconds=30).start()
    assert started.wait_synced(30)
    yield started
    started.stop()


def names(watcher: ClusterWatcher, kind: str, namespace: str | None = None) -> list[str]:
    return [o["metadata"]["name"] for o in watcher.kind_state(kind)[2]
            if namespace is None or o["metadata"].get("namespace") == namespace]


def test_the_model_follows_a_real_api_server(watcher, real_gateway, fresh_namespace):
    assert watcher.kind_state("Workspace")[2] == real_gateway.list_objects(
        "Workspace", managed_fields=False)
    real_gateway.create({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": fresh_namespace}})
    real_gateway.create({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": "deny-all", "namespace": fresh_namespace},
                         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    wait_for(lambda: names(watcher, "NetworkPolicy", fresh_namespace) == ["deny-all"],
             timeout=10, what="the created policy")
    real_gateway.merge_patch("NetworkPolicy", "deny-all", {"metadata": {"labels": {"a": "b"}}},
                             namespace=fresh_namespace)
    wait_for(lambda: [o for o in watcher.kind_state("NetworkPolicy")[2]
                      if o["metadata"]["namespace"] == fresh_namespace][0]["metadata"]
             .get("labels") == {"a": "b"}, timeout=10, what="the label")
    real_gateway.delete("NetworkPolicy", "deny-all", namespace=fresh_namespace)
    wait_for(lambda: names(watcher, "NetworkPolicy", fresh_namespace) == [], timeout=10,
             what="the deletion")
    assert watcher.kind_state("NetworkPolicy")[2] == real_gateway.list_objects(
        "NetworkPolicy", managed_fields=False)

