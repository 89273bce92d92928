"""Items of a kubectl List read as an item written alike was read (`isolation.yamlfast`).

The pods of one Deployment or DaemonSet, and often of a whole chart, are printed line for
line alike: the same keys, indents and blocks; only one-line values (names, addresses,
times, uids) and managedFields' element keys (`k:{"ip":"10.0.0.7"}:`) differ. Once such an
item has been read (and its left-out blocks checked), an item with the same line count
whose other lines are equal to its lines, whose differing values are safe one-line
scalars (`SAFE_FORM`, after the same prefix) and whose element keys are such keys (after
the same indent, before the same ending, no two alike in one mapping) reads as that item
did: the reader would take the same path through it, check each left-out block against a
shape it has already accepted (`shape_of` leaves out exactly these values and keys; a value
that may not construct, such as `0x_`, it resolves instead, and so is it here), and build
the same tree, with its own values in it, each resolved as the reader resolves it.

Nothing is assumed: an item that differs in any other way, or whose value is read in any
other way (a multi-line scalar, a value spread over lines, a `kind` other than the one
read), is read line by line, and may become a template in turn.
"""

from __future__ import annotations

import marshal
import re
from collections.abc import Callable
from itertools import compress
from operator import getitem, itemgetter, ne
from typing import Any

from isolation.yamlfast_blocks import SAFE_FORM as _SAFE
from isolation.yamlfast_scalars import RESOLVED, UNRESOLVED, may_not_construct, plain

# the line of a value (the first ": " whose remainder is one), as SAFE_VALUE finds it but for
# values that may not construct (which are resolved whenever they differ: `Template.read`)
_VALUE_LINE = re.compile(f": ({_SAFE})\\Z")
# the line of an element key, as `_FIELDS_KEY` and `_ELEMENT_KEY` find it
_KEY_LINE = re.compile(r"( *+(?:- )?)(k:\{[!-~]*\})(:(?: \{\})?)\Z")
# a value not safe for what it may construct to (`may_not_construct`), after a newline
_UNSURE = re.compile(r"\n(?:0[bx]|[0-9]{4}-)")
_SAFE_VALUES = re.compile(f"{_SAFE}(?:\\n{_SAFE})*+")
_ELEMENT_KEYS = re.compile(r"k:\{[!-~]*\}(?:\nk:\{[!-~]*\})*+")
# the newline before the first line, after an item's first, at column 0 (not blank, not a
# comment): where the reader ends the item (a line indented by 1 it refuses)
_ITEM_END = re.compile(r"\n(?=[^ \n#])")

TEMPLATES_PER_COUNT = 4
MAX_TEMPLATES = 512
FRUITLESS = 3   # templates of a line count that never served: make no more of it


def _getter(indexes: tuple[int, ...]) -> Callable[[list[str]], tuple[str, ...]]:
    """A function giving the elements at `indexes` as a tuple (in C for more than one)."""
    if len(indexes) > 1:
        return itemgetter(*indexes)
    if indexes:
        only = indexes[0]
        return lambda lines: (lines[only],)
    return lambda lines: ()


