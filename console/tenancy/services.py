"""Workspace and project network isolation: previews, changes as jobs, and applied state.

What the isolation pages, the management commands and the jobs call. Every change is first
checked against the cluster (`console.tenancy.intent`, which uses `isolation.compiler.intent`):
previews return the problems as `issues`, `start_*` raise `IntentError(issues)`; nothing is
written for bad input. A valid change becomes a Job (`console.tenancy.jobs` does the work):
it writes the intent (Workspace, Namespace, NamespaceNetworkPolicy), reconciles the generated
NetworkPolicies of the namespaces concerned and records one history entry.

Functions that read the cluster raise `cluster.errors.ClusterError` when it cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, ngettext

from cluster.errors import NotFoundError
from console.core import cluster, jobs
from console.core.models import Job
from console.guardrails import services as guardrails
from console.tenancy import intent
from console.tenancy.config import isolation_settings
from console.tenancy.intent import IntentChange, Issue
from console.tenancy.reconcile import (
    compile_intent,
    generated_policies,
    impact_between,
    in_scope,
    predicted_snapshot,
)
from console.tenancy.state import (
    ProjectState,
    WorkspaceState,
    modes_in_effect,
    project_state,
    workspace_state,
)
from isolation.compiler.generate import ENGINE_KUBESPHERE, IsolationSettings
from isolation.compiler.reconcile import plan_reconcile
from isolation.review.impact import Impact
from isolation.snapshot import Snapshot

__all__ = [
    "IntentError", "Preview", "ProjectState", "WorkspaceState", "isolation_settings",
    "preview_workspace_isolation", "preview_project_isolation", "preview_entry",
    "preview_entry_delete", "preview_move", "start_workspace_isolation",
    "start_project_isolation", "start_save_entry", "start_delete_entry", "start_move_project",
    "start_create_workspace", "start_reconcile", "project_state", "workspace_state",
    "modes_in_effect",
]


class IntentError(ValueError):
    """A change refused before anything was written; `issues` are (field, message) pairs."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        super().__init__(_listed([gettext("%(field)s: %(problem)s") % {"field": f, "problem": m}
                                  if f else str(m) for f, m in self.issues]))


@dataclass
class Preview:
    """What a change would do, shown before the user confirms it.

    `issues` non-empty means the change is invalid and nothing may be written. `impact` is
    the reachability change (None when the change is invalid or it could not be computed;
    `problems` then says why). `generated_before` / `generated_after` are the generated
    NetworkPolicies of the namespaces concerned, as they are and as they will be.
    """

    impact: Impact | None = None
    issues: list[Issue] = field(default_factory=list)
    generated_before: list[dict[str, Any]] = field(default_factory=list)
    generated_after: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    summary: str = ""
    name: str = ""                  # the entry name a preview_entry would save under
    namespaces: list[str] = field(default_factory=list)
    # The guardrails the change newly violates (unscoped: see previews.preview_context), the
    # key an override of it is given under, and why they could not be checked.
    new_violations: list[Any] = field(default_factory=list)
    guardrail_key: str = ""
    guardrail_error: str = ""

    @property
    def valid(self) -> bool:
        return not self.issues


# -- previews ---------------------------------------------------------------------------------

def preview_workspace_isolation(workspace: str, enabled: bool) -> Preview:
    """The preview of switching workspace isolation on or off."""
    return _preview(lambda snap: intent.workspace_isolation(snap, workspace, enabled))


def preview_project_isolation(project: str, enabled: bool) -> Preview:
    """The preview of switching project isolation on or off (off keeps the entries)."""
    return _preview(lambda snap: intent.project_isolation(snap, project, enabled))


def preview_entry(project: str, name: str | None, spec: dict[str, Any]) -> Preview:
    """The preview of creating (name None) or replacing an allowlist entry.

    A new entry's name (`preview.name`) is `intent.new_entry_name(...)` of the same draft, which is
    the name `start_save_entry` writes while the project's entries stay as they are."""
    return _preview(lambda snap: intent.save_entry(
        snap, project, name, spec))


