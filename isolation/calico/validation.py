"""Checks of Calico objects with field paths, and the defaults Calico applies.

What is refused follows Calico's validator and resource reference
(https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#rule and the
GlobalNetworkPolicy, Tier and HostEndpoint pages): a known API group and kind; a name;
parsable selectors; CIDRs in `nets`; ports as numbers, `a:b` ranges or port names, and only
with a protocol that has ports (TCP, UDP, SCTP, UDPLite); an action of Allow, Deny, Pass or
Log; an existing tier; `types` of Ingress / Egress; preDNAT only with applyOnForward, without
egress rules and without doNotTrack.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from isolation import fielderrors as fe
from isolation.calico.model import (
    ACTIONS,
    BUILT_IN_TIERS,
    DEFAULT_TIER,
    DEFAULT_TIER_ORDER,
    DENY,
    GLOBAL_NETWORK_POLICY,
    GROUPS,
    HOST_ENDPOINT,
    NETWORK_POLICY,
    PASS,
    PORT_PROTOCOLS,
    TIER,
    api_group,
    default_types,
    protocol_name,
)
from isolation.calico.schema import SPECS, schema_issues
from isolation.calico.selector import selector_error
from isolation.fielderrors import UNKNOWN_FIELD, FieldIssue
from isolation.netpol.formats import dns1123_label_errors, dns1123_subdomain_errors

KINDS = (NETWORK_POLICY, GLOBAL_NETWORK_POLICY, TIER, HOST_ENDPOINT)
PROTOCOLS = ("TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True)
class ObjectProblem:
    """An object with problems; `evaluated` False when it was left out of the evaluation."""

    ref: str
    issues: tuple[FieldIssue, ...]
    evaluated: bool = False

    def __str__(self) -> str:
        return f"{self.ref}: " + "; ".join(str(issue) for issue in self.issues)


def object_ref(obj: Mapping[str, Any]) -> str:
    """`Kind namespace/name` (or `Kind name`) of an object, for messages."""
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    name = str(metadata.get("name") or "<unnamed>")
    namespace = metadata.get("namespace")
    where = f"{namespace}/{name}" if namespace and obj.get("kind") == NETWORK_POLICY else name
    return f"{obj.get('kind') or '<no kind>'} {where}"


def is_fatal(issue: FieldIssue) -> bool:
    """Unknown fields are dropped by the API server; every other issue refuses the object."""
    return issue.reason != UNKNOWN_FIELD


def default_calico_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a Calico policy with `types` and `tier` as Calico stores them."""
    result = dict(obj)
    spec = dict(result.get("spec") or {})
    spec["types"] = default_types(spec)
    spec.setdefault("tier", DEFAULT_TIER)
    result["spec"] = spec
    return result


def validate_object(obj: Any, known_tiers: Collection[str] = ()) -> list[FieldIssue]:
    """Every problem of a Calico object; `known_tiers` are the Tier objects that exist (the
    built-in tiers always do). Guarantees: never raises on plain data."""
    if not isinstance(obj, Mapping):
        return [fe.type_invalid("<root>", obj, "object")]
    group = api_group(obj)
    if group not in GROUPS:
        return [fe.not_supported("apiVersion", obj.get("apiVersion"),
                                 ["projectcalico.org/v3", "crd.projectcalico.org/v1"])]
    kind = obj.get("kind")
    if kind not in SPECS:
        return [fe.not_supported("kind", kind, list(KINDS))]
    issues = schema_issues(obj, kind)
    if any(is_fatal(issue) for issue in issues):
        return issues
    metadata = obj.get("metadata") or {}
    name = metadata.get("name")
    if not name:
        issues.append(fe.required("metadata.name"))
    else:
        issues += [fe.invalid("metadata.name", name, m) for m in dns1123_subdomain_errors(name)]
    namespace = metadata.get("namespace")
    if kind == NETWORK_POLICY and namespace:
        issues += [fe.invalid("metadata.namespace", namespace, m)
                   for m in dns1123_label_errors(namespace)]
    spec = obj.get("spec") or {}
    if kind == TIER:
        issues += _tier(name, spec)
    elif kind == HOST_ENDPOINT:
        issues += _host_endpoint(spec)
    else:
        issues += _policy(kind, spec, set(known_tiers) | set(BUILT_IN_TIERS))
    return issues


def _selector(value: Any, path: str) -> list[FieldIssue]:
    if value is None:
        return []
    error = selector_error(value)
    return [fe.invalid(path, value, error)] if error else []


def _policy(kind: str, spec: Mapping[str, Any], tiers: set[str]) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    tier = spec.get("tier")
    if tier and tier not in tiers:
        issues.append(fe.invalid("spec.tier", tier, "no Tier of this name exists"))
    for key in ("selector", "serviceAccountSelector", "namespaceSelector"):
        issues += _selector(spec.get(key), f"spec.{key}")
    types = spec.get("types") or []
    for index, value in enumerate(types):
        if value not in ("Ingress", "Egress"):
            issues.append(fe.not_supported(f"spec.types[{index}]", value, ["Ingress", "Egress"]))
        elif value in types[:index]:
            issues.append(fe.FieldIssue(f"spec.types[{index}]", f"Duplicate value: "
                                        f"{fe.format_value(value)}", "FieldValueDuplicate",
                                        value))
    for direction in ("ingress", "egress"):
        for index, rule in enumerate(spec.get(direction) or []):
            issues += _rule(rule or {}, f"spec.{direction}[{index}]")
    if kind == GLOBAL_NETWORK_POLICY:
        issues += _host_flags(spec)
    return issues


