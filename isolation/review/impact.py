"""Impact previews: what a change to policies or isolation intent does to reachability.

Every editing page shows one before anything is written, and the history keeps it with the
change. The connections compared are those between the pods present before and after, over each
destination's declared ports; they are grouped by project pair and checked for the losses users
usually regret (the ingress controller, monitoring scrapes, DNS, calls across workspaces).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from isolation.compiler.generate import CompileResult, IsolationSettings, desired_policies
from isolation.compiler.reconcile import is_ours
from isolation.compiler.tenancy import detect_ingress_namespaces, workspace_of
from isolation.reachability.engine import Connection, diff
from isolation.review.clusters import ChangeClusters, sample_outside_addresses
from isolation.snapshot import Snapshot

__all__ = [
    "DNS_POD_LABELS", "EXAMPLES_PER_PAIR", "MONITORING_POD_LABELS", "STORED_CONNECTIONS",
    "WORKSPACE_LABEL", "Impact", "PairDelta", "impact_of", "pods_labelled",
    "sample_outside_addresses", "with_generated_policies", "with_policies",
]

WORKSPACE_LABEL = "kubesphere.io/workspace"
MONITORING_POD_LABELS = (("app.kubernetes.io/name", "prometheus"), ("app", "prometheus"))
DNS_POD_LABELS = (("k8s-app", "kube-dns"),)
EXAMPLES_PER_PAIR = 5
STORED_CONNECTIONS = 200


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
    newly_allowed: list[Connection] = field(default_factory=list)
    newly_blocked: list[Connection] = field(default_factory=list)
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
    clusters with the outside samples of `sample_outside_addresses`; pairs are sorted by the
    number of connections they change, largest first. `clusters` is the two snapshots already
    read (a review reads them once for impact and lint); without it they are read here.
    Raises ValueError for an object the engine cannot read.
    """
    clusters = clusters or ChangeClusters.of(before, after)
    change = diff(clusters.before_matrix, clusters.after_matrix)
    pairs = _pairs(change.newly_allowed, change.newly_blocked)
    return Impact(change.newly_allowed, change.newly_blocked, pairs,
                  _warnings(after, change.newly_blocked))


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
    return ref.split("/", 1)[0] if "/" in ref else "(outside the cluster)"


def _pairs(allowed: list[Connection], blocked: list[Connection]) -> list[PairDelta]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    examples: dict[tuple[str, str], list[Connection]] = defaultdict(list)
    for index, connections in ((0, allowed), (1, blocked)):
        for c in connections:
            key = (_namespace(c.src), _namespace(c.dst))
            counts[key][index] += 1
            if len(examples[key]) < EXAMPLES_PER_PAIR:
                examples[key].append(c)
    pairs = [PairDelta(src, dst, a, b, tuple(examples[(src, dst)]))
             for (src, dst), (a, b) in counts.items()]
    return sorted(pairs, key=lambda p: (-(p.allowed + p.blocked), p.src_namespace, p.dst_namespace))


def pods_labelled(snapshot: Snapshot, wanted: tuple[tuple[str, str], ...]) -> set[str]:
    """"namespace/name" of every pod of `snapshot` carrying any of the `wanted` label pairs."""
    result = set()
    for pod in snapshot.pods:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        if any(labels.get(k) == v for k, v in wanted):
            result.add(f"{meta.get('namespace')}/{meta.get('name')}")
    return result


def _warnings(after: Snapshot, blocked: list[Connection]) -> list[str]:
    if not blocked:
        return []
    warnings = []
    ingress = set(detect_ingress_namespaces(after))
    monitoring = pods_labelled(after, MONITORING_POD_LABELS)
    dns = pods_labelled(after, DNS_POD_LABELS)
    owner = workspace_of(after)
    groups: dict[str, list[Connection]] = defaultdict(list)
    for c in blocked:
        src_ns, dst_ns = _namespace(c.src), _namespace(c.dst)
        if src_ns in ingress:
            groups["ingress"].append(c)
        if c.src in monitoring:
            groups["monitoring"].append(c)
        if c.dst in dns and c.port == 53:
            groups["dns"].append(c)
        if owner.get(src_ns) and owner.get(dst_ns) and owner[src_ns] != owner[dst_ns]:
            groups["cross-workspace"].append(c)
    if groups["ingress"]:
        warnings.append(_sentence(
            "Blocks the ingress controller", groups["ingress"],
            "Ingress routes to these pods will stop working."))
    if groups["monitoring"]:
        warnings.append(_sentence(
            "Blocks monitoring scrapes", groups["monitoring"],
            "Metrics and alerts for these pods will go silent."))
    if groups["dns"]:
        warnings.append(_sentence(
            "Blocks DNS", groups["dns"], "Pods will fail to resolve Service names."))
    if groups["cross-workspace"]:
        warnings.append(_sentence(
            "Cuts calls across workspaces that work today", groups["cross-workspace"],
            "Add an allowlist entry if these calls are intended."))
    return warnings


def _sentence(head: str, connections: list[Connection], advice: str) -> str:
    sample = connections[0]
    more = f" and {len(connections) - 1} more" if len(connections) > 1 else ""
    return (f"{head}: {sample.src} → {sample.dst} on {sample.protocol} {sample.port}{more}. "
            f"{advice}")
