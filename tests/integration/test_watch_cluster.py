"""`manage.py watch_cluster` as a process of its own (issue 15, goal 7): it keeps the model of the
demo simulator current in a real Redis, pages read it without asking the API server, and when
the process stops (cleanly or killed) pages list the cluster again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings

from console.core import cluster
from tests.conftest import MODEL_REDIS_URL
from tests.helpers import wait_for

pytestmark = pytest.mark.integration

@pytest.fixture
def start_watcher(demo_cluster, redis_cache, tmp_path):
    started: list[subprocess.Popen] = []

    def start(*options: str) -> subprocess.Popen:
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings",
                   REDIS_URL=MODEL_REDIS_URL, KUBE_API_URL=demo_cluster.url, KUBECONFIG="",
                   DATA_DIR=str(settings.DATA_DIR))
        log = tmp_path / f"watcher-{len(started)}.log"
        process = subprocess.Popen([sys.executable, "manage.py", "watch_cluster", *options],
                                   cwd=settings.BASE_DIR, env=env, stdout=log.open("ab"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        wait_for(lambda: process.poll() is not None or cluster._model_snapshot(None),
                 timeout=60, what=f"the published model (log: {log})")
        assert process.poll() is None, log.read_text()
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def shop_label(snapshot) -> str | None:
    shop = next(n for n in snapshot.namespaces if n["metadata"]["name"] == "shop")
    return (shop["metadata"].get("labels") or {}).get("owner")


def test_pages_follow_the_cluster_through_the_watcher_process(start_watcher, api_reads):
    process = start_watcher()
    api_reads.clear()
    assert cluster.snapshot() == cluster.gateway().snapshot()
    other = cluster.new_gateway()   # another client: nothing here waits for its write
    for owner in ("kubectl", "argo", "flux"):
        other.merge_patch("Namespace", "shop", {"metadata": {"labels": {"owner": owner}}})
        api_reads.clear()
        wait_for(lambda owner=owner: shop_label(cluster.snapshot()) == owner, timeout=5,
                 what=f"owner={owner} in the pages' snapshot")
        assert api_reads == []   # every snapshot came from the model
    other.close()

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert cluster._model_snapshot(None) is None   # withdrawn on the way out
    api_reads.clear()
    assert shop_label(cluster.snapshot()) == "flux"
    assert api_reads != []


def test_a_killed_watcher_stops_serving_once_its_heartbeat_expires(start_watcher, api_reads):
    process = start_watcher("--heartbeat-ttl", "1.5")
    process.send_signal(signal.SIGKILL)
    process.wait()
    wait_for(lambda: cluster._model_snapshot(None) is None, timeout=10,
             what="the heartbeat to expire")
    api_reads.clear()
    assert cluster.snapshot() == cluster.gateway().snapshot()
    assert api_reads != []


def test_the_command_refuses_to_run_without_redis(demo_cluster, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", KUBE_API_URL=demo_cluster.url,
               DATA_DIR=str(settings.DATA_DIR))
    done = subprocess.run([sys.executable, "manage.py", "watch_cluster"], cwd=settings.BASE_DIR,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "REDIS_URL is not set" in done.stderr
