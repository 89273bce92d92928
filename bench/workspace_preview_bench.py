"""Time the isolation preview of a large workspace, phase by phase, in-process.

    .venv/bin/python bench/workspace_preview_bench.py [--projects 500] [--pods-per-project 10]
        [--repeat 1]

Builds a snapshot (no API server, no HTTP) with one workspace of N projects × M pods (isolation
off), a neighbouring workspace of OTHER_PROJECTS projects, kube-system with DNS pods, an
ingress-nginx namespace and a monitoring namespace running Prometheus, then runs what the
console's preview of "isolate the workspace" runs (console.tenancy.services.fill_preview):
the Workspace switched on, the generated policies compiled (`with_generated_policies`), both
clusters read and their reachability change computed (`impact_of`: diff, project pairs,
warnings) and the change summed up for the history (`Impact.to_dict`). Prints wall and CPU
seconds of each phase beside the 2 s target; asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.isolate_workspace_bench import OTHER_PROJECTS, OTHER_WORKSPACE, WORKSPACE  # noqa: E402
from isolation.compiler.generate import IsolationSettings  # noqa: E402
from isolation.review import impact as review  # noqa: E402
from isolation.review.clusters import ChangeClusters  # noqa: E402
from isolation.snapshot import Snapshot  # noqa: E402
from kubesim.objects import SYSTEM_NAMESPACES, namespace  # noqa: E402

TARGET_SECONDS = 2.0
T = TypeVar("T")


def _pod(ns: str, name: str, index: int, labels: dict[str, str],
         ports: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"nodeName": f"node-{index % 10}",
                     "containers": [{"name": "main", "image": "registry.example/app:1.0",
                                     "ports": ports}]},
            "status": {"phase": "Running",
                       "podIP": f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}",
                       "hostIP": f"192.168.0.{index % 10 + 10}"}}


def workspace_snapshot(projects: int, pods_per_project: int) -> Snapshot:
    """The workspace to isolate (off), its neighbours and the system namespaces."""
    snapshot = Snapshot()
    for n in range(10):
        snapshot.add({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{n}"},
                      "status": {"addresses": [{"type": "InternalIP",
                                                "address": f"192.168.0.{n + 10}"}]}})
    for name in (WORKSPACE, OTHER_WORKSPACE):
        snapshot.add({"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
                      "metadata": {"name": name}, "spec": {"networkIsolation": False}})
    for name in (*SYSTEM_NAMESPACES, "ingress-nginx", "monitoring"):
        snapshot.add(namespace(name))
    app_port = [{"containerPort": 8080, "protocol": "TCP"}]
    index = 0
    system = [
        ("kube-system", "coredns-0", {"k8s-app": "kube-dns"},
         [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
          {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
          {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}]),
        ("kube-system", "coredns-1", {"k8s-app": "kube-dns"},
         [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
          {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}]),
        ("ingress-nginx", "controller-0", {"app.kubernetes.io/name": "ingress-nginx"},
         [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}]),
        ("monitoring", "prometheus-0", {"app.kubernetes.io/name": "prometheus"},
         [{"containerPort": 9090, "protocol": "TCP"}]),
    ]
    for ns, name, labels, ports in system:
        snapshot.add(_pod(ns, name, index, labels, ports))
        index += 1
    members = [(f"project-{n:04d}", WORKSPACE) for n in range(projects)]
    members += [(f"other-{n:02d}", OTHER_WORKSPACE) for n in range(OTHER_PROJECTS)]
    for ns, workspace in members:
        snapshot.add(namespace(ns, {"kubesphere.io/workspace": workspace}))
        for p in range(pods_per_project):
            snapshot.add(_pod(ns, f"app-{p}", index, {"app": "app"}, app_port))
            index += 1
    return snapshot


def isolated(snapshot: Snapshot, workspace: str) -> Snapshot:
    """`snapshot` with `workspace`'s isolation switched on (as the intent change writes it)."""
    changed = copy.copy(snapshot)
    changed.workspaces = [copy.deepcopy(w) for w in snapshot.workspaces]
    for item in changed.workspaces:
        if item["metadata"]["name"] == workspace:
            item["spec"]["networkIsolation"] = True
    return changed


class Phases:
    """Wall and CPU seconds of named phases, printed as a table."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []

    def run(self, label: str, work: Callable[[], T]) -> T:
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        self.rows.append((label, time.perf_counter() - wall, time.process_time() - cpu))
        return result

    def show(self, total_of: list[str], total_label: str) -> None:
        for label, wall, cpu in self.rows:
            print(f"  {label:<34} wall {wall:7.3f} s   cpu {cpu:7.3f} s")
        wall = sum(w for label, w, _ in self.rows if label in total_of)
        cpu = sum(c for label, _, c in self.rows if label in total_of)
        verdict = "within" if wall < TARGET_SECONDS else "OVER"
        print(f"  {total_label:<34} wall {wall:7.3f} s   cpu {cpu:7.3f} s   "
              f"target < {TARGET_SECONDS:.0f} s: {verdict}")


def preview_once(snapshot: Snapshot, settings: IsolationSettings, run: int) -> None:
    """One preview of isolating the workspace, phase by phase, then `impact_of` whole."""
    phases = Phases()
    before, _ = phases.run("generate policies (now)",
                           lambda: review.with_generated_policies(snapshot, settings))
    after, compiled = phases.run(
        "generate policies (isolated)",
        lambda: review.with_generated_policies(isolated(snapshot, WORKSPACE), settings))
    clusters = phases.run("read both clusters", lambda: ChangeClusters.of(before, after))
    change = phases.run("reachability change (diff)", lambda: review.diff(
        clusters.before_matrix, clusters.after_matrix))
    pairs = phases.run("project pairs", lambda: review.project_pairs(change))
    warnings = phases.run("warnings", lambda: review.change_warnings(after, change))
    impact = review.Impact(change.newly_allowed, change.newly_blocked, pairs, warnings)
    stored = phases.run("history record (to_dict)", impact.to_dict)
    print(f"run {run}: {len(compiled.policies)} generated policies, "
          f"{stored['blocked']} connections newly blocked, {stored['allowed']} allowed, "
          f"{len(pairs)} project pairs, {len(warnings)} warnings")
    phases.show([label for label, _, _ in phases.rows][1:], "preview (isolated side to record)")
    whole = Phases()
    whole.run("impact_of, end to end", lambda: review.impact_of(before, after).to_dict())
    whole.show(["impact_of, end to end"], "reachability change of the toggle")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--pods-per-project", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    snapshot = workspace_snapshot(args.projects, args.pods_per_project)
    print(f"snapshot: {args.projects} projects × {args.pods_per_project} pods "
          f"(+{OTHER_PROJECTS} neighbouring projects, system namespaces), "
          f"{len(snapshot.pods)} pods, built in {time.perf_counter() - started:.1f} s")
    settings = IsolationSettings()
    for run in range(args.repeat):
        preview_once(snapshot, settings, run + 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
