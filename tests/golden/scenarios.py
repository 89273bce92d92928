"""Builders for compiler scenarios: the cluster of `cluster.yaml` plus isolation intent."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from isolation.snapshot import Snapshot, load_snapshot, with_name_label
from isolation.tenancy import ISOLATE_ANNOTATION, WORKSPACE_LABEL

GOLDEN_DIR = Path(__file__).parent


@cache
def _base() -> Snapshot:
    return load_snapshot((GOLDEN_DIR / "cluster.yaml").read_text())


def cluster() -> Snapshot:
    """A fresh copy of the scenario cluster (safe to modify)."""
    return copy.deepcopy(_base())


def _find(objects: list[dict[str, Any]], name: str, namespace: str | None = None):
    for obj in objects:
        meta = obj["metadata"]
        if meta["name"] == name and (namespace is None or meta.get("namespace") == namespace):
            return obj
    raise KeyError(f"{namespace}/{name}" if namespace else name)


def isolate_workspace(snapshot: Snapshot, workspace: str, value: Any = True) -> Snapshot:
    _find(snapshot.workspaces, workspace).setdefault("spec", {})["networkIsolation"] = value
    return snapshot


def isolate_project(snapshot: Snapshot, namespace: str, value: str = "enabled") -> Snapshot:
    meta = _find(snapshot.namespaces, namespace)["metadata"]
    meta.setdefault("annotations", {})[ISOLATE_ANNOTATION] = value
    return snapshot


def add_namespace(snapshot: Snapshot, name: str, workspace: str | None = None,
                  annotations: dict[str, str] | None = None) -> Snapshot:
    meta: dict[str, Any] = {"name": name}
    if workspace:
        meta["labels"] = {WORKSPACE_LABEL: workspace}
    if annotations:
        meta["annotations"] = dict(annotations)
    snapshot.namespaces.append(with_name_label({"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": meta}))
    return snapshot


def move_project(snapshot: Snapshot, namespace: str, workspace: str) -> Snapshot:
    _find(snapshot.namespaces, namespace)["metadata"]["labels"][WORKSPACE_LABEL] = workspace
    return snapshot


def entry(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    """A NamespaceNetworkPolicy; `spec` takes ingress=[...] and/or egress=[...]."""
    return {"apiVersion": "network.kubesphere.io/v1alpha1", "kind": "NamespaceNetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def add_entry(snapshot: Snapshot, namespace: str, name: str, **spec: Any) -> Snapshot:
    snapshot.nsnps.append(entry(namespace, name, **spec))
    return snapshot


def annotate_node(snapshot: Snapshot, node: str, key: str, value: str) -> Snapshot:
    _find(snapshot.nodes, node)["metadata"].setdefault("annotations", {})[key] = value
    return snapshot


def remove(snapshot: Snapshot, kind_attr: str, name: str, namespace: str | None = None):
    objects = getattr(snapshot, kind_attr)
    objects.remove(_find(objects, name, namespace))
    return snapshot


def ns_peer(name: str) -> dict[str, Any]:
    return {"namespace": {"name": name}}


def svc_peer(namespace: str, name: str) -> dict[str, Any]:
    return {"service": {"name": name, "namespace": namespace}}


def ip_peer(cidr: str, *excepts: str) -> dict[str, Any]:
    block: dict[str, Any] = {"cidr": cidr}
    if excepts:
        block["except"] = list(excepts)
    return {"ipBlock": block}
