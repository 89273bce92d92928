"""The tenancy model: workspaces, projects, modes, ingress controllers and node addresses."""

from __future__ import annotations

import pytest

from isolation.compiler.tenancy import (
    NodeAddress,
    TenancyInputError,
    detect_ingress_namespaces,
    isolation_mode,
    node_address_candidates,
    projects_of,
    snat_annotation_addresses,
    workspace_of,
)
from tests.golden.scenarios import (
    add_namespace,
    annotate_node,
    cluster,
    isolate_project,
    isolate_workspace,
    remove,
)


def _pod(namespace, name, labels, phase="Running"):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "c"}]}, "status": {"phase": phase}}


def test_workspace_of_maps_labelled_namespaces_only():
    snapshot = add_namespace(cluster(), "orphan", workspace="gone")
    assert workspace_of(snapshot) == {"audit": "team-a", "billing": "team-a",
                                      "orphan": "gone", "shop": "team-a", "web": "team-b"}


def test_projects_of_lists_a_workspace_sorted():
    assert projects_of(cluster(), "team-a") == ["audit", "billing", "shop"]
    assert projects_of(cluster(), "nobody") == []


@pytest.mark.parametrize("workspace_on, project_on, namespace, mode", [
    (False, False, "shop", "off"),
    (True, False, "shop", "workspace"),
    (False, True, "shop", "project"),
    (True, True, "shop", "project"),
    (True, True, "billing", "workspace"),
    (True, False, "kube-system", "off"),
    (True, False, "no-such-namespace", "off"),
])
def test_isolation_mode(workspace_on, project_on, namespace, mode):
    snapshot = cluster()
    if workspace_on:
        isolate_workspace(snapshot, "team-a")
    if project_on:
        isolate_project(snapshot, "shop")
    assert isolation_mode(snapshot, namespace) == mode


def test_a_project_whose_workspace_is_missing_is_off():
    snapshot = isolate_project(remove(cluster(), "workspaces", "team-a"), "shop")
    assert isolation_mode(snapshot, "shop") == "off"


@pytest.mark.parametrize("labels, detected", [
    ({"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
     True),
    ({"app.kubernetes.io/name": "ingress-nginx"}, True),
    ({"app.kubernetes.io/name": "ingress-nginx",
      "app.kubernetes.io/component": "admission-webhook"}, False),
    ({"app.kubernetes.io/name": "nginx-ingress"}, True),
    ({"app": "kubesphere-router"}, True),
    ({"app": "kubesphere", "component": "ks-router"}, True),
    ({"app": "kubesphere", "component": "ks-apiserver"}, False),
    ({"k8s-app": "nginx-ingress-controller"}, True),
    ({"app": "nginx"}, False),
])
def test_ingress_controllers_are_recognised_by_their_pod_labels(labels, detected):
    snapshot = add_namespace(remove(cluster(), "pods", "ingress-nginx-controller-1",
                                    "ingress-nginx"), "gateway")
    snapshot.pods.append(_pod("gateway", "controller-1", labels))
    found = detect_ingress_namespaces(snapshot)
    assert ("gateway" in found) is detected


def test_ingress_detection_names_the_reason_and_ignores_finished_pods():
    snapshot = add_namespace(add_namespace(cluster(), "gateway"), "old-gateway")
    snapshot.pods.append(_pod("gateway", "router-1", {"app": "kubesphere-router"}))
    snapshot.pods.append(_pod("old-gateway", "router-1", {"app": "kubesphere-router"},
                              phase="Succeeded"))
    found = detect_ingress_namespaces(snapshot)
    assert found == {"gateway": "pod router-1 labelled app=kubesphere-router",
                     "ingress-nginx": "namespace named ingress-nginx"}


def test_conventional_ingress_namespaces_count_only_when_they_exist():
    snapshot = add_namespace(cluster(), "kubesphere-controls-system")
    assert list(detect_ingress_namespaces(snapshot)) == ["ingress-nginx",
                                                         "kubesphere-controls-system"]
    bare = remove(remove(cluster(), "pods", "ingress-nginx-controller-1", "ingress-nginx"),
                  "namespaces", "ingress-nginx")
    assert detect_ingress_namespaces(bare) == {}


def test_node_address_candidates_offer_internal_and_tunnel_addresses():
    snapshot = annotate_node(cluster(), "node-1", "kubesphere.io/snat-node-ips",
                             "192.168.0.99;junk")
    assert node_address_candidates(snapshot) == [
        NodeAddress("node-1", "10.233.90.0", "IPIP tunnel"),
        NodeAddress("node-1", "192.168.0.11", "InternalIP"),
        NodeAddress("node-1", "192.168.0.99", "snat-node-ips"),
        NodeAddress("node-2", "192.168.0.12", "InternalIP"),
        NodeAddress("node-2", "10.233.96.0", "VXLAN tunnel"),
    ]
    assert NodeAddress("n", "fd00::1", "InternalIP").cidr == "fd00::1/128"


def test_snat_annotation_values_are_pooled_and_bad_ones_reported():
    snapshot = annotate_node(cluster(), "node-1", "kubesphere.io/snat-node-ips",
                             " 192.168.0.11 ;;oops")
    annotate_node(snapshot, "node-2", "kubesphere.io/snat-node-ips", "fd00::2")
    addresses, problems = snat_annotation_addresses(snapshot)
    assert addresses == ["192.168.0.11", "fd00::2"]
    assert [node for node, _ in problems] == ["node-1"]


@pytest.mark.parametrize("mutate, field", [
    (lambda s: s.namespaces[0]["metadata"].update(labels="x"), "metadata.labels"),
    (lambda s: s.namespaces[0]["metadata"].update(annotations={"a": 1}), "metadata.annotations.a"),
    (lambda s: s.workspaces[0].update(spec=["x"]), "spec"),
    (lambda s: s.nodes[0]["status"].update(addresses={"x": 1}), "status.addresses"),
])
def test_misshapen_objects_raise_an_error_naming_the_field(mutate, field):
    snapshot = cluster()
    mutate(snapshot)
    with pytest.raises(TenancyInputError) as caught:
        workspace_of(snapshot)
        node_address_candidates(snapshot)
        isolation_mode(isolate_workspace(snapshot, "team-b"), "web")
    assert caught.value.field == field
