"""Policy layers in the engine: verdicts decided by an AdminNetworkPolicy or the baseline are
explained with the deciding rule, a Pass says it handed over, the JSON names the deciding
kind, and a layer of another kind plugs in through `isolation.reachability.layers`."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import yaml

from isolation.cli.reachability import main
from isolation.reachability.engine import Cluster, InvalidPolicyError
from isolation.reachability.layers import ALLOW, DENY, ClassBlock, ClassInputs, LayerDecision
from isolation.reachability.layers import PolicyRef as LayerPolicyRef
from tests.isolation.adminnetpol.houses import (
    anp,
    banp,
    cluster_of,
    netpol,
    snapshot_of,
    team,
)

PLATFORM = anp("platform", 5, {"namespaces": {}}, egress=[
    {"name": "no-metadata", "action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]},
    {"name": "gold-to-projects", "action": "Pass", "to": [{"namespaces": team("gold")}]}])
RED_IN = netpol("red/from-gold-only", podSelector={},
                ingress=[{"from": [{"namespaceSelector": team("gold")}]}])
BASELINE = banp({"namespaces": team("blue")}, ingress=[
    {"name": "no-red", "action": "Deny", "from": [{"namespaces": team("red")}]}])


@pytest.fixture
def cluster():
    return cluster_of([PLATFORM, RED_IN, BASELINE])


def test_the_default_layer_order_is_admin_then_network_then_baseline(cluster):
    assert [layer.kind for layer in cluster.layers] == [
        "AdminNetworkPolicy", "NetworkPolicy", "BaselineAdminNetworkPolicy"]
    assert [layer.kind for layer in cluster_of([RED_IN]).layers] == ["NetworkPolicy"]


def test_an_admin_deny_names_kind_policy_priority_rule_and_action(cluster):
    verdict = cluster.check("blue/blue-0", "169.254.169.254", 80)
    assert not verdict.allowed
    assert verdict.egress.decided_by == LayerPolicyRef(
        "AdminNetworkPolicy", "platform", DENY, "egress", 0, "no-metadata", 5)
    assert verdict.egress.reason == (
        'Egress from blue/blue-0 is denied by AdminNetworkPolicy platform (priority 5) egress '
        'rule 0 "no-metadata" (Deny), before any NetworkPolicy.')


def test_a_pass_says_it_handed_over_to_the_network_policies(cluster):
    verdict = cluster.check("red/red-0", "gold/gold-0", 80)
    assert verdict.allowed
    assert [ref.policy for ref in verdict.egress.passed_by] == ["platform"]
    assert verdict.egress.reason == (
        'AdminNetworkPolicy platform (priority 5) egress rule 1 "gold-to-projects" (Pass) '
        'passes egress from red/red-0 on to the NetworkPolicies, skipping every remaining '
        'AdminNetworkPolicy. Egress from red/red-0 is not isolated: no policy of namespace '
        'red selects the pod for egress, so all egress traffic is allowed.')
    assert verdict.egress.decided_by is None
    inbound = cluster.check("gold/gold-0", "red/red-0", 80)
    assert inbound.ingress.decided_by.kind == "NetworkPolicy"
    assert inbound.ingress.matched[0].policy == "red/from-gold-only"


def test_the_baseline_decides_and_says_why(cluster):
    verdict = cluster.check("red/red-0", "blue/blue-1", 8080)
    assert not verdict.allowed
    assert verdict.ingress.decided_by == LayerPolicyRef(
        "BaselineAdminNetworkPolicy", "default", DENY, "ingress", 0, "no-red")
    assert "no NetworkPolicy selects the pod for ingress, so the baseline decides" in \
        verdict.ingress.reason
    # a NetworkPolicy decides for red's pods, whatever the baseline of blue says
    assert cluster.check("blue/blue-0", "red/red-0", 80).ingress.decided_by.kind == \
        "NetworkPolicy"


def test_the_json_keeps_its_fields_and_adds_the_deciding_kind(cluster):
    denied = cluster.check("red/red-0", "blue/blue-1", 8080).to_dict()
    assert {"from", "to", "port", "protocol", "allowed", "egress", "ingress"} <= set(denied)
    assert denied["kind"] == "BaselineAdminNetworkPolicy"
    assert denied["ingress"]["decided_by"]["rule_name"] == "no-red"
    assert denied["egress"]["kind"] is None  # nothing isolates red's egress
    allowed = cluster.check("gold/gold-0", "red/red-0", 80).to_dict()
    assert allowed["kind"] == "NetworkPolicy"
    passed = cluster.check("red/red-0", "gold/gold-0", 80).to_dict()
    assert passed["kind"] is None and passed["egress"]["passed_by"][0]["action"] == "Pass"


def test_the_matrix_and_the_checks_agree_on_every_connection(cluster):
    matrix = cluster.matrix()
    for connection in matrix.connections():
        verdict = cluster.check(connection.src, connection.dst, connection.port,
                                connection.protocol)
        assert connection.allowed == verdict.allowed, verdict.explain()


def test_an_invalid_admin_policy_is_refused_naming_its_kind():
    bad = anp("too-high", 1001, {"namespaces": {}})
    with pytest.raises(InvalidPolicyError) as raised:
        Cluster.from_snapshot(snapshot_of([bad]))
    assert raised.value.kind == "AdminNetworkPolicy"
    assert str(raised.value).startswith("AdminNetworkPolicy too-high: spec.priority:")


class DenyToGold:
    """A layer of another kind (as a Calico tier would be): denies egress to gold's pods."""

    kind = "TestTier"

    def class_inputs(self):
        return ClassInputs()

    def evaluate(self, direction, space):
        if direction != "egress":
            return []
        gold = space.pods_matching(_selector(team("gold")), None)
        deny = np.where(gold[:, None], space.full, space.dtype(0))[None]
        rows = np.arange(space.classes)
        return [ClassBlock(rows, np.zeros_like(deny), deny)]

    def decide(self, direction, view, pod, other, port, protocol, named):
        if direction == "egress" and other.is_pod and other.namespace == "gold":
            ref = LayerPolicyRef(self.kind, "deny-gold", DENY, direction, 0)
            return LayerDecision(DENY, "Denied by the test tier.", ref)
        return LayerDecision(None)


