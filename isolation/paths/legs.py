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
from isolation.text import english, gettext_noop, join
from isolation.text import gettext as _

_TUNNEL_LABEL = {"ipip": "IPIP", "vxlan": "VXLAN", "routed": _("routed")}
_TUNNEL_DETAIL = {
    "ipip": gettext_noop("IPIP (IP protocol 4) through tunl0 to {node}."),
    "vxlan": gettext_noop("VXLAN (UDP 4789) through vxlan.calico to {node}."),
    "routed": gettext_noop("routed over the underlay to {node}, no encapsulation."),
}
_TUNNEL_DETAIL_FROM_POD = {
    "ipip": gettext_noop("IPIP (IP protocol 4) through tunl0 to {node}; the source stays the "
                         "pod IP."),
    "vxlan": gettext_noop("VXLAN (UDP 4789) through vxlan.calico to {node}; the source stays the "
                          "pod IP."),
    "routed": gettext_noop("routed over the underlay to {node}, no encapsulation; the source "
                           "stays the pod IP."),
}
_LB_DETAIL = {
    "bgp": gettext_noop("Sent to {address}; the router picks an ECMP next hop among the nodes "
                        "OpenELB announces over BGP."),
    "layer2": gettext_noop("Sent to {address}; the node OpenELB elected answers ARP for the "
                           "address."),
    "vip": gettext_noop("Sent to {address}; the keepalived leader OpenELB elected holds the "
                        "address."),
    None: gettext_noop("Sent to {address}; the load balancer forwards to a node."),
}


_LB_ROLE = {"bgp": gettext_noop("BGP ECMP next hop"), "layer2": gettext_noop("layer-2 (ARP) owner"),
            "vip": gettext_noop("keepalived owner")}


def _tunnel_arrow(mode: str) -> str:
    return _("routed, no tunnel") if mode == "routed" else _("{mode} tunnel",
                                                              mode=_TUNNEL_LABEL[mode])


@dataclass(frozen=True)
class Entry:
    """How clients reach a Service: its kind, port, traffic policy and load-balancer address."""

    kind: str
    service: str
    port: ServicePort
    traffic_policy: str
    lb_impl: str | None
    vip: str | None


def _lane(node: str) -> str:
    """The diagram lane of `node`: an id, the same in every language (an unknown node is named
    by a sentence)."""
    return f"node:{english(node)}"


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
        return NodeInfo(name or _("(unknown node)"), None, None, None, None)

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
                found[_lane(name)] = info.internal_ip or ""
        if backend is not None:
            found[f"pod:{backend.key}"] = backend.ip
        return found

    def describe(self, address: str) -> str:
        """Who an address belongs to, in words ("node-2's tunl0", "the client")."""
        if address == self.client_ip:
            return _("the client")
        for info in self.view.nodes.values():
            if address == info.internal_ip:
                return _("{node}'s InternalIP", node=info.name)
            if address == info.ipip_address:
                return _("{node}'s tunl0", node=info.name)
            if address == info.vxlan_address:
                return _("{node}'s vxlan.calico", node=info.name)
        pod = self.view.pods_by_ip.get(address)
        if pod is not None:
            meta = pod.get("metadata") or {}
            return _("pod {namespace}/{name}", namespace=meta.get("namespace", "default"),
                     name=meta.get("name"))
        return _("an external address")


def host_cidr(address: str) -> str:
    return f"{address}/{ipaddress.ip_address(address).max_prefixlen}"


def _port_entry(backend: Backend) -> list[dict[str, object]]:
    return [{"port": backend.port, "protocol": backend.protocol}]


def _policy_words(verdict: PolicyVerdict) -> str:
    return ", ".join(verdict.policies) if verdict.policies else _("the NetworkPolicies")


def deliver(ctx: LegContext, source: str, backend: Backend) -> PolicyVerdict:
    """The policy verdict for `source` (an IP or "ns/pod") reaching the backend's target port."""
    if backend.host_network:
        return PolicyVerdict(True, None, (), _("the pod uses the host network, which "
                                               "NetworkPolicy does not select"), isolated=False)
    return ctx.check(source, backend.key, backend.port, backend.protocol)


