"""A fast reader for the YAML kubectl prints.

`kubectl get -o yaml` prints a small, regular part of YAML: block mappings and sequences,
plain, quoted and literal scalars, `{}` and `[]`. `fast_load_documents` reads exactly that
part line by line (several times faster than composing PyYAML nodes) and gives up, returning
None, on anything else: anchors, aliases, tags, merge keys, comments, flow collections, tabs,
`\r`, characters PyYAML refuses, a duplicate key, nesting deeper than MAX_DEPTH, a scalar it
is not sure to resolve as PyYAML does. The caller then takes the careful path
(`load_documents`), which reads everything and reports every refusal with its line, so every
guarantee of `isolation.yamlio` holds on both paths. Subtrees the caller does not want (`skip`) are checked
(structure, duplicate keys, depth) but never built.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from isolation.yamlio import MAX_DEPTH, STR_TAG

_NON_PRINTABLE = re.compile("[^\x09\x0A\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_ASCII_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\n"
# What the fast reader does not know, by the character each starts with (a single-character
# `in` is a memchr; the pattern runs only when its character is in the text at all).
_DOUBTFUL = (("&", re.compile(r"(^|[ \[{,])&", re.M)), ("*", re.compile(r"(^|[ \[{,])\*", re.M)),
             ("!", re.compile(r"(^|[ \[{,])!", re.M)), ("#", re.compile(r"\S[ ]+#|^ +#", re.M)),
             ("\t", re.compile("\t")), ("\r", re.compile("\r")), ("<", re.compile("<<")),
             ("? ", re.compile(r"^[ -]*\?( |$)", re.M)), ("\n%", re.compile("^%", re.M)),
             ("\n...", re.compile(r"^\.\.\.", re.M)))


def _doubtful(text: str) -> bool:
    """True when `text` has a character PyYAML refuses, or YAML the fast reader does not know."""
    if text.isascii():
        if text.encode("ascii").translate(None, _ASCII_PRINTABLE):
            return True
    elif _NON_PRINTABLE.search(text):
        return True
    return (text[:1] in ("%", ".")
            or any(char in text and pattern.search(text) for char, pattern in _DOUBTFUL))


_SAFE_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*\Z")
_UNSAFE_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_JSON_STRING = json.JSONDecoder(strict=False)


class _Doubt(Exception):
    """The fast reader is not sure: take the careful path."""


_resolved: dict[str, Any] = {}


def _plain(value: str) -> Any:
    """A plain scalar as PyYAML's safe loader constructs it (memoised)."""
    try:
        return _resolved[value]
    except KeyError:
        pass
    if (not value or value != value.strip(" ") or value[-1] == ":" or ": " in value
            or " #" in value or (value[0] in _UNSAFE_PLAIN_START
                                 and not (value[0] in "-?:" and value[1:2] not in ("", " ")))):
        raise _Doubt
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
                raise _Doubt from None
            if isinstance(result, (list, dict)) or node.tag not in _SCALAR_TAGS:
                raise _Doubt
    if len(_resolved) < 100_000:
        _resolved[value] = result
    return result


