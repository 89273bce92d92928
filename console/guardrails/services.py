"""Guardrails: the cluster's connectivity expectations, their state, and the checks of changes.

The expectations themselves live in the cluster (`ConnectivityExpectation`, namespaced, and
`ClusterConnectivityExpectation`); the console evaluates them on one shared engine per
snapshot (`isolation.guardrails.evaluate`) and keeps what it found in `ExpectationState`,
with each holds ↔ violated transition in `ExpectationTransition`.

Who sees what (the rules of `console.core.access`): global viewers and platform admins see
every expectation; others see the namespaced expectations of the projects they may view, and
the platform (cluster-scoped) expectations whose ends involve one of those projects, read-only
and with every pod or namespace of another tenant written as "another project". Platform
admins manage the cluster-scoped ones; whoever may edit a project manages its expectations.

The ends, reasons and explained violations of a state are sentences (`isolation.text`): kept
with their English (`ExpectationState.said`), said in the reader's language, and hidden from
each reader in that language (names outside their scope never show, in either language).

A change that newly violates a platform expectation is applied only with an override: a
platform admin gives a reason (`give_override`) on the preview, the change takes it
(`require_override`) and the history records it (`record_override`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from cluster.errors import ClusterError
from console.core import audit, cluster, tenants
from console.core.access import Access
from console.core.audit import OVERRIDE_KIND
from console.core.models import (
    Change,
    ExpectationState,
    ExpectationStatus,
    ExpectationTransition,
    GuardrailOverride,
)
from console.core.scope import HIDDEN_PROJECT, Scope, transformed
from isolation import text as sentences
from isolation.compiler.tenancy import workspace_of as workspace_map
from isolation.guardrails.evaluate import (
    ExpectationResult,
    asked_ports,
    evaluate,
    expectation_objects,
    parse_expectations,
)
from isolation.guardrails.model import (
    CLUSTER_KIND,
    Expectation,
    expectation_name,
    involved_namespaces,
)
from isolation.reachability.engine import Cluster
from isolation.reachability.inventory import namespace_labels
from isolation.snapshot import KIND_FIELDS, Snapshot
from isolation.text import gettext as _

log = logging.getLogger(__name__)

SHOWN_VIOLATIONS = 5            # explained connections kept per expectation
REFRESH_SECONDS = 10            # the page re-reads the cluster at most this often
OVERRIDE_MINUTES = 15           # how long a given override waits for its change
FINGERPRINT_KEY = "guardrails:fingerprint"
CHECKED_KEY = "guardrails:checked"
# The engine answering on the declared ports and the asked ones (see `newly_violated`).
DeclaredEngine = Callable[[set[tuple[int, str]]], Cluster]


# -- evaluating the cluster and recording transitions ----------------------------------------

def fingerprint(snapshot: Snapshot) -> str:
    """A digest of every object's identity and resourceVersion: equal digests, same cluster."""
    digest = hashlib.sha256()
    for attr in KIND_FIELDS.values():
        for obj in getattr(snapshot, attr):
            meta = obj.get("metadata") or {}
            digest.update(f"{attr}|{meta.get('namespace')}|{meta.get('name')}|"
                          f"{meta.get('resourceVersion')}\n".encode())
    return digest.hexdigest()


def refresh(*, force: bool = False) -> bool:
    """Evaluate the expectations when the cluster changed since they were last evaluated
    (checked at most every REFRESH_SECONDS unless `force`); True when it evaluated.
    Raises ClusterError when the cluster cannot be read."""
    if not force and cache.get(CHECKED_KEY):
        return False
    snapshot = cluster.snapshot()
    digest = fingerprint(snapshot)
    cache.set(CHECKED_KEY, True, REFRESH_SECONDS)
    if not force and cache.get(FINGERPRINT_KEY) == digest:
        return False
    record_evaluation(snapshot)
    cache.set(FINGERPRINT_KEY, digest, None)
    return True


def evaluate_after(snapshot: Snapshot, change: Change | None = None) -> None:
    """Evaluate on `snapshot` (the cluster as a change or a reconcile left it) and attribute
    new violations to `change`. Never raises: a failed evaluation is logged, and the next
    refresh evaluates the cluster again."""
    try:
        record_evaluation(snapshot, change)
    except (ValueError, ClusterError) as exc:
        log.warning("guardrails not evaluated after %s: %s", change or "a reconcile", exc)
    cache.delete(FINGERPRINT_KEY)


