"""Python's cyclic garbage collector kept out of the way of large plain data.

Reading a large cluster, a large draft or a large answer of the API server builds millions of
dicts, lists and small objects and no reference cycle. Left running, the collector starts a
collection every few hundred allocations that walks the young objects, and every so often all
of them, finding nothing: reading a 100 MB snapshot takes three times as long. And once the
reading is done, what it built and kept (a parsed cluster, the caches of a review) would be
walked again by the next young collections, once per generation: a tenth of a second for a
review of a 1 MiB policy.

`collector_paused()` pauses the collector while such data is built. When the outermost pause
ends having built at least PROMOTED_FROM objects, every object alive moves into the oldest
generation without being walked (freeze, then unfreeze); a pause that built less leaves its
objects young, to the collector's usual course.

Objects moved so are not counted by the collector's own rule for starting a full collection
(one when the oldest generation has grown by a quarter), so this module keeps that rule for
them: once the objects it moved since the last full collection reach a quarter of those the
process held after it (and at least FULL_FLOOR), a full collection is due, and it frees every
reference cycle that was alive when it moved (a request's own objects, say). It runs when the
pause ends, or, in a web request (`request_begins`), when the request is over (`request_ends`:
after its response is sent), so that no page waits for it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Objects a pause must have built (net of those freed) for them to join the oldest generation
# unwalked: a large read. Below, the young collections that follow cost little.
PROMOTED_FROM = 50_000
# Objects moved unwalked that make a full collection due at the least.
FULL_FLOOR = 1_000_000

_lock = threading.Lock()
_moved = 0        # objects moved unwalked since the last full collection
_held = 0         # objects the process held after the last full collection this module ran
_in_request = threading.local()


def _after_collection(phase: str, info: dict) -> None:
    global _moved
    if phase == "stop" and info.get("generation") == 2:
        _moved = 0


gc.callbacks.append(_after_collection)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside; after a large build, the objects alive at its end join
    the oldest generation (see the module). The collector is paused for the whole process:
    a pause inside another (or begun in another thread meanwhile) does nothing, and the
    collector runs again when the pause that paused it ends."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        _promote(gc.get_count()[0])
        gc.enable()
        if not getattr(_in_request, "active", False):
            collect_if_due()


def _promote(built: int) -> None:
    global _moved
    if built < PROMOTED_FROM:
        return
    if gc.get_freeze_count():
        # A process that froze what it holds for good (the offline command, before its
        # matrix) keeps it so: what it builds now is frozen with it, never walked.
        gc.freeze()
        return
    gc.freeze()
    gc.unfreeze()
    with _lock:
        _moved += built


def collect_if_due() -> None:
    """The full collection the objects moved unwalked have made due, if any."""
    global _held
    with _lock:
        due = _moved >= max(FULL_FLOOR, _held // 4)
    if due:
        gc.collect()
        held = len(gc.get_objects())
        with _lock:
            _held = held


def request_begins() -> None:
    """This thread serves a web request now: a due full collection waits for its end."""
    _in_request.active = True


def request_ends() -> None:
    """The request this thread served is over (its response sent): run what is due."""
    _in_request.active = False
    collect_if_due()
