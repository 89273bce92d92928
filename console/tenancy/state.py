"""The applied state of isolation, as the workspace and project pages show it.

Not only the switches: which mode each project is really in, every allowlist entry with
whether it is active and why not, the generated policies in the cluster, whether they are in
step with the intent (and where not), and the last isolation job with its error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from cluster.errors import NotFoundError
from console.core import cluster
from console.core.cache import local_memo
from console.core.models import Job, JobStatus
from console.tenancy.config import isolation_settings
from console.tenancy.intent import entry_peer_kind
from console.tenancy.reconcile import (
    compile_intent,
    generated_policies,
    in_scope,
    kubesphere_differences,
)
from isolation.compiler.generate import (
    ENGINE_KUBESPHERE,
    ISOLATION_POLICY_NAME,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    SOURCE_ANNOTATION,
    CompileResult,
    IsolationSettings,
)
from isolation.compiler.reconcile import is_ours, plan_reconcile
from isolation.compiler.tenancy import MODE_OFF, MODE_PROJECT, MODE_WORKSPACE, Project, Tenancy
from isolation.snapshot import Snapshot
from isolation.text import gettext as _

DESCRIPTION_ANNOTATIONS = ("kubesphere.io/description", "kubesphere.io/alias-name")
JOB_KIND_PREFIX = "isolation-"
RECENT_JOBS = 500


@dataclass
class EntryState:
    """One allowlist entry (NamespaceNetworkPolicy) as the project page lists it."""

    name: str
    directions: tuple[str, ...]       # ("ingress",), ("egress",) or both
    kind: str                         # "internal", "external" or "mixed"
    peers: list[str]                  # "project shop", "Service catalog/catalog-api", CIDRs
    ports: list[str]                  # "TCP 8443", "UDP 53", "TCP 8000-8080"; [] = any port
    active: bool                      # compiled into nsnp-<name> right now
    problem: str | None               # why it is not compiled, when it is not
    rules: list[dict[str, Any]] = field(default_factory=list)  # direction, peers, ports
    description: str = ""
    resource_version: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    obj: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def direction(self) -> str:
        return " and ".join(self.directions)


class _LastJobOutcome:
    """`pending` and `failed` of the `last_job` field of the dataclass this is mixed into,
    and how the isolation in effect (the cluster's) stands against the intent."""

    @property
    def pending(self) -> bool:
        return self.last_job is not None and not self.last_job.finished

    @property
    def failed(self) -> str:
        """The last job's error when it failed, else ""."""
        job = self.last_job
        return job.shown_error if job is not None and job.status == JobStatus.FAILED else ""

    @property
    def transition(self) -> str:
        """How the intent differs from the isolation in effect: "turning off" (pending),
        "turning off failed", "intent: off" (drift, no job under way)…; "" when they match."""
        return _transition(self._applied_on(), self._intended_on(), self._applied_kind(),
                           self._intended_kind(), self.pending, self.failed)

    @property
    def shown(self) -> str:
        """The isolation in effect, with the intent beside it: "On (turning off failed)"."""
        transition = self.transition
        if not transition:
            return _("On") if self._applied_on() else _("Off")
        if self._applied_on():
            return _("On ({transition})", transition=transition)
        return _("Off ({transition})", transition=transition)

    # what a project (mode / intent_mode) or a workspace (applied_isolated / isolated) has
    def _applied_kind(self) -> str:
        return getattr(self, "mode", "")

    def _intended_kind(self) -> str:
        return getattr(self, "intent_mode", "") or self._applied_kind()

    def _applied_on(self) -> bool:
        return self._applied_kind() != MODE_OFF

    def _intended_on(self) -> bool:
        return self._intended_kind() != MODE_OFF


# How the intent differs from what is in effect, by what the intent asks for: while its job
# is under way, once the job failed, and with no job (drift the next reconcile repairs).
_TRANSITIONS = {
    MODE_OFF: (_("turning off"), _("turning off failed"), _("intent: off")),
    "on": (_("turning on"), _("turning on failed"), None),
    MODE_PROJECT: (_("changing to project isolation"),
                   _("changing to project isolation failed"), _("intent: project isolation")),
    MODE_WORKSPACE: (_("changing to workspace isolation"),
                     _("changing to workspace isolation failed"),
                     _("intent: workspace isolation")),
}


def _transition(applied_on: bool, intended_on: bool, applied: str, intended: str,
                pending: bool, failed: str) -> str:
    if applied == intended:
        return ""
    under_way, failed_words, _drift = _TRANSITIONS[
        MODE_OFF if not intended_on else "on" if not applied_on else intended]
    if pending:
        return under_way
    if failed:
        return failed_words
    # Drift: no job is under way; the next reconcile brings the cluster to the intent.
    return _TRANSITIONS[intended][2]


def applied_mode(generated: list[dict[str, Any]], namespace: str) -> str:
    """The isolation the generated policies present in `namespace` put in effect: "project",
    "workspace" (the isolation policy comes from a workspace) or "off" (none)."""
    for policy in generated:
        metadata = policy.get("metadata") or {}
        if metadata.get("namespace") == namespace and metadata.get("name") == ISOLATION_POLICY_NAME:
            source = (metadata.get("annotations") or {}).get(SOURCE_ANNOTATION) or ""
            return MODE_WORKSPACE if source.startswith("workspace/") else MODE_PROJECT
    return MODE_OFF


def modes_in_effect(version: str | None) -> dict[str, str] | None:
    """The isolation in effect per project for the lists (`applied_mode`, only projects that
    hold an isolation policy named), from the console's own isolation policies in the cluster:
    from the watched model at `version`, else one list call for those policies only. None in
    engine mode kubesphere, whose controller writes them: there the intent's is shown."""
    if isolation_settings().engine_mode == ENGINE_KUBESPHERE:
        return None
    if version is not None:
        return local_memo("isolation-in-effect", version,
                          lambda: _modes_of(cluster.snapshot().network_policies))
    return _modes_of(cluster.gateway().list_objects(
        "NetworkPolicy", label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}",
        field_selector=f"metadata.name={ISOLATION_POLICY_NAME}", managed_fields=False))


