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


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("ingress", [True, False])
@pytest.mark.parametrize("dtype,words", [(np.uint8, 1), (np.uint64, 2)])
def test_composed_blocks_equal_the_blocks_applied_one_after_another(monkeypatch, seed,
                                                                     ingress, dtype, words):
    monkeypatch.setattr(compose, "_CACHE_BYTES", 1)  # one joint row at a time
    rng = np.random.default_rng(seed)
    full = _bits(rng, (CLASSES, words), dtype)
    port_group = np.unique(full, axis=0, return_inverse=True)[1].reshape(-1)
    pods = rng.random(CLASSES) < .85
    layers = [[_compressed(rng, full, dtype)], [_plain(rng, full, dtype)],
              "network policies", [_compressed(rng, full, dtype, masked=True),
                                   _plain(rng, full, dtype, same_for_every_row=True)],
              [_compressed(rng, full, dtype)]]
    group = np.where(rng.random(CLASSES) < .4, rng.integers(0, 4, CLASSES), -1)
    group[~pods] = -1
    allowed = _bits(rng, (4, CLASSES, words), dtype)

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
    assert (bits[joint_row] == expected).all()


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