class Template:
    """One item as read: its lines that must be equal, those whose value or element key may
    differ, and how to build the item with another item's values."""

    __slots__ = ("fixed", "fixed_lines", "values", "value_lines", "prefixes", "value_slices",
                 "slots", "keys", "key_lines", "key_prefixes", "key_suffixes", "key_slices",
                 "key_mappings", "skeleton", "paths", "served")

    def __init__(self) -> None:
        self.served = 0

    @classmethod
    def of(cls, lines: list[str], item: Any, record: list[tuple[int, Any, str, str]],
           skipped: list[tuple[int, int]]) -> Template | None:
        """The template of `item`, read from `lines` (its lines, as written); `record`: the
        (line, container or None when not built, key, value text) of each one-line value the
        reader read, `skipped`: the (first, end) lines of each block it checked unbuilt; lines
        relative to the item's first. None when the item cannot serve as one."""
        if not isinstance(item, dict):
            return None
        read = {line: (container, key, text) for line, container, key, text in record}
        unbuilt = bytearray(len(lines))
        for first, end in skipped:
            if first < 0:
                return None
            unbuilt[first:end] = b"\x01" * (end - first)
        fixed: list[int] = []
        values: list[tuple[int, int, Any, str | None]] = []   # line, value's start, slot
        keys: list[tuple[int, str, str]] = []
        for number, line in enumerate(lines):
            if "k:{" in line:
                found = _KEY_LINE.match(line)
                if found is not None:
                    if not unbuilt[number]:
                        return None   # an element key that is built: it is no value
                    keys.append((number, found.group(1), found.group(3)))
                    continue
            found = _VALUE_LINE.search(line) if ": " in line else None
            if found is None:
                fixed.append(number)
                continue
            slot = read.get(number)
            if slot is None:
                if not unbuilt[number]:
                    return None   # read some other way (a scalar over several lines...)
                values.append((number, found.start(1), None, None))
                continue
            container, key, text = slot
            if text != found.group(1):
                return None
            if container is item and key == "kind":
                fixed.append(number)   # the kind chooses what is left out: never varies
                continue
            values.append((number, found.start(1), container, key))
        try:
            skeleton = marshal.dumps(item)
        except ValueError:   # a date, or another value marshal does not write
            return None
        paths = _paths(item)
        containers: list[int] = []
        slots: list[tuple[int, str] | None] = []
        for _, _, container, key in values:
            if container is None:
                slots.append(None)
                continue
            if id(container) not in paths:
                return None
            if id(container) not in containers:
                containers.append(id(container))
            slots.append((containers.index(id(container)), key))   # type: ignore[arg-type]
        template = cls()
        template.skeleton = skeleton
        template.paths = tuple(paths[identity] for identity in containers)
        template.fixed = _getter(tuple(fixed))
        template.fixed_lines = tuple(lines[number] for number in fixed)
        template.values = _getter(tuple(number for number, _, _, _ in values))
        template.value_lines = tuple(lines[number] for number, _, _, _ in values)
        template.prefixes = tuple(lines[number][:start] for number, start, _, _ in values)
        template.value_slices = tuple(slice(start, None) for _, start, _, _ in values)
        template.slots = tuple(slots)
        template.keys = _getter(tuple(number for number, _, _ in keys))
        template.key_lines = tuple(lines[number] for number, _, _ in keys)
        template.key_prefixes = tuple(prefix for _, prefix, _ in keys)
        template.key_suffixes = tuple(suffix for _, _, suffix in keys)
        template.key_slices = tuple(slice(len(prefix), -len(suffix))
                                    for _, prefix, suffix in keys)
        template.key_mappings = _mappings(lines, [(number, len(prefix))
                                                  for number, prefix, _ in keys])
        return template

    def read(self, lines: list[str]) -> Any:
        """The item whose lines are `lines`, built as this template's; None when it is not
        written alike. Raises what resolving a value raises (`plain`).

        Only the lines that differ from the template's own are looked at further: most
        values of items written alike are equal (and were accepted when it was read)."""
        if self.fixed(lines) != self.fixed_lines:
            return None
        written = self.values(lines)
        changed = list(map(ne, written, self.value_lines))
        if True in changed:
            differing = list(compress(written, changed))
            if not all(map(str.startswith, differing, compress(self.prefixes, changed))):
                return None
            values = list(map(getitem, differing, compress(self.value_slices, changed)))
            joined = "\n".join(values)
            if not _safe(joined, values):
                return None
            if _UNSURE.search("\n" + joined) is not None:
                for text in values:   # read unbuilt, they are refused as the reader refuses
                    if may_not_construct(text):
                        plain(text)   # (Doubt when the careful reader refuses it)
            slots = list(compress(self.slots, changed))
        else:
            values, slots = [], []
        if self.key_lines:
            written = self.keys(lines)
            if written != self.key_lines and not self._keys_differ(written):
                return None
        item = marshal.loads(self.skeleton)
        containers: list[Any] = [None] * len(self.paths)
        resolved, unresolved = RESOLVED, UNRESOLVED
        for slot, text in zip(slots, values, strict=True):
            if slot is None:
                continue
            at, key = slot
            container = containers[at]
            if container is None:
                container = item
                for step in self.paths[at]:
                    container = container[step]
                containers[at] = container
            if text[0] in "'\"":
                value: Any = text[1:-1]
            else:
                value = resolved.get(text, unresolved)
                if value is unresolved:
                    value = plain(text)
            container[key] = value
        self.served += 1
        return item

    def _keys_differ(self, written: tuple[str, ...]) -> bool:
        """Whether the element key lines `written` are this template's but for their keys,
        each a key no other key of its mapping equals."""
        if not (all(map(str.startswith, written, self.key_prefixes))
                and all(map(str.endswith, written, self.key_suffixes))):
            return False
        keys = list(map(getitem, written, self.key_slices))
        return (_ELEMENT_KEYS.fullmatch("\n".join(keys)) is not None
                and len(set(zip(self.key_mappings, keys, strict=True))) == len(keys))


