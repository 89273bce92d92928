"""NetworkPolicies in plain language: one sentence per rule, and the rule tables of a policy.

"Pods labelled app=web in shop accept TCP 8080 from pods labelled app=gw in any project of
workspace team-a." Namespaces are called projects, as KubeSphere users know them; selectors on
the workspace label and on `kubernetes.io/metadata.name` are read as workspaces and projects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from isolation.netpol.model import (
    EGRESS,
    INGRESS,
    IPBlock,
    Peer,
    Policy,
    PortSpec,
    Rule,
    parse_policy,
)
from isolation.netpol.selectors import Requirement, Selector
from isolation.netpol.validation import default_network_policy
from isolation.snapshot import NAME_LABEL

WORKSPACE_LABEL = "kubesphere.io/workspace"
PEER_PODS, PEER_PROJECTS, PEER_ADDRESSES = "pods", "projects", "addresses"
EVERY_PORT = "every port"


@dataclass(frozen=True)
class PeerText:
    """One `from`/`to` entry: its kind (pods, projects or addresses) and its description."""

    kind: str
    text: str
    pods: str = ""        # the pod part ("pods labelled app=gw"), empty for addresses
    where: str = ""       # the project part ("any project of workspace team-a") or the CIDR


@dataclass(frozen=True)
class RuleText:
    direction: str                 # "ingress" or "egress"
    index: int
    peers: tuple[PeerText, ...]    # empty: every source (ingress) or destination (egress)
    ports: tuple[str, ...]         # empty: every port and protocol
    sentence: str

    @property
    def field(self) -> str:
        return f"spec.{self.direction}[{self.index}]"


@dataclass(frozen=True)
class DirectionText:
    direction: str
    isolated: bool                 # the policy restricts this direction for its pods
    rules: tuple[RuleText, ...]
    summary: str
    count: int | None = None       # every rule of the direction (`rules` may be a page of them)

    @property
    def total(self) -> int:
        return len(self.rules) if self.count is None else self.count

    @property
    def start(self) -> int:
        """The position of the first rule of `rules` (0 for the first page)."""
        return self.rules[0].index if self.rules else 0

    @property
    def end(self) -> int:
        return self.start + len(self.rules)

    @property
    def remaining(self) -> int:
        """Rules after this page."""
        return max(self.total - self.end, 0)

    @property
    def title(self) -> str:
        return "Ingress" if self.direction == INGRESS else "Egress"


@dataclass(frozen=True)
class PolicyText:
    subject: str                   # "Pods labelled app=web in shop"
    ingress: DirectionText
    egress: DirectionText

    @property
    def directions(self) -> tuple[DirectionText, DirectionText]:
        return self.ingress, self.egress


def describe_policy(policy: Mapping[str, Any], *, start: int = 0,
                    limit: int | None = None) -> PolicyText:
    """The plain-language reading of a valid NetworkPolicy (defaults are applied here).

    Guarantees: one RuleText per rule, in the policy's order, each with a sentence that names
    the selected pods, the ports and the peers; a direction the policy does not isolate has
    no rules and says so. With `limit`, each direction describes only its rules `start` to
    `start + limit` (a page of a large policy) and `count` still tells how many it has.
    Raises ValueError only for a policy the API server would reject.
    """
    return describe_parsed(parse_policy(default_network_policy(dict(policy))), start=start,
                           limit=limit)


def describe_parsed(parsed: Policy, *, start: int = 0, limit: int | None = None) -> PolicyText:
    """`describe_policy` of a policy already defaulted and parsed."""
    subject = subject_text(parsed.pod_selector, parsed.namespace)
    texts = []
    for direction in (INGRESS, EGRESS):
        isolated = parsed.affects(direction)
        every = list(parsed.rules(direction)) if isolated else []
        page = every[start:] if limit is None else every[start:start + limit]
        rules = tuple(_rule_text(rule, subject, parsed.namespace) for rule in page)
        texts.append(DirectionText(direction, isolated, rules,
                                   _summary(direction, isolated, every, subject), len(every)))
    return PolicyText(subject, texts[0], texts[1])


def subject_text(selector: Selector, namespace: str) -> str:
    """"All pods in shop" or "Pods labelled app=web in shop"."""
    if selector.is_empty:
        return f"All pods in {namespace}"
    return f"Pods {_labelled(selector)} in {namespace}"


def _summary(direction: str, isolated: bool, rules: Sequence[object], subject: str) -> str:
    if not isolated:
        word = "Ingress" if direction == INGRESS else "Egress"
        return (f"{word} is not restricted by this policy: its policyTypes do not list {word}.")
    if not rules:
        if direction == INGRESS:
            return (f"{subject} accept no incoming connection, unless another policy that "
                    "selects them allows it.")
        return (f"{subject} may open no outgoing connection, unless another policy that "
                "selects them allows it.")
    if direction == INGRESS:
        return (f"{subject} accept only the connections these rules allow, plus those other "
                "policies selecting them allow.")
    return (f"{subject} may open only the connections these rules allow, plus those other "
            "policies selecting them allow.")


def _rule_text(rule: Rule, subject: str, namespace: str) -> RuleText:
    peers = tuple(peer_text(peer, namespace) for peer in rule.peers)
    ports = tuple(port_text(port) for port in rule.ports)
    ports_phrase = _join(list(ports), "and") if ports else "traffic on every port"
    if peers:
        peers_phrase = _join([p.text for p in peers], "or")
    else:
        peers_phrase = "anywhere (every pod and every address)"
    if rule.direction == INGRESS:
        sentence = f"{subject} accept {ports_phrase} from {peers_phrase}."
    else:
        on = f" on {_join(list(ports), 'and')}" if ports else " on every port"
        target = f"to {peers_phrase}" if peers else "anywhere (every pod and every address)"
        sentence = f"{subject} may connect {target}{on}."
    return RuleText(rule.direction, rule.index, peers, ports, sentence)


def peer_text(peer: Peer, namespace: str) -> PeerText:
    """A `from`/`to` entry in words; `namespace` is the policy's own project."""
    if peer.ip_block is not None:
        text = ip_block_text(peer.ip_block)
        return PeerText(PEER_ADDRESSES, text, where=text)
    where = projects_text(peer.namespace_selector, namespace)
    if peer.pod_selector is None or peer.pod_selector.is_empty:
        pods = "all pods"
        kind = PEER_PROJECTS
    else:
        pods = _pods_text(peer.pod_selector)
        kind = PEER_PODS
    return PeerText(kind, f"{pods} in {where}", pods=pods, where=where)


