"""Isolation intent changes worked out on a Snapshot: checked, applied in memory, scoped.

Each function takes the cluster as a Snapshot and returns an `IntentChange`: the problems
that forbid the change (as (field, message) pairs a form shows), the intent objects before
and after, the snapshot as it will be once the intent is written, and the namespaces whose
generated policies must then be reconciled. Previews, the checks made before a job is
started and the jobs themselves all use these, so they can never disagree. Nothing here
talks to the cluster or the database.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from isolation.compiler.entries import draft_entry_name
from isolation.compiler.intent import (
    NSNP_API_VERSION,
    NSNP_KIND,
    entries_invalidated_by_move,
    entry_object,
    entry_peer_namespaces,
    move_project_patch,
    namespaces_affected_by_move,
    validate_entry,
)
from isolation.compiler.tenancy import (
    ISOLATE_ANNOTATION,
    ISOLATE_ENABLED,
    MODE_PROJECT,
    WORKSPACE_LABEL,
    Tenancy,
    TenancyInputError,
)
from isolation.snapshot import KIND_FIELDS, Snapshot

WORKSPACE_API_VERSION = "tenant.kubesphere.io/v1alpha1"
# KubeSphere v4 lists allowlist entries by these labels; v3 ignores them.
POLICY_TYPE_LABEL = "kubesphere.io/policy-type"
POLICY_TRAFFIC_LABEL = "kubesphere.io/policy-traffic"
_WORKSPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

Issue = tuple[str, str]

KIND_WORKSPACE_ISOLATION = "isolation-workspace"
KIND_PROJECT_ISOLATION = "isolation-project"
KIND_SAVE_ENTRY = "isolation-entry-save"
KIND_DELETE_ENTRY = "isolation-entry-delete"
KIND_MOVE_PROJECT = "isolation-move"
KIND_CREATE_WORKSPACE = "isolation-workspace-create"
KIND_RECONCILE = "isolation-reconcile"


@dataclass
class IntentChange:
    """One intent change, worked out against a snapshot."""

    kind: str
    target: str
    description: str                       # "Turn network isolation on for workspace team-a"
    done: str = ""                         # "Network isolation turned on for workspace team-a"
    workspace: str = ""
    project: str = ""
    issues: list[Issue] = field(default_factory=list)
    before: list[dict[str, Any]] = field(default_factory=list)    # intent objects as they are
    after: list[dict[str, Any]] = field(default_factory=list)     # ... and as they will be
    snapshot: Snapshot | None = None       # the cluster once the intent is written
    namespaces: set[str] = field(default_factory=set)   # to reconcile afterwards
    notes: list[str] = field(default_factory=list)      # worth knowing, not forbidding

    @property
    def valid(self) -> bool:
        return not self.issues

    @property
    def writes_intent(self) -> bool:
        """Whether the intent in the cluster differs from what the change wants."""
        return _strip(self.before) != _strip(self.after)


def _strip(objects: list[dict[str, Any]]) -> list[Any]:
    keep = ("name", "namespace", "labels", "annotations")
    return [({k: (o.get("metadata") or {}).get(k) for k in keep}, o.get("spec"))
            for o in objects]


# -- snapshot access --------------------------------------------------------------------------

def find(snapshot: Snapshot, kind: str, name: str, namespace: str | None = None
         ) -> dict[str, Any] | None:
    """The object of `kind` named `name` (in `namespace`), or None."""
    for obj in getattr(snapshot, KIND_FIELDS[kind]):
        metadata = obj.get("metadata") or {}
        if metadata.get("name") == name and (namespace is None
                                             or metadata.get("namespace") == namespace):
            return obj
    return None


def with_object(snapshot: Snapshot, obj: dict[str, Any], *, remove: bool = False) -> Snapshot:
    """A copy of `snapshot` where `obj` replaces its namesake (or is added, or with `remove`
    is taken out)."""
    attr = KIND_FIELDS[obj["kind"]]
    meta = obj.get("metadata") or {}
    key = (meta.get("namespace"), meta.get("name"))
    copied = Snapshot(**{a: list(getattr(snapshot, a)) for a in KIND_FIELDS.values()})
    kept = [o for o in getattr(copied, attr)
            if ((o.get("metadata") or {}).get("namespace"),
                (o.get("metadata") or {}).get("name")) != key]
    setattr(copied, attr, kept if remove else [*kept, obj])
    return copied


def _tenancy(snapshot: Snapshot) -> tuple[Tenancy | None, list[Issue]]:
    try:
        return Tenancy.from_snapshot(snapshot), []
    except TenancyInputError as exc:
        return None, [("", f"The cluster holds an object the console cannot read: {exc}")]


# -- the changes ------------------------------------------------------------------------------

def workspace_isolation(snapshot: Snapshot, workspace: str, enabled: bool) -> IntentChange:
    """Switch workspace isolation: `spec.networkIsolation` of the Workspace."""
    state = "on" if enabled else "off"
    change = IntentChange(KIND_WORKSPACE_ISOLATION, f"workspace/{workspace}",
                          f"Turn network isolation {state} for workspace {workspace}",
                          f"Network isolation turned {state} for workspace {workspace}",
                          workspace=workspace)
    current = find(snapshot, "Workspace", workspace)
    if current is None:
        change.issues.append(("workspace", f"Workspace {workspace} does not exist."))
        return change
    tenancy, change.issues = _tenancy(snapshot)
    if tenancy is None:
        return change
    updated = copy.deepcopy(current)
    spec = updated.get("spec") if isinstance(updated.get("spec"), dict) else {}
    updated["spec"] = {**spec, "networkIsolation": bool(enabled)}
    change.before, change.after = [current], [updated]
    change.snapshot = with_object(snapshot, updated)
    projects = sorted(p.name for p in tenancy.projects.values() if p.workspace == workspace)
    change.namespaces = set(projects)
    overridden = [p for p in projects if tenancy.projects[p].mode == MODE_PROJECT]
    if overridden:
        change.notes.append(
            f"{_count(overridden, 'project')} of the workspace {_have(overridden)} project "
            f"isolation on, which wins over workspace isolation: {', '.join(overridden)}.")
    if not projects:
        change.notes.append(f"Workspace {workspace} has no projects yet; the switch applies "
                            "to the projects added later.")
    return change


def project_isolation(snapshot: Snapshot, project: str, enabled: bool) -> IntentChange:
    """Switch project isolation: the Namespace annotation. Switching off keeps the
    project's allowlist entries (inactive until it is switched on again)."""
    state = "on" if enabled else "off"
    change = IntentChange(KIND_PROJECT_ISOLATION, f"project/{project}",
                          f"Turn network isolation {state} for project {project}",
                          f"Network isolation turned {state} for project {project}",
                          project=project)
    tenancy, change.issues = _tenancy(snapshot)
    if tenancy is None:
        return change
    info = tenancy.projects.get(project)
    current = find(snapshot, "Namespace", project)
    if info is None or current is None:
        change.issues.append(("project", f"Project {project} does not exist."))
        return change
    change.workspace = info.workspace or ""
    if not info.managed:
        where = (f"workspace {info.workspace}, which does not exist" if info.workspace
                 else "no workspace")
        change.issues.append(("project", f"Project {project} belongs to {where}; network "
                              "isolation applies only to projects of a workspace."))
        return change
    updated = copy.deepcopy(current)
    annotations = dict(updated["metadata"].get("annotations") or {})
    if enabled:
        annotations[ISOLATE_ANNOTATION] = ISOLATE_ENABLED
    elif annotations.get(ISOLATE_ANNOTATION) == ISOLATE_ENABLED:
        del annotations[ISOLATE_ANNOTATION]
    updated["metadata"]["annotations"] = annotations
    change.before, change.after = [current], [updated]
    change.snapshot = with_object(snapshot, updated)
    change.namespaces = {project}
    entries = tenancy.entries.get(project, [])
    if not enabled and entries:
        change.notes.append(f"The project's {_count(entries, 'allowlist entry')} "
                            f"{'is' if len(entries) == 1 else 'are'} kept and "
                            f"{'becomes' if len(entries) == 1 else 'become'} active "
                            "again when project isolation is switched back on.")
    if not enabled and info.workspace_isolation:
        change.notes.append(f"Workspace {info.workspace} is isolated, so the project stays "
                            "isolated at workspace level.")
    return change


