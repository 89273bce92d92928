"""Every rule of DESIGN §3, table-driven, checked with both `check` and `matrix`.

World: namespaces prod (team=a), dev (team=b), ops (no team label); pods
prod/web (app=web, tier=front; 80/TCP http, 53/UDP dns, 9000/SCTP), prod/db (app=db; 5432/TCP
pg, 8000/TCP), dev/client (app=client; 8080/TCP http), ops/mon (no labels; 9090/TCP), and
the external address 203.0.113.7.
"""

from __future__ import annotations

from typing import Any

import pytest

EXTERNAL = "203.0.113.7"


def pol(key: str, **spec: Any) -> dict[str, Any]:
    namespace, name = key.split("/")
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


def world(k8s, policies, nodes=(), extra_ips=(EXTERNAL,)):
    return k8s.cluster(
        [k8s.namespace("prod", team="a"), k8s.namespace("dev", team="b"), k8s.namespace("ops")],
        [k8s.pod("prod/web", "10.1.0.1", {"app": "web", "tier": "front"},
                 ports=((80, "TCP", "http"), (53, "UDP", "dns"), (9000, "SCTP", None))),
         k8s.pod("prod/db", "10.1.0.2", {"app": "db"},
                 ports=((5432, "TCP", "pg"), (8000, "TCP", None)), node="node-2"),
         k8s.pod("dev/client", "10.2.0.1", {"app": "client"}, ports=((8080, "TCP", "http"),)),
         k8s.pod("ops/mon", "10.3.0.1", {}, ports=((9090, "TCP", None),))],
        policies, nodes=list(nodes), extra_ips=list(extra_ips))


