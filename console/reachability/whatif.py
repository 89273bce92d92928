"""What if: the reachability a pending change would cause, before anything is written.

A pending change is an isolation switch (a workspace's or a project's) or a drafted edit of
NetworkPolicies (YAML to create or replace, names to delete). Switches change intent, so both
sides are compared as the isolation engine would generate them; that way the difference is the
switch's own, even when the cluster's generated policies are not in step yet (which is said).
The revert of a history entry previews its impact through the same functions.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils.translation import gettext_noop

from cluster.errors import ClusterError
from console.core import cluster, jobs
from console.core.models import Job, JobStatus
from console.core.scope import HIDDEN_NAMESPACE, Scope, scoped_delta
from console.reachability.delta import delta_between
from isolation import text
from isolation.compiler.generate import IsolationSettings
from isolation.compiler.reconcile import plan_reconcile
from isolation.netpol.problems import rule_problems, schema_problems
from isolation.review.impact import with_generated_policies
from isolation.snapshot import KIND_FIELDS, Snapshot
from isolation.text import gettext as _
from isolation.text import ngettext
from isolation.yamlio import Document, YamlInputError, load_documents, locate

INTENT_KINDS = frozenset({"Namespace", "Workspace", "NamespaceNetworkPolicy"})
JOB_KIND = "reachability-what-if"
COST_KEY = "reachability:what-if-seconds"
COST_SECONDS = 3600
INLINE_SECONDS = 1.0       # previews expected to take longer are computed by a job
GUESS_NAMESPACES = 200     # before any preview was measured, more namespaces means "slow"
ISOLATE_ANNOTATION = "kubesphere.io/network-isolate"
CHANGES = ("workspace", "project", "policy")
API_VERSION = "networking.k8s.io/v1"

Ref = tuple[str, str, str]   # kind, namespace ("" when cluster-scoped), name


class WhatIfInputError(ValueError):
    """A pending change that cannot be previewed; `field` names the input, `line` the YAML line."""

    def __init__(self, field_name: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message
        self.line = line


@dataclass(frozen=True)
class PendingChange:
    kind: str                                   # workspace | project | policy
    target: str = ""                            # the workspace or project
    enabled: bool = True
    yaml: str = ""
    remove: tuple[tuple[str, str], ...] = ()    # NetworkPolicies (namespace, name) to delete

    @property
    def title(self) -> str:
        """What the change is, as a sentence (said in the reader's language)."""
        if self.kind == "workspace":
            return (_("Turn workspace isolation on for {workspace}", workspace=self.target)
                    if self.enabled else
                    _("Turn workspace isolation off for {workspace}", workspace=self.target))
        if self.kind == "project":
            return (_("Turn project isolation on for {project}", project=self.target)
                    if self.enabled else
                    _("Turn project isolation off for {project}", project=self.target))
        return _("Apply the drafted NetworkPolicy changes")


def parse_pending(data) -> PendingChange:
    """A PendingChange from form data (WhatIfInputError names the bad field)."""
    kind = (data.get("change") or "").strip()
    if kind not in CHANGES:
        raise WhatIfInputError("change", _("Choose what to try: a workspace switch, a project "
                                           "switch or a drafted policy."))
    enabled = (data.get("isolation") or "on").strip() != "off"
    if kind in ("workspace", "project"):
        target = (data.get(kind) or "").strip()
        if not target:
            raise WhatIfInputError(kind, _("Choose the workspace.") if kind == "workspace"
                                   else _("Choose the project."))
        return PendingChange(kind, target, enabled)
    removals = []
    for raw in (data.get("remove") or "").replace(",", " ").split():
        namespace, slash, name = raw.partition("/")
        if not slash or not namespace or not name:
            raise WhatIfInputError("remove", _("{name} is not namespace/name.",
                                               name=repr(raw)))
        removals.append((namespace, name))
    text = data.get("yaml") or ""
    if not text.strip() and not removals:
        raise WhatIfInputError("yaml", _("Paste the NetworkPolicy YAML to try, or name "
                                         "policies to delete."))
    return PendingChange("policy", yaml=text, remove=tuple(removals))


# -- snapshots ----------------------------------------------------------------------------


def ref_of(obj: dict[str, Any]) -> Ref:
    metadata = obj.get("metadata") or {}
    return (str(obj.get("kind") or ""), str(metadata.get("namespace") or ""),
            str(metadata.get("name") or ""))


def snapshot_with(snapshot: Snapshot, upsert: Iterable[dict[str, Any]] = (),
                  remove: Iterable[Ref] = ()) -> Snapshot:
    """A copy of `snapshot` with objects (of any kind it holds) replaced, added or removed."""
    upsert = list(upsert)
    gone = {ref_of(o) for o in upsert} | set(remove)
    result = Snapshot(**{attr: [o for o in getattr(snapshot, attr) if ref_of(o) not in gone]
                         for attr in KIND_FIELDS.values()})
    for obj in upsert:
        result.add(obj)
    return result


def impact_between(before: Snapshot, after: Snapshot, settings: IsolationSettings,
                   changed: Iterable[Ref]) -> tuple[dict[str, Any], list[str]]:
    """The reachability change from `before` to `after` (the `Impact.to_dict()` shape, see
    console.reachability.delta), with notes.

    When intent objects (`changed` kinds in INTENT_KINDS) differ, both sides are first
    compiled by the isolation engine. Raises ClusterError when the cluster's objects cannot
    be compiled or evaluated.
    """
    notes: list[str] = []
    try:
        if any(ref[0] in INTENT_KINDS for ref in changed):
            compiled_before, result = with_generated_policies(before, settings)
            compiled_after = with_generated_policies(after, settings)[0]
            pending = plan_reconcile(result.policies, before.network_policies).writes
            if pending:
                notes.append(ngettext(
                    "The cluster's generated policies are not in step with its intent ({count} "
                    "write pending); both sides are compared as the isolation engine will "
                    "leave them.",
                    "The cluster's generated policies are not in step with its intent ({count} "
                    "writes pending); both sides are compared as the isolation engine will "
                    "leave them.", pending, count=pending))
            before, after = compiled_before, compiled_after
        return delta_between(before, after), notes
    except ValueError as exc:
        raise ClusterError(_("The cluster's objects cannot be evaluated: {error}",
                             error=exc.args[0] if exc.args else exc)) from exc


# -- the preview --------------------------------------------------------------------------


def what_if(scope: Scope, pending: PendingChange, snapshot: Snapshot,
            settings: IsolationSettings) -> dict[str, Any]:
    """The impact of `pending` on `snapshot`, as `scope` may see it.

    Raises WhatIfInputError when the change names something outside `scope` or its YAML is
    not a valid NetworkPolicy list (with the line), ClusterError when the cluster cannot be
    evaluated. Guarantees: nothing is written anywhere.
    """
    check_pending(scope, pending)
    upsert, remove = _changes(scope, pending, snapshot)
    after = snapshot_with(snapshot, upsert, remove)
    delta, notes = impact_between(snapshot, after, settings,
                                  [ref_of(o) for o in upsert] + list(remove))
    seen = scoped_delta(delta, scope)
    return {"title": pending.title, "delta": seen, "grid": diff_grid(seen, scope),
            "notes": notes}


def _changes(scope: Scope, pending: PendingChange, snapshot: Snapshot
             ) -> tuple[list[dict[str, Any]], list[Ref]]:
    if pending.kind == "workspace":
        workspace = _find(snapshot.workspaces, "", pending.target)
        if workspace is None:
            raise WhatIfInputError("workspace", _no_workspace(pending.target))
        changed = copy.deepcopy(workspace)
        changed.setdefault("spec", {})["networkIsolation"] = pending.enabled
        return [changed], []
    if pending.kind == "project":
        namespace = _find(snapshot.namespaces, "", pending.target)
        if namespace is None:
            raise WhatIfInputError("project", _no_project(pending.target))
        changed = copy.deepcopy(namespace)
        annotations = changed.setdefault("metadata", {}).setdefault("annotations", {}) or {}
        if pending.enabled:
            annotations[ISOLATE_ANNOTATION] = "enabled"
        else:
            annotations.pop(ISOLATE_ANNOTATION, None)
        changed["metadata"]["annotations"] = annotations
        return [changed], []
    return _drafted_policies(scope, pending, snapshot)


def _find(objects: list[dict[str, Any]], namespace: str, name: str) -> dict[str, Any] | None:
    return next((o for o in objects if ref_of(o)[1:] == (namespace, name)), None)


def _drafted_policies(scope: Scope, pending: PendingChange, snapshot: Snapshot
                      ) -> tuple[list[dict[str, Any]], list[Ref]]:
    policies = _parse_drafts(scope, pending)
    removals = []
    for namespace, name in pending.remove:
        if not scope.sees(namespace) or _find(snapshot.network_policies, namespace, name) is None:
            raise WhatIfInputError("remove", _no_policy(namespace, name))
        removals.append(("NetworkPolicy", namespace, name))
    return policies, removals


def check_pending(scope: Scope, pending: PendingChange) -> None:
    """Refuse, before any cluster read, a change naming what `scope` does not hold or a draft
    that is not valid NetworkPolicy YAML (WhatIfInputError)."""
    if pending.kind == "workspace" and pending.target not in scope.workspaces:
        raise WhatIfInputError("workspace", _no_workspace(pending.target))
    if pending.kind == "project":
        if not scope.sees(pending.target):
            raise WhatIfInputError("project", _no_project(pending.target))
        if not scope.workspace_of.get(pending.target):
            raise WhatIfInputError("project", _("{project} belongs to no workspace, so the "
                                                "isolation engine does not manage it.",
                                                project=pending.target))
    if pending.kind == "policy":
        _parse_drafts(scope, pending)
        for namespace, name in pending.remove:
            if not scope.sees(namespace):
                raise WhatIfInputError("remove", _no_policy(namespace, name))


def _no_workspace(workspace: str) -> str:
    return _("There is no workspace {workspace} among yours.", workspace=workspace)


def _no_project(project: str) -> str:
    return _("There is no project {project} among yours.", project=project)


def _no_policy(namespace: str, name: str) -> str:
    return _("There is no NetworkPolicy {policy} in your projects.",
             policy=f"{namespace}/{name}")


def _parse_drafts(scope: Scope, pending: PendingChange) -> list[dict[str, Any]]:
    try:
        documents = load_documents(pending.yaml, max_bytes=django_settings.MAX_YAML_BYTES)
    except YamlInputError as exc:
        raise WhatIfInputError("yaml", exc.message, exc.line or 1) from exc
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        # An explicit tag whose value cannot be built, e.g. `!!int abc` (as the editor says).
        raise WhatIfInputError("yaml", _("A value does not match its tag (such as !!int or "
                                         "!!timestamp): {error}",
                                         error=f"{exc.__class__.__name__}: {exc}"), 1) from exc
    several = len(documents) > 1
    policies = []
    for document in documents:
        problem = draft_problem(document)
        if problem is not None:
            line, message = problem
            raise WhatIfInputError("yaml", _in_document(document, message, several), line)
        obj = document.data
        metadata = obj.setdefault("metadata", {})
        namespace = metadata.setdefault("namespace", "default")
        if not scope.sees(namespace):
            line = locate(document.node, ("metadata", "namespace"))[0]
            message = _("namespace {namespace} is not one of your projects.",
                        namespace=namespace)
            raise WhatIfInputError("yaml", _in_document(document, message, several), line)
        policies.append(obj)
    return policies


def _in_document(document: Document, message: str, several: bool) -> str:
    """`message`, naming its document when the YAML holds several."""
    if not several:
        return message
    return _("Document {number}: {problem}", number=document.index, problem=message)


def draft_problem(document: Document) -> tuple[int, str] | None:
    """The first reason a drafted NetworkPolicy document is refused, with its line, in the
    words of the policy editor (both use `isolation.netpol.problems`): the kind, the schema
    (unknown fields, wrong types), the API server's rules, then the apiVersion. None when it is
    a valid NetworkPolicy.
    """
    obj = document.data
    start = document.node.start_mark.line + 1
    if not isinstance(obj, dict) or obj.get("kind") != "NetworkPolicy":
        return start, _("The document is not a NetworkPolicy (kind: NetworkPolicy, "
                        "apiVersion: {version}).", version=API_VERSION)
    for problem in [*schema_problems(document), *rule_problems(document)]:
        return problem.line, problem.message
    if obj.get("apiVersion") != API_VERSION:
        version = obj.get("apiVersion")
        line = locate(document.node, ("apiVersion",))[0]
        if version is None:
            return line, _("apiVersion is missing: a NetworkPolicy is apiVersion: {expected}.",
                           expected=API_VERSION)
        return line, _("apiVersion is {version}: a NetworkPolicy is apiVersion: {expected}.",
                       version=json.dumps(version, default=str), expected=API_VERSION)
    return None


def diff_grid(delta: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """Newly allowed / newly blocked connections per (source project, destination project),
    from a scoped delta: projects outside `scope` are "other projects", shown without numbers.
    """
    cells = {(p["from"], p["to"]): (p["allowed"], p["blocked"]) for p in delta["pairs"]}
    columns = sorted({pair[1] for pair in cells}, key=_last_hidden)
    rows = []
    for src in sorted({pair[0] for pair in cells}, key=_last_hidden):
        line = []
        for dst in columns:
            counts = cells.get((src, dst))
            if counts is None:
                line.append(None)
                continue
            hidden = HIDDEN_NAMESPACE in (src, dst) and not scope.everything
            line.append({"allowed": None if hidden else counts[0],
                         "blocked": None if hidden else counts[1],
                         "more_allowed": counts[0] > 0, "more_blocked": counts[1] > 0})
        rows.append({"label": src, "cells": line})
    return {"rows": rows, "columns": columns}


def _last_hidden(name: str) -> tuple[int, str]:
    return (1 if name == HIDDEN_NAMESPACE else 0, name)


# -- now or in the background -------------------------------------------------------------


def preview_now(scope: Scope, pending: PendingChange, progress=None) -> dict[str, Any]:
    """Read the cluster and compute the preview; remembers how long it took."""
    from console.tenancy.services import isolation_settings

    started = time.perf_counter()
    if progress:
        progress(10, gettext_noop("Reading the cluster"))
    snapshot = cluster.snapshot()
    if progress:
        progress(40, gettext_noop("Comparing reachability before and after"))
    result = what_if(scope, pending, snapshot, isolation_settings())
    cache.set(_cost_key(scope), time.perf_counter() - started, COST_SECONDS)
    return result


def preview_for(user, scope: Scope, pending: PendingChange) -> tuple[dict[str, Any] | None,
                                                                      Job | None]:
    """The preview of `pending` for `user`: computed now when that is expected to take under
    a second, else by a "reachability-what-if" job (the result, or the job still running).

    Raises WhatIfInputError before any work for a change outside the scope or a bad draft.
    """
    check_pending(scope, pending)
    measured = cache.get(_cost_key(scope))
    expected = measured if measured is not None else (
        2 * INLINE_SECONDS if len(scope.known) > GUESS_NAMESPACES else 0.0)
    if expected <= INLINE_SECONDS:
        return preview_now(scope, pending), None
    job = jobs.start(JOB_KIND, target=pending.title, user=user,
                     params={"pending": dataclasses.asdict(pending)})
    job.refresh_from_db()   # when jobs run in-process, it has already finished
    if job.status == JobStatus.SUCCEEDED and job.result.get("whatif"):
        return text.load_all(job.result["whatif"]), None
    return None, job


def pending_from(params: dict[str, Any]) -> PendingChange:
    """The PendingChange a job was started with."""
    return PendingChange(**{**params, "remove": tuple(tuple(r) for r in params.get("remove", ()))})


def _cost_key(scope: Scope) -> str:
    return f"{COST_KEY}:{scope.everything}"
