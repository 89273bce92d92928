"""Calico policies as plain immutable values the evaluator walks.

Reads validated `projectcalico.org/v3` or `crd.projectcalico.org/v1` objects (see
`validation`). The semantics, each checked against Calico's documentation and code:

- A rule matches when every field it sets matches; `source` describes the sender and
  `destination` the receiver, whatever the direction of the rule.
- In a namespaced NetworkPolicy a rule's `selector`, `notSelector` and `serviceAccounts`
  select endpoints of the policy's namespace only (unless `namespaceSelector` names others):
  Calico adds `projectcalico.org/namespace == '<ns>'` to the rule's selector, notSelector
  included (libcalico-go's rule conversion for namespaced policies).
- Label criteria (`selector`, `namespaceSelector`, `serviceAccounts`, the namespace limit)
  match endpoints only, never a bare address, `all()` included: Felix renders them as IP sets
  of endpoints. A lone `notSelector` in a GlobalNetworkPolicy is a negated IP set, so an
  outside address matches it.
- `nets` / `notNets` compare the IP of the peer, pods included.
- `ports` / `notPorts` in `destination` are the destination port (numbers, `a:b` ranges, named
  ports resolved on the destination endpoint with the rule's protocol); the console does not
  model source ports, so a rule with `source.ports` / `source.notPorts` is never matched
  (listed by `CalicoPolicy.unmodelled`).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from isolation.calico.endpoint import Endpoint, Labels, frozen_labels
from isolation.calico.selector import All, Node, parse

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

INGRESS = "ingress"
EGRESS = "egress"
ALLOW, DENY, PASS, LOG = "Allow", "Deny", "Pass", "Log"
ACTIONS = (ALLOW, DENY, PASS, LOG)

GROUPS = ("projectcalico.org", "crd.projectcalico.org")
NETWORK_POLICY = "NetworkPolicy"
GLOBAL_NETWORK_POLICY = "GlobalNetworkPolicy"
KUBERNETES_NETWORK_POLICY = "KubernetesNetworkPolicy"  # a networking.k8s.io policy under Calico
TIER = "Tier"
HOST_ENDPOINT = "HostEndpoint"

DEFAULT_TIER = "default"
# Built-in tier orders (projectcalico.org/v3 DefaultTierOrder, KubeAdminTierOrder,
# KubeBaselineTierOrder): https://docs.tigera.io/calico/latest/reference/resources/tier
DEFAULT_TIER_ORDER = 1_000_000.0
ADMIN_TIER_ORDER = 1_000.0
BASELINE_TIER_ORDER = 10_000_000.0
# Calico evaluates a Kubernetes NetworkPolicy as a default-tier policy of order 1000
# (https://docs.tigera.io/calico/latest/network-policy/policy-tiers/tiered-policy).
KUBERNETES_POLICY_ORDER = 1000.0

PORT_PROTOCOLS = frozenset({"TCP", "UDP", "SCTP", "UDPLite"})
_PROTOCOL_NUMBERS = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP", 136: "UDPLite"}


def protocol_name(value: int | str) -> str:
    """The canonical name of a protocol given by name (any case) or number."""
    if isinstance(value, int):
        return _PROTOCOL_NUMBERS.get(value, str(value))
    for name in _PROTOCOL_NUMBERS.values():
        if value.lower() == name.lower():
            return name
    return value


# -- rules ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PortMatch:
    """A `ports[]` entry: a number or range (low..high), or a named port."""

    low: int = 0
    high: int = 0
    name: str | None = None

    @classmethod
    def parse(cls, value: int | str) -> PortMatch:
        if isinstance(value, int):
            return cls(value, value)
        if value.isdigit():
            return cls(int(value), int(value))
        low, colon, high = value.partition(":")
        if colon and low.isdigit() and high.isdigit():
            return cls(int(low), int(high))
        return cls(name=value)

    def matches(self, port: int, protocol: str, owner: Endpoint | None) -> bool:
        if self.name is None:
            return self.low <= port <= self.high
        return owner is not None and port in owner.resolve(self.name, protocol)

    def render(self) -> str:
        if self.name is not None:
            return self.name
        return str(self.low) if self.low == self.high else f"{self.low}:{self.high}"


def _net_range(network: IPNetwork) -> tuple[int, int, int]:
    """(IP version, first, last address) of `network` as integers."""
    first = int(network.network_address)
    return network.version, first, first | ((1 << (network.max_prefixlen - network.prefixlen)) - 1)


@dataclass(frozen=True)
class EntityMatch:
    """A rule's `source` or `destination`; `namespace` is the namespace limit of namespaced
    policies (None in a global policy or when `namespaceSelector` is set)."""

    selector: Node | None = None
    not_selector: Node | None = None
    namespace_selector: Node | None = None
    namespace: str | None = None
    service_account_names: frozenset[str] | None = None
    service_account_selector: Node | None = None
    nets: tuple[IPNetwork, ...] = ()
    not_nets: tuple[IPNetwork, ...] = ()
    ports: tuple[PortMatch, ...] = ()
    not_ports: tuple[PortMatch, ...] = ()
    # `nets` and `notNets` as (IP version, first, last) integer ranges
    net_ranges: tuple[tuple[int, int, int], ...] = field(
        default=(), init=False, compare=False, repr=False)
    not_net_ranges: tuple[tuple[int, int, int], ...] = field(
        default=(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.nets:
            object.__setattr__(self, "net_ranges", tuple(map(_net_range, self.nets)))
        if self.not_nets:
            object.__setattr__(self, "not_net_ranges", tuple(map(_net_range, self.not_nets)))

    @property
    def is_any(self) -> bool:
        return self == EntityMatch()

    @property
    def needs_endpoint(self) -> bool:
        """True when only endpoints (never bare addresses) can match the label criteria."""
        return (self.selector is not None or self.namespace_selector is not None
                or self.namespace is not None or self.service_account_names is not None
                or self.service_account_selector is not None)

    @property
    def has_label_criteria(self) -> bool:
        return self.needs_endpoint or self.not_selector is not None

    def matches_labels(self, endpoint: Endpoint) -> bool:
        """The label criteria alone (depends only on `endpoint.label_class`)."""
        if not endpoint.is_pod:
            return not self.needs_endpoint
        if self.namespace is not None and endpoint.namespace != self.namespace:
            return False
        if (self.namespace_selector is not None
                and not self.namespace_selector.matches(dict(endpoint.namespace_labels_full()))):
            return False
        labels = endpoint.selector_labels()
        if self.selector is not None and not self.selector.matches(labels):
            return False
        if self.not_selector is not None and self.not_selector.matches(labels):
            return False
        if (self.service_account_names is not None
                and endpoint.service_account not in self.service_account_names):
            return False
        if self.service_account_selector is not None:
            if not endpoint.service_account:
                return False
            if not self.service_account_selector.matches(dict(endpoint.service_account_labels)):
                return False
        return True

    def matches_address(self, endpoint: Endpoint) -> bool:
        """The `nets` / `notNets` criteria, on the endpoint's IP (pods included)."""
        key = endpoint.ip_key
        if self.net_ranges and (key is None or not any(
                version == key[0] and low <= key[1] <= high
                for version, low, high in self.net_ranges)):
            return False
        return not (self.not_net_ranges and key is not None and any(
            version == key[0] and low <= key[1] <= high
            for version, low, high in self.not_net_ranges))

    def matches_port(self, port: int, protocol: str, owner: Endpoint | None) -> bool:
        if self.ports and not any(p.matches(port, protocol, owner) for p in self.ports):
            return False
        return not any(p.matches(port, protocol, owner) for p in self.not_ports)