def record_evaluation(snapshot: Snapshot, change: Change | None = None) -> list[ExpectationState]:
    """Evaluate every expectation of `snapshot` on one engine and store their states.

    Guarantees: one state per expectation of the snapshot (states of expectations no longer in
    it are deleted); `since` moves and a transition is recorded only when the status changes;
    a violation that begins here of an expectation evaluated before is attributed to `change`. An invalid document, or a cluster
    whose policies the engine cannot read, is stored as "not checked" with the reason.
    """
    valid, errors = parse_expectations(expectation_objects(snapshot))
    labels = namespace_labels(snapshot)
    found: dict[str, dict[str, Any]] = {}
    try:
        results = evaluate(snapshot, valid) if valid else []
    except ValueError as exc:
        reason = _("The cluster's policies cannot be evaluated: {error}",
                   error=exc.args[0] if exc.args else exc)
        results = [ExpectationResult(e.name, e.kind, e.expect, holds=False, pairs=0,
                                     reason=reason) for e in valid]
    for expectation, result in zip(valid, results, strict=True):
        found[expectation.name] = _state_fields(expectation, result, labels)
    for error in errors:
        name = error.name.split(" ", 1)[-1]
        found[name] = {"kind": error.name.split(" ", 1)[0], "status": ExpectationStatus.UNCHECKED,
                       "namespace": name.split("/", 1)[0] if "/" in name else "",
                       "reason": _("The document is invalid: {issues}",
                                   issues="; ".join(str(i) for i in error.issues)),
                       "violations": [], "namespaces": []}
    now = timezone.now()
    with transaction.atomic():
        existing = {s.name: s for s in ExpectationState.objects.select_for_update()}
        ExpectationState.objects.exclude(name__in=list(found)).delete()
        for name, values in found.items():
            state = existing.get(name)
            if state is None or state.status != values["status"]:
                # Only a status seen before can be broken by a change; a first evaluation
                # finds violations, it does not know their cause.
                caused = (change if values["status"] == ExpectationStatus.VIOLATED
                          and state is not None else None)
                ExpectationTransition.objects.create(
                    name=name, status=values["status"], at=now, change=caused,
                    previous=state.status if state else "")
                values.update(since=now, change=caused)
            ExpectationState.objects.update_or_create(
                name=name, defaults={**_stored(values), "evaluated_at": now})
    return list(ExpectationState.objects.all())


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """A state's fields as its row keeps them: the sentences in English in their columns, and
    as sentences in `said` (to be said in each reader's language)."""
    stored = dict(values)
    said: dict[str, Any] = {}
    for name in ("source", "destination", "reason"):
        if name in stored:
            said[name] = sentences.dump(stored[name])
            stored[name] = sentences.english(stored[name])
    violations = stored.get("violations") or []
    said["violations"] = [sentences.dump(v.get("reason", "")) for v in violations]
    stored["violations"] = [{**v, "reason": sentences.english(v.get("reason", ""))}
                            for v in violations]
    stored["said"] = said
    return stored


