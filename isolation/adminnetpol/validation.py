"""AdminNetworkPolicy / BaselineAdminNetworkPolicy defaulting and validation.

The checks are those of the released v1alpha1 CRDs (OpenAPI bounds, enums, one-of properties
and the CEL rules), reported with kube-apiserver's field paths and wording, so the editor and
the offline commands point at the same field kubectl would:

- `spec.priority` (ANP only) is required, from 0 to 1000;
- `spec.subject` and every peer and port set exactly one of their fields;
- at most 100 rules per direction, 100 peers and 100 ports per rule, 25 `networks` per peer;
  a rule's `name` is at most 100 characters; its `action` is Allow, Deny or Pass (a BANP
  has no Pass); `from`/`to` has at least one peer;
- ports are 1-65535, a `portRange` has start < end; protocols TCP (the default), UDP, SCTP;
- `networks` are CIDRs without host bits (the CRD's `cidr(self) == cidr(self).masked()`);
- a BaselineAdminNetworkPolicy must be named `default` (there is one per cluster).
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from isolation import fielderrors as fe
from isolation.adminnetpol.schema import (
    ADMIN_KIND,
    ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_NETWORK_POLICY,
    BASELINE_KIND,
)
from isolation.fielderrors import FieldIssue
from isolation.netpol.formats import dns1123_subdomain_errors, parse_cidr, port_name_errors
from isolation.netpol.schema import schema_issues
from isolation.netpol.validation import validate_label_selector

PROTOCOLS = ["TCP", "UDP", "SCTP"]
ADMIN_ACTIONS = ["Allow", "Deny", "Pass"]
BASELINE_ACTIONS = ["Allow", "Deny"]
MAX_PRIORITY = 1000
MAX_RULES = 100
MAX_PEERS = 100
MAX_PORTS = 100
MAX_NETWORKS = 25
MAX_RULE_NAME = 100
BASELINE_NAME = "default"


def default_admin_policy(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` with the CRD's defaults: `protocol: TCP` on every `portNumber` and `portRange`
    that has none. `obj` is not modified: the result is a new object along every path that
    defaulting can change, and shares the rest (selectors, peers) with `obj`. Idempotent;
    values of the wrong type are left for validation."""
    if not isinstance(obj, dict):
        return copy.deepcopy(obj)
    result = dict(obj)
    spec = result.get("spec")
    if not isinstance(spec, dict):
        return result
    spec = result["spec"] = dict(spec)
    for direction in ("ingress", "egress"):
        rules = spec.get(direction)
        if isinstance(rules, list):
            spec[direction] = [_default_rule(rule) for rule in rules]
    return result


def _default_rule(rule: Any) -> Any:
    if not isinstance(rule, dict) or not isinstance(rule.get("ports"), list):
        return rule
    return {**rule, "ports": [_default_port(port) for port in rule["ports"]]}


def _default_port(port: Any) -> Any:
    if not isinstance(port, dict):
        return port
    result = dict(port)
    for key in ("portNumber", "portRange"):
        entry = result.get(key)
        if isinstance(entry, dict):
            result[key] = {**entry, "protocol": entry.get("protocol") or "TCP"}
    return result


def defaulted_and_issues(obj: Any) -> tuple[Any, list[FieldIssue]]:
    """The defaulted object and everything the API server would reject in it.

    Wrong types are reported alone (decoding fails before validation); unknown fields are not
    errors here (the server prunes them); see `unknown_fields`. Never raises on plain data.
    """
    if not isinstance(obj, dict):
        return obj, [fe.type_invalid("<root>", obj, "object")]
    baseline = obj.get("kind") == BASELINE_KIND
    schema = BASELINE_ADMIN_NETWORK_POLICY if baseline else ADMIN_NETWORK_POLICY
    wrong_types = [i for i in schema_issues(obj, schema) if i.reason != fe.UNKNOWN_FIELD]
    if wrong_types:
        return obj, wrong_types
    policy = default_admin_policy(obj)
    issues = _validate_metadata(policy.get("metadata") or {}, baseline)
    spec = policy.get("spec")
    if spec is None:
        return policy, [*issues, fe.required("spec", "")]
    return policy, issues + _validate_spec(spec, baseline)


def validate_admin_policy(obj: Any) -> list[FieldIssue]:
    """Everything the API server would reject in an AdminNetworkPolicy or a
    BaselineAdminNetworkPolicy (chosen by `kind`), after defaulting."""
    return defaulted_and_issues(obj)[1]


