"""Reverting a history entry: put back the objects as they were before it, never over changes
made since.

A change stores its objects before and after (cleaned of resourceVersion). So instead of
comparing resourceVersions, the live object is compared with the change's after object on what
matters (spec and the other top-level fields, labels, annotations): if they differ, someone
changed the object since, and that is a conflict shown to the user, never overwritten. A live
object already equal to its before state needs no write, which makes a retried revert job
finish the remaining work instead of reporting its own writes as conflicts.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.utils import translation
from django.utils.translation import gettext_noop, pgettext

from cluster.errors import (
    ClusterError,
    NotFoundError,
    PermanentClusterError,
    TransientClusterError,
)
from console.core import cluster, jobs
from console.core.audit import record_change, to_yaml
from console.core.language import requester_language
from console.core.models import Change, Job, JobStatus
from console.core.scope import Scope, scoped_delta
from console.guardrails.services import GuardrailCheck, check_change
from console.history.services import diff_page, side_by_side
from console.reachability.delta import DeltaSummary, delta_between
from console.reachability.whatif import INTENT_KINDS, Ref, impact_between, ref_of, snapshot_with
from isolation import text as sentences
from isolation.compiler.generate import IsolationSettings
from isolation.compiler.reconcile import canonical_spec, is_ours
from isolation.review.impact import with_generated_policies
from isolation.snapshot import Snapshot
from isolation.text import Text
from isolation.text import gettext as _

JOB_KIND = "revert-change"
NEVER_DELETED = frozenset({"Namespace", "Workspace"})
# Server-maintained or tool-maintained metadata that says nothing about intent.
IGNORED_LABELS = frozenset({"kubernetes.io/metadata.name"})
IGNORED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})


@dataclass(frozen=True)
class Step:
    """One object of the revert: restore (replace), create, delete, nothing to do, conflict
    (changed since: left alone) or blocked (never done by a revert)."""

    action: str
    ref: Ref
    desired: dict[str, Any] | None = None    # the object as it was before the change
    live: dict[str, Any] | None = None       # the object now
    recorded: dict[str, Any] | None = None   # the object as the change left it

    @property
    def name(self) -> str:
        kind, namespace, name = self.ref
        return f"{kind} {namespace + '/' if namespace else ''}{name}"

    @property
    def sentence(self) -> Text:
        """What the step does, said in the reader's language (no final stop: it is joined and
        titled)."""
        name = self.name
        if self.action == "restore":
            return _("{name} is put back as it was before", name=name)
        if self.action == "create":
            return _("{name}, which the change deleted, is created again", name=name)
        if self.action == "delete":
            return _("{name}, which the change created, is deleted", name=name)
        if self.action == "nothing":
            return _("{name} is already as it was before", name=name)
        if self.action == "conflict":
            return _("{name} changed since the change and is left as it is", name=name)
        return _("{name} is not deleted by a revert", name=name)

    def diff(self) -> dict[str, Any]:
        """What the step writes (now → before), or for a conflict what changed since."""
        if self.action == "conflict":
            old, new = self.recorded, self.live
            labels = (pgettext("diff side", "as the change left it"), pgettext("diff side", "now"))
        else:
            old, new = self.live, self.desired
            labels = (pgettext("diff side", "now"), pgettext("diff side", "after the revert"))
        before, after = to_yaml([old] if old else []), to_yaml([new] if new else [])
        rows = side_by_side(before, after)
        return {"title": self.name, "rows": rows, "changed": before != after,
                "left": labels[0], "right": labels[1], "page": diff_page(rows)}


@dataclass
class RevertPlan:
    change: Change
    steps: list[Step] = field(default_factory=list)
    # sentences, said in the reader's language (a failed job keeps them as such)
    conflicts: list[Text] = field(default_factory=list)
    blockers: list[Text] = field(default_factory=list)
    warnings: list[Text] = field(default_factory=list)

    @property
    def writes(self) -> list[Step]:
        return [s for s in self.steps if s.action in ("restore", "create", "delete")]

    @property
    def possible(self) -> bool:
        return not self.conflicts and not self.blockers


def plan_revert(change: Change, gateway) -> RevertPlan:
    """What reverting `change` would write, read against the live cluster.

    Guarantees: an object changed since the change (or deleted, or re-created) is a conflict;
    Namespaces and Workspaces are never deleted; a change that did not succeed, or that
    recorded no objects, cannot be reverted. Raises ClusterError when the cluster cannot be read.
    """
    plan = RevertPlan(change)
    if change.status != JobStatus.SUCCEEDED:
        plan.blockers.append(_("Only a change that succeeded can be reverted."))
    before = {ref_of(o): o for o in change.before_objects}
    after = {ref_of(o): o for o in change.after_objects}
    if not before and not after:
        plan.blockers.append(
            _("This change recorded no objects, so there is nothing to put back."))
    for ref in list(before) + [r for r in after if r not in before]:
        _plan_object(plan, ref, before.get(ref), after.get(ref), _read(gateway, ref))
    generated = [s.name for s in plan.steps if s.ref[0] == "NetworkPolicy"
                 and is_ours(s.desired or after.get(s.ref) or {})]
    if generated:
        plan.warnings.append(sentences.ngettext(
            "{names} is generated by the isolation engine: its next reconcile rewrites it "
            "from the isolation intent.",
            "{names} are generated by the isolation engine: their next reconcile rewrites "
            "them from the isolation intent.", len(generated), names=", ".join(generated)))
    return plan


def _plan_object(plan: RevertPlan, ref: Ref, want: dict[str, Any] | None,
                 was: dict[str, Any] | None, live: dict[str, Any] | None) -> None:
    name = Step("nothing", ref).name
    action, problem = "nothing", ""
    changed_since = sentences.gettext_noop("{name} changed since this change ({parts}); it "
                                           "is left as it is.")
    if want is None:
        if ref[0] in NEVER_DELETED:
            action = "blocked"
            plan.blockers.append(_("Reverting would delete {name}, with everything in it; "
                                   "delete it yourself if that is what you want.", name=name))
        elif live is not None and was is not None and not same(live, was):
            action, problem = "conflict", changed_since
        elif live is not None:
            action = "delete"
    elif live is not None and same(live, want):
        pass
    elif was is None:
        if live is not None:
            action, problem = "conflict", sentences.gettext_noop(
                "{name} was created again since this change deleted it; it is left as it is.")
        else:
            action = "create"
    elif live is None:
        action, problem = "conflict", sentences.gettext_noop(
            "{name} was deleted since this change; it is left as it is.")
    elif not same(live, was):
        action, problem = "conflict", changed_since
    else:
        action = "restore"
    if problem:
        parts = _parts(was, live) if problem == changed_since else ""
        fields = {"name": name, "parts": parts} if problem == changed_since else {"name": name}
        plan.conflicts.append(_(problem, **fields))
    plan.steps.append(Step(action, ref, want, live, was))


def _parts(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    return ", ".join(differences(expected, actual))


def _read(gateway, ref: Ref) -> dict[str, Any] | None:
    kind, namespace, name = ref
    try:
        return gateway.get_object(kind, name, namespace or None)
    except NotFoundError:
        return None


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata") or {}
    parts = {"labels": {k: v for k, v in (metadata.get("labels") or {}).items()
                        if k not in IGNORED_LABELS},
             "annotations": {k: v for k, v in (metadata.get("annotations") or {}).items()
                             if k not in IGNORED_ANNOTATIONS}}
    for key, value in obj.items():
        if key not in ("apiVersion", "kind", "metadata", "status"):
            parts[key] = value
    if obj.get("kind") == "NetworkPolicy":
        parts["spec"] = canonical_spec(obj)
    return {k: v for k, v in parts.items() if v not in (None, {}, [])}


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Which parts of `actual` differ from `expected` (e.g. ["spec", "annotations"])."""
    a, b = _content(expected), _content(actual)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return not differences(a, b)


