"""Writing objects: create, replace, patches, server-side apply, delete, and their dry runs."""

from __future__ import annotations

import datetime

import pytest

from cluster.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidError,
    MissingCRDError,
    NotFoundError,
)
from tests.cluster.objects import namespace, network_policy, workspace


@pytest.fixture
def shop(gateway):
    gateway.create(namespace("shop"))
    return gateway


def test_create_returns_the_object_with_server_set_metadata(shop):
    created = shop.create(network_policy("shop", "allow-web"))

    metadata = created["metadata"]
    assert metadata["uid"] and metadata["resourceVersion"] and metadata["creationTimestamp"]
    assert created["spec"]["policyTypes"] == ["Ingress"]
    assert shop.get_object("NetworkPolicy", "allow-web", "shop")["metadata"]["uid"] == metadata["uid"]


def test_creating_a_taken_name_is_already_exists_which_is_a_conflict(shop):
    shop.create(network_policy("shop", "allow-web"))

    with pytest.raises(AlreadyExistsError) as caught:
        shop.create(network_policy("shop", "allow-web"))

    assert isinstance(caught.value, ConflictError)
    assert caught.value.message == 'networkpolicies.networking.k8s.io "allow-web" already exists'


def test_an_invalid_policy_is_refused_with_the_field_to_fix(shop):
    with pytest.raises(InvalidError) as caught:
        shop.create(network_policy("shop", "bad-port", port=70000))

    fields = [field for field, _message in caught.value.causes]
    assert "spec.ingress[0].ports[0].port" in fields
    assert caught.value.status == 422
    assert shop.list_objects("NetworkPolicy", "shop") == []


def test_replace_with_the_read_resource_version_succeeds(shop):
    current = shop.create(network_policy("shop", "allow-web"))
    current["spec"]["ingress"][0]["ports"][0]["port"] = 8080

    replaced = shop.replace(current)

    assert replaced["spec"]["ingress"][0]["ports"][0]["port"] == 8080
    assert replaced["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"]


def test_replace_of_a_stale_read_is_a_conflict_and_keeps_the_newer_change(shop):
    stale = shop.create(network_policy("shop", "allow-web"))
    shop.merge_patch("NetworkPolicy", "allow-web", {"metadata": {"labels": {"v": "2"}}},
                     namespace="shop")
    stale["spec"]["ingress"] = []

    with pytest.raises(ConflictError) as caught:
        shop.replace(stale)

    assert not isinstance(caught.value, AlreadyExistsError)
    assert "has been modified" in caught.value.message
    assert shop.get_object("NetworkPolicy", "allow-web", "shop")["metadata"]["labels"] == {"v": "2"}


def test_replace_without_a_resource_version_is_refused_before_sending(shop):
    with pytest.raises(ValueError, match="resourceVersion"):
        shop.replace(network_policy("shop", "allow-web"))


def test_merge_patch_works_on_custom_resources(gateway_with_crds):
    gateway_with_crds.create(workspace("team-a"))

    patched = gateway_with_crds.merge_patch("Workspace", "team-a",
                                            {"spec": {"networkIsolation": True}})

    assert patched["spec"]["networkIsolation"] is True


def test_merge_patch_with_a_stale_resource_version_is_a_conflict(shop):
    created = shop.create(namespace("bank"))
    shop.merge_patch("Namespace", "bank", {"metadata": {"labels": {"a": "1"}}})

    with pytest.raises(ConflictError):
        shop.merge_patch("Namespace", "bank", {"metadata": {
            "resourceVersion": created["metadata"]["resourceVersion"],
            "annotations": {"kubesphere.io/network-isolate": "enabled"}}})


def test_json_patch_applies_operations_in_order(shop):
    shop.create(network_policy("shop", "allow-web"))

    patched = shop.json_patch("NetworkPolicy", "allow-web", [
        {"op": "add", "path": "/metadata/labels", "value": {"tier": "web"}},
        {"op": "replace", "path": "/spec/ingress/0/ports/0/port", "value": 443},
    ], namespace="shop")

    assert patched["metadata"]["labels"] == {"tier": "web"}
    assert patched["spec"]["ingress"][0]["ports"][0]["port"] == 443


