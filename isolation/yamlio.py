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
import marshal
import re
from dataclasses import dataclass
from typing import Any

import yaml

from isolation.collector import collector_paused
from isolation.fielderrors import clip_value

try:  # reads the one-line flow mappings of large policies (`_FlowLines`); optional
    import orjson as _orjson
except ImportError:  # pragma: no cover - pinned in requirements.txt
    _orjson = None

try:  # the C loader is an order of magnitude faster on cluster-sized snapshots
    _BaseLoader: type = yaml.CSafeLoader
    from yaml._yaml import CParser as _CParser
except (AttributeError, ImportError):  # pragma: no cover - libyaml is part of the PyYAML wheels
    _BaseLoader = yaml.SafeLoader
    _CParser = None


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
    """One YAML document: its data, its 1-based index and where its parts are written (for
    `locate`): the composed `yaml.Node` tree, or a `Spot` tree when it was read directly.
    Either has `start_mark` (0-based `line` and `column`)."""

    index: int
    data: Any
    node: Any


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
    with collector_paused():
        direct = _direct_documents(text)
    if direct is not None:
        return direct
    return composed_documents(text)


def composed_documents(text: str) -> list[Document]:
    """`load_documents` of decoded `text` the careful way, always: PyYAML nodes composed,
    checked, then constructed (what the direct reader is measured against)."""
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
    tried = isinstance(text, bytes) and not text.startswith(_BYTE_ORDER_MARKS)
    if tried:
        # msgspec reads UTF-8 bytes as they are and refuses invalid UTF-8 (the slow path then
        # reports it as `decode_text` does): no decoded copy of a large file is made; what
        # it does not read as bytes it does not read as their text either
        fast = _fast_json(text)
        if fast is not _NO_FAST_JSON:
            return fast
    if isinstance(text, bytes):
        text = decode_text(text)
    fast = _NO_FAST_JSON if tried else _fast_json(text)
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


_BYTE_ORDER_MARKS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _fast_json(text: str | bytes) -> Any:
    """`text` read by msgspec when that is sure to be what `json.loads` returns and it has no
    duplicate key; else _NO_FAST_JSON (the json module then reads it and reports).

    msgspec reads integers of any size exactly, as the json module does (orjson reads those
    beyond 64 bits as floats), and refuses what the json module reads otherwise (NaN,
    numbers beyond a double's range, lone surrogates). It keeps the last of duplicate keys
    silently, so duplicates are found by counting: every ':' of a JSON text is a key's
    separator or a character of a string. Read back without duplicates, the text
    re-serialised holds the same strings and separators, so the same number of ':'; a
    duplicate drops a separator (and its value's strings), so fewer. An escaped colon
    (\\u003a) would turn into one, so such text takes the json module."""
    colon, escape, escaped = (b":", b"\\u003", (b"\\u003a", b"\\u003A")) if isinstance(
        text, bytes) else (":", "\\u003", ("\\u003a", "\\u003A"))
    codec = _msgspec_json()
    if codec is None or escape in text and (escaped[0] in text or escaped[1] in text):
        return _NO_FAST_JSON
    decoder, encode = codec
    try:
        with collector_paused():
            data = decoder.decode(text)
        # (a ':' is one byte in UTF-8, never part of another character's bytes)
        if encode(data).count(b":") != text.count(colon):   # type: ignore[arg-type]
            return _NO_FAST_JSON
    except (ValueError, TypeError, RecursionError):   # msgspec's DecodeError is a ValueError
        return _NO_FAST_JSON
    return data


_MSGSPEC: list[Any] = []   # (decoder, encode), or None without msgspec, once asked for


def _msgspec_json() -> tuple[Any, Any] | None:
    """msgspec's JSON decoder and encoder (imported on first use: YAML input never needs
    them), or None when msgspec is not installed."""
    if not _MSGSPEC:
        try:
            import msgspec
        except ImportError:  # pragma: no cover - pinned in requirements.txt
            _MSGSPEC.append(None)
        else:
            _MSGSPEC.append((msgspec.json.Decoder(), msgspec.json.encode))
    return _MSGSPEC[0]


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


