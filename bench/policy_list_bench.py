"""Time the Network Policies list view on a cluster of 10,000 NetworkPolicies.

    .venv/bin/python bench/policy_list_bench.py [--policies 10000] [--namespaces 500]
                                                [--pods-per-namespace 20] [--requests 60]

The simulator runs in a separate process with the policies spread over the namespaces of 50
workspaces. The view is called through Django's test client, so the figures are server time
(middleware, access checks, filtering, sorting, paging and rendering; no network or browser).
Prints p50 / p90 / max per query, for a platform admin and a workspace admin, with the policy
index warm (the steady state: it is cached for a few seconds) and cold (rebuilt on every
request, as after the console's own writes).
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

WORKSPACES = 50
QUERIES = [
    ("first page, default order", {}),
    ("workspace filter", {"workspace": "ws-07"}),
    ("project filter", {"project": "project-0042"}),
    ("search by name", {"q": "allow-web-1"}),
    ("sorted by name, descending", {"sort": "-name"}),
    ("sorted by pods selected", {"sort": "-pods"}),
    ("page 200", {"page": 200}),
    ("htmx table only, workspace + search", {"workspace": "ws-03", "q": "deny", "htmx": True}),
]


def cluster_objects(policies: int, namespaces: int, pods_per_namespace: int) -> list[dict[str, Any]]:
    """CRDs, workspaces, namespaces, pods and `policies` NetworkPolicies spread evenly."""
    from kubesim.objects import console_crds

    objects: list[dict[str, Any]] = list(console_crds())
    objects += [{"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
                 "metadata": {"name": f"ws-{w:02d}"}, "spec": {"networkIsolation": False}}
                for w in range(WORKSPACES)]
    kinds = ["allow-web", "deny-all", "allow-dns", "allow-metrics"]
    for n in range(namespaces):
        ns = f"project-{n:04d}"
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": ns, "labels": {"kubesphere.io/workspace": f"ws-{n % WORKSPACES:02d}"}}})
        for p in range(pods_per_namespace):
            i = n * pods_per_namespace + p
            objects.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"app-{p}", "namespace": ns,
                             "labels": {"app": f"app-{p % 5}", "tier": "web" if p % 2 else "db"}},
                "spec": {"nodeName": f"node-{i % 20}", "containers": [{
                    "name": "app", "image": "registry.example/app:1.0", "ports": [
                    {"containerPort": 8080, "name": "http", "protocol": "TCP"}]}]},
                "status": {"phase": "Running",
                           "podIP": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}})
    for k in range(policies):
        ns = f"project-{k % namespaces:04d}"
        kind = kinds[k % len(kinds)]
        spec: dict[str, Any] = {"podSelector": {"matchLabels": {"app": f"app-{k % 5}"}}}
        if kind == "deny-all":
            spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        elif kind == "allow-dns":
            spec.update(policyTypes=["Egress"], egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])
        else:
            spec["ingress"] = [{"from": [{"podSelector": {"matchLabels": {"tier": "web"}}}],
                                "ports": [{"port": 8080}]}]
        objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": f"{kind}-{k}", "namespace": ns}, "spec": spec})
    return objects


def setup_django(url: str, data_dir: str) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "console.settings", "KUBE_API_URL": url, "KUBECONFIG": "",
        "DATA_DIR": data_dir, "DATABASE_URL": f"sqlite:///{data_dir}/bench.sqlite3",
        "SECRET_KEY": "bench-only-secret-key-0123456789-0123456789-0123456789",
        "ALLOWED_HOSTS": "testserver", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING",
    })
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def users():
    from django.contrib.auth.models import User
    from django.test import Client

    from console.core.models import Role, RoleBinding

    admin = User.objects.create_superuser("alice")
    bob = User.objects.create_user("bob")
    RoleBinding.objects.create(user=bob, role=Role.WORKSPACE_ADMIN, workspace="ws-07")
    clients = {}
    for label, user in (("platform admin", admin), ("workspace admin of ws-07", bob)):
        client = Client()
        client.force_login(user)
        clients[label] = client
    return clients


def measure(client, params: dict[str, Any], requests: int, cold: bool) -> list[float]:
    from django.urls import reverse

    from console.policies import services

    params = dict(params)
    headers = {"HTTP_HX_REQUEST": "true"} if params.pop("htmx", False) else {}
    times = []
    for _ in range(requests):
        if cold:
            services.forget()
        started = time.perf_counter()
        response = client.get(reverse("policy_list"), params, **headers)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return times


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    print(f"  {label:<40} p50 {statistics.median(times) * 1000:7.1f} ms   "
          f"p90 {p90 * 1000:7.1f} ms   max {ordered[-1] * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--pods-per-namespace", type=int, default=20)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--cold-requests", type=int, default=8)
    parser.add_argument("--build-state", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_state:
        write_simulator_state(args.build_state, cluster_objects(
            args.policies, args.namespaces, args.pods_per_namespace))
        return
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state.json")
        seconds = build_state_in_child(__file__, state, [
            "--policies", str(args.policies), "--namespaces", str(args.namespaces),
            "--pods-per-namespace", str(args.pods_per_namespace)])
        print(f"built {args.policies:,} NetworkPolicies, {args.namespaces:,} namespaces in "
              f"{WORKSPACES} workspaces, {args.namespaces * args.pods_per_namespace:,} pods "
              f"in {seconds:.1f} s")
        process, url = start_simulator(state)
        try:
            setup_django(url, tmp)
            clients = users()
            for who, client in clients.items():
                client.get("/policies/")  # the directory, the status line and the index
                print(f"\n{who}: warm index ({args.requests} requests per query)")
                for label, params in QUERIES:
                    report(label, measure(client, params, args.requests, cold=False))
            client = clients["platform admin"]
            print(f"\nplatform admin: cold index, rebuilt from the cluster on every request "
                  f"({args.cold_requests} requests)")
            report(QUERIES[0][0], measure(client, QUERIES[0][1], args.cold_requests, cold=True))
        finally:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
