"""How external traffic reaches a pod, what its NetworkPolicy sees, and what to allow.

`trace()` follows a NodePort or LoadBalancer Service, or an Ingress (two legs: client →
controller, controller → backend), from every entry node to every pod serving it, applying the
rules of the reference decision table (docs: reference/traffic-paths.md): Cluster policy
masquerades, to a node address on the pod's own node (where Calico's policy still sees the
client) and to the entry node's underlay, tunl0 or vxlan.calico address across nodes; Local keeps
the client address and drops on nodes without a local endpoint. Verdicts come from the
reachability engine applied to the source the policy sees.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from isolation.paths.ingress import EXPOSED_TYPES, find_controller, ingress_backends, ingress_object
from isolation.paths.legs import Entry, LegContext, backend_leg, service_leg
from isolation.paths.notes import pitfalls_for
from isolation.paths.prednat import PreDnatGate
from isolation.paths.topology import (
    CNI_MODES,
    Backend,
    ClusterView,
    CniMode,
    PathInputError,
    cni_mode,
    lb_implementation,
    lb_ips,
    pick_port,
    service_ports,
    service_type,
    traffic_policy,
)
from isolation.paths.types import (
    DEFAULT_CLIENT_IP,
    Checker,
    Exposure,
    Hop,
    Path,
    PolicyVerdict,
    TraceResult,
    leg_reason,
    merge_allowlist,
    table_row,
)
from isolation.snapshot import Snapshot
from isolation.text import gettext as _

__all__ = [
    "CNI_MODES", "DEFAULT_CLIENT_IP", "Checker", "Exposure", "Hop", "Path", "PathInputError",
    "PolicyVerdict", "TraceResult", "detect_cni_mode", "engine_checker",
    "exposures", "merge_allowlist", "trace",
]


def detect_cni_mode(snapshot: Snapshot) -> str:
    """"routed", "ipip" or "vxlan": Calico IPPools decide, else the nodes' tunnel annotations."""
    return cni_mode(snapshot).mode


def _service_exposure(key: tuple[str, str], service: dict) -> Exposure:
    kind = service_type(service)
    return Exposure(
        kind=kind, namespace=key[0], name=key[1], traffic_policy=traffic_policy(service),
        ports=tuple(p.to_dict() for p in service_ports(service)),
        lb_impl=lb_implementation(service) if kind == "LoadBalancer" else None,
        lb_ips=tuple(lb_ips(service)) if kind == "LoadBalancer" else (),
    )


def exposures(snapshot: Snapshot) -> list[Exposure]:
    """Every NodePort and LoadBalancer Service and every Ingress, sorted by namespace and name.

    An Ingress carries the traffic policy, ports and load balancer of the controller Service
    recognised for it; when none is recognised those are empty and `controller` is None.
    """
    view = ClusterView.of(snapshot)
    found = [_service_exposure(key, svc) for key, svc in view.services.items()
             if service_type(svc) in EXPOSED_TYPES]
    for key, ingress in view.ingresses.items():
        try:
            controller, _ = find_controller(view, ingress)
        except PathInputError:
            controller = None
        found.append(_ingress_exposure(key, ingress, controller))
    return sorted(found, key=lambda e: (e.namespace, e.name, e.kind))


def _ingress_exposure(key: tuple[str, str], ingress: dict, controller: dict | None) -> Exposure:
    backends = tuple(f"{b.namespace}/{b.service}" for b in ingress_backends(ingress))
    if controller is None:
        return Exposure("Ingress", key[0], key[1], "", (), None, (), None, backends)
    carrier = _service_exposure(_key(controller), controller)
    return Exposure("Ingress", key[0], key[1], carrier.traffic_policy, carrier.ports,
                    carrier.lb_impl, carrier.lb_ips, carrier.key, backends)


