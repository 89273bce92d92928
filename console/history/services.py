"""The History page: every change the console made or repaired, filtered, compared, exported.

Visibility follows console.core.access.scoped_to_user; inside a visible change, the reachability
delta is shown through console.core.scope, so a project admin never reads the names of
another tenant's pods even when a change of theirs affected them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import Http404
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop, ngettext

from console.core.access import Access, access_of, scoped_to_user
from console.core.models import Change
from console.core.scope import Scope, scoped_delta
from console.policies.text import line_opcodes
from isolation.collector import collector_paused
from isolation.text import Text

CONTEXT_LINES = 3
# Rows of a diff sent at once; "show more" fetches the next ones (history_diff).
DIFF_PAGE_ROWS = 300
DRIFT_AUTHOR = "drift repair"
# Who a change is by when no user made it: stored in English, shown in the reader's language.
SYSTEM_AUTHORS = (gettext_noop("drift repair"), gettext_noop("unknown"))


@dataclass(frozen=True)
class HistoryFilter:
    """The filters of the list (all optional, all in the URL)."""

    workspace: str = ""
    project: str = ""
    author: str = ""
    kind: str = ""

    @classmethod
    def from_params(cls, data) -> HistoryFilter:
        return cls(*((data.get(name) or "").strip()[:253]
                     for name in ("workspace", "project", "author", "kind")))

    def params(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


def visible_changes(request, workspace_of) -> QuerySet:
    """Every change the user may see, newest first."""
    return scoped_to_user(Change.objects.select_related("author", "reverts"), request,
                          workspace_of)


# What the list of changes never shows (it may be large: whole YAML documents and deltas).
LIST_DEFERRED = ("before_yaml", "after_yaml", "generated_before_yaml", "generated_after_yaml",
                 "before_objects", "after_objects")


def listed_changes(request, workspace_of) -> QuerySet:
    """`visible_changes` as the list shows them: without their documents, and without the
    reverted change (the list names it by number only). Each row's reachability totals are
    read as `delta_allowed` and `delta_blocked` (None when the change has no delta)."""
    changes = scoped_to_user(Change.objects.select_related("author"), request, workspace_of)
    return changes.defer("reachability_delta", *LIST_DEFERRED).annotate(
        delta_allowed=KeyTransform("allowed", "reachability_delta"),
        delta_blocked=KeyTransform("blocked", "reachability_delta"))


def changes_version() -> str:
    """A name of the change log's state: changes are only ever added, so their number and
    the latest one tell every state apart; the number without an author changes too when a
    user who made changes is removed (they are then shown as "unknown")."""
    found = Change.objects.aggregate(last=Max("pk"), count=Count("pk"),
                                     authorless=Count("pk", filter=Q(author__isnull=True)))
    return f"{found['last']}:{found['count']}:{found['authorless']}"


def filtered(changes: QuerySet, wanted: HistoryFilter) -> QuerySet:
    """`changes` narrowed by `wanted`; a project filter also matches its workspace-wide
    changes only when a workspace is not given separately."""
    if wanted.workspace:
        changes = changes.filter(workspace=wanted.workspace)
    if wanted.project:
        changes = changes.filter(project=wanted.project)
    if wanted.kind:
        changes = changes.filter(kind=wanted.kind)
    if wanted.author:
        changes = changes.filter(Q(author__username=wanted.author)
                                 | Q(author__isnull=True, author_label=wanted.author))
    return changes


def filter_choices(changes: QuerySet) -> dict[str, list]:
    """The values the filters offer: those present in the changes the user may see; authors
    as (value, label) pairs, the label of a system author in the reader's language."""
    def distinct(field: str) -> list[str]:
        return sorted(v for v in changes.order_by().values_list(field, flat=True).distinct() if v)

    users = set(distinct("author__username"))
    systems = set(changes.filter(author__isnull=True).order_by()
                  .values_list("author_label", flat=True).distinct()) - users
    authors = [(name, name) for name in users if name]
    authors += [(label, gettext(label)) for label in systems if label]
    return {"workspaces": distinct("workspace"), "projects": distinct("project"),
            "kinds": distinct("kind"), "authors": sorted(authors)}


def get_change_for_user(request, change_id: int, workspace_of) -> Change:
    """The change, if the user may see it (Http404 otherwise, so its existence is not told)."""
    change = visible_changes(request, workspace_of).filter(pk=change_id).first()
    if change is None:
        raise Http404(gettext("No such change."))
    return change


