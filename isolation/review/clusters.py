"""The cluster before and after a change, read once for everything a review evaluates.

Impact and lint both question the same two clusters. Reading them is the costly part of a
review on a large policy (every policy validated and parsed, every ipBlock placed), so a review
reads them once here, into a `ChangeClusters`, and passes that down.

The connections a review compares are over each destination pod's declared container ports.
A rule whose every port entry admits none of the ports any pod declares can change no such
verdict, so the matrices are built without those rules (`ChangeClusters.before_matrix`,
`after_matrix`), and outside addresses are sampled only from the ipBlocks of rules that admit
a declared port: a policy of 20,000 rules on ports no pod serves costs what its few live rules
cost. Policies stay whole where a single connection is explained (`before`, `after`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from isolation.netpol.model import Policy, Rule, cached_cidr, parse_policy
from isolation.netpol.validation import default_network_policy, defaulted_and_issues
from isolation.reachability.engine import Cluster, InvalidPolicyError
from isolation.reachability.inventory import PodInfo, namespace_labels, node_addresses, read_pods
from isolation.snapshot import Snapshot

UNNAMED_OUTSIDE_ADDRESS = "198.18.0.1"  # benchmarking range: never a real client
# Addresses tried inside one ipBlock for one outside its `except` ranges.
ADDRESSES_TRIED = 256


class DeclaredPorts:
    """The (port, protocol) pairs the pods of a cluster declare, to tell whether a port entry
    of a rule can admit any of them (as `PortSpec.matches` would on some pod)."""

    def __init__(self, pods: Iterable[PodInfo]) -> None:
        self.numbers: dict[str, set[int]] = {}
        self.names: set[tuple[str, str]] = set()
        for pod in pods:
            declared = set(pod.declared_ports())
            for number, protocol in declared:
                self.numbers.setdefault(protocol, set()).add(number)
            for name, values in pod.named_ports_key:
                if any(value in declared for value in values):
                    self.names.update((name, protocol) for _, protocol in values)
        self._sorted = {protocol: sorted(numbers) for protocol, numbers in self.numbers.items()}

    def admits(self, protocol: Any, port: Any, end_port: Any) -> bool:
        """Whether the port entry `protocol`/`port`/`end_port` admits a declared port; an
        entry of unexpected types is taken to admit one (it is kept, never dropped)."""
        if not isinstance(protocol, str):
            return True
        numbers = self.numbers.get(protocol)
        if not numbers:
            return False
        if port is None:
            return True
        if isinstance(port, bool) or not isinstance(port, int | str):
            return True
        if isinstance(port, str):
            return (port, protocol) in self.names
        if end_port is None:
            return port in numbers
        if isinstance(end_port, bool) or not isinstance(end_port, int):
            return True
        return any(port <= number <= end_port for number in self._sorted[protocol])

    def admits_rule(self, rule: Rule) -> bool:
        return not rule.ports or any(self.admits(p.protocol, p.port, p.end_port)
                                     for p in rule.ports)

    def admits_raw_rule(self, rule: Mapping[str, Any]) -> bool:
        """`admits_rule` for a rule as written (not yet defaulted or validated)."""
        ports = rule.get("ports")
        if not ports:
            return True
        if not isinstance(ports, list):
            return True
        return any(not isinstance(p, Mapping) or self.admits(
            p.get("protocol") or "TCP", p.get("port"), p.get("endPort")) for p in ports)


def effective(policy: Policy, ports: DeclaredPorts) -> Policy:
    """`policy` without the rules that admit no declared port (it still isolates the same
    pods: isolation follows policyTypes, not rules)."""
    ingress = tuple(r for r in policy.ingress if ports.admits_rule(r))
    egress = tuple(r for r in policy.egress if ports.admits_rule(r))
    if len(ingress) == len(policy.ingress) and len(egress) == len(policy.egress):
        return policy
    return dataclasses.replace(policy, ingress=ingress, egress=egress)


def sample_outside_addresses(*snapshots: Snapshot) -> list[str]:
    """Addresses outside the cluster that stand for every client a policy can tell apart.

    One address inside each ipBlock of every policy rule that admits a port some pod declares
    (avoiding the block's `except` ranges), plus one address that no policy names, so a change
    that cuts or opens access from outside shows up. Pod and node addresses are left out: they
    are inside the cluster. Raises ValueError (InventoryError) for a pod the engine cannot read.
    """
    ports = DeclaredPorts(pod for snapshot in snapshots for pod in read_pods(snapshot))
    blocks: list[Mapping[str, Any]] = []
    for snapshot in snapshots:
        for policy in snapshot.network_policies:
            spec = policy.get("spec") or {}
            for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
                if not isinstance(rule, Mapping) or not ports.admits_raw_rule(rule):
                    continue
                for peer in (rule.get("from") or rule.get("to") or []):
                    block = (peer or {}).get("ipBlock") if isinstance(peer, dict) else None
                    if isinstance(block, dict):
                        blocks.append(block)
    return _samples(blocks, _inside(snapshots))


def _samples(blocks: Iterable[Mapping[str, Any]], inside: set[str]) -> list[str]:
    samples: dict[str, None] = {}
    seen: set[tuple[Any, ...]] = set()
    for block in blocks:
        key = _block_key(block)
        if key is None or key in seen:
            continue
        seen.add(key)
        address = _address_in(block)
        if address and address not in inside:
            samples.setdefault(address)
    samples.setdefault(UNNAMED_OUTSIDE_ADDRESS)
    return list(samples)


def _block_key(block: Mapping[str, Any]) -> tuple[Any, ...] | None:
    excepts = block.get("except") or []
    if not isinstance(excepts, list):
        return None
    return (str(block.get("cidr")), *map(str, excepts))


def _address_in(block: Mapping[str, Any]) -> str | None:
    network = cached_cidr(str(block.get("cidr")))
    excluded = [cached_cidr(str(e)) for e in block.get("except") or []]
    if network is None or any(e is None for e in excluded):
        return None
    for index, address in enumerate(network.hosts() if network.num_addresses > 2 else network):
        if index >= ADDRESSES_TRIED:
            return None
        if not any(address in e for e in excluded):
            return str(address)
    return None


def _inside(snapshots: Iterable[Snapshot]) -> set[str]:
    ips: set[str | None] = set()
    for snapshot in snapshots:
        ips |= {(p.get("status") or {}).get("podIP") for p in snapshot.pods}
        for node in snapshot.nodes:
            ips |= {a.get("address") for a in (node.get("status") or {}).get("addresses") or []
                    if isinstance(a, dict)}
    return {ip for ip in ips if ip}


class _Versions:
    """Policies read from the API server, by namespace, name, uid and resourceVersion: the
    server gives every change a new resourceVersion, so one version is one content. A review
    of a cluster holding large policies then reads each of them once per process, not once
    per review. Bounded by the rules held; thread-safe."""

    def __init__(self, rules: int) -> None:
        self.rules = rules
        self._held = 0
        self._policies: OrderedDict[tuple[str, ...], Policy] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(obj: Mapping[str, Any]) -> tuple[str, ...] | None:
        metadata = obj.get("metadata") or {}
        key = tuple(metadata.get(k) for k in ("namespace", "name", "uid", "resourceVersion"))
        return key if all(isinstance(v, str) and v for v in key) else None

    def get(self, key: tuple[str, ...]) -> Policy | None:
        with self._lock:
            policy = self._policies.get(key)
            if policy is not None:
                self._policies.move_to_end(key)
            return policy

    def put(self, key: tuple[str, ...], policy: Policy) -> None:
        size = _size(policy)
        if size > self.rules:
            return
        with self._lock:
            if key in self._policies:
                return
            self._policies[key] = policy
            self._held += size
            while self._held > self.rules:
                _, dropped = self._policies.popitem(last=False)
                self._held -= _size(dropped)


def _size(policy: Policy) -> int:
    return 1 + len(policy.ingress) + len(policy.egress)


# About 2 KB a rule once parsed: at most some 80 MB per process.
LIVE_POLICIES = _Versions(rules=40_000)


def parsed_policies(snapshot: Snapshot, known: dict[int, tuple[Any, Policy]] | None = None,
                    checked: Iterable[Mapping[str, Any]] = (), *,
                    live: bool = False) -> list[Policy]:
    """Every NetworkPolicy of `snapshot`, validated, defaulted and parsed (as
    `Cluster.from_snapshot` reads them); an object already in `known` (by identity) is not
    read again, one in `checked` (by identity: validated by the caller) is only defaulted.
    With `live`, `snapshot` is as the API server sent it, so its policies are remembered by
    version (`LIVE_POLICIES`) for the next review. Raises InvalidPolicyError for a policy the
    API server would reject."""
    known = {} if known is None else known
    valid = {id(obj) for obj in checked}
    policies = []
    for obj in snapshot.network_policies:
        entry = known.get(id(obj))
        if entry is None or entry[0] is not obj:
            version = _Versions.key(obj) if live and id(obj) not in valid else None
            parsed = LIVE_POLICIES.get(version) if version else None
            if parsed is None:
                parsed = _parse_one(obj, validated=id(obj) in valid)
                if version:
                    LIVE_POLICIES.put(version, parsed)
            entry = known[id(obj)] = (obj, parsed)
        policies.append(entry[1])
    return policies


def _parse_one(obj: dict[str, Any], *, validated: bool) -> Policy:
    if validated:
        return parse_policy(default_network_policy(obj))
    defaulted, issues = defaulted_and_issues(obj)
    if issues:
        metadata = obj.get("metadata") or {}
        raise InvalidPolicyError(
            f"{metadata.get('namespace') or 'default'}/{metadata.get('name')}", issues)
    return parse_policy(defaulted)


def declared_ports_cluster(snapshot: Snapshot, *, live: bool = False) -> Cluster:
    """The engine over `snapshot` as each pod's declared ports see it (rules that admit none
    of them left out): the same `matrix` verdicts over declared ports as
    `Cluster.from_snapshot`, its policies read once per version when `live` (see
    `parsed_policies`). Raises ValueError as `Cluster.from_snapshot` does."""
    pods = read_pods(snapshot)
    ports = DeclaredPorts(pods)
    policies = [effective(p, ports) for p in parsed_policies(snapshot, live=live)]
    return Cluster(namespace_labels(snapshot), pods, policies, node_addresses(snapshot))


@dataclass(frozen=True)
class Side:
    """One snapshot read for the engine: its pods, namespaces, nodes and parsed policies."""

    snapshot: Snapshot
    pods: list[PodInfo]
    namespaces: dict[str, dict[str, str]]
    nodes: dict[str, str]
    policies: list[Policy]
    effective: list[Policy] = field(default_factory=list)

    def cluster(self, policies: list[Policy] | None = None,
                extra_ips: Iterable[str] = ()) -> Cluster:
        """The engine over this side (with `policies` instead of its own when given)."""
        return Cluster(self.namespaces, self.pods, self.policies if policies is None
                       else policies, self.nodes, list(extra_ips))

    def effective_cluster(self, without: tuple[str, str] | None = None,
                          extra_ips: Iterable[str] = ()) -> Cluster:
        """The engine over the declared ports' rules, without policy `without` if given."""
        policies = [p for p in self.effective if (p.namespace, p.name) != without]
        return self.cluster(policies, extra_ips)


