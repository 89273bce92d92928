"""What the isolation pages need beyond the isolation service: the effective result of a
project's isolation, and the allowlist forms built from the cluster.

"Who can reach this project" and "where it can go" are counted by the reachability engine on
the cluster's live objects (the policies actually in the cluster, generated or not): every pod
to every pod over each destination's declared ports, grouped by namespace, plus sample
addresses outside the cluster taken from the ipBlocks the project's policies name and one
address no policy names.

Both are shown within the user's Scope (console.core.scope): namespaces outside it
(other tenants' projects, and system namespaces for everyone who does not see everything) are
folded into one "Other projects" row with their counts summed, and previews name their pods
only as "a pod in another project".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext, ngettext

from console.core import cluster as console_cluster
from console.core.audit import to_yaml
from console.core.scope import HIDDEN_NAMESPACE, OTHER_LABEL, Scope
from console.core.tenants import Directory
from console.guardrails import services as guardrails
from console.tenancy.forms import (
    ExternalEntryForm,
    InternalEntryForm,
    external_initial,
    internal_initial,
    port_rows_data,
)
from console.tenancy.state import ProjectSummary, WorkspaceState
from isolation import text as sentences
from isolation.compiler.tenancy import MODE_OFF, MODE_PROJECT, MODE_WORKSPACE, workspace_of
from isolation.reachability.engine import Cluster, InvalidPolicyError
from isolation.reachability.inventory import InventoryError
from isolation.review.clusters import declared_ports_cluster
from isolation.review.impact import EXAMPLES_PER_PAIR, Impact, PairDelta
from isolation.review.overrides import Override, entry_overrides, has_platform_layers
from isolation.snapshot import Snapshot

# Documentation ranges (RFC 5737 / 3849): never a real peer, so "an address nothing names".
ELSEWHERE_CANDIDATES = ("192.0.2.10", "198.51.100.10", "203.0.113.10", "2001:db8::10")
DEFAULT_EGRESS_PORT = (443, "TCP")
SCAN_LIMIT = 256

SELF, WORKSPACE, OTHER, OUTSIDE = "self", "workspace", "other", "outside"
FOLDED = "(other projects)"   # the key of the folded row: never a namespace name
_ORDER = {SELF: 0, WORKSPACE: 1, OTHER: 2, OUTSIDE: 3}


@dataclass(frozen=True)
class ReachRow:
    """Connections between the project and one peer (a namespace, or an outside address)."""

    key: str              # namespace name, or the sample address
    label: str            # what the page calls the peer
    scope: str            # self / workspace / other / outside
    workspace: str        # the peer namespace's workspace ("" for none or outside)
    allowed: int
    total: int
    ports: str = ""       # for outside rows: the ports tried
    note: str = ""        # "this project", "in 10.0.0.0/8", "no policy names it"

    @property
    def blocked(self) -> int:
        return self.total - self.allowed

    @property
    def status(self) -> str:
        """"allowed" (all), "blocked" (none), "partial" (some)."""
        if self.allowed == self.total:
            return "allowed"
        return "blocked" if self.allowed == 0 else "partial"


@dataclass(frozen=True)
class ProjectReachability:
    project: str
    pods: int = 0
    inbound: list[ReachRow] = field(default_factory=list)
    outbound: list[ReachRow] = field(default_factory=list)
    error: str = ""

    @property
    def tables(self) -> list[tuple[str, list[ReachRow], str, str]]:
        """(title, rows, direction, peer column) of the two tables the page shows."""
        return [(gettext("Who can reach this project"), self.inbound, "inbound", gettext("From")),
                (gettext("Where it can go"), self.outbound, "outbound", gettext("To"))]


def project_reachability(snapshot: Snapshot, project: str, scope: Scope | None = None
                         ) -> ProjectReachability:
    """Who can reach `project`'s pods and where they can go, per peer namespace and address.

    Guarantees: counts are the reachability engine's verdicts for the snapshot's live
    NetworkPolicies (a namespace row counts source pod × destination pod × declared port;
    a pod's connections to itself are left out); a policy the engine cannot read gives an
    `error` and no rows instead of an exception. With a `scope`, no namespace outside it is
    named: their rows become one "Other projects" row (key FOLDED) with the counts summed.
    """
    try:
        cluster = Cluster.from_snapshot(snapshot)
    except (InvalidPolicyError, InventoryError) as exc:
        return ProjectReachability(project, error=gettext(
            "The cluster's policies cannot be evaluated: %(error)s") % {"error": exc})
    own = [pod.key for pod in cluster.pods if pod.namespace == project]
    if not own:
        return ProjectReachability(project)
    owner = workspace_of(snapshot)
    samples_in, samples_out = _outside_samples(snapshot, project)
    inbound = _inbound(cluster, own, samples_in, project, owner)
    outbound = _outbound(cluster, own, samples_out, project, owner)
    if scope is not None and not scope.everything:
        inbound, outbound = _folded(inbound, scope), _folded(outbound, scope)
    return ProjectReachability(project, len(own), inbound, outbound)


def _folded(rows: list[ReachRow], scope: Scope) -> list[ReachRow]:
    """`rows` with every namespace outside `scope` summed into one row naming none of them."""
    shown = [row for row in rows if row.scope == OUTSIDE or scope.sees(row.key)]
    hidden = [row for row in rows if row not in shown]
    if hidden:
        shown.append(ReachRow(FOLDED, OTHER_LABEL, OTHER, "", sum(r.allowed for r in hidden),
                              sum(r.total for r in hidden), note=gettext("projects you cannot see")))
    # The folded row closes the namespace rows, before the addresses outside the cluster.
    return sorted(shown, key=lambda row: (_ORDER[row.scope], row.key == FOLDED, row.key))


def _inbound(cluster: Cluster, own: list[str], samples: list[tuple[str, str, Any]],
             project: str, owner: dict[str, str]) -> list[ReachRow]:
    sources = [pod.key for pod in cluster.pods] + [address for address, _, _ in samples]
    matrix = cluster.matrix(sources=sources, destinations=own)
    grouped = matrix.by_group(lambda e: e.namespace if e.is_pod else e.name, lambda e: "")
    labels = {address: label for address, label, _ in samples}
    rows = []
    for (peer, _), counts in grouped.items():
        if counts.total == 0:
            continue
        if peer in labels:
            rows.append(ReachRow(peer, peer, OUTSIDE, "", counts.allowed, counts.total,
                                 sentences.gettext("declared ports"), labels[peer]))
        else:
            rows.append(_namespace_row(peer, project, owner, counts.allowed, counts.total))
    return sorted(rows, key=_row_order)


def _outbound(cluster: Cluster, own: list[str], samples: list[tuple[str, str, Any]],
              project: str, owner: dict[str, str]) -> list[ReachRow]:
    matrix = cluster.matrix(sources=own, destinations=[pod.key for pod in cluster.pods])
    rows = [_namespace_row(peer, project, owner, counts.allowed, counts.total)
            for (_, peer), counts in matrix.by_group(lambda e: "", lambda e: e.namespace).items()
            if counts.total]
    for address, label, ports in samples:
        counts = cluster.matrix(sources=own, destinations=[address], ports=ports).counts()
        tried = ", ".join(f"{protocol} {port}" for port, protocol in ports)
        rows.append(ReachRow(address, address, OUTSIDE, "", counts.allowed, counts.total, tried,
                             label))
    return sorted(rows, key=_row_order)


def _namespace_row(namespace: str, project: str, owner: dict[str, str], allowed: int,
                   total: int) -> ReachRow:
    workspace = owner.get(namespace, "")
    if namespace == project:
        scope = SELF
    elif workspace and workspace == owner.get(project):
        scope = WORKSPACE
    else:
        scope = OTHER
    return ReachRow(namespace, namespace, scope, workspace, allowed, total,
                    note=gettext("this project") if scope == SELF else "")


def _row_order(row: ReachRow) -> tuple[int, str]:
    return _ORDER[row.scope], row.key


# -- sample addresses outside the cluster -------------------------------------------------------

def _outside_samples(snapshot: Snapshot, project: str
                     ) -> tuple[list[tuple[str, str, Any]], list[tuple[str, str, Any]]]:
    """(address, note, ports) to try from outside (ingress) and towards outside (egress)."""
    blocks: dict[str, list[tuple[dict[str, Any], list[tuple[int, str]]]]] = {
        "ingress": [], "egress": []}
    for policy in snapshot.network_policies:
        meta = policy.get("metadata") or {}
        if meta.get("namespace") != project:
            continue
        spec = policy.get("spec") or {}
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction) or []:
                ports = _rule_ports(rule)
                for peer in (rule.get(key) or []) if isinstance(rule, dict) else []:
                    if isinstance(peer, dict) and isinstance(peer.get("ipBlock"), dict):
                        blocks[direction].append((peer["ipBlock"], ports))
    every_block = [b for pairs in blocks.values() for b, _ in pairs]
    elsewhere = _elsewhere(every_block)
    result = {}
    for direction, pairs in blocks.items():
        samples: dict[str, tuple[str, str, Any]] = {}
        for block, ports in pairs:
            address = _inside(block)
            if address and address not in samples:
                wanted = ports or [DEFAULT_EGRESS_PORT]
                samples[address] = (address, gettext("in %(cidr)s") % {"cidr": block.get("cidr")},
                                    wanted)
        if elsewhere:
            samples[elsewhere] = (elsewhere, gettext("an address no policy names"),
                                  [DEFAULT_EGRESS_PORT])
        result[direction] = list(samples.values())
    return result["ingress"], result["egress"]


def _rule_ports(rule: Any) -> list[tuple[int, str]]:
    if not isinstance(rule, dict):
        return []
    ports = []
    for port in rule.get("ports") or []:
        if isinstance(port, dict) and isinstance(port.get("port"), int):
            ports.append((port["port"], str(port.get("protocol") or "TCP")))
    return ports


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def _inside(block: dict[str, Any]) -> str | None:
    """An address of the block that none of its `except` ranges holds."""
    network = _network(block.get("cidr"))
    if network is None:
        return None
    excluded = [n for n in (_network(e) for e in block.get("except") or []) if n is not None]
    start = 1 if network.num_addresses > 2 else 0
    for offset in range(start, min(network.num_addresses, SCAN_LIMIT)):
        address = network.network_address + offset
        if not any(address in e for e in excluded):
            return str(address)
    return None


def _elsewhere(blocks: list[dict[str, Any]]) -> str | None:
    networks = [n for n in (_network(b.get("cidr")) for b in blocks) if n is not None]
    for candidate in ELSEWHERE_CANDIDATES:
        address = ipaddress.ip_address(candidate)
        if not any(address in n for n in networks):
            return candidate
    return None


# -- allowlist forms ------------------------------------------------------------------------------

def entry_kind(entry: dict[str, Any]) -> str:
    """`external` when the entry names an ipBlock anywhere, else `internal`."""
    spec = entry.get("spec") if isinstance(entry.get("spec"), dict) else {}
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(direction) or []:
            for peer in (rule.get(key) or []) if isinstance(rule, dict) else []:
                if isinstance(peer, dict) and "ipBlock" in peer:
                    return "external"
    return "internal"


def services_of(namespace: str) -> list[tuple[str, bool]]:
    """(name, has a pod selector) of each Service of `namespace`, sorted by name."""
    services = console_cluster.gateway().list_objects("Service", namespace)
    return sorted(((s.get("metadata") or {}).get("name", ""),
                   bool((s.get("spec") or {}).get("selector"))) for s in services)


def entry_form_for(kind: str, project: str, directory: Directory, *, data=None,
                   entry: dict[str, Any] | None = None, access=None):
    """The add/edit form of an allowlist entry of `kind`, bound to `data` when posted and
    filled from `entry` when editing; None when `entry` is shaped beyond what the form
    writes (its YAML is shown instead). The Service picker lists Services only of projects
    `access` may see (with no `access`, only of `project` itself)."""
    initial: dict[str, Any] = {}
    rows: list[dict[str, Any]] = [{"protocol": "TCP", "port": ""}]
    if entry is not None:
        spec = entry.get("spec") or {}
        version = str((entry.get("metadata") or {}).get("resourceVersion") or "")
        if kind == "internal":
            values = internal_initial(spec)
            if values is None:
                return None
            initial = {**values, "resource_version": version}
        else:
            shaped = external_initial(spec)
            if shaped is None:
                return None
            initial, rows = {**shaped[0], "resource_version": version}, shaped[1]
    if kind == "internal":
        workspace = directory.workspace_of[project]
        projects = directory.projects_of(workspace)
        visible = (None if access is None
                   else access.visible_projects(projects, directory.workspace_of))
        return InternalEntryForm(data, initial=initial, project=project,
                                 workspace_projects=projects, services=services_of,
                                 visible_projects=visible)
    if data is not None:
        data = port_rows_data(data, data.get("action", ""))
        return ExternalEntryForm(data, ports_data=data)
    return ExternalEntryForm(initial=initial, ports_initial=rows)


def yaml_by_namespace(policies: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """(namespace, number of policies, their YAML) per namespace, namespaces sorted."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for policy in policies:
        groups.setdefault((policy.get("metadata") or {}).get("namespace", ""), []).append(policy)
    return [(namespace, len(items), to_yaml(items)) for namespace, items in sorted(groups.items())]


# -- page data ------------------------------------------------------------------------------------

def workspace_rows(directory: Directory, names: list[str], query: str = "",
                   in_effect: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Rows of the workspace list for `names` whose name contains `query`. With `in_effect`
    (`state.modes_in_effect`), each row says how the isolation in effect stands against the
    switch (`transition`, "" when they match; `shown`, "On (intent: off)"), judged on the
    projects that follow the switch (those without their own isolation)."""
    rows = []
    for name in names:
        if query and query.lower() not in name.lower():
            continue
        projects = directory.projects_of(name)
        isolated = directory.workspace_isolated(name)
        row = {"name": name, "isolated": isolated, "projects": len(projects),
               "project_isolated": sum(directory.project_isolated(p) for p in projects),
               "transition": "", "shown": ""}
        if in_effect is not None:
            expected = MODE_WORKSPACE if isolated else MODE_OFF
            followers = [in_effect.get(p, MODE_OFF) for p in projects
                         if not directory.project_isolated(p)]
            if any(mode != expected for mode in followers):
                state = WorkspaceState(name=name, isolated=isolated, engine_mode="",
                                       applied_isolated=MODE_WORKSPACE in followers)
                row.update(transition=state.transition, shown=state.shown)
        rows.append(row)
    return rows


def project_rows(directory: Directory, names: list[str], query: str = "",
                 workspace: str = "", in_effect: dict[str, str] | None = None,
                 ) -> list[dict[str, Any]]:
    """Rows of the project list for `names`, filtered by name and workspace: `intent`, the
    mode the switches ask for, and `mode`, the one in effect (`in_effect`, from
    `state.modes_in_effect`; the intent's when None), and `transition` ("intent: off", as on
    the project's page) when the two differ."""
    workspace_of = directory.workspace_of
    rows = []
    for name in names:
        if query and query.lower() not in name.lower():
            continue
        if workspace and workspace_of.get(name) != workspace:
            continue
        if directory.project_isolated(name):
            intent = MODE_PROJECT
        else:
            isolated = directory.workspace_isolated(workspace_of.get(name, ""))
            intent = MODE_WORKSPACE if isolated else MODE_OFF
        mode = intent if in_effect is None else in_effect.get(name, MODE_OFF)
        row = {"name": name, "workspace": workspace_of.get(name, ""), "mode": mode,
               "intent": intent, "transition": ""}
        if mode != intent:
            row["transition"] = ProjectSummary(
                name=name, mode=mode, project_isolated=intent == MODE_PROJECT, in_step=False,
                drift=[], entries=0, active_entries=0, intent_mode=intent).transition
        rows.append(row)
    return rows


TAB_KINDS = {"internal": ("internal", "mixed"), "external": ("external", "mixed")}


@dataclass(frozen=True)
class AllowlistGroup:
    direction: str        # "egress" or "ingress"
    entries: list[Any]    # isolation_state.EntryState


def allowlist_tabs(entries: list[Any]) -> dict[str, list[AllowlistGroup]]:
    """Entries per tab (internal / external) and direction, egress first as KubeSphere shows
    them; an entry naming both kinds of peer appears in both tabs."""
    return {tab: [AllowlistGroup(direction, [e for e in entries if e.kind in kinds
                                             and direction in e.directions])
                  for direction in ("egress", "ingress")]
            for tab, kinds in TAB_KINDS.items()}


def preview_yaml(preview: Any) -> dict[str, str]:
    """The generated policies of a preview as YAML, before and after."""
    return {"before_yaml": to_yaml(preview.generated_before),
            "after_yaml": to_yaml(preview.generated_after)}


def preview_context(preview: Any, scope: Scope) -> dict[str, Any]:
    """What a page shows of a preview for a user of `scope`: the preview as they may see it
    (`scoped_preview`) and its generated policies as YAML."""
    shown = scoped_preview(preview, scope)
    return {"preview": shown, "guardrails": preview_guardrails(preview, scope),
            **preview_yaml(shown)}


def preview_guardrails(preview: Any, scope: Scope) -> Any:
    """The guardrails a preview's change newly violates, as a user of `scope` may see them
    (console.guardrails.services.GuardrailCheck; rendered by guardrails/_preview_checks.html,
    whose override form shows to platform admins)."""
    return guardrails.scoped_check(list(getattr(preview, "new_violations", None) or []), scope,
                                   platform_admin=False,
                                   key=getattr(preview, "guardrail_key", ""),
                                   error=getattr(preview, "guardrail_error", ""))


def scoped_preview(preview: Any, scope: Scope) -> Any:
    """A copy of an isolation_service.Preview that names nothing outside `scope`.

    Pods outside it read "a pod in another project", their namespaces "other projects" (pairs
    between two of them are left out); warnings, problems and the summary are redacted;
    generated policies of namespaces outside it are left out. Totals of newly blocked and
    allowed connections stay those of the whole change: they name nothing.
    """
    if scope.everything:
        return preview

    def visible(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [p for p in policies if scope.sees((p.get("metadata") or {}).get("namespace"))]

    impact = scoped_impact(preview.impact, scope) if preview.impact is not None else None
    return replace(preview, impact=impact, summary=scope.redact(preview.summary),
                   problems=[scope.redact(p) for p in preview.problems],
                   generated_before=visible(preview.generated_before),
                   generated_after=visible(preview.generated_after),
                   namespaces=[n for n in preview.namespaces if scope.sees(n)])


def scoped_impact(impact: Impact, scope: Scope) -> Impact:
    """`impact` with every pod and namespace outside `scope` renamed (see `scoped_preview`);
    the connection lists keep their length, project pairs that become alike are summed."""
    if scope.everything:
        return impact

    def shown(connection: Any) -> Any:
        return replace(connection, src=scope.show_ref(connection.src),
                       dst=scope.show_ref(connection.dst))

    merged: dict[tuple[str, str], tuple[list[int], list[Any]]] = {}
    for pair in impact.pairs:
        src = scope.show_namespace(pair.src_namespace)
        dst = scope.show_namespace(pair.dst_namespace)
        if src == HIDDEN_NAMESPACE and dst == HIDDEN_NAMESPACE:
            continue
        counts, examples = merged.setdefault((src, dst), ([0, 0], []))
        counts[0] += pair.allowed
        counts[1] += pair.blocked
        for connection in map(shown, pair.examples):
            if connection not in examples and len(examples) < EXAMPLES_PER_PAIR:
                examples.append(connection)
    pairs = sorted((PairDelta(src, dst, a, b, tuple(examples))
                    for (src, dst), ([a, b], examples) in merged.items()),
                   key=lambda p: (-(p.allowed + p.blocked), p.src_namespace, p.dst_namespace))
    return Impact(newly_allowed=_Renamed(impact.newly_allowed, shown),
                  newly_blocked=_Renamed(impact.newly_blocked, shown), pairs=pairs,
                  warnings=[scope.redact(w) for w in impact.warnings])


class _Renamed(Sequence):
    """`items` with `rename` applied to each one as it is read: a preview lists a few of a
    workspace's half a million changed connections, and counts them all."""

    def __init__(self, items: Sequence[Any], rename: Callable[[Any], Any]) -> None:
        self._items = items
        self._rename = rename

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._rename(item) for item in self._items[index]]
        return self._rename(self._items[index])

    def __iter__(self) -> Iterator[Any]:
        return map(self._rename, self._items)


def project_page(state: Any) -> dict[str, Any]:
    """What the project page shows besides the state itself: the allowlist tabs with their
    counts, the number of active entries and the generated policies as YAML."""
    tabs = allowlist_tabs(state.entries)
    return {"tabs": tabs,
            "internal_count": sum(len(g.entries) for g in tabs["internal"]),
            "external_count": sum(len(g.entries) for g in tabs["external"]),
            "active_entries": sum(1 for e in state.entries if e.active),
            "generated_yaml": to_yaml(state.generated)}


# -- platform policies that decide before an entry ------------------------------------------------

ENTRY, FIX = "entry", "fix"


def overridden_entries(snapshot: Snapshot, project: str, scope: Scope,
                       entries: list[tuple[str, dict[str, Any]]] | None = None
                       ) -> list[tuple[str, list[str]]]:
    """(entry name, warnings) of each allowlist entry of `project` ((name, spec) pairs; by
    default the project's NamespaceNetworkPolicies in `snapshot`) that a platform policy
    overrides (`isolation.review.overrides`), worded for `scope` (`override_warnings`).

    Guarantees: empty when the cluster has no policy layer but the NetworkPolicies (nothing
    is evaluated then) or when the cluster's policies cannot be read (the page says why
    elsewhere); the engine is read once for all entries.
    """
    if entries is None:
        entries = [(str(e["metadata"].get("name")), e["spec"]) for e in snapshot.nsnps
                   if (e.get("metadata") or {}).get("namespace") == project
                   and isinstance(e.get("spec"), dict)]
    engine = _override_engine(snapshot) if entries else None
    if engine is None:
        return []
    result = []
    for name, spec in entries:
        found = entry_overrides(snapshot, project, spec, engine)
        if found:
            result.append((name, override_warnings(found, scope)))
    return result


def overridden_per_project(snapshot: Snapshot, projects: list[str]) -> list[tuple[str, int]]:
    """(project, how many of its allowlist entries a platform policy overrides) for each of
    `projects` with at least one, in the order given (counts name no policy); empty under the
    same conditions as `overridden_entries`."""
    wanted = set(projects)
    specs: dict[str, list[Any]] = {}
    for entry in snapshot.nsnps:
        namespace = (entry.get("metadata") or {}).get("namespace")
        if namespace in wanted and isinstance(entry.get("spec"), dict):
            specs.setdefault(namespace, []).append(entry["spec"])
    engine = _override_engine(snapshot) if specs else None
    if engine is None:
        return []
    counts = [(project, sum(1 for spec in specs.get(project, ())
                            if entry_overrides(snapshot, project, spec, engine)))
              for project in projects]
    return [(project, count) for project, count in counts if count]


def _override_engine(snapshot: Snapshot) -> Cluster | None:
    """The engine the overrides are asked of (its NetworkPolicies read once per version; the
    rules they drop decide nothing before the NetworkPolicies), or None when nothing can
    override an entry or the policies cannot be read."""
    if not has_platform_layers(snapshot):
        return None
    try:
        return declared_ports_cluster(snapshot, live=True)
    except ValueError:
        return None


def entry_override_warnings(snapshot: Snapshot, project: str, spec: dict[str, Any],
                            scope: Scope, subject: str = ENTRY) -> list[str]:
    """The warnings for an allowlist entry of `project` with `spec` (a draft, or the fix of
    the traffic advisor with `subject` FIX) that platform policies override; [] when none
    does or the cluster's policies cannot be read."""
    engine = _override_engine(snapshot)
    if engine is None:
        return []
    return override_warnings(entry_overrides(snapshot, project, spec, engine), scope, subject)


def override_warnings(found: list[Override], scope: Scope, subject: str = ENTRY) -> list[str]:
    """One sentence per overriding rule. A user who does not see everything never reads the
    name of a cluster-scoped policy ("a platform policy") nor of a policy of a project outside
    their scope ("a policy of another project"), nor a pod outside it."""
    return [_override_sentence(override, scope, subject) for override in found]


def _override_sentence(override: Override, scope: Scope, subject: str) -> str:
    values = {"policy": _policy_shown(override, scope),
              "connection": gettext("%(source)s → %(destination)s on %(protocol)s %(port)s") % {
                  "source": scope.show_ref(override.source),
                  "destination": scope.show_ref(override.destination),
                  "protocol": override.protocol, "port": override.port}}
    if override.denies:
        text = (gettext("This entry is overridden by %(policy)s: %(connection)s is denied "
                        "before the project's NetworkPolicies are evaluated, so the entry "
                        "cannot allow it.") if subject == ENTRY else
                gettext("This fix is overridden by %(policy)s: %(connection)s is denied "
                        "before the project's NetworkPolicies are evaluated, so the new entry "
                        "cannot allow it."))
    else:
        text = (gettext("This entry is overridden by %(policy)s: %(connection)s is allowed "
                        "before the project's NetworkPolicies are evaluated, whatever the "
                        "entry says.") if subject == ENTRY else
                gettext("This fix is overridden by %(policy)s: %(connection)s is allowed "
                        "before the project's NetworkPolicies are evaluated, whatever the "
                        "new entry says."))
    return text % values


def _policy_shown(override: Override, scope: Scope) -> str:
    """The deciding rule as `scope` may read it."""
    if not scope.everything:
        if override.platform:
            return gettext("a platform policy")
        if not scope.sees(override.namespace):
            return gettext("a policy of another project")
    ref = override.ref
    where = []
    if ref.tier:
        where.append(gettext("tier %(tier)s") % {"tier": ref.tier})
    elif ref.priority is not None:
        where.append(gettext("priority %(priority)s") % {"priority": ref.priority})
    if ref.rule_index is None:
        where.append(gettext("end of tier"))
    elif ref.direction == "egress":
        where.append(gettext("egress rule %(rule)s") % {"rule": ref.rule_index})
    else:
        where.append(gettext("ingress rule %(rule)s") % {"rule": ref.rule_index})
    where.append(ref.action)
    return gettext("%(kind)s %(name)s (%(where)s)") % {
        "kind": ref.kind, "name": ref.policy, "where": ", ".join(where)}


def overridden_count_text(overridden: list[tuple[str, list[str]]]) -> str:
    """"2 allowlist entries are overridden by platform policies" (empty for none)."""
    count = len(overridden)
    if not count:
        return ""
    return ngettext("%(count)d allowlist entry is overridden by a platform policy.",
                    "%(count)d allowlist entries are overridden by platform policies.",
                    count) % {"count": count}
