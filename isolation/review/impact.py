"""Impact previews: what a change to policies or isolation intent does to reachability.

Every editing page shows one before anything is written, and the history keeps it with the
change. The connections compared are those between the pods present before and after, over each
destination's declared ports; they are grouped by project pair and checked for the losses users
usually regret (the ingress controller, monitoring scrapes, DNS, calls across workspaces).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from isolation.compiler.generate import CompileResult, IsolationSettings, desired_policies
from isolation.compiler.reconcile import is_ours
from isolation.compiler.tenancy import detect_ingress_namespaces, workspace_of
from isolation.reachability.engine import Connection, MatrixDelta, ReachabilityDiff, diff
from isolation.review.clusters import ChangeClusters, sample_outside_addresses
from isolation.snapshot import Snapshot
from isolation.text import Text
from isolation.text import gettext as _

__all__ = [
    "DNS_POD_LABELS", "EXAMPLES_PER_PAIR", "MONITORING_POD_LABELS", "STORED_CONNECTIONS",
    "WORKSPACE_LABEL", "Impact", "PairDelta", "change_warnings", "diff", "impact_of",
    "pods_labelled", "project_pairs", "sample_outside_addresses", "with_generated_policies",
    "with_policies",
]

WORKSPACE_LABEL = "kubesphere.io/workspace"
MONITORING_POD_LABELS = (("app.kubernetes.io/name", "prometheus"), ("app", "prometheus"))
DNS_POD_LABELS = (("k8s-app", "kube-dns"),)
DNS_PORT = 53
EXAMPLES_PER_PAIR = 5
STORED_CONNECTIONS = 200
OUTSIDE = "(outside the cluster)"


@dataclass(frozen=True)
class PairDelta:
    """Connections between two projects (namespaces) that a change allows or blocks."""

    src_namespace: str
    dst_namespace: str
    allowed: int = 0
    blocked: int = 0
    examples: tuple[Connection, ...] = ()


@dataclass(frozen=True)
class Impact:
    newly_allowed: Sequence[Connection] = field(default_factory=list)
    newly_blocked: Sequence[Connection] = field(default_factory=list)
    pairs: list[PairDelta] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not self.newly_allowed and not self.newly_blocked

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary for the history (connection lists capped)."""
        return {
            "allowed": len(self.newly_allowed),
            "blocked": len(self.newly_blocked),
            "newly_allowed": [c.to_dict() for c in self.newly_allowed[:STORED_CONNECTIONS]],
            "newly_blocked": [c.to_dict() for c in self.newly_blocked[:STORED_CONNECTIONS]],
            "pairs": [{"from": p.src_namespace, "to": p.dst_namespace, "allowed": p.allowed,
                       "blocked": p.blocked} for p in self.pairs],
            "warnings": list(self.warnings),
        }


def impact_of(before: Snapshot, after: Snapshot, *,
              clusters: ChangeClusters | None = None) -> Impact:
    """The reachability change from `before` to `after`, grouped and with warnings.

    Guarantees: connections are exactly `isolation.reachability.engine.diff` of the two
    clusters with the outside samples of `sample_outside_addresses` (lists built only as far
    as they are read; their lengths are exact); pairs are sorted by the number of connections
    they change, largest first. `clusters` is the two snapshots already read (a review reads
    them once for impact and lint); without it they are read here.
    Raises ValueError for an object the engine cannot read.
    """
    clusters = clusters or ChangeClusters.of(before, after)
    change = diff(clusters.before_matrix, clusters.after_matrix)
    return Impact(change.newly_allowed, change.newly_blocked, project_pairs(change),
                  change_warnings(after, change))


def with_policies(snapshot: Snapshot, *, upsert: list[dict[str, Any]] = (),
                  remove: list[tuple[str, str]] = ()) -> Snapshot:
    """The snapshot with NetworkPolicies created/replaced (`upsert`) or deleted (`remove`)."""
    replaced = {_key(p) for p in upsert} | set(remove)
    kept = [p for p in snapshot.network_policies if _key(p) not in replaced]
    return snapshot.with_network_policies(kept + list(upsert))


