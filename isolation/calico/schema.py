"""The Calico schemas (projectcalico.org/v3 and crd.projectcalico.org/v1, the same fields) of
NetworkPolicy, GlobalNetworkPolicy, Tier and HostEndpoint, for strict type checks.

Fields follow the Calico resource reference
(https://docs.tigera.io/calico/latest/reference/resources/networkpolicy,
.../globalnetworkpolicy, .../tier, .../hostendpoint). Unknown fields are reported, like
the editor does for Kubernetes objects; `null` is accepted everywhere.
"""

from __future__ import annotations

import datetime
from typing import Any

from isolation.fielderrors import UNKNOWN_FIELD, FieldIssue, clip_value, type_invalid
from isolation.netpol.schema import OBJECT_META

Schema = str | dict[str, Any] | tuple[str, Any]

ICMP: dict[str, Schema] = {"type": "integer", "code": "integer"}
SERVICE_ACCOUNTS: dict[str, Schema] = {"names": ("list", "string"), "selector": "string"}
SERVICES: dict[str, Schema] = {"name": "string", "namespace": "string"}
ENTITY: dict[str, Schema] = {
    "nets": ("list", "string"), "notNets": ("list", "string"),
    "selector": "string", "notSelector": "string", "namespaceSelector": "string",
    "ports": ("list", "port"), "notPorts": ("list", "port"),
    "serviceAccounts": SERVICE_ACCOUNTS, "services": SERVICES,
}
HTTP: dict[str, Schema] = {"methods": ("list", "string"),
                           "paths": ("list", ("map", "string"))}
RULE: dict[str, Schema] = {
    "action": "string", "protocol": "protocol", "notProtocol": "protocol",
    "ipVersion": "integer", "icmp": ICMP, "notICMP": ICMP,
    "source": ENTITY, "destination": ENTITY, "http": HTTP,
    "metadata": {"annotations": ("map", "string")},
}
POLICY_SPEC: dict[str, Schema] = {
    "tier": "string", "order": "number", "selector": "string",
    "types": ("list", "string"), "ingress": ("list", RULE), "egress": ("list", RULE),
    "serviceAccountSelector": "string", "performanceHints": ("list", "string"),
}
GLOBAL_POLICY_SPEC: dict[str, Schema] = {
    **POLICY_SPEC, "namespaceSelector": "string", "doNotTrack": "boolean",
    "preDNAT": "boolean", "applyOnForward": "boolean",
}
TIER_SPEC: dict[str, Schema] = {"order": "number", "defaultAction": "string"}
HOST_ENDPOINT_SPEC: dict[str, Schema] = {
    "node": "string", "interfaceName": "string", "expectedIPs": ("list", "string"),
    "profiles": ("list", "string"),
    "ports": ("list", {"name": "string", "port": "integer", "protocol": "protocol"}),
}
SPECS: dict[str, dict[str, Schema]] = {
    "NetworkPolicy": POLICY_SPEC, "GlobalNetworkPolicy": GLOBAL_POLICY_SPEC,
    "Tier": TIER_SPEC, "HostEndpoint": HOST_ENDPOINT_SPEC,
}


def object_schema(kind: str) -> dict[str, Schema]:
    return {"apiVersion": "string", "kind": "string", "metadata": OBJECT_META,
            "spec": SPECS[kind], "status": "object"}


def schema_issues(obj: Any, kind: str) -> list[FieldIssue]:
    """Unknown fields and values of the wrong type in a Calico object of `kind`.

    Guarantees: never raises on plain data; an unknown field's subtree is not inspected.
    """
    issues: list[FieldIssue] = []
    _walk(obj, object_schema(kind), "", issues, kind)
    return issues


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _walk(value: Any, schema: Schema, path: str, issues: list[FieldIssue], kind: str) -> None:
    if value is None:
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            issues.append(type_invalid(path or "<root>", value, "object"))
            return
        for key, item in value.items():
            if not isinstance(key, str) or key not in schema:
                field = _child(path, str(key))
                issues.append(FieldIssue(field, f"unknown field {clip_value(field)}",
                                         UNKNOWN_FIELD, detail=f"not a field of Calico {kind}"))
                continue
            _walk(item, schema[key], _child(path, key), issues, kind)
        return
    if isinstance(schema, tuple):
        container, element = schema
        expected = list if container == "list" else dict
        if not isinstance(value, expected):
            issues.append(type_invalid(path, value, "array" if container == "list" else "object"))
            return
        items = enumerate(value) if container == "list" else value.items()
        for key, item in items:
            _walk(item, element, f"{path}[{key}]", issues, kind)
        return
    problem = _scalar_problem(value, schema)
    if problem:
        issues.append(type_invalid(path, value, problem))


def _scalar_problem(value: Any, kind: str) -> str | None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind == "string":
        return None if isinstance(value, str) else "string"
    if kind == "boolean":
        return None if isinstance(value, bool) else "boolean"
    if kind in ("integer", "int32", "int64"):  # the sized ones: metadata (OBJECT_META)
        return None if is_int else "integer"
    if kind == "number":
        return None if is_int or (isinstance(value, float) and not isinstance(value, bool)) \
            else "number"
    if kind in ("port", "protocol"):
        return None if is_int or isinstance(value, str) else "integer or string"
    if kind == "object":
        return None if isinstance(value, dict) else "object"
    if kind == "time":  # metadata timestamps (OBJECT_META), as YAML may read them
        return None if isinstance(value, str | datetime.date) else "string (RFC 3339 time)"
    raise ValueError(f"unknown schema type {kind!r}")
