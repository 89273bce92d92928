"""Snapshot import: a kubectl snapshot replaces the state, bad input changes nothing."""

from __future__ import annotations

import textwrap

import pytest

from isolation.snapshot import SnapshotError
from kubesim import SimulatorServer, import_snapshot
from kubesim.demo import DEMO_YAML

POLICY = """
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: deny, namespace: prod, uid: 11111111-2222-3333-4444-555555555555, resourceVersion: "987654"}
  spec: {podSelector: {}, policyTypes: [Ingress]}
- apiVersion: v1
  kind: Service
  metadata: {name: api, namespace: prod}
  spec: {type: ClusterIP, clusterIP: 172.20.4.4, selector: {app: api}, ports: [{port: 80}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: api-1, namespace: prod, labels: {app: api}}
  spec: {nodeName: n1, containers: [{name: api, image: api:1}]}
  status: {phase: Running, podIP: 100.64.1.5}
"""


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "state.json"
    SimulatorServer(seed="demo", state_file=str(path))
    return path


def _write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_import_replaces_the_state_and_keeps_what_the_cluster_reported(tmp_path, state) -> None:
    summary = import_snapshot([_write(tmp_path, "prod.yaml", POLICY)], str(state))
    assert summary.counts == {"Pod": 1, "Service": 1, "NetworkPolicy": 1}
    assert summary.added_namespaces == ["prod"]
    server = SimulatorServer(state_file=str(state))
    pod = server.store.get("pods", "prod", "api-1")
    assert pod["status"] == {"phase": "Running", "podIP": "100.64.1.5"}
    assert server.store.get("services", "prod", "api")["spec"]["clusterIP"] == "172.20.4.4"
    policy = server.store.get("networkpolicies.networking.k8s.io", "prod", "deny")
    assert policy["metadata"]["uid"] == "11111111-2222-3333-4444-555555555555"
    assert server.store.get("namespaces", "", "shop") is None


def test_the_demo_snapshot_imports_completely(tmp_path, state) -> None:
    summary = import_snapshot([str(DEMO_YAML)], str(state))
    assert summary.counts["Workspace"] == 2
    assert summary.counts["NamespaceNetworkPolicy"] == 4
    assert summary.added_namespaces == []


def test_a_later_file_wins_for_the_same_object(tmp_path, state) -> None:
    first = _write(tmp_path, "a.yaml", POLICY)
    second = _write(tmp_path, "b.yaml", """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny, namespace: prod}
        spec: {podSelector: {}, policyTypes: [Egress]}
        """)
    import_snapshot([first, second], str(state))
    policy = SimulatorServer(state_file=str(state)).store.get("networkpolicies.networking.k8s.io", "prod", "deny")
    assert policy["spec"]["policyTypes"] == ["Egress"]


@pytest.mark.parametrize(("text", "message"), [
    ("kind: [unclosed", "YAML syntax error"),
    ("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\n", "kind 'Secret' is not supported"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n", "document 1: the Pod has no metadata.name"),
    ("apiVersion: v1\nkind: List\nitems:\n- kind: Namespace\n  apiVersion: v1\n  metadata: {}\n",
     "document 1, item 0"),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {podSelector: {}}\n",
     "needs metadata.namespace"),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\n"
     "spec: {podSelector: {}, ingress: [{ports: [{port: 70000}]}]}\n", "NetworkPolicy x/p"),
    ("apiVersion: v9\nkind: Pod\nmetadata: {name: p, namespace: x}\n", "apiVersion 'v9' is not served"),
])
def test_bad_input_names_the_problem_and_leaves_the_state_untouched(tmp_path, state, text, message) -> None:
    before = state.read_bytes()
    bad = _write(tmp_path, "bad.yaml", text)
    with pytest.raises(SnapshotError) as caught:
        import_snapshot([_write(tmp_path, "good.yaml", POLICY), bad], str(state))
    assert message in str(caught.value)
    assert str(caught.value).startswith(bad)
    assert state.read_bytes() == before


def test_a_missing_file_is_reported_and_changes_nothing(tmp_path, state) -> None:
    before = state.read_bytes()
    with pytest.raises(SnapshotError, match="cannot read the file"):
        import_snapshot([str(tmp_path / "nope.yaml")], str(state))
    assert state.read_bytes() == before
