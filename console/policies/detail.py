"""What a policy's detail page shows: attributes, the pods it selects, its rules in words,
who can reach those pods and where they can go, and the outcome of an apply or delete job."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

from cluster.errors import ClusterError, NotFoundError
from console.core import cluster, tenants
from console.core.access import Access
from console.core.models import Change, Job, JobStatus
from console.core.scope import OTHER_LABEL, Scope, redact_names
from console.policies import kinds, services
from console.policies.conflict import conflict_context, read_base
from console.policies.text import live_yaml
from isolation.compiler.reconcile import is_ours
from isolation.netpol.describe import DirectionText, describe_parsed, describe_policy
from isolation.netpol.model import parse_policy
from isolation.netpol.validation import default_network_policy
from isolation.reachability.inventory import read_pods
from isolation.review.clusters import declared_ports_cluster
from isolation.review.lint import pods_selected_by, selected_pods
from isolation.snapshot import Snapshot

CREATOR_ANNOTATION = "kubesphere.io/creator"
DESCRIPTION_ANNOTATION = "kubesphere.io/description"
OUTSIDE = "outside the cluster"
# Rules described per direction on the page; "show more" fetches the next page of them.
RULES_PAGE = 50
# The YAML tab shows a policy whole up to this size, else its first lines and the download.
YAML_INLINE_BYTES = 200 * 1024
YAML_PREVIEW_LINES = 2000


def detail_context(policy: dict[str, Any], access: Access,
                   directory: tenants.Directory) -> dict[str, Any]:
    """The detail page's context (reads the policy's namespace pods; raises ClusterError)."""
    meta = policy["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    workspace_of = directory.workspace_of
    parsed = parse_policy(default_network_policy(policy))  # once, for its pods and its words
    pods = pods_selected_by(parsed, read_pods(Snapshot(pods=cluster.gateway().list_objects(
        "Pod", namespace))))
    annotations = meta.get("annotations") or {}
    yaml_text = live_yaml(policy)
    preview, hidden_lines = yaml_text, 0
    if len(yaml_text) > YAML_INLINE_BYTES:
        lines = yaml_text.splitlines(keepends=True)
        preview, hidden_lines = "".join(lines[:YAML_PREVIEW_LINES]), len(lines) - YAML_PREVIEW_LINES
    return {
        "policy": policy, "namespace": namespace, "name": name,
        "workspace": workspace_of.get(namespace, ""), "is_project": namespace in workspace_of,
        "created": meta.get("creationTimestamp", ""),
        "age": services.age(meta.get("creationTimestamp", "")),
        "creator": annotations.get(CREATOR_ANNOTATION) or _creator_from_history(namespace, name),
        "description": annotations.get(DESCRIPTION_ANNOTATION, ""),
        "generated": is_ours(policy), "text": describe_parsed(parsed, limit=RULES_PAGE),
        "pods": pods, "page_size": RULES_PAGE, "yaml": preview, "yaml_hidden_lines": hidden_lines,
        "yaml_bytes": len(yaml_text.encode()),
        "can_edit": services.can_edit(access, namespace, workspace_of),
    }


def rules_page(policy: dict[str, Any], direction: str, start: int,
               size: int = RULES_PAGE) -> DirectionText | None:
    """Rules `start` to `start + size` of one direction of `policy` in words (None for an
    unknown direction)."""
    text = describe_policy(policy, start=start, limit=size)
    return next((d for d in text.directions if d.direction == direction), None)


def scope_of(access: Access, directory: tenants.Directory) -> Scope:
    """The namespaces `access` may see by name, over the namespaces of `directory`."""
    return Scope.of(access, directory.namespaces, directory.workspace_of, directory.workspaces)


def _creator_from_history(namespace: str, name: str) -> str:
    change = (Change.objects.filter(kind="policy-apply", target=f"{namespace}/{name}",
                                    before_yaml="").select_related("author")
              .order_by("-created_at").first())
    return change.author_name if change else ""


@dataclass(frozen=True)
class ReachRow:
    """Connections between the selected pods and the pods of one other namespace, or (with
    `folded`) of every namespace the user may not see, which the page names only as "Other
    projects" and shows by status alone, so neither their names nor their size leak."""

    namespace: str
    workspace: str
    allowed: int
    total: int
    folded: bool = False

    @property
    def status(self) -> str:
        if self.allowed == self.total:
            return "allowed"
        return "blocked" if self.allowed == 0 else "partial"


