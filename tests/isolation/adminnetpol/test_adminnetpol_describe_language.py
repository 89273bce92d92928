"""AdminNetworkPolicy rules read in the reader's language; the English stays as written."""

from __future__ import annotations

from isolation.adminnetpol.describe import describe_admin_policy
from tests.isolation.netpol.language import said_in_chinese

ANP = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
       "metadata": {"name": "deny-metadata"},
       "spec": {"priority": 10, "subject": {"namespaces": {}}, "egress": [{
           "name": "metadata", "action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}],
           "ports": [{"portNumber": {"port": 80, "protocol": "TCP"}}]}]}}


def test_a_rule_reads_in_chinese_and_in_english():
    rule = describe_admin_policy(ANP).egress[0]
    english = ("Deny egress to 169.254.169.254/32 on TCP 80 from every pod of every namespace, "
               "before any project policy.")
    with said_in_chinese():
        assert str(rule.sentence) == ("拒绝所有命名空间 中的所有 Pod 在 TCP 80 上发往 "
                                      "169.254.169.254/32 的出站流量，在所有项目策略之前生效。")
        assert rule.sentence == english
    assert str(rule.sentence) == english
    assert (rule.action, rule.name) == ("Deny", "metadata")
