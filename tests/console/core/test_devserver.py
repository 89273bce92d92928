"""`manage.py devserver` (make run): SIGTERM stops every child and frees its ports; a port held by
another program is refused with a message before anything starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MANAGE = str(ROOT / "manage.py")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def can_bind(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def devserver_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DJANGO_SETTINGS_MODULE", "KUBE_API_URL", "KUBECONFIG", "REDIS_URL",
                          "DATABASE_URL", "KUBERNETES_SERVICE_HOST"}}
    env.update(DEBUG="1", DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="console.settings",
               PYTHONUNBUFFERED="1", **extra)
    return env


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until_answering(port: int, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"devserver exited early with {process.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return   # answering, even if not ready
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"devserver did not answer on port {port} within {seconds:.0f} s")


@pytest.mark.parametrize("with_celery", [
    False,
    True,   # Redis is a test requirement (make services starts it)
], ids=["simulator-and-web", "with-celery-worker-and-beat"])
def test_sigterm_stops_every_child_and_frees_both_ports(tmp_path, with_celery) -> None:
    web, sim = free_port(), free_port()
    extra = {"REDIS_URL": "redis://127.0.0.1:6379/13"} if with_celery else {}
    process = subprocess.Popen(
        [sys.executable, MANAGE, "devserver", "--addr", f"127.0.0.1:{web}",
         "--simulator-port", str(sim)],
        cwd=ROOT, env=devserver_env(tmp_path, **extra),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until_answering(web, process)
        children = descendants(process.pid)
        assert len(children) >= (4 if with_celery else 2)   # simulator, runserver (+ celery)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=12)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(alive(pid) for pid in children):
            time.sleep(0.1)
        assert [pid for pid in children if alive(pid)] == []
        assert can_bind(web) and can_bind(sim)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_port_held_by_another_program_is_refused_with_a_message(tmp_path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, MANAGE, "devserver", "--addr", f"127.0.0.1:{taken}",
             "--simulator-port", str(free_port())],
            cwd=ROOT, env=devserver_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert (f"port {taken} is in use by another program; choose another with --addr"
            in result.stderr)
    assert not (tmp_path / "console.sqlite3").exists()   # refused before migrating


def test_a_simulator_port_held_by_another_program_is_refused(tmp_path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, MANAGE, "devserver", "--addr", f"127.0.0.1:{free_port()}",
             "--simulator-port", str(taken)],
            cwd=ROOT, env=devserver_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert (f"port {taken} is in use by another program; choose another with "
            "--simulator-port" in result.stderr)
