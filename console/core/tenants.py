"""The tenant directory: workspaces, projects and which workspace holds which project.

Read from the cluster (Workspace objects and the `kubesphere.io/workspace` Namespace label) and
cached for a few seconds, because every page's access check needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from console.core import cluster

WORKSPACE_LABEL = "kubesphere.io/workspace"
ISOLATE_ANNOTATION = "kubesphere.io/network-isolate"
CACHE_SECONDS = 5


@dataclass(frozen=True)
class Directory:
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    namespaces: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def workspace_of(self) -> dict[str, str]:
        """Project -> workspace, for projects whose workspace exists."""
        result = {}
        for name, ns in self.namespaces.items():
            ws = ((ns.get("metadata") or {}).get("labels") or {}).get(WORKSPACE_LABEL)
            if ws and ws in self.workspaces:
                result[name] = ws
        return result

    def projects_of(self, workspace: str) -> list[str]:
        return sorted(p for p, w in self.workspace_of.items() if w == workspace)

    def workspace_isolated(self, workspace: str) -> bool:
        return bool(((self.workspaces.get(workspace) or {}).get("spec") or {}).get("networkIsolation"))

    def project_isolated(self, project: str) -> bool:
        annotations = (self.namespaces.get(project, {}).get("metadata") or {}).get("annotations") or {}
        return annotations.get(ISOLATE_ANNOTATION) == "enabled"


def directory(*, fresh: bool = False) -> Directory:
    """The current directory (raises ClusterError when the cluster cannot be read)."""
    key = "tenant-directory"
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    gw = cluster.gateway()
    result = Directory(
        workspaces={o["metadata"]["name"]: o for o in gw.list_objects("Workspace")},
        namespaces={o["metadata"]["name"]: o for o in gw.list_objects("Namespace")},
    )
    cache.set(key, result, CACHE_SECONDS)
    return result


def forget() -> None:
    """Drop the cached directory after a change to workspaces or namespaces."""
    cache.delete("tenant-directory")
