"""Time reading a 10,000-namespace / 100,000-pod cluster snapshot from the API simulator.

    .venv/bin/python bench/snapshot_bench.py [--namespaces 10000] [--pods-per-namespace 10]

Prints figures for: the full `Gateway.snapshot()` (4 reader threads, and 1), each kind's
paginated list, and, for the pods, the official client's typed models (+ conversion back to
dicts) against the gateway's raw JSON reading. The simulator runs in a separate process, as
the console's web and worker processes meet it, so client and server do not share a GIL; the
in-process figure is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

COMPARE_PAGES = 20  # the model way is slow; compare on the first 10,000 pods
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import build_state_in_child, start_simulator, write_simulator_state  # noqa: E402
from cluster.config import ClusterConfig  # noqa: E402
from cluster.errors import NotFoundError  # noqa: E402
from cluster.gateway import PAGE_SIZE, Gateway  # noqa: E402
from cluster.snapshots import SNAPSHOT_KINDS  # noqa: E402


def cluster_objects(namespaces: int, pods_per_namespace: int) -> list[dict[str, Any]]:
    """The console CRDs, 50 Workspaces, the namespaces, their pods (spread over 20 nodes) and
    one NetworkPolicy per namespace."""
    from kubesim.objects import console_crds

    objects: list[dict[str, Any]] = list(console_crds())
    objects += [{"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
                 "metadata": {"name": f"ws-{w}"}, "spec": {"networkIsolation": w % 2 == 0}}
                for w in range(50)]
    for n in range(namespaces):
        ns = f"project-{n:05d}"
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": ns, "labels": {"kubesphere.io/workspace": f"ws-{n % 50}"}}})
        objects.append({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "nsnp-network-isolate", "namespace": ns},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [
                {"namespaceSelector": {"matchLabels": {"kubesphere.io/workspace": f"ws-{n % 50}"}}}
            ]}]}})
        for p in range(pods_per_namespace):
            i = n * pods_per_namespace + p
            objects.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"app-{p}-7d9f8b6c5-x{p:03d}", "namespace": ns,
                             "labels": {"app": f"app-{p % 3}", "pod-template-hash": "7d9f8b6c5"}},
                "spec": {"nodeName": f"node-{i % 20}", "containers": [{
                    "name": "app", "image": "registry.example/app:1.4.2",
                    "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]}]},
                "status": {"phase": "Running", "podIP": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}."
                                                       f"{i & 255}",
                           "hostIP": f"192.168.0.{i % 20 + 10}"}})
    return objects


def timed(label: str, fn: Any) -> Any:
    started = time.perf_counter()
    result = fn()
    print(f"  {label:<46} {time.perf_counter() - started:7.2f} s")
    return result


def measure(url: str, where: str) -> None:
    import cluster.snapshots as snapshots_module

    print(f"\nsimulator {where} ({url}), page size {PAGE_SIZE}")
    gw = Gateway(ClusterConfig(source="url", api_url=url, timeout=60))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    snapshots_module.SNAPSHOT_THREADS = 1
    snap = timed("Gateway.snapshot(), 1 thread", gw.snapshot)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"  {'objects':<46} {len(snap.objects()):7,d}  (pods {len(snap.pods):,}, "
          f"namespaces {len(snap.namespaces):,})")
    print(f"  {'peak RSS growth (first snapshot)':<46} {(rss_after - rss_before) / 1024:7.0f} MiB")
    del snap
    snapshots_module.SNAPSHOT_THREADS = 4
    timed("Gateway.snapshot(), 4 threads", gw.snapshot)
    pods = 0
    for kind in SNAPSHOT_KINDS:
        try:
            items = timed(f"list_objects({kind!r})", lambda kind=kind: gw.list_objects(kind))
        except NotFoundError as exc:
            print(f"  {'list_objects(' + repr(kind) + ')':<46}  {exc.message}")
            continue
        pods = len(items) if kind == "Pod" else pods
        del items
    pages = min(COMPARE_PAGES, max(1, pods // PAGE_SIZE))
    raw_pod_pages(gw, 1)  # the client builds its validators and models on first use
    typed_pod_pages(gw, 1)
    timed(f"raw JSON, first {pages * PAGE_SIZE:,} pods",
          lambda: raw_pod_pages(gw, pages))
    timed(f"typed models + sanitize, first {pages * PAGE_SIZE:,} pods",
          lambda: typed_pod_pages(gw, pages))
    gw.close()


def raw_pod_pages(gw: Gateway, pages: int) -> list[dict[str, Any]]:
    """The first `pages` pages of pods, read the gateway's way (raw JSON)."""
    from kubernetes import client

    api = client.CoreV1Api(gw._api)
    items: list[dict[str, Any]] = []
    token = None
    for _ in range(pages):
        response = api.list_pod_for_all_namespaces(limit=PAGE_SIZE, _continue=token,
                                                   _request_timeout=60, _preload_content=False)
        page = json.loads(response.data)
        items.extend(page["items"])
        token = page["metadata"].get("continue")
    return items


def typed_pod_pages(gw: Gateway, pages: int) -> list[dict[str, Any]]:
    """The same pods read the model way: CoreV1Api objects converted back to plain dicts."""
    from kubernetes import client

    api = client.CoreV1Api(gw._api)
    items: list[dict[str, Any]] = []
    token = None
    for _ in range(pages):
        page = api.list_pod_for_all_namespaces(limit=PAGE_SIZE, _continue=token,
                                               _request_timeout=60)
        items.extend(gw._api.sanitize_for_serialization(item) for item in page.items)
        token = page.metadata._continue
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=10_000)
    parser.add_argument("--pods-per-namespace", type=int, default=10)
    parser.add_argument("--skip-in-process", action="store_true")
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
        print(f"built {args.namespaces:,} namespaces, {args.namespaces * args.pods_per_namespace:,}"
              f" pods, {args.namespaces:,} NetworkPolicies, 50 Workspaces in {seconds:.1f} s "
              f"(state file {os.path.getsize(state) / 2**20:.0f} MiB)")
        process, url = start_simulator(state)
        try:
            measure(url, "in a separate process")
        finally:
            process.kill()  # not terminate: it would spend long writing its unchanged state
            process.wait()
        if not args.skip_in_process:
            from kubesim import SimulatorServer

            with SimulatorServer(state_file=state) as sim:
                measure(sim.url, "in this process")


if __name__ == "__main__":
    main()
