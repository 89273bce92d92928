"""The fields `load_snapshot(engine_fields_only=True)` leaves out are fields the reachability
engine never reads: every key it reads of a pod is recorded, and none is a left-out one."""

from __future__ import annotations

import json

import pytest

from isolation import snapshot as snapshot_module
from isolation.reachability.engine import Cluster
from isolation.snapshot import Snapshot, load_snapshot
from tests.helpers import kubectl_snapshot_generator


class _Recorded(dict):
    """A mapping that notes every key read of it (as "where.key") in `reads`."""

    def __init__(self, data, where, reads):
        super().__init__(data)
        self.where, self.reads = where, reads

    def _note(self, key):
        self.reads.add(f"{self.where}.{key}")

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

    def __iter__(self):
        self._note("*")
        return super().__iter__()

    def items(self):
        self._note("*")
        return super().items()

    def keys(self):
        self._note("*")
        return super().keys()

    def values(self):
        self._note("*")
        return super().values()


def _recorded_pod(pod, reads):
    spec = dict(pod["spec"])
    for key in ("containers", "initContainers"):
        if key in spec:
            spec[key] = [_Recorded(c, "container", reads) for c in spec[key]]
    return _Recorded({**pod, "metadata": _Recorded(pod["metadata"], "metadata", reads),
                      "spec": _Recorded(spec, "spec", reads),
                      "status": _Recorded(pod["status"], "status", reads)}, "pod", reads)


@pytest.fixture(scope="module")
def whole_snapshot():
    items = kubectl_snapshot_generator().snapshot_list(40)
    # a native sidecar: an init container that keeps running serves ports too
    pod = next(obj for obj in items["items"] if obj["kind"] == "Pod")
    pod["spec"]["initContainers"] = [{
        "name": "proxy", "restartPolicy": "Always", "image": "proxy:1",
        "ports": [{"containerPort": 15001, "name": "proxy"}],
        "env": [{"name": "A", "value": "b"}], "resources": {}}]
    return load_snapshot(json.dumps(items))


def test_the_engine_never_reads_a_field_left_out_of_pods(whole_snapshot):
    reads: set[str] = set()
    snapshot = Snapshot(**{attr: list(getattr(whole_snapshot, attr))
                           for attr in snapshot_module.KIND_FIELDS.values()})
    snapshot.pods = [_recorded_pod(pod, reads) for pod in whole_snapshot.pods]
    cluster = Cluster.from_snapshot(snapshot)
    cluster.matrix().counts()
    pods = [pod.key for pod in cluster.pods]
    cluster.check(pods[0], pods[-1], "http")
    cluster.check(pods[-1], pods[1], 8080)
    assert "spec.containers" in reads and "status.podIP" in reads   # the recording works
    left_out = ({f"metadata.{key}" for key in snapshot_module._UNREAD_POD_METADATA}
                | {f"spec.{key}" for key in snapshot_module._UNREAD_POD_SPEC}
                | {f"status.{key}" for key in snapshot_module._UNREAD_POD_STATUS}
                | {f"container.{key}" for key in snapshot_module._UNREAD_CONTAINER})
    assert not reads & left_out
    assert not {"metadata.*", "spec.*", "status.*", "container.*"} & reads


def test_a_pruned_snapshot_gives_the_same_reachability(whole_snapshot):
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": whole_snapshot.objects()})
    pruned = load_snapshot(text, engine_fields_only=True)
    assert "annotations" not in pruned.pods[0]["metadata"]
    assert "securityContext" not in pruned.pods[0]["spec"]
    whole, lean = Cluster.from_snapshot(whole_snapshot), Cluster.from_snapshot(pruned)
    assert whole.matrix().counts() == lean.matrix().counts()
    assert [p.named_ports_key for p in whole.pods] == [p.named_ports_key for p in lean.pods]


def test_node_annotations_are_kept_for_their_tunnel_addresses():
    text = json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": "n1", "annotations": {"projectcalico.org/IPv4IPIPTunnelAddr": "10.9.0.1"},
        "managedFields": [{"manager": "calico-node"}]}})
    node = load_snapshot(text, engine_fields_only=True).nodes[0]
    assert node["metadata"] == {"name": "n1", "annotations": {
        "projectcalico.org/IPv4IPIPTunnelAddr": "10.9.0.1"}}
