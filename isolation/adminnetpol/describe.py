"""AdminNetworkPolicies and BaselineAdminNetworkPolicies in plain language, one sentence per
rule: "Deny egress to 169.254.169.254/32 from every pod of every namespace, before any project
policy." Namespaces are named as they are elsewhere in the console (projects are namespaces).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from isolation.adminnetpol.model import (
    ADMIN,
    ALLOW,
    DENY,
    PASS,
    PEER_NAMESPACES,
    PEER_NETWORKS,
    PEER_NODES,
    AdminPeer,
    AdminPolicy,
    AdminPort,
    AdminRule,
    Subject,
    parse_admin_policy,
)
from isolation.adminnetpol.validation import default_admin_policy
from isolation.netpol.describe import or_list
from isolation.netpol.model import EGRESS
from isolation.netpol.selectors import Selector, comma_list, selector_text
from isolation.text import gettext as _


@dataclass(frozen=True)
class AdminRuleText:
    direction: str
    index: int
    name: str
    action: str
    sentence: str

    @property
    def field(self) -> str:
        return f"spec.{self.direction}[{self.index}]"


@dataclass(frozen=True)
class AdminPolicyText:
    title: str      # "AdminNetworkPolicy deny-metadata (priority 10)"
    subject: str    # "every pod of every namespace"
    ingress: tuple[AdminRuleText, ...]
    egress: tuple[AdminRuleText, ...]


def describe_admin_policy(obj: Mapping[str, Any] | AdminPolicy) -> AdminPolicyText:
    """The sentences of a (validated) ANP or BANP object, or of its parsed model."""
    policy = obj if isinstance(obj, AdminPolicy) else parse_admin_policy(
        default_admin_policy(dict(obj)))
    subject = subject_text(policy.subject)
    return AdminPolicyText(
        title=policy.title(), subject=subject,
        ingress=tuple(_rule_text(policy, rule, subject) for rule in policy.ingress),
        egress=tuple(_rule_text(policy, rule, subject) for rule in policy.egress))


def rule_sentence(policy: AdminPolicy, rule: AdminRule) -> str:
    """One rule as a sentence, ending with where it stands among the project policies."""
    return _rule_text(policy, rule, subject_text(policy.subject)).sentence


def _rule_text(policy: AdminPolicy, rule: AdminRule, subject: str) -> AdminRuleText:
    return AdminRuleText(rule.direction, rule.index, rule.name, rule.action,
                         _sentence(policy, rule, _traffic(rule, subject)))


def _traffic(rule: AdminRule, subject: str) -> str:
    peers = or_list([peer_text(peer) for peer in rule.peers])
    ports = or_list([_port_text(p) for p in rule.ports])
    if rule.direction == EGRESS:
        if rule.ports:
            return _("egress to {peers} on {ports} from {subject}", peers=peers, ports=ports,
                     subject=subject)
        return _("egress to {peers} from {subject}", peers=peers, subject=subject)
    if rule.ports:
        return _("ingress from {peers} on {ports} to {subject}", peers=peers, ports=ports,
                 subject=subject)
    return _("ingress from {peers} to {subject}", peers=peers, subject=subject)


def _sentence(policy: AdminPolicy, rule: AdminRule, traffic: str) -> str:
    if policy.tier == ADMIN:
        if rule.action == PASS:
            return _("Pass {traffic} on to the project policies, skipping every lower-priority "
                     "admin policy.", traffic=traffic)
        if rule.action == ALLOW:
            return _("Allow {traffic}, before any project policy.", traffic=traffic)
        if rule.action == DENY:
            return _("Deny {traffic}, before any project policy.", traffic=traffic)
        return _("{action} {traffic}, before any project policy.", action=rule.action,
                 traffic=traffic)
    if rule.action == ALLOW:
        return _("Allow {traffic}, unless a project policy selects the pod.", traffic=traffic)
    if rule.action == DENY:
        return _("Deny {traffic}, unless a project policy selects the pod.", traffic=traffic)
    return _("{action} {traffic}, unless a project policy selects the pod.", action=rule.action,
             traffic=traffic)


def subject_text(subject: Subject) -> str:
    """`every pod of every namespace`, `pods with app=db of namespaces with env=prod`."""
    return _("{pods} of {where}", pods=_pods(subject.pod_selector),
             where=_namespaces(subject.namespace_selector))


def peer_text(peer: AdminPeer) -> str:
    if peer.kind == PEER_NETWORKS:
        return comma_list([str(network) for network in peer.networks])
    if peer.kind == PEER_NODES:
        assert peer.node_selector is not None
        if peer.node_selector.is_empty:
            return _("every node")
        return _("nodes with {selector}", selector=selector_text(peer.node_selector))
    assert peer.namespace_selector is not None
    pods = _("every pod") if peer.kind == PEER_NAMESPACES else _pods(peer.pod_selector)
    return _("{pods} of {where}", pods=pods, where=_namespaces(peer.namespace_selector))


def _port_text(port: AdminPort) -> str:
    if port.name is not None:
        return _("the port named {name}", name=port.name)
    return port.describe()


def _pods(selector: Selector | None) -> str:
    if selector is None or selector.is_empty:
        return _("every pod")
    return _("pods with {selector}", selector=selector_text(selector))


def _namespaces(selector: Selector) -> str:
    if selector.is_empty:
        return _("every namespace")
    return _("namespaces with {selector}", selector=selector_text(selector))
