"""The traffic-path model on realistic three-node clusters: inputs, placements, verdicts."""

from __future__ import annotations

import pytest

from isolation.paths.trace import PathInputError, detect_cni_mode, exposures, trace
from isolation.snapshot import Snapshot, with_name_label

CLIENT = "203.0.113.9"
NODES = {
    "node-1": ("192.168.0.11", "10.233.64.0", "10.233.64.1"),
    "node-2": ("192.168.0.12", "10.233.65.0", "10.233.65.1"),
    "node-3": ("192.168.1.13", "10.233.66.0", "10.233.66.1"),
}


def node(name: str, *, ipip: bool = True, vxlan: bool = False, subnet: bool = True) -> dict:
    ip, tunl, vx = NODES[name]
    annotations = {}
    if ipip:
        annotations["projectcalico.org/IPv4IPIPTunnelAddr"] = tunl
    if vxlan:
        annotations["projectcalico.org/IPv4VXLANTunnelAddr"] = vx
    if subnet:
        annotations["projectcalico.org/IPv4Address"] = f"{ip}/24"
    return {"kind": "Node", "metadata": {"name": name, "annotations": annotations},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}


def pod(key: str, ip: str, node_name: str, labels: dict, port: int = 8080,
        host_network: bool = False, args: tuple[str, ...] = ()) -> dict:
    namespace, name = key.split("/")
    return {"kind": "Pod", "metadata": {"namespace": namespace, "name": name, "labels": labels},
            "spec": {"nodeName": node_name, "hostNetwork": host_network, "containers": [{
                "name": "main", "image": "app", "args": list(args),
                "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}]}]},
            "status": {"phase": "Running", "podIP": ip}}


def service(key: str, kind: str, selector: dict, *, policy: str = "Cluster",
            target: int | str = "http", annotations: dict | None = None,
            lb_ip: str | None = None) -> dict:
    namespace, name = key.split("/")
    obj = {"kind": "Service", "metadata": {"namespace": namespace, "name": name,
                                           "annotations": annotations or {}},
           "spec": {"type": kind, "selector": selector,
                    "ports": [{"name": "http", "port": 80, "targetPort": target, "protocol": "TCP",
                               **({"nodePort": 30080} if kind != "ClusterIP" else {})}]}}
    if kind != "ClusterIP":
        obj["spec"]["externalTrafficPolicy"] = policy
    if lb_ip:
        obj["status"] = {"loadBalancer": {"ingress": [{"ip": lb_ip}]}}
    return obj


def isolate(namespace: str, *cidrs: str, namespaces: tuple[str, ...] = ()) -> list[dict]:
    """The project isolated to itself, plus an allowlist of CIDRs and namespaces on 8080."""
    policies = [{"kind": "NetworkPolicy",
                 "metadata": {"namespace": namespace, "name": "nsnp-network-isolate"},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [
                     {"namespaceSelector": {"matchLabels": {
                         "kubernetes.io/metadata.name": namespace}}}]}]}}]
    peers = [{"ipBlock": {"cidr": c}} for c in cidrs] + [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
        for ns in namespaces]
    if peers:
        policies.append({"kind": "NetworkPolicy",
                         "metadata": {"namespace": namespace, "name": "nsnp-allow"},
                         "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
                             "from": peers, "ports": [{"port": 8080, "protocol": "TCP"}]}]}})
    return policies


def cluster(*objects: dict, nodes=("node-1", "node-2", "node-3"), **node_kwargs) -> Snapshot:
    snapshot = Snapshot()
    for name in nodes:
        snapshot.add(node(name, **node_kwargs))
    for namespace in ("shop", "ingress", "other"):
        snapshot.add(with_name_label({"kind": "Namespace", "metadata": {"name": namespace}}))
    for obj in objects:
        snapshot.add(obj)
    return snapshot


WEB = {"app": "web"}


def web_cluster(kind: str = "NodePort", policy: str = "Cluster", *extra: dict,
                placements=("node-1",), **kwargs) -> Snapshot:
    pods = [pod(f"shop/web-{i}", f"10.233.{64 + int(n[-1]) - 1}.{10 + i}", n, WEB)
            for i, n in enumerate(placements)]
    return cluster(*pods, service("shop/web", kind, WEB, policy=policy,
                                  lb_ip="192.168.0.200" if kind == "LoadBalancer" else None,
                                  annotations={"lb.kubesphere.io/v1alpha1": "openelb"}
                                  if kind == "LoadBalancer" else None), *extra, **kwargs)