WORKSPACE_LABEL = "kubesphere.io/workspace"


def can_revert(access: Access, change: Change, workspace_of) -> bool:
    """Who may revert: whoever may make every write the revert makes.

    Platform admins always may. Others need edit rights on the change's project or workspace
    (cluster-wide changes: the cluster) and on every object the revert writes; moving a project
    between workspaces or creating/removing a workspace stays with platform admins, since it
    changes which tenant a project's pods belong to.
    """
    if access.platform_admin:
        return True
    if _changes_tenancy(change):
        return False
    if change.project and not access.can_edit_project(change.project, workspace_of):
        return False
    if change.workspace and not change.project and not access.can_edit_workspace(change.workspace):
        return False
    if not change.project and not change.workspace:
        return access.can_edit_cluster()
    for obj in [*change.before_objects, *change.after_objects]:
        meta = obj.get("metadata") or {}
        if obj.get("kind") == "Workspace":
            allowed = access.can_edit_workspace(meta.get("name", ""))
        elif obj.get("kind") == "Namespace":
            allowed = access.can_edit_project(meta.get("name", ""), workspace_of)
        else:
            allowed = access.can_edit_project(meta.get("namespace", ""), workspace_of)
        if not allowed:
            return False
    return True


def _changes_tenancy(change: Change) -> bool:
    """Whether undoing the change moves a project or creates/removes a workspace."""
    def keyed(objects, kind):
        return {(o.get("metadata") or {}).get("name"): o for o in objects if o.get("kind") == kind}

    before_ws, after_ws = keyed(change.before_objects, "Workspace"), keyed(change.after_objects, "Workspace")
    if set(before_ws) != set(after_ws):
        return True
    before_ns, after_ns = keyed(change.before_objects, "Namespace"), keyed(change.after_objects, "Namespace")
    for name in set(before_ns) | set(after_ns):
        labels = [((side.get(name) or {}).get("metadata") or {}).get("labels") or {}
                  for side in (before_ns, after_ns)]
        if labels[0].get(WORKSPACE_LABEL) != labels[1].get(WORKSPACE_LABEL):
            return True
    return False


def require_revert(request, change: Change, workspace_of) -> Access:
    access = access_of(request)
    if not can_revert(access, change, workspace_of):
        raise PermissionDenied(gettext("You can view this change but not revert it."))
    return access


# -- side-by-side diff --------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    """One line pair of a side-by-side diff; `kind` equal / changed / removed / added / gap."""

    kind: str
    left_number: int | None = None
    left: str = ""
    right_number: int | None = None
    right: str = ""


def side_by_side(before: str, after: str, context: int = CONTEXT_LINES) -> list[DiffRow]:
    """Rows of a side-by-side diff of two texts; unchanged runs longer than 2×`context`
    lines are folded into one "gap" row whose `left` says how many lines it hides."""
    with collector_paused():   # a row per line of a large policy: plain data, no cycle
        return _side_by_side(before.splitlines(), after.splitlines(), context)


def _side_by_side(old: list[str], new: list[str], context: int) -> list[DiffRow]:
    rows: list[DiffRow] = []
    opcodes = line_opcodes(old, new)
    for position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            count = i2 - i1
            head = min(count, context) if position > 0 else 0
            tail = min(count - head, context) if position < len(opcodes) - 1 else 0
            if count - head - tail <= 1:
                head, tail = count, 0
            for k in list(range(head)) + list(range(count - tail, count)):
                if k == count - tail and head < count - tail:
                    rows.append(DiffRow("gap", left=_unchanged(count - head - tail)))
                rows.append(DiffRow("equal", i1 + k + 1, old[i1 + k], j1 + k + 1, new[j1 + k]))
            if head + tail < count and tail == 0:
                rows.append(DiffRow("gap", left=_unchanged(count - head)))
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            left = i1 + k if i1 + k < i2 else None
            right = j1 + k if j1 + k < j2 else None
            kind = ("changed" if left is not None and right is not None
                    else "removed" if left is not None else "added")
            rows.append(DiffRow(kind, None if left is None else left + 1,
                                "" if left is None else old[left],
                                None if right is None else right + 1,
                                "" if right is None else new[right]))
    return rows


