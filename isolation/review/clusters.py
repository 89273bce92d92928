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

Both sides carry every layer `Cluster.from_snapshot` evaluates: the AdminNetworkPolicies and
the BaselineAdminNetworkPolicy, and with Calico objects present Calico's tiers (the Kubernetes
policies in its default tier) and host endpoints. Those objects are parsed once per side (once
for both when the change leaves them alone); only the default tier's Kubernetes policies are
put together again for each cluster asked for. `with_objects` applies a change to any of these
kinds, so a change to a platform policy is reviewed like a change to a NetworkPolicy.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from isolation.adminnetpol.model import AdminPolicy, parse_admin_policy
from isolation.adminnetpol.validation import defaulted_and_issues as admin_defaulted_and_issues
from isolation.calico.evaluate import CalicoPolicySet
from isolation.calico.kubernetes import from_kubernetes
from isolation.calico.model import CalicoPolicy
from isolation.netpol.model import Policy, Rule, cached_cidr
from isolation.netpol.validation import (
    default_network_policy,
    lacks_network_policy_defaults,
    validate_network_policy,
)
from isolation.reachability.engine import Cluster, InvalidPolicyError
from isolation.reachability.inventory import (
    PodInfo,
    namespace_labels,
    node_addresses,
    node_labels,
    read_pods,
)
from isolation.review.rules import parse_reusing_rules
from isolation.snapshot import API_VERSIONS, GROUP_KIND_FIELDS, KIND_FIELDS, Snapshot, api_group

UNNAMED_OUTSIDE_ADDRESS = "198.18.0.1"  # benchmarking range: never a real client
# Rules whose `admits_rule` answer one DeclaredPorts keeps (then it starts again).
KEPT_ADMITTED = 100_000
# The sets of further ports whose `DeclaredPorts.with_ports` one DeclaredPorts keeps.
KEPT_WIDER = 8
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
        self._admitted: dict[int, tuple[Rule, bool]] = {}
        self._wider: dict[frozenset[tuple[int, str]], DeclaredPorts] = {}

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
        if type(port) is int and end_port is None:   # the usual entry, decided at once
            return port in numbers
        if isinstance(port, bool) or not isinstance(port, int | str):
            return True
        if isinstance(port, str):
            return (port, protocol) in self.names
        if end_port is None:
            return port in numbers
        if isinstance(end_port, bool) or not isinstance(end_port, int):
            return True
        return any(port <= number <= end_port for number in self._sorted[protocol])

    def declares(self, port: int, protocol: str) -> bool:
        """Whether some pod declares the numbered `port` for `protocol`."""
        return port in self.numbers.get(protocol, ())

    def with_ports(self, extra: Iterable[tuple[int, str]]) -> DeclaredPorts:
        """These ports and the numbered (port, protocol) pairs `extra`, as if a pod declared
        them unnamed (the same object for the same `extra`, with what it keeps per rule)."""
        extra = frozenset(extra)
        wider = self._wider.get(extra)
        if wider is not None:
            return wider
        wider = DeclaredPorts(())
        wider.numbers = {protocol: set(numbers) for protocol, numbers in self.numbers.items()}
        for port, protocol in extra:
            wider.numbers.setdefault(protocol, set()).add(port)
        wider.names = self.names
        wider._sorted = {protocol: sorted(numbers) for protocol, numbers in wider.numbers.items()}
        if len(self._wider) >= KEPT_WIDER:
            self._wider.clear()
        self._wider[extra] = wider
        return wider

    def admits_rule(self, rule: Rule) -> bool:
        """Whether a port entry of `rule` (or its having none) admits a declared port; kept
        per rule object, as the rules a review reads again are the very same ones."""
        kept = self._admitted.get(id(rule))
        if kept is not None and kept[0] is rule:
            return kept[1]
        admits = not rule.ports or any(self.admits(p.protocol, p.port, p.end_port)
                                       for p in rule.ports)
        if len(self._admitted) >= KEPT_ADMITTED:
            self._admitted.clear()
        self._admitted[id(rule)] = (rule, admits)
        return admits

    def admits_raw_rule(self, rule: Mapping[str, Any]) -> bool:
        """`admits_rule` for a rule as written (not yet defaulted or validated)."""
        ports = rule.get("ports")
        if not ports:
            return True
        if not isinstance(ports, list):
            return True
        for p in ports:
            if (type(p) is not dict and not isinstance(p, Mapping)) or self.admits(
                    p.get("protocol") or "TCP", p.get("port"), p.get("endPort")):
                return True
        return False