@dataclass(frozen=True)
class Reach:
    pods: int = 0
    inbound: list[ReachRow] = field(default_factory=list)
    outbound: list[ReachRow] = field(default_factory=list)
    error: str = ""

    @property
    def folded(self) -> bool:
        """Whether some namespaces were folded into "Other projects"."""
        return any(row.folded for row in (*self.inbound, *self.outbound))


def reach_summary(policy: dict[str, Any], directory: tenants.Directory, scope: Scope) -> Reach:
    """Who can reach the pods `policy` selects, and where they can go, over every policy of
    the cluster, per namespace (counted over each destination's declared ports).

    Guarantees: a namespace outside `scope` is never named: all of them together make one
    folded "Other projects" row, last; the error text names no pod outside `scope`.
    """
    try:
        snapshot = cluster.snapshot()
        # Counted over declared ports, so rules that admit none of them can be left out.
        engine = declared_ports_cluster(snapshot, live=True)
    except (ClusterError, ValueError) as exc:
        reason = scope.redact(str(getattr(exc, "message", exc)))
        return Reach(error=gettext("Reachability cannot be computed: %(reason)s") % {"reason": reason})
    selected = [pod.key for pod in selected_pods(policy, snapshot)]
    if not selected:
        return Reach()
    inbound = engine.matrix(destinations=selected).by_group(_namespace, lambda _: "selected")
    outbound = engine.matrix(sources=selected).by_group(lambda _: "selected", _namespace)
    namespace = policy["metadata"]["namespace"]
    return Reach(len(selected), _rows(inbound, 0, namespace, directory.workspace_of, scope),
                 _rows(outbound, 1, namespace, directory.workspace_of, scope))


def _namespace(endpoint) -> str:
    return endpoint.namespace if endpoint.is_pod and endpoint.namespace else OUTSIDE


def _rows(grouped: dict, side: int, own: str, workspace_of: dict[str, str],
          scope: Scope) -> list[ReachRow]:
    rows, hidden_allowed, hidden_total = [], 0, 0
    for key, counts in grouped.items():
        peer = key[side]
        if not counts.total:
            continue
        if peer != OUTSIDE and not scope.sees(peer):
            hidden_allowed, hidden_total = hidden_allowed + counts.allowed, \
                hidden_total + counts.total
            continue
        rows.append(ReachRow(peer, workspace_of.get(peer, ""), counts.allowed, counts.total))
    own_workspace = workspace_of.get(own, "")
    rows.sort(key=lambda r: (r.namespace != own, r.workspace != own_workspace or
                             not own_workspace, r.workspace == "", r.workspace, r.namespace))
    if hidden_total:
        rows.append(ReachRow(OTHER_LABEL, "", hidden_allowed, hidden_total, folded=True))
    return rows


def policy_job_for_user(job: Job, access: Access, user) -> bool:
    """Policy jobs are shown to whoever started them, and to global viewers."""
    return job.kind in ("apply-policy", "delete-policy") and (
        access.view_all or job.requested_by_id == user.pk)


