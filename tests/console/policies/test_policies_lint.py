"""Lint warnings of NetworkPolicy drafts on the demo cluster (isolation.review.lint)."""

from pathlib import Path

import pytest

from isolation.compiler.generate import IsolationSettings
from isolation.compiler.reconcile import is_ours
from isolation.review.impact import with_generated_policies
from isolation.review.lint import lint_policy, selected_pods
from isolation.snapshot import Snapshot, load_snapshot

DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"
NAME = "kubernetes.io/metadata.name"
DNS_EGRESS = {"to": [{"namespaceSelector": {"matchLabels": {NAME: "kube-system"}},
                      "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}},
                     {"ipBlock": {"cidr": "169.254.25.10/32"}}],
              "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
FROM_CONTROLLER = {"from": [{"namespaceSelector": {
    "matchLabels": {NAME: "kubesphere-controls-system"}}}]}


@pytest.fixture(scope="module")
def demo():
    """The demo cluster before the isolation engine first wrote its policies."""
    snapshot = load_snapshot(DEMO.read_text())
    return snapshot.with_network_policies([p for p in snapshot.network_policies
                                           if not is_ours(p)])


@pytest.fixture(scope="module")
def isolated(demo):
    """The demo cluster with the isolation engine's policies in place."""
    return with_generated_policies(demo, IsolationSettings())[0]


def draft(name="p", namespace="shop", **spec):
    spec.setdefault("podSelector", {})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def codes(findings):
    return [f.code for f in findings]


@pytest.mark.parametrize(("spec", "expected"), [
    ({"podSelector": {"matchLabels": {"app": "nothing"}}}, ["selects-no-pods"]),
    ({"policyTypes": ["Egress"]}, ["blocks-dns"]),
    ({"policyTypes": ["Egress"], "egress": [DNS_EGRESS]}, []),
    ({"policyTypes": ["Ingress"]}, ["blocks-ingress-controller"]),
    ({"policyTypes": ["Ingress"], "ingress": [FROM_CONTROLLER]}, []),
    ({"podSelector": {"matchLabels": {"app": "cart"}}, "policyTypes": ["Ingress"]}, []),
    ({"podSelector": {"matchLabels": {"app": "storefront"}}, "ingress": [{"ports": [{"port": "web"}]}]},
     ["unknown-named-port", "blocks-ingress-controller"]),
    ({"podSelector": {"matchLabels": {"app": "storefront"}}, "ingress": [{"ports": [{"port": "http"}]}]},
     []),
    ({"policyTypes": ["Egress"], "egress": [DNS_EGRESS, {"to": [{"podSelector": {}}],
                                                           "ports": [{"port": "metrics"}]}]},
     ["unknown-named-port"]),
])
def test_drafts_get_the_warnings_their_mistakes_deserve(demo, spec, expected):
    assert codes(lint_policy(draft(**spec), demo)) == expected


def test_a_named_port_warning_points_at_the_port_entry(demo):
    spec = {"podSelector": {"matchLabels": {"app": "cart"}},
            "ingress": [{"ports": [{"port": 9000}, {"port": "grpc"}]}]}
    [finding] = lint_policy(draft(**spec), demo)
    assert finding.field == "spec.ingress[0].ports[1].port"
    assert "'grpc'" in finding.message


def test_dns_is_checked_statically_when_the_cluster_has_no_dns_pods():
    snapshot = Snapshot(pods=[{"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": "a", "namespace": "shop"},
                               "spec": {"containers": [{"name": "c"}]},
                               "status": {"phase": "Running", "podIP": "10.0.0.1"}}])
    blocked = lint_policy(draft(policyTypes=["Egress"], egress=[{"ports": [{"port": 443}]}]), snapshot)
    assert codes(blocked) == ["blocks-dns"]
    allowed = lint_policy(draft(policyTypes=["Egress"], egress=[
        {"ports": [{"port": 50, "endPort": 60, "protocol": "UDP"}]}]), snapshot)
    assert codes(allowed) == []


def test_opening_an_isolated_project_to_everyone_makes_its_isolation_redundant(isolated):
    findings = lint_policy(draft(ingress=[{}]), isolated)
    assert codes(findings) == ["makes-isolation-redundant"]
    assert "nsnp-network-isolate" in findings[0].message


def test_opening_only_some_pods_leaves_the_isolation_useful(isolated):
    spec = {"podSelector": {"matchLabels": {"app": "cart"}}, "ingress": [{}]}
    assert codes(lint_policy(draft(**spec), isolated)) == []


def test_editing_a_generated_policy_warns_that_the_engine_puts_it_back(isolated):
    generated = next(p for p in isolated.network_policies
                     if p["metadata"]["namespace"] == "shop")
    findings = lint_policy(generated, isolated, live=generated)
    assert codes(findings) == ["generated-policy"]
    assert "put it back" in findings[0].message


def test_a_hand_written_policy_carrying_the_engines_marks_is_flagged(isolated):
    generated = next(p for p in isolated.network_policies
                     if p["metadata"]["namespace"] == "shop")
    copy = draft(name="mine", **generated["spec"])
    copy["metadata"]["labels"] = generated["metadata"]["labels"]
    copy["metadata"]["annotations"] = generated["metadata"]["annotations"]
    assert codes(lint_policy(copy, isolated))[:1] == ["generated-labels"]


def test_selected_pods_leave_out_other_namespaces_and_the_host_network(demo):
    pods = selected_pods(draft(namespace="kube-system"), demo)
    assert pods and all(p.namespace == "kube-system" and not p.host_network for p in pods)
    assert not any(p.name.startswith("nodelocaldns") for p in pods)