@dataclass(frozen=True)
class Rule:
    direction: str
    index: int
    action: str
    source: EntityMatch = EntityMatch()
    destination: EntityMatch = EntityMatch()
    protocol: str | None = None
    not_protocol: str | None = None
    ip_version: int | None = None
    # For rules converted from a Kubernetes NetworkPolicy: which `from`/`to` entry it came from.
    peer_index: int | None = None
    unmodelled: tuple[str, ...] = ()
    # Whether matching looks at endpoint IPs (`nets`) or at named ports: the two things that
    # tell apart pods of one label class.
    uses_ips: bool = field(default=False, init=False, compare=False, repr=False)
    uses_named_ports: bool = field(default=False, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "uses_ips", any(
            e.nets or e.not_nets for e in (self.source, self.destination)))
        object.__setattr__(self, "uses_named_ports", any(
            p.name is not None for p in (*self.destination.ports, *self.destination.not_ports)))

    def matches_protocol(self, protocol: str) -> bool:
        if self.protocol is not None and self.protocol != protocol:
            return False
        return self.not_protocol is None or self.not_protocol != protocol


@dataclass(frozen=True)
class CalicoPolicy:
    """A NetworkPolicy (namespace set), GlobalNetworkPolicy or converted Kubernetes policy."""

    kind: str
    name: str                      # as Calico names it: tier-prefixed outside the default tier
    namespace: str | None
    tier: str
    order: float | None
    selector: Node
    types: frozenset[str]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    namespace_selector: Node | None = None
    service_account_selector: Node | None = None
    pre_dnat: bool = False
    apply_on_forward: bool = False
    do_not_track: bool = False
    source: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def key(self) -> str:
        return self.name if self.namespace is None else f"{self.namespace}/{self.name}"

    @property
    def sort_key(self) -> tuple[float, str]:
        """Calico's order within a tier: `order` ascending (none = last), then the name."""
        return (math.inf if self.order is None else self.order, self.key)

    @property
    def applies_to_workloads(self) -> bool:
        """preDNAT and doNotTrack policies act on host endpoints only, never on pod traffic."""
        return not (self.pre_dnat or self.do_not_track)

    def affects(self, direction: str) -> bool:
        return ("Ingress" if direction == INGRESS else "Egress") in self.types

    def rules(self, direction: str) -> tuple[Rule, ...]:
        return self.ingress if direction == INGRESS else self.egress

    def selects(self, endpoint: Endpoint) -> bool:
        """Whether the policy applies to `endpoint` (a pod; outside addresses never)."""
        if not endpoint.is_pod:
            return False
        if self.namespace is not None and endpoint.namespace != self.namespace:
            return False
        if (self.namespace_selector is not None
                and not self.namespace_selector.matches(dict(endpoint.namespace_labels_full()))):
            return False
        if self.service_account_selector is not None and not (
                endpoint.service_account
                and self.service_account_selector.matches(dict(endpoint.service_account_labels))):
            return False
        return self.selector.matches(endpoint.selector_labels())

    @property
    def unmodelled(self) -> tuple[str, ...]:
        """Field paths the evaluator does not model (their rules never match)."""
        return tuple(path for rule in (*self.ingress, *self.egress) for path in rule.unmodelled)


