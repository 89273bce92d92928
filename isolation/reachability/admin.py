"""The AdminNetworkPolicy and BaselineAdminNetworkPolicy layers (see `layers`).

Semantics (network-policy-api v1alpha1, `AdminNetworkPolicySpec` and the rule actions' docs):
per direction, the AdminNetworkPolicies that select the pod run by ascending `priority`
(ties: by name, and `priority_ties` warns), each policy's rules in written order; the first
rule whose peer and port match decides. `Allow` and `Deny` are final; `Pass` skips every
remaining AdminNetworkPolicy rule, lower precedence included, and hands the traffic to the
NetworkPolicies. The BaselineAdminNetworkPolicy layer sits after the NetworkPolicy layer, so
it decides only where no NetworkPolicy isolates the pod in that direction; its first matching
rule decides, and traffic it does not match is allowed.

Peers: `namespaces` and `pods` match pods only (so an ingress rule never matches an address
outside the cluster); egress `nodes` match the addresses of the selected nodes, and egress
`networks` match any address in the CIDRs, pod IPs included (the conformance tests deny
pod-to-pod traffic with a `networks` rule).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from isolation.adminnetpol.model import (
    ADMIN,
    ALLOW,
    PASS,
    PEER_NAMESPACES,
    PEER_NETWORKS,
    PEER_NODES,
    PEER_PODS,
    AdminPeer,
    AdminPolicy,
)
from isolation.adminnetpol.schema import ADMIN_KIND, BASELINE_KIND
from isolation.netpol.model import EGRESS, INGRESS, NamedPorts
from isolation.netpol.selectors import Selector
from isolation.reachability.inventory import NODE_KIND, Endpoint, PodInfo
from isolation.reachability.layers import (
    ClassBlock,
    ClassInputs,
    ClassSpace,
    LayerDecision,
    LayerView,
    PolicyRef,
    unique_rows,
)
from isolation.text import gettext as _
from isolation.text import gettext_noop


class AdminPolicyLayer:
    """The AdminNetworkPolicies (tier ADMIN, in priority order) or the BaselineAdminNetworkPolicy
    (tier BASELINE) of a cluster, as one layer."""

    def __init__(self, policies: Sequence[AdminPolicy], tier: str = ADMIN) -> None:
        self.tier = tier
        self.kind = ADMIN_KIND if tier == ADMIN else BASELINE_KIND
        chosen = [p for p in policies if p.tier == tier]
        self.policies = sorted(chosen, key=AdminPolicy.sort_key)
        self._inputs: ClassInputs | None = None

    def __bool__(self) -> bool:
        return bool(self.policies)

    # -- what the matrix builder needs ------------------------------------------------------

    def class_inputs(self) -> ClassInputs:
        """What this layer's selectors read (its policies do not change: read once)."""
        if self._inputs is None:
            self._inputs = self._read_inputs()
        return self._inputs

    def _read_inputs(self) -> ClassInputs:
        pod_keys: set[str] = set()
        node_keys: set[str] = set()
        blocks: dict = {}
        for policy in self.policies:
            if policy.subject.pod_selector is not None:
                pod_keys |= policy.subject.pod_selector.keys()
            for rule in policy.ingress + policy.egress:
                for peer in rule.peers:
                    if peer.pod_selector is not None:
                        pod_keys |= peer.pod_selector.keys()
                    if peer.node_selector is not None:
                        node_keys |= peer.node_selector.keys()
                    for block in peer.blocks:
                        blocks.setdefault(block, None)
        return ClassInputs(frozenset(pod_keys), frozenset(node_keys), tuple(blocks))

    def evaluate(self, direction: str, space: ClassSpace) -> list[ClassBlock]:
        """First-match decisions over classes, computed on a compressed grid: rows selected by
        the same policies (and, for ingress, with the same port slots) form one group, and
        columns no peer of this layer tells apart (nor, for egress, their port slots) one
        column class; each rule then costs (its groups × column classes) bits."""
        policies = [p for p in self.policies if p.rules(direction)]
        if not policies:
            return []
        selected = np.stack([_pods_matching(space, p.subject.namespace_selector,
                                            p.subject.pod_selector) for p in policies], axis=1)
        if not selected.any():
            return []
        ingress = direction != EGRESS
        port_group = np.zeros(space.classes, dtype=np.int64)
        for number, members in enumerate(space.port_groups):
            port_group[members] = number
        rows, row_group, group_reps = _groups(selected, port_group if ingress else None)
        # columns: one class per distinct (peer memberships[, port slots for egress])
        peer_index: dict[AdminPeer, int] = {}
        column_of: dict[int, int] = {}  # by id() of a peer: its column in `peer_masks`
        for policy in policies:
            for rule in policy.rules(direction):
                for peer in rule.peers:
                    column_of[id(peer)] = peer_index.setdefault(_peer_key(peer), len(peer_index))
        peer_masks = np.stack([_peer_mask(peer, space) for peer in peer_index], axis=1)
        column_key = np.packbits(peer_masks, axis=1)
        if not ingress:
            column_key = np.concatenate(
                [column_key, port_group.astype("<i8").view(np.uint8).reshape(-1, 8)], axis=1)
        column_reps, column_class = unique_rows(column_key)
        peer_small = peer_masks[column_reps]
        rule_bits: dict[int, np.ndarray] = {}
        zero = space.dtype(0)
        shape = (len(group_reps), len(column_reps), space.words)
        if ingress:  # rows are destinations: their slots
            undecided = np.broadcast_to(space.full[group_reps][:, None, :], shape).copy()
        else:  # columns are destinations
            undecided = np.broadcast_to(space.full[column_reps][None, :, :], shape).copy()
        allow = np.zeros_like(undecided)
        deny = np.zeros_like(undecided)
        rep_selected = selected[group_reps]
        for k, policy in enumerate(policies):
            groups = np.flatnonzero(rep_selected[:, k])
            if not len(groups):
                continue
            where = slice(None) if len(groups) == len(group_reps) else groups
            for rule in policy.rules(direction):
                bits = rule_bits.get(id(rule))
                if bits is None:
                    columns = [column_of[id(peer)] for peer in rule.peers]
                    peers = peer_small[:, columns].any(axis=1)
                    ports = space.port_bits(rule.ports)
                    if ingress:  # (column classes, 1) peers × (groups, words) port slots
                        bits = (peers, ports[group_reps])
                    else:
                        bits = np.where(peers[:, None], ports[column_reps], zero)[None]
                    rule_bits[id(rule)] = bits
                if ingress:
                    peers, ports = bits
                    hit = np.where(peers[None, :, None], ports[where][:, None, :], zero) \
                        & undecided[where]
                else:
                    hit = undecided[where] & bits
                if rule.action != PASS:
                    target = allow if rule.action == ALLOW else deny
                    target[where] |= hit
                undecided[where] &= ~hit
        # compressed: the builder expands each row's group a few rows at a time
        return [ClassBlock(rows, allow, deny, row_group=row_group, column_class=column_class)]

    # -- one connection ---------------------------------------------------------------------

    def decide(self, direction: str, view: LayerView, pod: PodInfo, other: Endpoint,
               port: int, protocol: str, named: NamedPorts | None) -> LayerDecision:
        namespace_labels = view.labels_of_namespace(pod.namespace)
        selecting = [p for p in self.policies if p.rules(direction)
                     and p.subject.matches(namespace_labels, pod.labels)]
        for policy in selecting:
            for rule in policy.rules(direction):
                if not any(peer_matches(peer, view, other) for peer in rule.peers):
                    continue
                if rule.ports and not any(p.matches(port, protocol, named) for p in rule.ports):
                    continue
                ref = PolicyRef(policy.kind, policy.name, rule.action, direction, rule.index,
                                rule.name, policy.priority)
                return LayerDecision(rule.action, self._reason(direction, pod, ref), ref)
        if selecting and self.tier != ADMIN:
            fields = {"pod": pod.key, "policy": selecting[0].title(),
                      "traffic": f"{port}/{protocol}", "other": other.name}
            if direction == EGRESS:
                return LayerDecision(None, _("Egress from {pod} is selected by {policy}, but no "
                                             "rule of it matches {traffic} to {other}.",
                                             **fields))
            return LayerDecision(None, _("Ingress to {pod} is selected by {policy}, but no rule "
                                         "of it matches {traffic} from {other}.", **fields))
        return LayerDecision(None)

    def _reason(self, direction: str, pod: PodInfo, ref: PolicyRef) -> str:
        fields = {"pod": pod.key, "rule": ref.describe()}
        if ref.action == PASS:
            if direction == EGRESS:
                return _("{rule} passes egress from {pod} on to the NetworkPolicies, skipping "
                         "every remaining AdminNetworkPolicy.", **fields)
            return _("{rule} passes ingress to {pod} on to the NetworkPolicies, skipping every "
                     "remaining AdminNetworkPolicy.", **fields)
        reasons = _ADMIN_REASONS if self.tier == ADMIN else _BASELINE_REASONS
        return _(reasons[(direction, ref.action == ALLOW)], **fields)


