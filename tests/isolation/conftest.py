"""Builders of small clusters for the NetworkPolicy and reachability tests."""

from __future__ import annotations

from typing import Any

import pytest

from isolation.reachability.engine import Cluster
from isolation.snapshot import Snapshot, with_name_label


class K8s:
    """Plain API objects, as `kubectl get -o yaml` would print them."""

    @staticmethod
    def namespace(name: str, **labels: str) -> dict[str, Any]:
        return with_name_label({"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": name, "labels": dict(labels)}})

    @staticmethod
    def pod(key: str, ip: str | None, labels: dict[str, str] | None = None,
            ports: tuple = ((80, "TCP", "http"),), node: str = "node-1",
            host_network: bool = False, phase: str = "Running") -> dict[str, Any]:
        namespace, name = key.split("/")
        spec: dict[str, Any] = {"nodeName": node, "containers": [{
            "name": "main", "image": "app",
            "ports": [{"containerPort": number, "protocol": protocol,
                       **({"name": port_name} if port_name else {})}
                      for number, protocol, port_name in ports],
        }]}
        if host_network:
            spec["hostNetwork"] = True
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
                "spec": spec, "status": {"phase": phase, **({"podIP": ip} if ip else {})}}

    @staticmethod
    def policy(key: str, **spec: Any) -> dict[str, Any]:
        namespace, name = key.split("/")
        if "from_" in spec:
            raise TypeError("write rules as dicts: {'from': [...]}")
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": namespace}, "spec": spec}

    @staticmethod
    def node(name: str, internal_ip: str, **annotations: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "annotations": dict(annotations)},
                "status": {"addresses": [{"type": "InternalIP", "address": internal_ip}]}}

    @staticmethod
    def cluster(namespaces: list[dict], pods: list[dict], policies: list[dict] = (),
                nodes: list[dict] = (), extra_ips: list[str] = ()) -> Cluster:
        snapshot = Snapshot(namespaces=list(namespaces), pods=list(pods),
                            network_policies=list(policies), nodes=list(nodes))
        return Cluster.from_snapshot(snapshot, extra_ips=list(extra_ips))


@pytest.fixture
def k8s() -> type[K8s]:
    return K8s


# -- random clusters for property tests ---------------------------------------------------

LABEL_KEYS = ("app", "tier", "team")
LABEL_VALUES = ("a", "b", "c")
# "http" is 80 on some pods and 8080 on others, so named ports resolve per pod.
PORT_CHOICES = ((80, "TCP", "http"), (8080, "TCP", "http"), (81, "TCP", None),
                (53, "UDP", "dns"), (5353, "UDP", None), (9000, "SCTP", "sctp"))
EXTERNAL_RANGES = ("203.0.113.0/24", "198.51.100.0/24")


