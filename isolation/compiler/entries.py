"""Allowlist entry -> `nsnp-<entry>` NetworkPolicy, and Service port resolution.

Peers convert as DESIGN §2.1 says: `namespace` -> a namespaceSelector on the namespace's name
label; `service` -> the Service's selector as podSelector AND its namespace (same peer, both
must match); `ipBlock` -> copied. On egress a Service peer without explicit ports is allowed
on the Service's targetPorts, resolved to the pods' container ports: NetworkPolicies are
evaluated after kube-proxy's DNAT, so the Service's own `port` would never match. Ports the
user wrote on a rule are pod ports already (allowlist ports are always the pod's port) and
are used as written.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from isolation.compiler.intent import GENERATED_PREFIX
from isolation.compiler.tenancy import Tenancy, get_list, name_of, namespace_of, string_map


@dataclass(frozen=True)
class Flavour:
    """The differences between the console's engine and KubeSphere v3's."""

    namespace_label: str         # label used to select one namespace by name
    resolve_target_ports: bool   # egress Service ports: targetPort (fix) or Service port
    canonical_order: bool        # sort peers and ports (KubeSphere keeps input order)


def namespace_peer(label: str, namespace: str) -> dict[str, Any]:
    """A peer selecting every pod of one namespace."""
    return {"namespaceSelector": {"matchLabels": {label: namespace}}}


def compile_entry(entry: dict[str, Any], tenancy: Tenancy, flavour: Flavour) -> dict[str, Any]:
    """The NetworkPolicy generated from a *valid* entry (see intent.validate_entry).

    policyTypes lists exactly the directions that have rules; in KubeSphere's order
    [Egress, Ingress] for the kubesphere flavour, [Ingress, Egress] otherwise.
    """
    spec = entry["spec"]
    namespace = namespace_of(entry)
    out: dict[str, Any] = {"podSelector": {}}
    types: list[str] = []
    ingress = [_ingress_rule(rule, tenancy, flavour) for rule in spec.get("ingress") or []]
    egress = [r for rule in spec.get("egress") or []
              for r in _egress_rules(rule, tenancy, flavour)]
    if ingress:
        out["ingress"] = ingress
        types.append("Ingress")
    if egress:
        out["egress"] = egress
        types.append("Egress")
    if not flavour.canonical_order:
        types.reverse()
    out["policyTypes"] = types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": GENERATED_PREFIX + name_of(entry), "namespace": namespace},
            "spec": out}


def _ingress_rule(rule: dict[str, Any], tenancy: Tenancy, flavour: Flavour) -> dict[str, Any]:
    peers = [_peer(p, tenancy, flavour) for p in rule["from"]]
    out: dict[str, Any] = {"from": _order_peers(peers, flavour)}
    ports = _rule_ports(rule, flavour)
    if ports:
        out["ports"] = ports
    return out


def _egress_rules(rule: dict[str, Any], tenancy: Tenancy,
                  flavour: Flavour) -> list[dict[str, Any]]:
    explicit_ports = _rule_ports(rule, flavour)
    service_rules: list[dict[str, Any]] = []
    shared: list[dict[str, Any]] = []
    for peer in rule["to"]:
        converted = _peer(peer, tenancy, flavour)
        # KubeSphere always gives a Service peer the Service's ports; the console only when
        # the rule itself does not say which ports.
        if "service" in peer and (not flavour.canonical_order or not explicit_ports):
            ref = peer["service"]
            service = tenancy.services[(ref["namespace"], ref["name"])]
            ports = service_ports(service, tenancy, flavour)
            if flavour.canonical_order:
                ports = canonical_ports(ports)
            item: dict[str, Any] = {"to": [converted]}
            if ports:
                item["ports"] = ports
            service_rules.append(item)
        else:
            shared.append(converted)
    if flavour.canonical_order:
        service_rules.sort(key=lambda r: _json(r))
        service_rules = _dedupe(service_rules)
    rules = list(service_rules)
    if shared:
        out: dict[str, Any] = {"to": _order_peers(shared, flavour)}
        if explicit_ports:
            out["ports"] = explicit_ports
        rules.append(out)
    return rules


def _peer(peer: dict[str, Any], tenancy: Tenancy, flavour: Flavour) -> dict[str, Any]:
    if peer.get("service") is not None:
        ref = peer["service"]
        service = tenancy.services[(ref["namespace"], ref["name"])]
        return {"namespaceSelector": {"matchLabels": {flavour.namespace_label:
                                                      ref["namespace"]}},
                "podSelector": {"matchLabels": dict(string_map(service, "spec.selector"))}}
    if peer.get("namespace") is not None:
        return namespace_peer(flavour.namespace_label, peer["namespace"]["name"])
    block = peer["ipBlock"]
    copied: dict[str, Any] = {"cidr": block["cidr"].strip()}
    if block.get("except"):
        copied["except"] = [value.strip() for value in block["except"]]
        if flavour.canonical_order:
            copied["except"] = sorted(set(copied["except"]), key=_cidr_key)
    return {"ipBlock": copied}


def _rule_ports(rule: dict[str, Any], flavour: Flavour) -> list[dict[str, Any]]:
    ports = []
    for port in rule.get("ports") or []:
        item: dict[str, Any] = {"protocol": port.get("protocol", "TCP")}
        if port.get("port") is not None:
            item["port"] = port["port"]
        if port.get("endPort") is not None:
            item["endPort"] = port["endPort"]
        ports.append(item)
    return canonical_ports(ports) if flavour.canonical_order else ports


def service_ports(service: dict[str, Any], tenancy: Tenancy, flavour: Flavour,
                  only_ports: set[int] | None = None) -> list[dict[str, Any]]:
    """The ports a client reaches the Service's pods on, one per Service port (in order).

    With `resolve_target_ports` each Service port maps to its targetPort (default: the port
    itself); a named targetPort becomes the matching container port numbers of the selected
    pods, or stays a name (resolved on the pod by the CNI) when no pod declares it.
    Otherwise the Service `port` numbers are returned, as KubeSphere v3 does.
    `only_ports` keeps just the Service ports with those numbers.
    """
    result: list[dict[str, Any]] = []
    for spec_port in get_list(service, "spec.ports"):
        if not isinstance(spec_port, dict):
            continue
        number = spec_port.get("port")
        if only_ports is not None and number not in only_ports:
            continue
        protocol = spec_port.get("protocol") or "TCP"
        if not flavour.resolve_target_ports:
            result.append({"protocol": protocol, "port": number})
            continue
        target = spec_port.get("targetPort", number)
        if isinstance(target, int) and not isinstance(target, bool):
            result.append({"protocol": protocol, "port": target})
            continue
        numbers = _container_ports_named(service, tenancy, str(target), protocol)
        if numbers:
            result.extend({"protocol": protocol, "port": n} for n in numbers)
        else:
            result.append({"protocol": protocol, "port": target})
    return result


def _container_ports_named(service: dict[str, Any], tenancy: Tenancy, name: str,
                           protocol: str) -> list[int]:
    selector = string_map(service, "spec.selector")
    found: set[int] = set()
    for pod in tenancy.pods_by_namespace.get(namespace_of(service), []):
        labels = string_map(pod, "metadata.labels")
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            continue
        for container in get_list(pod, "spec.containers"):
            if not isinstance(container, dict):
                continue
            for port in container.get("ports") or []:
                if (isinstance(port, dict) and port.get("name") == name
                        and (port.get("protocol") or "TCP") == protocol
                        and isinstance(port.get("containerPort"), int)):
                    found.add(port["containerPort"])
    return sorted(found)


def canonical_ports(ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ports deduplicated and sorted: numbers before names, then by protocol."""
    def key(port: dict[str, Any]) -> tuple[Any, ...]:
        value = port.get("port")
        if value is None:
            return (2, 0, "", port["protocol"])
        if isinstance(value, int):
            return (0, value, "", port["protocol"], port.get("endPort", 0))
        return (1, 0, str(value), port["protocol"])
    return _dedupe(sorted(ports, key=key))


