"""Calico tiers as policy layers (see `layers`): one layer per tier, in Calico's order.

Semantics are `isolation.calico.evaluate`'s (Calico's tiered policy: tiers by `order`, ties by
name; within a tier policies by `order`, then name; the first matching Allow or Deny rule is
final, Pass leaves the tier, Log goes on; an endpoint some policy of the tier selects for the
direction gets the end-of-tier deny for what no rule matched, unless the tier's
`defaultAction` is Pass; what leaves the last tier meets the namespace profile: allowed).

Under Calico a Kubernetes NetworkPolicy is a default-tier policy of order 1000
(`isolation.calico.kubernetes`), so the default tier's layer replaces the NetworkPolicy layer:
a Calico policy of lower order decides before the Kubernetes policies, one of higher order
after them, and the end-of-tier deny is the Kubernetes "isolated, nothing matched" deny. The
AdminNetworkPolicy layer sits where Calico puts its `kube-admin` tier (order 1,000) and the
BaselineAdminNetworkPolicy where it puts `kube-baseline` (order 10,000,000)
(https://docs.tigera.io/calico/latest/reference/resources/tier).

In the matrix a tier is decided by label class: which policies select a class, and which
classes a rule's `source` / `destination` match, are computed once per class (selectors over
the classes' label values, `nets` through `ClassSpace.in_block`), and the first-match walk runs
over groups of rows the tier's policies cannot tell apart. A pod's service account (its name
and the ServiceAccount's labels) splits classes only when a policy of the tier reads it
(`reads_service_accounts`): `serviceAccountSelector`, a rule's `serviceAccounts`, or a selector
over `projectcalico.org/serviceaccount` or the `pcsa.` labels.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from isolation.calico import model as cm
from isolation.calico.endpoint import (
    NAMESPACE_LABEL,
    ORCHESTRATOR_LABEL,
    SERVICE_ACCOUNT_LABEL,
    SERVICE_ACCOUNT_LABEL_PREFIX,
)
from isolation.calico.endpoint import Endpoint as CalicoEndpoint
from isolation.calico.evaluate import BY_RULE, CalicoPolicySet, TierPolicies
from isolation.calico.selector import Node
from isolation.netpol.model import EGRESS, INGRESS, IPBlock, NamedPorts
from isolation.reachability.inventory import Endpoint, PodInfo
from isolation.reachability.layers import (
    ALLOW,
    DENY,
    PASS,
    ClassBlock,
    ClassInputs,
    ClassSpace,
    LayerDecision,
    LayerView,
    PolicyLayer,
    PolicyRef,
    unique_rows,
)
from isolation.reachability.netpol_layer import NetworkPolicyLayer

CALICO_TIER_KIND = "Calico tier"
CALICO_NETWORK_POLICY_KIND = "Calico NetworkPolicy"
KIND_NAMES = {cm.NETWORK_POLICY: CALICO_NETWORK_POLICY_KIND,
              cm.GLOBAL_NETWORK_POLICY: cm.GLOBAL_NETWORK_POLICY,
              cm.KUBERNETES_NETWORK_POLICY: "NetworkPolicy"}
_ALL_V4 = ipaddress.ip_network("0.0.0.0/0")
_ALL_V6 = ipaddress.ip_network("::/0")


def calico_layers(calico: CalicoPolicySet, network_policy_layer: NetworkPolicyLayer,
                  admin: PolicyLayer | None = None,
                  baseline: PolicyLayer | None = None) -> list[PolicyLayer]:
    """The layer order under Calico: its tiers by order (the default tier, holding the
    Kubernetes NetworkPolicies, always), the AdminNetworkPolicy layer as the `kube-admin` tier
    and the BaselineAdminNetworkPolicy layer as `kube-baseline`."""
    placed: list[tuple[tuple[float, str], PolicyLayer]] = []
    for tier in calico.tiers:
        if tier.tier.name == cm.DEFAULT_TIER:
            placed.append((tier.tier.sort_key, CalicoTierLayer(calico, tier, network_policy_layer)))
        elif tier.policies and tier.tier.name not in cm.BUILT_IN_TIERS:
            placed.append((tier.tier.sort_key, CalicoTierLayer(calico, tier)))
    if admin is not None:
        placed.append(((cm.ADMIN_TIER_ORDER, "kube-admin"), admin))
    if baseline is not None:
        placed.append(((cm.BASELINE_TIER_ORDER, "kube-baseline"), baseline))
    placed.sort(key=lambda pair: pair[0])
    return [layer for _, layer in placed]


def policy_ref(policy: cm.CalicoPolicy, action: str, direction: str,
               rule_index: int | None) -> PolicyRef:
    """The PolicyRef of a Calico policy (a converted Kubernetes policy keeps its own name)."""
    if policy.kind == cm.KUBERNETES_NETWORK_POLICY:
        return PolicyRef("NetworkPolicy", kubernetes_key(policy), action, direction, rule_index)
    order = None if policy.order is None else (
        int(policy.order) if float(policy.order).is_integer() else policy.order)
    return PolicyRef(KIND_NAMES.get(policy.kind, policy.kind), policy.key, action, direction,
                     rule_index, priority=order, tier=policy.tier)  # type: ignore[arg-type]


def kubernetes_key(policy: cm.CalicoPolicy) -> str:
    """`namespace/name` of the Kubernetes NetworkPolicy a converted policy came from."""
    return f"{policy.namespace}/{policy.name.removeprefix(f'knp.{cm.DEFAULT_TIER}.')}"


class CalicoTierLayer:
    """One Calico tier. The default tier (given the NetworkPolicy layer) also holds the
    Kubernetes NetworkPolicies, and explains their decisions as the NetworkPolicy layer does."""

    kind = CALICO_TIER_KIND

    def __init__(self, calico: CalicoPolicySet, tier: TierPolicies,
                 network_policy_layer: NetworkPolicyLayer | None = None) -> None:
        self.calico = calico
        self.tier = tier.tier
        self.policies = tier.policies
        self.network_policy_layer = network_policy_layer
        self.carries_network_policies = network_policy_layer is not None
        self.reads_service_accounts = any(map(_reads_service_accounts, self.policies))
        self._inputs: ClassInputs | None = None

    @property
    def name(self) -> str:
        return self.tier.name

    # -- the matrix -------------------------------------------------------------------------

    def class_inputs(self) -> ClassInputs:
        """What this layer's selectors read (its policies do not change: read once)."""
        if self._inputs is None:
            self._inputs = self._read_inputs()
        return self._inputs

    def _read_inputs(self) -> ClassInputs:
        pod_keys: set[str] = set()
        blocks: dict[IPBlock, None] = {}
        for policy in self.policies:
            if policy.kind == cm.KUBERNETES_NETWORK_POLICY:
                continue  # the builder reads the NetworkPolicies itself
            pod_keys |= policy.selector.keys()
            for rule in (*policy.ingress, *policy.egress):
                for entity in (rule.source, rule.destination):
                    for node in (entity.selector, entity.not_selector):
                        if node is not None:
                            pod_keys |= node.keys()
                    for network in (*entity.nets, *entity.not_nets):
                        blocks.setdefault(IPBlock(network), None)
                if rule.ip_version is not None:
                    blocks.setdefault(IPBlock(_ALL_V4), None)
                    blocks.setdefault(IPBlock(_ALL_V6), None)
        return ClassInputs(frozenset(pod_keys), frozenset(), tuple(blocks))

    def evaluate(self, direction: str, space: ClassSpace) -> list[ClassBlock]:
        classes = self._classes(space)
        policies = [p for p in self.policies if p.affects(direction)]
        if self.network_policy_layer is None or not any(
                p.kind == cm.KUBERNETES_NETWORK_POLICY for p in policies):
            return self._first_match(direction, space, classes, policies, end_of_tier=True)
        calico = [p for p in policies if p.kind != cm.KUBERNETES_NETWORK_POLICY]
        if any(p.order == cm.KUBERNETES_POLICY_ORDER for p in calico):
            # interleaved with the Kubernetes policies by name: walk them all, converted
            return self._first_match(direction, space, classes, policies, end_of_tier=True)
        before = [p for p in calico if _order(p) < cm.KUBERNETES_POLICY_ORDER]
        after = [p for p in calico if _order(p) > cm.KUBERNETES_POLICY_ORDER]
        return self._around_kubernetes(direction, space, classes, before, after)

    def _around_kubernetes(self, direction: str, space: ClassSpace, classes: _Classes,
                           before: list[cm.CalicoPolicy],
                           after: list[cm.CalicoPolicy]) -> list[ClassBlock]:
        """The default tier as three parts: Calico policies ordered before 1000, the
        Kubernetes policies (allow-only, so their union, from the builder), the Calico
        policies after; composed first-match over the rows any of them selects, whose
        undecided traffic meets the end-of-tier deny.

        With B and A the before and after parts' Allow / Deny / Pass bits, K the Kubernetes
        allow bits (none on rows they do not isolate), E the end-of-tier deny and
        N = every slot not decided by B, the tier puts in front of what later layers decided

            allow = B.allow | N & A.allow | N & K
            deny  = B.deny | N & ~K & (A.deny | E & ~(A.allow | A.deny | A.pass))

        as one block compressed on the joint grid of the two parts (rows and columns neither
        part tells apart), with K (compressed by the builder) as its bits under the mask N.
        """
        k_group, k_allowed = space.network_policy_groups(direction)
        isolated = k_group >= 0
        rows_mask = isolated.copy()
        for policy in (*before, *after):
            rows_mask |= classes.selects(policy)
        rows_mask &= classes.is_pod
        if not rows_mask.any():
            return []
        rows = np.flatnonzero(rows_mask)
        ingress = direction == INGRESS
        parts = [_Part.of(self._walk(direction, space, classes, part), space)
                 for part in (before, after)]
        port_group = classes.port_group
        row_key = [part.row_group[rows] for part in parts]
        column_key = [part.column_class for part in parts]
        (row_key if ingress else column_key).append(  # the end-of-tier deny reads slots
            port_group[rows] if ingress else port_group)
        row_first, joint_row = unique_rows(np.stack(row_key, axis=1))
        column_first, joint_column = unique_rows(np.stack(column_key, axis=1))
        (b_allow, b_deny, b_pass), (a_allow, a_deny, a_pass) = (
            part.grid(rows[row_first], column_first) for part in parts)
        full = (space.full[rows[row_first]][:, None, :] if ingress
                else space.full[column_first][None, :, :])
        undecided = full & ~(b_allow | b_deny | b_pass)
        end_of_tier = full if self.tier.default_action != PASS else space.dtype(0)
        # K: the Kubernetes policies' allowed bits by group, on their (pod) rows, all in `rows`
        kubernetes = {} if not isolated.any() else {
            "masked_allow": k_allowed, "masked_group": k_group, "mask": undecided}
        return [ClassBlock(
            rows, b_allow | (undecided & a_allow),
            b_deny | (undecided & (a_deny | (end_of_tier & ~(a_allow | a_deny | a_pass)))),
            row_group=joint_row, column_class=joint_column, **kubernetes)]

    def _first_match(self, direction: str, space: ClassSpace, classes: _Classes,
                     policies: list[cm.CalicoPolicy], end_of_tier: bool) -> list[ClassBlock]:
        walked = self._walk(direction, space, classes, policies)
        if walked is None:
            return []
        if end_of_tier and self.tier.default_action != PASS:
            walked.deny |= walked.undecided
        # compressed: the builder expands each row's group a few rows at a time
        return [ClassBlock(walked.rows, walked.allow, walked.deny,
                           row_group=walked.group_of_row, column_class=walked.column_class)]

    def _walk(self, direction: str, space: ClassSpace, classes: _Classes,
              policies: Sequence[cm.CalicoPolicy]) -> _Walk | None:
        """First match of `policies` (in order) over the rows they select, on a compressed
        grid: rows the policies cannot tell apart (same selecting policies, same own-side rule
        matches, for ingress the same port slots) form one group, columns no rule tells apart
        (nor, for egress, their port slots) one column class."""
        policies = [p for p in policies if p.applies_to_workloads]
        if not policies:
            return None
        ingress = direction == INGRESS
        selected = np.stack([classes.selects(p) for p in policies])  # (policies, classes)
        candidates = np.flatnonzero(selected.any(axis=0))
        if not len(candidates):
            return None
        # the rules that can match anything: an Allow / Deny / Pass rule whose own side
        # matches some class its policy selects, whose peer side matches some class, and whose
        # ports admit some slot (the others cannot change a bit, nor tell classes apart)
        rules: list[tuple[int, cm.Rule, np.ndarray]] = []
        own_rows: list[np.ndarray] = []
        peer_rows: list[np.ndarray] = []
        for k, policy in enumerate(policies):
            for rule in policy.rules(direction):
                if rule.unmodelled or rule.action == cm.LOG:
                    continue
                src, dst = classes.entity(rule.source, rule), classes.entity(rule.destination, rule)
                own, peer = (dst, src) if ingress else (src, dst)
                own = own & selected[k]
                if not own.any() or not peer.any():
                    continue
                ports = classes.rule_ports(rule)
                if ports is None:
                    continue
                rules.append((k, rule, ports))
                own_rows.append(own)
                peer_rows.append(peer)
        port_group = classes.port_group
        row_key = [np.packbits(selected[:, candidates], axis=0).T]
        if rules:
            row_key.append(np.packbits(np.stack(own_rows)[:, candidates], axis=0).T)
        if ingress:
            row_key.append(_bytes(port_group[candidates]))
        first, group_of_row = unique_rows(np.concatenate(row_key, axis=1))
        group_reps = candidates[first]
        column_key = [np.packbits(np.stack(peer_rows), axis=0).T] if rules else []
        if not ingress:
            column_key.append(_bytes(port_group))
        column_reps, column_class = unique_rows(
            np.concatenate(column_key, axis=1) if column_key
            else np.zeros((space.classes, 1), np.uint8))
        shape = (len(group_reps), len(column_reps), space.words)
        if ingress:
            undecided = np.broadcast_to(space.full[group_reps][:, None, :], shape).copy()
        else:
            undecided = np.broadcast_to(space.full[column_reps][None, :, :], shape).copy()
        allow = np.zeros_like(undecided)
        deny = np.zeros_like(undecided)
        passed = np.zeros_like(undecided)
        zero = space.dtype(0)
        targets = {cm.ALLOW: allow, cm.DENY: deny, cm.PASS: passed}
        for (_, rule, ports), own, peer in zip(rules, own_rows, peer_rows, strict=True):
            groups = np.flatnonzero(own[group_reps])
            if not len(groups):
                continue
            peer_small = peer[column_reps]
            if ingress:  # slots of the rows
                bits = np.where(peer_small[None, :, None], ports[group_reps[groups]][:, None, :],
                                zero)
            else:
                bits = np.where(peer_small[:, None], ports[column_reps], zero)[None]
            if len(groups) == len(group_reps):
                hit = undecided & bits
                targets[rule.action] |= hit
                undecided &= ~hit
            else:
                hit = undecided[groups] & bits
                targets[rule.action][groups] |= hit
                undecided[groups] &= ~hit
        return _Walk(candidates, group_of_row, column_class, allow, deny, passed, undecided)

    @staticmethod
    def _classes(space: ClassSpace) -> _Classes:
        """The label criteria over `space`'s classes, shared by every tier of one matrix."""
        cache = getattr(space, "layer_cache", None)
        if cache is None:
            return _Classes(space)
        found = cache.get(_Classes)
        if found is None:
            found = cache[_Classes] = _Classes(space)
        return found

    # -- one connection ---------------------------------------------------------------------

    def decide(self, direction: str, view: LayerView, pod: PodInfo, other: Endpoint,
               port: int, protocol: str, named: NamedPorts | None) -> LayerDecision:
        netpol = None
        if self.network_policy_layer is not None:
            netpol = self.network_policy_layer.direction_verdict(
                direction, view, pod, other, port, protocol, named)  # type: ignore[arg-type]
        endpoint = calico_endpoint(view, pod)
        peer = (calico_endpoint(view, view.pod(other.name)) if other.is_pod
                else CalicoEndpoint.address(other.ip) if other.ip else CalicoEndpoint())
        decision = self.calico.decide_tier(self.tier.name, direction, endpoint, peer, port,
                                           protocol)
        side = f"Egress from {pod.key}" if direction == EGRESS else f"Ingress to {pod.key}"
        details: dict[str, Any] = {}
        if netpol is not None:
            details = {"selecting": tuple(netpol.selecting), "matched": tuple(netpol.matched),
                       "nearest_miss": netpol.nearest_miss, "isolated": netpol.isolated}
        if decision is None:
            return LayerDecision(None, netpol.reason if netpol is not None else "", **details)
        if decision.reason == BY_RULE:
            policy = self._policy(decision.policy)
            ref = policy_ref(policy, decision.action, direction, decision.rule_index)
            if policy.kind == cm.KUBERNETES_NETWORK_POLICY and netpol is not None \
                    and netpol.allowed and netpol.matched:
                first = netpol.matched[0]
                ref = PolicyRef("NetworkPolicy", first.policy, ALLOW, direction, first.rule_index)
                return LayerDecision(ALLOW, netpol.reason, ref, **details)
            return LayerDecision(decision.action, self._reason(side, ref), ref, **details)
        # the end of the tier
        selecting = [p for p in self.policies if p.applies_to_workloads and p.affects(direction)
                     and p.selects(endpoint)]
        if decision.action == PASS:
            return LayerDecision(None, f"{side} matches no rule of tier {self.tier.name}, "
                                       f"whose default action passes it on to the next tier.",
                                 **details)
        first = selecting[0]
        if all(p.kind == cm.KUBERNETES_NETWORK_POLICY for p in selecting) and netpol is not None:
            ref = PolicyRef("NetworkPolicy", netpol.selecting[0], DENY, direction)
            return LayerDecision(DENY, netpol.reason, ref, **details)
        ref = policy_ref(first, DENY, direction, None)
        names = ", ".join(f"{KIND_NAMES.get(p.kind, p.kind)} "
                          f"{kubernetes_key(p) if p.kind == cm.KUBERNETES_NETWORK_POLICY else p.key}"
                          for p in selecting[:3])
        more = f" and {len(selecting) - 3} more" if len(selecting) > 3 else ""
        counterpart = f"to {other.name}" if direction == EGRESS else f"from {other.name}"
        reason = (f"{side} is denied at the end of Calico tier {self.tier.name}: {names}{more} "
                  f"select{'s' if len(selecting) == 1 else ''} the pod, and no rule of the "
                  f"tier matches {port}/{protocol} {counterpart}.")
        return LayerDecision(DENY, reason, ref, **details)

    def _policy(self, key: str | None) -> cm.CalicoPolicy:
        return next(p for p in self.policies if p.key == key)

    def _reason(self, side: str, ref: PolicyRef) -> str:
        if ref.action == PASS:
            return (f"{ref.describe()} passes {side[0].lower() + side[1:]} on to the next "
                    f"tier, skipping the rest of tier {ref.tier}.")
        verdict = "allowed" if ref.action == ALLOW else "denied"
        if self.tier.name == cm.DEFAULT_TIER:
            early = (math.inf if ref.priority is None else ref.priority) \
                < cm.KUBERNETES_POLICY_ORDER
        else:
            early = self.tier.sort_key < (cm.DEFAULT_TIER_ORDER, cm.DEFAULT_TIER)
        position = "before any project policy" if early else "after the project policies"
        return f"{side} is {verdict} by {ref.describe()}, {position}."


