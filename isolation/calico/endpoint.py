"""Endpoints as Calico's selectors see them: a pod with its labels, its namespace's labels and
its service account, or an outside address.

Calico adds labels of its own to every workload endpoint (`projectcalico.org/namespace`,
`projectcalico.org/orchestrator`, `projectcalico.org/serviceaccount`, the namespace's labels
as `pcns.<key>` and the service account's as `pcsa.<key>`) and `projectcalico.org/name` to
every namespace, so selectors may use them
(https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#selectors).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Labels = tuple[tuple[str, str], ...]

# Labels Calico adds to every workload endpoint, and to every namespace's profile.
NAMESPACE_LABEL = "projectcalico.org/namespace"
ORCHESTRATOR_LABEL = "projectcalico.org/orchestrator"
SERVICE_ACCOUNT_LABEL = "projectcalico.org/serviceaccount"
NAMESPACE_NAME_LABEL = "projectcalico.org/name"
NAMESPACE_LABEL_PREFIX = "pcns."
SERVICE_ACCOUNT_LABEL_PREFIX = "pcsa."


def frozen_labels(labels: Mapping[str, str] | None) -> Labels:
    return tuple(sorted((labels or {}).items()))


@dataclass(frozen=True)
class Endpoint:
    """One end of a connection: a pod (namespace set) or an outside address (namespace None).

    `named_ports` are the pod's named container ports as (name, number, protocol).
    """

    namespace: str | None = None
    labels: Labels = ()
    namespace_labels: Labels = ()
    service_account: str | None = None
    service_account_labels: Labels = ()
    ip: IPAddress | None = None
    named_ports: tuple[tuple[str, int, str], ...] = ()
    # (IP version, IP as an integer), for fast `nets` checks
    ip_key: tuple[int, int] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.ip is not None:
            object.__setattr__(self, "ip_key", (self.ip.version, int(self.ip)))

    @classmethod
    def pod(cls, namespace: str, labels: Mapping[str, str] | None = None, *,
            namespace_labels: Mapping[str, str] | None = None,
            service_account: str | None = None,
            service_account_labels: Mapping[str, str] | None = None,
            ip: str | IPAddress | None = None,
            named_ports: tuple[tuple[str, int, str], ...] = ()) -> Endpoint:
        return cls(namespace, frozen_labels(labels), frozen_labels(namespace_labels), service_account,
                   frozen_labels(service_account_labels),
                   None if ip is None else ipaddress.ip_address(ip), tuple(named_ports))

    @classmethod
    def address(cls, ip: str | IPAddress) -> Endpoint:
        return cls(ip=ipaddress.ip_address(ip))

    @property
    def is_pod(self) -> bool:
        return self.namespace is not None

    @property
    def label_class(self) -> tuple:
        """Everything label criteria look at: endpoints of one class match the same selectors."""
        return (self.namespace, self.labels, self.namespace_labels, self.service_account,
                self.service_account_labels)

    def selector_labels(self) -> dict[str, str]:
        """The labels Calico selectors see on this endpoint (its own plus Calico's)."""
        labels = {f"{NAMESPACE_LABEL_PREFIX}{k}": v for k, v in self.namespace_labels_full()}
        labels.update({f"{SERVICE_ACCOUNT_LABEL_PREFIX}{k}": v
                       for k, v in self.service_account_labels})
        labels.update(self.labels)
        if self.namespace is not None:
            labels[NAMESPACE_LABEL] = self.namespace
            labels[ORCHESTRATOR_LABEL] = "k8s"
        if self.service_account:
            labels[SERVICE_ACCOUNT_LABEL] = self.service_account
        return labels

    def namespace_labels_full(self) -> Labels:
        """The namespace's labels plus `projectcalico.org/name` (what namespaceSelector sees)."""
        if self.namespace is None:
            return ()
        return (*self.namespace_labels, (NAMESPACE_NAME_LABEL, self.namespace))

    def resolve(self, name: str, protocol: str) -> frozenset[int]:
        """The port numbers named `name` for `protocol` on this endpoint."""
        return frozenset(n for port_name, n, p in self.named_ports
                         if port_name == name and p == protocol)