def plain_copy(value: Any) -> Any:
    """A deep copy of plain YAML/JSON data (dicts, lists, scalars) in which no dict or list is
    reachable twice, equal to `value`.

    Plain data is copied by `marshal` (version 2 writes a value reached twice twice, so it
    comes back unshared), faster than copying it in Python; data marshal does not take (dates,
    subclasses of the built-in types) is copied in Python, other values then shared."""
    try:
        with collector_paused():
            return marshal.loads(marshal.dumps(value, 2))
    except (ValueError, TypeError):
        return _unshared(value)


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
    if isinstance(node, Spot):
        return _locate_spot(node, path)
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
    if isinstance(parent, Spot):
        if parent.is_mapping:
            entries = parent.entries
            for at in range(len(entries) - 6, -1, -6):
                if entries[at] == str(last):
                    return entries[at + 1] + 1, entries[at + 2] + 1
        return locate(node, path)
    if isinstance(parent, yaml.MappingNode):
        for key, _ in reversed(parent.value):  # the written key wins over a merged one
            if isinstance(key, yaml.ScalarNode) and key.value == str(last):
                return key.start_mark.line + 1, key.start_mark.column + 1
    return locate(node, path)


def _child(node: Any, step: str | int) -> Any:
    if isinstance(node, Spot):
        return _spot_child(node, step)[2]
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


# -- the direct reader -----------------------------------------------------------------------------
# Composing PyYAML nodes (a Python object and two marks per node) and constructing data from them
# costs several times what parsing does. Most documents use no anchor, alias, merge key or
# explicit tag: for those, data is built straight from the C parser's events, with the positions
# `locate` needs kept as plain numbers (`Spot`). Anything else (and any error) is read again
# the careful way above, which then reports exactly as it always did.

_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{name}"
                         for name in ("int", "float", "bool", "null", "timestamp"))


class _Doubt(Exception):
    """The direct reader is not sure: read the document the careful way."""


class _Mark:
    """A position as `yaml.Mark` gives it (0-based line and column)."""

    __slots__ = ("line", "column")

    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


class Spot:
    """Where a mapping or sequence and its entries are written, for `locate`: the node tree of
    a document read directly from parser events. `entries` is flat: per mapping entry the key's
    text, the key's line and column, the value's line and column and the value's Spot (None for
    a scalar); per sequence item its line, column and Spot. Lines and columns are 0-based."""

    __slots__ = ("line", "column", "is_mapping", "entries")

    def __init__(self, line: int, column: int, is_mapping: bool) -> None:
        self.line, self.column, self.is_mapping = line, column, is_mapping
        self.entries: list[Any] = []

    @property
    def start_mark(self) -> _Mark:
        return _Mark(self.line, self.column)


_plain_values: dict[str, Any] = {}
_PLAIN_KEPT = 100_000
_DOUBTFUL = object()
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()


def _plain_value(text: str) -> Any:
    """A plain scalar as the safe loader constructs it; _DOUBTFUL for a merge key, a `=` or a
    value its tag refuses (the careful reader reports those)."""
    tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))
    if tag == STR_TAG:
        value: Any = text
    elif tag in _SCALAR_TAGS:
        try:
            value = _constructor.construct_object(yaml.ScalarNode(tag, text), deep=True)
        except (ValueError, TypeError, OverflowError, yaml.YAMLError):
            value = _DOUBTFUL
    else:
        value = _DOUBTFUL
    if len(_plain_values) >= _PLAIN_KEPT:
        _plain_values.clear()
    _plain_values[text] = value
    return value


def _direct_documents(text: str) -> list[Document] | None:
    """Every non-empty document of `text` read from the C parser's events, or None when the
    careful reader must read it (see above); same data and guarantees as `load_documents`."""
    if _CParser is None:
        return None
    flow = _FlowLines.of(text)
    if flow is not None:
        documents = _parsed(flow.text, flow)
        if documents is not None:
            return documents
    return _parsed(text, None)


def _parsed(text: str, flow: _FlowLines | None) -> list[Document] | None:
    parser = _CParser(text)
    try:
        return _read_stream(parser.get_event, flow)
    except (_Doubt, yaml.YAMLError, RecursionError, AttributeError):
        return None
    finally:
        parser.dispose()


