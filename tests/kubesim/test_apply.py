"""Server-side apply: field ownership, removal of fields no longer applied, conflicts, force."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubesim.managed import apply, dotted, entries_of, field_set, record_update

APPLY = "application/apply-patch+yaml"


def _np(labels: dict[str, str], spec: dict | None = None) -> dict:
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "np", "labels": labels}}
    if spec is not None:
        body["spec"] = spec
    return body


def _apply(net: client.NetworkingV1Api, body: dict, manager: str, force: bool | None = None) -> dict:
    kwargs = {"force": force} if force is not None else {}
    return net.api_client.sanitize_for_serialization(net.patch_namespaced_network_policy(
        "np", "default", body, field_manager=manager, _content_type=APPLY, **kwargs))


def _owners(obj: dict) -> dict[str, str]:
    return {e["manager"]: e["operation"] for e in obj["metadata"].get("managedFields") or []}


def test_field_set_lists_leaves_with_keyed_list_items() -> None:
    pod = {"metadata": {"name": "p", "labels": {"app": "web"}},
           "spec": {"containers": [{"name": "web", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}
    paths = {dotted(p) for p in field_set(pod, "Pod")}
    assert ".metadata.labels.app" in paths
    assert '.spec.containers[{"name":"web"}].name' in paths
    assert '.spec.containers[{"name":"web"}].ports[{"containerPort":80,"protocol":"TCP"}].containerPort' in paths
    assert ".metadata.name" not in paths


def test_update_moves_ownership_of_changed_fields_to_the_writer() -> None:
    old = {"metadata": {"name": "n", "labels": {"a": "1"}}}
    record_update(None, old, kind="Namespace", manager="alice", subresource="", api_version="v1", now="t")
    new = {"metadata": {"name": "n", "labels": {"a": "2"}, "managedFields": old["metadata"]["managedFields"]}}
    record_update(old, new, kind="Namespace", manager="bob", subresource="", api_version="v1", now="t")
    assert [e.manager for e in entries_of(new)] == ["bob"]


def test_apply_conflicts_only_where_values_differ() -> None:
    live = apply(None, {"metadata": {"labels": {"owner": "a", "shared": "x"}}}, kind="Namespace", manager="a",
                 force=False, subresource="", api_version="v1", now="t")
    same = apply(live, {"metadata": {"labels": {"shared": "x"}}}, kind="Namespace", manager="b", force=False,
                 subresource="", api_version="v1", now="t")
    assert {e.manager for e in entries_of(same)} == {"a", "b"}


def test_apply_creates_then_updates_and_records_the_manager(sim, net) -> None:
    created = _apply(net, _np({"team": "a"}, {"podSelector": {}}), "ops")
    assert _owners(created) == {"ops": "Apply"}
    updated = _apply(net, _np({"team": "b"}, {"podSelector": {}}), "ops")
    assert updated["metadata"]["labels"] == {"team": "b"}
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


def test_fields_a_manager_stops_applying_are_removed_unless_someone_else_owns_them(sim, net) -> None:
    _apply(net, _np({"keep": "1", "drop": "1", "shared": "1"}, {"podSelector": {}}), "ops")
    net.patch_namespaced_network_policy("np", "default", {"metadata": {"labels": {"shared": "2"}}})
    result = _apply(net, _np({"keep": "1"}, {"podSelector": {}}), "ops")
    assert result["metadata"]["labels"] == {"keep": "1", "shared": "2"}


def test_conflicting_apply_answers_409_naming_the_other_manager_and_the_field(sim, net) -> None:
    _apply(net, _np({"owner": "a"}, {"podSelector": {}}), "manager-a")
    with pytest.raises(ApiException) as caught:
        _apply(net, _np({"owner": "b"}), "manager-b")
    assert caught.value.status == 409
    status = json.loads(caught.value.body)
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "manager-a": .metadata.labels.owner'
    assert status["details"]["causes"][0]["reason"] == "FieldManagerConflict"


def test_forced_apply_takes_ownership_from_the_other_manager(sim, net) -> None:
    _apply(net, _np({"owner": "a"}, {"podSelector": {}}), "manager-a")
    result = _apply(net, _np({"owner": "b"}), "manager-b", force=True)
    assert result["metadata"]["labels"]["owner"] == "b"
    # manager-a no longer owns the label, so re-applying its old config now conflicts the other way
    with pytest.raises(ApiException) as caught:
        _apply(net, _np({"owner": "a"}, {"podSelector": {}}), "manager-a")
    assert caught.value.status == 409


def test_apply_of_the_same_configuration_writes_nothing(sim, net) -> None:
    first = _apply(net, _np({"a": "1"}, {"podSelector": {}}), "ops")
    second = _apply(net, _np({"a": "1"}, {"podSelector": {}}), "ops")
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_apply_to_the_status_subresource_leaves_the_spec_alone(sim, core) -> None:
    core.create_namespaced_service("default", {"metadata": {"name": "lb"}, "spec": {
        "type": "LoadBalancer", "selector": {"app": "x"}, "ports": [{"port": 80}]}})
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.7"}]}}}
    core.patch_namespaced_service_status("lb", "default", body, field_manager="lb-controller",
                                         _content_type=APPLY)
    svc = core.read_namespaced_service("lb", "default")
    assert svc.status.load_balancer.ingress[0].ip == "192.0.2.7"
    assert svc.spec.type == "LoadBalancer"
