"""The state file: the whole store as JSON, written atomically (temp file + os.replace)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from typing import Any

from kubesim.store import Store

FORMAT = "kubesim/v1"


class StateFileError(ValueError):
    """A state file that exists but cannot be read."""


def read_state(path: str) -> dict[str, Any] | None:
    """The state stored at `path`, or None when there is no file."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StateFileError(f"cannot read the simulator state file {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateFileError(f"{path} is not a simulator state file (format {FORMAT} expected)")
    return data


def write_state(path: str, state: dict[str, Any]) -> None:
    """Write `state` so that readers see either the old file or the complete new one."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kubesim-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"format": FORMAT, **state}, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Persister:
    """Writes the store to its state file shortly after changes (coalescing bursts of writes)
    and once more on stop, so every acknowledged write is on disk after a clean shutdown."""

    def __init__(self, store: Store, path: str, delay: float = 0.2) -> None:
        self.store = store
        self.path = path
        self.delay = self._min_delay = delay
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._io = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="kubesim-state", daemon=True)
        store.on_write(self._dirty.set)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.is_set():
                break
            self._stopping.wait(self.delay)
            started = time.monotonic()
            self.flush()
            # a large state takes long to write: wait proportionally longer before the next write
            self.delay = max(self._min_delay, 2 * (time.monotonic() - started))

    def flush(self) -> None:
        with self._io:
            if not self._dirty.is_set():
                return
            self._dirty.clear()
            write_state(self.path, self.store.dump())

    def stop(self) -> None:
        """Stop the writer thread and write the final state (also when nothing changed)."""
        self._stopping.set()
        self._dirty.set()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()
