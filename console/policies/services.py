"""The Network Policies list: every policy a user may see, of every kind (Kubernetes
NetworkPolicies, Calico policies and tiers, AdminNetworkPolicies), filtered, sorted and paged.

Reading 10,000 policies and the cluster's pods on every page view would cost seconds, so the
list reads from a compact index (one tuple per policy, pod counts included), built once per
process and version of the watched cluster model (without the model: kept in the cache for a
few seconds and dropped whenever the console itself changes a policy). Scope checks run
per namespace, not per policy; a cluster-wide policy is shown to a tenant only when it
applies to one of the tenant's projects (read-only), and never with another tenant's pods
counted.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from cluster.errors import NotFoundError
from console.core import cluster, tenants
from console.core.access import Access, access_of
from console.core.cache import local_memo
from console.policies import kinds
from console.policies.kinds import NETPOL, PolicyKind
from isolation.compiler.reconcile import is_ours
from isolation.netpol.selectors import Selector
from isolation.reachability.inventory import read_pods
from isolation.snapshot import KIND_FIELDS, Snapshot

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
    kind: str = NETPOL
    tier: str = ""
    order: str = ""
    actions: tuple[str, ...] = ()
    # cluster-wide policies: the namespaces they apply to, and their pods per namespace
    affects: frozenset[str] = frozenset()
    pods_by_namespace: tuple[tuple[str, int], ...] = ()


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
    kind: PolicyKind = kinds.KINDS[NETPOL]
    tier: str = ""
    order: str = ""
    actions: tuple[str, ...] = ()

    @property
    def cluster_wide(self) -> bool:
        return not self.kind.namespaced

    @property
    def url(self) -> str:
        return detail_url(self.kind, self.namespace, self.name)


@dataclass(frozen=True)
class ListQuery:
    workspace: str = ""
    project: str = ""
    q: str = ""
    sort: str = "project"
    page: int = 1
    kind: str = ""

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query as URL parameters (defaults left out), with `changes` applied."""
        values = {"workspace": self.workspace, "project": self.project, "q": self.q,
                  "sort": self.sort, "page": self.page, "kind": self.kind, **changes}
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
    kinds: list[PolicyKind] = field(default_factory=list)   # the kind filter's choices


def policy_index(*, fresh: bool = False) -> list[IndexEntry]:
    """Every policy of the cluster (every kind of `kinds.KINDS`; a kind whose CRD is not
    installed has none) as an IndexEntry, sorted by (namespace, name, kind).

    Served from the watched model, the index is built once per process and cluster version
    (a change of the cluster is a new version, so it shows on the next page view). Without
    it, the index is cached for INDEX_SECONDS under a random token; each process keeps the
    index of the token it last saw, so a page view with a warm cache costs one small cache
    read, not unpickling 10,000 entries. Raises ClusterError when the cluster cannot be read.
    """
    version = None if fresh else cluster.model_version()
    if version is not None:
        return local_memo("policy-index", version, lambda: index_of(cluster.snapshot()))
    if not fresh:
        token = cache.get(TOKEN_KEY)
        if token is not None and token == _memo.get("token"):
            return _memo["index"]
        stored = cache.get(INDEX_KEY) if token is not None else None
        if stored is not None and stored[0] == token:
            _memo.update(token=token, index=stored[1])
            return stored[1]
    index = index_of(cluster.snapshot())
    token = uuid.uuid4().hex
    cache.set_many({INDEX_KEY: (token, index), TOKEN_KEY: token}, INDEX_SECONDS)
    _memo.update(token=token, index=index)
    return index


def index_of(snapshot: Snapshot) -> list[IndexEntry]:
    """The IndexEntries of every policy in `snapshot`, sorted by (namespace, name, kind)."""
    policies = snapshot.network_policies
    others = {kind.slug: getattr(snapshot, KIND_FIELDS[kind.key]) for kind in kinds.OTHER_KINDS}
    pods = read_pods(Snapshot(pods=snapshot.pods)) if policies or any(others.values()) else []
    index = build_index(policies, pods)
    if any(others.values()):
        index = sorted(index + build_kind_index(others, snapshot.namespaces, pods),
                       key=lambda e: (e.namespace, e.name, e.kind))
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


