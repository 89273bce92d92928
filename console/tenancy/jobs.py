"""Job handlers for the isolation area (registered with console.core.jobs.handler).

Every intent change runs the same way: read the cluster, check the change again (the cluster
may have moved since it was started), write the intent unless it is already in place,
reconcile the generated policies of the namespaces concerned, and record one history entry
with the intent and generated policies before and after and the reachability delta.

Handlers are safe to run again after a transient error or a redelivery: the intent write is
skipped when the cluster already holds it, reconciling writes only what still differs, and a
job records its history entry once.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.utils.translation import gettext_noop

from cluster.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    PermanentClusterError,
    TransientClusterError,
)
from cluster.gateway import Gateway
from console.core import audit, cluster, jobs, tenants
from console.core.audit import OVERRIDE_KIND
from console.core.language import requester_language
from console.core.models import Change
from console.guardrails import services as guardrails
from console.tenancy import intent
from console.tenancy.config import isolation_settings
from console.tenancy.intent import IntentChange
from console.tenancy.reconcile import (
    generated_policies,
    impact_between,
    predicted_snapshot,
    reconcile,
    repair_drift,
    writes_sentence,
)
from console.tenancy.services import IntentError
from isolation import text as sentences
from isolation.compiler.generate import ENGINE_KUBESPHERE
from isolation.compiler.intent import (
    move_project_patch,
    namespaces_affected_by_move,
    project_isolation_patch,
    workspace_isolation_patch,
)
from isolation.compiler.reconcile import differences
from isolation.review.impact import Impact
from isolation.snapshot import KIND_FIELDS, Snapshot
from isolation.text import gettext as _

SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation",
                 "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")
ENTRY_WRITE_ATTEMPTS = 3

Writer = Callable[[Gateway, IntentChange, dict[str, Any]], dict[str, Any] | None]


@jobs.handler(intent.KIND_WORKSPACE_ISOLATION)
def workspace_isolation(ctx: jobs.JobContext) -> dict[str, Any]:
    p = ctx.params
    return run_change(ctx, lambda s: intent.workspace_isolation(s, p["workspace"], p["enabled"]),
                      _write_workspace_isolation)


@jobs.handler(intent.KIND_PROJECT_ISOLATION)
def project_isolation(ctx: jobs.JobContext) -> dict[str, Any]:
    p = ctx.params
    return run_change(ctx, lambda s: intent.project_isolation(s, p["project"], p["enabled"]),
                      _write_project_isolation)


@jobs.handler(intent.KIND_SAVE_ENTRY)
def save_entry(ctx: jobs.JobContext) -> dict[str, Any]:
    p = ctx.params
    return run_change(ctx, lambda s: _entry_change(s, p), _write_entry)


@jobs.handler(intent.KIND_DELETE_ENTRY)
def delete_entry(ctx: jobs.JobContext) -> dict[str, Any]:
    p = ctx.params

    def make(snapshot: Snapshot) -> IntentChange:
        change = intent.delete_entry(snapshot, p["project"], p["name"])
        missing_only = [f for f, _ in change.issues] == ["name"]
        if missing_only and ctx.job.attempts > 1 and intent.find(
                snapshot, "Namespace", p["project"]) is not None:
            # An earlier attempt deleted it already; finish the rest of the job.
            change = IntentChange(change.kind, change.target, change.description, change.done,
                                  project=p["project"], snapshot=snapshot,
                                  namespaces={p["project"]})
        return change

    return run_change(ctx, make, _write_entry_delete)


@jobs.handler(intent.KIND_MOVE_PROJECT)
def move_project(ctx: jobs.JobContext) -> dict[str, Any]:
    p = ctx.params

    def make(snapshot: Snapshot) -> IntentChange:
        change = intent.move_project(snapshot, p["project"], p["workspace"])
        if ctx.job.attempts > 1 and _already_moved(snapshot, change, p["project"],
                                                    p["workspace"]):
            change = _already_done(change, snapshot, "Namespace", p["project"],
                                   namespaces_affected_by_move(snapshot, p["project"]))
        return change

    return run_change(ctx, make, _write_move)


@jobs.handler(intent.KIND_CREATE_WORKSPACE)
def create_workspace(ctx: jobs.JobContext) -> dict[str, Any]:
    p = ctx.params

    def make(snapshot: Snapshot) -> IntentChange:
        change = intent.create_workspace(snapshot, p["workspace"])
        exists = intent.find(snapshot, "Workspace", p["workspace"]) is not None
        if exists and ctx.job.attempts > 1:
            change = _already_done(change, snapshot, "Workspace", p["workspace"], set())
        return change

    return run_change(ctx, make, _write_workspace)


@jobs.handler(intent.KIND_RECONCILE)
def reconcile_job(ctx: jobs.JobContext) -> dict[str, Any]:
    with requester_language(ctx.job.requested_by):
        report = repair_drift(namespaces=ctx.params.get("namespaces"),
                              author=ctx.job.requested_by, job=ctx.job,
                              progress=_progress(ctx, 10, 90))
        return {"message": report.said_summary(), "writes": report.write_count,
                "repairs": [w.sentence() for w in report.writes],
                "conflicts": [str(c) for c in report.plan.conflicts]}


# -- the common course of a change ------------------------------------------------------------

def run_change(ctx: jobs.JobContext, make: Callable[[Snapshot], IntentChange],
               write: Writer) -> dict[str, Any]:
    """Check, write the intent, reconcile, record: the body of every intent-change job.

    The history entry covers the whole job, across all its attempts: the first attempt keeps
    the cluster as it read it (the intent and the generated policies of the scope) in the job
    row, and the entry goes from that first state to the state after the last attempt, so a
    job retried after writing part of its policies still records every policy it wrote, the
    intent it changed and the full reachability delta.
    """
    gw = cluster.gateway()
    settings = isolation_settings()
    ctx.progress(5, gettext_noop("Reading the cluster"))
    before = gw.snapshot()
    with requester_language(ctx.job.requested_by):   # the words of its issues and notes
        change = make(before)
    if change.issues:
        raise PermanentClusterError(_("Nothing was changed: {issues}",
                                      issues=str(IntentError(change.issues))))
    assert change.snapshot is not None
    engine = settings.engine_mode
    kubesphere = engine == ENGINE_KUBESPHERE
    first = ctx.recall(FIRST_ATTEMPT)
    earlier = first is not None
    if first is None:
        first = {"intent_before": list(change.before), "intent_after": list(change.after),
                 "namespaces": sorted(change.namespaces),
                 "generated_before": generated_policies(before.network_policies,
                                                        sorted(change.namespaces), engine)}
        ctx.remember(**{FIRST_ATTEMPT: first})
    snapshot, after_intent = change.snapshot, list(change.after)
    if change.writes_intent:
        ctx.progress(15, change.description)
        written = write(gw, change, ctx.params)
        if written is not None:
            snapshot = intent.with_object(change.snapshot, written)
            after_intent = [written]
        if not ctx.recall(INTENT_WRITTEN):
            ctx.remember(**{INTENT_WRITTEN: True})
        if change.kind in (intent.KIND_WORKSPACE_ISOLATION, intent.KIND_MOVE_PROJECT,
                           intent.KIND_CREATE_WORKSPACE, intent.KIND_PROJECT_ISOLATION):
            tenants.forget()
    scope = sorted(set(change.namespaces) | set(first["namespaces"]))
    outcome = reconcile(gw, snapshot, settings, scope, progress=_progress(ctx, 20, 90))
    first_before = _first_snapshot(before, first, scope, engine) if earlier else before
    intent_written = change.writes_intent or bool(ctx.recall(INTENT_WRITTEN)) or (
        earlier and _objects_differ(first["intent_before"], after_intent))
    if kubesphere:
        # Nothing is written here: record what KubeSphere's controller will make of it.
        generated_before, generated_after = changed_only(
            generated_policies(first_before.network_policies, scope, engine), outcome.desired)
        after = predicted_snapshot(snapshot, outcome.desired, scope, kubesphere=True)
    elif earlier:
        # From the first attempt's policies to those in place now: every write of every
        # attempt, not only the last one's.
        generated_before, generated_after = changed_only(
            generated_policies(first_before.network_policies, scope, engine),
            generated_policies(outcome.policies_after, scope, engine))
        after = outcome.snapshot_after(snapshot)
    else:
        generated_before = [w.before for w in outcome.writes if w.before is not None]
        generated_after = [w.after for w in outcome.writes if w.after is not None]
        after = outcome.snapshot_after(snapshot)
    impact, failure = None, ""
    if intent_written or generated_before or generated_after:
        ctx.progress(92, gettext_noop("Computing the reachability change"))
        impact, failure = impact_between(first_before, after)
    elif scope:
        impact = Impact()   # nothing was written, so nothing can reach more or less
    parts = [_("{done}.", done=change.done) if intent_written else
             _("{done} (the cluster already held this intent).", done=change.done)]
    parts.append(writes_sentence(scope, generated_before, generated_after)
                 if earlier and not kubesphere else outcome.said_summary())
    if impact is not None and not impact.unchanged:
        blocked = len(impact.newly_blocked)
        parts.append(sentences.ngettext(
            "Reachability: {blocked} connection blocked, {allowed} allowed.",
            "Reachability: {blocked} connections blocked, {allowed} allowed.", blocked,
            blocked=blocked, allowed=len(impact.newly_allowed)))
    message = sentences.join(parts)
    problems = list(outcome.plan.conflicts) + ([failure] if failure else [])
    intent_before = first["intent_before"] if earlier else change.before
    # the change this job records (an override given for it is an entry of its own)
    record = Change.objects.filter(job=ctx.job).exclude(kind=OVERRIDE_KIND).first()
    if record is None:
        # The history keeps the sentence (said to each reader in their language) and, in its
        # column, the words its author read.
        with requester_language(ctx.job.requested_by):
            record = audit.record_change(
                kind=change.kind, target=change.target, summary=message,
                author=ctx.job.requested_by, workspace=change.workspace,
                project=change.project, before=intent_before, after=after_intent,
                generated_before=generated_before, generated_after=generated_after,
                impact=impact, job=ctx.job)
    ctx.progress(96, gettext_noop("Checking the guardrails"))
    guardrails.evaluate_after(after, record)
    writes = (len(generated_before) + len(generated_after)
              - len(_keys(generated_before) & _keys(generated_after))) if earlier else (
        outcome.write_count)
    return {"message": message, "intent_written": intent_written,
            "writes": writes, "namespaces": scope, "change": record.pk,
            # sentences kept to be said in the reader's language (Job.shown_result)
            "problems": sentences.dump_all(problems), "notes": sentences.dump_all(change.notes),
            "attempts": ctx.job.attempts}


# What the first attempt of a change keeps in the job row for the later ones.
FIRST_ATTEMPT = "first_attempt"
INTENT_WRITTEN = "intent_written"


def _first_snapshot(now: Snapshot, first: dict[str, Any], scope: list[str],
                    engine: str) -> Snapshot:
    """The cluster as the first attempt read it, rebuilt from `now`: the intent objects and
    the generated policies of the scope put back as they were then."""
    snapshot = now
    known = {_object_key(o) for o in first["intent_before"]}
    for obj in first["intent_after"]:
        if _object_key(obj) not in known and obj.get("kind") in KIND_FIELDS:
            snapshot = intent.with_object(snapshot, obj, remove=True)   # created meanwhile
    for obj in first["intent_before"]:
        if obj.get("kind") in KIND_FIELDS:
            snapshot = intent.with_object(snapshot, obj)
    extra = sorted(set(scope) - set(first["namespaces"]))
    generated = list(first["generated_before"]) + generated_policies(
        now.network_policies, extra, engine)
    return predicted_snapshot(snapshot, generated, scope,
                              kubesphere=engine == ENGINE_KUBESPHERE)


def _object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    metadata = obj.get("metadata") or {}
    return obj.get("kind") or "", metadata.get("namespace") or "", metadata.get("name") or ""


def _objects_differ(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> bool:
    """Whether the intent objects differ, server-set fields aside."""
    return ({_object_key(o): audit.clean(o) for o in before}
            != {_object_key(o): audit.clean(o) for o in after})


def _keys(policies: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {_key(p) for p in policies}


def changed_only(before: list[dict[str, Any]], after: list[dict[str, Any]]
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The generated policies that differ between `before` and `after` (created, changed or
    deleted): what the history keeps, so a change to one project of a large workspace reads
    as its own diff."""
    old = {_key(p): p for p in before}
    new = {_key(p): p for p in after}
    same = {k for k in old.keys() & new.keys() if not differences(new[k], old[k])}
    return ([old[k] for k in sorted(old) if k not in same],
            [new[k] for k in sorted(new) if k not in same])