def preview_entry_delete(project: str, name: str) -> Preview:
    """The preview of deleting an allowlist entry."""
    return _preview(lambda snap: intent.delete_entry(snap, project, name))


def preview_move(project: str, workspace: str) -> Preview:
    """The preview of moving a project into another workspace."""
    return _preview(lambda snap: intent.move_project(snap, project, workspace))


def _preview(make) -> Preview:
    snapshot = cluster.snapshot()
    change: IntentChange = make(snapshot)
    preview = Preview(issues=list(change.issues),
                      summary=gettext("%(change)s.") % {"change": change.description},
                      name=change.target.rsplit("/", 1)[-1], guardrail_key=_key_of(change))
    if not change.valid or change.snapshot is None:
        return preview
    return fill_preview(preview, change, snapshot, isolation_settings())


def fill_preview(preview: Preview, change: IntentChange, snapshot: Snapshot,
                 settings: IsolationSettings) -> Preview:
    """Complete `preview` of a valid `change` on `snapshot`: generated policies before and
    after, compiler problems and conflicts in scope, the reachability impact and a summary."""
    assert change.snapshot is not None
    scope = sorted(change.namespaces)
    preview.namespaces = scope
    compiled = compile_intent(change.snapshot, settings)
    preview.generated_before = generated_policies(snapshot.network_policies, scope,
                                                  settings.engine_mode)
    preview.generated_after = in_scope(compiled.policies, scope)
    preview.problems = list(change.notes)
    preview.problems += [_problem_text(p.namespace, p.entry, p.message)
                         for p in compiled.problems if p.namespace in set(scope)]
    kubesphere = settings.engine_mode == ENGINE_KUBESPHERE
    if not kubesphere:
        plan = plan_reconcile(compiled.policies, snapshot.network_policies, set(scope))
        preview.problems += plan.conflicts
    after = predicted_snapshot(change.snapshot, preview.generated_after, scope, kubesphere)
    preview.impact, failure = impact_between(snapshot, after)
    if failure:
        preview.problems.append(failure)
    try:
        preview.new_violations = guardrails.newly_violated(snapshot, after)
    except ValueError as exc:
        preview.guardrail_error = gettext("The guardrails could not be checked: %(error)s") % {
            "error": exc}
    preview.summary = _summary(change, preview, kubesphere)
    return preview


def _summary(change: IntentChange, preview: Preview, kubesphere: bool) -> str:
    before = {_key(p) for p in preview.generated_before}
    after = {_key(p) for p in preview.generated_after}
    created, deleted = len(after - before), len(before - after)
    kept = len(after & before)
    parts = []
    if created:
        parts.append(ngettext("%(count)s generated policy to create",
                              "%(count)s generated policies to create", created)
                     % {"count": created})
    if deleted:
        parts.append(gettext("%(count)s to delete") % {"count": deleted})
    if kept:
        parts.append(gettext("%(count)s to keep or rewrite") % {"count": kept})
    sentences = [gettext("%(change)s.") % {"change": change.description}]
    if parts:
        sentences.append((gettext("%(parts)s (KubeSphere's controller will write them).")
                          if kubesphere else gettext("%(parts)s (the console writes them)."))
                         % {"parts": _listed(parts)})
    impact = preview.impact
    if impact is not None:
        if impact.unchanged:
            sentences.append(gettext("Reachability does not change."))
        else:
            blocked, allowed = len(impact.newly_blocked), len(impact.newly_allowed)
            sentences.append(gettext("%(blocked)s and %(allowed)s.") % {
                "blocked": ngettext("%(count)s connection becomes blocked",
                                    "%(count)s connections become blocked", blocked)
                % {"count": blocked},
                "allowed": ngettext("%(count)s becomes allowed", "%(count)s become allowed",
                                    allowed) % {"count": allowed}})
    return " ".join(sentences)


def _listed(parts: list[str]) -> str:
    """`parts` separated by semicolons, as the reader's language separates them."""
    listed = parts[0] if parts else ""
    for part in parts[1:]:
        listed = gettext("%(items)s; %(more)s") % {"items": listed, "more": part}
    return listed


