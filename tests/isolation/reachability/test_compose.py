"""Composing layer blocks on their joint rows: checked against applying the blocks one after
another on the whole matrix, the plain reading of `ClassBlock`."""

from __future__ import annotations

import numpy as np
import pytest

from isolation.reachability import compose
from isolation.reachability.compose import Composer, joined
from isolation.reachability.layers import ClassBlock, unique_rows

CLASSES = 23


def _bits(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(0, info.max, shape, dtype=dtype, endpoint=True)


def _compressed(rng, full, dtype, masked=False):
    classes, words = full.shape
    rows = np.sort(rng.choice(classes, rng.integers(1, classes + 1), replace=False))
    groups, columns = int(rng.integers(1, 5)), int(rng.integers(1, 6))
    allow = _bits(rng, (groups, columns, words), dtype)
    deny = _bits(rng, (groups, columns, words), dtype) & ~allow
    extra = {}
    if masked:
        covered = rng.random(classes) < .5
        masked_group = np.where(covered, rng.integers(0, 3, classes), -1)
        masked_group[np.setdiff1d(np.arange(classes), rows)] = -1
        extra = {"masked_allow": _bits(rng, (3, classes, words), dtype),
                 "masked_group": masked_group,
                 "mask": _bits(rng, (groups, columns, words), dtype)}
    return ClassBlock(rows, allow, deny, row_group=rng.integers(0, groups, len(rows)),
                      column_class=rng.integers(0, columns, classes), **extra)


def _plain(rng, full, dtype, same_for_every_row=False):
    classes, words = full.shape
    rows = rng.choice(classes, rng.integers(1, classes + 1), replace=False)
    count = 1 if same_for_every_row else len(rows)
    allow = _bits(rng, (count, classes, words), dtype)
    return ClassBlock(rows, allow, _bits(rng, (count, classes, words), dtype) & ~allow)


def _apply(matrix, block, open_rows):
    """`block` put in front of `matrix`, row by row, as `ClassBlock` says."""
    for i, row in enumerate(block.rows):
        if not open_rows[row]:
            continue
        if block.row_group is None:
            at = 0 if block.allow.shape[0] == 1 else i
            allow, deny = block.allow[at], block.deny[at]
        else:
            group = block.row_group[i]
            allow = block.allow[group][block.column_class]
            deny = block.deny[group][block.column_class]
            if block.masked_allow is not None and block.masked_group[row] >= 0:
                allow = allow | (block.masked_allow[block.masked_group[row]]
                                 & block.mask[group][block.column_class])
        matrix[row] = allow | (matrix[row] & ~deny)


def _kept_to(block, slots, rng):
    """`block` with its bits among `slots` (as every layer's are), deciding every slot of
    some of its cells (and so of some groups, or rows, in every column)."""
    allow = block.allow & slots
    deciding = rng.random(allow.shape[:2]) < .7  # by cell: some groups in every column
    deny = np.where(deciding[:, :, None], ~allow, block.deny) & slots & ~allow
    extra = {}
    if block.masked_allow is not None:
        extra = {"masked_allow": block.masked_allow & slots, "masked_group": block.masked_group,
                 "mask": block.mask}
    return ClassBlock(block.rows, allow, deny, row_group=block.row_group,
                      column_class=block.column_class, **extra)


def _composed_and_applied(rng, full, ingress, dtype, words, slots=None):
    """(What the composer makes of random layers, the same layers' blocks applied one after
    another); with `slots`, every block kept to them (see `_kept_to`)."""
    port_group = np.unique(full, axis=0, return_inverse=True)[1].reshape(-1)
    pods = rng.random(CLASSES) < .85
    layers = [[_compressed(rng, full, dtype)], [_plain(rng, full, dtype)],
              "network policies", [_compressed(rng, full, dtype, masked=True),
                                   _plain(rng, full, dtype, same_for_every_row=True)],
              [_compressed(rng, full, dtype)]]
    group = np.where(rng.random(CLASSES) < .4, rng.integers(0, 4, CLASSES), -1)
    group[~pods] = -1
    allowed = _bits(rng, (4, CLASSES, words), dtype)
    if slots is not None:
        layers = [layer if layer == "network policies" else
                  [_kept_to(block, slots, rng) for block in layer] for layer in layers]
        allowed &= slots

    composer = Composer(full, port_group, ingress)
    open_rows = pods
    for layer in layers:
        if layer == "network policies":
            composer.network_policies(group, allowed)
            open_rows = pods & (group < 0)
            continue
        for block in reversed(layer):
            composer.block(block, open_rows)
    bits, joint_row = composer.result()

    expected = np.broadcast_to(full[:, None, :] if ingress else full[None, :, :],
                               (CLASSES, CLASSES, words)).copy()
    position = layers.index("network policies")
    for k, layer in reversed(list(enumerate(layers))):
        if layer == "network policies":
            isolated = group >= 0
            expected[isolated] = allowed[group[isolated]]
            continue
        open_rows = pods if k < position else pods & (group < 0)
        for block in layer:
            _apply(expected, block, open_rows)
    return bits[joint_row], expected


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("ingress", [True, False])
@pytest.mark.parametrize("dtype,words", [(np.uint8, 1), (np.uint64, 2)])
def test_composed_blocks_equal_the_blocks_applied_one_after_another(monkeypatch, seed,
                                                                     ingress, dtype, words):
    monkeypatch.setattr(compose, "_CACHE_BYTES", 1)  # one joint row at a time
    rng = np.random.default_rng(seed)
    full = _bits(rng, (CLASSES, words), dtype)
    composed, applied = _composed_and_applied(rng, full, ingress, dtype, words)
    assert (composed == applied).all()


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("ingress", [True, False])
def test_rows_a_block_decides_entirely_are_left_out_of_the_later_blocks(monkeypatch, seed,
                                                                         ingress):
    monkeypatch.setattr(compose, "_CACHE_BYTES", 1)
    rng = np.random.default_rng(seed)
    slots = _bits(rng, (1, 2), np.uint64)
    full = np.repeat(slots, CLASSES, axis=0)
    composed, applied = _composed_and_applied(rng, full, ingress, np.uint64, 2, slots=slots)
    assert (composed == applied).all()
    # the rows the first blocks decide share joint rows: fewer than the classes
    composer = Composer(full, np.zeros(CLASSES, dtype=np.int64), ingress)
    deciding = ClassBlock(np.arange(CLASSES), np.zeros((1, CLASSES, 2), np.uint64),
                          np.broadcast_to(slots, (1, CLASSES, 2)))
    composer.block(deciding, np.ones(CLASSES, dtype=bool))
    composer.block(_kept_to(_plain(rng, full, np.uint64), slots, rng), np.ones(CLASSES, bool))
    bits, joint_row = composer.result()
    assert len(bits) == 1 and not bits.any()


def test_rows_no_block_decides_allow_every_slot_of_the_destination():
    full = np.array([[1], [3], [7]], dtype=np.uint8)
    for ingress in (True, False):
        bits, joint_row = Composer(full, np.arange(3), ingress).result()
        expected = full[:, None, :] if ingress else full[None, :, :]
        assert (bits[joint_row] == np.broadcast_to(expected, (3, 3, 1))).all()


@pytest.mark.parametrize("size,tile", [(1, 4), (9, 4), (17, 5), (8, 8)])
def test_joining_the_directions_is_the_plain_transposed_and(size, tile):
    rng = np.random.default_rng(size)
    egress = (rng.integers(0, 256, (5, size, 1), dtype=np.uint8), rng.integers(0, 5, size))
    ingress = (rng.integers(0, 256, (3, size, 1), dtype=np.uint8), rng.integers(0, 3, size))
    expected = egress[0][egress[1]] & ingress[0][ingress[1]].transpose(1, 0, 2)
    assert (joined(egress, ingress, tile) == expected).all()


@pytest.mark.parametrize("width", [1, 3, 8, 13, 24])
def test_unique_rows_number_equal_rows_alike_and_name_their_first_row(width):
    rng = np.random.default_rng(width)
    table = rng.integers(0, 2, (60, width), dtype=np.uint8)
    first, number = unique_rows(table)
    assert len(first) == len(np.unique(table, axis=0))
    for i in range(len(table)):
        for j in range(len(table)):
            assert (number[i] == number[j]) == (table[i] == table[j]).all()
    for k, row in enumerate(first):
        assert number[row] == k
        assert row == np.flatnonzero(number == k)[0]


def test_unique_rows_of_an_empty_table():
    first, number = unique_rows(np.zeros((0, 4), dtype=np.uint8))
    assert len(first) == 0 and len(number) == 0
    first, number = unique_rows(np.zeros((3, 0), dtype=np.uint8))
    assert list(first) == [0] and list(number) == [0, 0, 0]


def test_unique_rows_stay_exact_when_rows_share_a_mixed_number(monkeypatch):
    from isolation.reachability import layers
    monkeypatch.setattr(layers, "_FACTORS", np.zeros(48, dtype=np.uint64))  # all collide
    table = np.array([[1, 0] * 8, [0, 1] * 8, [1, 0] * 8], dtype=np.uint8)
    first, number = unique_rows(table)
    assert sorted(first) == [0, 1]
    assert number[0] == number[2] != number[1]
    assert [number[row] for row in first] == [0, 1]
