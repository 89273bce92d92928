"""The traffic service without pages: clients, which policies verdicts use, and tracing."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from console.traffic.advisor import fix_spec
from console.traffic.services import Client, Ref, context_from, parse_client, traced
from isolation.cli.traffic import with_compiled_isolation
from isolation.compiler.generate import IsolationSettings
from isolation.compiler.reconcile import is_ours
from isolation.snapshot import Snapshot, load_snapshot

DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"
PAYMENTS_API = Ref("service", "billing", "payments-api")
DEFAULT = parse_client("")


@pytest.fixture(scope="module")
def demo() -> Snapshot:
    return load_snapshot(DEMO.read_text())


@pytest.mark.parametrize(("text", "shown", "single"), [
    ("", "203.0.113.9", True),
    ("  10.0.0.1 ", "10.0.0.1", True),
    ("10.0.0.0/24", "10.0.0.0/24", False),
    ("10.0.0.5/24", "10.0.0.0/24", False),
    ("10.0.0.5/32", "10.0.0.5", True),
    ("2001:db8::/64", "2001:db8::/64", False),
])
def test_a_client_is_an_address_or_a_cidr(text, shown, single):
    client = parse_client(text)
    assert (client.text, client.single) == (shown, single)


@pytest.mark.parametrize("text", ["203.0.113.300", "example.com", "10.0.0.0/33", "10.0.0.0/8/8"])
def test_anything_else_is_refused_with_a_message(text):
    with pytest.raises(ValueError, match="neither an IP address nor a CIDR"):
        parse_client(text)


def _policy(*blocks: dict) -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"namespace": "p", "name": "n"},
            "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": b} for b in blocks]}]}}


@pytest.mark.parametrize(("client", "blocks", "samples"), [
    ("10.0.0.0/24", [], ["10.0.0.0"]),
    ("10.0.0.0/24", [{"cidr": "10.0.0.0/25"}], ["10.0.0.0", "10.0.0.128"]),
    ("10.0.0.0/24", [{"cidr": "10.0.0.64/26"}], ["10.0.0.0", "10.0.0.64", "10.0.0.128"]),
    ("10.0.0.0/24", [{"cidr": "10.0.0.0/16", "except": ["10.0.0.16/28"]}],
     ["10.0.0.0", "10.0.0.16", "10.0.0.32"]),
    ("10.0.0.0/24", [{"cidr": "192.168.0.0/16"}, {"cidr": "2001:db8::/32"}], ["10.0.0.0"]),
    ("10.0.0.0/24", [{"cidr": "10.0.0.200/32"}], ["10.0.0.0", "10.0.0.200", "10.0.0.201"]),
    ("10.0.0.0/24", [{"cidr": "10.0.0.255/32"}], ["10.0.0.0", "10.0.0.255"]),
])
def test_a_range_is_sampled_once_per_stretch_no_ip_block_cuts(client, blocks, samples):
    snapshot = Snapshot(network_policies=[_policy(*blocks)])
    assert Client(parse_client(client).network).samples(snapshot) == samples


def _before_first_reconcile(demo: Snapshot) -> Snapshot:
    """The demo without the policies the isolation engine generated."""
    return demo.with_network_policies([p for p in demo.network_policies
                                       if not is_ours(p)])


def test_verdicts_anticipate_generated_policies_the_cluster_does_not_hold_yet(demo):
    ctx = context_from(_before_first_reconcile(demo), IsolationSettings())
    assert {"billing", "shop", "catalog"} <= ctx.anticipated
    assert ctx.modes["billing"] == "project" and ctx.modes["shop"] == "workspace"
    assert traced(ctx, PAYMENTS_API, DEFAULT).status == "some"


def test_verdicts_use_the_generated_policies_the_cluster_holds(demo):
    ctx = context_from(with_compiled_isolation(demo), IsolationSettings())
    assert ctx.anticipated == set()
    assert traced(ctx, PAYMENTS_API, DEFAULT).status == "some"


def _drifted(demo: Snapshot) -> Snapshot:
    """The reconciled demo whose billing isolation policy someone edited to admit everyone."""
    live = with_compiled_isolation(demo)
    policies = copy.deepcopy(live.network_policies)
    for policy in policies:
        if policy["metadata"]["namespace"] == "billing" and \
                policy["metadata"]["name"] == "nsnp-network-isolate":
            policy["spec"]["ingress"] = [{}]
    return live.with_network_policies(policies)


def test_a_policy_changed_in_the_cluster_decides_over_the_intent(demo):
    ctx = context_from(_drifted(demo), IsolationSettings())
    assert "billing" not in ctx.anticipated
    assert traced(ctx, PAYMENTS_API, DEFAULT).status == "every"


def test_a_what_if_recompiles_the_namespaces_it_names(demo):
    ctx = context_from(_drifted(demo), IsolationSettings(), recompile=frozenset({"billing"}))
    assert traced(ctx, PAYMENTS_API, DEFAULT).status == "some"


def test_intent_the_compiler_refuses_leaves_the_live_policies_with_a_warning(demo):
    broken = copy.deepcopy(demo)
    broken.workspaces[0]["spec"] = "not a mapping"
    ctx = context_from(broken, IsolationSettings())
    assert ctx.snapshot is broken and ctx.anticipated == set()
    assert "cannot be compiled" in ctx.warnings[0]


def test_the_fix_admits_the_missing_sources_on_their_ports_in_one_entry():
    spec = fix_spec([
        {"cidr": "10.233.64.1/32", "ports": [{"port": 8443, "protocol": "TCP"}]},
        {"cidr": "10.233.66.1/32", "ports": [{"port": 8443, "protocol": "TCP"}]},
        {"cidr": "198.51.100.0/24", "ports": [{"port": 53, "protocol": "UDP"}]},
    ])
    assert spec == {"ingress": [
        {"from": [{"ipBlock": {"cidr": "10.233.64.1/32"}}, {"ipBlock": {"cidr": "10.233.66.1/32"}}],
         "ports": [{"protocol": "TCP", "port": 8443}]},
        {"from": [{"ipBlock": {"cidr": "198.51.100.0/24"}}],
         "ports": [{"protocol": "UDP", "port": 53}]}]}