def calico_endpoint(view: LayerView, pod: PodInfo) -> CalicoEndpoint:
    """A pod as Calico's selectors see it (its namespace's and service account's labels
    included)."""
    named = tuple((name, number, protocol) for name, number, protocol in pod.ports if name)
    return CalicoEndpoint.pod(pod.namespace, pod.labels,
                              namespace_labels=view.labels_of_namespace(pod.namespace),
                              service_account=pod.service_account,
                              service_account_labels=pod.service_account_labels,
                              ip=pod.ip, named_ports=named)


def _reads_service_accounts(policy: cm.CalicoPolicy) -> bool:
    """Whether `policy` looks at its endpoints' service accounts: by `serviceAccountSelector`,
    a rule's `serviceAccounts`, or a selector over the labels Calico derives from them."""
    if policy.kind == cm.KUBERNETES_NETWORK_POLICY:
        return False
    if policy.service_account_selector is not None or _account_keys(policy.selector):
        return True
    return any(entity.service_account_names is not None
               or entity.service_account_selector is not None
               or _account_keys(entity.selector) or _account_keys(entity.not_selector)
               for rule in (*policy.ingress, *policy.egress)
               for entity in (rule.source, rule.destination))


def _account_keys(node: Node | None) -> bool:
    keys = () if node is None else node.keys()
    return any(key == SERVICE_ACCOUNT_LABEL or key.startswith(SERVICE_ACCOUNT_LABEL_PREFIX)
               for key in keys)


