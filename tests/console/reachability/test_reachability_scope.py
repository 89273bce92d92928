"""What a user may see of reachability: scope, redaction, scoped deltas, external sources."""

from pathlib import Path

import pytest

from console.core.access import Access
from console.core.scope import HIDDEN_POD, Scope, scoped_delta
from console.reachability.sources import SourceInputError, parse_entries, pieces
from isolation.reachability.engine import Cluster
from isolation.snapshot import load_snapshot

NAMESPACES = ["shop", "billing", "web", "kube-system"]
WORKSPACE_OF = {"shop": "team-a", "billing": "team-a", "web": "team-b"}
DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"


def scope_of(**access) -> Scope:
    return Scope.of(Access(username="u", **access), NAMESPACES, WORKSPACE_OF, ["team-a", "team-b"])


@pytest.mark.parametrize(("access", "visible", "workspaces"), [
    (dict(view_all=True), {"shop", "billing", "web", "kube-system"}, ("team-a", "team-b")),
    (dict(admin_workspaces=frozenset({"team-a"})), {"shop", "billing"}, ("team-a",)),
    (dict(admin_projects=frozenset({"shop"})), {"shop"}, ("team-a",)),
    (dict(view_projects=frozenset({"web"})), {"web"}, ("team-b",)),
    (dict(), set(), ()),
])
def test_each_role_sees_exactly_its_namespaces(access, visible, workspaces):
    scope = scope_of(**access)
    assert {n for n in NAMESPACES if scope.sees(n)} == visible
    assert scope.workspaces == workspaces


def test_redaction_hides_pods_and_policies_of_namespaces_outside_the_scope():
    scope = scope_of(admin_projects=frozenset({"shop"}))
    text = ("Ingress to shop/cart-1 is isolated by shop/deny; web/blog-2 → shop/cart-1; "
            "kube-system/coredns-3 too; 10.0.0.0/8 and unknown/thing stay.")
    assert scope.redact(text) == (
        f"Ingress to shop/cart-1 is isolated by shop/deny; {HIDDEN_POD} → shop/cart-1; "
        f"{HIDDEN_POD} too; 10.0.0.0/8 and unknown/thing stay.")
    assert scope_of(view_all=True).redact(text) == text


def test_a_scoped_delta_renames_hides_and_merges_what_lies_outside():
    delta = {
        "allowed": 3, "blocked": 2,
        "newly_allowed": [{"from": "web/blog", "to": "shop/cart", "port": 80, "protocol": "TCP"},
                          {"from": "web/api", "to": "shop/cart", "port": 80, "protocol": "TCP"},
                          {"from": "web/blog", "to": "billing/ledger", "port": 5432,
                           "protocol": "TCP"},
                          {"from": "203.0.113.9", "to": "shop/cart", "port": 80,
                           "protocol": "TCP"}],
        "newly_blocked": [{"from": "web/blog", "to": "kube-system/dns", "port": 53,
                           "protocol": "UDP"},
                          {"from": "shop/cart", "to": "shop/api", "port": 80, "protocol": "TCP"}],
        "pairs": [{"from": "web", "to": "shop", "allowed": 1, "blocked": 0},
                  {"from": "kube-system", "to": "shop", "allowed": 2, "blocked": 0},
                  {"from": "web", "to": "billing", "allowed": 1, "blocked": 0},
                  {"from": "(outside the cluster)", "to": "shop", "allowed": 1, "blocked": 0}],
        "warnings": ["Blocks DNS: web/blog → kube-system/dns on UDP 53."],
    }
    seen = scoped_delta(delta, scope_of(admin_projects=frozenset({"shop"})))
    assert seen["allowed"] == 3 and seen["blocked"] == 2   # totals name nothing
    assert seen["newly_allowed"] == [
        {"from": HIDDEN_POD, "to": "shop/cart", "port": 80, "protocol": "TCP", "count": 2,
         "outside": False},
        {"from": "203.0.113.9", "to": "shop/cart", "port": 80, "protocol": "TCP", "count": 1,
         "outside": True}]
    assert seen["newly_blocked"] == [{"from": "shop/cart", "to": "shop/api", "port": 80,
                                      "protocol": "TCP", "count": 1, "outside": False}]
    assert seen["hidden"] == 2
    assert seen["pairs"] == [
        {"from": "other projects", "to": "shop", "allowed": 3, "blocked": 0},
        {"from": "(outside the cluster)", "to": "shop", "allowed": 1, "blocked": 0}]
    assert seen["warnings"] == [f"Blocks DNS: {HIDDEN_POD} → {HIDDEN_POD} on UDP 53."]


@pytest.fixture(scope="module")
def demo_engine() -> Cluster:
    return Cluster.from_snapshot(load_snapshot(DEMO.read_text()))


def test_a_cidr_is_cut_at_node_addresses_and_ipblock_edges(demo_engine):
    cut = pieces(demo_engine, "192.168.0.0/24")
    assert [p.label for p in cut] == ["192.168.0.0 – 192.168.0.10", "192.168.0.11",
                                      "192.168.0.12", "192.168.0.13",
                                      "192.168.0.14 – 192.168.0.255"]
    around_dns = pieces(demo_engine, "169.254.25.0/24")
    assert [p.label for p in around_dns] == ["169.254.25.0 – 169.254.25.9", "169.254.25.10",
                                             "169.254.25.11 – 169.254.25.255"]


def test_a_piece_is_probed_through_an_address_no_pod_has(demo_engine):
    cut = pieces(demo_engine, "10.233.64.20/31")
    assert [(p.label, p.probe) for p in cut] == [("10.233.64.20 – 10.233.64.21", "10.233.64.21")]
    used = pieces(demo_engine, "203.0.113.8/30", used={"203.0.113.8"})
    assert used[0].probe == "203.0.113.9"


@pytest.mark.parametrize(("text", "message"), [
    ("10.233.64.20", "is the address of a pod"),
])
def test_a_pod_address_is_not_an_external_source(demo_engine, text, message):
    with pytest.raises(SourceInputError, match=message):
        pieces(demo_engine, text)


@pytest.mark.parametrize(("text", "expected"), [
    ("203.0.113.9", ["203.0.113.9"]),
    ("10.1.2.3/8, 10.0.0.0/8\n2001:db8::1", ["10.0.0.0/8", "2001:db8::1"]),
    ("", []),
])
def test_external_entries_are_read_canonically(text, expected):
    assert parse_entries(text) == expected


@pytest.mark.parametrize("text", ["nope", "10.0.0.0/33", " ".join(f"10.0.0.{i}" for i in range(11))])
def test_bad_external_entries_are_refused(text):
    with pytest.raises(SourceInputError):
        parse_entries(text)
