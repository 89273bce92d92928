"""The summed-up reachability delta says exactly what isolation.review.impact says, at any size."""

import copy
from pathlib import Path

import pytest

from console.reachability.delta import delta_between
from isolation.compiler.generate import IsolationSettings
from isolation.review.impact import impact_of, with_generated_policies
from isolation.snapshot import load_snapshot

DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"


@pytest.fixture(scope="module")
def demo():
    return load_snapshot(DEMO.read_text())


def switched(snapshot, workspace=None, project=None, enabled=True):
    changed = copy.deepcopy(snapshot)
    for ws in changed.workspaces:
        if ws["metadata"]["name"] == workspace:
            ws["spec"]["networkIsolation"] = enabled
    for ns in changed.namespaces:
        if ns["metadata"]["name"] == project:
            annotations = ns["metadata"].setdefault("annotations", {})
            if enabled:
                annotations["kubesphere.io/network-isolate"] = "enabled"
            else:
                annotations.pop("kubesphere.io/network-isolate", None)
    return with_generated_policies(changed, IsolationSettings())[0]


def without(snapshot, *names):
    return snapshot.with_network_policies(
        [p for p in snapshot.network_policies if p["metadata"]["name"] not in names])


def denied(snapshot, *namespaces):
    return snapshot.with_network_policies(snapshot.network_policies + [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "deny", "namespace": ns},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}} for ns in namespaces])


CHANGES = {
    "workspace team-b on": lambda s: (s, switched(s, workspace="team-b")),
    "workspace team-a off": lambda s: (s, switched(s, workspace="team-a", enabled=False)),
    "project shop on": lambda s: (switched(s), switched(s, project="shop")),
    "project billing off": lambda s: (switched(s), switched(s, project="billing", enabled=False)),
    "reporting opened": lambda s: (s, without(s, "default-deny", "allow-dns-egress")),
    "reporting closed": lambda s: (without(s, "default-deny", "allow-dns-egress"), s),
    "nothing": lambda s: (s, s),
    "kube-system and shop closed": lambda s: (s, denied(s, "kube-system", "shop")),
    "everything isolated": lambda s: (s, switched(switched(s, workspace="team-b"),
                                                  project="shop")),
}


@pytest.mark.parametrize("name", CHANGES)
def test_the_summary_equals_the_full_impact(demo, name):
    before, after = CHANGES[name](demo)
    expected = impact_of(before, after).to_dict()
    assert delta_between(before, after) == expected


def test_the_summary_warns_of_lost_monitoring_and_calls_across_workspaces(demo):
    before, after = CHANGES["workspace team-b on"](demo)
    warnings = delta_between(before, after)["warnings"]
    assert [w.split(":")[0] for w in warnings] == [
        "Blocks monitoring scrapes", "Cuts calls across workspaces that work today"]


def test_the_cases_cover_every_kind_of_warning(demo):
    heads = {w.split(":")[0] for change in CHANGES.values()
             for w in delta_between(*change(demo))["warnings"]}
    assert heads == {"Blocks the ingress controller", "Blocks monitoring scrapes", "Blocks DNS",
                     "Cuts calls across workspaces that work today"}