def with_generated_policies(snapshot: Snapshot,
                            settings: IsolationSettings) -> tuple[Snapshot, CompileResult]:
    """The snapshot as it will be once the isolation engine has applied its intent.

    Policies the console generated are replaced by what the compiler wants now; every other
    policy is kept as it is.
    """
    result = desired_policies(snapshot, settings)
    others = [p for p in snapshot.network_policies if not is_ours(p)]
    return snapshot.with_network_policies(others + list(result.policies)), result


def _key(policy: dict[str, Any]) -> tuple[str, str]:
    meta = policy.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


def _namespace(ref: str) -> str:
    return ref.split("/", 1)[0] if "/" in ref else OUTSIDE


def _group_ids(keys: list[str | None]) -> tuple[list[str], np.ndarray]:
    """Distinct keys in first-seen order, and each key's position (-1 for None)."""
    index: dict[str, int] = {}
    ids = np.array([-1 if key is None else index.setdefault(key, len(index)) for key in keys],
                   dtype=np.int64)
    return list(index), ids


def project_pairs(change: ReachabilityDiff) -> list[PairDelta]:
    """The change per (source namespace, destination namespace), largest first.

    Guarantees: `allowed` / `blocked` count exactly the pair's connections of
    `change.newly_allowed` / `newly_blocked` (a source outside the cluster counts under
    "(outside the cluster)"); `examples` are the pair's first EXAMPLES_PER_PAIR connections
    newly allowed, then newly blocked ones, each in the lists' order.
    """
    delta = _delta_of(change)
    src_names, src_ids = _group_ids([_namespace(ref) for ref in delta.sources])
    dst_names, dst_ids = _group_ids([_namespace(ref) for ref in delta.destinations])
    allowed = delta.grouped_counts(True, src_ids, len(src_names), dst_ids, len(dst_names))
    blocked = delta.grouped_counts(False, src_ids, len(src_names), dst_ids, len(dst_names))
    allowed_shown = np.minimum(allowed, EXAMPLES_PER_PAIR)
    blocked_shown = np.minimum(blocked, EXAMPLES_PER_PAIR - allowed_shown)
    opened = delta.first_per_group(True, src_ids, dst_ids, allowed_shown)
    cut = delta.first_per_group(False, src_ids, dst_ids, blocked_shown)
    pairs = [PairDelta(src_names[a], dst_names[b], int(allowed[a, b]), int(blocked[a, b]),
                       (*opened.get((a, b), ()), *cut.get((a, b), ())))
             for a, b in zip(*map(np.ndarray.tolist, np.nonzero(allowed + blocked)), strict=True)]
    return sorted(pairs, key=lambda p: (-(p.allowed + p.blocked), p.src_namespace, p.dst_namespace))


def _delta_of(change: ReachabilityDiff) -> MatrixDelta:
    if change.delta is None:
        raise ValueError("the change carries no matrix delta: compute it with diff()")
    return change.delta


def pods_labelled(snapshot: Snapshot, wanted: tuple[tuple[str, str], ...]) -> set[str]:
    """"namespace/name" of every pod of `snapshot` carrying any of the `wanted` label pairs."""
    result = set()
    for pod in snapshot.pods:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        if any(labels.get(k) == v for k, v in wanted):
            result.add(f"{meta.get('namespace')}/{meta.get('name')}")
    return result


@dataclass(frozen=True)
class _Loss:
    """How many newly blocked connections fall into one kind users regret, and the first."""

    count: int = 0
    first: Connection | None = None