class RandomClusters:
    """Hypothesis strategies for small valid clusters (namespaces, pods, policies).

    Strategies are built once: building them is what makes generation slow.
    """

    def __init__(self, blocks_may_cover_pods: bool = True,
                 rules_only_for_policy_types: bool = False,
                 key_operators_beside_namespaces: bool = True) -> None:
        from hypothesis import strategies as st

        self.labels = st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES),
                                      max_size=2)

        def selectors(key_operators):
            requirements = [st.builds(
                lambda k, op, v: {"key": k, "operator": op, "values": v},
                st.sampled_from(LABEL_KEYS), st.sampled_from(["In", "NotIn"]),
                st.lists(st.sampled_from(LABEL_VALUES), min_size=1, max_size=2, unique=True))]
            if key_operators:
                requirements.append(st.builds(lambda k, op: {"key": k, "operator": op},
                                              st.sampled_from(LABEL_KEYS),
                                              st.sampled_from(key_operators)))
            requirement = st.one_of(*requirements)
            return st.one_of(
                st.just({}),
                st.builds(lambda labels: {"matchLabels": labels}, self.labels),
                st.builds(lambda exprs: {"matchExpressions": exprs},
                          st.lists(requirement, min_size=1, max_size=2)),
            )
        selector = selectors(["Exists", "DoesNotExist"])
        beside_namespaces = selector if key_operators_beside_namespaces else selectors([])
        cidrs = list(EXTERNAL_RANGES) + (["10.0.0.0/16", "10.0.1.0/24", "0.0.0.0/0"]
                                         if blocks_may_cover_pods else [])
        peer = st.one_of(
            st.builds(lambda s: {"podSelector": s}, selector),
            st.builds(lambda s: {"namespaceSelector": s}, selector),
            st.builds(lambda a, b: {"podSelector": a, "namespaceSelector": b},
                      beside_namespaces, selector),
            st.builds(lambda b: {"ipBlock": b},
                      st.builds(_ip_block, st.sampled_from(cidrs), st.booleans())),
        )
        port = st.builds(_port_entry, st.sampled_from(["number", "range", "name", "none"]),
                         st.sampled_from([53, 80, 81, 8000, 8080, 9000]),
                         st.sampled_from(["http", "dns", "sctp", "nope"]),
                         st.sampled_from(["TCP", "UDP", "SCTP", None]))

        def optional_list(inner):
            return st.one_of(st.none(), st.just([]), st.lists(inner, min_size=1, max_size=2))

        def rules(peers_key):
            rule = st.builds(
                lambda peers, ports: {k: v for k, v in ((peers_key, peers), ("ports", ports))
                                      if v is not None},
                optional_list(peer), optional_list(port))
            return st.one_of(st.none(), st.just([]), st.lists(rule, min_size=1, max_size=2))

        self.policy_parts = st.tuples(
            selector, rules("from"), rules("to"),
            st.sampled_from([None, [], ["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
        self.ports = st.lists(st.sampled_from(PORT_CHOICES), min_size=1, max_size=3,
                              unique_by=lambda p: (p[0], p[1]))
        self.rules_only_for_policy_types = rules_only_for_policy_types
        self.st = st

    def cluster_spec(self):
        """A dict of namespaces, pods and policies (pod IPs 10.0.<ns>.<n>)."""
        st = self.st

        @st.composite
        def build(draw):
            names = ["ns0", "ns1", "ns2"][:draw(st.integers(2, 3))]
            namespaces = [K8s.namespace(n, **draw(self.labels)) for n in names]
            pods = []
            for number in range(draw(st.integers(2, 6))):
                index = draw(st.integers(0, len(names) - 1))
                ports = draw(self.ports)
                if len({p[2] for p in ports if p[2]}) < len([p for p in ports if p[2]]):
                    ports = [ports[0]]  # a pod may not declare one port name twice
                pods.append(K8s.pod(f"{names[index]}/pod{number}",
                                    f"10.0.{index + 1}.{number + 1}", draw(self.labels),
                                    ports=tuple(ports), node=f"node-{number % 2}"))
            policies = []
            for number in range(draw(st.integers(0, 4))):
                selector, ingress, egress, types = draw(self.policy_parts)
                spec = {"podSelector": selector}
                for key, value in (("ingress", ingress), ("egress", egress),
                                   ("policyTypes", types)):
                    if value is not None:
                        spec[key] = value
                if self.rules_only_for_policy_types and types:
                    for key in ("ingress", "egress"):
                        if key.capitalize() not in types:
                            spec.pop(key, None)
                namespace = names[draw(st.integers(0, len(names) - 1))]
                policies.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                 "metadata": {"name": f"p{number}", "namespace": namespace},
                                 "spec": spec})
            return {"namespaces": namespaces, "pods": pods, "policies": policies}
        return build()


def _ip_block(cidr: str, cut: bool) -> dict:
    block: dict = {"cidr": cidr}
    address, length = cidr.split("/")
    if cut and int(length) < 28:
        base = "10.0.1.0" if cidr in ("10.0.0.0/16", "0.0.0.0/0") else address
        block["except"] = [f"{base}/{max(int(length) + 1, 28)}"]
    return block


def _port_entry(kind: str, number: int, name: str, protocol: str | None) -> dict:
    entry: dict = {} if protocol is None else {"protocol": protocol}
    if kind == "number":
        entry["port"] = number
    elif kind == "range":
        entry.update(port=number, endPort=number + 100)
    elif kind == "name":
        entry["port"] = name
    return entry


@pytest.fixture(scope="session")
def random_clusters() -> RandomClusters:
    return RandomClusters()


@pytest.fixture(scope="session")
def clusters_outside_ip_blocks() -> RandomClusters:
    """Random clusters NCA reads like the API server: no ipBlock contains a pod IP, no policy
    lists rules of a direction its explicit policyTypes leave out, and no peer pairs a
    namespaceSelector with an Exists / DoesNotExist pod requirement."""
    return RandomClusters(blocks_may_cover_pods=False, rules_only_for_policy_types=True,
                          key_operators_beside_namespaces=False)
