"""Ordered policy layers: the interface every policy kind plugs into the engine through.

A connection is decided per direction (egress at the source pod, ingress at the destination
pod) by walking `Cluster.layers` in order. Each layer answers, for the traffic in front of it:

- ALLOW or DENY: final; no later layer is asked;
- PASS: this layer hands the traffic on to the next one (an AdminNetworkPolicy `Pass`, a
  Calico tier's `Pass`), saying so in the explanation;
- None (no match): the layer has nothing to say; the next layer is asked.

Traffic no layer decides is allowed (no policy isolates the pod). The Kubernetes
NetworkPolicy layer (`build.NetworkPolicyLayer`) is one layer among them: it decides
everything for the pods a NetworkPolicy isolates in that direction (allow on a matching rule,
else deny) and nothing for the others. The default order is

    AdminNetworkPolicy layer, NetworkPolicy layer, BaselineAdminNetworkPolicy layer

so a BANP decides only where no NetworkPolicy selects the pod. With Calico policies the order
is Calico's (`calico_layer`): its tiers by `order`, the default tier (holding the Kubernetes
NetworkPolicies at order 1000) in place of the NetworkPolicy layer, the AdminNetworkPolicy
layer as the `kube-admin` tier and the BANP layer as `kube-baseline`.

A layer implements `PolicyLayer`: `class_inputs` (what it reads, so the matrix builder can
keep apart the endpoints it tells apart), `evaluate` (its decisions over equivalence classes,
for the matrix) and `decide` (one connection, explained, for `Cluster.check`). Both must
agree; the engine's tests compare them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from isolation.netpol.model import IPBlock, NamedPorts
from isolation.netpol.selectors import Selector
from isolation.reachability.verdict import PolicyRef, RuleRef

if TYPE_CHECKING:
    from isolation.reachability.inventory import Endpoint, PodInfo

ALLOW, DENY, PASS = "Allow", "Deny", "Pass"
NETWORK_POLICY_KIND = "NetworkPolicy"
__all__ = ["ALLOW", "DENY", "NETWORK_POLICY_KIND", "PASS", "ClassBlock", "ClassInputs",
           "ClassSpace", "LayerDecision", "LayerView", "PolicyLayer", "PolicyRef", "unique_rows"]


@dataclass(frozen=True)
class LayerDecision:
    """One layer's answer for one direction of one connection (see the module docstring).

    `reason` is a sentence for the explanation ("" when the layer has nothing to say);
    `selecting`, `matched`, `nearest_miss` and `isolated` are the NetworkPolicy layer's
    details, which `DirectionVerdict` has always carried.
    """

    action: str | None
    reason: str = ""
    ref: PolicyRef | None = None
    selecting: tuple[str, ...] = ()
    matched: tuple[RuleRef, ...] = ()
    nearest_miss: str | None = None
    isolated: bool = False


@dataclass(frozen=True)
class ClassInputs:
    """What a layer's selectors read, so endpoints it tells apart get different classes."""

    pod_label_keys: frozenset[str] = frozenset()
    node_label_keys: frozenset[str] = frozenset()
    blocks: tuple[IPBlock, ...] = ()  # address ranges matched by IP (pods' included)


@dataclass
class ClassBlock:
    """Decisions of one layer for some rows of a direction's class matrix.

    Rows are source classes for egress and destination classes for ingress; columns are the
    other end's classes; bits are the destination's port slots. `allow` and `deny` have shape
    (len(rows), classes, words) or (1, classes, words) (the same for every row), each on its
    own; they must be disjoint. Bits in neither are passed on or unmatched. The blocks of one
    layer are put in front of what the later layers decided in turn, first to last. Rows
    that are not pods (outside addresses, nodes) are ignored: such an end has no side of its
    own, as in `Cluster.check`.

    Compressed, with `row_group` and `column_class`: `allow` and `deny` have shape (groups,
    column classes, words); row `rows[i]` holds group `row_group[i]`, and column `c` (every
    class) its column class `column_class[c]`. The builder expands them a few rows at a time.

    A compressed block may also allow bits of another grid under a mask: row `r` with
    `masked_group[r] >= 0` (classes among `rows`) also allows `masked_allow[masked_group[r]]`
    (shape (groups, classes, words): every column) where `mask` (on the block's grid, like
    `allow`) is set; these bits are allowed even where `deny` has them.
    """

    rows: np.ndarray
    allow: np.ndarray
    deny: np.ndarray
    row_group: np.ndarray | None = None
    column_class: np.ndarray | None = None
    masked_allow: np.ndarray | None = None
    masked_group: np.ndarray | None = None
    mask: np.ndarray | None = None


