"""A real Celery worker process on the local Redis, sharing the test database.

The worker is started with the same settings as the tests, pointed at the test database (a
file for SQLite, the test database for PostgreSQL) and at a Redis database of its own, which is
flushed before and after so runs never see each other's messages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from console.celery import app as celery_app

REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{db['NAME']}"


@pytest.fixture
def redis_broker():
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"The integration tests need Redis at {REDIS_TEST_URL} "
                    f"(run `make services`): {exc}")
    client.flushdb()
    previous = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager")}
    _use_broker(broker_url=REDIS_TEST_URL, task_always_eager=False)
    yield client
    _use_broker(**previous)
    client.flushdb()


def _use_broker(**conf) -> None:
    """Switch the test process's Celery app to another broker (pools are per broker URL)."""
    celery_app.conf.update(conf)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", "worker", "-l", "info",
             "-c", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=settings.BASE_DIR, env=self.env, stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def celery_worker_factory(transactional_db, redis_broker, tmp_path):
    """Start real worker processes: `worker = celery_worker_factory(KUBE_API_URL=...)`."""
    workers: list[Worker] = []

    def start(**extra_env: str) -> Worker:
        env = dict(os.environ)
        env.update({"DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": _database_url(),
                    "REDIS_URL": REDIS_TEST_URL, "DATA_DIR": str(settings.DATA_DIR),
                    "KUBE_API_URL": settings.KUBE_API_URL, "KUBECONFIG": ""})
        env.update(extra_env)
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log")
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
