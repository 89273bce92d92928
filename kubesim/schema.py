"""How lists of built-in kinds merge: the patchMergeKey / listMapKeys of the Kubernetes API.

Strategic-merge patches and server-side apply both need to know, per field path, whether a list
is a map keyed by some fields, a set of scalars, or atomic (replaced whole). Anything not listed
here is atomic, which is also the rule for custom resources without list-type markers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ListSpec:
    """`smp_key`: strategic-merge key; `keys`: server-side apply map keys; `is_set`: scalar set."""

    smp_key: str | None = None
    keys: tuple[str, ...] = ()
    is_set: bool = False


def _keyed(smp_key: str, *keys: str) -> ListSpec:
    return ListSpec(smp_key=smp_key, keys=keys or (smp_key,))


_SET = ListSpec(is_set=True)
_CONTAINER = {
    "ports": _keyed("containerPort", "containerPort", "protocol"),
    "env": _keyed("name"),
    "volumeMounts": _keyed("mountPath"),
}

COMMON: dict[tuple[str, ...], ListSpec] = {
    ("metadata", "finalizers"): _SET,
    ("metadata", "ownerReferences"): _keyed("uid"),
}

BY_KIND: dict[str, dict[tuple[str, ...], ListSpec]] = {
    "Pod": {
        ("spec", "containers"): _keyed("name"),
        ("spec", "initContainers"): _keyed("name"),
        ("spec", "ephemeralContainers"): _keyed("name"),
        ("spec", "volumes"): _keyed("name"),
        ("spec", "imagePullSecrets"): _keyed("name"),
        **{("spec", "containers", "*", field): spec for field, spec in _CONTAINER.items()},
        **{("spec", "initContainers", "*", field): spec for field, spec in _CONTAINER.items()},
        ("status", "conditions"): _keyed("type"),
        ("status", "podIPs"): _keyed("ip"),
        ("status", "hostIPs"): _keyed("ip"),
    },
    "Node": {
        ("status", "addresses"): _keyed("type"),
        ("status", "conditions"): _keyed("type"),
        ("spec", "taints"): _keyed("key", "key", "effect"),
        ("spec", "podCIDRs"): _SET,
    },
    "Service": {
        ("spec", "ports"): _keyed("port", "port", "protocol"),
        ("status", "conditions"): _keyed("type"),
    },
    "Namespace": {
        ("status", "conditions"): _keyed("type"),
    },
    "Deployment": {
        ("spec", "template", "spec", "containers"): _keyed("name"),
        ("spec", "template", "spec", "volumes"): _keyed("name"),
        **{("spec", "template", "spec", "containers", "*", f): s for f, s in _CONTAINER.items()},
        ("status", "conditions"): _keyed("type"),
    },
    "DaemonSet": {
        ("spec", "template", "spec", "containers"): _keyed("name"),
        **{("spec", "template", "spec", "containers", "*", f): s for f, s in _CONTAINER.items()},
        ("status", "conditions"): _keyed("type"),
    },
}


def list_spec(kind: str, path: tuple[str, ...]) -> ListSpec | None:
    """The merge behaviour of the list at `path` (list items written as "*"); None = atomic."""
    return COMMON.get(path) or BY_KIND.get(kind, {}).get(path)
