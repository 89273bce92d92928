"""AdminNetworkPolicy / BaselineAdminNetworkPolicy semantics, as tables of connections.

The cases transcribe the behaviour the network-policy-api conformance tests expect (priority
order, Pass, the baseline only where no NetworkPolicy selects the pod, `networks` matching pod
IPs, named ports, port ranges, `nodes` peers) onto our own four-project cluster (conftest).
Every verdict is asserted on `check` and on the matrix alike.
"""

from __future__ import annotations

import pytest

from tests.isolation.adminnetpol.houses import (
    OUTSIDE,
    anp,
    banp,
    cluster_of,
    ip_of,
    netpol,
    team,
    team_pods,
    verdicts,
)


def rule(action: str, peers: list, ports: list | None = None, name: str = "") -> dict:
    body = {"name": name or action.lower(), "action": action, "peers": peers}
    if ports is not None:
        body["ports"] = ports
    return body


def ingress(*rules: dict) -> list[dict]:
    return [{**{k: v for k, v in r.items() if k != "peers"}, "from": r["peers"]} for r in rules]


def egress(*rules: dict) -> list[dict]:
    return [{**{k: v for k, v in r.items() if k != "peers"}, "to": r["peers"]} for r in rules]


FROM_GOLD_PODS = [{"pods": team_pods("gold")}]
RED_PODS = {"pods": team_pods("red")}


def test_the_lower_priority_number_decides_first():
    deny_50 = anp("deny-gold", 50, RED_PODS, ingress=ingress(rule("Deny", FROM_GOLD_PODS)),
                  egress=egress(rule("Deny", FROM_GOLD_PODS)))
    pass_60 = anp("pass-gold", 60, RED_PODS, ingress=ingress(rule("Pass", FROM_GOLD_PODS)),
                  egress=egress(rule("Pass", FROM_GOLD_PODS)))
    allow_baseline = banp(RED_PODS, ingress=ingress(rule("Allow", FROM_GOLD_PODS)),
                          egress=egress(rule("Allow", FROM_GOLD_PODS)))
    cases = [("gold-0", "red-0", 80, "TCP"), ("red-1", "gold-1", 8080, "TCP"),
             ("blue-0", "red-0", 80, "TCP")]
    assert verdicts(cluster_of([deny_50, pass_60, allow_baseline]), cases) == [False, False, True]
    # the Pass moved in front of the Deny (priority 40): NetworkPolicies, then the baseline
    pass_40 = {**pass_60, "spec": {**pass_60["spec"], "priority": 40}}
    assert verdicts(cluster_of([deny_50, pass_40, allow_baseline]), cases) == [True, True, True]


def test_a_pass_skips_every_remaining_admin_policy_lower_precedence_included():
    passes = anp("a-pass", 10, {"namespaces": team("red")},
                 egress=egress(rule("Pass", [{"namespaces": team("blue")}])))
    denies = anp("b-deny", 20, {"namespaces": {}},
                 egress=egress(rule("Deny", [{"namespaces": team("blue")}])))
    cases = [("red-0", "blue-0", 80, "TCP"), ("green-0", "blue-0", 80, "TCP")]
    assert verdicts(cluster_of([passes, denies]), cases) == [True, False]


def test_a_deny_in_front_of_a_pass_of_the_same_policy_wins_by_rule_order():
    policy = anp("ordered", 5, {"namespaces": team("red")}, egress=egress(
        rule("Deny", [{"namespaces": team("blue")}], [{"portNumber": {"port": 80}}]),
        rule("Pass", [{"namespaces": team("blue")}]),
        rule("Allow", [{"namespaces": {}}])))
    blocked = netpol("red/no-egress", podSelector={}, policyTypes=["Egress"])
    cases = [("red-0", "blue-0", 80, "TCP"), ("red-0", "blue-0", 8080, "TCP"),
             ("red-0", "green-0", 8080, "TCP")]
    # 80: the Deny; 8080 to blue: passed to the NetworkPolicy, which denies; green: the Allow
    assert verdicts(cluster_of([policy, blocked]), cases) == [False, False, True]


