"""Watch streams: initial ADDED events, then live changes, resumable from a resourceVersion."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from kubesim import errors
from kubesim.resources import ResourceType
from kubesim.store import Event, Store

# kube-apiserver picks a random timeout in [30, 60) minutes when the client sets none
DEFAULT_TIMEOUT = 1800.0


def _line(event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _expired_line(rv: int | str) -> bytes:
    status = errors.expired(f"too old resource version: {rv}").status()
    return _line("ERROR", status)


def _translate(event: Event, matches: Callable[[dict[str, Any]], bool]) -> str | None:
    """The event type a filtered watch sees: objects moving into or out of the selection
    appear as ADDED or DELETED, as kube-apiserver reports them."""
    now = matches(event.obj)
    if event.type == "ADDED":
        return "ADDED" if now else None
    before = event.old is not None and matches(event.old)
    if event.type == "DELETED":
        return "DELETED" if before or now else None
    if now and before:
        return "MODIFIED"
    if now:
        return "ADDED"
    return "DELETED" if before else None


def open_watch(store: Store, rtype: ResourceType, namespace: str | None,
               matches: Callable[[dict[str, Any]], bool], resource_version: str | None,
               timeout: float | None) -> Iterator[bytes]:
    """A stream of JSON event lines; the caller sends each line as it comes.

    Without a resourceVersion (or "0") the stream starts with ADDED for every matching object;
    with one it replays only later changes, or a 410 Expired ERROR event when those were dropped.
    """
    if resource_version not in (None, "", "0") and not str(resource_version).isdigit():
        raise errors.bad_request(f"invalid resource version: {resource_version!r}")
    deadline = time.monotonic() + (timeout if timeout is not None else DEFAULT_TIMEOUT)
    with store.lock:
        if resource_version in (None, "", "0"):
            initial = [obj for obj in store.scan(rtype.key, namespace) if matches(obj)]
            cursor = store.rv
            expired = False
        else:
            initial = []
            cursor = int(str(resource_version))
            expired = cursor < store.history_start
    return _stream(store, rtype, namespace, matches, initial, cursor, deadline, expired)


def _stream(store: Store, rtype: ResourceType, namespace: str | None,
            matches: Callable[[dict[str, Any]], bool], initial: list[dict[str, Any]], cursor: int,
            deadline: float, expired: bool) -> Iterator[bytes]:
    if expired:
        yield _expired_line(cursor)
        return
    for obj in initial:
        yield _line("ADDED", obj)
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or store.closed:
            return
        store.wait(cursor, min(left, 1.0))
        events = store.events_after(cursor)
        if events is None:
            yield _expired_line(cursor)
            return
        out = []
        for event in events:
            cursor = event.rv
            if event.resource != rtype.key:
                continue
            if namespace is not None and (event.obj["metadata"].get("namespace") or "") != namespace:
                continue
            seen = _translate(event, matches)
            if seen:
                out.append(_line(seen, event.obj))
        if out:
            yield b"".join(out)
