"""Reachability engine benchmark: full matrix, single explained check, and NCA side by side.

    .venv/bin/python bench/reachability_bench.py [--pods 5000 --namespaces 200 --policies 1000]
                                                  [--nca-sizes 200,500] [--no-nca]
                                                  [--no-targets | --target worst|realistic]

Prints figures; asserts nothing. The engine targets (`TARGETS`) time `Cluster.matrix()` alone
on a parsed cluster, each in a fresh process: the worst case (5,000 pods, nearly every pod its
own class, 1,000 policies) within 0.5 s and 1 GB, and a realistic cluster (20,000 pods in
Deployments of 10, about 2,000 classes, 4,000 policies) within 1 s. The generated clusters mix pod selectors, namespace
selectors (matchLabels and matchExpressions), ipBlocks with except, named ports, port ranges
and both policy directions. NCA (see bench/reachability_nca.py) runs in a warm process and is
timed inside that process, so interpreter start-up is not counted against it; our side is
timed from YAML text to the finished matrix, like NCA's run from its YAML file.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reachability_nca import INSTALL_HINT, Nca, nca_python  # noqa: E402
from isolation.netpol.validation import stored_network_policy  # noqa: E402
from isolation.reachability.engine import Cluster  # noqa: E402
from isolation.snapshot import Snapshot, load_snapshot  # noqa: E402

TEAMS = [f"team-{n}" for n in range(20)]
ENVS = ["prod", "staging", "dev"]
# tier -> container ports (number, protocol, name)
TIERS = {
    "web": [(80, "TCP", "http"), (443, "TCP", "https")],
    "api": [(8080, "TCP", "http"), (9090, "TCP", "metrics")],
    "db": [(5432, "TCP", "postgres")],
    "cache": [(6379, "TCP", "redis")],
    "dns": [(53, "UDP", "dns"), (53, "TCP", "dns-tcp")],
    "worker": [(9000, "SCTP", "jobs"), (9090, "TCP", "metrics")],
}


def generate(pods: int, namespaces: int, policies: int, seed: int = 7,
             for_nca: bool = False, replicas: int = 1) -> list[dict[str, Any]]:
    """API objects of a synthetic cluster (Namespaces, Nodes, Pods, NetworkPolicies).

    With `replicas` above 1 the pods come in Deployments of that many replicas sharing their
    labels (pod-template-hash included) and namespace, as in a real cluster; with 1 every pod
    draws its own labels, so nearly every pod is its own class (the worst case).
    With `for_nca`, the cluster avoids what NCA reads differently from the API server (see
    tests/isolation/test_reachability_nca.py): no ipBlock contains a pod IP and no peer pairs a
    namespaceSelector with an Exists/DoesNotExist pod requirement.
    """
    rng = random.Random(seed)
    objects: list[dict[str, Any]] = []
    ns_names = [f"ns-{n:03d}" for n in range(namespaces)]
    for name in ns_names:
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": name, "labels": {"kubernetes.io/metadata.name": name,
                                     "team": rng.choice(TEAMS), "env": rng.choice(ENVS)}}})
    nodes = [f"node-{n:02d}" for n in range(max(3, pods // 100))]
    for n, name in enumerate(nodes):
        objects.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                        "status": {"addresses": [{"type": "InternalIP",
                                                  "address": f"192.168.{n // 250}.{n % 250 + 1}"}]}})
    apps_of: dict[str, list[tuple[str, str]]] = {name: [] for name in ns_names}
    for number in range(pods):
        if number % replicas == 0:  # a new Deployment (every pod when replicas is 1)
            namespace = ns_names[number // replicas % namespaces]
            tier = rng.choice(list(TIERS))
            app = f"{tier}-{rng.randrange(4)}"
            labels = {"app": app, "tier": tier, "version": rng.choice(["v1", "v2"]),
                      "pod-template-hash": f"{rng.getrandbits(32):08x}"}
            if rng.random() < 0.2:
                labels["canary"] = "true"
        apps_of[namespace].append((app, tier))
        objects.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{app}-{number:05d}", "namespace": namespace,
                         "labels": dict(labels)},
            "spec": {"nodeName": rng.choice(nodes), "containers": [{
                "name": tier, "image": f"{tier}:1",
                "ports": [{"containerPort": p, "protocol": proto, "name": port_name}
                          for p, proto, port_name in TIERS[tier]]}]},
            "status": {"phase": "Running",
                       "podIP": f"10.64.{number // 250}.{number % 250 + 1}"},
        })
    for number in range(policies):
        namespace = ns_names[number % namespaces]
        objects.append(_policy(rng, number, namespace, apps_of[namespace], for_nca))
    return objects


def _policy(rng: random.Random, number: int, namespace: str, apps: list[tuple[str, str]],
            for_nca: bool) -> dict[str, Any]:
    app, tier = rng.choice(apps) if apps else ("web-0", "web")
    kind = number % 8 if number < 8 else rng.randrange(8)
    target: dict[str, Any] = {"matchLabels": {"app": app}}
    spec: dict[str, Any]
    if kind == 0:
        spec = {"podSelector": {}, "policyTypes": ["Ingress"]}
    elif kind == 1:
        spec = {"podSelector": target, "ingress": [{
            "from": [{"podSelector": {"matchLabels": {"tier": rng.choice(list(TIERS))}}}],
            "ports": [{"port": TIERS[tier][0][2], "protocol": TIERS[tier][0][1]}]}]}
    elif kind == 2:
        spec = {"podSelector": {"matchLabels": {"tier": tier}}, "ingress": [{
            "from": [{"namespaceSelector": {"matchLabels": {"team": rng.choice(TEAMS)}}},
                     {"namespaceSelector": {"matchExpressions": [
                         {"key": "env", "operator": "In", "values": ["prod", "staging"]}]},
                      "podSelector": {"matchExpressions": [
                          {"key": "tier", "operator": "NotIn", "values": ["db"]}]}}]}]}
    elif kind == 3:
        block = ({"cidr": "172.16.0.0/12", "except": ["172.20.0.0/16"]} if for_nca or rng.random() < .5
                 else {"cidr": "10.64.0.0/16", "except": [f"10.64.{rng.randrange(20)}.0/24"]})
        spec = {"podSelector": target, "ingress": [{
            "from": [{"ipBlock": block}], "ports": [{"port": 8000, "endPort": 9100}]}]}
    elif kind == 4:
        spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
            {"to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "ns-000"}},
                "podSelector": {"matchLabels": {"tier": "dns"}}}],
             "ports": [{"port": 53, "protocol": "UDP"}, {"port": "dns-tcp"}]},
            {"to": [{"podSelector": {}}]},
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
             "ports": [{"port": 443}]}]}
    elif kind == 5:
        pod_requirement = ({"key": "canary", "operator": "NotIn", "values": ["true"]} if for_nca
                           else {"key": "canary", "operator": "DoesNotExist"})
        spec = {"podSelector": target, "policyTypes": ["Ingress", "Egress"], "ingress": [{
            "from": [{"namespaceSelector": {}, "podSelector": {"matchExpressions": [
                pod_requirement]}}],
            "ports": [{"protocol": "TCP"}]}], "egress": [{}]}
    elif kind == 6:
        spec = {"podSelector": {"matchExpressions": [
            {"key": "version", "operator": "In", "values": ["v2"]}]}, "ingress": [{
                "from": [{"podSelector": {"matchLabels": {"app": rng.choice(apps)[0]}}}]
                if apps else [], "ports": [{"port": "metrics"}, {"port": "http"}]}]}
    else:
        spec = {"podSelector": target, "ingress": [{}]}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"policy-{number:04d}", "namespace": namespace}, "spec": spec}


def to_yaml(objects: list[dict[str, Any]]) -> str:
    return yaml.dump({"apiVersion": "v1", "kind": "List", "items": objects},
                     Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best_of(runs: int, work) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result) of the fastest of `runs` calls of `work`."""
    best = (float("inf"), float("inf"), None)
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        elapsed = (time.perf_counter() - wall, time.process_time() - cpu, result)
        if elapsed[0] < best[0]:
            best = elapsed
    return best