def _read_stream(next_event: Any, flow: _FlowLines | None = None) -> list[Document]:
    documents: list[Document] = []
    next_event()   # the stream's start
    index = 0
    while type(next_event()) is not yaml.StreamEndEvent:   # a document's start
        index += 1
        data, spot = _read_document(next_event, flow)
        next_event()   # the document's end
        if data is not None:
            documents.append(Document(index=index, data=data, node=spot))
    if flow is not None and flow.taken != len(flow.lines):
        raise _Doubt   # a stand-in was read as part of something else (a block scalar...)
    return documents


def _read_document(next_event: Any, flow: _FlowLines | None = None) -> tuple[Any, Any]:
    """(data, Spot of its root) of the document whose events `next_event` gives; the stand-ins
    of `flow` become the flow mappings they stand for."""
    scalar_event, mapping_start, sequence_start = (yaml.ScalarEvent, yaml.MappingStartEvent,
                                                   yaml.SequenceStartEvent)
    end_events = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    plain = _plain_values
    stand_in = _STAND_IN if flow is not None else None
    # per open collection: [container, Spot, pending key, its text, its line, its column]
    stack: list[list[Any]] = []
    while True:
        event = next_event()
        kind = type(event)
        mark = event.start_mark
        spot: Spot | None = None
        if kind is scalar_event:
            if event.anchor is not None or event.tag is not None:
                raise _Doubt
            text = event.value
            if text == stand_in and event.implicit[0]:
                value, spot = flow.take(mark.line, mark.column, len(stack))   # type: ignore[union-attr]
                text = None
            elif event.implicit[0]:
                value = plain.get(text, _DOUBTFUL)
                if value is _DOUBTFUL:
                    value = _plain_value(text)
                    if value is _DOUBTFUL:
                        raise _Doubt
            else:
                value = text
            if len(stack) >= MAX_DEPTH:
                raise _Doubt
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                raise _Doubt
            is_mapping = kind is mapping_start
            stack.append([{} if is_mapping else [], Spot(mark.line, mark.column, is_mapping),
                          _NO_KEY, None, 0, 0])
            continue
        elif kind in end_events:
            value, spot, _, _, _, _ = stack.pop()
            text = None
            mark = None
        else:   # an alias, or anything unexpected
            raise _Doubt
        if not stack:
            return value, spot or Spot(mark.line, mark.column, False)
        frame = stack[-1]
        container, parent = frame[0], frame[1]
        if spot is not None:
            line, column = spot.line, spot.column   # type: ignore[union-attr]
        else:
            line, column = mark.line, mark.column
        if parent.is_mapping:
            key = frame[2]
            if key is _NO_KEY:
                if text is None:
                    raise _Doubt   # a collection as a key
                frame[2], frame[3], frame[4], frame[5] = value, text, line, column
                continue
            if key in container:
                raise _Doubt   # a duplicate (or `1` and `true`): the careful reader decides
            container[key] = value
            parent.entries.extend((frame[3], frame[4], frame[5], line, column, spot))
            frame[2] = _NO_KEY
        else:
            container.append(value)
            parent.entries.extend((line, column, spot))


_NO_KEY = object()


# -- block sequences of one-line flow mappings ------------------------------------------------------
# A policy of thousands of rules is mostly lines like `  - {from: [{ipBlock: {cidr: 10.0.0.1/32}}],
# ports: [{port: 1024}]}`: twenty parser events each. Such a line, when every scalar in it is a plain
# word whose value JSON can spell, is read as JSON instead (all of them in one `orjson` call), and
# the parser reads the text with a one-character stand-in in its place; where the stand-in is read
# as anything but that item, the whole text is read without stand-ins. The positions of a line's
# parts are found by parsing the line alone, only when `locate` asks for them.

