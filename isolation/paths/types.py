"""The value types of the traffic-path model: hops, paths, exposures, trace results.

Paths are plain data: the diagram renderer, the CLI and the web pages only read them.
`Path.to_dict()` is the stable JSON shape of the `traffic_path` command.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from isolation.text import gettext as _

EXPOSURE_KINDS = ("NodePort", "LoadBalancer", "Ingress")
TABLE_EXPOSURES = ("NodePort", "LoadBalancer", "Ingress via NodePort", "Ingress via LoadBalancer")
TRAFFIC_POLICIES = ("Cluster", "Local")
DEFAULT_CLIENT_IP = "203.0.113.9"

# Hop kinds, in the order a packet can meet them.
HOP_KINDS = ("client", "lb", "node", "snat", "tunnel", "pod", "drop", "reject")


@dataclass(frozen=True)
class Hop:
    """One step of a path.

    `actor` names the diagram lane the step ends in ("client", "lb", "node:<name>",
    "pod:<ns>/<name>"); `label` is the short form printed in JSON; `detail` says what happens
    there in a sentence; `note` is a short remark drawn under the step; `blocked` marks the
    step where the request stops. `arrow` is what the diagram writes on the step when it is
    shorter than `label` (without what the lane or the badge already says); `lane` is the
    header (name, role, address) of a lane the step opens that no node or pod names.
    """

    kind: str
    label: str
    actor: str
    detail: str = ""
    blocked: bool = False
    note: str = ""
    arrow: str = ""
    lane: tuple[str, str, str] | None = None


@dataclass
class Path:
    """How one request travels from the client to one target pod, entering on one node.

    `policy_source` is the address the destination's NetworkPolicy matches, which can differ from
    `app_source` (the address the application sees); both are None when the request never
    reaches the pod. `needed_allowlist` holds the allowlist entries the destination project still
    lacks for this path (empty when it succeeds or when no allowlist entry can help). An Ingress
    path has its two legs in `legs` (client → controller, controller → backend).
    """

    entry_node: str
    target: str | None
    target_node: str | None
    hops: list[Hop]
    app_source: str | None
    policy_source: str | None
    succeeds: bool
    reason: str
    needed_allowlist: list[dict[str, Any]] = field(default_factory=list)
    legs: list[Path] = field(default_factory=list)
    # Not part of the JSON contract: context for pages and diagrams.
    exposure: str = ""
    traffic_policy: str = ""
    cni: str = ""
    pod_on_entry_node: bool = False
    app_source_label: str = ""
    policy_source_label: str = ""
    forwarded_for: str | None = None
    row: int | None = None
    notes: list[str] = field(default_factory=list)
    steady_state: bool = True
    actor_addresses: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON object for one path (legs nested with the same fields)."""
        return {
            "entry_node": self.entry_node,
            "target": self.target,
            "target_node": self.target_node,
            "hops": [hop.label for hop in self.hops],
            "app_source": self.app_source,
            "policy_source": self.policy_source,
            "succeeds": self.succeeds,
            "reason": self.reason,
            "needed_allowlist": [dict(entry) for entry in self.needed_allowlist],
            "legs": [leg.to_dict() for leg in self.legs],
        }

    @property
    def failure(self) -> str:
        """Why the request fails, naming only the leg that fails; "" when it succeeds."""
        if self.succeeds:
            return ""
        for number, leg in enumerate(self.legs, start=1):
            if not leg.succeeds:
                return leg_reason(number, leg.reason)
        return self.reason

    @property
    def blocked_hop(self) -> Hop | None:
        return next((hop for hop in self.hops if hop.blocked), None)


@dataclass(frozen=True)
class Exposure:
    """A Service reachable from outside the cluster, or an Ingress.

    For an Ingress, `traffic_policy`, `ports`, `lb_impl` and `lb_ips` are those of the
    controller Service carrying it (`controller`), and `backends` names its backend Services.
    """

    kind: str
    namespace: str
    name: str
    traffic_policy: str
    ports: tuple[dict[str, Any], ...]
    lb_impl: str | None
    lb_ips: tuple[str, ...]
    controller: str | None = None
    backends: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "namespace": self.namespace, "name": self.name,
            "traffic_policy": self.traffic_policy, "ports": [dict(p) for p in self.ports],
            "lb_impl": self.lb_impl, "lb_ips": list(self.lb_ips),
            "controller": self.controller, "backends": list(self.backends),
        }


@dataclass(frozen=True)
class PolicyVerdict:
    """What the NetworkPolicies say about one connection, as the path model needs it.

    `side` is the direction that denied ("ingress" or "egress"), None when allowed;
    `policies` are the deciding policies ("ns/name"): the matching ones on an allow, the
    selecting ones on a deny; `isolated` tells whether any policy selects the destination for
    ingress; `explanation` is the engine's full sentence for the deciding direction.
    """

    allowed: bool
    side: str | None
    policies: tuple[str, ...]
    explanation: str = ""
    isolated: bool = True


Checker = Callable[[str, str, int, str], PolicyVerdict]