def _engine(snapshot: Snapshot, with_counts: bool = True):
    """Snapshot → parsed cluster → evaluated matrix (every verdict is computed here)."""
    cluster = Cluster.from_snapshot(snapshot)
    matrix = cluster.matrix()
    return cluster, matrix, matrix.counts() if with_counts else None


def bench_large(pods: int, namespaces: int, policies: int) -> None:
    objects = generate(pods, namespaces, policies)
    text = to_yaml(objects)
    print(f"== {pods} pods, {namespaces} namespaces, {policies} policies "
          f"({len(text) / 1e6:.1f} MB of YAML); wall / CPU seconds, best of 3")
    wall, cpu, snapshot = _best_of(1, lambda: load_snapshot(text))
    print(f"  YAML load (isolation.snapshot)   {wall:7.3f} / {cpu:.3f}")
    wall, cpu, cluster = _best_of(3, lambda: Cluster.from_snapshot(snapshot))
    print(f"  parse + validate + default       {wall:7.3f} / {cpu:.3f}")
    wall, cpu, (cluster, matrix, counts) = _best_of(3, lambda: _engine(snapshot))
    print(f"  snapshot -> full matrix          {wall:7.3f} / {cpu:.3f}   "
          f"{counts.total:,} verdicts ({counts.allowed:,} allowed) over declared ports, "
          f"{matrix.class_count:,} classes")
    wall, cpu, by_namespace = _best_of(3, matrix.by_namespace)
    print(f"  per-namespace view               {wall:7.3f} / {cpu:.3f}   "
          f"{len(by_namespace):,} namespace pairs")
    rng = random.Random(1)
    durations = []
    for _ in range(300):
        src, dst = rng.choice(cluster.pods), rng.choice(cluster.pods)
        port = rng.choice(dst.declared_ports())
        begin = time.perf_counter()
        cluster.check(src.key, dst.key, port[0], port[1]).explain()
        durations.append(time.perf_counter() - begin)
    durations.sort()
    print(f"  single explained check           median {statistics.median(durations) * 1e3:.2f} ms"
          f", p99 {durations[int(len(durations) * .99) - 1] * 1e3:.2f} ms, "
          f"max {durations[-1] * 1e3:.2f} ms (300 random checks)")
    print(f"  peak RSS of this process         {peak_rss_mb():7.0f} MB")


