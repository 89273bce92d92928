"""One connection decided by a Calico tier (`PolicyLayer.decide`), and explained: which policy
rule decided, where the tier stands among the project policies, or why the end of the tier
decided. The default tier explains its Kubernetes policies' decisions as the NetworkPolicy
layer does."""

from __future__ import annotations

import math
from typing import Any

from isolation.calico import model as cm
from isolation.calico.endpoint import Endpoint as CalicoEndpoint
from isolation.calico.evaluate import BY_RULE, CalicoPolicySet, TierPolicies
from isolation.netpol.model import EGRESS, INGRESS, NamedPorts
from isolation.netpol.selectors import comma_list
from isolation.reachability.inventory import Endpoint, PodInfo
from isolation.reachability.layers import (
    ALLOW,
    DENY,
    PASS,
    LayerDecision,
    LayerView,
    PolicyRef,
)
from isolation.reachability.netpol_layer import NetworkPolicyLayer
from isolation.text import gettext as _
from isolation.text import gettext_noop, ngettext

CALICO_TIER_KIND = "Calico tier"
CALICO_NETWORK_POLICY_KIND = "Calico NetworkPolicy"
KIND_NAMES = {cm.NETWORK_POLICY: CALICO_NETWORK_POLICY_KIND,
              cm.GLOBAL_NETWORK_POLICY: cm.GLOBAL_NETWORK_POLICY,
              cm.KUBERNETES_NETWORK_POLICY: "NetworkPolicy"}

# (direction, allowed, before the project policies) -> the reason a rule decided
_RULE_REASONS = {
    (EGRESS, True, True): gettext_noop(
        "Egress from {pod} is allowed by {rule}, before any project policy."),
    (EGRESS, True, False): gettext_noop(
        "Egress from {pod} is allowed by {rule}, after the project policies."),
    (EGRESS, False, True): gettext_noop(
        "Egress from {pod} is denied by {rule}, before any project policy."),
    (EGRESS, False, False): gettext_noop(
        "Egress from {pod} is denied by {rule}, after the project policies."),
    (INGRESS, True, True): gettext_noop(
        "Ingress to {pod} is allowed by {rule}, before any project policy."),
    (INGRESS, True, False): gettext_noop(
        "Ingress to {pod} is allowed by {rule}, after the project policies."),
    (INGRESS, False, True): gettext_noop(
        "Ingress to {pod} is denied by {rule}, before any project policy."),
    (INGRESS, False, False): gettext_noop(
        "Ingress to {pod} is denied by {rule}, after the project policies."),
}


def decide_in_tier(calico: CalicoPolicySet, tier: TierPolicies,
                   network_policy_layer: NetworkPolicyLayer | None, direction: str,
                   view: LayerView, pod: PodInfo, other: Endpoint, port: int, protocol: str,
                   named: NamedPorts | None) -> LayerDecision:
    """The tier's answer for one direction of a connection, with its reason; for the default
    tier (given the NetworkPolicy layer) the Kubernetes policies' details and explanations."""
    netpol = None
    if network_policy_layer is not None:
        netpol = network_policy_layer.direction_verdict(
            direction, view, pod, other, port, protocol, named)  # type: ignore[arg-type]
    endpoint = calico_endpoint(view, pod)
    peer = (calico_endpoint(view, view.pod(other.name)) if other.is_pod
            else CalicoEndpoint.address(other.ip) if other.ip else CalicoEndpoint())
    decision = calico.decide_tier(tier.tier.name, direction, endpoint, peer, port, protocol)
    details: dict[str, Any] = {}
    if netpol is not None:
        details = {"selecting": tuple(netpol.selecting), "matched": tuple(netpol.matched),
                   "nearest_miss": netpol.nearest_miss, "isolated": netpol.isolated}
    if decision is None:
        return LayerDecision(None, netpol.reason if netpol is not None else "", **details)
    if decision.reason == BY_RULE:
        policy = next(p for p in tier.policies if p.key == decision.policy)
        ref = policy_ref(policy, decision.action, direction, decision.rule_index)
        if policy.kind == cm.KUBERNETES_NETWORK_POLICY and netpol is not None \
                and netpol.allowed and netpol.matched:
            first = netpol.matched[0]
            ref = PolicyRef("NetworkPolicy", first.policy, ALLOW, direction, first.rule_index)
            return LayerDecision(ALLOW, netpol.reason, ref, **details)
        return LayerDecision(decision.action, _rule_reason(tier.tier, direction, pod, ref), ref, **details)
    # the end of the tier
    selecting = [p for p in tier.policies if p.applies_to_workloads and p.affects(direction)
                 and p.selects(endpoint)]
    if decision.action == PASS:
        return LayerDecision(None, _passed_at_end(direction, pod, tier.tier), **details)
    if all(p.kind == cm.KUBERNETES_NETWORK_POLICY for p in selecting) and netpol is not None:
        ref = PolicyRef("NetworkPolicy", netpol.selecting[0], DENY, direction)
        return LayerDecision(DENY, netpol.reason, ref, **details)
    ref = policy_ref(selecting[0], DENY, direction, None)
    reason = _denied_at_end(direction, pod, tier.tier, selecting, f"{port}/{protocol}",
                            other.name)
    return LayerDecision(DENY, reason, ref, **details)


