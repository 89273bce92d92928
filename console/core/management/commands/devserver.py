"""`make run`: everything a local console needs, in one command.

Migrates, creates the first admin, starts the built-in API simulator with the demo cluster when
no cluster is configured, starts a Celery worker and beat and the cluster watcher
(`watch_cluster`) when REDIS_URL is set, then serves the console on 127.0.0.1:8000 until Ctrl-C,
SIGTERM or SIGHUP, stopping what it started.

Every child runs in a process group of its own, so stopping one stops its own children too (the
Celery worker's pool processes): each group gets SIGTERM, and SIGKILL when it has not exited
within STOP_SECONDS. A port it needs that another program holds is refused before anything
starts, with a message naming the option that chooses another.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from console.core import cluster

# How long a child may take to stop after SIGTERM before it is killed.
STOP_SECONDS = 10.0
# The signals that stop the command like Ctrl-C does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(Exception):
    """A stop signal arrived: leave whatever is running and stop the children."""


class Command(BaseCommand):
    help = "Run the console locally with the simulator (when no cluster is configured)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--simulator-port", type=int, default=8001)
        parser.add_argument("--real-cluster", action="store_true",
                            help="run a real kube-apiserver seeded with the demo cluster "
                                 "(manage.py realcluster) instead of the simulator")
        parser.add_argument("--real-cluster-port", type=int, default=6443)

    def handle(self, *args, addr: str, simulator_port: int, real_cluster: bool,
               real_cluster_port: int, **options):
        host, port = _split_addr(addr)
        _refuse_taken_port(host, port, "--addr")
        simulator_url = f"http://127.0.0.1:{simulator_port}"
        start_simulator = (not real_cluster and not cluster.configured()
                           and not _is_simulator(simulator_url))
        if real_cluster:
            _refuse_taken_port("127.0.0.1", real_cluster_port, "--real-cluster-port")
        if start_simulator:
            _refuse_taken_port("127.0.0.1", simulator_port, "--simulator-port")

        previous = {sig: signal.signal(sig, _raise_stopped) for sig in STOP_SIGNALS}
        children: list[subprocess.Popen] = []
        try:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("ensure_admin")
            env = dict(os.environ, DEBUG=os.environ.get("DEBUG", "1"))
            manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
            if real_cluster:
                kubeconfig = Path(settings.DATA_DIR) / "realcluster.kubeconfig"
                kubeconfig.unlink(missing_ok=True)
                children.append(_start([*manage, "realcluster", "--port", str(real_cluster_port),
                                        "--kubeconfig-out", str(kubeconfig)], env))
                _wait_for_file(kubeconfig, children[-1])
                env.pop("KUBE_API_URL", None)
                env["KUBECONFIG"] = str(kubeconfig)
                self.stdout.write(f"Real kube-apiserver (demo cluster): KUBECONFIG={kubeconfig}")
            elif not cluster.configured():
                if start_simulator:
                    state = Path(settings.DATA_DIR) / "kubesim-state.json"
                    children.append(_start([*manage, "kubesim", "--port", str(simulator_port),
                                            "--seed", "demo", "--state", str(state)], env))
                    _wait_for(simulator_url, children[-1])
                env["KUBE_API_URL"] = simulator_url
                self.stdout.write(f"Built-in Kubernetes API simulator (demo cluster) at "
                                  f"{simulator_url}")
                # Write the demo's generated isolation policies (nothing when already in step).
                reconcile = _start([*manage, "reconcile"], env)
                children.append(reconcile)
                reconcile.wait()
                children.remove(reconcile)
            if settings.REDIS_URL:
                celery = [sys.executable, "-m", "celery", "-A", "console"]
                children.append(_start([*celery, "worker", "-l", "info", "-c", "2"], env))
                children.append(_start([*celery, "beat", "-l", "info", "-s",
                                        str(Path(settings.DATA_DIR) / "celerybeat-schedule")],
                                       env))
                # Keeps the cluster model current from watches, so pages need not list.
                children.append(_start([*manage, "watch_cluster"], env))
                self.stdout.write("Celery worker and beat, and the cluster watcher, started "
                                  "(REDIS_URL is set).")
            else:
                self.stdout.write("REDIS_URL is not set: background jobs run inside the web "
                                  "process.")
            self.stdout.write(self.style.SUCCESS(f"Console: http://{addr}/"))
            self.stdout.flush()
            server = _start([*manage, "runserver", addr, "--noreload"], env)
            children.append(server)
            status = server.wait()
            if status != 0:
                raise CommandError(f"The web server exited with status {status}.")
        except (KeyboardInterrupt, Stopped):
            pass
        finally:
            # A second signal must not cut the cleanup short.
            for sig in (*STOP_SIGNALS, signal.SIGINT):
                signal.signal(sig, signal.SIG_IGN)
            try:
                _stop(children)
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                signal.signal(signal.SIGINT, signal.default_int_handler)


def _raise_stopped(signum, frame) -> None:
    raise Stopped(signal.Signals(signum).name)


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start a child in a process group of its own (its group id is its pid)."""
    return subprocess.Popen(command, env=env, start_new_session=True)


def _stop(children: list[subprocess.Popen], seconds: float = STOP_SECONDS) -> None:
    """SIGTERM every child's process group (last started first), wait, then SIGKILL what is
    left. Children already gone are skipped; their groups' stragglers are still signalled."""
    for child in reversed(children):
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for child in reversed(children):
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
    for child in reversed(children):
        _signal_group(child, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)


def _signal_group(child: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def _split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    if not port.isdigit():
        raise CommandError(f"{addr!r} is not an address and port such as 127.0.0.1:8000.")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def _refuse_taken_port(host: str, port: int, option: str) -> None:
    """CommandError when another program listens on host:port (a TIME_WAIT left by an earlier
    run does not count: the servers bind with SO_REUSEADDR too)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(f"port {port} is in use by another program; choose another "
                                   f"with {option}") from None
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                               f"choose another with {option}") from None


def _is_simulator(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/version", timeout=1) as response:
            return response.read().decode().find("+kubesim") >= 0
    except (OSError, urllib.error.URLError):
        return False


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"The simulator exited with status {process.returncode}.")
        if _is_simulator(url):
            return
        time.sleep(0.2)
    raise CommandError(f"The simulator did not start at {url} within {seconds:.0f} s.")


def _wait_for_file(path: Path, process: subprocess.Popen, seconds: float = 1800) -> None:
    """Wait for `manage.py realcluster` to write its kubeconfig (the first run builds the
    server from the Kubernetes Go modules, which takes minutes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"The real API server exited with status {process.returncode}.")
        if path.exists():
            return
        time.sleep(0.5)
    raise CommandError(f"The real API server did not start within {seconds:.0f} s.")