# (direction, allowed) -> the reason an AdminNetworkPolicy rule decided
_ADMIN_REASONS = {
    (EGRESS, True): gettext_noop("Egress from {pod} is allowed by {rule}, before any "
                                 "NetworkPolicy."),
    (EGRESS, False): gettext_noop("Egress from {pod} is denied by {rule}, before any "
                                  "NetworkPolicy."),
    (INGRESS, True): gettext_noop("Ingress to {pod} is allowed by {rule}, before any "
                                  "NetworkPolicy."),
    (INGRESS, False): gettext_noop("Ingress to {pod} is denied by {rule}, before any "
                                   "NetworkPolicy."),
}
# (direction, allowed) -> the reason a BaselineAdminNetworkPolicy rule decided
_BASELINE_REASONS = {
    (EGRESS, True): gettext_noop("Egress from {pod} is allowed by {rule}: no NetworkPolicy "
                                 "selects the pod for egress, so the baseline decides."),
    (EGRESS, False): gettext_noop("Egress from {pod} is denied by {rule}: no NetworkPolicy "
                                  "selects the pod for egress, so the baseline decides."),
    (INGRESS, True): gettext_noop("Ingress to {pod} is allowed by {rule}: no NetworkPolicy "
                                  "selects the pod for ingress, so the baseline decides."),
    (INGRESS, False): gettext_noop("Ingress to {pod} is denied by {rule}: no NetworkPolicy "
                                   "selects the pod for ingress, so the baseline decides."),
}


