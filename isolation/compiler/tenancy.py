"""The tenancy model read from a Snapshot: workspaces, projects and their isolation intent.

Intent lives in the cluster in KubeSphere's vocabulary (DESIGN §2): a Namespace belongs to
workspace W when it carries the label `kubesphere.io/workspace: W`; the Workspace object's
`spec.networkIsolation: true` switches workspace isolation on; the Namespace annotation
`kubesphere.io/network-isolate: "enabled"` (exactly that value) switches project isolation on;
NamespaceNetworkPolicy objects are the project's allowlist entries.

Objects are read defensively: a field that is present with the wrong type raises
`TenancyInputError` naming the object and the field, so callers can report bad input instead
of failing somewhere deep in the compiler.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from isolation.snapshot import NAME_LABEL, Snapshot
from isolation.text import gettext as _

WORKSPACE_LABEL = "kubesphere.io/workspace"
KUBESPHERE_NAMESPACE_LABEL = "kubesphere.io/namespace"
ISOLATE_ANNOTATION = "kubesphere.io/network-isolate"
ISOLATE_ENABLED = "enabled"
SNAT_NODE_IPS_ANNOTATION = "kubesphere.io/snat-node-ips"
CALICO_IPIP_ANNOTATION = "projectcalico.org/IPv4IPIPTunnelAddr"
CALICO_VXLAN_ANNOTATION = "projectcalico.org/IPv4VXLANTunnelAddr"
CALICO_VXLAN_V6_ANNOTATION = "projectcalico.org/IPv6VXLANTunnelAddr"
CALICO_WIREGUARD_ANNOTATION = "projectcalico.org/IPv4WireguardInterfaceAddr"

MODE_OFF = "off"
MODE_WORKSPACE = "workspace"
MODE_PROJECT = "project"

# Namespaces that hold an ingress controller by convention, even before its pods are seen.
INGRESS_NAMESPACE_NAMES = ("ingress-nginx", "kubesphere-controls-system")

# Pod label patterns of ingress controllers. Each pattern is a set of required labels; a value
# of None means "the key must be absent or equal to 'controller'", which keeps the admission
# webhook jobs and default backends of the same charts out.
_CONTROLLER = None
INGRESS_CONTROLLER_POD_PATTERNS: tuple[dict[str, str | None], ...] = (
    # kubernetes/ingress-nginx chart and manifests; KubeSphere >= 3.2 gateways use this chart
    {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": _CONTROLLER},
    {"app.kubernetes.io/name": "rke2-ingress-nginx", "app.kubernetes.io/component": _CONTROLLER},
    # NGINX Inc. controller (nginxinc/kubernetes-ingress chart and manifests)
    {"app.kubernetes.io/name": "nginx-ingress", "app.kubernetes.io/component": _CONTROLLER},
    {"app": "nginx-ingress", "component": _CONTROLLER},
    {"app": "ingress-nginx", "component": _CONTROLLER},
    {"k8s-app": "nginx-ingress-controller"},
    {"app": "nginx-ingress-controller"},
    # KubeSphere project/cluster gateways
    {"app": "kubesphere-router", "component": _CONTROLLER},
    {"app": "kubesphere", "component": "ks-router"},
    {"app": "kubesphere", "component": "kubesphere-router"},
)


class TenancyInputError(ValueError):
    """A cluster object with a field of the wrong shape; names the object and the field."""

    def __init__(self, kind: str, namespace: str | None, name: str, field_path: str,
                 message: str) -> None:
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.field = field_path
        self.message = message
        ref = f"{namespace}/{name}" if namespace else name
        super().__init__(_("{object}: {field}: {message}", object=f"{kind} {ref}",
                           field=field_path, message=message))


def _ref(obj: dict[str, Any]) -> tuple[str, str | None, str]:
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    namespace = metadata.get("namespace")
    return (str(obj.get("kind", "object")), namespace if isinstance(namespace, str) else None,
            str(metadata.get("name", "?")))


def get_mapping(obj: dict[str, Any], path: str) -> dict[str, Any]:
    """The mapping at dotted `path` of `obj`; {} when absent or null.

    Raises TenancyInputError when a step exists but is not a mapping.
    """
    current: Any = obj
    walked: list[str] = []
    for step in path.split("."):
        walked.append(step)
        current = current.get(step) if isinstance(current, dict) else None
        if current is None:
            return {}
        if not isinstance(current, dict):
            raise TenancyInputError(*_ref(obj), ".".join(walked),
                                    _("must be a mapping, not {type}",
                                      type=type(current).__name__))
    return current


def get_list(obj: dict[str, Any], path: str) -> list[Any]:
    """The list at dotted `path` of `obj`; [] when absent or null (wrong type raises)."""
    parent_path, last = path.rpartition(".")[::2]
    parent = get_mapping(obj, parent_path) if parent_path else obj
    value = parent.get(last)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TenancyInputError(*_ref(obj), path, _("must be a list, not {type}",
                                                    type=type(value).__name__))
    return value


def string_map(obj: dict[str, Any], path: str) -> dict[str, str]:
    """A labels/annotations/selector mapping whose keys and values must all be strings."""
    mapping = get_mapping(obj, path)
    for key, value in mapping.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TenancyInputError(*_ref(obj), f"{path}.{key}",
                                    _("must be a string, not {type}",
                                      type=type(value).__name__))
    return mapping


def name_of(obj: dict[str, Any]) -> str:
    return obj["metadata"]["name"]


def namespace_of(obj: dict[str, Any]) -> str:
    """The object's namespace; `default` when unset, as kubectl would apply it."""
    namespace = obj["metadata"].get("namespace") or "default"
    if not isinstance(namespace, str):
        raise TenancyInputError(*_ref(obj), "metadata.namespace", "must be a string")
    return namespace