def projects_text(selector: Selector | None, namespace: str) -> str:
    """Which projects a namespaceSelector names; None means the policy's own project."""
    if selector is None:
        return namespace
    if selector.is_empty:
        return "any project"
    if len(selector.requirements) == 1:
        requirement = selector.requirements[0]
        values = sorted(requirement.values)
        if requirement.key == WORKSPACE_LABEL and requirement.operator == "In":
            noun = "workspace" if len(values) == 1 else "workspaces"
            return f"any project of {noun} {_join(values, 'or')}"
        if requirement.key == NAME_LABEL and requirement.operator == "In":
            noun = "project" if len(values) == 1 else "projects"
            return f"{noun} {_join(values, 'or')}"
        if requirement.key == NAME_LABEL and requirement.operator == "NotIn":
            return f"any project except {_join(values, 'and')}"
        if requirement.key == WORKSPACE_LABEL and requirement.operator == "NotIn":
            return f"any project outside workspace {_join(values, 'and')}"
        if requirement.key == WORKSPACE_LABEL and requirement.operator == "Exists":
            return "any project of any workspace"
    return f"projects {_labelled(selector)}"


def _pods_text(selector: Selector) -> str:
    return f"pods {_labelled(selector)}"


def _labelled(selector: Selector) -> str:
    if all(r.operator == "In" and len(r.values) == 1 for r in selector.requirements):
        return "labelled " + ", ".join(_requirement_text(r) for r in selector.requirements)
    return "matching " + ", ".join(_requirement_text(r) for r in selector.requirements)


def _requirement_text(requirement: Requirement) -> str:
    values = ", ".join(sorted(requirement.values))
    if requirement.operator == "In":
        if len(requirement.values) == 1:
            return f"{requirement.key}={values}"
        return f"{requirement.key} in ({values})"
    if requirement.operator == "NotIn":
        return f"{requirement.key} not in ({values})"
    if requirement.operator == "Exists":
        return f"any {requirement.key} label"
    return f"no {requirement.key} label"


def ip_block_text(block: IPBlock) -> str:
    """"addresses in 10.0.0.0/8 except 10.1.0.0/16"; /0 blocks read as any address."""
    if block.cidr.prefixlen == 0:
        text = f"any IPv{block.cidr.version} address"
    else:
        text = f"addresses in {block.cidr}"
    if block.excepts:
        text += " except " + _join([str(e) for e in block.excepts], "and")
    return text


def port_text(port: PortSpec) -> str:
    """"TCP 8080", "TCP 8000-8080", "TCP port named http" or "any UDP port"."""
    if port.port is None:
        return f"any {port.protocol} port"
    if isinstance(port.port, str):
        return f"{port.protocol} port named {port.port}"
    if port.end_port is not None:
        return f"{port.protocol} {port.port}-{port.end_port}"
    return f"{port.protocol} {port.port}"


def _join(items: list[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"