@pytest.mark.parametrize(("ingress_action", "egress_action", "with_netpol", "expected"), [
    ("Deny", "Deny", True, [False, False]),     # the admin policy denies before anything
    ("Pass", "Pass", True, [True, True]),       # passed: the NetworkPolicy allows
    ("Pass", "Pass", False, [False, False]),    # passed, no NetworkPolicy: the baseline denies
])
def test_admin_policy_then_network_policy_then_baseline(ingress_action, egress_action,
                                                        with_netpol, expected):
    policies = [
        anp("pass-example", 10, {"namespaces": team("red")},
            ingress=ingress(rule(ingress_action, [{"namespaces": team("gold")}])),
            egress=egress(rule(egress_action, [{"namespaces": team("gold")}]))),
        banp({"namespaces": team("red")},
             ingress=ingress(rule("Deny", [{"namespaces": team("gold")}])),
             egress=egress(rule("Deny", [{"namespaces": team("gold")}])))]
    if with_netpol:
        policies.append(netpol("red/allow-gold", podSelector={},
                               policyTypes=["Ingress", "Egress"],
                               ingress=[{"from": [{"namespaceSelector": team("gold")}]}],
                               egress=[{"to": [{"namespaceSelector": team("gold")}]}]))
    cases = [("gold-0", "red-0", 80, "TCP"), ("red-1", "gold-0", 8080, "TCP")]
    assert verdicts(cluster_of(policies), cases) == expected


def test_the_baseline_decides_only_where_no_network_policy_selects_the_pod_in_that_direction():
    baseline = banp({"namespaces": team("red")},
                    ingress=ingress(rule("Deny", [{"namespaces": {}}])),
                    egress=egress(rule("Deny", [{"namespaces": team("blue")}])))
    # selects red's pods for ingress only: egress stays with the baseline
    ingress_only = netpol("red/from-green", podSelector={}, policyTypes=["Ingress"],
                          ingress=[{"from": [{"namespaceSelector": team("green")}]}])
    cases = [("green-0", "red-0", 80, "TCP"),   # the NetworkPolicy allows
             ("blue-0", "red-0", 80, "TCP"),    # the NetworkPolicy denies (not the baseline)
             ("red-0", "blue-0", 80, "TCP"),    # no egress policy: the baseline denies
             ("red-0", "gold-0", 80, "TCP")]    # the baseline matches nothing: allowed
    assert verdicts(cluster_of([baseline, ingress_only]), cases) == [True, False, False, True]
    assert verdicts(cluster_of([baseline]), cases) == [False, False, False, True]


def test_networks_match_pod_addresses_and_outside_addresses():
    policy = anp("cidr-peers", 30, {"namespaces": team("red")}, egress=egress(
        rule("Allow", [{"namespaces": team("gold")}]),
        rule("Allow", [{"networks": [f"{ip_of('blue-0')}/32", f"{ip_of('green-0')}/32"]}]),
        rule("Deny", [{"networks": ["0.0.0.0/0"]}])))
    cases = [("red-0", "gold-1", 80, "TCP"), ("red-0", "blue-0", 53, "UDP"),
             ("red-0", "green-0", 9003, "SCTP"), ("red-0", "blue-1", 80, "TCP"),
             ("red-0", "green-1", 53, "UDP"), ("red-0", OUTSIDE, 443, "TCP"),
             ("blue-0", "green-1", 80, "TCP")]
    assert verdicts(cluster_of([policy]), cases) == [True, True, True, False, False, False, True]


def test_ingress_peers_never_match_outside_addresses():
    policy = anp("deny-in", 1, {"namespaces": team("red")},
                 ingress=ingress(rule("Deny", [{"namespaces": {}}])))
    cases = [(OUTSIDE, "red-0", 80, "TCP"), ("blue-0", "red-0", 80, "TCP")]
    assert verdicts(cluster_of([policy]), cases) == [True, False]


def test_a_named_port_is_resolved_on_the_destination_pod():
    policy = anp("named", 3, {"namespaces": team("red")},
                 ingress=ingress(rule("Deny", [{"namespaces": {}}], [{"namedPort": "web"}])),
                 egress=egress(rule("Deny", [{"networks": ["0.0.0.0/0"]}],
                                    [{"namedPort": "dns"}])))
    cases = [("blue-0", "red-0", 80, "TCP"), ("blue-0", "red-0", 8080, "TCP"),
             ("red-0", "blue-0", 53, "UDP"), ("red-0", "blue-0", 5353, "UDP"),
             ("red-0", OUTSIDE, 53, "UDP")]  # no pod to resolve `dns` on: no match
    assert verdicts(cluster_of([policy]), cases) == [False, True, False, True, True]