def build_kind_index(objects: Mapping[str, list[dict[str, Any]]],
                     namespaces: list[dict[str, Any]], pods) -> list[IndexEntry]:
    """IndexEntries of the objects of the other kinds (by kind slug): their tier, order or
    priority, actions, and for cluster-wide policies the namespaces and pods they select."""
    labels_of = kinds.namespace_labels_of(namespaces)
    tiers = {(t.get("metadata") or {}).get("name", ""): t for t in objects.get(kinds.TIER, [])}
    entries = []
    for slug, items in objects.items():
        kind = kinds.KINDS[slug]
        for obj in items:
            meta = obj.get("metadata") or {}
            facts = kinds.facts(kind, obj, tiers)
            affects, chosen = kinds.selected(kinds.selection(kind, obj), labels_of, pods)
            counts: dict[str, int] = defaultdict(int)
            for pod in chosen:
                counts[pod.namespace] += 1
            entries.append(IndexEntry(
                meta.get("namespace", "") if kind.namespaced else "", meta.get("name", ""),
                "Ingress" in facts.directions, "Egress" in facts.directions, is_ours(obj),
                meta.get("creationTimestamp") or "", len(chosen), slug, facts.tier,
                facts.order, facts.actions, affects if not kind.namespaced else frozenset(),
                tuple(sorted(counts.items()))))
    return entries


def forget() -> None:
    """Drop the cached index after the console changed a policy (in every process)."""
    cache.delete_many([TOKEN_KEY, INDEX_KEY])


def list_page(access: Access, directory: tenants.Directory, query: ListQuery) -> ListPage:
    """The page of rows `query` asks for, among the policies `access` may see."""
    workspace_of = directory.workspace_of
    index = policy_index()
    visible = {ns for ns in {e.namespace for e in index} if ns and can_view(access, ns,
                                                                          workspace_of)}
    seen = visible_namespaces(access, directory)
    entries = [e for e in index if e.namespace in visible
               or (not e.namespace and can_view_cluster_wide(access, e, seen))]
    total = len(entries)
    if query.kind:
        entries = [e for e in entries if e.kind == query.kind]
    if query.workspace:
        entries = [e for e in entries if workspace_of.get(e.namespace) == query.workspace
                   or any(workspace_of.get(ns) == query.workspace for ns in e.affects)]
    if query.project and (not query.workspace
                          or workspace_of.get(query.project) == query.workspace):
        entries = [e for e in entries if e.namespace == query.project
                   or query.project in e.affects]
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
    page.object_list = [_row(e, workspace_of, now, None if access.view_all else seen)
                        for e in page.object_list]
    workspaces, projects = filter_options(access, directory, query)
    present = {e.kind for e in index}
    choices = [k for k in kinds.KINDS.values() if k.slug in present or k.slug == NETPOL]
    return ListPage(page, total, len(entries), workspaces, projects, sort_columns(query),
                    choices)


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


# Labels in English, translated where the list shows them.
COLUMNS = ((gettext_noop("Name"), "name"), (gettext_noop("Project"), "project"),
           (gettext_noop("Workspace"), "workspace"), (gettext_noop("Pods selected"), "pods"),
           (gettext_noop("Age"), "age"))


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


def _row(entry: IndexEntry, workspace_of: Mapping[str, str], now: datetime,
         seen: frozenset[str] | None = None) -> Row:
    """The row of an entry; with `seen` (a tenant's namespaces), a cluster-wide policy's
    pods are counted only in those namespaces."""
    directions = tuple(d for d, on in (("Ingress", entry.ingress), ("Egress", entry.egress)) if on)
    pods = entry.pods
    if seen is not None and not entry.namespace and entry.kind != NETPOL:
        pods = sum(count for ns, count in entry.pods_by_namespace if ns in seen)
    return Row(entry.namespace, entry.name, workspace_of.get(entry.namespace, ""), directions,
               entry.generated, entry.created, age(entry.created, now), pods,
               kinds.KINDS[entry.kind], entry.tier, entry.order, entry.actions)