@dataclass(frozen=True)
class Project:
    """One Namespace and the isolation intent that applies to it."""

    name: str
    workspace: str | None          # the workspace label value, if any
    workspace_exists: bool         # a Workspace object of that name is in the snapshot
    project_isolation: bool        # annotation is exactly "enabled"
    workspace_isolation: bool      # its Workspace has spec.networkIsolation: true
    labels: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def managed(self) -> bool:
        """Only namespaces of an existing workspace are ever isolated by this engine."""
        return self.workspace is not None and self.workspace_exists

    @property
    def mode(self) -> str:
        """`project` (wins) / `workspace` / `off`; always `off` for unmanaged namespaces."""
        if not self.managed:
            return MODE_OFF
        if self.project_isolation:
            return MODE_PROJECT
        if self.workspace_isolation:
            return MODE_WORKSPACE
        return MODE_OFF


@dataclass
class Tenancy:
    """Indexes of one snapshot that the compiler and the entry validator share."""

    projects: dict[str, Project]
    workspaces: dict[str, dict[str, Any]]
    entries: dict[str, list[dict[str, Any]]]          # namespace -> NSNPs sorted by name
    services: dict[tuple[str, str], dict[str, Any]]   # (namespace, name) -> Service
    pods_by_namespace: dict[str, list[dict[str, Any]]]

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> Tenancy:
        """Index `snapshot`; raises TenancyInputError for misshapen namespaces/workspaces."""
        workspaces: dict[str, dict[str, Any]] = {}
        isolated: dict[str, bool] = {}
        for workspace in snapshot.workspaces:
            workspaces[name_of(workspace)] = workspace
            isolated[name_of(workspace)] = _workspace_isolation(workspace)
        projects: dict[str, Project] = {}
        for namespace in snapshot.namespaces:
            name = name_of(namespace)
            labels = string_map(namespace, "metadata.labels")
            annotations = string_map(namespace, "metadata.annotations")
            workspace = labels.get(WORKSPACE_LABEL) or None
            projects[name] = Project(
                name=name,
                workspace=workspace,
                workspace_exists=workspace in workspaces,
                project_isolation=annotations.get(ISOLATE_ANNOTATION) == ISOLATE_ENABLED,
                workspace_isolation=isolated.get(workspace or "", False),
                labels=labels,
            )
        entries: dict[str, list[dict[str, Any]]] = {}
        for entry in snapshot.nsnps:
            entries.setdefault(namespace_of(entry), []).append(entry)
        for namespace_entries in entries.values():
            namespace_entries.sort(key=name_of)
        services = {(namespace_of(s), name_of(s)): s for s in snapshot.services}
        pods: dict[str, list[dict[str, Any]]] = {}
        for pod in snapshot.pods:
            pods.setdefault(namespace_of(pod), []).append(pod)
        return cls(projects=projects, workspaces=workspaces, entries=entries,
                   services=services, pods_by_namespace=pods)

    def mode(self, namespace: str) -> str:
        project = self.projects.get(namespace)
        return project.mode if project else MODE_OFF

    def workspace_of(self, namespace: str) -> str | None:
        project = self.projects.get(namespace)
        return project.workspace if project else None


