"""Defaulting and validation per kind, as kube-apiserver does them before storing an object."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from isolation.fielderrors import FieldIssue
from isolation.netpol import validation as netpol
from isolation.netpol.formats import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    qualified_name_errors,
)
from kubesim.crds import prepare_crd, validate_custom
from kubesim.errors import cause
from kubesim.resources import ResourceType
from kubesim.services import Allocator, prepare_service

NAME_LABEL = "kubernetes.io/metadata.name"
GENERATION_KINDS = {"NetworkPolicy", "Ingress", "IngressClass", "Deployment", "DaemonSet",
                    "CustomResourceDefinition"}
Causes = list[dict[str, str]]


def name_errors(rtype: ResourceType, name: str) -> list[str]:
    if rtype.kind in ("Namespace", "Service"):
        return dns1123_label_errors(name)
    if rtype.kind == "CustomResourceDefinition":
        return []
    return dns1123_subdomain_errors(name)


def metadata_causes(rtype: ResourceType, metadata: dict[str, Any]) -> Causes:
    """Problems in name, labels and annotations, as ValidateObjectMeta reports them."""
    causes: Causes = []
    name = metadata.get("name") or ""
    if not name:
        causes.append(cause("metadata.name", "Required value: name or generateName is required",
                            "FieldValueRequired"))
    for problem in name_errors(rtype, name) if name else []:
        causes.append(cause("metadata.name", f'Invalid value: "{name}": {problem}'))
    labels = metadata.get("labels") or {}
    if not isinstance(labels, dict):
        return [*causes, cause("metadata.labels", "Invalid value: must be a map of strings", "FieldValueTypeInvalid")]
    for key, value in sorted(labels.items()):
        for problem in qualified_name_errors(str(key)):
            causes.append(cause("metadata.labels", f'Invalid value: "{key}": {problem}'))
        if not isinstance(value, str):
            causes.append(cause(f"metadata.labels.{key}", "Invalid value: must be a string", "FieldValueTypeInvalid"))
            continue
        for problem in label_value_errors(value):
            causes.append(cause("metadata.labels", f'Invalid value: "{value}": {problem}'))
    annotations = metadata.get("annotations") or {}
    if not isinstance(annotations, dict):
        return [*causes, cause("metadata.annotations", "Invalid value: must be a map of strings",
                               "FieldValueTypeInvalid")]
    for key, value in sorted(annotations.items()):
        for problem in qualified_name_errors(str(key).lower()):
            causes.append(cause("metadata.annotations", f'Invalid value: "{key}": {problem}'))
        if not isinstance(value, str):
            causes.append(cause(f"metadata.annotations.{key}", "Invalid value: must be a string",
                                "FieldValueTypeInvalid"))
    return causes


# -- per kind ---------------------------------------------------------------------------------------

def _namespace(obj: dict[str, Any], old: dict[str, Any] | None, ctx: Context) -> Causes:
    metadata = obj["metadata"]
    metadata["labels"] = {**(metadata.get("labels") or {}), NAME_LABEL: metadata["name"]}
    if old is not None:
        obj["spec"] = copy.deepcopy(old.get("spec") or {"finalizers": ["kubernetes"]})
    else:
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}
    return []


def _pod(obj: dict[str, Any], old: dict[str, Any] | None, ctx: Context) -> Causes:
    spec = obj.setdefault("spec", {})
    causes: Causes = []
    containers = spec.get("containers")
    if not containers:
        return [cause("spec.containers", "Required value", "FieldValueRequired")]
    for key, value in (("restartPolicy", "Always"), ("dnsPolicy", "ClusterFirst"),
                       ("terminationGracePeriodSeconds", 30), ("schedulerName", "default-scheduler"),
                       ("serviceAccountName", "default"), ("securityContext", {}), ("enableServiceLinks", True)):
        spec.setdefault(key, value)
    for group in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(group) or []):
            at = f"spec.{group}[{i}]"
            if not container.get("name"):
                causes.append(cause(f"{at}.name", "Required value", "FieldValueRequired"))
            if not container.get("image"):
                causes.append(cause(f"{at}.image", "Required value", "FieldValueRequired"))
            image = str(container.get("image") or "")
            latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
            container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})
            for j, port in enumerate(container.get("ports") or []):
                port.setdefault("protocol", "TCP")
                number = port.get("containerPort")
                if not isinstance(number, int) or not 1 <= number <= 65535:
                    causes.append(cause(f"{at}.ports[{j}].containerPort",
                                        f"Invalid value: {number}: must be between 1 and 65535, inclusive"))
    if old is None:
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    elif _immutable_pod_spec(old.get("spec") or {}) != _immutable_pod_spec(spec):
        causes.append(cause("spec", "Forbidden: pod updates may not change fields other than "
                            "`spec.containers[*].image`, `spec.initContainers[*].image`, "
                            "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing "
                            "tolerations) or `spec.terminationGracePeriodSeconds`", "FieldValueForbidden"))
    return causes


def _immutable_pod_spec(spec: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        out.pop(key, None)
    for group in ("initContainers", "containers"):
        for container in out.get(group) or []:
            container.pop("image", None)
    return out


def _service(obj: dict[str, Any], old: dict[str, Any] | None, ctx: Context) -> Causes:
    return prepare_service(obj, old, ctx.allocator, any_range=ctx.restoring)


def _network_policy(obj: dict[str, Any], old: dict[str, Any] | None, ctx: Context, *,
                    wrong_types: list[FieldIssue] | None = None) -> Causes:
    """`wrong_types`: the values of a wrong type the decoding walk found in `obj` already (a
    default never changes a type), so they are not looked for again."""
    # `obj` is the request's own copy: defaulted in place, not copied once more.
    netpol.apply_network_policy_defaults(obj)
    if wrong_types is None:
        issues = netpol.validate_defaulted_network_policy(obj)
    else:
        issues = wrong_types or netpol.validate_typed_network_policy(obj)
    return [{"reason": issue.reason, "message": issue.message, "field": issue.field}
            for issue in issues if not issue.field.startswith("metadata")]


def _ingress(obj: dict[str, Any], old: dict[str, Any] | None, ctx: Context) -> Causes:
    causes: Causes = []
    for i, rule in enumerate((obj.get("spec") or {}).get("rules") or []):
        for j, path in enumerate(((rule or {}).get("http") or {}).get("paths") or []):
            at = f"spec.rules[{i}].http.paths[{j}]"
            kind = path.get("pathType")
            if kind is None:
                causes.append(cause(f"{at}.pathType", "Required value: pathType must be specified",
                                    "FieldValueRequired"))
            elif kind not in ("Exact", "Prefix", "ImplementationSpecific"):
                causes.append(cause(f"{at}.pathType", f'Unsupported value: "{kind}": supported values: '
                                    '"Exact", "ImplementationSpecific", "Prefix"', "FieldValueNotSupported"))
            if not (path.get("backend") or {}):
                causes.append(cause(f"{at}.backend", "Required value", "FieldValueRequired"))
    obj.setdefault("status", {}).setdefault("loadBalancer", {})
    return causes


def _endpoint_slice(obj: dict[str, Any], old: dict[str, Any] | None, ctx: Context) -> Causes:
    family = obj.get("addressType")
    if family not in ("IPv4", "IPv6", "FQDN"):
        return [cause("addressType", f'Unsupported value: "{family}": supported values: "FQDN", "IPv4", "IPv6"',
                      "FieldValueNotSupported")]
    obj.setdefault("endpoints", [])
    return []


def _crd(obj: dict[str, Any], old: dict[str, Any] | None, ctx: Context) -> Causes:
    return prepare_crd(obj, old, ctx.now())


KIND_HOOKS: dict[str, Callable[[dict[str, Any], dict[str, Any] | None, Context], Causes]] = {
    "Namespace": _namespace, "Pod": _pod, "Service": _service, "NetworkPolicy": _network_policy,
    "Ingress": _ingress, "EndpointSlice": _endpoint_slice, "CustomResourceDefinition": _crd,
}


class Context:
    """What admission needs from the server: the clock and the allocators."""

    def __init__(self, allocator: Allocator, now: Callable[[], str]) -> None:
        self.allocator = allocator
        self.now = now
        # objects restored from a seed or snapshot keep addresses outside the simulator's ranges
        self.restoring = False


def admit(rtype: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None, ctx: Context, *,
          wrong_types: list[FieldIssue] | None = None) -> Causes:
    """Default `obj` in place and return every validation problem (empty when acceptable).

    `old` is the stored object for updates, None for creates. `wrong_types`: for a
    NetworkPolicy, the values of a wrong type its decoding found (see `crud`), else None.
    """
    causes = metadata_causes(rtype, obj.get("metadata") or {})
    hook = KIND_HOOKS.get(rtype.kind) if not rtype.custom else None
    if hook is _network_policy and wrong_types is not None:
        causes += _network_policy(obj, old, ctx, wrong_types=wrong_types)
    elif hook is not None:
        causes += hook(obj, old, ctx)
    elif rtype.custom:
        causes += validate_custom(rtype, obj)
    return causes


def tracks_generation(rtype: ResourceType) -> bool:
    return rtype.custom or rtype.kind in GENERATION_KINDS


def spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether anything outside metadata and status changed (what bumps metadata.generation)."""
    skip = ("metadata", "status", "apiVersion", "kind")
    return {k: v for k, v in old.items() if k not in skip} != {k: v for k, v in new.items() if k not in skip}
