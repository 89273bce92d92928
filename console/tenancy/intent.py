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

from django.utils.translation import gettext, ngettext

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
from isolation.text import Text
from isolation.text import gettext as _

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
    # Sentences (isolation.text), said in the reader's language: a job keeps them as such.
    description: Text | str                # "Turn network isolation on for workspace team-a"
    done: Text | str = ""                  # "Network isolation turned on for workspace team-a"
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
        return None, [("", gettext("The cluster holds an object the console cannot read: "
                                   "%(error)s") % {"error": exc})]


# -- the changes ------------------------------------------------------------------------------

def workspace_isolation(snapshot: Snapshot, workspace: str, enabled: bool) -> IntentChange:
    """Switch workspace isolation: `spec.networkIsolation` of the Workspace."""
    names = {"workspace": workspace}
    change = IntentChange(
        KIND_WORKSPACE_ISOLATION, f"workspace/{workspace}",
        _("Turn network isolation on for workspace {workspace}", **names) if enabled
        else _("Turn network isolation off for workspace {workspace}", **names),
        _("Network isolation turned on for workspace {workspace}", **names) if enabled
        else _("Network isolation turned off for workspace {workspace}", **names),
        workspace=workspace)
    current = find(snapshot, "Workspace", workspace)
    if current is None:
        change.issues.append(("workspace", gettext("Workspace %(workspace)s does not exist.")
                              % names))
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
        change.notes.append(ngettext(
            "%(count)d project of the workspace has project isolation on, which wins over "
            "workspace isolation: %(projects)s.",
            "%(count)d projects of the workspace have project isolation on, which wins over "
            "workspace isolation: %(projects)s.", len(overridden))
            % {"count": len(overridden), "projects": ", ".join(overridden)})
    if not projects:
        change.notes.append(gettext("Workspace %(workspace)s has no projects yet; the switch "
                                    "applies to the projects added later.") % names)
    return change


def project_isolation(snapshot: Snapshot, project: str, enabled: bool) -> IntentChange:
    """Switch project isolation: the Namespace annotation. Switching off keeps the
    project's allowlist entries (inactive until it is switched on again)."""
    names = {"project": project}
    change = IntentChange(
        KIND_PROJECT_ISOLATION, f"project/{project}",
        _("Turn network isolation on for project {project}", **names) if enabled
        else _("Turn network isolation off for project {project}", **names),
        _("Network isolation turned on for project {project}", **names) if enabled
        else _("Network isolation turned off for project {project}", **names),
        project=project)
    tenancy, change.issues = _tenancy(snapshot)
    if tenancy is None:
        return change
    info = tenancy.projects.get(project)
    current = find(snapshot, "Namespace", project)
    if info is None or current is None:
        change.issues.append(("project", gettext("Project %(project)s does not exist.") % names))
        return change
    change.workspace = info.workspace or ""
    if not info.managed:
        if info.workspace:
            issue = gettext("Project %(project)s belongs to workspace %(workspace)s, which does "
                            "not exist; network isolation applies only to projects of a "
                            "workspace.") % {**names, "workspace": info.workspace}
        else:
            issue = gettext("Project %(project)s belongs to no workspace; network isolation "
                            "applies only to projects of a workspace.") % names
        change.issues.append(("project", issue))
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
        change.notes.append(ngettext(
            "The project's %(count)d allowlist entry is kept and becomes active again when "
            "project isolation is switched back on.",
            "The project's %(count)d allowlist entries are kept and become active again when "
            "project isolation is switched back on.", len(entries)) % {"count": len(entries)})
    if not enabled and info.workspace_isolation:
        change.notes.append(gettext("Workspace %(workspace)s is isolated, so the project stays "
                                    "isolated at workspace level.")
                            % {"workspace": info.workspace})
    return change


