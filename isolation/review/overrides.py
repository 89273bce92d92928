"""Whether a platform policy decides a connection before the projects' NetworkPolicies do.

An allowlist entry, a generated policy or a traffic-path fix is a Kubernetes NetworkPolicy: it
can only allow what reaches the NetworkPolicies. Layers evaluated before them (an
AdminNetworkPolicy, a Calico tier ordered before the default tier, a Calico policy of the
default tier ordered before the Kubernetes policies' 1000) decide first; when one of them
denies a connection the entry is meant to allow, the entry changes nothing for it. A Pass
hands the connection on to the NetworkPolicies, so it never overrides anything; the baseline
and the tiers after the default one decide only what the NetworkPolicies leave undecided.

Nothing here re-implements those semantics: every connection is asked of `Cluster.check`, and
the rule that decided it (`DirectionVerdict.decided_by`) is placed in `Cluster.layers`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from isolation.calico.model import KUBERNETES_POLICY_ORDER
from isolation.reachability.calico_layer import CALICO_NETWORK_POLICY_KIND, CALICO_TIER_KIND
from isolation.reachability.engine import Cluster
from isolation.reachability.layers import DENY, NETWORK_POLICY_KIND, PolicyLayer, PolicyRef
from isolation.snapshot import Snapshot

# What a connection is tried on when the entry names no port (any port): a platform rule
# that denies a whole address usually names no port either.
ANY_PORT_TRIED = ((443, "TCP"), (80, "TCP"))
# Pods of one namespace tried, one per distinct set of labels (what selectors read).
PODS_TRIED = 8
# Addresses tried inside one CIDR: its first, and one in each platform network inside it.
ADDRESSES_TRIED = 8
CHECKS = 400
CLUSTER_SCOPED_KINDS = frozenset({"AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
                                  "GlobalNetworkPolicy"})


@dataclass(frozen=True)
class Intended:
    """Connections something is meant to allow: from every `sources` end to every
    `destinations` end on `ports` ((port or port name, protocol); empty = any port).

    An end is "namespace/pod", an IP address or a CIDR (`excluded` ranges are left out of
    every CIDR end, as an ipBlock's `except`)."""

    sources: tuple[str, ...]
    destinations: tuple[str, ...]
    ports: tuple[tuple[int | str, str], ...] = ()
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True)
class Override:
    """A rule of a platform layer that decides a connection before the NetworkPolicies, with
    the first connection found that it decides."""

    ref: PolicyRef
    source: str
    destination: str
    port: int
    protocol: str

    @property
    def denies(self) -> bool:
        return self.ref.action == DENY

    @property
    def namespace(self) -> str | None:
        """The namespace of a namespaced policy (a Calico NetworkPolicy), else None."""
        if self.ref.kind in CLUSTER_SCOPED_KINDS or "/" not in self.ref.policy:
            return None
        return self.ref.policy.split("/", 1)[0]

    @property
    def platform(self) -> bool:
        """Whether the deciding policy is cluster-scoped (no project owns it)."""
        return self.namespace is None

    def where(self) -> str:
        """Where the rule sits: "tier platform, egress rule 0, Deny"."""
        ref = self.ref
        parts = []
        if ref.tier:
            parts.append(f"tier {ref.tier}")
        elif ref.priority is not None:
            parts.append(f"priority {ref.priority}")
        if ref.rule_index is None:
            parts.append("end of tier" if ref.tier else f"{ref.direction}")
        else:
            rule = f"{ref.direction} rule {ref.rule_index}"
            parts.append(f'{rule} "{ref.rule_name}"' if ref.rule_name else rule)
        parts.append(ref.action)
        return ", ".join(parts)

    def describe(self) -> str:
        """`GlobalNetworkPolicy platform.deny-cloud-metadata (tier platform, egress rule 0,
        Deny)`."""
        return f"{self.ref.kind} {self.ref.policy} ({self.where()})"

    def to_dict(self) -> dict[str, Any]:
        return {**self.ref.to_dict(), "from": self.source, "to": self.destination,
                "port": self.port, "protocol": self.protocol}


