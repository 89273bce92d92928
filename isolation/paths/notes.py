"""The pitfalls and allowlist advice that apply to a traced exposure.

Worded from the reference's "what the console should propose" table and its list of pitfalls
users hit; each note is shown only when the traced paths make it relevant.
"""

from __future__ import annotations

from isolation.paths.topology import TUNNEL_INTERFACE
from isolation.paths.types import TraceResult
from isolation.text import gettext as _


def robust_allowlist_advice(exposure: str, traffic_policy: str, cni: str) -> str:
    """The allowlist that works for any entry node and any pod placement, in words.

    `exposure` is "NodePort", "LoadBalancer" or "Ingress" (either carrier Service type).
    """
    if exposure.startswith("Ingress"):
        return _("Allow the ingress controller's namespace (an internal allowlist entry); no "
                 "ipBlock of client CIDRs can match, because the backend only ever sees the "
                 "controller pod. A host-network controller needs the node IPs and tunnel "
                 "addresses instead. If the controller's own namespace is isolated, it needs the "
                 "NodePort or LoadBalancer entries on ports 80/443.")
    if traffic_policy == "Local":
        return _("Allow the client CIDRs only, on the pod's targetPort. Requests that reach a node "
                 "without a ready pod are dropped (NodePort) or never attracted (OpenELB); kubelet "
                 "probes are always allowed.")
    if cni == "routed":
        return _("Allow the client CIDRs plus every node's InternalIP as a /32, on the pod's "
                 "targetPort. Once those are allowed, anyone who reaches any node is admitted: the "
                 "client CIDR only filters requests that land on the pod's own node. For real "
                 "client filtering use Local, a Calico preDNAT host policy, or "
                 "loadBalancerSourceRanges (load-balancer IPs only).")
    if cni in TUNNEL_INTERFACE:
        return _("Allow the client CIDRs plus every node's {interface} address as a /32 (plus the "
                 "InternalIPs of CrossSubnet peers), on the pod's targetPort. Once those are "
                 "allowed, anyone who reaches any node is admitted: the client CIDR only filters "
                 "requests that land on the pod's own node. For real client filtering use Local, "
                 "a Calico preDNAT host policy, or loadBalancerSourceRanges (load-balancer IPs "
                 "only).", interface=TUNNEL_INTERFACE[cni])
    return _("Allow the client CIDRs plus every node's InternalIP as a /32 (plus the InternalIPs "
             "of CrossSubnet peers), on the pod's targetPort. Once those are allowed, anyone who "
             "reaches any node is admitted: the client CIDR only filters requests that land on "
             "the pod's own node. For real client filtering use Local, a Calico preDNAT host "
             "policy, or loadBalancerSourceRanges (load-balancer IPs only).")


def pitfalls_for(result: TraceResult) -> list[str]:
    """Pitfalls this exposure's paths actually run into, most consequential first."""
    exposure = result.exposure
    paths = result.paths
    notes: list[str] = []
    is_ingress = exposure.kind == "Ingress"
    legs1 = [p.legs[0] if p.legs else p for p in paths]
    outcomes = set(result.outcome_by_entry_node().values())
    if is_ingress:
        notes.append(_("Ingress backends never see the client IP: they see the controller pod, so "
                       "the project must allow the controller's namespace; an ipBlock of client "
                       "CIDRs on the backend never matches."))
        if any(p.legs and p.legs[0].traffic_policy == "Cluster" for p in paths):
            notes.append(_("With the controller Service on Cluster, X-Forwarded-For carries a node "
                           "or tunnel address, not the client: client allowlisting at the "
                           "controller needs Local or the PROXY protocol."))
    if exposure.traffic_policy == "Cluster":
        if len(outcomes) > 1 or "intermittent" in outcomes:
            notes.append(_("Works through some nodes only: with Cluster the request passes when it "
                           "lands on the pod's node (the policy sees the client) and fails through "
                           "the others (the policy sees the node or tunnel address)."))
        cross = [p for p in legs1 if p.target and not p.pod_on_entry_node]
        if cross:
            notes.append(_("Cluster policy admits anyone who reaches any node once node or tunnel "
                           "addresses are allowlisted: client filtering then only holds on the "
                           "pod's own node. Use Local, a Calico preDNAT host policy or "
                           "loadBalancerSourceRanges to filter clients for real."))
            if result.cni in TUNNEL_INTERFACE:
                notes.append(_("Under {mode} the cross-node source is the entry node's {interface} "
                               "address, not its InternalIP: allowlisting node IPs alone still "
                               "drops the traffic.", mode=result.cni.upper(),
                               interface=TUNNEL_INTERFACE[result.cni]))
    if exposure.traffic_policy == "Local":
        dropped = sorted({p.entry_node for p in legs1 if p.hops and p.hops[-1].kind == "drop"
                          and p.steady_state})
        if dropped:
            notes.append(_("Local drops on nodes without a local endpoint (no reset, clients time "
                           "out): {nodes}.", nodes=", ".join(dropped)))
        if exposure.lb_impl == "layer2":
            notes.append(_("OpenELB layer 2 with Local only works if an OpenELB speaker runs on a "
                           "node that hosts the pod."))
        if exposure.lb_impl == "vip":
            notes.append(_("OpenELB VIP mode before v0.6 ignores Local when electing the address "
                           "owner: a node without an endpoint can hold it and drop the traffic."))
    ports = sorted({str.rsplit(leg.hops[-1].label, ":", 1)[-1] for leg in _final_legs(paths)
                    if leg.hops and leg.hops[-1].kind == "pod"})
    if ports:
        notes.append(_("Allowlist ports are the pod's targetPort ({ports}), never the NodePort or "
                       "the Service port: policies are evaluated after DNAT.",
                       ports=", ".join(ports)))
    notes.append(_("Testing from a node misleads: connections from the pod's own node are always "
                   "allowed, so a curl there passes where external clients fail."))
    return notes


def _final_legs(paths: list) -> list:
    return [p.legs[-1] if p.legs else p for p in paths]