def _order(policy: cm.CalicoPolicy) -> float:
    return math.inf if policy.order is None else policy.order


@dataclass
class _Walk:
    """A first-match walk on the compressed grid: `rows` (pod classes) fall in groups
    `group_of_row`, columns in `column_class`; Allow / Deny / Pass bits and what no rule took
    are (groups, column classes, words)."""

    rows: np.ndarray
    group_of_row: np.ndarray
    column_class: np.ndarray
    allow: np.ndarray
    deny: np.ndarray
    passed: np.ndarray
    undecided: np.ndarray


@dataclass
class _Part:
    """A walk's bits with an extra all-zero group for the rows it leaves alone, and each
    class's group (as a row) and column class (as a column)."""

    allow: np.ndarray
    deny: np.ndarray
    passed: np.ndarray
    row_group: np.ndarray
    column_class: np.ndarray

    @classmethod
    def of(cls, walked: _Walk | None, space: ClassSpace) -> _Part:
        if walked is None:
            empty = np.zeros((1, 1, space.words), dtype=space.dtype)
            none = np.zeros(space.classes, dtype=np.int64)
            return cls(empty, empty, empty, none, none)
        row_group = np.full(space.classes, len(walked.allow), dtype=np.int64)
        row_group[walked.rows] = walked.group_of_row
        bits = [np.concatenate([grid, np.zeros_like(grid[:1])])
                for grid in (walked.allow, walked.deny, walked.passed)]
        return cls(bits[0], bits[1], bits[2], row_group, walked.column_class)

    def grid(self, rows: np.ndarray, columns: np.ndarray) -> list[np.ndarray]:
        """Allow, Deny and Pass bits of the given row classes × column classes."""
        groups, column_classes = self.row_group[rows], self.column_class[columns]
        return [bits[groups][:, column_classes] for bits in (self.allow, self.deny, self.passed)]


