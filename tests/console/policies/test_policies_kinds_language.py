"""A Calico rule's sentence on the policy page is a whole sentence in the reader's language."""

from __future__ import annotations

from django.utils import translation

from console.policies.kinds import CALICO_GNP, KINDS, facts

GNP = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
       "metadata": {"name": "platform"},
       "spec": {"order": 10, "selector": "all()", "egress": [
           {"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}}]}}


def test_a_calico_rule_reads_as_a_chinese_sentence():
    (path, sentence), = facts(KINDS[CALICO_GNP], GNP).sentences
    assert path == "spec.egress[0]"
    with translation.override("zh-hans"):
        assert str(sentence) == ("拒绝所有命名空间 中的所有 Pod 发往 169.254.169.254/32 的出站流量，"
                                 "在所有项目策略之前。")


def test_a_calico_rule_reads_as_the_same_english_sentence():
    (_path, sentence), = facts(KINDS[CALICO_GNP], GNP).sentences
    with translation.override("en"):
        assert str(sentence) == ("Deny egress to 169.254.169.254/32 from every pod of every "
                                 "namespace, before any project policy.")
    assert sentence == ("Deny egress to 169.254.169.254/32 from every pod of every namespace, "
                        "before any project policy.")
