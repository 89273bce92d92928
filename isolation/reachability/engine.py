"""The reachability engine: what can reach what under NetworkPolicy v1, and why.

Semantics (DESIGN §3): a pod is isolated for a direction only when a policy of its namespace
selects it with that direction in its (defaulted) policyTypes; what is allowed is then the
union of the rules of every selecting policy. A connection needs egress allowed at the source
and ingress allowed at the destination; an end that is not a pod has no side of its own.
Traffic from a pod's own node (its InternalIP or Calico tunnel address) is always allowed
into the pod, since kubelet probes come from there.

With AdminNetworkPolicies and a BaselineAdminNetworkPolicy (`isolation.adminnetpol`), each
direction is decided by ordered policy layers (`isolation.reachability.layers`): the ANPs in
priority order, then the NetworkPolicies, then the BANP; `Cluster.layers` is that order. With
Calico policies in the snapshot the order is Calico's (`calico_layer`): one layer per tier, the
default tier holding the Kubernetes NetworkPolicies at order 1000, the ANPs and the BANP as the
`kube-admin` and `kube-baseline` tiers.

`Cluster.check` explains one connection; `Cluster.matrix` evaluates many at once with
equivalence classes (see `reachability_matrix`); `diff` compares two clusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from isolation import text
from isolation.fielderrors import FieldIssue, clip
from isolation.netpol.model import EGRESS, INGRESS, NamedPorts, Peer, Policy, parse_policy
from isolation.netpol.validation import defaulted_and_issues
from isolation.reachability.build import build_matrix
from isolation.reachability.inventory import (
    EXTERNAL_KIND,
    NODE_KIND,
    POD_KIND,
    Endpoint,
    PodInfo,
    canonical_ip,
    namespace_labels,
    node_addresses,
    node_labels,
    read_pods,
)
from isolation.reachability.layers import (
    ALLOW,
    DENY,
    NETWORK_POLICY_KIND,
    PASS,
    PolicyLayer,
    PolicyRef,
)
from isolation.reachability.matrix import ChangedConnections, Matrix, MatrixDelta, Slot
from isolation.reachability.netpol_layer import NetworkPolicyLayer, peer_matches
from isolation.reachability.verdict import (
    Connection,
    Counts,
    DirectionVerdict,
    RuleRef,
    Verdict,
)
from isolation.snapshot import NAME_LABEL, Snapshot
from isolation.text import gettext as _

# The AdminNetworkPolicy and Calico layers (and their packages) are imported when a snapshot
# holds such policies: most hold none, and the offline command starts faster without them.
if TYPE_CHECKING:
    from isolation.adminnetpol.model import AdminPolicy
    from isolation.calico.evaluate import CalicoPolicySet

__all__ = [
    "ChangedConnections", "Cluster", "Connection", "Counts", "DirectionVerdict", "Endpoint",
    "InvalidPolicyError", "Matrix", "MatrixDelta", "PolicyRef", "ReachabilityDiff", "RuleRef",
    "Verdict", "diff",
]
PROTOCOLS = ("TCP", "UDP", "SCTP")


def _issue_text(issue: object) -> str:
    """An issue as `str(issue)` reads it, said in the reader's language."""
    if isinstance(issue, FieldIssue):
        return _("{field}: {message}", field=clip(issue.field), message=issue.message)
    return issue if isinstance(issue, str) else str(issue)


class InvalidPolicyError(ValueError):
    """A policy of the snapshot (NetworkPolicy, AdminNetworkPolicy, ...) that the API server
    would reject; `kind` names its kind."""

    def __init__(self, policy: str, issues: list, kind: str = "NetworkPolicy") -> None:
        self.policy = policy
        self.issues = issues
        self.kind = kind
        super().__init__(_("{kind} {policy}: {issues}", kind=kind, policy=policy,
                           issues=text.join([_issue_text(i) for i in issues], "; ")))


