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
from isolation.netpol.selectors import Selector, comma_list, requirement_words
from isolation.netpol.validation import default_network_policy
from isolation.snapshot import NAME_LABEL
from isolation.text import gettext as _
from isolation.text import ngettext

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
        return _("Ingress") if self.direction == INGRESS else _("Egress")


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
        return _("All pods in {namespace}", namespace=namespace)
    return _("Pods {labelled} in {namespace}", labelled=_labelled(selector), namespace=namespace)


def _summary(direction: str, isolated: bool, rules: Sequence[object], subject: str) -> str:
    if not isolated:
        if direction == INGRESS:
            return _("Ingress is not restricted by this policy: its policyTypes do not list "
                     "Ingress.")
        return _("Egress is not restricted by this policy: its policyTypes do not list Egress.")
    if not rules:
        if direction == INGRESS:
            return _("{subject} accept no incoming connection, unless another policy that "
                     "selects them allows it.", subject=subject)
        return _("{subject} may open no outgoing connection, unless another policy that "
                 "selects them allows it.", subject=subject)
    if direction == INGRESS:
        return _("{subject} accept only the connections these rules allow, plus those other "
                 "policies selecting them allow.", subject=subject)
    return _("{subject} may open only the connections these rules allow, plus those other "
             "policies selecting them allow.", subject=subject)


def _rule_text(rule: Rule, subject: str, namespace: str) -> RuleText:
    peers = tuple(peer_text(peer, namespace) for peer in rule.peers)
    ports = tuple(port_text(port) for port in rule.ports)
    return RuleText(rule.direction, rule.index, peers, ports,
                    _rule_sentence(rule.direction, subject, [p.text for p in peers], list(ports)))


def _rule_sentence(direction: str, subject: str, peers: list[str], ports: list[str]) -> str:
    fields = {"subject": subject, "peers": or_list(peers), "ports": and_list(ports)}
    if direction == INGRESS:
        if peers and ports:
            return _("{subject} accept {ports} from {peers}.", **fields)
        if peers:
            return _("{subject} accept traffic on every port from {peers}.", **fields)
        if ports:
            return _("{subject} accept {ports} from anywhere (every pod and every address).",
                     **fields)
        return _("{subject} accept traffic on every port from anywhere (every pod and every "
                 "address).", **fields)
    if peers and ports:
        return _("{subject} may connect to {peers} on {ports}.", **fields)
    if peers:
        return _("{subject} may connect to {peers} on every port.", **fields)
    if ports:
        return _("{subject} may connect anywhere (every pod and every address) on {ports}.",
                 **fields)
    return _("{subject} may connect anywhere (every pod and every address) on every port.",
             **fields)


def peer_text(peer: Peer, namespace: str) -> PeerText:
    """A `from`/`to` entry in words; `namespace` is the policy's own project."""
    if peer.ip_block is not None:
        text = ip_block_text(peer.ip_block)
        return PeerText(PEER_ADDRESSES, text, where=text)
    where = projects_text(peer.namespace_selector, namespace)
    if peer.pod_selector is None or peer.pod_selector.is_empty:
        pods = _("all pods")
        kind = PEER_PROJECTS
    else:
        pods = _pods_text(peer.pod_selector)
        kind = PEER_PODS
    return PeerText(kind, _("{pods} in {where}", pods=pods, where=where), pods=pods, where=where)


def projects_text(selector: Selector | None, namespace: str) -> str:
    """Which projects a namespaceSelector names; None means the policy's own project."""
    if selector is None:
        return namespace
    if selector.is_empty:
        return _("any project")
    if len(selector.requirements) == 1:
        requirement = selector.requirements[0]
        values = sorted(requirement.values)
        if requirement.key == WORKSPACE_LABEL and requirement.operator == "In":
            return ngettext("any project of workspace {names}", "any project of workspaces {names}",
                            len(values), names=or_list(values))
        if requirement.key == NAME_LABEL and requirement.operator == "In":
            return ngettext("project {names}", "projects {names}", len(values),
                            names=or_list(values))
        if requirement.key == NAME_LABEL and requirement.operator == "NotIn":
            return _("any project except {names}", names=and_list(values))
        if requirement.key == WORKSPACE_LABEL and requirement.operator == "NotIn":
            return _("any project outside workspace {names}", names=and_list(values))
        if requirement.key == WORKSPACE_LABEL and requirement.operator == "Exists":
            return _("any project of any workspace")
    return _("projects {labelled}", labelled=_labelled(selector))


def _pods_text(selector: Selector) -> str:
    return _("pods {labelled}", labelled=_labelled(selector))


def _labelled(selector: Selector) -> str:
    requirements = comma_list([requirement_words(r, as_labels=True) for r in selector.requirements])
    if all(r.operator == "In" and len(r.values) == 1 for r in selector.requirements):
        return _("labelled {labels}", labels=requirements)
    return _("matching {requirements}", requirements=requirements)


def ip_block_text(block: IPBlock) -> str:
    """"addresses in 10.0.0.0/8 except 10.1.0.0/16"; /0 blocks read as any address."""
    excepts = and_list([str(e) for e in block.excepts])
    if block.cidr.prefixlen == 0:
        if block.excepts:
            return _("any IPv{version} address except {excepts}", version=block.cidr.version,
                     excepts=excepts)
        return _("any IPv{version} address", version=block.cidr.version)
    if block.excepts:
        return _("addresses in {cidr} except {excepts}", cidr=str(block.cidr), excepts=excepts)
    return _("addresses in {cidr}", cidr=str(block.cidr))


def port_text(port: PortSpec) -> str:
    """"TCP 8080", "TCP 8000-8080", "TCP port named http" or "any UDP port"."""
    if port.port is None:
        return _("any {protocol} port", protocol=port.protocol)
    if isinstance(port.port, str):
        return _("{protocol} port named {name}", protocol=port.protocol, name=port.port)
    if port.end_port is not None:
        return f"{port.protocol} {port.port}-{port.end_port}"
    return f"{port.protocol} {port.port}"


def or_list(items: Sequence[str]) -> str:
    """"a, b or c" in the reader's language ("" for none)."""
    if len(items) <= 1:
        return comma_list(items)
    return _("{items} or {last}", items=comma_list(items[:-1]), last=items[-1])


def and_list(items: Sequence[str]) -> str:
    """"a, b and c" in the reader's language ("" for none)."""
    if len(items) <= 1:
        return comma_list(items)
    return _("{items} and {last}", items=comma_list(items[:-1]), last=items[-1])


def both(first: str, second: str) -> str:
    """"a and b": two phrases that hold together."""
    return _("{first} and {second}", first=first, second=second)
