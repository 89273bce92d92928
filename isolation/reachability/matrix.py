"""Reading a whole-cluster reachability matrix (built by `reachability_build`).

Endpoints that no policy can tell apart share a class, and the verdicts of a class pair are a
bitset over the destination's port slots, stored in unsigned integer words just wide enough
(8 to 64 bits). Endpoint verdicts are read through the class matrix, so memory grows with
classes², not endpoints², and aggregated views are computed per class.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator

import numpy as np

from isolation.reachability.inventory import Endpoint
from isolation.reachability.verdict import Connection, Counts

Slot = tuple[int, str]
_CHUNK = 256  # source classes per step of the aggregated views (bounds temporary memory)


def word_dtype(max_slots: int) -> tuple[type, int, int]:
    """(numpy dtype, bits per word, words per bitset) for destinations of `max_slots` slots."""
    for dtype, bits in ((np.uint8, 8), (np.uint16, 16), (np.uint32, 32)):
        if max_slots <= bits:
            return dtype, bits, 1
    return np.uint64, 64, max(1, -(-max_slots // 64))


def full_masks(nslots: np.ndarray, words: int, dtype: type) -> np.ndarray:
    """Bitsets with the first `nslots[i]` bits set, shape (len(nslots), words)."""
    bits = np.dtype(dtype).itemsize * 8
    result = np.zeros((len(nslots), words), dtype=dtype)
    for w in range(words):
        count = np.clip(np.asarray(nslots, dtype=np.int64) - w * bits, 0, bits).astype(np.uint64)
        shifted = np.left_shift(np.uint64(1), np.minimum(count, np.uint64(63))) - np.uint64(1)
        result[:, w] = np.where(count >= 64, np.uint64(2**64 - 1), shifted).astype(dtype)
    return result


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
        self._bits = class_bits  # (classes, classes, words), unsigned words
        self.class_count = class_bits.shape[0]
        self.word_bits = class_bits.dtype.itemsize * 8
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
            bits[override] = full_masks(self._nslots[override], bits.shape[1], bits.dtype.type)
        return bits

    def bit(self, words: np.ndarray, k: int) -> bool:
        """Slot `k` of one destination's bitset (a row of `row()`)."""
        return bool((int(words[k // self.word_bits]) >> (k % self.word_bits)) & 1)

    def allowed(self, i: int, j: int, port: int | Slot) -> bool:
        """The verdict for source `i`, destination `j` and `port` (int = TCP); `port` must be
        one of the destination's slots (KeyError otherwise)."""
        slot = (port, "TCP") if isinstance(port, int) else tuple(port)
        k = self._slot_index[j][slot]
        if i in self._overrides and self._overrides[i][j]:
            return True
        return self.bit(self._bits[self._src_class[i], self._dst_class[j]], k)

    def connections(self) -> Iterator[Connection]:
        """Every verdict, source by source, in destination and slot order."""
        for i, source in enumerate(self.sources):
            bits = self.row(i)
            skip = self._self_column.get(i)
            for j, destination in enumerate(self.destinations):
                if j == skip:
                    continue
                words = bits[j]
                for k, (port, protocol) in enumerate(self.slots[j]):
                    yield Connection(source.name, destination.name, port, protocol,
                                     self.bit(words, k))

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
        # (class, group) pairs with their endpoint counts; usually one group per class.
        s_class, s_group, s_count = _pairs(self._src_class, src_ids)
        d_class, d_group, d_count = _pairs(self._dst_class, dst_ids)
        order = np.argsort(d_group, kind="stable")
        d_class, d_group, d_count = d_class[order], d_group[order], d_count[order]
        starts = np.flatnonzero(np.r_[True, d_group[1:] != d_group[:-1]])
        allowed = np.zeros((len(src_groups), len(dst_groups)), dtype=np.int64)
        for begin in range(0, len(s_class) if len(d_class) else 0, _CHUNK):
            rows = slice(begin, begin + _CHUNK)
            block = self._bits[s_class[rows]][:, d_class]  # (chunk, dst pairs, words)
            per_pair = np.bitwise_count(block).sum(axis=2, dtype=np.int64) * d_count
            by_dst_group = np.add.reduceat(per_pair, starts, axis=1)
            contribution = np.zeros((len(src_groups), len(starts)), dtype=np.int64)
            np.add.at(contribution, s_group[rows], by_dst_group * s_count[rows, None])
            allowed[:, d_group[starts]] += contribution
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
        return {(src_groups[a], dst_groups[b]): Counts(int(allowed[a, b]),
                                                       int(total[a, b] - allowed[a, b]))
                for a, b in zip(*np.nonzero(total), strict=True)}

    def _popcount(self, i: int, j: int) -> int:
        return int(np.bitwise_count(self._bits[self._src_class[i], self._dst_class[j]]).sum())


def _namespace_of(endpoint: Endpoint) -> str:
    return endpoint.namespace if endpoint.is_pod and endpoint.namespace else "external"


def _group_ids(keys: list[Hashable]) -> tuple[list[Hashable], np.ndarray]:
    index: dict[Hashable, int] = {}
    ids = np.array([index.setdefault(key, len(index)) for key in keys], dtype=np.int64)
    return list(index), ids


def _pairs(classes: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (class, group) pairs of the endpoints and how many endpoints each has."""
    if not len(classes):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    combined = np.stack([classes, groups], axis=1)
    unique, counts = np.unique(combined, axis=0, return_counts=True)
    return unique[:, 0], unique[:, 1], counts.astype(np.int64)