def _state_fields(expectation: Expectation, result: ExpectationResult,
                  labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What one result says of its expectation, its words as sentences (`_stored` keeps them)."""
    if result.reason:
        status = ExpectationStatus.UNCHECKED
    else:
        status = ExpectationStatus.HOLDS if result.holds else ExpectationStatus.VIOLATED
    return {"kind": expectation.kind, "namespace": expectation.namespace or "",
            "status": status, "expect": expectation.expect,
            "description": expectation.description,
            "source": expectation.source.describe(),
            "destination": expectation.destination.describe(),
            "namespaces": sorted(involved_namespaces(expectation, labels)),
            "pairs": result.pairs, "violation_count": result.violation_count,
            "violations": [v.to_dict() for v in result.violations[:SHOWN_VIOLATIONS]],
            "reason": result.reason or ""}


# -- what a user sees ---------------------------------------------------------------------------

def visible(state: ExpectationState, access: Access, workspace_of: dict[str, str]) -> bool:
    """Whether `access` may see `state` (see the module's rules)."""
    return state.visible_to(access, workspace_of)


def editable(kind: str, namespace: str, access: Access, workspace_of: dict[str, str]) -> bool:
    """Whether `access` may create, change or delete an expectation of `kind` in `namespace`."""
    if kind == CLUSTER_KIND:
        return access.platform_admin
    return bool(namespace) and namespace in workspace_of and access.can_edit_project(
        namespace, workspace_of)


@dataclass(frozen=True)
class Row:
    """One expectation as the Guardrails page shows it to one user."""

    state: ExpectationState
    source: str
    destination: str
    violations: list[dict[str, Any]]
    reason: str
    can_edit: bool

    @property
    def platform(self) -> bool:
        return self.state.cluster_scoped

    @property
    def short_name(self) -> str:
        return self.state.name.rsplit("/", 1)[-1]


def rows_for(access: Access, scope: Scope, *, project: str = "", workspace: str = "",
             status: str = "") -> list[Row]:
    """The expectations `access` may see, filtered by project, workspace and status,
    platform ones first, violated before the rest, with names outside `scope` hidden."""
    workspace_of = dict(scope.workspace_of)
    wanted = set(scope.workspace_of) if not workspace else {
        p for p, w in workspace_of.items() if w == workspace}
    if project:
        wanted &= {project}
    rows = []
    for state in ExpectationState.objects.select_related("change"):
        if not visible(state, access, workspace_of):
            continue
        if (project or workspace) and not (
                state.namespace in wanted or wanted & set(state.namespaces)):
            continue
        if status and state.status != status:
            continue
        rows.append(Row(state, _shown_text(state.said_source, scope),
                        _shown_text(state.said_destination, scope),
                        [shown_violation(v, scope) for v in state.said_violations],
                        _shown_text(state.said_reason, scope),
                        editable(state.kind, state.namespace, access, workspace_of)))
    order = {ExpectationStatus.VIOLATED: 0, ExpectationStatus.UNCHECKED: 1,
             ExpectationStatus.HOLDS: 2}
    return sorted(rows, key=lambda r: (not r.platform, order.get(r.state.status, 3),
                                       r.state.name))


def violated_count(access: Access, workspace_of: dict[str, str]) -> int:
    """How many violated expectations `access` may see (the header's count)."""
    states = ExpectationState.objects.filter(status=ExpectationStatus.VIOLATED)
    if access.view_all:
        return states.count()
    return sum(visible(s, access, workspace_of) for s in states.only("namespace", "namespaces"))


def shown_violation(violation: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """One explained connection with pods and namespaces outside `scope` hidden."""
    reason = violation.get("reason", "")
    return {**violation, "from": scope.show_ref(str(violation.get("from", ""))),
            "to": scope.show_ref(str(violation.get("to", ""))),
            "reason": _shown_text(reason if isinstance(reason, str) else str(reason), scope)}


def _shown_text(value: str, scope: Scope) -> str:
    """`value` with "ns/name" refs and bare namespace names outside `scope` replaced by words
    that name none, in the language `value` is shown in (a sentence stays one)."""
    if scope.everything or not value:
        return value
    value = scope.redact(value)
    hidden = sorted((n for n in scope.known if not scope.sees(n)), key=len, reverse=True)
    if not hidden:
        return value
    # ASCII word characters: a name is found beside the words of any language.
    pattern = re.compile(r"(?<![\w./-])(?:namespace )?(" + "|".join(map(re.escape, hidden))
                         + r")(?![\w/-])", re.ASCII)

    def hide(said: str) -> str:
        return pattern.sub(gettext(HIDDEN_PROJECT).replace("\\", "\\\\"), said)

    return transformed(value, hide)


# -- checking a change before it is applied -------------------------------------------------------

@dataclass(frozen=True)
class NewViolation:
    """An expectation that holds now and would not hold after a change."""

    name: str
    kind: str
    namespace: str
    expect: str
    description: str
    source: str
    destination: str
    namespaces: tuple[str, ...]
    violation_count: int
    violations: tuple[dict[str, Any], ...]    # the first few, with the deciding rule
    reason: str = ""

    @property
    def platform(self) -> bool:
        return self.kind == CLUSTER_KIND


@dataclass(frozen=True)
class GuardrailCheck:
    """What a change does to the guardrails, as one user may see it.

    `violations`: the expectations the change newly violates that the user may see (names of
    other tenants hidden); `hidden`: how many more it violates that they may not see.
    `needs_override`: it newly violates a platform (cluster-scoped) expectation, so it is
    applied only with a platform admin's override; `can_override`: the user is one. `key`
    names the change for `give_override` / `require_override`. `error`: why the check could
    not be made (the change is then not blocked).
    """

    violations: tuple[NewViolation, ...] = ()
    hidden: int = 0
    needs_override: bool = False
    can_override: bool = False
    key: str = ""
    error: str = ""

    @property
    def breaks(self) -> bool:
        return bool(self.violations) or bool(self.hidden)

    @property
    def count(self) -> int:
        return len(self.violations) + self.hidden


def newly_violated(before: Snapshot | Cluster | tuple[Snapshot, Cluster],
                   after: Snapshot | tuple[Snapshot, Cluster], *,
                   declared: DeclaredEngine | None = None,
                   declared_before: DeclaredEngine | None = None) -> list[NewViolation]:
    """Every expectation of `after` that holds on `before` (or is new) and not on `after`,
    unscoped. Each side is a Snapshot or (Snapshot, its Cluster) to reuse a built engine;
    `before` may also be a bare Cluster, evaluated with `after`'s Services. Only the
    expectations violated after the change are evaluated before it. `declared` gives, for
    the numbered ports the expectations ask beyond those the pods declare (`asked_ports`), an
    engine answering as `after`'s on all of them (lighter than `after`'s own, which still
    explains the violations); `declared_before` likewise for `before` (whose violations are
    never explained: only whether each expectation held counts). Raises ValueError (the
    engine's errors) when a side cannot be evaluated."""
    after_snapshot, after_cluster = _sides(after)
    valid, _errors = parse_expectations(expectation_objects(after_snapshot))
    if not valid:
        return []
    asked = asked_ports(after_snapshot, valid) if declared or declared_before else set()
    matrix_cluster = None if declared is None else declared(asked)
    results_after = evaluate(after_snapshot, valid, after_cluster, matrix_cluster=matrix_cluster)
    broken = [(e, r) for e, r in zip(valid, results_after, strict=True)
              if not r.holds and not r.reason]
    if not broken:
        return []
    if isinstance(before, Cluster):
        before_snapshot, before_cluster = after_snapshot, before
    else:
        before_snapshot, before_cluster = _sides(before)
    if declared_before is not None:
        before_cluster = declared_before(asked)
    if before_cluster is None:
        results_before = evaluate(before_snapshot, [e for e, _ in broken], max_violations=0)
    else:
        results_before = HELD_RESULTS.results(before_snapshot, before_cluster,
                                              [e for e, _ in broken])
    labels = namespace_labels(after_snapshot)
    found = []
    for (expectation, result), earlier in zip(broken, results_before, strict=True):
        if earlier.holds or earlier.reason:
            fields = _state_fields(expectation, result, labels)
            found.append(NewViolation(
                expectation.name, expectation.kind, expectation.namespace or "",
                expectation.expect, expectation.description, fields["source"],
                fields["destination"], tuple(fields["namespaces"]), result.violation_count,
                tuple(fields["violations"])))
    return found


class _HeldResults:
    """Expectation results by engine: a review's `before` engine is kept from one review to
    the next while the cluster stays the same (`isolation.review.baseline`), and so are the
    results on it. An entry holds its engine and snapshot, so an id names one engine while
    kept; the last `size` engines are kept. Thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._held: OrderedDict[int, tuple[Cluster, Snapshot,
                                           dict[Expectation, ExpectationResult]]] = OrderedDict()
        self._lock = threading.Lock()

    def results(self, snapshot: Snapshot, cluster: Cluster,
                expectations: list[Expectation]) -> list[ExpectationResult]:
        """`evaluate(snapshot, expectations, cluster, max_violations=0)` (whether each holds
        and how often not, no violation explained), each expectation evaluated once."""
        with self._lock:
            entry = self._held.get(id(cluster))
            if entry is None or entry[0] is not cluster or entry[1] is not snapshot:
                entry = self._held[id(cluster)] = (cluster, snapshot, {})
                while len(self._held) > self.size:
                    self._held.popitem(last=False)
            else:
                self._held.move_to_end(id(cluster))
            known = entry[2]
            missing = list(dict.fromkeys(e for e in expectations if e not in known))
            if missing:
                known.update(zip(missing, evaluate(snapshot, missing, cluster,
                                                   max_violations=0), strict=True))
            return [known[e] for e in expectations]

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


HELD_RESULTS = _HeldResults(size=2)


def _sides(side: Snapshot | tuple[Snapshot, Cluster]) -> tuple[Snapshot, Cluster | None]:
    if isinstance(side, tuple):
        return side
    return side, None


def scoped_check(violations: list[NewViolation], scope: Scope, *, platform_admin: bool,
                 key: str = "", error: str = "") -> GuardrailCheck:
    """`violations` as a user of `scope` may see them (see GuardrailCheck)."""
    shown, hidden = [], 0
    for violation in violations:
        seen = scope.everything or (scope.sees(violation.namespace) if violation.namespace
                                    else any(scope.sees(n) for n in violation.namespaces))
        if not seen:
            hidden += 1
            continue
        shown.append(replace(
            violation, source=_shown_text(violation.source, scope),
            destination=_shown_text(violation.destination, scope),
            namespaces=tuple(n for n in violation.namespaces if scope.sees(n)),
            violations=tuple(shown_violation(v, scope) for v in violation.violations)))
    return GuardrailCheck(tuple(shown), hidden, any(v.platform for v in violations),
                          platform_admin, key, error)


def check_change(user, before: Snapshot | Cluster | tuple[Snapshot, Cluster],
                 after: Snapshot | tuple[Snapshot, Cluster], *, key: str = "",
                 declared: DeclaredEngine | None = None,
                 declared_before: DeclaredEngine | None = None) -> GuardrailCheck:
    """The guardrails a change breaks, as `user` may see them: call it in every preview.

    `before` / `after` are the cluster before and after the change, each a Snapshot or a
    (Snapshot, Cluster) pair when the engine is built already (`before` may also be a bare
    Cluster); the expectations are those of `after` (`declared`, `declared_before`: see
    `newly_violated`).
    `key` names the change for an override
    given ahead of the apply (any stable string, e.g. "policy-edit:shop/web"). Never raises
    for an engine error: the check then carries `error` and blocks nothing.

    In a preview (the policy review, delete or revert), with `check` in the context:

        check = check_change(request.user, before, after, key=f"policy-edit:{ns}/{name}")
        {% include "guardrails/_preview_checks.html" with guardrails=check %}

    and when applying, in the view that receives the POST:

        form = OverrideForm(request.POST, check=check, user=request.user)
        if not form.is_valid():        # refused: show form.non_field_errors(), apply nothing
            ...
        reason = form.cleaned_data["override_reason"]     # "" when no override was needed
        ... apply the change, making its history entry (and job) ...
        if reason:
            record_override(request.user, check, reason, target=entry.target, job=job,
                            workspace=entry.workspace, project=entry.project)

    The partial's own override form (platform admins) posts the reason ahead of the apply
    under `key`; `OverrideForm` then accepts an empty field and takes that reason.
    """
    after_snapshot = after[0] if isinstance(after, tuple) else after
    access = Access.for_user(user)
    try:
        found = newly_violated(before, after, declared=declared,
                               declared_before=declared_before)
    except ValueError as exc:
        return GuardrailCheck(key=key, can_override=access.platform_admin,
                              error=_("The guardrails could not be checked: {error}",
                                      error=exc.args[0] if exc.args else exc))
    scope = Scope.of(access, [(n.get("metadata") or {}).get("name", "")
                              for n in after_snapshot.namespaces],
                     workspace_map(after_snapshot))
    return scoped_check(found, scope, platform_admin=access.platform_admin, key=key)


# -- overrides ----------------------------------------------------------------------------------

class GuardrailBlocked(ValueError):
    """A change that breaks a platform guardrail, refused for want of an override."""


def give_override(user, key: str, reason: str, expectations: list[str]) -> GuardrailOverride:
    """Record a platform admin's reason to apply the change named `key` (PermissionError for
    anyone else, ValueError without a reason)."""
    if not Access.for_user(user).platform_admin:
        raise PermissionError(_("Only a platform admin can override a platform guardrail."))
    if not reason.strip():
        raise ValueError(_("Give the reason for applying a change that breaks a guardrail."))
    return GuardrailOverride.objects.create(user=user, key=key, reason=reason.strip(),
                                            expectations=list(expectations))


def pending_override(user, key: str) -> GuardrailOverride | None:
    """The unused override `user` gave for `key` in the last OVERRIDE_MINUTES, if any."""
    if user is None or not getattr(user, "is_authenticated", False) or not key:
        return None
    fresh = timezone.now() - timedelta(minutes=OVERRIDE_MINUTES)
    return GuardrailOverride.objects.filter(user=user, key=key, used_at__isnull=True,
                                            created_at__gte=fresh).first()


def require_override(user, check: GuardrailCheck, reason: str = "") -> str:
    """The override reason under which the checked change may be applied ("" when it needs
    none). A reason given here, or one `give_override` recorded for `check.key`, counts for a
    platform admin. Raises GuardrailBlocked otherwise, with a message for the user."""
    if not check.needs_override:
        return ""
    names = (", ".join(v.name for v in check.violations if v.platform)
             or _("a platform guardrail"))
    if not Access.for_user(user).platform_admin:
        raise GuardrailBlocked(_("This change breaks {names}; only a platform admin can apply "
                                 "it, with an override and a reason.", names=names))
    if reason.strip():
        return reason.strip()
    given = pending_override(user, check.key)
    if given is None:
        raise GuardrailBlocked(_("This change breaks {names}: give the reason for the "
                                 "override before you apply it.", names=names))
    given.used_at = timezone.now()
    given.save(update_fields=["used_at"])
    return given.reason


def record_override(user, check: GuardrailCheck, reason: str, *, target: str,
                    job=None, workspace: str = "", project: str = "") -> Change:
    """The history entry of an override: who applied which change despite which guardrails,
    and why (a sentence said in each reader's language; `target` may be one too)."""
    names = ", ".join(v.name for v in check.violations) or _("a platform guardrail")
    return audit.record_change(
        kind=OVERRIDE_KIND, target=sentences.english(target)[:512], author=user, job=job,
        workspace=workspace, project=project,
        summary=_("Guardrail override for {target}: applied although it breaks {names}. "
                  "Reason: {reason}", target=target, names=names, reason=reason))


# -- reading and writing expectations ------------------------------------------------------------

def read(kind: str, name: str, namespace: str | None) -> dict[str, Any]:
    """One expectation object from the cluster (NotFoundError when absent)."""
    return cluster.gateway().get_object(kind, name, namespace)


def save(user, obj: dict[str, Any], *, resource_version: str = "") -> dict[str, Any]:
    """Create `obj` (no `resource_version`) or replace it at `resource_version` (ConflictError
    when it changed since), record the change in the history and evaluate again."""
    gw = cluster.gateway()
    meta = obj.get("metadata") or {}
    before: list[dict[str, Any]] = []
    if resource_version:
        before = [gw.get_object(obj["kind"], meta["name"], meta.get("namespace"))]
        body = {**obj, "metadata": {**meta, "resourceVersion": resource_version}}
        saved = gw.replace(body)
    else:
        saved = gw.create(obj)
    name = expectation_name(obj)
    _record(user, obj, _("Connectivity expectation {name} changed.", name=name)
            if resource_version else _("Connectivity expectation {name} created.", name=name),
            before, [saved])
    return saved


def delete(user, kind: str, name: str, namespace: str | None, resource_version: str) -> None:
    """Delete one expectation at `resource_version` (ConflictError when it changed since)."""
    gw = cluster.gateway()
    current = gw.get_object(kind, name, namespace)
    gw.delete(kind, name, namespace=namespace, resource_version=resource_version or None)
    _record(user, current, _("Connectivity expectation {name} deleted.",
                             name=expectation_name(current)), [current], [])


def _record(user, obj: dict[str, Any], summary: sentences.Text, before: list,
            after: list) -> None:
    namespace = (obj.get("metadata") or {}).get("namespace") or ""
    workspace = tenants.directory().workspace_of.get(namespace, "") if namespace else ""
    audit.record_change(kind="guardrail", target=f"expectation/{expectation_name(obj)}",
                        summary=summary, author=user, workspace=workspace, project=namespace,
                        before=before, after=after)
    cache.delete(CHECKED_KEY)
    try:
        refresh(force=True)
    except ClusterError as exc:
        log.warning("guardrails not evaluated after a write: %s", exc)


__all__ = [
    "GuardrailBlocked", "GuardrailCheck", "NewViolation", "Row", "check_change", "delete",
    "editable", "evaluate_after", "give_override", "newly_violated", "pending_override",
    "read", "record_evaluation", "record_override", "refresh", "require_override",
    "rows_for", "save", "scoped_check", "violated_count", "visible",
]