def _modes_of(policies: list[dict[str, Any]]) -> dict[str, str]:
    modes = {}
    for policy in policies:
        metadata = policy.get("metadata") or {}
        if metadata.get("name") == ISOLATION_POLICY_NAME and is_ours(policy):
            namespace = metadata.get("namespace", "")
            modes[namespace] = applied_mode([policy], namespace)
    return modes


def _shown_mode(intended: str, in_step: bool, generated: list[dict[str, Any]], namespace: str,
                engine_mode: str) -> str:
    """The mode shown as in effect: the intent's while the cluster is in step with it, else
    the one the generated policies present make (in engine mode kubesphere, whose controller
    writes them, the intent's)."""
    if in_step or engine_mode == ENGINE_KUBESPHERE:
        return intended
    return applied_mode(generated, namespace)


@dataclass
class ProjectState(_LastJobOutcome):
    """A project's isolation: intent, applied state, and the last job that changed it."""

    name: str
    workspace: str | None
    workspace_exists: bool
    workspace_isolated: bool
    project_isolated: bool            # the annotation says "enabled"
    mode: str                         # "project", "workspace" or "off": in effect (cluster's)
    engine_mode: str
    intent_mode: str = ""             # what the intent asks for ("" = the same as `mode`)
    entries: list[EntryState] = field(default_factory=list)
    generated: list[dict[str, Any]] = field(default_factory=list)   # live nsnp-* policies
    desired: list[dict[str, Any]] = field(default_factory=list)     # what the intent wants
    in_step: bool = True
    drift: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)               # project-level
    last_job: Job | None = None

    @property
    def status(self) -> str:
        """`pending`, `failed`, `drifted` or `in step`, in that order of precedence."""
        return _status(self.pending, self.failed, self.in_step)

    def entries_for(self, direction: str) -> list[EntryState]:
        return [e for e in self.entries if direction in e.directions]


@dataclass
class ProjectSummary(_LastJobOutcome):
    """One row of the workspace page."""

    name: str
    mode: str                         # in effect (the cluster's)
    project_isolated: bool
    in_step: bool
    drift: list[str]
    entries: int
    active_entries: int
    last_job: Job | None = None
    intent_mode: str = ""             # what the intent asks for

    @property
    def drifted(self) -> bool:
        return not self.in_step

    @property
    def status(self) -> str:
        return _status(self.pending, self.failed, self.in_step)


