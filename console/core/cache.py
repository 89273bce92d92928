"""A Redis cache that degrades to "always a miss" while Redis is unreachable.

The console caches only what it can recompute (cluster status, indexes, tenant directory), so a
Redis outage must cost speed, not pages: reads answer the default, writes are dropped, and one
warning is logged when the outage begins (one info line when Redis answers again), not one per
request. After a failure Redis is left alone for RETRY_SECONDS, so a Redis that does not answer
does not add its socket timeout to every request.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# The errors that mean "Redis is not there": anything else (a bad value, say) still raises.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# How long after a failure calls skip Redis before trying it again.
RETRY_SECONDS = 5.0

_lock = threading.Lock()
_down_until: dict[str, float] = {}   # server -> monotonic time to try again; present = outage


class DegradingRedisCache(RedisCache):
    """django's RedisCache whose get/set/add/delete (and the many-key forms) behave as a miss
    while Redis is unreachable. `available()` says whether the last call reached Redis."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._outage_key = server if isinstance(server, str) else ",".join(server)

    # -- outage bookkeeping ---------------------------------------------------------------

    def available(self) -> bool:
        with _lock:
            return self._outage_key not in _down_until

    def _skipping(self) -> bool:
        with _lock:
            until = _down_until.get(self._outage_key)
            return until is not None and time.monotonic() < until

    def _failed(self, exc: Exception) -> None:
        with _lock:
            first = self._outage_key not in _down_until
            _down_until[self._outage_key] = time.monotonic() + RETRY_SECONDS
        if first:
            log.warning("Redis cache unreachable (%s: %s); serving without a cache until it is "
                        "back", exc.__class__.__name__, exc)

    def _succeeded(self) -> None:
        with _lock:
            if _down_until.pop(self._outage_key, None) is None:
                return
        log.info("Redis cache reachable again")

    def _call(self, miss: Any, method: Any, *args: Any, **kwargs: Any) -> Any:
        if self._skipping():
            return miss
        try:
            result = method(*args, **kwargs)
        except UNREACHABLE as exc:
            self._failed(exc)
            return miss
        self._succeeded()
        return result

    # -- the cache API --------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._call(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._call({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        if self._skipping():
            raise ValueError(f"Key '{key}' not found")
        try:
            result = super().incr(key, delta, version)
        except UNREACHABLE as exc:
            self._failed(exc)
            raise ValueError(f"Key '{key}' not found") from None
        self._succeeded()
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Nothing was stored: every key "failed", as django's contract names them.
        return self._call(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        self._call(None, super().delete_many, keys, version)

    def clear(self):
        return self._call(False, super().clear)


def reset_outages() -> None:
    """Forget every outage seen (for tests)."""
    with _lock:
        _down_until.clear()
