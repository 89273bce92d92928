"""Every row of the reference decision table (reference/traffic-paths.md §8) as a test.

Each row is traced on the two-node case cluster (traffic enters on node-a; the pod, or for an
Ingress the controller pod, runs on node-a when "pod on entry node" is yes, else on node-b) and
checked column by column: the hops, the source the application sees, the source the policy
matches, when the request succeeds, and the allowlist entry this path needs. Policy verdicts
come from `ProjectAllowlist`, a stand-in for an isolated project with an external and an
internal allowlist, so these tests exercise the path model alone.
"""

from __future__ import annotations

import ipaddress

import pytest

from isolation.paths.explain import (
    CASE_CONTROLLER_NAMESPACE,
    CASE_NODES,
    case_snapshot,
    explain_case,
)
from isolation.paths.trace import PolicyVerdict, trace

CLIENT = "203.0.113.9"
PORTS = [{"port": 8080, "protocol": "TCP"}]

# Columns: row, exposure, ETP, pod on entry node, CNI, leg-1 hop kinds, source seen by the app,
# source the policy matches, when it succeeds, ipBlock (or peer) needed for this path, and for
# Ingress rows what X-Forwarded-For carries. Transcribed from the reference table.
NP, LB, ING_NP, ING_LB = "NodePort", "LoadBalancer", "Ingress via NodePort", "Ingress via LoadBalancer"
SAME_SNAT = "client node snat pod"
CROSS_SNAT = "client node snat tunnel pod"
KEEP = "client node pod"
DROP = "client node drop"
LB_SAME_SNAT = "client lb node snat pod"
LB_CROSS_SNAT = "client lb node snat tunnel pod"
LB_KEEP = "client lb node pod"
LB_DROP = "client lb node drop"
ROWS = [
    (1, NP, "Cluster", True, "routed", SAME_SNAT, "nodeA-primary", "client", "if-client-allowed", "client", None),
    (2, NP, "Cluster", True, "ipip", SAME_SNAT, "nodeA-primary", "client", "if-client-allowed", "client", None),
    (3, NP, "Cluster", True, "vxlan", SAME_SNAT, "nodeA-primary", "client", "if-client-allowed", "client", None),
    (4, NP, "Cluster", False, "routed", CROSS_SNAT, "nodeA-underlay", "nodeA-underlay", "if-address-allowed", "every-node-ip", None),
    (5, NP, "Cluster", False, "ipip", CROSS_SNAT, "nodeA-tunl0", "nodeA-tunl0", "if-address-allowed", "every-tunl0", None),
    (6, NP, "Cluster", False, "vxlan", CROSS_SNAT, "nodeA-vxlan", "nodeA-vxlan", "if-address-allowed", "every-vxlan", None),
    (7, NP, "Local", True, "routed", KEEP, "client", "client", "if-client-allowed", "client", None),
    (8, NP, "Local", True, "ipip", KEEP, "client", "client", "if-client-allowed", "client", None),
    (9, NP, "Local", True, "vxlan", KEEP, "client", "client", "if-client-allowed", "client", None),
    (10, NP, "Local", False, "routed", DROP, None, None, "never", "nothing", None),
    (11, NP, "Local", False, "ipip", DROP, None, None, "never", "nothing", None),
    (12, NP, "Local", False, "vxlan", DROP, None, None, "never", "nothing", None),
    (13, LB, "Cluster", True, "routed", LB_SAME_SNAT, "nodeA-primary", "client", "if-client-allowed", "client", None),
    (14, LB, "Cluster", True, "ipip", LB_SAME_SNAT, "nodeA-primary", "client", "if-client-allowed", "client", None),
    (15, LB, "Cluster", True, "vxlan", LB_SAME_SNAT, "nodeA-primary", "client", "if-client-allowed", "client", None),
    (16, LB, "Cluster", False, "routed", LB_CROSS_SNAT, "nodeA-underlay", "nodeA-underlay", "if-address-allowed", "every-node-ip", None),
    (17, LB, "Cluster", False, "ipip", LB_CROSS_SNAT, "nodeA-tunl0", "nodeA-tunl0", "if-address-allowed", "every-tunl0", None),
    (18, LB, "Cluster", False, "vxlan", LB_CROSS_SNAT, "nodeA-vxlan", "nodeA-vxlan", "if-address-allowed", "every-vxlan", None),
    (19, LB, "Local", True, "routed", LB_KEEP, "client", "client", "if-client-allowed", "client", None),
    (20, LB, "Local", True, "ipip", LB_KEEP, "client", "client", "if-client-allowed", "client", None),
    (21, LB, "Local", True, "vxlan", LB_KEEP, "client", "client", "if-client-allowed", "client", None),
    (22, LB, "Local", False, "routed", LB_DROP, None, None, "not-reached", "nothing", None),
    (23, LB, "Local", False, "ipip", LB_DROP, None, None, "not-reached", "nothing", None),
    (24, LB, "Local", False, "vxlan", LB_DROP, None, None, "not-reached", "nothing", None),
    (25, ING_NP, "Cluster", True, "routed", SAME_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-primary"),
    (26, ING_NP, "Cluster", True, "ipip", SAME_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-primary"),
    (27, ING_NP, "Cluster", True, "vxlan", SAME_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-primary"),
    (28, ING_NP, "Cluster", False, "routed", CROSS_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-underlay"),
    (29, ING_NP, "Cluster", False, "ipip", CROSS_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-tunl0"),
    (30, ING_NP, "Cluster", False, "vxlan", CROSS_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-vxlan"),
    (31, ING_NP, "Local", True, "routed", KEEP, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "client"),
    (32, ING_NP, "Local", True, "ipip", KEEP, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "client"),
    (33, ING_NP, "Local", True, "vxlan", KEEP, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "client"),
    (34, ING_NP, "Local", False, "routed", DROP, None, None, "never", "nothing", None),
    (35, ING_NP, "Local", False, "ipip", DROP, None, None, "never", "nothing", None),
    (36, ING_NP, "Local", False, "vxlan", DROP, None, None, "never", "nothing", None),
    (37, ING_LB, "Cluster", True, "routed", LB_SAME_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-primary"),
    (38, ING_LB, "Cluster", True, "ipip", LB_SAME_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-primary"),
    (39, ING_LB, "Cluster", True, "vxlan", LB_SAME_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-primary"),
    (40, ING_LB, "Cluster", False, "routed", LB_CROSS_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-underlay"),
    (41, ING_LB, "Cluster", False, "ipip", LB_CROSS_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-tunl0"),
    (42, ING_LB, "Cluster", False, "vxlan", LB_CROSS_SNAT, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "nodeA-vxlan"),
    (43, ING_LB, "Local", True, "routed", LB_KEEP, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "client"),
    (44, ING_LB, "Local", True, "ipip", LB_KEEP, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "client"),
    (45, ING_LB, "Local", True, "vxlan", LB_KEEP, "controller-pod", "controller-pod", "if-controller-ns-allowed", "controller-namespace", "client"),
    (46, ING_LB, "Local", False, "routed", LB_DROP, None, None, "not-reached", "nothing", None),
    (47, ING_LB, "Local", False, "ipip", LB_DROP, None, None, "not-reached", "nothing", None),
    (48, ING_LB, "Local", False, "vxlan", LB_DROP, None, None, "not-reached", "nothing", None),
]


class ProjectAllowlist:
    """Checker for the case cluster: project `demo` is isolated to itself plus its allowlist."""

    def __init__(self, cidrs: tuple[str, ...] = (), namespaces: tuple[str, ...] = ()) -> None:
        self.cidrs = [ipaddress.ip_network(c) for c in cidrs]
        self.namespaces = set(namespaces)

    def __call__(self, source: str, destination: str, port: int, protocol: str) -> PolicyVerdict:
        if not destination.startswith("demo/"):
            return PolicyVerdict(True, None, (), "not isolated", isolated=False)
        if "/" in source:
            allowed = source.split("/")[0] in self.namespaces | {"demo"}
        else:
            allowed = any(ipaddress.ip_address(source) in net for net in self.cidrs)
        if allowed:
            return PolicyVerdict(True, None, ("demo/allowlist",), "allowed")
        return PolicyVerdict(False, "ingress", ("demo/nsnp-network-isolate",), "denied")


def _address(symbol: str | None, cni: str) -> str | None:
    node_a = CASE_NODES["node-a"]
    return {
        None: None,
        "client": CLIENT,
        "nodeA-primary": node_a["ip"],
        "nodeA-underlay": node_a["ip"],
        "nodeA-tunl0": node_a["tunnel"] if cni == "ipip" else "wrong mode",
        "nodeA-vxlan": node_a["tunnel"] if cni == "vxlan" else "wrong mode",
    }[symbol]


def _case(row):
    number, exposure, etp, on_entry, cni = row[:5]
    kind = "Ingress" if exposure.startswith("Ingress") else exposure
    via = exposure.split(" via ")[1] if kind == "Ingress" else "NodePort"
    return kind, etp, cni, on_entry, via


def _explain(row, checker):
    kind, etp, cni, on_entry, via = _case(row)
    return explain_case(kind, etp, cni, on_entry, ingress_via=via, checker=checker)


def _controller_ip(on_entry: bool) -> str:
    return CASE_NODES["node-a" if on_entry else "node-b"]["controller_ip"]


def _ids(row) -> str:
    return f"row{row[0]:02d}-{row[1].replace(' ', '_')}-{row[2]}-{'local' if row[3] else 'remote'}-{row[4]}"


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_decision_table_row_hops_and_sources(row):
    number, exposure, etp, on_entry, cni, hops, app, policy, _, _, xff = row
    path = _explain(row, ProjectAllowlist())
    leg1 = path.legs[0] if path.legs else path
    assert path.row == number
    assert [hop.kind for hop in leg1.hops] == hops.split()
    expected_app = _controller_ip(on_entry) if app == "controller-pod" else _address(app, cni)
    expected_policy = _controller_ip(on_entry) if policy == "controller-pod" else _address(policy, cni)
    assert path.app_source == expected_app
    assert path.policy_source == expected_policy
    if exposure.startswith("Ingress"):
        leg2 = path.legs[1] if len(path.legs) > 1 else None
        if xff is None:
            assert leg2 is None
        else:
            # the backend sees the controller pod, never the client; nothing is masqueraded
            assert leg2.app_source == leg2.policy_source == expected_policy
            assert "snat" not in [hop.kind for hop in leg2.hops]
            assert path.forwarded_for == _address(xff, cni)


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_decision_table_row_success_and_needed_allowlist(row):
    number, exposure, etp, on_entry, cni, _, _, policy, succeeds, needed, _ = row
    isolated = _explain(row, ProjectAllowlist())
    assert isolated.succeeds is False
    everything = ProjectAllowlist(("0.0.0.0/0",), (CASE_CONTROLLER_NAMESPACE,))
    if succeeds in ("never", "not-reached"):
        assert isolated.needed_allowlist == []
        assert _explain(row, everything).succeeds is False
        assert isolated.hops[-1].kind == "drop"
        assert isolated.steady_state is (succeeds == "never")
        return
    if succeeds == "if-controller-ns-allowed":
        assert isolated.needed_allowlist == [{"namespace": CASE_CONTROLLER_NAMESPACE}]
        assert _explain(row, ProjectAllowlist(("0.0.0.0/0",))).succeeds is False
        assert _explain(row, ProjectAllowlist((), (CASE_CONTROLLER_NAMESPACE,))).succeeds is True
        return
    address = _address(policy, cni)
    assert isolated.needed_allowlist == [{"cidr": f"{address}/32", "ports": PORTS}]
    assert _explain(row, ProjectAllowlist((f"{address}/32",))).succeeds is True
    if succeeds == "if-address-allowed":
        assert _explain(row, ProjectAllowlist((f"{CLIENT}/32",))).succeeds is False
    else:
        assert succeeds == "if-client-allowed" and needed == "client"


EVERY = {"every-node-ip": "ip", "every-tunl0": "tunnel", "every-vxlan": "tunnel"}


@pytest.mark.parametrize("row", [r for r in ROWS if r[9] in EVERY], ids=_ids)
def test_decision_table_every_node_entries_cover_all_entry_nodes_and_placements(row):
    """"every node's X": the union over entry nodes and pod placements is client + all nodes' X."""
    kind, etp, cni, _, via = _case(row)
    needed = []
    for placement in (True, False):
        case = case_snapshot(kind, etp, cni, placement, ingress_via=via)
        result = trace(case.snapshot, service=case.service, ingress=case.ingress,
                       checker=ProjectAllowlist())
        assert sorted(result.entry_nodes()) == ["node-a", "node-b"]
        needed.extend(result.needed_allowlist())
    expected = sorted({f"{CLIENT}/32"} | {f"{n[EVERY[row[9]]]}/32" for n in CASE_NODES.values()})
    assert sorted({entry["cidr"] for entry in needed}) == expected


def test_local_load_balancer_is_entered_only_through_nodes_with_an_endpoint():
    case = case_snapshot("LoadBalancer", "Local", "ipip", False)
    result = trace(case.snapshot, service=case.service, checker=ProjectAllowlist((f"{CLIENT}/32",)))
    assert result.entry_nodes() == ["node-b"]
    assert result.status == "every"


def _allow_policy(needed: list[dict]) -> dict:
    """A NetworkPolicy of the project that admits exactly the given allowlist entries."""
    peers = []
    for entry in needed:
        if "namespace" in entry:
            peers.append({"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": entry["namespace"]}}})
        else:
            peers.append({"ipBlock": {"cidr": entry["cidr"]}})
    return {"kind": "NetworkPolicy", "metadata": {"namespace": "demo", "name": "nsnp-allowlist"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": peers, "ports": [{"port": 8080, "protocol": "TCP"}]}]}}


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_decision_table_row_with_the_reachability_engine(row):
    """The real engine agrees: the isolated project blocks the path, the needed entries fix it."""
    kind, etp, cni, on_entry, via = _case(row)
    isolated = explain_case(kind, etp, cni, on_entry, ingress_via=via)
    faked = _explain(row, ProjectAllowlist())
    assert isolated.succeeds is False
    assert isolated.needed_allowlist == faked.needed_allowlist
    assert (isolated.policy_source, isolated.app_source) == (faked.policy_source, faked.app_source)
    case = case_snapshot(kind, etp, cni, on_entry, ingress_via=via)
    if isolated.needed_allowlist:
        assert "demo/nsnp-network-isolate" in isolated.reason
        case.snapshot.add(_allow_policy(isolated.needed_allowlist))
    fixed = trace(case.snapshot, service=case.service, ingress=case.ingress,
                  entry_nodes=["node-a"]).paths[0]
    assert fixed.succeeds is bool(isolated.needed_allowlist)
    if fixed.succeeds:
        assert fixed.needed_allowlist == []
        assert "demo/nsnp-allowlist" in fixed.reason
