"""Text for the policy editor: starting templates, YAML of live objects, side-by-side diffs."""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

import yaml
from django.utils.translation import gettext_noop, ngettext

from console.core.audit import clean
from isolation.snapshot import NAME_LABEL

API_VERSION = "networking.k8s.io/v1"
NODE_LOCAL_DNS = "169.254.25.10/32"
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


@dataclass(frozen=True)
class PolicyTemplate:
    """A starting template: `label` and `description` in English (the YAML's header comment),
    translated where the editor lists them."""

    key: str
    label: str
    description: str
    build: Callable[[str, list[str]], dict[str, Any]]


def _policy(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _namespaces_selector(names: list[str]) -> dict[str, Any]:
    if len(names) == 1:
        return {"matchLabels": {NAME_LABEL: names[0]}}
    return {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": names}]}


TEMPLATES: dict[str, PolicyTemplate] = {t.key: t for t in (
    PolicyTemplate(
        "deny-ingress", gettext_noop("Default deny ingress"),
        gettext_noop("Every pod of the project accepts nothing unless another policy allows it."),
        lambda ns, _: _policy("default-deny-ingress", ns, {
            "podSelector": {}, "policyTypes": ["Ingress"]})),
    PolicyTemplate(
        "deny-all", gettext_noop("Default deny all"),
        gettext_noop("Nothing in or out of the project's pods unless another policy allows it "
                     "(DNS too)."),
        lambda ns, _: _policy("default-deny-all", ns, {
            "podSelector": {}, "policyTypes": ["Ingress", "Egress"]})),
    PolicyTemplate(
        "allow-same-namespace", gettext_noop("Allow from the same project"),
        gettext_noop("Pods of the project accept traffic from every pod of the same project."),
        lambda ns, _: _policy("allow-same-namespace", ns, {
            "podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {}}]}]})),
    PolicyTemplate(
        "allow-from-ingress-controller", gettext_noop("Allow from the ingress controller"),
        gettext_noop("Pods of the project accept traffic from the namespaces running the "
                     "ingress controller."),
        lambda ns, ingress: _policy("allow-from-ingress-controller", ns, {
            "podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": _namespaces_selector(
                ingress or ["ingress-nginx"])}]}]})),
    PolicyTemplate(
        "allow-dns-egress", gettext_noop("Allow DNS egress"),
        gettext_noop("Pods of the project may query the cluster DNS (and node-local DNS) on "
                     "port 53."),
        lambda ns, _: _policy("allow-dns-egress", ns, {
            "podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [
                {"namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}},
                 "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}},
                {"ipBlock": {"cidr": NODE_LOCAL_DNS}}],
                "ports": DNS_PORTS}]})),
)}

BLANK = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: my-policy
  namespace: {namespace}
spec:
  # Which pods of the project this policy applies to; {{}} selects them all.
  podSelector:
    matchLabels:
      app: my-app
  policyTypes:
    - Ingress
  ingress:
    - from:
        - podSelector: {{}}
      ports:
        - protocol: TCP
          port: 8080