class AllowAll:
    kind = "TestAllow"

    def class_inputs(self):
        return ClassInputs()

    def evaluate(self, direction, space):
        full = np.broadcast_to(space.full[None] if direction == "egress"
                               else space.full[:, None], (space.classes, space.classes,
                                                          space.words)).copy()
        return [ClassBlock(np.arange(space.classes), full, np.zeros_like(full))]

    def decide(self, direction, view, pod, other, port, protocol, named):
        return LayerDecision(ALLOW, "Allowed by the test layer.",
                             LayerPolicyRef(self.kind, "all", ALLOW, direction, 0))


def _selector(labels):
    from isolation.netpol.selectors import Selector
    return Selector.parse(labels)


def test_a_layer_of_another_kind_plugs_in_before_the_network_policies():
    base = cluster_of([RED_IN])
    layered = Cluster(base.namespace_labels, list(base._all_pods.values()), base.policies,
                      base.node_of_address, base.extra_ips, node_labels=base.node_labels,
                      layers=[DenyToGold(), base.network_policy_layer])
    assert not layered.check("red/red-0", "gold/gold-0", 80).allowed
    assert layered.check("red/red-0", "gold/gold-0", 80).egress.kind == "TestTier"
    assert layered.check("gold/gold-0", "red/red-0", 80).allowed
    assert not layered.check("blue/blue-0", "red/red-0", 80).allowed  # the NetworkPolicy
    matrix = layered.matrix()
    for connection in matrix.connections():
        assert connection.allowed == layered.check(
            connection.src, connection.dst, connection.port, connection.protocol).allowed
    alone = Cluster(base.namespace_labels, list(base._all_pods.values()), base.policies,
                    base.node_of_address, layers=[DenyToGold()])
    verdict = alone.check("blue/blue-0", "red/red-0", 80)  # the NetworkPolicy is not a layer
    assert verdict.allowed
    assert verdict.ingress.reason == "No policy decides ingress of red/red-0, so it is allowed."
    assert alone.matrix(["blue/blue-0"], ["red/red-0"], [(80, "TCP")]).allowed(0, 0, 80)
    # a layer in front of the NetworkPolicies decides before them; one after them does not
    front = Cluster(base.namespace_labels, list(base._all_pods.values()), base.policies,
                    base.node_of_address, layers=[AllowAll(), base.network_policy_layer])
    back = Cluster(base.namespace_labels, list(base._all_pods.values()), base.policies,
                   base.node_of_address, layers=[base.network_policy_layer, AllowAll()])
    for layered_cluster, expected in ((front, True), (back, False)):
        assert layered_cluster.check("blue/blue-0", "red/red-0", 80).allowed is expected
        blue, red = layered_cluster.endpoint("blue/blue-0"), layered_cluster.endpoint("red/red-0")
        matrix = layered_cluster.matrix([blue.name], [red.name], [(80, "TCP")])
        assert matrix.allowed(0, 0, 80) is expected


