"""Evaluating connectivity expectations against a snapshot, with the reachability engine.

Every expectation of one call is evaluated on ONE class-based matrix (`build_matrix`) over the
union of their sources and destinations, each destination carrying the union of the port slots
any expectation asks of it; an expectation then reads its verdicts per (source class,
destination class) with numpy, never pair by pair. Only the first `MAX_VIOLATIONS` violations
of each are explained, by `Cluster.check` (the deciding policy and rule).

Semantics: `Allowed` holds when every (source, destination, port) pair is allowed, `Denied`
when every one is denied; a pod paired with itself is no pair (policies never block it). An
end that matches no pod, a missing Service or no port to check is reported (holds: false with
a `reason`), never silently true.
"""

from __future__ import annotations

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
from isolation.netpol.selectors import LabelIndex
from isolation.reachability.build import build_matrix
from isolation.reachability.engine import Cluster, Verdict
from isolation.reachability.inventory import PodInfo
from isolation.reachability.matrix import Matrix, Slot, full_masks
from isolation.snapshot import Snapshot

MAX_VIOLATIONS = 20
Slots = tuple[Slot, ...]


@dataclass(frozen=True)
class Violation:
    """One pair that contradicts the expectation; `verdict` is the engine's explanation."""

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
             cluster: Cluster | None = None) -> list[ExpectationResult]:
    """The result of each expectation on `snapshot`, in order.

    `cluster` is `Cluster.from_snapshot(snapshot)` when the caller has it already (it may raise
    the engine's InvalidPolicyError / InventoryError otherwise).
    """
    if cluster is None:
        cluster = Cluster.from_snapshot(snapshot)
    return _Evaluation(snapshot, cluster, list(expectations)).run()


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
    """One expectation resolved to matrix rows, columns and requested slots per column."""

    expectation: Expectation
    sources: list[str] = field(default_factory=list)
    destinations: list[str] = field(default_factory=list)
    slots: list[Slots] = field(default_factory=list)  # requested slots per destination
    problem: str | None = None


