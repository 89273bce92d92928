"""The three-way merge of a policy edited by two people from the same base."""

import copy

import pytest

from isolation.netpol.merge import (
    ABSENT,
    MINE,
    THEIRS,
    UNKNOWN,
    Conflict,
    describe_value,
    three_way_merge,
)


def policy(**spec):
    spec.setdefault("podSelector", {})
    spec.setdefault("policyTypes", ["Ingress"])
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "web", "namespace": "shop"}, "spec": spec}


def with_meta(obj, **meta):
    obj = copy.deepcopy(obj)
    obj["metadata"].update(meta)
    return obj


BASE = policy(ingress=[{"ports": [{"port": 8080}]}])


@pytest.mark.parametrize(("base", "theirs", "mine", "merged", "theirs_changed", "mine_changed"), [
    # nobody changed anything
    (BASE, BASE, BASE, BASE, (), ()),
    # only one side changed
    (BASE, policy(ingress=[{"ports": [{"port": 9090}]}]), BASE,
     policy(ingress=[{"ports": [{"port": 9090}]}]), ("spec.ingress",), ()),
    (BASE, BASE, policy(ingress=[{"ports": [{"port": 9090}]}]),
     policy(ingress=[{"ports": [{"port": 9090}]}]), (), ("spec.ingress",)),
    # disjoint edits: a list as a whole on one side, a map on the other
    (BASE, policy(ingress=[{"ports": [{"port": 8080}]}], policyTypes=["Ingress", "Egress"]),
     with_meta(BASE, labels={"owner": "alice"}),
     with_meta(policy(ingress=[{"ports": [{"port": 8080}]}], policyTypes=["Ingress", "Egress"]),
               labels={"owner": "alice"}),
     ("spec.policyTypes",), ("metadata.labels",)),
    # the same change on both sides is no conflict
    (BASE, with_meta(BASE, labels={"a": "1"}), with_meta(BASE, labels={"a": "1"}),
     with_meta(BASE, labels={"a": "1"}), (), ()),
    # different keys of the same map merge by key
    (with_meta(BASE, annotations={"keep": "k"}), with_meta(BASE, annotations={"x": "1", "keep": "k"}),
     with_meta(BASE, annotations={"keep": "k", "y": "2"}),
     with_meta(BASE, annotations={"x": "1", "keep": "k", "y": "2"}),
     ("metadata.annotations.x",), ("metadata.annotations.y",)),
    # a deletion on one side and an unrelated change on the other
    (BASE, policy(), with_meta(BASE, labels={"a": "1"}),
     with_meta(policy(), labels={"a": "1"}), ("spec.ingress",), ("metadata.labels",)),
])
def test_non_overlapping_changes_are_merged(base, theirs, mine, merged, theirs_changed,
                                            mine_changed):
    result = three_way_merge(base, theirs, mine)
    assert result.conflicts == () and result.clean
    assert result.merged == merged
    assert result.theirs_changed == theirs_changed
    assert result.mine_changed == mine_changed


def test_a_key_deleted_on_one_side_stays_deleted():
    base = with_meta(BASE, labels={"a": "1", "b": "2"})
    theirs = with_meta(BASE, labels={"a": "1"})
    mine = with_meta(BASE, labels={"a": "1", "b": "2", "c": "3"})
    result = three_way_merge(base, theirs, mine)
    assert result.clean
    assert result.merged["metadata"]["labels"] == {"a": "1", "c": "3"}


@pytest.mark.parametrize(("theirs", "mine", "path", "base_value", "their_value", "my_value"), [
    (with_meta(BASE, annotations={"note": "bob"}), with_meta(BASE, annotations={"note": "alice"}),
     "metadata.annotations.note", ABSENT, "bob", "alice"),
    (policy(ingress=[{"ports": [{"port": 9090}]}]), policy(ingress=[{"ports": [{"port": 7070}]}]),
     "spec.ingress", [{"ports": [{"port": 8080}]}], [{"ports": [{"port": 9090}]}],
     [{"ports": [{"port": 7070}]}]),
    # a field deleted on one side and changed on the other
    (policy(), policy(ingress=[{}]), "spec.ingress", [{"ports": [{"port": 8080}]}], ABSENT, [{}]),
    # an annotation key with dots and slashes is bracketed in the path
    (with_meta(BASE, annotations={"example.com/x": "1"}),
     with_meta(BASE, annotations={"example.com/x": "2"}),
     "metadata.annotations[example.com/x]", ABSENT, "1", "2"),
])
def test_overlapping_changes_are_conflicts_that_keep_theirs_until_chosen(
        theirs, mine, path, base_value, their_value, my_value):
    result = three_way_merge(BASE, theirs, mine)
    assert result.conflicts == (Conflict(path, base_value, their_value, my_value),)
    assert not result.clean and result.unresolved == result.conflicts
    assert result.merged == theirs