class Cluster:
    """Namespaces, pods, nodes and parsed policies of one snapshot, ready to query.

    `layers` is the evaluation order of the policy layers (see `isolation.reachability.
    layers`); `warnings` says what the engine evaluated in an order the API leaves undefined.
    """

    def __init__(self, namespaces: dict[str, dict[str, str]], pods: list[PodInfo],
                 policies: list[Policy], node_of_address: dict[str, str],
                 extra_ips: Sequence[str] = (), *,
                 admin_policies: Sequence[AdminPolicy] = (),
                 node_labels: Mapping[str, Mapping[str, str]] | None = None,
                 layers: Sequence[PolicyLayer] | None = None,
                 calico: CalicoPolicySet | None = None) -> None:
        self.namespace_labels = namespaces
        self.pods = [pod for pod in pods if not pod.host_network]
        self.policies = policies
        self.admin_policies = list(admin_policies)
        self.node_labels = dict(node_labels or {})
        self.network_policy_layer = NetworkPolicyLayer(policies)
        self.calico = calico
        if layers is None and calico is not None:
            from isolation.adminnetpol.model import BASELINE
            from isolation.reachability.admin import AdminPolicyLayer
            from isolation.reachability.calico_layer import calico_layers

            admin, baseline = (AdminPolicyLayer(self.admin_policies),
                               AdminPolicyLayer(self.admin_policies, BASELINE))
            layers = calico_layers(calico, self.network_policy_layer, admin or None,
                                   baseline or None)
        if layers is None and self.admin_policies:
            from isolation.adminnetpol.model import BASELINE
            from isolation.reachability.admin import AdminPolicyLayer

            layers = [layer for layer in (
                AdminPolicyLayer(self.admin_policies),
                self.network_policy_layer,
                AdminPolicyLayer(self.admin_policies, BASELINE),
            ) if not isinstance(layer, AdminPolicyLayer) or layer]
        if layers is None:   # (no admin policy: both admin layers would be empty)
            layers = [self.network_policy_layer]
        self.layers: list[PolicyLayer] = list(layers)
        self.warnings = []
        if self.admin_policies:
            from isolation.adminnetpol.model import priority_ties

            self.warnings = priority_ties(self.admin_policies)
        if calico is not None:
            self.warnings += [_("{ref} is not evaluated: {issues}", ref=problem.ref,
                                issues=text.join([_issue_text(i) for i in problem.issues], "; "))
                              for problem in calico.problems if not problem.evaluated]
        self.node_of_address = node_of_address
        self.extra_ips = [ip for ip in (canonical_ip(v) for v in extra_ips) if ip]
        self._all_pods = {pod.key: pod for pod in pods}
        self._pod_by_ip: dict[str, PodInfo] = {}
        for pod in self.pods:
            for ip in pod.ips:
                self._pod_by_ip.setdefault(ip, pod)
        self._policies_by_namespace = self.network_policy_layer.by_namespace

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, extra_ips: Iterable[str] = ()) -> Cluster:
        """Read a snapshot; every NetworkPolicy is validated and defaulted once, here.

        AdminNetworkPolicies and the BaselineAdminNetworkPolicy are validated the same way.
        Raises InvalidPolicyError for a policy the API server would reject and
        InventoryError (a ValueError) for a pod or namespace the engine cannot read.
        """
        policies = []
        for obj in snapshot.network_policies:
            metadata = obj.get("metadata") or {}
            key = f"{metadata.get('namespace') or 'default'}/{metadata.get('name')}"
            defaulted, issues = defaulted_and_issues(obj)
            if issues:
                raise InvalidPolicyError(key, issues)
            policies.append(parse_policy(defaulted))
        admin = []
        for obj in [*getattr(snapshot, "admin_network_policies", ()),
                    *getattr(snapshot, "baseline_admin_network_policies", ())]:
            from isolation.adminnetpol.model import parse_admin_policy
            from isolation.adminnetpol.validation import (
                defaulted_and_issues as admin_defaulted_and_issues,
            )

            defaulted, issues = admin_defaulted_and_issues(obj)
            if issues:
                raise InvalidPolicyError(str((obj.get("metadata") or {}).get("name")), issues,
                                         kind=obj.get("kind") or "AdminNetworkPolicy")
            admin.append(parse_admin_policy(defaulted))
        return cls(namespace_labels(snapshot), read_pods(snapshot), policies,
                   node_addresses(snapshot), list(extra_ips), admin_policies=admin,
                   node_labels=node_labels(snapshot),
                   calico=calico_policy_set(snapshot, policies))

    # -- lookups ----------------------------------------------------------------------------

    def pod(self, key: str) -> PodInfo:
        return self._all_pods[key]

    def labels_of_namespace(self, namespace: str) -> dict[str, str]:
        """A namespace's labels; one missing from the snapshot has only its name label."""
        return self.namespace_labels.get(namespace) or {NAME_LABEL: namespace}

    def labels_of_node(self, node: str) -> Mapping[str, str]:
        """A node's labels (none for a node missing from the snapshot)."""
        return self.node_labels.get(node) or {}

    def endpoint(self, ref: str) -> Endpoint:
        """Resolve "namespace/pod" or an IP address (a pod's IP means that pod).

        Raises ValueError for an unknown pod or a string that is neither.
        """
        ref = ref.strip()
        if "/" in ref:
            pod = self._all_pods.get(ref)
            if pod is None:
                raise ValueError(f"there is no pod {ref} in the snapshot")
            if pod.host_network:
                return self._address_endpoint(pod.ip or "", name=ref, node=pod.node)
            return self._pod_endpoint(pod, pod.ip)
        ip = canonical_ip(ref)
        if ip is None:
            raise ValueError(f"{ref!r} is neither namespace/pod nor an IP address")
        pod = self._pod_by_ip.get(ip)
        if pod is not None:
            return self._pod_endpoint(pod, ip)
        return self._address_endpoint(ip, name=ip)

    def _pod_endpoint(self, pod: PodInfo, ip: str | None) -> Endpoint:
        return Endpoint(POD_KIND, pod.key, ip=ip, namespace=pod.namespace, pod=pod.name,
                        node=pod.node)

    def _address_endpoint(self, ip: str, name: str, node: str | None = None) -> Endpoint:
        node = self.node_of_address.get(ip, node)
        return Endpoint(NODE_KIND if node else EXTERNAL_KIND, name, ip=ip or None, node=node)

    # -- one connection ---------------------------------------------------------------------

    def check(self, src: str, dst: str, port: int | str, protocol: str = "TCP") -> Verdict:
        """Whether `src` reaches `dst` on `port`/`protocol`, explained per direction.

        A named `port` is resolved on the destination pod (ValueError if it has no such port).
        """
        protocol = protocol.upper()
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
        source, destination = self.endpoint(src), self.endpoint(dst)
        dst_pod = self._all_pods[destination.name] if destination.is_pod else None
        number = self._port_number(port, protocol, destination, dst_pod)
        named = dst_pod.named_ports() if dst_pod else None
        if source.is_pod and destination.is_pod and source.name == destination.name:
            return self._to_itself(source, destination, number, protocol)
        if source.is_pod:
            src_pod = self._all_pods[source.name]
            egress = self._direction(EGRESS, src_pod, destination, number, protocol, named)
            if destination.kind == NODE_KIND and destination.node and destination.node == src_pod.node:
                egress = DirectionVerdict(
                    EGRESS, applies=True, isolated=egress.isolated, allowed=True,
                    selecting=egress.selecting,
                    reason=_("Egress from {pod} is allowed: traffic to the pod's own node "
                             "({node}) is always allowed.", pod=src_pod.key,
                             node=destination.node))
        else:
            egress = DirectionVerdict(EGRESS, applies=False, isolated=False, allowed=True,
                                      reason=_("{name} is not a pod, so no egress policy "
                                               "applies at the source.", name=source.name))
        if dst_pod is None:
            ingress = DirectionVerdict(INGRESS, applies=False, isolated=False, allowed=True,
                                       reason=_("{name} is not a pod, so no ingress policy "
                                                "applies at the destination.",
                                                name=destination.name))
        else:
            ingress = self._direction(INGRESS, dst_pod, source, number, protocol, named)
            if source.kind == NODE_KIND and source.node and source.node == dst_pod.node:
                ingress = DirectionVerdict(
                    INGRESS, applies=True, isolated=ingress.isolated, allowed=True,
                    selecting=ingress.selecting,
                    reason=_("Ingress to {pod} is allowed: traffic from the pod's own node "
                             "({node}) is always allowed (kubelet probes).", pod=dst_pod.key,
                             node=source.node))
        return Verdict(egress.allowed and ingress.allowed, source, destination, number,
                       protocol, egress, ingress)

    @staticmethod
    def _to_itself(source: Endpoint, destination: Endpoint, port: int, protocol: str) -> Verdict:
        """A pod's connections to itself: no NetworkPolicy can block them."""
        reason = _("{name} connects to itself, which NetworkPolicies never block.",
                   name=source.name)
        egress = DirectionVerdict(EGRESS, applies=False, isolated=False, allowed=True, reason=reason)
        ingress = DirectionVerdict(INGRESS, applies=False, isolated=False, allowed=True,
                                   reason=reason)
        return Verdict(True, source, destination, port, protocol, egress, ingress)

    def _port_number(self, port: int | str, protocol: str, destination: Endpoint,
                     pod: PodInfo | None) -> int:
        if isinstance(port, int) and not isinstance(port, bool):
            if not 1 <= port <= 65535:
                raise ValueError(f"port {port} is not between 1 and 65535")
            return port
        if isinstance(port, str) and port.isdigit():
            return self._port_number(int(port), protocol, destination, pod)
        if pod is None or not isinstance(port, str):
            raise ValueError(f"port {port!r} is not a number, and a name can only be "
                             f"resolved on a destination pod ({destination.name} is not one)")
        numbers = [n for n, p in pod.named_ports().get(port, ()) if p == protocol]
        if not numbers:
            raise ValueError(f"pod {pod.key} has no {protocol} port named {port!r}")
        return numbers[0]

    def _direction(self, direction: str, pod: PodInfo, other: Endpoint, port: int,
                   protocol: str, named: NamedPorts | None) -> DirectionVerdict:
        """Walk the layers in order: the first ALLOW or DENY decides, a PASS is told on the
        way, and traffic no layer decides is allowed (with the NetworkPolicy layer's reason:
        the pod is not isolated). `isolated` is the NetworkPolicies' isolation, when asked."""
        notes: list[str] = []      # what was passed on, in order
        undecided: list[str] = []  # what the layers that did not decide say
        passes: list[PolicyRef] = []
        netpol = None
        for layer in self.layers:
            decision = layer.decide(direction, self, pod, other, port, protocol, named)
            if layer is self.network_policy_layer or layer.kind == NETWORK_POLICY_KIND or \
                    getattr(layer, "carries_network_policies", False):
                netpol = decision
            if decision.action in (ALLOW, DENY):
                reason = text.join([*notes, decision.reason])
                return DirectionVerdict(
                    direction, True, netpol.isolated if netpol else decision.isolated,
                    decision.action == ALLOW, reason, list(decision.selecting),
                    list(decision.matched), decision.nearest_miss, decided_by=decision.ref,
                    passed_by=passes)
            if decision.action == PASS and decision.ref is not None:
                passes.append(decision.ref)
                notes.append(decision.reason)
            elif decision.reason:
                undecided.append(decision.reason)
        if netpol is None:  # a layer order without the NetworkPolicies
            undecided.append(
                _("No policy decides egress of {pod}, so it is allowed.", pod=pod.key)
                if direction == EGRESS else
                _("No policy decides ingress of {pod}, so it is allowed.", pod=pod.key))
        return DirectionVerdict(direction, True, False, True, text.join([*notes, *undecided]),
                                passed_by=passes)

    def peer_matches(self, policy: Policy, peer: Peer, other: Endpoint) -> bool:
        """Whether `other` is one of the endpoints `peer` (of `policy`) designates."""
        return peer_matches(self, policy, peer, other)

    # -- many connections -------------------------------------------------------------------

    def matrix(self, sources: list[str] | None = None, destinations: list[str] | None = None,
               ports: list[tuple[int, str]] | None = None) -> Matrix:
        """Verdicts for every source × destination × port.

        `sources` None = every pod plus the extra IPs; `destinations` None = every pod;
        `ports` None = each destination's declared container ports (none for an IP).
        """
        src = self._endpoints(sources, with_extra_ips=True)
        dst = self._endpoints(destinations, with_extra_ips=False)
        return build_matrix(self, src, dst, self.slots_for(dst, ports))

    def _endpoints(self, refs: list[str] | None, with_extra_ips: bool) -> list[Endpoint]:
        if refs is None:
            pods = [self._pod_endpoint(pod, pod.ip) for pod in self.pods]
            return pods + [self.endpoint(ip) for ip in (self.extra_ips if with_extra_ips else [])]
        return [self.endpoint(ref) for ref in refs]

    def slots_for(self, endpoints: list[Endpoint],
                  ports: list[tuple[int, str]] | None) -> list[tuple[Slot, ...]]:
        if ports is not None:
            given = tuple(dict.fromkeys((int(p), str(proto).upper()) for p, proto in ports))
            return [given] * len(endpoints)
        return [self._all_pods[e.name].declared_ports() if e.is_pod else () for e in endpoints]