def _unchanged(count: int) -> str:
    """The label of a folded run of `count` unchanged lines, its number grouped by thousands."""
    return ngettext("%(count)s unchanged line", "%(count)s unchanged lines", count) % {
        "count": number_format(count, force_grouping=True)}


# -- one change, as the page and the export show it ---------------------------------------


def delta_for(change: Change, scope: Scope) -> dict[str, Any]:
    """The change's reachability delta as `scope` may see it."""
    return scoped_delta(change.reachability_delta or {}, scope)


def diff_page(rows: list[DiffRow], start: int = 0,
              size: int = DIFF_PAGE_ROWS) -> dict[str, Any]:
    """Rows `start` to `start + size` of a diff, with where they stand in it."""
    start = max(0, min(start, len(rows)))
    shown = rows[start:start + size]
    end = start + len(shown)
    return {"rows": shown, "start": start, "end": end, "total": len(rows),
            "remaining": len(rows) - end, "next_size": min(len(rows) - end, size)}


def _diff_texts(change: Change) -> list[tuple[str, str, str]]:
    return [(title, before, after) for title, before, after in (
        (gettext("Objects"), change.before_yaml, change.after_yaml),
        (gettext("Generated NetworkPolicies"), change.generated_before_yaml,
         change.generated_after_yaml)) if before or after]


def diffs(change: Change) -> list[dict[str, Any]]:
    """The two side-by-side diffs of a change: its objects, and its generated policies; each
    with the first page of its rows (`page`), the rest fetched with `diff_rows`."""
    result = []
    for number, (title, before, after) in enumerate(_diff_texts(change)):
        changed = before != after
        rows = side_by_side(before, after) if changed else []
        result.append({"title": title, "rows": rows, "changed": changed, "number": number,
                       "page": diff_page(rows), "more": True})
    return result


def diff_rows(change: Change, number: int, start: int) -> dict[str, Any] | None:
    """A page of the `number`th diff of `change` from row `start` (None if there is none)."""
    texts = _diff_texts(change)
    if not 0 <= number < len(texts):
        return None
    _, before, after = texts[number]
    return diff_page(side_by_side(before, after), start)


def export_record(change: Change, scope: Scope) -> dict[str, Any]:
    """One change as a JSON-ready dict (the export's element): its summary and warnings in
    the language active (the requester's)."""
    delta = _said(delta_for(change, scope))
    return {
        "id": change.pk, "time": change.created_at.isoformat(), "author": change.author_name,
        "kind": change.kind, "target": change.target, "workspace": change.workspace,
        "project": change.project, "status": change.status,
        "summary": str(change.shown_summary),
        "reverts": change.reverts_id, "job": change.job_id,
        "before_objects": change.before_objects, "after_objects": change.after_objects,
        "generated_before_yaml": change.generated_before_yaml,
        "generated_after_yaml": change.generated_after_yaml,
        "reachability_delta": delta,
    }


def _said(data: Any) -> Any:
    """`data` with every sentence in it (`isolation.text.Text`: warnings, "a pod in another
    project") as the words of the active language, which JSON keeps (it would keep English)."""
    if isinstance(data, Text):
        return str(data)
    if isinstance(data, dict):
        return {key: _said(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_said(value) for value in data]
    return data


def resulting_yaml(change: Change, *, generated: bool = False) -> str:
    """The change's resulting objects as YAML for `kubectl apply` (and GitOps), with a header
    naming the change and the objects it deleted (which apply cannot express)."""
    from console.reachability.whatif import ref_of

    kept = {ref_of(o) for o in change.after_objects}
    deleted = [ref_of(o) for o in change.before_objects if ref_of(o) not in kept]
    header = [f"# Objects resulting from change #{change.pk}: {change.kind} {change.target}",
              f"# by {change.author_name} at {change.created_at.isoformat()}"]
    for kind, namespace, name in deleted:
        where = f" -n {namespace}" if namespace else ""
        header.append(f"# deleted by this change: kubectl delete {kind.lower()} {name}{where}")
    parts = [change.after_yaml.strip()]
    if generated and change.generated_after_yaml.strip():
        parts.append("# Generated NetworkPolicies (the isolation engine writes these)\n"
                     + change.generated_after_yaml.strip())
    body = "\n---\n".join(p for p in parts if p)
    return "\n".join(header) + "\n" + (body + "\n" if body else "")