def effective(policy: Policy, ports: DeclaredPorts) -> Policy:
    """`policy` without the rules that admit no declared port (it still isolates the same
    pods: isolation follows policyTypes, not rules)."""
    ingress = tuple(r for r in policy.ingress if ports.admits_rule(r))
    egress = tuple(r for r in policy.egress if ports.admits_rule(r))
    if len(ingress) == len(policy.ingress) and len(egress) == len(policy.egress):
        return policy
    return dataclasses.replace(policy, ingress=ingress, egress=egress)


def sample_outside_addresses(*snapshots: Snapshot, ports: DeclaredPorts | None = None,
                             kept: dict[int, tuple[Any, list[Mapping[str, Any]]]] | None = None
                             ) -> list[str]:
    """Addresses outside the cluster that stand for every client a policy can tell apart.

    One address inside each ipBlock of every policy rule that admits a port some pod declares
    (avoiding the block's `except` ranges), plus one address that no policy names, so a change
    that cuts or opens access from outside shows up. Pod and node addresses are left out: they
    are inside the cluster. `ports` are the snapshots' pods' declared ports when the caller
    has read them already; `kept` holds each policy's blocks for those `ports` by object
    identity, filled here (a review keeps them for the next change to the same cluster).
    Raises ValueError (InventoryError) for a pod the engine cannot read.
    """
    if ports is None:
        ports = DeclaredPorts(pod for snapshot in snapshots for pod in read_pods(snapshot))
    kept = {} if kept is None else kept
    blocks: list[Mapping[str, Any]] = []
    for snapshot in snapshots:
        for policy in snapshot.network_policies:
            entry = kept.get(id(policy))
            if entry is None or entry[0] is not policy:
                entry = kept[id(policy)] = (policy, _policy_blocks(policy, ports))
            blocks += entry[1]
        blocks += _calico_source_blocks(snapshot)
    return _samples(blocks, _inside(snapshots))


def _policy_blocks(policy: Mapping[str, Any], ports: DeclaredPorts) -> list[Mapping[str, Any]]:
    """The ipBlocks of the rules of `policy` (as written) that admit a declared port."""
    blocks: list[Mapping[str, Any]] = []
    spec = policy.get("spec") or {}
    for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
        if (type(rule) is not dict and not isinstance(rule, Mapping)) or \
                not ports.admits_raw_rule(rule):
            continue
        for peer in (rule.get("from") or rule.get("to") or []):
            block = (peer or {}).get("ipBlock") if isinstance(peer, dict) else None
            if isinstance(block, dict):
                blocks.append(block)
    return blocks


def _calico_source_blocks(snapshot: Snapshot) -> list[Mapping[str, Any]]:
    """The `source.nets` of the Calico policies' ingress rules, as ipBlocks: addresses outside
    the cluster these policies tell apart (a platform tier admitting or denying a range)."""
    blocks: list[Mapping[str, Any]] = []
    for policy in [*snapshot.calico_network_policies, *snapshot.calico_global_network_policies]:
        spec = policy.get("spec") if isinstance(policy, Mapping) else None
        rules = spec.get("ingress") if isinstance(spec, Mapping) else None
        for rule in rules if isinstance(rules, list) else []:
            source = rule.get("source") if isinstance(rule, Mapping) else None
            nets = source.get("nets") if isinstance(source, Mapping) else None
            blocks += [{"cidr": net} for net in nets if isinstance(net, str)] \
                if isinstance(nets, list) else []
    return blocks


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


    def clear(self) -> None:
        with self._lock:
            self._policies.clear()
            self._held = 0


