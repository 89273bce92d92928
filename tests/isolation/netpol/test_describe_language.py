"""Rules read as sentences in the reader's language: the English stays as written, and the
Chinese reading keeps names, labels, ports and addresses as they are."""

from __future__ import annotations

from isolation.netpol.describe import describe_policy, or_list
from isolation.text import Text
from tests.isolation.netpol.language import said_in_chinese

NAME = "kubernetes.io/metadata.name"


def policy(spec, namespace="shop"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": namespace}, "spec": spec}


WEB_FROM_BILLING = policy({
    "podSelector": {"matchLabels": {"app": "web"}},
    "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {NAME: "billing"}}},
                          {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                 "ports": [{"port": 8080}, {"port": "metrics", "protocol": "UDP"}]}]})


def test_a_rule_reads_in_chinese_with_its_names_kept():
    rule = describe_policy(WEB_FROM_BILLING).ingress.rules[0]
    with said_in_chinese():
        assert str(rule.sentence) == (
            "shop 中标签为 app=web 的 Pod 在 TCP 8080 和 名为 metrics 的 UDP 端口 上接受来自 "
            "项目 billing 中的所有 Pod 或 10.0.0.0/8 中除 10.1.0.0/16 之外的地址 的连接。")
        assert f"{rule.peers[0].text}" == "项目 billing 中的所有 Pod"


def test_the_english_stays_as_written_whatever_the_reader():
    text = describe_policy(WEB_FROM_BILLING)
    english = ("Pods labelled app=web in shop accept TCP 8080 and UDP port named metrics from "
               "all pods in project billing or addresses in 10.0.0.0/8 except 10.1.0.0/16.")
    with said_in_chinese():
        assert text.ingress.rules[0].sentence == english
        assert isinstance(text.ingress.rules[0].sentence, Text)
        assert text.ingress.rules[0].sentence.english == english
        assert str(text.egress.summary) == "此策略不限制出站：它的 policyTypes 未列出 Egress。"
    assert str(text.ingress.rules[0].sentence) == english


def test_the_kinds_of_peers_stay_plain_tokens():
    rule = describe_policy(WEB_FROM_BILLING).ingress.rules[0]
    assert [type(peer.kind) for peer in rule.peers] == [str, str]
    assert rule.field == "spec.ingress[0]"


def test_a_list_of_thousands_of_projects_reads_whole_in_either_language():
    names = [f"p{i:04d}" for i in range(3000)]
    text = describe_policy(policy({"podSelector": {}, "ingress": [{"from": [{
        "namespaceSelector": {"matchExpressions": [
            {"key": NAME, "operator": "In", "values": names}]}}]}]}))
    sentence = text.ingress.rules[0].sentence
    assert sentence.endswith("p2998 or p2999.")
    assert ", ".join(names[:-1]) in sentence
    with said_in_chinese():
        chinese = str(sentence)
    assert "、".join(names[:-1]) + " 或 p2999" in chinese


def test_a_list_joins_as_english_writes_it():
    assert or_list([]) == ""
    assert or_list(["a"]) == "a"
    assert or_list(["a", "b"]) == "a or b"
    assert or_list(["a", "b", "c", "d"]) == "a, b, c or d"
