"""Object operations through the official client: metadata, conflicts, paging, deletion."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

MERGE = "application/merge-patch+json"


def _status(exc: ApiException) -> tuple[int, str]:
    return exc.status, json.loads(exc.body)["reason"]


def _ns(core: client.CoreV1Api, name: str, **labels: str) -> None:
    core.create_namespace({"metadata": {"name": name, "labels": labels}})


def test_created_objects_get_server_metadata_from_one_counter(sim, core) -> None:
    first = core.create_namespace({"metadata": {"name": "one"}})
    second = core.create_namespace({"metadata": {"name": "two"}})
    assert int(second.metadata.resource_version) == int(first.metadata.resource_version) + 1
    assert first.metadata.uid != second.metadata.uid
    assert first.metadata.labels == {"kubernetes.io/metadata.name": "one"}
    assert first.status.phase == "Active"


def test_generate_name_gets_a_random_suffix(sim, core) -> None:
    created = core.create_namespace({"metadata": {"generateName": "tmp-"}})
    assert created.metadata.name.startswith("tmp-") and len(created.metadata.name) == 9


@pytest.mark.parametrize(("call", "expected"), [
    (lambda core: core.read_namespace("missing"), (404, "NotFound")),
    (lambda core: core.create_namespace({"metadata": {"name": "default"}}), (409, "AlreadyExists")),
    (lambda core: core.create_namespace({"metadata": {"name": "Not_Valid"}}), (422, "Invalid")),
    (lambda core: core.create_namespaced_pod("nowhere", {"metadata": {"name": "p"},
                                                         "spec": {"containers": [{"name": "c", "image": "i"}]}}),
     (404, "NotFound")),
    (lambda core: core.list_namespace(label_selector="a in b"), (400, "BadRequest")),
])
def test_errors_answer_status_objects_with_real_reasons(sim, core, call, expected) -> None:
    with pytest.raises(ApiException) as caught:
        call(core)
    assert _status(caught.value) == expected


def _raw(sim, method: str, path: str, body: bytes, content_type: str) -> tuple[int, dict]:
    request = urllib.request.Request(sim.url + path, data=body, method=method,
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.mark.parametrize(("method", "path", "body", "content_type", "expected"), [
    ("POST", "/api/v1/namespaces/default/pods", b'{"metadata": {"name": "p"}, "spec": {}}', "application/json",
     (422, "Invalid")),
    ("PATCH", "/api/v1/namespaces/default", b'{"metadata": {}}', "text/plain", (415, "UnsupportedMediaType")),
    ("POST", "/api/v1/namespaces", b"{not json", "application/json", (400, "BadRequest")),
    ("PUT", "/api/v1/namespaces/default", b'{"metadata": {"name": "other"}}', "application/json",
     (400, "BadRequest")),
    ("POST", "/api/v1/namespaces/default/nosuchthings", b"{}", "application/json", (404, "NotFound")),
    ("POST", "/api/v1/namespaces/default", b"{}", "application/json", (405, "MethodNotAllowed")),
    ("POST", "/api/v1/namespaces", b'{"metadata": {"name": "n"}, "spec": {"x": NaN}}',
     "application/json", (400, "BadRequest")),
    ("POST", "/api/v1/namespaces", b'{"metadata": {"name": "n", "x": -Infinity}}',
     "application/json", (400, "BadRequest")),
])
def test_malformed_requests_answer_the_api_servers_reasons(sim, method, path, body, content_type,
                                                            expected) -> None:
    status, answer = _raw(sim, method, path, body, content_type)
    assert (status, answer["reason"]) == expected
    assert answer["kind"] == "Status" and answer["code"] == status


def test_invalid_network_policy_lists_each_bad_field(sim, net) -> None:
    body = {"metadata": {"name": "bad"}, "spec": {"podSelector": {}, "ingress": [{
        "from": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["192.168.0.0/24"]}}],
        "ports": [{"port": 0}, {"port": 80, "protocol": "ICMP"}]}]}}
    with pytest.raises(ApiException) as caught:
        net.create_namespaced_network_policy("default", body)
    status = json.loads(caught.value.body)
    fields = {c["field"] for c in status["details"]["causes"]}
    assert {"spec.ingress[0].from[0].ipBlock.except[0]", "spec.ingress[0].ports[0].port",
            "spec.ingress[0].ports[1].protocol"} <= fields
    assert status["message"].startswith('NetworkPolicy.networking.k8s.io "bad" is invalid: ')


def test_put_with_a_stale_resource_version_conflicts_and_changes_nothing(sim, core) -> None:
    _ns(core, "app")
    stale = core.read_namespace("app")
    core.patch_namespace("app", {"metadata": {"labels": {"fresh": "1"}}})
    stale.metadata.labels["stale"] = "1"
    with pytest.raises(ApiException) as caught:
        core.replace_namespace("app", stale)
    assert _status(caught.value) == (409, "Conflict")
    assert "stale" not in core.read_namespace("app").metadata.labels


def test_patch_with_a_stale_resource_version_conflicts(sim, core) -> None:
    _ns(core, "app")
    old_rv = core.read_namespace("app").metadata.resource_version
    core.patch_namespace("app", {"metadata": {"labels": {"x": "1"}}})
    with pytest.raises(ApiException) as caught:
        core.patch_namespace("app", {"metadata": {"resourceVersion": old_rv, "labels": {"y": "1"}}},
                             _content_type=MERGE)
    assert _status(caught.value) == (409, "Conflict")


def test_identical_patch_keeps_the_resource_version(sim, core) -> None:
    _ns(core, "app")
    first = core.patch_namespace("app", {"metadata": {"labels": {"x": "1"}}})
    again = core.patch_namespace("app", {"metadata": {"labels": {"x": "1"}}})
    assert again.metadata.resource_version == first.metadata.resource_version


def test_paging_returns_every_object_once_in_name_order(sim, core) -> None:
    names = [f"page-{i:02d}" for i in range(23)]
    for name in reversed(names):
        _ns(core, name, paged="yes")
    seen, token, pages = [], None, 0
    while True:
        page = core.list_namespace(label_selector="paged=yes", limit=5, _continue=token)
        seen += [ns.metadata.name for ns in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert seen == names
    assert pages == 5


def test_paging_reports_remaining_items_without_selectors(sim, core) -> None:
    for i in range(6):
        _ns(core, f"n{i}")
    page = core.list_namespace(limit=4)
    assert page.metadata.remaining_item_count == 10 - 4


def test_malformed_continue_token_is_a_bad_request(sim, core) -> None:
    with pytest.raises(ApiException) as caught:
        core.list_namespace(limit=1, _continue="not-a-token!")
    assert _status(caught.value) == (400, "BadRequest")


def test_deletecollection_removes_only_matching_objects(sim, net) -> None:
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        net.create_namespaced_network_policy("default", {"metadata": {"name": name, "labels": {"team": team}},
                                                         "spec": {"podSelector": {}}})
    net.delete_collection_namespaced_network_policy("default", label_selector="team=x")
    assert [p.metadata.name for p in net.list_namespaced_network_policy("default").items] == ["c"]


def test_deleting_a_namespace_deletes_what_it_contains(sim, core, net) -> None:
    _ns(core, "doomed")
    net.create_namespaced_network_policy("doomed", {"metadata": {"name": "p"}, "spec": {"podSelector": {}}})
    core.delete_namespace("doomed")
    assert net.list_network_policy_for_all_namespaces(field_selector="metadata.namespace=doomed").items == []
    with pytest.raises(ApiException) as caught:
        core.read_namespace("doomed")
    assert caught.value.status == 404


def test_finalizers_hold_deletion_until_they_are_removed(sim, net) -> None:
    net.create_namespaced_network_policy("default", {"metadata": {"name": "held", "finalizers": ["example.com/x"]},
                                                     "spec": {"podSelector": {}}})
    net.delete_namespaced_network_policy("held", "default")
    assert net.read_namespaced_network_policy("held", "default").metadata.deletion_timestamp is not None
    net.patch_namespaced_network_policy("held", "default", {"metadata": {"finalizers": None}}, _content_type=MERGE)
    with pytest.raises(ApiException) as caught:
        net.read_namespaced_network_policy("held", "default")
    assert caught.value.status == 404


def test_dry_run_validates_but_stores_nothing(sim, core) -> None:
    created = core.create_namespace({"metadata": {"name": "dry"}}, dry_run="All")
    assert created.metadata.name == "dry"
    with pytest.raises(ApiException):
        core.read_namespace("dry")
    with pytest.raises(ApiException) as caught:
        core.create_namespace({"metadata": {"name": "Bad_Name"}}, dry_run="All")
    assert caught.value.status == 422


def test_pod_status_is_written_only_through_the_status_subresource(sim, core) -> None:
    body = {"metadata": {"name": "p"}, "spec": {"nodeName": "node-1", "containers": [
        {"name": "c", "image": "nginx:1", "ports": [{"containerPort": 80}]}]}, "status": {"phase": "Running"}}
    created = core.create_namespaced_pod("default", body)
    assert created.status.phase == "Pending"
    assert created.spec.containers[0].ports[0].protocol == "TCP"
    core.patch_namespaced_pod_status("p", "default", {"status": {"phase": "Running", "podIP": "10.233.64.9"}})
    assert core.list_namespaced_pod("default", field_selector="status.podIP=10.233.64.9").items[0].status.phase \
        == "Running"


def test_custom_resources_refuse_strategic_merge_and_unconditional_put(sim, api) -> None:
    ext = client.ApiextensionsV1Api(api)
    co = client.CustomObjectsApi(api)
    from kubesim.objects import console_crds
    for crd in console_crds():
        ext.create_custom_resource_definition(crd)
    co.create_cluster_custom_object("tenant.kubesphere.io", "v1alpha1", "workspaces",
                                    {"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
                                     "metadata": {"name": "w"}, "spec": {"networkIsolation": True}})
    with pytest.raises(ApiException) as caught:
        co.patch_cluster_custom_object("tenant.kubesphere.io", "v1alpha1", "workspaces", "w",
                                       {"spec": {"manager": "x"}}, _content_type="application/strategic-merge-patch+json")
    assert _status(caught.value) == (415, "UnsupportedMediaType")
    body = co.get_cluster_custom_object("tenant.kubesphere.io", "v1alpha1", "workspaces", "w")
    del body["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as caught:
        co.replace_cluster_custom_object("tenant.kubesphere.io", "v1alpha1", "workspaces", "w", body)
    assert _status(caught.value) == (422, "Invalid")


def test_custom_resources_are_checked_against_the_crd_schema(sim, api) -> None:
    from kubesim.objects import console_crds
    for crd in console_crds():
        client.ApiextensionsV1Api(api).create_custom_resource_definition(crd)
    co = client.CustomObjectsApi(api)
    body = {"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "w"},
            "spec": {"networkIsolation": "yes", "unknown": 1}}
    with pytest.raises(ApiException) as caught:
        co.create_cluster_custom_object("tenant.kubesphere.io", "v1alpha1", "workspaces", body)
    assert json.loads(caught.value.body)["details"]["causes"][0]["field"] == "spec.networkIsolation"
    body["spec"]["networkIsolation"] = True
    created = co.create_cluster_custom_object("tenant.kubesphere.io", "v1alpha1", "workspaces", body)
    assert created["spec"] == {"networkIsolation": True}


def test_kubectl_table_requests_get_a_table(sim) -> None:
    request = urllib.request.Request(f"{sim.url}/api/v1/namespaces", headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    table = json.load(urllib.request.urlopen(request))
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert [row["cells"][0] for row in table["rows"]] == ["default", "kube-node-lease", "kube-public", "kube-system"]


def test_version_marks_the_server_as_the_simulator(sim) -> None:
    version = json.load(urllib.request.urlopen(f"{sim.url}/version"))
    assert version["gitVersion"].endswith("+kubesim")


def test_unknown_network_policy_fields_are_dropped_with_a_warning(sim) -> None:
    body = json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "u"},
                       "spec": {"podSelector": {}, "ingres": []}}).encode()
    request = urllib.request.Request(f"{sim.url}/apis/networking.k8s.io/v1/namespaces/default/networkpolicies",
                                     data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert 'unknown field \\"spec.ingres\\"' in response.headers["Warning"]
        assert "ingres" not in json.load(response)["spec"]


def test_strict_field_validation_refuses_unknown_fields(sim) -> None:
    body = b'{"metadata": {"name": "u"}, "spec": {"podSelector": {}, "ingres": []}}'
    status, answer = _raw(sim, "POST", "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies"
                          "?fieldValidation=Strict", body, "application/json")
    assert (status, answer["reason"]) == (400, "BadRequest")
    assert 'unknown field "spec.ingres"' in answer["message"]


def test_a_yaml_body_with_an_alias_is_stored_as_separate_copies(sim) -> None:
    body = b"metadata:\n  name: aliased\n  labels: &team {team: a}\n  annotations: *team\n"
    status, created = _raw(sim, "POST", "/api/v1/namespaces", body, "application/yaml")

    assert status == 201
    assert created["metadata"]["labels"] == {"team": "a", "kubernetes.io/metadata.name": "aliased"}
    assert created["metadata"]["annotations"] == {"team": "a"}


@pytest.mark.parametrize("dry_run", ["", "?dryRun=All"])
def test_a_json_body_is_defaulted_and_answered_as_sent_plus_defaults(sim, dry_run) -> None:
    _raw(sim, "POST", "/api/v1/namespaces", b'{"metadata": {"name": "shop"}}', "application/json")
    policy = {"metadata": {"name": "web"}, "spec": {"podSelector": {},
              "ingress": [{"ports": [{"port": 80}, None]}] * 3}}
    status, created = _raw(sim, "POST", f"/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies{dry_run}",
                           json.dumps(policy).encode(), "application/json")

    assert status == 201
    assert created["spec"]["ingress"] == [{"ports": [{"port": 80, "protocol": "TCP"},
                                                     {"protocol": "TCP"}]}] * 3
    assert created["spec"]["policyTypes"] == ["Ingress"]


def test_answers_are_compact_json_whatever_the_values(sim) -> None:
    from kubesim.server import json_bytes

    for body in ({"a": [1, "ü", None, True, 1.5]}, {"big": 2 ** 70}, {1: "a YAML key"}):
        assert json.loads(json_bytes(body)) == json.loads(json.dumps(body))
    status, answer = _raw(sim, "POST", "/api/v1/namespaces", json.dumps(
        {"metadata": {"name": "numbers", "annotations": {"a": "ü"}}}).encode(), "application/json")
    assert status == 201 and answer["metadata"]["annotations"] == {"a": "ü"}
