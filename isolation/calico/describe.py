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
    ALLOW,
    DEFAULT_TIER,
    DEFAULT_TIER_ORDER,
    DENY,
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
from isolation.netpol.describe import both
from isolation.netpol.selectors import comma_list
from isolation.text import gettext as _


@dataclass(frozen=True)
class CalicoRuleText:
    direction: str
    index: int
    action: str
    sentence: str

    @property
    def field(self) -> str:
        return f"spec.{self.direction}[{self.index}]"

    @property
    def whole_sentence(self) -> str:
        """`sentence` as a sentence of its own (capital letter, full stop)."""
        return _("{rule}.", rule=self.sentence)


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
        return _("label {key}", key=node.key)
    if isinstance(node, Not) and isinstance(node.operand, Has):
        return _("no label {key}", key=node.operand.key)
    if isinstance(node, InSet):
        values = ", ".join(sorted(node.values))
        if node.negated:
            return _("{key} not in ({values})", key=node.key, values=values)
        return _("{key} in ({values})", key=node.key, values=values)
    if isinstance(node, And):
        return comma_list([selector_text(o) for o in node.operands])
    return f"`{node.render()}`"


def _pods(selector: Node | None) -> str:
    if selector is None or isinstance(selector, All):
        return _("every pod")
    return _("pods with {selector}", selector=selector_text(selector))


def _where(namespace: str | None, namespace_selector: Node | None) -> str:
    if namespace is not None:
        return _("namespace {namespace}", namespace=namespace)
    if namespace_selector is None or isinstance(namespace_selector, All):
        return _("every namespace")
    return _("namespaces with {selector}", selector=selector_text(namespace_selector))


def subject_text(policy: CalicoPolicy) -> str:
    """The pods a policy applies to: "pods with app=web of namespace shop"."""
    return _("{pods} of {where}", pods=_pods(policy.selector),
             where=_where(policy.namespace, policy.namespace_selector))


def position_text(policy: CalicoPolicy, tier: Tier | None = None) -> str:
    """Where the policy runs relative to the Kubernetes (project) NetworkPolicies."""
    tier_order = DEFAULT_TIER_ORDER if policy.tier == DEFAULT_TIER else (
        tier.order if tier is not None else None)
    if policy.tier != DEFAULT_TIER:
        if tier_order is not None and tier_order < DEFAULT_TIER_ORDER:
            return _("before any project policy (tier {tier})", tier=policy.tier)
        return _("after project policies (tier {tier}): only for traffic the default tier "
                 "passes on or does not decide", tier=policy.tier)
    order = math.inf if policy.order is None else policy.order
    if order < KUBERNETES_POLICY_ORDER:
        return _("before any project policy")
    if order == KUBERNETES_POLICY_ORDER:
        return _("beside project policies (same order 1000, taken by name)")
    return _("after project policies")


def entity_text(entity: EntityMatch) -> str:
    """Who a rule's source or destination is, without its ports."""
    parts: list[str] = []
    if entity.needs_endpoint:
        pods = _pods(entity.selector)
        where = _where(entity.namespace, entity.namespace_selector)
        if entity.not_selector is not None:
            parts.append(_("{pods} of {where} except pods with {selector}", pods=pods,
                           where=where, selector=selector_text(entity.not_selector)))
        else:
            parts.append(_("{pods} of {where}", pods=pods, where=where))
    elif entity.not_selector is not None:
        parts.append(_("anything but pods with {selector}",
                       selector=selector_text(entity.not_selector)))
    if entity.service_account_names is not None:
        parts.append(_("running as service account {names}",
                       names=comma_list(sorted(entity.service_account_names))))
    if entity.service_account_selector is not None:
        parts.append(_("running as a service account with {selector}",
                       selector=selector_text(entity.service_account_selector)))
    if entity.nets:
        parts.append(comma_list([str(n) for n in entity.nets]))
    if entity.not_nets:
        parts.append(_("outside {nets}", nets=comma_list([str(n) for n in entity.not_nets])))
    if not parts:
        return _("anywhere")
    text = parts[0]
    for part in parts[1:]:
        text = both(text, part)
    return text


def _traffic(rule: Rule) -> str:
    if rule.protocol:
        protocol = rule.protocol
    elif rule.not_protocol is None:
        protocol = _("any protocol")
    else:
        protocol = _("any protocol but {protocol}", protocol=rule.not_protocol)
    ports, not_ports = rule.destination.ports, rule.destination.not_ports
    listed = comma_list([p.render() for p in ports])
    excepts = comma_list([p.render() for p in not_ports])
    if ports and not_ports:
        return _("on {protocol} {ports} except ports {excepts}", protocol=protocol,
                 ports=listed, excepts=excepts)
    if ports:
        return _("on {protocol} {ports}", protocol=protocol, ports=listed)
    if not_ports and (rule.protocol or rule.not_protocol):
        return _("over {protocol} except ports {excepts}", protocol=protocol, excepts=excepts)
    if not_ports:
        return _("on {protocol} except ports {excepts}", protocol=protocol, excepts=excepts)
    if rule.protocol or rule.not_protocol:
        return _("over {protocol}", protocol=protocol)
    return ""


def _action(action: str) -> str:
    words = {ALLOW: _("Allow"), DENY: _("Deny"), PASS: _("Pass"), LOG: _("Log")}
    return words.get(action, action)


def rule_sentence(policy: CalicoPolicy, rule: Rule, position: str) -> str:
    """One rule as a sentence naming action, direction, peer, ports, pods and position."""
    subject = subject_text(policy)
    ports_only = EntityMatch(ports=rule.destination.ports, not_ports=rule.destination.not_ports)
    destination = replace(rule.destination, ports=(), not_ports=())
    traffic = _traffic(rule) if ports_only != EntityMatch() or rule.protocol or rule.not_protocol \
        else ""
    fields = {"action": _action(rule.action), "subject": subject, "traffic": traffic}
    if rule.direction == EGRESS:
        peer, own = destination, rule.source
        if traffic:
            words = _("{action} egress to {peer} {traffic} from {subject}",
                      peer=entity_text(peer), **fields)
        else:
            words = _("{action} egress to {peer} from {subject}", peer=entity_text(peer),
                      **fields)
    else:
        peer, own = rule.source, destination
        if traffic:
            words = _("{action} ingress from {peer} {traffic} to {subject}",
                      peer=entity_text(peer), **fields)
        else:
            words = _("{action} ingress from {peer} to {subject}", peer=entity_text(peer),
                      **fields)
    if not own.is_any:
        words = _("{rule} (only {own})", rule=words, own=entity_text(own))
    if rule.action == PASS:
        words = _("{rule}, handing the decision to the next tier", rule=words)
    elif rule.action == LOG:
        words = _("{rule}, then going on to the next rule", rule=words)
    words = _("{rule}, {position}", rule=words, position=position)
    if rule.unmodelled:
        words = _("{rule} (matches on {fields} are not evaluated)", rule=words,
                  fields=comma_list(list(rule.unmodelled)))
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
