"""CustomResourceDefinitions: their validation and status, and the structural-schema checks
(types, required, enum, bounds, pruning of unknown fields) applied to custom resources."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from kubesim.errors import cause
from kubesim.resources import ResourceType

Causes = list[dict[str, str]]


def prepare_crd(obj: dict[str, Any], old: dict[str, Any] | None, now: str) -> Causes:
    """Default and validate a CRD in place and set the status a healthy apiextensions server sets."""
    spec = obj.setdefault("spec", {})
    names = spec.setdefault("names", {})
    causes: Causes = []
    group, plural, kind = spec.get("group"), names.get("plural"), names.get("kind")
    for field, value in (("spec.group", group), ("spec.names.plural", plural), ("spec.names.kind", kind)):
        if not value:
            causes.append(cause(field, "Required value", "FieldValueRequired"))
    if group and plural and obj["metadata"].get("name") != f"{plural}.{group}":
        causes.append(cause("metadata.name", f'Invalid value: "{obj["metadata"].get("name")}": must be '
                            "spec.names.plural+\".\"+spec.group"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(cause("spec.scope", f'Unsupported value: "{spec.get("scope")}": supported values: '
                            '"Cluster", "Namespaced"', "FieldValueNotSupported"))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(cause("spec.versions", "Invalid value: must have exactly one version marked as storage "
                            "version", "FieldValueInvalid"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(cause("spec.versions", "Invalid value: must have exactly one version marked as storage "
                            "version"))
    for i, version in enumerate(versions):
        if not (version.get("schema") or {}).get("openAPIV3Schema"):
            causes.append(cause(f"spec.versions[{i}].schema.openAPIV3Schema",
                                "Required value: schemas are required", "FieldValueRequired"))
        version.setdefault("served", True)
    if kind:
        names.setdefault("listKind", f"{kind}List")
        names.setdefault("singular", kind.lower())
    spec.setdefault("conversion", {"strategy": "None"})
    stored = [v["name"] for v in versions if v.get("storage")]
    previous = ((old or {}).get("status") or {}).get("conditions") or []
    since = {c.get("type"): c.get("lastTransitionTime") for c in previous}
    obj["status"] = {
        "acceptedNames": dict(names),
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": since.get("NamesAccepted") or now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": since.get("Established") or now},
        ],
        "storedVersions": sorted(set(stored) | set(((old or {}).get("status") or {}).get("storedVersions") or [])),
    }
    return causes


def validate_custom(rtype: ResourceType, obj: dict[str, Any]) -> Causes:
    """Validate a custom resource against its version's schema, pruning unknown fields in place."""
    schema = rtype.schema
    if not schema:
        return []
    causes: Causes = []
    for key in list(obj):
        if key in ("apiVersion", "kind", "metadata"):
            continue
        props = schema.get("properties") or {}
        if key in props:
            obj[key] = _check(obj[key], props[key], key, causes)
        elif not schema.get("x-kubernetes-preserve-unknown-fields"):
            del obj[key]
    for key in schema.get("required") or []:
        if key not in obj:
            causes.append(cause(key, "Required value", "FieldValueRequired"))
    return causes


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = _TYPES.get(kind)
    return expected is None or isinstance(value, expected)


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, dict | list) else kind_name(value)


def kind_name(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else type(value).__name__


def _check(value: Any, schema: dict[str, Any], path: str, causes: Causes) -> Any:
    if value is None:
        if not schema.get("nullable"):
            causes.append(cause(path, f"Invalid value: \"null\": {path} in body must be of type "
                                f"{schema.get('type', 'object')}: \"null\"", "FieldValueTypeInvalid"))
        return value
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, int | str) or isinstance(value, bool):
            causes.append(cause(path, f"Invalid value: {_show(value)}: {path} in body must be of type "
                                "integer or string", "FieldValueTypeInvalid"))
        return value
    kind = schema.get("type")
    if kind and not _type_ok(value, kind):
        causes.append(cause(path, f"Invalid value: {_show(value)}: {path} in body must be of type {kind}: "
                            f'"{kind_name(value)}"', "FieldValueTypeInvalid"))
        return value
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(v) for v in schema["enum"])
        causes.append(cause(path, f"Unsupported value: {_show(value)}: supported values: {allowed}",
                            "FieldValueNotSupported"))
    if isinstance(value, str):
        _check_string(value, schema, path, causes)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            causes.append(cause(path, f"Invalid value: {value}: {path} in body should be greater than or "
                                f"equal to {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            causes.append(cause(path, f"Invalid value: {value}: {path} in body should be less than or "
                                f"equal to {schema['maximum']}"))
    elif isinstance(value, list):
        items = schema.get("items") or {}
        value = [_check(item, items, f"{path}[{i}]", causes) for i, item in enumerate(value)]
    elif isinstance(value, dict):
        value = _check_object(value, schema, path, causes)
    return value


def _check_string(value: str, schema: dict[str, Any], path: str, causes: Causes) -> None:
    if "pattern" in schema and not re.search(schema["pattern"], value):
        causes.append(cause(path, f'Invalid value: "{value}": {path} in body should match '
                            f"'{schema['pattern']}'"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        causes.append(cause(path, f"Too long: may not be more than {schema['maxLength']} bytes",
                            "FieldValueTooLong"))
    if "minLength" in schema and len(value) < schema["minLength"]:
        causes.append(cause(path, f'Invalid value: "{value}": {path} in body should be at least '
                            f"{schema['minLength']} chars long"))


def _check_object(value: dict[str, Any], schema: dict[str, Any], path: str, causes: Causes) -> dict[str, Any]:
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields")
    out = {}
    for key, child in value.items():
        where = f"{path}.{key}"
        if props and key in props:
            out[key] = _check(child, props[key], where, causes)
        elif isinstance(extra, dict):
            out[key] = _check(child, extra, where, causes)
        elif preserve or extra is True or (props is None and extra is None and not schema.get("type")):
            out[key] = child
        # anything else is pruned, as a structural schema prunes unknown fields
    for key, child_schema in (props or {}).items():
        if key not in out and "default" in child_schema:
            out[key] = copy.deepcopy(child_schema["default"])
    for key in schema.get("required") or []:
        if key not in value:
            causes.append(cause(f"{path}.{key}", "Required value", "FieldValueRequired"))
    return out