def calico_policy_set(snapshot: Snapshot, policies: Sequence[Policy]) -> CalicoPolicySet | None:
    """The Calico policies of a snapshot with its (parsed) Kubernetes NetworkPolicies, or None
    when it has no Calico NetworkPolicy, GlobalNetworkPolicy or Tier (the engine then runs
    without Calico's tiers). Calico objects that cannot be evaluated are in `problems`."""
    objects = [*getattr(snapshot, "calico_tiers", ()),
               *getattr(snapshot, "calico_network_policies", ()),
               *getattr(snapshot, "calico_global_network_policies", ())]
    if not objects:
        return None
    from isolation.calico.evaluate import CalicoPolicySet

    return CalicoPolicySet.from_objects(
        [*objects, *getattr(snapshot, "calico_host_endpoints", ())], k8s_policies=policies)


@dataclass(frozen=True)
class ReachabilityDiff:
    """Connections a change newly allows and newly blocks.

    The lists are exact but built only as far as they are read (`ChangedConnections`);
    `delta` counts the same connections per group of ends without listing them.
    """

    newly_allowed: Sequence[Connection] = field(default_factory=list)
    newly_blocked: Sequence[Connection] = field(default_factory=list)
    delta: MatrixDelta | None = field(default=None, compare=False, repr=False)

    @property
    def unchanged(self) -> bool:
        return not self.newly_allowed and not self.newly_blocked


