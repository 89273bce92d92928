"""AdminNetworkPolicy benchmark: the full matrix with 500 ANP-kind policies added to the
5,000-pod case, against the Kubernetes-only matrix of the same cluster.

    .venv/bin/python bench/admin_bench.py [--pods 5000 --namespaces 200 --policies 1000
                                           --admin 500]

Prints figures; asserts nothing. The target is a layered matrix within 1.5x of the
NetworkPolicy-only time. The added policies are 499 AdminNetworkPolicies (subjects by
namespace labels, by namespace and pod labels, and cluster-wide; peers by namespaces, pods,
networks that cover pod IPs and outside ranges, and nodes; Allow / Deny / Pass; port numbers,
ranges and named ports) and the BaselineAdminNetworkPolicy.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reachability_bench import ENVS, TEAMS, TIERS, generate  # noqa: E402
from isolation.reachability.engine import Cluster  # noqa: E402
from isolation.snapshot import load_snapshot  # noqa: E402

API_VERSION = "policy.networking.k8s.io/v1alpha1"
ACTIONS = ("Allow", "Deny", "Pass")


def admin_policies(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """`count - 1` AdminNetworkPolicies and the BaselineAdminNetworkPolicy."""
    rng = random.Random(seed)
    objects = [_admin(rng, number) for number in range(count - 1)]
    objects.append({"apiVersion": API_VERSION, "kind": "BaselineAdminNetworkPolicy",
                    "metadata": {"name": "default"}, "spec": {
                        "subject": {"namespaces": {"matchLabels": {"env": "prod"}}},
                        "ingress": [{"name": "deny-other-teams", "action": "Deny",
                                     "from": [{"namespaces": {"matchExpressions": [
                                         {"key": "env", "operator": "NotIn",
                                          "values": ["prod"]}]}}]}],
                        "egress": [{"name": "deny-internet", "action": "Deny",
                                    "to": [{"networks": ["0.0.0.0/0"]}],
                                    "ports": [{"portRange": {"start": 1, "end": 1024}}]}]}})
    return objects


def _admin(rng: random.Random, number: int) -> dict[str, Any]:
    team = rng.choice(TEAMS)
    shape = number % 4
    if shape == 0:
        subject: dict[str, Any] = {"namespaces": {"matchLabels": {"team": team}}}
    elif shape == 1:
        subject = {"pods": {"namespaceSelector": {"matchLabels": {"env": rng.choice(ENVS)}},
                            "podSelector": {"matchLabels": {"tier": rng.choice(list(TIERS))}}}}
    elif shape == 2:
        subject = {"namespaces": {"matchLabels": {"team": team, "env": rng.choice(ENVS)}}}
    else:
        subject = {"namespaces": {}} if number % 40 == 3 else \
            {"namespaces": {"matchExpressions": [{"key": "team", "operator": "In",
                                                  "values": [team, rng.choice(TEAMS)]}]}}
    tier = rng.choice(list(TIERS))
    ingress = [{"name": f"in-{k}", "action": rng.choice(ACTIONS),
                "from": [_peer(rng, ingress=True)],
                **({"ports": [_port(rng, tier)]} if rng.random() < .6 else {})}
               for k in range(rng.randrange(0, 3))]
    egress = [{"name": f"out-{k}", "action": rng.choice(ACTIONS),
               "to": [_peer(rng, ingress=False)],
               **({"ports": [_port(rng, tier)]} if rng.random() < .6 else {})}
              for k in range(rng.randrange(0, 3))]
    spec: dict[str, Any] = {"priority": rng.randrange(1000), "subject": subject}
    if ingress:
        spec["ingress"] = ingress
    if egress or not ingress:
        spec["egress"] = egress or [{"name": "metadata", "action": "Deny",
                                     "to": [{"networks": ["169.254.169.254/32"]}]}]
    return {"apiVersion": API_VERSION, "kind": "AdminNetworkPolicy",
            "metadata": {"name": f"admin-{number:04d}"}, "spec": spec}


def _peer(rng: random.Random, ingress: bool) -> dict[str, Any]:
    choice = rng.randrange(2 if ingress else 4)
    if choice == 0:
        return {"namespaces": {"matchLabels": {"team": rng.choice(TEAMS)}}}
    if choice == 1:
        return {"pods": {"namespaceSelector": {"matchLabels": {"env": rng.choice(ENVS)}},
                         "podSelector": {"matchLabels": {"tier": rng.choice(list(TIERS))}}}}
    if choice == 2:
        return {"networks": [rng.choice(["0.0.0.0/0", "169.254.169.254/32", "172.16.0.0/12",
                                         f"10.64.{rng.randrange(20)}.0/24"])]}
    return {"nodes": {"matchLabels": {"node-role.kubernetes.io/control-plane": ""}}}


def _port(rng: random.Random, tier: str) -> dict[str, Any]:
    number, protocol, name = rng.choice(TIERS[tier])
    choice = rng.randrange(3)
    if choice == 0:
        return {"portNumber": {"port": number, "protocol": protocol}}
    if choice == 1:
        return {"namedPort": name}
    return {"portRange": {"start": 8000, "end": 9100}}


def _matrix(snapshot):
    cluster = Cluster.from_snapshot(snapshot)
    matrix = cluster.matrix()
    return cluster, matrix, matrix.counts()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--admin", type=int, default=500)
    args = parser.parse_args()
    objects = generate(args.pods, args.namespaces, args.policies)
    for obj in objects[:args.namespaces + 3]:  # three control-plane nodes for `nodes` peers
        if obj["kind"] == "Node":
            obj["metadata"]["labels"] = {"node-role.kubernetes.io/control-plane": ""}
    base = load_snapshot(_json({"kind": "List", "apiVersion": "v1", "items": objects}))
    admin = admin_policies(args.admin)
    layered = load_snapshot(_json({"kind": "List", "apiVersion": "v1", "items": objects + admin}))
    print(f"== {args.pods} pods, {args.namespaces} namespaces, {args.policies} NetworkPolicies"
          f" + {args.admin} ANP-kind policies; fastest wall / CPU seconds of 3 runs")
    wall_k8s, cpu_k8s, (_, matrix, counts) = _fastest(3, lambda: _matrix(base))
    print(f"  NetworkPolicies only: snapshot -> full matrix   {wall_k8s:7.3f} / {cpu_k8s:.3f}   "
          f"{counts.allowed:,} of {counts.total:,} allowed, {matrix.class_count:,} classes")
    wall, cpu, (cluster, matrix, counts) = _fastest(3, lambda: _matrix(layered))
    print(f"  with ANPs + BANP:     snapshot -> full matrix   {wall:7.3f} / {cpu:.3f}   "
          f"{counts.allowed:,} of {counts.total:,} allowed, {matrix.class_count:,} classes")
    print(f"  ratio (target within 1.5x)                      {wall / wall_k8s:7.2f}x wall, "
          f"{cpu / cpu_k8s:.2f}x CPU   {len(cluster.warnings)} priority tie warning(s)")
    rng = random.Random(1)
    durations = []
    for _ in range(300):
        src, dst = rng.choice(cluster.pods), rng.choice(cluster.pods)
        port = rng.choice(dst.declared_ports())
        begin = time.perf_counter()
        cluster.check(src.key, dst.key, port[0], port[1]).explain()
        durations.append(time.perf_counter() - begin)
    durations.sort()
    print(f"  single explained check with ANPs  median {statistics.median(durations) * 1e3:.2f}"
          f" ms, max {durations[-1] * 1e3:.2f} ms (300 random checks)")


def _fastest(runs: int, work):
    """(fastest wall seconds, fastest CPU seconds, result) over `runs` calls of `work`: on a
    shared machine the two minima come from different runs, and CPU is the steadier one."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def _json(value: Any) -> str:
    return json.dumps(value)


if __name__ == "__main__":
    main()