_STAND_IN = "_"
# (a key is one only within 1024 characters of its ':', so longer lines are left to the parser)
_FLOW_LINE = re.compile(r"^( *- )(\{[A-Za-z0-9_./{}\[\],: -]{0,1000}\})[ \t]*$", re.MULTILINE)
_FLOW_WORD = re.compile(r"([A-Za-z0-9][A-Za-z0-9_./-]*)")
_FLOW_MARK = re.compile(r"[{}\[\],:]| +")
_FLOW_LINES_WORTH_IT = 64
_OTHER_LINE_BREAKS = ("\r", "\x85", "\u2028", "\u2029")   # lines are counted as "\n" alone
_shapes: dict[tuple[str, ...], Any] = {}
_json_words: dict[str, str | None] = {}
_SHAPES_KEPT = 10_000


class _FlowSpot(Spot):
    """The Spot of a flow mapping written alone on its line, its entries read on first use."""

    __slots__ = ("_content",)

    def __init__(self, line: int, column: int, content: str) -> None:
        super().__init__(line, column, True)
        self._content: str | None = content
        del self.entries

    def __getattr__(self, name: str) -> Any:
        if name != "entries" or self._content is None:
            raise AttributeError(name)
        padded = "\n" * self.line + " " * self.column + self._content
        parser = _CParser(padded)
        try:
            parser.get_event(), parser.get_event()   # the stream's and the document's start
            _, spot = _read_document(parser.get_event)
        finally:
            parser.dispose()
        self.entries = spot.entries
        self._content = None
        return self.entries


class _FlowLines:
    """The one-line flow mappings of a text, read, and the text with stand-ins in their places."""

    def __init__(self, text: str, lines: dict[tuple[int, int], tuple[Any, str, int]]) -> None:
        self.text = text
        self.lines = lines
        self.taken = 0

    @classmethod
    def of(cls, text: str) -> _FlowLines | None:
        """The flow lines of `text`, or None when it has too few to be worth it (or orjson is
        missing)."""
        if _orjson is None or text.count("- {", 0, 1 << 16) < _FLOW_LINES_WORTH_IT // 4 or \
                any(brk in text for brk in _OTHER_LINE_BREAKS):
            return None
        pieces: list[str] = []
        spelled: list[str] = []
        places: list[tuple[int, int, str, int]] = []
        line, done = 0, 0
        for match in _FLOW_LINE.finditer(text):
            json_text, depth = _flow_json(match.group(2))
            if json_text is None:
                continue
            start = match.start()
            line += text.count("\n", done, start)
            column = len(match.group(1))
            pieces.append(text[done:start + column])
            pieces.append(_STAND_IN)
            done = match.end(2)
            spelled.append(json_text)
            places.append((line, column, match.group(2), depth))
        if len(places) < _FLOW_LINES_WORTH_IT:
            return None
        pieces.append(text[done:])
        try:
            values = _orjson.loads("[" + ",".join(spelled) + "]")
        except ValueError:
            return None
        if len(values) != len(places):
            return None
        lines = {(line, column): (value, content, depth)
                 for (line, column, content, depth), value in zip(places, values, strict=True)}
        return cls("".join(pieces), lines)

    def take(self, line: int, column: int, depth: int) -> tuple[Any, Spot]:
        """The mapping whose stand-in is at `line`, `column`, `depth` collections deep."""
        found = self.lines.get((line, column))
        if found is None or depth + found[2] >= MAX_DEPTH:
            raise _Doubt
        self.taken += 1
        value, content, _ = found
        return value, _FlowSpot(line, column, content)


def _flow_json(content: str) -> tuple[str | None, int]:
    """`content` (one flow mapping) as JSON with the same values, and how many collections deep
    it nests; (None, 0) when it is not simply that."""
    parts = _FLOW_WORD.split(content)
    words = parts[1::2]
    shape = tuple(parts[0::2])
    known = _shapes.get(shape)
    if known is None:
        known = _shape(shape)
        if len(_shapes) >= _SHAPES_KEPT:
            _shapes.clear()
        _shapes[shape] = known
    if not known:
        return None, 0
    template, keys, groups, depth = known
    spelled = [_json_words.get(word) or _json_word(word) for word in words]
    if None in spelled:
        return None, 0
    for at in keys:
        if spelled[at][0] != '"':   # type: ignore[index]
            return None, 0
    for group in groups:
        if len({words[at] for at in group}) != len(group):
            return None, 0   # a duplicate key: the careful reader reports it
    return template % tuple(spelled), depth