"""


def template_yaml(key: str, namespace: str, ingress_namespaces: list[str]) -> str:
    """The YAML of template `key` for `namespace` (a commented skeleton for unknown keys)."""
    template = TEMPLATES.get(key)
    if template is None:
        return BLANK.format(namespace=namespace or "my-project")
    header = f"# {template.label}: {template.description}\n"
    return header + dump(template.build(namespace or "my-project", ingress_namespaces))


def dump(obj: dict[str, Any]) -> str:
    """Block-style YAML in the object's own key order: exactly what `yaml.dump` writes with
    libyaml's safe dumper (`_yaml`), written here directly, a second faster on a policy of
    thousands of rules.

    Names, numbers, addresses, booleans and nulls are written as they are. Any other scalar (a
    text PyYAML quotes, such as "yes", "1e3", "" or "a: b", a float, a date) is written as
    PyYAML writes it alone when that is one line and its line fits the emitter's width (it
    folds only longer lines), else as PyYAML writes it at the same column (see `_in_place`).
    An object holding anything else (a key that is not a one-line scalar, a value of a type
    the safe dumper does not write as a scalar) is left to PyYAML whole."""
    if not obj or type(obj) is not dict:
        return _yaml(obj)
    lines: list[str] = []
    containers: list[int] = []
    try:
        _block_mapping(obj, "", lines, containers)
    except _NotPlain:
        return _yaml(obj)
    if len(set(containers)) < len(containers):
        return _yaml(obj)    # a mapping or list met twice: PyYAML writes an anchor and alias
    return "".join(lines)


def _yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_DUMPER, sort_keys=False, default_flow_style=False,
                     allow_unicode=True)


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# What PyYAML writes without quotes whatever the context: no spaces, colons, quotes, leading
# indicators or line breaks; `_plain` also asks its resolver that the text reads back as text.
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]*")
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
# The emitter's line width (`best_width`): it folds a scalar only on a line longer than this.
_WIDTH = 80
# Scalars kept as written (about the distinct names and addresses of the largest policies).
_KEPT_SCALARS = 1 << 16
# The scalar types the safe dumper writes the same wherever they are, besides those `_inline`
# writes itself (it marks a date met twice as an anchor and an alias: left to it).
_OTHER_SCALARS = frozenset({str, float})
# What YAML reads as a line break.
_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")


class _NotPlain(Exception):
    """A key or value `dump` leaves to PyYAML."""


@lru_cache(maxsize=_KEPT_SCALARS)
def _plain(text: str) -> bool:
    return bool(_PLAIN_TEXT.fullmatch(text)) and \
        _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG


@lru_cache(maxsize=_KEPT_SCALARS)
def _alone(kind: type, value: Any) -> str | None:
    """`value` (of type `kind`: 1, 1.0 and True are equal keys) as PyYAML writes it alone, or
    None when it holds a line break (PyYAML writes that differently in a key and a value, and
    breaks it over lines in quotes) or takes more than one line."""
    if kind is str and _BREAKS.search(value):
        return None
    text = _yaml(value)
    for end in ("\n...\n", "\n"):
        if text.endswith(end):
            text = text[:-len(end)]
            break
    if _BREAKS.search(text) or text.startswith(("---", "...")):
        return None
    return text


def _inline(value: Any, column: int) -> str | None:
    """`value` as written from `column` on its line, or None when only PyYAML can tell (a
    scalar it may fold or break over lines there). Raises _NotPlain for a value of another
    type."""
    kind = type(value)
    if kind is str and _plain(value):
        return value
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is dict or kind is list:   # an empty one: the others are blocks
        return "{}" if kind is dict else "[]"
    if kind not in _OTHER_SCALARS:
        raise _NotPlain
    text = _alone(kind, value)
    return text if text is not None and column + len(text) <= _WIDTH else None


@lru_cache(maxsize=1 << 10)
def _in_place(depth: int, key: Any, kind: type, value: Any, listed: bool) -> str:
    """The lines PyYAML writes for scalar `value` of type `kind` as the value of `key` (or,
    `listed`, as an item of the list that is `key`'s value) in a mapping `depth` levels deep:
    a scalar folded over lines is indented from the column its line starts at, which only
    the depth sets (a mapping in a list item starts where that item's text does)."""
    document: Any = {key: [value] if listed else value}
    for _ in range(depth):
        document = {"a": document}
    text = _yaml(document)
    for _ in range(depth + (1 if listed else 0)):
        text = text[text.index("\n") + 1:]
    return text


# A longer key is written as a complex key ("? key"): left to PyYAML (libyaml's limit is 128,
# PyYAML's own 127).
_SIMPLE_KEY = 128


def _key(key: Any, pad: str) -> str:
    if type(key) is str and _plain(key):
        if len(key) >= _SIMPLE_KEY:
            raise _NotPlain
        return key
    if type(key) is dict or type(key) is list:
        raise _NotPlain
    text = _inline(key, len(pad) + 1)
    if text is None:
        raise _NotPlain
    return text


def _block_mapping(mapping: dict[Any, Any], pad: str, lines: list[str],
                   containers: list[int]) -> None:
    """Appends the lines of `mapping` (not empty) at indentation `pad`, and the identity of
    every mapping and list in it to `containers`."""
    containers.append(id(mapping))
    for key, value in mapping.items():
        name = _key(key, pad)
        kind = type(value)
        if kind is dict and value:
            lines.append(f"{pad}{name}:\n")
            _block_mapping(value, pad + "  ", lines, containers)
        elif kind is list and value:
            lines.append(f"{pad}{name}:\n")
            _block_sequence(value, pad, lines, containers)  # a mapping's list is not indented
        else:
            if kind is dict or kind is list:
                containers.append(id(value))
            text = _inline(value, len(pad) + len(name) + 2)
            lines.append(f"{pad}{name}: {text}\n" if text is not None else
                         _in_place(len(pad) // 2, key, kind, value, False))


def _block_sequence(items: list[Any], pad: str, lines: list[str],
                    containers: list[int]) -> None:
    """Appends the lines of `items` (not empty) at indentation `pad` (see `_block_mapping`)."""
    containers.append(id(items))
    inner = pad + "  "
    for item in items:
        kind = type(item)
        if (kind is dict or kind is list) and item:
            first = len(lines)
            if kind is dict:
                _block_mapping(item, inner, lines, containers)
            else:
                _block_sequence(item, inner, lines, containers)
            lines[first] = f"{pad}- {lines[first][len(inner):]}"
        else:
            if kind is dict or kind is list:
                containers.append(id(item))
            text = _inline(item, len(inner))
            lines.append(f"{pad}- {text}\n" if text is not None else
                         _in_place(len(pad) // 2, "a", kind, item, True))


def live_yaml(obj: dict[str, Any]) -> str:
    """What the editor starts from: the live object without server-set fields."""
    return dump(clean(obj))


@dataclass(frozen=True)
class DiffRow:
    """One line pair of a side-by-side diff; kind is equal, change, insert or delete, or gap
    (a run of unchanged lines folded away: `left` says how many)."""

    kind: str
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def side_by_side(before: str, after: str) -> list[DiffRow]:
    """Line pairs of `before` and `after`; changed blocks are paired line by line."""
    left, right = before.splitlines(), after.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in line_opcodes(left, right):
        if tag == "equal":
            rows += [DiffRow("equal", i + 1, left[i], j + 1, right[j])
                     for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            i, j = i1 + k, j1 + k
            has_left, has_right = i < i2, j < j2
            kind = "change" if has_left and has_right else ("delete" if has_left else "insert")
            rows.append(DiffRow(kind, i + 1 if has_left else None, left[i] if has_left else "",
                                j + 1 if has_right else None, right[j] if has_right else ""))
    return rows


# Unchanged lines kept around each change; longer unchanged runs fold into one "gap" row.
DIFF_CONTEXT = 3
# Rows of a diff sent at once; the rest comes with "show more".
DIFF_PAGE_ROWS = 300


def folded(rows: list[DiffRow], context: int = DIFF_CONTEXT) -> list[DiffRow]:
    """`rows` with each run of unchanged lines longer than 2×`context` (+1) folded into one
    gap row ("19,950 unchanged lines"), keeping `context` lines next to each change."""
    result: list[DiffRow] = []
    start = 0
    while start < len(rows):
        if rows[start].kind != "equal":
            result.append(rows[start])
            start += 1
            continue
        end = start
        while end < len(rows) and rows[end].kind == "equal":
            end += 1
        head = context if start > 0 else 0
        tail = context if end < len(rows) else 0
        hidden = (end - start) - head - tail
        if hidden <= 1:
            result += rows[start:end]
        else:
            result += rows[start:start + head]
            gap = ngettext("%(count)s unchanged line", "%(count)s unchanged lines", hidden)
            result.append(DiffRow("gap", None, gap % {"count": f"{hidden:,}"}, None, ""))
            result += rows[end - tail:end]
        start = end
    return result


class FoldedDiff(Sequence[DiffRow]):
    """`folded(side_by_side(before, after))`, each row built only when it is read: a page of
    a diff of 15,000 lines costs its own rows, the rest is only counted."""

    def __init__(self, before: str, after: str, context: int = DIFF_CONTEXT) -> None:
        self._left, self._right = before.splitlines(), after.splitlines()
        # (first row, part): ("equal", i, j, count) | ("op", i1, i2, j1, j2) | ("gap", hidden)
        self._starts: list[int] = []
        self._parts: list[tuple[Any, ...]] = []
        ops = line_opcodes(self._left, self._right)
        total = 0
        for number, (tag, i1, i2, j1, j2) in enumerate(ops):
            if tag != "equal":
                total = self._add(total, ("op", i1, i2, j1, j2), max(i2 - i1, j2 - j1))
                continue
            # An equal block is a whole run of unchanged rows (difflib never puts two side by
            # side), first or last of the diff when it is the first or last block.
            count = i2 - i1
            head = context if number > 0 else 0
            tail = context if number < len(ops) - 1 else 0
            hidden = count - head - tail
            if hidden <= 1:
                total = self._add(total, ("equal", i1, j1, count), count)
                continue
            total = self._add(total, ("equal", i1, j1, head), head)
            total = self._add(total, ("gap", hidden), 1)
            total = self._add(total, ("equal", i2 - tail, j2 - tail, tail), tail)
        self._total = total

    def _add(self, total: int, part: tuple[Any, ...], rows: int) -> int:
        if rows > 0:
            self._starts.append(total)
            self._parts.append(part)
        return total + rows

    def __len__(self) -> int:
        return self._total

    @overload
    def __getitem__(self, index: int) -> DiffRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[DiffRow]: ...

    def __getitem__(self, index: int | slice) -> DiffRow | list[DiffRow]:
        if isinstance(index, slice):
            return [self._row(k) for k in range(*index.indices(self._total))]
        if index < 0:
            index += self._total
        if not 0 <= index < self._total:
            raise IndexError("diff row out of range")
        return self._row(index)

    def _row(self, index: int) -> DiffRow:
        number = bisect.bisect_right(self._starts, index) - 1
        part, k = self._parts[number], index - self._starts[number]
        if part[0] == "equal":
            i, j = part[1] + k, part[2] + k
            return DiffRow("equal", i + 1, self._left[i], j + 1, self._right[j])
        if part[0] == "gap":
            gap = ngettext("%(count)s unchanged line", "%(count)s unchanged lines", part[1])
            return DiffRow("gap", None, gap % {"count": f"{part[1]:,}"}, None, "")
        _, i1, i2, j1, j2 = part
        i, j = i1 + k, j1 + k
        has_left, has_right = i < i2, j < j2
        kind = "change" if has_left and has_right else ("delete" if has_left else "insert")
        return DiffRow(kind, i + 1 if has_left else None, self._left[i] if has_left else "",
                       j + 1 if has_right else None, self._right[j] if has_right else "")


@dataclass(frozen=True)
class DiffPage:
    """One page of a (folded) diff: `rows` from row `start` of `total`."""

    rows: list[DiffRow]
    start: int
    total: int

    @property
    def end(self) -> int:
        return self.start + len(self.rows)

    @property
    def remaining(self) -> int:
        return max(self.total - self.end, 0)

    @property
    def next_size(self) -> int:
        return min(self.remaining, DIFF_PAGE_ROWS)


def diff_page(rows: Sequence[DiffRow], start: int = 0, size: int = DIFF_PAGE_ROWS) -> DiffPage:
    start = max(0, min(start, len(rows)))
    return DiffPage(rows[start:start + size], start, len(rows))


# Above this many differing lines, difflib's junk heuristic is on: without it, a diff of
# thousands of lines that repeat ("- from:", "ports:") takes minutes.
EXACT_DIFF_LINES = 4000


def line_opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib opcodes of `a` → `b`, computed only over what lies between their common first
    and last lines (so one edit in 100,000 lines costs a few lines of matching)."""
    shortest = min(len(a), len(b))
    prefix = 0
    while prefix < shortest and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    middle_a, middle_b = a[prefix:len(a) - suffix], b[prefix:len(b) - suffix]
    ops: list[tuple[str, int, int, int, int]] = []

    def add(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if i1 == i2 and j1 == j2:
            return
        if ops and tag == "equal" and ops[-1][0] == "equal":
            ops[-1] = ("equal", ops[-1][1], i2, ops[-1][3], j2)
            return
        ops.append((tag, i1, i2, j1, j2))

    add("equal", 0, prefix, 0, prefix)
    if not middle_a or not middle_b:
        # One side has nothing between the common lines: difflib's only answer is an insert
        # or a delete, without indexing the other side's lines.
        add("insert" if middle_b else "delete", prefix, len(a) - suffix, prefix, len(b) - suffix)
    else:
        matcher = difflib.SequenceMatcher(
            a=middle_a, b=middle_b,
            autojunk=len(middle_a) + len(middle_b) > EXACT_DIFF_LINES)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            add(tag, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix)
    add("equal", len(a) - suffix, len(a), len(b) - suffix, len(b))
    return ops
