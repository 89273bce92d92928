"""The networking.k8s.io/v1 NetworkPolicy schema, for strict checks of user-written YAML.

kube-apiserver refuses a value of the wrong type while decoding (400 Bad Request) and drops an
unknown field with a warning. The YAML editor flags both, pointing at the field's line.
"""

from __future__ import annotations

import datetime
from typing import Any

from isolation.fielderrors import UNKNOWN_FIELD, FieldIssue, type_invalid, unknown_field

# A schema node is a scalar type name, an object (dict of field -> node), or a
# ("list" | "map", node) pair. "object" accepts any mapping (managedFields' fieldsV1).
Schema = str | dict[str, Any] | tuple[str, Any]

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)

LABEL_SELECTOR: dict[str, Schema] = {
    "matchLabels": ("map", "string"),
    "matchExpressions": ("list", {"key": "string", "operator": "string", "values": ("list", "string")}),
}
PORT: dict[str, Schema] = {"protocol": "string", "port": "intOrString", "endPort": "int32"}
PEER: dict[str, Schema] = {
    "podSelector": LABEL_SELECTOR,
    "namespaceSelector": LABEL_SELECTOR,
    "ipBlock": {"cidr": "string", "except": ("list", "string")},
}
OWNER_REFERENCE: dict[str, Schema] = {
    "apiVersion": "string", "kind": "string", "name": "string", "uid": "string",
    "controller": "boolean", "blockOwnerDeletion": "boolean",
}
MANAGED_FIELDS_ENTRY: dict[str, Schema] = {
    "manager": "string", "operation": "string", "apiVersion": "string", "time": "time",
    "fieldsType": "string", "fieldsV1": "object", "subresource": "string",
}
OBJECT_META: dict[str, Schema] = {
    "name": "string", "generateName": "string", "namespace": "string", "selfLink": "string",
    "uid": "string", "resourceVersion": "string", "generation": "int64",
    "creationTimestamp": "time", "deletionTimestamp": "time",
    "deletionGracePeriodSeconds": "int64", "labels": ("map", "string"),
    "annotations": ("map", "string"), "ownerReferences": ("list", OWNER_REFERENCE),
    "finalizers": ("list", "string"), "managedFields": ("list", MANAGED_FIELDS_ENTRY),
}
INGRESS_RULE: dict[str, Schema] = {"ports": ("list", PORT), "from": ("list", PEER)}
EGRESS_RULE: dict[str, Schema] = {"ports": ("list", PORT), "to": ("list", PEER)}
NETWORK_POLICY: dict[str, Schema] = {
    "apiVersion": "string",
    "kind": "string",
    "metadata": OBJECT_META,
    "spec": {
        "podSelector": LABEL_SELECTOR,
        "ingress": ("list", INGRESS_RULE),
        "egress": ("list", EGRESS_RULE),
        "policyTypes": ("list", "string"),
    },
}


def schema_issues(obj: Any, schema: Schema = NETWORK_POLICY, path: str = "") -> list[FieldIssue]:
    """Every field of `obj` unknown to `schema` and every value of the wrong type.

    Guarantees: never raises on any plain data; `null` is accepted everywhere (the API server
    reads it as "not set"); an unknown field's subtree is not inspected further.
    """
    issues: list[FieldIssue] = []
    _walk(obj, schema, (None, "", path) if path else None, issues)
    return issues


def type_issues(obj: Any) -> list[FieldIssue]:
    """Only the wrong-type problems of `schema_issues` (what makes decoding fail)."""
    return [issue for issue in schema_issues(obj) if issue.reason != UNKNOWN_FIELD]


# A field path while walking: None at the root, else (parent, how the step is written, step):
# "." for a field, "[]" for a list index or map key, "" for a given prefix. Its text is made
# only for an issue: a policy of thousands of rules has no path string built per value.
_Path = tuple[Any, str, Any] | None


def _text(path: _Path) -> str:
    steps = []
    while path is not None:
        path, how, step = path
        steps.append((how, step))
    text = ""
    for how, step in reversed(steps):
        if how == "[]":
            text = f"{text}[{step}]"
        elif how == "." and text:
            text = f"{text}.{step}"
        else:
            text = str(step)
    return text


