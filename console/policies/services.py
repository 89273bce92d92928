"""The Network Policies list: every NetworkPolicy a user may see, filtered, sorted and paged.

Reading 10,000 policies and the cluster's pods on every page view would cost seconds, so the
list reads from a compact index (one tuple per policy, pod counts included) kept in the cache
for a few seconds and dropped whenever the console itself changes a policy. Scope checks run
per namespace, not per policy.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404

from cluster.errors import NotFoundError
from console.core import cluster, tenants
from console.core.access import Access, access_of
from isolation.compiler.reconcile import is_ours
from isolation.netpol.selectors import Selector
from isolation.reachability.inventory import read_pods
from isolation.snapshot import Snapshot

INDEX_KEY = "policy-index"
TOKEN_KEY = "policy-index-token"
INDEX_SECONDS = 5
PAGE_SIZE = 25
SORTS = ("name", "project", "workspace", "pods", "age")
# Above this many visible projects, the project filter lists only the chosen workspace's.
PROJECT_OPTIONS_LIMIT = 200
_memo: dict[str, Any] = {"token": None, "index": []}


class IndexEntry(NamedTuple):
    """What the list shows of one policy (a tuple: cheap to cache for 10,000 policies)."""

    namespace: str
    name: str
    ingress: bool
    egress: bool
    generated: bool
    created: str
    pods: int


@dataclass(frozen=True)
class Row:
    namespace: str
    name: str
    workspace: str
    directions: tuple[str, ...]
    generated: bool
    created: str
    age: str
    pods: int


@dataclass(frozen=True)
class ListQuery:
    workspace: str = ""
    project: str = ""
    q: str = ""
    sort: str = "project"
    page: int = 1

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query as URL parameters (defaults left out), with `changes` applied."""
        values = {"workspace": self.workspace, "project": self.project, "q": self.q,
                  "sort": self.sort, "page": self.page, **changes}
        defaults = ListQuery()
        return {k: v for k, v in values.items() if v != getattr(defaults, k)}


@dataclass(frozen=True)
class Column:
    """A sortable column header: its link's query and its aria-sort state."""

    label: str
    key: str
    query: str
    state: str            # "ascending", "descending" or "none"


@dataclass(frozen=True)
class ListPage:
    page: Page
    total: int            # policies the user may see, before filters
    matching: int         # after filters
    workspaces: list[str]
    projects: list[tuple[str, list[str]]]   # (workspace, its visible projects), for optgroups
    columns: list[Column]


def policy_index(*, fresh: bool = False) -> list[IndexEntry]:
    """Every NetworkPolicy of the cluster as an IndexEntry, sorted by (namespace, name).

    Cached for INDEX_SECONDS under a random token; each process keeps the index of the token
    it last saw, so a page view with a warm cache costs one small cache read, not unpickling
    10,000 entries. Raises ClusterError when the cluster cannot be read.
    """
    if not fresh:
        token = cache.get(TOKEN_KEY)
        if token is not None and token == _memo.get("token"):
            return _memo["index"]
        stored = cache.get(INDEX_KEY) if token is not None else None
        if stored is not None and stored[0] == token:
            _memo.update(token=token, index=stored[1])
            return stored[1]
    gw = cluster.gateway()
    policies = gw.list_objects("NetworkPolicy")
    pods = read_pods(Snapshot(pods=gw.list_objects("Pod"))) if policies else []
    index = build_index(policies, pods)
    token = uuid.uuid4().hex
    cache.set_many({INDEX_KEY: (token, index), TOKEN_KEY: token}, INDEX_SECONDS)
    _memo.update(token=token, index=index)
    return index


def build_index(policies: list[dict[str, Any]], pods) -> list[IndexEntry]:
    """IndexEntries of `policies`, counting the running pods (PodInfo) each selects."""
    labels_by_namespace: dict[str, list[Mapping[str, str]]] = defaultdict(list)
    for pod in pods:
        if not pod.host_network:
            labels_by_namespace[pod.namespace].append(pod.labels)
    entries = []
    for policy in policies:
        meta, spec = policy.get("metadata") or {}, policy.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress")
                                             else ["Ingress"])
        try:
            selector = Selector.parse(spec.get("podSelector"))
            count = sum(1 for labels in labels_by_namespace.get(meta.get("namespace"), ())
                        if selector.matches(labels))
        except (KeyError, TypeError, ValueError, AttributeError):
            count = 0  # the API server only stores valid selectors; stay safe all the same
        entries.append(IndexEntry(meta.get("namespace", ""), meta.get("name", ""),
                                  "Ingress" in types, "Egress" in types, is_ours(policy),
                                  meta.get("creationTimestamp") or "", count))
    entries.sort(key=lambda e: (e.namespace, e.name))
    return entries


def forget() -> None:
    """Drop the cached index after the console changed a policy (in every process)."""
    cache.delete_many([TOKEN_KEY, INDEX_KEY])