@dataclass
class WorkspaceState(_LastJobOutcome):
    """A workspace's isolation switch and the applied state of each of its projects."""

    name: str
    isolated: bool                    # the intent: the workspace's switch
    engine_mode: str
    projects: list[ProjectSummary] = field(default_factory=list)
    generated: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    last_job: Job | None = None
    applied_isolated: bool | None = None   # its isolation policies are in the cluster

    @property
    def in_step(self) -> bool:
        return all(p.in_step for p in self.projects)

    def _applied_kind(self) -> str:
        applied = self.isolated if self.applied_isolated is None else self.applied_isolated
        return MODE_WORKSPACE if applied else MODE_OFF

    def _intended_kind(self) -> str:
        return MODE_WORKSPACE if self.isolated else MODE_OFF


def _status(pending: bool, failed: str, in_step: bool) -> str:
    if pending:
        return "pending"
    if failed:
        return "failed"
    return "in step" if in_step else "drifted"


# -- reading ----------------------------------------------------------------------------------

def project_state(project: str) -> ProjectState:
    """The isolation state of `project`; NotFoundError when no such namespace exists."""
    snapshot = cluster.snapshot()
    settings = isolation_settings()
    tenancy = Tenancy.from_snapshot(snapshot)
    info = tenancy.projects.get(project)
    if info is None:
        raise NotFoundError(_("Project {project} does not exist.", project=project), status=404)
    compiled = compile_intent(snapshot, settings)
    state = ProjectState(
        name=project, workspace=info.workspace, workspace_exists=info.workspace_exists,
        workspace_isolated=info.workspace_isolation, project_isolated=info.project_isolation,
        mode=info.mode, engine_mode=settings.engine_mode)
    state.entries = [_entry_state(e, info, compiled) for e in tenancy.entries.get(project, [])]
    state.generated = generated_policies(snapshot.network_policies, [project],
                                         settings.engine_mode)
    state.desired = in_scope(compiled.policies, [project])
    state.in_step, state.drift, state.conflicts = _step(snapshot, compiled, settings, project)
    state.intent_mode = info.mode
    state.mode = _shown_mode(info.mode, state.in_step, state.generated, project,
                             settings.engine_mode)
    state.problems = [p.message for p in compiled.problems
                      if p.namespace == project and not p.entry]
    state.last_job = _last_jobs([project], info.workspace or "").get(project)
    return state


def workspace_state(workspace: str) -> WorkspaceState:
    """The isolation state of `workspace` and its projects; NotFoundError when it does not
    exist."""
    snapshot = cluster.snapshot()
    settings = isolation_settings()
    tenancy = Tenancy.from_snapshot(snapshot)
    if workspace not in tenancy.workspaces:
        raise NotFoundError(_("Workspace {workspace} does not exist.", workspace=workspace),
                            status=404)
    compiled = compile_intent(snapshot, settings)
    names = sorted(p.name for p in tenancy.projects.values() if p.workspace == workspace)
    last = _last_jobs(names, workspace)
    generated = generated_policies(snapshot.network_policies, names, settings.engine_mode)
    rows = []
    for name in names:
        info = tenancy.projects[name]
        entries = tenancy.entries.get(name, [])
        broken = {p.entry for p in compiled.problems if p.namespace == name and p.entry}
        in_step, drift, conflicts = _step(snapshot, compiled, settings, name)
        active = (sum(1 for e in entries if e["metadata"]["name"] not in broken)
                  if info.mode == MODE_PROJECT else 0)
        shown = _shown_mode(info.mode, in_step, generated, name, settings.engine_mode)
        rows.append(ProjectSummary(name=name, mode=shown,
                                   project_isolated=info.project_isolation, in_step=in_step,
                                   drift=drift + conflicts, entries=len(entries),
                                   active_entries=active, last_job=last.get(name),
                                   intent_mode=info.mode))
    isolated = bool(((tenancy.workspaces[workspace].get("spec") or {})
                     .get("networkIsolation")) is True)
    # In effect: whether the projects that follow the workspace's switch (those without
    # their own isolation) hold its isolation policies now.
    followers = [r for r in rows if not r.project_isolated]
    applied_isolated = (any(r.mode == MODE_WORKSPACE for r in followers)
                        if followers and not all(r.in_step for r in followers) else None)
    return WorkspaceState(
        name=workspace, isolated=isolated, engine_mode=settings.engine_mode, projects=rows,
        generated=generated,
        problems=[f"{p.namespace}: {p.message}" for p in compiled.problems
                  if p.namespace in set(names) and not p.entry],
        last_job=last.get(""), applied_isolated=applied_isolated)


