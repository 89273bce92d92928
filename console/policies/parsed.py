"""Drafts read once per text: the editor checks the same text several times in a row (the
review, then the apply that re-checks it, "show more" of a diff that expired), and reading a
draft of a megabyte is most of a check that the cluster does not answer.

What is kept depends on the text alone: its YAML documents (or why it is not YAML) and the
problems its first document's NetworkPolicy schema and validation find. The cluster's answers
(the dry run, the preview) are never kept here.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from isolation.yamlio import Document, load_documents


class _Read:
    """One text read: its documents or the error reading it raised, and what was found in it."""

    def __init__(self, documents: list[Document] | None, error: Exception | None) -> None:
        self.documents = documents
        self.error = error
        self.found: dict[str, Any] = {}


class ParsedDrafts:
    """The last `size` texts read, by digest of their text and size limit. Thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._read: OrderedDict[str, _Read] = OrderedDict()
        self._lock = threading.Lock()

    def documents(self, text: str, *, max_bytes: int) -> list[Document]:
        """`load_documents(text, max_bytes=max_bytes)`, read once per text; raises what it
        raises. The documents are shared: read them, never change them."""
        read = self._entry(text, max_bytes)
        if read.error is not None:
            raise read.error
        assert read.documents is not None
        return read.documents

    def found(self, text: str, max_bytes: int, what: str, find: Callable[[], Any]) -> Any:
        """`find()` once per text read with `documents` (`what` names the finding), then
        kept while the text is; computed every time for a text no longer kept."""
        with self._lock:
            read = self._read.get(_key(text, max_bytes))
            if read is not None and what in read.found:
                return read.found[what]
        value = find()
        if read is not None:
            with self._lock:
                read.found[what] = value
        return value

    def _entry(self, text: str, max_bytes: int) -> _Read:
        key = _key(text, max_bytes)
        with self._lock:
            read = self._read.get(key)
            if read is not None:
                self._read.move_to_end(key)
                return read
        try:
            read = _Read(load_documents(text, max_bytes=max_bytes), None)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            read = _Read(None, exc)
        with self._lock:
            self._read[key] = read
            while len(self._read) > self.size:
                self._read.popitem(last=False)
        return read

    def clear(self) -> None:
        with self._lock:
            self._read.clear()


def _key(text: str, max_bytes: int) -> str:
    return f"{max_bytes}:{hashlib.sha256(text.encode()).hexdigest()}"


# A draft of a megabyte read is some tens of megabytes: the last one read (the review's, which
# its apply checks again) is kept.
PARSED_DRAFTS = ParsedDrafts(size=1)