def _key(policy: dict[str, Any]) -> tuple[str, str]:
    metadata = policy.get("metadata") or {}
    return metadata.get("namespace") or "", metadata.get("name") or ""


def _progress(ctx: jobs.JobContext, start: int, end: int):
    """A reconcile progress callback mapping namespaces done onto start..end percent; the
    database is touched only when the percentage moves."""
    shown = {"percent": -1}

    def report(done: int, total: int, namespace: str) -> None:
        percent = start + (end - start) * done // max(total, 1)
        if percent != shown["percent"] or done == total:
            shown["percent"] = percent
            ctx.progress(percent, sentences.ngettext(
                "Reconciled {namespace} ({done} of {total} project)",
                "Reconciled {namespace} ({done} of {total} projects)", total,
                namespace=namespace, done=done, total=total))

    return report


def _already_done(change: IntentChange, snapshot: Snapshot, kind: str, name: str,
                  namespaces: set[str]) -> IntentChange:
    """An earlier attempt of this job wrote the intent already: carry on from there."""
    current = intent.find(snapshot, kind, name)
    return IntentChange(change.kind, change.target, change.description, change.done,
                        workspace=change.workspace, project=change.project,
                        before=[current] if current else [], after=[current] if current else [],
                        snapshot=snapshot, namespaces=namespaces)


