"""The engine's own reasons and nearest misses read in the reader's language; the English
sentences stay as written."""

from __future__ import annotations

import pytest

from isolation.reachability.engine import InvalidPolicyError
from tests.isolation.netpol.language import said_in_chinese


def pol(key, **spec):
    namespace, name = key.split("/")
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


@pytest.fixture
def shop(k8s):
    return k8s.cluster(
        [k8s.namespace("shop", team="a"), k8s.namespace("dev", team="b")],
        [k8s.pod("shop/web", "10.1.0.1", {"app": "web"}),
         k8s.pod("dev/tool", "10.2.0.1", {"app": "tool"})],
        [pol("shop/web-in", podSelector={"matchLabels": {"app": "web"}}, ingress=[
            {"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}],
             "ports": [{"port": 443}, {"protocol": "UDP"}]},
            {"from": [{"ipBlock": {"cidr": "192.0.2.0/24", "except": ["192.0.2.0/28"]}}],
             "ports": [{"port": 80}]}])],
        extra_ips=["198.51.100.7"])


def test_a_nearest_miss_on_the_port_reads_in_chinese(shop):
    reason = shop.check("dev/tool", "shop/web", 80).ingress.reason
    assert reason == (
        "Ingress to shop/web is isolated by shop/web-in, and no rule allows 80/TCP from "
        "dev/tool. Nearest miss: shop/web-in ingress rule 0 matches dev/tool but port 80/TCP "
        "is not in [443/TCP, any UDP port].")
    with said_in_chinese():
        assert str(reason) == (
            "shop/web 的入站被 shop/web-in 隔离，且没有规则允许来自 dev/tool 的 80/TCP。最接近的"
            "规则：shop/web-in 的 ingress 规则 0 匹配 dev/tool，但端口 80/TCP 不在 "
            "[443/TCP、任意 UDP 端口] 中。")


def test_a_nearest_miss_on_an_ip_block_reads_in_chinese(shop):
    reason = shop.check("198.51.100.7", "shop/web", 80).ingress.reason
    assert reason.endswith(
        "Nearest miss: shop/web-in ingress rule 1 allows 80/TCP only from IPs in 192.0.2.0/24 "
        "except 192.0.2.0/28, and 198.51.100.7 is not in 192.0.2.0/24 except 192.0.2.0/28.")
    with said_in_chinese():
        assert str(reason).endswith(
            "而 198.51.100.7 不在 192.0.2.0/24（192.0.2.0/28 除外） 中。")


def test_the_engines_own_reasons_read_in_chinese(shop):
    itself = shop.check("shop/web", "shop/web", 80)
    outside = shop.check("198.51.100.7", "shop/web", 443)
    assert itself.egress.reason == "shop/web connects to itself, which NetworkPolicies never block."
    assert outside.egress.reason == ("198.51.100.7 is not a pod, so no egress policy applies at "
                                     "the source.")
    with said_in_chinese():
        assert str(itself.egress.reason) == "shop/web 连接到自身，NetworkPolicy 从不阻止这种连接。"
        assert str(outside.egress.reason) == "198.51.100.7 不是 Pod，因此源端不适用任何出站策略。"
        assert str(shop.check("shop/web", "198.51.100.7", 80).ingress.reason) == (
            "198.51.100.7 不是 Pod，因此目标端不适用任何入站策略。")


def test_a_decided_reason_stays_a_sentence_of_the_reader(shop):
    reason = shop.check("dev/tool", "shop/web", 443).ingress.reason
    assert reason == ("Ingress to shop/web is isolated by shop/web-in; shop/web-in ingress rule 0 "
                      "(peer 0, port 0) allows it.")
    with said_in_chinese():
        assert str(reason).startswith("shop/web 的入站被 shop/web-in 隔离")


def test_an_invalid_policy_is_named_with_its_issues_in_chinese(k8s):
    bad = pol("shop/bad", podSelector={}, ingress=[{"ports": [{"port": 0}]}])
    with pytest.raises(InvalidPolicyError) as caught:
        k8s.cluster([k8s.namespace("shop")], [], [bad])
    english = str.__str__(caught.value.args[0])
    assert english.startswith("NetworkPolicy shop/bad: spec.ingress[0].ports[0].port: ")
    with said_in_chinese():
        assert str(caught.value).startswith("NetworkPolicy shop/bad：spec.ingress[0].ports[0].port：")
