"""The editor's YAML writer: the very text PyYAML writes, read back as the object it wrote."""

from __future__ import annotations

import datetime

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.policies.text import _yaml, dump, live_yaml

# Texts PyYAML quotes or writes otherwise than as they are, and texts it leaves plain.
AWKWARD = ["yes", "no", "on", "off", "y", "n", "true", "True", "null", "Null", "~", "1e3",
           "1_000", "0x10", "0o17", "007", "1.5", ".inf", "-.inf", ".nan", "2024-01-02",
           "12:30", "", " ", ":", "a: b", "a:b", "#", "a #b", "a# b", "- x", "-", "?", "? x",
           "@x", "`x", "%x", "!x", "&x", "*x", "|x", ">x", "[x", "]", "{x", "}", ",x", "'q'",
           '"d"', "\\", " lead", "trail ", "in  side", "a\tb", "tab\t", "ü", "日本語", "é" * 50,
           "🙂", "\u200b", "\u202e", "\x07", "\ufeff", "line\nbreak", "two\n\nbreaks", "end\n",
           "\r", "\x85", "\u2028", "\u2029", "x" * 79, "x" * 200, "word " * 25, "10.0.0.0/8",
           "kube-system", "app.kubernetes.io/name", "http", "TCP", "Ingress"]


def assert_as_pyyaml_writes(obj) -> None:
    text = dump(obj)
    assert text == _yaml(obj)
    assert yaml.safe_load(text) == obj


@pytest.mark.parametrize("text", AWKWARD)
def test_a_text_is_written_as_pyyaml_writes_it_as_key_value_and_item(text):
    assert_as_pyyaml_writes({"metadata": {"annotations": {"note": text}}})
    assert_as_pyyaml_writes({"metadata": {"labels": {text: "v"}}})
    assert_as_pyyaml_writes({"spec": {"policyTypes": [text, "Ingress"]}})
    assert_as_pyyaml_writes({"spec": {"ingress": [{"ports": [{"port": text}]}]}})


@pytest.mark.parametrize("value", [0, -3, 2**70, 1.5, -0.0, 1e20, 1e-7, float("inf"), True,
                                   False, None, {}, [], datetime.date(2024, 1, 2),
                                   datetime.datetime(2024, 1, 2, 3, 4, 5)])
def test_numbers_booleans_nulls_dates_and_empty_blocks_are_written_as_pyyaml_writes_them(value):
    assert_as_pyyaml_writes({"a": value, "b": [value, {"c": value}], "d": [[value]]})


@pytest.mark.parametrize("indent", range(0, 12))
def test_a_long_text_folds_at_the_column_pyyaml_folds_it(indent):
    """Around the emitter's 80 columns, at every depth: the same folds and indentation."""
    for length in (60, 70, 75, 76, 77, 78, 79, 80, 81, 100, 170):
        text = ("ab " * length)[:length].strip()
        value: object = {"key": text, "list": [text, "short"], "quoted": text + " #"}
        for _ in range(indent):
            value = {"nested": value, "items": [value]}
        assert_as_pyyaml_writes({"root": value})


def test_a_mapping_or_list_met_twice_is_written_with_pyyamls_anchor_and_alias():
    ports = [{"port": 53, "protocol": "UDP"}]
    obj = {"spec": {"ingress": [{"ports": ports}], "egress": [{"ports": ports}]}}
    assert "&id001" in dump(obj)
    assert_as_pyyaml_writes(obj)
    empty: dict = {}
    assert_as_pyyaml_writes({"a": empty, "b": [empty]})


def test_a_policy_of_thousands_of_rules_is_written_as_pyyaml_writes_it():
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "large", "namespace": "shop",
                           "annotations": {"note": "reviewed: yes", "owner": "team a"}},
              "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                       "policyTypes": ["Ingress"],
                       "ingress": [{"from": [{"ipBlock": {"cidr": f"10.0.{i // 256}.{i % 256}/32"}}],
                                    "ports": [{"port": 1024 + i, "protocol": "TCP"}]}
                                   for i in range(500)]}}
    assert_as_pyyaml_writes(policy)
    assert live_yaml({**policy, "status": {}}) == _yaml(policy)


def test_what_pyyaml_alone_can_write_is_left_to_it():
    assert dump({}) == _yaml({})
    assert dump({"a": b"bytes"}) == _yaml({"a": b"bytes"})
    assert dump({("a", "b"): 1}) == _yaml({("a", "b"): 1})
    assert dump({"x" * 90: 1}) == _yaml({"x" * 90: 1})    # a key longer than a line


@pytest.mark.parametrize("length", [126, 127, 128, 129, 300])
def test_a_long_name_as_a_key_is_written_as_pyyaml_writes_it(length):
    assert_as_pyyaml_writes({"metadata": {"labels": {"k" * length: "v"}}})


SCALARS = st.one_of(
    st.sampled_from(AWKWARD), st.text(max_size=120),
    st.text(alphabet="ab :#'\"-?\\\n\t\u2028é", max_size=90),
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
KEYS = st.one_of(st.sampled_from(AWKWARD[:40]), st.text(max_size=20), st.integers(),
                 st.booleans())
TREES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=25)


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, TREES, min_size=1, max_size=4))
def test_any_plain_object_is_written_as_pyyaml_writes_it(obj):
    text = dump(obj)
    assert text == _yaml(obj)
    assert yaml.safe_load(text) == yaml.safe_load(_yaml(obj))