def _size(policy: Policy) -> int:
    return 1 + len(policy.ingress) + len(policy.egress)


# About 2 KB a rule once parsed: at most some 80 MB per process.
LIVE_POLICIES = _Versions(rules=40_000)


def parsed_policies(snapshot: Snapshot, known: dict[int, tuple[Any, Policy]] | None = None,
                    checked: Iterable[Mapping[str, Any]] = (), *,
                    live: bool = False) -> list[Policy]:
    """Every NetworkPolicy of `snapshot`, validated (but see `live`), defaulted and parsed (as
    `Cluster.from_snapshot` reads them); an object already in `known` (by identity) is not
    read again, one in `checked` (by identity: validated by the caller) is only defaulted.
    With `live`, `snapshot` is as the API server sent it: its policies are the ones the server
    admitted, so they are not validated again, and they are remembered by version
    (`LIVE_POLICIES`) for the next review. Raises InvalidPolicyError for a policy the API
    server would reject (so never for one of a `live` snapshot)."""
    known = {} if known is None else known
    valid = {id(obj) for obj in checked}
    policies = []
    for obj in snapshot.network_policies:
        entry = known.get(id(obj))
        if entry is None or entry[0] is not obj:
            version = _Versions.key(obj) if live and id(obj) not in valid else None
            parsed = LIVE_POLICIES.get(version) if version else None
            if parsed is None:
                parsed = _parse_one(obj, validated=live or id(obj) in valid)
                if version:
                    LIVE_POLICIES.put(version, parsed)
            entry = known[id(obj)] = (obj, parsed)
        policies.append(entry[1])
    return policies


def _parse_one(obj: dict[str, Any], *, validated: bool) -> Policy:
    if not validated:
        issues = validate_network_policy(obj)
        if issues:
            metadata = obj.get("metadata") or {}
            raise InvalidPolicyError(
                f"{metadata.get('namespace') or 'default'}/{metadata.get('name')}", issues)
    # One the API server returned is defaulted already: read as it is (never changed here).
    return parse_reusing_rules(default_network_policy(obj)
                               if lacks_network_policy_defaults(obj) else obj)


def parsed_admin_policies(snapshot: Snapshot,
                          known: dict[int, tuple[Any, AdminPolicy]] | None = None
                          ) -> list[AdminPolicy]:
    """The AdminNetworkPolicies and the BaselineAdminNetworkPolicy of `snapshot`, validated,
    defaulted and parsed as `Cluster.from_snapshot` reads them; an object already in `known`
    (by identity) is not read again. Raises InvalidPolicyError naming the kind for one the
    API server would reject."""
    known = {} if known is None else known
    result = []
    for obj in [*snapshot.admin_network_policies, *snapshot.baseline_admin_network_policies]:
        entry = known.get(id(obj))
        if entry is None or entry[0] is not obj:
            defaulted, issues = admin_defaulted_and_issues(obj)
            if issues:
                raise InvalidPolicyError(str((obj.get("metadata") or {}).get("name")), issues,
                                         kind=obj.get("kind") or "AdminNetworkPolicy")
            entry = known[id(obj)] = (obj, parse_admin_policy(defaulted))
        result.append(entry[1])
    return result


