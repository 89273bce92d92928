"""Evaluating connectivity expectations against a snapshot, with the reachability engine.

Every expectation of one call is evaluated on ONE class-based matrix (`build_matrix`) over the
union of their sources and destinations, each destination carrying the union of the port slots
any expectation asks of it. The matrix's classes are merged further where their verdicts are
alike (equal rows, equal columns), and an expectation reads its verdicts per (source class,
destination group) with numpy, never pair by pair; a large one reads per-bit column totals
computed once per distinct set of sources and shared by every expectation with those sources.
Only the first `MAX_VIOLATIONS` violations of each are explained, by `Cluster.check` (the
deciding policy and rule); `violation_count` counts them all.

Semantics: `Allowed` holds when every (source, destination, port) pair is allowed, `Denied`
when every one is denied; a pod paired with itself is no pair (policies never block it). An
end that matches no pod, a missing Service or no port to check is reported (holds: false with
a `reason`), never silently true.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from isolation.guardrails.model import (
    ALLOWED,
    DENIED,
    Expectation,
    ExpectationError,
    PeerSpec,
    PortSpec,
    is_expectation,
    parse_expectation,
)
from isolation.netpol.selectors import LabelIndex, Selector
from isolation.reachability.build import build_matrix
from isolation.reachability.engine import Cluster, Verdict
from isolation.reachability.inventory import PodInfo
from isolation.reachability.matrix import Matrix, Slot
from isolation.snapshot import Snapshot
from isolation.text import gettext as _
from isolation.text import join

MAX_VIOLATIONS = 10
# Class pairs one expectation reads at once; a larger one is read through shared column totals.
GATHER_CELLS = 400_000
UNPACKED_CELLS = 32_000_000     # bytes of unpacked bits summed at once
Slots = tuple[Slot, ...]


@dataclass(frozen=True)
class Violation:
    """One pair that contradicts the expectation; `verdict` is the engine's explanation and
    `reason` ("Denied: …" or "Allowed: …" with the reasons of the deciding sides) a sentence
    said in the reader's language (`isolation.text`)."""

    src: str
    dst: str
    port: int
    protocol: str
    reason: str
    verdict: Verdict | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.src, "to": self.dst, "port": self.port,
                "protocol": self.protocol, "reason": self.reason}


@dataclass(frozen=True)
class ExpectationResult:
    """Whether one expectation holds; `reason` is set when it could not be checked at all
    (an end matches no pods, a missing Service, no port to check)."""

    name: str
    kind: str
    expect: str
    holds: bool
    pairs: int
    violations: list[Violation] = field(default_factory=list)
    violation_count: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "expect": self.expect,
                               "holds": self.holds, "pairs": self.pairs,
                               "violations": [v.to_dict() for v in self.violations],
                               "violation_count": self.violation_count}
        if self.reason:
            out["reason"] = self.reason
        return out


def expectation_objects(snapshot: Snapshot) -> list[dict[str, Any]]:
    """The expectation documents a snapshot carries (cluster-scoped first)."""
    return [*snapshot.cluster_expectations, *snapshot.expectations]


def parse_expectations(objects: Iterable[Any]) -> tuple[list[Expectation], list[ExpectationError]]:
    """The valid expectations of `objects` (other kinds skipped) and the errors of the rest."""
    valid: list[Expectation] = []
    errors: list[ExpectationError] = []
    for obj in objects:
        if not is_expectation(obj):
            continue
        try:
            valid.append(parse_expectation(obj))
        except ExpectationError as error:
            errors.append(error)
    return valid, errors


def evaluate(snapshot: Snapshot, expectations: Sequence[Expectation],
             cluster: Cluster | None = None, *,
             max_violations: int = MAX_VIOLATIONS,
             matrix_cluster: Cluster | None = None) -> list[ExpectationResult]:
    """The result of each expectation on `snapshot`, in order, each with at most
    `max_violations` explained violations (`violation_count` counts them all).

    `cluster` is `Cluster.from_snapshot(snapshot)` when the caller has it already (it may raise
    the engine's InvalidPolicyError / InventoryError otherwise). `matrix_cluster`, when given,
    decides the verdicts instead of `cluster` (which still explains the violations): an engine
    of the same pods that answers as `cluster` on every port the expectations ask (see
    `asked_ports`), such as one without the rules that admit none of them.
    """
    if cluster is None:
        cluster = Cluster.from_snapshot(snapshot)
    return _Evaluation(snapshot, cluster, list(expectations), max_violations,
                       matrix_cluster).run()


