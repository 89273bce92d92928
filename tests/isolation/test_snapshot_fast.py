"""The fast YAML reader (`isolation.yamlfast.fast_load_documents`) returns exactly what the careful
one (`load_documents`) returns, or gives up (None) so that the careful one reads the file."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from isolation import snapshot as snapshot_module
from isolation import yamlio
from isolation.snapshot import SnapshotError, load_snapshot, prune_unread
from isolation.yamlfast import fast_load_documents
from isolation.yamlio import YamlInputError, load_json
from tests.helpers import kubectl_snapshot_generator

ROOT = Path(__file__).resolve().parents[2]
# every YAML file under tests/ (snapshots, golden files) and the demo cluster
SNAPSHOT_FILES = [ROOT / "kubesim" / "demo.yaml", *sorted((ROOT / "tests").rglob("*.yaml"))]


def _careful(text):
    return [(doc.index, doc.data) for doc in yamlio.composed_documents(text)]


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=lambda p: p.name)
def test_fast_reader_matches_the_careful_one_on_the_snapshot_files(path):
    text = path.read_text(encoding="utf-8")
    fast = fast_load_documents(text)
    assert fast is None or fast == _careful(text)


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=lambda p: p.name)
def test_every_snapshot_file_loads_the_same_on_the_fast_and_the_careful_path(path, monkeypatch):
    data = path.read_bytes()

    def outcome(engine_fields_only):
        try:
            return repr(load_snapshot(data, engine_fields_only=engine_fields_only))
        except SnapshotError as refused:
            return f"refused: {refused}"

    fast = [outcome(True), outcome(False)]
    monkeypatch.setattr(snapshot_module, "fast_load_documents", lambda *a, **k: None)
    monkeypatch.setattr(yamlio, "_direct_documents", lambda *a, **k: None)
    assert [outcome(True), outcome(False)] == fast


@pytest.fixture(scope="module")
def generated_yaml():
    data = kubectl_snapshot_generator().snapshot_list(60)
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                     default_flow_style=False, sort_keys=True, width=80)


def test_fast_reader_reads_generated_kubectl_snapshots_exactly(generated_yaml):
    fast = fast_load_documents(generated_yaml)
    assert fast is not None   # the whole file is in the part of YAML the fast reader knows
    assert fast == _careful(generated_yaml)


def test_pruned_snapshot_is_the_same_on_both_paths(generated_yaml, monkeypatch):
    assert fast_load_documents(generated_yaml, snapshot_module._skip_tree) is not None
    fast = load_snapshot(generated_yaml, engine_fields_only=True)
    monkeypatch.setattr(snapshot_module, "fast_load_documents", lambda *a, **k: None)
    careful = load_snapshot(generated_yaml, engine_fields_only=True)
    assert fast == careful
    whole = load_snapshot(generated_yaml)
    assert [prune_unread(copy.deepcopy(o)) for o in whole.objects()] == fast.objects()
    pod = fast.pods[0]
    assert "managedFields" not in pod["metadata"] and "volumes" not in pod["spec"]
    assert "annotations" not in pod["metadata"] and "conditions" not in pod["status"]
    assert pod["spec"]["containers"][0]["ports"] and pod["status"]["podIP"]


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",                       # duplicate key: the careful path names both lines
    "a: &x {b: 1}\nc: *x\n",              # anchors and aliases
    "a: !!str 1\n",                       # tags
    "a: 1 # comment\n",
    "a:\n\tb: 1\n",
    "a: [1, 2]\n",
    "a: b\n  c: d\n",
    "a: 'x\n",
    "<<: {a: 1}\n",
    "a: >\n  folded\n",
    "? a\n: b\n",
    "1: a\n",                             # a key that is not a string
    "a: \"\\x41\"\n",
    "a: x\u2028  y\nb: 1\n",            # a line break to PyYAML (LS), not to the fast reader
    "a: x\x85y\n",                      # NEL: one PyYAML refuses there
])
def test_fast_reader_gives_up_on_what_it_does_not_know(text):
    assert fast_load_documents(text) is None


@pytest.mark.parametrize("text", [
    "a: yes\nb: No\nc: ~\nd: 0x1F\ne: 1_000\nf: 1.5e3\ng: .inf\nh: 2026-01-02\n"
    "i: 2026-01-02T03:04:05Z\nj: '08'\nk: \"t\\u00e9\\n\"\nl: -x\nm: a:b\n",
    "a: |\n  line 1\n\n  line 3\nb: |-\n  x\n  y\n",
    "a:\n- 1\n- b: 2\n  c: [ ]\n- {}\n-\n",
    "# comment\n---\na: 1\n---\nb: long plain\n  folded\n\n  text\n",
    "items:\n- kind: Pod\n  metadata:\n    name: p\n",
])
def test_fast_reader_matches_on_scalars_and_blocks(text):
    fast = fast_load_documents(text)
    assert fast is None or fast == _careful(text)


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}', '{"a": {"b": ":", "b": 1}}', '[{"x": "a:b"}, {"x": 1, "y": 2, "x": 3}]',
    '{"k": "\\u003a", "k": "\\u003A"}', '{"a" : 1, "a" : 2, "b" : 3}',
])
def test_json_duplicates_are_refused_with_their_line(text):
    with pytest.raises(YamlInputError, match="duplicate key"):
        load_json(text)


def test_fast_json_returns_what_the_json_module_returns(generated_yaml):
    data = yaml.safe_load(generated_yaml)
    for text in (json.dumps(data, indent=4), json.dumps(data), '{"a": NaN, "b": 1e400}',
                 '{"n": 123456789012345678901234567890, "s": "\\ud800 \\u003a"}',
                 '[1.5, -0.0, 1E-7, "k:{\\"name\\":\\"x\\"}", {"\\\\": ":"}]'):
        expected = json.loads(text)
        got = load_json(text)
        assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert yamlio._fast_json(json.dumps(data)) is not yamlio._NO_FAST_JSON


_POD_LIST = """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    labels:
      app: web
    managedFields:
    - apiVersion: v1
      fieldsV1:
        f:metadata:
          f:labels:
            .: {}
            f:app: {}
      manager: kubectl
    name: web-1
    namespace: shop
  spec:
    containers:
    - env:
      - name: SCRIPT
        value: |
          - not an item
          name: not a key
            deeper: still text
      image: web:1
      name: web
      ports:
      - containerPort: 8080
    volumes:
    - name: config
      configMap:
        name: web-config
  status:
    phase: Running
    podIP: 10.0.0.7
    conditions:
    - status: 'True'
      type: Ready
