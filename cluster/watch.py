"""The cluster model kept current from watches: one thread per kind a Snapshot reads.

Each kind is listed once, then watched from the list's resourceVersion; ADDED, MODIFIED and
DELETED events are applied as they arrive and BOOKMARKs only move the version on. A watch that
ends or drops is resumed from the last version seen (after a backoff when it failed); a 410
(the server compacted past that version) lists the kind again. A custom kind the cluster does
not serve reads as empty and is looked for again every CRD_RECHECK_SECONDS, so installing the
CRD later is noticed.

The model is plain data; publishing it (console/core/cluster.py) is someone else's business:
`wait_for_change` wakes the publisher, `kind_state` hands out one kind's objects, version and
resourceVersion under one lock, so they always agree.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from cluster.errors import ClusterError, MissingCRDError, NotFoundError
from cluster.kinds import KINDS
from cluster.snapshots import SNAPSHOT_KINDS
from isolation.collector import collector_paused

log = logging.getLogger(__name__)

# The server ends a watch after about this long; it is then resumed from the last version.
WATCH_SECONDS = 240
# Backoff after a failed list or watch: doubles from the first to the last, with jitter.
BACKOFF_FIRST, BACKOFF_LAST = 0.2, 30.0
# A watch the server ends sooner than this after it began counts as a failure (backoff).
QUICK_END_SECONDS = 1.0
# How many of a kind's latest changes are kept for `changes_since`.
CHANGES_KEPT = 5000
# How often a kind whose CRD is missing is looked for again.
CRD_RECHECK_SECONDS = 30.0

ObjectKey = tuple[str, str]   # (namespace or "", name)


class Gateway(Protocol):
    """What the watchers need of `cluster.gateway.Gateway`."""

    def list_with_version(self, kind: str) -> tuple[list[dict[str, Any]], str]: ...

    def watch(self, kind: str, resource_version: str, *,
              timeout_seconds: int = WATCH_SECONDS) -> Iterator[dict[str, Any]]:
        """Open the watch (errors raise here) and return its events."""


@dataclass(frozen=True)
class Change:
    """One applied event: the kind's version it made, ADDED / MODIFIED / DELETED, the object."""

    version: int
    type: str
    obj: dict[str, Any]


@dataclass
class KindState:
    """One kind as the model holds it. `version` counts changes (a list counts as one);
    `resource_version` is the last list or event applied; `synced` once the first list (or
    the finding that the kind is not served) is in; `changes` the latest events applied since
    the last list (at version `listed_at`), for whoever passes the model on in deltas."""

    kind: str
    objects: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    version: int = 0
    resource_version: str = ""
    synced: bool = False
    failing_since: float | None = None   # monotonic time of the first failure in a row
    listed_at: int = 0
    changes: deque[Change] = field(default_factory=lambda: deque(maxlen=CHANGES_KEPT))


