"""Differential test: Calico policies by our evaluator against network-config-analyzer 2.1.0.

Random small clusters (the namespaces, pods and Kubernetes NetworkPolicies of the Kubernetes
differential test's `clusters_outside_ip_blocks` fixture, plus up to four Calico NetworkPolicies
and GlobalNetworkPolicies in the default tier) are evaluated by both. Every pod → pod verdict on
the destination's declared ports, every outside address → pod verdict on those ports and every
pod → outside address verdict on a fixed port list must agree. Endpoints no policy selects fall
to their namespace's profile, which allows, on both sides (NCA assumes Calico's generated
`kns.*` profiles, as Calico creates them for every namespace).

NCA runs in its own virtualenv through `bench.reachability_nca` (the runner of the Kubernetes
differential test); the test fails, rather than skips, when NCA is missing.

Deviations of NCA from Calico, decided from Calico's documentation and code in Calico's favour
and kept out of the comparison (not out of our evaluator; tests/isolation/calico/
test_calico_semantics.py covers each point on our side):

1. No tiers: NCA reads every policy into one ordered list (it refuses `spec.tier`) and ends it
   with the default tier's end-of-tier deny. The clusters here use the default tier only.
2. `types` defaulted by key presence: NCA counts `ingress: []` (or `egress: []`) as rules of
   that direction, and refuses a policy whose explicit `types` leave out a direction it lists
   rules for. Calico defaults `types` from non-empty rule lists (libcalico-go
   `defaultPolicyTypesField`: egress rules only → Egress only) and ignores rules of a direction
   outside `types`. NCA is given the policies as Calico stores them (`default_calico_policy`,
   then without the rules of directions outside `types`).
3. Equal orders: NCA keeps policies of equal `order` in the order it read them, Calico sorts
   them by name. NCA is given the Calico policies sorted as Calico sorts them, and no Calico
   policy has order 1000, the order of the Kubernetes policies (their relative order at a tie
   depends on names NCA does not build).
4. A lone `notSelector` in a namespaced NetworkPolicy matches, in NCA, pods of every namespace
   and outside addresses. Calico adds `projectcalico.org/namespace == '<ns>'` to the rule's
   selector whenever `selector` or `notSelector` is set in a namespaced policy (libcalico-go's
   rule conversion), so only pods of the policy's namespace match. Namespaced policies here
   pair `notSelector` with `selector`.
5. `nets` / `notNets` never match pod IPs in NCA (as its ipBlocks, see the Kubernetes test),
   and NCA makes a rule that mixes `nets` with a selector match nothing ("likely a mistake").
   Calico matches `nets` against every source or destination IP, pods included, and ANDs them
   with selectors. The clusters here use nets in documentation ranges (no pod IP), `notNets`
   only beside `nets`, and never nets beside a selector in one rule side.
6. NCA does not read `serviceAccounts` in rules, nor Calico's own endpoint labels
   (`projectcalico.org/namespace`, `pcns.*`); the clusters here select on pod and namespace
   labels only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from bench import reachability_nca  # noqa: E402
from bench.reachability_nca import INSTALL_HINT, ConnectionSet, Nca, nca_python  # noqa: E402
from isolation.calico.endpoint import Endpoint  # noqa: E402
from isolation.calico.evaluate import CalicoPolicySet  # noqa: E402
from isolation.calico.validation import default_calico_policy  # noqa: E402
from isolation.netpol.validation import stored_network_policy  # noqa: E402

EXTERNAL_SOURCES = ["203.0.113.5", "198.51.100.200", "192.0.2.1"]
EXTERNAL_PORTS = [(80, "TCP"), (8080, "TCP"), (53, "UDP"), (9000, "SCTP")]
KEYS = ("app", "tier", "team")
VALUES = ("a", "b", "c")
NETS = (["203.0.113.0/24"], ["198.51.100.0/24", "192.0.2.0/28"], ["203.0.113.0/28"])
NOT_NETS = (["203.0.113.0/29"], ["198.51.100.128/25"])


@pytest.fixture(scope="module")
def nca():
    if nca_python() is None:
        pytest.fail(f"network-config-analyzer is needed for this test: {INSTALL_HINT}")
    # Calico's notProtocol / notPorts make NCA print complements ("All but {...}"), which the
    # shared reader of its output does not know; read them here, for this module only.
    with pytest.MonkeyPatch.context() as patch, Nca() as runner:
        patch.setattr(reachability_nca, "_connections", _connections_with_complements)
        yield runner


_READ_CONNECTIONS = reachability_nca._connections
PORT_PROTOCOLS = ("TCP", "UDP", "SCTP")


def _connections_with_complements(text: str) -> ConnectionSet:
    """NCA's connection set, including `All but {...}`: every port of TCP, UDP and SCTP except
    the listed ones."""
    if not text.startswith("All but "):
        return _READ_CONNECTIONS(text)
    excluded = _READ_CONNECTIONS(text[len("All but "):])
    result = ConnectionSet()
    for protocol in PORT_PROTOCOLS:
        ranges, start = [], 0
        for low, high in sorted(excluded.ports.get(protocol, [])):
            if low > start:
                ranges.append((start, low - 1))
            start = max(start, high + 1)
        if start <= 65535:
            ranges.append((start, 65535))
        result.ports[protocol] = ranges
    return result


# -- strategies -------------------------------------------------------------------------------

def _atom() -> st.SearchStrategy[str]:
    key, value = st.sampled_from(KEYS), st.sampled_from(VALUES)
    values = st.lists(value, min_size=1, max_size=2, unique=True).map(
        lambda vs: "{" + ", ".join(f"'{v}'" for v in vs) + "}")
    return st.one_of(
        st.just("all()"),
        key.map(lambda k: f"has({k})"),
        key.map(lambda k: f"!has({k})"),
        st.builds(lambda k, op, v: f"{k} {op} '{v}'", key, st.sampled_from(["==", "!="]), value),
        st.builds(lambda k, op, vs: f"{k} {op} {vs}", key, st.sampled_from(["in", "not in"]),
                  values),
        st.builds(lambda k, op, v: f"{k} {op} '{v}'", key,
                  st.sampled_from(["contains", "starts with", "ends with"]), value),
    )


SELECTORS = st.one_of(
    _atom(),
    st.builds(lambda a, op, b: f"{a} {op} {b}", _atom(), st.sampled_from(["&&", "||"]), _atom()),
    st.builds(lambda a, b: f"!({a} || {b})", _atom(), _atom()),
)


def _entity(namespaced: bool) -> st.SearchStrategy[dict[str, Any]]:
    with_nets = st.builds(lambda nets, cut: {"nets": nets, **({"notNets": cut} if cut else {})},
                          st.sampled_from(NETS), st.one_of(st.none(), st.sampled_from(NOT_NETS)))
    choices = [
        st.just({}),
        st.builds(lambda s: {"selector": s}, SELECTORS),
        st.builds(lambda s, n: {"selector": s, "notSelector": n}, SELECTORS, SELECTORS),
        st.builds(lambda n: {"namespaceSelector": n}, SELECTORS),
        st.builds(lambda n, s: {"namespaceSelector": n, "selector": s}, SELECTORS, SELECTORS),
        with_nets,
    ]
    if not namespaced:
        choices.append(st.builds(lambda n: {"notSelector": n}, SELECTORS))
    return st.one_of(*choices)


PORTS = st.sampled_from([[80], ["8000:8100"], ["http"], [53, "dns"], [9000]])


def _rule(namespaced: bool) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw):
        rule: dict[str, Any] = {"action": draw(st.sampled_from(["Allow", "Deny", "Pass", "Log"]))}
        protocol = draw(st.sampled_from([None, "TCP", "UDP", "SCTP"]))
        if protocol:
            rule["protocol"] = protocol
        elif draw(st.booleans()):
            rule["notProtocol"] = draw(st.sampled_from(["UDP", "TCP"]))
        for side in ("source", "destination"):
            entity = draw(_entity(namespaced))
            if entity:
                rule[side] = entity
        if protocol and draw(st.booleans()):
            key = draw(st.sampled_from(["ports", "notPorts"]))
            rule.setdefault("destination", {})[key] = draw(PORTS)
        return rule
    return build()


def calico_policies(namespaces: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    @st.composite
    def build(draw):
        policies = []
        for number in range(draw(st.integers(0, 4))):
            namespaced = draw(st.booleans())
            spec: dict[str, Any] = {"selector": draw(SELECTORS)}
            order = draw(st.sampled_from([None, 10, 500, 1500, 2000]))
            if order is not None:
                spec["order"] = order
            for direction in ("ingress", "egress"):
                rules = draw(st.one_of(st.none(), st.lists(_rule(namespaced), max_size=3)))
                if rules is not None:
                    spec[direction] = rules
            types = draw(st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
            if types:
                spec["types"] = types
            metadata: dict[str, Any] = {"name": f"c{number}"}
            if namespaced:
                metadata["namespace"] = draw(st.sampled_from(namespaces))
            elif draw(st.booleans()):
                spec["namespaceSelector"] = draw(SELECTORS)
            policies.append({"apiVersion": "projectcalico.org/v3",
                             "kind": "NetworkPolicy" if namespaced else "GlobalNetworkPolicy",
                             "metadata": metadata, "spec": spec})
        return policies
    return build()


# -- the two sides ----------------------------------------------------------------------------

def endpoints(spec: dict[str, Any]) -> dict[str, Endpoint]:
    namespace_labels = {n["metadata"]["name"]: n["metadata"].get("labels") or {}
                        for n in spec["namespaces"]}
    result = {}
    for pod in spec["pods"]:
        meta = pod["metadata"]
        named = tuple((p["name"], p["containerPort"], p.get("protocol") or "TCP")
                      for c in pod["spec"]["containers"] for p in c.get("ports") or []
                      if p.get("name"))
        result[f"{meta['namespace']}/{meta['name']}"] = Endpoint.pod(
            meta["namespace"], meta.get("labels"), namespace_labels=namespace_labels[meta["namespace"]],
            ip=pod["status"]["podIP"], named_ports=named)
    return result


def as_calico_stores_it(policy: dict[str, Any]) -> dict[str, Any]:
    """What NCA is given (deviation 2): defaulted types, no rules outside them, no tier."""
    stored = default_calico_policy(policy)
    spec = stored["spec"]
    spec.pop("tier")
    for direction, kind in (("ingress", "Ingress"), ("egress", "Egress")):
        if kind not in spec["types"]:
            spec.pop(direction, None)
    return stored


def pod_ports(pod: dict[str, Any]) -> list[tuple[int, str]]:
    return [(p["containerPort"], p.get("protocol") or "TCP")
            for c in pod["spec"]["containers"] for p in c.get("ports") or []]


def disagreements(policies: CalicoPolicySet, spec: dict[str, Any], nca_map) -> list[str]:
    pods = endpoints(spec)
    ports = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": pod_ports(p)
             for p in spec["pods"]}
    queries = [(src, dst, port, protocol) for dst in pods for port, protocol in ports[dst]
               for src in [*pods, *EXTERNAL_SOURCES] if src != dst]
    queries += [(src, dst, port, protocol) for src in pods for dst in EXTERNAL_SOURCES
                for port, protocol in EXTERNAL_PORTS]
    found = []
    for src, dst, port, protocol in queries:
        src_end = pods.get(src) or Endpoint.address(src)
        dst_end = pods.get(dst) or Endpoint.address(dst)
        ours = policies.allows(src_end, dst_end, port, protocol)
        theirs = nca_map.allows(src, dst, port, protocol)
        if ours != theirs:
            why = []
            if src_end.is_pod:
                why.append("egress: " + policies.decide("egress", src_end, dst_end, port,
                                                        protocol).explain())
            if dst_end.is_pod:
                why.append("ingress: " + policies.decide("ingress", dst_end, src_end, port,
                                                         protocol).explain())
            found.append(f"{src} -> {dst} {port}/{protocol}: ours {ours}, NCA {theirs}. "
                         + "; ".join(why))
    return found


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_calico_verdicts_agree_with_network_config_analyzer(nca, clusters_outside_ip_blocks,
                                                            data):
    spec = data.draw(clusters_outside_ip_blocks.cluster_spec())
    spec["policies"] = spec["policies"][:data.draw(st.integers(0, 2))]
    names = [n["metadata"]["name"] for n in spec["namespaces"]]
    calico = data.draw(calico_policies(names))
    policies = CalicoPolicySet.from_objects(calico, k8s_policies=spec["policies"])
    assert not policies.problems, policies.problems
    by_calico_order = {p.key: p for p in policies.policies}
    ordered = [by_calico_order[key].source for key in by_calico_order
               if by_calico_order[key].kind != "KubernetesNetworkPolicy"]
    objects = (spec["namespaces"] + spec["pods"]
               + [stored_network_policy(p) for p in spec["policies"]]
               + [as_calico_stores_it(p) for p in ordered])
    nca_map = nca.connectivity(objects)
    wrong = disagreements(policies, spec, nca_map)
    assert not wrong, "\n".join(wrong[:5])
