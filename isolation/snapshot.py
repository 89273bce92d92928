"""A whole-cluster snapshot as plain Kubernetes objects (dicts), grouped by kind.

This is the one input shape of every domain engine (reachability, compiler, traffic paths). It
is filled either from YAML that `kubectl get ... -o yaml` printed (`load_snapshot`) or from the
live cluster through the gateway. Objects stay as the API server would return them; engines
read only the fields they need.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from isolation.yamlio import YamlInputError, load_documents

NAME_LABEL = "kubernetes.io/metadata.name"

# kind -> Snapshot attribute
KIND_FIELDS: dict[str, str] = {
    "Namespace": "namespaces",
    "Node": "nodes",
    "Pod": "pods",
    "Service": "services",
    "Endpoints": "endpoints",
    "EndpointSlice": "endpoint_slices",
    "Ingress": "ingresses",
    "NetworkPolicy": "network_policies",
    "Workspace": "workspaces",
    "NamespaceNetworkPolicy": "nsnps",
    "IPPool": "ip_pools",
}


@dataclass
class Snapshot:
    """Plain API objects of one cluster at one moment."""

    namespaces: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    endpoint_slices: list[dict[str, Any]] = field(default_factory=list)
    ingresses: list[dict[str, Any]] = field(default_factory=list)
    network_policies: list[dict[str, Any]] = field(default_factory=list)
    workspaces: list[dict[str, Any]] = field(default_factory=list)
    nsnps: list[dict[str, Any]] = field(default_factory=list)
    ip_pools: list[dict[str, Any]] = field(default_factory=list)

    def add(self, obj: dict[str, Any]) -> None:
        getattr(self, KIND_FIELDS[obj["kind"]]).append(obj)

    def objects(self) -> list[dict[str, Any]]:
        """Every object, in KIND_FIELDS order."""
        return [obj for attr in KIND_FIELDS.values() for obj in getattr(self, attr)]

    def with_network_policies(self, policies: list[dict[str, Any]]) -> Snapshot:
        """A copy whose NetworkPolicies are `policies` (used for what-if evaluations)."""
        copy = Snapshot(**{attr: list(getattr(self, attr)) for attr in KIND_FIELDS.values()})
        copy.network_policies = list(policies)
        return copy


class SnapshotError(ValueError):
    """A snapshot that cannot be loaded; the message names the document and field."""


def load_snapshot(text: str | bytes, *, allow_unknown_kinds: bool = True,
                  max_bytes: int | None = None) -> Snapshot:
    """Load multi-document YAML or `kind: List` objects into a Snapshot.

    Guarantees: every object has a kind and a metadata.name (else SnapshotError naming the
    document); Namespaces carry their `kubernetes.io/metadata.name` label; objects of unknown
    kinds are skipped, or refused when `allow_unknown_kinds` is False.
    """
    snapshot = Snapshot()
    for index, data in _parse(text, max_bytes):
        for position, obj in _items(data, index):
            where = f"document {index}" + (f", item {position}" if position is not None else "")
            _check_object(obj, where)
            kind = obj["kind"]
            if kind not in KIND_FIELDS:
                if allow_unknown_kinds:
                    continue
                known = ", ".join(sorted(KIND_FIELDS))
                raise SnapshotError(f"{where}: kind {kind!r} is not supported (supported: {known})")
            if kind == "Namespace":
                labels = obj["metadata"].get("labels")
                if labels is not None and not isinstance(labels, dict):
                    raise SnapshotError(f"{where}: metadata.labels of Namespace "
                                        f"{obj['metadata']['name']!r} must be a mapping")
                obj = with_name_label(obj)
            snapshot.add(obj)
    return snapshot


def _parse(text: str | bytes, max_bytes: int | None) -> list[tuple[int, Any]]:
    """(document index, data) pairs; `kubectl -o json` output takes the much faster JSON path."""
    head = text.lstrip()[:1]
    if head in ("{", b"{"):
        if max_bytes is not None and len(text) > max_bytes:
            raise SnapshotError(f"the input is larger than the limit of {max_bytes:,} bytes")
        try:
            return [(1, json.loads(text))]
        except ValueError:
            pass  # not JSON after all (YAML flow style): the YAML loader reports precisely
        except RecursionError:
            raise SnapshotError("document 1: the document is nested too deeply") from None
    try:
        return [(doc.index, doc.data) for doc in load_documents(text, max_bytes=max_bytes)]
    except YamlInputError as exc:
        raise SnapshotError(str(exc)) from None


def with_name_label(namespace: dict[str, Any]) -> dict[str, Any]:
    """The Namespace with its immutable `kubernetes.io/metadata.name` label set."""
    metadata = dict(namespace.get("metadata") or {})
    labels = dict(metadata.get("labels") or {})
    labels.setdefault(NAME_LABEL, metadata["name"])
    metadata["labels"] = labels
    return {**namespace, "metadata": metadata}


def _items(data: Any, index: int) -> list[tuple[int | None, Any]]:
    if isinstance(data, dict) and data.get("kind") == "List" or (
        isinstance(data, dict) and str(data.get("kind", "")).endswith("List") and "items" in data
    ):
        items = data.get("items") or []
        if not isinstance(items, list):
            raise SnapshotError(f"document {index}: items must be a list")
        return list(enumerate(items))
    return [(None, data)]


def _check_object(obj: Any, where: str) -> None:
    if not isinstance(obj, dict):
        raise SnapshotError(f"{where}: expected a Kubernetes object (a mapping), got {type(obj).__name__}")
    if not isinstance(obj.get("kind"), str) or not obj["kind"]:
        raise SnapshotError(f"{where}: the object has no kind")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise SnapshotError(f"{where}: the {obj['kind']} has no metadata.name")
