"""The cluster before a change is read once per state of the cluster: a later snapshot of the
same objects at the same versions stands in for it, a snapshot of a changed cluster is read
again, and a change reviewed on the kept reading finds what a fresh reading finds."""

import copy
from pathlib import Path

import pytest

from isolation.review.baseline import Baselines, snapshot_key
from isolation.review.clusters import BeforeSide, ChangeClusters
from isolation.review.impact import impact_of, with_policies
from isolation.snapshot import KIND_FIELDS, load_snapshot

DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"


@pytest.fixture(scope="module")
def demo():
    return load_snapshot(DEMO.read_text())


def served(snapshot, version="1"):
    """A copy of `snapshot` as an API server sends it: every object with a uid and a version."""
    copied = copy.deepcopy(snapshot)
    for attr in KIND_FIELDS.values():
        for number, obj in enumerate(getattr(copied, attr)):
            obj.setdefault("metadata", {}).update(uid=f"{attr}-{number}",
                                                  resourceVersion=version)
    return copied


def shop_policy(name, **spec):
    spec.setdefault("podSelector", {})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}",
                         "resourceVersion": "7"}, "spec": spec}


DENY_INGRESS = shop_policy("deny-ingress", policyTypes=["Ingress"])
OPEN_STOREFRONT = shop_policy(
    "open-storefront", podSelector={"matchLabels": {"app": "storefront"}},
    policyTypes=["Ingress"], ingress=[{"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}],
                                       "ports": [{"port": 8080}]}])


def test_the_same_objects_at_the_same_versions_have_the_same_key(demo):
    assert snapshot_key(served(demo)) == snapshot_key(served(demo))
    assert snapshot_key(served(demo)) != snapshot_key(served(demo, "2"))
    fewer = served(demo)
    fewer.network_policies.pop()
    assert snapshot_key(fewer) != snapshot_key(served(demo))


def test_a_snapshot_with_an_unversioned_object_has_no_key(demo):
    unversioned = served(demo)
    del unversioned.pods[0]["metadata"]["resourceVersion"]
    assert snapshot_key(unversioned) is None
    assert Baselines(2).snapshot(unversioned) is unversioned


def test_a_later_snapshot_of_the_same_cluster_gets_the_kept_one(demo):
    kept = Baselines(2)
    first = kept.snapshot(served(demo))
    assert kept.snapshot(served(demo)) is first
    changed = served(demo, "2")
    assert kept.snapshot(changed) is changed
    assert kept.before(first) is kept.before(first)


def test_only_the_latest_snapshots_are_kept(demo):
    kept = Baselines(1)
    first = kept.snapshot(served(demo))
    kept.snapshot(served(demo, "2"))
    assert kept.snapshot(served(demo)) is not first
    assert kept.before(first) is None


def test_a_change_on_the_kept_reading_finds_what_a_fresh_reading_finds(demo):
    before = served(demo)
    reused = BeforeSide.read(before, live=True)
    for change in (DENY_INGRESS, OPEN_STOREFRONT):
        after = with_policies(before, upsert=[change])
        kept = ChangeClusters.of(before, after, checked=[change], live=True, reused=reused)
        fresh = ChangeClusters.of(before, after, checked=[change], live=True)
        assert kept.outside == fresh.outside
        assert impact_of(before, after, clusters=kept) == impact_of(before, after,
                                                                     clusters=fresh)
        assert kept.before_matrix is ChangeClusters.of(
            before, after, checked=[change], live=True, reused=reused).before_matrix


def test_a_changed_cluster_is_read_again_and_its_change_is_seen(demo):
    kept = Baselines(2)

    def review(snapshot):
        after = with_policies(snapshot, upsert=[OPEN_STOREFRONT])
        clusters = ChangeClusters.of(snapshot, after, checked=[OPEN_STOREFRONT], live=True,
                                     reused=kept.before(snapshot, live=True))
        return impact_of(snapshot, after, clusters=clusters)

    before = kept.snapshot(served(demo))
    assert review(before).newly_allowed
    # The cluster changes: the storefront already accepts what the draft opens.
    already = dict(OPEN_STOREFRONT, metadata=dict(OPEN_STOREFRONT["metadata"], name="already"))
    changed = kept.snapshot(with_policies(served(demo, "2"), upsert=[already]))
    assert changed is not before
    second = review(changed)
    assert not second.newly_allowed
    assert second == impact_of(changed, with_policies(changed, upsert=[OPEN_STOREFRONT]))


def test_the_asked_ports_engine_answers_as_the_whole_one(demo):
    before = served(demo)
    after = with_policies(before, upsert=[OPEN_STOREFRONT])
    clusters = ChangeClusters.of(before, after, reused=BeforeSide.read(before))
    asked = {(22, "TCP"), (8080, "TCP"), (1, "TCP")}
    lean, whole = clusters.after_asked(asked), clusters.after
    pods = [pod.key for pod in whole.pods]
    for port in (22, 8080, 1):
        assert [c.allowed for c in lean.matrix(pods, pods, ports=[(port, "TCP")])
                .connections()] == [c.allowed for c in whole.matrix(
                    pods, pods, ports=[(port, "TCP")]).connections()]
    assert clusters.after_asked({(8080, "TCP")}) is clusters.after_declared
    lean, whole = clusters.before_asked(asked), clusters.before
    for port in (22, 8080, 1):
        assert [c.allowed for c in lean.matrix(pods, pods, ports=[(port, "TCP")])
                .connections()] == [c.allowed for c in whole.matrix(
                    pods, pods, ports=[(port, "TCP")]).connections()]


def test_the_before_engines_are_kept_for_the_next_change_to_the_same_cluster(demo):
    before = served(demo)
    reused = BeforeSide.read(before)

    def clusters(change):
        return ChangeClusters.of(before, with_policies(before, upsert=[change]), reused=reused)

    first, second = clusters(OPEN_STOREFRONT), clusters(DENY_INGRESS)
    assert first.before is second.before
    assert first.before_asked({(22, "TCP")}) is second.before_asked({(22, "TCP")})
    assert first.after is not second.after
    other = ChangeClusters.of(served(demo, "2"), served(demo, "2"), reused=reused)
    assert other.before is not first.before