@dataclass(frozen=True)
class ChangeClusters:
    """The cluster before and after a change, each policy read once for the whole review."""

    before_side: Side
    after_side: Side
    outside: list[str]

    @classmethod
    def of(cls, before: Snapshot, after: Snapshot, checked: Iterable[Mapping[str, Any]] = (),
           *, live: bool = False) -> ChangeClusters:
        """Read both snapshots (a policy object in both is read once; one in `checked`, the
        very objects the caller validated already, is not validated again). `live` says that
        `before` is the cluster as its API server sent it (see `parsed_policies`).

        Raises InvalidPolicyError for a policy the API server would reject and InventoryError
        (a ValueError) for a pod or namespace the engine cannot read.
        """
        known: dict[int, tuple[Any, Policy]] = {}
        sides = []
        checked = list(checked)
        for snapshot in (before, after):
            same = sides and sides[0].snapshot.pods is snapshot.pods \
                and sides[0].snapshot.namespaces is snapshot.namespaces \
                and sides[0].snapshot.nodes is snapshot.nodes
            if same:
                pods, namespaces, nodes = sides[0].pods, sides[0].namespaces, sides[0].nodes
            else:
                pods, namespaces = read_pods(snapshot), namespace_labels(snapshot)
                nodes = node_addresses(snapshot)
            sides.append(Side(snapshot, pods, namespaces, nodes,
                              parsed_policies(snapshot, known, checked,
                                              live=live and snapshot is before)))
        ports = DeclaredPorts([*sides[0].pods, *sides[1].pods])
        memo: dict[int, Policy] = {}
        for side in sides:
            for policy in side.policies:
                if id(policy) not in memo:
                    memo[id(policy)] = effective(policy, ports)
                side.effective.append(memo[id(policy)])
        return cls(sides[0], sides[1], sample_outside_addresses(before, after))

    @cached_property
    def before(self) -> Cluster:
        """The cluster before, every rule kept (for explaining single connections)."""
        return self.before_side.cluster()

    @cached_property
    def after(self) -> Cluster:
        """The cluster after, every rule kept (for explaining single connections)."""
        return self.after_side.cluster()

    @cached_property
    def after_declared(self) -> Cluster:
        """The cluster after as the declared ports see it: the same verdicts as `after` for
        a connection to a port its destination pod declares."""
        return self.after_side.effective_cluster()

    @cached_property
    def before_matrix(self) -> Cluster:
        """The cluster before as the declared ports see it, with the outside samples."""
        return self.before_side.effective_cluster(extra_ips=self.outside)

    @cached_property
    def after_matrix(self) -> Cluster:
        """The cluster after as the declared ports see it, with the outside samples."""
        return self.after_side.effective_cluster(extra_ips=self.outside)

    def after_policy(self, namespace: str, name: str) -> Policy | None:
        """The parsed policy `namespace/name` of the cluster after, whole."""
        return next((p for p in self.after_side.policies
                     if (p.namespace, p.name) == (namespace, name)), None)

