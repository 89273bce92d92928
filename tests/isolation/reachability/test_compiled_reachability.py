"""The compiled policies give exactly the intended reachability, checked with the evaluator.

Each scenario compiles intent on the golden cluster (tests/golden/cluster.yaml), installs the
generated policies and asks the reachability engine about connections that matter to a user:
same project, same workspace, other workspace, no workspace, external client, DNS, ingress
controller, node SNAT addresses, and the allowlist entries.

Pods (namespace/pod: port): shop/cart 8080 and shop/checkout 8080 (team-a), billing/api-1 8080
(behind Service api port 80 -> targetPort http) and billing/grpc-1 9090, audit/logger 5140/UDP,
web/frontend-1 8080 (team-b), default/client, ingress-nginx/ingress-nginx-controller-1,
kube-system/coredns-1 53 TCP+UDP, monitoring/prometheus-0. Nodes: node-1 192.168.0.11,
node-2 192.168.0.12; cart sits on node-1.
"""

from __future__ import annotations

from functools import cache

import pytest

from isolation.compiler.generate import IsolationSettings, desired_policies
from isolation.reachability.engine import Cluster
from tests.golden.scenarios import (
    add_entry,
    cluster,
    ip_peer,
    isolate_project,
    isolate_workspace,
    ns_peer,
    svc_peer,
)

CONSOLE = IsolationSettings()
KUBESPHERE = IsolationSettings(engine_mode="kubesphere")


def _workspace():
    return isolate_workspace(cluster(), "team-a")


def _project():
    return isolate_project(isolate_workspace(cluster(), "team-a"), "shop")


def _allowlisted():
    snapshot = _project()
    add_entry(snapshot, "shop", "from-billing", ingress=[{"from": [ns_peer("billing")]}])
    add_entry(snapshot, "shop", "from-partners", ingress=[{"from": [ip_peer("198.51.100.0/24")],
                                                           "ports": [{"port": 8080}]}])
    add_entry(snapshot, "shop", "to-api", egress=[{"to": [svc_peer("billing", "api")]}])
    return add_entry(snapshot, "shop", "to-payments", egress=[{
        "to": [ip_peer("203.0.113.0/24")], "ports": [{"port": 443}]}])


@cache
def _cluster(build, settings: IsolationSettings = CONSOLE) -> Cluster:
    snapshot = build()
    policies = desired_policies(snapshot, settings).policies
    return Cluster.from_snapshot(snapshot.with_network_policies(policies))


def _allowed(build, settings, src, dst, port, protocol="TCP") -> bool:
    return _cluster(build, settings).check(src, dst, port, protocol).allowed


WORKSPACE_MODE = [
    ("same project", "shop/checkout", "shop/cart", 8080, "TCP", True),
    ("same workspace", "billing/api-1", "shop/cart", 8080, "TCP", True),
    ("other workspace", "web/frontend-1", "shop/cart", 8080, "TCP", False),
    ("namespace without workspace", "default/client", "shop/cart", 8080, "TCP", False),
    ("monitoring is not allowed by default", "monitoring/prometheus-0", "shop/cart", 8080,
     "TCP", False),
    ("external client", "203.0.113.5", "shop/cart", 8080, "TCP", False),
    ("ingress controller", "ingress-nginx/ingress-nginx-controller-1", "shop/cart", 8080, "TCP",
     True),
    ("other node without SNAT rule", "192.168.0.12", "shop/cart", 8080, "TCP", False),
    ("own node (kubelet)", "192.168.0.11", "shop/cart", 8080, "TCP", True),
    ("egress stays open", "shop/cart", "web/frontend-1", 8080, "TCP", True),
    ("DNS", "shop/cart", "kube-system/coredns-1", 53, "UDP", True),
    ("other workspace untouched", "default/client", "web/frontend-1", 8080, "TCP", True),
]


@pytest.mark.parametrize("case, src, dst, port, protocol, expected", WORKSPACE_MODE,
                         ids=[c[0] for c in WORKSPACE_MODE])
def test_workspace_isolation_admits_only_the_workspace(case, src, dst, port, protocol,
                                                       expected):
    assert _allowed(_workspace, CONSOLE, src, dst, port, protocol) is expected


PROJECT_MODE = [
    ("same project", "shop/checkout", "shop/cart", 8080, "TCP", True),
    ("same workspace is refused by project mode", "billing/api-1", "shop/cart", 8080, "TCP",
     False),
    ("workspace sibling still admits the project", "shop/cart", "billing/api-1", 8080, "TCP",
     True),
    ("other workspace", "web/frontend-1", "shop/cart", 8080, "TCP", False),
    ("external client", "203.0.113.5", "shop/cart", 8080, "TCP", False),
    ("ingress controller", "ingress-nginx/ingress-nginx-controller-1", "shop/cart", 8080, "TCP",
     True),
    ("egress stays open without egress entries", "shop/cart", "web/frontend-1", 8080, "TCP",
     True),
]