DENY_INGRESS_PROD = pol("prod/deny", podSelector={}, policyTypes=["Ingress"])
DENY_EGRESS_PROD = pol("prod/deny-out", podSelector={}, policyTypes=["Egress"])
FROM_DEV = {"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}]}

# (case id, policies, source, destination, port, protocol, allowed)
CASES = [
    # isolation needs a selecting policy with the direction in its policyTypes
    ("no policy: everything allowed", [], "dev/client", "prod/web", 80, "TCP", True),
    ("policy selecting another pod does not isolate",
     [pol("prod/db-only", podSelector={"matchLabels": {"app": "db"}}, ingress=[])],
     "dev/client", "prod/web", 80, "TCP", True),
    ("policy of another namespace does not isolate",
     [pol("dev/deny", podSelector={}, policyTypes=["Ingress"])],
     "ops/mon", "prod/web", 80, "TCP", True),
    ("ingress-only policy leaves egress open",
     [DENY_INGRESS_PROD], "prod/web", "dev/client", 8080, "TCP", True),
    ("egress-only policy leaves ingress open",
     [DENY_EGRESS_PROD], "dev/client", "prod/web", 80, "TCP", True),
    ("egress rules default policyTypes to Ingress and Egress",
     [pol("prod/out", podSelector={}, egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])],
     "prod/web", "dev/client", 8080, "TCP", False),
    ("defaulted Ingress also isolates ingress",
     [pol("prod/out", podSelector={}, egress=[{}])], "dev/client", "prod/web", 80, "TCP", False),
    ("explicit Egress-only policyTypes ignores ingress rules",
     [pol("prod/x", podSelector={}, ingress=[], egress=[{}], policyTypes=["Egress"])],
     "dev/client", "prod/web", 80, "TCP", True),
    ("empty policyTypes are defaulted",
     [pol("prod/x", podSelector={}, policyTypes=[])], "dev/client", "prod/web", 80, "TCP", False),
    # union of rules of all selecting policies
    ("second policy adds an allow",
     [DENY_INGRESS_PROD, pol("prod/allow-dev", podSelector={}, ingress=[FROM_DEV])],
     "dev/client", "prod/web", 80, "TCP", True),
    ("union does not open other peers",
     [DENY_INGRESS_PROD, pol("prod/allow-dev", podSelector={}, ingress=[FROM_DEV])],
     "ops/mon", "prod/web", 80, "TCP", False),
    # both ends must allow
    ("egress deny at the source blocks despite open ingress",
     [DENY_EGRESS_PROD], "prod/web", "prod/db", 5432, "TCP", False),
    ("ingress deny at the destination blocks despite open egress",
     [DENY_INGRESS_PROD], "dev/client", "prod/db", 5432, "TCP", False),
    ("external source has no egress side",
     [DENY_EGRESS_PROD], EXTERNAL, "dev/client", 8080, "TCP", True),
    ("external destination has no ingress side",
     [DENY_INGRESS_PROD], "prod/web", EXTERNAL, 443, "TCP", True),
    # empty ingress / rules with missing or empty from, to, ports
    ("ingress: [] allows nothing", [pol("prod/x", podSelector={}, ingress=[])],
     "prod/db", "prod/web", 80, "TCP", False),
    ("rule without from matches every pod", [pol("prod/x", podSelector={}, ingress=[{}])],
     "ops/mon", "prod/web", 80, "TCP", True),
    ("rule without from matches external addresses",
     [pol("prod/x", podSelector={}, ingress=[{}])], EXTERNAL, "prod/web", 80, "TCP", True),
    ("rule with empty from matches external addresses",
     [pol("prod/x", podSelector={}, ingress=[{"from": []}])], EXTERNAL, "prod/web", 80, "TCP", True),
    ("rule with empty to matches external addresses",
     [pol("prod/x", podSelector={}, egress=[{"to": [], "ports": [{"port": 443}]}])],
     "prod/web", EXTERNAL, 443, "TCP", True),
    ("rule without ports matches every protocol",
     [pol("prod/x", podSelector={}, ingress=[FROM_DEV])], "dev/client", "prod/web", 9000, "SCTP", True),
    ("rule with empty ports matches every port",
     [pol("prod/x", podSelector={}, ingress=[{**FROM_DEV, "ports": []}])],
     "dev/client", "prod/web", 53, "UDP", True),
    # peers: AND within an entry, OR across entries, podSelector alone = own namespace
    ("podSelector alone means the policy's namespace",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"podSelector": {}}]}])],
     "dev/client", "prod/web", 80, "TCP", False),
    ("podSelector alone admits its own namespace",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"podSelector": {}}]}])],
     "prod/db", "prod/web", 80, "TCP", True),
    ("namespaceSelector {} selects every namespace",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"namespaceSelector": {}}]}])],
     "ops/mon", "prod/web", 80, "TCP", True),
    ("namespaceSelector never matches external addresses",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"namespaceSelector": {}}]}])],
     EXTERNAL, "prod/web", 80, "TCP", False),
    ("both selectors in one entry: namespace matches, pod does not",
     [pol("prod/x", podSelector={}, ingress=[{"from": [
         {"namespaceSelector": {"matchLabels": {"team": "b"}},
          "podSelector": {"matchLabels": {"app": "other"}}}]}])],
     "dev/client", "prod/web", 80, "TCP", False),
    ("both selectors in one entry: both match",
     [pol("prod/x", podSelector={}, ingress=[{"from": [
         {"namespaceSelector": {"matchLabels": {"team": "b"}},
          "podSelector": {"matchLabels": {"app": "client"}}}]}])],
     "dev/client", "prod/web", 80, "TCP", True),
    ("separate entries are ORed",
     [pol("prod/x", podSelector={}, ingress=[{"from": [
         {"namespaceSelector": {"matchLabels": {"team": "b"}}},
         {"podSelector": {"matchLabels": {"app": "other"}}}]}])],
     "dev/client", "prod/web", 80, "TCP", True),
    ("egress to a pod selected in another namespace",
     [pol("prod/x", podSelector={}, egress=[{"to": [
         {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ops"}}}]}])],
     "prod/web", "ops/mon", 9090, "TCP", True),
    ("egress podSelector alone does not reach other namespaces",
     [pol("prod/x", podSelector={}, egress=[{"to": [{"podSelector": {}}]}])],
     "prod/web", "ops/mon", 9090, "TCP", False),
    # matchExpressions on missing keys
    ("NotIn matches a namespace lacking the key",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"namespaceSelector": {
         "matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["b"]}]}}]}])],
     "ops/mon", "prod/web", 80, "TCP", True),
    ("NotIn rejects the listed value",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"namespaceSelector": {
         "matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["b"]}]}}]}])],
     "dev/client", "prod/web", 80, "TCP", False),
    ("DoesNotExist matches a pod lacking the key",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"namespaceSelector": {}, "podSelector": {
         "matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}}]}])],
     "ops/mon", "prod/web", 80, "TCP", True),
    ("DoesNotExist rejects a pod with the key",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"namespaceSelector": {}, "podSelector": {
         "matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}}]}])],
     "dev/client", "prod/web", 80, "TCP", False),
    ("In does not match a missing key",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"namespaceSelector": {
         "matchExpressions": [{"key": "team", "operator": "In", "values": ["a", "b"]}]}}]}])],
     "ops/mon", "prod/web", 80, "TCP", False),
    ("Exists matches any value",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"namespaceSelector": {
         "matchExpressions": [{"key": "team", "operator": "Exists"}]}}]}])],
     "dev/client", "prod/web", 80, "TCP", True),
    ("target selection by matchExpressions",
     [pol("prod/x", podSelector={"matchExpressions": [
         {"key": "tier", "operator": "In", "values": ["front"]}]}, ingress=[])],
     "dev/client", "prod/db", 5432, "TCP", True),
    # ipBlock
    ("ipBlock admits an external address",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]}])],
     EXTERNAL, "prod/web", 80, "TCP", True),
    ("ipBlock except removes an address",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"ipBlock": {
         "cidr": "203.0.113.0/24", "except": ["203.0.113.0/29"]}}]}])],
     EXTERNAL, "prod/web", 80, "TCP", False),
    ("ipBlock matches pod IPs too",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"ipBlock": {"cidr": "10.2.0.0/16"}}]}])],
     "dev/client", "prod/web", 80, "TCP", True),
    ("ipBlock on egress matches a pod destination",
     [pol("prod/x", podSelector={}, egress=[{"to": [{"ipBlock": {"cidr": "10.3.0.1/32"}}]}])],
     "prod/web", "ops/mon", 9090, "TCP", True),
    ("CIDR with host bits is masked",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"ipBlock": {"cidr": "203.0.113.99/24"}}]}])],
     EXTERNAL, "prod/web", 80, "TCP", True),
    ("IPv4 block never matches another family",
     [pol("prod/x", podSelector={}, ingress=[{"from": [{"ipBlock": {"cidr": "::/0"}}]}])],
     EXTERNAL, "prod/web", 80, "TCP", False),
    # ports: protocols, named ports, endPort
    ("numeric port matches", [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 80}]}])],
     "dev/client", "prod/web", 80, "TCP", True),
    ("numeric port mismatch", [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 81}]}])],
     "dev/client", "prod/web", 80, "TCP", False),
    ("default protocol TCP does not admit UDP",
     [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 53}]}])],
     "dev/client", "prod/web", 53, "UDP", False),
    ("UDP port", [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])],
     "dev/client", "prod/web", 53, "UDP", True),
    ("SCTP port", [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 9000, "protocol": "SCTP"}]}])],
     "dev/client", "prod/web", 9000, "SCTP", True),
    ("SCTP rule does not admit TCP",
     [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 9000, "protocol": "SCTP"}]}])],
     "dev/client", "prod/web", 9000, "TCP", False),
    ("protocol without port admits every port of it",
     [pol("prod/x", podSelector={}, ingress=[{"ports": [{"protocol": "UDP"}]}])],
     "dev/client", "prod/web", 53, "UDP", True),
    ("named port resolved on the destination",
     [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": "http"}]}])],
     "dev/client", "prod/web", 80, "TCP", True),
    ("named port does not match another number",
     [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": "pg"}]}])],
     "dev/client", "prod/db", 8000, "TCP", False),
    ("named port needs the same protocol",
     [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": "dns", "protocol": "TCP"}]}])],
     "dev/client", "prod/web", 53, "UDP", False),
    ("named port of UDP", [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": "dns", "protocol": "UDP"}]}])],
     "dev/client", "prod/web", 53, "UDP", True),
    ("egress named port resolved on the destination pod",
     [pol("prod/x", podSelector={}, egress=[{"ports": [{"port": "http"}]}])],
     "prod/web", "dev/client", 8080, "TCP", True),
    ("egress named port cannot match an external address",
     [pol("prod/x", podSelector={}, egress=[{"ports": [{"port": "http"}]}])],
     "prod/web", EXTERNAL, 80, "TCP", False),
    ("endPort range includes its ends",
     [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 5000, "endPort": 5432}]}])],
     "dev/client", "prod/db", 5432, "TCP", True),
    ("endPort range excludes beyond",
     [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 5433, "endPort": 6000}]}])],
     "dev/client", "prod/db", 5432, "TCP", False),
    ("several port entries are ORed",
     [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 1}, {"port": 8000}]}])],
     "dev/client", "prod/db", 8000, "TCP", True),
    ("peer and port must match in the same rule",
     [pol("prod/x", podSelector={}, ingress=[
         {**FROM_DEV, "ports": [{"port": 1}]}, {"from": [{"podSelector": {}}], "ports": [{"port": 80}]}])],
     "dev/client", "prod/web", 80, "TCP", False),
]