# name -> (pods, namespaces, policies, replicas per Deployment, target seconds)
TARGETS = {
    "worst": (5000, 200, 1000, 1, 0.5),
    "realistic": (20000, 400, 4000, 10, 1.0),
}
RSS_TARGET_MB = 1024


def bench_target(name: str) -> None:
    """`Cluster.matrix()` of one target cluster, parsed beforehand: the engine alone."""
    pods, namespaces, policies, replicas, target = TARGETS[name]
    objects = generate(pods, namespaces, policies, replicas=replicas)
    snapshot = load_snapshot(json.dumps({"kind": "List", "apiVersion": "v1", "items": objects}))
    del objects
    cluster = Cluster.from_snapshot(snapshot)
    before = peak_rss_mb()
    wall, cpu, matrix = _best_of(3, cluster.matrix)
    print(f"== target '{name}': {pods:,} pods ({replicas} per Deployment), {namespaces} "
          f"namespaces, {policies:,} policies, {matrix.class_count:,} classes")
    print(f"  Cluster.matrix()                 {wall:7.3f} / {cpu:.3f}   wall / CPU seconds, "
          f"best of 3 (target < {target} s)")
    print(f"  peak RSS of this process         {peak_rss_mb():7.0f} MB   "
          f"({before:.0f} MB before the matrix; target < {RSS_TARGET_MB} MB)")


def bench_targets() -> str:
    """The output of each target run in a fresh process. Linux keeps a process's peak RSS
    across fork and exec, so they run before this process has grown: each peak is then that
    target's own (plus the interpreter and imports)."""
    return "".join(subprocess.run([sys.executable, __file__, "--target", name], check=True,
                                  capture_output=True, text=True).stdout for name in TARGETS)


def bench_nca(sizes: list[int]) -> None:
    if nca_python() is None:
        print(f"== NCA comparison skipped: {INSTALL_HINT}")
        return
    print("== side by side with network-config-analyzer: CPU seconds (wall in brackets); "
          "NCA timed inside its warm process, from its YAML file to its connectivity map")
    with Nca() as nca:
        nca.connectivity(generate(20, 4, 8, for_nca=True))  # warm up NCA's imports
        for pods in sizes:
            namespaces, policies = max(4, pods // 25), max(8, pods // 5)
            objects = generate(pods, namespaces, policies, seed=pods, for_nca=True)
            text = to_yaml(objects)
            stored = [stored_network_policy(o) if o["kind"] == "NetworkPolicy" else o
                      for o in objects if o["kind"] != "Node"]
            snapshot = load_snapshot(text)
            yaml_wall, yaml_cpu, _ = _best_of(
                3, lambda: _engine(load_snapshot(text), with_counts=False))  # noqa: B023
            wall, cpu, (_, matrix, _) = _best_of(
                5, lambda: _engine(snapshot, with_counts=False))  # noqa: B023
            theirs = nca.connectivity(stored)
            compared = mismatches = 0
            for connection in matrix.connections():
                compared += 1
                if theirs.allows(connection.src, connection.dst, connection.port,
                                 connection.protocol) != connection.allowed:
                    mismatches += 1
            print(f"  {pods} pods, {namespaces} namespaces, {policies} policies:")
            print(f"    NCA                            {theirs.cpu_seconds:8.3f} "
                  f"[{theirs.seconds:.3f}]")
            print(f"    ours from YAML text            {yaml_cpu:8.3f} [{yaml_wall:.3f}]   "
                  f"{theirs.cpu_seconds / yaml_cpu:,.0f}x faster")
            print(f"    ours from parsed objects       {cpu:8.3f} [{wall:.3f}]   "
                  f"{theirs.cpu_seconds / cpu:,.0f}x faster")
            print(f"    verdicts compared              {compared:,}, {mismatches} differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--nca-sizes", default="200,500")
    parser.add_argument("--no-nca", action="store_true")
    parser.add_argument("--no-targets", action="store_true",
                        help="skip the engine targets (worst case and realistic cluster)")
    parser.add_argument("--target", choices=list(TARGETS),
                        help="measure only this engine target, in this process")
    args = parser.parse_args()
    if args.target:
        bench_target(args.target)
        return
    targets = "" if args.no_targets else bench_targets()
    bench_large(args.pods, args.namespaces, args.policies)
    print(targets, end="")
    if not args.no_nca:
        bench_nca([int(size) for size in args.nca_sizes.split(",") if size])


if __name__ == "__main__":
    main()
