"""Plain-language sentences for reachability verdicts."""

from __future__ import annotations

from isolation.netpol.model import EGRESS, Policy, Rule
from isolation.reachability.inventory import ClusterView, Endpoint, PodInfo
from isolation.reachability.verdict import DirectionVerdict, RuleRef


def _names(keys: list[str]) -> str:
    if len(keys) <= 3:
        return ", ".join(keys)
    return f"{', '.join(keys[:3])} and {len(keys) - 3} more"


def describe_direction(direction: str, pod: PodInfo, other: Endpoint, port: int, protocol: str,
                       selecting: list[str], matched: list[RuleRef], nearest: str | None,
                       has_rules: bool) -> DirectionVerdict:
    """The DirectionVerdict of one side, with its one- or two-sentence reason."""
    side = f"Egress from {pod.key}" if direction == EGRESS else f"Ingress to {pod.key}"
    if not selecting:
        reason = (f"{side} is not isolated: no policy of namespace {pod.namespace} selects the "
                  f"pod for {direction}, so all {direction} traffic is allowed.")
        return DirectionVerdict(direction, True, False, True, reason)
    isolated_by = f"{side} is isolated by {_names(selecting)}"
    if matched:
        first = matched[0].describe()
        more = f" and {len(matched) - 1} more rule(s)" if len(matched) > 1 else ""
        reason = f"{isolated_by}; {first}{more} allows it."
        return DirectionVerdict(direction, True, True, True, reason, selecting, matched)
    counterpart = f"to {other.name}" if direction == EGRESS else f"from {other.name}"
    if not has_rules:
        reason = (f"{isolated_by}, which {'has' if len(selecting) == 1 else 'have'} no "
                  f"{direction} rules: all {direction} traffic is denied.")
    else:
        reason = f"{isolated_by}, and no rule allows {port}/{protocol} {counterpart}."
        if nearest:
            reason += f" Nearest miss: {nearest}."
    return DirectionVerdict(direction, True, True, False, reason, selecting, [], nearest)


def peer_miss(cluster: ClusterView, policy: Policy, rule: Rule, other: Endpoint, port: int,
              protocol: str) -> str:
    """Why a rule whose ports fit does not cover `other` (its first peer's failing part)."""
    peers = "; ".join(peer.describe(policy.namespace) for peer in rule.peers)
    head = (f"{policy.key} {rule.direction} rule {rule.index} allows {port}/{protocol} only "
            f"{'to' if rule.direction == EGRESS else 'from'} {peers}")
    peer = rule.peers[0]
    if peer.ip_block is not None:
        if other.ip is None:
            return f"{head}, and {other.name} has no IP address"
        return f"{head}, and {other.ip} is not in {peer.ip_block.describe()}"
    if not other.is_pod:
        return f"{head}, and {other.name} is not a pod"
    pod = cluster.pod(other.name)
    if peer.namespace_selector is None and pod.namespace != policy.namespace:
        return f"{head}, and {other.name} is in namespace {pod.namespace}"
    if peer.namespace_selector is not None:
        failing = peer.namespace_selector.failing(cluster.labels_of_namespace(pod.namespace))
        if failing:
            wanted = ", ".join(r.describe() for r in failing)
            return f"{head}, and namespace {pod.namespace} does not have {wanted}"
    if peer.pod_selector is not None:
        failing = peer.pod_selector.failing(pod.labels)
        if failing:
            wanted = ", ".join(r.describe() for r in failing)
            return f"{head}, and {other.name} does not have {wanted}"
    return head
