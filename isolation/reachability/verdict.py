"""The answer to "can A reach B on port P", with the reasons a user can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from isolation.reachability.inventory import Endpoint
from isolation.text import gettext as _


@dataclass(frozen=True)
class RuleRef:
    """A rule of a policy that matched; peer/port indexes are None when the rule lists none."""

    policy: str
    direction: str
    rule_index: int
    peer_index: int | None
    port_index: int | None

    def describe(self) -> str:
        fields = {"policy": self.policy, "direction": self.direction, "index": self.rule_index,
                  "peer": self.peer_index, "port": self.port_index}
        if self.peer_index is not None and self.port_index is not None:
            return _("{policy} {direction} rule {index} (peer {peer}, port {port})", **fields)
        if self.peer_index is not None:
            return _("{policy} {direction} rule {index} (peer {peer})", **fields)
        if self.port_index is not None:
            return _("{policy} {direction} rule {index} (port {port})", **fields)
        return _("{policy} {direction} rule {index}", **fields)

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "direction": self.direction, "rule": self.rule_index,
                "peer": self.peer_index, "port": self.port_index}


@dataclass(frozen=True)
class PolicyRef:
    """The policy rule that decided (or passed on) one direction of a connection."""

    kind: str                      # "AdminNetworkPolicy", "NetworkPolicy", ...
    policy: str                    # name, or namespace/name for namespaced kinds
    action: str                    # ALLOW | DENY | PASS
    direction: str
    rule_index: int | None = None  # None: no rule matched (a NetworkPolicy's implicit deny)
    rule_name: str = ""
    priority: int | float | None = None  # an AdminNetworkPolicy's priority; a Calico order
    tier: str | None = None        # a Calico tier

    def describe(self) -> str:
        """`AdminNetworkPolicy deny-metadata (priority 10) egress rule 0 "block" (Deny)`."""
        text: str = f"{self.kind} {self.policy}"
        if self.tier:
            text = _("{policy} in tier {tier}", policy=text, tier=self.tier)
        if self.priority is not None and self.tier:
            text = _("{policy} (order {order})", policy=text, order=self.priority)
        elif self.priority is not None:
            text = _("{policy} (priority {priority})", policy=text, priority=self.priority)
        if self.rule_index is not None and self.rule_name:
            text = _('{policy} {direction} rule {index} "{name}"', policy=text,
                     direction=self.direction, index=self.rule_index, name=self.rule_name)
        elif self.rule_index is not None:
            text = _("{policy} {direction} rule {index}", policy=text, direction=self.direction,
                     index=self.rule_index)
        action = {"Allow": _("Allow"), "Deny": _("Deny"), "Pass": _("Pass")}.get(self.action,
                                                                             self.action)
        return _("{policy} ({action})", policy=text, action=action)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "policy": self.policy, "action": self.action,
                "direction": self.direction, "rule": self.rule_index,
                "rule_name": self.rule_name or None, "priority": self.priority,
                "tier": self.tier}


@dataclass(frozen=True)
class DirectionVerdict:
    """One side of a connection: egress at the source or ingress at the destination.

    `applies` is False when that end is not a pod (it has no policies of its own). `selecting`
    lists the NetworkPolicies that isolate the pod for this direction; `matched` the
    NetworkPolicy rules that allow the traffic; `nearest_miss` says, for a NetworkPolicy deny,
    which rule came closest and why it failed. `decided_by` is the policy rule that decided
    (of any kind: an AdminNetworkPolicy rule, a NetworkPolicy, the baseline), None when no
    policy did (traffic allowed by default); `passed_by` the Pass rules it went through.
    """

    direction: str
    applies: bool
    isolated: bool
    allowed: bool
    reason: str
    selecting: list[str] = field(default_factory=list)
    matched: list[RuleRef] = field(default_factory=list)
    nearest_miss: str | None = None
    decided_by: PolicyRef | None = None
    passed_by: list[PolicyRef] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        """The kind of the deciding policy, None when no policy decided."""
        return self.decided_by.kind if self.decided_by else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "applies": self.applies,
            "isolated": self.isolated,
            "allowed": self.allowed,
            "selecting": list(self.selecting),
            "matched": [ref.to_dict() for ref in self.matched],
            "nearest_miss": self.nearest_miss,
            "reason": self.reason,
            "kind": self.kind,
            "decided_by": self.decided_by.to_dict() if self.decided_by else None,
            "passed_by": [ref.to_dict() for ref in self.passed_by],
        }


@dataclass(frozen=True)
class Verdict:
    """Whether `src` reaches `dst` on `port`/`protocol`: egress AND ingress must allow it."""

    allowed: bool
    src: Endpoint
    dst: Endpoint
    port: int
    protocol: str
    egress: DirectionVerdict
    ingress: DirectionVerdict

    def explain(self) -> str:
        """Plain language: the outcome, then one or two sentences per direction."""
        fields = {"source": self.src.name, "destination": self.dst.name,
                  "traffic": f"{self.port}/{self.protocol}"}
        if self.allowed:
            head = _("{source} → {destination} on {traffic} is allowed.", **fields)
        else:
            head = _("{source} → {destination} on {traffic} is denied.", **fields)
        return _("{outcome} {egress} {ingress}", outcome=head, egress=self.egress.reason,
                 ingress=self.ingress.reason)

    @property
    def deciding(self) -> DirectionVerdict | None:
        """The side that decided the outcome: the denying side (egress first) of a denied
        connection; of an allowed one, the side a policy allowed (ingress first), if any."""
        if not self.allowed:
            return self.egress if not self.egress.allowed else self.ingress
        return next((side for side in (self.ingress, self.egress) if side.decided_by), None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of one result of the `reachability` command."""
        deciding = self.deciding
        return {
            "from": self.src.name,
            "to": self.dst.name,
            "port": self.port,
            "protocol": self.protocol,
            "allowed": self.allowed,
            "egress": self.egress.to_dict(),
            "ingress": self.ingress.to_dict(),
            "kind": deciding.kind if deciding else None,
        }


@dataclass(frozen=True)
class Connection:
    """One (source, destination, port, protocol) verdict without its explanation."""

    src: str
    dst: str
    port: int
    protocol: str
    allowed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.src, "to": self.dst, "port": self.port,
                "protocol": self.protocol, "allowed": self.allowed}


@dataclass(frozen=True)
class Counts:
    allowed: int = 0
    denied: int = 0

    @property
    def total(self) -> int:
        return self.allowed + self.denied

    def to_dict(self) -> dict[str, int]:
        return {"allowed": self.allowed, "denied": self.denied}
