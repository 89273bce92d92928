"""Building one leg of a path: the hops, the source addresses and the verdict.

The rules are those of the reference decision table (kube-proxy in iptables/nftables mode,
Calico's iptables dataplane): with Cluster policy external traffic is always masqueraded, to a
node address on the same node and to the address of the interface towards the pod's node
otherwise; Calico evaluates workload policy in filter/FORWARD, before nat/POSTROUTING, so on the
entry node itself the policy still sees the client; with Local the client address is kept and a
node without a local endpoint drops the traffic. Ingress backends are reached from the
controller pod straight to pod IPs, without kube-proxy and without SNAT.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

from isolation.paths.prednat import PreDnatGate
from isolation.paths.topology import (
    TUNNEL_INTERFACE,
    Backend,
    ClusterView,
    CniMode,
    NodeInfo,
    ServicePort,
)
from isolation.paths.types import Checker, Hop, Path, PolicyVerdict

_TUNNEL_LABEL = {"ipip": "IPIP", "vxlan": "VXLAN", "routed": "routed"}
_TUNNEL_DETAIL = {
    "ipip": "IPIP (IP protocol 4) through tunl0 to {node}",
    "vxlan": "VXLAN (UDP 4789) through vxlan.calico to {node}",
    "routed": "routed over the underlay to {node}, no encapsulation",
}
_LB_DETAIL = {
    "bgp": "the router picks an ECMP next hop among the nodes OpenELB announces over BGP",
    "layer2": "the node OpenELB elected answers ARP for the address",
    "vip": "the keepalived leader OpenELB elected holds the address",
    None: "the load balancer forwards to a node",
}


_LB_ROLE = {"bgp": "BGP ECMP next hop", "layer2": "layer-2 (ARP) owner", "vip": "keepalived owner"}


@dataclass(frozen=True)
class Entry:
    """How clients reach a Service: its kind, port, traffic policy and load-balancer address."""

    kind: str
    service: str
    port: ServicePort
    traffic_policy: str
    lb_impl: str | None
    vip: str | None


@dataclass
class LegContext:
    """What every leg of one trace shares."""

    view: ClusterView
    cni: CniMode
    client_ip: str
    check: Checker
    warnings: list[str] = field(default_factory=list)
    pre_dnat: PreDnatGate | None = None

    def node(self, name: str | None) -> NodeInfo:
        if name and name in self.view.nodes:
            return self.view.nodes[name]
        return NodeInfo(name or "(unknown node)", None, None, None, None)

    def encapsulation(self, a: str | None, b: str | None) -> str:
        """The encapsulation between two nodes (CrossSubnet: none inside one subnet)."""
        mode = self.cni.mode
        if mode != "routed" and self.cni.cross_subnet:
            sa, sb = self.node(a).subnet, self.node(b).subnet
            if sa is not None and sa == sb:
                return "routed"
        return mode

    def addresses(self, node: str | None, backend: Backend | None) -> dict[str, str]:
        """Lane subtitles: the nodes' InternalIPs and the pod's IP."""
        found = {}
        for name in (node, backend.node if backend else None):
            if name:
                info = self.node(name)
                found[f"node:{name}"] = info.internal_ip or ""
        if backend is not None:
            found[f"pod:{backend.key}"] = backend.ip
        return found

    def describe(self, address: str) -> str:
        """Who an address belongs to, in words ("node-2's tunl0", "the client")."""
        if address == self.client_ip:
            return "the client"
        for info in self.view.nodes.values():
            if address == info.internal_ip:
                return f"{info.name}'s InternalIP"
            if address == info.ipip_address:
                return f"{info.name}'s tunl0"
            if address == info.vxlan_address:
                return f"{info.name}'s vxlan.calico"
        pod = self.view.pods_by_ip.get(address)
        if pod is not None:
            meta = pod.get("metadata") or {}
            return f"pod {meta.get('namespace', 'default')}/{meta.get('name')}"
        return "an external address"


def host_cidr(address: str) -> str:
    return f"{address}/{ipaddress.ip_address(address).max_prefixlen}"


def _port_entry(backend: Backend) -> list[dict[str, object]]:
    return [{"port": backend.port, "protocol": backend.protocol}]


def _policy_words(verdict: PolicyVerdict) -> str:
    return ", ".join(verdict.policies) if verdict.policies else "the NetworkPolicies"


def deliver(ctx: LegContext, source: str, backend: Backend) -> PolicyVerdict:
    """The policy verdict for `source` (an IP or "ns/pod") reaching the backend's target port."""
    if backend.host_network:
        return PolicyVerdict(True, None, (), "the pod uses the host network, which NetworkPolicy "
                                              "does not select", isolated=False)
    return ctx.check(source, backend.key, backend.port, backend.protocol)


