"""Kubernetes label selectors: matching one label set, or many at once with numpy.

Semantics (metav1.LabelSelector): every `matchLabels` pair and every `matchExpressions`
requirement must hold; `In` needs the key with one of the values, `NotIn` holds when the key is
missing or has none of the values, `Exists` / `DoesNotExist` test only the key. An empty
selector matches everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from isolation.text import gettext as _


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        raise ValueError(f"unknown selector operator {self.operator!r}")

    def describe(self) -> str:
        values = ", ".join(sorted(self.values))
        if self.operator == "In":
            if len(self.values) == 1:
                return f"{self.key}={values}"
            return f"{self.key} in ({values})"
        if self.operator == "NotIn":
            return f"{self.key} not in ({values})"
        if self.operator == "Exists":
            return f"has {self.key}"
        return f"no {self.key}"


@dataclass(frozen=True)
class Selector:
    """A parsed label selector; `matchLabels` pairs become `In` requirements of one value."""

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def parse(cls, selector: Mapping[str, Any] | None) -> Selector:
        """The selector of a (validated) LabelSelector dict; None and `{}` select everything."""
        if not selector:
            return cls()
        requirements = [
            Requirement(str(key), "In", frozenset([str(value or "")]))
            for key, value in sorted((selector.get("matchLabels") or {}).items())
        ]
        for expression in selector.get("matchExpressions") or []:
            requirements.append(Requirement(
                expression["key"], expression["operator"],
                frozenset(str(v) for v in expression.get("values") or [])))
        return cls(tuple(requirements))

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)

    def keys(self) -> set[str]:
        return {requirement.key for requirement in self.requirements}

    def describe(self) -> str:
        """Human-readable form, e.g. `app=web, tier in (a, b)`; `everything` when empty."""
        if not self.requirements:
            return "everything"
        return ", ".join(requirement.describe() for requirement in self.requirements)

    def failing(self, labels: Mapping[str, str]) -> list[Requirement]:
        """The requirements `labels` do not meet (empty when the selector matches)."""
        return [r for r in self.requirements if not r.matches(labels)]


def comma_list(items: Sequence[str]) -> str:
    """`items` separated by commas, as the reader's language separates a list ("" for none)."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    middle = len(items) // 2
    return _("{items}, {more}", items=comma_list(items[:middle]), more=comma_list(items[middle:]))


def selector_text(selector: Selector) -> str:
    """`Selector.describe` in the reader's language: `app=web, tier in (a, b)`, `has team`."""
    if selector.is_empty:
        return _("everything")
    return comma_list([requirement_words(r) for r in selector.requirements])


def requirement_words(requirement: Requirement, *, as_labels: bool = False) -> str:
    """`Requirement.describe` in the reader's language: `app=web`, `has team`, `no team`
    (`as_labels`: `any team label`, `no team label`, for "pods labelled ...")."""
    values = ", ".join(sorted(requirement.values))
    if requirement.operator == "In":
        if len(requirement.values) == 1:
            return f"{requirement.key}={values}"
        return _("{key} in ({values})", key=requirement.key, values=values)
    if requirement.operator == "NotIn":
        return _("{key} not in ({values})", key=requirement.key, values=values)
    if requirement.operator == "Exists":
        if as_labels:
            return _("any {key} label", key=requirement.key)
        return _("has {key}", key=requirement.key)
    if as_labels:
        return _("no {key} label", key=requirement.key)
    return _("no {key}", key=requirement.key)


class LabelIndex:
    """Many label sets indexed so a selector is evaluated on all of them in a few numpy ops."""

    def __init__(self, label_sets: Sequence[Mapping[str, str]]) -> None:
        self.size = len(label_sets)
        self._by_pair: dict[tuple[str, str], np.ndarray] = {}
        self._by_key: dict[str, np.ndarray] = {}
        positions_by_pair: dict[tuple[str, str], list[int]] = {}
        for position, labels in enumerate(label_sets):
            for key, value in labels.items():
                positions_by_pair.setdefault((key, value), []).append(position)
        for pair, positions in positions_by_pair.items():
            mask = np.zeros(self.size, dtype=bool)
            mask[positions] = True
            self._by_pair[pair] = mask
            key_mask = self._by_key.get(pair[0])
            self._by_key[pair[0]] = mask.copy() if key_mask is None else key_mask | mask
        self._cache: dict[Selector, np.ndarray] = {}

    def _pair(self, key: str, value: str) -> np.ndarray | None:
        return self._by_pair.get((key, value))

    def _has_key(self, key: str) -> np.ndarray:
        mask = self._by_key.get(key)
        return mask if mask is not None else np.zeros(self.size, dtype=bool)

    def _any_value(self, key: str, values: frozenset[str]) -> np.ndarray:
        result = np.zeros(self.size, dtype=bool)
        for value in values:
            mask = self._pair(key, value)
            if mask is not None:
                result |= mask
        return result

    def evaluate(self, selector: Selector) -> np.ndarray:
        """Boolean mask of the label sets `selector` matches (cached; do not modify it)."""
        cached = self._cache.get(selector)
        if cached is not None:
            return cached
        result = np.ones(self.size, dtype=bool)
        for requirement in selector.requirements:
            if requirement.operator == "In":
                result &= self._any_value(requirement.key, requirement.values)
            elif requirement.operator == "NotIn":
                result &= ~self._any_value(requirement.key, requirement.values)
            elif requirement.operator == "Exists":
                result &= self._has_key(requirement.key)
            else:
                result &= ~self._has_key(requirement.key)
        result.flags.writeable = False
        self._cache[selector] = result
        return result