@dataclass(frozen=True)
class Tier:
    name: str
    order: float | None
    default_action: str = DENY     # what traffic no rule of the tier matched gets

    @property
    def sort_key(self) -> tuple[float, str]:
        """Tiers run by `order` (none = after every ordered tier), equal orders by name."""
        return (math.inf if self.order is None else self.order, self.name)


BUILT_IN_TIERS = {
    DEFAULT_TIER: Tier(DEFAULT_TIER, DEFAULT_TIER_ORDER, DENY),
    "kube-admin": Tier("kube-admin", ADMIN_TIER_ORDER, PASS),
    "kube-baseline": Tier("kube-baseline", BASELINE_TIER_ORDER, PASS),
    # The names earlier Calico releases gave the AdminNetworkPolicy tiers.
    "adminnetworkpolicy": Tier("adminnetworkpolicy", ADMIN_TIER_ORDER, PASS),
    "baselineadminnetworkpolicy": Tier("baselineadminnetworkpolicy", BASELINE_TIER_ORDER, PASS),
}


@dataclass(frozen=True)
class HostEndpoint:
    """A HostEndpoint, read and listed (the pod-traffic evaluator does not use it)."""

    name: str
    node: str
    interface_name: str | None
    expected_ips: tuple[IPAddress, ...]
    labels: Labels
    profiles: tuple[str, ...]
    source: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


# -- reading objects --------------------------------------------------------------------------

def api_group(obj: Mapping[str, Any]) -> str:
    return str(obj.get("apiVersion") or "").partition("/")[0]


def is_calico(obj: Mapping[str, Any]) -> bool:
    """Whether `obj` is a Calico object (by API group, never by kind alone)."""
    return api_group(obj) in GROUPS


def qualified_name(name: str, tier: str) -> str:
    """The policy name Calico shows: prefixed with its tier outside the default tier.

    The crd.projectcalico.org/v1 store keeps default-tier policies as `default.<name>`; that
    prefix is dropped here so both API groups give the same name.
    """
    if tier == DEFAULT_TIER:
        return name.removeprefix(f"{DEFAULT_TIER}.")
    return name if name.startswith(f"{tier}.") else f"{tier}.{name}"


def default_types(spec: Mapping[str, Any]) -> list[str]:
    """`types` as Calico defaults it: egress rules without ingress rules → Egress; both →
    both; otherwise Ingress (libcalico-go `defaultPolicyTypesField`; an empty list counts as no
    rules)."""
    if spec.get("types"):
        return list(spec["types"])
    if not spec.get("egress"):
        return ["Ingress"]
    if not spec.get("ingress"):
        return ["Egress"]
    return ["Ingress", "Egress"]


