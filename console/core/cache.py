"""A Redis cache that degrades to "always a miss" while Redis is unreachable.

The console caches only what it can recompute (cluster status, indexes, tenant directory, the
list pages' rendered fragments kept by cluster version, below), so a Redis outage must cost
speed, not pages: reads answer the default, writes are dropped, and one
warning is logged when the outage begins (one info line when Redis answers again), not one per
request. After a failure Redis is left alone for RETRY_SECONDS, so a Redis that does not answer
does not add its socket timeout to every request.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.utils.safestring import SafeString, mark_safe
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


# -- what is kept by version -----------------------------------------------------------------
#
# A list page at 10,000 policies costs far more to compute than to send, and fifty users ask
# for the same few pages of it. What a page shows is a function of the cluster's version (see
# console.core.cluster.model_version), the reader's roles and language and the page's query,
# so its expensive part is rendered once per such key and kept: in the shared cache for every
# web process (`shared_text`), or in this process for large parsed objects that would cost
# more to unpickle than to keep (`local_memo`). Nothing is ever invalidated: a change of the
# cluster is a new version, hence a new key.

FRAGMENT_SECONDS = 60   # also bounds how old an age shown in a kept list ("5m") may be
# One process builds a missing entry; the others wait this long for it, then build their own.
BUILD_LOCK_SECONDS = 30
WAIT_FOR_BUILD_SECONDS = 10.0
WAIT_POLL_SECONDS = 0.02

_memo_lock = threading.Lock()
_memo_build_locks: dict[str, threading.Lock] = {}
_memos: dict[str, tuple[Any, Any]] = {}   # name -> (version, value)


def key_of(*parts: Any) -> str:
    """A short cache key naming `parts` (strings, numbers, booleans and tuples of them)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def roles_key(access: Any) -> tuple:
    """What of a user's rights decides what a page shows them (not who they are): two users
    with the same role bindings share entries, users with different ones never do."""
    return (access.platform_admin, access.view_all, tuple(sorted(access.admin_workspaces)),
            tuple(sorted(access.admin_projects)), tuple(sorted(access.view_workspaces)),
            tuple(sorted(access.view_projects)))


def shared_text(key: str, build: Any, *, timeout: int = FRAGMENT_SECONDS) -> str:
    """The text `build()` returns, kept in the cache under `key`; while one process builds it
    the others asking for it wait for that one (single flight) rather than all building it.
    Without a cache (Redis unreachable) every caller builds it."""
    from django.core.cache import cache

    entry = f"fragment:{key}"
    found = _held(entry)
    if found is not None:
        return found
    found = cache.get(entry)
    if found is not None:
        return _hold(entry, found)
    lock = f"fragment-lock:{key}"
    if not cache.add(lock, 1, BUILD_LOCK_SECONDS):
        deadline = time.monotonic() + WAIT_FOR_BUILD_SECONDS
        # The lock vanishing (its builder failed, or no cache at all) ends the wait too.
        while time.monotonic() < deadline and cache.get(lock) is not None:
            time.sleep(WAIT_POLL_SECONDS)
            found = cache.get(entry)
            if found is not None:
                return _hold(entry, found)
        found = cache.get(entry)
        if found is not None:
            return _hold(entry, found)
    try:
        text = build()
        if not isinstance(text, Unkept):
            cache.set(entry, text, timeout)
            _hold(entry, text)
    finally:
        cache.delete(lock)
    return text


# An entry never changes once kept (its key names everything it depends on), so each process
# also holds the latest ones it read, up to HELD_CHARACTERS, sparing Redis the big ones.
HELD_CHARACTERS = 32_000_000
HELD_SECONDS = 60.0
_held_lock = threading.Lock()
_held_texts: OrderedDict[str, tuple[float, str]] = OrderedDict()


def _held(entry: str) -> str | None:
    with _held_lock:
        held = _held_texts.get(entry)
        if held is None:
            return None
        if time.monotonic() - held[0] > HELD_SECONDS:
            del _held_texts[entry]
            return None
        _held_texts.move_to_end(entry)
        return held[1]


