"""The reachability delta between two snapshots, summed up without listing every connection.

`isolation.review.impact.impact_of` lists every connection a change opens or cuts; switching the
isolation of a large workspace cuts millions of them, too many to hold as Python objects for a
page that shows totals, project pairs, the first connections and a few warnings. This computes
exactly that summary, the shape of `Impact.to_dict()` (same totals, pairs, first
STORED_CONNECTIONS connections in the same order, same warnings), by comparing the two verdict
matrices row by row as bitsets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from isolation.compiler.tenancy import detect_ingress_namespaces, workspace_of
from isolation.reachability.engine import Cluster
from isolation.review.impact import (
    DNS_POD_LABELS,
    MONITORING_POD_LABELS,
    STORED_CONNECTIONS,
    pods_labelled,
    sample_outside_addresses,
)
from isolation.snapshot import Snapshot
from isolation.text import Text, gettext_noop
from isolation.text import gettext as _

OUTSIDE = "(outside the cluster)"


@dataclass
class _Warning:
    """One kind of lost connection users regret: how many, and the first one."""

    head: str       # message ids, said in the reader's language
    advice: str
    count: int = 0
    first: dict[str, Any] | None = None

    def add(self, count: int, first: Callable[[], dict[str, Any]]) -> None:
        if count and self.first is None:
            self.first = first()
        self.count += count

    def sentence(self) -> Text:
        """The warning as a sentence; its English is `isolation.review.impact`'s."""
        c = self.first or {}
        fields = {"head": _(self.head), "source": c.get("from"), "destination": c.get("to"),
                  "protocol": c.get("protocol"), "port": c.get("port"),
                  "advice": _(self.advice)}
        if self.count > 1:
            return _("{head}: {source} → {destination} on {protocol} {port} and {more} more. "
                     "{advice}", more=self.count - 1, **fields)
        return _("{head}: {source} → {destination} on {protocol} {port}. {advice}", **fields)


@dataclass
class _Tally:
    allowed: list[dict[str, Any]] = field(default_factory=list)
    blocked: list[dict[str, Any]] = field(default_factory=list)
    total_allowed: int = 0
    total_blocked: int = 0


@dataclass(frozen=True)
class DeltaSummary:
    """A computed delta where an `Impact` is expected (console.core.audit.record_change)."""

    delta: dict[str, Any]

    @property
    def unchanged(self) -> bool:
        return not self.delta["allowed"] and not self.delta["blocked"]

    def to_dict(self) -> dict[str, Any]:
        return self.delta


