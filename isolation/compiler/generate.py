"""The isolation compiler: tenant intent in a Snapshot -> the NetworkPolicies that enforce it.

DESIGN §2.1 is the specification. Per managed namespace (it carries the workspace label and
its Workspace exists) the mode is `project`, `workspace` or `off`; isolated namespaces get
`nsnp-network-isolate`, and in project mode every valid allowlist entry (NamespaceNetworkPolicy)
becomes `nsnp-<entry>`. The output is deterministic: policies sorted by (namespace, name),
rules in a fixed order, peers and ports sorted.

Two engine modes share the code. `console` is this project's engine, with KubeSphere v3's
defects fixed (egress to the own project kept, Service targetPorts resolved, ingress
controller namespaces detected, node SNAT addresses from settings, entries of a project whose
isolation is off kept but inactive, generated objects labelled). `kubesphere` reproduces what
KubeSphere v3's controller would write for the same intent, so the console can show it when a
KubeSphere controller does the generating. It reproduces the shapes KubeSphere generates for
managed namespaces; its corner cases outside them (KubeSphere also converts entries of
namespaces without a workspace) are not reproduced.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from isolation.compiler.entries import (
    Flavour,
    canonical_ports,
    compile_entry,
    namespace_peer,
    service_ports,
)
from isolation.compiler.intent import (
    GENERATED_PREFIX,
    ISOLATION_ENTRY_NAME,
    EntryValidator,
    parse_cidr,
)
from isolation.compiler.tenancy import (
    KUBESPHERE_NAMESPACE_LABEL,
    MODE_OFF,
    MODE_PROJECT,
    MODE_WORKSPACE,
    WORKSPACE_LABEL,
    Project,
    Tenancy,
    detect_ingress_namespaces,
    has_name_label,
    name_of,
    snat_annotation_addresses,
    string_map,
)
from isolation.snapshot import NAME_LABEL, Snapshot
from isolation.text import gettext as _

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "tenant-isolation-console"
SOURCE_ANNOTATION = "isolation.tenant-console.io/source"
ISOLATION_POLICY_NAME = GENERATED_PREFIX + ISOLATION_ENTRY_NAME
ENGINE_CONSOLE = "console"
ENGINE_KUBESPHERE = "kubesphere"
KUBESPHERE_NODE_LOCAL_DNS = "169.254.25.10/32"
DNS_NAMESPACE = "kube-system"
DNS_SERVICES = ("kube-dns", "coredns")   # looked up in this order, as KubeSphere does
DNS_FALLBACK_SELECTOR = {"k8s-app": "kube-dns"}   # label of both kube-dns and CoreDNS pods
DNS_PORTS = [{"port": 53, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

CONSOLE_FLAVOUR = Flavour(namespace_label=NAME_LABEL, resolve_target_ports=True,
                          canonical_order=True)
KUBESPHERE_FLAVOUR = Flavour(namespace_label=KUBESPHERE_NAMESPACE_LABEL,
                             resolve_target_ports=False, canonical_order=False)


@dataclass(frozen=True)
class IsolationSettings:
    """Platform settings of the compiler; validated on construction (ValueError)."""

    always_allowed_namespaces: tuple[str, ...] = ()
    detect_ingress_namespaces: bool = True   # add namespaces running the ingress controller
    snat_cidrs: tuple[str, ...] = ()         # node SNAT/tunnel addresses to admit (rule 2)
    dns_cidrs: tuple[str, ...] = ("169.254.25.10/32",)
    engine_mode: str = ENGINE_CONSOLE        # or "kubesphere"

    def __post_init__(self) -> None:
        if self.engine_mode not in (ENGINE_CONSOLE, ENGINE_KUBESPHERE):
            raise ValueError(_("engine mode {mode} is not one of {console}, {kubesphere}",
                               mode=repr(self.engine_mode), console=repr(ENGINE_CONSOLE),
                               kubesphere=repr(ENGINE_KUBESPHERE)))
        for name in self.always_allowed_namespaces:
            if not isinstance(name, str) or len(name) > 63 or not _DNS_LABEL.match(name):
                raise ValueError(_("always-allowed namespace {name} is not a valid namespace "
                                   "name", name=repr(name)))
        for setting, values in (("SNAT", self.snat_cidrs), ("DNS", self.dns_cidrs)):
            for value in values:
                if not isinstance(value, str) or _host_or_network(value) is None:
                    raise ValueError(_("{setting} address {value} is not an IP address or CIDR",
                                       setting=setting, value=repr(value)))


def _host_or_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR, or a bare address as its /32 or /128."""
    if "/" in value:
        return parse_cidr(value)
    try:
        return ipaddress.ip_network(value.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class EntryProblem:
    """Why an entry (or, with entry "", a project or node) is not compiled as written."""

    namespace: str
    entry: str
    message: str


@dataclass
class CompileResult:
    """Everything one compilation decided, for writing and for showing."""

    policies: list[dict[str, Any]]                 # sorted by (namespace, name)
    problems: list[EntryProblem]
    modes: dict[str, str]                          # every Namespace -> off/workspace/project
    inactive_entries: list[tuple[str, str]] = field(default_factory=list)
    allowed_namespaces: tuple[str, ...] = ()       # effective always-allowed namespaces
    snat_cidrs: tuple[str, ...] = ()               # effective rule-2 CIDRs


class _Compilation:
    """State of one run: indexes, settings and the pieces shared by all namespaces."""

    def __init__(self, snapshot: Snapshot, settings: IsolationSettings) -> None:
        self.snapshot = snapshot
        self.settings = settings
        self.kubesphere = settings.engine_mode == ENGINE_KUBESPHERE
        self.flavour = KUBESPHERE_FLAVOUR if self.kubesphere else CONSOLE_FLAVOUR
        self.tenancy = Tenancy.from_snapshot(snapshot)
        self.validator = EntryValidator(self.tenancy)
        self.problems: list[EntryProblem] = []
        self.inactive: list[tuple[str, str]] = []
        self.selected_namespaces: set[str] = set()
        self.allowed = self._allowed_namespaces()
        self.snat_cidrs = self._snat_cidrs()
        self._dns_rules: list[dict[str, Any]] | None = None

    def _allowed_namespaces(self) -> tuple[str, ...]:
        configured = list(self.settings.always_allowed_namespaces)
        if self.kubesphere:
            # KubeSphere keeps allowedIngressNamespaces in configuration order, duplicates too.
            return tuple(configured)
        if self.settings.detect_ingress_namespaces:
            configured.extend(detect_ingress_namespaces(self.snapshot))
        return tuple(sorted(set(configured)))

    def _snat_cidrs(self) -> tuple[str, ...]:
        annotated, problems = snat_annotation_addresses(self.snapshot)
        for node, message in problems:
            self.problems.append(EntryProblem("", f"node/{node}", message))
        if self.kubesphere:
            cidrs = [_host_cidr(ip) for ip in annotated]
            return tuple(sorted(cidrs))       # KubeSphere sorts them as strings
        networks = {_host_or_network(value) for value in (*self.settings.snat_cidrs,
                                                            *annotated)}
        ordered = sorted((n for n in networks if n is not None),
                         key=lambda n: (n.version, int(n.network_address), n.prefixlen))
        return tuple(str(n) for n in ordered)

    def run(self) -> CompileResult:
        policies: list[dict[str, Any]] = []
        modes: dict[str, str] = {}
        for name in sorted(self.tenancy.projects):
            project = self.tenancy.projects[name]
            modes[name] = project.mode
            if project.workspace is not None and not project.workspace_exists:
                self.problems.append(EntryProblem(name, "", _(
                    "workspace {workspace} does not exist; the project is not isolated",
                    workspace=project.workspace)))
            policies.extend(self._namespace_policies(project))
        self._report_orphan_entries()
        if self.kubesphere:
            self._report_missing_self_labels()
        policies.sort(key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
        return CompileResult(policies=policies, problems=self.problems, modes=modes,
                             inactive_entries=sorted(self.inactive),
                             allowed_namespaces=self.allowed, snat_cidrs=self.snat_cidrs)

    def _namespace_policies(self, project: Project) -> list[dict[str, Any]]:
        mode = project.mode
        entries = self.tenancy.entries.get(project.name, [])
        if mode != MODE_PROJECT:
            for entry in entries:
                self.inactive.append((project.name, name_of(entry)))
                if self.kubesphere and project.managed:
                    self.problems.append(EntryProblem(
                        project.name, name_of(entry), _(
                            "KubeSphere deletes this entry because the project's isolation is "
                            "{mode}", mode=mode)))
        if mode == MODE_OFF:
            return []
        if mode == MODE_WORKSPACE:
            return [self._isolation_policy(project, egress=None)]
        policies = []
        for entry in entries:
            issues = self.validator.validate(entry)
            if issues:
                for issue in issues:
                    message = _("{field}: {message}", field=issue.field,
                                message=issue.message) if issue.field else issue.message
                    self.problems.append(EntryProblem(project.name, name_of(entry), message))
                continue
            policy = compile_entry(entry, self.tenancy, self.flavour)
            self._mark(policy, f"nsnp/{project.name}/{name_of(entry)}")
            self._note_selected(policy)
            policies.append(policy)
        # Egress is restricted as soon as the project has any egress entry, even one that
        # cannot be compiled right now: a broken entry must not silently open egress.
        restrict_egress = any(_has_egress(entry) for entry in entries)
        egress = self._egress_rules(project) if restrict_egress else None
        policies.append(self._isolation_policy(project, egress=egress))
        return policies

    def _isolation_policy(self, project: Project,
                          egress: list[dict[str, Any]] | None) -> dict[str, Any]:
        label = self.flavour.namespace_label
        if project.mode == MODE_WORKSPACE:
            main = {"namespaceSelector": {"matchLabels": {WORKSPACE_LABEL: project.workspace}}}
            source = f"workspace/{project.workspace}"
            peers = [main]
        else:
            main = namespace_peer(label, project.name)
            source = f"namespace/{project.name}"
            peers = [main]
        for allowed in self.allowed:
            if self.kubesphere or not (project.mode == MODE_PROJECT and allowed == project.name):
                peers.append(namespace_peer(label, allowed))
        ingress: list[dict[str, Any]] = [{"from": peers}]
        if self.snat_cidrs:
            ingress.append({"from": [{"ipBlock": {"cidr": cidr}} for cidr in self.snat_cidrs]})
        spec: dict[str, Any] = {"podSelector": {}, "policyTypes": ["Ingress"],
                                "ingress": ingress}
        if egress is not None:
            spec["policyTypes"] = ["Ingress", "Egress"]
            spec["egress"] = egress
        policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                  "metadata": {"name": ISOLATION_POLICY_NAME, "namespace": project.name},
                  "spec": spec}
        self._mark(policy, source)
        self._note_selected(policy)
        return policy

    def _egress_rules(self, project: Project) -> list[dict[str, Any]]:
        # A fresh copy per policy: shared objects would become YAML aliases, and a caller
        # editing one policy would silently edit the others.
        rules = copy.deepcopy(self._dns())
        if not self.kubesphere:
            # Fix over KubeSphere v3: pods keep talking to their own project.
            rules.append({"to": [namespace_peer(NAME_LABEL, project.name)]})
        return rules

    def _dns(self) -> list[dict[str, Any]]:
        if self._dns_rules is None:
            self._dns_rules = self._build_dns_rules()
        return self._dns_rules

    def _build_dns_rules(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        local = ((KUBESPHERE_NODE_LOCAL_DNS,) if self.kubesphere else self.settings.dns_cidrs)
        if local:
            rules.append({"to": [{"ipBlock": {"cidr": str(_host_or_network(c))}}
                                 for c in local],
                          "ports": [dict(p) for p in DNS_PORTS]})
        label = self.flavour.namespace_label
        service = self._dns_service()
        if service is None:
            if self.kubesphere:
                return rules
            # Without a DNS Service, fall back on the label both kube-dns and CoreDNS carry.
            peer = {"namespaceSelector": {"matchLabels": {label: DNS_NAMESPACE}},
                    "podSelector": {"matchLabels": dict(DNS_FALLBACK_SELECTOR)}}
            rules.append({"to": [peer], "ports": [dict(p) for p in DNS_PORTS]})
            return rules
        self.selected_namespaces.add(DNS_NAMESPACE)
        peer = {"namespaceSelector": {"matchLabels": {label: DNS_NAMESPACE}},
                "podSelector": {"matchLabels": dict(string_map(service, "spec.selector"))}}
        if self.kubesphere:
            ports = service_ports(service, self.tenancy, self.flavour)
        else:
            # Only the DNS ports (Service port 53), translated to the pods' ports.
            ports = service_ports(service, self.tenancy, self.flavour, only_ports={53})
            ports = canonical_ports(ports) or [dict(p) for p in DNS_PORTS]
        rules.append({"to": [peer], "ports": ports})
        return rules

    def _dns_service(self) -> dict[str, Any] | None:
        for name in DNS_SERVICES:
            service = self.tenancy.services.get((DNS_NAMESPACE, name))
            if service is not None and string_map(service, "spec.selector"):
                return service
        return None

    def _mark(self, policy: dict[str, Any], source: str) -> None:
        if self.kubesphere:
            return   # KubeSphere writes bare objects: name and namespace only
        metadata = policy["metadata"]
        metadata["labels"] = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
        metadata["annotations"] = {SOURCE_ANNOTATION: source}

    def _note_selected(self, policy: dict[str, Any]) -> None:
        if not self.kubesphere:
            return
        spec = policy["spec"]
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction, []):
                for peer in rule.get(key, []):
                    labels = peer.get("namespaceSelector", {}).get("matchLabels", {})
                    if KUBESPHERE_NAMESPACE_LABEL in labels:
                        self.selected_namespaces.add(labels[KUBESPHERE_NAMESPACE_LABEL])

    def _report_missing_self_labels(self) -> None:
        for namespace in sorted(self.selected_namespaces):
            project = self.tenancy.projects.get(namespace)
            if project is not None and not has_name_label(project):
                self.problems.append(EntryProblem(
                    namespace, "", _("the namespace lacks the label {label}, so KubeSphere's "
                                     "policies that select it do not match it",
                                     label=f"{KUBESPHERE_NAMESPACE_LABEL}={namespace}")))

    def _report_orphan_entries(self) -> None:
        for namespace in sorted(self.tenancy.entries):
            if namespace in self.tenancy.projects:
                continue
            for entry in self.tenancy.entries[namespace]:
                self.problems.append(EntryProblem(namespace, name_of(entry), _(
                    "project {namespace} does not exist", namespace=namespace)))


def _host_cidr(address: str) -> str:
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


def _has_egress(entry: dict[str, Any]) -> bool:
    spec = entry.get("spec")
    return isinstance(spec, dict) and isinstance(spec.get("egress"), list) and bool(
        spec["egress"])


def desired_policies(snapshot: Snapshot, settings: IsolationSettings) -> CompileResult:
    """The complete set of NetworkPolicies the isolation engine wants in the cluster.

    Guarantees: pure and deterministic (same input, byte-identical output); policies sorted by
    (namespace, name); only managed namespaces get policies; an entry with problems is left
    out and reported in `problems` without affecting other entries; entries of projects whose
    isolation is not `project` are listed in `inactive_entries`, never dropped from the
    cluster; in console mode every policy carries the managed-by label and the source
    annotation. Raises TenancyInputError for objects of the wrong shape.
    """
    return _Compilation(snapshot, settings).run()


__all__ = [
    "IsolationSettings", "EntryProblem", "CompileResult", "desired_policies",
    "MANAGED_BY_LABEL", "MANAGED_BY_VALUE", "SOURCE_ANNOTATION", "ISOLATION_POLICY_NAME",
    "ENGINE_CONSOLE", "ENGINE_KUBESPHERE", "MODE_OFF", "MODE_WORKSPACE", "MODE_PROJECT",
]