def _walk(value: Any, schema: Schema, path: _Path, issues: list[FieldIssue]) -> None:
    if value is None:
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            issues.append(type_invalid(_text(path) or "<root>", value, "object"))
            return
        for key, item in value.items():
            field = schema.get(key) if isinstance(key, str) else None
            if field is None:
                issues.append(unknown_field(_text((path, ".", str(key)))))
            elif item is None or (field == "string" and isinstance(item, str)):
                continue
            else:
                _walk(item, field, (path, ".", key), issues)
        return
    if isinstance(schema, tuple):
        container, element = schema
        if container == "list":
            if not isinstance(value, list):
                issues.append(type_invalid(_text(path), value, "array"))
                return
            fits = _FITS.get(id(element))
            for index, item in enumerate(value):
                if item is None or (fits is not None and fits(item)) or \
                        (element == "string" and isinstance(item, str)):
                    continue
                _walk(item, element, (path, "[]", index), issues)
        else:
            if not isinstance(value, dict):
                issues.append(type_invalid(_text(path), value, "object"))
                return
            for key, item in value.items():
                if not isinstance(key, str):
                    issues.append(type_invalid(_text((path, "[]", key)), key, "string"))
                    continue
                if item is not None and not (element == "string" and isinstance(item, str)):
                    _walk(item, element, (path, "[]", key), issues)
        return
    problem = _scalar_problem(value, schema)
    if problem:
        issues.append(type_invalid(_text(path), value, problem))


# The rules of a large policy are mostly of a few plain shapes. These checks say, in one call
# per rule and without building paths, that `_walk` would find nothing in one: True only when
# it would not (anything unusual, such as a subclass of str or int, goes the long way and gets
# the same answer).


def _fits_int32(value: Any) -> bool:
    return value is None or (type(value) is int and _INT32[0] <= value <= _INT32[1])


def _fits_texts(value: Any) -> bool:
    return value is None or (type(value) is list and all(
        item is None or type(item) is str for item in value))


def _fits_label_selector(selector: Any) -> bool:
    if type(selector) is not dict:
        return False
    for key, value in selector.items():
        if key == "matchLabels":
            if value is not None and (type(value) is not dict or not all(
                    type(k) is str and (v is None or type(v) is str) for k, v in value.items())):
                return False
        elif key == "matchExpressions":
            if value is not None and (type(value) is not list or not all(
                    item is None or _fits_requirement(item) for item in value)):
                return False
        else:
            return False
    return True


def _fits_requirement(requirement: Any) -> bool:
    if type(requirement) is not dict:
        return False
    for key, value in requirement.items():
        if key == "key" or key == "operator":
            if not (value is None or type(value) is str):
                return False
        elif key != "values" or not _fits_texts(value):
            return False
    return True


def _fits_ip_block(block: Any) -> bool:
    if type(block) is not dict:
        return False
    for key, value in block.items():
        if key == "cidr":
            if not (value is None or type(value) is str):
                return False
        elif key != "except" or not _fits_texts(value):
            return False
    return True


def _fits_peer(peer: Any) -> bool:
    if type(peer) is not dict:
        return False
    for key, value in peer.items():
        if key == "ipBlock":
            if value is not None and not _fits_ip_block(value):
                return False
        elif key == "podSelector" or key == "namespaceSelector":
            if value is not None and not _fits_label_selector(value):
                return False
        else:
            return False
    return True


def _fits_port(port: Any) -> bool:
    if type(port) is not dict:
        return False
    for key, value in port.items():
        if key == "port":
            if not (type(value) is str or _fits_int32(value)):
                return False
        elif key == "protocol":
            if not (value is None or type(value) is str):
                return False
        elif key != "endPort" or not _fits_int32(value):
            return False
    return True


def _rule_fits(peers_key: str) -> Any:
    def fits(rule: Any) -> bool:
        if type(rule) is not dict:
            return False
        for key, value in rule.items():
            if key == "ports":
                check = _fits_port
            elif key == peers_key:
                check = _fits_peer
            else:
                return False        # an unknown field, null or not
            if value is None:
                continue
            if type(value) is not list:
                return False
            for item in value:
                if item is not None and not check(item):
                    return False
        return True
    return fits


# By the identity of the element schema of a list: the check of one of its items.
_FITS = {id(INGRESS_RULE): _rule_fits("from"), id(EGRESS_RULE): _rule_fits("to")}


def _scalar_problem(value: Any, kind: str) -> str | None:
    """The expected type's name when `value` does not fit scalar type `kind`, else None."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind == "string":
        return None if isinstance(value, str) else "string"
    if kind == "boolean":
        return None if isinstance(value, bool) else "boolean"
    if kind in ("int32", "int64"):
        low, high = _INT32 if kind == "int32" else _INT64
        return None if is_int and low <= value <= high else kind
    if kind == "intOrString":
        if isinstance(value, str) or (is_int and _INT32[0] <= value <= _INT32[1]):
            return None
        return "int32 or string"
    if kind == "time":
        ok = isinstance(value, str | datetime.date)
        return None if ok else "string (RFC 3339 time)"
    if kind == "object":
        return None if isinstance(value, dict) else "object"
    raise ValueError(f"unknown schema type {kind!r}")