def asked_ports(snapshot: Snapshot, expectations: Iterable[Expectation]) -> set[tuple[int, str]]:
    """The numbered (port, protocol) pairs the expectations may ask of a destination beyond
    the ports its pods declare: their numbered `ports` and the numbered target ports of the
    Services they name (a named port is always one a pod declares)."""
    asked: set[tuple[int, str]] = set()
    services = {(s.get("metadata", {}).get("namespace") or "default",
                 s.get("metadata", {}).get("name")): s for s in snapshot.services}
    for expectation in expectations:
        asked.update((p.port, p.protocol) for p in expectation.ports or ()
                     if isinstance(p.port, int))
        if expectation.destination.service is None:
            continue
        namespace, name = expectation.destination.service.split("/", 1)
        service = services.get((namespace, name)) or {}
        for entry in (service.get("spec") or {}).get("ports") or []:
            protocol = entry.get("protocol", "TCP")
            for value in (entry.get("targetPort"), entry.get("port")):
                if isinstance(value, int) and not isinstance(value, bool):
                    asked.add((value, protocol))
                elif isinstance(value, str) and value.isdigit():
                    asked.add((int(value), protocol))
    return asked


def evaluate_snapshot(snapshot: Snapshot) -> tuple[list[ExpectationResult], list[ExpectationError]]:
    """Evaluate the expectations a snapshot carries; invalid ones are returned as errors."""
    valid, errors = parse_expectations(expectation_objects(snapshot))
    return evaluate(snapshot, valid), errors


def newly_violated(before: Sequence[ExpectationResult],
                   after: Sequence[ExpectationResult]) -> list[ExpectationResult]:
    """Results of `after` that do not hold although the same expectation held in `before`
    (an expectation new in `after` counts as newly violated when it does not hold)."""
    held = {r.name: r.holds for r in before}
    return [r for r in after if not r.holds and held.get(r.name, True)]


# -- the evaluation ---------------------------------------------------------------------------

@dataclass
class _Plan:
    """One expectation resolved to endpoint ids (pods by index, then outside addresses) and,
    per destination, the id of its requested slots."""

    expectation: Expectation
    src_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dst_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    slot_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    problem: str | None = None


