"""Kubernetes NetworkPolicies as Calico sees them: default-tier policies of order 1000.

Calico programs a `networking.k8s.io/v1` NetworkPolicy as a policy named
`knp.default.<name>` in the default tier with order 1000
(https://docs.tigera.io/calico/latest/network-policy/policy-tiers/tiered-policy), so it is not
final: a Calico policy of lower order can deny first, and when none of its Allow rules
matches, later default-tier policies still run before the end-of-tier deny.

One Kubernetes rule becomes one Calico Allow rule per (peer, protocol): Calico rules carry a
single protocol, and separate peers are ORed. Every converted rule keeps the Kubernetes rule
index (`Rule.index`) and peer index (`Rule.peer_index`) so explanations point at the source.

Converted rules are kept by the Kubernetes rule (the very object) and namespace: the rules an
edit of a large policy leaves alone, or a draft reviewed again after a change to one rule, are
converted once per process, not once per review (the review parses each distinct rule once).
Rules are immutable, so the very same converted rules may serve several policies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace

from isolation.calico.model import (
    ALLOW,
    DEFAULT_TIER,
    INGRESS,
    KUBERNETES_NETWORK_POLICY,
    KUBERNETES_POLICY_ORDER,
    CalicoPolicy,
    EntityMatch,
    PortMatch,
    Rule,
)
from isolation.calico.selector import All, And, Compare, Has, InSet, Node, Not
from isolation.netpol import model as k8s
from isolation.netpol.selectors import Selector


def selector_node(selector: Selector) -> Node:
    """A Kubernetes label selector as a Calico selector expression (`{}` → `all()`)."""
    parts: list[Node] = []
    for requirement in selector.requirements:
        values = requirement.values
        if requirement.operator == "In":
            parts.append(Compare(requirement.key, "==", next(iter(values))) if len(values) == 1
                         else InSet(requirement.key, values))
        elif requirement.operator == "NotIn":
            parts.append(InSet(requirement.key, values, negated=True))
        elif requirement.operator == "Exists":
            parts.append(Has(requirement.key))
        else:
            parts.append(Not(Has(requirement.key)))
    if not parts:
        return All()
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def policy_name(name: str) -> str:
    return f"knp.{DEFAULT_TIER}.{name}"


def from_kubernetes(policy: k8s.Policy) -> CalicoPolicy:
    """The Calico policy a Kubernetes NetworkPolicy (the netpol model) is evaluated as."""
    return CalicoPolicy(
        kind=KUBERNETES_NETWORK_POLICY, name=policy_name(policy.name),
        namespace=policy.namespace, tier=DEFAULT_TIER, order=KUBERNETES_POLICY_ORDER,
        selector=selector_node(policy.pod_selector), types=frozenset(policy.policy_types),
        ingress=_CONVERSIONS.rules(policy.ingress, policy.namespace),
        egress=_CONVERSIONS.rules(policy.egress, policy.namespace), source=policy.source)


# Kubernetes rules whose conversions are kept: as many as `isolation.review.rules` keeps parsed
# (the rules of the policies read live and those of a draft as large as the editor takes; the
# rules are mostly those the parsed policies hold anyway).
CONVERTED_RULES = 60_000


class _Conversions:
    """The Calico rules of the last `size` Kubernetes rules converted, by the very rule object
    (a rule is immutable, and one parsed once serves every read of it: see
    `isolation.review.rules`). Thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._rules: OrderedDict[tuple[int, str], tuple[k8s.Rule, tuple[Rule, ...]]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def rules(self, rules: tuple[k8s.Rule, ...], namespace: str) -> tuple[Rule, ...]:
        """The Calico rules of `rules`, of a policy in `namespace`, in their order."""
        with self._lock:
            found = []
            for rule in rules:
                entry = self._rules.get((id(rule), namespace))
                if entry is not None and entry[0] is rule:
                    self._rules.move_to_end((id(rule), namespace))
                    found.append(entry[1])
                else:
                    found.append(None)
        missing = {index: tuple(_convert(rule, namespace))
                   for index, rule in enumerate(rules) if found[index] is None}
        if missing:
            with self._lock:
                for index, converted in missing.items():
                    found[index] = converted
                    self._rules[(id(rules[index]), namespace)] = (rules[index], converted)
                while len(self._rules) > self.size:
                    self._rules.popitem(last=False)
        return tuple(calico for converted in found for calico in converted)  # type: ignore[union-attr]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()


_CONVERSIONS = _Conversions(CONVERTED_RULES)


def forget_converted() -> None:
    """Drop the kept conversions (the next of each rule converts it again)."""
    _CONVERSIONS.clear()


def _convert(rule: k8s.Rule, namespace: str) -> Iterable[Rule]:
    """The Calico Allow rules of one Kubernetes rule of a policy in `namespace`."""
    peers: list[tuple[int | None, EntityMatch]] = [
        (peer.index, _peer(peer, namespace)) for peer in rule.peers] or [(None, EntityMatch())]
    for protocol, ports in _ports_by_protocol(rule.ports):
        for peer_index, peer in peers:
            port_side = EntityMatch(ports=ports)
            if rule.direction == INGRESS:
                source, destination = peer, port_side
            else:
                source, destination = EntityMatch(), _merge(peer, ports)
            yield Rule(direction=rule.direction, index=rule.index, action=ALLOW,
                       source=source, destination=destination, protocol=protocol,
                       peer_index=peer_index)


def _merge(peer: EntityMatch, ports: tuple[PortMatch, ...]) -> EntityMatch:
    return replace(peer, ports=ports)


def _ports_by_protocol(
        ports: tuple[k8s.PortSpec, ...]) -> list[tuple[str | None, tuple[PortMatch, ...]]]:
    """(protocol, port matches) groups; no entries → one group for every protocol."""
    if not ports:
        return [(None, ())]
    groups: dict[str, list[PortMatch] | None] = {}
    for port in ports:
        if port.port is None:
            groups[port.protocol] = None  # every port of this protocol
            continue
        if port.protocol in groups and groups[port.protocol] is None:
            continue
        if isinstance(port.port, str):
            match = PortMatch(name=port.port)
        else:
            match = PortMatch(port.port, port.end_port if port.end_port is not None else port.port)
        groups.setdefault(port.protocol, []).append(match)  # type: ignore[union-attr]
    return [(protocol, tuple(matches or ())) for protocol, matches in groups.items()]


def _peer(peer: k8s.Peer, namespace: str) -> EntityMatch:
    if peer.ip_block is not None:
        return EntityMatch(nets=(peer.ip_block.cidr,), not_nets=peer.ip_block.excepts)
    pods = All() if peer.pod_selector is None else selector_node(peer.pod_selector)
    if peer.namespace_selector is None:
        return EntityMatch(selector=pods, namespace=namespace)
    return EntityMatch(selector=pods, namespace_selector=selector_node(peer.namespace_selector))
