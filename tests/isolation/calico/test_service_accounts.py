"""Calico policies and rules that match pods by service account, as Calico documents them
(https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#serviceaccountmatch):
`serviceAccountSelector` on a policy, `serviceAccounts.names` / `.selector` in a rule's
`source` or `destination`. Every case is decided by `Cluster.check` and by the matrix alike.

The pods all carry the same labels, so only their service accounts tell them apart:

    shop/web     web-sa   (ServiceAccount role=front)
    shop/api     api-sa   (ServiceAccount role=back)
    shop/legacy  api-sa   named by the deprecated `spec.serviceAccount`
    shop/batch   default  (no `serviceAccountName`; the ServiceAccount has no labels)
    shop/ghost   ghost-sa (no ServiceAccount object)
    other/web    web-sa   (ServiceAccount role=front, in namespace other)
    other/api    api-sa   (no ServiceAccount object in namespace other)
"""

from __future__ import annotations

from typing import Any

import pytest

from isolation.reachability.engine import Cluster
from isolation.reachability.inventory import read_pods
from isolation.snapshot import Snapshot, with_name_label

V3 = "projectcalico.org/v3"
PODS = {  # key -> (serviceAccountName, deprecated serviceAccount)
    "shop/web": ("web-sa", None), "shop/api": ("api-sa", None), "shop/legacy": (None, "api-sa"),
    "shop/batch": (None, None), "shop/ghost": ("ghost-sa", None),
    "other/web": ("web-sa", None), "other/api": ("api-sa", None),
}
ACCOUNTS = {"shop/web-sa": {"role": "front"}, "shop/api-sa": {"role": "back"},
            "shop/default": {}, "other/web-sa": {"role": "front"}}


