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
    AdminRule,
    Subject,
    parse_admin_policy,
)
from isolation.adminnetpol.validation import default_admin_policy
from isolation.netpol.model import EGRESS
from isolation.netpol.selectors import Selector


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
    peers = _join([peer_text(peer) for peer in rule.peers], "or")
    ports = f" on {_join([p.describe() for p in rule.ports], 'or')}" if rule.ports else ""
    if rule.direction == EGRESS:
        traffic = f"egress to {peers}{ports} from {subject}"
    else:
        traffic = f"ingress from {peers}{ports} to {subject}"
    if policy.tier == ADMIN:
        if rule.action == PASS:
            sentence = (f"Pass {traffic} on to the project policies, skipping every "
                        f"lower-priority admin policy")
        else:
            sentence = f"{rule.action} {traffic}, before any project policy"
    else:
        verb = {ALLOW: "Allow", DENY: "Deny"}.get(rule.action, rule.action)
        sentence = f"{verb} {traffic}, unless a project policy selects the pod"
    return AdminRuleText(rule.direction, rule.index, rule.name, rule.action, sentence + ".")


def subject_text(subject: Subject) -> str:
    """`every pod of every namespace`, `pods with app=db of namespaces with env=prod`."""
    pods = _pods(subject.pod_selector)
    return f"{pods} of {_namespaces(subject.namespace_selector)}"


def peer_text(peer: AdminPeer) -> str:
    if peer.kind == PEER_NETWORKS:
        return ", ".join(str(network) for network in peer.networks)
    if peer.kind == PEER_NODES:
        assert peer.node_selector is not None
        if peer.node_selector.is_empty:
            return "every node"
        return f"nodes with {peer.node_selector.describe()}"
    assert peer.namespace_selector is not None
    pods = "every pod" if peer.kind == PEER_NAMESPACES else _pods(peer.pod_selector)
    return f"{pods} of {_namespaces(peer.namespace_selector)}"


def _pods(selector: Selector | None) -> str:
    if selector is None or selector.is_empty:
        return "every pod"
    return f"pods with {selector.describe()}"


def _namespaces(selector: Selector) -> str:
    if selector.is_empty:
        return "every namespace"
    return f"namespaces with {selector.describe()}"


def _join(items: list[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"