def _step(snapshot: Snapshot, compiled: CompileResult, settings: IsolationSettings,
          namespace: str) -> tuple[bool, list[str], list[str]]:
    if settings.engine_mode == ENGINE_KUBESPHERE:
        differences = kubesphere_differences(compiled.policies, snapshot.network_policies,
                                             [namespace])
        return not differences, differences, []
    plan = plan_reconcile(compiled.policies, snapshot.network_policies, {namespace})
    return plan.in_step, list(plan.drift), list(plan.conflicts)


def _last_jobs(projects: list[str], workspace: str) -> dict[str, Job]:
    """The latest isolation job per project ("" for the workspace itself): a job of the
    project, or a workspace-wide job of its workspace, whichever is newer."""
    query = Q(project__in=projects)
    if workspace:
        query |= Q(workspace=workspace, project="")
    recent = Job.objects.filter(query, kind__startswith=JOB_KIND_PREFIX).order_by(
        "-created_at", "-id")[:RECENT_JOBS]
    latest: dict[str, Job] = {}
    wanted = set(projects)
    for job in recent:
        if job.project:
            if job.project in wanted:
                latest.setdefault(job.project, job)
            continue
        latest.setdefault("", job)
        for project in projects:
            latest.setdefault(project, job)
    return latest


def _entry_state(entry: dict[str, Any], info: Project, compiled: CompileResult) -> EntryState:
    metadata = entry.get("metadata") or {}
    name = metadata.get("name", "")
    spec = entry.get("spec") if isinstance(entry.get("spec"), dict) else {}
    problems = [p.message for p in compiled.problems
                if p.namespace == info.name and p.entry == name]
    if not problems and info.mode != MODE_PROJECT:
        why = ("isolation is off" if info.mode == MODE_OFF
               else "only workspace isolation is on")
        problem = (f"Inactive: project isolation is not on ({why}); the entry applies once "
                   "it is switched on.")
    else:
        problem = "; ".join(problems) or None
    rules, kinds, all_peers, all_ports = [], set(), [], []
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(direction) or []:
            if not isinstance(rule, dict):
                continue
            peers = [p for p in rule.get(key) or [] if isinstance(p, dict)]
            texts = [describe_peer(p) for p in peers]
            ports = [describe_port(p) for p in rule.get("ports") or [] if isinstance(p, dict)]
            kinds.update(entry_peer_kind(p) for p in peers)
            rules.append({"direction": direction, "peers": texts, "ports": ports})
            all_peers += [t for t in texts if t not in all_peers]
            all_ports += [t for t in ports if t not in all_ports]
    annotations = metadata.get("annotations") or {}
    return EntryState(
        name=name,
        directions=tuple(d for d in ("ingress", "egress") if spec.get(d)),
        kind=kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "internal"),
        peers=all_peers, ports=all_ports, active=problem is None, problem=problem,
        rules=rules,
        description=next((annotations[k] for k in DESCRIPTION_ANNOTATIONS
                          if annotations.get(k)), ""),
        resource_version=str(metadata.get("resourceVersion") or ""), spec=spec, obj=entry)


def describe_peer(peer: dict[str, Any]) -> str:
    """A peer in words: `project shop`, `Service catalog/catalog-api`, `10.0.0.0/8 except …`."""
    if isinstance(peer.get("namespace"), dict):
        return f"project {peer['namespace'].get('name', '?')}"
    if isinstance(peer.get("service"), dict):
        service = peer["service"]
        return f"Service {service.get('namespace', '?')}/{service.get('name', '?')}"
    block = peer.get("ipBlock") if isinstance(peer.get("ipBlock"), dict) else {}
    text = str(block.get("cidr", "?"))
    excepts = block.get("except") or []
    if excepts:
        text += " except " + ", ".join(str(e) for e in excepts)
    return text


def describe_port(port: dict[str, Any]) -> str:
    """`TCP 443`, `UDP 53`, `TCP 8000-8080`, `TCP http`, or `TCP (any port)`."""
    protocol = port.get("protocol") or "TCP"
    number = port.get("port")
    if number is None:
        return f"{protocol} (any port)"
    end = port.get("endPort")
    return f"{protocol} {number}-{end}" if end else f"{protocol} {number}"


__all__ = ["EntryState", "ProjectState", "ProjectSummary", "WorkspaceState", "project_state",
           "workspace_state", "applied_mode", "modes_in_effect", "describe_peer", "describe_port"]