@pytest.mark.parametrize(("policies", "src", "dst", "port", "protocol", "allowed"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_network_policy_semantics(k8s, policies, src, dst, port, protocol, allowed):
    cluster = world(k8s, policies)
    verdict = cluster.check(src, dst, port, protocol)
    assert verdict.allowed is allowed, verdict.explain()
    matrix = cluster.matrix([src], [dst], [(port, protocol)])
    assert matrix.allowed(0, 0, (port, protocol)) is allowed


NODES = [
    {"kind": "Node", "metadata": {"name": "node-1", "annotations": {
        "projectcalico.org/IPv4IPIPTunnelAddr": "10.244.1.0"}},
     "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.1"}]}},
    {"kind": "Node", "metadata": {"name": "node-2"},
     "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.2"}]}},
]


@pytest.mark.parametrize(("source", "allowed"), [
    ("192.168.1.1", True),   # prod/web's own node
    ("10.244.1.0", True),    # its Calico tunnel address
    ("192.168.1.2", False),  # another node is just an address
])
def test_traffic_from_the_pods_own_node_is_always_allowed(k8s, source, allowed):
    cluster = world(k8s, [pol("prod/deny", podSelector={}, ingress=[])], nodes=NODES,
                    extra_ips=[source])
    verdict = cluster.check(source, "prod/web", 80)
    assert verdict.allowed is allowed
    assert verdict.src.kind == "node"
    matrix = cluster.matrix()
    row = matrix.sources.index(matrix.sources[-1])
    web = [d.name for d in matrix.destinations].index("prod/web")
    assert matrix.allowed(row, web, 80) is allowed


