"""Building the reachability matrix: equivalence classes, selector masks, two bitset passes.

Endpoints that no policy can tell apart (same namespace, same values for every label key any
selector mentions, same named ports, same port slots, inside the same ipBlocks) form one class.
Selectors are evaluated once over all classes with numpy; each rule contributes "these peers ×
these port slots" to its policy's selected classes; egress is accumulated by source rows and
ingress by destination rows (then transposed), and the matrix is their AND.

With policy layers besides the NetworkPolicies (`isolation.reachability.layers`), each
direction is decided layer by layer: a layer's ALLOW / DENY bits settle the cells still open,
and cells no layer settles are allowed. A cluster with NetworkPolicies only takes the direct
path above.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Hashable, Sequence

import numpy as np

from isolation.netpol.model import EGRESS, INGRESS, IPBlock, Peer, Policy, PortSpec
from isolation.netpol.selectors import LabelIndex, Selector
from isolation.reachability.inventory import NODE_KIND, ClusterView, Endpoint
from isolation.reachability.layers import ClassBlock, ClassInputs, PolicyLayer
from isolation.reachability.matrix import Matrix, Slot, full_masks, word_dtype
from isolation.reachability.netpol_layer import NetworkPolicyLayer


def build_matrix(cluster: ClusterView, sources: Sequence[Endpoint], destinations: Sequence[Endpoint],
                 slots: Sequence[tuple[Slot, ...]]) -> Matrix:
    """Evaluate every source × destination × slot of `cluster` (see `Matrix`)."""
    return _Builder(cluster, list(sources), list(destinations), list(slots)).build()


class _Builder:
    def __init__(self, cluster: ClusterView, sources: list[Endpoint], destinations: list[Endpoint],
                 slots: list[tuple[Slot, ...]]) -> None:
        self.cluster = cluster
        self.sources = sources
        self.destinations = destinations
        self.slots = slots
        self.policies: list[Policy] = cluster.policies
        self._peer_cache: dict[Hashable, np.ndarray] = {}
        self._port_cache: dict[tuple, np.ndarray] = {}
        # what the layers compute once per matrix and share (see calico_layer)
        self.layer_cache: dict = {}
        layers = getattr(cluster, "layers", None)
        # Only NetworkPolicies (or a view without layers): the direct path, no bookkeeping.
        direct = layers is None or (len(layers) == 1 and isinstance(layers[0], NetworkPolicyLayer))
        self.layers: list[PolicyLayer] | None = None if direct else list(layers)

    def build(self) -> Matrix:
        self._entities()
        self._classes()
        if self.layers is None:
            allowed = self._egress()
            allowed &= self._ingress_by_destination().transpose(1, 0, 2)
        else:
            allowed = self._layered(EGRESS)
            allowed &= self._layered(INGRESS).transpose(1, 0, 2)
        src_class = self.entity_class[[self.entity_of[e.name] for e in self.sources]]
        dst_class = self.entity_class[[self.entity_of[e.name] for e in self.destinations]]
        overrides = {}
        for i, source in enumerate(self.sources):
            if source.kind == NODE_KIND and source.node:
                on_node = np.array([d.is_pod and d.node == source.node for d in self.destinations],
                                   dtype=bool)
                if on_node.any():
                    overrides[i] = on_node
        return Matrix(self.sources, self.destinations, self.slots, src_class, dst_class,
                      allowed, overrides)

    # -- endpoints and classes ------------------------------------------------------------

    def _entities(self) -> None:
        """Unique endpoints; a destination's slots go with it (sources alone have none)."""
        self.entity_of: dict[str, int] = {}
        self.entities: list[Endpoint] = []
        self.entity_slots: list[tuple[Slot, ...]] = []
        for endpoint in self.sources:
            if endpoint.name not in self.entity_of:
                self.entity_of[endpoint.name] = len(self.entities)
                self.entities.append(endpoint)
                self.entity_slots.append(())
        for endpoint, slots in zip(self.destinations, self.slots, strict=True):
            if endpoint.name not in self.entity_of:
                self.entity_of[endpoint.name] = len(self.entities)
                self.entities.append(endpoint)
                self.entity_slots.append(())
            self.entity_slots[self.entity_of[endpoint.name]] = tuple(slots)

    def _selector_inputs(self) -> tuple[set[str], dict[IPBlock, int]]:
        """Label keys any pod selector reads, and every distinct ipBlock (of every layer)."""
        label_keys: set[str] = set()
        blocks: dict[IPBlock, int] = {}
        self.node_label_keys: set[str] = set()
        for layer in self.layers or ():
            inputs: ClassInputs = layer.class_inputs()
            label_keys |= inputs.pod_label_keys
            self.node_label_keys |= inputs.node_label_keys
            for block in inputs.blocks:
                blocks.setdefault(block, len(blocks))
        for policy in self.policies:
            label_keys |= policy.pod_selector.keys()
            for rule in policy.ingress + policy.egress:
                for peer in rule.peers:
                    if peer.pod_selector is not None:
                        label_keys |= peer.pod_selector.keys()
                    if peer.ip_block is not None:
                        blocks.setdefault(peer.ip_block, len(blocks))
        return label_keys, blocks

    def _classes(self) -> None:
        cluster = self.cluster
        label_keys, self.block_index = self._selector_inputs()
        membership = _block_membership(self.entities, list(self.block_index))
        signatures = [row.tobytes() for row in np.packbits(membership, axis=1)] \
            if self.block_index else [b""] * len(self.entities)
        self.namespaces = list(cluster.namespace_labels)
        ns_position = {name: k for k, name in enumerate(self.namespaces)}

        def namespace_index(name: str) -> int:
            if name not in ns_position:
                ns_position[name] = len(self.namespaces)
                self.namespaces.append(name)
            return ns_position[name]
        for policy in self.policies:
            namespace_index(policy.namespace)

        label_rows: dict[frozenset, int] = {frozenset(): 0}
        class_of: dict[Hashable, int] = {}
        entity_class = []
        cls_ns, cls_row, cls_pod, cls_slots, cls_named, representative = [], [], [], [], [], []
        for position, endpoint in enumerate(self.entities):
            slots = self.entity_slots[position]
            if endpoint.is_pod:
                pod = cluster.pod(endpoint.name)
                labels = frozenset((k, v) for k, v in pod.labels.items() if k in label_keys)
                named = pod.named_ports_key if slots else ()
                key: Hashable = (True, pod.namespace, labels, named, slots, signatures[position])
            else:
                labels, named = frozenset(), ()
                key = (False, slots, signatures[position], self._node_key(endpoint))
            number = class_of.get(key)
            if number is None:
                number = class_of[key] = len(class_of)
                cls_pod.append(endpoint.is_pod)
                cls_ns.append(namespace_index(pod.namespace) if endpoint.is_pod else -1)
                cls_row.append(label_rows.setdefault(labels, len(label_rows)))
                cls_slots.append(slots)
                cls_named.append(named)
                representative.append(position)
            entity_class.append(number)
        self.entity_class = np.array(entity_class, dtype=np.int64)
        self.cls_pod = np.array(cls_pod, dtype=bool)
        self.cls_ns = np.array(cls_ns, dtype=np.int64)
        self.cls_row = np.array(cls_row, dtype=np.int64)
        self.cls_slots = cls_slots
        self.cls_named = [dict(named) for named in cls_named]
        self.cls_blocks = (membership[representative] if self.block_index
                           else np.zeros((len(cls_pod), 0), dtype=bool))
        self.cls_node = [self.entities[r].node if self.entities[r].kind == NODE_KIND else None
                         for r in representative]
        self.ns_position = ns_position
        self.label_rows = [dict(labels) for labels in label_rows]
        self.pod_labels = LabelIndex(self.label_rows)
        self.ns_labels = LabelIndex([cluster.labels_of_namespace(n) for n in self.namespaces])
        self.classes = len(cls_pod)
        nslots = np.array([len(s) for s in cls_slots], dtype=np.int64)
        self.dtype, _, self.words = word_dtype(int(nslots.max()) if len(nslots) else 0)
        self.full = full_masks(nslots, self.words, self.dtype)
        # Classes with the same slots and named ports answer every port list alike.
        groups: dict[Hashable, list[int]] = {}
        for position, (slots, named) in enumerate(zip(cls_slots, cls_named, strict=True)):
            groups.setdefault((slots, named), []).append(position)
        self.port_groups = list(groups.values())

    def _node_key(self, endpoint: Endpoint) -> Hashable:
        """What the layers' node selectors can read of a node endpoint (its relevant labels)."""
        if not self.node_label_keys or endpoint.kind != NODE_KIND or not endpoint.node:
            return None
        labels = self.cluster.labels_of_node(endpoint.node)  # type: ignore[attr-defined]
        return frozenset((k, v) for k, v in labels.items() if k in self.node_label_keys)

    # -- the class space the layers read (isolation.reachability.layers.ClassSpace) -------

    def pods_matching(self, namespace_selector: Selector,
                      pod_selector: Selector | None) -> np.ndarray:
        """Pod classes in namespaces `namespace_selector` matches (and `pod_selector`)."""
        by_namespace = np.append(self.ns_labels.evaluate(namespace_selector), False)
        mask = by_namespace[self.cls_ns] & self.cls_pod
        if pod_selector is not None:
            mask = mask & self.pod_labels.evaluate(pod_selector)[self.cls_row]
        return mask

    def nodes_matching(self, selector: Selector) -> np.ndarray:
        """Node classes (a node's addresses, host-network pods) whose node `selector` matches."""
        cluster = self.cluster
        return np.array([node is not None and selector.matches(
            cluster.labels_of_node(node))  # type: ignore[attr-defined]
            for node in self.cls_node], dtype=bool)

    def class_members(self) -> list[tuple[str, dict[str, str], dict[str, str]] | None]:
        """Per class: (namespace, the pod labels any selector reads, the namespace's labels)
        of a pod class, None for an address or node class."""
        cluster = self.cluster
        return [(self.namespaces[ns], self.label_rows[row],
                 cluster.labels_of_namespace(self.namespaces[ns])) if is_pod else None
                for is_pod, ns, row in zip(self.cls_pod, self.cls_ns, self.cls_row, strict=True)]

    def in_block(self, block: IPBlock) -> np.ndarray:
        """Classes whose address lies in `block` (declared by a layer's `class_inputs`)."""
        return self.cls_blocks[:, self.block_index[block]]

    def port_bits(self, ports: tuple) -> np.ndarray:
        """Allowed-slot bitsets of each destination class for a list of port matchers (any
        hashable objects with `matches(port, protocol, named_ports)`); empty = every slot."""
        return self._ports(tuple(ports))

    def network_policy_bits(self, direction: str) -> tuple[np.ndarray, np.ndarray]:
        """(allowed, isolated rows) of the NetworkPolicies for `direction`, rows as in
        `ClassBlock`; rows no NetworkPolicy isolates read as all allowed."""
        return self._direction(direction, by_destination=direction == INGRESS)

    def _layered(self, direction: str) -> np.ndarray:
        """One direction decided by the layers, rows as in `ClassBlock`.

        Computed from the last layer to the first: a layer's ALLOW / DENY bits override what
        the layers after it decided, its other bits keep it, and bits no layer decides stay
        allowed. The NetworkPolicy layer decides every bit of the rows it isolates, so the
        layers after it only touch the other rows; rows that are not pods have no side of
        their own, so no layer decides them.
        """
        assert self.layers is not None
        shape = (self.classes, self.classes, self.words)
        position = next((k for k, layer in enumerate(self.layers)
                         if isinstance(layer, NetworkPolicyLayer)), None)
        if position is None:
            full = self.full[None, :, :] if direction == EGRESS else self.full[:, None, :]
            result = np.broadcast_to(full, shape).copy()
            before, after, open_rows = list(self.layers), [], self.cls_pod
        else:
            result, isolated = self.network_policy_bits(direction)
            before, after = self.layers[:position], self.layers[position + 1:]
            open_rows = self.cls_pod & ~isolated
        for layer in reversed(after):
            for block in layer.evaluate(direction, self):
                _override(result, block, open_rows)
        for layer in reversed(before):
            for block in layer.evaluate(direction, self):
                _override(result, block, self.cls_pod)
        return result

    # -- masks over classes ---------------------------------------------------------------

    def _selected(self, policy: Policy) -> np.ndarray:
        in_namespace = self.cls_ns == self.ns_position[policy.namespace]
        return self.cls_pod & in_namespace & self.pod_labels.evaluate(policy.pod_selector)[self.cls_row]

    def _peer(self, policy: Policy, peer: Peer) -> np.ndarray:
        key = (policy.namespace if peer.namespace_selector is None else None,
               peer.pod_selector, peer.namespace_selector, peer.ip_block)
        cached = self._peer_cache.get(key)
        if cached is not None:
            return cached
        if peer.ip_block is not None:
            mask = self.cls_blocks[:, self.block_index[peer.ip_block]]
        else:
            if peer.namespace_selector is None:
                mask = self.cls_ns == self.ns_position[policy.namespace]
            else:
                by_namespace = np.append(self.ns_labels.evaluate(peer.namespace_selector), False)
                mask = by_namespace[self.cls_ns]  # -1 (not a pod) reads the appended False
            if peer.pod_selector is not None:
                mask = mask & self.pod_labels.evaluate(peer.pod_selector)[self.cls_row]
            mask = mask & self.cls_pod
        self._peer_cache[key] = mask
        return mask

    def _peers(self, policy: Policy, peers: tuple[Peer, ...]) -> np.ndarray:
        if not peers:
            return np.ones(self.classes, dtype=bool)
        mask = np.zeros(self.classes, dtype=bool)
        for peer in peers:
            mask |= self._peer(policy, peer)
        return mask

    def _ports(self, ports: tuple[PortSpec, ...]) -> np.ndarray:
        """Allowed-slot bitsets of each destination class for one rule's port list."""
        if not ports:
            return self.full
        cached = self._port_cache.get(ports)
        if cached is not None:
            return cached
        bits = np.dtype(self.dtype).itemsize * 8
        result = np.zeros((self.classes, self.words), dtype=self.dtype)
        for positions in self.port_groups:
            slots, named = self.cls_slots[positions[0]], self.cls_named[positions[0]]
            words = [0] * self.words
            for k, (port, protocol) in enumerate(slots):
                if any(spec.matches(port, protocol, named) for spec in ports):
                    words[k // bits] |= 1 << (k % bits)
            result[positions] = np.array(words, dtype=self.dtype)
        self._port_cache[ports] = result
        return result

    # -- the two directions ---------------------------------------------------------------

    def _egress(self) -> np.ndarray:
        """[source class, destination class] bits that egress at the source allows."""
        return self._direction(EGRESS, by_destination=False)[0]

    def _ingress_by_destination(self) -> np.ndarray:
        """[destination class, source class] bits that ingress at the destination allows."""
        return self._direction(INGRESS, by_destination=True)[0]

    def _direction(self, direction: str, by_destination: bool) -> tuple[np.ndarray, np.ndarray]:
        """Rows are the classes a policy can isolate for `direction`, columns their peers.

        Slots always belong to the destination: the row for ingress, the column for egress.
        A row no policy isolates allows every slot; an isolated row allows the union of its
        policies' rules, accumulated per distinct set of selected classes.
        """
        isolated = np.zeros(self.classes, dtype=bool)
        by_selection: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        for policy in self.policies:
            if not policy.affects(direction):
                continue
            selected = np.flatnonzero(self._selected(policy))
            if not len(selected):
                continue
            isolated[selected] = True
            if by_destination:  # the selected classes are destinations: ports index them
                allowed = np.zeros((len(selected), self.classes, self.words), dtype=self.dtype)
            else:
                allowed = np.zeros((self.classes, self.words), dtype=self.dtype)
            for rule in policy.rules(direction):
                peers, ports = self._peers(policy, rule.peers), self._ports(rule.ports_key)
                if by_destination:
                    allowed |= np.where(peers[None, :, None], ports[selected][:, None, :],
                                        self.dtype(0))
                else:
                    allowed |= np.where(peers[:, None], ports, self.dtype(0))
            key = selected.tobytes()
            if key in by_selection:
                by_selection[key][1][...] |= allowed
            else:
                by_selection[key] = (selected, allowed)
        result = np.empty((self.classes, self.classes, self.words), dtype=self.dtype)
        if by_destination:
            result[...] = np.where(isolated[:, None], self.dtype(0), self.full)[:, None, :]
        else:
            result[~isolated] = self.full[None, :, :]
            result[isolated] = 0
        for selected, allowed in by_selection.values():
            result[selected] |= allowed if by_destination else allowed[None, :, :]
        return result, isolated


def _override(result: np.ndarray, block: ClassBlock, open_rows: np.ndarray) -> None:
    """Put one block of a layer in front of what `result` holds (see `_Builder._layered`),
    on the rows of the block that `open_rows` leaves open."""
    allow, deny, rows = block.allow, block.deny, block.rows
    if len(rows) == len(result) and open_rows.all() and (np.diff(rows) > 0).all():
        # every row, in order: no fancy indexing
        result &= ~deny
        result |= allow
        return
    keep = open_rows[rows]
    if not keep.all():
        rows = rows[keep]
        if allow.shape[0] != 1:
            allow, deny = allow[keep], deny[keep]
    if len(rows):
        result[rows] = allow | (result[rows] & ~deny)


def _block_membership(entities: list[Endpoint], blocks: list[IPBlock]) -> np.ndarray:
    """(entities × blocks) booleans: whether each endpoint's IP lies in each ipBlock."""
    membership = np.zeros((len(entities), len(blocks)), dtype=bool)
    if not blocks:
        return membership
    v4_rows, v4_values, others = [], [], []
    for position, endpoint in enumerate(entities):
        if not endpoint.ip:
            continue
        if ":" not in endpoint.ip:
            v4_rows.append(position)
            v4_values.append(int.from_bytes(socket.inet_aton(endpoint.ip), "big"))
        else:
            others.append((position, ipaddress.ip_address(endpoint.ip)))
    values = np.array(v4_values, dtype=np.int64)
    for b, block in enumerate(blocks):
        if block.cidr.version == 4 and v4_rows:
            inside = _in_network(values, block.cidr)
            for excluded in block.excepts:
                if excluded.version == 4:
                    inside &= ~_in_network(values, excluded)
            membership[v4_rows, b] = inside
        for position, address in others:
            membership[position, b] = block.contains(address)
    return membership


def _in_network(values: np.ndarray, network: ipaddress.IPv4Network) -> np.ndarray:
    low = int(network.network_address)
    return (values >= low) & (values <= low + network.num_addresses - 1)