# -- CNI mode ---------------------------------------------------------------------------------

def pool(name: str, **spec) -> dict:
    return {"kind": "IPPool", "metadata": {"name": name}, "spec": {"cidr": "10.233.64.0/18", **spec}}


@pytest.mark.parametrize("objects, expected", [
    ([pool("p", vxlanMode="Always")], "vxlan"),
    ([pool("p", ipipMode="CrossSubnet", vxlanMode="Never")], "ipip"),
    ([pool("p", ipipMode="Never", vxlanMode="Never")], "routed"),
    ([pool("off", vxlanMode="Always", disabled=True), pool("on", ipipMode="Always")], "ipip"),
    ([pool("tunnel-only", vxlanMode="Always", allowedUses=["Tunnel"])], "ipip"),
    ([], "ipip"),
])
def test_cni_mode_is_read_from_ip_pools_before_node_annotations(objects, expected):
    assert detect_cni_mode(cluster(*objects)) == expected


@pytest.mark.parametrize("kwargs, expected", [
    ({"ipip": False, "vxlan": True}, "vxlan"),
    ({"ipip": False, "vxlan": False}, "routed"),
])
def test_cni_mode_without_pools_follows_the_tunnel_annotations(kwargs, expected):
    assert detect_cni_mode(cluster(**kwargs)) == expected


# -- exposures --------------------------------------------------------------------------------

def test_exposures_list_nodeport_loadbalancer_and_ingress_but_not_clusterip():
    snapshot = web_cluster(
        "LoadBalancer", "Local",
        service("shop/internal", "ClusterIP", WEB),
        service("ingress/nginx", "NodePort", {"app": "ingress-nginx"}),
        pod("ingress/nginx-0", "10.233.64.50", "node-1", {"app": "ingress-nginx"}, port=80),
        {"kind": "Ingress", "metadata": {"namespace": "shop", "name": "shop"},
         "spec": {"rules": [{"http": {"paths": [{"backend": {"service": {
             "name": "internal", "port": {"number": 80}}}}]}}]}},
    )
    found = {(e.kind, e.key): e for e in exposures(snapshot)}
    assert sorted(found) == [("Ingress", "shop/shop"), ("LoadBalancer", "shop/web"),
                             ("NodePort", "ingress/nginx")]
    lb = found[("LoadBalancer", "shop/web")]
    assert (lb.traffic_policy, lb.lb_impl, lb.lb_ips) == ("Local", "bgp", ("192.168.0.200",))
    assert lb.ports[0]["node_port"] == 30080
    ing = found[("Ingress", "shop/shop")]
    assert (ing.controller, ing.backends, ing.traffic_policy) == ("ingress/nginx", ("shop/internal",), "Cluster")


@pytest.mark.parametrize("annotations, expected", [
    ({"lb.kubesphere.io/v1alpha1": "openelb"}, "bgp"),
    ({"lb.kubesphere.io/v1alpha1": "openelb", "protocol.openelb.kubesphere.io/v1alpha1": "layer2"}, "layer2"),
    ({"protocol.openelb.kubesphere.io/v1alpha1": "vip"}, "vip"),
    ({}, None),
])
def test_openelb_mode_comes_from_the_service_annotations(annotations, expected):
    snapshot = cluster(service("shop/web", "LoadBalancer", WEB, annotations=annotations))
    assert exposures(snapshot)[0].lb_impl == expected


# -- placements and traffic policies ----------------------------------------------------------

def test_cluster_policy_sends_every_entry_node_to_every_pod():
    result = trace(web_cluster(placements=("node-1", "node-2")), service=("shop", "web"))
    pairs = [(p.entry_node, p.target) for p in result.paths]
    assert pairs == [(n, t) for n in ("node-1", "node-2", "node-3") for t in ("shop/web-0", "shop/web-1")]
    assert all(p.succeeds for p in result.paths)  # nothing isolates the project
    assert result.status == "every"


def test_local_policy_keeps_traffic_on_nodes_with_an_endpoint_and_drops_elsewhere():
    result = trace(web_cluster("NodePort", "Local", placements=("node-1", "node-2")),
                   service=("shop", "web"))
    by_node = {}
    for path in result.paths:
        by_node.setdefault(path.entry_node, []).append((path.target, path.succeeds))
    assert by_node["node-1"] == [("shop/web-0", True)]
    assert by_node["node-2"] == [("shop/web-1", True)]
    assert by_node["node-3"] == [("shop/web-0", False), ("shop/web-1", False)]
    assert result.outcome_by_entry_node() == {"node-1": "works", "node-2": "works", "node-3": "fails"}
    assert any("node-3" in note for note in result.pitfalls)