def unknown_fields(obj: dict[str, Any]) -> list[FieldIssue]:
    """Fields the v1alpha1 schema does not have, and values of the wrong type."""
    baseline = isinstance(obj, dict) and obj.get("kind") == BASELINE_KIND
    return schema_issues(obj, BASELINE_ADMIN_NETWORK_POLICY if baseline else ADMIN_NETWORK_POLICY)


def _validate_metadata(metadata: dict[str, Any], baseline: bool) -> list[FieldIssue]:
    name = metadata.get("name") or ""
    if not name:
        return [fe.required("metadata.name", "name or generateName is required")]
    issues = [fe.invalid("metadata.name", name, msg) for msg in dns1123_subdomain_errors(name)]
    if metadata.get("namespace"):
        kind = BASELINE_KIND if baseline else ADMIN_KIND
        issues.append(fe.forbidden("metadata.namespace",
                                   f"not allowed on this type: {kind} is cluster-scoped"))
    if baseline and name != BASELINE_NAME:
        issues.append(fe.invalid(
            "metadata.name", name, 'Only one baseline admin network policy with '
            'metadata.name="default" can be created in the cluster'))
    return issues


def _validate_spec(spec: dict[str, Any], baseline: bool) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    if not baseline:
        priority = spec.get("priority")
        if priority is None:
            issues.append(fe.required("spec.priority", ""))
        elif priority < 0:
            issues.append(fe.invalid("spec.priority", priority,
                                     "spec.priority in body should be greater than or equal to 0"))
        elif priority > MAX_PRIORITY:
            issues.append(fe.invalid(
                "spec.priority", priority,
                f"spec.priority in body should be less than or equal to {MAX_PRIORITY}"))
    issues += _validate_subject(spec.get("subject"))
    actions = BASELINE_ACTIONS if baseline else ADMIN_ACTIONS
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction) or []
        if len(rules) > MAX_RULES:
            issues.append(_too_many(f"spec.{direction}", len(rules), MAX_RULES))
        for index, rule in enumerate(rules):
            issues += _validate_rule(rule or {}, f"spec.{direction}[{index}]", peers_key, actions)
    return issues


def _validate_subject(subject: dict[str, Any] | None) -> list[FieldIssue]:
    if subject is None:
        return [fe.required("spec.subject", "")]
    issues = _exactly_one(subject, "spec.subject", ("namespaces", "pods"))
    if subject.get("namespaces") is not None:
        issues += validate_label_selector(subject["namespaces"], "spec.subject.namespaces")
    if subject.get("pods") is not None:
        issues += _validate_namespaced_pods(subject["pods"], "spec.subject.pods")
    return issues


def _validate_rule(rule: dict[str, Any], at: str, peers_key: str,
                   actions: list[str]) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    name = rule.get("name") or ""
    if len(name) > MAX_RULE_NAME:
        issues.append(FieldIssue(field=f"{at}.name", reason="FieldValueTooLong",
                                 message=f"Too long: may not be longer than {MAX_RULE_NAME}",
                                 value=name, detail=f"may not be longer than {MAX_RULE_NAME}"))
    action = rule.get("action")
    if not action:
        issues.append(fe.required(f"{at}.action", ""))
    elif action not in actions:
        issues.append(fe.not_supported(f"{at}.action", action, actions))
    peers = rule.get(peers_key)
    if peers is None:
        issues.append(fe.required(f"{at}.{peers_key}", ""))
    elif not peers:
        issues.append(fe.invalid(f"{at}.{peers_key}", peers,
                                 f"{at}.{peers_key} in body should have at least 1 items"))
    elif len(peers) > MAX_PEERS:
        issues.append(_too_many(f"{at}.{peers_key}", len(peers), MAX_PEERS))
    fields = ("namespaces", "pods") if peers_key == "from" else \
        ("namespaces", "pods", "nodes", "networks")
    for index, peer in enumerate(peers or []):
        issues += _validate_peer(peer or {}, f"{at}.{peers_key}[{index}]", fields)
    ports = rule.get("ports")
    if ports is not None and len(ports) > MAX_PORTS:
        issues.append(_too_many(f"{at}.ports", len(ports), MAX_PORTS))
    for index, port in enumerate(ports or []):
        issues += _validate_port(port or {}, f"{at}.ports[{index}]")
    return issues


