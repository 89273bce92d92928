"""Small test utilities."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], *, timeout: float = 30, what: str = "condition") -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


ROOT = Path(__file__).resolve().parents[1]


def kubectl_snapshot_generator() -> ModuleType:
    """bench/kubectl_snapshot.py, the generator of kubectl-shaped snapshots, as a module."""
    spec = importlib.util.spec_from_file_location("kubectl_snapshot",
                                                  ROOT / "bench" / "kubectl_snapshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