def test_a_pod_ip_as_source_means_that_pod(k8s):
    cluster = world(k8s, [pol("prod/x", podSelector={}, ingress=[FROM_DEV])])
    verdict = cluster.check("10.2.0.1", "prod/web", 80)
    assert verdict.allowed
    assert verdict.src.name == "dev/client" and verdict.src.kind == "pod"


def test_host_network_pods_are_not_policy_targets(k8s):
    cluster = k8s.cluster(
        [k8s.namespace("prod")],
        [k8s.pod("prod/agent", "192.168.1.1", {"app": "agent"}, host_network=True),
         k8s.pod("prod/web", "10.1.0.1", {"app": "web"})],
        [pol("prod/deny", podSelector={}, egress=[], ingress=[])],
        nodes=NODES)
    verdict = cluster.check("prod/agent", "prod/web", 80)
    assert verdict.allowed and not verdict.egress.applies and verdict.src.kind == "node"
    assert [e.name for e in cluster.matrix().sources] == ["prod/web"]


def test_finished_pods_are_left_out(k8s):
    cluster = k8s.cluster([k8s.namespace("prod")],
                          [k8s.pod("prod/job", "10.1.0.9", phase="Succeeded"),
                           k8s.pod("prod/web", "10.1.0.1")])
    assert [p.key for p in cluster.pods] == ["prod/web"]
    assert cluster.check("10.1.0.9", "prod/web", 80).src.kind == "external"


