"""The resource kinds the console reads and writes, and their REST paths.

One small table drives every generic gateway call, so adding a kind is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Kind:
    """Where a kind lives in the API; `custom` kinds are served only once their CRD exists."""

    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool
    custom: bool = False
    # The table's name for it when another group's kind already has the kind's name (a
    # Calico NetworkPolicy is "CalicoNetworkPolicy" here, and "NetworkPolicy" on the wire).
    name: str = ""

    @property
    def key(self) -> str:
        return self.name or self.kind

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """`plural.group` as the API server names it in messages (`networkpolicies.networking.k8s.io`)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_version_path(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        """The REST path of the collection (no name) or of one object.

        Guarantees: a namespaced kind with no namespace yields the all-namespaces collection;
        names are percent-encoded, so a hostile name cannot change the path.
        """
        parts = [self.group_version_path]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name is not None:
            parts.append(quote(name, safe=""))
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("Namespace", "", "v1", "namespaces", namespaced=False),
    Kind("Node", "", "v1", "nodes", namespaced=False),
    Kind("Pod", "", "v1", "pods", namespaced=True),
    Kind("Service", "", "v1", "services", namespaced=True),
    Kind("Endpoints", "", "v1", "endpoints", namespaced=True),
    Kind("EndpointSlice", "discovery.k8s.io", "v1", "endpointslices", namespaced=True),
    Kind("Ingress", "networking.k8s.io", "v1", "ingresses", namespaced=True),
    Kind("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies", namespaced=True),
    Kind("CustomResourceDefinition", "apiextensions.k8s.io", "v1", "customresourcedefinitions",
         namespaced=False),
    Kind("Workspace", "tenant.kubesphere.io", "v1alpha1", "workspaces", namespaced=False,
         custom=True),
    Kind("NamespaceNetworkPolicy", "network.kubesphere.io", "v1alpha1",
         "namespacenetworkpolicies", namespaced=True, custom=True),
    # Workloads and classes: written only when seeding a cluster (manage.py realcluster).
    Kind("Deployment", "apps", "v1", "deployments", namespaced=True),
    Kind("DaemonSet", "apps", "v1", "daemonsets", namespaced=True),
    Kind("IngressClass", "networking.k8s.io", "v1", "ingressclasses", namespaced=False),
    # Read for their labels (Calico's `serviceAccounts` selectors match them); also written to
    # set up a cluster for the console (deploy/kubernetes/).
    Kind("ServiceAccount", "", "v1", "serviceaccounts", namespaced=True),
    # Access control: written only to set up a cluster for the console (deploy/kubernetes/).
    Kind("ClusterRole", "rbac.authorization.k8s.io", "v1", "clusterroles", namespaced=False),
    Kind("ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", "clusterrolebindings",
         namespaced=False),
    # Calico's own IP pools: read only to learn the encapsulation mode (IPIP / VXLAN).
    Kind("IPPool", "crd.projectcalico.org", "v1", "ippools", namespaced=False, custom=True),
    # Guardrails (deploy/crds/): connectivity expectations; absent CRDs read as none.
    Kind("ConnectivityExpectation", "isolation.tenant-console.io", "v1alpha1",
         "connectivityexpectations", namespaced=True, custom=True),
    Kind("ClusterConnectivityExpectation", "isolation.tenant-console.io", "v1alpha1",
         "clusterconnectivityexpectations", namespaced=False, custom=True),
    # The network-policy-api's cluster-wide policies (read only; absent CRDs read as none).
    Kind("AdminNetworkPolicy", "policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies",
         namespaced=False, custom=True),
    Kind("BaselineAdminNetworkPolicy", "policy.networking.k8s.io", "v1alpha1",
         "baselineadminnetworkpolicies", namespaced=False, custom=True),
    # Calico's policy kinds as its CRDs store them (read only; absent CRDs read as none). With
    # Calico's API server the same objects are also served as projectcalico.org/v3; the CRDs
    # are there either way.
    Kind("NetworkPolicy", "crd.projectcalico.org", "v1", "networkpolicies", namespaced=True,
         custom=True, name="CalicoNetworkPolicy"),
    Kind("GlobalNetworkPolicy", "crd.projectcalico.org", "v1", "globalnetworkpolicies",
         namespaced=False, custom=True),
    Kind("Tier", "crd.projectcalico.org", "v1", "tiers", namespaced=False, custom=True),
    Kind("HostEndpoint", "crd.projectcalico.org", "v1", "hostendpoints", namespaced=False,
         custom=True),
)}

# Kinds written only to set up a cluster (manage.py realcluster), never read or written by the
# console itself, so its least-privilege role (deploy/kubernetes/rbac.yaml) does not grant them.
SETUP_ONLY_KINDS: frozenset[str] = frozenset({
    "Deployment", "DaemonSet", "IngressClass", "ClusterRole", "ClusterRoleBinding"})

# The CRDs this console ships and needs (deploy/crds/).
CONSOLE_CRD_KINDS: tuple[str, ...] = ("Workspace", "NamespaceNetworkPolicy")


def kind_named(name: str) -> Kind:
    """The table entry for a kind name; ValueError naming the supported kinds otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(
            f"kind {name!r} is not supported (supported: {', '.join(sorted(KINDS))})"
        ) from None


def kind_of(obj: dict) -> Kind:
    """The table entry for an object's `apiVersion` and `kind` (never the kind alone: a Calico
    NetworkPolicy is not a networking.k8s.io one); without an apiVersion, the entry named as
    the kind. ValueError for an apiVersion the table does not hold for that kind."""
    name = str(obj.get("kind") or "")
    kind = kind_named(name)
    api_version = obj.get("apiVersion")
    if not api_version or api_version == kind.api_version:
        return kind
    for other in KINDS.values():
        if other.kind == name and other.api_version == api_version:
            return other
    served = ", ".join(k.api_version for k in KINDS.values() if k.kind == name)
    raise ValueError(f"{kind.kind} objects are served as apiVersion {served}, "
                     f"not {api_version}")