def _distinct(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a position holding each distinct value of a non-negative integer array, the number
    of each position's value among them)."""
    top = int(code.max(initial=0))
    if top >= 4 * len(code) + 1024:
        _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    holder = np.zeros(top + 1, dtype=np.int64)
    holder[code] = np.arange(len(code))  # some position of each value
    present = np.zeros(top + 1, dtype=bool)
    present[code] = True
    number = np.cumsum(present) - 1
    return holder[present], number[code]


def _bytes(values: np.ndarray) -> np.ndarray:
    return values.astype("<i8").view(np.uint8).reshape(-1, 8)


def _row_full(space: ClassSpace, direction: str, rows: np.ndarray) -> np.ndarray:
    if direction == EGRESS:
        return space.full[None, :, :]
    return space.full[rows][:, None, :]


@dataclass(frozen=True)
class _RulePorts:
    """A Calico rule's protocol and destination ports as a `ClassSpace.port_bits` matcher;
    rules with the same protocol and ports are equal, so they share their bits."""

    protocol: str | None
    not_protocol: str | None
    ports: tuple[cm.PortMatch, ...]
    not_ports: tuple[cm.PortMatch, ...]
    uses_names: bool = field(default=False, compare=False)

    @classmethod
    def of(cls, rule: cm.Rule) -> _RulePorts:
        destination = rule.destination
        ports, not_ports = tuple(destination.ports), tuple(destination.not_ports)
        return cls(rule.protocol, rule.not_protocol, ports, not_ports,
                   any(p.name is not None for p in (*ports, *not_ports)))

    def matches(self, port: int, protocol: str, named: NamedPorts | None) -> bool:
        if self.protocol is not None and self.protocol != protocol:
            return False
        if self.not_protocol is not None and self.not_protocol == protocol:
            return False
        if not (self.ports or self.not_ports):
            return True
        if protocol not in cm.PORT_PROTOCOLS:
            return False
        owner = _NamedPorts(named or {}) if self.uses_names else None
        if self.ports and not any(p.matches(port, protocol, owner) for p in self.ports):
            return False
        return not any(p.matches(port, protocol, owner) for p in self.not_ports)


class _NamedPorts:
    """A destination's named ports, answering `Endpoint.resolve` for `PortMatch`."""

    def __init__(self, named: NamedPorts) -> None:
        self.named = named

    def resolve(self, name: str, protocol: str) -> frozenset[int]:
        return frozenset(n for n, p in self.named.get(name, ()) if p == protocol)


class _Classes:
    """Label criteria of Calico policies over the classes of one matrix, computed once per
    distinct combination of the label values a selector reads."""

    def __init__(self, space: ClassSpace) -> None:
        self.space = space
        # Labels are read per distinct label row and per namespace, not per class: classes
        # only combine the two (see `_column`).
        cls_row, rows, cls_ns, names, labels_of = space.label_table()
        self.is_pod = cls_ns >= 0
        self._cls_row = cls_row
        self._cls_ns = np.where(self.is_pod, cls_ns, len(names))  # the last entry: no namespace
        self.namespaces = np.array([*names, ""], dtype=object)[self._cls_ns]
        self._row_labels = rows
        namespaces = [CalicoEndpoint.pod(name, namespace_labels=labels)
                      for name, labels in zip(names, labels_of, strict=True)]
        # what a pod's selector labels take from its namespace, and the namespace's own
        self._ns_selector_labels = [e.selector_labels() for e in namespaces] + [{}]
        self._ns_labels = [dict(e.namespace_labels_full()) for e in namespaces] + [{}]
        self.port_group = np.zeros(space.classes, dtype=np.int64)
        for number, members in enumerate(space.port_groups):
            self.port_group[members] = number
        # Service accounts (name, labels) by number, and each class's number: len(accounts)
        # for none (addresses, nodes, or a matrix whose policies read no service account).
        per_class = getattr(space, "cls_service_account", None)
        ids: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        numbers = [-1 if a is None else ids.setdefault(a, len(ids)) for a in per_class or ()]
        self._accounts = list(ids)
        self._cls_account = (np.array(numbers, dtype=np.int64) if per_class is not None
                             else np.full(space.classes, -1, dtype=np.int64))
        self._cls_account[self._cls_account < 0] = len(self._accounts)
        self._account_masks: dict[Any, np.ndarray] = {}
        self._values: dict[tuple[str, str], tuple[np.ndarray, list[str | None]]] = {}
        self._nodes: dict[tuple[Node, str], np.ndarray] = {}
        self._entities: dict[tuple[cm.EntityMatch, int | None], np.ndarray] = {}
        self._entity_of: dict[tuple[int, int | None], np.ndarray] = {}  # by id() of the match
        self._selects: dict[int, np.ndarray] = {}
        self._rule_ports: dict[int, np.ndarray | None] = {}  # by id() of a rule
        self._ns_number = {name: k for k, name in enumerate(names)}
        self._in_namespace: dict[str, np.ndarray] = {}

    def _column(self, key: str, on: str) -> tuple[np.ndarray, list[str | None]]:
        """Per class, the number of its value of label `key` (`on` "pod": as Calico selectors
        see the pod, "namespace": the namespace's), and the values by number (None: absent)."""
        found = self._values.get((key, on))
        if found is None:
            ids: dict[str | None, int] = {}
            by_namespace = np.array(
                [ids.setdefault(labels.get(key), len(ids)) for labels in
                 (self._ns_selector_labels if on == "pod" else self._ns_labels)], dtype=np.int64)
            column = by_namespace[self._cls_ns]
            # Precedence as in `Endpoint.selector_labels`: the namespace's `pcns.` labels, the
            # service account's `pcsa.` ones, the pod's own, then Calico's fixed labels.
            if on == "pod" and key.startswith(SERVICE_ACCOUNT_LABEL_PREFIX):
                name = key.removeprefix(SERVICE_ACCOUNT_LABEL_PREFIX)
                column = self._over(column, ids, [dict(labels).get(name)
                                                  for _, labels in self._accounts],
                                    self._cls_account)
            if on == "pod" and key not in (NAMESPACE_LABEL, ORCHESTRATOR_LABEL,
                                           SERVICE_ACCOUNT_LABEL):
                # the pod's own label, when it has one, hides the namespace's `pcns.` one
                column = self._over(column, ids, [labels.get(key) for labels in self._row_labels],
                                    self._cls_row)
            if on == "pod" and key == SERVICE_ACCOUNT_LABEL:
                column = self._over(column, ids, [name for name, _ in self._accounts],
                                    self._cls_account)
            found = self._values[(key, on)] = (column, list(ids))
        return found

    @staticmethod
    def _over(column: np.ndarray, ids: dict[str | None, int], values: list[str | None],
              number: np.ndarray) -> np.ndarray:
        """`column` with the value `values[number[c]]` of each class c that has one (a number
        past the end of `values`: none)."""
        by_number = np.array([ids.setdefault(v, len(ids)) for v in values] + [0], dtype=np.int64)
        present = np.array([v is not None for v in values] + [False], dtype=bool)
        return np.where(present[number], by_number[number], column)

    def accounts(self, test: Any, key: Any) -> np.ndarray:
        """Pod classes whose service account (name, labels) passes `test`, cached by `key`."""
        mask = self._account_masks.get(key)
        if mask is None:
            answers = np.array([bool(test(name, dict(labels))) for name, labels in self._accounts]
                               + [False], dtype=bool)
            mask = self._account_masks[key] = answers[self._cls_account] & self.is_pod
        return mask

    def account_selector(self, node: Node) -> np.ndarray:
        """Pod classes whose ServiceAccount's labels `node` matches (`serviceAccountSelector`,
        `serviceAccounts.selector`; see `CalicoPolicy.selects`)."""
        return self.accounts(lambda name, labels: name and node.matches(labels), ("selector", node))

    def account_names(self, names: frozenset[str]) -> np.ndarray:
        """Pod classes running as one of `names` (`serviceAccounts.names`)."""
        return self.accounts(lambda name, _labels: name in names, ("names", names))

    def node(self, node: Node, on: str = "pod") -> np.ndarray:
        """Pod classes whose labels (`on` "pod": as Calico selectors see them; "namespace": the
        namespace's) `node` matches."""
        mask = self._nodes.get((node, on))
        if mask is not None:
            return mask
        keys = sorted(node.keys())
        if not keys:
            mask = self.is_pod & node.matches({})
        else:
            columns = [self._column(key, on) for key in keys]
            code = columns[0][0]
            for column, values in columns[1:]:
                code = code * len(values) + column
            first, inverse = _distinct(code)
            answers = np.array([node.matches({
                key: values[int(column[row])] for key, (column, values) in zip(keys, columns,
                                                                              strict=True)
                if values[int(column[row])] is not None}) for row in first], dtype=bool)
            mask = answers[inverse] & self.is_pod
        self._nodes[(node, on)] = mask
        return mask

    def in_namespace(self, name: str) -> np.ndarray:
        """Pod classes of namespace `name`."""
        mask = self._in_namespace.get(name)
        if mask is None:
            number = self._ns_number.get(name)
            mask = self._in_namespace[name] = (
                self._cls_ns == number if number is not None else self.namespaces == name)
        return mask

    def rule_ports(self, rule: cm.Rule) -> np.ndarray | None:
        """The slots of each destination class a rule's protocol and ports admit (None when
        they admit no slot of any class)."""
        key = id(rule)
        if key not in self._rule_ports:
            bits = self.space.port_bits((_RulePorts.of(rule),))
            self._rule_ports[key] = bits if bits.any() else None
        return self._rule_ports[key]

    def selects(self, policy: cm.CalicoPolicy) -> np.ndarray:
        """Pod classes `policy` applies to (see `CalicoPolicy.selects`)."""
        mask = self._selects.get(id(policy))
        if mask is None:
            mask = self.node(policy.selector)
            if policy.namespace is not None:
                mask = mask & self.in_namespace(policy.namespace)
            if policy.namespace_selector is not None:
                mask = mask & self.node(policy.namespace_selector, "namespace")
            if policy.service_account_selector is not None:
                mask = mask & self.account_selector(policy.service_account_selector)
            self._selects[id(policy)] = mask
        return mask

    def entity(self, entity: cm.EntityMatch, rule: cm.Rule) -> np.ndarray:
        """Classes a rule's `source` or `destination` matches (labels, then addresses)."""
        fast = (id(entity), rule.ip_version)
        mask = self._entity_of.get(fast)
        if mask is not None:
            return mask
        key = (entity, rule.ip_version)
        mask = self._entities.get(key)
        if mask is not None:
            self._entity_of[fast] = mask
            return mask
        if entity.needs_endpoint:
            mask = self.is_pod.copy()
            if entity.namespace is not None:
                mask &= self.in_namespace(entity.namespace)
            if entity.namespace_selector is not None:
                mask &= self.node(entity.namespace_selector, "namespace")
            if entity.selector is not None:
                mask &= self.node(entity.selector)
            # the namespace limit above keeps `names` to the policy's namespace
            if entity.service_account_names is not None:
                mask &= self.account_names(entity.service_account_names)
            if entity.service_account_selector is not None:
                mask &= self.account_selector(entity.service_account_selector)
        else:
            mask = np.ones(self.space.classes, dtype=bool)
        if entity.not_selector is not None:
            mask &= ~self.node(entity.not_selector)
        if entity.nets:
            inside = np.zeros(self.space.classes, dtype=bool)
            for network in entity.nets:
                inside |= self.space.in_block(IPBlock(network))
            mask &= inside
        for network in entity.not_nets:
            mask &= ~self.space.in_block(IPBlock(network))
        if rule.ip_version is not None:
            other = _ALL_V6 if rule.ip_version == 4 else _ALL_V4
            mask &= ~self.space.in_block(IPBlock(other))
        self._entities[key] = self._entity_of[fast] = mask
        return mask


__all__ = ["CALICO_NETWORK_POLICY_KIND", "CALICO_TIER_KIND", "CalicoTierLayer",
           "calico_endpoint", "calico_layers", "policy_ref"]