def save_entry(snapshot: Snapshot, project: str, name: str | None,
               spec: dict[str, Any]) -> IntentChange:
    """Create (name None: a generated `policy-from-…`/`policy-to-…` name) or replace an
    allowlist entry of `project`. Issues name the spec's fields (`spec.egress[0].to[1]…`)."""
    existing = find(snapshot, "NamespaceNetworkPolicy", name, project) if name else None
    entry_name = name or new_entry_name(snapshot, project, spec)
    verb, past = ("Change", "changed") if existing is not None else ("Add", "added")
    change = IntentChange(KIND_SAVE_ENTRY, f"project/{project}/entry/{entry_name}",
                          f"{verb} allowlist entry {entry_name} of project {project}",
                          f"Allowlist entry {entry_name} of project {project} {past}",
                          project=project)
    if not isinstance(spec, dict):
        change.issues.append(("spec", "must be a mapping with ingress or egress rules"))
        return change
    entry = entry_object(project, entry_name, copy.deepcopy(spec))
    if existing is not None:
        metadata = copy.deepcopy(existing.get("metadata") or {})
        entry["metadata"] = {**metadata, "name": entry_name, "namespace": project}
        if same_entry_spec(existing.get("spec"), spec):
            entry["spec"] = copy.deepcopy(existing.get("spec"))   # nothing to write
    else:
        entry["metadata"]["labels"] = _entry_labels(spec)
    try:
        issues = validate_entry(entry, snapshot)
    except TenancyInputError as exc:
        change.issues.append(("", f"The cluster holds an object the console cannot read: "
                              f"{exc}"))
        return change
    change.issues = [(issue.field, issue.message) for issue in issues]
    if change.issues:
        return change
    tenancy = Tenancy.from_snapshot(snapshot)
    change.workspace = tenancy.workspace_of(project) or ""
    change.before = [existing] if existing is not None else []
    change.after = [entry]
    change.snapshot = with_object(snapshot, entry)
    change.namespaces = {project}
    if tenancy.mode(project) != MODE_PROJECT:
        change.notes.append(f"Project isolation is off for {project}: the entry is kept but "
                            "inactive until project isolation is switched on.")
    return change