_BOOL_NULL = frozenset(("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"))
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in (
    "str", "int", "float", "bool", "null", "timestamp"))
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class _Lines:
    """The line parser over one document's lines; `skip` says which values not to build."""

    __slots__ = ("lines", "i", "n", "text", "mark_line", "mark_offset")

    def __init__(self, lines: list[str], text: str | None = None) -> None:
        self.lines, self.i, self.n = lines, 0, len(lines)
        # `text` is "\n".join(lines) when given: blocks not built are then found by search;
        # (mark_line, mark_offset): where a line starts, so that offsets need no table
        self.text, self.mark_line, self.mark_offset = text, 0, 0

    def offset(self, line: int) -> int:
        """Where line `line` starts in `text` (lines keep their lengths: an item's `- ` is
        only ever replaced by spaces)."""
        if line < self.mark_line:
            self.mark_line, self.mark_offset = 0, 0
        mark = self.mark_line
        offset = self.mark_offset + sum(map(len, self.lines[mark:line])) + (line - mark)
        self.mark_line, self.mark_offset = line, offset
        return offset

    def _next_content(self) -> tuple[int, str] | None:
        lines, i = self.lines, self.i
        while i < self.n:
            line = lines[i]
            stripped = line.lstrip(" ")
            if stripped and stripped[0] != "#":   # a whole-line comment is as a blank line
                self.i = i
                return len(line) - len(stripped), stripped
            i += 1
        self.i = i
        return None

    def block(self, indent: int, depth: int, skip: Any, build: bool) -> Any:
        """The block whose first line (at self.i) is indented by `indent`."""
        if depth > MAX_DEPTH:
            raise _Doubt
        first = self.lines[self.i][indent:]
        if first[:2] == "- " or first == "-":
            return self.sequence(indent, depth, skip, build)
        return self.mapping(indent, depth, skip, build)

    def nested(self, parent: int, depth: int, skip: Any, build: bool, in_map: bool) -> Any:
        """The value of a key or `-` that ends its line: a block below it, or null."""
        found = self._next_content()
        if found is None:
            return None
        indent, stripped = found
        if indent > parent:
            return self.block(indent, depth, skip, build)
        if in_map and indent == parent and (stripped[:2] == "- " or stripped == "-"):
            return self.sequence(indent, depth, skip, build)
        return None

    def sequence(self, indent: int, depth: int, skip: Any, build: bool) -> Any:
        result: list[Any] = []
        item_skip = skip[0] if isinstance(skip, list) else None
        while True:
            found = self._next_content()
            if found is None:
                break
            at, stripped = found
            if at != indent or not (stripped[:2] == "- " or stripped == "-"):
                if at > indent:
                    raise _Doubt
                break
            rest = stripped[2:].lstrip(" ")
            if not rest:
                self.i += 1
                item = self.nested(indent, depth + 1, item_skip, build, False)
            elif rest[:2] == "- " or rest == "-":
                raise _Doubt   # a sequence in a sequence: rare in kubectl output
            elif _is_key_line(rest):
                inner = len(self.lines[self.i]) - len(rest)
                self.lines[self.i] = " " * inner + rest
                item = self.mapping(inner, depth + 1, item_skip, build)
            else:
                item = self.scalar(rest, indent, build)
            if build:
                result.append(item)
        return result

    def mapping(self, indent: int, depth: int, skip: Any, build: bool) -> Any:
        result: dict[str, Any] = {}
        seen: set[str] = set()
        by_kind = skip if callable(skip) else None
        lines, n, own = self.lines, self.n, " " * indent
        while True:
            line = lines[self.i] if self.i < n else ""
            if line.startswith(own) and line[indent:indent + 1] not in " #-":
                stripped = line[indent:]   # the usual case: the next key of this mapping
            else:
                found = self._next_content()
                if found is None:
                    break
                at, stripped = found
                if at < indent:
                    break
                if at > indent or stripped[:2] == "- " or stripped == "-":
                    if at == indent and stripped[:1] == "-":
                        break
                    raise _Doubt
            key, sep, rest = stripped.partition(": ")
            if not sep:
                if stripped[-1:] != ":":
                    raise _Doubt
                key, rest = stripped[:-1], ""
            if key not in _resolved_keys:
                resolved = _plain(key)
                if not isinstance(resolved, str) or resolved != key:
                    raise _Doubt
                if len(_resolved_keys) < 200_000:
                    _resolved_keys.add(key)
            if key in seen:
                raise _Doubt   # the careful path names both lines
            seen.add(key)
            sub = skip.get(key) if by_kind is None and isinstance(skip, dict) else None
            keep = build and sub is not _SKIP
            rest = rest.lstrip(" ")
            if rest:
                value = self.scalar(rest, indent, keep)
            elif sub is _SKIP:
                self.i += 1
                value = self.skip_block(indent, depth + 1)
            else:
                self.i += 1
                value = self.nested(indent, depth + 1, sub, keep, True)
            if keep:
                result[key] = value
                if by_kind is not None and key == "kind" and isinstance(value, str):
                    skip = by_kind(value)
                    by_kind = None
        return result if build else None

    def scalar(self, text: str, indent: int, build: bool) -> Any:
        """The scalar that starts `text` on the current line (continuation lines included);
        leaves self.i after it."""
        lines = self.lines
        self.i += 1
        first = text[0]
        if first in "|>":
            return self.literal(text, indent)
        # continuation lines: more indented than the key, before the next structure
        parts = [text]
        deeper = " " * (indent + 1)
        while self.i < self.n:
            line = lines[self.i]
            if line.startswith(deeper):
                stripped = line.lstrip(" ")
                if stripped[:1] == "#":
                    raise _Doubt
            elif line and (line[-1] != " " or line.lstrip(" ")):
                break   # a line indented by `indent` or less
            else:
                stripped = ""
            parts.append(stripped)   # "" for an empty line
            self.i += 1
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
            self.i -= 1   # hmm: trailing empty lines belong to nobody
        if first == "'":
            value = _fold(parts)
            if len(value) < 2 or value[-1] != "'" or "'" in value[1:-1].replace("''", ""):
                raise _Doubt
            return value[1:-1].replace("''", "'")
        if first == '"':
            if len(parts) > 1 or "\\" in text and not _json_escapes(text):
                raise _Doubt
            if text[-1] != '"' or len(text) < 2:
                raise _Doubt
            try:
                value, end = _JSON_STRING.raw_decode(text)
            except ValueError:
                raise _Doubt from None
            if end != len(text):
                raise _Doubt
            return value
        if first in "{[":
            if text in ("{}", "[]") and len(parts) == 1:
                return {} if first == "{" else []
            raise _Doubt
        value = _fold(parts)
        return _plain(value) if build else None

    def skip_block(self, parent: int, depth: int) -> None:
        """Check, without building, the value of the key at indent `parent` whose line ended
        (self.i is the line after it): its end is searched for in the text, its lines checked
        in one flat pass over kubectl's usual shapes (once per shape); anything else is
        checked by `nested` (which may give up)."""
        start, lines, text = self.i, self.lines, self.text
        if text is None:
            end = _block_end(lines, start, self.n, parent)
            block = "\n".join(lines[start:end])
        else:
            begin = self.offset(start)
            # the value's lines start deeper than its key, or (a sequence) with "- " at its
            # key's indent; the first other line, blank ones included, ends it
            following = _LESS_DEEP[parent] if parent < len(_LESS_DEEP) else None
            if following is None or text.startswith(" " * parent + "- ", begin):
                end = _block_end(lines, start, self.n, parent)
                stop = self.offset(end)
            else:
                found = following.search(text, begin - 1) if begin else None
                stop = found.end() if found else self.offset(_block_end(lines, start,
                                                                         self.n, parent))
                end = start + text.count("\n", begin, stop)
                self.mark_line, self.mark_offset = end, stop
            block = text[begin:stop - 1] if stop > begin else ""
        # Blocks that differ only in plain or quoted one-line values (times, names, numbers)
        # check alike: one check per shape (the replicas of a Deployment share theirs).
        shape = (parent, depth, _SAFE_VALUE.sub(": v", block))
        if shape in _checked_shapes:
            self.i = end
            return
        try:
            if _check_block(lines, start, end, parent, MAX_DEPTH - depth) != end:
                raise _Slow
            self.i = end
            if len(_checked_shapes) < 4096:
                _checked_shapes.add(shape)
        except _Slow:
            self.i = start
            self.nested(parent, depth, None, False, True)

    def literal(self, header: str, indent: int) -> str:
        if header not in ("|", "|-"):
            raise _Doubt
        lines, body = self.lines, []
        block_indent = None
        while self.i < self.n:
            line = lines[self.i]
            stripped = line.lstrip(" ")
            if stripped:
                at = len(line) - len(stripped)
                if block_indent is None:
                    if at <= indent:
                        break
                    block_indent = at
                elif at < block_indent:
                    if at > indent:
                        raise _Doubt
                    break
                body.append(line[block_indent:])
            else:
                if len(line) > (block_indent or 0) and block_indent is not None:
                    body.append(line[block_indent:])
                else:
                    body.append("")
            self.i += 1
        while body and not body[-1]:
            body.pop()
            self.i -= 1
        text = "\n".join(body)
        return text + "\n" if header == "|" and body else text


