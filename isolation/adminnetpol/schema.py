"""The `policy.networking.k8s.io/v1alpha1` AdminNetworkPolicy and BaselineAdminNetworkPolicy
schemas, walked by `isolation.netpol.schema.schema_issues` (unknown fields, wrong types).

Field names are those of the released v1alpha1 CRDs (network-policy-api v0.1.x): `subject`
with `namespaces` or `pods`, peers `namespaces` / `pods` (ingress and egress) and `nodes` /
`networks` (egress only), ports `portNumber` / `namedPort` / `portRange`.
"""

from __future__ import annotations

from typing import Any

from isolation.netpol.schema import LABEL_SELECTOR, OBJECT_META, Schema

GROUP = "policy.networking.k8s.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
ADMIN_KIND = "AdminNetworkPolicy"
BASELINE_KIND = "BaselineAdminNetworkPolicy"
KINDS = (ADMIN_KIND, BASELINE_KIND)

NAMESPACED_POD: dict[str, Schema] = {"namespaceSelector": LABEL_SELECTOR,
                                     "podSelector": LABEL_SELECTOR}
SUBJECT: dict[str, Schema] = {"namespaces": LABEL_SELECTOR, "pods": NAMESPACED_POD}
INGRESS_PEER: dict[str, Schema] = {"namespaces": LABEL_SELECTOR, "pods": NAMESPACED_POD}
EGRESS_PEER: dict[str, Schema] = {**INGRESS_PEER, "nodes": LABEL_SELECTOR,
                                  "networks": ("list", "string")}
PORT: dict[str, Schema] = {
    "portNumber": {"protocol": "string", "port": "int32"},
    "namedPort": "string",
    "portRange": {"protocol": "string", "start": "int32", "end": "int32"},
}
CONDITION: dict[str, Schema] = {
    "type": "string", "status": "string", "observedGeneration": "int64",
    "lastTransitionTime": "time", "reason": "string", "message": "string",
}


def _policy_schema(with_priority: bool) -> dict[str, Any]:
    rule = {"name": "string", "action": "string", "ports": ("list", PORT)}
    spec: dict[str, Schema] = {
        "subject": SUBJECT,
        "ingress": ("list", {**rule, "from": ("list", INGRESS_PEER)}),
        "egress": ("list", {**rule, "to": ("list", EGRESS_PEER)}),
    }
    if with_priority:
        spec = {"priority": "int32", **spec}
    return {"apiVersion": "string", "kind": "string", "metadata": OBJECT_META, "spec": spec,
            "status": {"conditions": ("list", CONDITION)}}


ADMIN_NETWORK_POLICY: dict[str, Schema] = _policy_schema(with_priority=True)
BASELINE_ADMIN_NETWORK_POLICY: dict[str, Schema] = _policy_schema(with_priority=False)
