"""Safe YAML (and JSON) reading for everything a user can hand the console.

Every failure is a `YamlInputError` naming the document and the line a user should look at.
What kubectl / kube-apiserver do, and what we do:

- Duplicate mapping keys. kubectl (sigs.k8s.io/yaml over go-yaml) and kube-apiserver's strict
  field validation refuse them (`mapping key "app" already defined at line 6`, `duplicate
  field "app"`); PyYAML and `json.loads` keep the last value silently. We refuse them, in
  YAML and in JSON, naming both lines: `line 7: duplicate key "app" (first at line 6)`.
  Keys brought in by a merge key (`<<: *base`) may be overridden: that is what merging means.
- Encoding. kubectl reads files through `unicode.BOMOverride`: a UTF-8 or UTF-16 (LE/BE)
  byte order mark selects the encoding, anything else is read as UTF-8 (invalid bytes become
  U+FFFD). We honour the same byte order marks on bytes input, but refuse invalid UTF-8 with
  the byte offset ("the file is not valid UTF-8 at byte N") instead of replacing it.
- Anchors, aliases and merge keys are YAML, and kubectl accepts them; so do we. Because an
  alias is a reference, a few lines can describe an enormous tree ("billion laughs"); go-yaml
  refuses "excessive aliasing" by the ratio of alias expansions to decoded nodes. We count the
  nodes the document has once every alias is expanded and refuse more than
  `ALIAS_EXPANSION_RATIO` times the nodes it is written with (at least `ALIAS_EXPANSION_FLOOR`),
  and refuse recursive aliases. Accepted documents are returned as plain trees (no shared
  objects), so later traversals and edits cannot surprise anyone.
- Only YAML's core schema is constructed (safe loading), nesting (after alias expansion) is
  at most MAX_DEPTH levels, and the input is at most `max_bytes` long.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from typing import Any

import yaml

from isolation.fielderrors import clip_value

try:  # several times faster than the json module on kubectl -o json output; optional
    import orjson as _orjson
except ImportError:  # pragma: no cover - pinned in requirements.txt
    _orjson = None

try:  # the C loader is an order of magnitude faster on cluster-sized snapshots
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml is part of the PyYAML wheels
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader, remembering which tag a plain scalar resolves to.

    Even the C loader resolves every plain scalar's implicit tag in Python, trying the
    resolvers' regular expressions on it: most of the time of a large document. The same
    words come back again and again (keys, protocols, ports), and the tag depends only on
    the scalar's text and on whether it was plain, so the answer is kept (bounded).
    """

    _tags: dict[tuple[str, tuple[bool, bool]], str] = {}
    TAGS_KEPT = 50_000

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, tuple(implicit))
        tag = self._tags.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._tags) >= self.TAGS_KEPT:
                self._tags.clear()
            self._tags[key] = tag
        return tag

MAX_DEPTH = 64
ALIAS_EXPANSION_RATIO = 10
ALIAS_EXPANSION_FLOOR = 10_000
_MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"


