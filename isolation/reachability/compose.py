"""One direction of the matrix from its layers' blocks, composed on their joint rows.

A block (`layers.ClassBlock`) is the function x -> allow | (x & ~deny) of the bits the later
layers decided. Taken from the first layer to the last, the blocks in front of a point make the
function x -> A | (O & x): A the bits they allow, O the bits they leave open; a block adds
`A |= O & allow` and `O &= ~deny`. What no block decides is allowed (every slot of the
destination), so the direction is A | (O & every slot).

Blocks are compressed (rows in groups, columns in column classes), so the composition runs once
per joint row (classes in the same group of every block, and for ingress with the same slots),
over every column: each block's bits are first expanded to every column, then the blocks are
applied a few joint rows at a time while those rows are in cache. A matrix row is its joint
row (`joined` puts the two directions together from their joint rows). A row a block decides
entirely (each slot allowed or denied) is left out of the later blocks, which cannot change
it, so rows alike up to there share a joint row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from isolation.reachability.layers import ClassBlock

_CACHE_BYTES = 1 << 18  # joint rows composed at a time, by the bytes of one array


@dataclass
class _Op:
    """A block with every class placed: `row_group` (its extra last group, all zero, for the
    rows it leaves alone) and `column_class` (None: every class is its own). `masked` bits,
    one group per row by `masked_group` (its extra last group all zero), are allowed where
    `mask` is set; with `closes`, the block's rows take no later decision. `decides` marks the
    rows the block allows or denies every slot of: no later block changes them."""

    row_group: np.ndarray
    column_class: np.ndarray | None
    allow: np.ndarray
    deny: np.ndarray | None = None
    mask: np.ndarray | None = None
    masked: np.ndarray | None = None
    masked_group: np.ndarray | None = None
    closes: bool = False
    decides: np.ndarray | None = None  # by class: rows whose every slot the block decides


class Composer:
    """Collects the blocks of one direction, first layer first, and composes them (see the
    module docstring). Rows are as in `ClassBlock`; `full` is every slot of each class as a
    destination, `port_group` a number per class shared only by classes of equal slots."""

    def __init__(self, full: np.ndarray, port_group: np.ndarray, ingress: bool) -> None:
        self.full = full
        self.classes, self.words = full.shape
        self.dtype = full.dtype
        self.port_group = port_group
        self.ingress = ingress
        self.ops: list[_Op] = []
        self.beyond_slots = False  # whether a block allows a bit that is no slot of its cell

    def block(self, block: ClassBlock, open_rows: np.ndarray) -> None:
        """Add a layer's block, after those added so far, on the rows `open_rows` marks."""
        rows = np.asarray(block.rows, dtype=np.int64)
        kept = open_rows[rows]
        if not kept.any():
            return
        allow, deny = block.allow, block.deny
        column_class = None
        if block.row_group is not None:
            assert block.column_class is not None
            group = np.asarray(block.row_group, dtype=np.int64)
            column_class = np.asarray(block.column_class, dtype=np.int64)
        elif allow.shape[0] == 1 and deny.shape[0] == 1:
            group = np.zeros(len(rows), dtype=np.int64)
        else:  # a row of bits per row
            shape = (len(rows), self.classes, self.words)
            allow, deny = np.broadcast_to(allow, shape), np.broadcast_to(deny, shape)
            group = np.arange(len(rows), dtype=np.int64)
        row_group = np.full(self.classes, allow.shape[0], dtype=np.int64)
        row_group[rows[kept]] = group[kept]
        op = _Op(row_group, column_class, _with_zero_group(allow), _with_zero_group(deny))
        self.beyond_slots = self.beyond_slots or self._beyond_slots(op.allow, op.row_group,
                                                                    op.column_class)
        if block.masked_allow is None:
            op.decides = self._decided_rows(op)
        else:
            assert block.masked_group is not None and block.mask is not None
            masked_group = np.asarray(block.masked_group, dtype=np.int64)
            inside = (masked_group >= 0) & open_rows
            if inside.any():
                op.mask = _with_zero_group(block.mask)
                op.masked = _with_zero_group(block.masked_allow)
                op.masked_group = np.where(inside, masked_group, len(block.masked_allow))
                self.beyond_slots = self.beyond_slots or self._beyond_slots(
                    op.masked, op.masked_group, None)
        self.ops.append(op)

    def _decided_rows(self, op: _Op) -> np.ndarray:
        """The rows whose every slot (of every column) `op` allows or denies."""
        assert op.deny is not None
        decided = op.allow | op.deny  # (groups, column classes, words)
        if self.ingress:  # slots are the row's: those decided in every column
            always = np.bitwise_and.reduce(decided, axis=1)
            return ~(self.full & ~always[op.row_group]).any(axis=1)
        return ~(self._column_slots(op.column_class)[None] & ~decided).any(axis=(1, 2)) \
            [op.row_group]

    def _beyond_slots(self, allow: np.ndarray, row_group: np.ndarray,
                      column_class: np.ndarray | None) -> bool:
        """Whether `allow` (groups, column classes, words) has a bit that is no slot of the
        cell it is in."""
        if self.ingress:  # slots are the row's
            anywhere = np.bitwise_or.reduce(allow, axis=1)
            return bool((anywhere[row_group] & ~self.full).any())
        if column_class is not None:  # the slots every class of a column class has
            common = np.full((allow.shape[1], self.words), ~self.dtype.type(0), self.dtype)
            np.bitwise_and.at(common, column_class, self.full)
            return bool((allow & ~common[None]).any())
        return bool((allow & ~self.full[None]).any())

    def _column_slots(self, column_class: np.ndarray | None) -> np.ndarray:
        """Per column class, the slots of any of its classes (every class: `full`)."""
        if column_class is None:
            return self.full
        slots = np.zeros((int(column_class.max(initial=0)) + 1, self.words), self.dtype)
        np.bitwise_or.at(slots, column_class, self.full)
        return slots

    def network_policies(self, group: np.ndarray, allowed: np.ndarray) -> None:
        """Add the NetworkPolicy layer: on the rows it isolates (`group[r] >= 0`), it allows
        `allowed[group[r]]` (every column) and denies the rest."""
        row_group = np.where(group >= 0, group, len(allowed))
        op = _Op(row_group, None, _with_zero_group(allowed), closes=True, decides=group >= 0)
        self.beyond_slots = self.beyond_slots or self._beyond_slots(op.allow, row_group, None)
        self.ops.append(op)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """The composed direction by joint row: (the bits of each joint row, shape (joint
        rows, classes, words); the joint row of each class)."""
        # a bit that is no slot stays open after a block decided every slot of its row
        ops = self.ops if self.beyond_slots else _after_decided(self.ops, self.classes)
        row_features = [op.row_group for op in ops]
        row_features += [op.masked_group for op in ops if op.masked_group is not None]
        if self.ingress:
            row_features.append(self.port_group)
        joint_row, rep_row = _joint(row_features, self.classes)
        steps = [_Step.of(op, rep_row) for op in ops]
        allowed = np.empty((len(rep_row), self.classes, self.words), dtype=self.dtype)
        size = max(1, _CACHE_BYTES // max(1, allowed[0].nbytes))
        for begin in range(0, len(rep_row), size):
            end = min(begin + size, len(rep_row))
            tile = allowed[begin:end]
            tile[...] = 0
            open_bits = np.invert(tile)
            scratch = np.empty_like(tile)
            for step in steps:
                step.apply(tile, open_bits, scratch, begin, end)
            open_bits &= (self.full[rep_row[begin:end]][:, None, :] if self.ingress
                          else self.full[None, :, :])
            tile |= open_bits
        return allowed, joint_row


class _Step:
    """A block's bits expanded to every column and limited to the groups the joint rows use,
    with the group of each joint row."""

    def __init__(self, op: _Op, groups: np.ndarray, allow: np.ndarray | None,
                 keep: np.ndarray | None,
                 mask: np.ndarray | None, masked_groups: np.ndarray | None,
                 masked: np.ndarray | None) -> None:
        self.closes = op.closes
        self.groups, self.allow, self.keep, self.mask = groups, allow, keep, mask
        self.masked_groups, self.masked = masked_groups, masked
        self.inside = op.row_group != len(op.allow) - 1  # by class: rows the block decides

    @classmethod
    def of(cls, op: _Op, rep_row: np.ndarray) -> _Step:
        # a side that changes no bit is left out (deny is kept as its complement)
        allow = op.allow if op.allow.any() else None
        keep = None if op.deny is None or not op.deny.any() else np.invert(op.deny)
        mask = op.mask if op.masked is not None else None
        sides = [side for side in (allow, keep, mask) if side is not None]
        groups, sides = _expand(sides, op.row_group[rep_row], op.column_class)
        allow, keep, mask = (sides.pop(0) if side is not None else None
                             for side in (allow, keep, mask))
        masked_groups = masked = None
        if op.masked is not None:
            assert op.masked_group is not None
            masked_groups, (masked,) = _expand([op.masked], op.masked_group[rep_row], None)
        step = cls(op, groups, allow, keep, mask, masked_groups, masked)
        step.inside = step.inside[rep_row]
        return step

    def apply(self, tile: np.ndarray, open_bits: np.ndarray, scratch: np.ndarray, begin: int,
              end: int) -> None:
        """Put the block behind the bits already decided for joint rows begin..end: `tile`
        holds what is allowed so far, `open_bits` what is still open."""
        groups = self.groups[begin:end]
        if self.masked is not None:
            assert self.mask is not None and self.masked_groups is not None
            np.take(self.mask, groups, axis=0, out=scratch, mode="clip")
            scratch &= open_bits
            scratch &= np.take(self.masked, self.masked_groups[begin:end], axis=0)
            tile |= scratch
        if self.allow is not None:
            np.take(self.allow, groups, axis=0, out=scratch, mode="clip")
            scratch &= open_bits
            tile |= scratch
        if self.keep is not None:
            np.take(self.keep, groups, axis=0, out=scratch, mode="clip")
            open_bits &= scratch
        if self.closes:
            open_bits[self.inside[begin:end]] = 0


def _after_decided(ops: list[_Op], classes: int) -> list[_Op]:
    """`ops` with the rows an earlier op decides left out of every later one (given its
    extra, all-zero groups): what a later block says of them changes no bit, so rows that
    differ only there share a joint row."""
    decided = np.zeros(classes, dtype=bool)
    placed = []
    for op in ops:
        if decided.any():
            row_group = np.where(decided, len(op.allow) - 1, op.row_group)
            masked_group = None if op.masked_group is None or op.masked is None else \
                np.where(decided, len(op.masked) - 1, op.masked_group)
            op = replace(op, row_group=row_group, masked_group=masked_group)
        placed.append(op)
        if op.decides is not None:
            decided |= op.decides & (op.row_group != len(op.allow) - 1)
    return placed


def _expand(sides: list[np.ndarray], rows: np.ndarray,
            columns: np.ndarray | None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Arrays of one grid (groups, column classes, words), limited to the groups `rows` uses
    and every column class expanded to its classes (`columns` None: already so): (the new
    group of each row, the arrays)."""
    used, rows = np.unique(rows, return_inverse=True)
    if not sides:
        return rows.reshape(-1), []
    if len(used) < sides[0].shape[0]:
        sides = [np.take(side, used, axis=0) for side in sides]
    if columns is not None:
        sides = [np.take(side, columns, axis=1) for side in sides]
    else:
        sides = [np.ascontiguousarray(side) for side in sides]
    return rows.reshape(-1), sides


def _with_zero_group(bits: np.ndarray) -> np.ndarray:
    extended = np.zeros((bits.shape[0] + 1,) + bits.shape[1:], dtype=bits.dtype)
    extended[:-1] = bits
    return extended


def _joint(features: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """(joint number of each position, first position of each joint number): positions with
    equal values in every feature share their number."""
    code = np.zeros(size, dtype=np.int64)
    for feature in features:
        _, values = np.unique(feature, return_inverse=True)
        code = code * (int(values.max(initial=0)) + 1) + values.reshape(-1)
        _, code = np.unique(code, return_inverse=True)
        code = code.reshape(-1)
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return inverse.reshape(-1), first


def joined(egress: tuple[np.ndarray, np.ndarray], ingress: tuple[np.ndarray, np.ndarray],
           tile: int = 256) -> np.ndarray:
    """The matrix allowed by both directions, each given by joint row (see
    `Composer.result`): [source, destination] = egress[source] & ingress[destination], the
    latter transposed; the destinations' rows a tile at a time, in square tiles so both sides
    stay in cache."""
    (out_bits, out_row), (in_bits, in_row) = egress, ingress
    result = np.take(out_bits, out_row, axis=0)
    size = len(out_row)
    for d in range(0, size, tile):
        destinations = np.take(in_bits, in_row[d:d + tile], axis=0)
        for s in range(0, size, tile):
            result[s:s + tile, d:d + tile] &= destinations[:, s:s + tile].transpose(1, 0, 2)
    return result