def _already_moved(snapshot: Snapshot, change: IntentChange, project: str,
                   workspace: str) -> bool:
    """Whether the move's one issue is that the project is in `workspace` already (read from
    the cluster, not from the issue's words, which are in whichever language is active)."""
    namespace = intent.find(snapshot, "Namespace", project)
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    return ([name for name, _message in change.issues] == ["workspace"]
            and labels.get(intent.WORKSPACE_LABEL) == workspace
            and intent.find(snapshot, "Workspace", workspace) is not None)


def _entry_change(snapshot: Snapshot, params: dict[str, Any]) -> IntentChange:
    project, name, spec = params["project"], params["name"], params["spec"]
    change = intent.save_entry(snapshot, project, name, spec)
    if change.issues or not change.before:
        return change
    current = change.before[0]
    if intent.same_entry_spec(current.get("spec"), spec):
        return change    # an earlier attempt wrote it, or nothing to change: no write
    if params.get("create"):
        raise PermanentClusterError(_(
            "An allowlist entry named {name} was created in project {project} by someone "
            "else meanwhile; nothing was changed.", name=name, project=project))
    version = params.get("resource_version")
    if version and (current.get("metadata") or {}).get("resourceVersion") != version:
        raise ConflictError(_entry_conflict(project, name))
    return change


