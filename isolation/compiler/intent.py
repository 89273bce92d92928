"""Validation of isolation intent changes, and the exact objects/patches that express them.

An allowlist entry is a NamespaceNetworkPolicy (`network.kubesphere.io/v1alpha1`). It is
checked here before anything is written, and the compiler uses the same checks to decide
which entries it can compile: one entry's problem never blocks its project's other entries.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from isolation.compiler.tenancy import (
    ISOLATE_ANNOTATION,
    ISOLATE_ENABLED,
    WORKSPACE_LABEL,
    Project,
    Tenancy,
    TenancyInputError,
    string_map,
)
from isolation.snapshot import Snapshot
from isolation.text import gettext as _

NSNP_API_VERSION = "network.kubesphere.io/v1alpha1"
NSNP_KIND = "NamespaceNetworkPolicy"
GENERATED_PREFIX = "nsnp-"
ISOLATION_ENTRY_NAME = "network-isolate"   # nsnp-<this> is the isolation policy itself
PROTOCOLS = ("TCP", "UDP", "SCTP")

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_RULE_KEYS = {"ingress": ("from", "ports"), "egress": ("to", "ports")}
_PEER_KINDS = ("namespace", "service", "ipBlock")


@dataclass(frozen=True)
class EntryIssue:
    """One problem of an intent object: `field` is a path such as `spec.egress[0].to[1]`."""

    field: str
    message: str


def validate_entry(entry: dict[str, Any], snapshot: Snapshot) -> list[EntryIssue]:
    """Every problem that keeps `entry` (a NamespaceNetworkPolicy dict) from compiling.

    Checks: name usable for `nsnp-<name>` (DNS subdomain, not `network-isolate`), the project
    exists and belongs to a workspace, at least one ingress or egress rule, every rule names
    at least one peer, each peer sets exactly one of namespace / service / ipBlock, namespace
    and Service peers exist and sit in the entry's workspace, Services have a selector, CIDRs
    are IPv4/IPv6 networks with every `except` strictly inside, ports are 1-65535 or port
    names, `endPort` ranges are numeric and ordered, protocols are TCP/UDP/SCTP.
    Guarantee: an empty list means the compiler will generate `nsnp-<name>` from it.
    """
    return EntryValidator(Tenancy.from_snapshot(snapshot)).validate(entry)


class EntryValidator:
    """Validates many entries against one indexed snapshot (the compiler's hot path)."""

    def __init__(self, tenancy: Tenancy) -> None:
        self.tenancy = tenancy

    def validate(self, entry: dict[str, Any]) -> list[EntryIssue]:
        issues: list[EntryIssue] = []
        if not isinstance(entry, dict):
            return [EntryIssue("", _("an allowlist entry must be a mapping"))]
        metadata = entry.get("metadata")
        if not isinstance(metadata, dict):
            return [EntryIssue("metadata", _("is required"))]
        self._check_name(metadata.get("name"), issues)
        namespace = metadata.get("namespace")
        workspace = self._check_namespace(namespace, issues)
        spec = entry.get("spec")
        if not isinstance(spec, dict):
            issues.append(EntryIssue("spec", _("must be a mapping with ingress or egress rules")))
            return issues
        for key in spec:
            if key not in ("ingress", "egress", "policyTypes"):
                issues.append(EntryIssue(f"spec.{key}", _("unknown field")))
        rule_count = 0
        for direction in ("ingress", "egress"):
            rules = spec.get(direction)
            if rules is None:
                continue
            if not isinstance(rules, list):
                issues.append(EntryIssue(f"spec.{direction}", _("must be a list of rules")))
                continue
            rule_count += len(rules)
            for index, rule in enumerate(rules):
                self._check_rule(direction, f"spec.{direction}[{index}]", rule, workspace,
                                 issues)
        if rule_count == 0:
            issues.append(EntryIssue("spec", _("needs at least one ingress or egress rule")))
        return issues

    def _check_name(self, name: Any, issues: list[EntryIssue]) -> None:
        if not isinstance(name, str) or not name:
            issues.append(EntryIssue("metadata.name", _("is required")))
            return
        if not _DNS_SUBDOMAIN.match(name):
            issues.append(EntryIssue("metadata.name", _(
                "must consist of lower case letters, digits, '-' and '.', and start and end "
                "with a letter or digit")))
        if len(GENERATED_PREFIX + name) > 253:
            issues.append(EntryIssue("metadata.name", _(
                "must be at most 248 characters, so that {prefix}<name> is a valid name",
                prefix=GENERATED_PREFIX)))
        if name == ISOLATION_ENTRY_NAME:
            issues.append(EntryIssue("metadata.name", _(
                "{name} is reserved: {policy} is the project's isolation policy",
                name=repr(ISOLATION_ENTRY_NAME), policy=GENERATED_PREFIX + ISOLATION_ENTRY_NAME)))

    def _check_namespace(self, namespace: Any, issues: list[EntryIssue]) -> str | None:
        if not isinstance(namespace, str) or not namespace:
            issues.append(EntryIssue("metadata.namespace", _("is required")))
            return None
        project = self.tenancy.projects.get(namespace)
        if project is None:
            issues.append(EntryIssue("metadata.namespace", _("project {namespace} does not exist",
                                                               namespace=namespace)))
            return None
        if project.workspace is None:
            issues.append(EntryIssue("metadata.namespace", _(
                "project {namespace} belongs to no workspace", namespace=namespace)))
        return project.workspace

    def _check_rule(self, direction: str, path: str, rule: Any, workspace: str | None,
                    issues: list[EntryIssue]) -> None:
        if not isinstance(rule, dict):
            issues.append(EntryIssue(path, _("must be a mapping")))
            return
        peers_key = _RULE_KEYS[direction][0]
        for key in rule:
            if key not in _RULE_KEYS[direction]:
                issues.append(EntryIssue(f"{path}.{key}", _("unknown field")))
        peers = rule.get(peers_key)
        if not isinstance(peers, list) or not peers:
            # An empty peer list would mean "everything" in the generated NetworkPolicy; an
            # allowlist entry must say whom it allows.
            issues.append(EntryIssue(f"{path}.{peers_key}",
                                     _("must name at least one project, Service or CIDR")))
        else:
            for index, peer in enumerate(peers):
                self._check_peer(f"{path}.{peers_key}[{index}]", peer, workspace, issues)
        ports = rule.get("ports")
        if ports is not None:
            if not isinstance(ports, list):
                issues.append(EntryIssue(f"{path}.ports", _("must be a list")))
            else:
                for index, port in enumerate(ports):
                    issues.extend(check_port(f"{path}.ports[{index}]", port))

    def _check_peer(self, path: str, peer: Any, workspace: str | None,
                    issues: list[EntryIssue]) -> None:
        if not isinstance(peer, dict):
            issues.append(EntryIssue(path, _("must be a mapping")))
            return
        kinds = [k for k in _PEER_KINDS if peer.get(k) is not None]
        for key in peer:
            if key not in _PEER_KINDS:
                issues.append(EntryIssue(f"{path}.{key}", _("unknown field")))
        if len(kinds) != 1:
            issues.append(EntryIssue(path, _("must set exactly one of namespace, service, "
                                             "ipBlock")))
            return
        kind = kinds[0]
        value = peer[kind]
        if not isinstance(value, dict):
            issues.append(EntryIssue(f"{path}.{kind}", _("must be a mapping")))
        elif kind == "namespace":
            self._check_namespace_peer(f"{path}.namespace", value, workspace, issues)
        elif kind == "service":
            self._check_service_peer(f"{path}.service", value, workspace, issues)
        else:
            issues.extend(check_ip_block(f"{path}.ipBlock", value))

    def _check_namespace_peer(self, path: str, value: dict[str, Any], workspace: str | None,
                              issues: list[EntryIssue]) -> None:
        name = value.get("name")
        if not isinstance(name, str) or not name:
            issues.append(EntryIssue(f"{path}.name", _("is required")))
            return
        self._check_same_workspace(f"{path}.name", name, workspace, issues)

    def _check_service_peer(self, path: str, value: dict[str, Any], workspace: str | None,
                            issues: list[EntryIssue]) -> None:
        name, namespace = value.get("name"), value.get("namespace")
        missing = False
        for key, given in (("name", name), ("namespace", namespace)):
            if not isinstance(given, str) or not given:
                issues.append(EntryIssue(f"{path}.{key}", _("is required")))
                missing = True
        if missing:
            return
        if not self._check_same_workspace(f"{path}.namespace", namespace, workspace, issues):
            return
        service = self.tenancy.services.get((namespace, name))
        if service is None:
            issues.append(EntryIssue(f"{path}.name", _("Service {service} does not exist",
                                                       service=f"{namespace}/{name}")))
            return
        try:
            selector = service_selector(service)
        except TenancyInputError as exc:
            issues.append(EntryIssue(f"{path}.name", str(exc)))
            return
        if not selector:
            issues.append(EntryIssue(f"{path}.name", _(
                "Service {service} has no pod selector, so its pods cannot be allowed",
                service=f"{namespace}/{name}")))

    def _check_same_workspace(self, path: str, namespace: str, workspace: str | None,
                              issues: list[EntryIssue]) -> bool:
        project = self.tenancy.projects.get(namespace)
        if project is None:
            issues.append(EntryIssue(path, _("project {namespace} does not exist",
                                             namespace=namespace)))
            return False
        if workspace is not None and project.workspace != workspace:
            if project.workspace:
                message = _("project {namespace} belongs to workspace {other}; internal "
                            "allowlist entries may only name projects of workspace {workspace}",
                            namespace=namespace, other=project.workspace, workspace=workspace)
            else:
                message = _("project {namespace} belongs to no workspace; internal allowlist "
                            "entries may only name projects of workspace {workspace}",
                            namespace=namespace, workspace=workspace)
            issues.append(EntryIssue(path, message))
            return False
        return True


def service_selector(service: dict[str, Any]) -> dict[str, str]:
    """The Service's `spec.selector` (string map; {} when absent)."""
    return string_map(service, "spec.selector")


def check_ip_block(path: str, block: dict[str, Any]) -> list[EntryIssue]:
    """CIDR must parse (IPv4 or IPv6); each `except` must parse, share its family and lie
    strictly inside the CIDR."""
    issues: list[EntryIssue] = []
    for key in block:
        if key not in ("cidr", "except"):
            issues.append(EntryIssue(f"{path}.{key}", _("unknown field")))
    cidr = block.get("cidr")
    if not isinstance(cidr, str) or not cidr:
        return [*issues, EntryIssue(f"{path}.cidr", _("is required"))]
    network = parse_cidr(cidr)
    if network is None:
        return [*issues, EntryIssue(f"{path}.cidr", _(
            "{cidr} is not a valid CIDR (for example 10.0.0.0/16 or 2001:db8::/64)",
            cidr=repr(cidr)))]
    excepts = block.get("except")
    if excepts is None:
        return issues
    if not isinstance(excepts, list):
        return [*issues, EntryIssue(f"{path}.except", _("must be a list of CIDRs"))]
    for index, value in enumerate(excepts):
        where = f"{path}.except[{index}]"
        inner = parse_cidr(value) if isinstance(value, str) else None
        if inner is None:
            issues.append(EntryIssue(where, _("{cidr} is not a valid CIDR", cidr=repr(value))))
        elif (inner.version != network.version or not inner.subnet_of(network)  # type: ignore[arg-type]
              or inner.prefixlen <= network.prefixlen):
            issues.append(EntryIssue(where, _("{cidr} must be strictly inside {outer}",
                                              cidr=value, outer=cidr)))
    return issues


def parse_cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network of a CIDR string (host bits masked), or None; bare addresses are refused."""
    if "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def check_port(path: str, port: Any) -> list[EntryIssue]:
    """A NetworkPolicyPort: protocol TCP/UDP/SCTP, port 1-65535 or a port name, endPort
    only with a numeric port and not below it."""
    if not isinstance(port, dict):
        return [EntryIssue(path, _("must be a mapping with protocol and port"))]
    issues: list[EntryIssue] = []
    for key in port:
        if key not in ("protocol", "port", "endPort"):
            issues.append(EntryIssue(f"{path}.{key}", _("unknown field")))
    protocol = port.get("protocol", "TCP")
    if protocol not in PROTOCOLS:
        issues.append(EntryIssue(f"{path}.protocol", _(
            "{protocol} is not supported: use TCP, UDP or SCTP", protocol=repr(protocol))))
    number = port.get("port")
    numeric = _is_int(number)
    if number is not None:
        if numeric:
            if not 1 <= number <= 65535:
                issues.append(EntryIssue(f"{path}.port", _("{port} is not between 1 and 65535",
                                                           port=number)))
        elif not (isinstance(number, str) and is_port_name(number)):
            issues.append(EntryIssue(f"{path}.port", _(
                "{port} must be a number between 1 and 65535 or a port name",
                port=repr(number))))
    end = port.get("endPort")
    if end is not None:
        if not _is_int(end) or not 1 <= end <= 65535:
            issues.append(EntryIssue(f"{path}.endPort", _("{port} is not between 1 and 65535",
                                                          port=repr(end))))
        elif not numeric:
            issues.append(EntryIssue(f"{path}.endPort",
                                     _("needs a numeric port to start the range")))
        elif end < number:
            issues.append(EntryIssue(f"{path}.endPort", _("{end} is below port {port}", end=end,
                                                          port=number)))
    return issues


def is_port_name(value: str) -> bool:
    """IANA service name rules, as Kubernetes applies them to named ports."""
    return (0 < len(value) <= 15 and bool(_PORT_NAME.match(value)) and "--" not in value
            and any(c.isalpha() for c in value))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- the objects and patches that record intent -------------------------------------------

def entry_object(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A NamespaceNetworkPolicy as the console writes it."""
    return {"apiVersion": NSNP_API_VERSION, "kind": NSNP_KIND,
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def workspace_isolation_patch(enabled: bool) -> dict[str, Any]:
    """Merge patch for a Workspace: `spec.networkIsolation` true/false."""
    return {"spec": {"networkIsolation": bool(enabled)}}


def project_isolation_patch(enabled: bool) -> dict[str, Any]:
    """Merge patch for a Namespace: sets the annotation to `enabled`, or removes it (any
    other value means off, so removal is the clearest off state)."""
    return {"metadata": {"annotations": {ISOLATE_ANNOTATION: ISOLATE_ENABLED if enabled
                                         else None}}}


def move_project_patch(workspace: str) -> dict[str, Any]:
    """Merge patch for a Namespace: membership of `workspace`."""
    return {"metadata": {"labels": {WORKSPACE_LABEL: workspace}}}


def validate_move(snapshot: Snapshot, namespace: str, workspace: str) -> list[EntryIssue]:
    """Problems that forbid moving project `namespace` into `workspace`."""
    tenancy = Tenancy.from_snapshot(snapshot)
    issues: list[EntryIssue] = []
    if namespace not in tenancy.projects:
        issues.append(EntryIssue("metadata.name", _("project {namespace} does not exist",
                                                    namespace=namespace)))
    if workspace not in tenancy.workspaces:
        issues.append(EntryIssue(f"metadata.labels.{WORKSPACE_LABEL}",
                                 _("workspace {workspace} does not exist", workspace=workspace)))
    return issues


def entries_invalidated_by_move(snapshot: Snapshot, namespace: str,
                                workspace: str) -> list[tuple[str, str]]:
    """Entries (namespace, name) that compile today but would not after the move, because
    they would name a project of another workspace. Shown to the user before the move."""
    before = Tenancy.from_snapshot(snapshot)
    after = Tenancy.from_snapshot(snapshot)
    project = after.projects.get(namespace)
    if project is None:
        return []
    after.projects[namespace] = Project(
        name=project.name, workspace=workspace,
        workspace_exists=workspace in after.workspaces,
        project_isolation=project.project_isolation,
        workspace_isolation=project.workspace_isolation, labels=project.labels)
    broken: list[tuple[str, str]] = []
    validator_before, validator_after = EntryValidator(before), EntryValidator(after)
    for entry_namespace, entries in sorted(before.entries.items()):
        for entry in entries:
            if not validator_before.validate(entry) and validator_after.validate(entry):
                broken.append((entry_namespace, entry["metadata"]["name"]))
    return broken


def namespaces_affected_by_move(snapshot: Snapshot, namespace: str) -> set[str]:
    """The namespaces to reconcile after moving `namespace` to another workspace: itself and
    every project whose entries name it (they may become valid or invalid)."""
    affected = {namespace}
    for entry_namespace, entries in Tenancy.from_snapshot(snapshot).entries.items():
        for entry in entries:
            if namespace in entry_peer_namespaces(entry.get("spec")):
                affected.add(entry_namespace)
    return affected


def entry_peer_namespaces(spec: Any) -> set[str]:
    """Namespaces an entry spec names (project and Service peers); empty for a spec of the
    wrong shape."""
    names: set[str] = set()
    if not isinstance(spec, dict):
        return names
    for direction, key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        for rule in rules if isinstance(rules, list) else []:
            peers = rule.get(key) if isinstance(rule, dict) else None
            for peer in peers if isinstance(peers, list) else []:
                if not isinstance(peer, dict):
                    continue
                for kind, field_name in (("namespace", "name"), ("service", "namespace")):
                    ref = peer.get(kind)
                    if isinstance(ref, dict) and isinstance(ref.get(field_name), str):
                        names.add(ref[field_name])
    return names