def _verdict_reason(verdict: PolicyVerdict, source: str, label: str, backend: Backend, *,
                    start: bool = False) -> str:
    """Why the pod is reached or not; `start` capitalises it to begin a sentence."""
    words = {"source": source, "label": label, "pod": backend.key, "port": backend.port,
             "protocol": backend.protocol, "policies": _policy_words(verdict),
             "explanation": verdict.explanation}
    if verdict.allowed:
        if verdict.policies:
            if start:
                return _("Allowed by {policies}: the policy sees {source} ({label})", **words)
            return _("allowed by {policies}: the policy sees {source} ({label})", **words)
        if backend.host_network:
            if start:
                return _("Allowed: {explanation}", **words)
            return _("allowed: {explanation}", **words)
        if verdict.isolated:
            if start:
                return _("Allowed: {source} ({label}) is the pod's own node, which is always "
                         "admitted", **words)
            return _("allowed: {source} ({label}) is the pod's own node, which is always admitted",
                     **words)
        if start:
            return _("Allowed: no policy isolates {pod} (its policy would see {source}, {label})",
                     **words)
        return _("allowed: no policy isolates {pod} (its policy would see {source}, {label})",
                 **words)
    if verdict.side == "egress":
        if start:
            return _("Blocked by {policies} (egress of the source): {source} ({label}) may not "
                     "connect to {pod} on {port}/{protocol}", **words)
        return _("blocked by {policies} (egress of the source): {source} ({label}) may not "
                 "connect to {pod} on {port}/{protocol}", **words)
    if start:
        return _("Blocked by {policies}: the policy sees {source} ({label}), which no rule allows "
                 "on {port}/{protocol}", **words)
    return _("blocked by {policies}: the policy sees {source} ({label}), which no rule allows on "
             "{port}/{protocol}", **words)