def _entry_conflict(project: str, name: str) -> str:
    return _("Allowlist entry {name} of project {project} was changed by someone else since "
             "you opened it, so your change was not saved. Reload the entry and make your "
             "change again.", name=name, project=project)


# -- the intent writers -----------------------------------------------------------------------

def _write_workspace_isolation(gw: Gateway, change: IntentChange,
                               params: dict[str, Any]) -> dict[str, Any]:
    return gw.merge_patch("Workspace", params["workspace"],
                          workspace_isolation_patch(params["enabled"]))


def _write_project_isolation(gw: Gateway, change: IntentChange,
                             params: dict[str, Any]) -> dict[str, Any]:
    return gw.merge_patch("Namespace", params["project"],
                          project_isolation_patch(params["enabled"]))


def _write_move(gw: Gateway, change: IntentChange, params: dict[str, Any]) -> dict[str, Any]:
    return gw.merge_patch("Namespace", params["project"], move_project_patch(params["workspace"]))


def _write_workspace(gw: Gateway, change: IntentChange, params: dict[str, Any]
                     ) -> dict[str, Any]:
    try:
        return gw.create(change.after[0])
    except AlreadyExistsError as exc:
        raise PermanentClusterError(_("Workspace {workspace} was created by someone else "
                                      "meanwhile; nothing was changed.",
                                      workspace=params["workspace"])) from exc