class _Evaluation:
    def __init__(self, snapshot: Snapshot, cluster: Cluster,
                 expectations: list[Expectation]) -> None:
        self.snapshot = snapshot
        self.cluster = cluster
        self.expectations = expectations
        self.pods: list[PodInfo] = cluster.pods
        self._index = LabelIndex([pod.labels for pod in self.pods])
        namespaces = sorted({pod.namespace for pod in self.pods})
        self._namespaces = namespaces
        position = {name: k for k, name in enumerate(namespaces)}
        self._pod_namespace = np.array([position[p.namespace] for p in self.pods], dtype=np.int64)
        self._services = {(s.get("metadata", {}).get("namespace") or "default",
                           s.get("metadata", {}).get("name")): s for s in snapshot.services}

    def run(self) -> list[ExpectationResult]:
        plans = [self._plan(e) for e in self.expectations]
        live = [p for p in plans if p.problem is None]
        if not live:
            return [self._unchecked(p) for p in plans]
        matrix, slot_index = self._matrix(live)
        return [self._unchecked(p) if p.problem else self._result(p, matrix, slot_index)
                for p in plans]

    # -- resolving peers ------------------------------------------------------------------

    def _selected_pods(self, peer: PeerSpec) -> list[PodInfo]:
        chosen = self._index.evaluate(peer.pod_selector) if self.pods else np.zeros(0, bool)
        if peer.namespace is not None:
            chosen = chosen & np.array([p.namespace == peer.namespace for p in self.pods],
                                       dtype=bool) if self.pods else chosen
        else:
            assert peer.namespace_selector is not None
            wanted = np.array([peer.namespace_selector.matches(
                self.cluster.labels_of_namespace(name)) for name in self._namespaces] or [False])
            chosen = chosen & wanted[self._pod_namespace] if self.pods else chosen
        return [self.pods[k] for k in np.flatnonzero(chosen)]

    def _plan(self, expectation: Expectation) -> _Plan:
        plan = _Plan(expectation)
        source, destination = expectation.source, expectation.destination
        if source.cidr is not None:
            plan.sources = [source.address or ""]
        else:
            pods = self._selected_pods(source)
            if not pods:
                plan.problem = f"spec.from ({source.describe()}) matches no pods"
                return plan
            plan.sources = [p.key for p in pods]
        if destination.cidr is not None:
            ports = [(p.port, p.protocol) for p in expectation.ports or ()
                     if isinstance(p.port, int)]
            if not ports:
                plan.problem = ("no ports to check: an address outside the cluster declares "
                                "none, so spec.ports must list numbered ports")
                return plan
            plan.destinations = [destination.address or ""]
            plan.slots = [tuple(dict.fromkeys(ports))]
            return plan
        if destination.service is not None:
            namespace, name = destination.service.split("/", 1)
            service = self._services.get((namespace, name))
            if service is None:
                plan.problem = f"spec.to: there is no Service {destination.service}"
                return plan
            selector = (service.get("spec") or {}).get("selector")
            pods = [p for p in self.pods if p.namespace == namespace and selector
                    and all(p.labels.get(k) == v for k, v in selector.items())]
            if not pods:
                plan.problem = f"spec.to (service {destination.service}) matches no pods"
                return plan
            service_ports = (service.get("spec") or {}).get("ports") or []
            for pod in pods:
                plan.destinations.append(pod.key)
                plan.slots.append(_service_slots(pod, service_ports, expectation.ports))
        else:
            pods = self._selected_pods(destination)
            if not pods:
                plan.problem = f"spec.to ({destination.describe()}) matches no pods"
                return plan
            for pod in pods:
                plan.destinations.append(pod.key)
                plan.slots.append(_pod_slots(pod, expectation.ports))
        if not any(plan.slots):
            plan.problem = ("no ports to check: the destination pods declare no container "
                            "ports (or none of spec.ports)")
        return plan

    # -- one matrix for all -----------------------------------------------------------------

    def _matrix(self, plans: list[_Plan]) -> tuple[Matrix, list[dict[Slot, int]]]:
        sources = list(dict.fromkeys(ref for p in plans for ref in p.sources))
        union: dict[str, dict[Slot, None]] = {}
        for plan in plans:
            for ref, slots in zip(plan.destinations, plan.slots, strict=True):
                union.setdefault(ref, {}).update(dict.fromkeys(slots))
        destinations = list(union)
        slots = [tuple(union[ref]) for ref in destinations]
        cluster = self.cluster
        matrix = build_matrix(cluster, [cluster.endpoint(r) for r in sources],
                              [cluster.endpoint(r) for r in destinations], slots)
        self._src_pos = {e.name: i for i, e in enumerate(matrix.sources)}
        self._dst_pos = {e.name: j for j, e in enumerate(matrix.destinations)}
        self._self_dst = np.array([self._dst_pos.get(e.name, -1) for e in matrix.sources],
                                  dtype=np.int64)
        view = _ClassView(matrix)
        self._view = view
        return matrix, [{slot: k for k, slot in enumerate(s)} for s in slots]

    def _result(self, plan: _Plan, matrix: Matrix,
                slot_index: list[dict[Slot, int]]) -> ExpectationResult:
        view = self._view
        rows = np.array([self._src_pos[r] for r in plan.sources], dtype=np.int64)
        cols = np.array([self._dst_pos[r] for r in plan.destinations], dtype=np.int64)
        masks = view.masks([[slot_index[j][s] for s in slots]
                            for j, slots in zip(cols.tolist(), plan.slots, strict=True)])
        # destination groups: (class, requested mask) pairs
        mask_ids = _row_ids(masks)
        key = view.dst_class[cols] * (int(mask_ids.max()) + 1) + mask_ids
        dst_keys, dst_first, dst_inverse, dst_counts = np.unique(
            key, return_index=True, return_inverse=True, return_counts=True)
        dst_classes = view.dst_class[cols[dst_first]]
        dst_masks = masks[dst_first]
        src_classes, src_inverse, src_counts = np.unique(
            view.src_class[rows], return_inverse=True, return_counts=True)
        bits = view.bits[np.ix_(src_classes, dst_classes)]
        if not (dst_masks == view.full_masks(dst_classes)).all():
            bits &= dst_masks[None, :, :]
        counted = np.bitwise_count(bits)
        allowed_cells = counted[:, :, 0] if counted.shape[2] == 1 else counted.sum(axis=2)
        nslots = np.bitwise_count(dst_masks).sum(axis=1, dtype=np.int64)
        pairs = int(src_counts.sum()) * int((dst_counts * nslots).sum())
        # counts per class pair are small: exact in float32 per source sum, float64 after
        if (src_counts == 1).all():  # every source its own class: a plain column sum
            per_dst = allowed_cells.sum(axis=0, dtype=np.int64)
        else:
            per_dst = src_counts.astype(np.float32) @ allowed_cells.astype(np.float32)
        allowed = int(round(float(per_dst.astype(np.float64) @ dst_counts.astype(np.float64))))
        # a pod is no pair with itself; a node reaches the pods on it whatever the policies
        in_cols = np.full(len(matrix.destinations), -1, dtype=np.int64)
        in_cols[cols] = np.arange(len(cols))
        self_cols = self._self_dst[rows]
        mine = np.flatnonzero((self_cols >= 0) & (in_cols[np.maximum(self_cols, 0)] >= 0))
        for r in mine.tolist():
            g = dst_inverse[in_cols[self_cols[r]]]
            pairs -= int(nslots[g])
            allowed -= int(allowed_cells[src_inverse[r], g])
        forced: dict[int, np.ndarray] = {}
        for r, i in enumerate(rows.tolist()):
            override = view.overrides.get(i)
            if override is not None and override[cols].any():
                forced[r] = override[cols]
                for c in np.flatnonzero(override[cols]).tolist():
                    if self_cols[r] == cols[c]:
                        continue
                    g = dst_inverse[c]
                    allowed += int(nslots[g] - allowed_cells[src_inverse[r], g])
        expect = plan.expectation.expect
        count = pairs - allowed if expect == ALLOWED else allowed
        violations: list[Violation] = []
        if count:
            wrong = allowed_cells < nslots[None, :] if expect == ALLOWED else allowed_cells > 0
            violations = self._examples(plan, matrix, rows, cols, slot_index, masks, bits,
                                        src_inverse, dst_inverse, wrong, forced)
        return ExpectationResult(plan.expectation.name, plan.expectation.kind, expect,
                                 holds=count == 0, pairs=pairs, violations=violations,
                                 violation_count=count)

    def _examples(self, plan: _Plan, matrix: Matrix, rows: np.ndarray, cols: np.ndarray,
                  slot_index: list[dict[Slot, int]], masks: np.ndarray, bits: np.ndarray,
                  src_inverse: np.ndarray, dst_inverse: np.ndarray, wrong: np.ndarray,
                  forced: dict[int, np.ndarray]) -> list[Violation]:
        """The first MAX_VIOLATIONS violating pairs, explained by the engine."""
        want_allowed = plan.expectation.expect == ALLOWED
        found: list[Violation] = []
        word_bits = bits.dtype.itemsize * 8
        for a in np.flatnonzero(wrong.any(axis=1)).tolist():
            src_rows = np.flatnonzero(src_inverse == a).tolist()
            for g in np.flatnonzero(wrong[a]).tolist():
                for r, c in ((r, c) for r in src_rows
                             for c in np.flatnonzero(dst_inverse == g).tolist()):
                    if self._self_dst[rows[r]] == cols[c]:
                        continue
                    if r in forced and forced[r][c]:
                        continue
                    words = bits[a, g]
                    for slot in plan.slots[c]:
                        k = slot_index[cols[c]][slot]
                        is_allowed = bool((int(words[k // word_bits]) >> (k % word_bits)) & 1)
                        if is_allowed == want_allowed:
                            continue
                        found.append(self._explain(plan.sources[r], plan.destinations[c], slot,
                                                   want_allowed))
                        if len(found) >= MAX_VIOLATIONS:
                            return found
        return found

    def _explain(self, src: str, dst: str, slot: Slot, want_allowed: bool) -> Violation:
        verdict = self.cluster.check(src, dst, slot[0], slot[1])
        if want_allowed:
            sides = [d for d in (verdict.egress, verdict.ingress) if not d.allowed]
            reason = "Denied: " + " ".join(d.reason for d in sides)
        else:
            sides = [d for d in (verdict.egress, verdict.ingress) if d.applies] or \
                [verdict.egress, verdict.ingress]
            reason = "Allowed: " + " ".join(d.reason for d in sides)
        return Violation(src, dst, slot[0], slot[1], reason, verdict)

    @staticmethod
    def _unchecked(plan: _Plan) -> ExpectationResult:
        e = plan.expectation
        return ExpectationResult(e.name, e.kind, e.expect, holds=False, pairs=0,
                                 reason=plan.problem)


class _ClassView:
    """The class-level arrays of a Matrix (source / destination class of each endpoint, the
    allowed-slot bitsets of each class pair, the own-node overrides)."""

    def __init__(self, matrix: Matrix) -> None:
        self.src_class = matrix._src_class
        self.dst_class = matrix._dst_class
        self.bits = matrix._bits
        self.overrides = matrix._overrides
        self.word_bits = matrix.word_bits
        nslots = np.zeros(self.bits.shape[0], dtype=np.int64)
        for endpoint_class, slots in zip(matrix._dst_class.tolist(), matrix.slots, strict=True):
            nslots[endpoint_class] = len(slots)
        self._full = full_masks(nslots, self.bits.shape[2], self.bits.dtype.type)

    def full_masks(self, classes: np.ndarray) -> np.ndarray:
        """Every slot of each destination class set, shape (len(classes), words)."""
        return self._full[classes]

    def masks(self, slot_lists: list[list[int]]) -> np.ndarray:
        """Bitsets (rows × words) with the given slot indexes set."""
        words = self.bits.shape[2]
        out = np.zeros((len(slot_lists), words), dtype=self.bits.dtype)
        for row, ks in enumerate(slot_lists):
            for k in ks:
                out[row, k // self.word_bits] |= self.bits.dtype.type(1 << (k % self.word_bits))
        return out


def _row_ids(rows: np.ndarray) -> np.ndarray:
    """A small integer per distinct row of `rows`."""
    _, inverse = np.unique(rows, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


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
    "ALLOWED", "DENIED", "MAX_VIOLATIONS", "ExpectationResult", "Violation", "evaluate",
    "evaluate_snapshot", "expectation_objects", "newly_violated", "parse_expectations",
]