def _verdict_reason(verdict: PolicyVerdict, source_text: str, backend: Backend) -> str:
    where = f"{backend.port}/{backend.protocol}"
    if verdict.allowed:
        if verdict.policies:
            return f"allowed by {_policy_words(verdict)}: the policy sees {source_text}"
        if backend.host_network:
            return f"allowed: {verdict.explanation}"
        if verdict.isolated:
            return f"allowed: {source_text} is the pod's own node, which is always admitted"
        return (f"allowed: no policy isolates {backend.key} (its policy would see "
                f"{source_text.replace(' (', ', ').rstrip(')')})")
    if verdict.side == "egress":
        return (f"blocked by {_policy_words(verdict)} (egress of the source): "
                f"{source_text} may not connect to {backend.key} on {where}")
    return (f"blocked by {_policy_words(verdict)}: the policy sees {source_text}, "
            f"which no rule allows on {where}")


def service_leg(ctx: LegContext, entry: Entry, node_name: str, backend: Backend | None,
                *, steady_state: bool = True) -> Path:
    """The path of a client request entering on `node_name` and served by `backend`.

    `backend` None means the Service has no ready endpoint at all (kube-proxy rejects).
    `steady_state` False marks a load-balancer entry that only a stale route would use.
    """
    node = ctx.node(node_name)
    port = entry.port
    hops = [Hop("client", f"client {ctx.client_ip}", "client",
                f"The client {ctx.client_ip} opens a connection.")]
    if entry.kind == "LoadBalancer":
        vip = entry.vip or "(no address)"
        impl = f" (OpenELB {entry.lb_impl})" if entry.lb_impl else ""
        hops.append(Hop("lb", f"LB {vip}:{port.port}{impl}", "lb",
                        f"Sent to {vip}:{port.port}; {_LB_DETAIL.get(entry.lb_impl, _LB_DETAIL[None])}."))
        hops.append(Hop("node", f"{node.name} (dst {vip}:{port.port})", f"node:{node.name}",
                        f"{node.name} receives it for {vip}:{port.port}; kube-proxy's "
                        "load-balancer rule matches (no NodePort involved).",
                        note=_LB_ROLE.get(entry.lb_impl, "")))
    else:
        address = node.internal_ip or node.name
        hops.append(Hop("node", f"{node.name}:{port.node_port}", f"node:{node.name}",
                        f"{node.name} receives it on {address}:{port.node_port} (NodePort)."))
    path = Path(entry_node=node.name, target=None, target_node=None, hops=hops, app_source=None,
                policy_source=None, succeeds=False, reason="", exposure=entry.kind,
                traffic_policy=entry.traffic_policy, cni=ctx.cni.mode, steady_state=steady_state)
    path.actor_addresses = ctx.addresses(node.name, backend)
    if _denied_before_dnat(ctx, path, entry, node):
        if backend is not None:
            path.target, path.target_node = backend.key, backend.node
            path.pod_on_entry_node = backend.node == node.name
        return path
    if backend is None:
        hops.append(Hop("reject", "REJECT: no endpoints", f"node:{node.name}",
                        f"{entry.service} has no ready endpoint: kube-proxy rejects.", blocked=True))
        path.reason = f"{entry.service} has no ready endpoints: kube-proxy rejects the connection"
        return path
    path.target, path.target_node = backend.key, backend.node
    path.pod_on_entry_node = backend.node == node.name
    if entry.traffic_policy == "Local" and not path.pod_on_entry_node:
        return _dropped(path, entry, node.name, steady_state)
    target_hop_detail = f"DNAT to {backend.ip}:{backend.port}"
    if entry.traffic_policy == "Cluster":
        if path.pod_on_entry_node:
            snat = node.internal_ip
            hops.append(Hop("snat", f"SNAT {snat} (node IP)", f"node:{node.name}",
                            f"{target_hop_detail} and masquerade to {snat}: the mark is set for all "
                            "external traffic of a Cluster Service, but the SNAT happens in "
                            "POSTROUTING, after Calico's policy check in FORWARD.",
                            note="after the policy check: the policy still sees the client"))
            policy_source, app_source = ctx.client_ip, snat
        else:
            mode = "routed" if backend.host_network else ctx.encapsulation(node.name, backend.node)
            snat = node.tunnel_address(mode)
            interface = TUNNEL_INTERFACE.get(mode, "node IP")
            hops.append(Hop("snat", f"SNAT {snat or '?'} ({interface})", f"node:{node.name}",
                            f"{target_hop_detail} on {backend.node} and masquerade to "
                            f"{snat or 'an unknown address'}, the address of {node.name}'s "
                            f"{interface} towards {backend.node}."))
            hops.append(Hop("tunnel", _TUNNEL_LABEL[mode], f"node:{backend.node}",
                            _TUNNEL_DETAIL[mode].format(node=backend.node) + "."))
            policy_source = app_source = snat
        if snat is None:
            return _unknown_address(ctx, path, node, backend)
        target_hop_detail += f", source {app_source}"
    else:
        policy_source = app_source = ctx.client_ip
        target_hop_detail += ", no SNAT: the client address is kept"
    return _arrive(ctx, path, backend, policy_source, app_source, target_hop_detail)


