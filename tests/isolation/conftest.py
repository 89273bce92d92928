"""Builders of small clusters for the NetworkPolicy and reachability tests."""

from __future__ import annotations

from typing import Any

import pytest

from isolation.reachability import Cluster
from isolation.snapshot import Snapshot, with_name_label


class K8s:
    """Plain API objects, as `kubectl get -o yaml` would print them."""

    @staticmethod
    def namespace(name: str, **labels: str) -> dict[str, Any]:
        return with_name_label({"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": name, "labels": dict(labels)}})

    @staticmethod
    def pod(key: str, ip: str | None, labels: dict[str, str] | None = None,
            ports: tuple = ((80, "TCP", "http"),), node: str = "node-1",
            host_network: bool = False, phase: str = "Running") -> dict[str, Any]:
        namespace, name = key.split("/")
        spec: dict[str, Any] = {"nodeName": node, "containers": [{
            "name": "main", "image": "app",
            "ports": [{"containerPort": number, "protocol": protocol,
                       **({"name": port_name} if port_name else {})}
                      for number, protocol, port_name in ports],
        }]}
        if host_network:
            spec["hostNetwork"] = True
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
                "spec": spec, "status": {"phase": phase, **({"podIP": ip} if ip else {})}}

    @staticmethod
    def policy(key: str, **spec: Any) -> dict[str, Any]:
        namespace, name = key.split("/")
        if "from_" in spec:
            raise TypeError("write rules as dicts: {'from': [...]}")
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": namespace}, "spec": spec}

    @staticmethod
    def node(name: str, internal_ip: str, **annotations: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "annotations": dict(annotations)},
                "status": {"addresses": [{"type": "InternalIP", "address": internal_ip}]}}

    @staticmethod
    def cluster(namespaces: list[dict], pods: list[dict], policies: list[dict] = (),
                nodes: list[dict] = (), extra_ips: list[str] = ()) -> Cluster:
        snapshot = Snapshot(namespaces=list(namespaces), pods=list(pods),
                            network_policies=list(policies), nodes=list(nodes))
        return Cluster.from_snapshot(snapshot, extra_ips=list(extra_ips))


@pytest.fixture
def k8s() -> type[K8s]:
    return K8s