def _json_word(word: str) -> str | None:
    """A plain word's value spelled in JSON (None when JSON cannot: dates, infinities,
    integers beyond 64 bits, or a word the direct reader doubts)."""
    value = _plain_values.get(word, _DOUBTFUL)
    if value is _DOUBTFUL:
        value = _plain_value(word)
    spelled: str | None
    if isinstance(value, str):
        spelled = f'"{value}"'
    elif value is None or isinstance(value, bool):
        spelled = {None: "null", True: "true", False: "false"}[value]
    elif type(value) is int and -(1 << 63) <= value < 1 << 64:
        spelled = str(value)
    elif type(value) is float and value == value and abs(value) != float("inf"):
        spelled = repr(value)
    else:
        spelled = None
    if len(_json_words) >= _PLAIN_KEPT:
        _json_words.clear()
    _json_words[word] = spelled
    return spelled


def _shape(separators: tuple[str, ...]) -> Any:
    """For the text between the words of a flow mapping: (a %-template of its JSON, the
    indexes of the words that are keys, those of each mapping's keys when it has several, and
    how many collections deep it nests); () when it is not one flow mapping of words."""
    tokens: list[str] = []
    for at, separator in enumerate(separators):
        for mark in _FLOW_MARK.finditer(separator):
            if mark.group() != " " * len(mark.group()):
                tokens.append(mark.group())
        if "".join(_FLOW_MARK.findall(separator)) != separator:
            return ()
        if ":" in separator and not _colons_are_followed_by_space(separator):
            return ()
        if at < len(separators) - 1:
            tokens.append(str(at))
    keys: list[int] = []
    groups: list[tuple[int, ...]] = []
    position = 0
    deepest = 0

    def node(depth: int) -> bool:
        nonlocal position, deepest
        if position >= len(tokens):
            return False
        token = tokens[position]
        position += 1
        if token.isdigit():
            return True
        if token not in "{[" or token == "":
            return False
        deepest = max(deepest, depth)
        mapping, closing = token == "{", "}" if token == "{" else "]"
        own: list[int] = []
        if position < len(tokens) and tokens[position] == closing:
            position += 1
            return True
        while True:
            if mapping:
                if position + 1 >= len(tokens) or not tokens[position].isdigit() or \
                        tokens[position + 1] != ":":
                    return False
                own.append(int(tokens[position]))
                position += 2
            if not node(depth + 1):
                return False
            if position >= len(tokens):
                return False
            token = tokens[position]
            position += 1
            if token == closing:
                break
            if token != ",":
                return False
        keys.extend(own)
        if len(own) > 1:
            groups.append(tuple(own))
        return True

    if not tokens or tokens[0] != "{" or not node(1) or position != len(tokens):
        return ()
    template = "".join(t if not t.isdigit() else "%s" for t in tokens)
    return template, tuple(keys), tuple(groups), deepest


def _colons_are_followed_by_space(separator: str) -> bool:
    """Whether every ':' of a separator is followed by a space (else `a:b` is one word)."""
    for index, char in enumerate(separator):
        if char == ":" and (index + 1 >= len(separator) or separator[index + 1] != " "):
            return False
    return True


def _spot_child(spot: Spot, step: str | int) -> tuple[int, int, Spot | None] | tuple[None, None, None]:
    """(line, column, Spot or None) of the value at `step` of `spot`; Nones when not there."""
    entries = spot.entries
    if spot.is_mapping:
        if isinstance(step, str):
            for at in range(len(entries) - 6, -1, -6):   # the last key is the one kept
                if entries[at] == step:
                    return entries[at + 3], entries[at + 4], entries[at + 5]
    elif isinstance(step, int) and 0 <= step < len(entries) // 3:
        return entries[3 * step], entries[3 * step + 1], entries[3 * step + 2]
    return None, None, None


def _locate_spot(spot: Spot, path: tuple[str | int, ...]) -> tuple[int, int]:
    line, column = spot.line, spot.column
    current: Spot | None = spot
    for step in path:
        if current is None:
            break
        found_line, found_column, child = _spot_child(current, step)
        if found_line is None:
            break
        line, column, current = found_line, found_column, child
    return line + 1, column + 1
