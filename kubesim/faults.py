"""Fault injection: the next N requests matching a path answer an error or hang first."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass


@dataclass
class Fault:
    path_pattern: str
    status: int | None
    hang: float | None
    count: int
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path_pattern)


class Faults:
    """Faults waiting for requests; each fault serves `count` matching requests, then disappears.

    `path_pattern` is a shell-style pattern over the request path without the query string, where
    `*` also matches `/` (e.g. `/api/v1/namespaces*` or `*/networkpolicies*`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.released = threading.Event()   # set on server stop: hanging requests end at once
        self.served = 0

    def inject(self, path_pattern: str, *, status: int | None = None, hang: float | None = None,
               count: int = 1, method: str | None = None) -> None:
        """Make the next `count` requests matching `path_pattern` (and `method`, if given) fail.

        With `status` (default 500) they answer that error as a Status object (429 and 503 carry
        Retry-After: 1). With `hang` they are first held for that many seconds; a hang without an
        explicit status then serves the request normally, so clients see a slow server.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        if status is None and hang is None:
            status = 500
        with self._lock:
            self._faults.append(Fault(path_pattern, status, hang, count, method))

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(f.count for f in self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request triggers (consuming one use of it), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    self.served += 1
                    return fault
        return None