@pytest.mark.parametrize("case, src, dst, port, protocol, expected", PROJECT_MODE,
                         ids=[c[0] for c in PROJECT_MODE])
def test_project_isolation_admits_only_the_project(case, src, dst, port, protocol, expected):
    assert _allowed(_project, CONSOLE, src, dst, port, protocol) is expected


ALLOWLIST = [
    ("internal ingress entry", "billing/grpc-1", "shop/cart", 8080, "TCP", True),
    ("project not in the entry", "audit/logger", "shop/cart", 8080, "TCP", False),
    ("external ingress entry", "198.51.100.7", "shop/cart", 8080, "TCP", True),
    ("external ingress entry, other port", "198.51.100.7", "shop/cart", 9090, "TCP", False),
    ("external client outside the entry", "203.0.113.5", "shop/cart", 8080, "TCP", False),
    ("Service entry on the pod's port (after DNAT)", "shop/cart", "billing/api-1", 8080, "TCP",
     True),
    ("Service entry covers only its own pods", "shop/cart", "billing/grpc-1", 9090, "TCP", False),
    ("egress restricted once an egress entry exists", "shop/cart", "web/frontend-1", 8080, "TCP",
     False),
    ("egress to a project not in the entries", "shop/cart", "audit/logger", 5140, "UDP", False),
    ("external egress entry", "shop/cart", "203.0.113.9", 443, "TCP", True),
    ("external egress entry, other port", "shop/cart", "203.0.113.9", 80, "TCP", False),
    ("DNS pods over UDP", "shop/cart", "kube-system/coredns-1", 53, "UDP", True),
    ("DNS pods over TCP", "shop/cart", "kube-system/coredns-1", 53, "TCP", True),
    ("node-local DNS", "shop/cart", "169.254.25.10", 53, "UDP", True),
    ("DNS pods, other port", "shop/cart", "kube-system/coredns-1", 9153, "TCP", False),
    ("own project on egress", "shop/cart", "shop/checkout", 8080, "TCP", True),
    ("ingress controller", "ingress-nginx/ingress-nginx-controller-1", "shop/cart", 8080, "TCP",
     True),
]


@pytest.mark.parametrize("case, src, dst, port, protocol, expected", ALLOWLIST,
                         ids=[c[0] for c in ALLOWLIST])
def test_allowlist_entries_open_exactly_what_they_name(case, src, dst, port, protocol,
                                                       expected):
    assert _allowed(_allowlisted, CONSOLE, src, dst, port, protocol) is expected


KUBESPHERE_DEFECTS = [
    # (case, src, dst, port, protocol): allowed by the console's policies, not by KubeSphere's
    ("egress to the own project", "shop/cart", "shop/checkout", 8080, "TCP"),
    ("Service entry on the pod's port", "shop/cart", "billing/api-1", 8080, "TCP"),
    ("ingress controller without configuration", "ingress-nginx/ingress-nginx-controller-1",
     "shop/cart", 8080, "TCP"),
]


@pytest.mark.parametrize("case, src, dst, port, protocol", KUBESPHERE_DEFECTS,
                         ids=[c[0] for c in KUBESPHERE_DEFECTS])
def test_each_fix_over_kubesphere_shows_in_reachability(case, src, dst, port, protocol):
    assert _allowed(_allowlisted, CONSOLE, src, dst, port, protocol) is True
    assert _allowed(_allowlisted, KUBESPHERE, src, dst, port, protocol) is False


def _snat_settings() -> IsolationSettings:
    return IsolationSettings(snat_cidrs=("192.168.0.12",))


def test_snat_addresses_in_the_settings_admit_traffic_through_other_nodes():
    assert _allowed(_workspace, _snat_settings(), "192.168.0.12", "shop/cart", 8080) is True
    assert _allowed(_workspace, CONSOLE, "192.168.0.12", "shop/cart", 8080) is False


def test_switching_isolation_off_restores_all_traffic():
    snapshot = cluster()
    policies = desired_policies(snapshot, CONSOLE).policies
    engine = Cluster.from_snapshot(snapshot.with_network_policies(policies))
    for src in ("web/frontend-1", "203.0.113.5", "default/client"):
        assert engine.check(src, "shop/cart", 8080).allowed


def test_inactive_entries_open_nothing():
    def off_with_entries():
        snapshot = isolate_workspace(cluster(), "team-a")
        return add_entry(snapshot, "shop", "from-web", ingress=[{"from": [ip_peer(
            "203.0.113.0/24")]}])
    assert _allowed(off_with_entries, CONSOLE, "203.0.113.5", "shop/cart", 8080) is False
