"""The same requests, good and bad, to the simulator and to a real kube-apiserver: the status,
reason, the fields the causes name and the stored object must agree.

Each scenario runs in a namespace of its own on both servers and returns an `Outcome` per step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from cluster.config import ClusterConfig
from cluster.crds import install_crds
from cluster.errors import ClusterError, InvalidError
from cluster.gateway import Gateway


@dataclass(frozen=True)
class Outcome:
    error: str | None = None        # the error class, or None for success
    status: int | None = None
    reason: str | None = None
    fields: tuple[str, ...] = ()    # the fields the causes name
    stored: Any = None              # what the object reads back as (spec, labels, annotations)


def essence(obj: dict[str, Any] | None) -> Any:
    if obj is None:
        return None
    metadata = obj.get("metadata") or {}
    return {"spec": obj.get("spec"), "labels": metadata.get("labels") or {},
            "annotations": metadata.get("annotations") or {}}


def run(step: Callable[[], dict[str, Any] | list | None], read: Callable[[], Any] = lambda: None
        ) -> Outcome:
    try:
        result = step()
    except ClusterError as exc:
        fields = tuple(sorted(f for f, _ in exc.causes)) if isinstance(exc, InvalidError) else ()
        return Outcome(type(exc).__name__, exc.status, exc.reason, fields, read())
    if isinstance(result, list):
        return Outcome(stored=sorted(o["metadata"]["name"] for o in result))
    return Outcome(stored=read() if read else essence(result))


def netpol(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    body = {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}],
                         "ports": [{"port": 8080, "protocol": "TCP"}]}]}
    body.update(spec)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns, "labels": {"owner": "shop"}},
            "spec": body}


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name,
                                                                 "labels": {"team": "a"}}}


def stored(gw: Gateway, ns: str, name: str) -> Callable[[], Any]:
    def read() -> Any:
        try:
            return essence(gw.get_object("NetworkPolicy", name, ns))
        except ClusterError as exc:
            return type(exc).__name__
    return read


# ---- scenarios: each takes a gateway and a fresh namespace, returns outcomes ---------------

def create_valid_then_duplicate(gw: Gateway, ns: str) -> list[Outcome]:
    return [run(lambda: gw.create(netpol(ns, "web")), stored(gw, ns, "web")),
            run(lambda: gw.create(netpol(ns, "web")))]


def invalid_policies(gw: Gateway, ns: str) -> list[Outcome]:
    bad = [
        {"ingress": [{"ports": [{"port": 70000}]}]},
        {"ingress": [{"ports": [{"port": 80, "protocol": "ICMP"}]}]},
        {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
        {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}]}]},
        {"podSelector": {"matchLabels": {"bad key!": "x"}}},
        {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}},
        {"policyTypes": ["Sideways"]},
        {"ingress": [{"ports": [{"port": 80, "endPort": 70}]}]},
    ]
    return [run(lambda s=s, i=i: gw.create(netpol(ns, f"bad-{i}", **s)), stored(gw, ns, f"bad-{i}"))
            for i, s in enumerate(bad)]


def invalid_names(gw: Gateway, ns: str) -> list[Outcome]:
    return [run(lambda n=n: gw.create(netpol(ns, n))) for n in ("Upper", "a_b", "x" * 254, "-lead")]


def unknown_fields_are_dropped(gw: Gateway, ns: str) -> list[Outcome]:
    obj = netpol(ns, "extra")
    obj["spec"]["podSelectr"] = {}
    return [run(lambda: gw.create(obj), stored(gw, ns, "extra"))]


def stale_replace_and_patches(gw: Gateway, ns: str) -> list[Outcome]:
    first = gw.create(netpol(ns, "web"))
    newer = copy.deepcopy(first)
    newer["spec"]["ingress"][0]["ports"][0]["port"] = 9090
    gw.replace(newer)
    stale = copy.deepcopy(first)
    stale["spec"]["ingress"][0]["ports"][0]["port"] = 7070
    old_version = first["metadata"]["resourceVersion"]
    read = stored(gw, ns, "web")
    return [
        run(lambda: gw.replace(stale), read),
        run(lambda: gw.merge_patch("NetworkPolicy", "web", {"metadata": {
            "resourceVersion": old_version, "labels": {"x": "y"}}}, namespace=ns), read),
        run(lambda: gw.merge_patch("NetworkPolicy", "web", {"metadata": {"labels": {"x": "y"}}},
                                   namespace=ns), read),
        run(lambda: gw.json_patch("NetworkPolicy", "web", [
            {"op": "test", "path": "/spec/ingress/0/ports/0/port", "value": 1},
            {"op": "replace", "path": "/spec/ingress/0/ports/0/port", "value": 2}],
            namespace=ns), read),
        run(lambda: gw.json_patch("NetworkPolicy", "web", [
            {"op": "add", "path": "/metadata/annotations", "value": {"note": "kept"}},
            {"op": "replace", "path": "/spec/ingress/0/ports/0/port", "value": 8443}],
            namespace=ns), read),
        run(lambda: gw.delete("NetworkPolicy", "web", namespace=ns,
                              resource_version=old_version), read),
    ]


def server_side_apply_conflicts(gw: Gateway, other: Gateway, ns: str) -> list[Outcome]:
    read = stored(gw, ns, "web")
    mine = netpol(ns, "web")
    theirs = netpol(ns, "web")
    theirs["spec"]["ingress"][0]["ports"][0]["port"] = 9999
    outcomes = [run(lambda: gw.apply(mine), read)]
    outcomes.append(run(lambda: other.json_patch("NetworkPolicy", "web", [
        {"op": "replace", "path": "/spec/ingress/0/ports/0/port", "value": 9999}],
        namespace=ns), read))
    outcomes.append(run(lambda: gw.apply(mine), read))            # conflict: the field moved
    outcomes.append(run(lambda: gw.apply(mine, force=True), read))
    trimmed = netpol(ns, "web")
    del trimmed["metadata"]["labels"]
    outcomes.append(run(lambda: gw.apply(trimmed), read))         # the manager drops its label
    return outcomes


def dry_runs_leave_nothing(gw: Gateway, ns: str) -> list[Outcome]:
    read = stored(gw, ns, "web")
    return [run(lambda: gw.create(netpol(ns, "web"), dry_run=True), read),
            run(lambda: gw.create(netpol(ns, "bad", ingress=[{"ports": [{"port": 0}]}]),
                                  dry_run=True))]


def selectors_and_pages(gw: Gateway, ns: str) -> list[Outcome]:
    for i in range(5):
        obj = netpol(ns, f"p{i}")
        obj["metadata"]["labels"] = {"tier": "front" if i % 2 else "back", "n": str(i)}
        gw.create(obj)
    return [
        run(lambda: gw.list_objects("NetworkPolicy", ns, page_size=2)),
        run(lambda: gw.list_objects("NetworkPolicy", ns, label_selector="tier=front")),
        run(lambda: gw.list_objects("NetworkPolicy", ns, label_selector="tier notin (front),n")),
        run(lambda: gw.list_objects("NetworkPolicy", ns, label_selector="!tier")),
        run(lambda: gw.list_objects("NetworkPolicy", ns, field_selector="metadata.name=p3")),
        run(lambda: gw.list_objects("NetworkPolicy", ns, label_selector="tier in (a b)")),
    ]


def missing_things(gw: Gateway, ns: str) -> list[Outcome]:
    return [run(lambda: gw.get_object("NetworkPolicy", "absent", ns)),
            run(lambda: gw.create(netpol(f"{ns}-nowhere", "web"))),
            run(lambda: gw.delete("NetworkPolicy", "absent", namespace=ns))]


def custom_resources(gw: Gateway, ns: str) -> list[Outcome]:
    entry = {"apiVersion": "network.kubesphere.io/v1alpha1", "kind": "NamespaceNetworkPolicy",
             "metadata": {"name": "from-a", "namespace": ns},
             "spec": {"ingress": [{"from": [{"namespace": {"name": "a"}}]}]}}
    bad = copy.deepcopy(entry)
    bad["metadata"]["name"] = "bad"
    bad["spec"] = {"ingress": "not a list"}

    def read() -> Any:
        return essence(gw.get_object("NamespaceNetworkPolicy", "from-a", ns))

    return [run(lambda: gw.create(entry), read), run(lambda: gw.create(bad)),
            run(lambda: gw.merge_patch("NamespaceNetworkPolicy", "from-a",
                                       {"spec": {"egress": []}}, namespace=ns), read)]


SCENARIOS = [create_valid_then_duplicate, invalid_policies, invalid_names,
             unknown_fields_are_dropped, stale_replace_and_patches, dry_runs_leave_nothing,
             selectors_and_pages, missing_things, custom_resources]


@pytest.fixture(scope="module")
def sim_gateway():
    from kubesim import SimulatorServer

    server = SimulatorServer(seed="empty")
    server.start()
    gateway = Gateway(ClusterConfig(source="url", api_url=server.url))
    install_crds(gateway)
    yield gateway
    gateway.close()
    server.stop()


def on_both(real_gateway, sim_gateway, fresh_namespace, scenario, *extra):
    results = []
    for gw in (real_gateway, sim_gateway):
        gw.create(namespace(fresh_namespace))
        results.append(scenario(gw, *extra, fresh_namespace))
    return results


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_the_simulator_answers_like_the_real_api_server(real_gateway, sim_gateway,
                                                        fresh_namespace, scenario):
    real, simulated = on_both(real_gateway, sim_gateway, fresh_namespace, scenario)

    assert simulated == real


def test_server_side_apply_conflicts_agree(real_api, real_gateway, sim_gateway, fresh_namespace):
    other_real = Gateway.from_env({"KUBECONFIG": str(real_api.admin_kubeconfig)})
    other_sim = Gateway(ClusterConfig(source="url", api_url=sim_gateway.config.api_url))
    results = []
    for gw, other in ((real_gateway, other_real), (sim_gateway, other_sim)):
        gw.create(namespace(fresh_namespace))
        results.append(server_side_apply_conflicts(gw, other, fresh_namespace))
    real, simulated = results

    assert [o.error for o in real] == [None, None, "ConflictError", None, None]
    assert simulated == real
