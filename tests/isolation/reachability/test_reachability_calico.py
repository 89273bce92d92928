"""Calico tiers in the engine, with Kubernetes NetworkPolicies and AdminNetworkPolicies: each
rule of issue 16's "easy to get wrong" list as a table, the check and the matrix agreeing on
every case, and explanations naming kind, tier, policy, rule and action."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import yaml

from isolation.cli.reachability import main
from isolation.reachability.engine import Cluster
from tests.isolation.adminnetpol.houses import (
    anp,
    banp,
    cluster_of,
    netpol,
    ref,
    snapshot_of,
    team,
    verdicts,
)

V3, V1 = "projectcalico.org/v3", "crd.projectcalico.org/v1"


def tier(name: str, order: float | None = None, group: str = V3, **spec) -> dict:
    return {"apiVersion": group, "kind": "Tier", "metadata": {"name": name},
            "spec": {**({"order": order} if order is not None else {}), **spec}}


def gnp(name: str, group: str = V3, **spec) -> dict:
    return {"apiVersion": group, "kind": "GlobalNetworkPolicy", "metadata": {"name": name},
            "spec": spec}


def cnp(key: str, group: str = V3, **spec) -> dict:
    namespace, name = key.split("/")
    return {"apiVersion": group, "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def deny_to(cidr: str) -> dict:
    return {"action": "Deny", "destination": {"nets": [cidr]}}


def agree(cluster: Cluster) -> None:
    """The matrix and the explained checks agree on every connection."""
    matrix = cluster.matrix()
    for connection in matrix.connections():
        verdict = cluster.check(connection.src, connection.dst, connection.port,
                                connection.protocol)
        assert verdict.allowed == connection.allowed, verdict.explain()


FROM_GOLD = netpol("red/from-gold", podSelector={},
                   ingress=[{"from": [{"namespaceSelector": team("gold")}]}])


# -- the layer order ---------------------------------------------------------------------------

def test_without_calico_objects_the_layers_are_unchanged():
    assert [layer.kind for layer in cluster_of([FROM_GOLD]).layers] == ["NetworkPolicy"]


def test_tiers_run_by_order_around_the_admin_and_baseline_tiers():
    cluster = cluster_of([
        tier("late"), tier("early", 10), tier("b-mid", 5000), tier("a-mid", 5000),
        *(gnp(f"{name}.p", tier=name, selector="all()", ingress=[{"action": "Pass"}])
          for name in ("late", "early", "b-mid", "a-mid")),
        anp("a", 1, {"namespaces": {}}, ingress=[
            {"name": "x", "action": "Pass", "from": [{"namespaces": {}}]}]),
        banp({"namespaces": {}}, ingress=[{"name": "x", "action": "Allow",
                                           "from": [{"namespaces": {}}]}]),
        FROM_GOLD])
    # equal orders by name; a tier without order runs after every ordered one, the default
    # tier (1,000,000) and kube-baseline (10,000,000) included
    assert [getattr(layer, "name", layer.kind) for layer in cluster.layers] == [
        "early", "AdminNetworkPolicy", "a-mid", "b-mid", "default",
        "BaselineAdminNetworkPolicy", "late"]


# -- the easy-to-get-wrong rules ---------------------------------------------------------------

@pytest.mark.parametrize("objects, cases, expected", [
    # a Calico policy ordered before the Kubernetes ones (1000) denies first
    ([FROM_GOLD, cnp("red/no-8080", order=500, selector="all()", ingress=[
        {"action": "Deny", "protocol": "TCP", "destination": {"ports": [8080]}}])],
     [("gold-0", "red-0", 80, "TCP"), ("gold-0", "red-0", 8080, "TCP")], [True, False]),
    # one ordered after them still allows what they did not, before the end-of-tier deny
    ([FROM_GOLD, cnp("red/late-blue", order=2000, selector="all()", ingress=[
        {"action": "Allow", "source": {"namespaceSelector": "team == 'blue'"}}])],
     [("blue-0", "red-0", 80, "TCP"), ("green-0", "red-0", 80, "TCP")], [True, False]),
    # the end-of-tier deny only where a policy of the tier selects the pod for the direction
    ([tier("platform", 100), gnp("platform.red-in", tier="platform",
                                 selector="team == 'red'", ingress=[
                                     {"action": "Allow", "source": {"selector": "team == 'gold'"}}])],
     [("gold-0", "red-0", 80, "TCP"), ("blue-0", "red-0", 80, "TCP"),
      ("red-0", "blue-0", 80, "TCP")], [True, False, True]),
    # a Pass out of the last tier lands on the profile: allowed
    ([tier("platform", 100), gnp("platform.pass", tier="platform", selector="all()",
                                 ingress=[{"action": "Pass"}])],
     [("blue-0", "red-0", 80, "TCP")], [True]),
    # a tier whose defaultAction is Pass has no end-of-tier deny
    ([tier("soft", 100, defaultAction="Pass"),
      gnp("soft.red", tier="soft", selector="team == 'red'", ingress=[
          {"action": "Deny", "source": {"selector": "team == 'green'"}}])],
     [("blue-0", "red-0", 80, "TCP"), ("green-0", "red-0", 80, "TCP")], [True, False]),
    # types default from the rules present: egress rules only → Egress only
    ([cnp("red/egress-only", selector="all()", egress=[
        {"action": "Allow", "destination": {"selector": "team == 'red'"}}])],
     [("blue-0", "red-0", 80, "TCP"), ("red-0", "blue-0", 80, "TCP"),
      ("red-0", "red-1", 80, "TCP")], [True, False, True]),
    # in a namespaced policy a rule's selector, notSelector included, means its namespace only
    ([cnp("red/not-gold", selector="all()", ingress=[
        {"action": "Allow", "source": {"notSelector": "team == 'gold'"}}])],
     [("red-1", "red-0", 80, "TCP"), ("blue-0", "red-0", 80, "TCP")], [True, False]),
    # `k != 'v'` and `not in {}` match pods that lack the key
    ([gnp("no-label", selector="all()", namespaceSelector="team == 'red'", ingress=[
        {"action": "Allow", "source": {"selector": "color != 'x' && size not in {'s'}"}}])],
     [("blue-0", "red-0", 80, "TCP")], [True]),
    # selectors never match bare addresses, all() included
    ([gnp("pods-only", selector="team == 'red'", ingress=[
        {"action": "Allow", "source": {"selector": "all()"}}])],
     [("blue-0", "red-0", 80, "TCP"), ("203.0.113.9", "red-0", 80, "TCP")], [True, False]),
    # nets match pod IPs too
    ([gnp("no-blue-ips", selector="all()", egress=[deny_to("10.8.1.0/24"), {"action": "Allow"}])],
     [("red-0", "blue-0", 80, "TCP"), ("red-0", "gold-0", 80, "TCP")], [False, True]),
    # ports, named ports and protocols of the destination
    ([gnp("web-only", selector="team == 'red'", ingress=[
        {"action": "Allow", "protocol": "TCP", "destination": {"ports": ["web"]}},
        {"action": "Allow", "protocol": "UDP", "destination": {"ports": ["5000:6000"]}}])],
     [("blue-0", "red-0", 80, "TCP"), ("blue-0", "red-0", 8080, "TCP"),
      ("blue-0", "red-0", 5353, "UDP"), ("blue-0", "red-0", 53, "UDP")],
     [True, False, True, False]),
    # the crd.projectcalico.org/v1 store reads the same, default-tier names prefixed
    ([gnp("default.no-blue", group=V1, selector="all()",
          egress=[deny_to("10.8.1.0/24"), {"action": "Allow"}])],
     [("red-0", "blue-0", 80, "TCP")], [False]),
    # an ANP Pass goes on to the Calico tiers after kube-admin, which then decide
    ([anp("pass-red", 1, {"namespaces": team("red")}, ingress=[
        {"name": "p", "action": "Pass", "from": [{"namespaces": {}}]}]),
      tier("after-admin", 5000),
      gnp("after-admin.red", tier="after-admin", selector="team == 'red'", ingress=[
          {"action": "Deny", "source": {"selector": "team == 'blue'"}}, {"action": "Pass"}])],
     [("blue-0", "red-0", 80, "TCP"), ("gold-0", "red-0", 80, "TCP")], [False, True]),
    # a tier before kube-admin decides before any AdminNetworkPolicy
    ([tier("first", 10), gnp("first.allow", tier="first", selector="team == 'red'",
                             ingress=[{"action": "Allow"}]),
      anp("deny-red", 1, {"namespaces": team("red")}, ingress=[
          {"name": "d", "action": "Deny", "from": [{"namespaces": {}}]}])],
     [("blue-0", "red-0", 80, "TCP")], [True]),
    # the baseline decides only where no default-tier policy selects the pod
    ([FROM_GOLD, banp({"namespaces": {}}, ingress=[
        {"name": "no-blue", "action": "Deny", "from": [{"namespaces": team("blue")}]}])],
     [("blue-0", "green-0", 80, "TCP"), ("gold-0", "red-0", 80, "TCP")], [False, True]),
])
def test_calico_semantics_in_the_engine(objects, cases, expected):
    cluster = cluster_of(objects)
    assert verdicts(cluster, cases) == expected
    agree(cluster)


def test_an_egress_deny_to_everything_cuts_pod_traffic_but_not_the_pod_itself():
    cluster = cluster_of([gnp("no-egress", selector="team == 'red'", egress=[deny_to("0.0.0.0/0")])])
    assert verdicts(cluster, [("red-0", "red-1", 80, "TCP"), ("red-0", "203.0.113.9", 80, "TCP")]) \
        == [False, False]
    assert cluster.check("red/red-0", "red/red-0", 80).allowed


# -- explanations ------------------------------------------------------------------------------

PLATFORM = [tier("platform", 100), gnp(
    "platform.no-metadata", tier="platform", order=10, selector="all()",
    namespaceSelector="has(team)", types=["Egress"],
    egress=[deny_to("169.254.169.254/32"), {"action": "Pass"}])]


def test_a_calico_deny_names_kind_tier_policy_rule_and_action():
    verdict = cluster_of(PLATFORM).check("red/red-0", "169.254.169.254", 80)
    assert not verdict.allowed
    decided = verdict.egress.decided_by
    assert (decided.kind, decided.policy, decided.tier, decided.rule_index, decided.action,
            decided.priority) == ("GlobalNetworkPolicy", "platform.no-metadata", "platform", 0,
                                  "Deny", 10)
    assert verdict.egress.reason == (
        "Egress from red/red-0 is denied by GlobalNetworkPolicy platform.no-metadata in tier "
        "platform (order 10) egress rule 0 (Deny), before any project policy.")


def test_a_pass_and_the_kubernetes_policies_after_it_keep_their_explanations():
    verdict = cluster_of([*PLATFORM, FROM_GOLD]).check("gold/gold-0", "red/red-0", 80)
    assert verdict.allowed
    assert [r.policy for r in verdict.egress.passed_by] == ["platform.no-metadata"]
    assert verdict.ingress.decided_by.kind == "NetworkPolicy"
    assert verdict.ingress.matched[0].policy == "red/from-gold"
    assert verdict.ingress.isolated


def test_the_end_of_tier_deny_says_so():
    cluster = cluster_of([tier("platform", 100), gnp(
        "platform.red-in", tier="platform", selector="team == 'red'",
        ingress=[{"action": "Allow", "source": {"selector": "team == 'gold'"}}])])
    verdict = cluster.check("blue/blue-0", "red/red-0", 80)
    assert not verdict.allowed
    assert verdict.ingress.decided_by.kind == "GlobalNetworkPolicy"
    assert verdict.ingress.decided_by.rule_index is None
    assert verdict.ingress.reason.startswith(
        "Ingress to red/red-0 is denied at the end of Calico tier platform: "
        "GlobalNetworkPolicy platform.red-in selects the pod")


def test_a_kubernetes_deny_under_calico_reads_as_before():
    plain = cluster_of([FROM_GOLD]).check("blue/blue-0", "red/red-0", 80)
    calico = cluster_of([*PLATFORM, FROM_GOLD]).check("blue/blue-0", "red/red-0", 80)
    assert calico.ingress.reason == plain.ingress.reason
    assert calico.ingress.decided_by == plain.ingress.decided_by
    assert calico.ingress.nearest_miss == plain.ingress.nearest_miss


def test_calico_objects_that_cannot_be_evaluated_are_warned_about():
    cluster = cluster_of([gnp("bad", selector="team ==", ingress=[{"action": "Allow"}]),
                          *PLATFORM])
    assert any("GlobalNetworkPolicy bad" in warning for warning in cluster.warnings)


def test_the_command_fills_kind_and_decided_by_for_calico(tmp_path, capsys):
    snapshot = snapshot_of([*PLATFORM, FROM_GOLD])
    path = tmp_path / "snapshot.yaml"
    path.write_text(yaml.safe_dump_all(snapshot.objects()))
    queries = tmp_path / "q.json"
    queries.write_text(json.dumps([{"from": ref("red-0"), "to": "169.254.169.254", "port": 80}]))
    out = io.StringIO()
    assert main(["--snapshot", str(path), "--queries", str(queries)], stdout=out) == 0
    result = json.loads(out.getvalue())["results"][0]
    assert result["kind"] == "GlobalNetworkPolicy"
    assert result["egress"]["decided_by"]["tier"] == "platform"
    assert "ignored" not in capsys.readouterr().err


@pytest.mark.parametrize("values", [[0], [5, 5, 0, 7, 5, 0], list(range(40, 0, -3)) * 2,
                                    [10 ** 9, 3, 10 ** 9, 4]])
def test_label_value_codes_are_numbered_alike_exactly_when_equal(values):
    from isolation.reachability.calico_classes import distinct
    code = np.array(values, dtype=np.int64)
    holders, number = distinct(code)
    assert len(holders) == len(set(values))
    for i, value in enumerate(values):
        assert code[holders[number[i]]] == value
    assert sorted(set(number.tolist())) == list(range(len(holders)))