def _workspace_isolation(workspace: dict[str, Any]) -> bool:
    # Only a real boolean true counts, as for KubeSphere's *bool field.
    return get_mapping(workspace, "spec").get("networkIsolation") is True


def workspace_of(snapshot: Snapshot) -> dict[str, str]:
    """Namespace -> workspace, for every Namespace carrying the workspace label.

    The label is reported even when no Workspace of that name exists (such a namespace is not
    isolated; see `Project.managed`).
    """
    tenancy = Tenancy.from_snapshot(snapshot)
    return {name: p.workspace for name, p in sorted(tenancy.projects.items())
            if p.workspace is not None}


def projects_of(snapshot: Snapshot, workspace: str) -> list[str]:
    """Names of the namespaces labelled with `workspace`, sorted."""
    return sorted(ns for ns, ws in workspace_of(snapshot).items() if ws == workspace)


def isolation_mode(snapshot: Snapshot, namespace: str) -> str:
    """`project`, `workspace` or `off` for `namespace` (off when unknown or unmanaged)."""
    return Tenancy.from_snapshot(snapshot).mode(namespace)


def _pod_is_live(pod: dict[str, Any]) -> bool:
    phase = get_mapping(pod, "status").get("phase")
    return phase not in ("Succeeded", "Failed")


def _matches_pattern(labels: dict[str, str], pattern: dict[str, str | None]) -> bool:
    for key, wanted in pattern.items():
        if wanted is _CONTROLLER:
            if labels.get(key, "controller") != "controller":
                return False
        elif labels.get(key) != wanted:
            return False
    return True


def detect_ingress_namespaces(snapshot: Snapshot) -> dict[str, str]:
    """Namespaces that run an ingress controller, each with the reason it was recognised.

    The rule: a namespace qualifies when it exists and
      (a) it is named `ingress-nginx` or `kubesphere-controls-system` (where ingress-nginx
          and KubeSphere's gateways are installed), or
      (b) it has a pod (not Succeeded/Failed) whose labels match one of
          INGRESS_CONTROLLER_POD_PATTERNS: ingress-nginx (`app.kubernetes.io/name`), NGINX
          Inc.'s nginx-ingress, the legacy `app`/`k8s-app` labels of both, and KubeSphere's
          routers (`app: kubesphere-router`, `app: kubesphere` + `component: ks-router`),
          with `component` absent or `controller` so webhook jobs and backends don't count.
    Guarantee: the result is sorted by namespace and contains only existing namespaces.
    """
    existing = {name_of(ns) for ns in snapshot.namespaces}
    found: dict[str, str] = {}
    for name in INGRESS_NAMESPACE_NAMES:
        if name in existing:
            found[name] = _("namespace named {name}", name=name)
    for pod in sorted(snapshot.pods, key=lambda p: (namespace_of(p), name_of(p))):
        namespace = namespace_of(pod)
        if namespace in found or namespace not in existing or not _pod_is_live(pod):
            continue
        labels = string_map(pod, "metadata.labels")
        for pattern in INGRESS_CONTROLLER_POD_PATTERNS:
            if _matches_pattern(labels, pattern):
                shown = ", ".join(f"{k}={labels[k]}" for k in pattern if k in labels)
                found[namespace] = _("pod {pod} labelled {labels}", pod=name_of(pod),
                                     labels=shown)
                break
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class NodeAddress:
    """An address node traffic may come from, offered as a rule-2 (SNAT) candidate."""

    node: str
    address: str
    source: str   # "InternalIP", "IPIP tunnel", "VXLAN tunnel", "WireGuard", "snat-node-ips"

    @property
    def cidr(self) -> str:
        ip = ipaddress.ip_address(self.address)
        return f"{ip}/{ip.max_prefixlen}"


