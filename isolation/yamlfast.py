"""A fast reader for the YAML kubectl prints.

`kubectl get -o yaml` prints a small, regular part of YAML: block mappings and sequences,
plain, quoted and literal scalars, `{}` and `[]`. `fast_load_documents` reads exactly that
part line by line (several times faster than composing PyYAML nodes) and gives up, returning
None, on anything else: anchors, aliases, tags, merge keys, comments, flow collections, tabs,
`\r`, characters PyYAML refuses, a duplicate key, nesting deeper than MAX_DEPTH, a scalar it
is not sure to resolve as PyYAML does. The caller then takes the careful path
(`load_documents`), which reads everything and reports every refusal with its line, so every
guarantee of `isolation.yamlio` holds on both paths. Subtrees the caller does not want
(`skip`) are checked (structure, duplicate keys, depth: `isolation.yamlfast_blocks`) but never
built. Scalars are resolved by `isolation.yamlfast_scalars`. A kubectl List can be read in two
parts (`split_list`, `fast_load_items`), each by its own process.
"""

from __future__ import annotations

import re
from typing import Any

from isolation.yamlfast_blocks import (
    CHECKED_BLOCKS,
    CHECKED_SHAPES,
    MAX_SEARCHED_INDENT,
    Slow,
    block_end,
    check_block,
    less_deep,
    sequence_end,
    shape_of,
)
from isolation.yamlfast_items import ItemTemplates, Template
from isolation.yamlfast_scalars import (
    JSON_STRING,
    RESOLVED,
    RESOLVED_KEYS,
    UNRESOLVED,
    Doubt,
    doubtful,
    fold,
    is_key_line,
    json_escapes,
    plain,
)
from isolation.yamlio import MAX_DEPTH