def _host_flags(spec: Mapping[str, Any]) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    if (spec.get("preDNAT") or spec.get("doNotTrack")) and not spec.get("applyOnForward"):
        issues.append(fe.invalid("spec.applyOnForward", spec.get("applyOnForward"),
                                 "must be true when preDNAT or doNotTrack is true"))
    if spec.get("preDNAT"):
        if spec.get("doNotTrack"):
            issues.append(fe.forbidden("spec.doNotTrack", "preDNAT and doNotTrack cannot both "
                                       "be true"))
        if spec.get("egress"):
            issues.append(fe.forbidden("spec.egress", "a preDNAT policy cannot have egress "
                                       "rules"))
        if "Egress" in (spec.get("types") or []):
            issues.append(fe.forbidden("spec.types", "a preDNAT policy applies to ingress only"))
    return issues


def _rule(rule: Mapping[str, Any], at: str) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    action = rule.get("action")
    if action is None:
        issues.append(fe.required(f"{at}.action"))
    elif action not in ACTIONS:
        issues.append(fe.not_supported(f"{at}.action", action, list(ACTIONS)))
    for key in ("protocol", "notProtocol"):
        issues += _protocol(rule.get(key), f"{at}.{key}")
    protocol = rule.get("protocol")
    has_ports = protocol is not None and protocol_name(protocol) in PORT_PROTOCOLS
    if rule.get("ipVersion") not in (None, 4, 6):
        issues.append(fe.not_supported(f"{at}.ipVersion", rule.get("ipVersion"), ["4", "6"]))
    for key in ("icmp", "notICMP"):
        if rule.get(key) and (protocol is None
                              or protocol_name(protocol) not in ("ICMP", "ICMPv6")):
            issues.append(fe.forbidden(f"{at}.{key}", "needs protocol ICMP or ICMPv6"))
    for side in ("source", "destination"):
        entity = rule.get(side) or {}
        issues += _entity(entity, f"{at}.{side}")
        for key in ("ports", "notPorts"):
            if entity.get(key) and not has_ports:
                issues.append(fe.forbidden(f"{at}.{side}.{key}", "ports need protocol TCP, UDP, "
                                           "SCTP or UDPLite"))
    return issues


def _protocol(value: Any, path: str) -> list[FieldIssue]:
    if value is None:
        return []
    if isinstance(value, int):
        return [] if 1 <= value <= 255 else [fe.invalid(path, value, "must be 1-255")]
    if protocol_name(value) in PROTOCOLS:
        return []
    return [fe.not_supported(path, value, [*PROTOCOLS, "1-255"])]


def _entity(entity: Mapping[str, Any], at: str) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    for key in ("selector", "notSelector", "namespaceSelector"):
        issues += _selector(entity.get(key), f"{at}.{key}")
    issues += _selector((entity.get("serviceAccounts") or {}).get("selector"),
                        f"{at}.serviceAccounts.selector")
    for key in ("nets", "notNets"):
        for index, net in enumerate(entity.get(key) or []):
            if not _is_net(net):
                issues.append(fe.invalid(f"{at}.{key}[{index}]", net,
                                         "must be a CIDR (10.0.0.0/8) or an IP address"))
    for key in ("ports", "notPorts"):
        for index, port in enumerate(entity.get(key) or []):
            error = port_error(port)
            if error:
                issues.append(fe.invalid(f"{at}.{key}[{index}]", port, error))
    return issues


def _is_net(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def port_error(value: int | str) -> str | None:
    """Why `value` is not a Calico port (number, `a:b` range or port name), or None."""
    if isinstance(value, int):
        return None if 0 <= value <= 65535 else "must be a port number 0-65535"
    if value.isdigit():
        return port_error(int(value))
    low, colon, high = value.partition(":")
    if colon:
        if not (low.isdigit() and high.isdigit()):
            return "a port range is two numbers as 'low:high'"
        if int(low) > int(high) or int(high) > 65535:
            return "a port range needs 0 <= low <= high <= 65535"
        return None
    if len(value) > 15 or not _PORT_NAME.match(value) or not re.search("[a-z]", value):
        return ("a named port has at most 15 lowercase letters, digits and '-', with a letter, "
                "not starting or ending with '-'")
    return None


def _tier(name: str | None, spec: Mapping[str, Any]) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    action = spec.get("defaultAction")
    if action is not None and action not in (DENY, PASS):
        issues.append(fe.not_supported("spec.defaultAction", action, [DENY, PASS]))
    built_in = BUILT_IN_TIERS.get(name or "")
    order = spec.get("order")
    if name == DEFAULT_TIER and order is not None and order != DEFAULT_TIER_ORDER:
        issues.append(fe.invalid("spec.order", order, "the default tier's order is 1000000"))
    if built_in is not None and action is not None and action != built_in.default_action:
        issues.append(fe.invalid("spec.defaultAction", action,
                                 f"the {name} tier's default action is {built_in.default_action}"))
    return issues


def _host_endpoint(spec: Mapping[str, Any]) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    if not spec.get("node"):
        issues.append(fe.required("spec.node"))
    if not spec.get("interfaceName") and not spec.get("expectedIPs"):
        issues.append(fe.required("spec.expectedIPs", "interfaceName or expectedIPs is required"))
    for index, ip in enumerate(spec.get("expectedIPs") or []):
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            issues.append(fe.invalid(f"spec.expectedIPs[{index}]", ip, "must be an IP address"))
    for index, port in enumerate(spec.get("ports") or []):
        at = f"spec.ports[{index}]"
        if not port.get("name"):
            issues.append(fe.required(f"{at}.name"))
        number = port.get("port")
        if number is None or not 1 <= number <= 65535:
            issues.append(fe.invalid(f"{at}.port", number, "must be a port number 1-65535"))
        issues += _protocol(port.get("protocol"), f"{at}.protocol")
    return issues