def _groups(selected: np.ndarray,
            port_group: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows selected by the same policies (and in the same port group, when given): (the
    selected rows, the group of each, the first row of each group)."""
    rows = np.flatnonzero(selected.any(axis=1))
    key = np.packbits(selected[rows], axis=1)
    if port_group is not None:
        key = np.concatenate([key, port_group[rows].astype("<i8").view(np.uint8).reshape(-1, 8)],
                             axis=1)
    if not len(rows):
        empty = np.zeros(0, dtype=np.int64)
        return rows, empty, empty
    first, row_group = unique_rows(key)
    return rows, row_group, rows[first]


def _peer_key(peer: AdminPeer) -> AdminPeer:
    """The peer without its position, so equal peers of different rules share one mask."""
    return AdminPeer(0, peer.kind, peer.namespace_selector, peer.pod_selector,
                     peer.node_selector, peer.networks)


def _pods_matching(space: ClassSpace, namespace_selector: Selector,
                   pod_selector: Selector | None) -> np.ndarray:
    """`space.pods_matching`, once per matrix for each pair of selectors."""
    cache = getattr(space, "layer_cache", None)
    if cache is None:
        return space.pods_matching(namespace_selector, pod_selector)
    key = (_pods_matching, namespace_selector, pod_selector)
    mask = cache.get(key)
    if mask is None:
        mask = cache[key] = space.pods_matching(namespace_selector, pod_selector)
    return mask


def _peer_mask(peer: AdminPeer, space: ClassSpace) -> np.ndarray:
    if peer.kind in (PEER_NAMESPACES, PEER_PODS):
        assert peer.namespace_selector is not None
        return _pods_matching(space, peer.namespace_selector,
                              peer.pod_selector if peer.kind == PEER_PODS else None)
    if peer.kind == PEER_NODES:
        assert peer.node_selector is not None
        return space.nodes_matching(peer.node_selector)
    mask = np.zeros(space.classes, dtype=bool)
    for block in peer.blocks:
        mask |= space.in_block(block)
    return mask


def peer_matches(peer: AdminPeer, view: LayerView, other: Endpoint) -> bool:
    """Whether `other` is one of the endpoints `peer` designates."""
    if peer.kind == PEER_NETWORKS:
        address = other.address()
        return address is not None and any(
            address.version == n.version and address in n for n in peer.networks)
    if peer.kind == PEER_NODES:
        assert peer.node_selector is not None
        return (other.kind == NODE_KIND and other.node is not None
                and peer.node_selector.matches(view.labels_of_node(other.node)))
    if not other.is_pod:
        return False
    pod = view.pod(other.name)
    assert peer.namespace_selector is not None
    if not peer.namespace_selector.matches(view.labels_of_namespace(pod.namespace)):
        return False
    return peer.kind == PEER_NAMESPACES or peer.pod_selector is None or \
        peer.pod_selector.matches(pod.labels)