def delta_between(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """What changes from `before` to `after`, as `Impact.to_dict()` would say it.

    Guarantees: the same connections as `isolation.review.impact.impact_of` (pods present in both and
    the sampled outside addresses as sources, each destination's declared ports, no pod paired
    with itself) are counted; lists hold the first STORED_CONNECTIONS in source, destination,
    port order. Raises ValueError (from the
    engine) for objects it cannot read.
    """
    outside = sample_outside_addresses(before, after)
    old_engine = Cluster.from_snapshot(before, extra_ips=outside)
    new_engine = Cluster.from_snapshot(after, extra_ips=outside)
    known = {pod.key for pod in old_engine.pods}
    common = [pod.key for pod in new_engine.pods if pod.key in known]
    if not common:
        return _result(_Tally(), {}, [])
    kept = set(old_engine.extra_ips)
    sources = common + [ip for ip in new_engine.extra_ips if ip in kept]
    old = old_engine.matrix(sources, common)
    new = new_engine.matrix(sources, common)
    namespaces = sorted({key.split("/", 1)[0] for key in common})
    ns_index = {name: n for n, name in enumerate(namespaces)}
    column_ns = np.array([ns_index[key.split("/", 1)[0]] for key in common], dtype=np.int64)
    row_names = namespaces + [OUTSIDE]
    warnings = _Warnings(after, common, column_ns, namespaces, new)
    pair_counts = np.zeros((2, len(row_names), len(namespaces)), dtype=np.int64)
    tally = _Tally()
    for i, source in enumerate(sources):
        before_row, after_row = old.row(i), new.row(i)
        if i < len(common):   # a pod and itself are not a pair
            before_row[i] = 0
            after_row[i] = 0
        opened, cut = after_row & ~before_row, before_row & ~after_row
        if not opened.any() and not cut.any():
            continue
        opened_count = np.bitwise_count(opened).sum(axis=1, dtype=np.int64)
        cut_count = np.bitwise_count(cut).sum(axis=1, dtype=np.int64)
        row_ns = column_ns[i] if i < len(common) else len(namespaces)
        pair_counts[0, row_ns] += np.bincount(column_ns, weights=opened_count,
                                              minlength=len(namespaces)).astype(np.int64)
        pair_counts[1, row_ns] += np.bincount(column_ns, weights=cut_count,
                                              minlength=len(namespaces)).astype(np.int64)
        tally.total_allowed += int(opened_count.sum())
        tally.total_blocked += int(cut_count.sum())
        _sample(tally.allowed, new, source, common, opened, opened_count, True)
        _sample(tally.blocked, new, source, common, cut, cut_count, False)
        warnings.row(i, source, cut, cut_count)
    pairs = {}
    for kind in (0, 1):
        for a, b in zip(*np.nonzero(pair_counts[kind]), strict=True):
            pairs.setdefault((row_names[a], namespaces[b]), [0, 0])[kind] = int(
                pair_counts[kind, a, b])
    return _result(tally, pairs, warnings.sentences())


def _sample(into: list[dict[str, Any]], matrix, source: str, common: list[str],
            bits: np.ndarray, counts: np.ndarray, allowed: bool) -> None:
    """Append the row's changed connections, in order, until the list is full."""
    if len(into) >= STORED_CONNECTIONS:
        return
    for j in np.flatnonzero(counts):
        for k, (port, protocol) in enumerate(matrix.ports_of(j)):
            if matrix.bit(bits[j], k):
                into.append({"from": source, "to": common[j], "port": port,
                             "protocol": protocol, "allowed": allowed})
                if len(into) >= STORED_CONNECTIONS:
                    return


def _first(matrix, source: str, common: list[str], bits: np.ndarray,
           columns: np.ndarray, port: int | None = None) -> dict[str, Any]:
    """The first changed connection of a row among `columns` (and on `port` when given)."""
    for j in columns:
        for k, (number, protocol) in enumerate(matrix.ports_of(j)):
            if (port is None or number == port) and matrix.bit(bits[j], k):
                return {"from": source, "to": common[j], "port": number, "protocol": protocol}
    return {}


class _Warnings:
    """The losses `isolation.review.impact` warns about, counted row by row."""

    def __init__(self, after: Snapshot, common: list[str], column_ns: np.ndarray,
                 namespaces: list[str], matrix) -> None:
        self.common, self.matrix = common, matrix
        self.ingress = set(detect_ingress_namespaces(after))
        self.monitoring = pods_labelled(after, MONITORING_POD_LABELS)
        dns = pods_labelled(after, DNS_POD_LABELS)
        self.dns_columns = np.array([j for j, key in enumerate(common) if key in dns], dtype=int)
        self.dns_slots = {j: [k for k, (port, _) in enumerate(matrix.ports_of(j)) if port == 53]
                          for j in self.dns_columns}
        owner = workspace_of(after)
        names = sorted({w for w in owner.values()})
        ws_index = {name: n + 1 for n, name in enumerate(names)}   # 0 = no workspace
        self.column_ws = np.array([ws_index.get(owner.get(namespaces[n], ""), 0)
                                   for n in column_ns], dtype=np.int64)
        self.kinds = {
            "ingress": _Warning(gettext_noop("Blocks the ingress controller"),
                                gettext_noop("Ingress routes to these pods will stop working.")),
            "monitoring": _Warning(
                gettext_noop("Blocks monitoring scrapes"),
                gettext_noop("Metrics and alerts for these pods will go silent.")),
            "dns": _Warning(gettext_noop("Blocks DNS"),
                            gettext_noop("Pods will fail to resolve Service names.")),
            "cross-workspace": _Warning(
                gettext_noop("Cuts calls across workspaces that work today"),
                gettext_noop("Add an allowlist entry if these calls are intended.")),
        }

    def row(self, i: int, source: str, cut: np.ndarray, cut_count: np.ndarray) -> None:
        total = int(cut_count.sum())
        if not total:
            return
        changed = np.flatnonzero(cut_count)
        first = lambda columns=changed, port=None: _first(  # noqa: E731
            self.matrix, source, self.common, cut, columns, port)
        if "/" in source and source.split("/", 1)[0] in self.ingress:
            self.kinds["ingress"].add(total, first)
        if source in self.monitoring:
            self.kinds["monitoring"].add(total, first)
        dns = sum(int(self.matrix.bit(cut[j], k)) for j in self.dns_columns
                  for k in self.dns_slots[j])
        self.kinds["dns"].add(dns, lambda: first(self.dns_columns, 53))
        own = self.column_ws[i] if i < len(self.common) else 0   # addresses have none
        if own:
            foreign = (self.column_ws != own) & (self.column_ws != 0)
            across = int(cut_count[foreign].sum())
            self.kinds["cross-workspace"].add(
                across, lambda: first(np.flatnonzero(foreign & (cut_count > 0))))

    def sentences(self) -> list[Text]:
        return [w.sentence() for w in self.kinds.values() if w.count]


def _result(tally: _Tally, pairs: dict[tuple[str, str], list[int]],
            warnings: list[str]) -> dict[str, Any]:
    ordered = sorted(pairs.items(), key=lambda item: (-(item[1][0] + item[1][1]), item[0]))
    return {
        "allowed": tally.total_allowed, "blocked": tally.total_blocked,
        "newly_allowed": tally.allowed, "newly_blocked": tally.blocked,
        "pairs": [{"from": src, "to": dst, "allowed": a, "blocked": b}
                  for (src, dst), (a, b) in ordered],
        "warnings": warnings,
    }
