"""Calico rules read in the reader's language; the English sentence stays as written."""

from __future__ import annotations

from isolation.calico.describe import describe_policy
from tests.isolation.netpol.language import said_in_chinese

GNP = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
       "metadata": {"name": "platform"},
       "spec": {"order": 10, "selector": "all()", "egress": [
           {"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}},
           {"action": "Pass", "protocol": "TCP",
            "destination": {"ports": [443], "selector": "has(team)"}}]}}


def test_a_rule_reads_in_chinese_with_action_peer_ports_and_position():
    text = describe_policy(GNP)
    with said_in_chinese():
        assert [str(r.sentence) for r in text.rules] == [
            "拒绝所有命名空间 中的所有 Pod 发往 169.254.169.254/32 的出站流量，在所有项目策略之前",
            "传递所有命名空间 中的所有 Pod 发往 所有命名空间 中的满足 有标签 team 的 Pod 的出站流量"
            "（使用 TCP 443），交由下一层级决定，在所有项目策略之前"]
        assert str(text.position) == "在所有项目策略之前"


def test_the_english_reading_is_unchanged_and_the_actions_stay_tokens():
    text = describe_policy(GNP)
    with said_in_chinese():
        assert text.rules[1].sentence == (
            "Pass egress to pods with label team of every namespace on TCP 443 from every pod "
            "of every namespace, handing the decision to the next tier, before any project "
            "policy")
    assert [type(r.action) for r in text.rules] == [str, str]
    assert [r.action for r in text.rules] == ["Deny", "Pass"]
