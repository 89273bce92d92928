"""The review's diff builds only the rows a page reads, and they are the rows of the whole
folded diff: same kinds, numbers, texts and gaps, wherever the page starts."""

import random

import pytest

from console.policies.text import DIFF_PAGE_ROWS, FoldedDiff, diff_page, folded, side_by_side

BASE = [f"line {n}" for n in range(60)]


def edited(seed):
    rng = random.Random(seed)
    lines = list(BASE)
    for _ in range(rng.randrange(0, 6)):
        at = rng.randrange(0, len(lines) + 1)
        action = rng.choice(("insert", "delete", "change"))
        if action == "insert":
            lines[at:at] = [f"new {seed}-{at}"] * rng.randrange(1, 4)
        elif lines and at < len(lines):
            lines[at:at + rng.randrange(1, 4)] = [] if action == "delete" else [f"x {at}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_the_rows_read_are_those_of_the_whole_folded_diff(seed):
    before, after = edited(seed), edited(seed + 1000)
    whole = folded(side_by_side(before, after))
    lazy = FoldedDiff(before, after)
    assert len(lazy) == len(whole)
    assert lazy[:] == whole
    assert [lazy[k] for k in range(-len(whole), len(whole))] == whole + whole


@pytest.mark.parametrize("before, after", [("", "a\nb\n"), ("a\nb\n", ""), ("", ""),
                                           ("a\n" * 5000, "a\n" * 5000 + "b\n")])
def test_a_created_or_deleted_object_and_one_added_line(before, after):
    assert FoldedDiff(before, after)[:] == folded(side_by_side(before, after))


def test_a_page_of_a_long_diff_is_the_same_page():
    after = "".join(f"rule {n}\n" for n in range(5000))
    whole, lazy = folded(side_by_side("", after)), FoldedDiff("", after)
    for start in (0, DIFF_PAGE_ROWS, 4900):
        assert diff_page(lazy, start) == diff_page(whole, start)
