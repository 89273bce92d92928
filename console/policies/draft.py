"""Reviewing a policy draft before anything is written, then starting its apply.

Drafts are Kubernetes NetworkPolicies or any other kind of `console.policies.kinds` (Calico
policies and tiers, AdminNetworkPolicies), each checked by its own package's schema and
validation; cluster-wide kinds may be changed by platform admins only.

A review runs the checks in order and stops at the first stage that fails, since later stages
need what earlier ones establish: YAML syntax (safe loading, no aliases, bounded size and
depth); exactly one document of kind NetworkPolicy in networking.k8s.io/v1; the schema (unknown
fields and wrong types); the API server's validation rules; the user's right to change the
namespace; then a server-side dry-run. A draft that passes gets a preview: the diff against
the live object, the reachability impact and the lint warnings. Every problem carries the
line and column it concerns, so the editor can mark it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext, gettext_noop

from cluster.errors import (
    AlreadyExistsError,
    ClusterError,
    ConflictError,
    InvalidError,
    NotFoundError,
)
from console.core import cluster, jobs, tenants
from console.core.access import Access
from console.core.models import Job
from console.core.scope import Scope, redact_names, scoped_delta
from console.guardrails.services import HELD_RESULTS, GuardrailCheck, check_change
from console.policies import kinds, services
from console.policies.detail import scope_of
from console.policies.kinds import NETPOL, PolicyKind
from console.policies.parsed import PARSED_DRAFTS
from console.policies.text import DiffPage, DiffRow, FoldedDiff, diff_page, live_yaml
from isolation.calico.kubernetes import forget_converted
from isolation.collector import collector_paused
from isolation.compiler.reconcile import is_ours
from isolation.fielderrors import UNKNOWN_FIELD
from isolation.netpol.problems import Problem, position, rule_problems, schema_problems
from isolation.review.baseline import BASELINES
from isolation.review.clusters import LIVE_POLICIES, ChangeClusters
from isolation.review.impact import Impact, impact_of, with_policies
from isolation.review.lint import BIDI_CONTROLS, Finding, bidi_lines, lint_policy
from isolation.review.rules import PARSED_RULES
from isolation.snapshot import Snapshot
from isolation.yamlio import (
    Document,
    YamlInputError,
    plain_copy,
)

API_VERSION = "networking.k8s.io/v1"
KIND = "NetworkPolicy"
CREATE, EDIT = "create", "edit"
# Set by the API server; a draft's copies are dropped so an old read never travels along.
SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation",
                   "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")
# Check names and statuses are kept in English and translated where the review shows them.
CHECKS = (gettext_noop("YAML syntax"), gettext_noop("One NetworkPolicy"), gettext_noop("Schema"),
          gettext_noop("Validation"), gettext_noop("Permission"), gettext_noop("Server dry-run"))
PASSED, FAILED, NOT_RUN = gettext_noop("passed"), gettext_noop("failed"), gettext_noop("not run")
# Problems listed under the review (each kind), and marked in the editor's gutter; the rest
# are counted. A draft of thousands of broken rules stays a page, not megabytes.
LISTED_PROBLEMS = 50
MARKED_PROBLEMS = 1000


@dataclass(frozen=True)
class Diagnostic:
    """A problem in the draft, at a 1-based line and column."""

    line: int
    column: int
    severity: str          # error | warning | info
    message: str
    field: str = ""
    source: str = ""

    def to_editor(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "severity": self.severity,
                "message": self.message, "source": self.source}


@dataclass(frozen=True)
class ImpactView:
    """A reachability change as one user may see it (see `scoped_impact`)."""

    allowed: int
    blocked: int
    newly_allowed: list[dict[str, Any]]
    newly_blocked: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    warnings: list[str]
    hidden: int = 0

    @property
    def unchanged(self) -> bool:
        return not self.allowed and not self.blocked

    @property
    def page(self) -> int:
        """How many connections of each kind the review lists before "show more"."""
        return IMPACT_PAGE

    @property
    def first_blocked(self) -> list[dict[str, Any]]:
        return self.newly_blocked[:IMPACT_PAGE]

    @property
    def first_allowed(self) -> list[dict[str, Any]]:
        return self.newly_allowed[:IMPACT_PAGE]


@dataclass
class Review:
    """The outcome of checking one draft; `ok` means it may be applied."""

    text: str
    mode: str
    target: tuple[str, str] | None = None
    base_version: str = ""
    draft: dict[str, Any] | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=lambda: dict.fromkeys(CHECKS, NOT_RUN))
    stored: dict[str, Any] | None = None
    live: dict[str, Any] | None = None
    diff: Sequence[DiffRow] = field(default_factory=list)
    diff_texts: tuple[str, str] | None = None   # the YAML compared: live, after apply
    impact: ImpactView | None = None
    impact_error: str = ""
    findings: list[Finding] = field(default_factory=list)
    guardrails: GuardrailCheck | None = None   # the expectations the draft newly breaks
    conflict: bool = False
    kind: PolicyKind = kinds.KINDS[NETPOL]
    fixed_kind: bool = False    # an edit: the draft must stay of `kind`

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity != "error"]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.conflict and self.stored is not None

    @property
    def digest(self) -> str:
        return digest_of(self.text, self.base_version)

    @property
    def namespace(self) -> str:
        return ((self.draft or {}).get("metadata") or {}).get("namespace") or ""

    @property
    def name(self) -> str:
        return ((self.draft or {}).get("metadata") or {}).get("name") or ""

    @property
    def diff_page(self) -> DiffPage:
        """The first rows of the diff; the rest is fetched page by page (see `draft_diff`)."""
        return diff_page(self.diff)

    @property
    def listed_errors(self) -> list[Diagnostic]:
        return self.errors[:LISTED_PROBLEMS]

    @property
    def listed_warnings(self) -> list[Diagnostic]:
        return self.warnings[:LISTED_PROBLEMS]

    @property
    def unlisted_errors(self) -> int:
        return max(len(self.errors) - LISTED_PROBLEMS, 0)

    @property
    def unlisted_warnings(self) -> int:
        return max(len(self.warnings) - LISTED_PROBLEMS, 0)

    @property
    def editor_diagnostics(self) -> str:
        """The gutter marks, errors first (at most MARKED_PROBLEMS of them)."""
        marked = self.diagnostics if len(self.diagnostics) <= MARKED_PROBLEMS else \
            (self.errors + self.warnings)[:MARKED_PROBLEMS]
        return json.dumps([d.to_editor() for d in marked])

    def shown(self) -> Review:
        """This review as its page shows it: the same checks, problems, diff, impact and
        findings, its objects (draft, dry-run answer, live object) cut to their identity and
        metadata. A page's template context is freed only by the cyclic garbage collector
        (Django's contexts refer to themselves), and the objects of a megabyte policy would
        wait there for it, making its next collections long."""
        return dataclasses.replace(self, draft=_outline(self.draft), stored=_outline(self.stored),
                                   live=_outline(self.live))

    def passed(self, check: str) -> None:
        self.checks[check] = PASSED

    def fail(self, check: str, line: int, column: int, message: str, *, path: str = "",
             source: str = "") -> None:
        self.checks[check] = FAILED
        self.diagnostics.append(Diagnostic(line, column, "error", message, path,
                                           source or check))


def _outline(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """`obj` without its spec and status (None stays None)."""
    if obj is None:
        return None
    return {k: v for k, v in obj.items() if k in ("apiVersion", "kind", "metadata")}


def digest_of(text: str, base_version: str) -> str:
    """Names a reviewed text and version: an apply must carry the digest its review showed."""
    return hashlib.sha256(f"{base_version}\n{normalise(text)}".encode()).hexdigest()[:32]


def normalise(text: str) -> str:
    """Form posts send CRLF line ends; the editor, YAML and diffs work with LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def review_draft(text: str, *, access: Access, directory: tenants.Directory, mode: str,
                 target: tuple[str, str] | None = None, base_version: str = "",
                 preview: bool = True, user=None, kind: PolicyKind | None = None) -> Review:
    """Check `text` as a create (mode CREATE) or an edit of `target` read at `base_version`.

    Guarantees: nothing is written to the cluster; every error is a Diagnostic with a line;
    `preview=False` skips the diff, impact and lint (the apply step re-checks without them);
    with `user`, the preview also checks the connectivity expectations (`review.guardrails`).
    """
    review = Review(normalise(text), mode, target, base_version)
    if kind is not None:
        review.kind, review.fixed_kind = kind, True
    # A review of a large draft builds millions of objects and no garbage cycle: collections
    # during it would walk every one of them, and whatever the process keeps, for nothing.
    with collector_paused():
        _mark_bidi(review)
        document = _parse(review)
        if document is None or not _validate(review, document, access, directory):
            return review
        # The cluster the preview compares with is read while the API server checks the draft.
        cluster_read = _ClusterRead(review.kind) if preview else None
        try:
            _dry_run(review, document)
            if review.ok and preview:
                _preview(review, document, scope_of(access, directory), user, cluster_read)
        finally:
            if cluster_read is not None:
                cluster_read.stop()
    return review


# Reads the cluster of each review being checked at once (see `_ClusterRead`).
_AHEAD = ThreadPoolExecutor(max_workers=4, thread_name_prefix="review-cluster")


class _ClusterRead:
    """The snapshot a preview reads (as `BASELINES` keeps it), read in another thread while
    the API server's dry run of the draft is awaited; for a NetworkPolicy also its `before`
    side (every policy parsed: a cluster of large policies takes a while to read the first
    time). `stop()` once the review no longer needs it: one not begun is not read, one begun
    reads no `before` side."""

    def __init__(self, kind: PolicyKind) -> None:
        self._kind = kind
        self._stopped = threading.Event()
        self._future = _AHEAD.submit(self._read)

    def _read(self) -> tuple[Snapshot, ValueError | None]:
        snapshot = BASELINES.snapshot(cluster.snapshot())
        if self._kind.slug == NETPOL and not self._stopped.is_set():
            try:
                BASELINES.before(snapshot, live=True)
            except ValueError as exc:   # the preview reports it
                return snapshot, exc
        return snapshot, None

    def result(self) -> tuple[Snapshot, ValueError | None]:
        """The snapshot and the error its `before` side met (raises what `cluster.snapshot()`
        raises); read here when no thread had begun it."""
        if self._future.cancel():
            return self._read()
        return self._future.result()

    def stop(self) -> None:
        self._stopped.set()
        self._future.cancel()


def forget() -> None:
    """Drop what this process keeps between reviews (read drafts, clusters read, engines and
    their results): the next review reads everything again."""
    PARSED_DRAFTS.clear()
    BASELINES.clear()
    LIVE_POLICIES.clear()
    PARSED_RULES.clear()
    forget_converted()
    HELD_RESULTS.clear()


def guardrail_key(namespace: str, name: str, action: str = "edit",
                  kind: PolicyKind | None = None) -> str:
    """What names a policy change for an override given ahead of its apply."""
    if kind is not None and kind.slug != NETPOL:
        return f"policy-{action}:{kind.slug}:{namespace}/{name}"
    return f"policy-{action}:{namespace}/{name}"


def after_change(snapshot, kind: PolicyKind, *, upsert: dict[str, Any] | None = None,
                 remove: tuple[str, str] | None = None):
    """`snapshot` with one object of `kind` written or deleted."""
    if kind.slug == NETPOL:
        return with_policies(snapshot, upsert=[upsert] if upsert is not None else [],
                             remove=[remove] if remove is not None else [])
    return kinds.with_object(snapshot, kind, upsert=upsert, remove=remove)


def apply_guardrails(review: Review, user) -> GuardrailCheck:
    """The guardrails an `ok` review's draft breaks, checked again on the cluster as it is at
    the apply (the preview's check may be minutes old). Raises ClusterError."""
    snapshot = cluster.snapshot()
    after = after_change(snapshot, review.kind, upsert=review.stored or review.draft or {})
    return check_change(user, snapshot, after,
                        key=guardrail_key(review.namespace, review.name, kind=review.kind))


def delete_guardrails(policy: dict[str, Any], user, kind: PolicyKind | None = None
                      ) -> GuardrailCheck:
    """The guardrails deleting `policy` breaks (raises ClusterError)."""
    kind = kind or kinds.KINDS[NETPOL]
    meta = policy["metadata"]
    namespace = meta.get("namespace") or ""
    snapshot = cluster.snapshot()
    after = after_change(snapshot, kind, remove=(namespace, meta["name"]))
    return check_change(user, snapshot, after,
                        key=guardrail_key(namespace, meta["name"], "delete", kind))


# -- stages ------------------------------------------------------------------------------------


def draft_diff(review: Review) -> Sequence[DiffRow]:
    """The folded side-by-side diff of a checked draft (`review.stored`, what the dry run
    returned) against the live object (`review.live`, none for a create); the two texts are
    kept in `review.diff_texts`."""
    review.diff_texts = (live_yaml(review.live) if review.live else "",
                         live_yaml(review.stored or {}))
    return FoldedDiff(*review.diff_texts)


# A reviewed diff is kept this long for its author, so "show more" pages through it without
# checking the draft again; once it is gone (or the cache is unreachable) the draft is.
KEPT_DIFF_SECONDS = 15 * 60


def keep_diff(review: Review, user_id: int) -> None:
    """Keep the diff of a review that passed for `user_id` (see `kept_diff`)."""
    if review.ok and review.diff_texts is not None:
        packed = zlib.compress(json.dumps(review.diff_texts).encode(), 1)   # the fastest level
        cache.set(_diff_key(user_id, review.target, review.text, review.base_version), packed,
                  KEPT_DIFF_SECONDS)


def kept_diff(user_id: int, target: tuple[str, str] | None, text: str,
              base_version: str) -> Sequence[DiffRow] | None:
    """The diff `keep_diff` kept for this user, target, text and version, or None."""
    packed = cache.get(_diff_key(user_id, target, normalise(text), base_version))
    if not isinstance(packed, bytes):
        return None
    before, after = json.loads(zlib.decompress(packed))
    return FoldedDiff(before, after)


def _diff_key(user_id: int, target: tuple[str, str] | None, text: str,
              base_version: str, part: str = "diff") -> str:
    where = "/".join(target) if target else "-"
    return f"policy-review-{part}:{user_id}:{where}:{digest_of(text, base_version)}"


# The impact lists its first IMPACT_PAGE connections of each kind; "show more" pages through
# at most KEPT_CONNECTIONS of each (the counts above them are always exact).
IMPACT_PAGE = 200
KEPT_CONNECTIONS = 10_000
IMPACT_KINDS = ("blocked", "allowed")


def keep_impact(review: Review, user_id: int) -> None:
    """Keep the listed connections of a review's impact for `user_id` (see `kept_impact`)."""
    impact = review.impact
    if not review.ok or impact is None:
        return
    lists = {"blocked": impact.newly_blocked[:KEPT_CONNECTIONS],
             "allowed": impact.newly_allowed[:KEPT_CONNECTIONS]}
    if all(len(rows) <= IMPACT_PAGE for rows in lists.values()):
        return      # the page lists them all: nothing to page through
    packed = zlib.compress(json.dumps(lists).encode())
    cache.set(_diff_key(user_id, review.target, review.text, review.base_version, "impact"),
              packed, KEPT_DIFF_SECONDS)


def kept_impact(user_id: int, target: tuple[str, str] | None, text: str, base_version: str,
                which: str) -> list[dict[str, Any]] | None:
    """The `which` ("blocked" or "allowed") connections `keep_impact` kept, or None."""
    packed = cache.get(_diff_key(user_id, target, normalise(text), base_version, "impact"))
    if not isinstance(packed, bytes) or which not in IMPACT_KINDS:
        return None
    return json.loads(zlib.decompress(packed)).get(which)


def review_diff(text: str, *, access: Access, directory: tenants.Directory, mode: str,
                target: tuple[str, str] | None = None, base_version: str = "",
                kind: PolicyKind | None = None) -> Review:
    """A draft checked as `review_draft` does (nothing written), with its diff but without the
    impact and lint: what "show more" of the review's diff pages through."""
    review = review_draft(text, access=access, directory=directory, mode=mode, target=target,
                          base_version=base_version, preview=False, kind=kind)
    if review.ok:
        try:
            if review.mode == EDIT:
                review.live = _live(review.namespace, review.name, review.kind)
        except ClusterError:
            return review
        review.diff = draft_diff(review)
    return review


def _mark_bidi(review: Review) -> None:
    """A warning at each line holding a bidirectional control character: such text (a name,
    an annotation) can show differently from what it is."""
    if not any(control in review.text for control in BIDI_CONTROLS):
        return
    for found in bidi_lines(review.text):
        message = found.message
        review.diagnostics.append(Diagnostic(found.line, found.column, "warning",
                                             message[0].upper() + message[1:] + ".",
                                             source="text"))


def _parse(review: Review) -> Document | None:
    try:
        documents = PARSED_DRAFTS.documents(review.text, max_bytes=settings.MAX_YAML_BYTES)
    except YamlInputError as exc:
        review.fail("YAML syntax", exc.line or 1, exc.column or 1, exc.message, source="YAML")
        return None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        # An explicit tag whose value cannot be built, e.g. `!!int abc` or `!!timestamp no`.
        review.fail("YAML syntax", 1, 1, gettext(
            "A value does not match its tag (such as !!int or !!timestamp): %(error)s") % {
            "error": f"{exc.__class__.__name__}: {exc}"}, source="YAML")
        return None
    review.passed("YAML syntax")
    if not documents:
        review.fail("One NetworkPolicy", 1, 1, gettext(
            "The draft is empty: write one NetworkPolicy, or start from a template."))
        return None
    if len(documents) > 1:
        start = documents[1].node.start_mark
        review.fail("One NetworkPolicy", start.line + 1, start.column + 1,
                    gettext("Only one NetworkPolicy at a time: this is document %(number)s "
                            "of %(count)s. Remove the other documents.") % {
                        "number": documents[1].index, "count": documents[-1].index})
        return None
    document = documents[0]
    data = document.data
    if not isinstance(data, dict):
        line, column = _at(document, "")
        review.fail("One NetworkPolicy", line, column, gettext(
            "A NetworkPolicy is a mapping with apiVersion, kind, metadata and spec; this "
            "document is a %(type)s.") % {"type": type(data).__name__})
        return None
    kind, version = data.get("kind"), data.get("apiVersion")
    other = kinds.kind_of_draft(data)
    if other is not None and other.slug != NETPOL:
        return _other_kind(review, document, other)
    if review.fixed_kind and review.kind.slug != NETPOL:
        return _other_kind(review, document, None)
    if isinstance(kind, str) and kind != KIND and \
            kind in {k.kind for k in kinds.OTHER_KINDS}:
        line, column = _at(document, "apiVersion")
        served = ", ".join(sorted({v for k in kinds.KINDS.values() if k.kind == kind
                                   for v in k.api_versions}))
        review.fail("One NetworkPolicy", line, column,
                    gettext("apiVersion is %(version)s: a %(kind)s is written here as "
                            "apiVersion %(served)s. This editor takes only kind: "
                            "%(supported)s.") % {
                        "version": json.dumps(version, default=str), "kind": kind,
                        "served": served, "supported": kinds.supported_text()},
                    path="apiVersion")
        return None
    if kind != KIND:
        line, column = _at(document, "kind")
        message = gettext("kind is %(kind)s: this editor takes only kind: %(supported)s.") \
            if kind is not None else gettext(
                "kind is missing: this editor takes only kind: %(supported)s.")
        review.fail("One NetworkPolicy", line, column,
                    message % {"kind": json.dumps(kind, default=str),
                               "supported": kinds.supported_text()}, path="kind")
    if version != API_VERSION:
        line, column = _at(document, "apiVersion")
        message = (gettext("apiVersion is %(version)s: a NetworkPolicy is apiVersion: "
                           "%(expected)s.") if version is not None else
                   gettext("apiVersion is missing: a NetworkPolicy is apiVersion: %(expected)s."))
        review.fail("One NetworkPolicy", line, column,
                    message % {"version": json.dumps(version, default=str),
                               "expected": API_VERSION}, path="apiVersion")
    if review.errors:
        return None
    review.passed("One NetworkPolicy")
    return document


ONE_POLICY = gettext_noop("One policy")


def _other_kind(review: Review, document: Document, kind: PolicyKind | None) -> Document | None:
    """The kind stage of a draft of a kind other than NetworkPolicy: an edit keeps its kind."""
    review.checks = {(ONE_POLICY if c == "One NetworkPolicy" else c): v
                     for c, v in review.checks.items()}
    if kind is None or (review.fixed_kind and kind != review.kind):
        line, column = _at(document, "kind")
        found = document.data.get("kind")
        review.fail(ONE_POLICY, line, column,
                    gettext("Editing a %(kind)s (%(version)s): its kind and apiVersion cannot "
                            "change (the draft is %(found)s). To write another kind, create a "
                            "new policy.") % {
                        "kind": review.kind.kind, "version": review.kind.write_version,
                        "found": json.dumps(found, default=str)}, path="kind")
        return None
    review.kind = kind
    review.passed(ONE_POLICY)
    return document


def _validate(review: Review, document: Document, access: Access,
              directory: tenants.Directory) -> bool:
    if review.kind.slug != NETPOL:
        return _validate_other(review, document, access, directory)
    for problem in _found(review, "schema", lambda: schema_problems(document)):
        review.fail("Schema", problem.line, problem.column, problem.message, path=problem.field)
    if review.errors:
        return False
    review.passed("Schema")
    # The document is shared (see console.policies.parsed): the draft shares its spec, which
    # the review, its dry run and its apply only ever read (a job stores it as JSON).
    draft = without_server_fields(document.data, shared=True)
    review.draft = draft
    metadata = draft.get("metadata") or {}
    if not metadata.get("name"):
        line, column = _at(document, "metadata")
        review.fail("Validation", line, column, gettext(
            "metadata.name is missing: name the policy (a generateName is not enough: the "
            "console must know what it applies)."), path="metadata.name")
    if not metadata.get("namespace"):
        line, column = _at(document, "metadata")
        review.fail("Validation", line, column, gettext(
            "metadata.namespace is missing: name the project this policy belongs to."),
            path="metadata.namespace")
    if review.mode == EDIT and review.target and metadata.get("name") and \
            (metadata.get("namespace"), metadata.get("name")) != review.target:
        line, column = _at(document, "metadata.name")
        review.fail("Validation", line, column,
                    gettext("Editing %(target)s: its project and name cannot change. To copy "
                            "it under another name, create a new policy.") % {
                        "target": f"{review.target[0]}/{review.target[1]}"},
                    path="metadata.name")
    # The schema stage passed: no value has a wrong type, the rules need no second type walk.
    for problem in _found(review, "rules", lambda: rule_problems(document, draft, typed=True)):
        review.fail("Validation", problem.line, problem.column, problem.message,
                    path=problem.field)
    if review.errors:
        return False
    review.passed("Validation")
    return _namespace_permission(review, document, access, directory, metadata["namespace"])


def _found(review: Review, what: str, find: Callable[[], list[Problem]]) -> list[Problem]:
    """`find()` on the draft's only document, once per text (see `console.policies.parsed`)."""
    return PARSED_DRAFTS.found(review.text, settings.MAX_YAML_BYTES, what, find)


def _namespace_permission(review: Review, document: Document, access: Access,
                          directory: tenants.Directory, namespace: str) -> bool:
    """The Permission stage of a draft in `namespace`: a project the user may change."""
    workspace_of = directory.workspace_of
    line, column = _at(document, "metadata.namespace")
    if namespace not in directory.namespaces or not services.can_view(
            access, namespace, workspace_of):
        review.fail("Permission", line, column,
                    gettext("There is no project %(namespace)s you can change.") % {
                        "namespace": namespace}, path="metadata.namespace")
        return False
    if not services.can_edit(access, namespace, workspace_of):
        review.fail("Permission", line, column, gettext(
            "You can view project %(namespace)s but not change its policies.") % {
            "namespace": namespace}, path="metadata.namespace")
        return False
    review.passed("Permission")
    return True


def _validate_other(review: Review, document: Document, access: Access,
                    directory: tenants.Directory) -> bool:
    """Schema, validation and permission of a draft of another kind: the kind's own
    package's checks, each problem at its line."""
    kind = review.kind
    draft = without_server_fields(document.data)
    tiers: list[str] = []
    if kind.is_calico:
        try:
            tiers = [t["metadata"]["name"] for t in kinds.list_kind(cluster.gateway(),
                                                                      kinds.KINDS[kinds.TIER])]
        except ClusterError as exc:
            review.fail("Validation", 1, 1, gettext(
                "The cluster's tiers could not be read: %(error)s") % {"error": exc.message})
            return False
    schema, issues = kinds.object_issues(kind, draft, tiers)
    for issue in schema:
        line, column = _at(document, issue.field)
        review.fail("Schema", line, column, _issue_text(issue, kind), path=issue.field)
    if review.errors:
        return False
    review.passed("Schema")
    review.draft = draft
    metadata = draft.get("metadata") or {}
    for issue in issues:
        line, column = _at(document, issue.field)
        review.fail("Validation", line, column, _issue_text(issue, kind), path=issue.field)
    namespace = metadata.get("namespace") or ""
    if kind.namespaced and not namespace:
        line, column = _at(document, "metadata")
        review.fail("Validation", line, column, gettext(
            "metadata.namespace is missing: name the project this policy belongs to."),
            path="metadata.namespace")
    if not kind.namespaced and namespace:
        line, column = _at(document, "metadata.namespace")
        review.fail("Validation", line, column, gettext(
            "metadata.namespace: a %(kind)s is cluster-wide and has no namespace; remove "
            "this field.") % {"kind": kind.kind}, path="metadata.namespace")
    if review.mode == EDIT and review.target and metadata.get("name") and \
            (namespace, metadata.get("name")) != review.target:
        line, column = _at(document, "metadata.name")
        review.fail("Validation", line, column,
                    gettext("Editing %(target)s: its name cannot change. To copy it under "
                            "another name, create a new policy.") % {
                        "target": "/".join(p for p in review.target if p)},
                    path="metadata.name")
    if review.errors:
        return False
    review.passed("Validation")
    return _permission_other(review, document, access, directory, namespace)


def _issue_text(issue, kind: PolicyKind) -> str:
    if issue.reason == UNKNOWN_FIELD:
        return gettext('Unknown field "%(field)s": it is not part of the %(kind)s schema and '
                       "the API server would drop it. Check its spelling and indentation.") % {
            "field": issue.field, "kind": kind.kind}
    return f"{issue.field}: {issue.message}" if issue.field else issue.message


def _permission_other(review: Review, document: Document, access: Access,
                      directory: tenants.Directory, namespace: str) -> bool:
    kind = review.kind
    if not kind.namespaced:
        if not access.can_edit_cluster():
            line, column = _at(document, "kind")
            review.fail("Permission", line, column,
                        gettext("A %(kind)s is a platform policy: only platform admins may "
                                "create or change one.") % {"kind": kind.kind}, path="kind")
            return False
        review.passed("Permission")
        return True
    return _namespace_permission(review, document, access, directory, namespace)


def _dry_run(review: Review, document: Document) -> None:
    check, draft = "Server dry-run", review.draft or {}
    name_line, name_column = _at(document, "metadata.name")
    try:
        gw = cluster.gateway()
        if review.mode == CREATE:
            review.stored = gw.create(draft, dry_run=True)
        else:
            if not review.base_version:
                review.fail(check, name_line, name_column, gettext(
                    "The version this edit started from is unknown: open the policy again and "
                    "redo the edit."))
                return
            # Only the metadata changes: the rest is shared, never a copy of a large spec.
            versioned = {**draft, "metadata": {**draft["metadata"],
                                               "resourceVersion": review.base_version}}
            review.stored = gw.replace(versioned, dry_run=True)
    except AlreadyExistsError:
        message = gettext("A %(kind)s named %(name)s already exists in %(namespace)s: open "
                          "it to edit it, or choose another name.") if review.namespace else \
            gettext("A %(kind)s named %(name)s already exists: open it to edit it, or choose "
                    "another name.")
        review.fail(check, name_line, name_column, message % {
            "kind": review.kind.kind, "name": review.name, "namespace": review.namespace},
            path="metadata.name")
        return
    except ConflictError:
        review.conflict, review.checks[check] = True, FAILED
        review.live = _live(review.namespace, review.name, review.kind)
        return
    except NotFoundError as exc:
        ref = "/".join(p for p in (review.namespace, review.name) if p)
        message = (gettext("%(ref)s was deleted since you opened it: create it again from "
                           "this draft.") % {"ref": ref} if review.mode == EDIT else exc.message)
        review.fail(check, name_line, name_column, message)
        return
    except InvalidError as exc:
        for path, message in exc.causes or [("", exc.message)]:
            line, column = _at(document, path)
            review.fail(check, line, column, f"{path}: {message}" if path else message,
                        path=path)
        return
    except ClusterError as exc:
        review.fail(check, 1, 1, gettext("The cluster could not check the draft: %(error)s")
                    % {"error": exc.message})
        return
    review.passed(check)


def _preview(review: Review, document: Document, scope: Scope, user=None,
             cluster_read: _ClusterRead | None = None) -> None:
    """The diff, impact and lint of a draft that passed; pods and projects outside `scope`
    are never named in them. `cluster_read`: the snapshot being read already."""
    stored = review.stored or {}
    before_error: ValueError | None = None
    try:
        if cluster_read is not None:
            snapshot, before_error = cluster_read.result()
        else:
            snapshot = BASELINES.snapshot(cluster.snapshot())
        if review.mode == EDIT:
            review.live = _live(review.namespace, review.name, review.kind)
    except ClusterError as exc:
        review.impact_error = gettext("The cluster could not be read for the preview: "
                                      "%(error)s") % {"error": redact_names(exc.message, scope)}
        return
    review.diff = draft_diff(review)
    if review.kind.slug != NETPOL:
        _preview_other(review, snapshot, stored, scope, user)
        return
    clusters = None
    try:
        after = with_policies(snapshot, upsert=[stored])
        # Read once, for impact and lint: the dry run validated what it returned, and the
        # snapshot is the cluster as its API server sent it.
        if before_error is not None:
            raise before_error
        clusters = ChangeClusters.of(snapshot, after, checked=[stored], live=True,
                                     reused=BASELINES.before(snapshot, live=True))
        review.impact = scoped_impact(impact_of(snapshot, after, clusters=clusters), scope)
    except ValueError as exc:
        review.impact_error = gettext("The impact cannot be computed on this cluster: "
                                      "%(error)s") % {"error": redact_names(str(exc), scope)}
    if user is not None:
        # The engines the impact built already serve the guardrails (a large draft is parsed
        # once per review, not once per question).
        if clusters:
            review.guardrails = check_change(
                user, snapshot, (after, clusters.after), declared=clusters.after_asked,
                declared_before=clusters.before_asked,
                key=guardrail_key(review.namespace, review.name))
        else:
            review.guardrails = check_change(user, snapshot, with_policies(snapshot,
                                                                           upsert=[stored]),
                                             key=guardrail_key(review.namespace, review.name))
    review.findings = scoped_findings(
        lint_policy(stored, snapshot, live=review.live, clusters=clusters), scope)
    for finding in review.findings:
        line, column = _at(document, finding.field)
        review.diagnostics.append(Diagnostic(line, column, finding.severity, finding.message,
                                             finding.field, "lint"))


def _preview_other(review: Review, snapshot, stored: dict[str, Any], scope: Scope,
                   user) -> None:
    """The impact of a draft of another kind, over the snapshot with the change applied and
    every policy kind evaluated (the review's lint reads NetworkPolicies only)."""
    after = after_change(snapshot, review.kind, upsert=stored)
    try:
        review.impact = scoped_impact(impact_of(snapshot, after), scope)
    except ValueError as exc:
        review.impact_error = gettext("The impact cannot be computed on this cluster: "
                                      "%(error)s") % {"error": redact_names(str(exc), scope)}
    if user is not None:
        review.guardrails = check_change(user, snapshot, after, key=guardrail_key(
            review.namespace, review.name, kind=review.kind))


# -- what a scoped user may see ---------------------------------------------------------------


def scoped_impact(impact: Impact, scope: Scope) -> ImpactView:
    """`impact` as `scope` may see it: connections with an end outside it name that end only
    as "a pod in another project" (alike ones merged, with a count), connections wholly
    outside it are only counted in `hidden`, project pairs outside it merge into "other
    projects", warnings are redacted; the totals stay those of the whole change."""
    # Everything in scope: only what can be listed is built. Otherwise every connection is
    # read, to count those wholly outside the scope.
    listed = slice(0, KEPT_CONNECTIONS if scope.everything else None)
    delta = {"allowed": len(impact.newly_allowed), "blocked": len(impact.newly_blocked),
             "newly_allowed": [c.to_dict() for c in impact.newly_allowed[listed]],
             "newly_blocked": [c.to_dict() for c in impact.newly_blocked[listed]],
             "pairs": [{"from": p.src_namespace, "to": p.dst_namespace, "allowed": p.allowed,
                        "blocked": p.blocked} for p in impact.pairs],
             "warnings": list(impact.warnings)}
    seen = scoped_delta(delta, scope)
    return ImpactView(seen["allowed"], seen["blocked"], seen["newly_allowed"],
                      seen["newly_blocked"], seen["pairs"],
                      [redact_names(w, scope) for w in seen["warnings"]], seen["hidden"])


def scoped_findings(findings: list[Finding], scope: Scope) -> list[Finding]:
    """`findings` with every pod, and every other tenant's project, outside `scope` unnamed."""
    return [dataclasses.replace(f, message=redact_names(f.message, scope)) for f in findings]


# -- helpers -----------------------------------------------------------------------------------


def _at(document: Document, path: str) -> tuple[int, int]:
    return position(document, path)


def _live(namespace: str, name: str, kind: PolicyKind | None = None) -> dict[str, Any] | None:
    kind = kind or kinds.KINDS[NETPOL]
    try:
        return cluster.gateway().get_object(kind.key, name,
                                            namespace if kind.namespaced else None)
    except NotFoundError:
        return None


def without_server_fields(obj: dict[str, Any], *, shared: bool = False) -> dict[str, Any]:
    """A copy of `obj` without status and the metadata only the API server sets. `shared`:
    only `obj` and its metadata are copied, the rest (the spec of thousands of rules) is
    `obj`'s own, for a caller that reads it and never changes it."""
    result = {k: v if shared else plain_copy(v) for k, v in obj.items() if k != "status"}
    if isinstance(result.get("metadata"), dict):
        result["metadata"] = {k: v for k, v in result["metadata"].items()
                              if k not in SERVER_METADATA}
    return result


def live_policy(namespace: str, name: str, kind: PolicyKind | None = None
                ) -> dict[str, Any] | None:
    """The live policy, or None when there is none."""
    return _live(namespace, name, kind)


def start_apply(review: Review, *, user, directory: tenants.Directory,
                base_token: str = "") -> Job:
    """Start the job that writes an `ok` review's draft (create, or replace at its version);
    `base_token` is the signed object the edit started from, for a merge if the job conflicts."""
    if not review.ok:
        raise ValueError("only a draft that passed its review can be applied")
    namespace, name = review.namespace, review.name
    return jobs.start("apply-policy", target=target_of(review.kind, namespace, name),
                      user=user, workspace=directory.workspace_of.get(namespace, ""),
                      project=namespace,
                      params={"mode": review.mode, "namespace": namespace, "name": name,
                              "object": review.draft, "yaml": review.text,
                              "base_version": review.base_version, "base": base_token,
                              "kind": review.kind.slug})


def target_of(kind: PolicyKind, namespace: str, name: str) -> str:
    """How the history names a policy: `namespace/name`, or `Kind name` when cluster-wide."""
    if kind.slug == NETPOL:
        return f"{namespace}/{name}"
    return f"{kind.kind} {namespace}/{name}" if kind.namespaced else f"{kind.kind} {name}"


def start_delete(policy: dict[str, Any], *, user, directory: tenants.Directory,
                 kind: PolicyKind | None = None) -> Job:
    """Start the job that deletes `policy` if it is still at the version the user saw."""
    kind = kind or kinds.KINDS[NETPOL]
    meta = policy["metadata"]
    namespace, name = meta.get("namespace") or "", meta["name"]
    return jobs.start("delete-policy", target=target_of(kind, namespace, name), user=user,
                      workspace=directory.workspace_of.get(namespace, ""), project=namespace,
                      params={"namespace": namespace, "name": name, "kind": kind.slug,
                              "resource_version": meta.get("resourceVersion", "")})


def delete_preview(policy: dict[str, Any], scope: Scope, kind: PolicyKind | None = None
                   ) -> tuple[ImpactView | None, str, list[Finding]]:
    """What deleting `policy` does to reachability, and the warnings it deserves, naming no
    pod or project outside `scope`."""
    kind = kind or kinds.KINDS[NETPOL]
    meta = policy["metadata"]
    try:
        snapshot = cluster.snapshot()
        after = after_change(snapshot, kind, remove=(meta.get("namespace") or "", meta["name"]))
        impact = impact_of(snapshot, after)
    except (ClusterError, ValueError) as exc:
        reason = redact_names(str(getattr(exc, "message", exc)), scope)
        return None, gettext("The impact cannot be computed: %(reason)s") % {
            "reason": reason}, []
    findings = []
    if is_ours(policy):
        findings.append(Finding(
            "generated-policy", gettext(
                "%(name)s is generated by the isolation engine from the isolation settings of "
                "%(namespace)s: it comes back when the engine next reconciles. Turn the "
                "project's isolation off (or remove the allowlist entry) instead.") % {
                "name": meta["name"], "namespace": meta["namespace"]}, "metadata.name"))
    return scoped_impact(impact, scope), "", scoped_findings(findings, scope)