def test_a_choice_resolves_its_field_only():
    theirs = with_meta(policy(ingress=[{}], policyTypes=["Ingress", "Egress"]),
                       annotations={"note": "bob"})
    mine = with_meta(policy(ingress=[{"ports": [{"port": 7070}]}]),
                     annotations={"note": "alice"})
    result = three_way_merge(BASE, theirs, mine, choices={"metadata.annotations.note": MINE})
    assert [c.path for c in result.conflicts] == ["metadata.annotations.note", "spec.ingress"]
    assert [c.path for c in result.unresolved] == ["spec.ingress"]
    result = three_way_merge(BASE, theirs, mine, choices={"metadata.annotations.note": MINE,
                                                          "spec.ingress": THEIRS,
                                                          "not.a.conflict": MINE,
                                                          "spec.podSelector": "bogus"})
    assert result.clean
    assert result.merged["metadata"]["annotations"] == {"note": "alice"}
    assert result.merged["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                     "ingress": [{}]}


def test_choosing_mine_for_a_field_theirs_deleted_brings_it_back():
    result = three_way_merge(BASE, policy(), policy(ingress=[{}]), choices={"spec.ingress": MINE})
    assert result.clean and result.merged["spec"]["ingress"] == [{}]
    result = three_way_merge(BASE, policy(ingress=[{}]), policy(),
                             choices={"spec.ingress": MINE})
    assert result.clean and "ingress" not in result.merged["spec"]


def test_list_items_with_a_merge_key_merge_item_by_item():
    def owned(*refs):
        return with_meta(BASE, ownerReferences=[{"uid": u, "name": n} for u, n in refs])

    base = owned(("1", "a"))
    result = three_way_merge(base, owned(("1", "a"), ("2", "b")), owned(("1", "a2")))
    assert result.clean
    assert result.merged["metadata"]["ownerReferences"] == [{"uid": "1", "name": "a2"},
                                                            {"uid": "2", "name": "b"}]
    result = three_way_merge(base, owned(("1", "x")), owned(("1", "y")))
    assert [c.path for c in result.conflicts] == ["metadata.ownerReferences[1].name"]


def test_scalar_sets_merge_by_value():
    base = with_meta(BASE, finalizers=["a"])
    result = three_way_merge(base, with_meta(BASE, finalizers=["a", "b"]),
                             with_meta(BASE, finalizers=["c"]))
    assert result.clean and result.merged["metadata"]["finalizers"] == ["b", "c"]


def test_without_a_base_every_difference_is_a_conflict():
    theirs = with_meta(BASE, labels={"a": "1"})
    mine = policy(ingress=[{}])
    result = three_way_merge(None, theirs, mine)
    assert {c.path for c in result.conflicts} == {"metadata.labels", "spec.ingress"}
    assert all(c.base is UNKNOWN for c in result.conflicts)
    assert result.merged == theirs


def test_the_inputs_are_not_modified():
    base, theirs, mine = copy.deepcopy(BASE), policy(ingress=[{}]), with_meta(BASE, labels={})
    snapshot = copy.deepcopy((base, theirs, mine))
    result = three_way_merge(base, theirs, mine)
    result.merged["spec"]["podSelector"]["x"] = 1
    assert (base, theirs, mine) == snapshot


def test_types_count_as_changes():
    result = three_way_merge(policy(port=1), policy(port=True), policy(port=1))
    assert result.merged["spec"]["port"] is True


@pytest.mark.parametrize(("value", "shown"), [
    (ABSENT, "(not set)"), (UNKNOWN, "(unknown)"), (None, "null"), ("x", "x"),
    ([1], "[\n  1\n]"),
])
def test_values_are_described_for_the_conflict_view(value, shown):
    assert describe_value(value) == shown
