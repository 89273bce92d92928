"""What the reachability engine needs to know about namespaces, pods and nodes of a snapshot.

Only pods that take part in pod networking are pod endpoints: pods that have finished
(phase Succeeded or Failed) are left out, and host-network pods are not selectable by policies
(their traffic carries the node's address), so naming one as an end means its node.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from isolation.netpol.model import IPAddress, NamedPorts, Policy
from isolation.snapshot import NAME_LABEL, Snapshot

# Node annotations that carry addresses a node's own traffic may leave with (Calico tunnels).
NODE_ADDRESS_ANNOTATIONS = (
    "projectcalico.org/IPv4IPIPTunnelAddr",
    "projectcalico.org/IPv4VXLANTunnelAddr",
    "projectcalico.org/IPv6VXLANTunnelAddr",
    "projectcalico.org/IPv4WireguardInterfaceAddr",
)
# What the API server's ServiceAccount admission sets when a pod names none.
DEFAULT_SERVICE_ACCOUNT = "default"
POD_KIND = "pod"
EXTERNAL_KIND = "external"
NODE_KIND = "node"


class InventoryError(ValueError):
    """A snapshot object the engine cannot read; the message names the object and field."""


@dataclass(frozen=True)
class PodInfo:
    namespace: str
    name: str
    labels: Mapping[str, str]
    ip: str | None
    ips: tuple[str, ...]
    node: str | None
    # (name or None, number, protocol) of every declared container port
    ports: tuple[tuple[str | None, int, str], ...]
    host_network: bool = False
    # The pod's ServiceAccount and that object's labels (none when the object is not in the
    # snapshot): what Calico's `serviceAccounts` and `serviceAccountSelector` match.
    service_account: str = DEFAULT_SERVICE_ACCOUNT
    service_account_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def named_ports(self) -> NamedPorts:
        return dict(self.named_ports_key)

    @cached_property
    def named_ports_key(self) -> tuple[tuple[str, tuple[tuple[int, str], ...]], ...]:
        """The named ports as a sorted, hashable tuple of (name, ((number, protocol), ...))."""
        named: dict[str, list[tuple[int, str]]] = {}
        for name, number, protocol in self.ports:
            if name:
                named.setdefault(name, []).append((number, protocol))
        return tuple(sorted((name, tuple(values)) for name, values in named.items()))

    @cached_property
    def _declared(self) -> tuple[tuple[int, str], ...]:
        return tuple(dict.fromkeys((number, protocol) for _, number, protocol in self.ports))

    def declared_ports(self) -> tuple[tuple[int, str], ...]:
        """Distinct (number, protocol) pairs of the pod's containers, in declaration order."""
        return self._declared


@dataclass(frozen=True)
class Endpoint:
    """One end of a connection: a pod, a cluster node, or an address outside the cluster."""

    kind: str  # "pod" | "node" | "external"
    name: str  # "namespace/pod" for pods, else the IP address
    ip: str | None = None
    namespace: str | None = None
    pod: str | None = None
    node: str | None = None

    @property
    def is_pod(self) -> bool:
        return self.kind == POD_KIND

    def address(self) -> IPAddress | None:
        return ipaddress.ip_address(self.ip) if self.ip else None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "ip": self.ip,
                "namespace": self.namespace, "pod": self.pod, "node": self.node}


def namespace_labels(snapshot: Snapshot) -> dict[str, dict[str, str]]:
    """Labels of every namespace, each carrying its `kubernetes.io/metadata.name` label."""
    result: dict[str, dict[str, str]] = {}
    for namespace in snapshot.namespaces:
        metadata = namespace.get("metadata") or {}
        name = metadata.get("name")
        labels = _string_map(metadata.get("labels"), f"Namespace {name}", "metadata.labels")
        labels.setdefault(NAME_LABEL, name)
        result[name] = labels
    return result


def read_pods(snapshot: Snapshot) -> list[PodInfo]:
    """Every pod that has not finished, in snapshot order, each with its service account's
    name and, when the ServiceAccount object is in the snapshot, its labels."""
    accounts = service_account_labels(snapshot)
    pods = []
    for obj in snapshot.pods:
        status = obj.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        pods.append(_read_pod(obj, accounts))
    return pods


def service_account_labels(snapshot: Snapshot) -> dict[tuple[str, str], dict[str, str]]:
    """Labels of every ServiceAccount of the snapshot by (namespace, name)."""
    result: dict[tuple[str, str], dict[str, str]] = {}
    for account in getattr(snapshot, "service_accounts", ()):
        metadata = account.get("metadata") or {}
        namespace = metadata.get("namespace") or "default"
        name = metadata.get("name")
        result[(namespace, name)] = _string_map(
            metadata.get("labels"), f"ServiceAccount {namespace}/{name}", "metadata.labels")
    return result


