"""Safe YAML loading for everything a user can hand the console.

Only plain data is constructed (safe loading), anchors/aliases are refused (they are how
"billion laughs" documents blow up later traversals), nesting depth and size are bounded, and
every failure is a `YamlInputError` naming the document and the line a user should look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

try:  # the C loader is an order of magnitude faster on cluster-sized snapshots
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml is part of the PyYAML wheels
    _Loader = yaml.SafeLoader

MAX_DEPTH = 64


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


def load_documents(text: str | bytes, *, max_bytes: int | None = None) -> list[Document]:
    """Parse every document of `text`; empty documents are dropped.

    Guarantees: no alias is expanded, no tag beyond YAML's core schema is constructed, no
    structure is deeper than MAX_DEPTH, and the input is at most `max_bytes` long.
    """
    if isinstance(text, bytes):
        if max_bytes is not None and len(text) > max_bytes:
            raise YamlInputError(f"the input is {len(text):,} bytes; the limit is {max_bytes:,}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlInputError(f"the input is not UTF-8 text (byte {exc.start})") from None
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
            _check_structure(node, index)
            try:
                data = loader.construct_document(node)
            except (ValueError, TypeError, AttributeError, OverflowError) as exc:
                # An explicit tag the value does not fit (`!!int abc`, `!!timestamp nope`).
                detail = f" ({exc})" if isinstance(exc, ValueError) else ""
                raise YamlInputError(f"a value does not match its tag{detail}",
                                     document=index) from None
            if data is None:
                continue
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


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "YAML syntax error: " + ("; ".join(parts) if parts else "cannot parse")


def _check_structure(root: yaml.Node, document: int) -> None:
    """Refuse aliases (a node reached twice) and nesting deeper than MAX_DEPTH."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise YamlInputError(
                "anchors and aliases (&name / *name) are not accepted",
                document=document, line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
            )
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise YamlInputError(
                f"the document is nested deeper than {MAX_DEPTH} levels",
                document=document, line=node.start_mark.line + 1,
            )
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)


def locate(node: yaml.Node, path: tuple[str | int, ...]) -> tuple[int, int]:
    """1-based (line, column) of the deepest existing node along `path` (keys and indexes).

    Used to point a validation error such as `spec.ingress[0].ports[1].port` at its line.
    """
    current = node
    for step in path:
        nxt = None
        if isinstance(current, yaml.MappingNode) and isinstance(step, str):
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode) and key.value == step:
                    nxt = value
                    break
        elif (isinstance(current, yaml.SequenceNode) and isinstance(step, int)
              and 0 <= step < len(current.value)):
            nxt = current.value[step]
        if nxt is None:
            break
        current = nxt
    return current.start_mark.line + 1, current.start_mark.column + 1


def document_objects(document: Document) -> list[tuple[tuple[str | int, ...], Any]]:
    """The objects of a document with the path to each: its `items` when it holds a list
    (`(("items", i), item)`), else the document itself at `()`; for `locate`."""
    data = document.data
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return [(("items", i), item) for i, item in enumerate(data["items"])]
    return [((), data)]