class _Evaluation:
    def __init__(self, snapshot: Snapshot, cluster: Cluster, expectations: list[Expectation],
                 max_violations: int = MAX_VIOLATIONS,
                 matrix_cluster: Cluster | None = None) -> None:
        self.snapshot = snapshot
        self.cluster = cluster
        self.matrix_cluster = matrix_cluster or cluster
        self.expectations = expectations
        self.max_violations = max_violations
        self.pods: list[PodInfo] = cluster.pods
        self._keys = [pod.key for pod in self.pods]
        self._index = LabelIndex([pod.labels for pod in self.pods])
        namespaces = sorted({pod.namespace for pod in self.pods})
        self._namespaces = namespaces
        self._ns_position = {name: k for k, name in enumerate(namespaces)}
        self._pod_namespace = np.array([self._ns_position[p.namespace] for p in self.pods],
                                       dtype=np.int64)
        ports_position: dict[Any, int] = {}
        self._ports_of = np.array([ports_position.setdefault(p.ports, len(ports_position))
                                   for p in self.pods], dtype=np.int64)
        self._ports_pod = [0] * len(ports_position)    # one pod of each distinct port list
        for k, position in enumerate(self._ports_of.tolist()):
            self._ports_pod[position] = k
        self._services = {(s.get("metadata", {}).get("namespace") or "default",
                           s.get("metadata", {}).get("name")): s for s in snapshot.services}
        self._addresses: dict[str, int] = {}
        self._slot_lists: list[Slots] = []
        self._slot_id: dict[Slots, int] = {}
        self._mask_ids: dict[tuple[int, int], int] = {}
        self._mask_rows: list[np.ndarray] = []
        self._columns: dict[bytes, np.ndarray] = {}
        self._namespace_masks: dict[Selector, np.ndarray] = {}

    def run(self) -> list[ExpectationResult]:
        plans = [self._plan(e) for e in self.expectations]
        live = [p for p in plans if p.problem is None]
        if not live:
            return [self._unchecked(p) for p in plans]
        self._matrix(live)
        return [self._unchecked(p) if p.problem else self._result(p) for p in plans]

    # -- endpoint ids and slot lists -------------------------------------------------------

    def _address(self, address: str) -> np.ndarray:
        number = self._addresses.setdefault(address, len(self.pods) + len(self._addresses))
        return np.array([number], dtype=np.int64)

    def _ref(self, endpoint: int) -> str:
        if endpoint < len(self.pods):
            return self._keys[endpoint]
        return self._address_list[endpoint - len(self.pods)]

    def _intern(self, slots: Slots) -> int:
        number = self._slot_id.get(slots)
        if number is None:
            number = self._slot_id[slots] = len(self._slot_lists)
            self._slot_lists.append(slots)
        return number

    # -- resolving peers ------------------------------------------------------------------

    def _selected(self, peer: PeerSpec) -> np.ndarray:
        """Indexes into `self.pods` of the pods `peer` selects."""
        if not self.pods:
            return np.zeros(0, dtype=np.int64)
        chosen = self._index.evaluate(peer.pod_selector)
        if peer.namespace is not None:
            position = self._ns_position.get(peer.namespace)
            if position is None:
                return np.zeros(0, dtype=np.int64)
            chosen = chosen & (self._pod_namespace == position)
        else:
            assert peer.namespace_selector is not None
            chosen = chosen & self._namespaces_matching(peer.namespace_selector)[
                self._pod_namespace]
        return np.flatnonzero(chosen)

    def _namespaces_matching(self, selector: Selector) -> np.ndarray:
        """Which of the pods' namespaces `selector` matches (computed once per selector)."""
        found = self._namespace_masks.get(selector)
        if found is None:
            found = self._namespace_masks[selector] = np.array(
                [selector.matches(self.cluster.labels_of_namespace(name))
                 for name in self._namespaces] or [False])
        return found

    def _pod_slot_ids(self, chosen: np.ndarray, ports: tuple[PortSpec, ...] | None) -> np.ndarray:
        """The slot-list id of each chosen pod, worked out once per distinct port list."""
        kinds = self._ports_of[chosen]
        table = np.full(len(self._ports_pod), -1, dtype=np.int64)
        for kind in np.unique(kinds).tolist():
            table[kind] = self._intern(_pod_slots(self.pods[self._ports_pod[kind]], ports))
        return table[kinds]

    def _plan(self, expectation: Expectation) -> _Plan:
        plan = _Plan(expectation)
        source, destination = expectation.source, expectation.destination
        if source.cidr is not None:
            plan.src_ids = self._address(source.address or "")
        else:
            plan.src_ids = self._selected(source)
            if not len(plan.src_ids):
                plan.problem = _("spec.from ({peer}) matches no pods", peer=source.describe())
                return plan
        if destination.cidr is not None:
            ports = [(p.port, p.protocol) for p in expectation.ports or ()
                     if isinstance(p.port, int)]
            if not ports:
                plan.problem = _("no ports to check: an address outside the cluster declares "
                                 "none, so spec.ports must list numbered ports")
                return plan
            plan.dst_ids = self._address(destination.address or "")
            plan.slot_ids = np.array([self._intern(tuple(dict.fromkeys(ports)))], dtype=np.int64)
            return plan
        if destination.service is not None:
            namespace, name = destination.service.split("/", 1)
            service = self._services.get((namespace, name))
            if service is None:
                plan.problem = _("spec.to: there is no Service {service}", service=destination.service)
                return plan
            selector = (service.get("spec") or {}).get("selector")
            position = self._ns_position.get(namespace, -1)
            chosen = [k for k in np.flatnonzero(self._pod_namespace == position).tolist()
                      if selector and all(self.pods[k].labels.get(key) == value
                                          for key, value in selector.items())]
            if not chosen:
                plan.problem = _("spec.to (service {service}) matches no pods",
                                 service=destination.service)
                return plan
            service_ports = (service.get("spec") or {}).get("ports") or []
            plan.dst_ids = np.array(chosen, dtype=np.int64)
            plan.slot_ids = np.array([self._intern(_service_slots(
                self.pods[k], service_ports, expectation.ports)) for k in chosen], dtype=np.int64)
        else:
            plan.dst_ids = self._selected(destination)
            if not len(plan.dst_ids):
                plan.problem = _("spec.to ({peer}) matches no pods", peer=destination.describe())
                return plan
            plan.slot_ids = self._pod_slot_ids(plan.dst_ids, expectation.ports)
        if not any(self._slot_lists[i] for i in np.unique(plan.slot_ids).tolist()):
            plan.problem = _("no ports to check: the destination pods declare no container "
                             "ports (or none of spec.ports)")
        return plan

    # -- one matrix for all -----------------------------------------------------------------

    def _matrix(self, plans: list[_Plan]) -> None:
        self._address_list = list(self._addresses)
        count = len(self.pods) + len(self._address_list)
        sources = np.unique(np.concatenate([p.src_ids for p in plans]))
        kinds = len(self._slot_lists)
        wanted = np.unique(np.concatenate([p.dst_ids * kinds + p.slot_ids for p in plans]))
        destinations, first = np.unique(wanted // kinds, return_index=True)
        unions: dict[Slots, int] = {}
        self._unions: list[Slots] = []
        union_of = np.empty(len(destinations), dtype=np.int64)
        bounds = [*first.tolist(), len(wanted)]
        slot_ids = (wanted % kinds).tolist()
        for j in range(len(destinations)):
            union = tuple(dict.fromkeys(slot for i in slot_ids[bounds[j]:bounds[j + 1]]
                                        for slot in self._slot_lists[i]))
            number = unions.setdefault(union, len(self._unions))
            if number == len(self._unions):
                self._unions.append(union)
            union_of[j] = number
        self._union_of = union_of
        cluster = self.matrix_cluster
        matrix = build_matrix(cluster, [cluster.endpoint(self._ref(i)) for i in sources.tolist()],
                              [cluster.endpoint(self._ref(i)) for i in destinations.tolist()],
                              [self._unions[u] for u in union_of.tolist()])
        self._matrix_ = matrix
        self._row_of = np.full(count, -1, dtype=np.int64)
        self._row_of[sources] = np.arange(len(sources))
        self._col_of = np.full(count, -1, dtype=np.int64)
        self._col_of[destinations] = np.arange(len(destinations))
        self._self_dst = self._col_of[sources]
        self._view = _ClassView(matrix)

    def _mask_id(self, union: int, requested: int) -> int:
        """A small integer naming the bitset of the `requested` slot list within `union`."""
        key = (union, requested)
        found = self._mask_ids.get(key)
        if found is None:
            index = {slot: k for k, slot in enumerate(self._unions[union])}
            found = self._mask_ids[key] = len(self._mask_rows)
            self._mask_rows.append(self._view.masks(
                [[index[s] for s in self._slot_lists[requested]]])[0])
        return found

    def _result(self, plan: _Plan) -> ExpectationResult:
        view = self._view
        rows = self._row_of[plan.src_ids]
        cols = self._col_of[plan.dst_ids]
        kinds = len(self._slot_lists)
        pairs_key, pairs_inverse = np.unique(self._union_of[cols] * kinds + plan.slot_ids,
                                             return_inverse=True)
        table = np.array([self._mask_id(k // kinds, k % kinds) for k in pairs_key.tolist()],
                         dtype=np.int64)
        mask_ids = table[pairs_inverse.reshape(-1)]
        # destination groups: (class, requested mask) pairs
        key = view.dst_class[cols] * len(self._mask_rows) + mask_ids
        _values, dst_first, dst_inverse, dst_counts = np.unique(
            key, return_index=True, return_inverse=True, return_counts=True)
        dst_inverse = dst_inverse.reshape(-1)
        dst_classes = view.dst_class[cols[dst_first]]
        dst_masks = np.stack([self._mask_rows[i] for i in mask_ids[dst_first].tolist()])
        src_classes, src_inverse, src_counts = np.unique(
            view.src_class[rows], return_inverse=True, return_counts=True)
        src_inverse = src_inverse.reshape(-1)
        nslots = np.bitwise_count(dst_masks).sum(axis=1, dtype=np.int64)
        pairs = int(src_counts.sum()) * int((dst_counts * nslots).sum())
        cells = _Cells(view, src_classes, src_counts, dst_classes, dst_masks, self._columns)
        allowed = int(cells.group_sums() @ dst_counts)
        # a pod is no pair with itself; a node reaches the pods on it whatever the policies
        in_cols = np.full(len(self._matrix_.destinations), -1, dtype=np.int64)
        in_cols[cols] = np.arange(len(cols))
        self_cols = self._self_dst[rows]
        mine = np.flatnonzero((self_cols >= 0) & (in_cols[np.maximum(self_cols, 0)] >= 0))
        if len(mine):
            groups = dst_inverse[in_cols[self_cols[mine]]]
            pairs -= int(nslots[groups].sum())
            allowed -= int(cells.values(src_inverse[mine], groups).sum())
        forced: dict[int, np.ndarray] = {}
        if view.overrides:
            for r in np.flatnonzero(np.isin(rows, list(view.overrides))).tolist():
                override = view.overrides[int(rows[r])][cols]
                if not override.any():
                    continue
                forced[r] = override
                hits = [c for c in np.flatnonzero(override).tolist() if self_cols[r] != cols[c]]
                groups = dst_inverse[hits]
                allowed += int((nslots[groups] - cells.values(
                    np.full(len(hits), src_inverse[r]), groups)).sum())
        expect = plan.expectation.expect
        count = pairs - allowed if expect == ALLOWED else allowed
        violations: list[Violation] = []
        if count and self.max_violations > 0:
            violations = self._examples(plan, rows, cols, cells, nslots, src_inverse,
                                        dst_inverse, forced)
        return ExpectationResult(plan.expectation.name, plan.expectation.kind, expect,
                                 holds=count == 0, pairs=pairs, violations=violations,
                                 violation_count=count)

    def _examples(self, plan: _Plan, rows: np.ndarray, cols: np.ndarray, cells: _Cells,
                  nslots: np.ndarray, src_inverse: np.ndarray, dst_inverse: np.ndarray,
                  forced: dict[int, np.ndarray]) -> list[Violation]:
        """The first `max_violations` violating pairs, explained by the engine; only the
        destination groups whose sums show a violation are read, one column at a time."""
        want_allowed = plan.expectation.expect == ALLOWED
        sums = cells.group_sums()
        full = cells.src_counts.sum() * nslots
        suspects = np.flatnonzero(sums < full if want_allowed else sums > 0)
        found: list[Violation] = []
        word_bits = self._view.word_bits
        for g in suspects.tolist():
            column = cells.column(g)
            bad = np.flatnonzero(column < nslots[g] if want_allowed else column > 0)
            targets = np.flatnonzero(dst_inverse == g).tolist()
            for a in bad.tolist():
                words = cells.bits(a, g)
                for r in np.flatnonzero(src_inverse == a).tolist():
                    for c in targets:
                        if self._self_dst[rows[r]] == cols[c] or (r in forced and forced[r][c]):
                            continue
                        union = self._unions[self._union_of[cols[c]]]
                        for slot in self._slot_lists[plan.slot_ids[c]]:
                            k = union.index(slot)
                            is_allowed = bool((int(words[k // word_bits]) >> (k % word_bits)) & 1)
                            if is_allowed == want_allowed:
                                continue
                            found.append(self._explain(
                                self._ref(int(plan.src_ids[r])), self._ref(int(plan.dst_ids[c])),
                                slot, want_allowed))
                            if len(found) >= self.max_violations:
                                return found
        return found

    def _explain(self, src: str, dst: str, slot: Slot, want_allowed: bool) -> Violation:
        verdict = self.cluster.check(src, dst, slot[0], slot[1])
        if want_allowed:
            sides = [d for d in (verdict.egress, verdict.ingress) if not d.allowed]
            reason = _("Denied: {explanation}", explanation=join([d.reason for d in sides]))
        else:
            sides = [d for d in (verdict.egress, verdict.ingress) if d.applies] or \
                [verdict.egress, verdict.ingress]
            reason = _("Allowed: {explanation}", explanation=join([d.reason for d in sides]))
        return Violation(src, dst, slot[0], slot[1], reason, verdict)

    @staticmethod
    def _unchecked(plan: _Plan) -> ExpectationResult:
        e = plan.expectation
        return ExpectationResult(e.name, e.kind, e.expect, holds=False, pairs=0,
                                 reason=plan.problem)


class _Cells:
    """Allowed-slot counts of one expectation's (source class, destination group) pairs, read
    the cheap way for its size. A small expectation reads all its pairs at once. A large one
    reads, per destination group, the sum over its sources, from per-bit totals of every
    destination class computed once per distinct set of sources and shared by every
    expectation with those sources (every "any pod" expectation, for one); single columns
    are read only for examples."""

    def __init__(self, view: _ClassView, src_classes: np.ndarray, src_counts: np.ndarray,
                 dst_classes: np.ndarray, dst_masks: np.ndarray,
                 shared: dict[bytes, np.ndarray]) -> None:
        self.view = view
        self.src_classes = src_classes
        self.src_counts = src_counts.astype(np.int64)
        self.dst_classes = dst_classes
        self.dst_masks = dst_masks
        self.small = len(src_classes) * len(dst_classes) <= GATHER_CELLS
        self._shared = shared
        self._all: np.ndarray | None = None
        self._sums: np.ndarray | None = None

    def matrix(self) -> np.ndarray:
        """Every pair's count, shape (source classes, destination groups)."""
        if self._all is None:
            bits = self.view.bits[np.ix_(self.src_classes, self.dst_classes)]
            bits &= self.dst_masks[None, :, :]
            self._all = np.bitwise_count(bits).sum(axis=2, dtype=np.int64)
        return self._all

    def group_sums(self) -> np.ndarray:
        """Per destination group, the count summed over every source (one per source pod)."""
        if self._sums is None:
            self._sums = (self.src_counts @ self.matrix() if self.small
                          else self._large_sums())
        return self._sums

    def _large_sums(self) -> np.ndarray:
        totals = self._bit_totals()
        requested = _unpacked(self.dst_masks)[:, :totals.shape[1]]
        return (totals[self.dst_classes] * requested).sum(axis=1)

    def _bit_totals(self) -> np.ndarray:
        """For every destination class and slot bit, how many of the sources it allows:
        shape (destination classes, bits), shared by the expectations with these sources."""
        key = self.src_classes.tobytes() + b"|" + self.src_counts.tobytes()
        found = self._shared.get(key)
        if found is not None:
            return found
        bits = self.view.bits
        width = bits.shape[2] * bits.dtype.itemsize * 8
        total = np.zeros((bits.shape[1], width), dtype=np.int64)
        ones = bool((self.src_counts == 1).all())
        step = max(1, UNPACKED_CELLS // max(1, bits.shape[1] * width))
        for start in range(0, len(self.src_classes), step):
            block = _unpacked(bits[self.src_classes[start:start + step]])
            if ones:
                total += block.sum(axis=0, dtype=np.int64)
            else:   # small whole numbers: float32 products and sums are exact here
                weights = self.src_counts[start:start + step].astype(np.float32)
                flat = block.reshape(len(weights), -1).astype(np.float32)
                total += np.rint(weights @ flat).astype(np.int64).reshape(total.shape)
        self._shared[key] = total
        return total

    def values(self, sources: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """The counts of the pairs (sources[i], groups[i])."""
        if self._all is not None:
            return self._all[sources, groups]
        bits = self.view.bits[self.src_classes[sources], self.dst_classes[groups]]
        return np.bitwise_count(bits & self.dst_masks[groups]).sum(axis=-1, dtype=np.int64)

    def column(self, group: int) -> np.ndarray:
        """The counts of every source class with one destination group."""
        if self.small:
            return self.matrix()[:, group]
        bits = self.view.bits[self.src_classes, self.dst_classes[group]]
        return np.bitwise_count(bits & self.dst_masks[group]).sum(axis=-1, dtype=np.int64)

    def bits(self, source: int, group: int) -> np.ndarray:
        """The allowed requested slots of one pair, as words."""
        return (self.view.bits[self.src_classes[source], self.dst_classes[group]]
                & self.dst_masks[group])


class _ClassView:
    """The class-level arrays of a Matrix, with classes whose verdicts are alike merged: the
    source (destination) class of each endpoint is that of the first class with the same row
    (column) of allowed-slot bitsets, and `bits` holds only the distinct rows and columns
    (far fewer than the engine's classes, which also split on what no verdict shows). The
    own-node overrides are the Matrix's."""

    def __init__(self, matrix: Matrix) -> None:
        bits = matrix._bits
        row_of, rows = _distinct(bits)
        # Two columns are equal when they are equal on the distinct rows: transposing only
        # those is several times cheaper than transposing the whole matrix.
        col_of, cols = _distinct(np.ascontiguousarray(bits[rows].transpose(1, 0, 2)))
        self.src_class = row_of[matrix._src_class]
        self.dst_class = col_of[matrix._dst_class]
        self.bits = np.ascontiguousarray(bits[np.ix_(rows, cols)])
        self.overrides = matrix._overrides
        self.word_bits = matrix.word_bits

    def masks(self, slot_lists: list[list[int]]) -> np.ndarray:
        """Bitsets (rows × words) with the given slot indexes set."""
        words = self.bits.shape[2]
        out = np.zeros((len(slot_lists), words), dtype=self.bits.dtype)
        for row, ks in enumerate(slot_lists):
            for k in ks:
                out[row, k // self.word_bits] |= self.bits.dtype.type(1 << (k % self.word_bits))
        return out


def _distinct(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(for each item of `array`'s first axis, the number of the first item equal to it
    counted among distinct items; the index of each distinct item's first occurrence)."""
    seen: dict[bytes, int] = {}
    number = np.empty(len(array), dtype=np.int64)
    first: list[int] = []
    for k in range(len(array)):
        found = seen.setdefault(array[k].tobytes(), len(first))
        if found == len(first):
            first.append(k)
        number[k] = found
    return number, np.array(first, dtype=np.int64)


def _unpacked(words: np.ndarray) -> np.ndarray:
    """The bits of `words` (last axis: the words of one bitset) as 0/1 bytes, slot k at k."""
    as_bytes = np.ascontiguousarray(words).view(np.uint8)
    if sys.byteorder == "big" and words.dtype.itemsize > 1:
        as_bytes = np.ascontiguousarray(words.byteswap()).view(np.uint8)
    return np.unpackbits(as_bytes, axis=-1, bitorder="little")


def _named(pod: PodInfo, name: str, protocol: str) -> list[Slot]:
    return [(n, p) for n, p in pod.named_ports().get(name, ()) if p == protocol]


def _pod_slots(pod: PodInfo, ports: tuple[PortSpec, ...] | None) -> Slots:
    if ports is None:
        return pod.declared_ports()
    out: list[Slot] = []
    for spec in ports:
        if isinstance(spec.port, int):
            out.append((spec.port, spec.protocol))
        else:
            out += _named(pod, spec.port, spec.protocol)
    return tuple(dict.fromkeys(out))


def _service_slots(pod: PodInfo, service_ports: list[dict[str, Any]],
                   ports: tuple[PortSpec, ...] | None) -> Slots:
    """The pod's target ports of the Service (of the listed Service ports, when `ports` is
    given; a listed port that is no Service port is taken as a pod port)."""
    def target(sp: dict[str, Any]) -> list[Slot]:
        protocol = sp.get("protocol", "TCP")
        value = sp.get("targetPort", sp.get("port"))
        if isinstance(value, int):
            return [(value, protocol)]
        if isinstance(value, str) and value.isdigit():
            return [(int(value), protocol)]
        return _named(pod, str(value), protocol)

    out: list[Slot] = []
    if ports is None:
        for sp in service_ports:
            out += target(sp)
        return tuple(dict.fromkeys(out))
    for spec in ports:
        matching = [sp for sp in service_ports if sp.get("protocol", "TCP") == spec.protocol
                    and spec.port in (sp.get("port"), sp.get("name"))]
        if matching:
            for sp in matching:
                out += target(sp)
        else:
            out += _pod_slots(pod, (spec,))
    return tuple(dict.fromkeys(out))


__all__ = [
    "ALLOWED", "DENIED", "MAX_VIOLATIONS", "ExpectationResult", "Violation", "asked_ports",
    "evaluate",
    "evaluate_snapshot", "expectation_objects", "newly_violated", "parse_expectations",
]
