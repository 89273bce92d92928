"""The upstream Kubernetes network-policy e2e scenarios give the engine's truth tables.

Data: data/upstream_netpol_e2e.yaml (transcribed from kubernetes/kubernetes
test/e2e/network/netpol/network_policy.go; see its header for the conventions).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from isolation.reachability.engine import Cluster
from isolation.snapshot import Snapshot, with_name_label

DATA = Path(__file__).parents[1] / "data" / "upstream_netpol_e2e.yaml"
SCENARIOS = yaml.safe_load(DATA.read_text())["scenarios"]
NAMESPACES = ("x", "y", "z")
POD_NUMBER = {"a": 1, "b": 2, "c": 3}


def _pod(key: str, ports: list[int], protocols: list[str], labels: dict[str, str]) -> dict:
    namespace, name = key.split("/")
    ip = f"10.0.{NAMESPACES.index(namespace) + 1}.{POD_NUMBER[name]}"
    containers = [{"name": f"cont-{port}-{protocol.lower()}", "image": "agnhost",
                   "ports": [{"containerPort": port, "protocol": protocol,
                              "name": f"serve-{port}-{protocol.lower()}"}]}
                  for port in ports for protocol in protocols]
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"nodeName": "node-1", "containers": containers},
            "status": {"phase": "Running", "podIP": ip}}


class World:
    """The scenario's objects as they evolve step by step."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        self.ports = scenario["ports"]
        self.protocols = scenario.get("protocols", ["TCP"])
        self.pod_keys = scenario["pods"]
        self.pod_labels = {key: {"pod": key.split("/")[1]} for key in self.pod_keys}
        self.namespace_labels = {name: {"ns": name} for name in NAMESPACES}
        self.policies: dict[tuple[str, str], dict] = {}

    def step(self, step: dict[str, Any]) -> None:
        if step.get("delete_all_policies"):
            self.policies.clear()
        for item in step.get("apply", []):
            self.policies[(item["namespace"], item["name"])] = {
                "kind": "NetworkPolicy",
                "metadata": {"namespace": item["namespace"], "name": item["name"]},
                "spec": copy.deepcopy(item["spec"]),
            }
        for name, labels in step.get("namespace_labels", {}).items():
            self.namespace_labels[name].update(labels)
        for key, labels in step.get("pod_labels", {}).items():
            self.pod_labels[key].update(labels)

    def cluster(self) -> Cluster:
        snapshot = Snapshot(
            namespaces=[with_name_label({"kind": "Namespace",
                                         "metadata": {"name": n, "labels": dict(labels)}})
                        for n, labels in self.namespace_labels.items()],
            pods=[_pod(k, self.ports, self.protocols, self.pod_labels[k]) for k in self.pod_keys],
            network_policies=list(self.policies.values()),
        )
        return Cluster.from_snapshot(snapshot)


def _matches(peer: dict[str, str], key: str) -> bool:
    namespace, name = key.split("/")
    return peer.get("namespace", namespace) == namespace and peer.get("pod", name) == name


def expected_table(pods: list[str], operations: list[list]) -> dict[tuple[str, str], bool]:
    """The upstream Reachability truth table after its Expect* calls, loopback left out."""
    table = {(a, b): True for a in pods for b in pods}
    for operation, *args in operations:
        if operation == "peer":
            src, dst, allowed = args
            for a in pods:
                for b in pods:
                    if _matches(src, a) and _matches(dst, b):
                        table[(a, b)] = allowed
        elif operation == "all_ingress":
            target, allowed = args
            for a in pods:
                table[(a, target)] = allowed
        elif operation == "all_egress":
            source, allowed = args
            for b in pods:
                table[(source, b)] = allowed
        elif operation == "pair":
            src, dst, allowed = args
            table[(src, dst)] = allowed
        else:
            raise ValueError(f"unknown expectation {operation}")
    return {pair: allowed for pair, allowed in table.items() if pair[0] != pair[1]}


CASES = [
    pytest.param(scenario, id=scenario["name"][:90]) for scenario in SCENARIOS
]


def test_the_transcription_covers_the_upstream_suites():
    assert len(SCENARIOS) == 48
    assert {s.get("protocols", ["TCP"])[0] for s in SCENARIOS} == {"TCP", "UDP", "SCTP"}


@pytest.mark.parametrize("scenario", CASES)
def test_engine_reproduces_the_upstream_truth_table(scenario):
    world = World(scenario)
    for step in scenario["steps"]:
        world.step(step)
        cluster = world.cluster()
        for probe in step["probes"]:
            protocol = probe.get("protocol", "TCP")
            expected = expected_table(world.pod_keys, probe["expect"])
            checked = {pair: cluster.check(pair[0], pair[1], probe["port"], protocol).allowed
                       for pair in expected}
            wrong = sorted(pair for pair in expected if checked[pair] != expected[pair])
            assert not wrong, f"check() disagrees on port {probe['port']}/{protocol}: {wrong}"

            matrix = cluster.matrix(world.pod_keys, world.pod_keys, [(probe["port"], protocol)])
            from_matrix = {(c.src, c.dst): c.allowed for c in matrix.connections()}
            assert from_matrix == expected