def policy_ref(policy: cm.CalicoPolicy, action: str, direction: str,
               rule_index: int | None) -> PolicyRef:
    """The PolicyRef of a Calico policy (a converted Kubernetes policy keeps its own name)."""
    if policy.kind == cm.KUBERNETES_NETWORK_POLICY:
        return PolicyRef("NetworkPolicy", kubernetes_key(policy), action, direction, rule_index)
    order = None if policy.order is None else (
        int(policy.order) if float(policy.order).is_integer() else policy.order)
    return PolicyRef(KIND_NAMES.get(policy.kind, policy.kind), policy.key, action, direction,
                     rule_index, priority=order, tier=policy.tier)  # type: ignore[arg-type]


def kubernetes_key(policy: cm.CalicoPolicy) -> str:
    """`namespace/name` of the Kubernetes NetworkPolicy a converted policy came from."""
    return f"{policy.namespace}/{policy.name.removeprefix(f'knp.{cm.DEFAULT_TIER}.')}"


def calico_endpoint(view: LayerView, pod: PodInfo) -> CalicoEndpoint:
    """A pod as Calico's selectors see it (its namespace's and service account's labels
    included)."""
    named = tuple((name, number, protocol) for name, number, protocol in pod.ports if name)
    return CalicoEndpoint.pod(pod.namespace, pod.labels,
                              namespace_labels=view.labels_of_namespace(pod.namespace),
                              service_account=pod.service_account,
                              service_account_labels=pod.service_account_labels,
                              ip=pod.ip, named_ports=named)


def _rule_reason(tier: cm.Tier, direction: str, pod: PodInfo, ref: PolicyRef) -> str:
    """Which rule decided (or passed the traffic on), and where its tier stands among the
    project policies (the default tier's Kubernetes policies, at order 1000)."""
    if ref.action == PASS:
        if direction == EGRESS:
            return _("{rule} passes egress from {pod} on to the next tier, skipping the rest of "
                     "tier {tier}.", rule=ref.describe(), pod=pod.key, tier=ref.tier)
        return _("{rule} passes ingress to {pod} on to the next tier, skipping the rest of "
                 "tier {tier}.", rule=ref.describe(), pod=pod.key, tier=ref.tier)
    if tier.name == cm.DEFAULT_TIER:
        early = (math.inf if ref.priority is None else ref.priority) < cm.KUBERNETES_POLICY_ORDER
    else:
        early = tier.sort_key < (cm.DEFAULT_TIER_ORDER, cm.DEFAULT_TIER)
    message = _RULE_REASONS[(direction, ref.action == ALLOW, early)]
    return _(message, pod=pod.key, rule=ref.describe())


def _passed_at_end(direction: str, pod: PodInfo, tier: cm.Tier) -> str:
    if direction == EGRESS:
        return _("Egress from {pod} matches no rule of tier {tier}, whose default action passes "
                 "it on to the next tier.", pod=pod.key, tier=tier.name)
    return _("Ingress to {pod} matches no rule of tier {tier}, whose default action passes it "
             "on to the next tier.", pod=pod.key, tier=tier.name)


def _denied_at_end(direction: str, pod: PodInfo, tier: cm.Tier,
                   selecting: list[cm.CalicoPolicy], traffic: str, other: str) -> str:
    """The end-of-tier deny: the (first three) policies selecting the pod, and the traffic no
    rule of the tier matched."""
    policies = comma_list([
        f"{KIND_NAMES.get(p.kind, p.kind)} "
        f"{kubernetes_key(p) if p.kind == cm.KUBERNETES_NETWORK_POLICY else p.key}"
        for p in selecting[:3]])
    fields = {"pod": pod.key, "tier": tier.name, "policies": policies, "traffic": traffic,
              "other": other}
    more = len(selecting) - 3
    if direction == EGRESS and more > 0:
        return _("Egress from {pod} is denied at the end of Calico tier {tier}: {policies} and "
                 "{more} more select the pod, and no rule of the tier matches {traffic} to "
                 "{other}.", more=more, **fields)
    if direction == EGRESS:
        return ngettext("Egress from {pod} is denied at the end of Calico tier {tier}: "
                        "{policies} selects the pod, and no rule of the tier matches {traffic} "
                        "to {other}.",
                        "Egress from {pod} is denied at the end of Calico tier {tier}: "
                        "{policies} select the pod, and no rule of the tier matches {traffic} "
                        "to {other}.", len(selecting), **fields)
    if more > 0:
        return _("Ingress to {pod} is denied at the end of Calico tier {tier}: {policies} and "
                 "{more} more select the pod, and no rule of the tier matches {traffic} from "
                 "{other}.", more=more, **fields)
    return ngettext("Ingress to {pod} is denied at the end of Calico tier {tier}: {policies} "
                    "selects the pod, and no rule of the tier matches {traffic} from {other}.",
                    "Ingress to {pod} is denied at the end of Calico tier {tier}: {policies} "
                    "select the pod, and no rule of the tier matches {traffic} from {other}.",
                    len(selecting), **fields)
