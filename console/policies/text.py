"""Text for the policy editor: starting templates, YAML of live objects, side-by-side diffs."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from console.core.audit import clean
from isolation.snapshot import NAME_LABEL

API_VERSION = "networking.k8s.io/v1"
NODE_LOCAL_DNS = "169.254.25.10/32"
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


@dataclass(frozen=True)
class PolicyTemplate:
    key: str
    label: str
    description: str
    build: Callable[[str, list[str]], dict[str, Any]]


def _policy(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _namespaces_selector(names: list[str]) -> dict[str, Any]:
    if len(names) == 1:
        return {"matchLabels": {NAME_LABEL: names[0]}}
    return {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": names}]}


TEMPLATES: dict[str, PolicyTemplate] = {t.key: t for t in (
    PolicyTemplate(
        "deny-ingress", "Default deny ingress",
        "Every pod of the project accepts nothing unless another policy allows it.",
        lambda ns, _: _policy("default-deny-ingress", ns, {
            "podSelector": {}, "policyTypes": ["Ingress"]})),
    PolicyTemplate(
        "deny-all", "Default deny all",
        "Nothing in or out of the project's pods unless another policy allows it (DNS too).",
        lambda ns, _: _policy("default-deny-all", ns, {
            "podSelector": {}, "policyTypes": ["Ingress", "Egress"]})),
    PolicyTemplate(
        "allow-same-namespace", "Allow from the same project",
        "Pods of the project accept traffic from every pod of the same project.",
        lambda ns, _: _policy("allow-same-namespace", ns, {
            "podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {}}]}]})),
    PolicyTemplate(
        "allow-from-ingress-controller", "Allow from the ingress controller",
        "Pods of the project accept traffic from the namespaces running the ingress controller.",
        lambda ns, ingress: _policy("allow-from-ingress-controller", ns, {
            "podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": _namespaces_selector(
                ingress or ["ingress-nginx"])}]}]})),
    PolicyTemplate(
        "allow-dns-egress", "Allow DNS egress",
        "Pods of the project may query the cluster DNS (and node-local DNS) on port 53.",
        lambda ns, _: _policy("allow-dns-egress", ns, {
            "podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [
                {"namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}},
                 "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}},
                {"ipBlock": {"cidr": NODE_LOCAL_DNS}}],
                "ports": DNS_PORTS}]})),
)}

BLANK = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: my-policy
  namespace: {namespace}
spec:
  # Which pods of the project this policy applies to; {{}} selects them all.
  podSelector:
    matchLabels:
      app: my-app
  policyTypes:
    - Ingress
  ingress:
    - from:
        - podSelector: {{}}
      ports:
        - protocol: TCP
          port: 8080
"""


def template_yaml(key: str, namespace: str, ingress_namespaces: list[str]) -> str:
    """The YAML of template `key` for `namespace` (a commented skeleton for unknown keys)."""
    template = TEMPLATES.get(key)
    if template is None:
        return BLANK.format(namespace=namespace or "my-project")
    header = f"# {template.label}: {template.description}\n"
    return header + dump(template.build(namespace or "my-project", ingress_namespaces))


def dump(obj: dict[str, Any]) -> str:
    """Block-style YAML in the object's own key order."""
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, allow_unicode=True)


def live_yaml(obj: dict[str, Any]) -> str:
    """What the editor starts from: the live object without server-set fields."""
    return dump(clean(obj))


@dataclass(frozen=True)
class DiffRow:
    """One line pair of a side-by-side diff; kind is equal, change, insert or delete."""

    kind: str
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def side_by_side(before: str, after: str) -> list[DiffRow]:
    """Line pairs of `before` and `after`; changed blocks are paired line by line."""
    left, right = before.splitlines(), after.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffRow("equal", i + 1, left[i], j + 1, right[j])
                     for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            i, j = i1 + k, j1 + k
            has_left, has_right = i < i2, j < j2
            kind = "change" if has_left and has_right else ("delete" if has_left else "insert")
            rows.append(DiffRow(kind, i + 1 if has_left else None, left[i] if has_left else "",
                                j + 1 if has_right else None, right[j] if has_right else ""))
    return rows