def change_warnings(after: Snapshot, change: ReachabilityDiff) -> list[Text]:
    """Sentences on the newly blocked connections users usually regret: from the ingress
    controller's namespaces, from monitoring pods, to DNS pods on port 53, and between two
    different workspaces. Each names the first such connection of `change.newly_blocked`
    and counts exactly how many more there are."""
    delta = _delta_of(change)
    if not len(change.newly_blocked):
        return []
    ingress = set(detect_ingress_namespaces(after))
    monitoring = pods_labelled(after, MONITORING_POD_LABELS)
    dns = pods_labelled(after, DNS_POD_LABELS)
    owner = workspace_of(after)
    src_namespaces = [_namespace(ref) for ref in delta.sources]
    every_row = delta.row_counts(False)
    losses = {
        "ingress": _loss(delta, every_row, np.array([ns in ingress for ns in src_namespaces],
                                                    dtype=bool)),
        "monitoring": _loss(delta, every_row, np.array([ref in monitoring
                                                        for ref in delta.sources], dtype=bool)),
        "dns": _dns_loss(delta, np.array([ref in dns for ref in delta.destinations],
                                         dtype=bool)),
        "cross-workspace": _cross_workspace_loss(delta, src_namespaces, owner),
    }
    warnings = []
    for kind, head, advice in (
            ("ingress", _("Blocks the ingress controller"),
             _("Ingress routes to these pods will stop working.")),
            ("monitoring", _("Blocks monitoring scrapes"),
             _("Metrics and alerts for these pods will go silent.")),
            ("dns", _("Blocks DNS"), _("Pods will fail to resolve Service names.")),
            ("cross-workspace", _("Cuts calls across workspaces that work today"),
             _("Add an allowlist entry if these calls are intended."))):
        loss = losses[kind]
        if loss.count and loss.first is not None:
            warnings.append(_sentence(head, loss.first, loss.count, advice))
    return warnings


def _loss(delta: MatrixDelta, rows: np.ndarray, sources: np.ndarray,
          columns: np.ndarray | None = None, port: int | None = None) -> _Loss:
    """The blocked connections counted by `rows` (per source) from the `sources` kept, and
    the first of them (to `columns` on `port` when given)."""
    counted = np.where(sources, rows, 0)
    total = int(counted.sum())
    if not total:
        return _Loss()
    i = int(np.flatnonzero(counted)[0])
    js, ks = delta.hits(i, False, columns, port)
    return _Loss(total, delta.connection(i, int(js[0]), int(ks[0]), False))


def _dns_loss(delta: MatrixDelta, dns: np.ndarray) -> _Loss:
    if not dns.any():
        return _Loss()
    rows = delta.row_counts(False, dns, port=DNS_PORT)
    return _loss(delta, rows, np.ones(len(rows), dtype=bool), np.flatnonzero(dns), DNS_PORT)


def _cross_workspace_loss(delta: MatrixDelta, src_namespaces: list[str],
                          owner: dict[str, str]) -> _Loss:
    """Blocked connections between namespaces of two different workspaces."""
    names, ids = _group_ids([owner.get(ns) or None for ns in
                             [*src_namespaces, *(_namespace(r) for r in delta.destinations)]])
    src_ws, dst_ws = ids[:len(src_namespaces)], ids[len(src_namespaces):]
    members = np.flatnonzero(src_ws >= 0)
    if not len(members) or not (dst_ws >= 0).any():
        return _Loss()
    sources = np.full(len(src_ws), -1, dtype=np.int64)
    sources[members] = np.arange(len(members))
    by_workspace = delta.grouped_counts(False, sources, len(members), dst_ws, len(names))
    across = by_workspace.sum(axis=1) - by_workspace[np.arange(len(members)), src_ws[members]]
    rows = np.zeros(len(src_ws), dtype=np.int64)
    rows[members] = across
    if not rows.any():
        return _Loss()
    i = int(np.flatnonzero(rows)[0])
    js, ks = delta.hits(i, False, np.flatnonzero((dst_ws >= 0) & (dst_ws != src_ws[i])))
    return _Loss(int(rows.sum()), delta.connection(i, int(js[0]), int(ks[0]), False))


def _sentence(head: Text, sample: Connection, count: int, advice: Text) -> Text:
    """The warning said in the reader's language (console.reachability.delta says the same)."""
    fields = {"head": head, "source": sample.src, "destination": sample.dst,
              "protocol": sample.protocol, "port": sample.port, "advice": advice}
    if count > 1:
        return _("{head}: {source} → {destination} on {protocol} {port} and {more} more. "
                 "{advice}", more=count - 1, **fields)
    return _("{head}: {source} → {destination} on {protocol} {port}. {advice}", **fields)
