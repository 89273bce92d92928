"""Reading a whole-cluster Snapshot through a gateway: which lists, how many, in parallel."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from cluster.errors import MissingCRDError, NotFoundError
from cluster.kinds import KINDS, Kind
from isolation.snapshot import Snapshot


class Gateway(Protocol):
    """The two reads a snapshot needs (`cluster.gateway.Gateway` provides them); a protocol, so
    this module needs neither the gateway nor the kubernetes client it imports."""

    def get_object(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]: ...

    def list_objects(self, kind: str, namespace: str | None = None, *,
                     managed_fields: bool = True) -> list[dict[str, Any]]: ...

# Kinds (cluster.kinds.KINDS names) read into a Snapshot, in isolation.snapshot.KIND_FIELDS
# order; both tables name a Calico NetworkPolicy "CalicoNetworkPolicy".
SNAPSHOT_KINDS: tuple[str, ...] = (
    "Namespace", "Node", "Pod", "Service", "Endpoints", "EndpointSlice", "Ingress",
    "NetworkPolicy", "Workspace", "NamespaceNetworkPolicy", "IPPool",
    "ConnectivityExpectation", "ClusterConnectivityExpectation",
    "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
    "CalicoNetworkPolicy", "GlobalNetworkPolicy", "Tier", "HostEndpoint", "ServiceAccount",
)
# A snapshot of up to this many namespaces lists each namespace separately; a larger one lists
# cluster-wide and filters, which is cheaper than thousands of small calls.
PER_NAMESPACE_LIMIT = 10
# Kinds are read in parallel: against a real API server most of a list's time is waiting.
SNAPSHOT_THREADS = 4

Read = Callable[[], list[dict[str, Any]]]


def read_snapshot(gateway: Gateway, namespaces: list[str] | None = None, *,
                  strict: bool = False) -> Snapshot:
    """See Gateway.snapshot, which is this function."""
    wanted = None if namespaces is None else sorted(set(namespaces))
    reads = [(KINDS[name], read) for name in SNAPSHOT_KINDS
             for read in _reads(gateway, KINDS[name], wanted)]
    with ThreadPoolExecutor(max_workers=SNAPSHOT_THREADS) as pool:
        futures = [pool.submit(_tolerant, k, read, strict) for k, read in reads]
        results = [future.result() for future in futures]
    snapshot = Snapshot()
    for items in results:
        for item in items:
            snapshot.add(item)
    return snapshot


def _reads(gateway: Gateway, k: Kind, wanted: list[str] | None) -> list[Read]:
    def listing(namespace: str | None = None) -> list[dict[str, Any]]:
        return gateway.list_objects(k.key, namespace, managed_fields=False)

    small = wanted is not None and len(wanted) <= PER_NAMESPACE_LIMIT
    if k.kind == "Namespace" and small:
        return [lambda ns=ns: _existing_namespace(gateway, ns) for ns in wanted or []]
    if k.namespaced and small:
        return [lambda ns=ns: listing(ns) for ns in wanted or []]
    if wanted is None or not (k.namespaced or k.kind == "Namespace"):
        return [listing]
    keep = set(wanted)
    field = "name" if k.kind == "Namespace" else "namespace"
    return [lambda: [o for o in listing() if o.get("metadata", {}).get(field) in keep]]


def _existing_namespace(gateway: Gateway, name: str) -> list[dict[str, Any]]:
    try:
        namespace = gateway.get_object("Namespace", name)
    except NotFoundError:
        return []
    namespace.get("metadata", {}).pop("managedFields", None)
    return [namespace]


def _tolerant(k: Kind, read: Read, strict: bool) -> list[dict[str, Any]]:
    """Run one read; a custom kind the cluster does not serve reads as empty."""
    try:
        return read()
    except MissingCRDError:
        if strict:
            raise
        return []
    except NotFoundError:
        if k.custom:  # a third-party CRD (Calico's kinds, AdminNetworkPolicy) it lacks
            return []
        raise
