"""Helpers shared by the Network Policies page tests (this module holds no tests)."""

from __future__ import annotations

from typing import Any

import yaml

from console.core import cluster
from console.policies import services


def netpol(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("podSelector", {})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def create(obj: dict[str, Any]) -> dict[str, Any]:
    """Write a policy straight to the cluster, as kubectl would, and drop the list cache."""
    created = cluster.gateway().create(obj)
    services.forget()
    return created


def live(namespace: str, name: str) -> dict[str, Any]:
    return cluster.gateway().get_object("NetworkPolicy", name, namespace)


def exists(namespace: str, name: str) -> bool:
    return any(p["metadata"]["name"] == name
               for p in cluster.gateway().list_objects("NetworkPolicy", namespace))


def as_yaml(obj: dict[str, Any]) -> str:
    return yaml.safe_dump(obj, sort_keys=False)
