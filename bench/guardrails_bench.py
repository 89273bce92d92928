"""Guardrails benchmark: evaluating 200 connectivity expectations on the 5,000-pod case.

    .venv/bin/python bench/guardrails_bench.py [--pods 5000 --namespaces 200 --policies 1000]
                                               [--expectations 200]

Prints figures beside the target (200 expectations < 1 s); asserts nothing. The cluster is
`bench/reachability_bench.py`'s `generate()` (nearly every pod its own class); the expectations
mix every peer kind (namespace, namespace + pods, namespaceSelector + pods, any pod, CIDR, a
Service) and both verdicts, with and without explicit ports. Timed: `evaluate()` given the
parsed Cluster (one class-based matrix for all expectations, up to MAX_VIOLATIONS explained
violations each), and again from the snapshot (parsing and validating the policies included).
Each figure is the best wall time of 3 runs with that run's CPU time beside it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reachability_bench import ENVS, TEAMS, TIERS, generate  # noqa: E402
from isolation.guardrails.evaluate import evaluate  # noqa: E402
from isolation.guardrails.model import API_VERSION, parse_expectation  # noqa: E402
from isolation.reachability.engine import Cluster  # noqa: E402
from isolation.snapshot import Snapshot  # noqa: E402

TARGET_SECONDS = 1.0


def _services(snapshot: Snapshot, rng: random.Random, count: int) -> list[dict[str, Any]]:
    services = []
    for number in range(count):
        pod = rng.choice(snapshot.pods)
        meta = pod["metadata"]
        tier = meta["labels"]["tier"]
        services.append({"apiVersion": "v1", "kind": "Service",
                         "metadata": {"name": f"svc-{number}", "namespace": meta["namespace"]},
                         "spec": {"selector": {"app": meta["labels"]["app"]},
                                  "ports": [{"port": 80 + k, "targetPort": name, "protocol": proto}
                                            for k, (_, proto, name) in enumerate(TIERS[tier])]}})
    return services


def expectations(snapshot: Snapshot, count: int, seed: int = 3) -> list[dict[str, Any]]:
    """`count` expectation documents over the generated cluster, every shape represented."""
    rng = random.Random(seed)
    namespaces = [ns["metadata"]["name"] for ns in snapshot.namespaces]
    services = [f"{s['metadata']['namespace']}/{s['metadata']['name']}" for s in snapshot.services]

    def pods_peer() -> dict[str, Any]:
        shape = rng.randrange(5)
        if shape == 0:
            return {"namespace": rng.choice(namespaces)}
        if shape == 1:
            return {"namespace": rng.choice(namespaces),
                    "podSelector": {"matchLabels": {"tier": rng.choice(list(TIERS))}}}
        if shape == 2:
            return {"namespaceSelector": {"matchLabels": {"team": rng.choice(TEAMS)}},
                    "podSelector": {"matchLabels": {"tier": rng.choice(list(TIERS))}}}
        if shape == 3:
            return {"namespaceSelector": {"matchExpressions": [
                {"key": "env", "operator": "In", "values": [rng.choice(ENVS)]}]},
                "podSelector": {}}
        return {"namespaceSelector": {}, "podSelector": {}}

    docs = []
    for number in range(count):
        source = ({"cidr": f"203.0.{number % 250}.0/24"} if number % 7 == 0 else pods_peer())
        if number % 11 == 0:
            destination: dict[str, Any] = {"cidr": "169.254.169.254/32"}
        elif number % 5 == 0 and services:
            destination = {"service": rng.choice(services)}
        else:
            destination = pods_peer()
            if "cidr" in source and "namespace" not in destination:
                destination = {"namespace": rng.choice(namespaces)}
        spec: dict[str, Any] = {"from": source, "to": destination,
                                "expect": rng.choice(["Allowed", "Denied"])}
        if "cidr" in destination or rng.random() < 0.5:
            tier = rng.choice(list(TIERS))
            spec["ports"] = [{"port": port, "protocol": proto} for port, proto, _ in TIERS[tier]]
        docs.append({"apiVersion": API_VERSION, "kind": "ClusterConnectivityExpectation",
                     "metadata": {"name": f"expectation-{number:03d}"}, "spec": spec})
    return docs


def _best_of(runs: int, work) -> tuple[float, Any, float]:
    """(best wall seconds, the result, CPU seconds of that run): on a shared machine the
    wall time also counts waiting for a core, the CPU time does not."""
    best, result, cpu = float("inf"), None, float("inf")
    for _ in range(runs):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        result = work()
        seconds = time.perf_counter() - begin
        if seconds < best:
            best, cpu = seconds, time.process_time() - begin_cpu
    return best, result, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--expectations", type=int, default=200)
    args = parser.parse_args()
    snapshot = Snapshot()
    for obj in generate(args.pods, args.namespaces, args.policies):
        snapshot.add(obj)
    snapshot.services = _services(snapshot, random.Random(5), 50)
    parsed = [parse_expectation(doc) for doc in expectations(snapshot, args.expectations)]
    cluster = Cluster.from_snapshot(snapshot)
    print(f"== {args.pods} pods, {args.namespaces} namespaces, {args.policies} policies, "
          f"{len(parsed)} expectations; wall seconds, best of 3")
    seconds, results, cpu = _best_of(3, lambda: evaluate(snapshot, parsed, cluster))
    verdict = "meets" if seconds < TARGET_SECONDS else "MISSES"
    pairs = sum(r.pairs for r in results)
    violated = sum(not r.holds for r in results)
    explained = sum(len(r.violations) for r in results)
    print(f"  evaluate (parsed cluster)        {seconds:7.3f} s   target < {TARGET_SECONDS:g} s: "
          f"{verdict}   (CPU {cpu:.3f} s; load average {os.getloadavg()[0]:.1f})")
    print(f"    {pairs:,} pairs checked, {violated} of {len(results)} violated, "
          f"{explained} violations explained")
    seconds, _, cpu = _best_of(3, lambda: evaluate(snapshot, parsed))
    print(f"  evaluate from the snapshot       {seconds:7.3f} s   (policies parsed and "
          f"validated too; CPU {cpu:.3f} s)")


if __name__ == "__main__":
    main()
