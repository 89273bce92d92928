"""What Calico policies read of a matrix's classes: their labels as Calico's selectors see
them (the namespace's, the service account's), namespaces, service accounts, addresses and
port slots, as masks over the classes, computed once per distinct value and shared by every
tier of one matrix (`classes_of`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from isolation.calico import model as cm
from isolation.calico.endpoint import (
    NAMESPACE_LABEL,
    ORCHESTRATOR_LABEL,
    SERVICE_ACCOUNT_LABEL,
    SERVICE_ACCOUNT_LABEL_PREFIX,
)
from isolation.calico.endpoint import Endpoint as CalicoEndpoint
from isolation.calico.selector import Node
from isolation.netpol.model import IPBlock, NamedPorts
from isolation.reachability.layers import ClassInputs, ClassSpace

ALL_V4 = ipaddress.ip_network("0.0.0.0/0")
ALL_V6 = ipaddress.ip_network("::/0")


def class_inputs(policies: list[cm.CalicoPolicy]) -> ClassInputs:
    """What the selectors, nets and IP versions of `policies` read (the Kubernetes policies
    among them are read by the matrix builder itself)."""
    pod_keys: set[str] = set()
    blocks: dict[IPBlock, None] = {}
    for policy in policies:
        if policy.kind == cm.KUBERNETES_NETWORK_POLICY:
            continue
        pod_keys |= policy.selector.keys()
        for rule in (*policy.ingress, *policy.egress):
            for entity in (rule.source, rule.destination):
                for node in (entity.selector, entity.not_selector):
                    if node is not None:
                        pod_keys |= node.keys()
                for network in (*entity.nets, *entity.not_nets):
                    blocks.setdefault(IPBlock(network), None)
            if rule.ip_version is not None:
                blocks.setdefault(IPBlock(ALL_V4), None)
                blocks.setdefault(IPBlock(ALL_V6), None)
    return ClassInputs(frozenset(pod_keys), frozenset(), tuple(blocks))


def reads_service_accounts(policy: cm.CalicoPolicy) -> bool:
    """Whether `policy` looks at its endpoints' service accounts: by `serviceAccountSelector`,
    a rule's `serviceAccounts`, or a selector over the labels Calico derives from them."""
    if policy.kind == cm.KUBERNETES_NETWORK_POLICY:
        return False
    if policy.service_account_selector is not None or _account_keys(policy.selector):
        return True
    return any(entity.service_account_names is not None
               or entity.service_account_selector is not None
               or _account_keys(entity.selector) or _account_keys(entity.not_selector)
               for rule in (*policy.ingress, *policy.egress)
               for entity in (rule.source, rule.destination))


def _account_keys(node: Node | None) -> bool:
    keys = () if node is None else node.keys()
    return any(key == SERVICE_ACCOUNT_LABEL or key.startswith(SERVICE_ACCOUNT_LABEL_PREFIX)
               for key in keys)


def classes_of(space: ClassSpace) -> CalicoClasses:
    """The label criteria over `space`'s classes, shared by every tier of one matrix."""
    cache = getattr(space, "layer_cache", None)
    if cache is None:
        return CalicoClasses(space)
    found = cache.get(CalicoClasses)
    if found is None:
        found = cache[CalicoClasses] = CalicoClasses(space)
    return found