class _Lines:
    """The line parser over one document's lines; `skip` says which values not to build."""

    __slots__ = ("lines", "i", "n", "text", "mark_line", "mark_offset", "templates", "record",
                 "skipped")

    def __init__(self, lines: list[str], text: str | None = None,
                 templates: ItemTemplates | None = None) -> None:
        self.lines, self.i, self.n = lines, 0, len(lines)
        # `text` is "\n".join(lines) when given: blocks not built are then found by search;
        # (mark_line, mark_offset): where a line starts, so that offsets need no table
        self.text, self.mark_line, self.mark_offset = text, 0, 0
        # the items of a top-level sequence (a List's) are read by templates when given
        # (`isolation.yamlfast_items`); while an item is read to become one, `record` gets
        # its one-line values and `skipped` the lines of its blocks not built
        self.templates = templates if text is not None else None
        self.record: list[tuple[int, Any, str, str]] | None = None
        self.skipped: list[tuple[int, int]] | None = None

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
            raise Doubt
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
                    raise Doubt
                break
            rest = stripped[2:].lstrip(" ")
            if not rest:
                self.i += 1
                item = self.nested(indent, depth + 1, item_skip, build, False)
            elif rest[:2] == "- " or rest == "-":
                raise Doubt   # a sequence in a sequence: rare in kubectl output
            elif is_key_line(rest):
                inner = len(self.lines[self.i]) - len(rest)
                if indent == 0 and depth == 2 and build and self.templates is not None:
                    item = self.item(inner, rest, item_skip)
                else:
                    self.lines[self.i] = " " * inner + rest
                    item = self.mapping(inner, depth + 1, item_skip, build)
            else:
                item = self.scalar(rest, indent, build)
            if build:
                result.append(item)
        return result

    def item(self, inner: int, rest: str, skip: Any) -> Any:
        """The mapping of the top-level item at self.i (`- ` then `rest`), read by a template
        of an item written alike, else line by line (and made a template when worth it)."""
        templates, text, lines, start = self.templates, self.text, self.lines, self.i
        if templates is None or text is None:   # (the caller asks only when both are given)
            raise Doubt
        begin = self.offset(start)
        stop = templates.next_item(text, begin)
        if stop is not None:
            end = start + text.count("\n", begin, stop)
            item = templates.read(lines, start, end)
            if item is not None:
                self.i = end
                self.mark_line, self.mark_offset = end, stop
                return item
        stop = templates.item_end(text, begin)
        end = self.n if stop is None else start + text.count("\n", begin, stop)
        written = lines[start:end] if templates.wanted(end - start) else None
        record: list[tuple[int, Any, str, str]] = []
        skipped: list[tuple[int, int]] = []
        if written is not None:
            self.record, self.skipped = record, skipped
        lines[start] = " " * inner + rest
        try:
            item = self.mapping(inner, 3, skip, True)
        finally:
            self.record = self.skipped = None
        if written is not None and self.i == end:
            template = Template.of(written, item,
                                   [(line - start, *read) for line, *read in record],
                                   [(first - start, last - start) for first, last in skipped])
            if template is not None:
                templates.add(end - start, template)
        return item

    def mapping(self, indent: int, depth: int, skip: Any, build: bool) -> Any:
        result: dict[str, Any] = {}
        seen: set[str] = set()
        by_kind = skip if callable(skip) else None
        subtrees = skip if isinstance(skip, dict) else None
        lines, n, own, deeper = self.lines, self.n, " " * indent, " " * (indent + 1)
        resolved_keys, resolved, record = RESOLVED_KEYS, RESOLVED, self.record
        while True:
            i = self.i
            line = lines[i] if i < n else ""
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
                    raise Doubt
            key, sep, rest = stripped.partition(": ")
            if not sep:
                if stripped[-1:] != ":":
                    raise Doubt
                key, rest = stripped[:-1], ""
            if key not in resolved_keys:
                as_read = plain(key)
                if not isinstance(as_read, str) or as_read != key:
                    raise Doubt
                if len(resolved_keys) < 200_000:
                    resolved_keys.add(key)
            if key in seen:
                raise Doubt   # the careful path names both lines
            seen.add(key)
            sub = subtrees.get(key) if subtrees is not None else None
            keep = build and sub is not _SKIP
            rest = rest.lstrip(" ")
            if rest:
                # a value on this line alone (the next line is not deeper, nor blank), plain
                # or single-quoted without quotes inside: read here, the usual case
                following = lines[i + 1] if i + 1 < n else "."
                first = rest[0]
                if (rest[-1] != " " and not following.startswith(deeper)
                        and following.strip(" ")):
                    if first not in "|>'\"{[":
                        # (resolved when not built too: the careful reader refuses some)
                        value = resolved.get(rest, UNRESOLVED)
                        if value is UNRESOLVED:
                            value = plain(rest)
                        self.i = i + 1
                        if record is not None:
                            record.append((i, result if keep else None, key, rest))
                    elif first == "'" and len(rest) > 1 and rest[-1] == "'" and (
                            "'" not in rest[1:-1]):
                        value = rest[1:-1]
                        self.i = i + 1
                        if record is not None:
                            record.append((i, result if keep else None, key, rest))
                    else:
                        value = self.scalar(rest, indent, keep)
                else:
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
                    subtrees = skip if isinstance(skip, dict) else None
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
                    raise Doubt
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
            value = fold(parts)
            if len(value) < 2 or value[-1] != "'" or "'" in value[1:-1].replace("''", ""):
                raise Doubt
            return value[1:-1].replace("''", "'")
        if first == '"':
            if len(parts) > 1 or "\\" in text and not json_escapes(text):
                raise Doubt
            if text[-1] != '"' or len(text) < 2:
                raise Doubt
            try:
                value, end = JSON_STRING.raw_decode(text)
            except ValueError:
                raise Doubt from None
            if end != len(text):
                raise Doubt
            return value
        if first in "{[":
            if text in ("{}", "[]") and len(parts) == 1:
                return {} if first == "{" else []
            raise Doubt
        value = fold(parts)
        resolved = plain(value)   # (when not built too: the careful reader refuses some)
        return resolved if build else None

    def skip_block(self, parent: int, depth: int) -> None:
        """Check, without building, the value of the key at indent `parent` whose line ended
        (self.i is the line after it): its end is searched for in the text, its lines checked
        in one flat pass over kubectl's usual shapes (once per shape); anything else is
        checked by `nested` (which may give up)."""
        start, lines, text = self.i, self.lines, self.text
        if text is None or parent >= MAX_SEARCHED_INDENT:
            end = block_end(lines, start, self.n, parent)
            block = "\n".join(lines[start:end])
        else:
            begin = self.offset(start)
            # the value's lines start deeper than its key, or (a sequence) with "- " at its
            # key's indent; the first other line, blank ones included, ends it
            following = (sequence_end(parent) if text.startswith(" " * parent + "- ", begin)
                         else less_deep(parent))
            found = following.search(text, begin - 1) if begin else None
            stop = found.end() if found else self.offset(block_end(lines, start, self.n,
                                                                     parent))
            end = start + text.count("\n", begin, stop)
            self.mark_line, self.mark_offset = end, stop
            block = text[begin:stop - 1] if stop > begin else ""
        # The same block again (the replicas of a Deployment share their managedFields) is
        # not checked again; nor is one that differs only in plain or quoted one-line values
        # (times, names, numbers): one check per shape.
        seen = (parent, depth, block)
        if seen in CHECKED_BLOCKS:
            self.i = end
            if self.skipped is not None:
                self.skipped.append((start, end))
            return
        shape = (parent, depth, shape_of(block))
        if shape not in CHECKED_SHAPES:
            try:
                if check_block(lines, start, end, parent, MAX_DEPTH - depth) != end:
                    raise Slow
            except Slow:
                # what `nested` accepts without building does not depend on the values the
                # shape leaves out (it resolves no plain scalar): the shape is as good
                self.i = start
                self.nested(parent, depth, None, False, True)
                if self.i != end:
                    if self.skipped is not None:
                        self.skipped.append((-1, -1))   # its lines not known: no template
                    return
            if len(CHECKED_SHAPES) < 4096:
                CHECKED_SHAPES.add(shape)
        if len(block) >= 1024:   # (small ones are checked again as fast as they are found)
            if len(CHECKED_BLOCKS) >= 4096:
                CHECKED_BLOCKS.clear()
            CHECKED_BLOCKS.add(seen)
        self.i = end
        if self.skipped is not None:
            self.skipped.append((start, end))

    def literal(self, header: str, indent: int) -> str:
        if header not in ("|", "|-"):
            raise Doubt
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
                        raise Doubt
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


