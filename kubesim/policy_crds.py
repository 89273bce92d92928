"""The CustomResourceDefinitions of the policy kinds other projects define, as a cluster running
them serves: AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io,
v1alpha1) and Calico's CRD-stored kinds (crd.projectcalico.org/v1: NetworkPolicy,
GlobalNetworkPolicy, Tier, HostEndpoint, NetworkSet, GlobalNetworkSet). The schemas hold the
fields the API servers require and leave the rest of `spec` open, as the console validates
these objects itself (isolation/)."""

from __future__ import annotations

from typing import Any

ANP_GROUP = "policy.networking.k8s.io"
CALICO_CRD_GROUP = "crd.projectcalico.org"


# kube-apiserver refuses a CRD of a *.k8s.io group without this annotation; "unapproved" says
# this copy is not the project's own (it is accepted, and marked so in the CRD's conditions).
_APPROVAL = {ANP_GROUP: {"annotations": {
    "api-approved.kubernetes.io": "unapproved, the console's copy for its simulator and tests"}}}


def _crd(group: str, version: str, kind: str, plural: str, scope: str,
         spec_schema: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = {"type": "object", "x-kubernetes-preserve-unknown-fields": True, **(spec_schema or {})}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}", **_APPROVAL.get(group, {})},
        "spec": {"group": group, "scope": scope,
                 "names": {"plural": plural, "singular": kind.lower(), "kind": kind,
                           "listKind": f"{kind}List"},
                 "versions": [{"name": version, "served": True, "storage": True,
                               **({"subresources": {"status": {}}} if group == ANP_GROUP else {}),
                               "schema": {"openAPIV3Schema": {
                                   "type": "object", "required": ["spec"],
                                   "properties": {"apiVersion": {"type": "string"},
                                                  "kind": {"type": "string"},
                                                  "metadata": {"type": "object"},
                                                  "spec": spec,
                                                  "status": {"type": "object",
                                                             "x-kubernetes-preserve-unknown-fields": True}}}}}]}}


def admin_network_policy_crds() -> list[dict[str, Any]]:
    """AdminNetworkPolicy (priority 0-1000 and a subject required) and
    BaselineAdminNetworkPolicy (a subject required)."""
    return [
        _crd(ANP_GROUP, "v1alpha1", "AdminNetworkPolicy", "adminnetworkpolicies", "Cluster", {
            "required": ["priority", "subject"],
            "properties": {"priority": {"type": "integer", "minimum": 0, "maximum": 1000}}}),
        _crd(ANP_GROUP, "v1alpha1", "BaselineAdminNetworkPolicy", "baselineadminnetworkpolicies",
             "Cluster", {"required": ["subject"]}),
    ]


def calico_policy_crds() -> list[dict[str, Any]]:
    """Calico's policy kinds as its CRDs store them (without the Calico API server)."""
    return [
        _crd(CALICO_CRD_GROUP, "v1", "NetworkPolicy", "networkpolicies", "Namespaced"),
        _crd(CALICO_CRD_GROUP, "v1", "GlobalNetworkPolicy", "globalnetworkpolicies", "Cluster"),
        _crd(CALICO_CRD_GROUP, "v1", "Tier", "tiers", "Cluster"),
        _crd(CALICO_CRD_GROUP, "v1", "HostEndpoint", "hostendpoints", "Cluster"),
        _crd(CALICO_CRD_GROUP, "v1", "NetworkSet", "networksets", "Namespaced"),
        _crd(CALICO_CRD_GROUP, "v1", "GlobalNetworkSet", "globalnetworksets", "Cluster"),
    ]


def policy_crds() -> list[dict[str, Any]]:
    return [*admin_network_policy_crds(), *calico_policy_crds()]