# -- preview and start --------------------------------------------------------------------


def preview(plan: RevertPlan, snapshot: Snapshot, settings: IsolationSettings,
            scope: Scope) -> tuple[dict[str, Any], list[str]]:
    """The reachability delta the revert would cause (as `scope` may see it), with notes."""
    upsert = [s.desired for s in plan.writes if s.desired is not None]
    remove = [s.ref for s in plan.writes if s.action == "delete"]
    after = snapshot_with(snapshot, upsert, remove)
    delta, notes = impact_between(snapshot, after, settings, [s.ref for s in plan.writes])
    return scoped_delta(delta, scope), notes


def revert_guardrails(plan: RevertPlan, snapshot: Snapshot, settings: IsolationSettings, user,
                      change: Change) -> GuardrailCheck:
    """The connectivity expectations the revert would newly break, on both sides as the
    isolation engine will leave them when the revert touches intent."""
    upsert = [s.desired for s in plan.writes if s.desired is not None]
    remove = [s.ref for s in plan.writes if s.action == "delete"]
    before, after = snapshot, snapshot_with(snapshot, upsert, remove)
    if any(ref[0] in INTENT_KINDS for ref in (s.ref for s in plan.writes)):
        try:
            before = with_generated_policies(before, settings)[0]
            after = with_generated_policies(after, settings)[0]
        except ValueError:
            pass  # intent that cannot be compiled: checked on the objects as written
    return check_change(user, before, after, key=f"revert:{change.pk}")


def start_revert(user, change: Change) -> Job:
    """Queue the revert of `change` as a job (it plans again before writing anything); the job
    is returned as it stands once queued (already finished when jobs run in-process)."""
    job = jobs.start(JOB_KIND, target=_("change #{number}", number=change.pk), params={"change": change.pk},
                     user=user, workspace=change.workspace, project=change.project)
    job.refresh_from_db()
    return job


