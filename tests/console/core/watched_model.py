"""The watched cluster model for page tests: a ClusterWatcher and its publisher in threads of
this process over the test's simulator, the model in the tests' Redis (fixture `redis_cache`).
Pages then read the model and key what they keep by its version, as deployed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from cluster.watch import ClusterWatcher
from console.core import cluster
from console.core.management.commands.watch_cluster import ModelPublisher
from tests.helpers import wait_for


@contextmanager
def watched_model() -> Iterator[SimpleNamespace]:
    """The model published and kept current while the block runs."""
    gateway = cluster.new_gateway()
    watcher = ClusterWatcher(gateway, watch_seconds=30).start()
    stopping = threading.Event()
    thread = None
    try:
        assert watcher.wait_synced(10)
        thread = threading.Thread(target=ModelPublisher(watcher).run, args=(stopping,),
                                  daemon=True)
        thread.start()
        wait_for(cluster.model_version, timeout=10, what="the model")
        yield SimpleNamespace(gateway=gateway, watcher=watcher)
    finally:
        stopping.set()
        if thread is not None:
            thread.join(5)
        watcher.stop()
        gateway.close()


def other_gateway_write(change) -> None:
    """Make `change(gateway)` through a gateway of its own (as kubectl would), then wait until
    the model holds it: the console did not write it, so nothing else waits for it."""
    before = cluster.model_version()
    gateway = cluster.new_gateway()
    try:
        change(gateway)
    finally:
        gateway.close()
    wait_for(lambda: cluster.model_version() not in (None, before), timeout=10,
             what="the change in the model")
