"""Calico policies in plain language: one sentence per rule.

"Deny egress to 169.254.169.254/32 from every pod of every namespace, before any project
policy." Project policies are the Kubernetes NetworkPolicies (KubeSphere calls namespaces
projects); Calico runs them in the default tier at order 1000, so where a Calico policy sits
relative to them says whether its rules can be overridden by a project's allowlist.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from isolation.calico.model import (
    DEFAULT_TIER,
    DEFAULT_TIER_ORDER,
    EGRESS,
    INGRESS,
    KUBERNETES_POLICY_ORDER,
    LOG,
    PASS,
    CalicoPolicy,
    EntityMatch,
    Rule,
    Tier,
    parse_policy,
)
from isolation.calico.selector import All, And, Compare, Has, InSet, Node, Not


@dataclass(frozen=True)
class CalicoRuleText:
    direction: str
    index: int
    action: str
    sentence: str

    @property
    def field(self) -> str:
        return f"spec.{self.direction}[{self.index}]"


@dataclass(frozen=True)
class CalicoPolicyText:
    name: str
    kind: str
    tier: str
    subject: str          # "every pod of every namespace"
    position: str         # "before any project policy"
    directions: tuple[str, ...]
    rules: tuple[CalicoRuleText, ...]
    host_only: bool       # preDNAT / doNotTrack: acts on host endpoints, not on pod traffic


def selector_text(node: Node) -> str:
    """A selector read aloud: `app=web`, `label team`, `no label team`, or the expression."""
    if isinstance(node, Compare) and node.op == "==":
        return f"{node.key}={node.value}"
    if isinstance(node, Compare) and node.op == "!=":
        return f"{node.key}≠{node.value}"
    if isinstance(node, Has):
        return f"label {node.key}"
    if isinstance(node, Not) and isinstance(node.operand, Has):
        return f"no label {node.operand.key}"
    if isinstance(node, InSet):
        values = ", ".join(sorted(node.values))
        return f"{node.key} {'not in' if node.negated else 'in'} ({values})"
    if isinstance(node, And):
        return ", ".join(selector_text(o) for o in node.operands)
    return f"`{node.render()}`"


def _pods(selector: Node | None) -> str:
    if selector is None or isinstance(selector, All):
        return "every pod"
    return f"pods with {selector_text(selector)}"


def _where(namespace: str | None, namespace_selector: Node | None) -> str:
    if namespace is not None:
        return f"namespace {namespace}"
    if namespace_selector is None or isinstance(namespace_selector, All):
        return "every namespace"
    return f"namespaces with {selector_text(namespace_selector)}"


def subject_text(policy: CalicoPolicy) -> str:
    """The pods a policy applies to: "pods with app=web of namespace shop"."""
    return f"{_pods(policy.selector)} of {_where(policy.namespace, policy.namespace_selector)}"


def position_text(policy: CalicoPolicy, tier: Tier | None = None) -> str:
    """Where the policy runs relative to the Kubernetes (project) NetworkPolicies."""
    tier_order = DEFAULT_TIER_ORDER if policy.tier == DEFAULT_TIER else (
        tier.order if tier is not None else None)
    if policy.tier != DEFAULT_TIER:
        if tier_order is not None and tier_order < DEFAULT_TIER_ORDER:
            return f"before any project policy (tier {policy.tier})"
        return (f"after project policies (tier {policy.tier}): only for traffic the default "
                f"tier passes on or does not decide")
    order = math.inf if policy.order is None else policy.order
    if order < KUBERNETES_POLICY_ORDER:
        return "before any project policy"
    if order == KUBERNETES_POLICY_ORDER:
        return "beside project policies (same order 1000, taken by name)"
    return "after project policies"


def entity_text(entity: EntityMatch) -> str:
    """Who a rule's source or destination is, without its ports."""
    parts: list[str] = []
    if entity.needs_endpoint:
        text = _pods(entity.selector) + " of " + _where(entity.namespace, entity.namespace_selector)
        if entity.not_selector is not None:
            text += f" except pods with {selector_text(entity.not_selector)}"
        parts.append(text)
    elif entity.not_selector is not None:
        parts.append(f"anything but pods with {selector_text(entity.not_selector)}")
    if entity.service_account_names is not None:
        parts.append("running as service account " + ", ".join(sorted(entity.service_account_names)))
    if entity.service_account_selector is not None:
        parts.append(f"running as a service account with "
                     f"{selector_text(entity.service_account_selector)}")
    if entity.nets:
        parts.append(", ".join(str(n) for n in entity.nets))
    if entity.not_nets:
        parts.append("outside " + ", ".join(str(n) for n in entity.not_nets))
    return " and ".join(parts) if parts else "anywhere"


def _traffic(rule: Rule) -> str:
    protocol = rule.protocol or ("any protocol" if rule.not_protocol is None
                                 else f"any protocol but {rule.not_protocol}")
    ports, not_ports = rule.destination.ports, rule.destination.not_ports
    if ports:
        text = f"on {protocol} " + ", ".join(p.render() for p in ports)
    elif rule.protocol or rule.not_protocol:
        text = f"over {protocol}"
    else:
        text = ""
    if not_ports:
        text = (text or f"on {protocol}") + " except ports " + ", ".join(
            p.render() for p in not_ports)
    return text


def rule_sentence(policy: CalicoPolicy, rule: Rule, position: str) -> str:
    """One rule as a sentence naming action, direction, peer, ports, pods and position."""
    subject = subject_text(policy)
    ports_only = EntityMatch(ports=rule.destination.ports, not_ports=rule.destination.not_ports)
    destination = replace(rule.destination, ports=(), not_ports=())
    if rule.direction == EGRESS:
        peer, own = destination, rule.source
        words = f"{rule.action} egress to {entity_text(peer)}"
    else:
        peer, own = rule.source, destination
        words = f"{rule.action} ingress from {entity_text(peer)}"
    traffic = _traffic(rule) if ports_only != EntityMatch() or rule.protocol or rule.not_protocol \
        else ""
    if traffic:
        words += f" {traffic}"
    words += f" {'from' if rule.direction == EGRESS else 'to'} {subject}"
    if not own.is_any:
        words += f" (only {entity_text(own)})"
    if rule.action == PASS:
        words += ", handing the decision to the next tier"
    elif rule.action == LOG:
        words += ", then going on to the next rule"
    words += f", {position}"
    if rule.unmodelled:
        words += " (matches on " + ", ".join(rule.unmodelled) + " are not evaluated)"
    return words


def describe_policy(policy: CalicoPolicy | Mapping[str, Any],
                    tier: Tier | None = None) -> CalicoPolicyText:
    """The plain-language reading of a valid Calico policy (object or model).

    Guarantees: one sentence per rule, ingress rules first, each in the policy's order.
    """
    if not isinstance(policy, CalicoPolicy):
        policy = parse_policy(policy)
    position = position_text(policy, tier)
    rules = tuple(CalicoRuleText(r.direction, r.index, r.action, rule_sentence(policy, r, position))
                  for direction in (INGRESS, EGRESS) if policy.affects(direction)
                  for r in policy.rules(direction))
    return CalicoPolicyText(
        name=policy.name, kind=policy.kind, tier=policy.tier, subject=subject_text(policy),
        position=position, directions=tuple(d for d in (INGRESS, EGRESS) if policy.affects(d)),
        rules=rules, host_only=not policy.applies_to_workloads)
