"""The demo cluster has what every page of the console needs, consistent with itself."""

from __future__ import annotations

import ipaddress
import os

import pytest

from kubesim import SimulatorServer
from kubesim.demo import DEMO_YAML, ISOLATED_PROJECT
from kubesim.demo_snapshot import demo_snapshot_yaml

NSNP = "namespacenetworkpolicies.network.kubesphere.io"


@pytest.fixture(scope="module")
def demo() -> SimulatorServer:
    return SimulatorServer(seed="demo")


def _all(demo: SimulatorServer, resource: str, namespace: str | None = None) -> list[dict]:
    return list(demo.store.scan(resource, namespace))


def test_three_calico_ipip_nodes_with_internal_ips_and_pod_cidrs(demo) -> None:
    nodes = _all(demo, "nodes")
    assert [n["metadata"]["name"] for n in nodes] == ["node-1", "node-2", "node-3"]
    for index, node in enumerate(nodes, start=1):
        addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
        assert addresses["InternalIP"] == f"192.168.0.{10 + index}"
        tunnel = ipaddress.ip_address(node["metadata"]["annotations"]["projectcalico.org/IPv4IPIPTunnelAddr"])
        assert tunnel in ipaddress.ip_network(node["spec"]["podCIDR"])


def test_every_pod_runs_on_a_node_with_an_ip_from_that_node(demo) -> None:
    cidrs = {n["metadata"]["name"]: ipaddress.ip_network(n["spec"]["podCIDR"]) for n in _all(demo, "nodes")}
    host_ips = {n["metadata"]["name"]: n["status"]["addresses"][0]["address"] for n in _all(demo, "nodes")}
    for pod in _all(demo, "pods"):
        status, node = pod["status"], pod["spec"]["nodeName"]
        assert status["phase"] == "Running"
        assert status["hostIP"] == host_ips[node]
        if pod["spec"].get("hostNetwork"):
            assert status["podIP"] == host_ips[node]
        else:
            assert ipaddress.ip_address(status["podIP"]) in cidrs[node]


