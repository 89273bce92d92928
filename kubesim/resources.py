"""The resource types the simulator serves: built-in kinds and CRD-defined custom resources."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class ResourceType:
    """One REST resource (a plural under a group/version) and how the server treats it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status_subresource: bool = False
    custom: bool = False
    # selectable fields beyond metadata.name / metadata.namespace
    fields: tuple[str, ...] = ()
    # the DELETE answer is the deleted object (pods, services) rather than a Success Status
    returns_deleted: bool = False
    schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Storage key, shared by every version of the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified(self) -> str:
        """How error messages name the resource: `networkpolicies.networking.k8s.io`."""
        return self.key

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def discovery(self) -> list[dict[str, Any]]:
        """The APIResource entries of this resource (and its status subresource)."""
        entry: dict[str, Any] = {
            "name": self.plural, "singularName": self.singular or self.kind.lower(),
            "namespaced": self.namespaced, "kind": self.kind, "verbs": VERBS,
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        if self.status_subresource:
            entries.append({"name": f"{self.plural}/status", "singularName": "",
                            "namespaced": self.namespaced, "kind": self.kind,
                            "verbs": ["get", "patch", "update"]})
        return entries


def _builtin(group: str, plural: str, kind: str, namespaced: bool, **kw: Any) -> ResourceType:
    return ResourceType(group=group, version="v1", plural=plural, kind=kind, namespaced=namespaced, **kw)


BUILTINS: list[ResourceType] = [
    _builtin("", "namespaces", "Namespace", False, short_names=("ns",), status_subresource=True,
             fields=("status.phase",), returns_deleted=True),
    _builtin("", "nodes", "Node", False, short_names=("no",), status_subresource=True,
             fields=("spec.unschedulable",)),
    _builtin("", "pods", "Pod", True, short_names=("po",), categories=("all",), status_subresource=True,
             returns_deleted=True,
             fields=("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                     "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName")),
    _builtin("", "services", "Service", True, short_names=("svc",), categories=("all",),
             status_subresource=True, returns_deleted=True, fields=("spec.clusterIP", "spec.type")),
    _builtin("", "endpoints", "Endpoints", True, short_names=("ep",)),
    _builtin("", "configmaps", "ConfigMap", True, short_names=("cm",)),
    _builtin("", "serviceaccounts", "ServiceAccount", True, short_names=("sa",)),
    _builtin("discovery.k8s.io", "endpointslices", "EndpointSlice", True),
    _builtin("networking.k8s.io", "networkpolicies", "NetworkPolicy", True, short_names=("netpol",)),
    _builtin("networking.k8s.io", "ingresses", "Ingress", True, short_names=("ing",), status_subresource=True),
    _builtin("networking.k8s.io", "ingressclasses", "IngressClass", False),
    _builtin("apps", "deployments", "Deployment", True, short_names=("deploy",), categories=("all",),
             status_subresource=True),
    _builtin("apps", "daemonsets", "DaemonSet", True, short_names=("ds",), categories=("all",),
             status_subresource=True),
    _builtin("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", False,
             short_names=("crd", "crds"), status_subresource=True),
]

# group -> preferred version, for groups that always exist
BUILTIN_GROUPS = ["apps", "networking.k8s.io", "discovery.k8s.io", "apiextensions.k8s.io"]


def crd_resource_types(crd: dict[str, Any]) -> list[ResourceType]:
    """One ResourceType per served version of a CustomResourceDefinition."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    out = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        subresources = version.get("subresources") or spec.get("subresources") or {}
        out.append(ResourceType(
            group=spec.get("group", ""), version=version.get("name", ""), plural=names.get("plural", ""),
            kind=names.get("kind", ""), namespaced=spec.get("scope") == "Namespaced",
            singular=names.get("singular") or names.get("kind", "").lower(),
            short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
            status_subresource="status" in subresources, custom=True, schema=schema,
        ))
    return out


class Registry:
    """Which (group, version, plural) the server answers, built-ins plus registered CRDs.

    Safe to use from many threads: CRDs are registered while requests are being routed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._by_crd: dict[str, list[ResourceType]] = {}
        for rtype in BUILTINS:
            self._types[(rtype.group, rtype.version, rtype.plural)] = rtype

    def _all(self) -> list[tuple[tuple[str, str, str], ResourceType]]:
        with self._lock:
            return sorted(self._types.items())

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        with self._lock:
            return self._types.get((group, version, plural))

    def by_key(self, key: str) -> ResourceType | None:
        """Any served version of the resource stored under `key`."""
        return next((rtype for _k, rtype in self._all() if rtype.key == key), None)

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return next((rtype for _k, rtype in self._all()
                     if rtype.api_version == api_version and rtype.kind == kind), None)

    def register_crd(self, crd: dict[str, Any]) -> None:
        """Serve the resource a CRD defines (replacing what an earlier version of it defined)."""
        name = crd["metadata"]["name"]
        types = crd_resource_types(crd)
        with self._lock:
            for rtype in self._by_crd.pop(name, []):
                self._types.pop((rtype.group, rtype.version, rtype.plural), None)
            for rtype in types:
                self._types[(rtype.group, rtype.version, rtype.plural)] = rtype
            self._by_crd[name] = types

    def unregister_crd(self, name: str) -> list[ResourceType]:
        with self._lock:
            types = self._by_crd.pop(name, [])
            for rtype in types:
                self._types.pop((rtype.group, rtype.version, rtype.plural), None)
            return types

    def group_versions(self) -> dict[str, list[str]]:
        """group -> versions served (core group "" excluded), built-in groups first."""
        out: dict[str, list[str]] = {group: [] for group in BUILTIN_GROUPS}
        for (group, version, _plural), _rtype in self._all():
            if group and version not in out.setdefault(group, []):
                out[group].append(version)
        return {group: versions for group, versions in out.items() if versions}

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [t for (g, v, _p), t in self._all() if g == group and v == version]
