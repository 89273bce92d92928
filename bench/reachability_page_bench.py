"""Time the Reachability pages on a 5,000-pod cluster served by the API simulator.

    .venv/bin/python bench/reachability_page_bench.py [--namespaces 250] [--pods-per-namespace 20]

The simulator runs in its own process (as it meets the console's web process in production);
the console's views run in this process through Django's test client against it. Printed per
page: the server time of each request (median of --repeat runs; the matrix's 30-second cache
is cleared before each so every run computes), and whether the matrix went to a background job
(which, without REDIS_URL, runs in the request, so its time is the job's own).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import build_state_in_child, start_simulator, write_simulator_state  # noqa: E402

WORKSPACES = 10
JOB_KINDS = ("reachability-matrix", "reachability-what-if")
COST_KEYS = [f"reachability:grid-seconds:{level}:{narrowed}:{everything}"
             for level in ("workspace", "project", "pod") for narrowed in (False, True)
             for everything in (False, True)]
APPS = 4   # Deployments per namespace; each pod of one carries its app label


def cluster_objects(namespaces: int, pods_per_namespace: int) -> list[dict[str, Any]]:
    """Workspaces (every other one isolated), namespaces with pods of a few apps behind one
    Service each, the generated isolation policy in isolated workspaces, and a default-deny
    plus an allow-from-the-ingress-controller policy in every tenth namespace."""
    from kubesim.objects import console_crds

    objects: list[dict[str, Any]] = list(console_crds())
    objects += [{"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
                 "metadata": {"name": f"ws-{w}"}, "spec": {"networkIsolation": w % 2 == 0}}
                for w in range(WORKSPACES)]
    for n in range(namespaces):
        ns, ws = f"project-{n:04d}", f"ws-{n % WORKSPACES}"
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": ns, "labels": {"kubesphere.io/workspace": ws,
                                   "kubernetes.io/metadata.name": ns}}})
        if n % WORKSPACES % 2 == 0:
            objects.append(_policy(ns, "nsnp-network-isolate", {}, [{"from": [
                {"namespaceSelector": {"matchLabels": {"kubesphere.io/workspace": ws}}},
                {"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "kubesphere-controls-system"}}}]}]))
        if n % 10 == 3:
            objects.append(_policy(ns, "default-deny", {}, []))
            objects.append(_policy(ns, "allow-web", {"app": "web"}, [{
                "from": [{"namespaceSelector": {}}], "ports": [{"port": "http"}]}]))
        for a in range(APPS):
            objects.append({"apiVersion": "v1", "kind": "Service",
                            "metadata": {"name": f"app-{a}", "namespace": ns},
                            "spec": {"selector": {"app": f"app-{a}"},
                                     "ports": [{"port": 80, "targetPort": "http"}]}})
        for p in range(pods_per_namespace):
            i = n * pods_per_namespace + p
            app = "web" if p == 0 else f"app-{p % APPS}"
            objects.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"{app}-7d9f8b6c5-x{p:03d}", "namespace": ns,
                             "labels": {"app": app, "pod-template-hash": "7d9f8b6c5"}},
                "spec": {"nodeName": f"node-{i % 20}", "containers": [{
                    "name": "app", "image": "registry.example/app:1.4.2",
                    "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"},
                              {"containerPort": 9102, "name": "metrics", "protocol": "TCP"}]}]},
                "status": {"phase": "Running", "podIP": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}."
                                                       f"{i & 255}",
                           "hostIP": f"192.168.0.{i % 20 + 10}"}})
    return objects


def _policy(namespace: str, name: str, selector: dict[str, str], ingress: list[Any]
            ) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": {"matchLabels": selector} if selector else {},
                     "policyTypes": ["Ingress"], "ingress": ingress}}


def setup_django(data_dir: str, url: str) -> None:
    os.environ["DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["KUBE_API_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def measure(label: str, client, url: str, repeat: int, *, expect: str = "",
            htmx: bool = False) -> None:
    from django.core.cache import cache

    from console.core.models import Job

    times, jobs = [], 0
    for _ in range(repeat):
        costs = {k: cache.get(k) for k in COST_KEYS}
        cache.clear()   # no cached grid (nor tenant directory): every run computes
        cache.set_many({k: v for k, v in costs.items() if v is not None})
        Job.objects.filter(kind__in=JOB_KINDS).delete()   # no finished job to reuse
        started = time.perf_counter()
        response = client.get(url, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        jobs += Job.objects.filter(kind__in=JOB_KINDS).count()
        if expect:
            assert expect in response.content.decode(), (url, expect)
    how = f"  ({jobs} of {repeat} as a background job)" if jobs else ""
    print(f"  {label:<58} {statistics.median(times):6.2f} s median, "
          f"{min(times):6.2f} s best{how}")


def run(args: argparse.Namespace, url: str, data_dir: str) -> None:
    setup_django(data_dir, url)
    from django.contrib.auth.models import User
    from django.test import Client

    from console.core import cluster
    from console.core.models import Role, RoleBinding

    alice = User.objects.create_superuser("alice", password="bench-only")
    carol = User.objects.create_user("carol", password="bench-only")
    RoleBinding.objects.create(user=carol, role=Role.PROJECT_ADMIN, project="project-0003")
    admin, tenant = Client(), Client()
    admin.force_login(alice)
    tenant.force_login(carol)

    started = time.perf_counter()
    snapshot = cluster.snapshot()
    print(f"  {'cluster snapshot read through the gateway':<58} "
          f"{time.perf_counter() - started:6.2f} s  ({len(snapshot.pods):,} pods, "
          f"{len(snapshot.network_policies):,} policies)")
    measure("matrix, workspaces (first visit)", admin,
            "/reachability/?level=workspace", 1, expect="reach-grid")
    measure("matrix, workspaces", admin, "/reachability/?level=workspace", args.repeat)
    measure("matrix, projects of one workspace", admin,
            "/reachability/?level=project&workspace=ws-3", args.repeat)
    measure("matrix, all projects (60 columns drawn)", admin, "/reachability/", args.repeat)
    measure("matrix, pods of one project", admin,
            "/reachability/?level=pod&project=project-0003", args.repeat)
    measure("matrix, project admin (own project + other projects)", tenant,
            "/reachability/", args.repeat)
    admin.get("/reachability/?level=workspace")
    started = time.perf_counter()
    admin.get("/reachability/?level=workspace")
    print(f"  {'matrix, workspaces, answered from the 30 s cache':<58} "
          f"{time.perf_counter() - started:6.2f} s")
    measure("drill-down in the page: project × project (pod pairs)", admin,
            "/reachability/cell/?row=ns:project-0001&col=ns:project-0003", args.repeat,
            htmx=True)
    measure("drill-down in the page: workspace × workspace (project pairs)", admin,
            "/reachability/cell/?level=workspace&row=ws:ws-1&col=ws:ws-3", args.repeat,
            htmx=True)
    measure("check: pod → Service (reads two namespaces)", admin,
            "/reachability/check/?source=project-0001/app-1-7d9f8b6c5-x001"
            "&destination=service:project-0003/app-1&port=80", args.repeat, expect="check-result")
    measure("check page with its suggestions (every pod and Service)", admin,
            "/reachability/check/", args.repeat)
    measure("what if: a workspace switch (compile + diff, whole cluster)", admin,
            "/reachability/what-if/?change=workspace&workspace=ws-1&isolation=on", args.repeat,
            expect="impact")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=250)
    parser.add_argument("--pods-per-namespace", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build-state", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_state:
        write_simulator_state(args.build_state,
                              cluster_objects(args.namespaces, args.pods_per_namespace))
        return
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state.json")
        seconds = build_state_in_child(__file__, state, [
            "--namespaces", str(args.namespaces),
            "--pods-per-namespace", str(args.pods_per_namespace)])
        print(f"built {args.namespaces:,} namespaces × {args.pods_per_namespace} pods = "
              f"{args.namespaces * args.pods_per_namespace:,} pods in {seconds:.1f} s")
        process, url = start_simulator(state)
        try:
            run(args, url, tmp)
        finally:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
