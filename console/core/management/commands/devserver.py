"""`make run`: everything a local console needs, in one command.

Migrates, creates the first admin, starts the built-in API simulator with the demo cluster when
no cluster is configured, starts a Celery worker and beat when REDIS_URL is set, then serves the
console on 127.0.0.1:8000 until Ctrl-C, stopping what it started.
"""

from __future__ import annotations

import os
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


class Command(BaseCommand):
    help = "Run the console locally with the simulator (when no cluster is configured)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--simulator-port", type=int, default=8001)

    def handle(self, *args, addr: str, simulator_port: int, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_admin")
        env = dict(os.environ, DEBUG=os.environ.get("DEBUG", "1"))
        children: list[subprocess.Popen] = []
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        try:
            if not cluster.configured():
                url = f"http://127.0.0.1:{simulator_port}"
                if not _is_simulator(url):
                    state = Path(settings.DATA_DIR) / "kubesim-state.json"
                    children.append(subprocess.Popen(
                        [*manage, "kubesim", "--port", str(simulator_port), "--seed", "demo",
                         "--state", str(state)], env=env))
                    _wait_for(url, children[-1])
                env["KUBE_API_URL"] = url
                self.stdout.write(f"Built-in Kubernetes API simulator (demo cluster) at {url}")
                # Write the demo's generated isolation policies (nothing when already in step).
                subprocess.run([*manage, "reconcile"], env=env, check=False)
            if settings.REDIS_URL:
                celery = [sys.executable, "-m", "celery", "-A", "console"]
                children.append(subprocess.Popen([*celery, "worker", "-l", "info", "-c", "2"], env=env))
                children.append(subprocess.Popen([*celery, "beat", "-l", "info", "-s",
                                                  str(Path(settings.DATA_DIR) / "celerybeat-schedule")],
                                                 env=env))
                self.stdout.write("Celery worker and beat started (REDIS_URL is set).")
            else:
                self.stdout.write("REDIS_URL is not set: background jobs run inside the web process.")
            self.stdout.write(self.style.SUCCESS(f"Console: http://{addr}/"))
            subprocess.run([*manage, "runserver", addr, "--noreload"], env=env, check=False)
        except KeyboardInterrupt:
            pass
        finally:
            for child in reversed(children):
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()


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
