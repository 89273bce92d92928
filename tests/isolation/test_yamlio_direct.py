"""Documents read straight from the parser's events (`load_documents`' direct reader) are the
documents the careful reader composes (`composed_documents`): the same data, of the same types,
with every part at the same line and column; whatever the direct reader is unsure of, it leaves
to the careful one, which then refuses or reads it exactly as before."""

from __future__ import annotations

import copy
import datetime
import gc
import pickle
from pathlib import Path

import pytest

from isolation import yamlio
from isolation.yamlio import YamlInputError, composed_documents, load_documents, locate, locate_key

ROOT = Path(__file__).resolve().parents[2]
# every YAML and JSON file the tests read as input or compare against
CORPUS = sorted({*(ROOT / "tests").rglob("*.yaml"), *(ROOT / "tests").rglob("*.json"),
                 ROOT / "kubesim" / "demo.yaml"})


def _typed(value):
    """`value` with the type of every scalar spelled out (`1 == True == 1.0` in Python)."""
    if isinstance(value, dict):
        return {("key", type(key).__name__, key): _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


def _paths(value, prefix=()):
    """Every path into `value`, keys as the text they are written with when strings."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _same_documents(text: str) -> None:
    direct = yamlio._direct_documents(text)
    careful = composed_documents(text)
    assert direct is not None, "the direct reader gave up on a plain document"
    assert [doc.index for doc in direct] == [doc.index for doc in careful]
    for fast, slow in zip(direct, careful, strict=True):
        assert _typed(fast.data) == _typed(slow.data)
        assert (fast.node.start_mark.line, fast.node.start_mark.column) == (
            slow.node.start_mark.line, slow.node.start_mark.column)
        for path in _paths(slow.data):
            assert locate(fast.node, path) == locate(slow.node, path), path
            assert locate_key(fast.node, path) == locate_key(slow.node, path), path
        missing = ("spec", "nothing", 3)
        assert locate(fast.node, missing) == locate(slow.node, missing)
        assert locate_key(fast.node, missing) == locate_key(slow.node, missing)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_test_file_reads_the_same_directly_and_carefully(path):
    _same_documents(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [
    "a: 1\nb: 0x1F\nc: 0o17\nd: 1_000\ne: 190:20:30\nf: .inf\ng: -.NaN\nh: 1.5e3\n",
    "yes: no\noff: on\n~: null\nt: True\nempty:\n",
    "d: 2001-12-14\nt: 2001-12-14t21:59:43.10-05:00\ns: '2001-12-14'\n",
    "k: 'it''s'\nq: \"tab\\there\"\nl: |\n  one\n  two\nf: >-\n  folded\n  text\n",
    '{"apiVersion": "v1", "items": [{"a": [1, 2, {"b": null}]}, [], {}], "x": 1.0}',
    "- a\n- - nested\n  - again\n- {flow: [x, y]}\n",
    "plain scalar document\n",
    "---\n---\nempty: documents\n---\n...\n---\n- last\n",
    "1: int key\n'1': str key\nfalse: bool key\n2.5: float key\n",
    "%YAML 1.1\n---\nversion: directive\n",
    "key with spaces: v\n? explicit\n: value\n",
])
def test_scalars_and_collections_read_the_same(text):
    _same_documents(text)


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",                          # a duplicate key
    "1: x\ntrue: y\n",                       # equal in Python, different keys in YAML
    "base: &b {x: 1}\nuse: *b\n",            # an anchor and an alias
    "base: &b {x: 1}\nuse:\n  <<: *b\n  x: 2\n",
    "v: !!str 12\n",                         # an explicit tag
    "v: !!int nope\n",
    "v: =\n",                                # the value key of YAML 1.1
    "[a, b]: complex key\n",
    "a: [unclosed\n",
    "a: b: c\n",
    "bell: \x07\n",
    "d: 2001-02-30\n",                       # a timestamp that is not a date
    "x:" + " [" * 70 + " ]" * 70 + "\n",     # deeper than MAX_DEPTH
])
def test_the_careful_reader_takes_over_what_the_direct_one_doubts(text):
    assert yamlio._direct_documents(text) is None
    try:
        expected = [(doc.index, _typed(doc.data)) for doc in composed_documents(text)]
    except YamlInputError as refused:
        with pytest.raises(YamlInputError) as again:
            load_documents(text)
        assert str(again.value) == str(refused)
    else:
        assert [(doc.index, _typed(doc.data)) for doc in load_documents(text)] == expected


def test_a_duplicate_key_is_refused_with_both_lines():
    text = "apiVersion: v1\nmetadata:\n  labels:\n    app: a\n    app: b\n"
    with pytest.raises(YamlInputError) as refused:
        load_documents(text)
    assert refused.value.line == 5
    assert "first at line 4" in refused.value.message


def test_a_large_flow_style_policy_reads_directly_with_its_lines():
    rules = "".join(f"  - {{from: [{{ipBlock: {{cidr: 10.0.{i // 256}.{i % 256}/32}}}}], "
                    f"ports: [{{port: {1024 + i}}}]}}\n" for i in range(2000))
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: big\n"
            f"spec:\n  ingress:\n{rules}")
    document = load_documents(text)[0]
    assert isinstance(document.node, yamlio.Spot)
    assert document.data["spec"]["ingress"][1999]["ports"] == [{"port": 3023}]
    assert locate(document.node, ("spec", "ingress", 1999, "ports", 0, "port")) == (2006, 63)
    assert locate_key(document.node, ("spec", "ingress", 5, "from")) == (12, 6)


def test_timestamps_are_built_as_the_careful_reader_builds_them():
    document = load_documents("when: 2001-12-14 21:59:43.10\n")[0]
    assert isinstance(document.node, yamlio.Spot)
    assert document.data["when"] == datetime.datetime(2001, 12, 14, 21, 59, 43, 100000)


def test_a_plain_copy_of_data_with_dates_is_made_the_slow_way_and_is_equal():
    data = load_documents("a: 2001-12-14\nb: [1, {c: 2}]\n")[0].data
    copied = yamlio.plain_copy(data)
    assert copied == data and copied["b"] is not data["b"] and copied["b"][1] is not data["b"][1]


def test_the_collector_is_running_again_after_reading():
    assert gc.isenabled()
    load_documents("a: 1\n")
    with pytest.raises(YamlInputError):
        load_documents("a: 1\na: 2\n")
    assert gc.isenabled()
    gc.disable()
    try:
        load_documents("a: 1\n")
        assert not gc.isenabled()   # a caller's own pause is left as it was
    finally:
        gc.enable()


def _rules(line, count: int = 80) -> str:
    return "".join(line(i) for i in range(count))


HEAD = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nspec:\n  ingress:\n"


@pytest.mark.parametrize("text", [
    HEAD + _rules(lambda i: f"  - {{from: [{{ipBlock: {{cidr: 10.0.0.{i}/32}}}}], ports: [{{port: {i}}}]}}\n"),
    HEAD + _rules(lambda i: f"  - {{ a : {i} ,b:  [ ],c: {{}}, d: [ {{e: f}} ] }}   \n"),
    HEAD + _rules(lambda i: f"  - {{a: [[[[{i}]]]], b: {{c: {{d: {{e: x-{i}}}}}}}}}\n"),
    HEAD + _rules(lambda i: f"  - {{a: {i}.5, b: 1.0, c: 0.30000000000000004, d: 6.02e23, e: 1e16, "
                            "f: 9223372036854775807, g: 18446744073709551615, h: 0.0, i: 0x1F, "
                            "j: 017, k: 1_000, l: Yes, m: NULL, n: off, o: 0b101, p: 5e-324}\n"),
    HEAD + _rules(lambda i: "  - {}\n"),
    _rules(lambda i: f"- {{a: {i}, b: x}}\n"),
    HEAD + _rules(lambda i: f"  - {{a: {i}}}\n") + "---\n" + HEAD + _rules(lambda i: f"  - {{b: {i}}}\n"),
    "s: |\n" + _rules(lambda i: f"  - {{a: {i}}}\n") + "t:\n" + _rules(lambda i: f"- {{a: {i}}}\n"),
    "s: >\n" + _rules(lambda i: f"  - {{a: {i}}}\n") + "t: 'x\n" + _rules(lambda i: f"  - {{a: {i}}}\n") + "'\n",
    HEAD + _rules(lambda i: f"  - {{a: {i}}}\n") + "  - {a: 1, b: 2001-12-14, c: .inf, d: 123456789012345678901}\n",
    HEAD + _rules(lambda i: f"  - {{1: {i}}}\n" if i % 2 else f"  - {{true: {i}}}\n"),
    HEAD + _rules(lambda i: f"  - {{a: b:c, d: {i}}}\n"),
    HEAD + _rules(lambda i: f"  - {{a: {i},}}\n"),
    HEAD + _rules(lambda i: f"  - {{a b: {i}}}\n"),
    HEAD + _rules(lambda i: f"  - {{a: {i}}} # a comment\n"),
    HEAD.replace("\n", "\r\n") + _rules(lambda i: f"  - {{a: {i}}}\r\n"),
    "a: b\x85" + HEAD + _rules(lambda i: f"  - {{a: {i}}}\n"),
    "x:\n" + "".join("  " * k + f"k{k}:\n" for k in range(1, 58))
    + _rules(lambda i: "  " * 58 + f"- {{a: [{{b: {i}}}]}}\n"),
])
def test_lists_of_one_line_flow_mappings_read_the_same_directly_and_carefully(text):
    _same_documents(text)


@pytest.mark.parametrize("text", [
    HEAD + _rules(lambda i: f"  - {{a: {i}, a: 2}}\n"),
    HEAD + _rules(lambda i: f"  - {{a: {i}}}\n") + "  - {a: b}\n    c\n",
    HEAD + _rules(lambda i: f"  - {{a: {i}}}, {{b: 1}}\n"),
    HEAD + _rules(lambda i: f"  - {{a: [{{b: {i}}}\n"),
    "a:\n  - {x: 1}\n" + _rules(lambda i: f" - {{a: {i}}}\n"),
    HEAD + _rules(lambda i: f"  - {{{'k' * 1100}: {i}}}\n"),    # a key too far from its ':'
    "x:\n" + "".join("  " * k + f"k{k}:\n" for k in range(1, 62))
    + _rules(lambda i: "  " * 62 + f"- {{a: [{{b: {i}}}]}}\n"),
])
def test_lists_of_one_line_flow_mappings_are_refused_as_the_careful_reader_refuses(text):
    with pytest.raises(YamlInputError) as refused:
        composed_documents(text)
    with pytest.raises(YamlInputError) as again:
        load_documents(text)
    assert str(again.value) == str(refused.value)


def test_the_lines_of_a_flow_mapping_survive_pickling_and_copying():
    text = HEAD + _rules(lambda i: f"  - {{from: [{{ipBlock: {{cidr: 10.0.0.{i}/32}}}}]}}\n")
    node = load_documents(text)[0].node
    path = ("spec", "ingress", 70, "from", 0, "ipBlock", "cidr")
    for kept in (pickle.loads(pickle.dumps(node)), copy.deepcopy(node)):
        assert locate(kept, path) == locate(node, path) == (75, 30)
