"""Reading a whole-cluster reachability matrix (built by `reachability_build`).

Endpoints that no policy can tell apart share a class, and the verdicts of a class pair are a
bitset over the destination's port slots, stored in unsigned integer words just wide enough
(8 to 64 bits). Endpoint verdicts are read through the class matrix, so memory grows with
classes², not endpoints², and aggregated views are computed per class.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Iterator, Sequence

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


class MatrixDelta:
    """The verdicts that differ between two matrices of the same sources, destinations and
    slots (a cluster's matrix before a change and after it), counted without listing them.

    Sources (and destinations) in the same class before and in the same class after form one
    joint class, and every pair of joint classes changes alike, so counts are taken per joint
    class pair and weighted by how many endpoints each holds. Two exceptions are made exact:
    an endpoint paired with itself is no connection, and a source whose row a matrix
    overrides (traffic from a node to its own pods) is compared row against row.
    `allowed` True means connections newly allowed, False connections newly blocked.
    """

    def __init__(self, old: Matrix, new: Matrix) -> None:
        if ([e.name for e in old.sources] != [e.name for e in new.sources]
                or [e.name for e in old.destinations] != [e.name for e in new.destinations]
                or old.slots != new.slots):
            raise ValueError("the matrices compared must have the same ends and slots")
        self.sources = [e.name for e in new.sources]
        self.destinations = [e.name for e in new.destinations]
        self.slots = new.slots
        self._old, self._new = old, new
        self._src_joint, src_old, src_new = _joint(old._src_class, new._src_class)
        self._dst_joint, dst_old, dst_new = _joint(old._dst_class, new._dst_class)
        before = old._bits[src_old][:, dst_old]
        after = new._bits[src_new][:, dst_new].astype(before.dtype)
        representative = np.zeros(len(dst_old), dtype=np.int64)
        representative[self._dst_joint] = np.arange(len(self._dst_joint))
        self._dst_representative = representative
        # bits past a destination's slots are no connection, whatever they hold
        slots_of_class = new._nslots[representative] if len(representative) else new._nslots[:0]
        valid = full_masks(slots_of_class, before.shape[2], before.dtype.type)[None, :, :]
        self._changed = {True: after & ~before & valid, False: before & ~after & valid}
        self._own_column = np.full(len(self.sources), -1, dtype=np.int64)
        for i, j in new._self_column.items():
            self._own_column[i] = j
        self._exact_rows = sorted(set(old._overrides) | set(new._overrides))
        self._plain = np.ones(len(self.sources), dtype=bool)
        self._plain[self._exact_rows] = False
        self._port_masks: dict[int, np.ndarray] = {}
        self._row_totals: dict[bool, np.ndarray] = {}

    # -- counting -------------------------------------------------------------------------

    def grouped_counts(self, allowed: bool, src_ids: np.ndarray, src_groups: int,
                       dst_ids: np.ndarray, dst_groups: int,
                       port: int | None = None) -> np.ndarray:
        """Changed connections per (source group, destination group), shape
        (src_groups, dst_groups): `src_ids` / `dst_ids` give each endpoint's group, -1 leaves
        it out; with `port`, only slots of that port number count."""
        src_ids = np.asarray(src_ids, dtype=np.int64)
        dst_ids = np.asarray(dst_ids, dtype=np.int64)
        changed = self._class_bits(allowed, port)
        pop = np.bitwise_count(changed).sum(axis=2, dtype=np.int64)
        result = np.zeros((src_groups, dst_groups), dtype=np.int64)
        plain = self._plain & (src_ids >= 0)
        kept = dst_ids >= 0
        s_class, s_group, s_count = _pairs(self._src_joint[plain], src_ids[plain])
        d_class, d_group, d_count = _pairs(self._dst_joint[kept], dst_ids[kept])
        if len(s_class) and len(d_class):
            order = np.argsort(d_group, kind="stable")
            d_class, d_group, d_count = d_class[order], d_group[order], d_count[order]
            starts = np.flatnonzero(np.r_[True, d_group[1:] != d_group[:-1]])
            # per joint class, changed connections to each destination group
            by_class = np.zeros((len(pop), len(starts)), dtype=np.int64)
            for begin in range(0, len(pop), _CHUNK):
                rows = slice(begin, begin + _CHUNK)
                by_class[rows] = np.add.reduceat(pop[rows][:, d_class] * d_count, starts, axis=1)
            by_group = np.zeros((src_groups, len(starts)), dtype=np.int64)
            np.add.at(by_group, s_group, by_class[s_class] * s_count[:, None])
            result[:, d_group[starts]] += by_group
        own = np.flatnonzero(plain & (self._own_column >= 0))
        columns = self._own_column[own]
        counted = dst_ids[columns] >= 0
        own, columns = own[counted], columns[counted]
        np.subtract.at(result, (src_ids[own], dst_ids[columns]),
                       pop[self._src_joint[own], self._dst_joint[columns]])
        for i in self._exact_rows:
            if src_ids[i] >= 0:
                counts = np.bitwise_count(self.row_bits(i, allowed, port=port)).sum(
                    axis=1, dtype=np.int64)
                np.add.at(result[src_ids[i]], dst_ids[kept], counts[kept])
        return result

    def row_counts(self, allowed: bool, dst_mask: np.ndarray | None = None,
                   port: int | None = None) -> np.ndarray:
        """Changed connections of each source (to the destinations `dst_mask` keeps)."""
        if dst_mask is None and port is None:
            counts = self._row_totals.get(allowed)
            if counts is None:
                counts = self._row_totals[allowed] = self.row_counts(allowed, np.ones(
                    len(self.destinations), dtype=bool))
            return counts
        dst_ids = (np.zeros(len(self.destinations), dtype=np.int64) if dst_mask is None
                   else np.where(dst_mask, 0, -1))
        return self.grouped_counts(allowed, np.arange(len(self.sources)), len(self.sources),
                                   dst_ids, 1, port)[:, 0]

    # -- listing ----------------------------------------------------------------------------

    def row_bits(self, i: int, allowed: bool, columns: np.ndarray | None = None,
                 port: int | None = None) -> np.ndarray:
        """Changed-slot bitsets of source `i` to each destination (of `columns`, in order),
        shape (destinations, words); the source's own column is empty."""
        columns = (np.arange(len(self.destinations)) if columns is None
                   else np.asarray(columns, dtype=np.int64))
        if self._plain[i]:
            bits = self._class_bits(allowed, port)[self._src_joint[i]][self._dst_joint[columns]]
        else:
            before, after = self._old.row(i)[columns], self._new.row(i)[columns]
            bits = after & ~before if allowed else before & ~after
            if port is not None:
                bits &= self._port_mask(port, bits.dtype.type)[self._dst_joint[columns]]
        own = self._own_column[i]
        if own >= 0:
            bits[columns == own] = 0
        return bits

    def hits(self, i: int, allowed: bool, columns: np.ndarray | None = None,
             port: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(destination, slot) of every changed connection of source `i` (to `columns`), in
        destination order (as `columns` lists them) and slot order."""
        columns = (np.arange(len(self.destinations)) if columns is None
                   else np.asarray(columns, dtype=np.int64))
        bits = self.row_bits(i, allowed, columns, port)
        changed = np.flatnonzero(bits.any(axis=1)) if bits.size else np.zeros(0, dtype=np.int64)
        if not len(changed):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        little = np.ascontiguousarray(bits[changed].astype(bits.dtype.newbyteorder("<")))
        unpacked = np.unpackbits(little.view(np.uint8).reshape(len(changed), -1), axis=1,
                                 bitorder="little")
        rows, slots = np.nonzero(unpacked)
        return columns[changed[rows]], slots

    def connection(self, i: int, j: int, k: int, allowed: bool) -> Connection:
        port, protocol = self.slots[j][k]
        return Connection(self.sources[i], self.destinations[j], port, protocol, allowed)

    def first_per_group(self, allowed: bool, src_ids: np.ndarray, dst_ids: np.ndarray,
                        wanted: np.ndarray) -> dict[tuple[int, int], list[Connection]]:
        """The first `wanted[a, b]` changed connections from source group a to destination
        group b, in source, destination and slot order; `wanted` must not ask for more than
        there are (see `grouped_counts`)."""
        wanted = np.array(wanted, dtype=np.int64)
        src_ids = np.asarray(src_ids, dtype=np.int64)
        dst_ids = np.asarray(dst_ids, dtype=np.int64)
        found: dict[tuple[int, int], list[Connection]] = {}
        for a in np.flatnonzero(wanted.any(axis=1)):
            for i in np.flatnonzero(src_ids == a).tolist():
                open_groups = wanted[a] > 0
                if not open_groups.any():
                    break
                columns = np.flatnonzero((dst_ids >= 0) & open_groups[np.maximum(dst_ids, 0)])
                js, ks = self.hits(i, allowed, columns)
                if not len(js):
                    continue
                groups = dst_ids[js]
                order = np.argsort(groups, kind="stable")
                ordered = groups[order]
                starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
                rank = np.empty(len(js), dtype=np.int64)
                rank[order] = np.arange(len(js)) - np.repeat(starts, np.diff(np.r_[starts,
                                                                                  len(js)]))
                keep = np.flatnonzero(rank < wanted[a, groups])
                source = self.sources[i]
                for j, k, group in zip(js[keep].tolist(), ks[keep].tolist(),
                                       groups[keep].tolist(), strict=True):
                    port, protocol = self.slots[j][k]
                    found.setdefault((int(a), group), []).append(Connection(
                        source, self.destinations[j], port, protocol, allowed))
                np.subtract.at(wanted[a], groups[keep], 1)
        return found

    # -- class bits --------------------------------------------------------------------------

    def _class_bits(self, allowed: bool, port: int | None) -> np.ndarray:
        changed = self._changed[allowed]
        if port is None:
            return changed
        return changed & self._port_mask(port, changed.dtype.type)[None, :, :]

    def _port_mask(self, port: int, dtype: type) -> np.ndarray:
        """Per destination joint class, the bits of its slots numbered `port`."""
        mask = self._port_masks.get(port)
        if mask is None:
            words = self._changed[True].shape[2]
            bits = np.dtype(dtype).itemsize * 8
            mask = np.zeros((len(self._dst_representative), words), dtype=dtype)
            for b, j in enumerate(self._dst_representative):
                for k, (number, _) in enumerate(self.slots[j]):
                    if number == port:
                        mask[b, k // bits] |= dtype(1 << (k % bits))
            self._port_masks[port] = mask
        return mask


class ChangedConnections(Sequence[Connection]):
    """The connections a change newly allows (or blocks), as a list that is built only as
    far as it is read: its length is exact from the start, and reading item n or a slice lists
    only the source rows holding them. Order: source, destination, slot."""

    def __init__(self, delta: MatrixDelta, allowed: bool) -> None:
        self._delta = delta
        self._allowed = allowed
        counts = delta.row_counts(allowed)
        self._ends = np.cumsum(counts)
        self._rows = np.flatnonzero(counts)
        self._cached: tuple[int, list[Connection]] = (-1, [])

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(len(self)))]
        index = operator.index(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("connection index out of range")
        i = int(np.searchsorted(self._ends, index, side="right"))
        return self._row(i)[index - (int(self._ends[i - 1]) if i else 0)]

    def __iter__(self) -> Iterator[Connection]:
        for i in self._rows:
            yield from self._listed(int(i))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[Connection]) -> list[Connection]:
        return [*self, *other]

    def __radd__(self, other: Sequence[Connection]) -> list[Connection]:
        return [*other, *self]

    def __repr__(self) -> str:
        return f"<{len(self)} connections newly {'allowed' if self._allowed else 'blocked'}>"

    def _row(self, i: int) -> list[Connection]:
        if self._cached[0] != i:
            self._cached = (i, self._listed(i))
        return self._cached[1]

    def _listed(self, i: int) -> list[Connection]:
        delta, allowed = self._delta, self._allowed
        js, ks = delta.hits(i, allowed)
        source, destinations, slots = delta.sources[i], delta.destinations, delta.slots
        return [Connection(source, destinations[j], *slots[j][k], allowed)
                for j, k in zip(js.tolist(), ks.tolist(), strict=True)]


def _joint(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(joint class of each endpoint, its class in `old`, its class in `new` per joint class)."""
    if not len(old):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    unique, inverse = np.unique(np.stack([old, new], axis=1), axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), unique[:, 0], unique[:, 1]
