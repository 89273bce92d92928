"""External sources of the reachability matrix: IP addresses and CIDRs outside the pod network.

A CIDR stands for every address in it, but NetworkPolicies can only tell addresses apart by
the ipBlocks they name (and a node's own addresses, whose traffic is always admitted to that
node's pods). So a CIDR is cut at every ipBlock and node-address boundary inside it and each
piece is evaluated once, through one address of it that is not a pod's: the verdicts of that
address are exactly the verdicts of the whole piece.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from isolation.reachability.engine import Cluster
from isolation.text import gettext as _

MAX_ENTRIES = 10
MAX_PIECES = 256          # distinct pieces of one CIDR evaluated
PROBES_PER_PIECE = 64     # addresses tried in a piece before giving up on finding a non-pod one

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SourceInputError(ValueError):
    """An external source the matrix cannot use; the message (a sentence, `isolation.text`)
    says why."""


@dataclass(frozen=True)
class Piece:
    """Addresses first..last of an entry that every policy treats alike, probed through `probe`."""

    first: str
    last: str
    probe: str

    @property
    def label(self) -> str:
        return self.first if self.first == self.last else f"{self.first} – {self.last}"


def parse_entries(text: str) -> list[str]:
    """Entries (IP addresses or CIDRs, canonical) from comma/space/newline separated text."""
    entries: list[str] = []
    for raw in text.replace(",", " ").split():
        try:
            if "/" in raw:
                entry = str(ipaddress.ip_network(raw, strict=False))
            else:
                entry = str(ipaddress.ip_address(raw))
        except ValueError:
            raise SourceInputError(_("{entry} is neither an IP address nor a CIDR.",
                                     entry=repr(raw))) from None
        if entry not in entries:
            entries.append(entry)
    if len(entries) > MAX_ENTRIES:
        raise SourceInputError(_("Give at most {count} external sources.", count=MAX_ENTRIES))
    return entries


def pieces(engine: Cluster, entry: str, used: set[str] = frozenset()) -> list[Piece]:
    """The pieces of `entry` that policies of `engine` can tell apart, each probed through an
    address that is neither a pod's nor in `used` (a piece with no such address is left out).

    Raises SourceInputError when `entry` is a pod's address or holds too many pieces.
    """
    pod_ips = {ip for pod in engine.pods for ip in pod.ips}
    if "/" not in entry:
        if entry in pod_ips:
            raise SourceInputError(_("{entry} is the address of a pod; external sources are "
                                     "addresses outside the pod network.", entry=entry))
        return [Piece(entry, entry, entry)]
    network = ipaddress.ip_network(entry)
    start, end = int(network.network_address), int(network.broadcast_address)
    cuts = {start}
    for block in _blocks(engine):
        if block.version != network.version:
            continue
        low, high = int(block.network_address), int(block.broadcast_address)
        cuts.update(v for v in (low, high + 1) if start <= v <= end)
    for address in engine.node_of_address:
        value = ipaddress.ip_address(address)
        if value.version == network.version and start <= int(value) <= end:
            cuts.update(v for v in (int(value), int(value) + 1) if v <= end)
    bounds = sorted(cuts)
    if len(bounds) > MAX_PIECES:
        raise SourceInputError(_("{entry} is cut into more than {count} pieces by the "
                                 "cluster's ipBlocks; give a narrower CIDR.", entry=entry,
                                 count=MAX_PIECES))
    result = []
    make = ipaddress.ip_address
    for index, low in enumerate(bounds):
        high = bounds[index + 1] - 1 if index + 1 < len(bounds) else end
        probe = next((make(v) for v in range(low, min(high, low + PROBES_PER_PIECE - 1) + 1)
                      if str(make(v)) not in pod_ips and str(make(v)) not in used), None)
        if probe is not None:
            result.append(Piece(str(make(low)), str(make(high)), str(probe)))
    return result


def _blocks(engine: Cluster) -> set[Network]:
    found: set[Network] = set()
    for policy in engine.policies:
        for rule in policy.ingress + policy.egress:
            for peer in rule.peers:
                if peer.ip_block is not None:
                    found.add(peer.ip_block.cidr)
                    found.update(peer.ip_block.excepts)
    return found