def test_a_service_without_ready_endpoints_is_rejected_on_every_node():
    snapshot = cluster(service("shop/web", "NodePort", WEB))
    result = trace(snapshot, service=("shop", "web"))
    assert [p.hops[-1].kind for p in result.paths] == ["reject"] * 3
    assert all(p.target is None and not p.succeeds for p in result.paths)


def test_cluster_nodeport_works_only_through_the_pods_node_when_only_the_client_is_allowed():
    snapshot = web_cluster("NodePort", "Cluster", *isolate("shop", f"{CLIENT}/32"))
    result = trace(snapshot, service=("shop", "web"))
    assert result.outcome_by_entry_node() == {"node-1": "works", "node-2": "fails", "node-3": "fails"}
    assert result.status == "some"
    assert result.summary().startswith("Works when it enters on node-1 (the pod is local, the policy sees the client)")
    via_node_2 = next(p for p in result.paths if p.entry_node == "node-2")
    assert via_node_2.policy_source == "10.233.65.0"
    assert "10.233.65.0 (node-2's tunl0)" in via_node_2.reason
    assert "shop/nsnp-network-isolate" in via_node_2.reason
    assert result.needed_allowlist() == [
        {"cidr": "10.233.65.0/32", "ports": [{"port": 8080, "protocol": "TCP"}]},
        {"cidr": "10.233.66.0/32", "ports": [{"port": 8080, "protocol": "TCP"}]},
    ]


def test_allowing_the_advised_entries_makes_the_service_work_through_every_node():
    before = trace(web_cluster("NodePort", "Cluster", *isolate("shop", f"{CLIENT}/32")),
                   service=("shop", "web"))
    cidrs = [f"{CLIENT}/32"] + [e["cidr"] for e in before.needed_allowlist()]
    after = trace(web_cluster("NodePort", "Cluster", *isolate("shop", *cidrs)),
                  service=("shop", "web"))
    assert after.status == "every" and after.needed_allowlist() == []


def test_cross_subnet_peers_are_reached_natively_and_seen_by_their_node_ip():
    snapshot = web_cluster("NodePort", "Cluster", pool("p", ipipMode="CrossSubnet"),
                           *isolate("shop"))
    result = trace(snapshot, service=("shop", "web"))
    sources = {p.entry_node: (p.policy_source, p.hops[3].label) for p in result.paths}
    assert sources["node-2"] == ("192.168.0.12", "routed")  # same /24 as node-1
    assert sources["node-3"] == ("10.233.66.0", "IPIP")  # another subnet: tunnelled


def test_vxlan_override_uses_the_vxlan_tunnel_addresses():
    snapshot = web_cluster("NodePort", "Cluster", vxlan=True)
    result = trace(snapshot, service=("shop", "web"), cni="vxlan")
    via_node_2 = next(p for p in result.paths if p.entry_node == "node-2")
    assert [h.label for h in via_node_2.hops] == [
        "client 203.0.113.9", "node-2:30080", "SNAT 10.233.65.1 (vxlan.calico)", "VXLAN",
        "pod 10.233.64.10:8080"]
    assert result.cni_source == "set explicitly"


def test_a_missing_tunnel_address_is_reported_instead_of_guessed():
    snapshot = web_cluster("NodePort", "Cluster", ipip=False)
    result = trace(snapshot, service=("shop", "web"), cni="ipip")
    via_node_2 = next(p for p in result.paths if p.entry_node == "node-2")
    assert via_node_2.succeeds is False and via_node_2.policy_source is None
    assert "node-2 has no projectcalico.org/IPv4IPIPTunnelAddr" in via_node_2.reason
    assert "node-2 has no projectcalico.org/IPv4IPIPTunnelAddr annotation" in result.warnings


def test_local_load_balancer_attracts_traffic_only_on_nodes_with_an_endpoint():
    result = trace(web_cluster("LoadBalancer", "Local"), service=("shop", "web"))
    assert result.entry_nodes() == ["node-1"]
    assert [h.label for h in result.paths[0].hops] == [
        "client 203.0.113.9", "LB 192.168.0.200:80 (OpenELB bgp)", "node-1 (dst 192.168.0.200:80)",
        "pod 10.233.64.10:8080"]
    stale = trace(web_cluster("LoadBalancer", "Local"), service=("shop", "web"),
                  entry_nodes=["node-2"])
    assert stale.paths[0].steady_state is False and stale.paths[0].succeeds is False
    assert stale.paths[0].reason.startswith("not reached in steady state")


