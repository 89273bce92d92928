"""The one validation path for NetworkPolicy documents a user writes: the policy editor, file
uploads, what-if drafts, allowlist YAML and reverts all report the same problems, in the same
words, at the same line.

Two stages, in the order kube-apiserver applies them: the schema (unknown fields, wrong types:
what strict field validation refuses) and then the API server's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from isolation.fielderrors import UNKNOWN_FIELD
from isolation.netpol.validation import (
    parse_field_path,
    unknown_fields,
    validate_network_policy,
    validate_typed_network_policy,
)
from isolation.yamlio import Document, locate, locate_key


@dataclass(frozen=True)
class Problem:
    """A refused field: its position in the document, its path and a message a user acts on."""

    line: int
    column: int
    field: str
    message: str


def schema_problems(document: Document) -> list[Problem]:
    """Unknown fields (at their key) and values of the wrong type (at the value)."""
    problems = []
    for issue in unknown_fields(document.data):
        if issue.reason == UNKNOWN_FIELD:
            line, column = locate_key(document.node, parse_field_path(issue.field))
            message = (f'Unknown field "{issue.field}": it is not part of the NetworkPolicy '
                       "schema and the API server would drop it. Check its spelling and "
                       "indentation.")
        else:
            line, column = position(document, issue.field)
            message = f"{issue.field}: {issue.message}"
        problems.append(Problem(line, column, issue.field, message))
    return problems


def rule_problems(document: Document, obj: dict[str, Any] | None = None, *,
                  typed: bool = False) -> list[Problem]:
    """What kube-apiserver's validation refuses in `obj` (the document's data by default,
    e.g. without server-set fields), each at its line in the document. `typed`: the caller
    found no `schema_problems` in the document, so no value of `obj` has a wrong type and the
    types are not checked again (the same problems, found faster)."""
    data = document.data if obj is None else obj
    issues = validate_typed_network_policy(data) if typed else validate_network_policy(data)
    return [Problem(*position(document, issue.field), issue.field,
                    f"{issue.field}: {issue.message}") for issue in issues]


def position(document: Document, path: str) -> tuple[int, int]:
    """Line and column of `path` in the document (its start when the path is not there)."""
    if not path or path == "<root>":
        mark = document.node.start_mark
        return mark.line + 1, mark.column + 1
    return locate(document.node, parse_field_path(path))
