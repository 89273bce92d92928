"""Keeping the cluster's generated NetworkPolicies in step with the isolation intent.

The pure planner (`isolation.compiler.reconcile.plan_reconcile`) decides what differs; this module reads
the cluster, writes only those differences through the gateway with bounded concurrency,
re-reads and re-plans when someone else changed a policy meanwhile, and reports progress per
namespace. Every write is idempotent (desired state, deterministic names), so a job retried
after a transient error or redelivered after a worker died simply finishes the remaining work.

In engine mode `kubesphere` KubeSphere's own controller writes the policies: nothing is ever
written here, and the comparison only says where the cluster differs from what KubeSphere
will produce.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.utils.translation import gettext

from cluster.errors import (
    ConflictError,
    NotFoundError,
    PermanentClusterError,
    TransientClusterError,
)
from cluster.gateway import Gateway
from console.core import audit, cluster
from console.guardrails import services as guardrails
from console.tenancy.config import isolation_settings
from isolation import text as sentences
from isolation.compiler.generate import (
    ENGINE_KUBESPHERE,
    CompileResult,
    IsolationSettings,
    desired_policies,
)
from isolation.compiler.intent import GENERATED_PREFIX
from isolation.compiler.reconcile import Plan, canonical_spec, differences, is_ours, plan_reconcile
from isolation.compiler.tenancy import Tenancy, TenancyInputError
from isolation.review.impact import Impact, impact_of
from isolation.snapshot import Snapshot
from isolation.text import Text
from isolation.text import gettext as _

Key = tuple[str, str]
Progress = Callable[[int, int, str], None]   # (namespaces done, namespaces in all, namespace)

# How many namespaces are written at the same time; the gateway's connection pool is larger.
DEFAULT_CONCURRENCY = 8
# Re-plan this many times when policies change under us before giving up with a conflict.
CONFLICT_ROUNDS = 3
# Above this many namespaces, policies are listed cluster-wide and filtered.
PER_NAMESPACE_LIST_LIMIT = 10


def concurrency() -> int:
    """Namespaces written in parallel (setting ISOLATION_WRITE_CONCURRENCY, default 8)."""
    return max(1, int(getattr(django_settings, "ISOLATION_WRITE_CONCURRENCY",
                              DEFAULT_CONCURRENCY)))


@dataclass(frozen=True)
class Write:
    """One write made (or, in a dry run, planned): the policy before and after it."""

    action: str                        # "create", "update" or "delete"
    namespace: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def sentence(self) -> str:
        words = {"create": gettext("%(ref)s created"), "update": gettext("%(ref)s rewritten"),
                 "delete": gettext("%(ref)s deleted")}[self.action]
        return words % {"ref": self.ref}


@dataclass
class Outcome:
    """What one reconcile found and did."""

    namespaces: list[str] | None        # the scope; None means every namespace
    engine_mode: str
    compiled: CompileResult
    plan: Plan                           # the plan as first found (drift sentences included)
    writes: list[Write] = field(default_factory=list)
    dry_run: bool = False
    policies_after: list[dict[str, Any]] = field(default_factory=list)   # every NetworkPolicy
    kubesphere_differences: list[str] = field(default_factory=list)
    changes: list[Any] = field(default_factory=list)   # history entries of drift repairs

    @property
    def write_count(self) -> int:
        return len(self.writes)

    @property
    def desired(self) -> list[dict[str, Any]]:
        """The generated policies wanted in the scope."""
        return in_scope(self.compiled.policies, self.namespaces)

    @property
    def in_step(self) -> bool:
        if self.engine_mode == ENGINE_KUBESPHERE:
            return not self.kubesphere_differences
        return self.plan.in_step

    def snapshot_after(self, snapshot: Snapshot) -> Snapshot:
        """`snapshot` with its NetworkPolicies as they are after this reconcile."""
        return snapshot.with_network_policies(self.policies_after)

    def summary(self) -> str:
        """What this reconcile did, in the active language (`said_summary`)."""
        return str(self.said_summary())

    def said_summary(self) -> Text:
        """What this reconcile did: a sentence kept with its fields, said in the language of
        whoever reads it (a job's message)."""
        where, many = _where(self.namespaces)
        if self.engine_mode == ENGINE_KUBESPHERE:
            return _("Engine mode kubesphere: KubeSphere's controller writes the policies of "
                     "{where}; the console wrote none.", where=where)
        if self.dry_run:
            count = self.plan.writes
            if count == 0:
                return sentences.ngettext("{where} is in step: nothing to write.",
                                          "{where} are in step: nothing to write.", many,
                                          where=_where(self.namespaces, start=True)[0])
            return sentences.ngettext("{count} write would bring {where} in step.",
                                      "{count} writes would bring {where} in step.", count,
                                      count=count, where=where)
        counts = {a: sum(1 for w in self.writes if w.action == a)
                  for a in ("create", "update", "delete")}
        return _writes_phrase(self.namespaces, counts["create"], counts["update"],
                              counts["delete"])


def _writes_phrase(namespaces: list[str] | None, created: int, rewritten: int,
                   deleted: int) -> Text:
    phrase, many = _where(namespaces)
    if not created + rewritten + deleted:
        return sentences.ngettext("{where} was already in step: nothing written.",
                                  "{where} were already in step: nothing written.", many,
                                  where=_where(namespaces, start=True)[0])
    counts = ((_("{count} created", count=created), created),
              (_("{count} rewritten", count=rewritten), rewritten),
              (_("{count} deleted", count=deleted), deleted))
    parts = [words for words, n in counts if n]
    return _("Generated policies of {where}: {counts}.", where=phrase, counts=_commas(parts))


def summarize_writes(namespaces: list[str] | None, before: list[dict[str, Any]],
                     after: list[dict[str, Any]]) -> str:
    """Outcome.summary's sentence for the generated policies that went from `before` to
    `after` (those changed only), e.g. over all the attempts of a job; in the active language
    (`writes_sentence`)."""
    return str(writes_sentence(namespaces, before, after))


def writes_sentence(namespaces: list[str] | None, before: list[dict[str, Any]],
                    after: list[dict[str, Any]]) -> Text:
    """`summarize_writes` as a sentence kept with its fields (said when it is shown)."""
    old, new = {_key(p) for p in before}, {_key(p) for p in after}
    return _writes_phrase(namespaces, len(new - old), len(new & old), len(old - new))


def _where(namespaces: list[str] | None, *, start: bool = False) -> tuple[Text, int]:
    """"the cluster" or `_namespaces_phrase`, with the count its verb agrees with; `start`:
    capitalised, to begin a sentence."""
    if namespaces is None:
        return (_("The cluster") if start else _("the cluster")), 1
    return _namespaces_phrase(namespaces, start=start), max(len(namespaces), 1)


def _namespaces_phrase(namespaces: list[str], *, start: bool = False) -> Text:
    if not namespaces:
        return _("No project") if start else _("no project")
    if len(namespaces) == 1:
        return (_("Project {name}", name=namespaces[0]) if start
                else _("project {name}", name=namespaces[0]))
    if len(namespaces) <= 3:
        names = _commas(namespaces)
        return _("Projects {names}", names=names) if start else _("projects {names}", names=names)
    return sentences.ngettext("{count} project", "{count} projects", len(namespaces),
                              count=len(namespaces))


def _commas(items: list[Any]) -> Any:
    """`items` separated by commas, as the reader's language separates a list."""
    listed = items[0] if items else ""
    for item in items[1:]:
        listed = _("{items}, {more}", items=listed, more=item)
    return listed


def in_scope(policies: list[dict[str, Any]], namespaces: list[str] | set[str] | None
             ) -> list[dict[str, Any]]:
    """The policies whose namespace is in `namespaces` (all of them when None)."""
    if namespaces is None:
        return list(policies)
    wanted = set(namespaces)
    return [p for p in policies if _key(p)[0] in wanted]


def generated_policies(policies: list[dict[str, Any]], namespaces: list[str] | set[str] | None,
                       engine_mode: str) -> list[dict[str, Any]]:
    """The live generated policies among `policies`, sorted by (namespace, name).

    In console mode those the console marked as its own; in kubesphere mode every `nsnp-*`
    policy, since KubeSphere's controller owns that prefix.
    """
    if engine_mode == ENGINE_KUBESPHERE:
        found = [p for p in policies if _key(p)[1].startswith(GENERATED_PREFIX)]
    else:
        found = [p for p in policies if is_ours(p)]
    return sorted(in_scope(found, namespaces), key=_key)


def compile_intent(snapshot: Snapshot, settings: IsolationSettings) -> CompileResult:
    """The compiler's output; an object of the wrong shape becomes a permanent error."""
    try:
        return desired_policies(snapshot, settings)
    except TenancyInputError as exc:
        raise PermanentClusterError(_(
            "The isolation intent in the cluster cannot be compiled: {error}. Fix that object "
            "(for example with kubectl edit) and try again.", error=str(exc))) from exc


def reconcile(gateway: Gateway, snapshot: Snapshot, settings: IsolationSettings,
              namespaces: list[str] | set[str] | None = None, *, dry_run: bool = False,
              progress: Progress | None = None) -> Outcome:
    """Bring the generated policies of `namespaces` (all when None) in step with `snapshot`'s
    intent, writing only what differs.

    `snapshot` must be fresh: its NetworkPolicies are the plan's starting point. Guarantees:
    a cluster in step gets 0 writes; policies not generated by the console are never touched
    (a name clash is reported in `plan.conflicts`); a policy changed by someone else during the
    run is re-read and re-planned, up to CONFLICT_ROUNDS times, then ConflictError; a
    transient API error propagates as TransientClusterError (rerunning is safe and finishes
    the remaining writes); any other API error becomes a PermanentClusterError saying how many
    writes were made before it. In engine mode kubesphere, or with `dry_run`, nothing is
    written.
    """
    scope = None if namespaces is None else sorted(set(namespaces))
    compiled = compile_intent(snapshot, settings)
    policies = {_key(p): p for p in snapshot.network_policies}
    if settings.engine_mode == ENGINE_KUBESPHERE:
        outcome = Outcome(scope, settings.engine_mode, compiled, Plan(), dry_run=dry_run,
                          policies_after=list(policies.values()))
        outcome.kubesphere_differences = kubesphere_differences(
            compiled.policies, snapshot.network_policies, scope)
        return outcome
    scope_set = None if scope is None else set(scope)
    plan = plan_reconcile(compiled.policies, list(policies.values()), scope_set)
    outcome = Outcome(scope, settings.engine_mode, compiled, plan, dry_run=dry_run)
    if dry_run:
        outcome.writes = _planned_writes(plan)
    current = plan
    for _round in range(CONFLICT_ROUNDS):
        if dry_run or current.in_step:
            break
        done, conflicted = _execute(gateway, current, progress)
        outcome.writes.extend(done)
        for write in done:
            if write.after is None:
                policies.pop((write.namespace, write.name), None)
            else:
                policies[(write.namespace, write.name)] = write.after
        if not conflicted:
            break
        # Someone changed these policies while we wrote: read them again and re-plan.
        for key in [k for k in policies if scope_set is None or k[0] in scope_set]:
            del policies[key]
        for policy in read_policies(gateway, scope):
            policies[_key(policy)] = policy
        current = plan_reconcile(compiled.policies, list(policies.values()), scope_set)
    else:
        if not current.in_step:
            raise ConflictError(_(
                "Generated policies kept changing while they were being written ({count} "
                "attempts); another controller may be writing {prefix}* policies. Try "
                "again, or check engine mode.", count=CONFLICT_ROUNDS, prefix=GENERATED_PREFIX))
    outcome.policies_after = sorted(policies.values(), key=_key)
    return outcome


def read_policies(gateway: Gateway, namespaces: list[str] | None) -> list[dict[str, Any]]:
    """The NetworkPolicies of `namespaces` (all when None), read fresh from the cluster."""
    if namespaces is not None and len(namespaces) <= PER_NAMESPACE_LIST_LIMIT:
        found: list[dict[str, Any]] = []
        for namespace in namespaces:
            found.extend(gateway.list_objects("NetworkPolicy", namespace))
        return found
    everything = gateway.list_objects("NetworkPolicy")
    return everything if namespaces is None else in_scope(everything, namespaces)


def kubesphere_differences(desired: list[dict[str, Any]], actual: list[dict[str, Any]],
                           namespaces: list[str] | None) -> list[str]:
    """Where the cluster differs from what KubeSphere's controller will write, one sentence
    each (empty when the cluster already holds exactly KubeSphere's policies)."""
    wanted = {_key(p): p for p in in_scope(desired, namespaces)}
    present = {_key(p): p for p in generated_policies(actual, namespaces, ENGINE_KUBESPHERE)}
    found = []
    for key in sorted(wanted):
        if key not in present:
            found.append(gettext("%(ref)s is not written yet; KubeSphere's controller will "
                                 "create it") % {"ref": "/".join(key)})
        elif canonical_spec(wanted[key]) != canonical_spec(present[key]):
            found.append(gettext("%(ref)s differs from what KubeSphere's controller will "
                                 "write") % {"ref": "/".join(key)})
    for key in sorted(set(present) - set(wanted)):
        found.append(gettext("%(ref)s is no longer wanted; KubeSphere's controller will "
                             "delete it") % {"ref": "/".join(key)})
    return found


def predicted_snapshot(snapshot: Snapshot, generated: list[dict[str, Any]],
                       scope: list[str] | None, kubesphere: bool) -> Snapshot:
    """`snapshot` with the generated policies of `scope` replaced by `generated`: the cluster
    as it will be once the engine (or KubeSphere's controller) has applied the intent."""
    engine = ENGINE_KUBESPHERE if kubesphere else "console"
    stale = {_key(p) for p in generated_policies(snapshot.network_policies, scope, engine)}
    kept = [p for p in snapshot.network_policies if _key(p) not in stale]
    return snapshot.with_network_policies(kept + list(generated))


def impact_between(before: Snapshot, after: Snapshot) -> tuple[Impact | None, str]:
    """The reachability change from `before` to `after`, or (None, why) when a policy of the
    cluster cannot be evaluated."""
    try:
        return impact_of(before, after), ""
    except ValueError as exc:
        return None, _("The reachability change could not be computed: {error}",
                       error=str(exc))


# -- drift repair -----------------------------------------------------------------------------

DRIFT_AUTHOR = "drift repair"
DRIFT_KIND = "drift-repair"


def repair_drift(*, namespaces: list[str] | None = None, dry_run: bool = False, author=None,
                 job=None, progress: Progress | None = None) -> Outcome:
    """Reconcile the whole cluster (or `namespaces`) and record every repair in the history.

    Drift is a generated policy edited or deleted by hand, or a policy of ours that no intent
    requires any more. Guarantees: with `dry_run` nothing is written or recorded and
    `outcome.writes` lists the planned writes; otherwise the run is one change: one history
    entry (author label "drift repair") naming every repair, with the policies before and
    after and the reachability delta of them all; a cluster in step gets 0 writes and no
    entry; in engine mode kubesphere nothing is written. Writes go out
    ISOLATION_WRITE_CONCURRENCY namespaces at a time.
    """
    gw = cluster.gateway()
    settings = isolation_settings()
    snapshot = gw.snapshot()
    outcome = reconcile(gw, snapshot, settings, namespaces, dry_run=dry_run, progress=progress)
    if not dry_run and outcome.writes:
        outcome.changes = _record_repairs(snapshot, outcome, author, job)
    if not dry_run:
        guardrails.evaluate_after(outcome.snapshot_after(snapshot),
                                  outcome.changes[0] if outcome.changes else None)
    return outcome


def report_lines(outcome: Outcome) -> list[str]:
    """What `manage.py reconcile` prints: one line per difference, write and conflict, then
    the summary."""
    lines: list[str] = []
    if outcome.engine_mode == ENGINE_KUBESPHERE:
        lines += [str(d) for d in outcome.kubesphere_differences]
    elif outcome.dry_run:
        lines += [gettext("would fix: %(drift)s") % {"drift": d} for d in outcome.plan.drift]
    else:
        lines += [gettext("repaired: %(repair)s") % {"repair": _repair_sentence(w)}
                  for w in outcome.writes]
    lines += [gettext("conflict: %(conflict)s") % {"conflict": c} for c in outcome.plan.conflicts]
    problems = sorted({
        (gettext("%(project)s/%(entry)s: %(problem)s") if p.entry else
         gettext("%(project)s: %(problem)s")) % {"project": p.namespace, "entry": p.entry,
                                                  "problem": p.message}
        for p in outcome.compiled.problems
        if outcome.namespaces is None or p.namespace in outcome.namespaces})
    lines += [gettext("not compiled: %(problem)s") % {"problem": p} for p in problems]
    return [*(f"  {line}" for line in lines), outcome.summary()]


def _record_repairs(snapshot: Snapshot, outcome: Outcome, author, job) -> list[Any]:
    """One history entry for the whole run: every repair it made, in every namespace."""
    impact, _failure = impact_between(snapshot, outcome.snapshot_after(snapshot))
    workspace_of = Tenancy.from_snapshot(snapshot).workspace_of
    writes = sorted(outcome.writes, key=lambda w: (w.namespace, w.name))
    namespaces = sorted({w.namespace for w in writes})
    workspaces = {workspace_of(ns) or "" for ns in namespaces}
    if len(namespaces) == 1:
        target, project = f"namespace/{namespaces[0]}", namespaces[0]
    else:
        target, project = sentences.ngettext("{count} namespace", "{count} namespaces",
                                             len(namespaces), count=len(namespaces)), ""
    count = len(writes)
    summary = sentences.ngettext(
        "Drift repaired in {where} ({count} policy): {repairs}",
        "Drift repaired in {where} ({count} policies): {repairs}", count,
        where=_namespaces_phrase(namespaces), count=count,
        repairs=sentences.join([_repair_sentence(w) for w in writes]))
    return [audit.record_change(
        kind=DRIFT_KIND, target=target, summary=summary, author=author,
        author_label=DRIFT_AUTHOR, workspace=workspaces.pop() if len(workspaces) == 1 else "",
        project=project,
        generated_before=[w.before for w in writes if w.before is not None],
        generated_after=[w.after for w in writes if w.after is not None],
        impact=impact, job=job)]


def _repair_sentence(write: Write) -> Text:
    """What one repair did: a sentence said in the reader's language."""
    if write.action == "create":
        return _("{ref} was missing from the cluster; it was created from its source.",
                 ref=write.ref)
    if write.action == "delete":
        return _("{ref} was generated by the console but no intent requires it any more; it "
                 "was deleted.", ref=write.ref)
    changed = differences(write.after or {}, write.before or {}) or ["spec"]
    return _("{ref} had been changed outside the console ({fields}); it was rewritten from "
             "its source.", ref=write.ref, fields=", ".join(changed))


def _planned_writes(plan: Plan) -> list[Write]:
    writes = [Write("create", *_key(p), None, p) for p in plan.creates]
    writes += [Write("update", *_key(p), plan.previous.get(_key(p)), p) for p in plan.updates]
    writes += [Write("delete", ns, name, plan.previous.get((ns, name)), None)
               for ns, name in plan.deletes]
    return sorted(writes, key=lambda w: (w.namespace, w.name))


def _execute(gateway: Gateway, plan: Plan,
             progress: Progress | None) -> tuple[list[Write], list[Write]]:
    """Carry out `plan`, one task per namespace, at most concurrency() at a time.

    Returns (writes done, writes refused by a conflict). Waits for every namespace before
    raising, so the caller's view of what was written stays exact.
    """
    by_namespace: dict[str, list[Write]] = {}
    for write in _planned_writes(plan):
        by_namespace.setdefault(write.namespace, []).append(write)
    done: list[Write] = []
    conflicted: list[Write] = []
    failures: list[Exception] = []
    total = len(by_namespace)
    with ThreadPoolExecutor(max_workers=min(concurrency(), total) or 1,
                            thread_name_prefix="reconcile") as pool:
        futures = {pool.submit(_write_namespace, gateway, writes): ns
                   for ns, writes in sorted(by_namespace.items())}
        for finished, future in enumerate(as_completed(futures), start=1):
            namespace_done, namespace_conflicts, failure = future.result()
            done.extend(namespace_done)
            conflicted.extend(namespace_conflicts)
            if failure is not None:
                failures.append(failure)
            if progress is not None:
                progress(finished, total, futures[future])
    if failures:
        transient = [f for f in failures if isinstance(f, TransientClusterError)]
        if transient:
            raise transient[0]
        first = failures[0]
        message = getattr(first, "message", str(first))
        raise PermanentClusterError(sentences.ngettext(
            "{error} ({done} of {count} write was made; the rest were not).",
            "{error} ({done} of {count} writes were made; the rest were not).", plan.writes,
            error=message, done=len(done), count=plan.writes)) from first
    done.sort(key=lambda w: (w.namespace, w.name))
    return done, conflicted


def _write_namespace(gateway: Gateway, writes: list[Write]
                     ) -> tuple[list[Write], list[Write], Exception | None]:
    done: list[Write] = []
    conflicted: list[Write] = []
    for write in writes:
        try:
            result = _write(gateway, write)
        except (ConflictError, NotFoundError):
            conflicted.append(write)
        except Exception as exc:   # reported by the caller once every namespace has finished
            return done, conflicted, exc
        else:
            if result is not None:
                done.append(result)
    return done, conflicted, None


def _write(gateway: Gateway, write: Write) -> Write | None:
    if write.action == "create":
        assert write.after is not None
        return Write("create", write.namespace, write.name, None, gateway.create(write.after))
    previous = write.before or {}
    version = (previous.get("metadata") or {}).get("resourceVersion")
    if write.action == "delete":
        try:
            gateway.delete("NetworkPolicy", write.name, namespace=write.namespace,
                           resource_version=version)
        except NotFoundError:
            return None   # already gone: nothing was written
        return write
    assert write.after is not None
    body = _replacement(write.after, previous)
    return Write("update", write.namespace, write.name, previous, gateway.replace(body))


def _replacement(desired: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """The desired policy as a replacement of `previous`: its resourceVersion (so a change
    made meanwhile is a conflict, not overwritten) and any labels and annotations others
    added, with ours taking precedence."""
    body = copy.deepcopy(desired)
    metadata = body["metadata"]
    old = previous.get("metadata") or {}
    for part in ("labels", "annotations"):
        merged = {**(old.get(part) or {}), **(metadata.get(part) or {})}
        if merged:
            metadata[part] = merged
    metadata["resourceVersion"] = old.get("resourceVersion")
    return body


def _key(policy: dict[str, Any]) -> Key:
    metadata = policy.get("metadata") or {}
    return (metadata.get("namespace") or "default", metadata.get("name") or "")


__all__ = ["Outcome", "Write", "reconcile", "read_policies", "generated_policies", "in_scope",
           "kubesphere_differences", "compile_intent", "concurrency", "repair_drift",
           "predicted_snapshot", "impact_between", "report_lines", "summarize_writes",
           "DRIFT_AUTHOR"]
