"""The cluster before a review's change, read once per state of the cluster.

A user edits a draft and reviews it again and again while the cluster stays as it was: each
review's `before` is the same cluster. The snapshot read for the first review is kept with
what was read from it (`clusters.BeforeSide`: every policy parsed and converted, the engines
built on it), named by the identity and resourceVersion of every object it holds
(`snapshot_key`). A later snapshot with the same key is the very same cluster, so the kept one
stands in for it and only the `after` side of the next change is read. A snapshot any object of
which changed, appeared or went away has another key and is read again.

`BASELINES` holds the latest snapshot read (least recently used out first); it is shared by
the threads of a process, and one snapshot is read by one of them while the others wait.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from isolation.review.clusters import BeforeSide
from isolation.snapshot import KIND_FIELDS, Snapshot


def snapshot_key(snapshot: Snapshot) -> str | None:
    """A digest of every object's kind, namespace, name, uid and resourceVersion (the API
    server gives every object a uid of its own and every change a new resourceVersion); None
    when an object lacks either, so that the snapshot cannot be named by its objects."""
    digest = hashlib.sha256()
    for attr in KIND_FIELDS.values():
        objects = getattr(snapshot, attr)
        digest.update(f"{attr}:{len(objects)}\n".encode())
        for obj in objects:
            metadata = obj.get("metadata") if isinstance(obj, dict) else None
            if not isinstance(metadata, dict):
                return None
            uid, version = metadata.get("uid"), metadata.get("resourceVersion")
            if not (isinstance(uid, str) and uid and isinstance(version, str) and version):
                return None
            digest.update(f"{metadata.get('namespace')}|{metadata.get('name')}|"
                          f"{uid}|{version}\n".encode())
    return digest.hexdigest()


@dataclass
class _Entry:
    snapshot: Snapshot
    lock: threading.Lock = field(default_factory=threading.Lock)
    before: BeforeSide | None = None


class Baselines:
    """The last `size` snapshots read as the `before` of a change, by `snapshot_key`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def snapshot(self, snapshot: Snapshot) -> Snapshot:
        """The kept snapshot of the same cluster as `snapshot` (its objects are those of
        `snapshot`, version for version), else `snapshot` itself, kept from now on."""
        key = snapshot_key(snapshot)
        if key is None:
            return snapshot
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(snapshot)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
            return entry.snapshot

    def before(self, snapshot: Snapshot, *, live: bool = False) -> BeforeSide | None:
        """`snapshot` read as the `before` of a change (once: later calls get the same),
        when it is a snapshot `self.snapshot` returned; else None. Raises what
        `BeforeSide.read` raises (nothing is kept then)."""
        entry = self._entry_of(snapshot)
        if entry is None:
            return None
        with entry.lock:
            if entry.before is None:
                entry.before = BeforeSide.read(snapshot, live=live)
            return entry.before

    def _entry_of(self, snapshot: Snapshot) -> _Entry | None:
        with self._lock:
            return next((e for e in self._entries.values() if e.snapshot is snapshot), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# A large cluster read with its engines is tens of megabytes, and every object kept is walked
# by each full collection of the garbage collector, whatever page the process serves: only
# the current state of the cluster is kept.
BASELINES = Baselines(size=1)