def delete_entry(snapshot: Snapshot, project: str, name: str) -> IntentChange:
    """Delete an allowlist entry; its generated `nsnp-<name>` goes with it."""
    change = IntentChange(KIND_DELETE_ENTRY, f"project/{project}/entry/{name}",
                          f"Delete allowlist entry {name} of project {project}",
                          f"Allowlist entry {name} of project {project} deleted",
                          project=project)
    existing = find(snapshot, "NamespaceNetworkPolicy", name, project)
    if existing is None:
        change.issues.append(("name", f"Project {project} has no allowlist entry named "
                              f"{name}."))
        return change
    tenancy, change.issues = _tenancy(snapshot)
    change.workspace = (tenancy.workspace_of(project) or "") if tenancy else ""
    change.before, change.after = [existing], []
    change.snapshot = with_object(snapshot, existing, remove=True)
    change.namespaces = {project}
    return change


def move_project(snapshot: Snapshot, project: str, workspace: str) -> IntentChange:
    """Move a project into another workspace (its workspace label)."""
    change = IntentChange(KIND_MOVE_PROJECT, f"project/{project}",
                          f"Move project {project} to workspace {workspace}",
                          f"Project {project} moved to workspace {workspace}",
                          workspace=workspace, project=project)
    tenancy, change.issues = _tenancy(snapshot)
    if tenancy is None:
        return change
    current = find(snapshot, "Namespace", project)
    if current is None or project not in tenancy.projects:
        change.issues.append(("project", f"Project {project} does not exist."))
    if workspace not in tenancy.workspaces:
        change.issues.append(("workspace", f"Workspace {workspace} does not exist."))
    if change.issues or current is None:
        return change
    if tenancy.projects[project].workspace == workspace:
        change.issues.append(("workspace", f"Project {project} already belongs to workspace "
                              f"{workspace}."))
        return change
    updated = copy.deepcopy(current)
    labels = dict(updated["metadata"].get("labels") or {})
    labels.update(move_project_patch(workspace)["metadata"]["labels"])
    updated["metadata"]["labels"] = labels
    change.before, change.after = [current], [updated]
    change.snapshot = with_object(snapshot, updated)
    change.namespaces = namespaces_affected_by_move(snapshot, project)
    broken = entries_invalidated_by_move(snapshot, project, workspace)
    if broken:
        names = ", ".join(f"{ns}/{name}" for ns, name in broken)
        change.notes.append(f"These allowlist entries name {project} and stop working once "
                            f"it leaves their workspace: {names}.")
    return change