# -- Ingress ----------------------------------------------------------------------------------

NGINX = {"app.kubernetes.io/name": "ingress-nginx"}


def ingress_cluster(*extra: dict, host_network: bool = False, controller_policy: str = "Cluster",
                    backend_node: str = "node-2") -> Snapshot:
    controller_ip = "192.168.0.11" if host_network else "10.233.64.50"
    return cluster(
        pod("ingress/nginx-0", controller_ip, "node-1", NGINX, port=80, host_network=host_network,
            args=("--ingress-class=nginx",)),
        service("ingress/nginx", "NodePort", NGINX, policy=controller_policy),
        pod("shop/web-0", "10.233.65.10", backend_node, WEB),
        service("shop/web", "ClusterIP", WEB),
        {"kind": "Ingress", "metadata": {"namespace": "shop", "name": "web"},
         "spec": {"ingressClassName": "nginx", "rules": [{"http": {"paths": [{"backend": {
             "service": {"name": "web", "port": {"name": "http"}}}}]}}]}},
        *extra)


def test_ingress_backend_sees_the_controller_pod_and_needs_its_namespace():
    result = trace(ingress_cluster(*isolate("shop", f"{CLIENT}/32")), ingress=("shop", "web"))
    assert result.exposure.controller == "ingress/nginx"
    for path in result.paths:
        assert path.policy_source == "10.233.64.50"
        assert path.needed_allowlist == [{"namespace": "ingress"}]
        assert len(path.legs) == 2 and path.legs[1].hops[0].label == "ingress controller 10.233.64.50"
    assert result.status == "none"
    fixed = trace(ingress_cluster(*isolate("shop", namespaces=("ingress",))), ingress=("shop", "web"))
    assert fixed.status == "every"
    assert {p.forwarded_for for p in fixed.paths} == {"192.168.0.11", "10.233.65.0", "10.233.66.0"}


def test_host_network_controller_is_seen_as_its_node():
    same_node = trace(ingress_cluster(*isolate("shop"), host_network=True, backend_node="node-1"),
                      ingress=("shop", "web"))
    assert all(p.succeeds for p in same_node.paths)  # the pod's own node is always admitted
    other_node = trace(ingress_cluster(*isolate("shop"), host_network=True), ingress=("shop", "web"))
    assert {p.policy_source for p in other_node.paths} == {"10.233.64.0"}  # node-1's tunl0
    assert other_node.needed_allowlist() == [
        {"cidr": "10.233.64.0/32", "ports": [{"port": 8080, "protocol": "TCP"}]}]


def test_an_isolated_controller_namespace_blocks_leg_one():
    snapshot = ingress_cluster(*isolate("ingress"), *isolate("shop", namespaces=("ingress",)))
    result = trace(snapshot, ingress=("shop", "web"))
    path = next(p for p in result.paths if p.entry_node == "node-2")
    assert path.succeeds is False and path.app_source is None
    assert path.reason.startswith("leg 1 (client to ingress controller): blocked by ingress/nsnp-network-isolate")
    assert path.legs[0].needed_allowlist == [
        {"cidr": "10.233.65.0/32", "ports": [{"port": 80, "protocol": "TCP"}]}]


