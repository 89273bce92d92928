"""Whole-cluster reachability with equivalence classes and bitsets.

Endpoints that no policy can tell apart (same namespace, same values for every label key any
selector mentions, same named ports, same port slots, inside the same ipBlocks) form one class.
Selectors are evaluated once per class with numpy, and the verdicts of a class pair are a
bitset over the destination's port slots (`uint64` words). The matrix of endpoints is read
through the class matrix, so memory grows with classes², not endpoints².
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from isolation.netpol_model import EGRESS, INGRESS, IPBlock, Peer, Policy, PortSpec
from isolation.reachability_inventory import NODE_KIND, Endpoint
from isolation.reachability_verdict import Connection, Counts
from isolation.selectors import LabelIndex

if TYPE_CHECKING:
    from isolation.reachability import Cluster

Slot = tuple[int, str]
WORD = 64


class Matrix:
    """Verdicts of every source × destination × port slot of the destination.

    A source and a destination that are the same endpoint are not a pair (no verdict).
    """

    def __init__(self, sources: list[Endpoint], destinations: list[Endpoint],
                 slots: list[tuple[Slot, ...]], src_class: np.ndarray, dst_class: np.ndarray,
                 class_bits: np.ndarray, overrides: dict[int, np.ndarray]) -> None:
        self.sources = sources
        self.destinations = destinations
        self.slots = slots
        self._src_class = src_class
        self._dst_class = dst_class
        self._bits = class_bits  # (classes, classes, words) uint64
        self._overrides = overrides  # source row -> destinations always allowed (own node)
        self._slot_index = [{slot: k for k, slot in enumerate(s)} for s in slots]
        self._nslots = np.array([len(s) for s in slots], dtype=np.int64)
        dst_position = {endpoint.name: j for j, endpoint in enumerate(destinations)}
        self._self_column = {i: dst_position[e.name] for i, e in enumerate(sources)
                             if e.name in dst_position}

    def ports_of(self, j: int) -> tuple[Slot, ...]:
        return self.slots[j]

    def row(self, i: int) -> np.ndarray:
        """Allowed-slot bitsets from source `i` to every destination, shape (destinations, words)."""
        bits = self._bits[self._src_class[i]][self._dst_class]
        override = self._overrides.get(i)
        if override is not None:
            bits = bits.copy()
            bits[override] = _full_masks(self._nslots[override], bits.shape[1])
        return bits

    def allowed(self, i: int, j: int, port: int | Slot) -> bool:
        """The verdict for source `i`, destination `j` and `port` (int = TCP); `port` must be
        one of the destination's slots (KeyError otherwise)."""
        slot = (port, "TCP") if isinstance(port, int) else tuple(port)
        k = self._slot_index[j][slot]
        if i in self._overrides and self._overrides[i][j]:
            return True
        word = self._bits[self._src_class[i], self._dst_class[j], k // WORD]
        return bool((int(word) >> (k % WORD)) & 1)

    def connections(self) -> Iterator[Connection]:
        """Every verdict, source by source, in destination and slot order."""
        for i, source in enumerate(self.sources):
            bits = self.row(i)
            skip = self._self_column.get(i)
            for j, destination in enumerate(self.destinations):
                if j == skip:
                    continue
                words = [int(w) for w in bits[j]]
                for k, (port, protocol) in enumerate(self.slots[j]):
                    allowed = bool((words[k // WORD] >> (k % WORD)) & 1)
                    yield Connection(source.name, destination.name, port, protocol, allowed)

    def counts(self) -> Counts:
        """Totals over the whole matrix."""
        grouped = self.by_group(lambda _: "all", lambda _: "all")
        return grouped.get(("all", "all"), Counts())

    def by_namespace(self) -> dict[tuple[str, str], Counts]:
        """Counts per (source namespace, destination namespace); non-pods group as `external`."""
        return self.by_group(_namespace_of, _namespace_of)

    def by_workspace(self, workspace_of: dict[str, str]) -> dict[tuple[str | None, str | None], Counts]:
        """Counts per (source workspace, destination workspace); None = no workspace."""
        def key(endpoint: Endpoint) -> str | None:
            return workspace_of.get(endpoint.namespace) if endpoint.namespace else None
        return self.by_group(key, key)

    def by_group(self, src_key: Callable[[Endpoint], Hashable],
                 dst_key: Callable[[Endpoint], Hashable]) -> dict[tuple, Counts]:
        """Counts aggregated over groups of sources and destinations, computed per class."""
        src_groups, src_ids = _group_ids([src_key(e) for e in self.sources])
        dst_groups, dst_ids = _group_ids([dst_key(e) for e in self.destinations])
        classes = self._bits.shape[0]
        per_class = np.bitwise_count(self._bits).sum(axis=2, dtype=np.int64).astype(np.float64)
        src_weights = np.zeros((len(src_groups), classes))
        np.add.at(src_weights, (src_ids, self._src_class), 1)
        dst_weights = np.zeros((classes, len(dst_groups)))
        np.add.at(dst_weights, (self._dst_class, dst_ids), 1)
        allowed = np.rint(src_weights @ per_class @ dst_weights).astype(np.int64)
        src_sizes = np.bincount(src_ids, minlength=len(src_groups))
        dst_slots = np.bincount(dst_ids, weights=self._nslots, minlength=len(dst_groups))
        total = np.outer(src_sizes, dst_slots).astype(np.int64)
        for i, j in self._self_column.items():
            total[src_ids[i], dst_ids[j]] -= self._nslots[j]
            allowed[src_ids[i], dst_ids[j]] -= self._popcount(i, j)
        for i, columns in self._overrides.items():
            for j in np.flatnonzero(columns):
                if self._self_column.get(i) == j:
                    continue
                allowed[src_ids[i], dst_ids[j]] += self._nslots[j] - self._popcount(i, j)
        result = {}
        for a, b in zip(*np.nonzero(total), strict=True):
            result[(src_groups[a], dst_groups[b])] = Counts(
                int(allowed[a, b]), int(total[a, b] - allowed[a, b]))
        return result

    def _popcount(self, i: int, j: int) -> int:
        return int(np.bitwise_count(self._bits[self._src_class[i], self._dst_class[j]]).sum())


def _namespace_of(endpoint: Endpoint) -> str:
    return endpoint.namespace if endpoint.is_pod and endpoint.namespace else "external"


def _group_ids(keys: list[Hashable]) -> tuple[list[Hashable], np.ndarray]:
    index: dict[Hashable, int] = {}
    ids = np.array([index.setdefault(key, len(index)) for key in keys], dtype=np.int64)
    return list(index), ids


def _full_masks(nslots: np.ndarray, words: int) -> np.ndarray:
    """Bitsets with the first `nslots[i]` bits set, shape (len(nslots), words)."""
    result = np.zeros((len(nslots), words), dtype=np.uint64)
    for w in range(words):
        bits = np.clip(nslots - w * WORD, 0, WORD)
        full = bits == WORD
        result[full, w] = np.uint64(2**64 - 1)
        partial = ~full
        result[partial, w] = ((np.uint64(1) << bits[partial].astype(np.uint64)) - np.uint64(1))
    return result


def build_matrix(cluster: Cluster, sources: Sequence[Endpoint], destinations: Sequence[Endpoint],
                 slots: Sequence[tuple[Slot, ...]]) -> Matrix:
    """Evaluate every source × destination × slot of `cluster` (see `Matrix`)."""
    return _Builder(cluster, list(sources), list(destinations), list(slots)).build()


class _Builder:
    def __init__(self, cluster: Cluster, sources: list[Endpoint], destinations: list[Endpoint],
                 slots: list[tuple[Slot, ...]]) -> None:
        self.cluster = cluster
        self.sources = sources
        self.destinations = destinations
        self.slots = slots
        self.policies: list[Policy] = cluster.policies
        self._peer_cache: dict[Hashable, np.ndarray] = {}
        self._port_cache: dict[tuple[PortSpec, ...], np.ndarray] = {}

    def build(self) -> Matrix:
        self._entities()
        self._classes()
        egress = self._egress()
        egress &= self._ingress()
        src_class = self.entity_class[[self.entity_of[e.name] for e in self.sources]]
        dst_class = self.entity_class[[self.entity_of[e.name] for e in self.destinations]]
        overrides = {}
        for i, source in enumerate(self.sources):
            if source.kind == NODE_KIND and source.node:
                on_node = np.array([d.is_pod and d.node == source.node for d in self.destinations],
                                   dtype=bool)
                if on_node.any():
                    overrides[i] = on_node
        return Matrix(self.sources, self.destinations, self.slots, src_class, dst_class,
                      egress, overrides)

    # -- endpoints and classes ------------------------------------------------------------

    def _entities(self) -> None:
        """Unique endpoints; a destination's slots go with it (sources alone have none)."""
        self.entity_of: dict[str, int] = {}
        self.entities: list[Endpoint] = []
        self.entity_slots: list[tuple[Slot, ...]] = []
        for endpoint in self.sources:
            if endpoint.name not in self.entity_of:
                self.entity_of[endpoint.name] = len(self.entities)
                self.entities.append(endpoint)
                self.entity_slots.append(())
        for endpoint, slots in zip(self.destinations, self.slots, strict=True):
            if endpoint.name not in self.entity_of:
                self.entity_of[endpoint.name] = len(self.entities)
                self.entities.append(endpoint)
                self.entity_slots.append(())
            self.entity_slots[self.entity_of[endpoint.name]] = tuple(slots)

    def _classes(self) -> None:
        cluster = self.cluster
        label_keys: set[str] = set()
        blocks: dict[IPBlock, int] = {}
        for policy in self.policies:
            label_keys |= policy.pod_selector.keys()
            for rule in policy.ingress + policy.egress:
                for peer in rule.peers:
                    if peer.pod_selector is not None:
                        label_keys |= peer.pod_selector.keys()
                    if peer.ip_block is not None:
                        blocks.setdefault(peer.ip_block, len(blocks))
        self.block_index = blocks
        membership = _block_membership(self.entities, list(blocks))
        signatures = np.packbits(membership, axis=1) if blocks else None

        self.namespaces = list(cluster.namespace_labels)
        ns_position = {name: k for k, name in enumerate(self.namespaces)}
        for policy in self.policies:
            if policy.namespace not in ns_position:
                ns_position[policy.namespace] = len(self.namespaces)
                self.namespaces.append(policy.namespace)
        label_rows: dict[frozenset, int] = {frozenset(): 0}
        class_of: dict[Hashable, int] = {}
        entity_class = []
        cls_ns, cls_row, cls_pod, cls_slots, cls_named, representative = [], [], [], [], [], []
        for position, endpoint in enumerate(self.entities):
            slots = self.entity_slots[position]
            signature = signatures[position].tobytes() if signatures is not None else b""
            if endpoint.is_pod:
                pod = cluster.pod(endpoint.name)
                if pod.namespace not in ns_position:
                    ns_position[pod.namespace] = len(self.namespaces)
                    self.namespaces.append(pod.namespace)
                labels = frozenset((k, v) for k, v in pod.labels.items() if k in label_keys)
                named = tuple(sorted(pod.named_ports().items())) if slots else ()
                key: Hashable = (True, pod.namespace, labels, named, slots, signature)
            else:
                labels, named = frozenset(), ()
                key = (False, slots, signature)
            if key not in class_of:
                class_of[key] = len(class_of)
                cls_pod.append(endpoint.is_pod)
                cls_ns.append(ns_position[pod.namespace] if endpoint.is_pod else -1)
                cls_row.append(label_rows.setdefault(labels, len(label_rows)))
                cls_slots.append(slots)
                cls_named.append(dict(named))
                representative.append(position)
            entity_class.append(class_of[key])
        self.entity_class = np.array(entity_class, dtype=np.int64)
        self.cls_pod = np.array(cls_pod, dtype=bool)
        self.cls_ns = np.array(cls_ns, dtype=np.int64)
        self.cls_row = np.array(cls_row, dtype=np.int64)
        self.cls_slots = cls_slots
        self.cls_named = cls_named
        self.cls_blocks = membership[representative] if blocks else np.zeros((len(cls_pod), 0), bool)
        self.ns_position = ns_position
        self.pod_labels = LabelIndex([dict(labels) for labels in label_rows])
        self.ns_labels = LabelIndex([cluster.labels_of_namespace(n) for n in self.namespaces])
        self.classes = len(cls_pod)
        self.words = max(1, -(-max((len(s) for s in cls_slots), default=0) // WORD))
        self.full = _full_masks(np.array([len(s) for s in cls_slots], dtype=np.int64), self.words)
        # Classes with the same slots and named ports answer every port list alike.
        groups: dict[Hashable, list[int]] = {}
        for position, (slots, named) in enumerate(zip(cls_slots, cls_named, strict=True)):
            groups.setdefault((slots, tuple(sorted(named.items()))), []).append(position)
        self.port_groups = list(groups.values())

    # -- masks over classes ---------------------------------------------------------------

    def _selected(self, policy: Policy) -> np.ndarray:
        in_namespace = self.cls_ns == self.ns_position[policy.namespace]
        return self.cls_pod & in_namespace & self.pod_labels.evaluate(policy.pod_selector)[self.cls_row]

    def _peer(self, policy: Policy, peer: Peer) -> np.ndarray:
        key = (policy.namespace if peer.namespace_selector is None else None,
               peer.pod_selector, peer.namespace_selector, peer.ip_block)
        cached = self._peer_cache.get(key)
        if cached is not None:
            return cached
        if peer.ip_block is not None:
            mask = self.cls_blocks[:, self.block_index[peer.ip_block]]
        else:
            if peer.namespace_selector is None:
                mask = self.cls_ns == self.ns_position[policy.namespace]
            else:
                by_namespace = np.append(self.ns_labels.evaluate(peer.namespace_selector), False)
                mask = by_namespace[self.cls_ns]  # -1 (not a pod) reads the appended False
            if peer.pod_selector is not None:
                mask = mask & self.pod_labels.evaluate(peer.pod_selector)[self.cls_row]
            mask = mask & self.cls_pod
        self._peer_cache[key] = mask
        return mask

    def _peers(self, policy: Policy, peers: tuple[Peer, ...]) -> np.ndarray:
        if not peers:
            return np.ones(self.classes, dtype=bool)
        mask = np.zeros(self.classes, dtype=bool)
        for peer in peers:
            mask |= self._peer(policy, peer)
        return mask

    def _ports(self, ports: tuple[PortSpec, ...]) -> np.ndarray:
        """Allowed-slot bitsets of each destination class for one rule's port list."""
        if not ports:
            return self.full
        cached = self._port_cache.get(ports)
        if cached is not None:
            return cached
        result = np.zeros((self.classes, self.words), dtype=np.uint64)
        for positions in self.port_groups:
            slots, named = self.cls_slots[positions[0]], self.cls_named[positions[0]]
            words = [0] * self.words
            for k, (port, protocol) in enumerate(slots):
                if any(spec.matches(port, protocol, named) for spec in ports):
                    words[k // WORD] |= 1 << (k % WORD)
            result[positions] = np.array(words, dtype=np.uint64)
        self._port_cache[ports] = result
        return result

    # -- the two directions ---------------------------------------------------------------

    def _egress(self) -> np.ndarray:
        """Bits of each (source class, destination class) that egress at the source allows."""
        isolated = np.zeros(self.classes, dtype=bool)
        allow_by_rows: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        for policy in self.policies:
            if not policy.affects(EGRESS):
                continue
            rows = self._selected(policy)
            if not rows.any():
                continue
            isolated |= rows
            allowed = np.zeros((self.classes, self.words), dtype=np.uint64)
            for rule in policy.egress:
                peers = self._peers(policy, rule.peers)
                allowed |= np.where(peers[:, None], self._ports(rule.ports_key), np.uint64(0))
            key = rows.tobytes()
            if key in allow_by_rows:
                allow_by_rows[key][1][...] |= allowed
            else:
                allow_by_rows[key] = (rows, allowed)
        result = np.where(isolated[:, None, None], np.uint64(0), self.full[None, :, :])
        for rows, allowed in allow_by_rows.values():
            result[rows] |= allowed[None, :, :]
        return result

    def _ingress(self) -> np.ndarray:
        """Bits of each (source class, destination class) that ingress at the destination allows."""
        isolated = np.zeros(self.classes, dtype=bool)
        allow_by_columns: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        for policy in self.policies:
            if not policy.affects(INGRESS):
                continue
            columns = np.flatnonzero(self._selected(policy))
            if not len(columns):
                continue
            isolated[columns] = True
            allowed = np.zeros((self.classes, len(columns), self.words), dtype=np.uint64)
            for rule in policy.ingress:
                peers = self._peers(policy, rule.peers)
                ports = self._ports(rule.ports_key)[columns]
                allowed |= np.where(peers[:, None, None], ports[None, :, :], np.uint64(0))
            key = columns.tobytes()
            if key in allow_by_columns:
                allow_by_columns[key][1][...] |= allowed
            else:
                allow_by_columns[key] = (columns, allowed)
        open_columns = np.where(isolated[:, None], np.uint64(0), self.full)
        result = np.repeat(open_columns[None, :, :], self.classes, axis=0)
        for columns, allowed in allow_by_columns.values():
            result[:, columns] |= allowed
        return result


def _block_membership(entities: list[Endpoint], blocks: list[IPBlock]) -> np.ndarray:
    """(entities × blocks) booleans: whether each endpoint's IP lies in each ipBlock."""
    membership = np.zeros((len(entities), len(blocks)), dtype=bool)
    if not blocks:
        return membership
    v4_rows, v4_values, others = [], [], []
    for position, endpoint in enumerate(entities):
        if not endpoint.ip:
            continue
        address = ipaddress.ip_address(endpoint.ip)
        if address.version == 4:
            v4_rows.append(position)
            v4_values.append(int(address))
        else:
            others.append((position, address))
    values = np.array(v4_values, dtype=np.int64)
    for b, block in enumerate(blocks):
        if block.cidr.version == 4 and v4_rows:
            inside = _in_network(values, block.cidr)
            for excluded in block.excepts:
                if excluded.version == 4:
                    inside &= ~_in_network(values, excluded)
            membership[v4_rows, b] = inside
        for position, address in others:
            membership[position, b] = block.contains(address)
    return membership


def _in_network(values: np.ndarray, network: ipaddress.IPv4Network) -> np.ndarray:
    low = int(network.network_address)
    return (values >= low) & (values <= low + network.num_addresses - 1)
