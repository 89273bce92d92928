"""Building the reachability matrix: equivalence classes, selector masks, two bitset passes.

Endpoints that no policy can tell apart (same namespace, same values for every label key any
selector mentions, same named ports, same port slots, inside the same ipBlocks) form one class.
Selectors are evaluated once over all classes with numpy; each rule contributes "these peers ×
these port slots" to its policy's selected classes; egress is accumulated by source rows and
ingress by destination rows (then transposed), and the matrix is their AND.

With policy layers besides the NetworkPolicies (`isolation.reachability.layers`), each
direction is decided layer by layer: a layer's ALLOW / DENY bits settle the cells still open,
and cells no layer settles are allowed (`compose`: on the joint grid of the layers' blocks). A cluster with NetworkPolicies only takes the direct
path above.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Hashable, Sequence

import numpy as np

from isolation.collector import collector_paused
from isolation.netpol.model import EGRESS, INGRESS, IPBlock, Peer, Policy, PortSpec, Rule
from isolation.netpol.selectors import LabelIndex, Selector
from isolation.reachability.compose import Composer, joined
from isolation.reachability.inventory import NODE_KIND, POD_KIND, ClusterView, Endpoint
from isolation.reachability.layers import ClassInputs, PolicyLayer, unique_rows
from isolation.reachability.matrix import Matrix, Slot, full_masks, word_dtype
from isolation.reachability.netpol_layer import NetworkPolicyLayer

_TILE = 256  # classes per side of the tiles of `_and_transposed` and `joined`


def build_matrix(cluster: ClusterView, sources: Sequence[Endpoint], destinations: Sequence[Endpoint],
                 slots: Sequence[tuple[Slot, ...]]) -> Matrix:
    """Evaluate every source × destination × slot of `cluster` (see `Matrix`)."""
    # The builder allocates many small objects and makes no reference cycles: a cyclic
    # collection started by that churn would only walk the caller's (large) object graph.
    with collector_paused():
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
        self._admits: dict[tuple, bool] = {}
        self._selected_cache: dict[tuple, np.ndarray] = {}
        self._ports_key_of: dict[int, tuple[PortSpec, ...]] = {}  # by id() of a Rule
        # what the layers compute once per matrix and share (see calico_classes)
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
            ingress, isolated = self._direction(INGRESS, by_destination=True)
            # rows no policy isolates allow every slot, which egress never exceeds
            _and_transposed(allowed, ingress, isolated)
        else:
            allowed = joined(self._layered(EGRESS), self._layered(INGRESS), _TILE)
        src_class = self.entity_class[self.source_entity]
        dst_class = self.entity_class[self.destination_entity]
        # Traffic between a pod and its own node is always allowed, both ways (DESIGN §3).
        overrides = {}
        node_columns: dict[str, list[int]] = {}
        for j, destination in enumerate(self.destinations):
            if destination.kind == NODE_KIND and destination.node:
                node_columns.setdefault(destination.node, []).append(j)
        for i, source in enumerate(self.sources):
            if source.kind == NODE_KIND and source.node:
                on_node = np.array([d.is_pod and d.node == source.node for d in self.destinations],
                                   dtype=bool)
                if on_node.any():
                    overrides[i] = on_node
            elif source.is_pod and source.node in node_columns:
                own = np.zeros(len(self.destinations), dtype=bool)
                own[node_columns[source.node]] = True
                overrides[i] = own
        return Matrix(self.sources, self.destinations, self.slots, src_class, dst_class,
                      allowed, overrides)

    # -- endpoints and classes ------------------------------------------------------------

    def _entities(self) -> None:
        """Unique endpoints; a destination's slots go with it (sources alone have none)."""
        entity_of = {endpoint.name: k for k, endpoint in enumerate(self.sources)}
        if len(entity_of) == len(self.sources):  # the usual case: no source twice
            entities = list(self.sources)
            source_entity = np.arange(len(entities), dtype=np.int64)
        else:
            entity_of, entities, positions = {}, [], []
            for endpoint in self.sources:
                position = entity_of.setdefault(endpoint.name, len(entities))
                if position == len(entities):
                    entities.append(endpoint)
                positions.append(position)
            source_entity = np.array(positions, dtype=np.int64)
        entity_slots: list[tuple[Slot, ...]] = [()] * len(entities)
        destination_entity = []
        for endpoint, slots in zip(self.destinations, self.slots, strict=True):
            position = entity_of.get(endpoint.name)
            if position is None:
                position = entity_of[endpoint.name] = len(entities)
                entities.append(endpoint)
                entity_slots.append(())
            entity_slots[position] = tuple(slots)
            destination_entity.append(position)
        self.entity_of: dict[str, int] = entity_of
        self.entities: list[Endpoint] = entities
        self.entity_slots = entity_slots
        self.source_entity = source_entity
        self.destination_entity = np.array(destination_entity, dtype=np.int64)

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
        signatures = _row_ids(membership)
        self.namespaces = list(cluster.namespace_labels)
        ns_position = {name: k for k, name in enumerate(self.namespaces)}

        def namespace_index(name: str) -> int:
            if name not in ns_position:
                ns_position[name] = len(self.namespaces)
                self.namespaces.append(name)
            return ns_position[name]
        for policy in self.policies:
            namespace_index(policy.namespace)

        # A pod's labels as the values of the keys selectors read (None = no such label):
        # equal tuples are equal label sets as far as any selector can tell.
        keys = sorted(label_keys)
        no_labels = (None,) * len(keys)
        label_rows: dict[tuple, int] = {no_labels: 0}
        class_of: dict[Hashable, int] = {}
        entity_class = []
        cls_ns, cls_row, cls_pod, cls_slots, cls_named, representative = [], [], [], [], [], []
        # A pod's service account (name, labels), only when some layer's policies read them
        # (Calico's `serviceAccounts`, `serviceAccountSelector`): then they split classes too.
        by_account = any(getattr(layer, "reads_service_accounts", False)
                         for layer in self.layers or ())
        cls_account: list[tuple[str, tuple[tuple[str, str], ...]] | None] = []
        account = None
        pod_of = cluster.pod
        for position, (endpoint, slots, signature) in enumerate(
                zip(self.entities, self.entity_slots, signatures, strict=True)):
            if endpoint.kind == POD_KIND:
                pod = pod_of(endpoint.name)
                labels = tuple(map(pod.labels.get, keys))
                named = pod.named_ports_key if slots else ()
                key: Hashable = (pod.namespace, labels, named, slots, signature)
                if by_account:
                    account = (pod.service_account,
                               tuple(sorted(pod.service_account_labels.items())))
                    key = (*key, account)
            else:
                labels, named, account = no_labels, (), None
                key = (None, slots, signature, self._node_key(endpoint))
            number = class_of.get(key)
            if number is None:
                number = class_of[key] = len(class_of)
                is_pod = endpoint.kind == POD_KIND
                if by_account:
                    cls_account.append(account)
                cls_pod.append(is_pod)
                cls_ns.append(namespace_index(pod.namespace) if is_pod else -1)
                cls_row.append(label_rows.setdefault(labels, len(label_rows)))
                cls_slots.append(slots)
                cls_named.append(named)
                representative.append(position)
            entity_class.append(number)
        self.entity_class = np.array(entity_class, dtype=np.int64)
        # per class: the pod's service account (name, labels); None when no layer reads them
        self.cls_service_account = cls_account if by_account else None
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
        self.label_rows = [{k: v for k, v in zip(keys, values, strict=True) if v is not None}
                           for values in label_rows]
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
        self._slot_set = {slot for slots in cls_slots for slot in slots}
        # pod classes of each namespace (a policy selects within its own), with their label rows
        pods = np.flatnonzero(self.cls_pod)
        order = pods[np.argsort(self.cls_ns[pods], kind="stable")]
        bounds = np.flatnonzero(np.diff(self.cls_ns[order])) + 1
        self.ns_classes = {int(self.cls_ns[members[0]]): (members, self.cls_row[members])
                           for members in np.split(order, bounds) if len(members)}

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

    def label_table(self) -> tuple[np.ndarray, list[dict[str, str]], np.ndarray, list[str],
                                   list[dict[str, str]]]:
        """What `class_members` says, without a dict per class: (label row of each class, the
        pod labels any selector reads per label row, namespace index of each class (-1 for an
        address or node class), namespace names, their labels)."""
        cluster = self.cluster
        return (self.cls_row, self.label_rows, self.cls_ns, list(self.namespaces),
                [cluster.labels_of_namespace(name) for name in self.namespaces])

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

    def network_policy_groups(self, direction: str) -> tuple[np.ndarray, np.ndarray]:
        """What `network_policy_bits` says of the isolated rows, compressed: (the group of each
        class, -1 where no NetworkPolicy isolates it; the allowed bits of each group, shape
        (groups, classes, words)). Rows covered by the same selections (and, for ingress, with
        the same slots) allow the same bits: the union of those selections' rules."""
        selections = self._selections(direction)
        group = np.full(self.classes, -1, dtype=np.int64)
        if not selections:
            return group, np.zeros((0, self.classes, self.words), dtype=self.dtype)
        member = np.zeros((len(selections), self.classes), dtype=bool)
        for k, (selected, _) in enumerate(selections):
            member[k, selected] = True
        rows = np.flatnonzero(member.any(axis=0))
        key = [np.packbits(member[:, rows], axis=0).T]
        ingress = direction == INGRESS
        if ingress:
            key.append(self._port_group()[rows].astype("<i8").view(np.uint8).reshape(-1, 8))
        first, group[rows] = unique_rows(np.concatenate(key, axis=1))
        reps = rows[first]
        allowed = np.zeros((len(reps), self.classes, self.words), dtype=self.dtype)
        zero = self.dtype(0)
        member = member[:, reps]
        for k, (_, peers_by_ports) in enumerate(selections):
            groups = np.flatnonzero(member[k])
            # one group (the usual case): its row in place, else the rows of all of them
            target = allowed[groups[0]][None] if len(groups) == 1 else allowed[groups]
            if ingress:  # the groups are destinations: their slots
                for ports, peers in peers_by_ports.items():
                    bits = self._ports(ports)[reps[groups]]
                    target |= np.where(peers[None, :, None], bits[:, None, :], zero)
            else:
                for ports, peers in peers_by_ports.items():
                    target |= np.where(peers[:, None], self._ports(ports), zero)
            if len(groups) > 1:
                allowed[groups] = target
        return group, allowed

    def _port_group(self) -> np.ndarray:
        """The number of each class's entry in `port_groups`."""
        port_group = np.zeros(self.classes, dtype=np.int64)
        for number, members in enumerate(self.port_groups):
            port_group[members] = number
        return port_group

    def _layered(self, direction: str) -> tuple[np.ndarray, np.ndarray]:
        """One direction decided by the layers, rows as in `ClassBlock`, by joint row (see
        `compose`).

        A layer's ALLOW / DENY bits override what the layers after it decide, its other bits
        leave it to them, and bits no layer decides stay allowed. The NetworkPolicy layer
        decides every bit of the rows it isolates, so the layers after it only touch the
        other rows; rows that are not pods have no side of their own, so no layer decides them.
        """
        assert self.layers is not None
        composer = Composer(self.full, self._port_group(), ingress=direction == INGRESS)
        open_rows = self.cls_pod
        for layer in self.layers:
            if isinstance(layer, NetworkPolicyLayer):
                group, allowed = self.network_policy_groups(direction)
                composer.network_policies(np.where(self.cls_pod, group, -1), allowed)
                open_rows = self.cls_pod & (group < 0)
                continue
            # a layer's later blocks are put in front of its earlier ones
            for block in reversed(layer.evaluate(direction, self)):
                composer.block(block, open_rows)
        return composer.result()

    # -- masks over classes ---------------------------------------------------------------

    def _selected(self, policy: Policy) -> np.ndarray:
        """Ascending indices of the pod classes `policy` selects (cached per namespace and
        selector: policies sharing both select the same classes)."""
        key = (policy.namespace, policy.pod_selector)
        cached = self._selected_cache.get(key)
        if cached is None:
            members = self.ns_classes.get(self.ns_position[policy.namespace])
            if members is None:
                cached = np.zeros(0, dtype=np.int64)
            else:
                classes, rows = members
                cached = classes[self.pod_labels.evaluate(policy.pod_selector)[rows]]
            self._selected_cache[key] = cached
        return cached

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

    def _direction(self, direction: str, by_destination: bool) -> tuple[np.ndarray, np.ndarray]:
        """Rows are the classes a policy can isolate for `direction`, columns their peers.

        Slots always belong to the destination: the row for ingress, the column for egress.
        A row no policy isolates allows every slot; an isolated row allows the union of its
        policies' rules. Rules are gathered per distinct set of selected classes and, within
        it, per distinct port list (their peers OR-ed), so each such pair is written once.
        """
        selections = self._selections(direction)
        zero = self.dtype(0)
        result = np.empty((self.classes, self.classes, self.words), dtype=self.dtype)
        if by_destination:
            result[...] = self.full[:, None, :]
        else:
            result[...] = self.full[None, :, :]
        covered = np.zeros(self.classes, dtype=np.int64)
        for selected, _ in selections:
            covered[selected] += 1
        isolated = covered > 0
        result[covered > 1] = 0  # rows of several selections: the union of their rules
        for selected, peers_by_ports in selections:
            if by_destination:  # the selected classes are destinations: ports index them
                allowed = np.zeros((len(selected), self.classes, self.words), dtype=self.dtype)
                for ports, peers in peers_by_ports.items():
                    bits = self._ports(ports)[selected]
                    allowed |= np.where(peers[None, :, None], bits[:, None, :], zero)
            else:
                allowed = np.zeros((1, self.classes, self.words), dtype=self.dtype)
                for ports, peers in peers_by_ports.items():
                    allowed[0] |= np.where(peers[:, None], self._ports(ports), zero)
            alone = covered[selected] == 1
            if alone.all():
                result[selected] = allowed
            elif not alone.any():
                result[selected] |= allowed
            else:
                shared = ~alone
                result[selected[alone]] = allowed[alone] if by_destination else allowed
                result[selected[shared]] |= allowed[shared] if by_destination else allowed
        return result, isolated

    def _selections(self, direction: str) -> list[tuple[np.ndarray, dict[tuple, np.ndarray]]]:
        """The NetworkPolicies of `direction` by distinct set of selected classes: (the
        classes, the peers of their rules by port list, OR-ed)."""
        by_selection: dict[bytes, tuple[np.ndarray, dict[tuple, np.ndarray]]] = {}
        for policy in self.policies:
            if not policy.affects(direction):
                continue
            selected = self._selected(policy)
            if not len(selected):
                continue
            key = selected.tobytes()
            group = by_selection.get(key)
            if group is None:
                group = by_selection[key] = (selected, {})
            peers_by_ports = group[1]
            for rule in policy.rules(direction):
                ports = self._rule_ports(rule)
                if not self._admits_any(ports):
                    continue    # no slot of any destination: its peers cannot matter
                peers = self._peers(policy, rule.peers)
                known = peers_by_ports.get(ports)
                peers_by_ports[ports] = peers if known is None else known | peers
        return list(by_selection.values())

    def _admits_any(self, ports: tuple[PortSpec, ...]) -> bool:
        """Whether a rule with this port list allows any slot of any destination class (a
        policy of thousands of rules on ports no endpoint asked about costs nothing more)."""
        found = self._admits.get(ports)
        if found is None:
            if not ports:
                found = True
            elif all(isinstance(spec.port, int) and spec.end_port is None for spec in ports):
                # single port numbers: a lookup among every slot asked about
                found = any((spec.port, spec.protocol) in self._slot_set for spec in ports)
            else:
                found = bool(self._ports(ports).any())
            self._admits[ports] = found
        return found

    def _rule_ports(self, rule: Rule) -> tuple[PortSpec, ...]:
        """`rule.ports_key`, computed once per rule of this build."""
        key = self._ports_key_of.get(id(rule))
        if key is None:
            key = self._ports_key_of[id(rule)] = rule.ports_key
        return key


