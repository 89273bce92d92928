"""Blocks the fast YAML reader (`isolation.yamlfast`) checks without building them: where
a block ends (found by search in the text), and whether its lines are of kubectl's usual
shapes with no duplicate key (`check_block`, once per shape: `shape_of`).
"""

from __future__ import annotations

import functools
import re

from isolation.yamlfast_scalars import (
    RESOLVED_KEYS,
    UNSAFE_PLAIN_START,
    Doubt,
    may_not_construct,
    plain,
)

MAX_SEARCHED_INDENT = 40


@functools.cache
def less_deep(indent: int) -> re.Pattern[str]:
    """The newline before the first line that does not start deeper than `indent`."""
    return re.compile(f"\n(?! {{{indent + 1}}})")


@functools.cache
def sequence_end(indent: int) -> re.Pattern[str]:
    """The newline before the first line that is neither deeper than `indent` nor an item
    of a sequence at `indent`."""
    return re.compile(f"\n(?! {{{indent + 1}}}| {{{indent}}}- )")


def block_end(lines: list[str], start: int, n: int, parent: int) -> int:
    """The index of the first line from `start` that does not belong to the block value of a
    key at indent `parent`: not deeper, nor (a sequence at the key's indent) an item."""
    deeper, same = " " * (parent + 1), " " * parent + "- "
    end = start
    while end < n and lines[end].startswith(deeper):
        end += 1
    if end == start and end < n and lines[end].startswith(same):
        while end < n and (lines[end].startswith(same) or lines[end].startswith(deeper)):
            end += 1
    return end


# a one-line value `check_block` accepts whatever it is: a plain scalar without ": ", a
# trailing space or colon, quotes or backslashes, that is sure to construct (not `0b`, `0x` or
# a date: `may_not_construct`); a single- or double-quoted one without either (possessive:
# the alternatives never overlap, so no match is lost, and runs go at C speed)
_PLAIN_FORM = r"""[A-Za-z0-9](?:[^\n"'\\: ]++|:(?=[^ \n])| ++(?=[^ \n]))*+"""
_QUOTED_FORM = r"'[^'\n]*+'" + "|" + r'"[^"\\\n]*+"'
SAFE = f"(?:(?!0[bx]|[0-9]{{4}}-){_PLAIN_FORM}|{_QUOTED_FORM})"
# the same, but for what it may construct to: a one-line value that reads as any safe one
SAFE_FORM = f"(?:{_PLAIN_FORM}|{_QUOTED_FORM})"
SAFE_VALUE = re.compile(f"(?m): {SAFE}$")
CHECKED_SHAPES: set[tuple[int, int, str]] = set()
# a managedFields key naming one element of a list (`k:{"name":"web"}: {}`), ASCII without
# spaces: always a plain string, whichever element it names. The patterns of lines start with
# the newline before the line (the text searched starts with one): a pattern that starts with
# a character is searched for at C speed, one that starts with `^` tried at every position.
_FIELDS_KEY = re.compile(r"\n( *+)(k:\{[!-~]*\})(?=:(?: \{\})?(?:\n|\Z))")


def shape_of(block: str) -> str:
    """`block` with what does not change whether `check_block` (or `nested`, not building)
    accepts it left out: safe one-line values and, when none of them is a duplicate, the
    element keys of managedFields (a newline first: one shape per block all the same)."""
    lines = "\n" + block
    shape = SAFE_VALUE.sub(": v", lines)
    if "k:{" in shape and _element_keys_differ(lines):
        shape = _FIELDS_KEY.sub(r"\n\1k:K", shape)
    return shape


# any key such as those (whatever its value, first in an item or not), with its indent
_ELEMENT_KEY = re.compile(r"\n( *+(?:- )?)(k:\{[!-~]*\}):(?= |\n|\Z)")


def _element_keys_differ(text: str) -> bool:
    """Whether no element key of `text` (lines after a newline each) is written twice in one
    mapping: between two of the same indent and text, a line less indented ends the first
    one's mapping."""
    keys = _ELEMENT_KEY.findall(text)
    if len({(len(indent), key) for indent, key in keys}) == len(keys):
        return True   # the usual case: no two alike at all
    seen: dict[tuple[int, str], int] = {}
    for match in _ELEMENT_KEY.finditer(text):
        indent, key = len(match.group(1)), match.group(2)
        before = seen.get((indent, key))
        # (the lines after the first one's, up to the newline before the second one's)
        if before is not None and not (
                indent and _shallower(indent).search(text, before + 1, match.start())):
            return False
        seen[(indent, key)] = match.start()
    return True