def _arrive(ctx: LegContext, path: Path, backend: Backend, policy_source: str,
            app_source: str, detail: str, *, check_as: str | None = None,
            needed_peer: dict[str, object] | None = None) -> Path:
    """Append the destination pod hop and decide the path from the policy verdict.

    `check_as` is what the policy engine is asked about when it is not the address itself
    (a pod source, "ns/name", so that namespace and pod selectors can match it).
    """
    path.policy_source, path.app_source = policy_source, app_source
    path.policy_source_label = ctx.describe(policy_source)
    path.app_source_label = ctx.describe(app_source)
    verdict = deliver(ctx, check_as or policy_source, backend)
    source_text = f"{policy_source} ({path.policy_source_label})"
    path.succeeds = verdict.allowed
    path.reason = _verdict_reason(verdict, source_text, backend)
    path.hops.append(Hop("pod", f"pod {backend.ip}:{backend.port}", f"pod:{backend.key}",
                         f"{detail}. {path.reason[0].upper()}{path.reason[1:]}.",
                         blocked=not verdict.allowed))
    if not verdict.allowed and verdict.side != "egress":
        if needed_peer is not None:
            path.needed_allowlist = [needed_peer]
        else:
            path.needed_allowlist = [{"cidr": host_cidr(policy_source), "ports": _port_entry(backend)}]
    return path


def _denied_before_dnat(ctx: LegContext, path: Path, entry: Entry, node: NodeInfo) -> bool:
    """Apply Calico's preDNAT policies of the entry node's host endpoint (if any) to the
    client: a Deny ends the path at the node, whatever the Service's traffic policy and the
    workload's own policy say; an Allow is noted on the node hop. True when denied."""
    if ctx.pre_dnat is None:
        return False
    if entry.kind == "LoadBalancer":
        address, port = entry.vip, entry.port.port
    else:
        address, port = node.internal_ip, entry.port.node_port
    verdict = ctx.pre_dnat.decide(node.name, ctx.client_ip, address, port, entry.port.protocol)
    if verdict is None:
        return False
    if verdict.allowed:
        path.hops[-1] = replace(path.hops[-1], note=f"allowed before DNAT by {verdict.decision.policy}",
                                detail=f"{path.hops[-1].detail} {verdict.describe()[0].upper()}"
                                       f"{verdict.describe()[1:]} allows the client.")
        return False
    what = verdict.describe()
    path.reason = (f"denied on {node.name} before DNAT by {what}: it sees the client "
                   f"{ctx.client_ip} itself, so no allowlist entry of the project can help; "
                   "change that policy to let the client in")
    path.hops.append(Hop("drop", f"DROP: preDNAT {verdict.decision.policy}", f"node:{node.name}",
                         f"{what[0].upper()}{what[1:]} denies {ctx.client_ip} before kube-proxy's "
                         "DNAT.", blocked=True))
    return True