def test_coredns_pods_sit_behind_kube_dns_on_53_udp_53_tcp_and_9153(demo) -> None:
    svc = demo.store.get("services", "kube-system", "kube-dns")
    assert [(p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [(53, "UDP"), (53, "TCP"), (9153, "TCP")]
    endpoints = demo.store.get("endpoints", "kube-system", "kube-dns")["subsets"][0]
    assert len(endpoints["addresses"]) == 2


def test_two_workspaces_hold_five_projects_and_one_is_isolated(demo) -> None:
    workspaces = {w["metadata"]["name"]: w["spec"]["networkIsolation"]
                  for w in _all(demo, "workspaces.tenant.kubesphere.io")}
    assert sorted(workspaces.values()) == [False, True]
    projects = [ns for ns in _all(demo, "namespaces")
                if (ns["metadata"].get("labels") or {}).get("kubesphere.io/workspace") in workspaces]
    assert len(projects) == 5
    isolated = [ns["metadata"]["name"] for ns in projects
                if (ns["metadata"].get("annotations") or {}).get("kubesphere.io/network-isolate") == "enabled"]
    assert isolated == [ISOLATED_PROJECT]


def test_the_isolated_project_has_internal_and_external_allowlist_entries(demo) -> None:
    peers = [peer for entry in _all(demo, NSNP, ISOLATED_PROJECT) for direction in ("ingress", "egress")
             for rule in entry["spec"].get(direction) or [] for peer in rule.get("from") or rule.get("to") or []]
    assert {key for peer in peers for key in peer} == {"namespace", "service", "ipBlock"}


def test_services_cover_every_exposure_type_and_traffic_policy(demo) -> None:
    kinds = {(s["spec"]["type"], s["spec"].get("externalTrafficPolicy")) for s in _all(demo, "services")}
    assert {("ClusterIP", None), ("NodePort", "Cluster"), ("NodePort", "Local"), ("LoadBalancer", "Cluster"),
            ("LoadBalancer", "Local")} <= kinds
    for svc in _all(demo, "services"):
        if svc["spec"]["type"] == "LoadBalancer":
            annotations = svc["metadata"]["annotations"]
            assert annotations["lb.kubesphere.io/v1alpha1"] == "openelb"
            assert annotations["protocol.openelb.kubesphere.io/v1alpha1"] in ("layer2", "bgp")
            assert svc["status"]["loadBalancer"]["ingress"][0]["ip"]


def test_the_isolated_projects_exposed_services_run_on_one_node_only(demo) -> None:
    exposed = {s["metadata"]["name"]: s["spec"]["externalTrafficPolicy"]
               for s in _all(demo, "services", ISOLATED_PROJECT) if s["spec"]["type"] != "ClusterIP"}
    # One of each policy: Local answers only where the pod runs; Cluster works through every
    # node but the policy sees the client only on the pod's node.
    assert exposed == {"payments-gateway": "Local", "payments-api": "Cluster"}
    for name in exposed:
        subsets = demo.store.get("endpoints", ISOLATED_PROJECT, name)["subsets"]
        assert {a["nodeName"] for a in subsets[0]["addresses"]} == {"node-2"}


def test_endpoints_and_slices_list_exactly_the_selected_running_pods(demo) -> None:
    pods = _all(demo, "pods")
    for svc in _all(demo, "services"):
        selector = svc["spec"].get("selector")
        if not selector:
            continue
        md = svc["metadata"]
        expected = sorted(p["status"]["podIP"] for p in pods if p["metadata"]["namespace"] == md["namespace"]
                          and selector.items() <= p["metadata"]["labels"].items())
        subsets = demo.store.get("endpoints", md["namespace"], md["name"])["subsets"]
        assert sorted(a["ip"] for s in subsets for a in s["addresses"]) == expected, md["name"]
        slices = [s for s in _all(demo, "endpointslices.discovery.k8s.io", md["namespace"])
                  if s["metadata"]["labels"]["kubernetes.io/service-name"] == md["name"]]
        assert sorted(e["addresses"][0] for s in slices for e in s["endpoints"]) == expected


def test_an_ingress_routes_to_a_backend_service_through_the_nginx_class(demo) -> None:
    for ingress in _all(demo, "ingresses.networking.k8s.io"):
        assert ingress["spec"]["ingressClassName"] == "nginx"
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
        assert demo.store.get("services", ingress["metadata"]["namespace"], backend) is not None


def test_hand_written_policies_deny_by_default_and_allow_dns_and_the_ingress_controller(demo) -> None:
    names = {p["metadata"]["name"] for p in _all(demo, "networkpolicies.networking.k8s.io")}
    assert {"default-deny", "allow-dns-egress", "allow-from-ingress-controller"} <= names


@pytest.fixture
def fresh_demo():
    """The demo exactly as `make run` serves it (the shared `simulator` fixture removes its
    generated policies)."""
    server = SimulatorServer(seed="demo")
    server.start()
    yield server
    server.stop()


def test_a_fresh_demo_is_in_step_with_its_isolation_intent(fresh_demo) -> None:
    """The demo ships the policies the engine generates: a reconcile plan of a brand-new demo,
    read over HTTP as the console reads it and compiled with the default platform settings,
    has nothing to create, update or delete and no drift to repair."""
    from cluster.config import ClusterConfig
    from cluster.gateway import Gateway
    from isolation.compiler.generate import IsolationSettings, desired_policies
    from isolation.compiler.reconcile import plan_reconcile

    gateway = Gateway(ClusterConfig(source="url", api_url=fresh_demo.url))
    try:
        snapshot = gateway.snapshot()
    finally:
        gateway.close()
    compiled = desired_policies(snapshot, IsolationSettings())
    assert compiled.policies and not compiled.problems
    plan = plan_reconcile(compiled.policies, snapshot.network_policies)
    assert (plan.creates, plan.updates, plan.deletes, plan.drift, plan.conflicts) == ([], [], [], [], [])
    generated = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in compiled.policies}
    assert generated <= {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in snapshot.network_policies}


def test_the_demo_snapshot_file_matches_the_seed() -> None:
    expected = demo_snapshot_yaml()
    if os.environ.get("KUBESIM_REGENERATE"):
        DEMO_YAML.write_text(expected, encoding="utf-8")
    assert DEMO_YAML.read_text(encoding="utf-8") == expected, \
        "kubesim/demo.yaml is stale: run `python -m kubesim.demo` (or KUBESIM_REGENERATE=1 pytest)"


def test_the_demo_serves_its_expectations_and_exactly_one_is_violated(demo) -> None:
    from isolation.guardrails.evaluate import evaluate_snapshot
    from isolation.snapshot import KIND_FIELDS, Snapshot, with_name_label
    from kubesim.demo import demo_objects

    namespaced = _all(demo, "connectivityexpectations.isolation.tenant-console.io")
    cluster_scoped = _all(demo, "clusterconnectivityexpectations.isolation.tenant-console.io")
    assert len(namespaced) >= 3 and len(cluster_scoped) >= 2
    snapshot = Snapshot()
    for obj in demo_objects():
        if obj.get("kind") in KIND_FIELDS:
            snapshot.add(with_name_label(obj) if obj["kind"] == "Namespace" else obj)
    results, errors = evaluate_snapshot(snapshot)
    assert errors == []
    assert len(results) == len(namespaced) + len(cluster_scoped)
    assert all(r.reason is None for r in results)  # every end matches pods
    # the platform tier's GlobalNetworkPolicy keeps the metadata address closed, not yet the
    # management network's SSH port
    assert [r.name for r in results if not r.holds] == ["no-project-reaches-the-management-network"]


def _demo_cluster():
    from isolation.reachability.engine import Cluster
    from isolation.snapshot import load_snapshot

    return Cluster.from_snapshot(load_snapshot(DEMO_YAML.read_text(encoding="utf-8")))


def test_the_demo_serves_calico_and_admin_policies_with_their_crds(demo) -> None:
    crds = {c["metadata"]["name"] for c in _all(demo, "customresourcedefinitions.apiextensions.k8s.io")}
    assert {"globalnetworkpolicies.crd.projectcalico.org", "tiers.crd.projectcalico.org",
            "networkpolicies.crd.projectcalico.org",
            "baselineadminnetworkpolicies.policy.networking.k8s.io"} <= crds
    assert [(t["metadata"]["name"], t["spec"]["order"])
            for t in _all(demo, "tiers.crd.projectcalico.org")] == [("platform", 100)]
    assert [p["metadata"]["name"] for p in _all(demo, "globalnetworkpolicies.crd.projectcalico.org")] \
        == ["platform.deny-cloud-metadata"]
    assert [p["metadata"]["name"] for p in _all(
        demo, "baselineadminnetworkpolicies.policy.networking.k8s.io")] == ["default"]


def test_the_platform_tier_denies_every_project_the_metadata_address_before_project_policies():
    cluster = _demo_cluster()
    assert [getattr(layer, "name", layer.kind) for layer in cluster.layers] == [
        "platform", "default", "BaselineAdminNetworkPolicy"]
    web = next(p.key for p in cluster.pods if p.namespace == "web")
    verdict = cluster.check(web, "169.254.169.254", 80)
    assert not verdict.allowed
    assert verdict.egress.decided_by.kind == "GlobalNetworkPolicy"
    assert verdict.egress.decided_by.tier == "platform"
    assert "before any project policy" in verdict.egress.reason
    # kube-system is no project: the policy does not select it
    dns = next(p.key for p in cluster.pods if p.namespace == "kube-system" and not p.host_network)
    assert cluster.check(dns, "169.254.169.254", 80).allowed


def test_the_baseline_lets_monitoring_scrape_only_the_projects_no_policy_isolates():
    cluster = _demo_cluster()
    prometheus = next(p.key for p in cluster.pods if p.namespace == "kubesphere-monitoring-system")
    blog = next(p.key for p in cluster.pods if p.namespace == "web")
    ledger = next(p.key for p in cluster.pods if p.name.startswith("ledger"))
    open_project = cluster.check(prometheus, blog, 2368)
    assert open_project.allowed and open_project.ingress.decided_by.kind == \
        "BaselineAdminNetworkPolicy"
    isolated = cluster.check(prometheus, ledger, 5432)
    assert not isolated.allowed and isolated.ingress.decided_by.kind == "NetworkPolicy"
