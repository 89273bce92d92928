"""NetworkPolicies parsed for the engine with the rules they share with earlier reads.

A review of an edit to a large policy reads the policy twice (live and as the draft changes
it), and the next review of the draft edited once more reads nearly the same rules again. A
rule is immutable once parsed, so one equal to a rule read before (the same rule as written,
in the same place) is taken as it was parsed then: each distinct rule is parsed once per
process, and everything later kept by rule (its Calico conversion, see
`isolation.calico.kubernetes`) is found for the very same object.
"""

from __future__ import annotations

import dataclasses
import marshal
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from isolation.netpol.model import EGRESS, INGRESS, Policy, Rule, parse_policy

# Rules kept: the rules of the policies a review reads live (`LIVE_POLICIES` keeps up to
# 40,000) and those of a draft as large as the editor takes (a 1 MiB draft holds about 15,000).
RULES_KEPT = 60_000

# (direction, index in the policy, the rule as written in marshal's bytes)
_Key = tuple[str, int, bytes]


class ParsedRules:
    """Parsed rules by what they were parsed from; the `size` last used are kept.
    Thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._rules: OrderedDict[_Key, Rule] = OrderedDict()
        self._lock = threading.Lock()

    def rules(self, direction: str, written: Any, name: str) -> tuple[Rule, ...]:
        """The rules `parse_policy` makes of the list `written` of a policy's `direction`
        (`name` only names the policy in an error), each equal rule taken as read before."""
        if not isinstance(written, list) or not written:
            return _parse(direction, written, name)
        keys = [_key(direction, index, rule) for index, rule in enumerate(written)]
        with self._lock:
            found = [self._rules.get(key) if key is not None else None for key in keys]
            for key, rule in zip(keys, found, strict=True):
                if rule is not None:
                    self._rules.move_to_end(key)   # type: ignore[arg-type]
        missing = [index for index, rule in enumerate(found) if rule is None]
        if missing:
            parsed = _parse(direction, [written[index] for index in missing], name)
            with self._lock:
                for index, rule in zip(missing, parsed, strict=True):
                    rule = dataclasses.replace(rule, index=index) if rule.index != index \
                        else rule
                    found[index] = rule
                    if keys[index] is not None:
                        self._rules[keys[index]] = rule  # type: ignore[index]
                while len(self._rules) > self.size:
                    self._rules.popitem(last=False)
        return tuple(found)   # type: ignore[arg-type]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def __len__(self) -> int:
        return len(self._rules)


def _key(direction: str, index: int, rule: Any) -> _Key | None:
    """The rule's key, None for one holding a value marshal does not write (such as a date):
    equal bytes read back as equal values, so two rules of one key parse the same."""
    try:
        return direction, index, marshal.dumps(rule, 2)
    except ValueError:
        return None


def _parse(direction: str, written: Any, name: str) -> tuple[Rule, ...]:
    policy = parse_policy({"metadata": {"name": name}, "spec": {direction: written}})
    return policy.rules(direction)


PARSED_RULES = ParsedRules(RULES_KEPT)


def parse_reusing_rules(obj: Mapping[str, Any]) -> Policy:
    """`parse_policy(obj)` of a defaulted and validated NetworkPolicy (an equal Policy), its
    rules taken from `PARSED_RULES` where an equal rule was read before at the same place.
    Raises what `parse_policy` raises."""
    spec = obj.get("spec") or {}
    outline = parse_policy({**obj, "spec": {k: v for k, v in spec.items()
                                            if k not in (INGRESS, EGRESS)}})
    return dataclasses.replace(
        outline, ingress=PARSED_RULES.rules(INGRESS, spec.get(INGRESS), outline.name),
        egress=PARSED_RULES.rules(EGRESS, spec.get(EGRESS), outline.name), source=dict(obj))