def _read_pod(obj: Mapping[str, Any],
              accounts: Mapping[tuple[str, str], dict[str, str]] | None = None) -> PodInfo:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace") or "default"
    where = f"Pod {namespace}/{metadata.get('name')}"
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if not isinstance(spec, dict) or not isinstance(status, dict):
        raise InventoryError(f"{where}: spec and status must be mappings")
    ip = status.get("podIP") or None
    ips = [entry.get("ip") for entry in status.get("podIPs") or [] if isinstance(entry, dict)]
    ips = [value for value in ips if value]
    if ip and ip not in ips:
        ips.insert(0, ip)
    canonical = []
    for value in ips:
        address = canonical_ip(value) if isinstance(value, str) else None
        if address is None:
            raise InventoryError(f"{where}: status.podIP {value!r} is not an IP address")
        canonical.append(address)
    # (a podIP is one of `ips`, so already read)
    ip = canonical[ips.index(ip)] if ip else None
    # `serviceAccount` is the deprecated alias the API server still fills in
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT
    if not isinstance(account, str):
        raise InventoryError(f"{where}: spec.serviceAccountName must be a string")
    return PodInfo(
        namespace=namespace,
        name=metadata["name"],
        labels=_string_map(metadata.get("labels"), where, "metadata.labels"),
        ip=ip or (canonical[0] if canonical else None),
        ips=tuple(canonical),
        node=spec.get("nodeName") or None,
        ports=_container_ports(spec, where),
        host_network=bool(spec.get("hostNetwork")),
        service_account=account,
        service_account_labels=(accounts or {}).get((namespace, account), {}),
    )


def _container_ports(spec: Mapping[str, Any], where: str) -> tuple[tuple[str | None, int, str], ...]:
    containers = spec.get("containers") or []
    # Native sidecars (init containers that keep running) serve ports too.
    sidecars = [c for c in spec.get("initContainers") or []
                if isinstance(c, dict) and c.get("restartPolicy") == "Always"]
    ports = []
    for c_index, container in enumerate([*containers, *sidecars] if sidecars else containers):
        if not isinstance(container, dict):
            raise InventoryError(f"{where}: spec.containers[{c_index}] must be a mapping")
        for p_index, port in enumerate(container.get("ports") or ()):
            number = port.get("containerPort") if isinstance(port, dict) else None
            if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 65536:
                raise InventoryError(f"{where}: spec.containers[{c_index}].ports[{p_index}]"
                                     ".containerPort must be a port number (1-65535)")
            protocol = port.get("protocol") or "TCP"
            if protocol not in _PROTOCOLS:
                raise InventoryError(f"{where}: spec.containers[{c_index}].ports[{p_index}]"
                                     ".protocol must be TCP, UDP or SCTP")
            ports.append((port.get("name") or None, number, protocol))
    return tuple(ports)


_PROTOCOLS = frozenset(("TCP", "UDP", "SCTP"))


def node_addresses(snapshot: Snapshot) -> dict[str, str]:
    """Map of every address a node's own traffic can carry (InternalIP, tunnels) to its name."""
    result: dict[str, str] = {}
    for node in snapshot.nodes:
        metadata = node.get("metadata") or {}
        name = metadata.get("name")
        for address in (node.get("status") or {}).get("addresses") or []:
            if isinstance(address, dict) and address.get("type") == "InternalIP":
                _add_address(result, address.get("address"), name)
        annotations = metadata.get("annotations") or {}
        for key in NODE_ADDRESS_ANNOTATIONS:
            _add_address(result, annotations.get(key), name)
    return result


def node_labels(snapshot: Snapshot) -> dict[str, dict[str, str]]:
    """Labels of every node (what AdminNetworkPolicy `nodes` peers select)."""
    result: dict[str, dict[str, str]] = {}
    for node in snapshot.nodes:
        metadata = node.get("metadata") or {}
        name = metadata.get("name")
        result[name] = _string_map(metadata.get("labels"), f"Node {name}", "metadata.labels")
    return result


def _add_address(result: dict[str, str], value: Any, node: str) -> None:
    if not isinstance(value, str) or not value:
        return
    try:
        # Calico writes some addresses with a prefix length ("10.0.0.5/24").
        address = str(ipaddress.ip_interface(value.strip()).ip)
    except ValueError:
        return
    result.setdefault(address, node)


_CANONICAL_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
                             r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")


def canonical_ip(value: str) -> str | None:
    """`value` in canonical form when it is an IP address, else None."""
    if _CANONICAL_IPV4.fullmatch(value):
        return value  # the common case, without building an address object
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


_STRING = {str}


def _string_map(value: Any, where: str, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InventoryError(f"{where}: {field} must be a mapping")
    if {*map(type, value), *map(type, value.values())} == _STRING:
        return dict(value)   # the usual case: strings only
    result = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str | type(None)):
            raise InventoryError(f"{where}: {field}[{key}] must be a string")
        result[key] = item or ""
    return result


class ClusterView(Protocol):
    """What the matrix builder and the explainer read of a cluster (`engine.Cluster` is one):
    its parsed policies and layers, its namespaces' and nodes' labels and its pods."""

    namespace_labels: Mapping[str, dict[str, str]]
    policies: list[Policy]

    def pod(self, key: str) -> PodInfo: ...

    def labels_of_namespace(self, namespace: str) -> dict[str, str]: ...

    def labels_of_node(self, node: str) -> Mapping[str, str]: ...
