"""What the benchmarks that serve a generated cluster from the API simulator share: saving the
objects as a simulator state file, and serving that file from a separate process (as the
console's web and worker processes meet the API server, without sharing a GIL)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def write_simulator_state(path: str, objects: list[dict[str, Any]]) -> None:
    """Create `objects` in an empty simulator and save its state to `path`."""
    from kubesim import SimulatorServer
    from kubesim.persistence import write_state
    from kubesim.server import load_objects

    sim = SimulatorServer(seed="empty")
    load_objects(sim.api.crud, objects)
    write_state(path, sim.store.dump())


def build_state_in_child(script: str, state_file: str, options: list[str]) -> float:
    """Run `script --build-state state_file *options` in a child process and return its
    seconds; the child writes the state, so this process's peak memory is the benchmark's own."""
    started = time.perf_counter()
    subprocess.run([sys.executable, script, "--build-state", state_file, *options],
                   check=True, cwd=ROOT)
    return time.perf_counter() - started


def start_simulator(state_file: str | None) -> tuple[subprocess.Popen[bytes], str]:
    """A simulator process serving `state_file` (None: the demo cluster) on a free local port,
    and its URL; returns once the state is loaded and the port bound. The caller kills the
    process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = ("from kubesim.server import serve_forever; "
            f"serve_forever(seed='demo', state_file={state_file!r}, port={port})")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    process.stdout.readline()  # "serving ...": the state is loaded and the port bound
    return process, f"http://127.0.0.1:{port}"
