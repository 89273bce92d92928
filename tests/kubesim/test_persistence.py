"""The state file: written atomically, loaded on restart, never losing acknowledged writes."""

from __future__ import annotations

import json
import os

import pytest
from kubernetes import client

from kubesim import SimulatorServer
from kubesim.persistence import StateFileError


def _core(server: SimulatorServer) -> client.CoreV1Api:
    cfg = client.Configuration()
    cfg.host = server.url
    return client.CoreV1Api(client.ApiClient(cfg))


def test_objects_written_before_a_clean_stop_are_there_after_a_restart(tmp_path) -> None:
    state = str(tmp_path / "state.json")
    first = SimulatorServer(seed="empty", state_file=state).start()
    created = _core(first).create_namespace({"metadata": {"name": "kept", "labels": {"a": "1"}}})
    first.stop()
    second = SimulatorServer(seed="demo", state_file=state).start()
    try:
        again = _core(second).read_namespace("kept")
        assert again.metadata.uid == created.metadata.uid
        assert again.metadata.labels["a"] == "1"
        # the state file wins over the seed, and versions keep counting up
        assert [n.metadata.name for n in _core(second).list_node().items] == []
        later = _core(second).create_namespace({"metadata": {"name": "later"}})
        assert int(later.metadata.resource_version) > int(created.metadata.resource_version)
    finally:
        second.stop()


def test_custom_resource_definitions_are_served_again_after_a_restart(tmp_path) -> None:
    state = str(tmp_path / "state.json")
    SimulatorServer(seed="demo", state_file=state)
    server = SimulatorServer(state_file=state).start()
    try:
        cfg = client.Configuration()
        cfg.host = server.url
        workspaces = client.CustomObjectsApi(client.ApiClient(cfg)).list_cluster_custom_object(
            "tenant.kubesphere.io", "v1alpha1", "workspaces")
        assert [w["metadata"]["name"] for w in workspaces["items"]] == ["team-a", "team-b"]
    finally:
        server.stop()


def test_a_fresh_state_file_is_written_from_the_seed(tmp_path) -> None:
    state = tmp_path / "nested" / "state.json"
    SimulatorServer(seed="empty", state_file=str(state))
    data = json.loads(state.read_text())
    assert data["format"] == "kubesim/v1"
    assert [o["metadata"]["name"] for o in data["objects"]["namespaces"]] == [
        "default", "kube-node-lease", "kube-public", "kube-system"]


def test_writes_leave_no_temporary_files_behind(tmp_path) -> None:
    state = str(tmp_path / "state.json")
    server = SimulatorServer(state_file=state).start()
    for i in range(5):
        _core(server).create_namespace({"metadata": {"name": f"n{i}"}})
    server.stop()
    assert sorted(os.listdir(tmp_path)) == ["state.json"]


@pytest.mark.parametrize("content", ["{not json", '{"format": "other"}', "[]"])
def test_an_unreadable_state_file_is_refused_with_a_clear_error(tmp_path, content: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    with pytest.raises(StateFileError, match="state.json"):
        SimulatorServer(state_file=str(state))
    assert state.read_text() == content