def test_controller_egress_restrictions_are_not_blamed_on_the_project():
    egress_lock = {"kind": "NetworkPolicy", "metadata": {"namespace": "ingress", "name": "no-egress"},
                   "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
    result = trace(ingress_cluster(egress_lock), ingress=("shop", "web"))
    path = result.paths[0]
    assert path.succeeds is False and path.needed_allowlist == []
    assert "ingress/no-egress (egress of the source)" in path.reason


def test_the_controller_is_recognised_by_its_load_balancer_address():
    snapshot = ingress_cluster(
        service("ingress/public", "LoadBalancer", NGINX, lb_ip="192.168.0.201"),
        service("other/router", "NodePort", {"app": "router"}))
    snapshot.ingresses[0]["status"] = {"loadBalancer": {"ingress": [{"ip": "192.168.0.201"}]}}
    result = trace(snapshot, ingress=("shop", "web"))
    assert result.exposure.controller == "ingress/public"
    assert result.paths[0].hops[1].label == "LB 192.168.0.201:80"


def test_the_project_gateway_watching_the_ingress_namespace_wins():
    snapshot = ingress_cluster(
        pod("ingress/gw-shop-0", "10.233.64.60", "node-1", {"app": "gw-shop"}, port=80,
            args=("--watch-namespace=shop",)),
        service("ingress/kubesphere-router-shop", "NodePort", {"app": "gw-shop"}))
    assert trace(snapshot, ingress=("shop", "web")).exposure.controller == "ingress/kubesphere-router-shop"


# -- input errors and the JSON contract -------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one"),
    ({"service": ("shop", "web"), "ingress": ("shop", "web")}, "exactly one"),
    ({"service": ("shop", "nope")}, "Service shop/nope is not in the snapshot"),
    ({"service": ("shop", "internal")}, "of type ClusterIP"),
    ({"service": ("shop", "web"), "client_ip": "somewhere"}, "not an IP address"),
    ({"service": ("shop", "web"), "cni": "flannel"}, "not one of routed, ipip, vxlan"),
    ({"service": ("shop", "web"), "entry_nodes": ["node-9"]}, "unknown entry node(s): node-9"),
    ({"service": ("shop", "web"), "port": 443}, "has no port 443"),
    ({"ingress": ("shop", "nope")}, "Ingress shop/nope is not in the snapshot"),
])
def test_bad_trace_requests_are_refused_with_a_clear_message(kwargs, message):
    snapshot = web_cluster("NodePort", "Cluster", service("shop/internal", "ClusterIP", WEB))
    with pytest.raises(PathInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        trace(snapshot, **kwargs)


def test_an_ingress_without_any_controller_service_is_refused():
    snapshot = cluster({"kind": "Ingress", "metadata": {"namespace": "shop", "name": "web"},
                        "spec": {"rules": []}})
    with pytest.raises(PathInputError, match="no ingress controller Service"):
        trace(snapshot, ingress=("shop", "web"))


def test_path_json_has_exactly_the_documented_fields():
    result = trace(ingress_cluster(), ingress=("shop", "web"))
    data = result.to_dict()
    assert list(data) == ["paths"]
    fields = ["entry_node", "target", "target_node", "hops", "app_source", "policy_source",
              "succeeds", "reason", "needed_allowlist", "legs"]
    for path in data["paths"]:
        assert list(path) == fields
        assert all(list(leg) == fields for leg in path["legs"])
        assert all(isinstance(hop, str) for hop in path["hops"])


# -- cache digest -----------------------------------------------------------------------------

def _digest(snapshot: Snapshot, **kwargs) -> str:
    from isolation.paths.cache import trace_digest

    return trace_digest(snapshot, **{"service": ("shop", "web"), "client_ip": CLIENT, **kwargs})


def test_trace_digest_ignores_object_order_and_unrelated_namespaces():
    base = web_cluster("NodePort", "Cluster", *isolate("shop"))
    shuffled = Snapshot()
    for obj in reversed(base.objects()):
        shuffled.add(obj)
    assert _digest(base) == _digest(shuffled)
    unrelated = web_cluster("NodePort", "Cluster", *isolate("shop"), *isolate("other"),
                            pod("other/db-0", "10.233.66.9", "node-3", {"app": "db"}))
    assert _digest(base) == _digest(unrelated)


@pytest.mark.parametrize("change", ["policy", "node", "pod", "client", "cni"])
def test_trace_digest_changes_with_what_the_trace_depends_on(change):
    base = web_cluster("NodePort", "Cluster", *isolate("shop"))
    kwargs = {}
    if change == "policy":
        changed = web_cluster("NodePort", "Cluster", *isolate("shop", "10.0.0.0/8"))
    elif change == "node":
        changed = web_cluster("NodePort", "Cluster", *isolate("shop"), vxlan=True)
    elif change == "pod":
        changed = web_cluster("NodePort", "Cluster", *isolate("shop"), placements=("node-2",))
    else:
        changed = base
        kwargs = {"client_ip": "198.51.100.1"} if change == "client" else {"cni": "vxlan"}
    assert _digest(base) != _digest(changed, **kwargs)


def test_ingress_digest_follows_the_controller_namespace():
    base = ingress_cluster()
    changed = ingress_cluster(*isolate("ingress"))
    assert _digest(base, service=None, ingress=("shop", "web")) != _digest(
        changed, service=None, ingress=("shop", "web"))