class CalicoObjects:
    """The Calico objects of one snapshot (tiers, Calico NetworkPolicies, GlobalNetworkPolicies,
    host endpoints), parsed once; `policy_set` adds any list of Kubernetes NetworkPolicies to
    the default tier, giving what `engine.calico_policy_set` gives for those policies."""

    def __init__(self, objects: list[Mapping[str, Any]]) -> None:
        self.objects = objects
        self.parsed = CalicoPolicySet.from_objects(objects)
        self._tiers = [tier.tier for tier in self.parsed.tiers]
        self._own = [*self.parsed.policies, *self.parsed.host_policies]

    @classmethod
    def of(cls, snapshot: Snapshot) -> CalicoObjects | None:
        """None when the snapshot has no Calico NetworkPolicy, GlobalNetworkPolicy or Tier
        (the engine then runs without Calico's tiers)."""
        objects = [*snapshot.calico_tiers, *snapshot.calico_network_policies,
                   *snapshot.calico_global_network_policies]
        if not objects:
            return None
        return cls([*objects, *snapshot.calico_host_endpoints])

    def same_objects(self, snapshot: Snapshot) -> bool:
        """Whether `snapshot` holds the very objects these were read from."""
        objects = [*snapshot.calico_tiers, *snapshot.calico_network_policies,
                   *snapshot.calico_global_network_policies, *snapshot.calico_host_endpoints]
        return len(objects) == len(self.objects) and all(
            a is b for a, b in zip(objects, self.objects, strict=True))

    def policy_set(self, policies: Iterable[Policy],
                   converted: dict[int, tuple[Policy, CalicoPolicy]]) -> CalicoPolicySet:
        """The policy set with `policies` in the default tier (each converted once, kept in
        `converted` by identity)."""
        kubernetes = []
        for policy in policies:
            entry = converted.get(id(policy))
            if entry is None or entry[0] is not policy:
                entry = converted[id(policy)] = (policy, from_kubernetes(policy))
            kubernetes.append(entry[1])
        return CalicoPolicySet(self._tiers, [*self._own, *kubernetes],
                               self.parsed.host_endpoints, self.parsed.problems)


def declared_ports_cluster(snapshot: Snapshot, *, live: bool = False) -> Cluster:
    """The engine over `snapshot` as each pod's declared ports see it (rules that admit none
    of them left out): the same `matrix` verdicts over declared ports as
    `Cluster.from_snapshot` (every layer included), its policies read once per version when
    `live` (see `parsed_policies`). Raises ValueError as `Cluster.from_snapshot` does."""
    side = _read_side(snapshot, None, {}, (), live=live)
    ports = DeclaredPorts(side.pods)
    side.effective.extend(effective(p, ports) for p in side.policies)
    return side.effective_cluster()


@dataclass(frozen=True)
class Side:
    """One snapshot read for the engine: its pods, namespaces, nodes and parsed policies of
    every kind the engine evaluates."""

    snapshot: Snapshot
    pods: list[PodInfo]
    namespaces: dict[str, dict[str, str]]
    nodes: dict[str, str]
    policies: list[Policy]
    effective: list[Policy] = field(default_factory=list)
    admin: list[AdminPolicy] = field(default_factory=list)
    node_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    calico: CalicoObjects | None = None
    converted: dict[int, tuple[Policy, CalicoPolicy]] = field(default_factory=dict)

    def cluster(self, policies: list[Policy] | None = None,
                extra_ips: Iterable[str] = ()) -> Cluster:
        """The engine over this side (with `policies` instead of its own NetworkPolicies when
        given), with the same layers as `Cluster.from_snapshot`."""
        policies = self.policies if policies is None else policies
        calico = None if self.calico is None else self.calico.policy_set(policies,
                                                                          self.converted)
        return Cluster(self.namespaces, self.pods, policies, self.nodes, list(extra_ips),
                       admin_policies=self.admin, node_labels=self.node_labels, calico=calico)

    def effective_cluster(self, without: tuple[str, str] | None = None,
                          extra_ips: Iterable[str] = ()) -> Cluster:
        """The engine over the declared ports' rules, without policy `without` if given."""
        policies = [p for p in self.effective if (p.namespace, p.name) != without]
        return self.cluster(policies, extra_ips)


