"""Calico's preDNAT policies at the entry node: the one place that filters on the real client.

A GlobalNetworkPolicy with `preDNAT: true` (and `applyOnForward: true`) applies to a node's
HostEndpoint before kube-proxy's DNAT, so it sees the client's own address and the address and
port the client connected to (the node address and NodePort, or the load-balancer address and
Service port), whatever the Service's externalTrafficPolicy: with Cluster, the only way to keep
clients out by address, since the workload's policy may see a node address after SNAT.
Pre-DNAT policy has no default deny: when no rule decides, the traffic goes on to kube-proxy
(https://docs.tigera.io/calico/latest/reference/host-endpoints/pre-dnat).

Which HostEndpoint receives the packet: one of the entry node's whose expectedIPs hold the
address it arrived for; else its all-interfaces endpoint (`interfaceName: "*"`); else an
endpoint of the node naming an interface without addresses (taken as the one carrying the
node's InternalIP).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from isolation.calico.endpoint import Endpoint
from isolation.calico.evaluate import CalicoPolicySet, Decision
from isolation.calico.model import HostEndpoint
from isolation.snapshot import Snapshot
from isolation.text import gettext as _

ALL_INTERFACES = "*"


@dataclass(frozen=True)
class PreDnatVerdict:
    """What the preDNAT policies of one host endpoint decided for one client."""

    host_endpoint: str
    decision: Decision

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def describe(self, *, start: bool = False) -> str:
        """The deciding rule in words; `start` capitalises it to begin a sentence."""
        d = self.decision
        fields = {"kind": d.kind, "policy": d.policy, "tier": d.tier, "rule": d.rule_index,
                  "action": d.action, "endpoint": self.host_endpoint}
        if start:
            return _("PreDNAT {kind} {policy} (tier {tier}, ingress rule {rule}, {action}) on host "
                     "endpoint {endpoint}", **fields)
        return _("preDNAT {kind} {policy} (tier {tier}, ingress rule {rule}, {action}) on host "
                 "endpoint {endpoint}", **fields)


class PreDnatGate:
    """The preDNAT policies and host endpoints of a cluster, by node."""

    def __init__(self, policies: CalicoPolicySet, host_endpoints: Sequence[HostEndpoint]) -> None:
        self.policies = policies
        self.by_node: dict[str, list[HostEndpoint]] = {}
        for host in host_endpoints:
            self.by_node.setdefault(host.node, []).append(host)

    @classmethod
    def of(cls, snapshot: Snapshot) -> PreDnatGate | None:
        """The gate of `snapshot`, or None when no preDNAT policy or no host endpoint exists
        (the common case: nothing filters before DNAT)."""
        if not snapshot.calico_host_endpoints or not any(
                (obj.get("spec") or {}).get("preDNAT")
                for obj in snapshot.calico_global_network_policies):
            return None
        policies = CalicoPolicySet.from_objects(
            [*snapshot.calico_tiers, *snapshot.calico_global_network_policies,
             *snapshot.calico_host_endpoints])
        if not policies.host_endpoints:
            return None
        return cls(policies, policies.host_endpoints)

    def receiving(self, node: str, address: str | None) -> HostEndpoint | None:
        """The host endpoint of `node` that receives a packet sent to `address`."""
        hosts = self.by_node.get(node, [])
        if address is not None:
            wanted = ipaddress.ip_address(address)
            for host in hosts:
                if wanted in host.expected_ips:
                    return host
        for host in hosts:
            if host.interface_name == ALL_INTERFACES:
                return host
        return next((h for h in hosts if h.interface_name and not h.expected_ips), None)

    def decide(self, node: str, client_ip: str, address: str | None, port: int | None,
               protocol: str) -> PreDnatVerdict | None:
        """The decision for a client connecting to `address`:`port` on `node`, or None when no
        host endpoint receives it or no preDNAT rule decides."""
        host = self.receiving(node, address)
        if host is None or port is None:
            return None
        destination = Endpoint(ip=ipaddress.ip_address(address)) if address else None
        decision = self.policies.decide_pre_dnat(
            host, Endpoint(ip=ipaddress.ip_address(client_ip)), port, protocol, destination)
        return None if decision is None else PreDnatVerdict(host.name, decision)


__all__ = ["PreDnatGate", "PreDnatVerdict"]
