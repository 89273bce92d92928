"""NetworkPolicy (networking.k8s.io/v1) defaulting and validation, as kube-apiserver does them.

The API simulator answers with these functions, and the YAML editor uses them to point errors at
lines (`parse_field_path` + `isolation.yamlio.locate`). Messages, field paths and reasons follow
kube-apiserver's `ValidateNetworkPolicy` so that a user sees the same words as with kubectl.
"""

from __future__ import annotations

import re
from typing import Any

from isolation import fielderrors as fe
from isolation.fielderrors import FieldIssue
from isolation.netpol.formats import (
    CIDR_MESSAGE,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    is_strict_subnet,
    label_value_errors,
    parse_cidr,
    port_name_errors,
    port_number_errors,
    qualified_name_errors,
)
from isolation.netpol.schema import schema_issues, type_issues
from isolation.yamlio import plain_copy

__all__ = [
    "FieldIssue", "PROTOCOLS", "POLICY_TYPES", "default_network_policy", "parse_field_path",
    "apply_network_policy_defaults", "lacks_network_policy_defaults", "stored_network_policy", "unknown_fields",
    "validate_defaulted_network_policy", "validate_network_policy",
    "validate_typed_network_policy",
]

PROTOCOLS = ["TCP", "UDP", "SCTP"]
POLICY_TYPES = ["Ingress", "Egress"]
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_ANNOTATIONS_MAX_BYTES = 256 * 1024
_PATH_STEP = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