"""


def _both_paths(text, monkeypatch):
    """The pruned snapshot read by the fast path and by the strict one (or each refusal)."""
    def outcome():
        try:
            return load_snapshot(text, engine_fields_only=True).objects()
        except SnapshotError as refused:
            return f"refused: {refused}"

    fast = outcome()
    with monkeypatch.context() as patched:
        patched.setattr(snapshot_module, "fast_load_documents", lambda *a, **k: None)
        strict = outcome()
    return fast, strict


def _pruned_strict(text):
    return [prune_unread(obj) for obj in load_snapshot(text).objects()]


@pytest.mark.parametrize("text", [
    _POD_LIST,
    _POD_LIST.rstrip("\n"),   # a block not read is the last thing, no newline after it
    _POD_LIST + "---\napiVersion: v1\nkind: List\nitems: []\n",
    _POD_LIST + "---\n",
], ids=["pod", "no-final-newline", "document-after", "separator-last"])
def test_blocks_left_unread_end_where_yaml_ends_them(text, monkeypatch):
    fast, strict = _both_paths(text, monkeypatch)
    assert fast == strict == _pruned_strict(text)
    assert fast_load_documents(text, snapshot_module._skip_tree) is not None
    pod = fast[0]
    assert pod["status"]["podIP"] == "10.0.0.7" and "volumes" not in pod["spec"]
    assert pod["spec"]["containers"][0] == {"image": "web:1", "name": "web",
                                            "ports": [{"containerPort": 8080}]}


@pytest.mark.parametrize("text", [
    # a comment at column 0 inside blocks that are not read
    _POD_LIST.replace("            .: {}\n", "# owned by kubectl\n            .: {}\n")
    .replace("      type: Ready\n", "# ready\n      type: Ready\n"),
    _POD_LIST.replace("\n", "\r\n"),
    _POD_LIST.replace("      manager: kubectl\n", "      manager: kubectl\n      manager: x\n"),
    _POD_LIST.replace("        name: web-config\n", "        name: web-config\n\tx: 1\n"),
    _POD_LIST.replace("        name: web-config\n", "        name: [web-config\n"),
    _POD_LIST.replace("        name: web-config\n", "        name: >\n          folded\n"),
    _POD_LIST.replace("        name: web-config\n", "        name: 'web\n  config'\n"),
    _POD_LIST.replace("        name: web-config\n", "        name: web-config\n  x: 1\n"),
])
def test_unusual_yaml_in_blocks_left_unread_reads_as_the_strict_reader_reads_it(
        text, monkeypatch):
    fast, strict = _both_paths(text, monkeypatch)
    assert fast == strict
    if not isinstance(strict, str):
        assert fast == _pruned_strict(text)


def _pod_with_fields(name, *element_keys):
    keys = "".join(f"              {key}:\n                .: {{}}\n" for key in element_keys)
    return (f"- apiVersion: v1\n  kind: Pod\n  metadata:\n    annotations:\n"
            f"      note: a long note that kubectl folds\n        over two lines\n"
            f"    managedFields:\n    - apiVersion: v1\n      fieldsV1:\n        f:spec:\n"
            f"          f:containers:\n            k:{{\"name\":\"web\"}}:\n"
            f"              .: {{}}\n{keys}"
            f"          f:volumes:\n            k:{{\"name\":\"web\"}}:\n              .: {{}}\n"
            f"      manager: kubectl\n      time: '2026-01-0{len(name)}T00:00:00Z'\n"
            f"    name: {name}\n    namespace: shop\n  status:\n    podIP: 10.0.0.{len(name)}\n")


@pytest.mark.parametrize("second", [
    ('k:{"name":"c"}', 'k:{"name":"d"}'),
    ('k:{"name":"c"}', 'k:{"name":"c"}'),   # a duplicate key in a block shaped as the first
])
def test_managed_fields_shaped_alike_are_each_checked_for_duplicate_keys(second, monkeypatch):
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            + _pod_with_fields("a", 'k:{"name":"a"}', 'k:{"name":"b"}')
            + _pod_with_fields("bb", *second))
    fast, strict = _both_paths(text, monkeypatch)
    assert fast == strict
    read_fast = fast_load_documents(text, snapshot_module._skip_tree)
    assert (read_fast is None) == (second[0] == second[1])
    if second[0] == second[1]:
        assert "duplicate key" in strict
    else:
        assert [pod["metadata"] for pod in fast] == [
            {"name": "a", "namespace": "shop"}, {"name": "bb", "namespace": "shop"}]


def test_an_element_key_written_again_with_a_value_is_a_duplicate(monkeypatch):
    def pod(name, other):
        return (f"- apiVersion: v1\n  kind: Pod\n  metadata:\n    managedFields:\n"
                f"    - fieldsV1:\n        f:status:\n          k:{{\"x\"}}: {len(name)}\n"
                f"          {other}: {{}}\n      manager: kubelet\n    name: {name}\n")

    text = ("apiVersion: v1\nkind: List\nitems:\n"
            + pod("a", 'k:{"b"}') + pod("bb", 'k:{"x"}'))
    assert fast_load_documents(text, snapshot_module._skip_tree) is None
    fast, strict = _both_paths(text, monkeypatch)
    assert fast == strict and "duplicate key" in strict