def _read_side(snapshot: Snapshot, other: Side | None, known: dict[int, tuple[Any, Policy]],
               checked: list[Mapping[str, Any]], *, live: bool,
               admin_known: dict[int, tuple[Any, AdminPolicy]] | None = None,
               converted: dict[int, tuple[Policy, CalicoPolicy]] | None = None) -> Side:
    """`snapshot` read for the engine; what it shares with `other` (the very same lists of
    pods, namespaces and nodes, the very same Calico objects) is taken from it."""
    same = other is not None and all(
        _same_items(getattr(other.snapshot, kind), getattr(snapshot, kind))
        for kind in ("pods", "namespaces", "nodes"))
    if same:
        assert other is not None
        pods, namespaces, nodes = other.pods, other.namespaces, other.nodes
        labels = other.node_labels
    else:
        pods, namespaces = read_pods(snapshot), namespace_labels(snapshot)
        nodes, labels = node_addresses(snapshot), node_labels(snapshot)
    if other is not None and other.calico is not None and other.calico.same_objects(snapshot):
        calico: CalicoObjects | None = other.calico
    else:
        calico = CalicoObjects.of(snapshot)
    return Side(snapshot, pods, namespaces, nodes,
                parsed_policies(snapshot, known, checked, live=live),
                admin=parsed_admin_policies(snapshot, admin_known), node_labels=labels,
                calico=calico, converted={} if converted is None else converted)


def _same_items(a: list[Any], b: list[Any]) -> bool:
    """Whether two lists hold the very same objects in the same order (a snapshot copied for
    a change shares its unchanged objects with the original, in new lists)."""
    return a is b or (len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True)))


@dataclass(frozen=True)
class BeforeSide:
    """A snapshot read as the `before` of a change, kept to serve the next change to the same
    snapshot (`ChangeClusters.of(..., reused=)`): its side with every policy parsed and
    converted, the declared ports of its pods with its policies' effective rules and sampled
    blocks for them, and the engines built on it (`engines`, filled by the changes).

    Only what the snapshot alone decides is kept here; each change reads its `after` into
    copies of these memos, so nothing of one change stays for the next."""

    side: Side
    known: dict[int, tuple[Any, Policy]]
    admin_known: dict[int, tuple[Any, AdminPolicy]]
    ports: DeclaredPorts
    blocks: dict[int, tuple[Any, list[Mapping[str, Any]]]]
    engines: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, snapshot: Snapshot, *, live: bool = False) -> BeforeSide:
        """`snapshot` read (see `ChangeClusters.of` for `live` and the errors raised)."""
        known: dict[int, tuple[Any, Policy]] = {}
        admin_known: dict[int, tuple[Any, AdminPolicy]] = {}
        side = _read_side(snapshot, None, known, [], live=live, admin_known=admin_known)
        ports = DeclaredPorts(side.pods)
        side.effective.extend(effective(p, ports) for p in side.policies)
        if side.calico is not None:   # the engines of every change read these
            side.calico.policy_set([*side.policies, *side.effective], side.converted)
        blocks: dict[int, tuple[Any, list[Mapping[str, Any]]]] = {}
        sample_outside_addresses(snapshot, ports=ports, kept=blocks)
        return cls(side, known, admin_known, ports, blocks)


