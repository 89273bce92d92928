"""Evaluating Calico policies: the verdict of one direction of one connection, per tier or
overall.

Calico's processing (https://docs.tigera.io/calico/latest/network-policy/policy-tiers/tiered-policy
and https://docs.tigera.io/calico/latest/reference/resources/tier):

- tiers run by `order` (a tier without order after all ordered ones), ties by name; within a
  tier, policies by `order` (none = last), ties by name; within a policy, rules in order;
- the first Allow or Deny rule that matches is final; Pass leaves the tier for the next one;
  Log records and continues;
- a tier is skipped when none of its policies selects the endpoint for the direction;
  otherwise traffic no rule matched gets the tier's `defaultAction` (Deny unless it is Pass);
- after the last tier (by Pass, or because no tier applied) the endpoint's profile decides:
  for a Kubernetes pod that is its namespace's `kns.<namespace>` profile, which allows.

Only workload (pod) endpoints are evaluated here: preDNAT and doNotTrack policies act on host
endpoints and are listed (`CalicoPolicySet.host_policies`) but never decide pod traffic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from isolation.calico.endpoint import Endpoint
from isolation.calico.kubernetes import from_kubernetes
from isolation.calico.model import (
    ALLOW,
    BUILT_IN_TIERS,
    DEFAULT_TIER,
    DENY,
    HOST_ENDPOINT,
    INGRESS,
    LOG,
    NETWORK_POLICY,
    PASS,
    PORT_PROTOCOLS,
    TIER,
    CalicoPolicy,
    EntityMatch,
    HostEndpoint,
    IPNetwork,
    Rule,
    Tier,
    api_group,
    is_calico,
    parse_host_endpoint,
    parse_policy,
    parse_tier,
)
from isolation.calico.validation import ObjectProblem, is_fatal, object_ref, validate_object
from isolation.netpol import model as k8s_model
from isolation.netpol.validation import default_network_policy, validate_network_policy

# Why a decision was taken.
BY_RULE = "rule"                # a rule of `policy` matched
END_OF_TIER = "end-of-tier"     # policies of `tier` selected the endpoint, no rule matched
PROFILE = "profile"             # no tier decided: the namespace's profile allows


@dataclass(frozen=True)
class Decision:
    """The verdict of one direction: `action` Allow or Deny (Pass only from `decide_tier`)."""

    action: str
    reason: str
    tier: str | None = None
    policy: str | None = None          # the policy's key (`ns/name` or the global name)
    kind: str | None = None            # NetworkPolicy | GlobalNetworkPolicy | KubernetesNetworkPolicy
    rule_index: int | None = None
    peer_index: int | None = None      # converted Kubernetes rules: the `from`/`to` entry
    logged: tuple[tuple[str, int], ...] = ()   # Log rules met on the way (policy key, index)

    @property
    def allowed(self) -> bool:
        return self.action == ALLOW

    def explain(self) -> str:
        if self.reason == PROFILE:
            return "allowed by the namespace profile: no Calico tier decided"
        if self.reason == END_OF_TIER:
            verb = "passed on" if self.action == PASS else "denied"
            return f"{verb} at the end of tier {self.tier}: no rule of its policies matched"
        where = f"rule {self.rule_index}"
        if self.peer_index is not None:
            where += f", peer {self.peer_index}"
        return f"{self.action} by {self.kind} {self.policy} ({where}) in tier {self.tier}"


@dataclass(frozen=True)
class TierPolicies:
    tier: Tier
    policies: tuple[CalicoPolicy, ...]


class CalicoPolicySet:
    """Every Calico policy of a cluster (and its Kubernetes policies, as Calico sees them).

    Matching is precomputed by label class: the policies selecting an endpoint and each rule's
    label criteria are computed once per distinct (namespace, labels, namespace labels,
    service account) and cached, so a matrix of many pods of few classes stays cheap.
    """

    def __init__(self, tiers: Iterable[Tier], policies: Iterable[CalicoPolicy],
                 host_endpoints: Iterable[HostEndpoint] = (),
                 problems: Iterable[ObjectProblem] = ()) -> None:
        tier_by_name = {t.name: t for t in BUILT_IN_TIERS.values() if t.name == DEFAULT_TIER}
        tier_by_name.update({t.name: t for t in tiers})
        policies = list(policies)
        self.host_policies = tuple(p for p in policies if not p.applies_to_workloads)
        grouped: dict[str, list[CalicoPolicy]] = {name: [] for name in tier_by_name}
        for policy in policies:
            if policy.applies_to_workloads:
                grouped.setdefault(policy.tier, []).append(policy)
        for name in grouped:
            tier_by_name.setdefault(name, BUILT_IN_TIERS.get(name) or Tier(name, None))
        for policy in self.host_policies:
            tier_by_name.setdefault(policy.tier, BUILT_IN_TIERS.get(policy.tier)
                                    or Tier(policy.tier, None))
        self._pre_dnat = tuple(sorted(
            ((tier_by_name[p.tier], p) for p in self.host_policies if p.pre_dnat),
            key=lambda pair: (pair[0].sort_key, pair[1].sort_key)))
        ordered = sorted((tier_by_name[name] for name in grouped), key=lambda t: t.sort_key)
        self.tiers = tuple(TierPolicies(t, tuple(sorted(grouped[t.name], key=lambda p: p.sort_key)))
                           for t in ordered)
        self.host_endpoints = tuple(host_endpoints)
        self.problems = tuple(problems)
        self._selected: dict[tuple, tuple[tuple[int, tuple[CalicoPolicy, ...]], ...]] = {}
        self._labels: dict[tuple[int, tuple], bool] = {}
        self._pairs: dict[tuple, tuple] = {}

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]],
                     k8s_policies: Iterable[k8s_model.Policy | Mapping[str, Any]] = (),
                     default_namespace: str = "default") -> CalicoPolicySet:
        """The policy set of Calico objects (NetworkPolicy, GlobalNetworkPolicy, Tier,
        HostEndpoint of either API group) and Kubernetes NetworkPolicies (models or objects).

        Guarantees: never raises on invalid objects; each one left out is in `problems` with
        its field errors (objects of other groups or kinds too), so nothing is ignored silently.
        """
        objects = list(objects)
        k8s_policies = list(k8s_policies)
        tier_names = {(obj.get("metadata") or {}).get("name") for obj in objects
                      if isinstance(obj, Mapping) and is_calico(obj) and obj.get("kind") == TIER}
        tiers, policies, host_endpoints, problems = [], [], [], []
        for obj in objects:
            if (isinstance(obj, Mapping) and api_group(obj) == "networking.k8s.io"
                    and obj.get("kind") == NETWORK_POLICY):
                k8s_policies.append(obj)
                continue
            issues = validate_object(obj, known_tiers=tier_names)
            fatal = any(is_fatal(issue) for issue in issues)
            if issues:
                problems.append(ObjectProblem(object_ref(obj), tuple(issues), not fatal))
            if fatal:
                continue
            kind = obj["kind"]
            if kind == TIER:
                tiers.append(parse_tier(obj))
            elif kind == HOST_ENDPOINT:
                host_endpoints.append(parse_host_endpoint(obj))
            else:
                policies.append(parse_policy(obj, default_namespace))
        for policy in k8s_policies:
            if isinstance(policy, Mapping):
                defaulted = default_network_policy(dict(policy))
                issues = validate_network_policy(defaulted)
                if issues:
                    problems.append(ObjectProblem(object_ref(policy), tuple(issues)))
                    continue
                policy = k8s_model.parse_policy(defaulted, default_namespace)
            policies.append(from_kubernetes(policy))
        return cls(tiers, policies, host_endpoints, problems)

    # -- queries ----------------------------------------------------------------------------

    @property
    def tier_names(self) -> tuple[str, ...]:
        """The tiers in evaluation order."""
        return tuple(t.tier.name for t in self.tiers)

    def tier(self, name: str) -> Tier | None:
        """The tier named `name` (for `describe_policy`), None when no policy uses it."""
        return next((t.tier for t in self.tiers if t.tier.name == name), None)

    @property
    def policies(self) -> tuple[CalicoPolicy, ...]:
        """The policies that decide pod traffic, in evaluation order."""
        return tuple(p for t in self.tiers for p in t.policies)

    def label_keys(self) -> tuple[frozenset[str], frozenset[str]]:
        """(pod label keys, namespace label keys) the selectors of the pod-traffic policies
        read: the matrix must keep apart pods that differ in them (`pcns.<key>` in a pod
        selector reads the namespace's `<key>`)."""
        pod_keys: set[str] = set()
        namespace_keys: set[str] = set()
        entities = [e for p in self.policies for r in (*p.ingress, *p.egress)
                    for e in (r.source, r.destination)]
        for node in [p.selector for p in self.policies] + [
                n for e in entities for n in (e.selector, e.not_selector) if n is not None]:
            pod_keys |= node.keys()
        for node in [p.namespace_selector for p in self.policies] + [
                e.namespace_selector for e in entities]:
            if node is not None:
                namespace_keys |= node.keys()
        namespace_keys |= {k.removeprefix("pcns.") for k in pod_keys if k.startswith("pcns.")}
        return frozenset(pod_keys), frozenset(namespace_keys)

    def networks(self) -> frozenset[IPNetwork]:
        """Every `nets` / `notNets` network of the pod-traffic policies (the address ranges
        that tell endpoints apart by IP)."""
        return frozenset(n for p in self.policies for r in (*p.ingress, *p.egress)
                         for e in (r.source, r.destination) for n in (*e.nets, *e.not_nets))

    def selecting(self, direction: str,
                  endpoint: Endpoint) -> tuple[tuple[int, tuple[CalicoPolicy, ...]], ...]:
        """(tier position, policies in order) for each tier that has policies selecting
        `endpoint` for `direction` (cached by label class)."""
        key = (endpoint.label_class, direction)
        found = self._selected.get(key)
        if found is None:
            found = tuple(
                (position, chosen) for position, tier in enumerate(self.tiers)
                if (chosen := tuple(p for p in tier.policies
                                    if p.affects(direction) and p.selects(endpoint))))
            self._selected[key] = found
        return found

    def decide(self, direction: str, endpoint: Endpoint, peer: Endpoint, port: int,
               protocol: str) -> Decision:
        """Allow or Deny for traffic of `direction` at `endpoint` (a pod) with `peer`.

        Ingress: `peer` sends to `endpoint` on `port`; egress: `endpoint` sends to `peer`.
        An `endpoint` that is not a pod has no policy of its own: allowed by its "profile".
        """
        logged: list[tuple[str, int]] = []
        for tier, candidates in self._candidates(direction, endpoint, peer, protocol):
            decision = self._decide_in(tier, candidates, direction, endpoint, peer, port,
                                       protocol, logged)
            if decision.action != PASS:
                return decision
        return Decision(ALLOW, PROFILE, logged=tuple(logged))

    def decide_tier(self, tier: str, direction: str, endpoint: Endpoint, peer: Endpoint,
                    port: int, protocol: str) -> Decision | None:
        """The decision of one tier alone: Allow, Deny or Pass, or None when no policy of the
        tier selects `endpoint` for `direction` (the tier is skipped)."""
        for candidate_tier, candidates in self._candidates(direction, endpoint, peer, protocol):
            if candidate_tier.name == tier:
                return self._decide_in(candidate_tier, candidates, direction, endpoint, peer,
                                       port, protocol, [])
        return None

    def decide_pre_dnat(self, host: HostEndpoint, client: Endpoint, port: int, protocol: str,
                        destination: Endpoint | None = None) -> Decision | None:
        """What the preDNAT policies selecting `host` say of traffic from `client` arriving on
        `port` (the node port, before DNAT): Allow or Deny by the first matching rule, or None
        when no rule decides, and the traffic goes on to the workload's own policy. Pre-DNAT
        policy has no default deny (https://docs.tigera.io/calico/latest/reference/host-endpoints/pre-dnat);
        a Pass skips the rest of its tier. `destination` is the address the client connected
        to (default: the host's first expected IP); rule selectors on the host side are not
        modelled (the destination's `nets`, ports and protocol are)."""
        labels = dict(host.labels)
        passed: set[str] = set()
        logged: list[tuple[str, int]] = []
        node = destination or Endpoint(ip=host.expected_ips[0] if host.expected_ips else None)
        for tier, policy in self._pre_dnat:
            if tier.name in passed or not policy.affects(INGRESS):
                continue
            if (policy.namespace_selector is not None or policy.service_account_selector
                    is not None or not policy.selector.matches(labels)):
                continue
            for rule in policy.ingress:
                if (rule.unmodelled or not rule.matches_protocol(protocol)
                        or not self._labels_match(rule.source, client)
                        or rule.destination.has_label_criteria
                        or not self._matches(rule, client, node, port, protocol)):
                    continue
                if rule.action == LOG:
                    logged.append((policy.key, rule.index))
                    continue
                if rule.action == PASS:
                    passed.add(tier.name)
                    break
                return Decision(rule.action, BY_RULE, tier.name, policy.key, policy.kind,
                                rule.index, logged=tuple(logged))
        return None

    def allows(self, src: Endpoint, dst: Endpoint, port: int, protocol: str) -> bool:
        """A connection needs egress allowed at a pod source and ingress at a pod destination."""
        if src.is_pod and not self.decide("egress", src, dst, port, protocol).allowed:
            return False
        return not dst.is_pod or self.decide(INGRESS, dst, src, port, protocol).allowed

    # -- internals --------------------------------------------------------------------------

    def _candidates(self, direction: str, endpoint: Endpoint, peer: Endpoint, protocol: str
                    ) -> tuple[tuple[Tier, tuple[tuple[CalicoPolicy, Rule], ...]], ...]:
        """Per applying tier, the rules whose protocol and label criteria hold for this pair of
        label classes (cached): what remains to check per connection is ports and IPs."""
        key = (direction, endpoint.label_class, peer.label_class, protocol)
        found = self._pairs.get(key)
        if found is None:
            src, dst = (peer, endpoint) if direction == INGRESS else (endpoint, peer)
            found = tuple(
                (self.tiers[position].tier, tuple(
                    (policy, rule) for policy in policies for rule in policy.rules(direction)
                    if not rule.unmodelled and rule.matches_protocol(protocol)
                    and self._labels_match(rule.source, src)
                    and self._labels_match(rule.destination, dst)))
                for position, policies in self.selecting(direction, endpoint))
            self._pairs[key] = found
        return found

    def _decide_in(self, tier: Tier, candidates: tuple[tuple[CalicoPolicy, Rule], ...],
                   direction: str, endpoint: Endpoint, peer: Endpoint, port: int,
                   protocol: str, logged: list[tuple[str, int]]) -> Decision:
        src, dst = (peer, endpoint) if direction == INGRESS else (endpoint, peer)
        for policy, rule in candidates:
            if not self._matches(rule, src, dst, port, protocol):
                continue
            if rule.action == LOG:
                logged.append((policy.key, rule.index))
                continue
            return Decision(rule.action, BY_RULE, tier.name, policy.key, policy.kind,
                            rule.index, rule.peer_index, tuple(logged))
        action = PASS if tier.default_action == PASS else DENY
        return Decision(action, END_OF_TIER, tier.name, logged=tuple(logged))

    @staticmethod
    def _matches(rule: Rule, src: Endpoint, dst: Endpoint, port: int, protocol: str) -> bool:
        """The criteria that depend on more than label classes and protocol: ports, IPs."""
        if rule.ip_version is not None and any(
                e.ip is not None and e.ip.version != rule.ip_version for e in (src, dst)):
            return False
        destination = rule.destination
        if destination.ports or destination.not_ports:
            if protocol not in PORT_PROTOCOLS:
                return False
            if not destination.matches_port(port, protocol, dst if dst.is_pod else None):
                return False
        if not rule.uses_ips:
            return True
        return rule.source.matches_address(src) and destination.matches_address(dst)

    def same_for_label_class(self, direction: str, endpoint: Endpoint, peer: Endpoint,
                             protocol: str) -> bool:
        """True when `decide` gives every pod of `endpoint`'s label class the same answer
        against every endpoint of `peer`'s class: no rule that could match them looks at IPs
        or named ports. The matrix can then decide once per pair of classes."""
        return not any(rule.uses_ips or rule.uses_named_ports
                       for _, candidates in self._candidates(direction, endpoint, peer,
                                                             protocol)
                       for _, rule in candidates)

    def _labels_match(self, entity: EntityMatch, endpoint: Endpoint) -> bool:
        if not entity.has_label_criteria:
            return True
        key = (id(entity), endpoint.label_class)
        matched = self._labels.get(key)
        if matched is None:
            matched = self._labels[key] = entity.matches_labels(endpoint)
        return matched

