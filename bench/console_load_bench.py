"""The console under load: every list page with 1 and with 50 concurrent users, printed beside
the targets (never asserted).

    .venv/bin/python bench/console_load_bench.py [--users 50] [--seconds 60]
                                                 [--policies 10000] [--namespaces 500]

Serves a generated cluster (5,000 pods in 500 projects of 50 workspaces, 10,000 NetworkPolicies,
500 NodePort Services) from the API simulator in a process of its own, and runs the console as
deployed: gunicorn (4 workers, 60 s timeout) on SQLite (or `DATABASE_URL`), Redis for cache and
broker, a Celery worker and `manage.py watch_cluster` (pages read the watched cluster model). The load comes from locust,
headless, in the virtualenv `.venv-bench` (`make bench` creates it): its users arrive signed in
as a platform admin (one session each, made beforehand) and open the list pages in turn.
Targets (issue 15): p50 < 150 ms and p99 < 1 s per page at 50 users, 0 errors. The load
generator shares the machine with the console: the machine's CPU count and load are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import build_state_in_child, start_simulator, write_simulator_state  # noqa: E402
from bench.console_pages import PAGES  # noqa: E402
from bench.policy_list_bench import cluster_objects  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
LOCUST = ROOT / ".venv-bench" / "bin" / "locust"
PASSWORD = "bench-password"
TARGET_P50_MS, TARGET_P99_MS = 150, 1000
PAGE_NAMES = {name for name, _ in PAGES}
LOGS = ROOT / "test-artifacts" / "bench"


def objects(policies: int, namespaces: int, pods: int) -> list[dict[str, Any]]:
    """The policy-list cluster plus one NodePort Service per project."""
    result = cluster_objects(policies, namespaces, pods)
    for n in range(namespaces):
        result.append({"apiVersion": "v1", "kind": "Service", "metadata": {
            "name": "web", "namespace": f"project-{n:04d}"}, "spec": {
            "type": "NodePort", "selector": {"app": "app-0"},
            "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP",
                       "nodePort": 30000 + n}]}})
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def console_env(api_url: str, data_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "console.settings", "KUBE_API_URL": api_url, "KUBECONFIG": "",
        "DATA_DIR": data_dir, "SECRET_KEY": "bench-only-secret-key-0123456789-0123456789-0123",
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0", "DEBUG": "0",
        "LOG_LEVEL": "WARNING", "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
        "RECONCILE_INTERVAL_SECONDS": "3600"})
    env.setdefault("DATABASE_URL", f"sqlite:///{data_dir}/bench.sqlite3")
    return env


def prepare(env: dict[str, str], sessions: int) -> list[str]:
    """Migrate, create the platform admin alice, and `sessions` signed-in sessions of hers
    (the load's users arrive signed in: fifty password hashes at once would measure PBKDF2,
    not the pages; signing in is timed once by `first_requests`)."""
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    made = subprocess.run([PYTHON, "manage.py", "shell", "-c", (
        "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY\n"
        "from django.contrib.auth.models import User\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        "from console.core.models import Role, RoleBinding\n"
        f"u = User.objects.create_user('alice', password={PASSWORD!r})\n"
        "RoleBinding.objects.create(user=u, role=Role.PLATFORM_ADMIN)\n"
        f"for _ in range({sessions}):\n"
        "    s = SessionStore()\n"
        "    s[SESSION_KEY] = str(u.pk)\n"
        "    s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "    s[HASH_SESSION_KEY] = u.get_session_auth_hash()\n"
        "    s.save()\n"
        "    print('session', s.session_key)\n")],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return [line.split()[1] for line in made.stdout.splitlines() if line.startswith("session ")]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except Exception:  # not up yet
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def first_requests(url: str) -> None:
    """Each page once, signed in, right after start: the cold figures (caches empty)."""
    import re

    import requests

    session = requests.Session()
    form = session.get(url + "/login/", timeout=120).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    session.post(url + "/login/", data={"username": "alice", "password": PASSWORD,
                                        "csrfmiddlewaretoken": token},
                 headers={"Referer": url + "/login/"}, timeout=120)
    print("\nfirst request of each page (cold caches)")
    for name, path in PAGES:
        started = time.perf_counter()
        response = session.get(url + path, timeout=120)
        print(f"  {name:<28} {(time.perf_counter() - started) * 1000:8.0f} ms   "
              f"HTTP {response.status_code}")


def run_locust(url: str, users: int, seconds: int, prefix: str,
               sessions: list[str]) -> list[dict[str, str]]:
    env = dict(os.environ, BENCH_SESSIONS=",".join(sessions))
    subprocess.run([str(LOCUST), "-f", str(ROOT / "bench" / "locustfile_console.py"),
                    "--headless", "--users", str(users), "--spawn-rate", str(max(1, users // 5)),
                    "--run-time", f"{seconds}s", "--host", url, "--csv", prefix,
                    "--only-summary", "--loglevel", "ERROR"],
                   cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with open(f"{prefix}_stats.csv") as stats:
        rows = list(csv.DictReader(stats))
    with open(f"{prefix}_failures.csv") as failures:
        for failure in list(csv.DictReader(failures))[:5]:
            print(f"  failed: {failure['Name']}: {failure['Error'][:200]} x{failure['Occurrences']}")
    return rows


def report(label: str, rows: list[dict[str, str]]) -> None:
    print(f"\n{label}")
    print(f"  {'page':<28} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}   target")
    for row in rows:
        p50, p99 = float(row["50%"] or 0), float(row["99%"] or 0)
        ok = p50 < TARGET_P50_MS and p99 < TARGET_P99_MS and row["Failure Count"] == "0"
        verdict = (f"p50<{TARGET_P50_MS} p99<{TARGET_P99_MS} {'met' if ok else 'MISSED'}"
                   if row["Name"] in PAGE_NAMES else "(no target)")
        print(f"  {row['Name']:<28} {row['Request Count']:>8} {row['Failure Count']:>6} "
              f"{p50:8.0f} {p99:8.0f}   {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--pods-per-namespace", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--build-state", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_state:
        write_simulator_state(args.build_state, objects(
            args.policies, args.namespaces, args.pods_per_namespace))
        return
    if not LOCUST.exists():
        raise SystemExit("locust is missing: run `make .venv-bench/.installed` (or `make bench`).")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} "
          f"(the load generator runs on the same machine)")
    children: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state.json")
        seconds = build_state_in_child(__file__, state, [
            "--policies", str(args.policies), "--namespaces", str(args.namespaces),
            "--pods-per-namespace", str(args.pods_per_namespace)])
        print(f"cluster: {args.namespaces * args.pods_per_namespace:,} pods, "
              f"{args.policies:,} NetworkPolicies, {args.namespaces:,} NodePort Services "
              f"(built in {seconds:.1f} s)")
        simulator, api_url = start_simulator(state)
        children.append(simulator)
        try:
            env = console_env(api_url, tmp)
            sessions = prepare(env, args.users)
            port = free_port()
            LOGS.mkdir(parents=True, exist_ok=True)
            web_log = open(LOGS / "console-load-web.log", "w")  # noqa: SIM115 (closed below)
            print(f"web server errors: {LOGS / 'console-load-web.log'}")
            url = f"http://127.0.0.1:{port}"
            children.append(subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "gunicorn"), "console.wsgi", "--bind",
                 f"127.0.0.1:{port}", "--workers", str(args.workers), "--timeout", "60"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=web_log,
                start_new_session=True))
            children.append(subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "celery"), "-A", "console", "worker",
                 "--concurrency", "2", "--loglevel", "WARNING"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True))
            children.append(subprocess.Popen(
                [PYTHON, "manage.py", "watch_cluster"], cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
            wait_for(url + "/healthz")
            first_requests(url)
            for label, users, seconds_ in (("1 user", 1, max(20, args.seconds // 3)),
                                           (f"{args.users} users", args.users, args.seconds)):
                started = time.perf_counter()
                rows = run_locust(url, users, seconds_, os.path.join(tmp, f"u{users}"),
                                  sessions)
                report(f"{label}, {time.perf_counter() - started:.0f} s "
                       f"(load average {os.getloadavg()[0]:.2f})", rows)
        finally:
            if "web_log" in locals():
                web_log.close()
            for child in reversed(children):
                with contextlib.suppress(ProcessLookupError):
                    if child is simulator:
                        child.kill()
                    else:
                        os.killpg(child.pid, signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()


if __name__ == "__main__":
    main()
