"""Scalars of the fast YAML reader (`isolation.yamlfast`): what in a text it does not know
(`doubtful`), plain scalars as PyYAML's safe loader resolves them (`plain`, memoised), and
continuation lines folded as YAML folds them. `Doubt` means: take the careful path.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from isolation.yamlio import STR_TAG

# characters PyYAML refuses, and those it reads as line breaks (NEL, LS, PS): the fast reader
# breaks lines at "\n" only
_NON_PRINTABLE = re.compile(
    "[^\x09\x0A\x20-\x7E\xA0-\u2027\u202A-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_ASCII_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\n"
# What the fast reader does not know, by a character each needs (a single-character `in` is a
# memchr; the pattern runs only when its character is in the text at all).
_DOUBTFUL = (("&", re.compile(r"(^|[ \[{,])&", re.M)), ("*", re.compile(r"(^|[ \[{,])\*", re.M)),
             ("!", re.compile(r"(^|[ \[{,])!", re.M)), ("#", re.compile(r"\S[ ]+#|^ +#", re.M)),
             ("\t", re.compile("\t")), ("\r", re.compile("\r")), ("<", re.compile("<<")),
             ("?", re.compile(r"^[ -]*\?( |$)", re.M)), ("%", re.compile("^%", re.M)),
             ("\n...", re.compile(r"^\.\.\.", re.M)))


# the printable ASCII characters but those `_DOUBTFUL` looks for
_ASCII_PLAIN = bytes(set(_ASCII_PRINTABLE) - {ord(char) for char, _ in _DOUBTFUL if len(char) == 1})


def doubtful(text: str) -> bool:
    """True when `text` has a character PyYAML refuses, or YAML the fast reader does not know."""
    present: bytes | str = text
    if text.isascii():
        # what is left once the plain characters are deleted: the others, found in one pass
        present = text.encode("ascii").translate(None, _ASCII_PLAIN).decode("ascii")
        if present.translate(_DOUBTFUL_CHARS):
            return True   # a control character
    elif _NON_PRINTABLE.search(text):
        return True
    return (text[:1] in ("%", ".") or any(
        (char in present if len(char) == 1 else char in text) and pattern.search(text)
        for char, pattern in _DOUBTFUL))


_DOUBTFUL_CHARS = dict.fromkeys(ord(char) for char, _ in _DOUBTFUL if len(char) == 1)


_SAFE_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*\Z")
UNSAFE_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
JSON_STRING = json.JSONDecoder(strict=False)


class Doubt(Exception):
    """The fast reader is not sure: take the careful path."""


RESOLVED: dict[str, Any] = {}
UNRESOLVED = object()


def plain(value: str) -> Any:
    """A plain scalar as PyYAML's safe loader constructs it (memoised)."""
    try:
        return RESOLVED[value]
    except KeyError:
        pass
    if (not value or value != value.strip(" ") or value[-1] == ":" or ": " in value
            or " #" in value or (value[0] in UNSAFE_PLAIN_START
                                 and not (value[0] in "-?:" and value[1:2] not in ("", " ")))):
        raise Doubt
    if _SAFE_PLAIN.match(value) and value.lower() not in _BOOL_NULL:
        result: Any = value
    else:
        node = yaml.ScalarNode(_RESOLVER.resolve(yaml.ScalarNode, value, (True, False)), value)
        if node.tag == STR_TAG:
            result = value
        else:
            try:
                result = _CONSTRUCTOR.construct_object(node, deep=True)
            except Exception:   # PyYAML's error, with its line, on the careful path
                raise Doubt from None
            if isinstance(result, (list, dict)) or node.tag not in _SCALAR_TAGS:
                raise Doubt
    if len(RESOLVED) < 100_000:
        RESOLVED[value] = result
    return result


_BOOL_NULL = frozenset(("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"))
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in (
    "str", "int", "float", "bool", "null", "timestamp"))
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

# keys seen to be plain strings of themselves
RESOLVED_KEYS: set[str] = set()


def may_not_construct(value: str) -> bool:
    """Whether the plain scalar `value`, said to be one the careful reader accepts, may yet
    fail to construct there: an integer with a `0b` or `0x` prefix (`0x_` has no digits) or
    what may be a date (`2026-13-45`). Nothing else one that starts with a letter or digit
    can fail; these are resolved (`plain`) even when not built."""
    return value[:1].isdigit() and (value[:2] in ("0b", "0x")
                                    or value[4:5] == "-" and value[:4].isdigit())


def is_key_line(text: str) -> bool:
    if text[0] in "'\"{[|>":
        return False
    key, sep, _ = text.partition(": ")
    return bool(sep) or (text.endswith(":") and " " not in text)


def json_escapes(text: str) -> bool:
    return re.search(r'\\[^"\\/bfnrtu]', text) is None


def fold(parts: list[str]) -> str:
    """Continuation lines joined as YAML folds a flow scalar: a line break is a space, an
    empty line a newline."""
    if len(parts) == 1:
        return parts[0].rstrip(" ")
    out = [parts[0].rstrip(" ")]
    pending_newlines = 0
    for part in parts[1:]:
        if not part:
            pending_newlines += 1
            continue
        out.append("\n" * pending_newlines if pending_newlines else " ")
        out.append(part.rstrip(" "))
        pending_newlines = 0
    return "".join(out)
