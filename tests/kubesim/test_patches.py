"""The patch formats merge exactly as the API server merges them."""

from __future__ import annotations

import pytest

from kubesim.patches import PatchError, json_patch, merge_patch, strategic_merge_patch

POD = {"metadata": {"labels": {"a": "1"}, "finalizers": ["x"]},
       "spec": {"containers": [{"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]},
                               {"name": "sidecar", "image": "envoy:1"}]}}


def test_merge_patch_merges_maps_and_null_removes() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": None, "e": 3}, "d": [2]}) == \
        {"a": {"c": 2, "e": 3}, "d": [2]}


def test_merge_patch_leaves_its_input_untouched() -> None:
    target = {"a": {"b": 1}}
    merge_patch(target, {"a": {"b": 2}})
    assert target == {"a": {"b": 1}}


def test_merge_patch_result_shares_no_node_with_its_input() -> None:
    # the server stamps the result in place (generation, defaults): a subtree the patch does
    # not touch must not be the stored object's own
    target = {"metadata": {"generation": 1}, "spec": {"l": [1]}}
    result = merge_patch(target, {"spec": {"x": 1}})
    result["metadata"]["generation"] = 2
    result["spec"]["l"].append(2)
    assert target == {"metadata": {"generation": 1}, "spec": {"l": [1]}}


@pytest.mark.parametrize(("ops", "expected"), [
    ([{"op": "add", "path": "/l/-", "value": 3}], {"l": [1, 2, 3], "m": {"k": "v"}}),
    ([{"op": "add", "path": "/l/0", "value": 0}], {"l": [0, 1, 2], "m": {"k": "v"}}),
    ([{"op": "remove", "path": "/m/k"}], {"l": [1, 2], "m": {}}),
    ([{"op": "replace", "path": "/l/1", "value": 9}], {"l": [1, 9], "m": {"k": "v"}}),
    ([{"op": "move", "from": "/m/k", "path": "/n"}], {"l": [1, 2], "m": {}, "n": "v"}),
    ([{"op": "copy", "from": "/m", "path": "/c"}], {"l": [1, 2], "m": {"k": "v"}, "c": {"k": "v"}}),
    ([{"op": "test", "path": "/m/k", "value": "v"}], {"l": [1, 2], "m": {"k": "v"}}),
    ([{"op": "add", "path": "/m/a~1b", "value": 1}], {"l": [1, 2], "m": {"k": "v", "a/b": 1}}),
])
def test_json_patch_operations(ops: list[dict], expected: dict) -> None:
    assert json_patch({"l": [1, 2], "m": {"k": "v"}}, ops) == expected


@pytest.mark.parametrize("ops", [
    [{"op": "test", "path": "/m/k", "value": "other"}],
    [{"op": "remove", "path": "/missing"}],
    [{"op": "replace", "path": "/l/5", "value": 1}],
    [{"op": "jump", "path": "/l"}],
    [{"op": "add", "path": "no-slash", "value": 1}],
])
def test_json_patch_failures_raise(ops: list[dict]) -> None:
    with pytest.raises(PatchError):
        json_patch({"l": [1, 2], "m": {"k": "v"}}, ops)


def test_strategic_merge_merges_containers_by_name_and_ports_by_container_port() -> None:
    patch = {"spec": {"containers": [{"name": "web", "image": "nginx:2", "ports": [{"containerPort": 443}]}]}}
    result = strategic_merge_patch("Pod", POD, patch)
    web, sidecar = result["spec"]["containers"]
    assert web["image"] == "nginx:2"
    assert [p["containerPort"] for p in web["ports"]] == [80, 443]
    assert sidecar == {"name": "sidecar", "image": "envoy:1"}


def test_strategic_merge_delete_directive_removes_a_keyed_item() -> None:
    patch = {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}
    assert [c["name"] for c in strategic_merge_patch("Pod", POD, patch)["spec"]["containers"]] == ["web"]


def test_strategic_merge_unions_finalizers_and_replaces_unkeyed_lists() -> None:
    result = strategic_merge_patch("NetworkPolicy", {"metadata": {"finalizers": ["x"]}, "spec": {"ingress": [{}]}},
                                   {"metadata": {"finalizers": ["y", "x"]}, "spec": {"ingress": [{"ports": []}]}})
    assert result["metadata"]["finalizers"] == ["x", "y"]
    assert result["spec"]["ingress"] == [{"ports": []}]


def test_strategic_merge_accepts_set_element_order_and_replace_directives() -> None:
    patch = {"metadata": {"labels": {"$patch": "replace", "b": "2"}},
             "spec": {"$setElementOrder/containers": [{"name": "web"}]}}
    result = strategic_merge_patch("Pod", POD, patch)
    assert result["metadata"]["labels"] == {"b": "2"}
    assert len(result["spec"]["containers"]) == 2


def test_node_addresses_merge_by_type() -> None:
    node = {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}
    result = strategic_merge_patch("Node", node, {"status": {"addresses": [
        {"type": "ExternalIP", "address": "1.2.3.4"}, {"type": "InternalIP", "address": "10.0.0.2"}]}})
    assert result["status"]["addresses"] == [{"type": "InternalIP", "address": "10.0.0.2"},
                                             {"type": "ExternalIP", "address": "1.2.3.4"}]
