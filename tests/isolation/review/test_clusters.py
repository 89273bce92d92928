"""A review reads the cluster once: each policy parsed once, rules on ports no pod declares
left out of the matrices without changing a verdict, live policies remembered by version."""

import copy
from pathlib import Path

import pytest

from isolation.reachability.engine import Cluster, diff
from isolation.review.clusters import ChangeClusters, DeclaredPorts, effective
from isolation.review.impact import impact_of, sample_outside_addresses, with_policies
from isolation.review.lint import lint_policy
from isolation.snapshot import load_snapshot

DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"


@pytest.fixture(scope="module")
def demo():
    return load_snapshot(DEMO.read_text())


def storefront_policy(name="open-storefront", rules=()):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "storefront"}},
                     "policyTypes": ["Ingress"], "ingress": list(rules)}}


def from_block(cidr, port):
    return {"from": [{"ipBlock": {"cidr": cidr}}], "ports": [{"port": port}]}


# The storefront pods declare 8080/TCP only; nothing in the demo declares port 1.
SERVED, UNSERVED = from_block("203.0.113.0/24", 8080), from_block("192.0.2.0/24", 1)


def test_rules_on_ports_no_pod_declares_are_not_sampled(demo):
    after = with_policies(demo, upsert=[storefront_policy(rules=[SERVED, UNSERVED])])
    samples = sample_outside_addresses(demo, after)
    assert "203.0.113.1" in samples
    assert "192.0.2.1" not in samples
    assert samples[-1] == "198.18.0.1"  # the address no policy names stays


def test_leaving_out_unserved_rules_changes_no_verdict(demo):
    after = with_policies(demo, upsert=[storefront_policy(rules=[SERVED, UNSERVED] * 50)])
    outside = sample_outside_addresses(demo, after) + ["192.0.2.1"]
    whole = diff(Cluster.from_snapshot(demo, extra_ips=outside),
                 Cluster.from_snapshot(after, extra_ips=outside))
    clusters = ChangeClusters.of(demo, after)
    lean = diff(clusters.before_side.effective_cluster(extra_ips=outside),
                clusters.after_side.effective_cluster(extra_ips=outside))
    assert lean == whole
    assert any(c.src == "203.0.113.1" for c in whole.newly_allowed)
    assert len(clusters.after_policy("shop", "open-storefront").ingress) == 100
    assert len(clusters.after_side.effective[-1].ingress) == 50


def test_a_policy_without_served_rules_still_isolates(demo):
    blog = storefront_policy(rules=[UNSERVED])
    blog["metadata"]["namespace"] = "web"  # no policy selects the blog's pods yet
    blog["spec"]["podSelector"] = {}
    after = with_policies(demo, upsert=[blog])
    clusters = ChangeClusters.of(demo, after)
    lean = clusters.after_side.effective[-1]
    assert lean.ingress == () and lean.affects("ingress")
    impact = impact_of(demo, after, clusters=clusters)
    assert {c.dst.split("/")[0] for c in impact.newly_blocked} == {"web"}
    assert any(c.src == "198.18.0.1" for c in impact.newly_blocked)


@pytest.mark.parametrize(("protocol", "port", "end_port", "admitted"), [
    ("TCP", 8080, None, True), ("UDP", 8080, None, False), ("TCP", 8000, 8100, True),
    ("TCP", 1, 5, False), ("TCP", None, None, True), ("SCTP", None, None, False),
    ("TCP", "no-such-name", None, False), ("TCP", [], None, True),
])
def test_declared_ports_tell_which_port_entries_can_match(demo, protocol, port, end_port,
                                                          admitted):
    from isolation.reachability.inventory import read_pods

    assert DeclaredPorts(read_pods(demo)).admits(protocol, port, end_port) is admitted


def test_a_policy_in_both_snapshots_is_parsed_once(demo):
    after = with_policies(demo, upsert=[storefront_policy(rules=[SERVED])])
    clusters = ChangeClusters.of(demo, after)
    before = {p.key: p for p in clusters.before_side.policies}
    shared = [p for p in clusters.after_side.policies if p.key in before]
    assert shared and all(p is before[p.key] for p in shared)


def versioned(snapshot, version):
    copied = copy.deepcopy(snapshot)
    for number, policy in enumerate(copied.network_policies):
        policy["metadata"].update(uid=f"uid-{number}", resourceVersion=version)
    return copied


def test_live_policies_are_read_once_per_version(demo):
    live = versioned(demo, "41")
    first = ChangeClusters.of(live, live, live=True).before_side.policies
    again = ChangeClusters.of(versioned(demo, "41"), live, live=True).before_side.policies
    assert all(a is b for a, b in zip(first, again, strict=True))
    newer = ChangeClusters.of(versioned(demo, "42"), live, live=True).before_side.policies
    assert not any(a is b for a, b in zip(first, newer, strict=True))
    unversioned = ChangeClusters.of(versioned(demo, "41"), live).before_side.policies
    assert not any(a is b for a, b in zip(first, unversioned, strict=True))


def test_an_invalid_policy_is_refused_as_the_engine_refuses_it(demo):
    broken = storefront_policy(rules=[from_block("not-a-cidr", 8080)])
    with pytest.raises(ValueError, match="open-storefront"):
        ChangeClusters.of(demo, with_policies(demo, upsert=[broken]))


def test_the_policies_of_a_live_snapshot_are_read_as_their_server_admitted_them(demo):
    # endPort below port: refused by validation, though it parses; a server sends only what
    # it admitted, so a live snapshot's policies are not validated a second time.
    refused = storefront_policy(rules=[{"ports": [{"port": 8080, "endPort": 80}]}])
    sent = versioned(with_policies(demo, upsert=[refused]), "7")
    with pytest.raises(ValueError, match="endPort"):
        ChangeClusters.of(sent, sent)
    policies = ChangeClusters.of(sent, sent, live=True).before_side.policies
    read = next(p for p in policies if p.name == "open-storefront")
    assert read.ingress[0].ports[0].end_port == 80


def test_lint_with_the_review_clusters_finds_what_it_finds_alone(demo):
    from isolation.compiler.reconcile import is_ours

    bare = demo.with_network_policies([p for p in demo.network_policies if not is_ours(p)])
    draft = storefront_policy(name="lockdown", rules=[UNSERVED] * 30)
    draft["spec"]["podSelector"] = {}
    after = with_policies(bare, upsert=[draft])
    shared = lint_policy(draft, bare, clusters=ChangeClusters.of(bare, after))
    assert shared == lint_policy(draft, bare)
    assert "blocks-ingress-controller" in [f.code for f in shared]


def test_effective_keeps_a_policy_whose_rules_all_serve(demo):
    clusters = ChangeClusters.of(demo, demo)
    ports = DeclaredPorts(clusters.before_side.pods)
    assert all(effective(p, ports) is p for p in clusters.before_side.policies
               if all(ports.admits_rule(r) for r in p.ingress + p.egress))
