"""Jobs of the policies area: apply a reviewed policy draft (of any kind of
`console.policies.kinds`), and delete a policy.

Both are guarded by the version the user looked at: an edit replaces at the resourceVersion it
started from and a delete carries it as a precondition, so a policy changed meanwhile is never
silently overwritten (the job fails as a conflict and says so). Both are safe to run twice: a
write that already happened is recognised, and each job records at most one history entry.
"""

from __future__ import annotations

import copy
from typing import Any

from django.utils.translation import gettext_noop

from cluster.errors import ClusterError, ConflictError, InvalidError, NotFoundError
from console.core import cluster, jobs
from console.core.audit import OVERRIDE_KIND, record_change
from console.core.language import requester_language
from console.core.models import Change, Job
from console.policies import kinds, services
from console.policies.draft import after_change, target_of
from console.policies.kinds import NETPOL, PolicyKind
from isolation.netpol.model import parse_policy
from isolation.netpol.validation import default_network_policy, validate_network_policy
from isolation.review.impact import Impact, impact_of
from isolation.snapshot import KIND_FIELDS, Snapshot
from isolation.text import Text, ngettext
from isolation.text import gettext as _

CREATE = "create"


@jobs.handler("apply-policy")
def apply_policy(ctx: jobs.JobContext) -> dict[str, Any]:
    """Create the draft, or replace the policy at the version the edit started from; its
    messages and history summary speak the requester's language."""
    with requester_language(ctx.job.requested_by):
        return _apply_policy(ctx)


def _apply_policy(ctx: jobs.JobContext) -> dict[str, Any]:
    params = ctx.params
    namespace, name, mode = params["namespace"], params["name"], params["mode"]
    kind = kinds.KINDS.get(params.get("kind") or NETPOL, kinds.KINDS[NETPOL])
    ref = _ref(namespace, name)
    draft = copy.deepcopy(params["object"])
    ctx.progress(10, gettext_noop("Reading the cluster"))
    before = cluster.snapshot()
    live = _find(before, namespace, name, kind)
    if Change.objects.filter(job=ctx.job).exclude(kind=OVERRIDE_KIND).exists():
        return {"message": _("{ref} was already applied.", ref=ref), **_ids(live, kind)}
    ctx.progress(40, gettext_noop("Writing the policy"))
    gw = cluster.gateway()
    try:
        if mode == CREATE:
            written = gw.create(draft)
        else:
            draft["metadata"]["resourceVersion"] = params["base_version"]
            written = gw.replace(draft)
    except NotFoundError:
        _mark(ctx.job, conflict=True, deleted=True)
        raise ClusterError(_(
            "{ref} was deleted since you started editing it. Nothing was written; you can "
            "create it again from your draft.", ref=ref)) from None
    except ConflictError:
        # The snapshot was read before the write; whoever won the race wrote after it.
        live = _read_live(gw, namespace, name, kind)
        if live is not None and same_policy(live, draft, kind):
            written = live  # an earlier run of this job wrote it before being interrupted
        else:
            _mark(ctx.job, conflict=True, live_version=_version(live))
            raise ClusterError(_conflict_message(mode, namespace, name, params, live)) from None
    except InvalidError as exc:
        details = "; ".join(f"{f}: {m}" if f else m for f, m in exc.causes) or exc.message
        raise ClusterError(_("The API server refused the policy: {details}",
                             details=details)) from None
    ctx.progress(70, gettext_noop("Recording the change and its impact"))
    impact = _impact(before, after_change(before, kind, upsert=written), kind)
    words = {"kind": kind.kind, "ref": ref, "counts": _counts(impact)}
    summary = (_("Created {kind} {ref}{counts}", **words) if live is None
               else _("Replaced {kind} {ref}{counts}", **words))
    record_change(kind="policy-apply", target=target_of(kind, namespace, name), summary=summary,
                  author=ctx.job.requested_by, workspace=ctx.job.workspace, project=namespace,
                  before=[live] if live else [], after=[written], impact=impact, job=ctx.job)
    services.forget()
    message = _("Created {ref}.", ref=ref) if live is None else _("Replaced {ref}.", ref=ref)
    return {"message": message, **_ids(written, kind)}


@jobs.handler("delete-policy")
def delete_policy(ctx: jobs.JobContext) -> dict[str, Any]:
    """Delete the policy if it is still at the version the user confirmed (its messages in
    the requester's language)."""
    with requester_language(ctx.job.requested_by):
        return _delete_policy(ctx)


