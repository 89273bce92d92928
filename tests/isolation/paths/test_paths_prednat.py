"""Calico's preDNAT policies at the entry node: they see the real client, before kube-proxy."""

from __future__ import annotations

import copy

from isolation.paths.cache import trace_digest
from isolation.paths.prednat import PreDnatGate
from isolation.paths.trace import trace
from tests.isolation.paths.test_paths_model import CLIENT, NODES, isolate, web_cluster

CALICO = "projectcalico.org/v3"


def host_endpoint(node: str, *, interface: str | None = "eth0", ips: tuple[str, ...] | None = None,
                  labels: dict | None = None) -> dict:
    spec: dict = {"node": node}
    if interface is not None:
        spec["interfaceName"] = interface
    spec["expectedIPs"] = list(ips if ips is not None else (NODES[node][0],))
    return {"apiVersion": CALICO, "kind": "HostEndpoint",
            "metadata": {"name": f"{node}-{interface or 'ips'}".replace("*", "all"),
                         "labels": labels or {"role": "k8s-node"}},
            "spec": spec}


def pre_dnat(name: str, action: str, nets: list[str], *, ports: list[int] | None = None,
             order: int = 10, selector: str = "role == 'k8s-node'") -> dict:
    rule: dict = {"action": action, "protocol": "TCP", "source": {"nets": nets}}
    if ports is not None:
        rule["destination"] = {"ports": ports}
    return {"apiVersion": CALICO, "kind": "GlobalNetworkPolicy", "metadata": {"name": name},
            "spec": {"order": order, "selector": selector, "preDNAT": True, "applyOnForward": True,
                     "types": ["Ingress"], "ingress": [rule]}}


def nodes_and_paths(result):
    return {(p.entry_node, p.succeeds) for p in result.paths}


def test_a_prednat_deny_of_the_client_ends_every_path_at_the_entry_node():
    snapshot = web_cluster("NodePort", "Cluster",
                           *[host_endpoint(n) for n in NODES],
                           pre_dnat("block-client", "Deny", [f"{CLIENT}/32"], ports=[30080]))
    result = trace(snapshot, service=("shop", "web"), client_ip=CLIENT)
    assert result.paths and not any(p.succeeds for p in result.paths)
    for path in result.paths:
        drop = path.blocked_hop
        assert drop is not None and drop.kind == "drop" and drop.actor == f"node:{path.entry_node}"
        assert "block-client" in path.reason and "before DNAT" in path.reason
        assert path.needed_allowlist == []       # no allowlist entry of the project can help
        assert path.target == "shop/web-0"        # the pod the request was meant for


def test_a_deny_of_another_client_or_port_lets_the_traffic_go_on_to_the_workload_policy():
    other_client = pre_dnat("block-other", "Deny", ["198.51.100.0/24"], ports=[30080])
    other_port = pre_dnat("block-port", "Deny", [f"{CLIENT}/32"], ports=[31000])
    for gnp in (other_client, other_port):
        snapshot = web_cluster("NodePort", "Cluster", *[host_endpoint(n) for n in NODES], gnp)
        result = trace(snapshot, service=("shop", "web"), client_ip=CLIENT)
        assert all(p.succeeds for p in result.paths)   # the project is not isolated
        assert not any(h.kind == "drop" for p in result.paths for h in p.hops)


def test_an_allow_is_noted_and_the_workload_policy_still_decides():
    snapshot = web_cluster("NodePort", "Local",
                           *[host_endpoint(n) for n in NODES],
                           pre_dnat("let-client", "Allow", [f"{CLIENT}/32"]),
                           *isolate("shop"))
    result = trace(snapshot, service=("shop", "web"), client_ip=CLIENT)
    local = [p for p in result.paths if p.entry_node == "node-1"]
    assert local and not local[0].succeeds          # the project's isolation still denies
    assert local[0].needed_allowlist == [{"cidr": f"{CLIENT}/32", "ports": [
        {"port": 8080, "protocol": "TCP"}]}]
    node_hop = next(h for h in local[0].hops if h.actor == "node:node-1")
    assert "let-client" in node_hop.note and "allows the client" in node_hop.detail


def test_a_loadbalancer_is_filtered_on_its_address_and_service_port():
    deny = pre_dnat("block-vip", "Deny", [f"{CLIENT}/32"], ports=[80])
    snapshot = web_cluster("LoadBalancer", "Cluster",
                           *[host_endpoint(n, interface="*", ips=()) for n in NODES], deny)
    result = trace(snapshot, service=("shop", "web"), client_ip=CLIENT)
    assert result.paths and not any(p.succeeds for p in result.paths)
    # the NodePort is not what a load-balancer client connects to
    deny_node_port = pre_dnat("block-vip", "Deny", [f"{CLIENT}/32"], ports=[30080])
    snapshot = web_cluster("LoadBalancer", "Cluster",
                           *[host_endpoint(n, interface="*", ips=()) for n in NODES], deny_node_port)
    assert all(p.succeeds for p in trace(snapshot, service=("shop", "web"), client_ip=CLIENT).paths)


def test_only_the_nodes_with_a_host_endpoint_filter():
    snapshot = web_cluster("NodePort", "Cluster", host_endpoint("node-2"),
                           pre_dnat("block-client", "Deny", [f"{CLIENT}/32"]))
    result = trace(snapshot, service=("shop", "web"), client_ip=CLIENT)
    assert nodes_and_paths(result) == {("node-1", True), ("node-2", False), ("node-3", True)}


def test_the_receiving_host_endpoint_is_the_one_expecting_the_address():
    specific = host_endpoint("node-1", labels={"role": "public"})
    everything = host_endpoint("node-1", interface="*", ips=(), labels={"role": "k8s-node"})
    gnp = pre_dnat("block-client", "Deny", [f"{CLIENT}/32"], selector="role == 'k8s-node'")
    snapshot = web_cluster("NodePort", "Cluster", specific, everything, gnp)
    gate = PreDnatGate.of(snapshot)
    assert gate is not None
    assert gate.receiving("node-1", NODES["node-1"][0]).name == "node-1-eth0"
    assert gate.receiving("node-1", "10.0.0.1").name == "node-1-all"
    # the node address arrives on the specific endpoint, which the policy does not select
    result = trace(snapshot, service=("shop", "web"), client_ip=CLIENT)
    assert all(p.succeeds for p in result.paths)


def test_without_prednat_policies_there_is_no_gate():
    assert PreDnatGate.of(web_cluster("NodePort", "Cluster", host_endpoint("node-1"))) is None
    plain = pre_dnat("plain", "Deny", [f"{CLIENT}/32"])
    plain["spec"].pop("preDNAT")
    plain["spec"].pop("applyOnForward")
    assert PreDnatGate.of(web_cluster("NodePort", "Cluster", host_endpoint("node-1"), plain)) is None


def test_the_trace_digest_changes_with_cluster_wide_policies():
    base = web_cluster("NodePort", "Cluster", host_endpoint("node-1"))
    with_gnp = copy.deepcopy(base)
    with_gnp.add(pre_dnat("block-client", "Deny", [f"{CLIENT}/32"]))
    key = {"service": ("shop", "web"), "client_ip": CLIENT}
    assert trace_digest(base, **key) != trace_digest(with_gnp, **key)
    changed = copy.deepcopy(with_gnp)
    changed.calico_global_network_policies[0]["spec"]["order"] = 20
    assert trace_digest(with_gnp, **key) != trace_digest(changed, **key)
