"""The answer to "can A reach B on port P", with the reasons a user can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from isolation.reachability.inventory import Endpoint


@dataclass(frozen=True)
class RuleRef:
    """A rule of a policy that matched; peer/port indexes are None when the rule lists none."""

    policy: str
    direction: str
    rule_index: int
    peer_index: int | None
    port_index: int | None

    def describe(self) -> str:
        text = f"{self.policy} {self.direction} rule {self.rule_index}"
        details = []
        if self.peer_index is not None:
            details.append(f"peer {self.peer_index}")
        if self.port_index is not None:
            details.append(f"port {self.port_index}")
        return text + (f" ({', '.join(details)})" if details else "")

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "direction": self.direction, "rule": self.rule_index,
                "peer": self.peer_index, "port": self.port_index}


@dataclass(frozen=True)
class DirectionVerdict:
    """One side of a connection: egress at the source or ingress at the destination.

    `applies` is False when that end is not a pod (it has no policies of its own). `selecting`
    lists the policies that isolate the pod for this direction; `matched` the rules that allow
    the traffic; `nearest_miss` says, for a deny, which rule came closest and why it failed.
    """

    direction: str
    applies: bool
    isolated: bool
    allowed: bool
    reason: str
    selecting: list[str] = field(default_factory=list)
    matched: list[RuleRef] = field(default_factory=list)
    nearest_miss: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "applies": self.applies,
            "isolated": self.isolated,
            "allowed": self.allowed,
            "selecting": list(self.selecting),
            "matched": [ref.to_dict() for ref in self.matched],
            "nearest_miss": self.nearest_miss,
            "reason": self.reason,
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
        outcome = "allowed" if self.allowed else "denied"
        head = (f"{self.src.name} → {self.dst.name} on {self.port}/{self.protocol} is "
                f"{outcome}.")
        return " ".join([head, self.egress.reason, self.ingress.reason])

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of one result of the `reachability` command."""
        return {
            "from": self.src.name,
            "to": self.dst.name,
            "port": self.port,
            "protocol": self.protocol,
            "allowed": self.allowed,
            "egress": self.egress.to_dict(),
            "ingress": self.ingress.to_dict(),
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
