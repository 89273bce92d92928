"""`manage.py watch_cluster`: keep the cluster model current from watches, published in Redis.

Pages then read a ready model instead of listing every kind on each request; the cache layout
and the reading side are in console/core/cluster.py ("The watched model"), the publishing side
(`ModelPublisher`) is here. Runs until SIGTERM, SIGHUP or Ctrl-C; on the way out it withdraws
its heartbeat, so pages go back to listing at once. `make run` starts it beside the Celery
worker when REDIS_URL is set.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError

from cluster.errors import ClusterError
from cluster.watch import ClusterWatcher, encode_objects
from console.core import cluster


class Command(BaseCommand):
    help = "Keep the cluster model current from watches and publish it in Redis for the pages."

    def add_arguments(self, parser):
        parser.add_argument("--heartbeat-ttl", type=float, default=None,
                            help="seconds after which pages stop reading the model of a watcher "
                                 f"that stopped beating (default {cluster.MODEL_HEARTBEAT_TTL:g})")

    def handle(self, *args, heartbeat_ttl: float | None = None, **options):
        if not settings.REDIS_URL:
            raise CommandError("REDIS_URL is not set: the model is shared through Redis, so "
                               "without it the pages keep listing the cluster themselves.")
        try:
            gateway = cluster.new_gateway()
        except ClusterError as exc:
            raise CommandError(exc.message) from exc
        stopping = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stopping.set())
                    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
        watcher = ClusterWatcher(gateway).start()
        publisher = ModelPublisher(watcher, heartbeat_ttl=heartbeat_ttl)
        self.stdout.write(f"Watching {gateway.name} ({gateway.url}).")
        self.stdout.flush()
        try:
            publisher.run(stopping)
        finally:
            watcher.stop()
            gateway.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class ModelPublisher:
    """Publishes a ClusterWatcher's model for the configured cluster: each kind's changes as
    they come, the index naming their versions, the whole kind now and then (in a thread of
    its own while `run` runs, so encoding thousands of pods never holds a change back), and a
    heartbeat while the watches are healthy."""

    def __init__(self, watcher: ClusterWatcher, *, heartbeat_ttl: float | None = None) -> None:
        self.watcher = watcher
        self.heartbeat_ttl = heartbeat_ttl
        self.prefix = cluster.model_prefix()
        self.generation = uuid.uuid4().hex
        self.published: dict[str, tuple[int, str]] = {}   # kind -> (version, resourceVersion)
        self.whole: dict[str, tuple[int, float]] = {}   # kind -> (version, monotonic time)
        self.last_beat = 0.0
        self.alive = False
        self.publications = 0
        self._wholes_due: queue.SimpleQueue[str | None] | None = None
        self._queued: set[str] = set()

    def run(self, stopping: threading.Event) -> None:
        """Publish every change as it comes, and beat, until `stopping` is set; then retract."""
        self._wholes_due = queue.SimpleQueue()
        writer = threading.Thread(target=self._write_wholes, name="model-wholes", daemon=True)
        writer.start()
        try:
            versions: dict[str, int] = {}
            while not stopping.is_set():
                versions = self.watcher.wait_for_change(versions, self.beat_every())
                self.publish()
        finally:
            self.retract()
            self._wholes_due.put(None)

    def publish(self) -> bool:
        """Publish what changed since the last call (nothing before every kind is listed);
        whether anything was written. Also beats the heart when due."""
        wrote = False
        if self.watcher.synced():
            if cache.get(f"{self.prefix}index") != self._index():
                self.published, self.whole = {}, {}   # the cache lost it: publish it all
            wholes: dict[str, Any] = {}
            changes: dict[str, Any] = {}
            due: list[str] = []
            for kind, now in self.watcher.versions().items():
                if self.published.get(kind, (None,))[0] != now:
                    self._publish_kind(kind, wholes, changes)
                if self._whole_due(kind):
                    due.append(kind)
            if wholes or changes:
                cache.set_many(changes, cluster.CHANGE_TTL)
                cache.set_many(wholes, None)
                cache.set(f"{self.prefix}index", self._index(), None)
                self.publications += 1
                wrote = True
            for kind in due:
                self._queue_whole(kind)
            if not _cache_reachable():
                self.published, self.whole = {}, {}   # dropped while Redis was away
        self.beat()
        return wrote

    def _publish_kind(self, kind: str, wholes: dict[str, Any], changes: dict[str, Any]) -> None:
        """A kind's changes since its last publication, or the whole kind when they are not
        all known (its first publication, or a list since)."""
        seen = self.published.get(kind)
        version, resource_version = self.watcher.head(kind)
        delta = None if seen is None else self.watcher.changes_since(kind, seen[0], version)
        if delta is None:
            version, resource_version, objects = self.watcher.kind_state(kind)
            wholes[f"{self.prefix}kind:{kind}"] = (
                self.generation, version, resource_version, encode_objects(objects))
            self.whole[kind] = (version, time.monotonic())
        for change in delta or []:
            changes[f"{self.prefix}change:{kind}:{change.version}"] = (
                self.generation, change.type, change.obj)
        self.published[kind] = (version, resource_version)

    def _whole_due(self, kind: str) -> bool:
        """Whether a kind published in changes is due whole: after FULL_AFTER_CHANGES of them,
        or FULL_EVERY_SECONDS after the last whole (well before its changes expire)."""
        whole_version, whole_at = self.whole.get(kind, (0, 0.0))
        version = self.published.get(kind, (0,))[0]
        return version != whole_version and (
            version - whole_version >= cluster.FULL_AFTER_CHANGES
            or time.monotonic() - whole_at >= cluster.FULL_EVERY_SECONDS)

    def _queue_whole(self, kind: str) -> None:
        if self._wholes_due is None:
            self._publish_whole(kind)
        elif kind not in self._queued:
            self._queued.add(kind)
            self._wholes_due.put(kind)

    def _write_wholes(self) -> None:
        assert self._wholes_due is not None
        while (kind := self._wholes_due.get()) is not None:
            self._queued.discard(kind)
            self._publish_whole(kind)

    def _publish_whole(self, kind: str) -> None:
        # Possibly newer than the index says: readers take a whole kind ahead of it as is.
        version, resource_version, objects = self.watcher.kind_state(kind)
        cache.set(f"{self.prefix}kind:{kind}",
                  (self.generation, version, resource_version, encode_objects(objects)), None)
        self.whole[kind] = (version, time.monotonic())

    def beat(self) -> None:
        """Refresh the heartbeat (every `beat_every()` seconds, and at once when the model
        turns healthy or unhealthy); withdraw it while the watches keep failing."""
        healthy = (bool(self.published) and self.watcher.synced()
                   and self.watcher.failing_for() < cluster.MODEL_FAILING_SECONDS)
        now = time.monotonic()
        if healthy == self.alive and now - self.last_beat < self.beat_every():
            return
        self.last_beat, self.alive = now, healthy
        if healthy:
            cache.set(f"{self.prefix}alive", os.getpid(), self.ttl())
        else:
            cache.delete(f"{self.prefix}alive")

    def ttl(self) -> float:
        return self.heartbeat_ttl or heartbeat_ttl()

    def beat_every(self) -> float:
        """Seconds between beats: a few per time-to-live, so one late beat is no outage."""
        return min(cluster.MODEL_HEARTBEAT_SECONDS, self.ttl() / 3)

    def retract(self) -> None:
        """Stop pages from reading the model (the watcher is stopping)."""
        self.alive = False
        cache.delete(f"{self.prefix}alive")

    def _index(self) -> dict[str, Any]:
        return {"generation": self.generation, "kinds": dict(self.published)}


def heartbeat_ttl() -> float:
    """settings.CLUSTER_MODEL_HEARTBEAT_TTL, else MODEL_HEARTBEAT_TTL seconds."""
    configured = getattr(settings, "CLUSTER_MODEL_HEARTBEAT_TTL", None)
    return float(configured or cluster.MODEL_HEARTBEAT_TTL)


def _cache_reachable() -> bool:
    available = getattr(cache, "available", None)
    return available() if available else True
