"""The object store: every object by resource and (namespace, name), one resourceVersion counter,
and the recent history of changes that watches read.

Stored objects are never modified in place: a write stores a new dict, so readers may hand
stored objects out (serialise them) without copying them under the lock.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

ObjectKey = tuple[str, str]   # (namespace or "", name)


@dataclass(frozen=True)
class Event:
    """One change: ADDED, MODIFIED or DELETED of `obj` (the previous state in `old`)."""

    rv: int
    resource: str
    type: str
    obj: dict[str, Any]
    old: dict[str, Any] | None


def object_key(obj: dict[str, Any]) -> ObjectKey:
    metadata = obj["metadata"]
    return metadata.get("namespace") or "", metadata["name"]


class Store:
    """Thread-safe in-memory objects with a monotonic resourceVersion and a bounded event log."""

    def __init__(self, history: int = 10_000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 0
        self.history = history
        # watches from a resourceVersion below this answer 410 Expired
        self.history_start = 0
        self.closed = False
        self._objects: dict[str, dict[ObjectKey, dict[str, Any]]] = {}
        self._order: dict[str, list[ObjectKey]] = {}
        self._events: deque[Event] = deque()
        self._listeners: list[Callable[[], None]] = []

    # -- reads ------------------------------------------------------------------------------------
    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            return self._objects.get(resource, {}).get((namespace, name))

    def scan(self, resource: str, namespace: str | None = None,
             after: ObjectKey | None = None, chunk: int = 1000) -> Iterator[dict[str, Any]]:
        """Objects of `resource` in (namespace, name) order, optionally in one namespace and
        strictly after `after`. The lock is taken per chunk, not while the caller iterates, so
        a long scan sees objects written meanwhile further on (as paging through etcd does)."""
        while True:
            with self.lock:
                order = self._order.get(resource, [])
                objects = self._objects.get(resource, {})
                start, end = self._bounds(order, namespace)
                if after is not None:
                    start = max(start, bisect.bisect_right(order, after))
                keys = order[start:min(end, start + chunk)]
                batch = [objects[k] for k in keys]
            yield from batch
            if len(keys) < chunk:
                return
            after = keys[-1]

    @staticmethod
    def _bounds(order: list[ObjectKey], namespace: str | None) -> tuple[int, int]:
        if namespace is None:
            return 0, len(order)
        return bisect.bisect_left(order, (namespace, "")), bisect.bisect_left(order, (namespace + "\x00", ""))

    def count_after(self, resource: str, namespace: str | None, after: ObjectKey) -> int:
        """How many objects of `resource` (in `namespace`, if given) sort after `after`."""
        with self.lock:
            order = self._order.get(resource, [])
            start, end = self._bounds(order, namespace)
            return max(0, end - max(start, bisect.bisect_right(order, after)))

    def count(self, resource: str) -> int:
        with self.lock:
            return len(self._objects.get(resource, {}))

    def resources(self) -> list[str]:
        with self.lock:
            return [r for r, objects in self._objects.items() if objects]

    # -- writes -----------------------------------------------------------------------------------
    def put(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store `obj` (create or replace) under a new resourceVersion; returns the stored object."""
        with self.lock:
            self.rv += 1
            stored = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.rv)}}
            key = object_key(stored)
            objects = self._objects.setdefault(resource, {})
            old = objects.get(key)
            objects[key] = stored
            if old is None:
                bisect.insort(self._order.setdefault(resource, []), key)
            self._record(Event(self.rv, resource, "MODIFIED" if old else "ADDED", stored, old))
            return stored

    def remove(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Delete the object named like `obj`; returns its final state (with the deletion's
        resourceVersion), as DELETED watch events carry it."""
        with self.lock:
            key = object_key(obj)
            old = self._objects.get(resource, {}).pop(key)
            order = self._order[resource]
            del order[bisect.bisect_left(order, key)]
            self.rv += 1
            final = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.rv)}}
            self._record(Event(self.rv, resource, "DELETED", final, old))
            return final

    def _record(self, event: Event) -> None:
        self._events.append(event)
        while len(self._events) > self.history:
            self.history_start = self._events.popleft().rv
        self.changed.notify_all()
        for listener in self._listeners:
            listener()

    def on_write(self, listener: Callable[[], None]) -> None:
        """Call `listener` (under the store lock, so it must be quick) after every write."""
        self._listeners.append(listener)

    # -- watches ----------------------------------------------------------------------------------
    def events_after(self, rv: int) -> list[Event] | None:
        """Events with resourceVersion > rv, oldest first; None when some were already dropped."""
        with self.lock:
            if rv < self.history_start:
                return None
            out = []
            for event in reversed(self._events):
                if event.rv <= rv:
                    break
                out.append(event)
            out.reverse()
            return out

    def wait(self, rv: int, timeout: float) -> None:
        """Block until the store moves past `rv`, it is closed, or `timeout` seconds pass."""
        with self.changed:
            if self.rv <= rv and not self.closed:
                self.changed.wait(timeout)

    def compact(self) -> None:
        """Forget the change history (watches from any earlier resourceVersion then get 410)."""
        with self.lock:
            self._events.clear()
            self.history_start = self.rv

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    # -- whole state ------------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """The whole state as plain data (for the state file)."""
        with self.lock:
            return {
                "resourceVersion": self.rv,
                "objects": {r: [objects[k] for k in self._order[r]]
                            for r, objects in self._objects.items() if objects},
            }

    def load(self, state: dict[str, Any]) -> None:
        """Replace everything with a `dump()`; the history restarts at the loaded version."""
        with self.lock:
            self._objects.clear()
            self._order.clear()
            self._events.clear()
            for resource, items in (state.get("objects") or {}).items():
                objects = {object_key(obj): obj for obj in items}
                self._objects[resource] = objects
                self._order[resource] = sorted(objects)
            self.rv = int(state.get("resourceVersion") or 0)
            self.history_start = self.rv