def node_address_candidates(snapshot: Snapshot) -> list[NodeAddress]:
    """Every parseable node source address: InternalIPs, Calico tunnel addresses (IPIP,
    VXLAN, WireGuard) and KubeSphere's `kubesphere.io/snat-node-ips` values.

    These are the addresses traffic carries after SNAT or through a tunnel (DESIGN §4), offered
    to the administrator for the SNAT rule. Guarantee: sorted by node, then source, then
    address; unparseable values are left out.
    """
    sources = (
        (CALICO_IPIP_ANNOTATION, _("IPIP tunnel")),
        (CALICO_VXLAN_ANNOTATION, _("VXLAN tunnel")),
        (CALICO_VXLAN_V6_ANNOTATION, _("VXLAN tunnel")),
        (CALICO_WIREGUARD_ANNOTATION, "WireGuard"),
    )
    found: set[NodeAddress] = set()
    for node in snapshot.nodes:
        name = name_of(node)
        for address in get_list(node, "status.addresses"):
            if isinstance(address, dict) and address.get("type") == "InternalIP":
                _add_address(found, name, address.get("address"), "InternalIP")
        annotations = string_map(node, "metadata.annotations")
        for key, source in sources:
            value = annotations.get(key, "")
            _add_address(found, name, value.split("/")[0], source)
        for value in annotations.get(SNAT_NODE_IPS_ANNOTATION, "").split(";"):
            _add_address(found, name, value, "snat-node-ips")
    return sorted(found, key=lambda a: (a.node, a.source, _ip_sort_key(a.address)))


def _add_address(found: set[NodeAddress], node: str, value: Any, source: str) -> None:
    if not isinstance(value, str) or not value.strip():
        return
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return
    found.add(NodeAddress(node=node, address=str(ip), source=source))


def _ip_sort_key(address: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(address)
    return ip.version, int(ip)


def snat_annotation_addresses(snapshot: Snapshot) -> tuple[list[str], list[tuple[str, str]]]:
    """The `kubesphere.io/snat-node-ips` values of all Nodes, pooled, as they were written.

    Returns (addresses, problems) where problems are (node name, message) for values that
    are not IP addresses; those are dropped, as KubeSphere drops them.
    """
    addresses: list[str] = []
    problems: list[tuple[str, str]] = []
    for node in sorted(snapshot.nodes, key=name_of):
        raw = string_map(node, "metadata.annotations").get(SNAT_NODE_IPS_ANNOTATION, "")
        for value in raw.split(";"):
            value = value.strip()
            if not value:
                continue
            try:
                ipaddress.ip_address(value)
            except ValueError:
                problems.append((name_of(node), _(
                    "{annotation}: {value} is not an IP address; it is ignored",
                    annotation=SNAT_NODE_IPS_ANNOTATION, value=repr(value))))
                continue
            addresses.append(value)
    return addresses, problems


def has_name_label(project: Project) -> bool:
    """Whether KubeSphere's own `kubesphere.io/namespace` self label is present and right."""
    return project.labels.get(KUBESPHERE_NAMESPACE_LABEL) == project.name


__all__ = [
    "NAME_LABEL", "WORKSPACE_LABEL", "ISOLATE_ANNOTATION", "MODE_OFF", "MODE_WORKSPACE",
    "MODE_PROJECT", "Project", "Tenancy", "TenancyInputError", "NodeAddress",
    "workspace_of", "projects_of", "isolation_mode", "detect_ingress_namespaces",
    "node_address_candidates", "snat_annotation_addresses",
]
