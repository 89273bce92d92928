"""Concurrent edits of a policy: the base an edit started from, and the three-way merge.

The editor carries the object it started from (its base) in a hidden field signed with
django.core.signing, so a posted base is always one the console itself handed out for this
policy at that resourceVersion. When an edit turns out stale (the live object moved on), the
draft is merged onto the live version field by field (isolation.netpol.merge): changes on one
side are kept automatically, and each field both sides changed differently is shown with its
base, their and your value until the user chooses one. Nothing of the other change is dropped
unless the user chooses so, field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing

from console.core.audit import clean
from console.policies.text import live_yaml, side_by_side
from isolation.netpol.merge import CHOICES, MergeResult, describe_value, three_way_merge

SALT = "console.policies.edit-base"
CHOICE_PREFIX = "choice:"
MAX_CHOICES = 500


def sign_base(policy: dict[str, Any]) -> str:
    """The signed base of an edit of `policy` (the live object the editor starts from)."""
    meta = policy.get("metadata") or {}
    return signing.dumps({"target": [meta.get("namespace", ""), meta.get("name", "")],
                          "version": meta.get("resourceVersion", ""), "object": clean(policy)},
                         salt=SALT, compress=True)


def read_base(token: str, target: tuple[str, str] | None,
              base_version: str) -> dict[str, Any] | None:
    """The base object `token` carries, if it is genuine, of `target`, at `base_version`;
    None otherwise (the merge then treats every difference as a conflict)."""
    if not token or not target or not base_version:
        return None
    try:
        data = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or list(data.get("target") or []) != list(target) or \
            data.get("version") != base_version or not isinstance(data.get("object"), dict):
        return None
    return data["object"]


def choices_of(post) -> dict[str, str]:
    """The per-field choices a conflict form posted: {path: "theirs" | "mine"}."""
    choices: dict[str, str] = {}
    for key in list(post.keys())[:MAX_CHOICES * 2]:
        if key.startswith(CHOICE_PREFIX) and post.get(key) in CHOICES:
            choices[key[len(CHOICE_PREFIX):]] = post.get(key)
    return choices


@dataclass(frozen=True)
class ConflictRow:
    """One conflicting field as the page shows it."""

    path: str
    base: str
    theirs: str
    mine: str
    choice: str

    @property
    def input_name(self) -> str:
        return f"{CHOICE_PREFIX}{self.path}"


def merge(base: dict[str, Any] | None, live: dict[str, Any], draft: dict[str, Any],
          choices: dict[str, str] | None = None) -> MergeResult:
    """`draft` (edited from `base`) merged onto `live`, server-set fields left out."""
    return three_way_merge(clean(base) if base is not None else None, clean(live), clean(draft),
                           choices=choices)


def merged_yaml(result: MergeResult) -> str:
    return live_yaml(result.merged)


def conflict_context(*, base: dict[str, Any] | None, base_token: str, base_version: str,
                     live: dict[str, Any], draft_text: str, draft: dict[str, Any] | None,
                     choices: dict[str, str] | None = None) -> dict[str, Any]:
    """What templates/policies/_conflict.html shows for a stale edit of `live`."""
    context: dict[str, Any] = {
        "live_yaml": live_yaml(live),
        "live_version": live["metadata"].get("resourceVersion", ""),
        "base_token": base_token, "base_version": base_version, "base_known": base is not None,
        "draft": draft_text,
    }
    if draft is None:  # an unreadable draft: only the two texts can be compared
        context["conflict_diff"] = side_by_side(context["live_yaml"], draft_text)
        return context
    result = merge(base, live, draft, choices)
    context.update(
        merge=result,
        conflict_rows=[ConflictRow(c.path, describe_value(c.base), describe_value(c.theirs),
                                   describe_value(c.mine), c.choice) for c in result.conflicts],
        merged_yaml=merged_yaml(result),
        conflict_diff=side_by_side(context["live_yaml"], merged_yaml(result)))
    return context
