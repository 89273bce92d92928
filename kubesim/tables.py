"""`meta.k8s.io/v1` Table answers, which `kubectl get` asks for in its Accept header."""

from __future__ import annotations

import datetime
from typing import Any

from kubesim.resources import ResourceType


def wants_table(accept: str) -> bool:
    """Whether the first acceptable media type of an Accept header is a v1 Table."""
    for part in accept.split(","):
        params = {p.split("=", 1)[0].strip(): p.split("=", 1)[-1].strip() for p in part.split(";")[1:]}
        if params.get("as") == "Table":
            if params.get("v") == "v1" and params.get("g") == "meta.k8s.io":
                return True
            continue
        return False
    return False


def _age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    created = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    seconds = int((datetime.datetime.now(datetime.UTC) - created).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size or (unit == "m" and seconds >= size):
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


_EXTRA: dict[str, list[tuple[str, str]]] = {
    "Namespace": [("Status", "status.phase")],
    "Pod": [("Status", "status.phase"), ("IP", "status.podIP"), ("Node", "spec.nodeName")],
    "Service": [("Type", "spec.type"), ("Cluster-IP", "spec.clusterIP")],
    "Node": [("Internal-IP", "")],
}


def _cell(obj: dict[str, Any], path: str) -> str:
    if obj.get("kind") == "Node" and not path:
        addresses = (obj.get("status") or {}).get("addresses") or []
        return next((a.get("address", "") for a in addresses if a.get("type") == "InternalIP"), "<none>")
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "<none>" if value in (None, "") else str(value)


def as_table(rtype: ResourceType, body: dict[str, Any]) -> dict[str, Any]:
    """A list or a single object as a Table with Name, kind-specific columns and Age."""
    items = body.get("items", [body])
    extra = _EXTRA.get(rtype.kind, []) if not rtype.custom else []
    columns = [{"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}]
    columns += [{"name": title, "type": "string", "format": "", "description": title, "priority": 0}
                for title, _ in extra]
    columns.append({"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0})
    rows = []
    for obj in items:
        metadata = obj.get("metadata") or {}
        cells = [metadata.get("name", ""), *(_cell(obj, path) for _, path in extra),
                 _age(metadata.get("creationTimestamp"))]
        rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                "metadata": metadata}})
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if k in ("resourceVersion", "continue")}
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": columns, "rows": rows}
