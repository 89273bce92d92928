"""Plain-language sentences and rule tables of NetworkPolicies (isolation.netpol.describe)."""

import pytest

from isolation.netpol.describe import describe_policy

WS = "kubesphere.io/workspace"
NAME = "kubernetes.io/metadata.name"


def policy(spec, namespace="shop"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": namespace}, "spec": spec}


WEB = {"matchLabels": {"app": "web"}}


@pytest.mark.parametrize(("spec", "sentence"), [
    ({"podSelector": WEB, "ingress": [{"from": [{
        "namespaceSelector": {"matchLabels": {WS: "team-a"}},
        "podSelector": {"matchLabels": {"app": "gw"}}}], "ports": [{"port": 8080}]}]},
     "Pods labelled app=web in shop accept TCP 8080 from pods labelled app=gw in any project of "
     "workspace team-a."),
    ({"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]},
     "All pods in shop accept traffic on every port from all pods in shop."),
    ({"podSelector": WEB, "ingress": [{"from": [{"namespaceSelector": {}}]}]},
     "Pods labelled app=web in shop accept traffic on every port from all pods in any project."),
    ({"podSelector": WEB, "ingress": [{}]},
     "Pods labelled app=web in shop accept traffic on every port from anywhere (every pod and "
     "every address)."),
    ({"podSelector": WEB, "ingress": [{"from": [{"namespaceSelector": {
        "matchLabels": {NAME: "billing"}}}], "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]},
     "Pods labelled app=web in shop accept TCP 80 and UDP 53 from all pods in project billing."),
    ({"podSelector": WEB, "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
        {"key": NAME, "operator": "In", "values": ["b", "a"]}]}}]}]},
     "Pods labelled app=web in shop accept traffic on every port from all pods in projects a or b."),
    ({"podSelector": WEB, "ingress": [{"from": [{"ipBlock": {
        "cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}], "ports": [{"port": 8000, "endPort": 8080}]}]},
     "Pods labelled app=web in shop accept TCP 8000-8080 from addresses in 10.0.0.0/8 except "
     "10.1.0.0/16."),
    ({"podSelector": WEB, "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                       "ports": [{"port": "http"}]}]},
     "Pods labelled app=web in shop accept TCP port named http from any IPv4 address."),
    ({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                                           {"key": "canary", "operator": "DoesNotExist"}]},
      "ingress": [{"ports": [{"protocol": "UDP"}]}]},
     "Pods matching tier in (a, b), no canary label in shop accept any UDP port from anywhere "
     "(every pod and every address)."),
    ({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [
        {"namespaceSelector": {"matchLabels": {NAME: "kube-system"}},
         "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"port": 53, "protocol": "UDP"}]}]},
     "All pods in shop may connect to pods labelled k8s-app=kube-dns in project kube-system on "
     "UDP 53."),
    ({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 443}]}]},
     "All pods in shop may connect anywhere (every pod and every address) on TCP 443."),
])
def test_each_rule_reads_as_one_sentence(spec, sentence):
    text = describe_policy(policy(spec))
    rules = text.ingress.rules + text.egress.rules
    assert [r.sentence for r in rules] == [sentence]


def test_a_policy_without_rules_for_a_direction_denies_it_and_says_so():
    text = describe_policy(policy({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}))
    assert text.ingress.isolated and not text.ingress.rules
    assert "accept no incoming connection" in text.ingress.summary
    assert "may open no outgoing connection" in text.egress.summary


def test_a_direction_missing_from_policy_types_is_not_restricted():
    text = describe_policy(policy({"podSelector": {}, "ingress": [{}]}))
    assert not text.egress.isolated
    assert text.egress.summary.startswith("Egress is not restricted by this policy")


def test_egress_rules_alone_default_policy_types_to_both_directions():
    text = describe_policy(policy({"podSelector": {}, "egress": [{}]}))
    assert text.ingress.isolated and text.egress.isolated


@pytest.mark.parametrize(("peer", "kind", "where"), [
    ({"podSelector": {"matchLabels": {"app": "gw"}}}, "pods", "shop"),
    ({"namespaceSelector": {"matchLabels": {WS: "team-b"}}}, "projects", "any project of workspace team-b"),
    ({"namespaceSelector": {"matchExpressions": [{"key": NAME, "operator": "NotIn", "values": ["x"]}]}},
     "projects", "any project except x"),
    ({"namespaceSelector": {"matchLabels": {"env": "prod"}}}, "projects", "projects labelled env=prod"),
    ({"ipBlock": {"cidr": "2001:db8::/32"}}, "addresses", "addresses in 2001:db8::/32"),
])
def test_peers_are_classified_for_the_rule_table(peer, kind, where):
    [rule] = describe_policy(policy({"podSelector": {}, "ingress": [{"from": [peer]}]})).ingress.rules
    assert (rule.peers[0].kind, rule.peers[0].where) == (kind, where)
    assert rule.field == "spec.ingress[0]"