_resolved_keys: set[str] = set()
# the newline before the first line that does not start deeper than indent k (k < 40)
_LESS_DEEP = tuple(re.compile(f"\n(?! {{{k + 1}}})") for k in range(40))


def _block_end(lines: list[str], start: int, n: int, parent: int) -> int:
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


# a one-line value `_check_block` accepts whatever it is: a plain scalar without ": ", a
# trailing space or colon, quotes or backslashes; a single- or double-quoted one without either
# (possessive: the alternatives never overlap, so no match is lost, and runs go at C speed)
_SAFE_VALUE = re.compile(r"""(?m): (?:[A-Za-z0-9](?:[^\n"'\\: ]++|:(?=[^ \n])| ++(?=[^ \n]))*+"""
                         r"""|'[^'\n]*+'|"[^"\\\n]*+")$""")
_checked_shapes: set[tuple[int, int, str]] = set()


class _Slow(Exception):
    """`_check_block` met a shape it does not know: check the block the slower way."""


def _check_block(lines: list[str], i: int, n: int, parent: int, levels: int) -> int:
    """The index of the line after the block value of a key at indent `parent` (its line ends
    before line `i`); raises _Doubt for a duplicate key, _Slow for any line that is not a
    `key:`, `key: value`, `- ...` or blank line of a block nested at most `levels` deep."""
    frames: list[tuple[int, set[str] | None]] = []   # (indent, keys) of a mapping, None: a list
    top_indent, keys = -1, None
    opener, opener_is_key = parent, True   # a line that ended with ":" or "-"
    keys_ok = _resolved_keys
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
                    raise _Slow
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
                    raise _Slow
                return i
            top_indent, keys = frames[-1]
            if top_indent != ind or (keys is None) != item:
                raise _Slow
        if item:
            rest = s[2:]
            if not rest:
                opener, opener_is_key = ind, False
                i += 1
                continue
            if rest[0] in " -#":
                raise _Slow
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
                raise _Slow
            key, sep, value = s.partition(": ")
            if not sep:
                if s[-1] != ":":
                    raise _Slow
                key, value = s[:-1], ""
            if key not in keys_ok:
                _check_key(key)
            if key in keys:   # type: ignore[operator]
                raise _Doubt
            keys.add(key)   # type: ignore[union-attr]
        if value:
            if not (value[0].isalnum() and value[-1] not in ": " and ": " not in value):
                _check_scalar(value)
        else:
            opener, opener_is_key = ind, True
        i += 1
    return i


