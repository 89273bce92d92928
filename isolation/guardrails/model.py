"""Connectivity expectations: the documents, parsed and validated.

A `ConnectivityExpectation` (namespaced) or `ClusterConnectivityExpectation` (cluster-scoped) of
apiVersion `isolation.tenant-console.io/v1alpha1` says that every connection `from` → `to` on
`ports` is `Allowed`, or that every one is `Denied`. Peers:

- `{namespace: N}` every pod of N; `{namespace: N, podSelector: S}` those matching S;
- `{namespaceSelector: NS, podSelector: S}` across namespaces (both `{}`: any pod); in a
  namespaced expectation `{podSelector: S}` alone means the expectation's own namespace;
- `{cidr: 203.0.113.0/24}` an address outside the cluster (one representative address of it);
- `to` only: `{service: NS/NAME}` the pods the Service selects, on its target ports.

`ports` omitted: every declared container port of the destination pods (a Service's target
ports). Problems are `FieldIssue`s with paths such as `spec.from.podSelector.matchLabels`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from isolation import fielderrors as fe
from isolation.fielderrors import FieldIssue
from isolation.netpol.selectors import Selector
from isolation.netpol.validation import validate_label_selector
from isolation.text import gettext as _

API_VERSION = "isolation.tenant-console.io/v1alpha1"
NAMESPACED_KIND = "ConnectivityExpectation"
CLUSTER_KIND = "ClusterConnectivityExpectation"
KINDS = (NAMESPACED_KIND, CLUSTER_KIND)
ALLOWED = "Allowed"
DENIED = "Denied"
VERDICTS = (ALLOWED, DENIED)
PROTOCOLS = ("TCP", "UDP", "SCTP")
_PEER_KEYS = ("namespace", "namespaceSelector", "podSelector", "cidr", "service")
_SPEC_KEYS = ("from", "to", "ports", "expect", "description")


@dataclass(frozen=True)
class PeerSpec:
    """One end of an expectation. Exactly one shape is set:

    pods: `namespace` (a name) or `namespace_selector`, with `pod_selector` (empty = every pod);
    `cidr` (with `address`, its representative); `service` ("NS/NAME", `to` only).
    """

    namespace: str | None = None
    namespace_selector: Selector | None = None
    pod_selector: Selector = Selector()
    cidr: str | None = None
    address: str | None = None
    service: str | None = None

    @property
    def is_pods(self) -> bool:
        return self.cidr is None and self.service is None

    def describe(self) -> str:
        if self.cidr is not None:
            return self.cidr
        if self.service is not None:
            return _("service {service}", service=self.service)
        pods = (_("pods") if self.pod_selector.is_empty
                else _("pods with {selector}", selector=self.pod_selector.describe()))
        if self.namespace is not None:
            return _("{pods} of namespace {namespace}", pods=pods, namespace=self.namespace)
        assert self.namespace_selector is not None
        if self.namespace_selector.is_empty:
            if self.pod_selector.is_empty:
                return _("any pod in any namespace")
            return _("{pods} in any namespace", pods=pods)
        which = self.namespace_selector.describe()
        if which.startswith("has "):
            return _("{pods} in namespaces that have {keys}", pods=pods, keys=which[4:])
        return _("{pods} in namespaces with {selector}", pods=pods, selector=which)


@dataclass(frozen=True)
class PortSpec:
    port: int | str  # a number, or a port name resolved on each destination pod
    protocol: str = "TCP"


@dataclass(frozen=True)
class Expectation:
    """A parsed, valid expectation; `name` is `ns/name`, or `name` when cluster-scoped."""

    name: str
    kind: str
    namespace: str | None
    source: PeerSpec
    destination: PeerSpec
    ports: tuple[PortSpec, ...] | None
    expect: str
    description: str = ""

    @property
    def cluster_scoped(self) -> bool:
        return self.kind == CLUSTER_KIND


class ExpectationError(ValueError):
    """An expectation document that is invalid; `issues` name the fields."""

    def __init__(self, name: str, issues: list[FieldIssue]) -> None:
        self.name = name
        self.issues = issues
        more = f" (and {len(issues) - 1} more problem(s))" if len(issues) > 1 else ""
        super().__init__(f"{name}: {issues[0]}{more}")


def is_expectation(obj: Any) -> bool:
    """Whether `obj` is a document of one of the two expectation kinds (any apiVersion)."""
    return isinstance(obj, dict) and obj.get("kind") in KINDS


def expectation_name(obj: dict[str, Any]) -> str:
    """`ns/name` of a namespaced expectation, `name` of a cluster-scoped one."""
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = str(metadata.get("name") or "")
    namespace = metadata.get("namespace")
    if obj.get("kind") == NAMESPACED_KIND:
        return f"{namespace or 'default'}/{name}"
    return name


def validate_expectation(obj: Any) -> list[FieldIssue]:
    """Every problem of an expectation document, as the API server (with our schema and
    checks) would name them; empty when `parse_expectation` will accept it."""
    if not isinstance(obj, dict):
        return [fe.type_invalid("", obj, "object")]
    issues: list[FieldIssue] = []
    if obj.get("apiVersion") != API_VERSION:
        issues.append(fe.not_supported("apiVersion", obj.get("apiVersion"), [API_VERSION]))
    kind = obj.get("kind")
    if kind not in KINDS:
        issues.append(fe.not_supported("kind", kind, list(KINDS)))
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        issues.append(fe.required("metadata.name"))
        metadata = {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        issues.append(fe.required("metadata.name"))
    namespace = metadata.get("namespace")
    if kind == CLUSTER_KIND and namespace:
        issues.append(fe.forbidden("metadata.namespace",
                                   "a ClusterConnectivityExpectation is cluster-scoped"))
    if namespace is not None and not isinstance(namespace, str):
        issues.append(fe.type_invalid("metadata.namespace", namespace, "string"))
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        issues.append(fe.required("spec") if spec is None else
                      fe.type_invalid("spec", spec, "object"))
        return issues
    for key in spec:
        if key not in _SPEC_KEYS:
            issues.append(fe.FieldIssue(field=f"spec.{key}", message=f'unknown field "spec.{key}"',
                                        reason=fe.UNKNOWN_FIELD,
                                        detail=f"not a field of {kind or 'an expectation'}"))
    namespaced = kind == NAMESPACED_KIND
    issues += _validate_peer(spec.get("from"), "spec.from", namespaced, destination=False)
    issues += _validate_peer(spec.get("to"), "spec.to", namespaced, destination=True)
    issues += _validate_ports(spec.get("ports"))
    expect = spec.get("expect")
    if expect is None:
        issues.append(fe.required("spec.expect", "Allowed or Denied"))
    elif expect not in VERDICTS:
        issues.append(fe.not_supported("spec.expect", expect, list(VERDICTS)))
    if spec.get("description") is not None and not isinstance(spec["description"], str):
        issues.append(fe.type_invalid("spec.description", spec["description"], "string"))
    return issues


def _validate_peer(peer: Any, at: str, namespaced: bool, destination: bool) -> list[FieldIssue]:
    if peer is None:
        return [fe.required(at)]
    if not isinstance(peer, dict):
        return [fe.type_invalid(at, peer, "object")]
    issues = []
    for key in peer:
        if key not in _PEER_KEYS:
            issues.append(fe.FieldIssue(field=f"{at}.{key}", message=f'unknown field "{at}.{key}"',
                                        reason=fe.UNKNOWN_FIELD,
                                        detail=f"a peer has {', '.join(_PEER_KEYS)}"))
    if issues:
        return issues
    if not peer:
        return [fe.required(at, "one of namespace, namespaceSelector, podSelector, cidr"
                                + (", service" if destination else ""))]
    if "cidr" in peer:
        if len(peer) > 1:
            return [fe.forbidden(at, "cidr may not be combined with other fields")]
        return _validate_cidr(peer["cidr"], f"{at}.cidr")
    if "service" in peer:
        if not destination:
            return [fe.forbidden(f"{at}.service", "a Service can only be a destination (spec.to)")]
        if len(peer) > 1:
            return [fe.forbidden(at, "service may not be combined with other fields")]
        service = peer["service"]
        if not isinstance(service, str) or service.count("/") != 1 or not all(service.split("/")):
            return [fe.invalid(f"{at}.service", service, "must be NAMESPACE/NAME")]
        return []
    if "namespace" in peer and "namespaceSelector" in peer:
        return [fe.forbidden(at, "namespace and namespaceSelector may not both be set")]
    if "namespace" in peer:
        value = peer["namespace"]
        if not isinstance(value, str) or not value:
            issues.append(fe.invalid(f"{at}.namespace", value, "must be a namespace name"))
    elif "namespaceSelector" not in peer and not namespaced:
        issues.append(fe.required(f"{at}.namespace", "a cluster-scoped expectation names the "
                                  "namespace or gives a namespaceSelector"))
    for key in ("namespaceSelector", "podSelector"):
        if key in peer:
            issues += _validate_selector(peer[key], f"{at}.{key}")
    return issues


def _validate_selector(selector: Any, at: str) -> list[FieldIssue]:
    if selector is None:
        return []
    if not isinstance(selector, dict):
        return [fe.type_invalid(at, selector, "object")]
    issues = []
    for key in selector:
        if key not in ("matchLabels", "matchExpressions"):
            issues.append(fe.FieldIssue(field=f"{at}.{key}", message=f'unknown field "{at}.{key}"',
                                        reason=fe.UNKNOWN_FIELD, detail="not a LabelSelector field"))
    labels = selector.get("matchLabels")
    if labels is not None and not isinstance(labels, dict):
        issues.append(fe.type_invalid(f"{at}.matchLabels", labels, "object"))
    expressions = selector.get("matchExpressions")
    if expressions is not None and not (isinstance(expressions, list)
                                        and all(isinstance(e, dict) for e in expressions)):
        issues.append(fe.type_invalid(f"{at}.matchExpressions", expressions, "array of objects"))
    if issues:
        return issues
    if labels and not all(isinstance(v, str) for v in labels.values()):
        key = next(k for k, v in labels.items() if not isinstance(v, str))
        return [fe.type_invalid(f"{at}.matchLabels.{key}", labels[key], "string")]
    return validate_label_selector(selector, at)


def _validate_cidr(value: Any, at: str) -> list[FieldIssue]:
    if not isinstance(value, str) or "/" not in value:
        return [fe.invalid(at, value, "must be a CIDR such as 203.0.113.0/24")]
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return [fe.invalid(at, value, "must be a CIDR such as 203.0.113.0/24")]
    return []


def _validate_ports(ports: Any) -> list[FieldIssue]:
    if ports is None:
        return []
    if not isinstance(ports, list):
        return [fe.type_invalid("spec.ports", ports, "array")]
    if not ports:
        return [fe.required("spec.ports", "omit ports for every declared port, or list some")]
    issues = []
    for index, port in enumerate(ports):
        at = f"spec.ports[{index}]"
        if not isinstance(port, dict):
            issues.append(fe.type_invalid(at, port, "object"))
            continue
        for key in port:
            if key not in ("port", "protocol"):
                issues.append(fe.FieldIssue(field=f"{at}.{key}", message=f'unknown field "{at}.{key}"',
                                            reason=fe.UNKNOWN_FIELD, detail="a port has port, protocol"))
        number = port.get("port")
        if number is None:
            issues.append(fe.required(f"{at}.port"))
        elif isinstance(number, bool) or not isinstance(number, int | str):
            issues.append(fe.type_invalid(f"{at}.port", number, "integer or string"))
        elif isinstance(number, int) and not 1 <= number <= 65535:
            issues.append(fe.invalid(f"{at}.port", number, "must be between 1 and 65535, inclusive"))
        elif isinstance(number, str) and not number:
            issues.append(fe.invalid(f"{at}.port", number, "must be a number or a port name"))
        protocol = port.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            issues.append(fe.not_supported(f"{at}.protocol", protocol, list(PROTOCOLS)))
    return issues


def parse_expectation(obj: Any) -> Expectation:
    """The Expectation of a document; ExpectationError naming every problem otherwise."""
    issues = validate_expectation(obj)
    if issues:
        name = expectation_name(obj) if isinstance(obj, dict) else "expectation"
        raise ExpectationError(f"{obj.get('kind') if isinstance(obj, dict) else 'object'} "
                               f"{name or '(unnamed)'}", issues)
    metadata = obj["metadata"]
    kind = obj["kind"]
    namespace = (metadata.get("namespace") or "default") if kind == NAMESPACED_KIND else None
    spec = obj["spec"]
    ports = None
    if spec.get("ports") is not None:
        ports = tuple(PortSpec(_port_value(p["port"]), p.get("protocol", "TCP"))
                      for p in spec["ports"])
    return Expectation(name=expectation_name(obj), kind=kind, namespace=namespace,
                       source=_peer(spec["from"], namespace), destination=_peer(spec["to"], namespace),
                       ports=ports, expect=spec["expect"], description=spec.get("description") or "")


def _port_value(value: int | str) -> int | str:
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _peer(peer: dict[str, Any], own_namespace: str | None) -> PeerSpec:
    if "cidr" in peer:
        return PeerSpec(cidr=peer["cidr"], address=representative_address(peer["cidr"]))
    if "service" in peer:
        return PeerSpec(service=peer["service"])
    pods = Selector.parse(peer.get("podSelector"))
    if "namespace" in peer:
        return PeerSpec(namespace=peer["namespace"], pod_selector=pods)
    if "namespaceSelector" in peer:
        return PeerSpec(namespace_selector=Selector.parse(peer["namespaceSelector"]),
                        pod_selector=pods)
    return PeerSpec(namespace=own_namespace, pod_selector=pods)


def representative_address(cidr: str) -> str:
    """The address of `cidr` evaluated for it: its first host (the address of a /32 or /128)."""
    network = ipaddress.ip_network(cidr, strict=False)
    if network.num_addresses <= 2:
        return str(network.network_address)
    return str(next(network.hosts()))


def peer_namespaces(peer: PeerSpec, namespace_labels: dict[str, dict[str, str]]) -> set[str]:
    """The namespaces of `namespace_labels` (name → labels) that `peer` can name pods of:
    its namespace, those its namespaceSelector matches, a Service's namespace; none for a CIDR.
    What the console uses to decide which tenants an expectation involves."""
    if peer.cidr is not None:
        return set()
    if peer.service is not None:
        return {peer.service.split("/", 1)[0]}
    if peer.namespace is not None:
        return {peer.namespace}
    assert peer.namespace_selector is not None
    return {name for name, labels in namespace_labels.items()
            if peer.namespace_selector.matches(labels)}


def involved_namespaces(expectation: Expectation,
                        namespace_labels: dict[str, dict[str, str]]) -> set[str]:
    """Every namespace either end of `expectation` can name (see `peer_namespaces`)."""
    return (peer_namespaces(expectation.source, namespace_labels)
            | peer_namespaces(expectation.destination, namespace_labels))