def _key(obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace", "default"), meta["name"]


def engine_checker(snapshot: Snapshot, namespaces: Iterable[str] | None = None) -> Checker:
    """A checker backed by the reachability engine, built once.

    With `namespaces`, only the pods and NetworkPolicies of those namespaces are read: exact
    for every check whose pod ends (source and destination) lie in them and whose address ends
    are external or node addresses, and much cheaper on large clusters.
    """
    from isolation.reachability.engine import Cluster

    if namespaces is not None:
        wanted = set(namespaces)
        view = ClusterView.of(snapshot)
        snapshot = snapshot.with_network_policies(view.in_namespaces("network_policies", wanted))
        snapshot.pods = view.in_namespaces("pods", wanted)
    cluster = Cluster.from_snapshot(snapshot)

    def check(source: str, destination: str, port: int, protocol: str) -> PolicyVerdict:
        verdict = cluster.check(source, destination, port, protocol)
        isolated = verdict.ingress.isolated
        if verdict.allowed:
            policies = tuple(dict.fromkeys(ref.policy for ref in verdict.ingress.matched))
            return PolicyVerdict(True, None, policies, verdict.ingress.reason, isolated)
        side = "ingress" if not verdict.ingress.allowed else "egress"
        direction = verdict.ingress if side == "ingress" else verdict.egress
        return PolicyVerdict(False, side, tuple(direction.selecting), direction.reason, isolated)

    return check


def trace(snapshot: Snapshot, *, service: tuple[str, str] | None = None,
          ingress: tuple[str, str] | None = None, client_ip: str = DEFAULT_CLIENT_IP,
          cni: str | None = None, port: int | str | None = None,
          entry_nodes: list[str] | None = None, controller: tuple[str, str] | None = None,
          checker: Checker | None = None) -> TraceResult:
    """Every path of one exposure, one per (entry node, target pod).

    Exactly one of `service` / `ingress` is given as (namespace, name). `cni` overrides the
    detected mode; `port` picks a Service port (number or name; default the first, for an
    Ingress the controller's http port); `entry_nodes` forces the entry nodes (e.g. a stale
    load-balancer route), else every node a client can enter through is used; `controller`
    names the Ingress controller Service when it cannot be recognised; `checker` replaces the
    reachability engine (built once from `snapshot` otherwise).

    Guarantees: paths are ordered by entry node, then target; with Local, a node with local
    endpoints only sends to them and a node without any yields one dropped path per endpoint;
    a Local LoadBalancer is entered only through nodes with an endpoint unless `entry_nodes`
    says otherwise; `needed_allowlist` lists only entries the destination still lacks.
    Raises PathInputError for anything the snapshot cannot answer.
    """
    if (service is None) == (ingress is None):
        raise PathInputError(_("trace needs exactly one of a Service or an Ingress"))
    try:
        ipaddress.ip_address(client_ip)
    except ValueError:
        raise PathInputError(_("client address {address} is not an IP address",
                               address=repr(client_ip))) from None
    detected = cni_mode(snapshot)
    if cni is not None:
        if cni not in CNI_MODES:
            raise PathInputError(_("CNI mode {mode} is not one of {modes}", mode=repr(cni),
                                   modes=", ".join(CNI_MODES)))
        detected = CniMode(cni, False, _("set explicitly"))
    view = ClusterView.of(snapshot)
    if entry_nodes is not None:
        unknown = sorted(set(entry_nodes) - set(view.nodes))
        if unknown:
            raise PathInputError(_("unknown entry node(s): {nodes}", nodes=", ".join(unknown)))
    if service is not None:
        svc = view.service(*service)
        if service_type(svc) not in EXPOSED_TYPES:
            raise PathInputError(_("Service {namespace}/{name} is of type {type}: only NodePort "
                                   "and LoadBalancer Services are reachable from outside the "
                                   "cluster", namespace=service[0], name=service[1],
                                   type=service_type(svc)))
        ctx = LegContext(view, detected, client_ip, checker or engine_checker(snapshot, {service[0]}),
                         pre_dnat=PreDnatGate.of(snapshot))
        entry = _entry(svc, pick_port(svc, port))
        exposure = _service_exposure(service, svc)
        paths = _service_paths(ctx, entry, view.backends(svc, entry.port), entry_nodes)
    else:
        assert ingress is not None
        ing = ingress_object(view, *ingress)
        carrier, warnings = find_controller(view, ing, controller)
        # the policies that decide: the controller's (leg 1, and its egress) and the backends'
        namespaces = {ingress[0], _key(carrier)[0]} | {b.namespace for b in ingress_backends(ing)}
        ctx = LegContext(view, detected, client_ip, checker or engine_checker(snapshot, namespaces),
                         pre_dnat=PreDnatGate.of(snapshot))
        ctx.warnings.extend(warnings)
        entry = _entry(carrier, _controller_port(carrier, port))
        paths = _ingress_paths(ctx, ing, carrier, entry, entry_nodes)
        exposure = _ingress_exposure(ingress, ing, carrier)
    paths.sort(key=lambda p: (p.entry_node, p.target or "", [h.label for h in p.hops]))
    result = TraceResult(exposure, detected.mode, detected.source, client_ip, paths, ctx.warnings)
    result.pitfalls = pitfalls_for(result)
    return result


def _entry(service: dict, port) -> Entry:
    kind = service_type(service)
    ips = lb_ips(service)
    meta = service.get("metadata") or {}
    return Entry(kind, f"{meta.get('namespace', 'default')}/{meta['name']}", port,
                 traffic_policy(service), lb_implementation(service) if kind == "LoadBalancer" else None,
                 ips[0] if ips else None)


def _controller_port(service: dict, wanted: int | str | None):
    if wanted is not None:
        return pick_port(service, wanted)
    ports = service_ports(service)
    for candidate in ports:
        if candidate.name == "http" or candidate.port == 80:
            return candidate
    return pick_port(service, None)


def _service_paths(ctx: LegContext, entry: Entry, backends: list[Backend],
                   forced: list[str] | None) -> list[Path]:
    nodes = ctx.view.node_names() or sorted({b.node for b in backends if b.node})
    if not nodes:
        raise PathInputError(_("the snapshot has no Node objects, so there is no entry node"))
    if entry.kind == "NodePort" and entry.port.node_port is None:
        ctx.warnings.append(_("{service} port {port} has no nodePort allocated",
                              service=entry.service, port=entry.port.port))
    attracting = set(nodes)
    if entry.kind == "LoadBalancer" and entry.traffic_policy == "Local" and backends:
        attracting = {b.node for b in backends if b.node}
    paths = []
    for node in forced if forced is not None else nodes:
        steady = node in attracting
        if forced is None and not steady:
            continue
        if not backends:
            paths.append(service_leg(ctx, entry, node, None, steady_state=steady))
            continue
        local = [b for b in backends if b.node == node]
        targets = local if entry.traffic_policy == "Local" and local else backends
        paths.extend(service_leg(ctx, entry, node, b, steady_state=steady) for b in targets)
    for path in paths:
        path.row = table_row(entry.kind, entry.traffic_policy, path.pod_on_entry_node, ctx.cni.mode)
    return paths


def _ingress_paths(ctx: LegContext, ingress: dict, carrier: dict, entry: Entry,
                   forced: list[str] | None) -> list[Path]:
    controllers = ctx.view.backends(carrier, entry.port)
    by_key = {b.key: b for b in controllers}
    namespace = (ingress.get("metadata") or {}).get("namespace", "default")
    targets: dict[str, Backend] = {}
    for backend in ingress_backends(ingress):
        svc = ctx.view.services.get((backend.namespace, backend.service))
        if svc is None:
            ctx.warnings.append(_("backend Service {namespace}/{name} is not in the snapshot",
                                  namespace=namespace, name=backend.service))
            continue
        for pod in ctx.view.backends(svc, pick_port(svc, backend.port)):
            targets.setdefault(pod.key, pod)
    if not targets:
        ctx.warnings.append(_("the Ingress has no backend pod: the controller answers 503"))
    exposure = f"Ingress via {entry.kind}"
    paths = []
    for leg1 in _service_paths(ctx, entry, controllers, forced):
        controller = by_key.get(leg1.target or "")
        reached = controller is not None and leg1.app_source is not None
        for target in targets.values() or [None]:
            leg2 = backend_leg(ctx, controller, target) if reached and target else None
            paths.append(_combine(leg1, leg2, target, exposure))
    return paths


def _combine(leg1: Path, leg2: Path | None, target: Backend | None, exposure: str) -> Path:
    """One Ingress path: leg 1 to the controller, then leg 2 to the backend pod."""
    succeeds = leg1.succeeds and leg2 is not None and leg2.succeeds
    if leg2 is not None:
        reason = _("{first}; {second}", first=leg_reason(1, leg1.reason),
                   second=leg_reason(2, leg2.reason))
    elif leg1.succeeds:
        reason = _("leg 1 (client to ingress controller): {reason}; the Ingress has no ready "
                   "backend pod: the controller answers 503", reason=leg1.reason)
    else:
        reason = leg_reason(1, leg1.reason)
    hops = list(leg1.hops)
    if leg2 is not None and leg1.succeeds:
        hops.extend(leg2.hops[1:])
    path = Path(
        entry_node=leg1.entry_node, target=target.key if target else None,
        target_node=target.node if target else None, hops=hops,
        app_source=leg2.app_source if leg2 and leg1.succeeds else None,
        policy_source=leg2.policy_source if leg2 and leg1.succeeds else None,
        succeeds=succeeds, reason=reason,
        needed_allowlist=list(leg2.needed_allowlist) if leg2 else [],
        legs=[leg1] + ([leg2] if leg2 else []), exposure=exposure,
        traffic_policy=leg1.traffic_policy, cni=leg1.cni, pod_on_entry_node=leg1.pod_on_entry_node,
        app_source_label=leg2.app_source_label if leg2 and leg1.succeeds else "",
        policy_source_label=leg2.policy_source_label if leg2 and leg1.succeeds else "",
        forwarded_for=leg1.app_source,
        row=table_row(exposure, leg1.traffic_policy, leg1.pod_on_entry_node, leg1.cni),
        steady_state=leg1.steady_state,
    )
    path.actor_addresses = {**leg1.actor_addresses, **(leg2.actor_addresses if leg2 else {})}
    return path