def _problem_text(namespace: str, entry: str, message: str) -> str:
    if entry.startswith("node/"):
        return gettext("Node %(node)s: %(problem)s") % {"node": entry[5:], "problem": message}
    if entry:
        return gettext("Entry %(project)s/%(entry)s: %(problem)s") % {
            "project": namespace, "entry": entry, "problem": message}
    if namespace:
        return gettext("Project %(project)s: %(problem)s") % {"project": namespace,
                                                               "problem": message}
    return message


# -- starting changes -------------------------------------------------------------------------

def start_workspace_isolation(user, workspace: str, enabled: bool) -> Job:
    """Start the job that switches workspace isolation; IntentError when it cannot be."""
    snapshot = _scoped_snapshot(workspaces_only=True)
    make = lambda snap: intent.workspace_isolation(snap, workspace, bool(enabled))  # noqa: E731
    change = _check(make(snapshot))
    override = _guard(user, make)
    return _guarded(user, override, jobs.start(
        intent.KIND_WORKSPACE_ISOLATION, target=f"workspace/{workspace}",
        params={"workspace": workspace, "enabled": bool(enabled)}, user=user,
        workspace=workspace), change)


def start_project_isolation(user, project: str, enabled: bool) -> Job:
    """Start the job that switches project isolation (switching off keeps the entries)."""
    snapshot = _scoped_snapshot(namespaces=[project])
    make = lambda snap: intent.project_isolation(snap, project, bool(enabled))  # noqa: E731
    change = _check(make(snapshot))
    override = _guard(user, make)
    return _guarded(user, override, jobs.start(
        intent.KIND_PROJECT_ISOLATION, target=f"project/{project}",
        params={"project": project, "enabled": bool(enabled)}, user=user,
        workspace=change.workspace, project=project), change)


def start_save_entry(user, project: str, name: str | None, spec: dict[str, Any], *,
                     resource_version: str | None = None) -> Job:
    """Start the job that creates (name None) or replaces an allowlist entry.

    A new entry is written under `intent.new_entry_name(...)` of the draft: the name its preview
    showed.

    With `resource_version` (the version the user edited), an entry changed since is
    refused as a conflict instead of being overwritten.
    """
    namespaces = [project, *sorted(intent.entry_peer_namespaces(spec) - {project})]
    snapshot = _scoped_snapshot(namespaces=namespaces, entries_of=project)
    change = intent.save_entry(snapshot, project,
                               name, spec)
    if change.valid and resource_version and name:
        current = intent.find(snapshot, "NamespaceNetworkPolicy", name or "", project)
        if current is None:
            change.issues.append(("metadata.resourceVersion",
                                  f"Allowlist entry {name} was deleted by someone else since "
                                  "you opened it."))
        elif (current.get("metadata") or {}).get("resourceVersion") != resource_version:
            change.issues.append(("metadata.resourceVersion",
                                  f"Allowlist entry {name} was changed by someone else since "
                                  "you opened it; reload it and make your change again."))
    _check(change)
    entry_name = change.after[0]["metadata"]["name"]
    override = _guard(user, lambda snap: intent.save_entry(snap, project, name, spec))
    return _guarded(user, override, jobs.start(intent.KIND_SAVE_ENTRY, target=change.target, params={
        "project": project, "name": entry_name, "spec": spec, "create": not change.before,
        "resource_version": resource_version or None,
    }, user=user, workspace=change.workspace, project=project), change)


def start_delete_entry(user, project: str, name: str) -> Job:
    """Start the job that deletes an allowlist entry and its generated policy."""
    snapshot = _scoped_snapshot(namespaces=[project], entries_of=project)
    change = _check(intent.delete_entry(snapshot, project, name))
    override = _guard(user, lambda snap: intent.delete_entry(snap, project, name))
    return _guarded(user, override, jobs.start(
        intent.KIND_DELETE_ENTRY, target=change.target,
        params={"project": project, "name": name}, user=user,
        workspace=change.workspace, project=project), change)


