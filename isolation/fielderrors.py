"""Field-level validation errors shaped like kube-apiserver's `field.Error`.

`FieldIssue.message` is what the API server puts in a Status cause (`ErrorBody()`: type, the
bad value, then the detail), `detail` is the bare explanation, and `str(issue)` is the
`field: message` line `kubectl` prints. Values (and huge keys in field paths) are quoted
through `clip_value` / `clip`: at most MAX_QUOTED characters, then `... (N characters)`, so a
megabyte-long label value cannot flood an error page, a log line or a terminal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

INVALID = "FieldValueInvalid"
REQUIRED = "FieldValueRequired"
NOT_SUPPORTED = "FieldValueNotSupported"
FORBIDDEN = "FieldValueForbidden"
TYPE_INVALID = "FieldValueTypeInvalid"
# Not a kube-apiserver cause type: the server drops unknown fields with a warning
# (`unknown field "spec.foo"`), or refuses them under strict field validation.
UNKNOWN_FIELD = "FieldValueUnknown"

MAX_QUOTED = 120

_BODY_PREFIX = {
    INVALID: "Invalid value",
    TYPE_INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
}


@dataclass(frozen=True)
class FieldIssue:
    """One problem with one field of an API object."""

    field: str
    message: str
    reason: str
    value: object = None
    detail: str = ""

    def __str__(self) -> str:
        return f"{clip(self.field)}: {self.message}"


def clip(text: str, limit: int = MAX_QUOTED) -> str:
    """`text` itself when short, else its first `limit` characters and `... (N characters)`."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def clip_value(value: object, limit: int = MAX_QUOTED) -> str:
    """`value` quoted for a message (`format_value`), showing at most `limit` characters of it.

    A long string shows its first `limit` characters in quotes, then `... (N characters)` with
    N its full length; other long values are rendered, then clipped the same way.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return json.dumps(value, ensure_ascii=False)
        return f"{json.dumps(value[:limit], ensure_ascii=False)}... ({len(value):,} characters)"
    return clip(_render(value), limit)


def format_value(value: object) -> str:
    """A bad value printed the way the API server prints it in error messages, clipped to
    MAX_QUOTED characters (`clip_value`)."""
    return clip_value(value)


def _render(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[]string{" + ", ".join(clip_value(item) for item in value) + "}"
    return json.dumps(value, default=str, ensure_ascii=False)


def _issue(reason: str, field: str, detail: str, value: object = None, *,
           show_value: bool = True) -> FieldIssue:
    if reason in _BODY_PREFIX:
        body = _BODY_PREFIX[reason]
        if show_value:
            body += f": {format_value(value)}"
    elif reason == REQUIRED:
        body = "Required value"
    elif reason == FORBIDDEN:
        body = "Forbidden"
    else:
        body = ""
    message = f"{body}: {detail}" if body and detail else (body or detail)
    return FieldIssue(field=field, message=message, reason=reason, value=value, detail=detail)


def invalid(field: str, value: object, detail: str) -> FieldIssue:
    return _issue(INVALID, field, detail, value)


def required(field: str, detail: str = "") -> FieldIssue:
    return _issue(REQUIRED, field, detail)


def forbidden(field: str, detail: str) -> FieldIssue:
    return _issue(FORBIDDEN, field, detail)


def not_supported(field: str, value: object, supported: list[str]) -> FieldIssue:
    detail = "supported values: " + ", ".join(json.dumps(item) for item in supported)
    return _issue(NOT_SUPPORTED, field, detail, value)


def type_invalid(field: str, value: object, expected: str) -> FieldIssue:
    return _issue(TYPE_INVALID, field, f"must be of type {expected}", value)


def unknown_field(field: str) -> FieldIssue:
    return FieldIssue(field=field, message=f"unknown field {clip_value(field)}", reason=UNKNOWN_FIELD,
                      detail="not a field of networking.k8s.io/v1 NetworkPolicy")