def _delete_policy(ctx: jobs.JobContext) -> dict[str, Any]:
    params = ctx.params
    namespace, name = params["namespace"], params["name"]
    kind = kinds.KINDS.get(params.get("kind") or NETPOL, kinds.KINDS[NETPOL])
    ref = _ref(namespace, name)
    ctx.progress(10, gettext_noop("Reading the cluster"))
    before = cluster.snapshot()
    live = _find(before, namespace, name, kind)
    if live is None:
        return {"message": _("{ref} was already deleted.", ref=ref)}
    ctx.progress(40, gettext_noop("Deleting the policy"))
    try:
        cluster.gateway().delete(kind.key, name, namespace=namespace or None,
                                 resource_version=params.get("resource_version") or None)
    except NotFoundError:
        return {"message": _("{ref} was already deleted.", ref=ref)}
    except ConflictError:
        _mark(ctx.job, conflict=True, live_version=_version(live))
        raise ClusterError(_(
            "{ref} changed after you reviewed its deletion. Nothing was deleted: review the "
            "deletion again.", ref=ref)) from None
    ctx.progress(70, gettext_noop("Recording the change and its impact"))
    impact = _impact(before, after_change(before, kind, remove=(namespace, name)), kind)
    record_change(kind="policy-delete", target=target_of(kind, namespace, name),
                  summary=_("Deleted {kind} {ref}{counts}", kind=kind.kind, ref=ref,
                            counts=_counts(impact)),
                  author=ctx.job.requested_by, workspace=ctx.job.workspace, project=namespace,
                  before=[live], after=[], impact=impact, job=ctx.job)
    services.forget()
    return {"message": _("Deleted {ref}.", ref=ref), "namespace": namespace, "name": name,
            "kind": kind.slug}


def same_policy(a: dict[str, Any], b: dict[str, Any], kind: PolicyKind | None = None) -> bool:
    """Whether two NetworkPolicies mean the same: same rules once defaulted, same labels and
    annotations (server-set fields and the order of map keys do not count). Objects of the
    other kinds: the same spec, labels and annotations."""
    meta_a, meta_b = a.get("metadata") or {}, b.get("metadata") or {}
    if kind is not None and kind.slug != NETPOL:
        return (a.get("spec") or {}) == (b.get("spec") or {}) and all(
            (meta_a.get(k) or {}) == (meta_b.get(k) or {}) for k in ("labels", "annotations"))
    if validate_network_policy(a) or validate_network_policy(b):
        return False
    rules_a = parse_policy(default_network_policy(a))
    rules_b = parse_policy(default_network_policy(b))
    meta_a, meta_b = a.get("metadata") or {}, b.get("metadata") or {}
    return rules_a == rules_b and all(
        (meta_a.get(k) or {}) == (meta_b.get(k) or {}) for k in ("labels", "annotations"))


def _conflict_message(mode: str, namespace: str, name: str, params: dict[str, Any],
                      live: dict[str, Any] | None) -> str:
    if mode == CREATE:
        return _("Someone else created {ref} meanwhile. Nothing was written: compare their "
                 "version with your draft, then apply your draft on top of it.",
                 ref=f"{namespace}/{name}")
    return _("{ref} was changed by someone else since you started editing (version {then} "
             "then, {now} now). Nothing was written: compare the live version with your draft, "
             "then apply your draft on top of it.", ref=f"{namespace}/{name}",
             then=params.get("base_version"), now=_version(live) or _("unknown"))


def _ref(namespace: str, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def _read_live(gw, namespace: str, name: str, kind: PolicyKind) -> dict[str, Any] | None:
    try:
        return gw.get_object(kind.key, name, namespace if kind.namespaced else None)
    except NotFoundError:
        return None


def _find(snapshot: Snapshot, namespace: str, name: str,
          kind: PolicyKind) -> dict[str, Any] | None:
    for policy in getattr(snapshot, KIND_FIELDS[kind.key]):
        meta = policy.get("metadata") or {}
        if (meta.get("namespace") or "") == namespace and meta.get("name") == name:
            return policy
    return None


def _impact(before: Snapshot, after: Snapshot, kind: PolicyKind) -> Impact | None:
    try:
        return impact_of(before, after)
    except ValueError:  # a cluster object the engine cannot read: the change stands regardless
        return None


def _counts(impact: Impact | None) -> Text | str:
    """What a change did to reachability, as the end of its history summary."""
    if impact is None:
        return ""
    if impact.unchanged:
        return _("; reachability unchanged")
    allowed, blocked = len(impact.newly_allowed), len(impact.newly_blocked)
    return _("; newly allows {allowed} and newly blocks {blocked}",
             allowed=ngettext("{count} connection", "{count} connections", allowed,
                              count=allowed),
             blocked=ngettext("{count} connection", "{count} connections", blocked,
                              count=blocked))


def _version(obj: dict[str, Any] | None) -> str:
    return ((obj or {}).get("metadata") or {}).get("resourceVersion", "")


def _ids(obj: dict[str, Any] | None, kind: PolicyKind) -> dict[str, Any]:
    meta = (obj or {}).get("metadata") or {}
    return {"namespace": meta.get("namespace", ""), "name": meta.get("name", ""),
            "resource_version": meta.get("resourceVersion", ""), "kind": kind.slug}


def _mark(job: Job, **result: Any) -> None:
    """Keep why the job failed where the page can read it (a failure keeps `result`)."""
    Job.objects.filter(pk=job.pk).update(result=result)
