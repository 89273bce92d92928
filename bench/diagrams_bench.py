"""Traffic-path diagrams: cold render and cached lookup times, printed (never asserted).

    .venv/bin/python bench/diagrams_bench.py [--snapshot kubesim/demo.yaml] [--repeat 20]

Cold = build the reachability engine, trace one exposure and draw its SVG, as a render task
does on a cache miss. Cached = compute the exposure's input digest and fetch the drawing from
a dict, as a request does on a hit. Targets (issue 8): cold < 200 ms, cached < 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isolation.cli.traffic import with_compiled_isolation  # noqa: E402
from isolation.paths.cache import trace_digest  # noqa: E402
from isolation.paths.diagrams import render_svg  # noqa: E402
from isolation.paths.trace import exposures, trace  # noqa: E402
from isolation.snapshot import Snapshot, load_snapshot, with_name_label  # noqa: E402


def _ref(exposure):
    ref = (exposure.namespace, exposure.name)
    return {"ingress": ref} if exposure.kind == "Ingress" else {"service": ref}


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(samples) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms"


def synthetic(nodes: int, namespaces: int, pods_per_namespace: int) -> Snapshot:
    """A larger IPIP cluster: every namespace isolated to itself plus a client range."""
    snapshot = Snapshot()
    for n in range(nodes):
        snapshot.add({"kind": "Node", "metadata": {"name": f"node-{n:02d}", "annotations": {
            "projectcalico.org/IPv4IPIPTunnelAddr": f"10.{n // 200 + 100}.{n % 200}.0"}},
            "status": {"addresses": [{"type": "InternalIP", "address": f"192.168.{n // 200}.{n % 200 + 10}"}]}})
    for i in range(namespaces):
        ns = f"project-{i:03d}"
        snapshot.add(with_name_label({"kind": "Namespace", "metadata": {"name": ns}}))
        for j in range(pods_per_namespace):
            snapshot.add({"kind": "Pod", "metadata": {"namespace": ns, "name": f"web-{j}",
                                                      "labels": {"app": "web", "tier": f"t{j % 3}"}},
                          "spec": {"nodeName": f"node-{(i + j) % nodes:02d}", "containers": [{
                              "name": "web", "ports": [{"name": "http", "containerPort": 8080}]}]},
                          "status": {"phase": "Running", "podIP": f"10.{i // 250 + 1}.{i % 250}.{j + 2}"}})
        snapshot.add({"kind": "Service", "metadata": {"namespace": ns, "name": "web"},
                      "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [
                          {"name": "http", "port": 80, "targetPort": "http", "nodePort": 30000 + i}]}})
        snapshot.add({"kind": "NetworkPolicy", "metadata": {"namespace": ns, "name": "nsnp-network-isolate"},
                      "spec": {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {
                          "matchLabels": {"kubernetes.io/metadata.name": ns}}}]}]}})
        snapshot.add({"kind": "NetworkPolicy", "metadata": {"namespace": ns, "name": "nsnp-clients"},
                      "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{
                          "from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}],
                          "ports": [{"port": 8080}]}]}})
    return snapshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snapshot", default=str(Path(__file__).resolve().parents[1] / "kubesim" / "demo.yaml"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--synthetic", action="store_true",
                        help="use a generated cluster (20 nodes, 2,000 pods, 200 policies) instead")
    options = parser.parse_args()
    if options.synthetic:
        options.snapshot = "synthetic"
        snapshot = synthetic(20, 100, 20)
        found = exposures(snapshot)[:3]
    else:
        snapshot = with_compiled_isolation(load_snapshot(Path(options.snapshot).read_text()))
        found = exposures(snapshot)
    trace(snapshot, **_ref(found[0]))  # warm-up: imports and first-call costs
    print(f"snapshot {options.snapshot}: {len(snapshot.pods)} pods, {len(snapshot.nodes)} nodes, "
          f"{len(snapshot.network_policies)} policies, {len(found)} exposures")
    for exposure in found:
        kwargs = _ref(exposure)
        cold, hit = [], []
        cache: dict[str, str] = {}
        for _ in range(options.repeat):
            start = time.perf_counter()
            result = trace(snapshot, **kwargs)
            svg = render_svg(result, title=f"{exposure.kind} {exposure.key}")
            cold.append(time.perf_counter() - start)
            cache[trace_digest(snapshot, **kwargs)] = svg
        for _ in range(options.repeat):
            start = time.perf_counter()
            cached = cache.get(trace_digest(snapshot, **kwargs))
            hit.append(time.perf_counter() - start)
            assert cached is not None
        print(f"{exposure.kind:12} {exposure.key:45} paths {len(result.paths):3}  "
              f"svg {len(svg) / 1024:6.1f} KiB")
        print(f"    cold   {_ms(cold)}")
        print(f"    cached {_ms(hit)}")


if __name__ == "__main__":
    main()
