"""Results on a kept engine are reused for that engine only: another engine (the cluster
changed) is evaluated anew."""

from console.guardrails.services import HELD_RESULTS
from isolation.guardrails.evaluate import evaluate, expectation_objects, parse_expectations
from isolation.reachability.engine import Cluster
from isolation.review.impact import with_policies
from isolation.snapshot import load_snapshot
from kubesim.demo import DEMO_YAML

NO_EGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "no-egress", "namespace": "shop"},
             "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}


def test_results_are_kept_per_engine_and_a_changed_cluster_is_evaluated_anew():
    HELD_RESULTS.clear()
    demo = load_snapshot(DEMO_YAML.read_text())
    valid, _ = parse_expectations(expectation_objects(demo))
    engine = Cluster.from_snapshot(demo)
    first = HELD_RESULTS.results(demo, engine, valid)
    assert HELD_RESULTS.results(demo, engine, valid[:2]) == first[:2]
    assert all(a is b for a, b in zip(HELD_RESULTS.results(demo, engine, valid), first,
                                      strict=True))
    changed = with_policies(demo, upsert=[NO_EGRESS])
    again = HELD_RESULTS.results(changed, Cluster.from_snapshot(changed), valid)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in evaluate(
        changed, valid, max_violations=0)]
    assert [(r.holds, r.violation_count) for r in again] == [
        (r.holds, r.violation_count) for r in evaluate(changed, valid)]
    assert [r.holds for r in again] != [r.holds for r in first]