def _check_key(key: str) -> None:
    try:
        resolved = _plain(key)
    except _Doubt:
        raise _Slow from None
    if not isinstance(resolved, str) or resolved != key:
        raise _Slow
    if len(_resolved_keys) < 200_000:
        _resolved_keys.add(key)


def _check_scalar(value: str) -> None:
    """Raise _Slow unless `value` is a one-line scalar the fast reader would accept."""
    first = value[0]
    if first == "'":
        if len(value) < 2 or value[-1] != "'" or "'" in value[1:-1].replace("''", ""):
            raise _Slow
    elif first == '"':
        if len(value) < 2 or value[-1] != '"' or "\\" in value or '"' in value[1:-1]:
            raise _Slow
    elif first in "{[":
        if value not in ("{}", "[]"):
            raise _Slow
    elif (first in _UNSAFE_PLAIN_START or value[-1] in ": " or ": " in value
          or " #" in value):
        raise _Slow
_SKIP = object()   # in a skip tree: do not build this value


def skip_value() -> object:
    """The marker of a skip tree (see `fast_load_documents`) for a value not to build."""
    return _SKIP


def _is_key_line(text: str) -> bool:
    if text[0] in "'\"{[|>":
        return False
    key, sep, _ = text.partition(": ")
    return bool(sep) or (text.endswith(":") and " " not in text)


def _json_escapes(text: str) -> bool:
    return re.search(r'\\[^"\\/bfnrtu]', text) is None


def _fold(parts: list[str]) -> str:
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


def fast_load_documents(text: str, skip: Any = None) -> list[tuple[int, Any]] | None:
    """(index, data) of every non-empty document of `text`, as `load_documents` returns them,
    or None when the text is not in the part of YAML this reader knows (see above).

    `skip` is a tree of what not to build in each document's top-level objects (the document,
    or each item of its `items`): a dict key -> subtree, `skip_value()` to leave the value out,
    `[subtree]` for every element of a sequence, or a callable `kind -> tree` chosen once the
    object's `kind` has been read. Left-out values are still checked, never built.
    """
    if _doubtful(text):
        return None
    documents: list[tuple[int, Any]] = []
    # (most files are one document: no `---` at all, found at memchr speed)
    chunks = (re.split(r"^---[ ]*\n", text + "\n", flags=re.M) if "---" in text
              else [text + "\n"])
    if len(chunks) > 1 and _Lines(chunks[0].split("\n"))._next_content() is None:
        chunks = chunks[1:]   # comments before the first `---` are no document
    try:
        for index, chunk in enumerate(chunks, start=1):
            if chunk.startswith("--- ") or "\n--- " in chunk or "\n---\n" in chunk:
                return None
            lines = chunk.split("\n")
            reader = _Lines(lines, chunk)
            found = reader._next_content()
            if found is None:
                continue
            indent, stripped = found
            if indent:
                return None
            if _is_key_line(stripped) or stripped[:2] == "- " or stripped == "-":
                top_skip = {"items": [skip]} if skip is not None else None
                data = reader.block(0, 1, top_skip, True)
                if isinstance(data, dict) and "items" not in data and skip is not None:
                    return None   # a lone object: read it without skipping (rare)
            else:
                data = reader.scalar(stripped, -1, True)
            if reader._next_content() is not None:
                return None
            if data is not None:
                documents.append((index, data))
    except (_Doubt, RecursionError, IndexError):
        return None
    return documents
