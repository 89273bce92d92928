"""Reading objects through the official client over HTTP from the simulator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from cluster.errors import MissingCRDError, NotFoundError
from tests.cluster.objects import (
    namespace,
    network_policy,
    nsnp,
    pod,
    record_requests,
    workspace,
)


def test_list_reads_every_object_across_several_pages(gateway):
    for i in range(7):
        gateway.create(namespace(f"ns-{i}"))
    requests = record_requests(gateway)

    names = [ns["metadata"]["name"] for ns in gateway.list_objects("Namespace", page_size=3)]

    assert sorted(n for n in names if n.startswith("ns-")) == [f"ns-{i}" for i in range(7)]
    assert len(names) == len(set(names))
    assert len(requests) >= 3
    assert all("limit=3" in url for url in requests)
    assert all("continue=" in url for url in requests[1:])


def test_listed_items_carry_kind_and_api_version(gateway):
    gateway.create(namespace("shop"))
    gateway.create(network_policy("shop", "allow-web"))

    [policy] = gateway.list_objects("NetworkPolicy", "shop")

    assert policy["kind"] == "NetworkPolicy"
    assert policy["apiVersion"] == "networking.k8s.io/v1"
    assert policy["spec"]["ingress"][0]["ports"][0]["port"] == 80


def test_list_filters_by_label_and_field_selectors(gateway):
    gateway.create(namespace("shop"))
    gateway.create(pod("shop", "web-1", app="web"))
    gateway.create(pod("shop", "web-2", app="web"))
    gateway.create(pod("shop", "db-1", app="db"))

    by_label = gateway.list_objects("Pod", "shop", label_selector="app=web")
    by_field = gateway.list_objects("Pod", field_selector="metadata.name=db-1")

    assert sorted(p["metadata"]["name"] for p in by_label) == ["web-1", "web-2"]
    assert [p["metadata"]["name"] for p in by_field] == ["db-1"]


def test_namespaced_list_without_namespace_reads_all_namespaces(gateway):
    for ns in ("a", "b"):
        gateway.create(namespace(ns))
        gateway.create(network_policy(ns, "deny"))

    policies = gateway.list_objects("NetworkPolicy")

    assert sorted(p["metadata"]["namespace"] for p in policies) == ["a", "b"]


def test_get_returns_the_object_as_the_server_sends_it(gateway):
    gateway.create(namespace("shop", team="a"))

    obj = gateway.get_object("Namespace", "shop")

    assert obj["kind"] == "Namespace"
    assert obj["metadata"]["labels"]["team"] == "a"
    assert obj["metadata"]["labels"]["kubernetes.io/metadata.name"] == "shop"


def test_get_of_an_absent_object_is_not_found_with_the_servers_message(gateway):
    with pytest.raises(NotFoundError) as caught:
        gateway.get_object("NetworkPolicy", "nope", "default")

    assert caught.value.message == 'networkpolicies.networking.k8s.io "nope" not found'


def test_custom_resources_of_a_missing_crd_tell_the_user_to_install_it(gateway):
    assert gateway.missing_crds() == ["Workspace", "NamespaceNetworkPolicy"]

    with pytest.raises(MissingCRDError) as listing:
        gateway.list_objects("Workspace")
    with pytest.raises(MissingCRDError) as getting:
        gateway.get_object("NamespaceNetworkPolicy", "x", "default")

    assert "install_crds" in listing.value.message
    assert listing.value.kind == "Workspace"
    assert getting.value.kind == "NamespaceNetworkPolicy"


def test_custom_resources_are_read_once_their_crds_are_served(gateway_with_crds):
    gw = gateway_with_crds
    gw.create(namespace("shop"))
    gw.create(workspace("team-a", isolated=True))
    gw.create(nsnp("shop", "office"))

    assert gw.missing_crds() == []
    assert gw.get_object("Workspace", "team-a")["spec"]["networkIsolation"] is True
    [entry] = gw.list_objects("NamespaceNetworkPolicy", "shop")
    assert entry["kind"] == "NamespaceNetworkPolicy"
    assert entry["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"] == "10.1.0.0/16"


def test_an_absent_custom_resource_is_not_found_once_its_crd_exists(gateway_with_crds):
    with pytest.raises(NotFoundError) as caught:
        gateway_with_crds.get_object("Workspace", "nope")

    assert not isinstance(caught.value, MissingCRDError)


def test_a_namespaced_kind_needs_a_namespace_to_get(gateway):
    with pytest.raises(ValueError, match="namespace"):
        gateway.get_object("Pod", "web-1")


def test_unknown_kinds_are_refused_before_any_request(gateway):
    with pytest.raises(ValueError, match="not supported"):
        gateway.list_objects("Secret")


def test_one_gateway_serves_many_threads_at_once(gateway):
    gateway.create(namespace("shop", team="a"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: gateway.get_object("Namespace", "shop"), range(40)))

    assert {a["metadata"]["labels"]["team"] for a in answers} == {"a"}


def test_list_can_leave_out_managed_fields(gateway):
    gateway.create(namespace("shop"))

    [full] = gateway.list_objects("Namespace", field_selector="metadata.name=shop")
    [lean] = gateway.list_objects("Namespace", field_selector="metadata.name=shop",
                                  managed_fields=False)

    assert full["metadata"]["managedFields"]
    assert "managedFields" not in lean["metadata"]
    assert lean["metadata"]["uid"] == full["metadata"]["uid"]