def diff(before: Cluster, after: Cluster,
         ports: list[tuple[int, str]] | None = None) -> ReachabilityDiff:
    """What changes between two clusters, over the pods (and extra IPs) present in both.

    With `ports` None each destination pod's declared ports are taken from `after`.
    Guarantees: every connection from a source (pods present in both, in `after`'s order, then
    the extra IPs both know) to a destination pod other than itself, on each of its slots,
    whose verdict differs, listed in source, destination and slot order; the counts come from
    the two class matrices, so a change of millions of connections costs what its class
    pairs cost until the lists are read.
    """
    before_keys = {p.key for p in before.pods}
    common_pods = [pod.key for pod in after.pods if pod.key in before_keys]
    known = set(before.extra_ips)
    extra = [ip for ip in after.extra_ips if ip in known]
    sources = common_pods + extra
    after_dst = [after.endpoint(key) for key in common_pods]
    slots = after.slots_for(after_dst, ports)
    old = build_matrix(before, [before.endpoint(r) for r in sources],
                       [before.endpoint(r) for r in common_pods], slots)
    new = build_matrix(after, [after.endpoint(r) for r in sources], after_dst, slots)
    delta = MatrixDelta(old, new)
    return ReachabilityDiff(ChangedConnections(delta, True), ChangedConnections(delta, False),
                            delta)