def test_the_command_reports_the_deciding_kind_and_a_bad_admin_policy(tmp_path, capsys):
    snapshot = snapshot_of([PLATFORM, RED_IN, BASELINE])
    objects = snapshot.objects()
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    queries = tmp_path / "q.json"
    queries.write_text(json.dumps([{"from": "red/red-0", "to": "blue/blue-1", "port": 8080},
                                   {"from": "blue/blue-0", "to": "169.254.169.254",
                                    "port": 80}]))
    out = io.StringIO()
    assert main(["--snapshot", str(path), "--queries", str(queries)], stdout=out) == 0
    results = json.loads(out.getvalue())["results"]
    assert [r["kind"] for r in results] == ["BaselineAdminNetworkPolicy", "AdminNetworkPolicy"]
    assert results[1]["egress"]["decided_by"]["priority"] == 5
    bad = [o for o in objects if o["kind"] != "AdminNetworkPolicy"] + [
        anp("broken", 1, {"namespaces": {}}, egress=[
            {"action": "Deny", "to": [{"networks": ["10.0.0.1/8"]}]}])]
    path.write_text(yaml.safe_dump_all(bad))
    assert main(["--snapshot", str(path)], stdout=io.StringIO()) == 2
    error = capsys.readouterr().err
    assert "AdminNetworkPolicy broken: spec.egress[0].to[0].networks[0]" in error
    assert "line" in error


def test_the_command_warns_about_admin_policies_sharing_a_priority(tmp_path, capsys):
    twins = [anp("one", 3, {"namespaces": {}}, egress=[
        {"action": "Deny", "to": [{"namespaces": team("gold")}]}]),
        anp("two", 3, {"namespaces": {}}, egress=[
            {"action": "Allow", "to": [{"namespaces": team("gold")}]}])]
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(snapshot_of(twins).objects()))
    assert main(["--snapshot", str(path), "--format", "summary"], stdout=io.StringIO()) == 0
    assert "AdminNetworkPolicies one, two share priority 3" in capsys.readouterr().err


class Wrapped:
    """The NetworkPolicy layer seen only through the layer interface (as a Calico default
    tier would wrap it), so the builder takes its generic path."""

    def __init__(self, inner):
        self.inner = inner
        self.kind = inner.kind

    def class_inputs(self):
        return self.inner.class_inputs()

    def evaluate(self, direction, space):
        return self.inner.evaluate(direction, space)

    def decide(self, *args):
        return self.inner.decide(*args)


def test_the_network_policy_layer_gives_the_same_matrix_through_the_interface():
    policies = [netpol("red/from-gold-only", podSelector={},
                       policyTypes=["Ingress", "Egress"],
                       ingress=[{"from": [{"namespaceSelector": team("gold")}],
                                 "ports": [{"port": "web"}]}],
                       egress=[{"to": [{"ipBlock": {"cidr": "10.8.0.0/16"}}]}]),
                BASELINE]
    direct = cluster_of(policies)
    wrapped = Cluster(direct.namespace_labels, list(direct._all_pods.values()),
                      direct.policies, direct.node_of_address, direct.extra_ips,
                      admin_policies=direct.admin_policies,
                      layers=[Wrapped(layer) for layer in direct.layers])
    expected = [c.allowed for c in direct.matrix().connections()]
    assert [c.allowed for c in wrapped.matrix().connections()] == expected
    assert 0 < sum(expected) < len(expected)
    for connection in wrapped.matrix().connections():
        assert connection.allowed == wrapped.check(connection.src, connection.dst,
                                                   connection.port, connection.protocol).allowed
    assert wrapped.check("red/red-0", "gold/gold-0", 80).explain() == \
        direct.check("red/red-0", "gold/gold-0", 80).explain()
    assert wrapped.check("blue/blue-0", "gold/gold-0", 80).explain() == \
        direct.check("blue/blue-0", "gold/gold-0", 80).explain()


def test_a_generated_cluster_with_many_admin_policies_agrees_with_its_checks():
    from bench.admin_bench import admin_policies
    from bench.reachability_bench import generate
    from isolation.snapshot import Snapshot

    objects = generate(240, 12, 48, seed=5)
    for obj in objects:
        if obj["kind"] == "Node" and obj["metadata"]["name"] == "node-00":
            obj["metadata"]["labels"] = {"node-role.kubernetes.io/control-plane": ""}
    snapshot = Snapshot()
    for obj in objects + admin_policies(60, seed=3):
        snapshot.add(obj)
    cluster = Cluster.from_snapshot(snapshot, extra_ips=["169.254.169.254", "172.16.3.3"])
    matrix = cluster.matrix()
    connections = list(matrix.connections())
    allowed = sum(c.allowed for c in connections)
    assert 0 < allowed < len(connections)
    for connection in connections[::37]:
        verdict = cluster.check(connection.src, connection.dst, connection.port,
                                connection.protocol)
        assert connection.allowed == verdict.allowed, verdict.explain()
    # toward nodes and outside addresses (other than the source's own node, always allowed)
    pods = [pod.key for pod in cluster.pods[:40]]
    targets = ["192.168.0.1", "192.168.0.2", "169.254.169.254", "172.16.3.3"]
    outward = cluster.matrix(pods, targets, [(80, "TCP"), (53, "UDP"), (443, "TCP")])
    for connection in outward.connections():
        verdict = cluster.check(connection.src, connection.dst, connection.port,
                                connection.protocol)
        if verdict.dst.node and verdict.dst.node == cluster.pod(connection.src).node:
            continue
        assert connection.allowed == verdict.allowed, verdict.explain()
