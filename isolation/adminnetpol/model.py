"""AdminNetworkPolicy and BaselineAdminNetworkPolicy as plain immutable values.

`parse_admin_policy` reads a defaulted, validated object of either kind. The model is the
evaluation order's, not the YAML's: a policy has a `tier` (`ADMIN` policies run before
NetworkPolicies, `BASELINE` after them), a `priority` (ADMIN only; lower runs first) and, per
direction, rules whose first match decides with its `action`. This is also the shape of the
v1alpha2 ClusterNetworkPolicy (one kind with `tier: Admin | Baseline` and its action
`Accept` read as ALLOW), which a second parser could fill without touching the engine.

Peers (network-policy-api v1alpha1): `namespaces` (every pod of the matching namespaces),
`pods` (namespace AND pod selector), and on egress only `nodes` (node selector, matching a
node's addresses) and `networks` (CIDRs, matching any address, pod IPs included). Ingress
peers are always pods, so outside addresses never match an ingress rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from isolation.adminnetpol.schema import ADMIN_KIND, BASELINE_KIND
from isolation.netpol.formats import IPNetwork, parse_cidr
from isolation.netpol.model import EGRESS, INGRESS, IPBlock, NamedPorts
from isolation.netpol.selectors import Selector
from isolation.text import gettext as _

ALLOW, DENY, PASS = "Allow", "Deny", "Pass"
ADMIN, BASELINE = "Admin", "Baseline"
PEER_NAMESPACES, PEER_PODS, PEER_NODES, PEER_NETWORKS = "namespaces", "pods", "nodes", "networks"


@dataclass(frozen=True)
class Subject:
    """The pods a policy applies to: pods of matching namespaces (and matching `pods`)."""

    namespace_selector: Selector
    pod_selector: Selector | None = None  # None: every pod of those namespaces

    def matches(self, namespace_labels: Mapping[str, str], pod_labels: Mapping[str, str]) -> bool:
        return self.namespace_selector.matches(namespace_labels) and (
            self.pod_selector is None or self.pod_selector.matches(pod_labels))


@dataclass(frozen=True)
class AdminPeer:
    """One `from`/`to` entry: exactly one of the four kinds."""

    index: int
    kind: str  # PEER_NAMESPACES | PEER_PODS | PEER_NODES | PEER_NETWORKS
    namespace_selector: Selector | None = None
    pod_selector: Selector | None = None
    node_selector: Selector | None = None
    networks: tuple[IPNetwork, ...] = ()

    @property
    def blocks(self) -> tuple[IPBlock, ...]:
        """The networks as the engine's address blocks (no `except` in this API)."""
        return tuple(IPBlock(network) for network in self.networks)


@dataclass(frozen=True)
class AdminPort:
    """One `ports[]` entry: a number, a range (inclusive) or a name resolved on the pod."""

    protocol: str
    port: int | None = None
    end: int | None = None
    name: str | None = None

    def matches(self, port: int, protocol: str, named: NamedPorts | None) -> bool:
        """Whether traffic to `port`/`protocol` of a pod with `named` ports is covered; a
        named port matches a container port of that name whatever its protocol (the API's
        namedPort has none of its own), and nothing on an end that is not a pod."""
        if self.name is not None:
            return bool(named) and any(number == port and proto == protocol
                                       for number, proto in named.get(self.name, ()))
        if protocol != self.protocol:
            return False
        if self.end is None:
            return port == self.port
        return (self.port or 0) <= port <= self.end

    def describe(self) -> str:
        if self.name is not None:
            return f"the port named {self.name}"
        if self.end is not None:
            return f"{self.protocol} {self.port}-{self.end}"
        return f"{self.protocol} {self.port}"


@dataclass(frozen=True)
class AdminRule:
    direction: str
    index: int
    name: str
    action: str  # ALLOW | DENY | PASS
    peers: tuple[AdminPeer, ...]
    ports: tuple[AdminPort, ...] = ()  # empty: every port and protocol

    @property
    def field(self) -> str:
        return f"spec.{self.direction}[{self.index}]"

    def label(self) -> str:
        """`egress rule 0 "deny-metadata"` (the name only when the rule has one)."""
        text = f"{self.direction} rule {self.index}"
        return f'{text} "{self.name}"' if self.name else text