def _validate_peer(peer: dict[str, Any], at: str, fields: tuple[str, ...]) -> list[FieldIssue]:
    issues = _exactly_one(peer, at, fields)
    for key in ("namespaces", "nodes"):
        if peer.get(key) is not None:
            issues += validate_label_selector(peer[key], f"{at}.{key}")
    if peer.get("pods") is not None:
        issues += _validate_namespaced_pods(peer["pods"], f"{at}.pods")
    networks = peer.get("networks")
    if networks is not None:
        if not networks:
            issues.append(fe.invalid(f"{at}.networks", networks,
                                     f"{at}.networks in body should have at least 1 items"))
        elif len(networks) > MAX_NETWORKS:
            issues.append(_too_many(f"{at}.networks", len(networks), MAX_NETWORKS))
        for index, value in enumerate(networks):
            issues += _validate_network(value or "", f"{at}.networks[{index}]")
        if len(set(networks)) != len(networks):
            duplicate = next(v for v in networks if networks.count(v) > 1)
            issues.append(FieldIssue(field=f"{at}.networks", reason="FieldValueDuplicate",
                                     message=f"Duplicate value: {fe.format_value(duplicate)}",
                                     value=duplicate))
    return issues


def _validate_network(value: str, at: str) -> list[FieldIssue]:
    """A CIDR the CRD accepts: parseable and without host bits (10.0.0.0/8, not 10.0.0.1/8)."""
    network = parse_cidr(value)
    address = value.partition("/")[0]
    try:
        exact = network is not None and ipaddress.ip_address(address) == network.network_address
    except ValueError:
        exact = False
    if not exact:
        return [fe.invalid(at, value, "CIDR must be either an IPv4 or IPv6 address. IPv4 "
                                      "address embedded in IPv6 addresses are not supported")]
    return []


def _validate_namespaced_pods(pods: dict[str, Any], at: str) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    for key in ("namespaceSelector", "podSelector"):
        if pods.get(key) is None:
            issues.append(fe.required(f"{at}.{key}", ""))
        else:
            issues += validate_label_selector(pods[key], f"{at}.{key}")
    return issues


def _validate_port(port: dict[str, Any], at: str) -> list[FieldIssue]:
    issues = _exactly_one(port, at, ("portNumber", "namedPort", "portRange"))
    number = port.get("portNumber")
    if number is not None:
        issues += _protocol(number, f"{at}.portNumber")
        if number.get("port") is None:
            issues.append(fe.required(f"{at}.portNumber.port", ""))
        else:
            issues += _port_bounds(number["port"], f"{at}.portNumber.port")
    named = port.get("namedPort")
    if named is not None:
        issues += [fe.invalid(f"{at}.namedPort", named, msg) for msg in port_name_errors(named)]
    span = port.get("portRange")
    if span is not None:
        issues += _protocol(span, f"{at}.portRange")
        for key in ("start", "end"):
            if span.get(key) is None:
                issues.append(fe.required(f"{at}.portRange.{key}", ""))
            else:
                issues += _port_bounds(span[key], f"{at}.portRange.{key}")
        start, end = span.get("start"), span.get("end")
        if isinstance(start, int) and isinstance(end, int) and start >= end:
            issues.append(fe.invalid(f"{at}.portRange", span,
                                     "Start port must be less than End port"))
    return issues


def _protocol(entry: dict[str, Any], at: str) -> list[FieldIssue]:
    protocol = entry.get("protocol") or "TCP"
    if protocol not in PROTOCOLS:
        return [fe.not_supported(f"{at}.protocol", protocol, PROTOCOLS)]
    return []


def _port_bounds(value: int, at: str) -> list[FieldIssue]:
    if value < 1:
        return [fe.invalid(at, value, f"{at} in body should be greater than or equal to 1")]
    if value > 65535:
        return [fe.invalid(at, value, f"{at} in body should be less than or equal to 65535")]
    return []


def _exactly_one(value: dict[str, Any], at: str, fields: tuple[str, ...]) -> list[FieldIssue]:
    """The CRD's `minProperties: 1` / `maxProperties: 1` on a one-of object."""
    present = [key for key in fields if value.get(key) is not None]
    if not present:
        return [fe.invalid(at, 0, f"{at} in body should have at least 1 properties "
                                  f"(one of {', '.join(fields)})")]
    if len(present) > 1:
        return [FieldIssue(field=at, reason="FieldValueTooMany",
                           message=f"Too many: {len(present)}: must have at most 1 items "
                                   f"({' and '.join(present)} are both set)",
                           value=len(present))]
    return []


def _too_many(at: str, count: int, limit: int) -> FieldIssue:
    return FieldIssue(field=at, reason="FieldValueTooMany",
                      message=f"Too many: {count}: must have at most {limit} items", value=count)