def _safe(joined: str, values: list[str]) -> bool:
    """Whether each of `values` (joined by newlines: `joined`) is a safe one-line value.

    Without quotes, backslashes and ": ", that is: none empty, each starting with an ASCII
    letter or digit, none ending with ":" or " " (told by C-speed searches); else each is
    matched."""
    if ('"' in joined or "'" in joined or "\\" in joined or ": " in joined
            or "" in values):
        return _SAFE_VALUES.fullmatch(joined) is not None
    firsts = "".join(map(itemgetter(0), values))
    return (firsts.isascii() and firsts.isalnum() and ":\n" not in joined
            and " \n" not in joined and joined[-1] not in ": ")


def _mappings(lines: list[str], keys: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """For each element key (its line and indent, `- ` included), which mapping it is in,
    as `shape_of` tells them apart: keys of one indent are in one mapping until a line
    less indented (blank lines aside). The same for every item written alike."""
    depth = [len(line) - len(line.lstrip(" ")) if line.strip(" ") else None for line in lines]
    mappings = []
    for number, indent in keys:
        before = number - 1
        while before >= 0 and (depth[before] is None or depth[before] >= indent):
            before -= 1
        mappings.append((indent, before))
    return tuple(mappings)


def _paths(root: Any) -> dict[int, tuple[Any, ...]]:
    """The path (keys and indexes) of every mapping and list in `root`, by identity."""
    paths: dict[int, tuple[Any, ...]] = {}
    stack: list[tuple[Any, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        paths[id(node)] = path
        steps = node.items() if isinstance(node, dict) else enumerate(node)
        for step, child in steps:
            if isinstance(child, dict | list):
                stack.append((child, (*path, step)))
    return paths


class ItemTemplates:
    """The templates of the items of one reading, by their line counts."""

    def __init__(self) -> None:
        self.by_count: dict[int, list[Template]] = {}
        self.misses: dict[int, int] = {}
        self.made = 0

    @staticmethod
    def item_end(text: str, begin: int) -> int | None:
        """The offset of the line that ends the item starting at offset `begin` (None: the
        text's end)."""
        found = _ITEM_END.search(text, begin)
        return found.end() if found is not None else None

    @staticmethod
    def next_item(text: str, begin: int) -> int | None:
        """The offset of the next line that starts with `- ` after offset `begin`: the end
        of the item there when a template reads it (a template's lines start at column 0
        only in its first, so lines up to a line at column 0 of another kind never match)."""
        found = text.find("\n- ", begin)
        return found + 1 if found >= 0 else None

    def read(self, lines: list[str], start: int, end: int) -> Any:
        """The item of lines[start:end] read by a template, or None."""
        for template in self.by_count.get(end - start, ()):
            item = template.read(lines[start:end])
            if item is not None:
                return item
        return None

    def wanted(self, count: int) -> bool:
        """Whether a template of an item of `count` lines that no template read is worth
        making: its line count was seen before, and its templates served."""
        misses = self.misses.get(count, 0)
        self.misses[count] = misses + 1
        if not misses or self.made >= MAX_TEMPLATES:
            return False
        made = self.by_count.get(count, ())
        return len(made) < FRUITLESS or any(template.served for template in made)

    def add(self, count: int, template: Template) -> None:
        kept = self.by_count.setdefault(count, [])
        kept.insert(0, template)
        del kept[TEMPLATES_PER_COUNT:]
        self.made += 1
