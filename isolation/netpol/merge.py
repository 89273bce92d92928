"""Three-way merge of a Kubernetes object: base → theirs (the live object) and base → mine.

Two people edit the same object from the same `base`: `theirs` was written first, `mine` is a
draft. The merge works field by field on the parsed objects: mappings merge by key, lists are
whole values unless their items can be matched by a merge key (`MERGE_KEYS`), everything else is
a whole value. A field changed on one side only takes that side's value; a field changed on both
sides to the same value takes it; a field changed on both sides differently is a `Conflict` and
needs an explicit choice ("theirs" or "mine"). Until it has one, the merged object keeps
theirs there, so nothing of the other change is ever dropped without a choice.

When the base is unknown (`base=None`), every field that differs between theirs and mine is a
conflict: with no base, nobody can tell which side changed it.

Pure: plain data in, plain data out; the inputs are never modified.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

THEIRS, MINE = "theirs", "mine"
CHOICES = (THEIRS, MINE)


class _Absent:
    """A field that is not there (deleted, or never set)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


class _Unknown:
    """The base of a merge without one: equal to nothing, not even itself."""

    def __repr__(self) -> str:
        return "UNKNOWN"


ABSENT: Any = _Absent()
UNKNOWN: Any = _Unknown()

# List fields whose items are matched by one of their keys instead of by position ("[]" stands
# for "any list item" in the path).
MERGE_KEYS: dict[str, str] = {
    "metadata.ownerReferences": "uid",
    "metadata.finalizers": "",  # "" matches scalar items by their own value (a set)
}

_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Conflict:
    """A field both sides changed differently; ABSENT stands for a field that is not there."""

    path: str
    base: Any
    theirs: Any
    mine: Any
    choice: str = ""          # "" until chosen, then THEIRS or MINE

    @property
    def resolved(self) -> bool:
        return self.choice in CHOICES


@dataclass(frozen=True)
class MergeResult:
    """The merged object and what it took from where.

    `merged` holds the chosen value of every resolved conflict and theirs for the others;
    `theirs_changed` and `mine_changed` are the paths taken automatically from each side.
    """

    merged: dict[str, Any]
    conflicts: tuple[Conflict, ...] = ()
    theirs_changed: tuple[str, ...] = ()
    mine_changed: tuple[str, ...] = ()

    @property
    def unresolved(self) -> tuple[Conflict, ...]:
        return tuple(c for c in self.conflicts if not c.resolved)

    @property
    def clean(self) -> bool:
        """Every conflict has a choice (or there was none): the merge may be applied."""
        return not self.unresolved


@dataclass
class _State:
    choices: Mapping[str, str]
    conflicts: list[Conflict] = field(default_factory=list)
    theirs_changed: list[str] = field(default_factory=list)
    mine_changed: list[str] = field(default_factory=list)


def three_way_merge(base: Mapping[str, Any] | None, theirs: Mapping[str, Any],
                    mine: Mapping[str, Any], *,
                    choices: Mapping[str, str] | None = None) -> MergeResult:
    """Merge `mine` (changed from `base`) into `theirs` (changed from `base` too).

    `choices` maps a conflict's path to THEIRS or MINE; a choice for a path that is not a
    conflict is ignored.
    """
    state = _State(dict(choices or {}))
    b = UNKNOWN if base is None else base
    merged = _merge(b, theirs, mine, "", state)
    if not isinstance(merged, dict):  # the roots are mappings; keep the result one
        merged = copy.deepcopy(dict(theirs))
    return MergeResult(merged, tuple(state.conflicts), tuple(state.theirs_changed),
                       tuple(state.mine_changed))


def _merge(base: Any, theirs: Any, mine: Any, path: str, state: _State) -> Any:
    if _same(theirs, mine):
        return copy.deepcopy(theirs)
    if _same(theirs, base):
        state.mine_changed.extend(changed_paths(base, mine, path))
        return copy.deepcopy(mine)
    if _same(mine, base):
        state.theirs_changed.extend(changed_paths(base, theirs, path))
        return copy.deepcopy(theirs)
    if isinstance(theirs, dict) and isinstance(mine, dict):
        inner = base if isinstance(base, dict) else (UNKNOWN if base is UNKNOWN else {})
        return _merge_dicts(inner, theirs, mine, path, state)
    key = _merge_key(path)
    if key is not None and _keyed(theirs, key) and _keyed(mine, key) and (
            not isinstance(base, list) or _keyed(base, key)):
        inner = base if isinstance(base, list) else (UNKNOWN if base is UNKNOWN else [])
        return _merge_lists(inner, theirs, mine, key, path, state)
    choice = state.choices.get(path or "<root>", "")
    choice = choice if choice in CHOICES else ""
    state.conflicts.append(Conflict(path or "<root>", base, theirs, mine, choice))
    return copy.deepcopy(mine if choice == MINE else theirs)


def _merge_dicts(base: Any, theirs: dict, mine: dict, path: str, state: _State) -> dict:
    result: dict[str, Any] = {}
    keys = list(theirs) + [k for k in mine if k not in theirs]
    for key in keys:
        b = UNKNOWN if base is UNKNOWN else base.get(key, ABSENT)
        value = _merge(b, theirs.get(key, ABSENT), mine.get(key, ABSENT),
                       _join(path, key), state)
        if value is not ABSENT:
            result[key] = value
    return result


def _merge_lists(base: Any, theirs: list, mine: list, key: str, path: str,
                 state: _State) -> list:
    def index(items: list) -> dict[str, Any]:
        return {_item_key(item, key): item for item in items}

    b = None if base is UNKNOWN else index(base)
    t, m = index(theirs), index(mine)
    result = []
    for k in list(t) + [k for k in m if k not in t]:
        base_item = UNKNOWN if b is None else b.get(k, ABSENT)
        value = _merge(base_item, t.get(k, ABSENT), m.get(k, ABSENT), f"{path}[{k}]", state)
        if value is not ABSENT:
            result.append(value)
    return result


def changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """The paths of the fields that differ between `before` and `after`: mappings by key,
    anything else as a whole."""
    if _same(before, after):
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        keys = list(before) + [k for k in after if k not in before]
        return [p for k in keys for p in changed_paths(before.get(k, ABSENT),
                                                        after.get(k, ABSENT), _join(path, k))]
    return [path or "<root>"]


def _merge_key(path: str) -> str | None:
    return MERGE_KEYS.get(re.sub(r"\[[^\]]*\]", "[]", path))


def _keyed(items: Any, key: str) -> bool:
    """Whether every item of the list `items` has a distinct `key` ("" : hashable scalars)."""
    if not isinstance(items, list):
        return False
    if key:
        if not all(isinstance(i, dict) and isinstance(i.get(key), (str, int)) for i in items):
            return False
    elif not all(isinstance(i, (str, int, float, bool)) for i in items):
        return False
    keys = [_item_key(i, key) for i in items]
    return len(keys) == len(set(keys))


def _item_key(item: Any, key: str) -> str:
    return str(item.get(key)) if key else json.dumps(item)


def _same(a: Any, b: Any) -> bool:
    if a is UNKNOWN or b is UNKNOWN:
        return False
    if a is ABSENT or b is ABSENT:
        return a is b
    return type(a) is type(b) and a == b if not isinstance(a, (dict, list)) else a == b


def _join(path: str, key: Any) -> str:
    key = str(key)
    if _SIMPLE_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key}]"


def describe_value(value: Any) -> str:
    """A value as the conflict view shows it: YAML-like JSON, or "(not set)"."""
    if value is ABSENT:
        return "(not set)"
    if value is UNKNOWN:
        return "(unknown)"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False)