def _hold(entry: str, text: str) -> str:
    with _held_lock:
        _held_texts[entry] = (time.monotonic(), text)
        _held_texts.move_to_end(entry)
        total = sum(len(t) for _, t in _held_texts.values())
        while total > HELD_CHARACTERS and len(_held_texts) > 1:
            _, (_, dropped) = _held_texts.popitem(last=False)
            total -= len(dropped)
    return text


def local_memo(name: str, version: Any, build: Any) -> Any:
    """`build()` for `version`, kept in this process (the latest version per `name` only), built
    once per process even when several threads ask at the same time. Values are shared:
    callers treat them as read-only."""
    with _memo_lock:
        held = _memos.get(name)
        if held is not None and held[0] == version:
            return held[1]
        build_lock = _memo_build_locks.setdefault(name, threading.Lock())
    with build_lock:
        with _memo_lock:
            held = _memos.get(name)
        if held is not None and held[0] == version:
            return held[1]
        value = build()
        with _memo_lock:
            _memos[name] = (version, value)
        return value


def forget_memos() -> None:
    """Drop what `local_memo` and `shared_text` keep in this process (for tests)."""
    with _memo_lock:
        _memos.clear()
    with _held_lock:
        _held_texts.clear()


class Unkept(str):
    """A text `shared_text`'s build returns to be shown now but not kept (a page that is
    still being computed, say)."""


class NotKept(dict):
    """The context of a fragment `cached_fragment` renders but does not keep."""


# What a kept fragment renders in place of a CSRF token: its presence refuses to keep it.
_CSRF_MARK = "csrf-token-is-never-kept"


def cached_fragment(request: Any, template_name: str, version: str | None, key: tuple,
                    context: Any) -> SafeString:
    """`template_name` (a page or `page.html#partial`) rendered for `request` with the dict
    `context()` returns, kept in the shared cache (unless the dict is NotKept) per cluster
    `version`, `key` (what else the fragment depends on: the reader's roles, say), language,
    query string and htmx or not. Without a version nothing is kept. A fragment may not hold
    a CSRF token (ValueError): it is served to other users."""
    from django.template.loader import render_to_string
    from django.utils.translation import get_language

    def build() -> str:
        values = context()
        text = render_to_string(template_name, {**values, "csrf_token": _CSRF_MARK}, request)
        if _CSRF_MARK in text:
            raise ValueError(f"{template_name} holds a CSRF token: it cannot be kept")
        return Unkept(text) if isinstance(values, NotKept) else text

    if version is None:
        return mark_safe(build())  # noqa: S308 (rendered by the template engine)
    query = tuple(sorted((name, tuple(values)) for name, values in request.GET.lists()))
    parts = (template_name, version, get_language(), query, bool(getattr(request, "htmx", False)),
             key)
    return mark_safe(shared_text(key_of(*parts), build))  # noqa: S308 (rendered as above)


def render_kept(request: Any, template_name: str, fragment: str, version: str | None,
                key: tuple, context: Any, *, alone: bool, page: dict | None = None) -> Any:
    """The response of a page whose partial `fragment` is kept (`cached_fragment`): the
    fragment `alone` (for htmx), or the page with the fragment's text as the context variable
    of its name plus `page` (what the page shows around it, never kept). Without a version
    the page is rendered as any other, from `context()` and `page`."""
    from django.http import HttpResponse
    from django.shortcuts import render

    if version is None:
        values = {**context(), **(page or {})}
        return render(request, f"{template_name}#{fragment}" if alone else template_name, values)
    html = cached_fragment(request, f"{template_name}#{fragment}", version, key, context)
    if alone:
        return HttpResponse(html)
    return render(request, template_name, {fragment: html, **(page or {})})


def tenant_directory(version: str | None) -> Any:
    """The tenant directory (console.core.tenants.Directory) of the cluster at `version` or
    later, built from the watched model once per process and version, so what is kept under
    a version was made from that state; without a version, `tenants.directory()`.
    Raises ClusterError when the cluster cannot be read."""
    from console.core import cluster, tenants

    if version is None:
        return tenants.directory()

    def build() -> Any:
        snapshot = cluster.snapshot()
        return tenants.Directory(
            workspaces={o["metadata"]["name"]: o for o in snapshot.workspaces},
            namespaces={o["metadata"]["name"]: o for o in snapshot.namespaces})

    return local_memo("tenant-directory", version, build)