def _and_transposed(result: np.ndarray, by_destination: np.ndarray,
                    rows: np.ndarray | None = None) -> None:
    """`result &= by_destination.transpose(1, 0, 2)`, in square tiles so both stay in cache;
    with `rows`, only the destination rows it marks (the others must not clear any bit)."""
    size = result.shape[0]
    for d in range(0, size, _TILE):
        if rows is not None and not rows[d:d + _TILE].any():
            continue
        for s in range(0, size, _TILE):
            result[s:s + _TILE, d:d + _TILE] &= by_destination[d:d + _TILE, s:s + _TILE] \
                .transpose(1, 0, 2)


def _row_ids(membership: np.ndarray) -> list[int]:
    """Per row of a boolean matrix, a number shared exactly by the rows equal to it."""
    if not membership.shape[1] or not membership.shape[0]:
        return [0] * membership.shape[0]
    packed = np.packbits(membership, axis=1)
    _, ids = np.unique(packed, axis=0, return_inverse=True)
    return ids.reshape(-1).tolist()


def _block_membership(entities: list[Endpoint], blocks: list[IPBlock]) -> np.ndarray:
    """(entities × blocks) booleans: whether each endpoint's IP lies in each ipBlock."""
    membership = np.zeros((len(entities), len(blocks)), dtype=bool)
    if not blocks:
        return membership
    v4_positions, v4_addresses, others = [], [], []
    for position, endpoint in enumerate(entities):
        ip = endpoint.ip
        if not ip:
            continue
        if ":" not in ip:
            v4_positions.append(position)
            v4_addresses.append(ip)
        else:
            others.append((position, ipaddress.ip_address(ip)))
    # four bytes per address, read as big-endian integers in one go
    values = np.frombuffer(b"".join(map(socket.inet_aton, v4_addresses)),
                           dtype=">u4").astype(np.int64)
    v4_rows = np.array(v4_positions, dtype=np.int64)
    for b, block in enumerate(blocks):
        if block.cidr.version == 4 and len(v4_rows):
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