def _dropped(path: Path, entry: Entry, node: str, steady_state: bool) -> Path:
    if entry.kind == "LoadBalancer" and not steady_state:
        detail = (f"OpenELB steers {entry.vip or 'the address'} only to nodes with a ready "
                  f"endpoint; a stale route or ARP entry that still sends it to {node} ends in a "
                  "DROP there")
        path.reason = (f"not reached in steady state: {detail} (no local endpoint, "
                       "externalTrafficPolicy Local)")
    else:
        detail = f"{node} has no local endpoint of {entry.service}: kube-proxy drops the packet"
        path.reason = (f"dropped on {node}: it has no local endpoint of {entry.service} "
                       "(externalTrafficPolicy Local); the client times out whatever the policy says")
    path.hops.append(Hop("drop", f"DROP: no local endpoint on {node}", f"node:{node}",
                         detail + ".", blocked=True))
    return path


def _unknown_address(ctx: LegContext, path: Path, node: NodeInfo, backend: Backend) -> Path:
    mode = ctx.encapsulation(node.name, backend.node)
    what = {"ipip": "projectcalico.org/IPv4IPIPTunnelAddr annotation",
            "vxlan": "projectcalico.org/IPv4VXLANTunnelAddr annotation"}.get(mode, "InternalIP")
    path.reason = (f"unknown source address: {node.name} has no {what}, so the address the "
                   "policy sees cannot be known; check the node or the CNI mode")
    path.app_source = path.policy_source = None
    message = f"{node.name} has no {what}"
    if message not in ctx.warnings:
        ctx.warnings.append(message)
    return path


def backend_leg(ctx: LegContext, controller: Backend, backend: Backend) -> Path:
    """Leg 2 of an Ingress: the controller pod proxies straight to the backend pod IP."""
    hops = [Hop("pod", f"ingress controller {controller.ip}", f"pod:{controller.key}",
                f"The controller {controller.key} proxies to the backend pod IP taken from "
                "Endpoints, without kube-proxy.")]
    path = Path(entry_node=controller.node or "", target=backend.key, target_node=backend.node,
                hops=hops, app_source=None, policy_source=None, succeeds=False, reason="",
                exposure="Ingress backend", cni=ctx.cni.mode,
                pod_on_entry_node=controller.node == backend.node)
    path.actor_addresses = {**ctx.addresses(controller.node, controller), **ctx.addresses(None, backend)}
    same_node = controller.node == backend.node
    if not same_node:
        mode = ctx.encapsulation(controller.node, backend.node)
        hops.append(Hop("tunnel", _TUNNEL_LABEL[mode], f"node:{backend.node}",
                        _TUNNEL_DETAIL[mode].format(node=backend.node)
                        + ("." if controller.host_network else "; the source stays the pod IP."),
                        note="" if controller.host_network else "source stays the controller pod IP"))
    detail = f"To {backend.ip}:{backend.port}, no SNAT"
    if not controller.host_network:
        namespace = controller.namespace
        return _arrive(ctx, path, backend, controller.ip, controller.ip, detail,
                       check_as=controller.key, needed_peer={"namespace": namespace})
    node = ctx.node(controller.node)
    if same_node:
        source = node.internal_ip
    else:
        source = node.tunnel_address(ctx.encapsulation(controller.node, backend.node))
    if source is None:
        return _unknown_address(ctx, path, node, backend)
    return _arrive(ctx, path, backend, source, source, detail + " (host-network controller)")
