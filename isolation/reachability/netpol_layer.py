"""The Kubernetes NetworkPolicy layer (see `layers`): decisive for the pods it isolates.

A pod a NetworkPolicy of its namespace selects for a direction is isolated: the union of the
selecting policies' rules allows, everything else is denied (DESIGN §3). A pod no policy
selects is not decided here: the next layer (a BaselineAdminNetworkPolicy), or the default
allow, decides.
"""

from __future__ import annotations

from collections.abc import Sequence

from isolation.netpol.model import EGRESS, NamedPorts, Peer, Policy, Rule
from isolation.reachability.explain import describe_direction, peer_miss
from isolation.reachability.inventory import ClusterView, Endpoint, PodInfo
from isolation.reachability.layers import (
    ALLOW,
    DENY,
    NETWORK_POLICY_KIND,
    ClassBlock,
    ClassInputs,
    ClassSpace,
    LayerDecision,
    PolicyRef,
)
from isolation.reachability.verdict import DirectionVerdict, RuleRef
from isolation.text import gettext as _


class NetworkPolicyLayer:
    """The NetworkPolicies of a cluster, grouped by namespace."""

    kind = NETWORK_POLICY_KIND

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = list(policies)
        self.by_namespace: dict[str, list[Policy]] = {}
        for policy in self.policies:
            self.by_namespace.setdefault(policy.namespace, []).append(policy)

    def class_inputs(self) -> ClassInputs:
        return ClassInputs()  # the builder reads NetworkPolicies itself

    def evaluate(self, direction: str, space: ClassSpace) -> list[ClassBlock]:
        allowed, isolated = space.network_policy_bits(direction)
        rows = isolated.nonzero()[0]
        if not len(rows):
            return []
        allow = allowed[rows]
        return [ClassBlock(rows, allow, ~allow & _row_full(space, direction, rows))]

    def decide(self, direction: str, view: ClusterView, pod: PodInfo, other: Endpoint,
               port: int, protocol: str, named: NamedPorts | None) -> LayerDecision:
        verdict = self.direction_verdict(direction, view, pod, other, port, protocol, named)
        if not verdict.isolated:
            return LayerDecision(None, verdict.reason)
        if verdict.matched:
            first = verdict.matched[0]
            ref = PolicyRef(NETWORK_POLICY_KIND, first.policy, ALLOW, direction, first.rule_index)
        else:
            ref = PolicyRef(NETWORK_POLICY_KIND, verdict.selecting[0], DENY, direction)
        return LayerDecision(ALLOW if verdict.allowed else DENY, verdict.reason, ref,
                             tuple(verdict.selecting), tuple(verdict.matched),
                             verdict.nearest_miss, isolated=True)

    def direction_verdict(self, direction: str, view: ClusterView, pod: PodInfo,
                          other: Endpoint, port: int, protocol: str,
                          named: NamedPorts | None) -> DirectionVerdict:
        """The DirectionVerdict of NetworkPolicies alone (DESIGN §3), with its nearest miss."""
        selecting = [policy for policy in self.by_namespace.get(pod.namespace, ())
                     if policy.affects(direction) and policy.pod_selector.matches(pod.labels)]
        matched: list[RuleRef] = []
        port_misses: list[tuple[Policy, Rule]] = []
        peer_misses: list[tuple[Policy, Rule]] = []
        for policy in selecting:
            for rule in policy.rules(direction):
                peer_index = next((p.index for p in rule.peers
                                   if peer_matches(view, policy, p, other)), None)
                port_index = next((p.index for p in rule.ports
                                   if p.matches(port, protocol, named)), None)
                peer_ok = not rule.peers or peer_index is not None
                port_ok = not rule.ports or port_index is not None
                if peer_ok and port_ok:
                    matched.append(RuleRef(policy.key, direction, rule.index, peer_index,
                                           port_index))
                elif peer_ok:
                    port_misses.append((policy, rule))
                elif port_ok:
                    peer_misses.append((policy, rule))
        nearest = None
        if selecting and not matched:
            if port_misses:
                policy, rule = port_misses[0]
                nearest = _("{policy} {direction} rule {index} matches {name} but port "
                            "{traffic} is not in {ports}", policy=policy.key,
                            direction=direction, index=rule.index, name=other.name,
                            traffic=f"{port}/{protocol}", ports=rule.describe_ports())
            elif peer_misses:
                policy, rule = peer_misses[0]
                nearest = peer_miss(view, policy, rule, other, port, protocol)
        return describe_direction(direction, pod, other, port, protocol,
                                  [p.key for p in selecting], matched, nearest,
                                  any(p.rules(direction) for p in selecting))


def peer_matches(view: ClusterView, policy: Policy, peer: Peer, other: Endpoint) -> bool:
    """Whether `other` is one of the endpoints `peer` (of `policy`) designates."""
    if peer.ip_block is not None:
        address = other.address()
        return address is not None and peer.ip_block.contains(address)
    if not other.is_pod:
        return False
    pod = view.pod(other.name)
    if peer.namespace_selector is None:
        in_namespace = pod.namespace == policy.namespace
    else:
        in_namespace = peer.namespace_selector.matches(view.labels_of_namespace(pod.namespace))
    return in_namespace and (peer.pod_selector is None or peer.pod_selector.matches(pod.labels))


def _row_full(space: ClassSpace, direction: str, rows):
    """Every slot of the (rows × columns) cells: slots belong to the destination."""
    if direction == EGRESS:
        return space.full[None, :, :]
    return space.full[rows][:, None, :]