@functools.cache
def _shallower(indent: int) -> re.Pattern[str]:
    """A line that starts less indented than `indent` (> 0), blank lines aside."""
    return re.compile(f"\n {{0,{indent - 1}}}[^ \n]")
CHECKED_BLOCKS: set[tuple[int, int, str]] = set()


class Slow(Exception):
    """`check_block` met a shape it does not know: check the block the slower way."""


def check_block(lines: list[str], i: int, n: int, parent: int, levels: int) -> int:
    """The index of the line after the block value of a key at indent `parent` (its line ends
    before line `i`); raises Doubt for a duplicate key, Slow for any line that is not a
    `key:`, `key: value`, `- ...` or blank line of a block nested at most `levels` deep."""
    frames: list[tuple[int, set[str] | None]] = []   # (indent, keys) of a mapping, None: a list
    top_indent, keys = -1, None
    opener, opener_is_key = parent, True   # a line that ended with ":" or "-"
    keys_ok = RESOLVED_KEYS
    while i < n:
        line = lines[i]
        s = line.lstrip(" ")
        if not s:
            i += 1
            continue
        ind = len(line) - len(s)
        item = s[0] == "-" and (s[:2] == "- " or s == "-")
        if opener >= 0:
            if ind > opener:
                top_indent, keys = ind, None if item else set()
                frames.append((top_indent, keys))
                if len(frames) * 2 >= levels:
                    raise Slow
            elif ind == opener and item and opener_is_key:
                top_indent, keys = ind, None
                frames.append((ind, None))
            opener = -1
        if top_indent != ind or (keys is None) != item:
            while frames and (frames[-1][0] > ind or frames[-1][0] == ind and not item
                              and frames[-1][1] is None):
                frames.pop()
            if not frames:
                if ind > parent:
                    raise Slow
                return i
            top_indent, keys = frames[-1]
            if top_indent != ind or (keys is None) != item:
                raise Slow
        if item:
            rest = s[2:]
            if not rest:
                opener, opener_is_key = ind, False
                i += 1
                continue
            if rest[0] in " -#":
                raise Slow
            key, sep, value = rest.partition(": ")
            if not sep and rest[-1] == ":":
                key, value, sep = rest[:-1], "", ":"
            if not sep:
                _check_scalar(rest)
                i += 1
                continue
            ind += 2
            top_indent, keys = ind, set()
            frames.append((ind, keys))
            if key not in keys_ok:
                _check_key(key)
            keys.add(key)
        else:
            if s[0] == "#":
                raise Slow
            key, sep, value = s.partition(": ")
            if not sep:
                if s[-1] != ":":
                    raise Slow
                key, value = s[:-1], ""
            if key not in keys_ok:
                _check_key(key)
            if key in keys:   # type: ignore[operator]
                raise Doubt
            keys.add(key)   # type: ignore[union-attr]
        if value:
            if not (value[0].isalnum() and value[-1] not in ": " and ": " not in value):
                _check_scalar(value)
            elif value[0] <= "9" and may_not_construct(value):
                plain(value)   # Doubt when the careful reader would refuse it
        else:
            opener, opener_is_key = ind, True
        i += 1
    return i


def _check_key(key: str) -> None:
    try:
        resolved = plain(key)
    except Doubt:
        raise Slow from None
    if not isinstance(resolved, str) or resolved != key:
        raise Slow
    if len(RESOLVED_KEYS) < 200_000:
        RESOLVED_KEYS.add(key)


def _check_scalar(value: str) -> None:
    """Raise Slow unless `value` is a one-line scalar the fast reader would accept."""
    first = value[0]
    if first == "'":
        if len(value) < 2 or value[-1] != "'" or "'" in value[1:-1].replace("''", ""):
            raise Slow
    elif first == '"':
        if len(value) < 2 or value[-1] != '"' or "\\" in value or '"' in value[1:-1]:
            raise Slow
    elif first in "{[":
        if value not in ("{}", "[]"):
            raise Slow
    elif (first in UNSAFE_PLAIN_START or value[-1] in ": " or ": " in value
          or " #" in value):
        raise Slow
    elif may_not_construct(value):
        plain(value)   # Doubt when the careful reader would refuse it