def list_page(access: Access, directory: tenants.Directory, query: ListQuery) -> ListPage:
    """The page of rows `query` asks for, among the policies `access` may see."""
    workspace_of = directory.workspace_of
    index = policy_index()
    visible = {ns for ns in {e.namespace for e in index} if can_view(access, ns, workspace_of)}
    entries = [e for e in index if e.namespace in visible]
    total = len(entries)
    if query.workspace:
        entries = [e for e in entries if workspace_of.get(e.namespace) == query.workspace]
    if query.project and (not query.workspace
                          or workspace_of.get(query.project) == query.workspace):
        entries = [e for e in entries if e.namespace == query.project]
    if query.q:
        needle = query.q.lower()
        entries = [e for e in entries if needle in e.name.lower()]
    field, descending = query.sort.lstrip("-"), query.sort.startswith("-")
    if field == "age":  # youngest first: the latest creation time first
        descending = not descending
    if field != "project":  # the index is kept in project order
        entries.sort(key=_sort_key(field, workspace_of), reverse=descending)
    elif descending:
        entries.reverse()
    page = Paginator(entries, PAGE_SIZE).get_page(query.page)
    now = datetime.now(UTC)
    page.object_list = [_row(e, workspace_of, now) for e in page.object_list]
    workspaces, projects = filter_options(access, directory, query)
    return ListPage(page, total, len(entries), workspaces, projects, sort_columns(query))


def filter_options(access: Access, directory: tenants.Directory, query: ListQuery
                   ) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The workspaces and projects (grouped by workspace) the filters offer: only what the
    user may see; namespaces outside workspaces come last. With a workspace chosen, only its
    projects; with none and more than PROJECT_OPTIONS_LIMIT projects, only the chosen one."""
    workspace_of = directory.workspace_of
    workspaces = access.visible_workspaces(sorted(directory.workspaces), workspace_of)
    groups: dict[str, list[str]] = defaultdict(list)
    for name in sorted(directory.namespaces):
        if query.workspace and workspace_of.get(name) != query.workspace:
            continue
        if can_view(access, name, workspace_of):
            groups[workspace_of.get(name, "")].append(name)
    if not query.workspace and sum(len(g) for g in groups.values()) > PROJECT_OPTIONS_LIMIT:
        chosen = query.project if query.project in directory.namespaces and can_view(
            access, query.project, workspace_of) else ""
        groups = defaultdict(list, {workspace_of.get(chosen, ""): [chosen]} if chosen else {})
    ordered = [(ws, groups[ws]) for ws in sorted(groups) if ws]
    if groups.get(""):
        ordered.append(("", groups[""]))
    return workspaces, ordered


COLUMNS = (("Name", "name"), ("Project", "project"), ("Workspace", "workspace"),
           ("Pods selected", "pods"), ("Age", "age"))


def sort_columns(query: ListQuery) -> list[Column]:
    """Header links: a click sorts by the column, a second click reverses it."""
    columns = []
    for label, key in COLUMNS:
        if query.sort == key:
            new, state = f"-{key}", "ascending"
        elif query.sort == f"-{key}":
            new, state = key, "descending"
        else:
            new, state = key, "none"
        columns.append(Column(label, key, urlencode(query.params(sort=new, page=1)), state))
    return columns


def _sort_key(field: str, workspace_of: Mapping[str, str]):
    if field == "name":
        return lambda e: (e.name, e.namespace)
    if field == "workspace":
        return lambda e: (workspace_of.get(e.namespace, "~"), e.namespace, e.name)
    if field == "pods":
        return lambda e: (e.pods, e.namespace, e.name)
    if field == "age":
        return lambda e: (e.created, e.namespace, e.name)
    return lambda e: (e.namespace, e.name)


def _row(entry: IndexEntry, workspace_of: Mapping[str, str], now: datetime) -> Row:
    directions = tuple(d for d, on in (("Ingress", entry.ingress), ("Egress", entry.egress)) if on)
    return Row(entry.namespace, entry.name, workspace_of.get(entry.namespace, ""), directions,
               entry.generated, entry.created, age(entry.created, now), entry.pods)


def age(timestamp: str, now: datetime | None = None) -> str:
    """kubectl's AGE column: "45s", "12m", "5h", "3d" ("" when unknown)."""
    try:
        created = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# -- scope -------------------------------------------------------------------------------------


def can_view(access: Access, namespace: str, workspace_of: Mapping[str, str]) -> bool:
    """Policies of a project: its viewers; of a namespace outside workspaces: global viewers."""
    return access.can_view_project(namespace, workspace_of)


def can_edit(access: Access, namespace: str, workspace_of: Mapping[str, str]) -> bool:
    """Projects: their admins and their workspace's; other namespaces: platform admins only."""
    if namespace in workspace_of:
        return access.can_edit_project(namespace, workspace_of)
    return access.can_edit_cluster()


def editable_namespaces(access: Access, directory: tenants.Directory) -> list[str]:
    """The namespaces the user may create policies in, sorted."""
    workspace_of = directory.workspace_of
    return [n for n in sorted(directory.namespaces) if can_edit(access, n, workspace_of)]


def get_policy_for_user(request, namespace: str, name: str, *,
                        edit: bool = False) -> tuple[dict[str, Any], Access, tenants.Directory]:
    """The live policy, if the user may see it (else Http404) and, with `edit`, change it
    (else PermissionDenied). Raises ClusterError when the cluster cannot be read."""
    directory = tenants.directory()
    access = access_of(request)
    workspace_of = directory.workspace_of
    if not can_view(access, namespace, workspace_of):
        raise Http404("No such NetworkPolicy.")
    try:
        policy = cluster.gateway().get_object("NetworkPolicy", name, namespace)
    except NotFoundError:
        raise Http404("No such NetworkPolicy.") from None
    if edit and not can_edit(access, namespace, workspace_of):
        raise PermissionDenied("You can view this policy but not change it.")
    return policy, access, directory