def test_apply_creates_then_removes_fields_the_manager_stops_applying(shop):
    policy = network_policy("shop", "applied")
    policy["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "console", "extra": "x"}
    first = shop.apply(policy)
    del policy["metadata"]["labels"]["extra"]

    second = shop.apply(policy)

    assert first["metadata"]["labels"]["extra"] == "x"
    assert second["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "console"}
    managers = {m["manager"] for m in second["metadata"].get("managedFields", [])}
    assert "tenant-isolation-console" in managers


def test_apply_conflicting_with_another_manager_needs_force(shop):
    shop.create(network_policy("shop", "allow-web", port=80))
    changed = network_policy("shop", "allow-web", port=8080)

    with pytest.raises(ConflictError):
        shop.apply(changed)
    forced = shop.apply(changed, force=True)

    assert forced["spec"]["ingress"][0]["ports"][0]["port"] == 8080


def test_delete_removes_the_object(shop):
    shop.create(network_policy("shop", "allow-web"))

    shop.delete("NetworkPolicy", "allow-web", namespace="shop")

    with pytest.raises(NotFoundError):
        shop.get_object("NetworkPolicy", "allow-web", "shop")


def test_delete_of_a_changed_object_with_its_old_version_is_a_conflict(shop):
    created = shop.create(network_policy("shop", "allow-web"))
    shop.merge_patch("NetworkPolicy", "allow-web", {"metadata": {"labels": {"v": "2"}}},
                     namespace="shop")

    with pytest.raises(ConflictError):
        shop.delete("NetworkPolicy", "allow-web", namespace="shop",
                    resource_version=created["metadata"]["resourceVersion"])

    assert shop.get_object("NetworkPolicy", "allow-web", "shop")


def test_delete_of_an_absent_object_is_not_found(shop):
    with pytest.raises(NotFoundError):
        shop.delete("NetworkPolicy", "ghost", namespace="shop")


def dry_runs(gw):
    """Each write, in dry-run mode, against the existing shop/allow-web policy."""
    current = gw.get_object("NetworkPolicy", "allow-web", "shop")
    replaced = {**current, "spec": {**current["spec"], "ingress": []}}
    return {
        "create": lambda: gw.create(network_policy("shop", "new-one"), dry_run=True),
        "replace": lambda: gw.replace(replaced, dry_run=True),
        "merge_patch": lambda: gw.merge_patch(
            "NetworkPolicy", "allow-web", {"spec": {"ingress": []}}, namespace="shop",
            dry_run=True),
        "json_patch": lambda: gw.json_patch(
            "NetworkPolicy", "allow-web", [{"op": "replace", "path": "/spec/ingress",
                                            "value": []}], namespace="shop", dry_run=True),
        "apply": lambda: gw.apply(
            {**network_policy("shop", "allow-web"), "spec": {"podSelector": {}, "ingress": []}},
            force=True, dry_run=True),
        "delete": lambda: gw.delete("NetworkPolicy", "allow-web", namespace="shop",
                                    dry_run=True),
    }


@pytest.mark.parametrize("write", ["create", "replace", "merge_patch", "json_patch", "apply",
                                   "delete"])
def test_dry_run_writes_answer_like_real_ones_and_leave_nothing_behind(shop, write):
    before = shop.create(network_policy("shop", "allow-web"))

    answer = dry_runs(shop)[write]()

    assert answer["kind"] in ("NetworkPolicy", "Status")
    if write in ("replace", "merge_patch", "json_patch", "apply"):
        assert answer["spec"]["ingress"] == []
    assert shop.list_objects("NetworkPolicy", "shop") == [
        {**before, "kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1"}]


def test_a_dry_run_still_reports_the_error_a_real_write_would_get(shop):
    with pytest.raises(InvalidError):
        shop.create(network_policy("shop", "bad-port", port=0), dry_run=True)


def test_a_failed_json_patch_test_leaves_the_object_alone(shop):
    shop.create(network_policy("shop", "allow-web"))

    with pytest.raises(InvalidError):
        shop.json_patch("NetworkPolicy", "allow-web", [
            {"op": "test", "path": "/spec/ingress/0/ports/0/port", "value": 9999},
            {"op": "replace", "path": "/spec/ingress", "value": []},
        ], namespace="shop")

    assert shop.get_object("NetworkPolicy", "allow-web", "shop")["spec"]["ingress"] != []


def test_creating_in_a_missing_namespace_names_the_namespace(gateway):
    with pytest.raises(NotFoundError) as caught:
        gateway.create(network_policy("ghost", "allow-web"))

    assert caught.value.message == 'namespaces "ghost" not found'


def test_writing_a_custom_resource_without_its_crd_says_to_install_it(gateway):
    with pytest.raises(MissingCRDError) as caught:
        gateway.create(workspace("team-a"))

    assert caught.value.kind == "Workspace"


def test_a_date_in_an_object_is_sent_as_the_client_sends_it(shop):
    policy = network_policy("shop", "dated")
    policy["metadata"]["annotations"] = {"reviewed": datetime.date(2026, 12, 3)}

    created = shop.create(policy, dry_run=True)

    assert created["metadata"]["annotations"] == {"reviewed": "2026-12-03"}


def test_a_large_policy_dry_run_answers_it_defaulted_and_stores_nothing(shop):
    policy = network_policy("shop", "large")
    policy["spec"]["ingress"] = [{"from": [{"ipBlock": {"cidr": f"10.0.{i // 256}.{i % 256}/32"}}],
                                  "ports": [{"port": 1024 + i}]} for i in range(3000)]

    answer = shop.create(policy, dry_run=True)

    assert len(answer["spec"]["ingress"]) == 3000
    assert answer["spec"]["ingress"][2999]["ports"] == [{"port": 4023, "protocol": "TCP"}]
    assert shop.list_objects("NetworkPolicy", "shop") == []
