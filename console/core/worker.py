"""Worker liveness: a heartbeat each Celery worker keeps in Redis, and what readers make of it.

A worker starts a daemon thread when it is ready (`worker_ready`) that sets the key
`console:worker:<hostname>` every WORKER_HEARTBEAT_INTERVAL seconds with a time-to-live of
WORKER_HEARTBEAT_TTL; it deletes the key when it shuts down cleanly. A worker killed with
SIGKILL stops refreshing, and its key expires. `status()` answers "ok" while any worker's key
exists, "no worker" when none does, "not configured" without Redis (jobs then run in the web
process), and "unknown" when Redis cannot be reached. Independent of celery beat and of the
Celery event heartbeats (the tests start workers with --without-heartbeat).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)

KEY_PREFIX = "console:worker:"
DEFAULT_TTL = 30.0
DEFAULT_INTERVAL = 10.0
DEFAULT_WAIT_WARNING = 5.0

OK, NO_WORKER, NOT_CONFIGURED, UNKNOWN = "ok", "no worker", "not configured", "unknown"


def ttl() -> float:
    return float(getattr(settings, "WORKER_HEARTBEAT_TTL", None) or DEFAULT_TTL)


def interval() -> float:
    configured = getattr(settings, "WORKER_HEARTBEAT_INTERVAL", None)
    return min(float(configured or DEFAULT_INTERVAL), ttl() / 2)


def wait_warning() -> float:
    configured = getattr(settings, "WORKER_WAIT_WARNING_SECONDS", None)
    return DEFAULT_WAIT_WARNING if configured is None else float(configured)


def stale_after() -> timedelta:
    """settings.JOB_STALE_SECONDS (as console.core.jobs.stale_after, without importing it)."""
    seconds = getattr(settings, "JOB_STALE_SECONDS", None)
    return timedelta(seconds=60 if seconds is None else float(seconds))


def job_note(job: Any) -> str:
    """A warning for the card of `job` (a console.core.models.Job) when no worker is working
    on it, else "".

    A queued job that has waited more than WORKER_WAIT_WARNING_SECONDS while no worker is
    alive: "waiting for a worker for 45 s". A running job whose heartbeat is older than
    JOB_STALE_SECONDS, or quiet for a while with no worker alive: "worker lost at 31%; it
    will be retried".
    """
    now = timezone.now()
    if job.status == "queued":
        waited = (now - job.created_at).total_seconds()
        if waited > wait_warning() and status() == NO_WORKER:
            return f"waiting for a worker for {int(waited)} s"
    elif job.status == "running":
        beat = job.heartbeat_at or job.started_at
        stale = beat is not None and now - beat > stale_after()
        quiet = beat is None or (now - beat).total_seconds() > wait_warning()
        if stale or (quiet and status() == NO_WORKER):
            return f"worker lost at {job.progress}%; it will be retried"
    return ""


def _client():
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1,
                                retry=Retry(NoBackoff(), 0))


def status() -> str:
    """"ok", "no worker", "not configured" or "unknown" (Redis unreachable); never raises."""
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    try:
        client = _client()
        try:
            alive = next(iter(client.scan_iter(match=KEY_PREFIX + "*", count=100)), None)
        finally:
            client.close()
    except Exception:   # any failure to read Redis is the same answer
        return UNKNOWN
    return OK if alive is not None else NO_WORKER


def beat(client: Any, name: str) -> None:
    """Set this worker's key once (also used by tests to stand in for a worker)."""
    client.set(KEY_PREFIX + name, str(time.time()), px=max(1, int(ttl() * 1000)))


class Heartbeat:
    """The thread of one worker process that keeps its key alive."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="console-worker-heartbeat",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            client = _client()
            try:
                client.delete(KEY_PREFIX + self.name)
            finally:
                client.close()
        except Exception:   # Redis gone: the key expires by itself
            log.debug("could not delete the worker heartbeat key", exc_info=True)

    def _run(self) -> None:
        client = None
        while not self._stop.is_set():
            try:
                client = client or _client()
                beat(client, self.name)
            except Exception as exc:   # Redis away for a moment: try again next time
                log.warning("worker heartbeat not written: %s: %s", exc.__class__.__name__, exc)
                client = None
            self._stop.wait(interval())


_heartbeat: Heartbeat | None = None


def on_worker_ready(sender=None, **_kwargs: Any) -> None:
    """celery.signals.worker_ready: start heartbeating (once per worker process)."""
    global _heartbeat
    if not settings.REDIS_URL or _heartbeat is not None:
        return
    name = getattr(sender, "hostname", None) or f"{socket.gethostname()}"
    _heartbeat = Heartbeat(name)
    _heartbeat.start()


def on_worker_shutdown(**_kwargs: Any) -> None:
    """celery.signals.worker_shutdown: stop heartbeating and remove the key."""
    global _heartbeat
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None