@dataclass(frozen=True)
class ChangeClusters:
    """The cluster before and after a change, each policy read once for the whole review."""

    before_side: Side
    after_side: Side
    outside: list[str]
    # engines over `before_side` kept from one change to the next (see BeforeSide)
    engines: dict[Any, Any] | None = field(default=None, compare=False, repr=False)
    # the ports the pods of both sides declare: the `*_matrix` and `after_declared` engines
    # answer as `before` and `after` on these
    ports: DeclaredPorts | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, before: Snapshot, after: Snapshot, checked: Iterable[Mapping[str, Any]] = (),
           *, live: bool = False, reused: BeforeSide | None = None) -> ChangeClusters:
        """Read both snapshots (a policy object in both is read once; one in `checked`, the
        very objects the caller validated already, is not validated again). `live` says that
        `before` is the cluster as its API server sent it (see `parsed_policies`). `reused`
        is `before` read already (`BeforeSide.read`): only what `after` changes is read.

        Raises InvalidPolicyError for a policy (of any kind the engine reads) the API server
        would reject and InventoryError (a ValueError) for a pod or namespace the engine
        cannot read.
        """
        checked = list(checked)
        if reused is not None and reused.side.snapshot is before:
            known, admin_known = dict(reused.known), dict(reused.admin_known)
            first = dataclasses.replace(reused.side, effective=[],
                                        converted=dict(reused.side.converted))
            blocks = dict(reused.blocks)
        else:
            reused, known, admin_known, blocks = None, {}, {}, {}
            first = _read_side(before, None, known, checked, live=live,
                               admin_known=admin_known)
        second = _read_side(after, first, known, checked, live=live and after is before,
                            admin_known=admin_known, converted=first.converted)
        same_pods = second.pods is first.pods
        memo: dict[int, Policy] = {}
        if reused is not None and same_pods:
            # The same pods declare the same ports: the kept effective rules still hold.
            ports = reused.ports
            memo = {id(p): e for p, e in zip(reused.side.policies, reused.side.effective,
                                             strict=True)}
        else:
            ports = DeclaredPorts(first.pods if same_pods else [*first.pods, *second.pods])
            blocks = {}
        for side in (first, second):
            for policy in side.policies:
                if id(policy) not in memo:
                    memo[id(policy)] = effective(policy, ports)
                side.effective.append(memo[id(policy)])
        outside = sample_outside_addresses(before, after, ports=ports, kept=blocks)
        kept = reused.engines if reused is not None and same_pods else None
        return cls(first, second, outside, kept, ports)

    def _kept(self, key: Any, build: Any) -> Cluster:
        if self.engines is None:
            return build()
        engine = self.engines.get(key)
        if engine is None:
            engine = build()
            if isinstance(key, tuple):   # one engine per kind of key: the latest
                for old in [k for k in list(self.engines) if isinstance(k, tuple) and k[0] == key[0]]:
                    self.engines.pop(old, None)
            self.engines[key] = engine
        return engine

    @cached_property
    def before(self) -> Cluster:
        """The cluster before, every rule kept (for explaining single connections)."""
        return self._kept("before", self.before_side.cluster)

    @cached_property
    def after(self) -> Cluster:
        """The cluster after, every rule kept (for explaining single connections)."""
        return self.after_side.cluster()

    @cached_property
    def after_declared(self) -> Cluster:
        """The cluster after as the declared ports see it: the same verdicts as `after` for
        a connection to a port its destination pod declares."""
        return self.after_side.effective_cluster()

    def after_asked(self, asked: set[tuple[int, str]]) -> Cluster:
        """The cluster after as the declared ports and the numbered (port, protocol) pairs
        `asked` see it: the same verdicts as `after` on any of those ports."""
        if self.ports is None:
            return self.after
        extra = self._extra(asked)
        if not extra:
            return self.after_declared
        return self.after_side.cluster(self._asked_policies(self.after_side, extra))

    def before_asked(self, asked: set[tuple[int, str]]) -> Cluster:
        """`after_asked` of the cluster before (kept with the before engines)."""
        if self.ports is None:
            return self.before
        extra = self._extra(asked)
        return self._kept(("before_asked", frozenset(extra)), lambda: self.before_side.cluster(
            self._asked_policies(self.before_side, extra) if extra
            else self.before_side.effective))

    def _extra(self, asked: set[tuple[int, str]]) -> set[tuple[int, str]]:
        assert self.ports is not None
        return {(port, protocol) for port, protocol in asked
                if not self.ports.declares(port, protocol)}

    def _asked_policies(self, side: Side, extra: set[tuple[int, str]]) -> list[Policy]:
        """The policies of `side` without the rules that admit none of the declared ports
        and `extra`."""
        assert self.ports is not None
        ports = self.ports.with_ports(extra)
        key = ("asked", frozenset(extra))
        # Effective rules per policy for these ports, kept with the before engines: the
        # policies the change leaves alone are the very objects of the before side.
        memo: dict[int, tuple[Policy, Policy]] = {}
        if self.engines is not None:
            held = self.engines.get(key)
            if not isinstance(held, dict):
                for old in [k for k in list(self.engines) if isinstance(k, tuple)
                            and k[0] == "asked"]:
                    self.engines.pop(old, None)
                held = self.engines[key] = {}
            memo = held
        before = {id(p) for p in self.before_side.policies}
        policies = []
        for policy in side.policies:
            entry = memo.get(id(policy))
            if entry is None or entry[0] is not policy:
                entry = (policy, effective(policy, ports))
                if id(policy) in before:    # the change's own policies are not kept
                    memo[id(policy)] = entry
            policies.append(entry[1])
        return policies

    @cached_property
    def before_matrix(self) -> Cluster:
        """The cluster before as the declared ports see it, with the outside samples."""
        return self._kept(("before_matrix", tuple(self.outside)),
                          lambda: self.before_side.effective_cluster(extra_ips=self.outside))

    @cached_property
    def after_matrix(self) -> Cluster:
        """The cluster after as the declared ports see it, with the outside samples."""
        return self.after_side.effective_cluster(extra_ips=self.outside)

    def after_policy(self, namespace: str, name: str) -> Policy | None:
        """The parsed policy `namespace/name` of the cluster after, whole."""
        return next((p for p in self.after_side.policies
                     if (p.namespace, p.name) == (namespace, name)), None)


