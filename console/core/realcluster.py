"""Writing a cluster's objects into a real API server through the gateway, as kubectl and the
cluster's controllers would have: the demo cluster for `manage.py realcluster --seed demo`, and
the console's least-privilege RBAC.

A real server owns some fields: it assigns uids, timestamps and resource versions, ignores a
created object's `status` (kubelets and controllers report it through the status subresource),
and allocates a Service's ClusterIP and NodePorts unless the request names free ones.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cluster.crds import install_crds
from cluster.errors import AlreadyExistsError, NotFoundError
from cluster.gateway import Gateway
from isolation.yamlio import load_documents

RBAC_YAML = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes" / "rbac.yaml"
SERVER_OWNED = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                "selfLink")
# Kinds whose status a kubelet or controller reports; written through the status subresource.
STATUS_KINDS = ("Pod", "Node")


def creatable(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` without the fields a server assigns (and without status, written separately)."""
    out = copy.deepcopy(obj)
    metadata = out.get("metadata") or {}
    for key in SERVER_OWNED:
        metadata.pop(key, None)
    out.pop("status", None)
    return out


def seed(gateway: Gateway, objects: Iterable[dict[str, Any]],
         progress: Callable[[str], None] = lambda _: None) -> int:
    """Create each object (CRDs first and awaited; existing objects such as the system
    namespaces are left as they are), then patch Pod and Node status. Returns how many objects
    were created."""
    objects = list(objects)
    crds = [o for o in objects if o.get("kind") == "CustomResourceDefinition"]
    created = 0
    for crd in crds:
        gateway.apply(creatable(crd), force=True)
    if crds:
        install_crds(gateway)  # the console's own, awaited until served
    for obj in objects:
        if obj.get("kind") == "CustomResourceDefinition":
            continue
        metadata = obj["metadata"]
        if _exists(gateway, obj):
            continue  # what the server made itself: system namespaces, the `kubernetes` Service
        try:
            gateway.create(creatable(obj))
            created += 1
        except AlreadyExistsError:
            continue
        if obj.get("kind") in STATUS_KINDS and obj.get("status"):
            gateway.merge_patch_status(obj["kind"], metadata["name"], obj["status"],
                                       namespace=metadata.get("namespace"))
        progress(f"{obj['kind']} {metadata.get('namespace', '')}/{metadata['name']}")
    return created


def _exists(gateway: Gateway, obj: dict[str, Any]) -> bool:
    # Asked first, because creating a Service whose ClusterIP is taken answers 422, not 409.
    metadata = obj["metadata"]
    try:
        gateway.get_object(obj["kind"], metadata["name"], metadata.get("namespace"))
    except NotFoundError:
        return False
    return True


def apply_rbac(gateway: Gateway, path: Path = RBAC_YAML) -> list[str]:
    """Create the console's namespace, ServiceAccount and least-privilege roles."""
    namespace = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": "isolation-console"}}
    documents = [doc.data for doc in load_documents(path.read_text(encoding="utf-8")) if doc.data]
    written = []
    for obj in [namespace, *documents]:
        gateway.apply(creatable(obj), force=True)
        written.append(f"{obj['kind']} {obj['metadata']['name']}")
    return written