def detail_url(kind: PolicyKind, namespace: str, name: str) -> str:
    """The detail page of a policy: NetworkPolicies keep `<namespace>/<name>/`, the other
    kinds are named by API group and plural under `-/`."""
    return kind_url(kind, "detail", namespace, name)


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


def visible_namespaces(access: Access, directory: tenants.Directory) -> frozenset[str]:
    """The namespaces whose policies `access` may see by name."""
    workspace_of = directory.workspace_of
    return frozenset(n for n in directory.namespaces if can_view(access, n, workspace_of))


def can_view_cluster_wide(access: Access, entry: IndexEntry, seen: frozenset[str]) -> bool:
    """Cluster-wide policies are platform-level: global viewers see them all; a tenant sees
    a policy that applies to one of the namespaces it sees (read-only), never a Tier."""
    if access.view_all:
        return True
    return entry.kind != kinds.TIER and bool(entry.affects & seen)


def can_edit_kind(access: Access, kind: PolicyKind, namespace: str,
                  workspace_of: Mapping[str, str]) -> bool:
    """Cluster-wide kinds: platform admins only; namespaced kinds: as `can_edit`."""
    if not kind.namespaced:
        return access.can_edit_cluster()
    return can_edit(access, namespace, workspace_of)


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
        raise Http404(gettext("No such NetworkPolicy."))
    try:
        policy = cluster.gateway().get_object("NetworkPolicy", name, namespace)
    except NotFoundError:
        raise Http404(gettext("No such NetworkPolicy.")) from None
    if edit and not can_edit(access, namespace, workspace_of):
        raise PermissionDenied(gettext("You can view this policy but not change it."))
    return policy, access, directory


def get_kind_object_for_user(request, kind: PolicyKind, namespace: str, name: str, *,
                             edit: bool = False
                             ) -> tuple[dict[str, Any], Access, tenants.Directory]:
    """The live object of a kind other than NetworkPolicy, if the user may see it (else
    Http404, also for a cluster-wide policy that applies to none of the user's namespaces)
    and, with `edit`, change it (else PermissionDenied). Raises ClusterError."""
    directory = tenants.directory()
    access = access_of(request)
    workspace_of = directory.workspace_of
    missing = Http404(gettext("No such %(kind)s.") % {"kind": kind.kind})
    if kind.namespaced and not can_view(access, namespace, workspace_of):
        raise missing
    try:
        obj = cluster.gateway().get_object(kind.key, name, namespace if kind.namespaced else None)
    except NotFoundError:
        raise missing from None
    if not kind.namespaced and not access.view_all:
        entry = IndexEntry("", name, False, False, False, "", 0, kind.slug,
                           affects=affected_namespaces(kind, obj, directory))
        if not can_view_cluster_wide(access, entry, visible_namespaces(access, directory)):
            raise missing
    if edit and not can_edit_kind(access, kind, namespace, workspace_of):
        raise PermissionDenied(gettext("You can view this policy but not change it."))
    return obj, access, directory


def affected_namespaces(kind: PolicyKind, obj: dict[str, Any],
                        directory: tenants.Directory) -> frozenset[str]:
    """The namespaces a cluster-wide policy applies to (none for a Tier)."""
    labels_of = kinds.namespace_labels_of(directory.namespaces.values())
    return kinds.selected(kinds.selection(kind, obj), labels_of, [])[0]


def kind_url(kind: PolicyKind, action: str, namespace: str, name: str) -> str:
    """The URL of `action` (detail, yaml, edit, edit_diff, delete) on a policy of any kind."""
    if kind.slug == NETPOL:
        return reverse(f"policy_{action}", args=[namespace, name])
    if kind.namespaced:
        return reverse(f"policy_kind_ns_{action}",
                       args=[kind.group, kind.plural, namespace, name])
    return reverse(f"policy_kind_{action}", args=[kind.group, kind.plural, name])
