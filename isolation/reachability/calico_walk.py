"""A Calico tier decided over a matrix's classes: the first-match walk of its policies on a
compressed grid (rows and columns the policies cannot tell apart), the end-of-tier deny, and
the default tier composed around the Kubernetes NetworkPolicies it holds at order 1000."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from isolation.calico import model as cm
from isolation.calico.evaluate import TierPolicies
from isolation.netpol.model import INGRESS
from isolation.reachability.calico_classes import CalicoClasses, classes_of
from isolation.reachability.layers import PASS, ClassBlock, ClassSpace, unique_rows


def evaluate_tier(tier: TierPolicies, carries_network_policies: bool, direction: str,
                  space: ClassSpace) -> list[ClassBlock]:
    """The tier's decisions for `direction` over `space`'s classes (`PolicyLayer.evaluate`);
    `carries_network_policies`: the tier holds the Kubernetes policies (the default tier),
    whose union the builder has computed."""
    classes = classes_of(space)
    policies = [p for p in tier.policies if p.affects(direction)]
    if not carries_network_policies or not any(
            p.kind == cm.KUBERNETES_NETWORK_POLICY for p in policies):
        return _first_match(tier.tier, direction, space, classes, policies)
    calico = [p for p in policies if p.kind != cm.KUBERNETES_NETWORK_POLICY]
    if any(p.order == cm.KUBERNETES_POLICY_ORDER for p in calico):
        # interleaved with the Kubernetes policies by name: walk them all, converted
        return _first_match(tier.tier, direction, space, classes, policies)
    before = [p for p in calico if _order(p) < cm.KUBERNETES_POLICY_ORDER]
    after = [p for p in calico if _order(p) > cm.KUBERNETES_POLICY_ORDER]
    return _around_kubernetes(tier.tier, direction, space, classes, before, after)


def _around_kubernetes(tier: cm.Tier, direction: str, space: ClassSpace, classes: CalicoClasses,
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
    parts = [_Part.of(_walk(direction, space, classes, part), space)
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
    end_of_tier = full if tier.default_action != PASS else space.dtype(0)
    # K: the Kubernetes policies' allowed bits by group, on their (pod) rows, all in `rows`
    kubernetes = {} if not isolated.any() else {
        "masked_allow": k_allowed, "masked_group": k_group, "mask": undecided}
    return [ClassBlock(
        rows, b_allow | (undecided & a_allow),
        b_deny | (undecided & (a_deny | (end_of_tier & ~(a_allow | a_deny | a_pass)))),
        row_group=joint_row, column_class=joint_column, **kubernetes)]


def _first_match(tier: cm.Tier, direction: str, space: ClassSpace, classes: CalicoClasses,
                 policies: list[cm.CalicoPolicy]) -> list[ClassBlock]:
    """`policies` walked first-match, what none matched denied at the end of the tier (unless
    its default action is Pass)."""
    walked = _walk(direction, space, classes, policies)
    if walked is None:
        return []
    if tier.default_action != PASS:
        walked.deny |= walked.undecided
    # compressed: the builder expands each row's group a few rows at a time
    return [ClassBlock(walked.rows, walked.allow, walked.deny,
                       row_group=walked.group_of_row, column_class=walked.column_class)]


def _walk(direction: str, space: ClassSpace, classes: CalicoClasses,
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


def _bytes(values: np.ndarray) -> np.ndarray:
    return values.astype("<i8").view(np.uint8).reshape(-1, 8)

