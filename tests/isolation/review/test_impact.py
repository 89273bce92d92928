import copy
from pathlib import Path

import pytest

from isolation.compiler.generate import IsolationSettings
from isolation.review.impact import impact_of, with_generated_policies, with_policies
from isolation.snapshot import load_snapshot

DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"


@pytest.fixture(scope="module")
def demo():
    return load_snapshot(DEMO.read_text())


def _isolate_workspace(snapshot, name):
    changed = copy.deepcopy(snapshot)
    for ws in changed.workspaces:
        if ws["metadata"]["name"] == name:
            ws["spec"]["networkIsolation"] = True
    return changed


def test_no_change_has_no_impact(demo):
    before, _ = with_generated_policies(demo, IsolationSettings())
    assert impact_of(before, before).unchanged


def test_isolating_a_workspace_blocks_other_workspaces_and_warns(demo):
    before, _ = with_generated_policies(demo, IsolationSettings())
    after, _ = with_generated_policies(_isolate_workspace(demo, "team-b"), IsolationSettings())
    impact = impact_of(before, after)
    blocked_pairs = {(p.src_namespace, p.dst_namespace) for p in impact.pairs if p.blocked}
    assert ("shop", "web") in blocked_pairs
    assert all(c.dst.split("/")[0] in {"web", "reporting"} for c in impact.newly_blocked)
    assert any(w.startswith("Cuts calls across workspaces") for w in impact.warnings)
    assert any(w.startswith("Blocks monitoring scrapes") for w in impact.warnings)
    # The ingress controller's namespace is always allowed, so it is never cut.
    assert not any(c.src.startswith("kubesphere-controls-system/") for c in impact.newly_blocked)
    stored = impact.to_dict()
    assert stored["blocked"] == len(impact.newly_blocked)
    assert stored["pairs"][0]["blocked"] >= stored["pairs"][-1]["blocked"]


def test_a_default_deny_policy_blocks_dns_with_a_warning(demo):
    deny_all_egress = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "deny-egress", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
    }
    after = with_policies(demo, upsert=[deny_all_egress])
    impact = impact_of(demo, after)
    assert impact.newly_blocked
    assert all(c.src.startswith("shop/") for c in impact.newly_blocked)
    assert any(w.startswith("Blocks DNS") for w in impact.warnings)


def test_removing_a_policy_is_previewed_as_newly_allowed(demo):
    before = with_policies(demo, upsert=[{
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "deny-in", "namespace": "web"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }])
    after = with_policies(before, remove=[("web", "deny-in")])
    impact = impact_of(before, after)
    assert impact.newly_allowed and not impact.newly_blocked
    assert all(c.dst.startswith("web/") for c in impact.newly_allowed)



def test_turning_project_isolation_off_shows_the_allowlisted_clients_lose_access(demo):
    off = copy.deepcopy(demo)
    for ns in off.namespaces:
        if ns["metadata"]["name"] == "billing":
            del ns["metadata"]["annotations"]["kubesphere.io/network-isolate"]
    before, _ = with_generated_policies(demo, IsolationSettings())
    after, _ = with_generated_policies(off, IsolationSettings())
    impact = impact_of(before, after)
    # billing falls back to team-a's workspace isolation: its external allowlist stops applying.
    lost = {c.src for c in impact.newly_blocked if c.dst.startswith("billing/")}
    assert "203.0.113.1" in lost
    assert not any(c.src == "198.18.0.1" for c in impact.newly_allowed + impact.newly_blocked)


def test_outside_samples_avoid_except_ranges_and_cluster_addresses(demo):
    from isolation.review.impact import sample_outside_addresses

    samples = sample_outside_addresses(with_generated_policies(demo, IsolationSettings())[0])
    assert "198.51.100.1" in samples  # inside policy-to-bank's cidr, outside its except
    assert not any(s.startswith("198.51.100.1") and s != "198.51.100.1" for s in samples)
    assert "198.18.0.1" in samples
