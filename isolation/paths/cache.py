"""A digest of everything one trace depends on, to key cached traces and diagrams.

The digest changes when the exposure's Service (or Ingress, its controller Service and its
backend Services), their endpoints, the pods and NetworkPolicies (Kubernetes' and Calico's) of
the namespaces involved, any cluster-wide policy (AdminNetworkPolicies, Calico's global policies,
tiers and host endpoints), any Namespace's labels, the nodes, the IP pools, the client address
or the CNI override change, and stays the same when anything else in the cluster changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from isolation.paths.ingress import find_controller, ingress_backends
from isolation.paths.topology import SERVICE_NAME_LABEL, ClusterView, PathInputError
from isolation.snapshot import Snapshot

DIGEST_VERSION = "3"  # bump when the model's rules or words change, so old cached drawings expire


def _ns(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace", "default")


def _name(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _stable(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without bookkeeping that changes when nothing the model reads changed."""
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items()
                if k not in ("managedFields", "resourceVersion", "generation", "creationTimestamp",
                             "uid")}
    return {**obj, "metadata": metadata}


def trace_digest(snapshot: Snapshot, *, service: tuple[str, str] | None = None,
                 ingress: tuple[str, str] | None = None, client_ip: str = "",
                 cni: str | None = None, controller: tuple[str, str] | None = None) -> str:
    """A hex digest of the inputs of `trace(snapshot, ...)` with the same arguments.

    Guarantees: equal inputs give equal digests whatever the order of objects in the snapshot;
    an Ingress whose controller cannot be recognised still gets a digest (of what is known).
    """
    view = ClusterView.of(snapshot)
    namespaces: set[str] = set()
    services: set[tuple[str, str]] = set()
    parts: list[Any] = [DIGEST_VERSION, client_ip, cni or "", list(service or ()), list(ingress or ())]
    if service is not None:
        namespaces.add(service[0])
        services.add(service)
    if ingress is not None:
        namespaces.add(ingress[0])
        ing = view.ingresses.get(ingress)
        if ing is not None:
            parts.append(_stable(ing))
            services.update((b.namespace, b.service) for b in ingress_backends(ing))
            try:
                carrier, _ = find_controller(view, ing, controller)
            except PathInputError:
                carrier = None
            if carrier is not None:
                services.add((_ns(carrier), _name(carrier)))
                namespaces.add(_ns(carrier))
    parts.append(sorted((_stable(s) for key, s in view.services.items() if key in services),
                        key=_sort_key))
    service_namespaces = {namespace for namespace, _ in services}
    parts.append(sorted((_stable(e) for e in view.in_namespaces("endpoints", service_namespaces)
                         if (_ns(e), _name(e)) in services), key=_sort_key))
    parts.append(sorted((_stable(e) for e in view.in_namespaces("endpoint_slices", service_namespaces)
                         if (_ns(e), ((e.get("metadata") or {}).get("labels") or {})
                             .get(SERVICE_NAME_LABEL)) in services), key=_sort_key))
    parts.append(sorted((_stable(p) for p in view.in_namespaces("pods", namespaces)),
                        key=_sort_key))
    parts.append(sorted((_stable(p) for p in view.in_namespaces("network_policies", namespaces)),
                        key=_sort_key))
    # Every policy that can decide before or after the namespaces' own: cluster-wide kinds,
    # and Calico's namespaced policies of the namespaces involved.
    parts.append(sorted((_stable(p) for p in snapshot.calico_network_policies
                         if _ns(p) in namespaces), key=_sort_key))
    parts.append(sorted((_stable(p) for kind in _CLUSTER_POLICY_KINDS
                         for p in getattr(snapshot, kind)), key=_sort_key))
    parts.append(sorted(((_name(n), (n.get("metadata") or {}).get("labels") or {})
                         for n in snapshot.namespaces), key=lambda item: item[0]))
    parts.append(sorted((_stable(n) for n in snapshot.nodes), key=_sort_key))
    parts.append(sorted((_stable(p) for p in snapshot.ip_pools), key=_sort_key))
    encoded = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


_CLUSTER_POLICY_KINDS = ("admin_network_policies", "baseline_admin_network_policies",
                         "calico_global_network_policies", "calico_tiers", "calico_host_endpoints")


def _sort_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    return (str(obj.get("kind", "")), _ns(obj), _name(obj))


__all__ = ["DIGEST_VERSION", "trace_digest"]