def save_entry(snapshot: Snapshot, project: str, name: str | None,
               spec: dict[str, Any]) -> IntentChange:
    """Create (name None: a generated `policy-from-…`/`policy-to-…` name) or replace an
    allowlist entry of `project`. Issues name the spec's fields (`spec.egress[0].to[1]…`)."""
    existing = find(snapshot, "NamespaceNetworkPolicy", name, project) if name else None
    entry_name = name or new_entry_name(snapshot, project, spec)
    names = {"entry": entry_name, "project": project}
    if existing is not None:
        description = _("Change allowlist entry {entry} of project {project}", **names)
        done = _("Allowlist entry {entry} of project {project} changed", **names)
    else:
        description = _("Add allowlist entry {entry} of project {project}", **names)
        done = _("Allowlist entry {entry} of project {project} added", **names)
    change = IntentChange(KIND_SAVE_ENTRY, f"project/{project}/entry/{entry_name}",
                          description, done, project=project)
    if not isinstance(spec, dict):
        change.issues.append(("spec", gettext("must be a mapping with ingress or egress rules")))
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
        change.issues.append(("", gettext("The cluster holds an object the console cannot "
                                          "read: %(error)s") % {"error": exc}))
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
        change.notes.append(gettext("Project isolation is off for %(project)s: the entry is "
                                    "kept but inactive until project isolation is switched "
                                    "on.") % {"project": project})
    return change


def delete_entry(snapshot: Snapshot, project: str, name: str) -> IntentChange:
    """Delete an allowlist entry; its generated `nsnp-<name>` goes with it."""
    names = {"entry": name, "project": project}
    change = IntentChange(KIND_DELETE_ENTRY, f"project/{project}/entry/{name}",
                          _("Delete allowlist entry {entry} of project {project}", **names),
                          _("Allowlist entry {entry} of project {project} deleted", **names),
                          project=project)
    existing = find(snapshot, "NamespaceNetworkPolicy", name, project)
    if existing is None:
        change.issues.append(("name", gettext("Project %(project)s has no allowlist entry "
                                              "named %(entry)s.") % names))
        return change
    tenancy, change.issues = _tenancy(snapshot)
    change.workspace = (tenancy.workspace_of(project) or "") if tenancy else ""
    change.before, change.after = [existing], []
    change.snapshot = with_object(snapshot, existing, remove=True)
    change.namespaces = {project}
    return change


def move_project(snapshot: Snapshot, project: str, workspace: str) -> IntentChange:
    """Move a project into another workspace (its workspace label)."""
    names = {"project": project, "workspace": workspace}
    change = IntentChange(KIND_MOVE_PROJECT, f"project/{project}",
                          _("Move project {project} to workspace {workspace}", **names),
                          _("Project {project} moved to workspace {workspace}", **names),
                          workspace=workspace, project=project)
    tenancy, change.issues = _tenancy(snapshot)
    if tenancy is None:
        return change
    current = find(snapshot, "Namespace", project)
    if current is None or project not in tenancy.projects:
        change.issues.append(("project", gettext("Project %(project)s does not exist.") % names))
    if workspace not in tenancy.workspaces:
        change.issues.append(("workspace", gettext("Workspace %(workspace)s does not exist.")
                              % names))
    if change.issues or current is None:
        return change
    if tenancy.projects[project].workspace == workspace:
        change.issues.append(("workspace", gettext("Project %(project)s already belongs to "
                                                   "workspace %(workspace)s.") % names))
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
        change.notes.append(gettext("These allowlist entries name %(project)s and stop "
                                    "working once it leaves their workspace: %(entries)s.")
                            % {**names, "entries": ", ".join(f"{ns}/{name}"
                                                            for ns, name in broken)})
    return change


def create_workspace(snapshot: Snapshot, name: str) -> IntentChange:
    """Create an empty Workspace (isolation off)."""
    names = {"workspace": name}
    change = IntentChange(KIND_CREATE_WORKSPACE, f"workspace/{name}",
                          _("Create workspace {workspace}", **names),
                          _("Workspace {workspace} created", **names), workspace=name)
    if not isinstance(name, str) or not name:
        change.issues.append(("name", gettext("is required")))
    elif len(name) > 63 or not _WORKSPACE_NAME.match(name):
        change.issues.append(("name", gettext("must be at most 63 lower case letters, digits "
                                              "and '-', starting and ending with a letter or "
                                              "digit")))
    elif find(snapshot, "Workspace", name) is not None:
        change.issues.append(("name", gettext("Workspace %(workspace)s already exists.")
                              % names))
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


__all__ = [
    "IntentChange", "workspace_isolation", "project_isolation", "save_entry", "delete_entry",
    "move_project", "create_workspace", "find", "with_object", "new_entry_name",
    "entry_peer_kind", "entry_peer_namespaces", "same_entry_spec", "NSNP_API_VERSION", "NSNP_KIND",
    "WORKSPACE_LABEL",
]