# -- changes to policy objects of every kind ------------------------------------------------------

# (API group, kind, namespace, name); namespace "" for a cluster-scoped kind
ObjectKey = tuple[str, str, str, str]
_NAMESPACED = frozenset({KIND_FIELDS["NetworkPolicy"], KIND_FIELDS["CalicoNetworkPolicy"]})
POLICY_FIELDS = (KIND_FIELDS["NetworkPolicy"], KIND_FIELDS["AdminNetworkPolicy"],
                 KIND_FIELDS["BaselineAdminNetworkPolicy"], KIND_FIELDS["CalicoNetworkPolicy"],
                 KIND_FIELDS["GlobalNetworkPolicy"], KIND_FIELDS["Tier"],
                 KIND_FIELDS["HostEndpoint"])


def object_key(obj: Mapping[str, Any]) -> ObjectKey:
    """The key `with_objects` files `obj` under (its apiVersion's group, kind, namespace,
    name)."""
    metadata = obj.get("metadata") or {}
    kind = str(obj.get("kind") or "")
    version = obj.get("apiVersion") or API_VERSIONS.get(kind, ("",))[0]
    return (api_group(str(version)), kind, str(metadata.get("namespace") or ""),
            str(metadata.get("name") or ""))


def _slot(key: ObjectKey) -> tuple[str, str, str]:
    """(Snapshot attribute, namespace, name): the object a key names, whichever of Calico's
    two API groups it is written in."""
    group, kind, namespace, name = key
    attr = GROUP_KIND_FIELDS.get((group, kind))
    if attr not in POLICY_FIELDS:
        raise KeyError(f"{group}/{kind}" if group else kind)
    namespace = (namespace or "default") if attr in _NAMESPACED else ""
    return attr, namespace, name


def with_objects(snapshot: Snapshot, *, upsert: Iterable[Mapping[str, Any]] = (),
                 remove: Iterable[ObjectKey] = ()) -> Snapshot:
    """The snapshot with policy objects created or replaced (`upsert`) and deleted (`remove`,
    by `object_key`), of every kind the engine reads: NetworkPolicy, AdminNetworkPolicy,
    BaselineAdminNetworkPolicy and Calico's NetworkPolicy, GlobalNetworkPolicy, Tier and
    HostEndpoint (either of Calico's API groups names the same object).

    Guarantees: `snapshot` is not changed; every other object is the very same object, in the
    same order; an upserted object replaces the one of its key and goes to the end of its
    kind's list (as `impact.with_policies` does). Raises KeyError for a kind it does not
    change.
    """
    upsert = list(upsert)
    replaced = {_slot(object_key(obj)) for obj in upsert} | {_slot(key) for key in remove}
    copy = Snapshot(**{attr: list(getattr(snapshot, attr)) for attr in KIND_FIELDS.values()})
    copy.ignored = list(snapshot.ignored)
    for attr in {attr for attr, _, _ in replaced}:
        setattr(copy, attr, [obj for obj in getattr(copy, attr)
                             if _slot(object_key(obj)) not in replaced])
    for obj in upsert:
        copy.add(obj if isinstance(obj, dict) else dict(obj))
    return copy
