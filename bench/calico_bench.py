"""Calico benchmark: the full matrix with 500 Calico and AdminNetworkPolicy-kind policies
added to the 5,000-pod case, against the Kubernetes-only matrix of the same cluster.

    .venv/bin/python bench/calico_bench.py [--pods 5000 --namespaces 200 --policies 1000
                                            --calico 400 --admin 100]

Prints figures; asserts nothing. The target is a matrix within 1.5x of the
NetworkPolicy-only time, from the snapshot (as the console computes it) and for
`Cluster.matrix()` alone on parsed clusters (the engine). The added policies are Calico policies in three tiers (`platform`
order 100, `security` order 500, `late` without order, so after the default tier) and in the
default tier before and after the Kubernetes NetworkPolicies (orders 500 and 2000):
GlobalNetworkPolicies by namespace selector and all(), namespaced Calico NetworkPolicies by
pod selector; rules Allow / Deny / Pass / Log on selectors, namespace selectors, `nets` that
cover pod IPs and outside ranges, ports, ranges and named ports; plus AdminNetworkPolicies and
the BaselineAdminNetworkPolicy of bench/admin_bench.py. Under Calico the Kubernetes
NetworkPolicies are evaluated in the default tier.
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

from bench.admin_bench import _fastest, _matrix, admin_policies  # noqa: E402
from bench.reachability_bench import ENVS, TEAMS, TIERS, generate  # noqa: E402
from isolation.reachability.engine import Cluster  # noqa: E402
from isolation.snapshot import load_snapshot  # noqa: E402

CALICO = "projectcalico.org/v3"
TIER_ORDERS = {"platform": 100, "security": 500, "late": None}
ACTIONS = ("Allow", "Deny", "Pass", "Log")


def calico_policies(count: int, namespaces: list[str], seed: int = 13) -> list[dict[str, Any]]:
    """Three Tiers and `count` Calico policies spread over them and the default tier."""
    rng = random.Random(seed)
    objects: list[dict[str, Any]] = [
        {"apiVersion": CALICO, "kind": "Tier", "metadata": {"name": name},
         "spec": {} if order is None else {"order": order}}
        for name, order in TIER_ORDERS.items()]
    for number in range(count):
        tier = rng.choice([*TIER_ORDERS, "default", "default"])
        order = rng.choice([500, 2000]) if tier == "default" else rng.randrange(1, 100)
        rules = {direction: [_rule(rng, direction) for _ in range(rng.randrange(1, 3))]
                 for direction in ("ingress", "egress") if rng.random() < .6}
        if not rules:
            rules = {"egress": [{"action": "Deny", "destination": {
                "nets": ["169.254.169.254/32"]}}]}
        spec: dict[str, Any] = {"tier": tier, "order": order, **rules}
        name = f"{tier}.calico-{number:04d}" if tier != "default" else f"calico-{number:04d}"
        if number % 2:
            spec["selector"] = rng.choice(["all()", f"tier == '{rng.choice(list(TIERS))}'",
                                           "has(tier)", f"tier != '{rng.choice(list(TIERS))}'"])
            spec["namespaceSelector"] = rng.choice(
                [f"team == '{rng.choice(TEAMS)}'", f"env in {{'{rng.choice(ENVS)}'}}", "all()"])
            objects.append({"apiVersion": CALICO, "kind": "GlobalNetworkPolicy",
                            "metadata": {"name": name}, "spec": spec})
        else:
            spec["selector"] = rng.choice(["all()", f"tier == '{rng.choice(list(TIERS))}'"])
            objects.append({"apiVersion": CALICO, "kind": "NetworkPolicy",
                            "metadata": {"name": name, "namespace": rng.choice(namespaces)},
                            "spec": spec})
    return objects


def _rule(rng: random.Random, direction: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"action": rng.choice(ACTIONS)}
    peer = "source" if direction == "ingress" else "destination"
    choice = rng.randrange(4)
    if choice == 0:
        rule[peer] = {"namespaceSelector": f"team == '{rng.choice(TEAMS)}'"}
    elif choice == 1:
        rule[peer] = {"selector": f"tier == '{rng.choice(list(TIERS))}'",
                      "namespaceSelector": f"env == '{rng.choice(ENVS)}'"}
    elif choice == 2:
        rule[peer] = {"nets": [rng.choice(["0.0.0.0/0", "169.254.169.254/32", "172.16.0.0/12",
                                           f"10.64.{rng.randrange(20)}.0/24"])]}
    if rng.random() < .6:
        number, protocol, name = rng.choice(rng.choice(list(TIERS.values())))
        rule["protocol"] = protocol
        rule.setdefault("destination", {})["ports"] = [
            rng.choice([number, name, "8000:9100"])]
    return rule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--calico", type=int, default=400)
    parser.add_argument("--admin", type=int, default=100)
    args = parser.parse_args()
    objects = generate(args.pods, args.namespaces, args.policies)
    namespaces = [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"]
    base = load_snapshot(json.dumps({"kind": "List", "apiVersion": "v1", "items": objects}))
    added = calico_policies(args.calico, namespaces) + admin_policies(args.admin)
    layered = load_snapshot(json.dumps({"kind": "List", "apiVersion": "v1",
                                        "items": objects + added}))
    print(f"== {args.pods} pods, {args.namespaces} namespaces, {args.policies} NetworkPolicies"
          f" + {args.calico} Calico policies in 4 tiers + {args.admin} ANP-kind policies; "
          f"fastest wall / CPU seconds of 3 runs")
    wall_k8s, cpu_k8s, (_, matrix, counts) = _fastest(3, lambda: _matrix(base))
    print(f"  NetworkPolicies only:   snapshot -> full matrix   {wall_k8s:7.3f} / {cpu_k8s:.3f}"
          f"   {counts.allowed:,} of {counts.total:,} allowed, {matrix.class_count:,} classes")
    wall, cpu, (cluster, matrix, counts) = _fastest(3, lambda: _matrix(layered))
    print(f"  with Calico + ANPs:     snapshot -> full matrix   {wall:7.3f} / {cpu:.3f}"
          f"   {counts.allowed:,} of {counts.total:,} allowed, {matrix.class_count:,} classes")
    print(f"  ratio (target within 1.5x)                        {wall / wall_k8s:7.2f}x wall, "
          f"{cpu / cpu_k8s:.2f}x CPU   {len(cluster.layers)} layers, "
          f"{len(cluster.warnings)} warning(s)")
    base_cluster = Cluster.from_snapshot(base)
    wall_k8s, cpu_k8s, _ = _fastest(3, base_cluster.matrix)
    wall, cpu, _ = _fastest(3, cluster.matrix)
    print(f"  Cluster.matrix() alone: NetworkPolicies only {wall_k8s:7.3f} / {cpu_k8s:.3f}, "
          f"with Calico + ANPs {wall:7.3f} / {cpu:.3f}   {wall / wall_k8s:.2f}x wall, "
          f"{cpu / cpu_k8s:.2f}x CPU")
    rng = random.Random(1)
    durations = []
    for _ in range(300):
        src, dst = rng.choice(cluster.pods), rng.choice(cluster.pods)
        port = rng.choice(dst.declared_ports())
        begin = time.perf_counter()
        cluster.check(src.key, dst.key, port[0], port[1]).explain()
        durations.append(time.perf_counter() - begin)
    durations.sort()
    print(f"  single explained check under Calico  median "
          f"{statistics.median(durations) * 1e3:.2f} ms, max {durations[-1] * 1e3:.2f} ms "
          f"(300 random checks)")


if __name__ == "__main__":
    main()