class ClassSpace(Protocol):
    """What the matrix builder offers a layer: masks over the equivalence classes."""

    classes: int
    words: int
    dtype: type
    full: np.ndarray          # (classes, words): every slot of each class as destination
    port_groups: list[list[int]]  # classes with the same slots and named ports

    def pods_matching(self, namespace_selector: Selector,
                      pod_selector: Selector | None) -> np.ndarray: ...

    def nodes_matching(self, selector: Selector) -> np.ndarray: ...

    def in_block(self, block: IPBlock) -> np.ndarray: ...

    def class_members(self) -> list[tuple[str, dict[str, str], dict[str, str]] | None]: ...

    def label_table(self) -> tuple[np.ndarray, list[dict[str, str]], np.ndarray, list[str],
                                   list[dict[str, str]]]: ...

    def port_bits(self, ports: tuple[Any, ...]) -> np.ndarray: ...

    def network_policy_bits(self, direction: str) -> tuple[np.ndarray, np.ndarray]: ...

    def network_policy_groups(self, direction: str) -> tuple[np.ndarray, np.ndarray]: ...


class LayerView(Protocol):
    """What `PolicyLayer.decide` reads of the cluster (`engine.Cluster` is one)."""

    def pod(self, key: str) -> PodInfo: ...

    def labels_of_namespace(self, namespace: str) -> dict[str, str]: ...

    def labels_of_node(self, node: str) -> Mapping[str, str]: ...


class PolicyLayer(Protocol):
    """One ordered layer of policies (see the module docstring)."""

    kind: str

    def class_inputs(self) -> ClassInputs: ...

    def evaluate(self, direction: str, space: ClassSpace) -> list[ClassBlock]: ...

    def decide(self, direction: str, view: LayerView, pod: PodInfo, other: Endpoint,
               port: int, protocol: str, named: NamedPorts | None) -> LayerDecision: ...


_FACTORS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                     0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53] * 8,
                    dtype=np.uint64)


def unique_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first position of each distinct row, the distinct row of each row) of a 2-D table."""
    count = len(table)
    if count == 0 or table.shape[1] == 0:
        return np.zeros(min(1, count), dtype=np.int64), np.zeros(count, dtype=np.int64)
    raw = np.ascontiguousarray(table).view(np.uint8).reshape(count, -1)
    if raw.shape[1] % 8:
        raw = np.concatenate([raw, np.zeros((count, 8 - raw.shape[1] % 8), np.uint8)], axis=1)
    words = raw.view(np.uint64)
    if words.shape[1] == 1:
        _, first, inverse = np.unique(words[:, 0], return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    # one number per row; kept only when every row equals the first row of its number
    mixed = np.zeros(count, dtype=np.uint64)
    for column, factor in zip(words.T, _FACTORS, strict=False):
        mixed = mixed * factor + column
    if words.shape[1] <= len(_FACTORS):
        _, first, inverse = np.unique(mixed, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        if (words == words[first[inverse]]).all():
            return first, inverse
    order = np.lexsort(words.T[::-1])  # stable: the first of equal rows comes first
    ordered = words[order]
    starts = np.ones(count, dtype=bool)
    starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    inverse = np.empty(count, dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return order[starts], inverse