def overrides(cluster: Cluster, wanted: Iterable[Intended], *,
              limit: int = CHECKS) -> list[Override]:
    """The platform rules that decide connections of `wanted` before the NetworkPolicies.

    Guarantees: each result is the `decided_by` of a side of `cluster.check` for one concrete
    connection of `wanted` (a pod of a pod end, an address of a CIDR end: its first address
    and one inside each platform network it holds; a port of the entry, or for any port the
    destination pod's declared ports, else `ANY_PORT_TRIED`), whose layer comes before the
    NetworkPolicies in `cluster.layers`; one result per deciding rule and direction, in the
    order found. A cluster with no layer but the NetworkPolicies gives none without a check;
    at most `limit` connections are checked. Ends the cluster cannot resolve are skipped.
    """
    carrier = _carrier(cluster)
    if carrier is None or carrier == 0 and not _early_in_default_tier(cluster):
        return []
    networks = _platform_networks(cluster)
    found: dict[tuple[str, str, str, int | None], Override] = {}
    checks = 0
    for intended in wanted:
        for source in _ends(intended.sources, intended.excluded, networks):
            for destination in _ends(intended.destinations, intended.excluded, networks):
                for port, protocol in _ports(cluster, intended.ports, destination):
                    if checks >= limit:
                        return list(found.values())
                    checks += 1
                    try:
                        verdict = cluster.check(source, destination, port, protocol)
                    except ValueError:
                        continue
                    for side in (verdict.egress, verdict.ingress):
                        ref = side.decided_by
                        if ref is None or not decides_first(cluster, ref):
                            continue
                        key = (ref.kind, ref.policy, ref.direction, ref.rule_index)
                        found.setdefault(key, Override(ref, verdict.src.name,
                                                       verdict.dst.name, verdict.port,
                                                       verdict.protocol))
    return list(found.values())


def has_platform_layers(snapshot: Snapshot) -> bool:
    """Whether `snapshot` holds a policy the engine may evaluate before the NetworkPolicies
    (an AdminNetworkPolicy or a Calico policy); without one, nothing can override an entry."""
    return bool(snapshot.admin_network_policies or snapshot.calico_network_policies
                or snapshot.calico_global_network_policies)


def decides_first(cluster: Cluster, ref: PolicyRef) -> bool:
    """Whether the rule `ref` (a `decided_by` of `cluster.check`) belongs to a layer the
    engine evaluates before the Kubernetes NetworkPolicies."""
    if ref.kind == NETWORK_POLICY_KIND:
        return False
    carrier = _carrier(cluster)
    if carrier is None:
        return False
    for index, layer in enumerate(cluster.layers):
        if not _holds(layer, ref):
            continue
        if index == carrier:  # a Calico policy of the default tier, beside the projects'
            return ref.priority is not None and ref.priority < KUBERNETES_POLICY_ORDER
        return index < carrier
    return False


def _carrier(cluster: Cluster) -> int | None:
    """The position of the layer that evaluates the Kubernetes NetworkPolicies."""
    return next((index for index, layer in enumerate(cluster.layers)
                 if layer is cluster.network_policy_layer
                 or getattr(layer, "carries_network_policies", False)), None)


def _early_in_default_tier(cluster: Cluster) -> bool:
    layer = cluster.layers[0]
    return any(p.order is not None and p.order < KUBERNETES_POLICY_ORDER
               for p in getattr(layer, "policies", ()) if hasattr(p, "order"))


def _holds(layer: PolicyLayer, ref: PolicyRef) -> bool:
    if layer.kind == CALICO_TIER_KIND:
        return ref.kind in ("GlobalNetworkPolicy", CALICO_NETWORK_POLICY_KIND) \
            and getattr(layer, "name", None) == ref.tier
    return layer.kind == ref.kind


def _platform_networks(cluster: Cluster) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks the layers before the NetworkPolicies name (where a CIDR end is tried)."""
    networks: dict[Any, None] = {}
    if cluster.calico is not None:
        networks.update(dict.fromkeys(sorted(cluster.calico.networks(), key=str)))
    for policy in cluster.admin_policies:
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                networks.update(dict.fromkeys(peer.networks))
    return list(networks)


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def _ends(ends: Sequence[str], excluded: Sequence[str],
          networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> list[str]:
    result: dict[str, None] = {}
    for end in ends:
        network = _network(end)
        if network is None:
            result.setdefault(end)
            continue
        result.update(dict.fromkeys(addresses_in(network, excluded, networks)))
    return list(result)


def addresses_in(network: ipaddress.IPv4Network | ipaddress.IPv6Network,
                 excluded: Sequence[str] = (),
                 inside: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()
                 ) -> list[str]:
    """Addresses of `network` outside the `excluded` ranges: its first usable one, then the
    first of each of the `inside` networks that overlaps it (at most `ADDRESSES_TRIED`)."""
    left_out = [n for n in (_network(e) for e in excluded) if n is not None]
    candidates = [network, *(n for n in inside if n.version == network.version
                             and n.overlaps(network))]
    result: dict[str, None] = {}
    for candidate in candidates:
        part = candidate if candidate.subnet_of(network) else network  # type: ignore[arg-type]
        address = _first_outside(part, left_out)
        if address is not None:
            result.setdefault(address)
        if len(result) >= ADDRESSES_TRIED:
            break
    return list(result)


def _first_outside(network: ipaddress.IPv4Network | ipaddress.IPv6Network,
                   left_out: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
                   ) -> str | None:
    """The first usable address of `network` in none of `left_out` (skipping over them)."""
    address = network.network_address + (1 if network.num_addresses > 2 else 0)
    for _ in range(len(left_out) + 1):
        blocking = next((n for n in left_out if n.version == address.version
                         and address in n), None)
        if blocking is None:
            return str(address) if address in network else None
        if int(blocking.broadcast_address) + 1 > int(network.broadcast_address):
            return None
        address = blocking.broadcast_address + 1
    return None


def _ports(cluster: Cluster, ports: Sequence[tuple[int | str, str]],
           destination: str) -> list[tuple[int | str, str]]:
    if ports:
        return list(ports)
    if "/" in destination and _network(destination) is None:
        try:
            declared = cluster.pod(destination).declared_ports()
        except KeyError:
            declared = ()
        if declared:
            return list(declared[:4])
    return list(ANY_PORT_TRIED)


def namespace_pods(cluster: Cluster, namespace: str,
                   labels: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Pods of `namespace` (those carrying every `labels` pair when given) to try: one per
    distinct set of labels, at most `PODS_TRIED`."""
    chosen: dict[tuple, str] = {}
    for pod in cluster.pods:
        if pod.namespace != namespace or len(chosen) >= PODS_TRIED:
            continue
        if labels and any(pod.labels.get(k) != v for k, v in labels.items()):
            continue
        chosen.setdefault(tuple(sorted(pod.labels.items())), pod.key)
    return tuple(chosen.values())


