"""A List that `kubectl get -o json` printed, read in three parts (the largest by a process
of its own), as `isolation.yamlfast.split_list` reads a YAML one.

kubectl indents by 4: the items are the lines between `    "items": [` and `    ]`, each
item's last line `        },` (a JSON string holds no line break, so these lines are
structure). The List is cut after one item into: the head, the text up to that item's `}`
closed by `]}`; the rest, the items after it, as a list in an object (as deeply nested as in
the List); the tail, the List's members after `items`, as an object. The head reads as JSON
only when exactly two values are open where it was cut: an array, the value of the key read
last in the List's own object. When that key is `items`, the rest reads as one list and the
tail as an object with none of the head's keys, the List reads as the head with the rest's
items after its own and the tail's members after its own. Duplicate keys within a part are
found when each is read (no other mapping spans two parts).

Each part is copied out of the text once, by the process that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_ITEMS = '\n    "items": [\n'
_ITEM_END = "\n        },\n        {\n"
_ITEMS_END = "\n    ]"
_WHITE_SPACE = " \t\r\n"


def _spelled(part: str, text: str | bytes) -> Any:
    return part.encode() if isinstance(text, bytes) else part


def _joined(text: str | bytes, *parts: Any) -> str | bytes:
    if isinstance(text, bytes):
        return b"".join(part if isinstance(part, bytes | memoryview) else part.encode()
                        for part in parts)
    return "".join(parts)


@dataclass(frozen=True)
class JsonListSplit:
    """Where a kubectl `-o json` List is cut: after the item whose `}` ends at `comma`, the
    items' `]` line starting at `end`."""

    text: str | bytes
    comma: int
    end: int

    @classmethod
    def of(cls, text: str | bytes, first_bytes: int) -> JsonListSplit | None:
        """The cut after the item that ends about `first_bytes` into `text`; None when
        `text` is not such a List or no item follows that one."""
        start = text.find(_spelled(_ITEMS, text))
        end = text.rfind(_spelled(_ITEMS_END, text))
        if start < 0 or end < start:
            return None
        cut = text.find(_spelled(_ITEM_END, text), max(start, first_bytes), end)
        if cut < 0:
            return None
        return cls(text, cut + len("\n        }"), end)

    def _view(self) -> Any:
        return memoryview(self.text) if isinstance(self.text, bytes) else self.text

    def head(self) -> str | bytes:
        """The text up to the cut, the two values open there closed."""
        return _joined(self.text, self._view()[:self.comma], "]}")

    def rest(self) -> str | bytes:
        """The items after the cut, as a list in an object."""
        return _joined(self.text, '{"": [', self._view()[self.comma + 1:self.end], "]}")

    def tail(self) -> str | bytes | None:
        """The members after the items' `]`, as an object; None when no `,` or `}` follows
        it (the List is then not what it seemed)."""
        text = self.text
        at = self.end + len(_ITEMS_END)
        while at < len(text) and text[at:at + 1] in (_spelled(c, text) for c in _WHITE_SPACE):
            at += 1
        follows = text[at:at + 1]
        if follows == _spelled(",", text):
            return _joined(text, "{", self._view()[at + 1:])
        if follows == _spelled("}", text):
            return _joined(text, "{", self._view()[at:])
        return None


def rest_items(rest: Any) -> list[Any] | None:
    """The items of the rest, as read; None when it is not what `JsonListSplit.rest` made."""
    if isinstance(rest, dict) and len(rest) == 1 and isinstance(rest.get(""), list):
        return rest[""]
    return None


def joined(head: Any, items: list[Any], tail: Any) -> Any:
    """The List read from its parts (as read), or None when they do not make one (see
    above): the caller then reads the whole text."""
    if (not isinstance(head, dict) or not head or next(reversed(head)) != "items"
            or not isinstance(head["items"], list) or not isinstance(tail, dict)
            or not tail.keys().isdisjoint(head)):
        return None
    head["items"].extend(items)
    head.update(tail)
    return head