@dataclass
class TraceResult:
    """Every path of one exposure: one per (entry node, target pod)."""

    exposure: Exposure
    cni: str
    cni_source: str
    client_ip: str
    paths: list[Path]
    warnings: list[str] = field(default_factory=list)
    pitfalls: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"paths": [path.to_dict() for path in self.paths]}

    def entry_nodes(self) -> list[str]:
        seen: list[str] = []
        for path in self.paths:
            if path.entry_node not in seen:
                seen.append(path.entry_node)
        return seen

    def outcome_by_entry_node(self) -> dict[str, str]:
        """"works" (every path from the node succeeds), "intermittent" (some) or "fails"."""
        result = {}
        for node in self.entry_nodes():
            outcomes = [p.succeeds for p in self.paths if p.entry_node == node and p.steady_state]
            if not outcomes:
                continue
            result[node] = "works" if all(outcomes) else ("intermittent" if any(outcomes) else "fails")
        return result

    @property
    def status(self) -> str:
        """Reachable from the client through "every" entry node, "some" of them, or "none"."""
        outcomes = list(self.outcome_by_entry_node().values())
        if outcomes and all(o == "works" for o in outcomes):
            return "every"
        if any(o != "fails" for o in outcomes):
            return "some"
        return "none"

    def summary(self) -> str:
        """Where it works, and why not elsewhere; entry nodes failing alike are named together."""
        outcomes = self.outcome_by_entry_node()
        works = [n for n, o in outcomes.items() if o == "works"]
        clauses: list[tuple[str, tuple, list[str]]] = []
        if works:
            local = all(p.pod_on_entry_node and p.policy_source == self.client_ip
                        for p in self.paths if p.entry_node in works and p.steady_state)
            clauses.append(("local" if local else "works", (), works))
        failing: dict[tuple, list[str]] = {}
        for node, outcome in outcomes.items():
            paths = [p for p in self.paths if p.entry_node == node and p.steady_state]
            bad = [p for p in paths if not p.succeeds]
            if outcome == "fails":
                failing.setdefault(("fails", bad[0].failure), []).append(node)
            elif outcome == "intermittent":
                failing.setdefault(("intermittent", len(bad), len(paths), bad[0].failure),
                                   []).append(node)
        clauses.extend((key[0], key[1:], nodes) for key, nodes in failing.items())
        sentence = None
        for kind, details, nodes in clauses:
            clause = _clause(kind, details, names(nodes), first=sentence is None)
            sentence = clause if sentence is None else _("{clauses}; {clause}", clauses=sentence,
                                                         clause=clause)
        if sentence is None:
            return _("No entry node receives this traffic.")
        return _("{clauses}.", clauses=sentence)

    def needed_allowlist(self) -> list[dict[str, Any]]:
        """The union of every path's missing entries, merged per CIDR or namespace, sorted."""
        return merge_allowlist(entry for path in self.paths for entry in path.needed_allowlist)


def leg_reason(number: int, reason: str) -> str:
    """Why leg `number` of an Ingress path (1: client to controller, 2: to the backend) ends so."""
    if number == 1:
        return _("leg 1 (client to ingress controller): {reason}", reason=reason)
    return _("leg 2 (ingress controller to backend): {reason}", reason=reason)


def names(items: list[str]) -> str:
    """Names as a list read aloud: "a", "a or b", "a, b or c"."""
    if len(items) == 1:
        return items[0]
    return _("{items} or {last}", items=", ".join(items[:-1]), last=items[-1])


def _clause(kind: str, details: tuple, nodes: str, *, first: bool) -> str:
    """One clause of `TraceResult.summary`, capitalised when it starts the sentence."""
    if kind == "local":
        if first:
            return _("Works when it enters on {nodes} (the pod is local, the policy sees the "
                     "client)", nodes=nodes)
        return _("works when it enters on {nodes} (the pod is local, the policy sees the client)",
                 nodes=nodes)
    if kind == "works":
        if first:
            return _("Works when it enters on {nodes}", nodes=nodes)
        return _("works when it enters on {nodes}", nodes=nodes)
    if kind == "fails":
        (failure,) = details
        if first:
            return _("Fails when it enters on {nodes}: {failure}", nodes=nodes, failure=failure)
        return _("fails when it enters on {nodes}: {failure}", nodes=nodes, failure=failure)
    bad, total, failure = details
    if first:
        return _("Works only sometimes when it enters on {nodes} ({bad} of {total} pods cannot "
                 "be reached: {failure})", nodes=nodes, bad=bad, total=total, failure=failure)
    return _("works only sometimes when it enters on {nodes} ({bad} of {total} pods cannot be "
             "reached: {failure})", nodes=nodes, bad=bad, total=total, failure=failure)


def merge_allowlist(entries: Any) -> list[dict[str, Any]]:
    """Entries merged per CIDR (ports united and sorted) and per namespace, in a stable order."""
    cidrs: dict[str, set[tuple[int, str]]] = {}
    namespaces: set[str] = set()
    for entry in entries:
        if "namespace" in entry:
            namespaces.add(entry["namespace"])
        else:
            ports = cidrs.setdefault(entry["cidr"], set())
            ports.update((p["port"], p["protocol"]) for p in entry.get("ports") or [])
    merged: list[dict[str, Any]] = [
        {"cidr": cidr, "ports": [{"port": p, "protocol": proto} for p, proto in sorted(ports)]}
        for cidr, ports in sorted(cidrs.items(), key=lambda item: _cidr_sort_key(item[0]))
    ]
    merged.extend({"namespace": ns} for ns in sorted(namespaces))
    return merged


def _cidr_sort_key(cidr: str) -> tuple[int, int, str]:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
        return (network.version, int(network.network_address), cidr)
    except ValueError:
        return (9, 0, cidr)


def table_row(exposure: str, traffic_policy: str, pod_on_entry_node: bool, cni: str) -> int | None:
    """The row (1-48) of the reference decision table for one case, None if out of its scope.

    `exposure` is "NodePort", "LoadBalancer", "Ingress via NodePort" or "Ingress via
    LoadBalancer"; rows run exposure × traffic policy × pod on entry node (yes first) × CNI.
    """
    try:
        return (TABLE_EXPOSURES.index(exposure) * 12 + TRAFFIC_POLICIES.index(traffic_policy) * 6
                + (0 if pod_on_entry_node else 3) + ("routed", "ipip", "vxlan").index(cni) + 1)
    except ValueError:
        return None