_SKIP = object()   # in a skip tree: do not build this value


def skip_value() -> object:
    """The marker of a skip tree (see `fast_load_documents`) for a value not to build."""
    return _SKIP


def fast_load_documents(text: str, skip: Any = None) -> list[tuple[int, Any]] | None:
    """(index, data) of every non-empty document of `text`, as `load_documents` returns them,
    or None when the text is not in the part of YAML this reader knows (see above).

    `skip` is a tree of what not to build in each document's top-level objects (the document,
    or each item of its `items`): a dict key -> subtree, `skip_value()` to leave the value out,
    `[subtree]` for every element of a sequence, or a callable `kind -> tree` chosen once the
    object's `kind` has been read. Left-out values are still checked, never built.
    """
    if doubtful(text):
        return None
    documents: list[tuple[int, Any]] = []
    # (most files are one document: no `---` at all, found at memchr speed)
    chunks = (re.split(r"^---[ ]*\n", text + "\n", flags=re.M) if "---" in text
              else [text + "\n"])
    if len(chunks) > 1 and _Lines(chunks[0].split("\n"))._next_content() is None:
        chunks = chunks[1:]   # comments before the first `---` are no document
    templates = ItemTemplates()
    try:
        for index, chunk in enumerate(chunks, start=1):
            if chunk.startswith("--- ") or "\n--- " in chunk or "\n---\n" in chunk:
                return None
            lines = chunk.split("\n")
            reader = _Lines(lines, chunk, templates)
            found = reader._next_content()
            if found is None:
                continue
            indent, stripped = found
            if indent:
                return None
            if is_key_line(stripped) or stripped[:2] == "- " or stripped == "-":
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
    except (Doubt, RecursionError, IndexError):
        return None
    return documents


# the newline before the first line of a List's top-level `items:` sequence that ends it: a
# line at column 0 that is not an item (blank lines and deeper ones belong to the items)
_ITEMS_END = re.compile(r"\n(?=[^ \n])(?!-(?: |\n|$))")


def split_list(text: str, first_bytes: int) -> tuple[str, str] | None:
    """A one-document kubectl List as two texts: the List with only its first items (about
    `first_bytes` of them, none when 0) and, as a top-level sequence, the others; None when
    `text` is not such a List or there is no second part.

    Items start with `- ` at column 0 (anything else of an item is indented), so the two
    parts read as the whole does when `fast_load_items` reads all of the second (which it
    requires: the end of the items is searched for after the last line that starts with
    `- `, so a line at column 0 between would be in the second part)."""
    found = list_cut(text, first_bytes)
    if found is None:
        return None
    cut, end = found
    return text[:cut] + text[end:], text[cut:end]


def list_cut(text: str, first_bytes: int) -> tuple[int, int] | None:
    """(where the second part of `split_list` starts, where it ends) in `text`, or None."""
    if text.startswith("---") or "\n---" in text:
        return None
    at = text.find("\nitems:\n- ")
    if at < 0:
        return None
    begin = at + len("\nitems:\n")
    last = max(text.rfind("\n- "), begin - 1)
    found = _ITEMS_END.search(text, last + 1)
    end = found.end() if found else len(text)
    cut = begin - 1 if first_bytes <= 0 else text.find("\n- ", begin + first_bytes - 1, end)
    if cut < 0:
        return None
    return cut + 1, end


def fast_load_items(text: str, skip: Any = None) -> list[Any] | None:
    """The items of `text`, a top-level sequence of objects (the second part of
    `split_list`), as `fast_load_documents` reads them in a List (with `skip` for each);
    None on any doubt."""
    if doubtful(text):
        return None
    if not text.endswith("\n"):
        text += "\n"
    reader = _Lines(text.split("\n"), text, ItemTemplates())
    try:
        items = reader.sequence(0, 2, [skip], True)
        if reader._next_content() is not None:
            return None
    except (Doubt, RecursionError, IndexError):
        return None
    return items
