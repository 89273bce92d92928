"""The watched cluster model (cluster.watch) against the simulator over HTTP: it follows every
change, resumes a dropped watch where it stopped, lists again when the server has compacted past
its version (410), and notices a CRD installed later."""

from __future__ import annotations

import pytest

from cluster import watch
from cluster.crds import install_crds
from cluster.errors import ClusterError
from cluster.snapshots import SNAPSHOT_KINDS
from cluster.watch import ClusterWatcher
from tests.helpers import wait_for

from .objects import namespace, network_policy, workspace


@pytest.fixture
def watcher(gateway_with_crds):
    started = ClusterWatcher(gateway_with_crds, watch_seconds=30).start()
    assert started.wait_synced(10)
    yield started
    started.stop()


def model_matches_the_server(watcher: ClusterWatcher, gateway) -> bool:
    return all(watcher.kind_state(kind)[2] == listed(gateway, kind) for kind in SNAPSHOT_KINDS)


def listed(gateway, kind: str) -> list[dict]:
    try:
        return gateway.list_objects(kind, managed_fields=False)
    except ClusterError:   # a custom kind this server does not serve reads as empty
        return []


def names(watcher: ClusterWatcher, kind: str) -> list[str]:
    return [obj["metadata"]["name"] for obj in watcher.kind_state(kind)[2]]


def test_the_first_list_holds_every_object_the_server_has(watcher, gateway_with_crds):
    assert model_matches_the_server(watcher, gateway_with_crds)


def test_the_model_follows_creates_updates_and_deletes(watcher, gateway_with_crds):
    gw = gateway_with_crds
    gw.create(namespace("shop"))
    gw.create(network_policy("shop", "deny-all"))
    wait_for(lambda: "deny-all" in names(watcher, "NetworkPolicy"), timeout=10,
             what="the created policy")
    gw.merge_patch("NetworkPolicy", "deny-all", {"metadata": {"labels": {"team": "a"}}},
                   namespace="shop")
    wait_for(lambda: watcher.kind_state("NetworkPolicy")[2][0]["metadata"].get("labels")
             == {"team": "a"}, timeout=10, what="the label")
    gw.delete("NetworkPolicy", "deny-all", namespace="shop")
    wait_for(lambda: "deny-all" not in names(watcher, "NetworkPolicy"), timeout=10,
             what="the deletion")
    wait_for(lambda: model_matches_the_server(watcher, gw), timeout=10, what="the same state")
    assert watcher.relists == 0


def test_the_version_moves_with_each_change_of_its_kind_only(watcher, gateway_with_crds):
    before = watcher.versions()
    created = gateway_with_crds.create(namespace("shop"))
    wait_for(lambda: "shop" in names(watcher, "Namespace"), timeout=10, what="the namespace")
    after = watcher.versions()
    assert after["Namespace"] > before["Namespace"]
    assert {k: v for k, v in after.items() if k != "Namespace"} == {
        k: v for k, v in before.items() if k != "Namespace"}
    assert watcher.kind_state("Namespace")[1] == created["metadata"]["resourceVersion"]


def test_a_dropped_watch_resumes_from_its_last_version_without_listing(
        watcher, gateway_with_crds, empty_simulator):
    gateway_with_crds.create(namespace("before"))
    wait_for(lambda: "before" in names(watcher, "Namespace"), timeout=10, what="the namespace")
    empty_simulator._httpd.drop_connections()
    gateway_with_crds.create(namespace("during"))   # made while the watches reconnect
    gateway_with_crds.create(network_policy("during", "after"))
    wait_for(lambda: "after" in names(watcher, "NetworkPolicy")
             and "during" in names(watcher, "Namespace"), timeout=15, what="the later changes")
    assert model_matches_the_server(watcher, gateway_with_crds)
    assert watcher.relists == 0


def test_a_watch_the_server_compacted_past_lists_again(watcher, gateway_with_crds,
                                                       empty_simulator):
    gateway_with_crds.create(namespace("shop"))
    wait_for(lambda: "shop" in names(watcher, "Namespace"), timeout=10, what="the namespace")
    empty_simulator.store.compact()
    empty_simulator._httpd.drop_connections()
    gateway_with_crds.delete("Namespace", "shop")
    gateway_with_crds.create(namespace("web"))
    wait_for(lambda: watcher.relists > 0, timeout=15, what="a new list after the 410")
    wait_for(lambda: model_matches_the_server(watcher, gateway_with_crds), timeout=15,
             what="the same state")
    assert "web" in names(watcher, "Namespace")


def test_watching_from_a_compacted_version_answers_410(gateway, empty_simulator):
    items, version = gateway.list_with_version("Namespace")
    gateway.create(namespace("shop"))
    empty_simulator.store.compact()
    with pytest.raises(ClusterError) as raised:
        list(gateway.watch("Namespace", version, timeout_seconds=5))
    assert raised.value.status == 410


def test_a_watch_from_the_lists_version_sees_exactly_the_later_changes(gateway):
    items, version = gateway.list_with_version("Namespace")
    assert {obj["metadata"]["name"] for obj in items} >= {"default", "kube-system"}
    assert all("managedFields" not in obj["metadata"] for obj in items)
    gateway.create(namespace("shop"))
    events = gateway.watch("Namespace", version, timeout_seconds=1)
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert seen == [("ADDED", "shop")]


def test_a_crd_installed_later_is_noticed(gateway, monkeypatch):
    monkeypatch.setattr(watch, "CRD_RECHECK_SECONDS", 0.2)
    watcher = ClusterWatcher(gateway, watch_seconds=30).start()
    try:
        assert watcher.wait_synced(10)
        assert watcher.kind_state("Workspace")[2] == []
        install_crds(gateway)
        gateway.create(workspace("team-a"))
        wait_for(lambda: names(watcher, "Workspace") == ["team-a"], timeout=15,
                 what="the Workspace")
    finally:
        watcher.stop()


def test_the_published_form_gives_back_the_same_objects():
    objects = [namespace("shop"), network_policy("shop", "deny-all")]
    assert watch.decode_objects(watch.encode_objects(objects)) == objects


@pytest.mark.parametrize("value, number", [("123", 123), ("0", 0), ("", None), ("a1", None)])
def test_resource_versions_compare_as_numbers_only_when_they_are(value, number):
    assert watch.resource_version_number(value) == number