def snapshot_of(objects: list[dict[str, Any]]) -> Snapshot:
    snapshot = Snapshot()
    for name in ("shop", "other"):
        snapshot.add(with_name_label({"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": name}}))
    for number, (key, (account, deprecated)) in enumerate(PODS.items()):
        namespace, name = key.split("/")
        spec: dict[str, Any] = {"nodeName": "node-1", "containers": [
            {"name": "main", "ports": [{"containerPort": 80}]}]}
        if account:
            spec["serviceAccountName"] = account
        if deprecated:
            spec["serviceAccount"] = deprecated
        snapshot.add({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": namespace,
                                   "labels": {"app": "svc"}},
                      "spec": spec,
                      "status": {"phase": "Running", "podIP": f"10.0.0.{number + 10}"}})
    for key, labels in ACCOUNTS.items():
        namespace, name = key.split("/")
        snapshot.add({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": name, "namespace": namespace, "labels": labels}})
    for obj in objects:
        snapshot.add(obj)
    return snapshot


def gnp(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": name},
            "spec": spec}


def cnp(key: str, **spec: Any) -> dict[str, Any]:
    namespace, name = key.split("/")
    return {"apiVersion": V3, "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def allowed_by_check_and_matrix(cluster: Cluster) -> dict[tuple[str, str], bool]:
    """Every pod pair on port 80, after asserting the matrix agrees with `Cluster.check`."""
    matrix = cluster.matrix()
    result = {}
    for connection in matrix.connections():
        verdict = cluster.check(connection.src, connection.dst, connection.port,
                                connection.protocol)
        assert verdict.allowed == connection.allowed, verdict.explain()
        result[(connection.src, connection.dst)] = connection.allowed
    return result


FRONT_FROM_BACK = gnp("front-from-back", selector="all()", serviceAccountSelector="role == 'front'",
                      ingress=[{"action": "Allow",
                                "source": {"serviceAccounts": {"selector": "role == 'back'"}}}])
SHOP_FROM_API = cnp("shop/from-api", selector="all()", ingress=[
    {"action": "Allow", "source": {"serviceAccounts": {"names": ["api-sa"]}}}])
SHOP_TO_FRONT = cnp("shop/to-front", selector="all()", types=["Egress"], egress=[
    {"action": "Allow", "destination": {"serviceAccounts": {"selector": "role == 'front'"}}}])
NOT_FROM_DEFAULT = gnp("not-from-default", selector="all()", ingress=[
    {"action": "Deny", "source": {"serviceAccounts": {"names": ["default"]}}},
    {"action": "Allow"}])
WEB_FROM_LABELLED = cnp("shop/web-from-labelled", selector="all()",
                        serviceAccountSelector="role == 'front'", ingress=[
                            {"action": "Allow", "source": {"serviceAccounts": {"selector": "has(role)"}}}])
WEB_FROM_GHOST = cnp("shop/web-from-ghost", selector="all()", ingress=[
    {"action": "Allow", "source": {"serviceAccounts": {"names": ["ghost-sa"]}}}])
BY_DERIVED_LABELS = gnp("by-derived-labels", selector="pcsa.role == 'front'", ingress=[
    {"action": "Allow", "source": {"selector": "projectcalico.org/serviceaccount == 'api-sa'"}}])


@pytest.mark.parametrize("objects, expected", [
    # a GlobalNetworkPolicy's serviceAccountSelector picks the pods it applies to, in every
    # namespace; the rule's selector reads the source's ServiceAccount labels
    ([FRONT_FROM_BACK], {
        ("shop/api", "shop/web"): True, ("shop/legacy", "other/web"): True,
        ("other/api", "shop/web"): False,  # no ServiceAccount object there: no labels
        ("shop/batch", "shop/web"): False, ("shop/ghost", "other/web"): False,
        ("shop/batch", "shop/api"): True, ("other/web", "shop/ghost"): True}),
    # names in a namespaced policy's rule are service accounts of the policy's namespace
    ([SHOP_FROM_API], {
        ("shop/api", "shop/web"): True, ("shop/legacy", "shop/batch"): True,
        ("other/api", "shop/web"): False, ("shop/web", "shop/api"): False,
        ("shop/batch", "other/web"): True}),
    # a selector in a namespaced policy's rule: labels of service accounts of its namespace
    ([SHOP_TO_FRONT], {
        ("shop/api", "shop/web"): True, ("shop/ghost", "shop/web"): True,
        ("shop/api", "other/web"): False, ("shop/api", "shop/batch"): False,
        ("other/api", "other/web"): True}),
    # a pod without serviceAccountName runs as "default", in any namespace for a global policy
    ([NOT_FROM_DEFAULT], {
        ("shop/batch", "shop/web"): False, ("shop/batch", "other/api"): False,
        ("shop/api", "shop/web"): True, ("shop/ghost", "shop/batch"): True}),
    # a missing ServiceAccount object: the pod has the name but no labels
    ([WEB_FROM_LABELLED], {
        ("shop/api", "shop/web"): True, ("shop/batch", "shop/web"): False,
        ("shop/ghost", "shop/web"): False, ("shop/ghost", "shop/api"): True}),
    ([WEB_FROM_GHOST], {
        ("shop/ghost", "shop/web"): True, ("shop/api", "shop/web"): False,
        ("shop/ghost", "shop/api"): True, ("shop/batch", "shop/ghost"): False}),
    # selectors see the labels Calico derives from the service account
    ([BY_DERIVED_LABELS], {
        ("shop/api", "shop/web"): True, ("other/api", "other/web"): True,
        ("shop/batch", "other/web"): False, ("shop/batch", "shop/api"): True}),
], ids=["global-service-account-selector", "rule-names", "rule-selector", "default-account",
        "missing-account-object", "missing-account-object-by-name", "derived-labels"])
def test_service_accounts_decide_in_checks_and_matrix_alike(objects, expected):
    allowed = allowed_by_check_and_matrix(Cluster.from_snapshot(snapshot_of(objects)))
    assert {pair: allowed[pair] for pair in expected} == expected


def test_a_pod_reads_its_service_account_and_its_labels():
    pods = {pod.key: pod for pod in read_pods(snapshot_of([]))}
    assert (pods["shop/web"].service_account, dict(pods["shop/web"].service_account_labels)) \
        == ("web-sa", {"role": "front"})
    assert pods["shop/legacy"].service_account == "api-sa"
    assert pods["shop/batch"].service_account == "default"
    assert (pods["shop/ghost"].service_account, dict(pods["shop/ghost"].service_account_labels)) \
        == ("ghost-sa", {})


def test_the_check_explains_a_service_account_rule():
    cluster = Cluster.from_snapshot(snapshot_of([SHOP_FROM_API]))
    verdict = cluster.check("shop/api", "shop/web", 80, "TCP")
    assert verdict.allowed and "shop/from-api" in verdict.explain()


def test_service_accounts_split_classes_only_when_a_policy_reads_them():
    plain = gnp("plain", selector="app == 'svc'", ingress=[
        {"action": "Allow", "source": {"selector": "app == 'svc'"}}])
    without = Cluster.from_snapshot(snapshot_of([plain])).matrix()
    with_accounts = Cluster.from_snapshot(snapshot_of([plain, SHOP_FROM_API])).matrix()
    assert without.class_count < with_accounts.class_count