def job_outcome(job: Job) -> dict[str, Any]:
    """What the page shows for a finished policy job that failed: the draft is never lost."""
    params, result = job.params or {}, job.result or {}
    namespace, name = params.get("namespace", ""), params.get("name", "")
    kind = kinds.KINDS.get(params.get("kind") or kinds.NETPOL, kinds.KINDS[kinds.NETPOL])
    context = {"job": job, "namespace": namespace, "name": name,
               "conflict": bool(result.get("conflict")), "draft": params.get("yaml", ""),
               "live": None, "live_error": "",
               "action_url": services.kind_url(kind, "edit", namespace, name) if name else "",
               "delete_url": services.kind_url(kind, "delete", namespace, name) if name else ""}
    if job.status != JobStatus.FAILED or not context["conflict"]:
        return context
    try:
        context["live"] = cluster.gateway().get_object(
            kind.key, name, namespace if kind.namespaced else None)
    except NotFoundError:
        context["live"] = None
    except ClusterError as exc:
        context["live_error"] = exc.message
    if context["live"] is not None:
        token, version = params.get("base") or "", params.get("base_version") or ""
        draft = params.get("object") if isinstance(params.get("object"), dict) else None
        context.update(conflict_context(
            base=read_base(token, (namespace, name), version), base_token=token,
            base_version=version, live=context["live"], draft_text=context["draft"],
            draft=draft))
    return context


# -- the other kinds ----------------------------------------------------------------------------


def shown_yaml(obj: dict[str, Any], access: Access, directory: tenants.Directory) -> str:
    """The YAML of an object as `access` may see it: a tenant reading a platform policy sees
    other tenants' project names as "another project"."""

    text = live_yaml(obj)
    return text if access.view_all else redact_names(text, scope_of(access, directory))


def kind_detail_context(kind: kinds.PolicyKind, obj: dict[str, Any], access: Access,
                        directory: tenants.Directory) -> dict[str, Any]:
    """The detail page of a policy of a kind other than NetworkPolicy: its facts and rules
    in sentences, where it runs, what it selects (only what `access` may see by name) and
    its YAML. Raises ClusterError when the cluster cannot be read."""

    meta = obj["metadata"]
    namespace, name = meta.get("namespace") or "", meta["name"]
    scope = scope_of(access, directory)
    gw = cluster.gateway()
    tiers = {t["metadata"]["name"]: t for t in kinds.list_kind(gw, kinds.KINDS[kinds.TIER])} \
        if kind.is_calico else {}
    facts = kinds.facts(kind, obj, tiers)
    labels_of = kinds.namespace_labels_of(directory.namespaces.values())
    sel = kinds.selection(kind, obj)
    pods = read_pods(Snapshot(pods=gw.list_objects("Pod", namespace or None))) \
        if sel is not None else []
    affected, chosen = kinds.selected(sel, labels_of, pods)
    shown = sorted(ns for ns in affected if scope.sees(ns))
    hidden = len(affected) - len(shown)
    members = []
    if kind.slug == kinds.TIER:
        members = [(p["metadata"]["name"], services.detail_url(kinds.KINDS[kinds.CALICO_GNP], "",
                                                               p["metadata"]["name"]))
                   for p in kinds.list_kind(gw, kinds.KINDS[kinds.CALICO_GNP])
                   if (p.get("spec") or {}).get("tier") == name]
    annotations = meta.get("annotations") or {}

    def shown_text(text: str) -> str:
        return text if access.view_all else redact_names(text, scope)

    return {
        "kind": kind, "policy": obj, "namespace": namespace, "name": name, "facts": facts,
        "sentences": [(path, shown_text(text)) for path, text in facts.sentences],
        "subject": shown_text(facts.subject),
        "workspace": directory.workspace_of.get(namespace, ""),
        "created": meta.get("creationTimestamp", ""),
        "age": services.age(meta.get("creationTimestamp", "")),
        "description": annotations.get(DESCRIPTION_ANNOTATION, ""),
        "namespaces": shown, "hidden_namespaces": hidden,
        "pods": [p for p in chosen if scope.sees(p.namespace)][:RULES_PAGE],
        "pod_count": sum(1 for p in chosen if scope.sees(p.namespace)),
        "members": members, "yaml": shown_yaml(obj, access, directory),
        "can_edit": services.can_edit_kind(access, kind, namespace, directory.workspace_of),
        "urls": {action: services.kind_url(kind, action, namespace, name)
                 for action in ("yaml", "edit", "delete")},
    }
