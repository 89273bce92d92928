"""Verdicts say which policies isolate an end, which rule allowed, or what nearly did."""

from __future__ import annotations

import json

import pytest

from isolation.reachability.engine import InvalidPolicyError, RuleRef
from isolation.reachability.explain import describe_direction
from isolation.reachability.inventory import Endpoint, PodInfo
from tests.isolation.netpol.language import said_in_chinese


def pol(key, **spec):
    namespace, name = key.split("/")
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


@pytest.fixture
def shop(k8s):
    return k8s.cluster(
        [k8s.namespace("shop", team="a"), k8s.namespace("dev", team="b")],
        [k8s.pod("shop/web", "10.1.0.1", {"app": "web"}, ports=((80, "TCP", "http"),)),
         k8s.pod("shop/api", "10.1.0.2", {"app": "api"}, ports=((8080, "TCP", "http"),)),
         k8s.pod("shop/worker", "10.1.0.3", {"app": "worker"}),
         k8s.pod("dev/tool", "10.2.0.1", {"app": "tool"})],
        [pol("shop/default-deny", podSelector={}, policyTypes=["Ingress", "Egress"]),
         pol("shop/web-in", podSelector={"matchLabels": {"app": "web"}}, ingress=[{
             "from": [{"ipBlock": {"cidr": "192.0.2.0/24"}},
                      {"namespaceSelector": {"matchLabels": {"team": "b"}}}],
             "ports": [{"port": 443}, {"port": "http"}]}]),
         pol("shop/api-in", podSelector={"matchLabels": {"app": "api"}}, ingress=[{
             "from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
             "ports": [{"port": 8080}]}]),
         pol("shop/web-out", podSelector={"matchLabels": {"app": "web"}},
             egress=[{"to": [{"podSelector": {"matchLabels": {"app": "api"}}}]}])],
        extra_ips=["192.0.2.10"])


def test_an_allow_names_the_policy_rule_peer_and_port(shop):
    verdict = shop.check("dev/tool", "shop/web", 80)
    assert verdict.allowed
    assert verdict.ingress.isolated
    # web-out has egress rules only, yet its defaulted policyTypes include Ingress.
    assert verdict.ingress.selecting == ["shop/default-deny", "shop/web-in", "shop/web-out"]
    assert verdict.ingress.matched == [RuleRef("shop/web-in", "ingress", 0, 1, 1)]
    assert "shop/web-in ingress rule 0 (peer 1, port 1) allows it" in verdict.explain()


def test_an_unisolated_end_says_so(shop):
    verdict = shop.check("dev/tool", "shop/web", 80)
    assert not verdict.egress.isolated and verdict.egress.allowed and verdict.egress.applies
    assert "no policy of namespace dev selects the pod for egress" in verdict.egress.reason


def test_a_deny_reports_the_nearest_miss_on_the_port(shop):
    verdict = shop.check("dev/tool", "shop/web", 8443)
    assert not verdict.allowed
    assert verdict.ingress.nearest_miss == (
        "shop/web-in ingress rule 0 matches dev/tool but port 8443/TCP is not in "
        "[443/TCP, http/TCP]")
    assert "Nearest miss" in verdict.explain()


def test_a_deny_reports_the_nearest_miss_on_the_peer(shop):
    verdict = shop.check("shop/web", "shop/api", 8080)
    assert verdict.allowed
    denied = shop.check("dev/tool", "shop/api", 8080)
    assert not denied.allowed
    assert denied.ingress.nearest_miss == (
        "shop/api-in ingress rule 0 allows 8080/TCP only from pods with app=web in namespace "
        "shop, and dev/tool is in namespace dev")


def test_a_peer_miss_names_the_missing_label(shop):
    verdict = shop.check("shop/worker", "shop/api", 8080)
    assert "shop/worker does not have app=web" in verdict.ingress.nearest_miss


def test_an_external_miss_names_the_address_and_block(shop):
    verdict = shop.check("198.51.100.1", "shop/web", 443)
    assert not verdict.allowed
    assert not verdict.egress.applies
    assert "198.51.100.1 is not in 192.0.2.0/24" in verdict.ingress.nearest_miss


def test_a_policy_without_rules_is_named_as_the_reason(shop):
    verdict = shop.check("shop/api", "dev/tool", 80)
    assert not verdict.allowed
    assert verdict.egress.selecting == ["shop/default-deny"]
    assert "has no egress rules" in verdict.egress.reason
    assert verdict.egress.nearest_miss is None


def test_egress_rules_explain_the_source_side(shop):
    verdict = shop.check("shop/web", "shop/api", 8080)
    assert verdict.egress.matched == [RuleRef("shop/web-out", "egress", 0, 0, None)]
    assert verdict.ingress.matched == [RuleRef("shop/api-in", "ingress", 0, 0, 0)]


def test_verdict_json_shape(shop):
    result = shop.check("192.0.2.10", "shop/web", 443).to_dict()
    json.dumps(result)
    assert result["from"] == "192.0.2.10" and result["to"] == "shop/web"
    assert result["allowed"] is True
    assert result["egress"]["applies"] is False
    assert result["ingress"]["matched"] == [
        {"policy": "shop/web-in", "direction": "ingress", "rule": 0, "peer": 0, "port": 0}]
    assert set(result["ingress"]) == {"applies", "isolated", "allowed", "selecting", "matched",
                                      "nearest_miss", "reason", "kind", "decided_by",
                                      "passed_by"}
    assert result["ingress"]["kind"] == "NetworkPolicy" and result["kind"] == "NetworkPolicy"
    assert result["ingress"]["decided_by"]["policy"] == "shop/web-in"
    assert result["egress"]["kind"] is None


def test_an_invalid_policy_is_refused_with_its_field(k8s):
    with pytest.raises(InvalidPolicyError) as raised:
        k8s.cluster([k8s.namespace("shop")], [],
                    [pol("shop/bad", podSelector={}, ingress=[{"ports": [{"port": 0}]}])])
    assert raised.value.policy == "shop/bad"
    assert raised.value.issues[0].field == "spec.ingress[0].ports[0].port"



def test_a_verdict_is_explained_in_the_readers_language(shop):
    verdict = shop.check("dev/tool", "shop/worker", 80)
    english = verdict.explain()
    with said_in_chinese():
        chinese = str(verdict.explain())
        assert verdict.explain() == english
        assert str(RuleRef("shop/web-in", "ingress", 0, 1, 1).describe()) == (
            "shop/web-in 的 ingress 规则 0（对端 1，端口 1）")
    assert chinese.startswith("dev/tool → shop/worker 的 80/TCP 连接被拒绝。")
    assert english.startswith("dev/tool → shop/worker on 80/TCP is denied. ")


def test_a_direction_is_explained_in_the_readers_language():
    worker = PodInfo("shop", "worker", {}, "10.1.0.3", ("10.1.0.3",), None, ())
    tool = Endpoint("pod", "dev/tool", "10.2.0.1", "dev", "tool")
    side = describe_direction("ingress", worker, tool, 80, "TCP", ["shop/default-deny"], [],
                              None, has_rules=False)
    assert side.reason == ("Ingress to shop/worker is isolated by shop/default-deny, which has "
                           "no ingress rules: all ingress traffic is denied.")
    with said_in_chinese():
        assert str(side.reason) == ("shop/worker 的入站被 shop/default-deny 隔离，且它们没有入站"
                                    "规则：所有入站流量都被拒绝。")