def _write_entry_delete(gw: Gateway, change: IntentChange,
                        params: dict[str, Any]) -> dict[str, Any] | None:
    # Already gone is the outcome the user asked for.
    with contextlib.suppress(NotFoundError):
        gw.delete("NamespaceNetworkPolicy", params["name"], namespace=params["project"])
    return None


def _write_entry(gw: Gateway, change: IntentChange, params: dict[str, Any]) -> dict[str, Any]:
    project, name = params["project"], params["name"]
    body = _without_server_fields(change.after[0])
    if not change.before:
        try:
            return gw.create(body)
        except AlreadyExistsError as exc:
            raise PermanentClusterError(_(
                "An allowlist entry named {name} already exists in project {project}; "
                "nothing was changed.", name=name, project=project)) from exc
    version = params.get("resource_version") or (
        change.before[0].get("metadata") or {}).get("resourceVersion")
    for _attempt in range(ENTRY_WRITE_ATTEMPTS):
        body["metadata"]["resourceVersion"] = version
        try:
            return gw.replace(body)
        except ConflictError:
            if params.get("resource_version"):
                # The user edited a version that is no longer current: theirs is stale.
                raise ConflictError(_entry_conflict(project, name)) from None
        except NotFoundError as exc:
            raise PermanentClusterError(_(
                "Allowlist entry {name} of project {project} was deleted by someone else "
                "meanwhile; nothing was changed.", name=name, project=project)) from exc
        current = gw.get_object("NamespaceNetworkPolicy", name, project)
        metadata = current.get("metadata") or {}
        body["metadata"]["labels"] = metadata.get("labels") or {}
        body["metadata"]["annotations"] = metadata.get("annotations") or {}
        version = metadata.get("resourceVersion")
    raise ConflictError(_("Allowlist entry {name} of project {project} kept changing while "
                          "it was being saved; try again.", name=name, project=project))


def _without_server_fields(obj: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(obj)
    body.pop("status", None)
    metadata = body.setdefault("metadata", {})
    for key in SERVER_FIELDS:
        metadata.pop(key, None)
    return body


RECONCILE_LOCK = "isolation-reconcile-running"
RECONCILE_LOCK_SECONDS = 15 * 60


@shared_task(name="console.tasks.reconcile_cluster", acks_late=True,
             autoretry_for=(TransientClusterError,), retry_backoff=True, retry_backoff_max=60,
             max_retries=3)
def reconcile_cluster() -> str:
    """The periodic drift repair (celery beat): reconcile every namespace and record each
    repair in the history. Runs one at a time; skipped when no cluster is configured."""
    if not cluster.configured():
        return gettext_noop("no cluster configured")
    if not cache.add(RECONCILE_LOCK, "1", timeout=RECONCILE_LOCK_SECONDS):
        return gettext_noop("a reconcile is already running")
    try:
        return repair_drift().summary()
    finally:
        cache.delete(RECONCILE_LOCK)