def service_leg(ctx: LegContext, entry: Entry, node_name: str, backend: Backend | None,
                *, steady_state: bool = True) -> Path:
    """The path of a client request entering on `node_name` and served by `backend`.

    `backend` None means the Service has no ready endpoint at all (kube-proxy rejects).
    `steady_state` False marks a load-balancer entry that only a stale route would use.
    """
    node = ctx.node(node_name)
    port = entry.port
    hops = [Hop("client", _("client {address}", address=ctx.client_ip), "client",
                _("The client {address} opens a connection.", address=ctx.client_ip),
                lane=(_("Client"), _("outside the cluster"), ctx.client_ip))]
    if entry.kind == "LoadBalancer":
        vip = entry.vip or _("(no address)")
        address = _("{address}:{port}", address=vip, port=port.port)
        if entry.lb_impl:
            label = _("LB {address} (OpenELB {mode})", address=address, mode=entry.lb_impl)
            role = _("OpenELB {mode}", mode=entry.lb_impl)
        else:
            label, role = _("LB {address}", address=address), _("external")
        detail = _LB_DETAIL.get(entry.lb_impl, _LB_DETAIL[None])
        hops.append(Hop("lb", label, "lb", _(detail, address=address),
                        arrow=_("to {address}", address=address),
                        lane=(_("Load balancer"), role, address)))
        lb_role = _LB_ROLE.get(entry.lb_impl)
        hops.append(Hop("node", _("{node} (dst {address})", node=node.name, address=address),
                        _lane(node.name),
                        _("{node} receives it for {address}; kube-proxy's load-balancer rule "
                          "matches (no NodePort involved).", node=node.name, address=address),
                        note=_(lb_role) if lb_role else "",
                        arrow=_("to {address}", address=node.name)))
    else:
        address = node.internal_ip or node.name
        label = join([node.name, port.node_port], ":")
        hops.append(Hop("node", label, _lane(node.name),
                        _("{node} receives it on {address}:{port} (NodePort).", node=node.name,
                          address=address, port=port.node_port),
                        arrow=_("to {address}", address=label)))
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
        hops.append(Hop("reject", _("REJECT: no endpoints"), _lane(node.name),
                        _("{service} has no ready endpoint: kube-proxy rejects.",
                          service=entry.service), blocked=True, arrow=_("no endpoints")))
        path.reason = _("{service} has no ready endpoints: kube-proxy rejects the connection",
                        service=entry.service)
        return path
    path.target, path.target_node = backend.key, backend.node
    path.pod_on_entry_node = backend.node == node.name
    if entry.traffic_policy == "Local" and not path.pod_on_entry_node:
        return _dropped(path, entry, node.name, steady_state)
    target = {"address": backend.ip, "port": backend.port}
    if entry.traffic_policy == "Cluster":
        if path.pod_on_entry_node:
            snat = node.internal_ip
            hops.append(Hop("snat", _("SNAT {address} (node IP)", address=snat),
                            _lane(node.name),
                            _("DNAT to {address}:{port} and masquerade to {snat}: the mark is set "
                              "for all external traffic of a Cluster Service, but the SNAT "
                              "happens in POSTROUTING, after Calico's policy check in FORWARD.",
                              snat=snat, **target),
                            note=_("after the policy check: the policy still sees the client")))
            policy_source, app_source = ctx.client_ip, snat
        else:
            mode = "routed" if backend.host_network else ctx.encapsulation(node.name, backend.node)
            snat = node.tunnel_address(mode)
            interface = TUNNEL_INTERFACE.get(mode)
            where = {"node": node.name, "target_node": backend.node, "interface": interface,
                     "snat": snat or _("an unknown address"), **target}
            if interface:
                label = _("SNAT {address} ({interface})", address=snat or "?", interface=interface)
                detail = _("DNAT to {address}:{port} on {target_node} and masquerade to {snat}, "
                           "the address of {node}'s {interface} towards {target_node}.", **where)
            else:
                label = _("SNAT {address} (node IP)", address=snat or "?")
                detail = _("DNAT to {address}:{port} on {target_node} and masquerade to {snat}, "
                           "the address of {node}'s node IP towards {target_node}.", **where)
            hops.append(Hop("snat", label, _lane(node.name), detail))
            hops.append(Hop("tunnel", _TUNNEL_LABEL[mode], _lane(backend.node),
                            _(_TUNNEL_DETAIL[mode], node=backend.node),
                            arrow=_tunnel_arrow(mode)))
            policy_source = app_source = snat
        if snat is None:
            return _unknown_address(ctx, path, node, backend)
        target_hop_detail = _("DNAT to {address}:{port}, source {source}", source=app_source,
                              **target)
    else:
        policy_source = app_source = ctx.client_ip
        target_hop_detail = _("DNAT to {address}:{port}, no SNAT: the client address is kept",
                              **target)
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
    path.succeeds = verdict.allowed
    path.reason = _verdict_reason(verdict, policy_source, path.policy_source_label, backend)
    sentence = _verdict_reason(verdict, policy_source, path.policy_source_label, backend,
                               start=True)
    path.hops.append(Hop("pod", _("pod {address}:{port}", address=backend.ip, port=backend.port),
                         f"pod:{backend.key}",
                         _("{detail}. {reason}.", detail=detail, reason=sentence),
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
    policy = verdict.decision.policy
    if verdict.allowed:
        path.hops[-1] = replace(
            path.hops[-1], note=_("allowed before DNAT by {policy}", policy=policy),
            detail=_("{detail} {rule} allows the client.", detail=path.hops[-1].detail,
                     rule=verdict.describe(start=True)))
        return False
    path.reason = _("denied on {node} before DNAT by {rule}: it sees the client {client} itself, "
                    "so no allowlist entry of the project can help; change that policy to let "
                    "the client in", node=node.name, rule=verdict.describe(), client=ctx.client_ip)
    path.hops.append(Hop("drop", _("DROP: preDNAT {policy}", policy=policy), _lane(node.name),
                         _("{rule} denies {client} before kube-proxy's DNAT.",
                           rule=verdict.describe(start=True), client=ctx.client_ip),
                         blocked=True, arrow=_("preDNAT {policy}", policy=policy)))
    return True


def _dropped(path: Path, entry: Entry, node: str, steady_state: bool) -> Path:
    if entry.kind == "LoadBalancer" and not steady_state:
        words = {"address": entry.vip or _("the address"), "node": node}
        detail = _("OpenELB steers {address} only to nodes with a ready endpoint; a stale route or "
                   "ARP entry that still sends it to {node} ends in a DROP there.", **words)
        path.reason = _("not reached in steady state: OpenELB steers {address} only to nodes with "
                        "a ready endpoint; a stale route or ARP entry that still sends it to "
                        "{node} ends in a DROP there (no local endpoint, externalTrafficPolicy "
                        "Local)", **words)
    else:
        detail = _("{node} has no local endpoint of {service}: kube-proxy drops the packet.",
                   node=node, service=entry.service)
        path.reason = _("dropped on {node}: it has no local endpoint of {service} "
                        "(externalTrafficPolicy Local); the client times out whatever the policy "
                        "says", node=node, service=entry.service)
    path.hops.append(Hop("drop", _("DROP: no local endpoint on {node}", node=node), _lane(node),
                         detail, blocked=True,
                         arrow=_("no local endpoint on {node}", node=node)))
    return path


def _unknown_address(ctx: LegContext, path: Path, node: NodeInfo, backend: Backend) -> Path:
    mode = ctx.encapsulation(node.name, backend.node)
    annotation = {"ipip": "projectcalico.org/IPv4IPIPTunnelAddr",
                  "vxlan": "projectcalico.org/IPv4VXLANTunnelAddr"}.get(mode)
    if annotation:
        path.reason = _("unknown source address: {node} has no {annotation} annotation, so the "
                        "address the policy sees cannot be known; check the node or the CNI mode",
                        node=node.name, annotation=annotation)
        message = _("{node} has no {annotation} annotation", node=node.name, annotation=annotation)
    else:
        path.reason = _("unknown source address: {node} has no InternalIP, so the address the "
                        "policy sees cannot be known; check the node or the CNI mode",
                        node=node.name)
        message = _("{node} has no InternalIP", node=node.name)
    path.app_source = path.policy_source = None
    if message not in ctx.warnings:
        ctx.warnings.append(message)
    return path


def backend_leg(ctx: LegContext, controller: Backend, backend: Backend) -> Path:
    """Leg 2 of an Ingress: the controller pod proxies straight to the backend pod IP."""
    hops = [Hop("pod", _("ingress controller {address}", address=controller.ip),
                f"pod:{controller.key}",
                _("The controller {pod} proxies to the backend pod IP taken from Endpoints, "
                  "without kube-proxy.", pod=controller.key))]
    path = Path(entry_node=controller.node or "", target=backend.key, target_node=backend.node,
                hops=hops, app_source=None, policy_source=None, succeeds=False, reason="",
                exposure="Ingress backend", cni=ctx.cni.mode,
                pod_on_entry_node=controller.node == backend.node)
    path.actor_addresses = {**ctx.addresses(controller.node, controller), **ctx.addresses(None, backend)}
    same_node = controller.node == backend.node
    if not same_node:
        mode = ctx.encapsulation(controller.node, backend.node)
        details = _TUNNEL_DETAIL if controller.host_network else _TUNNEL_DETAIL_FROM_POD
        hops.append(Hop("tunnel", _TUNNEL_LABEL[mode], _lane(backend.node),
                        _(details[mode], node=backend.node),
                        note="" if controller.host_network else _("source stays the controller "
                                                                  "pod IP"),
                        arrow=_tunnel_arrow(mode)))
    target = {"address": backend.ip, "port": backend.port}
    if not controller.host_network:
        namespace = controller.namespace
        return _arrive(ctx, path, backend, controller.ip, controller.ip,
                       _("To {address}:{port}, no SNAT", **target),
                       check_as=controller.key, needed_peer={"namespace": namespace})
    node = ctx.node(controller.node)
    if same_node:
        source = node.internal_ip
    else:
        source = node.tunnel_address(ctx.encapsulation(controller.node, backend.node))
    if source is None:
        return _unknown_address(ctx, path, node, backend)
    return _arrive(ctx, path, backend, source, source,
                   _("To {address}:{port}, no SNAT (host-network controller)", **target))