# -- the job ------------------------------------------------------------------------------


def run_revert(ctx) -> dict[str, Any]:
    """Revert the change named in the job's params and record the revert as a new change.

    Fails (nothing written) when the plan has conflicts or blockers; when intent objects are
    put back, the generated policies of the projects concerned are reconciled too. The job's
    messages are in the requester's language; the recorded summary is kept as a sentence said
    in each reader's language, its column in the console's default language.
    """
    with requester_language(ctx.job.requested_by):
        return _run_revert(ctx)


def _run_revert(ctx) -> dict[str, Any]:
    from console.tenancy.reconcile import generated_policies, reconcile
    from console.tenancy.services import isolation_settings

    change = Change.objects.get(pk=ctx.params["change"])
    gateway = cluster.gateway()
    ctx.progress(5, gettext_noop("Checking that nothing changed since the change"))
    plan = plan_revert(change, gateway)
    if not plan.possible:
        raise PermanentClusterError(_("Not reverted, nothing was written: {reasons}",
                                      reasons=sentences.join(plan.blockers + plan.conflicts)))
    if not plan.writes:
        return {"message": _("Nothing to do: the objects of change #{number} are already as "
                             "they were before it.", number=change.pk)}
    settings = isolation_settings()
    before = gateway.snapshot()
    written: list[dict[str, Any]] = []
    for number, step in enumerate(plan.writes, start=1):
        ctx.progress(10 + 60 * number // len(plan.writes), step.sentence)
        try:
            result = _write(gateway, step)
        except TransientClusterError:
            raise   # the retry plans again: objects already put back need no second write
        except ClusterError as exc:
            raise PermanentClusterError(sentences.ngettext(
                "{error} ({done} of {count} object was put back before this; revert again "
                "once the cause is fixed).",
                "{error} ({done} of {count} objects were put back before this; revert again "
                "once the cause is fixed).", len(plan.writes),
                error=exc.message, done=number - 1, count=len(plan.writes))) from exc
        if result is not None:
            written.append(result)
    namespaces = _affected_namespaces(plan, before)
    if namespaces:
        ctx.progress(75, gettext_noop("Bringing the generated policies in step"))
        reconcile(gateway, gateway.snapshot(), settings, namespaces)
    ctx.progress(90, gettext_noop("Recording the change"))
    after = gateway.snapshot()
    try:
        impact = DeltaSummary(delta_between(before, after))
    except ValueError:
        impact = None
    scope = sorted(namespaces) if namespaces else None
    generated_before = generated_policies(before.network_policies, scope, settings.engine_mode)
    generated_after = generated_policies(after.network_policies, scope, settings.engine_mode)
    summary = _("Reverted change #{number} ({kind} {target}): {steps}.", number=change.pk,
                kind=change.kind, target=change.shown_target,
                steps=sentences.join([s.sentence for s in plan.writes], "; "))
    with translation.override(django_settings.LANGUAGE_CODE):   # the column's words
        record = record_change(
            kind="revert", target=change.shown_target, author=ctx.job.requested_by,
            summary=summary,
            workspace=change.workspace, project=change.project,
            before=[s.live for s in plan.writes if s.live is not None], after=written,
            generated_before=generated_before if namespaces else [],
            generated_after=generated_after if namespaces else [],
            impact=impact, job=ctx.job, reverts=change)
    message = sentences.ngettext(
        "Change #{number} reverted: {count} object put back. Recorded as change #{new}.",
        "Change #{number} reverted: {count} objects put back. Recorded as change #{new}.",
        len(plan.writes), number=change.pk, count=len(plan.writes), new=record.pk)
    return {"message": message, "change": record.pk}


def _write(gateway, step: Step) -> dict[str, Any] | None:
    kind, namespace, name = step.ref
    if step.action == "delete":
        gateway.delete(kind, name, namespace=namespace or None,
                       resource_version=(step.live.get("metadata") or {}).get("resourceVersion"))
        return None
    obj = copy.deepcopy(step.desired)
    if step.action == "create":
        obj.get("metadata", {}).pop("resourceVersion", None)
        return gateway.create(obj)
    obj.setdefault("metadata", {})["resourceVersion"] = (
        (step.live.get("metadata") or {}).get("resourceVersion"))
    return gateway.replace(obj)


def _affected_namespaces(plan: RevertPlan, snapshot: Snapshot) -> set[str]:
    """Namespaces whose generated policies depend on the intent objects the revert touched."""
    found: set[str] = set()
    for step in plan.writes:
        kind, namespace, name = step.ref
        if kind not in INTENT_KINDS:
            continue
        if kind == "Namespace":
            found.add(name)
        elif kind == "NamespaceNetworkPolicy":
            found.add(namespace)
        else:
            found.update(ref_of(n)[2] for n in snapshot.namespaces
                         if ((n.get("metadata") or {}).get("labels") or {})
                         .get("kubesphere.io/workspace") == name)
    return found