def test_a_namespace_missing_from_the_snapshot_has_only_its_name_label(k8s):
    cluster = k8s.cluster([], [k8s.pod("ghost/a", "10.9.0.1"), k8s.pod("prod/web", "10.1.0.1")],
                          [pol("prod/x", podSelector={}, ingress=[{"from": [{"namespaceSelector": {
                              "matchLabels": {"kubernetes.io/metadata.name": "ghost"}}}]}])])
    assert cluster.check("ghost/a", "prod/web", 80).allowed


@pytest.mark.parametrize(("ref", "message"), [
    ("prod/nope", "there is no pod prod/nope"),
    ("not-an-address", "neither namespace/pod nor an IP address"),
])
def test_unknown_ends_are_refused(k8s, ref, message):
    with pytest.raises(ValueError, match=message):
        world(k8s, []).check(ref, "prod/web", 80)


def test_a_named_query_port_is_resolved_on_the_destination(k8s):
    cluster = world(k8s, [pol("prod/x", podSelector={}, ingress=[{"ports": [{"port": 80}]}])])
    verdict = cluster.check("dev/client", "prod/web", "http")
    assert verdict.port == 80 and verdict.allowed
    with pytest.raises(ValueError, match="no TCP port named 'dns'"):
        cluster.check("dev/client", "prod/web", "dns")


def test_ipv6_addresses_are_matched_by_ipv6_blocks(k8s):
    cluster = k8s.cluster(
        [k8s.namespace("v6")],
        [k8s.pod("v6/web", "fd00::10", {"app": "web"}), k8s.pod("v6/cli", "fd00::20")],
        [pol("v6/x", podSelector={"matchLabels": {"app": "web"}}, ingress=[{"from": [
            {"ipBlock": {"cidr": "fd00::/64", "except": ["fd00::20/128"]}},
            {"ipBlock": {"cidr": "2001:db8::/32"}}]}])],
        extra_ips=["2001:db8::1", "2001:db9::1"])
    expected = {("v6/cli", "v6/web"): False, ("2001:db8::1", "v6/web"): True,
                ("2001:db9::1", "v6/web"): False, ("v6/web", "v6/cli"): True,
                ("2001:db8::1", "v6/cli"): True, ("2001:db9::1", "v6/cli"): True}
    matrix = cluster.matrix()
    assert {(c.src, c.dst): c.allowed for c in matrix.connections()} == expected
    for (src, dst), allowed in expected.items():
        assert cluster.check(src, dst, 80).allowed is allowed
    assert cluster.check("fd00:0:0:0::10", "v6/cli", 80).src.name == "v6/web"


@pytest.mark.parametrize(("destination", "allowed"), [
    ("192.168.1.1", True),   # prod/web's own node: always reachable
    ("192.168.1.2", False),  # another node is just an address
])
def test_egress_to_the_pods_own_node_is_always_allowed(k8s, destination, allowed):
    cluster = world(k8s, [pol("prod/deny", podSelector={}, policyTypes=["Egress"])], nodes=NODES,
                    extra_ips=[destination])
    verdict = cluster.check("prod/web", destination, 10250)
    assert verdict.allowed is allowed, verdict.explain()
    # the matrix agrees with the check, for every pod and its node
    matrix = cluster.matrix(destinations=[destination], ports=[(10250, "TCP")])
    web = [s.name for s in matrix.sources].index("prod/web")
    assert matrix.allowed(web, 0, 10250) is allowed
    others = [i for i, s in enumerate(matrix.sources) if s.is_pod and s.name != "prod/web"]
    for i in others:
        expected = cluster.check(matrix.sources[i].name, destination, 10250).allowed
        assert matrix.allowed(i, 0, 10250) is expected


def test_a_pod_always_reaches_itself(k8s):
    cluster = world(k8s, [pol("prod/deny", podSelector={}, policyTypes=["Ingress", "Egress"])])
    verdict = cluster.check("prod/web", "prod/web", 80)
    assert verdict.allowed
    assert "itself" in verdict.explain()