def start_move_project(user, project: str, workspace: str) -> Job:
    """Start the job that moves a project into another workspace."""
    snapshot = _scoped_snapshot(namespaces=[project])
    change = _check(intent.move_project(snapshot, project, workspace))
    override = _guard(user, lambda snap: intent.move_project(snap, project, workspace))
    return _guarded(user, override, jobs.start(
        intent.KIND_MOVE_PROJECT, target=f"project/{project}",
        params={"project": project, "workspace": workspace}, user=user,
        workspace=workspace, project=project), change)


def start_create_workspace(user, name: str) -> Job:
    """Start the job that creates an empty workspace (isolation off)."""
    snapshot = _scoped_snapshot(workspaces_only=True)
    _check(intent.create_workspace(snapshot, name))
    return jobs.start(intent.KIND_CREATE_WORKSPACE, target=f"workspace/{name}",
                      params={"workspace": name}, user=user, workspace=name)


def start_reconcile(user=None, namespaces: list[str] | None = None) -> Job:
    """Start a reconcile of the given namespaces (all when None): drift is repaired and
    every repair recorded in the history."""
    scope = sorted(set(namespaces)) if namespaces is not None else None
    target = "cluster" if scope is None else "namespaces/" + ",".join(scope)
    return jobs.start(intent.KIND_RECONCILE, target=target[:512],
                      params={"namespaces": scope}, user=user)


def _check(change: IntentChange) -> IntentChange:
    if change.issues:
        raise IntentError(change.issues)
    return change


def _key_of(change: IntentChange) -> str:
    """What an override of this change is given under (see console.guardrails.services)."""
    return f"{change.kind}:{change.target}"


def _guard(user, make) -> tuple[Any, str] | None:
    """(the check, the override reason) when the change breaks a platform guardrail and
    `user` may apply it anyway; None when it breaks none. IntentError when it breaks one and
    no platform admin's override was given for it. Read only when the cluster has platform
    expectations: the change is then worked out on the whole cluster. A change started with
    no user (a management command, the reconciler) is the operator's own: every request of
    the console passes its user."""
    if user is None or not cluster.gateway().list_objects(guardrails.CLUSTER_KIND):
        return None
    snapshot = cluster.snapshot()
    change = make(snapshot)
    if not change.valid or change.snapshot is None:
        return None
    settings = isolation_settings()
    scope = sorted(change.namespaces)
    kubesphere = settings.engine_mode == ENGINE_KUBESPHERE
    generated = in_scope(compile_intent(change.snapshot, settings).policies, scope)
    after = predicted_snapshot(change.snapshot, generated, scope, kubesphere)
    check = guardrails.check_change(user, snapshot, after, key=_key_of(change))
    try:
        reason = guardrails.require_override(user, check)
    except guardrails.GuardrailBlocked as exc:
        raise IntentError([("guardrails", str(exc))]) from exc
    return (check, reason) if reason else None


def _guarded(user, override: tuple[Any, str] | None, job: Job, change: IntentChange) -> Job:
    """`job`, with the override it was started under recorded in the history."""
    if override is not None:
        check, reason = override
        guardrails.record_override(user, check, reason, target=change.target, job=job,
                                   workspace=change.workspace, project=change.project)
    return job


def _scoped_snapshot(*, namespaces: list[str] = (), workspaces_only: bool = False,
                     entries_of: str | None = None) -> Snapshot:
    """The few objects a check needs, read without listing the whole cluster: the
    Workspaces, the named Namespaces with their Services, and one project's entries."""
    gw = cluster.gateway()
    snapshot = Snapshot(workspaces=gw.list_objects("Workspace"))
    if workspaces_only:
        return snapshot
    for name in namespaces:
        try:
            snapshot.namespaces.append(gw.get_object("Namespace", name))
        except NotFoundError:
            continue
        snapshot.services.extend(gw.list_objects("Service", name))
    if entries_of and any(_name(n) == entries_of for n in snapshot.namespaces):
        snapshot.nsnps.extend(gw.list_objects("NamespaceNetworkPolicy", entries_of))
    return snapshot


def _name(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _key(policy: dict[str, Any]) -> tuple[str, str]:
    metadata = policy.get("metadata") or {}
    return metadata.get("namespace") or "default", metadata.get("name") or ""