def _order_peers(peers: list[dict[str, Any]], flavour: Flavour) -> list[dict[str, Any]]:
    if not flavour.canonical_order:
        return peers
    return _dedupe(sorted(peers, key=_peer_key))


def _peer_key(peer: dict[str, Any]) -> tuple[Any, ...]:
    """Namespaces first, then Service peers, then CIDRs in address order."""
    if "ipBlock" in peer:
        return (2, *_cidr_key(peer["ipBlock"]["cidr"]), _json(peer))
    if "podSelector" in peer:
        return (1, _json(peer))
    return (0, _json(peer))


def _cidr_key(cidr: str) -> tuple[int, int, int]:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return (9, 0, 0)
    return (network.version, int(network.network_address), network.prefixlen)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _dedupe(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = _json(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


ENTRY_NAME_ALPHABET = string.ascii_lowercase + string.digits
ENTRY_NAME_SUFFIX = 6


def draft_entry_name(project: str, spec: Any, taken: Iterable[str] = ()) -> str:
    """The name a new allowlist entry of `project` gets, shaped as KubeSphere's console names
    them: `policy-from-<6 chars>` (ingress or both directions) or `policy-to-<6 chars>` (egress
    only).

    Deterministic: the same project, spec and taken names always give the same name, so what
    a preview shows is exactly what the save writes. The suffix is derived from a hash of the
    project and the canonical spec; a name in `taken` (an existing entry, or the same spec saved
    before) moves on to the next candidate, so a new entry never replaces an existing one.
    """
    direction = "from"
    if isinstance(spec, dict) and spec.get("egress") and not spec.get("ingress"):
        direction = "to"
    used = set(taken)
    draft = json.dumps([project, spec], sort_keys=True, separators=(",", ":"), default=str)
    attempt = 0
    while True:
        digest = hashlib.sha256(f"{draft}#{attempt}".encode()).digest()
        suffix = "".join(ENTRY_NAME_ALPHABET[byte % len(ENTRY_NAME_ALPHABET)]
                         for byte in digest[:ENTRY_NAME_SUFFIX])
        name = f"policy-{direction}-{suffix}"
        if name not in used:
            return name
        attempt += 1


__all__ = ["Flavour", "namespace_peer", "compile_entry", "service_ports", "canonical_ports",
           "draft_entry_name", "ENTRY_NAME_ALPHABET"]