class ClusterWatcher:
    """Watch every kind of `kinds` through `gateway` in daemon threads until `stop()`."""

    def __init__(self, gateway: Gateway, kinds: tuple[str, ...] = SNAPSHOT_KINDS, *,
                 watch_seconds: int = WATCH_SECONDS) -> None:
        self.gateway = gateway
        self.watch_seconds = watch_seconds
        self._states = {kind: KindState(kind) for kind in kinds}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.relists = 0   # lists after the first one of a kind (410s and CRD rechecks)

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> ClusterWatcher:
        for kind in self._states:
            thread = threading.Thread(target=self._run, args=(kind,), name=f"watch-{kind}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 0.0) -> None:
        """Ask the threads to stop, waiting up to `timeout` seconds for them. A thread blocked
        in a quiet watch ends when the server closes the stream, or with the process (they are
        daemons); it changes the model no more either way."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # ---- what the publisher reads ---------------------------------------------------------

    def synced(self) -> bool:
        with self._changed:
            return all(state.synced for state in self._states.values())

    def wait_synced(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not all(s.synced for s in self._states.values()):
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping.is_set():
                    return False
                self._changed.wait(left)
            return True

    def failing_for(self) -> float:
        """Seconds the longest-failing kind has been failing in a row (0 when none is)."""
        now = time.monotonic()
        with self._changed:
            since = [s.failing_since for s in self._states.values() if s.failing_since]
        return now - min(since) if since else 0.0

    def versions(self) -> dict[str, int]:
        with self._changed:
            return {kind: state.version for kind, state in self._states.items()}

    def wait_for_change(self, seen: dict[str, int], timeout: float) -> dict[str, int]:
        """Block until some kind's version differs from `seen` (or `timeout`); the versions."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._stopping.is_set():
                now = {kind: state.version for kind, state in self._states.items()}
                left = deadline - time.monotonic()
                if now != seen or left <= 0:
                    return now
                self._changed.wait(left)
            return {kind: state.version for kind, state in self._states.items()}

    def head(self, kind: str) -> tuple[int, str]:
        """(version, resourceVersion) of one kind."""
        with self._changed:
            state = self._states[kind]
            return state.version, state.resource_version

    def kind_state(self, kind: str) -> tuple[int, str, list[dict[str, Any]]]:
        """(version, resourceVersion, objects in (namespace, name) order) of one kind."""
        with self._changed:
            state = self._states[kind]
            objects = state.objects
            ordered = [objects[key] for key in sorted(objects)]
            return state.version, state.resource_version, ordered

    def changes_since(self, kind: str, version: int, upto: int) -> list[Change] | None:
        """The changes of one kind after `version` up to `upto`, oldest first; None when they
        are no longer all known (a list replaced the kind since, or they were too many)."""
        with self._changed:
            state = self._states[kind]
            if version < state.listed_at:
                return None
            changes = [c for c in state.changes if version < c.version <= upto]
            if len(changes) != min(upto, state.version) - version:
                return None
            return changes

    # ---- one kind -------------------------------------------------------------------------

    def _run(self, kind: str) -> None:
        version: str | None = None    # where the next watch starts; None: list first
        backoff = BACKOFF_FIRST
        while not self._stopping.is_set():
            try:
                if version is None:
                    version = self._list(kind)
                    if version is None:   # not served: look again later
                        self._stopping.wait(CRD_RECHECK_SECONDS)
                        continue
                started = time.monotonic()
                events = self.gateway.watch(kind, version, timeout_seconds=self.watch_seconds)
                self._connected(kind)
                for event in events:
                    version = self._apply(kind, event) or version
                    backoff = BACKOFF_FIRST
                    if self._stopping.is_set():
                        return
                # The server ended the stream. Resume at once, unless it ends streams as soon
                # as they start (a server shutting down): then back off as after a failure.
                if time.monotonic() - started < QUICK_END_SECONDS:
                    backoff = self._pause(backoff)
                else:
                    backoff = BACKOFF_FIRST
            except ClusterError as exc:
                if exc.status == 410:
                    log.info("watch of %s expired at %s; listing again", kind, version)
                    version = None
                    continue
                self._failed(kind, exc)
                backoff = self._pause(backoff)
            except ValueError as exc:   # a line cut short by a dropped connection
                self._failed(kind, exc)
                backoff = self._pause(backoff)

    def _list(self, kind: str) -> str | None:
        """List `kind` into the model; its resourceVersion, or None when it is not served."""
        try:
            items, version = self.gateway.list_with_version(kind)
        except (MissingCRDError, NotFoundError) as exc:
            if isinstance(exc, NotFoundError) and not KINDS[kind].custom:
                raise
            items, version = [], None
        with self._changed:
            state = self._states[kind]
            if state.synced:
                self.relists += 1
            state.objects = {_key(obj): obj for obj in items}
            state.version += 1
            state.listed_at = state.version
            state.changes.clear()
            state.resource_version = version or ""
            state.synced = True
            state.failing_since = None
            self._changed.notify_all()
        return version

    def _apply(self, kind: str, event: dict[str, Any]) -> str | None:
        obj = event.get("object") or {}
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "") or None
        kind_of_change = event.get("type")
        with self._changed:
            state = self._states[kind]
            if version:
                state.resource_version = version
            if self._stopping.is_set():
                return None
            if kind_of_change in ("ADDED", "MODIFIED"):
                state.objects[_key(obj)] = obj
            elif kind_of_change == "DELETED":
                state.objects.pop(_key(obj), None)
            else:   # BOOKMARK: nothing changed up to `version`
                return version
            state.version += 1
            state.changes.append(Change(state.version, kind_of_change, obj))
            self._changed.notify_all()
        return version

    def _connected(self, kind: str) -> None:
        with self._changed:
            self._states[kind].failing_since = None

    def _failed(self, kind: str, exc: Exception) -> None:
        if self._stopping.is_set():
            return   # the connection closing under a stopped watcher is no news
        with self._changed:
            state = self._states[kind]
            first = state.failing_since is None
            if first:
                state.failing_since = time.monotonic()
        if first:
            log.warning("watch of %s failed (%s); retrying", kind, exc)

    def _pause(self, backoff: float) -> float:
        self._stopping.wait(backoff * random.uniform(0.5, 1.0))
        return min(backoff * 2, BACKOFF_LAST)


def _key(obj: dict[str, Any]) -> ObjectKey:
    metadata = obj.get("metadata") or {}
    return metadata.get("namespace") or "", metadata.get("name") or ""


# ---- the published form of one kind -----------------------------------------------------------

def encode_objects(objects: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    """Objects as bytes: JSON (orjson) compressed with zlib at its fastest level
    (bench/watch_latency_bench.py compares JSON and pickle, with and without zlib)."""
    return zlib.compress(orjson.dumps(objects), 1)


def decode_objects(data: bytes) -> Any:
    """The objects `encode_objects` encoded (fresh dicts on every call).

    The cyclic garbage collector is paused meanwhile: decoding builds millions of dicts and
    lists, and it would scan the growing heap again and again (7x slower on 5,000
    kubectl-shaped pods in bench/watch_latency_bench.py). Nothing decoded forms a cycle.
    """
    with collector_paused():
        return orjson.loads(zlib.decompress(data))


def resource_version_number(value: str) -> int | None:
    """A resourceVersion as a number to compare, or None when it is not one.

    resourceVersions are opaque to clients, but every etcd-backed API server (and the
    simulator) numbers them with one counter, which is what read-your-writes relies on.
    """
    return int(value) if value.isdigit() else None

