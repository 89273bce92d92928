"""Work done in a forked child process while the caller goes on with its own.

Reading a large snapshot is most of a command's time and runs on one core; a second core
can read part of it (or import the engines) meanwhile. The child returns its result as
marshal (plain data) or pickle bytes through a pipe and leaves with `os._exit`, so nothing
of the parent (buffers, atexit handlers) runs twice. Anything unexpected (no fork on this
platform, one core, a child that fails or dies) gives FAILED, and the caller does the work
itself: a forked child never changes a result, only when it is ready.
"""

from __future__ import annotations

import marshal
import os
import pickle
import signal
from collections.abc import Callable
from typing import Any

FAILED = object()   # what `in_child` gives when the child could not do the work


def can_fork() -> bool:
    """Whether forking can pay here: fork exists and this process may run on two cores."""
    if not hasattr(os, "fork"):
        return False
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except AttributeError:   # pragma: no cover - platforms without affinity (macOS)
        return (os.cpu_count() or 1) >= 2


def in_child(work: Callable[[], Any], meanwhile: Callable[[], Any]) -> tuple[Any, Any]:
    """(what `work()` returned in a forked child, or FAILED; what `meanwhile()` returned
    here, run while the child works). An exception of `meanwhile` propagates, once the
    child is stopped and gone; one of `work` gives FAILED."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: never returns
        status = 1
        try:
            os.close(read_end)
            payload = _encode(work())
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    pipe = os.fdopen(read_end, "rb")
    try:
        here = meanwhile()
        payload = pipe.read()
    except BaseException:
        os.kill(pid, signal.SIGKILL)   # its work is of no use now
        raise
    finally:
        pipe.close()
        _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return FAILED, here
    return _decode(payload), here


def _encode(value: Any) -> bytes:
    try:
        return b"M" + marshal.dumps(value)
    except ValueError:   # dates and other objects marshal does not write
        return b"P" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _decode(payload: bytes) -> Any:
    body = memoryview(payload)[1:]
    return marshal.loads(body) if payload[:1] == b"M" else pickle.loads(body)
