"""NetworkPolicy v1 as plain immutable values the reachability engine evaluates.

`parse_policy` reads a defaulted, validated NetworkPolicy dict. Missing and empty `from`/`to`
both become "every peer" (an empty `peers` tuple), missing and empty `ports` both become
"every port and protocol"; `ingress: []` and a missing `ingress` both mean no rule at all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from isolation import text
from isolation.netpol.formats import IPNetwork, parse_cidr
from isolation.netpol.selectors import Selector, comma_list, selector_text
from isolation.text import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Named container ports of one pod: port name -> ((number, protocol), ...)
NamedPorts = Mapping[str, tuple[tuple[int, str], ...]]

INGRESS = "ingress"
EGRESS = "egress"


@dataclass(frozen=True)
class PortSpec:
    """One `ports[]` entry: a protocol with a port number, a range, a name or any port."""

    index: int
    protocol: str
    port: int | str | None = None
    end_port: int | None = None

    def matches(self, port: int, protocol: str, named: NamedPorts | None) -> bool:
        """True when traffic to `port`/`protocol` on a pod with `named` ports is covered.

        A named port matches only a container port of that name and the same protocol on the
        destination pod; with no pod to resolve it on (`named` None) it matches nothing.
        """
        if protocol != self.protocol:
            return False
        if self.port is None:
            return True
        if isinstance(self.port, int):
            if self.end_port is None:
                return port == self.port
            return self.port <= port <= self.end_port
        if not named:
            return False
        return (port, protocol) in named.get(self.port, ())

    def describe(self) -> str:
        if self.port is None:
            return _("any {protocol} port", protocol=self.protocol)
        if self.end_port is not None:
            return f"{self.port}-{self.end_port}/{self.protocol}"
        return f"{self.port}/{self.protocol}"


@dataclass(frozen=True)
class IPBlock:
    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()

    def contains(self, ip: IPAddress) -> bool:
        if ip.version != self.cidr.version or ip not in self.cidr:
            return False
        return not any(ip in excluded for excluded in self.excepts)

    def describe(self) -> str:
        """`10.0.0.0/8` or `10.0.0.0/8 except 10.1.0.0/16, 10.2.0.0/16`."""
        if not self.excepts:
            return str(self.cidr)
        return _("{cidr} except {excepts}", cidr=str(self.cidr),
                 excepts=comma_list([str(e) for e in self.excepts]))


@dataclass(frozen=True)
class Peer:
    """One `from`/`to` entry; selectors None when absent (ipBlock peers have neither)."""

    index: int
    pod_selector: Selector | None = None
    namespace_selector: Selector | None = None
    ip_block: IPBlock | None = None

    def describe(self, policy_namespace: str) -> str:
        """Who the peer designates: "pods with app=web in namespaces with team=a"."""
        if self.ip_block is not None:
            return _("IPs in {block}", block=self.ip_block.describe())
        if self.namespace_selector is None:
            where = _("namespace {namespace}", namespace=policy_namespace)
        elif self.namespace_selector.is_empty:
            where = _("all namespaces")
        else:
            where = _("namespaces with {selector}",
                      selector=selector_text(self.namespace_selector))
        if self.pod_selector is None or self.pod_selector.is_empty:
            return _("all pods in {where}", where=where)
        return _("pods with {selector} in {where}", selector=selector_text(self.pod_selector),
                 where=where)


@dataclass(frozen=True)
class Rule:
    direction: str
    index: int
    peers: tuple[Peer, ...] = ()
    ports: tuple[PortSpec, ...] = ()

    @property
    def ports_key(self) -> tuple[PortSpec, ...]:
        """The port entries without their positions (rules sharing it allow the same ports)."""
        return tuple(PortSpec(0, p.protocol, p.port, p.end_port) for p in self.ports)

    def describe_ports(self) -> str:
        """`[80/TCP, any UDP port]`, or "every port" for a rule without ports."""
        if not self.ports:
            return _("every port")
        return text.join(["[", comma_list([p.describe() for p in self.ports]), "]"], "")


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    pod_selector: Selector
    policy_types: frozenset[str]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    source: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def affects(self, direction: str) -> bool:
        """Whether the policy isolates the pods it selects for `direction`."""
        return ("Ingress" if direction == INGRESS else "Egress") in self.policy_types

    def rules(self, direction: str) -> tuple[Rule, ...]:
        return self.ingress if direction == INGRESS else self.egress


def parse_policy(obj: Mapping[str, Any], default_namespace: str = "default") -> Policy:
    """The Policy of a defaulted and validated NetworkPolicy object."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    return Policy(
        namespace=metadata.get("namespace") or default_namespace,
        name=metadata["name"],
        pod_selector=Selector.parse(spec.get("podSelector")),
        policy_types=frozenset(spec.get("policyTypes") or ["Ingress"]),
        ingress=tuple(_rule(INGRESS, i, r or {}, "from")
                      for i, r in enumerate(spec.get("ingress") or [])),
        egress=tuple(_rule(EGRESS, i, r or {}, "to")
                     for i, r in enumerate(spec.get("egress") or [])),
        source=dict(obj),
    )


def _rule(direction: str, index: int, rule: Mapping[str, Any], peers_key: str) -> Rule:
    return Rule(
        direction=direction,
        index=index,
        peers=tuple(_peer(i, p or {}) for i, p in enumerate(rule.get(peers_key) or [])),
        ports=tuple(_port(i, p or {}) for i, p in enumerate(rule.get("ports") or [])),
    )


def _peer(index: int, peer: Mapping[str, Any]) -> Peer:
    block = peer.get("ipBlock")
    if block is not None:
        cidr = cached_cidr(block["cidr"])
        if cidr is None:
            raise ValueError(f"invalid CIDR {block['cidr']!r}")
        excepts = tuple(e for e in (cached_cidr(x) for x in block.get("except") or []) if e)
        return Peer(index, ip_block=IPBlock(cidr, excepts))
    pod = peer.get("podSelector")
    namespace = peer.get("namespaceSelector")
    return Peer(
        index,
        pod_selector=None if pod is None else Selector.parse(pod),
        namespace_selector=None if namespace is None else Selector.parse(namespace),
    )


@lru_cache(maxsize=1 << 16)
def _cidr(value: str) -> IPNetwork | None:
    return parse_cidr(value)


def cached_cidr(value: object) -> IPNetwork | None:
    """`parse_cidr(value)`, remembered: a large policy names thousands of CIDRs, and the same
    ones are read again for each engine built and each review (networks are immutable)."""
    return _cidr(value) if isinstance(value, str) else None


def _port(index: int, port: Mapping[str, Any]) -> PortSpec:
    return PortSpec(index, port.get("protocol") or "TCP", port.get("port"), port.get("endPort"))