def parse_policy(obj: Mapping[str, Any], default_namespace: str = "default") -> CalicoPolicy:
    """The model of a validated Calico NetworkPolicy or GlobalNetworkPolicy object."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    kind = obj["kind"]
    namespace = (metadata.get("namespace") or default_namespace) if kind == NETWORK_POLICY else None
    tier = spec.get("tier") or DEFAULT_TIER
    rules = {d: tuple(_rule(d, i, r or {}, namespace)
                      for i, r in enumerate(spec.get(d) or [])) for d in (INGRESS, EGRESS)}
    return CalicoPolicy(
        kind=kind, name=qualified_name(metadata["name"], tier), namespace=namespace, tier=tier,
        order=None if spec.get("order") is None else float(spec["order"]),
        selector=parse(spec.get("selector")), types=frozenset(default_types(spec)),
        ingress=rules[INGRESS], egress=rules[EGRESS],
        namespace_selector=_optional(spec.get("namespaceSelector")),
        service_account_selector=_optional(spec.get("serviceAccountSelector")),
        pre_dnat=bool(spec.get("preDNAT")), apply_on_forward=bool(spec.get("applyOnForward")),
        do_not_track=bool(spec.get("doNotTrack")), source=dict(obj))


def parse_tier(obj: Mapping[str, Any]) -> Tier:
    """The model of a validated Tier; the built-in tiers keep their fixed order."""
    name = obj["metadata"]["name"]
    spec = obj.get("spec") or {}
    built_in = BUILT_IN_TIERS.get(name)
    order = spec.get("order")
    if built_in is not None and order is None:
        order = built_in.order
    default = built_in.default_action if built_in else DENY
    return Tier(name, None if order is None else float(order), spec.get("defaultAction") or default)


def parse_host_endpoint(obj: Mapping[str, Any]) -> HostEndpoint:
    spec = obj.get("spec") or {}
    metadata = obj.get("metadata") or {}
    return HostEndpoint(
        name=metadata["name"], node=spec.get("node") or "",
        interface_name=spec.get("interfaceName"),
        expected_ips=tuple(ipaddress.ip_address(ip) for ip in spec.get("expectedIPs") or []),
        labels=frozen_labels(metadata.get("labels")), profiles=tuple(spec.get("profiles") or []),
        source=dict(obj))


def _optional(text: str | None) -> Node | None:
    return None if text is None or not str(text).strip() else parse(text)


def _rule(direction: str, index: int, rule: Mapping[str, Any], namespace: str | None) -> Rule:
    at = f"spec.{direction}[{index}]"
    unmodelled = [f"{at}.source.{key}" for key in ("ports", "notPorts")
                  if (rule.get("source") or {}).get(key)]
    unmodelled += [f"{at}.{side}.services" for side in ("source", "destination")
                   if (rule.get(side) or {}).get("services")]
    protocol, not_protocol = rule.get("protocol"), rule.get("notProtocol")
    return Rule(
        direction=direction, index=index, action=rule["action"],
        source=_entity(rule.get("source") or {}, namespace),
        destination=_entity(rule.get("destination") or {}, namespace),
        protocol=None if protocol is None else protocol_name(protocol),
        not_protocol=None if not_protocol is None else protocol_name(not_protocol),
        ip_version=rule.get("ipVersion"), unmodelled=tuple(unmodelled))


def _entity(entity: Mapping[str, Any], namespace: str | None) -> EntityMatch:
    accounts = entity.get("serviceAccounts") or {}
    names = accounts.get("names")
    selector = _optional(entity.get("selector"))
    not_selector = _optional(entity.get("notSelector"))
    namespace_selector = _optional(entity.get("namespaceSelector"))
    account_selector = _optional(accounts.get("selector"))
    limited = selector or not_selector or names is not None or account_selector
    return EntityMatch(
        selector=selector, not_selector=not_selector, namespace_selector=namespace_selector,
        namespace=namespace if limited and namespace_selector is None else None,
        service_account_names=None if names is None else frozenset(names),
        service_account_selector=account_selector,
        nets=tuple(_net(n) for n in entity.get("nets") or []),
        not_nets=tuple(_net(n) for n in entity.get("notNets") or []),
        ports=tuple(PortMatch.parse(p) for p in entity.get("ports") or []),
        not_ports=tuple(PortMatch.parse(p) for p in entity.get("notPorts") or []))


def _net(text: str) -> IPNetwork:
    """A `nets` entry: a CIDR (host bits masked) or a bare address (/32, /128)."""
    return ipaddress.ip_network(text, strict=False)


ALL = All()
