"""Plain-language sentences for reachability verdicts."""

from __future__ import annotations

from isolation import text
from isolation.netpol.model import EGRESS, Policy, Rule
from isolation.netpol.selectors import comma_list, requirement_words
from isolation.reachability.inventory import ClusterView, Endpoint, PodInfo
from isolation.reachability.verdict import DirectionVerdict, RuleRef
from isolation.text import gettext as _
from isolation.text import ngettext


def _names(keys: list[str]) -> str:
    if len(keys) <= 3:
        return comma_list(keys)
    return _("{names} and {count} more", names=comma_list(keys[:3]), count=len(keys) - 3)


def describe_direction(direction: str, pod: PodInfo, other: Endpoint, port: int, protocol: str,
                       selecting: list[str], matched: list[RuleRef], nearest: str | None,
                       has_rules: bool) -> DirectionVerdict:
    """The DirectionVerdict of one side, with its one- or two-sentence reason."""
    egress = direction == EGRESS
    if not selecting:
        if egress:
            reason = _("Egress from {pod} is not isolated: no policy of namespace {namespace} "
                       "selects the pod for egress, so all egress traffic is allowed.",
                       pod=pod.key, namespace=pod.namespace)
        else:
            reason = _("Ingress to {pod} is not isolated: no policy of namespace {namespace} "
                       "selects the pod for ingress, so all ingress traffic is allowed.",
                       pod=pod.key, namespace=pod.namespace)
        return DirectionVerdict(direction, True, False, True, reason)
    fields = {"pod": pod.key, "policies": _names(selecting)}
    if matched:
        reason = _allowed_by(egress, matched, fields)
        return DirectionVerdict(direction, True, True, True, reason, selecting, matched)
    if not has_rules:
        if egress:
            reason = ngettext(
                "Egress from {pod} is isolated by {policies}, which has no egress rules: all "
                "egress traffic is denied.",
                "Egress from {pod} is isolated by {policies}, which have no egress rules: all "
                "egress traffic is denied.", len(selecting), **fields)
        else:
            reason = ngettext(
                "Ingress to {pod} is isolated by {policies}, which has no ingress rules: all "
                "ingress traffic is denied.",
                "Ingress to {pod} is isolated by {policies}, which have no ingress rules: all "
                "ingress traffic is denied.", len(selecting), **fields)
    else:
        reason = _no_rule_allows(egress, f"{port}/{protocol}", other.name, nearest, fields)
    return DirectionVerdict(direction, True, True, False, reason, selecting, [], nearest)


def _allowed_by(egress: bool, matched: list[RuleRef], fields: dict[str, str]) -> str:
    first, more = matched[0].describe(), len(matched) - 1
    if egress and more:
        return _("Egress from {pod} is isolated by {policies}; {rule} and {count} more rule(s) "
                 "allows it.", rule=first, count=more, **fields)
    if egress:
        return _("Egress from {pod} is isolated by {policies}; {rule} allows it.", rule=first,
                 **fields)
    if more:
        return _("Ingress to {pod} is isolated by {policies}; {rule} and {count} more rule(s) "
                 "allows it.", rule=first, count=more, **fields)
    return _("Ingress to {pod} is isolated by {policies}; {rule} allows it.", rule=first,
             **fields)


def _no_rule_allows(egress: bool, traffic: str, other: str, nearest: str | None,
                    fields: dict[str, str]) -> str:
    fields = {**fields, "traffic": traffic, "other": other, "nearest": nearest}
    if egress and nearest:
        return _("Egress from {pod} is isolated by {policies}, and no rule allows {traffic} to "
                 "{other}. Nearest miss: {nearest}.", **fields)
    if egress:
        return _("Egress from {pod} is isolated by {policies}, and no rule allows {traffic} to "
                 "{other}.", **fields)
    if nearest:
        return _("Ingress to {pod} is isolated by {policies}, and no rule allows {traffic} from "
                 "{other}. Nearest miss: {nearest}.", **fields)
    return _("Ingress to {pod} is isolated by {policies}, and no rule allows {traffic} from "
             "{other}.", **fields)


def peer_miss(cluster: ClusterView, policy: Policy, rule: Rule, other: Endpoint, port: int,
              protocol: str) -> str:
    """Why a rule whose ports fit does not cover `other` (its first peer's failing part)."""
    peers = text.join([peer.describe(policy.namespace) for peer in rule.peers], "; ")
    fields = {"policy": policy.key, "direction": rule.direction, "index": rule.index,
              "traffic": f"{port}/{protocol}", "peers": peers}
    if rule.direction == EGRESS:
        head = _("{policy} {direction} rule {index} allows {traffic} only to {peers}", **fields)
    else:
        head = _("{policy} {direction} rule {index} allows {traffic} only from {peers}",
                 **fields)
    peer = rule.peers[0]
    if peer.ip_block is not None:
        if other.ip is None:
            return _("{rule}, and {name} has no IP address", rule=head, name=other.name)
        return _("{rule}, and {address} is not in {block}", rule=head, address=other.ip,
                 block=peer.ip_block.describe())
    if not other.is_pod:
        return _("{rule}, and {name} is not a pod", rule=head, name=other.name)
    pod = cluster.pod(other.name)
    if peer.namespace_selector is None and pod.namespace != policy.namespace:
        return _("{rule}, and {name} is in namespace {namespace}", rule=head, name=other.name,
                 namespace=pod.namespace)
    if peer.namespace_selector is not None:
        failing = peer.namespace_selector.failing(cluster.labels_of_namespace(pod.namespace))
        if failing:
            return _("{rule}, and namespace {namespace} does not have {wanted}", rule=head,
                     namespace=pod.namespace,
                     wanted=comma_list([requirement_words(r) for r in failing]))
    if peer.pod_selector is not None:
        failing = peer.pod_selector.failing(pod.labels)
        if failing:
            return _("{rule}, and {name} does not have {wanted}", rule=head, name=other.name,
                     wanted=comma_list([requirement_words(r) for r in failing]))
    return head
