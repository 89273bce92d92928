"""Service defaulting and address allocation as kube-apiserver does it."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.rest import ApiException


def _svc(name: str, type_: str = "ClusterIP", **spec) -> dict:
    return {"metadata": {"name": name}, "spec": {"type": type_, "selector": {"app": name},
                                                 "ports": spec.pop("ports", [{"port": 80}]), **spec}}


def _create(core, body: dict):
    return core.create_namespaced_service("default", body)


def test_cluster_ips_are_unique_and_immutable(sim, core) -> None:
    first, second = _create(core, _svc("a")), _create(core, _svc("b"))
    assert first.spec.cluster_ip != second.spec.cluster_ip
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_service("a", "default", {"spec": {"clusterIP": second.spec.cluster_ip}})
    assert caught.value.status == 422


def test_node_ports_are_allocated_and_the_traffic_policy_defaults_to_cluster(sim, core) -> None:
    svc = _create(core, _svc("np", "NodePort", ports=[{"name": "a", "port": 80}, {"name": "b", "port": 81}]))
    ports = [p.node_port for p in svc.spec.ports]
    assert len(set(ports)) == 2 and all(30000 <= p <= 32767 for p in ports)
    assert svc.spec.external_traffic_policy == "Cluster"
    assert [p.target_port for p in svc.spec.ports] == [80, 81]


def test_a_taken_node_port_is_refused(sim, core) -> None:
    _create(core, _svc("one", "NodePort", ports=[{"port": 80, "nodePort": 30500}]))
    with pytest.raises(ApiException) as caught:
        _create(core, _svc("two", "NodePort", ports=[{"port": 80, "nodePort": 30500}]))
    causes = json.loads(caught.value.body)["details"]["causes"]
    assert causes[0]["field"] == "spec.ports[0].nodePort"
    assert "already allocated" in causes[0]["message"]


def test_deleting_a_service_frees_its_node_port(sim, core) -> None:
    _create(core, _svc("one", "NodePort", ports=[{"port": 80, "nodePort": 30501}]))
    core.delete_namespaced_service("one", "default")
    assert _create(core, _svc("two", "NodePort", ports=[{"port": 80, "nodePort": 30501}])).spec.ports[0].node_port \
        == 30501


def test_a_local_load_balancer_gets_a_health_check_node_port_apart_from_its_node_ports(sim, core) -> None:
    svc = _create(core, _svc("lb", "LoadBalancer", externalTrafficPolicy="Local"))
    assert svc.spec.health_check_node_port not in {p.node_port for p in svc.spec.ports}
    assert svc.status.load_balancer.ingress is None


def test_node_ports_survive_an_update_that_omits_them(sim, core) -> None:
    svc = _create(core, _svc("np", "NodePort"))
    body = core.read_namespaced_service("np", "default")
    body.spec.ports[0].node_port = None
    assert core.replace_namespaced_service("np", "default", body).spec.ports[0].node_port == \
        svc.spec.ports[0].node_port


@pytest.mark.parametrize(("spec", "field"), [
    ({"ports": [{"port": 80}, {"port": 81}]}, "spec.ports[1].name"),
    ({"ports": [{"port": 0}]}, "spec.ports[0].port"),
    ({"externalTrafficPolicy": "Local"}, "spec.externalTrafficPolicy"),
    ({"ports": [{"port": 80, "protocol": "ICMP"}]}, "spec.ports[0].protocol"),
])
def test_invalid_services_name_the_field(sim, core, spec: dict, field: str) -> None:
    with pytest.raises(ApiException) as caught:
        _create(core, _svc("bad", **spec))
    assert field in {c["field"] for c in json.loads(caught.value.body)["details"]["causes"]}
