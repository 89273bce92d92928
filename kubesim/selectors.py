"""Label and field selectors in the query-string syntax of the Kubernetes API."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from isolation.netpol.formats import label_value_errors, qualified_name_errors
from kubesim.errors import bad_request

Predicate = Callable[[dict[str, Any]], bool]
_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|>|<|[^\s!=(),<>]+)")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            break
        out.append(match.group(1))
        pos = match.end()
        if not text[pos:].strip():
            break
    return out


def _check_key(key: str, text: str) -> None:
    problems = qualified_name_errors(key)
    if problems:
        raise bad_request(f"unable to parse requirement: values[0][{key}]: Invalid value: "
                          f"{key!r}: {problems[0]} (selector {text!r})")


def _check_value(value: str, text: str) -> None:
    problems = label_value_errors(value)
    if problems:
        raise bad_request(f"unable to parse requirement: Invalid value: {value!r}: {problems[0]} "
                          f"(selector {text!r})")


def parse_label_selector(text: str | None) -> Predicate:
    """A predicate on objects for a labelSelector string; 400 BadRequest when it cannot be parsed.

    Supports =, ==, !=, in, notin, exists, !exists, > and < exactly as kube-apiserver does;
    `notin`, `!=` and `!key` match objects without the key.
    """
    if not text or not text.strip():
        return lambda obj: True
    tokens = _tokens(text)
    requirements: list[Callable[[dict[str, str]], bool]] = []
    pos = 0

    def fail(why: str) -> None:
        raise bad_request(f"unable to parse requirement: {why} (selector {text!r})")

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            fail("found '', expected more input")
        pos += 1
        return tokens[pos - 1]

    def take_value() -> str:
        # `key=` (nothing before the next comma) selects the empty value
        if pos >= len(tokens) or tokens[pos] == ",":
            return ""
        return take()

    while pos < len(tokens):
        token = take()
        if token == "!":
            key = take()
            _check_key(key, text)
            requirements.append(lambda labels, k=key: k not in labels)
        else:
            key = token
            if key in ("=", "==", "!=", "(", ")", ",", ">", "<"):
                fail(f"found '{key}', expected: identifier")
            _check_key(key, text)
            op = tokens[pos] if pos < len(tokens) else ","
            if op == ",":
                requirements.append(lambda labels, k=key: k in labels)
            else:
                pos += 1
                requirements.append(_operator(key, op, take, take_value, fail, text))
        if pos < len(tokens):
            if tokens[pos] != ",":
                fail(f"found '{tokens[pos]}', expected: ',' or 'end of string'")
            pos += 1
            if pos >= len(tokens):
                fail("found '', expected: identifier after ','")

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(req(labels) for req in requirements)

    return matches


def _operator(key: str, op: str, take: Callable[[], str], take_value: Callable[[], str],
              fail: Callable[[str], None], text: str) -> Callable[[dict[str, str]], bool]:
    if op in ("=", "=="):
        value = take_value()
        _check_value(value, text)
        return lambda labels: labels.get(key) == value
    if op == "!=":
        value = take_value()
        _check_value(value, text)
        return lambda labels: labels.get(key) != value
    if op in ("in", "notin"):
        if take() != "(":
            fail(f"found '{op}' without '(': expected '(' after '{op}'")
        values: set[str] = set()
        while True:
            token = take()
            if token == ")":
                break
            if token == ",":
                continue
            _check_value(token, text)
            values.add(token)
            following = take()
            if following == ")":
                break
            if following != ",":
                fail(f"found '{following}', expected: ',' or ')'")
        if not values:
            fail(f"for '{op}' operator, values set can't be empty")
        if op == "in":
            return lambda labels: key in labels and labels[key] in values
        return lambda labels: labels.get(key) not in values
    if op in (">", "<"):
        bound = take()
        if not re.fullmatch(r"-?\d+", bound):
            fail(f"for '{op}' operator, the value must be an integer")
        limit = int(bound)

        def compare(labels: dict[str, str]) -> bool:
            value = labels.get(key)
            if value is None or not re.fullmatch(r"-?\d+", value):
                return False
            return int(value) > limit if op == ">" else int(value) < limit
        return compare
    fail(f"found '{op}', expected: '=', '!=', '==', 'in', notin'")
    raise AssertionError("unreachable")


def field_value(obj: dict[str, Any], path: str) -> str:
    """The string form of a selectable field (booleans as true/false, missing as "")."""
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_field_selector(text: str | None, supported: tuple[str, ...]) -> Predicate:
    """A predicate for a fieldSelector string over `supported` fields (plus metadata.name/namespace).

    Unsupported fields and malformed terms answer 400 BadRequest, as kube-apiserver does.
    """
    if not text or not text.strip():
        return lambda obj: True
    allowed = ("metadata.name", "metadata.namespace", *supported)
    terms: list[tuple[str, bool, str]] = []
    for term in text.split(","):
        term = term.strip()
        match = re.fullmatch(r"([^=!\s]+)\s*(==|=|!=)\s*(.*)", term)
        if not match:
            raise bad_request(f"invalid selector: {text!r}; can't understand {term!r}")
        path, op, value = match.groups()
        if path not in allowed:
            raise bad_request(f'field label not supported: {path} ("{path}" is not a known field selector: '
                              f'only {", ".join(repr(a) for a in allowed)})')
        terms.append((path, op != "!=", value))

    def matches(obj: dict[str, Any]) -> bool:
        return all((field_value(obj, path) == value) == equal for path, equal, value in terms)

    return matches