def test_port_numbers_and_ranges_match_their_protocol_only():
    policy = anp("ports", 3, {"namespaces": team("red")}, ingress=ingress(
        rule("Deny", [{"namespaces": {}}], [{"portRange": {"start": 8000, "end": 9100}}]),
        rule("Deny", [{"namespaces": {}}],
             [{"portRange": {"protocol": "UDP", "start": 5000, "end": 6000}},
              {"portNumber": {"protocol": "SCTP", "port": 9003}}])))
    cases = [("blue-0", "red-0", 8080, "TCP"), ("blue-0", "red-0", 80, "TCP"),
             ("blue-0", "red-0", 5353, "UDP"), ("blue-0", "red-0", 53, "UDP"),
             ("blue-0", "red-0", 9003, "SCTP")]
    assert verdicts(cluster_of([policy]), cases) == [False, True, False, True, False]


def test_node_peers_match_the_addresses_of_the_selected_nodes():
    policy = anp("nodes", 75, {"pods": team_pods("red")}, egress=egress(
        rule("Allow", [{"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}],
             [{"portNumber": {"port": 36363}}]),
        rule("Pass", [{"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}],
             [{"portNumber": {"protocol": "UDP", "port": 5353}}]),
        rule("Deny", [{"pods": team_pods("gold")},
                      {"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}])))
    cases = [("red-0", "192.168.7.2", 36363, "TCP"), ("red-0", "192.168.7.2", 5353, "UDP"),
             ("red-0", "192.168.7.2", 22, "TCP"), ("red-0", "192.168.7.3", 22, "TCP"),
             ("red-0", "gold-0", 80, "TCP"), ("red-0", "blue-0", 80, "TCP")]
    assert verdicts(cluster_of([policy]), cases) == [True, True, False, True, False, True]


def test_the_subject_is_limited_to_the_selected_pods():
    policy = anp("only-red-0", 1, {"pods": {"namespaceSelector": {},
                                            "podSelector": {"matchExpressions": [
                                                {"key": "team", "operator": "In",
                                                 "values": ["red"]}]}}},
                 egress=egress(rule("Deny", [{"namespaces": {}}])))
    cases = [("red-0", "blue-0", 80, "TCP"), ("blue-0", "red-0", 80, "TCP")]
    assert verdicts(cluster_of([policy]), cases) == [False, True]


def test_policies_sharing_a_priority_run_by_name_with_a_warning():
    allow = anp("a-allow", 7, {"namespaces": team("red")},
                egress=egress(rule("Allow", [{"namespaces": team("blue")}])))
    deny = anp("b-deny", 7, {"namespaces": team("red")},
               egress=egress(rule("Deny", [{"namespaces": team("blue")}])))
    cluster = cluster_of([deny, allow])
    assert verdicts(cluster, [("red-0", "blue-0", 80, "TCP")]) == [True]
    assert cluster.warnings == ["AdminNetworkPolicies a-allow, b-deny share priority 7: their "
                                "order is undefined by the API (evaluated here by name)"]


def test_a_whole_matrix_agrees_with_every_check():
    policies = [
        anp("platform", 1, {"namespaces": {}}, egress=egress(
            rule("Deny", [{"networks": ["169.254.169.254/32"]}]),
            rule("Pass", [{"namespaces": team("gold")}], [{"namedPort": "web"}]))),
        anp("red-lockdown", 20, {"namespaces": team("red")},
            ingress=ingress(rule("Allow", [{"pods": team_pods("blue")}],
                                 [{"portNumber": {"port": 8080}}]),
                            rule("Deny", [{"namespaces": {}}]))),
        netpol("gold/web-only", podSelector={}, ingress=[{"ports": [{"port": 80}]}]),
        banp({"namespaces": team("green")}, ingress=ingress(
            rule("Deny", [{"namespaces": team("blue")}],
                 [{"portRange": {"start": 1, "end": 1024}}]))),
    ]
    cluster = cluster_of(policies)
    matrix = cluster.matrix()
    checked = 0
    for connection in matrix.connections():
        verdict = cluster.check(connection.src, connection.dst, connection.port,
                                connection.protocol)
        assert verdict.allowed == connection.allowed, verdict.explain()
        checked += 1
    # 8 pods to the 7 others and the outside address to the 8 pods, on 5 ports each
    assert checked == (8 * 7 + 8) * 5
    assert 0 < matrix.counts().allowed < matrix.counts().total