# -- allowlist entries (NamespaceNetworkPolicy specs) ------------------------------------------

def entry_connections(snapshot: Snapshot, cluster: Cluster, project: str,
                      spec: Mapping[str, Any]) -> list[Intended]:
    """What an allowlist entry of `project` (a NamespaceNetworkPolicy spec) is meant to allow,
    rule by rule: its peers (a project's pods, a Service's pods, an ipBlock) to or from the
    project's pods, on the rule's ports. Shapes the entry cannot hold are skipped."""
    own = namespace_pods(cluster, project)
    wanted = []
    for direction, key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction) if isinstance(spec, Mapping) else None
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, Mapping):
                continue
            ports = _entry_ports(rule.get("ports"))
            for peer in rule.get(key) or []:
                ends, excluded = _peer_ends(snapshot, cluster, peer)
                if not ends or not own:
                    continue
                sources, destinations = (ends, own) if direction == "ingress" else (own, ends)
                wanted.append(Intended(sources, destinations, ports, excluded))
    return wanted


def entry_overrides(snapshot: Snapshot, project: str, spec: Mapping[str, Any],
                    cluster: Cluster | None = None) -> list[Override]:
    """`overrides` of what an allowlist entry of `project` is meant to allow (see
    `entry_connections`). Raises ValueError as `Cluster.from_snapshot` does when no
    `cluster` is given."""
    cluster = cluster or Cluster.from_snapshot(snapshot)
    return overrides(cluster, entry_connections(snapshot, cluster, project, spec))


def _entry_ports(ports: Any) -> tuple[tuple[int | str, str], ...]:
    result = []
    for port in ports if isinstance(ports, list) else []:
        if not isinstance(port, Mapping):
            continue
        value, protocol = port.get("port"), str(port.get("protocol") or "TCP").upper()
        if isinstance(value, int) and not isinstance(value, bool) or isinstance(value, str):
            result.append((value, protocol))
    return tuple(result)


def _peer_ends(snapshot: Snapshot, cluster: Cluster,
               peer: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(peer, Mapping):
        return (), ()
    block = peer.get("ipBlock")
    if isinstance(block, Mapping) and isinstance(block.get("cidr"), str):
        excluded = tuple(str(e) for e in block.get("except") or [] if isinstance(e, str))
        return (block["cidr"],), excluded
    namespace = peer.get("namespace")
    if isinstance(namespace, Mapping) and isinstance(namespace.get("name"), str):
        return namespace_pods(cluster, namespace["name"]), ()
    service = peer.get("service")
    if isinstance(service, Mapping):
        selector = _service_selector(snapshot, service.get("namespace"), service.get("name"))
        if selector:
            return namespace_pods(cluster, str(service.get("namespace")), selector), ()
    return (), ()


def _service_selector(snapshot: Snapshot, namespace: Any, name: Any) -> dict[str, str]:
    for service in snapshot.services:
        metadata = service.get("metadata") or {}
        if (metadata.get("namespace"), metadata.get("name")) == (namespace, name):
            selector = (service.get("spec") or {}).get("selector")
            return dict(selector) if isinstance(selector, Mapping) else {}
    return {}
