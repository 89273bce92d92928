"""Time isolating a workspace of 1,000 projects, then the same request again (0 writes).

    .venv/bin/python bench/isolate_workspace_bench.py [--projects 1000] [--pods-per-project 1]
        [--concurrency N]

Runs the real job path (`isolation_service.start_workspace_isolation`, jobs run in-process as
without Redis) against the API simulator seeded with one workspace of N projects, each with
its pods. Prints wall time and the API requests the simulator served, by verb, for: the
preview, the change, the same change again, a full reconcile, and the repair of drift in
every project (one history entry). The simulator serves from this process, so client and
server share the GIL; figures against a real API server differ.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKSPACE = "big"
OTHER_WORKSPACE = "neighbours"
OTHER_PROJECTS = 10


def cluster_objects(projects: int, pods_per_project: int) -> list[dict[str, Any]]:
    """The console CRDs, the Workspace to isolate (off for now) with its projects, and a
    second workspace of OTHER_PROJECTS projects whose calls the isolation will block; every
    project has its pods."""
    from kubesim.objects import console_crds, namespace

    objects: list[dict[str, Any]] = list(console_crds())   # the seed holds the system namespaces
    for workspace in (WORKSPACE, OTHER_WORKSPACE):
        objects.append({"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
                        "metadata": {"name": workspace}, "spec": {"networkIsolation": False}})
    members = [(f"project-{n:04d}", WORKSPACE) for n in range(projects)]
    members += [(f"other-{n:02d}", OTHER_WORKSPACE) for n in range(OTHER_PROJECTS)]
    for n, (ns, workspace) in enumerate(members):
        objects.append(namespace(ns, {"kubesphere.io/workspace": workspace}))
        for p in range(pods_per_project):
            i = n * pods_per_project + p
            objects.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"app-{p}", "namespace": ns, "labels": {"app": "app"}},
                "spec": {"nodeName": f"node-{i % 10}", "containers": [{
                    "name": "app", "image": "registry.example/app:1.0",
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]},
                "status": {"phase": "Running",
                           "podIP": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
                           "hostIP": f"192.168.0.{i % 10 + 10}"}})
    return objects


class RequestCounter:
    """Counts the requests the simulator serves, by verb."""

    def __init__(self, server: Any) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        handle = server.api.handle

        def counting(request: Any) -> Any:
            with self._lock:
                self.counts[request.method] += 1
            return handle(request)

        server.api.handle = counting

    def take(self) -> dict[str, int]:
        with self._lock:
            counts, self.counts = dict(self.counts), collections.Counter()
        return counts


def show(label: str, seconds: float, counts: dict[str, int], extra: str = "") -> None:
    verbs = ", ".join(f"{verb} {counts[verb]}" for verb in sorted(counts)) or "none"
    writes = sum(n for verb, n in counts.items() if verb not in ("GET", "HEAD"))
    print(f"{label:<34} {seconds:7.2f} s   requests: {verbs}   writes: {writes}"
          + (f"   {extra}" if extra else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--pods-per-project", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="namespaces written in parallel (default: the console's)")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="isolate-bench-")
    from kubesim.server import SimulatorServer, load_objects

    started = time.perf_counter()
    server = SimulatorServer(seed="empty")
    load_objects(server.api.crud, cluster_objects(args.projects, args.pods_per_project))
    server.start()
    print(f"simulator seeded with {args.projects} (+{OTHER_PROJECTS}) projects × "
          f"{args.pods_per_project} pods in "
          f"{time.perf_counter() - started:.1f} s")
    os.environ.update({"DJANGO_SETTINGS_MODULE": "console.settings", "DATA_DIR": data_dir,
                       "SECRET_KEY": "bench-only", "KUBE_API_URL": server.url,
                       "REDIS_URL": "", "LOG_LEVEL": "WARNING"})
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    if args.concurrency:
        from django.conf import settings

        settings.ISOLATION_WRITE_CONCURRENCY = args.concurrency
    from console.tenancy import reconcile
    from console.tenancy import services as iso

    counter = RequestCounter(server)
    try:
        started = time.perf_counter()
        preview = iso.preview_workspace_isolation(WORKSPACE, True)
        blocked = len(preview.impact.newly_blocked) if preview.impact else "?"
        show("preview", time.perf_counter() - started, counter.take(),
             f"{len(preview.generated_after)} policies, {blocked} connections blocked")

        for label in ("isolate the workspace", "same request again"):
            started = time.perf_counter()
            job = iso.start_workspace_isolation(None, WORKSPACE, True)
            job.refresh_from_db()
            seconds = time.perf_counter() - started
            if job.status != "succeeded":
                print(f"{label}: job {job.status}: {job.error}")
                return 1
            show(label, seconds, counter.take(),
                 f"policy writes {job.result['writes']}, concurrency "
                 f"{reconcile.concurrency()}")

        started = time.perf_counter()
        outcome = reconcile.repair_drift()
        show("full reconcile (drift check)", time.perf_counter() - started, counter.take(),
             outcome.summary())

        # Drift in every project of the workspace (its generated policies deleted by hand):
        # one reconcile repairs them all and records one history entry.
        from console.core import cluster
        from console.core.models import Change

        gw = cluster.gateway()
        for policy in reconcile.generated_policies(gw.list_objects("NetworkPolicy"), None,
                                                   "console"):
            metadata = policy["metadata"]
            gw.delete("NetworkPolicy", metadata["name"], namespace=metadata["namespace"])
        counter.take()
        entries = Change.objects.count()
        started = time.perf_counter()
        outcome = reconcile.repair_drift()
        show("repair drift everywhere", time.perf_counter() - started, counter.take(),
             f"{outcome.write_count} repairs, {Change.objects.count() - entries} history "
             f"entr{'y' if Change.objects.count() - entries == 1 else 'ies'}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