def create_workspace(snapshot: Snapshot, name: str) -> IntentChange:
    """Create an empty Workspace (isolation off)."""
    change = IntentChange(KIND_CREATE_WORKSPACE, f"workspace/{name}",
                          f"Create workspace {name}", f"Workspace {name} created",
                          workspace=name)
    if not isinstance(name, str) or not name:
        change.issues.append(("name", "is required"))
    elif len(name) > 63 or not _WORKSPACE_NAME.match(name):
        change.issues.append(("name", "must be at most 63 lower case letters, digits and "
                              "'-', starting and ending with a letter or digit"))
    elif find(snapshot, "Workspace", name) is not None:
        change.issues.append(("name", f"Workspace {name} already exists."))
    if change.issues:
        return change
    workspace = {"apiVersion": WORKSPACE_API_VERSION, "kind": "Workspace",
                 "metadata": {"name": name}, "spec": {"networkIsolation": False}}
    change.after = [workspace]
    change.snapshot = with_object(snapshot, workspace)
    return change


# -- helpers ----------------------------------------------------------------------------------

def new_entry_name(snapshot: Snapshot, project: str, spec: Any) -> str:
    """The deterministic name of a new entry of `project` with `spec`, so a preview names the
    entry exactly as it will be written: derived from the draft, never one of the project's
    existing entries (see isolation.compiler.entries.draft_entry_name)."""
    taken = {(entry.get("metadata") or {}).get("name") for entry in snapshot.nsnps
             if (entry.get("metadata") or {}).get("namespace") == project}
    return draft_entry_name(project, spec, taken)


def _entry_labels(spec: dict[str, Any]) -> dict[str, str]:
    """KubeSphere v4's listing labels, when the entry is of a single direction and traffic."""
    directions = [d for d in ("ingress", "egress") if spec.get(d)]
    labels: dict[str, str] = {}
    if len(directions) == 1:
        labels[POLICY_TYPE_LABEL] = directions[0]
        kinds = {entry_peer_kind(peer) for rule in spec[directions[0]]
                 if isinstance(rule, dict)
                 for peer in (rule.get("from") or rule.get("to") or [])}
        if kinds == {"internal"}:
            labels[POLICY_TRAFFIC_LABEL] = "inside"
        elif kinds == {"external"}:
            labels[POLICY_TRAFFIC_LABEL] = "outside"
    return labels


def same_entry_spec(stored: Any, wanted: Any) -> bool:
    """Whether a stored entry spec is `wanted` once the API server's defaults (port protocol
    TCP) are applied to both."""
    return _defaulted(stored) == _defaulted(wanted)


def _defaulted(spec: Any) -> Any:
    spec = copy.deepcopy(spec)
    if not isinstance(spec, dict):
        return spec
    for direction in ("ingress", "egress"):
        rules = spec.get(direction)
        for rule in rules if isinstance(rules, list) else []:
            ports = rule.get("ports") if isinstance(rule, dict) else None
            for port in ports if isinstance(ports, list) else []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")
    return spec


def entry_peer_kind(peer: Any) -> str:
    """`external` for an ipBlock peer, `internal` for a project or Service peer."""
    return "external" if isinstance(peer, dict) and "ipBlock" in peer else "internal"


def _count(items: list[Any], noun: str) -> str:
    if len(items) == 1:
        return f"1 {noun}"
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{len(items)} {plural}"


def _have(items: list[Any]) -> str:
    return "has" if len(items) == 1 else "have"


__all__ = [
    "IntentChange", "workspace_isolation", "project_isolation", "save_entry", "delete_entry",
    "move_project", "create_workspace", "find", "with_object", "new_entry_name",
    "entry_peer_kind", "entry_peer_namespaces", "same_entry_spec", "NSNP_API_VERSION", "NSNP_KIND",
    "WORKSPACE_LABEL",
]