def distinct(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a position holding each distinct value of a non-negative integer array, the number
    of each position's value among them)."""
    top = int(code.max(initial=0))
    if top >= 4 * len(code) + 1024:
        _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    holder = np.zeros(top + 1, dtype=np.int64)
    holder[code] = np.arange(len(code))  # some position of each value
    present = np.zeros(top + 1, dtype=bool)
    present[code] = True
    number = np.cumsum(present) - 1
    return holder[present], number[code]



@dataclass(frozen=True)
class _RulePorts:
    """A Calico rule's protocol and destination ports as a `ClassSpace.port_bits` matcher;
    rules with the same protocol and ports are equal, so they share their bits."""

    protocol: str | None
    not_protocol: str | None
    ports: tuple[cm.PortMatch, ...]
    not_ports: tuple[cm.PortMatch, ...]
    uses_names: bool = field(default=False, compare=False)

    @classmethod
    def of(cls, rule: cm.Rule) -> _RulePorts:
        destination = rule.destination
        ports, not_ports = tuple(destination.ports), tuple(destination.not_ports)
        return cls(rule.protocol, rule.not_protocol, ports, not_ports,
                   any(p.name is not None for p in (*ports, *not_ports)))

    def matches(self, port: int, protocol: str, named: NamedPorts | None) -> bool:
        if self.protocol is not None and self.protocol != protocol:
            return False
        if self.not_protocol is not None and self.not_protocol == protocol:
            return False
        if not (self.ports or self.not_ports):
            return True
        if protocol not in cm.PORT_PROTOCOLS:
            return False
        owner = _NamedPorts(named or {}) if self.uses_names else None
        if self.ports and not any(p.matches(port, protocol, owner) for p in self.ports):
            return False
        return not any(p.matches(port, protocol, owner) for p in self.not_ports)


class _NamedPorts:
    """A destination's named ports, answering `Endpoint.resolve` for `PortMatch`."""

    def __init__(self, named: NamedPorts) -> None:
        self.named = named

    def resolve(self, name: str, protocol: str) -> frozenset[int]:
        return frozenset(n for n, p in self.named.get(name, ()) if p == protocol)


class CalicoClasses:
    """Label criteria of Calico policies over the classes of one matrix, computed once per
    distinct combination of the label values a selector reads."""

    def __init__(self, space: ClassSpace) -> None:
        self.space = space
        # Labels are read per distinct label row and per namespace, not per class: classes
        # only combine the two (see `_column`).
        cls_row, rows, cls_ns, names, labels_of = space.label_table()
        self.is_pod = cls_ns >= 0
        self._cls_row = cls_row
        self._cls_ns = np.where(self.is_pod, cls_ns, len(names))  # the last entry: no namespace
        self.namespaces = np.array([*names, ""], dtype=object)[self._cls_ns]
        self._row_labels = rows
        namespaces = [CalicoEndpoint.pod(name, namespace_labels=labels)
                      for name, labels in zip(names, labels_of, strict=True)]
        # what a pod's selector labels take from its namespace, and the namespace's own
        self._ns_selector_labels = [e.selector_labels() for e in namespaces] + [{}]
        self._ns_labels = [dict(e.namespace_labels_full()) for e in namespaces] + [{}]
        self.port_group = np.zeros(space.classes, dtype=np.int64)
        for number, members in enumerate(space.port_groups):
            self.port_group[members] = number
        # Service accounts (name, labels) by number, and each class's number: len(accounts)
        # for none (addresses, nodes, or a matrix whose policies read no service account).
        per_class = getattr(space, "cls_service_account", None)
        ids: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        numbers = [-1 if a is None else ids.setdefault(a, len(ids)) for a in per_class or ()]
        self._accounts = list(ids)
        self._cls_account = (np.array(numbers, dtype=np.int64) if per_class is not None
                             else np.full(space.classes, -1, dtype=np.int64))
        self._cls_account[self._cls_account < 0] = len(self._accounts)
        self._account_masks: dict[Any, np.ndarray] = {}
        self._values: dict[tuple[str, str], tuple[np.ndarray, list[str | None]]] = {}
        self._nodes: dict[tuple[Node, str], np.ndarray] = {}
        self._entities: dict[tuple[cm.EntityMatch, int | None], np.ndarray] = {}
        self._entity_of: dict[tuple[int, int | None], np.ndarray] = {}  # by id() of the match
        self._selects: dict[int, np.ndarray] = {}
        self._rule_ports: dict[int, np.ndarray | None] = {}  # by id() of a rule
        self._ns_number = {name: k for k, name in enumerate(names)}
        self._in_namespace: dict[str, np.ndarray] = {}

    def _column(self, key: str, on: str) -> tuple[np.ndarray, list[str | None]]:
        """Per class, the number of its value of label `key` (`on` "pod": as Calico selectors
        see the pod, "namespace": the namespace's), and the values by number (None: absent)."""
        found = self._values.get((key, on))
        if found is None:
            ids: dict[str | None, int] = {}
            by_namespace = np.array(
                [ids.setdefault(labels.get(key), len(ids)) for labels in
                 (self._ns_selector_labels if on == "pod" else self._ns_labels)], dtype=np.int64)
            column = by_namespace[self._cls_ns]
            # Precedence as in `Endpoint.selector_labels`: the namespace's `pcns.` labels, the
            # service account's `pcsa.` ones, the pod's own, then Calico's fixed labels.
            if on == "pod" and key.startswith(SERVICE_ACCOUNT_LABEL_PREFIX):
                name = key.removeprefix(SERVICE_ACCOUNT_LABEL_PREFIX)
                column = self._over(column, ids, [dict(labels).get(name)
                                                  for _, labels in self._accounts],
                                    self._cls_account)
            if on == "pod" and key not in (NAMESPACE_LABEL, ORCHESTRATOR_LABEL,
                                           SERVICE_ACCOUNT_LABEL):
                # the pod's own label, when it has one, hides the namespace's `pcns.` one
                column = self._over(column, ids, [labels.get(key) for labels in self._row_labels],
                                    self._cls_row)
            if on == "pod" and key == SERVICE_ACCOUNT_LABEL:
                column = self._over(column, ids, [name for name, _ in self._accounts],
                                    self._cls_account)
            found = self._values[(key, on)] = (column, list(ids))
        return found

    @staticmethod
    def _over(column: np.ndarray, ids: dict[str | None, int], values: list[str | None],
              number: np.ndarray) -> np.ndarray:
        """`column` with the value `values[number[c]]` of each class c that has one (a number
        past the end of `values`: none)."""
        by_number = np.array([ids.setdefault(v, len(ids)) for v in values] + [0], dtype=np.int64)
        present = np.array([v is not None for v in values] + [False], dtype=bool)
        return np.where(present[number], by_number[number], column)

    def accounts(self, test: Any, key: Any) -> np.ndarray:
        """Pod classes whose service account (name, labels) passes `test`, cached by `key`."""
        mask = self._account_masks.get(key)
        if mask is None:
            answers = np.array([bool(test(name, dict(labels))) for name, labels in self._accounts]
                               + [False], dtype=bool)
            mask = self._account_masks[key] = answers[self._cls_account] & self.is_pod
        return mask

    def account_selector(self, node: Node) -> np.ndarray:
        """Pod classes whose ServiceAccount's labels `node` matches (`serviceAccountSelector`,
        `serviceAccounts.selector`; see `CalicoPolicy.selects`)."""
        return self.accounts(lambda name, labels: name and node.matches(labels), ("selector", node))

    def account_names(self, names: frozenset[str]) -> np.ndarray:
        """Pod classes running as one of `names` (`serviceAccounts.names`)."""
        return self.accounts(lambda name, _labels: name in names, ("names", names))

    def node(self, node: Node, on: str = "pod") -> np.ndarray:
        """Pod classes whose labels (`on` "pod": as Calico selectors see them; "namespace": the
        namespace's) `node` matches."""
        mask = self._nodes.get((node, on))
        if mask is not None:
            return mask
        keys = sorted(node.keys())
        if not keys:
            mask = self.is_pod & node.matches({})
        else:
            columns = [self._column(key, on) for key in keys]
            code = columns[0][0]
            for column, values in columns[1:]:
                code = code * len(values) + column
            first, inverse = distinct(code)
            answers = np.array([node.matches({
                key: values[int(column[row])] for key, (column, values) in zip(keys, columns,
                                                                              strict=True)
                if values[int(column[row])] is not None}) for row in first], dtype=bool)
            mask = answers[inverse] & self.is_pod
        self._nodes[(node, on)] = mask
        return mask

    def in_namespace(self, name: str) -> np.ndarray:
        """Pod classes of namespace `name`."""
        mask = self._in_namespace.get(name)
        if mask is None:
            number = self._ns_number.get(name)
            mask = self._in_namespace[name] = (
                self._cls_ns == number if number is not None else self.namespaces == name)
        return mask

    def rule_ports(self, rule: cm.Rule) -> np.ndarray | None:
        """The slots of each destination class a rule's protocol and ports admit (None when
        they admit no slot of any class)."""
        key = id(rule)
        if key not in self._rule_ports:
            bits = self.space.port_bits((_RulePorts.of(rule),))
            self._rule_ports[key] = bits if bits.any() else None
        return self._rule_ports[key]

    def selects(self, policy: cm.CalicoPolicy) -> np.ndarray:
        """Pod classes `policy` applies to (see `CalicoPolicy.selects`)."""
        mask = self._selects.get(id(policy))
        if mask is None:
            mask = self.node(policy.selector)
            if policy.namespace is not None:
                mask = mask & self.in_namespace(policy.namespace)
            if policy.namespace_selector is not None:
                mask = mask & self.node(policy.namespace_selector, "namespace")
            if policy.service_account_selector is not None:
                mask = mask & self.account_selector(policy.service_account_selector)
            self._selects[id(policy)] = mask
        return mask

    def entity(self, entity: cm.EntityMatch, rule: cm.Rule) -> np.ndarray:
        """Classes a rule's `source` or `destination` matches (labels, then addresses)."""
        fast = (id(entity), rule.ip_version)
        mask = self._entity_of.get(fast)
        if mask is not None:
            return mask
        key = (entity, rule.ip_version)
        mask = self._entities.get(key)
        if mask is not None:
            self._entity_of[fast] = mask
            return mask
        if entity.needs_endpoint:
            mask = self.is_pod.copy()
            if entity.namespace is not None:
                mask &= self.in_namespace(entity.namespace)
            if entity.namespace_selector is not None:
                mask &= self.node(entity.namespace_selector, "namespace")
            if entity.selector is not None:
                mask &= self.node(entity.selector)
            # the namespace limit above keeps `names` to the policy's namespace
            if entity.service_account_names is not None:
                mask &= self.account_names(entity.service_account_names)
            if entity.service_account_selector is not None:
                mask &= self.account_selector(entity.service_account_selector)
        else:
            mask = np.ones(self.space.classes, dtype=bool)
        if entity.not_selector is not None:
            mask &= ~self.node(entity.not_selector)
        if entity.nets:
            inside = np.zeros(self.space.classes, dtype=bool)
            for network in entity.nets:
                inside |= self.space.in_block(IPBlock(network))
            mask &= inside
        for network in entity.not_nets:
            mask &= ~self.space.in_block(IPBlock(network))
        if rule.ip_version is not None:
            other = ALL_V6 if rule.ip_version == 4 else ALL_V4
            mask &= ~self.space.in_block(IPBlock(other))
        self._entities[key] = self._entity_of[fast] = mask
        return mask

