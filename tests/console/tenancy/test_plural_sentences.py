"""Sentences with counts agree in number (issue 18, item 6: "1 connection become blocked").

Kept here for now because the tenancy and reachability test folders belonged to other changes
at the time; they test console/tenancy and console/reachability sentences and may move there."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from console.tenancy.services import _summary


def _preview(blocked: int, allowed: int):
    impact = SimpleNamespace(unchanged=False, newly_blocked=[object()] * blocked,
                             newly_allowed=[object()] * allowed)
    return SimpleNamespace(generated_before=[], generated_after=[], impact=impact)


@pytest.mark.parametrize(("blocked", "allowed", "words"), [
    (1, 1, "1 connection becomes blocked and 1 becomes allowed."),
    (2, 0, "2 connections become blocked and 0 become allowed."),
    (0, 3, "0 connections become blocked and 3 become allowed."),
])
def test_an_isolation_preview_counts_connections_in_the_right_number(blocked, allowed, words):
    change = SimpleNamespace(description="Turn on isolation of workspace team-b")
    assert _summary(change, _preview(blocked, allowed), kubesphere=False).endswith(words)
