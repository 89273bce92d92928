"""The objects every simulated cluster has: system namespaces and the console's CRDs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CRD_DIR = Path(__file__).resolve().parent.parent / "deploy" / "crds"
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


def namespace(name: str, labels: dict[str, str] | None = None,
              annotations: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels or {})}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata,
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def console_crds() -> list[dict[str, Any]]:
    """The CRDs the console installs (Workspace, NamespaceNetworkPolicy), from deploy/crds/."""
    out = []
    for path in sorted(CRD_DIR.glob("*.yaml")):
        out += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return out