def default_network_policy(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `obj` with the API server's defaults applied; `obj` is not modified.

    Guarantees: `spec.podSelector` is `{}` when missing or null; every `ports[]` entry has a
    `protocol` (TCP when missing); `spec.policyTypes`, only when absent or empty, becomes
    `["Ingress"]` plus `"Egress"` when the policy has egress rules. Applying it twice changes
    nothing, and values of the wrong type are left for validation to report.
    """
    result = _copy(obj)
    if isinstance(result, dict):
        apply_network_policy_defaults(result)
    return result


def apply_network_policy_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` given the API server's defaults in place (as `default_network_policy` gives them
    to its copy), and returned; a part that has its value already is not written to, so a
    defaulted object shared with others is left as it is."""
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        return obj
    if spec.get("podSelector") is None:
        spec["podSelector"] = {}
    for direction in ("ingress", "egress"):
        rules = spec.get(direction)
        if not isinstance(rules, list):
            continue
        for rule in rules:
            ports = rule.get("ports") if isinstance(rule, dict) else None
            if not isinstance(ports, list):
                continue
            for index, port in enumerate(ports):
                if port is None:
                    ports[index] = {"protocol": "TCP"}
                elif isinstance(port, dict) and port.get("protocol") is None:
                    port["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        egress = spec.get("egress")
        spec["policyTypes"] = ["Ingress", "Egress"] if egress else ["Ingress"]
    return obj


def lacks_network_policy_defaults(obj: Any) -> bool:
    """Whether `apply_network_policy_defaults` would write anything to `obj` (a policy the API
    server returned never lacks one)."""
    if not isinstance(obj, dict):
        return False
    spec = obj.get("spec")
    if spec is None:
        return True
    if not isinstance(spec, dict):
        return False
    if spec.get("podSelector") is None or not spec.get("policyTypes"):
        return True
    for direction in ("ingress", "egress"):
        rules = spec.get(direction)
        for rule in rules if isinstance(rules, list) else ():
            ports = rule.get("ports") if isinstance(rule, dict) else None
            for port in ports if isinstance(ports, list) else ():
                if port is None or (isinstance(port, dict) and port.get("protocol") is None):
                    return True
    return False


# Fields the API server leaves out of its answers when they are empty (`omitempty`).
_OMITTED_WHEN_EMPTY = frozenset({
    "ingress", "egress", "policyTypes", "ports", "from", "to", "except", "matchLabels",
    "matchExpressions", "values", "labels", "annotations", "finalizers", "ownerReferences",
})


def stored_network_policy(obj: dict[str, Any]) -> dict[str, Any]:
    """The policy as the API server stores and returns it: defaulted, without null fields and
    without the empty lists and maps it omits (`ingress: []`, `from: []`, `matchLabels: {}`...).

    Guarantees: the stored form has the same meaning as `obj`; `podSelector` and the peer
    selectors stay even when empty (`{}` selects everything there).
    """
    return _drop_empty(default_network_policy(obj))


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if item is None or (key in _OMITTED_WHEN_EMPTY and item in ([], {})):
                continue
            result[key] = _drop_empty(item)
        return result
    if isinstance(value, list):
        return [_drop_empty(item) for item in value]
    return value


def _copy(value: Any) -> Any:
    """Deep copy of plain YAML/JSON data (much faster than copy.deepcopy on policies)."""
    return plain_copy(value)


def defaulted_and_issues(obj: dict[str, Any]) -> tuple[dict[str, Any], list[FieldIssue]]:
    """`default_network_policy(obj)` and `validate_network_policy(obj)` in one pass."""
    if not isinstance(obj, dict):
        return obj, [fe.type_invalid("<root>", obj, "object")]
    wrong_types = type_issues(obj)
    if wrong_types:
        return obj, wrong_types
    policy = default_network_policy(obj)
    return policy, _validate_metadata(policy.get("metadata") or {}) + _validate_spec(policy["spec"])


def validate_defaulted_network_policy(policy: dict[str, Any]) -> list[FieldIssue]:
    """`validate_network_policy(policy)` of a policy `default_network_policy` returned, without
    copying it again (defaulting is idempotent: the policy is its own defaulted form)."""
    if not isinstance(policy, dict):
        return [fe.type_invalid("<root>", policy, "object")]
    wrong_types = type_issues(policy)
    if wrong_types:
        return wrong_types
    return _validate_metadata(policy.get("metadata") or {}) + _validate_spec(policy["spec"])


def validate_typed_network_policy(obj: dict[str, Any]) -> list[FieldIssue]:
    """`validate_network_policy(obj)` of an object in which `schema_issues` found no value of
    a wrong type (the caller walked it already): the same issues, without walking it again
    or copying it to default it (a default never changes what validation finds)."""
    if not isinstance(obj, dict):
        return [fe.type_invalid("<root>", obj, "object")]
    return _validate_metadata(obj.get("metadata") or {}) + _validate_spec(obj.get("spec") or {})


def validate_network_policy(obj: dict[str, Any]) -> list[FieldIssue]:
    """Everything kube-apiserver would reject in `obj` on create, in its order and wording.

    The object is defaulted first (defaulting is idempotent, so an already defaulted object is
    fine). Values of the wrong type are reported alone (reason FieldValueTypeInvalid), since the
    API server fails while decoding before it validates. `metadata.namespace` is checked only
    when present: on create the server takes it from the request path. Unknown fields are not
    errors here (the server drops them); see `unknown_fields`. Never raises on plain data.
    """
    if not isinstance(obj, dict):
        return [fe.type_invalid("<root>", obj, "object")]
    # The issues of the defaulted object, found without making it: a default never changes
    # what validation finds.
    return type_issues(obj) or validate_typed_network_policy(obj)


def unknown_fields(obj: dict[str, Any]) -> list[FieldIssue]:
    """Fields that are not in the NetworkPolicy v1 schema and values of the wrong type.

    Unknown fields carry reason `FieldValueUnknown` and the server's warning text
    (`unknown field "spec.foo"`); wrong types carry `FieldValueTypeInvalid`.
    """
    return schema_issues(obj)


def parse_field_path(path: str) -> tuple[str | int, ...]:
    """Split an API field path into keys and list indexes.

    `"spec.ingress[0].ports[1].port"` gives `("spec", "ingress", 0, "ports", 1, "port")`;
    a bracketed non-number is a map key: `"metadata.labels[app]"` gives
    `("metadata", "labels", "app")`.
    """
    steps: list[str | int] = []
    for name, bracket in _PATH_STEP.findall(path):
        if name:
            steps.append(name)
        elif bracket.isdigit():
            steps.append(int(bracket))
        else:
            steps.append(bracket)
    return tuple(steps)


def _validate_metadata(metadata: dict[str, Any]) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    name = metadata.get("name") or ""
    generate_name = metadata.get("generateName") or ""
    if name:
        issues += [fe.invalid("metadata.name", name, msg) for msg in dns1123_subdomain_errors(name)]
    elif generate_name:
        # generateName is a prefix: a trailing "-" is fine because a suffix follows it.
        prefix = generate_name[:-1] if generate_name.endswith("-") else generate_name
        issues += [fe.invalid("metadata.generateName", generate_name, msg)
                   for msg in dns1123_subdomain_errors(prefix)]
    else:
        issues.append(fe.required("metadata.name", "name or generateName is required"))
    namespace = metadata.get("namespace")
    if namespace:
        issues += [fe.invalid("metadata.namespace", namespace, msg)
                   for msg in dns1123_label_errors(namespace)]
    issues += _validate_labels(metadata.get("labels") or {}, "metadata.labels")
    annotations = metadata.get("annotations") or {}
    for key in sorted(annotations):
        issues += [fe.invalid("metadata.annotations", key, msg)
                   for msg in qualified_name_errors(key.lower())]
    size = sum(len(k.encode()) + len((v or "").encode()) for k, v in annotations.items())
    if size > _ANNOTATIONS_MAX_BYTES:
        issues.append(fe.FieldIssue(
            field="metadata.annotations", message=f"Too long: must have at most "
            f"{_ANNOTATIONS_MAX_BYTES} bytes", reason="FieldValueTooLong",
            detail=f"must have at most {_ANNOTATIONS_MAX_BYTES} bytes"))
    return issues


def _validate_labels(labels: dict[str, Any], path: str) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    for key in sorted(labels):
        value = labels[key] or ""
        issues += [fe.invalid(path, key, msg) for msg in qualified_name_errors(key)]
        issues += [fe.invalid(path, value, msg) for msg in label_value_errors(value)]
    return issues


def validate_label_selector(selector: dict[str, Any] | None, path: str) -> list[FieldIssue]:
    """Problems kube-apiserver finds in a LabelSelector (keys, values, operators)."""
    if selector is None:
        return []
    issues = _validate_labels(selector.get("matchLabels") or {}, f"{path}.matchLabels")
    for index, requirement in enumerate(selector.get("matchExpressions") or []):
        at = f"{path}.matchExpressions[{index}]"
        requirement = requirement or {}
        operator = requirement.get("operator") or ""
        values = requirement.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                issues.append(fe.required(
                    f"{at}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                issues.append(fe.forbidden(
                    f"{at}.values",
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            issues.append(fe.invalid(f"{at}.operator", operator, "not a valid selector operator"))
        key = requirement.get("key") or ""
        issues += [fe.invalid(f"{at}.key", key, msg) for msg in qualified_name_errors(key)]
        for value_index, value in enumerate(values):
            issues += [fe.invalid(f"{at}.values[{value_index}]", value, msg)
                       for msg in label_value_errors(value or "")]
    return issues


def _validate_spec(spec: dict[str, Any]) -> list[FieldIssue]:
    issues = validate_label_selector(spec.get("podSelector") or {}, "spec.podSelector")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rule_index, rule in enumerate(spec.get(direction) or []):
            rule = rule or {}
            for port_index, port in enumerate(rule.get("ports") or []):
                if not _plain_port_is_valid(port):
                    issues += _validate_port(port or {}, f"spec.{direction}[{rule_index}]"
                                                         f".ports[{port_index}]")
            for peer_index, peer in enumerate(rule.get(peers_key) or []):
                if not _plain_ip_block_is_valid(peer):
                    issues += _validate_peer(peer or {}, f"spec.{direction}[{rule_index}]"
                                                         f".{peers_key}[{peer_index}]")
    policy_types = spec.get("policyTypes") or []
    if len(policy_types) > len(POLICY_TYPES):
        issues.append(fe.invalid("spec.policyTypes", policy_types,
                                 "may not specify more than two policyTypes"))
        return issues
    for index, policy_type in enumerate(policy_types):
        if policy_type not in POLICY_TYPES:
            issues.append(fe.not_supported(f"spec.policyTypes[{index}]", policy_type, POLICY_TYPES))
    return issues


# The shapes most rules of a large policy have, checked without building field paths (a
# policy of thousands of rules is mostly these); anything else takes the full checks below.
_PROTOCOLS_OR_NONE = frozenset((*PROTOCOLS, None))


def _plain_port_is_valid(port: Any) -> bool:
    """True for a port `_validate_port` finds nothing in: a protocol or none, a port number
    in range and no endPort."""
    if type(port) is not dict:
        return False
    number = port.get("port")
    return (type(number) is int and 1 <= number <= 65535 and port.get("endPort") is None
            and port.get("protocol") in _PROTOCOLS_OR_NONE)


def _plain_ip_block_is_valid(peer: Any) -> bool:
    """True for a peer `_validate_peer` finds nothing in: only an ipBlock, of a CIDR the
    API server takes and no exceptions."""
    if type(peer) is not dict or peer.get("podSelector") is not None or \
            peer.get("namespaceSelector") is not None:
        return False
    block = peer.get("ipBlock")
    return (type(block) is dict and not block.get("except")
            and parse_cidr(block.get("cidr") or "") is not None)


def _validate_port(port: dict[str, Any], at: str) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        issues.append(fe.not_supported(f"{at}.protocol", protocol, PROTOCOLS))
    number_or_name = port.get("port")
    end_port = port.get("endPort")
    if number_or_name is None:
        if end_port is not None:
            issues.append(fe.invalid(f"{at}.endPort", end_port,
                                     "may not be specified when `port` is not specified"))
    elif isinstance(number_or_name, int):
        issues += [fe.invalid(f"{at}.port", number_or_name, msg)
                   for msg in port_number_errors(number_or_name)]
        if end_port is not None:
            if end_port < number_or_name:
                issues.append(fe.invalid(f"{at}.endPort", end_port,
                                         "must be greater than or equal to `port`"))
            issues += [fe.invalid(f"{at}.endPort", end_port, msg)
                       for msg in port_number_errors(end_port)]
    else:
        if end_port is not None:
            issues.append(fe.invalid(f"{at}.endPort", end_port,
                                     "may not be specified when `port` is non-numeric"))
        issues += [fe.invalid(f"{at}.port", number_or_name, msg)
                   for msg in port_name_errors(number_or_name)]
    return issues


def _validate_peer(peer: dict[str, Any], at: str) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    present = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            present += 1
            issues += validate_label_selector(peer[key], f"{at}.{key}")
    ip_block = peer.get("ipBlock")
    if ip_block is not None:
        present += 1
        issues += _validate_ip_block(ip_block, f"{at}.ipBlock")
    if present == 0:
        issues.append(fe.required(at, "must specify a peer"))
    elif present > 1 and ip_block is not None:
        issues.append(fe.forbidden(at, "may not specify both ipBlock and another peer"))
    return issues


def _validate_ip_block(ip_block: dict[str, Any], at: str) -> list[FieldIssue]:
    cidr_text = ip_block.get("cidr") or ""
    if not cidr_text:
        return [fe.required(f"{at}.cidr")]
    cidr = parse_cidr(cidr_text)
    if cidr is None:
        return [fe.invalid(f"{at}.cidr", cidr_text, CIDR_MESSAGE)]
    issues: list[FieldIssue] = []
    for index, except_text in enumerate(ip_block.get("except") or []):
        except_at = f"{at}.except[{index}]"
        excluded = parse_cidr(except_text or "")
        if excluded is None:
            issues.append(fe.invalid(except_at, except_text or "", CIDR_MESSAGE))
        elif not is_strict_subnet(excluded, cidr):
            issues.append(fe.invalid(except_at, except_text, "must be a strict subset of `cidr`"))
    return issues
