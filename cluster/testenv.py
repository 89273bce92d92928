"""A real kube-apiserver with an embedded etcd, for tests and `manage.py realcluster`.

The server is `tools/kube-testenv`, a small Go program built from the official Kubernetes Go
modules by its `build.sh` into `.cache/kube-testenv/<key>/` (a second build is a no-op). It
serves TLS on 127.0.0.1 with static tokens: `admin.kubeconfig` (system:masters) and
`limited.kubeconfig` (the console's ServiceAccount, with the rights `deploy/kubernetes/rbac.yaml`
grants once applied).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "tools" / "kube-testenv" / "build.sh"
START_TIMEOUT = 120.0


class TestenvError(RuntimeError):
    """The real API server could not be built or started; the message says why."""


def build_binary(*, timeout: float = 3600.0) -> Path:
    """Build the server (or find the cached build) and return its path.

    Raises TestenvError with the build's last output lines when Go or a module is missing.
    """
    try:
        done = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestenvError(f"building kube-testenv failed: {exc}") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not Path(lines[-1]).is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise TestenvError(f"building kube-testenv failed (exit {done.returncode}):\n{tail}")
    return Path(lines[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RealApiServer:
    """One running kube-apiserver + etcd; `start()`, then `admin_kubeconfig`, then `stop()`."""

    port: int = 0
    directory: Path | None = None
    binary: Path | None = None
    admin_kubeconfig: Path | None = None
    process: subprocess.Popen | None = None
    _log: list[str] = field(default_factory=list)

    @property
    def limited_kubeconfig(self) -> Path:
        assert self.admin_kubeconfig is not None
        return self.admin_kubeconfig.parent / "limited.kubeconfig"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = START_TIMEOUT) -> RealApiServer:
        """Start the server and wait until it is ready (its /readyz answers ok)."""
        self.binary = self.binary or build_binary()
        self.port = self.port or free_port()
        self.directory = Path(self.directory or tempfile.mkdtemp(prefix="kube-testenv-"))
        self.process = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--dir", str(self.directory)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()
        ready = threading.Event()
        reader = threading.Thread(target=self._await_ready, args=(ready,), daemon=True)
        reader.start()
        if not ready.wait(timeout) or self.admin_kubeconfig is None:
            self.stop()
            log = "\n".join(self._log[-20:])
            raise TestenvError(f"kube-apiserver did not become ready within {timeout:g} s:\n{log}")
        return self

    def stop(self, *, timeout: float = 15.0) -> None:
        """SIGTERM the server (it closes etcd cleanly), SIGKILL its group if it lingers."""
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def __enter__(self) -> RealApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _await_ready(self, ready: threading.Event) -> None:
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            if line.startswith("READY "):
                self.admin_kubeconfig = Path(line.split(" ", 1)[1].strip())
                ready.set()
        ready.set()  # the process ended without READY: wake the waiter

    def _drain(self, stream) -> None:
        for line in stream:
            self._log.append(line.rstrip())
            del self._log[:-200]
