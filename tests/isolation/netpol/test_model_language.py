"""A rule's peers, IP blocks and ports read in the reader's language; the English reading stays
as written."""

from __future__ import annotations

from isolation.netpol.formats import parse_cidr
from isolation.netpol.model import IPBlock, Peer, PortSpec, Rule
from isolation.netpol.selectors import Selector
from tests.isolation.netpol.language import said_in_chinese

BLOCK = IPBlock(parse_cidr("10.0.0.0/8"), (parse_cidr("10.1.0.0/16"), parse_cidr("10.2.0.0/16")))
PODS = Peer(0, pod_selector=Selector.parse({"matchLabels": {"app": "web"}}),
            namespace_selector=Selector.parse({"matchExpressions": [
                {"key": "team", "operator": "Exists"}]}))


def test_an_ip_block_reads_in_chinese():
    assert BLOCK.describe() == "10.0.0.0/8 except 10.1.0.0/16, 10.2.0.0/16"
    assert Peer(1, ip_block=BLOCK).describe("shop") == (
        "IPs in 10.0.0.0/8 except 10.1.0.0/16, 10.2.0.0/16")
    with said_in_chinese():
        assert str(BLOCK.describe()) == "10.0.0.0/8（10.1.0.0/16、10.2.0.0/16 除外）"
        assert str(Peer(1, ip_block=BLOCK).describe("shop")) == (
            "10.0.0.0/8（10.1.0.0/16、10.2.0.0/16 除外） 中的 IP")


def test_a_pod_peer_reads_in_chinese():
    assert PODS.describe("shop") == "pods with app=web in namespaces with has team"
    assert Peer(2).describe("shop") == "all pods in namespace shop"
    assert Peer(3, namespace_selector=Selector()).describe("shop") == "all pods in all namespaces"
    with said_in_chinese():
        assert str(PODS.describe("shop")) == "满足 带有 team 的命名空间 中满足 app=web 的 Pod"
        assert str(Peer(2).describe("shop")) == "命名空间 shop 中的所有 Pod"
        assert str(Peer(3, namespace_selector=Selector()).describe("shop")) == "所有命名空间 中的所有 Pod"


def test_a_rules_ports_read_in_chinese():
    rule = Rule("ingress", 0, ports=(PortSpec(0, "TCP", 80, 90), PortSpec(1, "UDP")))
    assert rule.describe_ports() == "[80-90/TCP, any UDP port]"
    assert Rule("ingress", 1).describe_ports() == "every port"
    with said_in_chinese():
        assert str(rule.describe_ports()) == "[80-90/TCP、任意 UDP 端口]"
        assert str(Rule("ingress", 1).describe_ports()) == "所有端口"