@dataclass(frozen=True)
class AdminPolicy:
    kind: str  # ADMIN_KIND | BASELINE_KIND (later: ClusterNetworkPolicy)
    name: str
    tier: str  # ADMIN | BASELINE
    priority: int | None
    subject: Subject
    ingress: tuple[AdminRule, ...] = ()
    egress: tuple[AdminRule, ...] = ()
    source: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def key(self) -> str:
        return self.name

    def rules(self, direction: str) -> tuple[AdminRule, ...]:
        return self.ingress if direction == INGRESS else self.egress

    def sort_key(self) -> tuple[int, str]:
        """Evaluation order: priority, then name (the API leaves ties undefined; see
        `priority_ties`)."""
        return (self.priority or 0, self.name)

    def title(self) -> str:
        """`AdminNetworkPolicy deny-metadata (priority 10)`."""
        if self.priority is None:
            return f"{self.kind} {self.name}"
        return _("{policy} (priority {priority})", policy=f"{self.kind} {self.name}",
                 priority=self.priority)


def parse_admin_policy(obj: Mapping[str, Any]) -> AdminPolicy:
    """The AdminPolicy of a defaulted and validated ANP or BANP object."""
    kind = obj.get("kind") or ADMIN_KIND
    spec = obj.get("spec") or {}
    baseline = kind == BASELINE_KIND
    return AdminPolicy(
        kind=kind,
        name=(obj.get("metadata") or {})["name"],
        tier=BASELINE if baseline else ADMIN,
        priority=None if baseline else int(spec.get("priority") or 0),
        subject=_subject(spec.get("subject") or {}),
        ingress=tuple(_rule(INGRESS, i, r or {}, "from")
                      for i, r in enumerate(spec.get("ingress") or [])),
        egress=tuple(_rule(EGRESS, i, r or {}, "to")
                     for i, r in enumerate(spec.get("egress") or [])),
        source=dict(obj),
    )


def ordered(policies: Iterable[AdminPolicy]) -> list[AdminPolicy]:
    """ADMIN policies in evaluation order (priority, then name)."""
    return sorted((p for p in policies if p.tier == ADMIN), key=AdminPolicy.sort_key)


def priority_ties(policies: Iterable[AdminPolicy]) -> list[str]:
    """One warning per priority shared by several AdminNetworkPolicies: the API leaves their
    relative order undefined, and this engine evaluates them by name."""
    by_priority: dict[int, list[str]] = {}
    for policy in ordered(policies):
        by_priority.setdefault(policy.priority or 0, []).append(policy.name)
    return [f"AdminNetworkPolicies {', '.join(names)} share priority {priority}: their order "
            f"is undefined by the API (evaluated here by name)"
            for priority, names in sorted(by_priority.items()) if len(names) > 1]


def _subject(subject: Mapping[str, Any]) -> Subject:
    if subject.get("namespaces") is not None:
        return Subject(Selector.parse(subject["namespaces"]))
    pods = subject.get("pods") or {}
    return Subject(Selector.parse(pods.get("namespaceSelector")),
                   Selector.parse(pods.get("podSelector")))


def _rule(direction: str, index: int, rule: Mapping[str, Any], peers_key: str) -> AdminRule:
    return AdminRule(
        direction=direction,
        index=index,
        name=rule.get("name") or "",
        action=rule.get("action") or DENY,
        peers=tuple(_peer(i, p or {}) for i, p in enumerate(rule.get(peers_key) or [])),
        ports=tuple(_port(p or {}) for p in rule.get("ports") or []),
    )


def _peer(index: int, peer: Mapping[str, Any]) -> AdminPeer:
    if peer.get("namespaces") is not None:
        return AdminPeer(index, PEER_NAMESPACES, namespace_selector=Selector.parse(peer["namespaces"]))
    if peer.get("pods") is not None:
        pods = peer["pods"]
        return AdminPeer(index, PEER_PODS,
                         namespace_selector=Selector.parse(pods.get("namespaceSelector")),
                         pod_selector=Selector.parse(pods.get("podSelector")))
    if peer.get("nodes") is not None:
        return AdminPeer(index, PEER_NODES, node_selector=Selector.parse(peer["nodes"]))
    networks = tuple(n for n in (parse_cidr(v) for v in peer.get("networks") or []) if n)
    return AdminPeer(index, PEER_NETWORKS, networks=networks)


def _port(port: Mapping[str, Any]) -> AdminPort:
    if port.get("namedPort") is not None:
        return AdminPort("TCP", name=port["namedPort"])
    if port.get("portRange") is not None:
        span = port["portRange"]
        return AdminPort(span.get("protocol") or "TCP", span["start"], span["end"])
    number = port.get("portNumber") or {}
    return AdminPort(number.get("protocol") or "TCP", number.get("port"))