class YamlInputError(ValueError):
    """Input that is not acceptable YAML; `line`/`column` are 1-based when known."""

    def __init__(self, message: str, *, document: int | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.document = document
        self.line = line
        self.column = column
        where = []
        if document is not None:
            where.append(f"document {document}")
        if line is not None:
            where.append(f"line {line}" + (f", column {column}" if column else ""))
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@dataclass(frozen=True)
class Document:
    """One YAML document: its data, its 1-based index and the composed node tree."""

    index: int
    data: Any
    node: yaml.Node


def decode_text(data: bytes) -> str:
    """`data` as text: UTF-8, or UTF-16 when it starts with a UTF-16 byte order mark (a UTF-8
    one is dropped), as kubectl reads files. Invalid bytes raise YamlInputError naming the
    (0-based) byte offset and its line; nothing is replaced by U+FFFD."""
    encoding, skip = "UTF-8", 0
    if data.startswith(codecs.BOM_UTF8):
        skip = len(codecs.BOM_UTF8)
    elif data.startswith(codecs.BOM_UTF16_LE):
        encoding, skip = "UTF-16LE", 2
    elif data.startswith(codecs.BOM_UTF16_BE):
        encoding, skip = "UTF-16BE", 2
    body = data[skip:]
    if encoding == "UTF-8" and b"\x00" in body[:4096]:
        offset = body.index(b"\x00") + skip
        raise YamlInputError(f"the file is not valid UTF-8 at byte {offset} (a NUL byte: it looks "
                             "like UTF-16 without a byte order mark); save it as UTF-8")
    try:
        return body.decode(encoding.replace("UTF-", "utf-").lower())
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        if encoding == "UTF-8":
            raise YamlInputError(f"the file is not valid UTF-8 at byte {offset}; save it as UTF-8",
                                 line=body[:exc.start].count(b"\n") + 1) from None
        raise YamlInputError(f"the file starts with a UTF-16 byte order mark but is not valid "
                             f"{encoding} at byte {offset}; save it as UTF-8") from None


def load_documents(text: str | bytes, *, max_bytes: int | None = None) -> list[Document]:
    """Parse every document of `text`; empty documents are dropped.

    Guarantees: no duplicate key in any mapping (merge keys aside); bytes are decoded as
    `decode_text` does; aliases expand to at most ALIAS_EXPANSION_RATIO times the written
    nodes and never recursively, and the returned data shares no objects; no tag beyond YAML's
    core schema is constructed; no structure is deeper than MAX_DEPTH; the input is at most
    `max_bytes` long.
    """
    if isinstance(text, bytes):
        if max_bytes is not None and len(text) > max_bytes:
            raise YamlInputError(f"the input is {len(text):,} bytes; the limit is {max_bytes:,}")
        text = decode_text(text)
    if max_bytes is not None and len(text.encode("utf-8")) > max_bytes:
        raise YamlInputError(f"the input is larger than the limit of {max_bytes:,} bytes")
    loader = _Loader(text)
    documents: list[Document] = []
    try:
        index = 0
        while loader.check_node():
            index += 1
            node = loader.get_node()
            if node is None:
                continue
            shared = _check_structure(node, index, loader)
            try:
                data = loader.construct_document(node)
            except (ValueError, TypeError, AttributeError, OverflowError) as exc:
                # An explicit tag the value does not fit (`!!int abc`, `!!timestamp nope`).
                detail = f" ({exc})" if isinstance(exc, ValueError) else ""
                raise YamlInputError(f"a value does not match its tag{detail}",
                                     document=index) from None
            if data is None:
                continue
            if shared:
                data = _unshared(data)
            documents.append(Document(index=index, data=data, node=node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlInputError(
            _yaml_problem(exc),
            document=index or None,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise YamlInputError(str(exc), document=index or None) from None
    except RecursionError:
        raise YamlInputError("the document is nested too deeply", document=index or None) from None
    finally:
        loader.dispose()
    return documents


class _DuplicateJsonKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _DuplicateJsonKey(key)
            seen.add(key)
    return result


def load_json(text: str | bytes) -> Any:
    """JSON as `json.loads` reads it, but with duplicate keys refused (YamlInputError naming
    the line, as `load_documents` does) and bytes decoded as `decode_text` does.

    Syntax errors raise `json.JSONDecodeError`, so that callers may fall back to YAML.
    """
    if isinstance(text, bytes):
        text = decode_text(text)
    fast = _fast_json(text)
    if fast is not _NO_FAST_JSON:
        return fast
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates)
    except _DuplicateJsonKey as exc:
        try:  # JSON is YAML: the YAML reader finds the line of the duplicate
            load_documents(text)
        except YamlInputError as located:
            if "duplicate key" in located.message:
                raise located from None
        raise YamlInputError(f"duplicate key {clip_value(exc.key)}") from None


_NO_FAST_JSON = object()


def _fast_json(text: str) -> Any:
    """`text` read by orjson when that is sure to be what `json.loads` returns and it has no
    duplicate key; else _NO_FAST_JSON (the json module then reads it and reports).

    orjson keeps the last of duplicate keys silently, so duplicates are found by counting:
    every ':' of a JSON text is a key's separator or a character of a string. Read back
    without duplicates, the text re-serialised holds the same strings and separators, so the
    same number of ':'; a duplicate drops a separator (and its value's strings), so fewer.
    An escaped colon (\\u003a) would turn into one, so such text takes the json module."""
    if _orjson is None or "\\u003a" in text or "\\u003A" in text:
        return _NO_FAST_JSON
    try:
        data = _orjson.loads(text)
    except (ValueError, TypeError, RecursionError):   # NaN, big integers, lone surrogates
        return _NO_FAST_JSON
    if _orjson.dumps(data).count(b":") != text.count(":"):
        return _NO_FAST_JSON
    return data


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "YAML syntax error: " + ("; ".join(parts) if parts else "cannot parse")


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _check_structure(root: yaml.Node, document: int, loader: Any) -> bool:
    """Refuse duplicate keys and nesting deeper than MAX_DEPTH; True when some node is reached
    twice (an alias), after checking that its expansion is bounded (`_check_expansion`)."""
    seen: set[int] = set()
    shared = False
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            shared = True
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise YamlInputError(f"the document is nested deeper than {MAX_DEPTH} levels",
                                 document=document, line=_line(node))
        if isinstance(node, yaml.MappingNode):
            _check_duplicate_keys(node, document, loader)
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
    if shared:
        _check_expansion(root, document, len(seen))
    return shared


def _check_duplicate_keys(node: yaml.MappingNode, document: int, loader: Any) -> None:
    first: dict[Any, yaml.Node] = {}
    for key_node, _value in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        key: Any = key_node.value
        if key_node.tag != STR_TAG:
            try:  # `1` and `0x1`, `true` and `yes` are the same key once constructed
                key = (key_node.tag, loader.construct_object(key_node))
            except (ValueError, TypeError, yaml.YAMLError):
                key = (key_node.tag, key_node.value)   # reported when the document is built
        if key in first:
            raise YamlInputError(
                f"duplicate key {clip_value(key_node.value)} (first at line {_line(first[key])})",
                document=document, line=_line(key_node), column=key_node.start_mark.column + 1)
        first[key] = key_node


def _check_expansion(root: yaml.Node, document: int, written: int) -> None:
    """Refuse recursive aliases, and documents that expand (every alias replaced by what it
    names) to more than ALIAS_EXPANSION_RATIO times their `written` nodes or deeper than
    MAX_DEPTH levels. Linear in the written nodes: sizes are memoised per node."""
    limit = max(ALIAS_EXPANSION_FLOOR, ALIAS_EXPANSION_RATIO * written)
    sizes: dict[int, tuple[int, int]] = {}   # id -> (expanded nodes, height)
    open_: set[int] = set()

    def visit(node: yaml.Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in open_:
            raise YamlInputError("an alias refers to a node that contains it (a recursive "
                                 "alias); such a document never ends",
                                 document=document, line=_line(node))
        known = sizes.get(key)
        if known is None:
            if depth > MAX_DEPTH:
                raise YamlInputError(f"the document is nested deeper than {MAX_DEPTH} levels "
                                     "once its aliases are expanded",
                                     document=document, line=_line(node))
            open_.add(key)
            size, height = 1, 1
            if isinstance(node, yaml.MappingNode):
                children = [child for pair in node.value for child in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            else:
                children = []
            for child in children:
                child_size, child_height = visit(child, depth + 1)
                size += child_size
                height = max(height, child_height + 1)
                if size > limit:
                    raise YamlInputError(
                        f"the document's aliases expand it to more than {limit:,} nodes "
                        f"({ALIAS_EXPANSION_RATIO} times the {written:,} it is written with); "
                        "this looks like an alias bomb", document=document, line=_line(node))
            open_.discard(key)
            known = sizes[key] = (size, height)
        if depth + known[1] - 1 > MAX_DEPTH:
            raise YamlInputError(f"the document is nested deeper than {MAX_DEPTH} levels once "
                                 "its aliases are expanded", document=document, line=_line(node))
        return known

    visit(root, 1)


def _unshared(value: Any) -> Any:
    """A copy of constructed data in which no dict or list is reachable twice."""
    if isinstance(value, dict):
        return {key: _unshared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unshared(item) for item in value]
    return value


def locate(node: yaml.Node, path: tuple[str | int, ...]) -> tuple[int, int]:
    """1-based (line, column) of the deepest existing node along `path` (keys and indexes).

    Used to point a validation error such as `spec.ingress[0].ports[1].port` at its line. A key
    both merged in (`<<: *base`) and written out is found where it is written (the last one).
    """
    current = node
    for step in path:
        nxt = None
        if isinstance(current, yaml.MappingNode) and isinstance(step, str):
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode) and key.value == step:
                    nxt = value
        elif (isinstance(current, yaml.SequenceNode) and isinstance(step, int)
              and 0 <= step < len(current.value)):
            nxt = current.value[step]
        if nxt is None:
            break
        current = nxt
    return current.start_mark.line + 1, current.start_mark.column + 1


def locate_key(node: yaml.Node, path: tuple[str | int, ...]) -> tuple[int, int]:
    """1-based (line, column) of the key that ends `path` (an unknown field is its key's
    mistake); where the key is not there, `locate` of the path."""
    *parents, last = path or ("",)
    parent = node
    for step in parents:
        parent = _child(parent, step)
        if parent is None:
            return locate(node, path)
    if isinstance(parent, yaml.MappingNode):
        for key, _ in reversed(parent.value):  # the written key wins over a merged one
            if isinstance(key, yaml.ScalarNode) and key.value == str(last):
                return key.start_mark.line + 1, key.start_mark.column + 1
    return locate(node, path)


def _child(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        return next((value for key, value in reversed(node.value)
                     if isinstance(key, yaml.ScalarNode) and key.value == step), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and \
            0 <= step < len(node.value):
        return node.value[step]
    return None


def document_objects(document: Document) -> list[tuple[tuple[str | int, ...], Any]]:
    """The objects of a document with the path to each: its `items` when it holds a list
    (`(("items", i), item)`), else the document itself at `()`; for `locate`."""
    data = document.data
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return [(("items", i), item) for i, item in enumerate(data["items"])]
    return [((), data)]
