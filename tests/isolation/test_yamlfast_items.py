"""Items of a List written alike are read by a template (`isolation.yamlfast_items`) exactly
as the careful reader reads them; an item that differs in any way it cannot vouch for is read
line by line, so that what the careful reader refuses is refused."""

from __future__ import annotations

import re

import pytest
import yaml

from isolation import snapshot as snapshot_module
from isolation import yamlfast_items, yamlio
from isolation.snapshot import SnapshotError, load_snapshot
from isolation.yamlfast import fast_load_documents
from tests.helpers import kubectl_snapshot_generator


@pytest.fixture(scope="module")
def listed():
    return yaml.dump(kubectl_snapshot_generator().snapshot_list(12), Dumper=getattr(yaml, "CSafeDumper",
                                                                     yaml.SafeDumper),
                     default_flow_style=False, sort_keys=True, width=80)


def _careful(text):
    return [(doc.index, doc.data) for doc in yamlio.composed_documents(text)]


def _outcomes(text):
    def outcome(engine_fields_only):
        try:
            return repr(load_snapshot(text, engine_fields_only=engine_fields_only))
        except SnapshotError as refused:
            return f"refused: {refused}"
    return [outcome(True), outcome(False)]


def _careful_outcomes(text, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(snapshot_module, "fast_load_documents", lambda *a, **k: None)
        patched.setattr(yamlio, "_direct_documents", lambda *a, **k: None)
        return _outcomes(text)


def test_items_written_alike_are_read_by_templates_as_the_careful_reader_reads_them(
        listed, monkeypatch):
    served = []
    read = yamlfast_items.Template.read

    def counted(template, lines):
        item = read(template, lines)
        served.append(item is not None)
        return item

    monkeypatch.setattr(yamlfast_items.Template, "read", counted)
    assert fast_load_documents(listed) == _careful(listed)
    pods = len(re.findall(r"\n  kind: Pod\n", listed))
    assert sum(served) >= pods - 4   # all but the first of each shape
    served.clear()
    fast = fast_load_documents(listed, snapshot_module._skip_tree)
    assert fast is not None and sum(served) >= pods - 4


# (a line of the List's last Pod, what it becomes): values read and values left out, of
# every type YAML may give them, element keys, indents, the kind
EDITS = [
    ("    nodeName: worker-", "    nodeName: 'true' #"),
    ("    nodeName: worker-", "    nodeName: 0x1F\n    x: worker-"),
    ("    phase: Running", "    phase: 'Run''ning'"),
    ("    phase: Running", '    phase: "Running"'),
    ("    phase: Running", "    phase: true"),
    ("    phase: Running", "    phase: 2026-01-02"),
    ("    phase: Running", "    phase: 2026-13-45"),
    ("    phase: Running", "    phase: 0b_"),
    ("    phase: Running", "    phase: null"),
    ("    phase: Running", "    phase: a: b"),
    ("    phase: Running", "    phase: run:"),
    ("    phase: Running", "    phase: 1_000"),
    ("    phase: Running", "    phase: 12:30:00"),
    ("    phase: Running", "    phase: []"),
    ("    phase: Running", "     phase: Running"),
    ("    manager: kubelet", "    manager: kube let"),
    ("    manager: kubelet", "    manager: a: b"),
    ("    manager: kubelet", "    manager: 2026-13-45"),
    ("    manager: kubelet", "    manager: 0x_"),
    ("    manager: kubelet", "    manager: 'x'"),
    ("        value: value-", "        value: 'a: b'\n        valuex: "),
    ("        value: value-", "        value: 0b101\n        valuex: "),
    ('k:{"type":"Ready"}', 'k:{"type":"Initialized"}'),
    ('k:{"type":"Ready"}', 'k:{"type":"Other"}'),
    ('k:{"ip":"10.0.0.1"}', 'k:{"ip":"10.9.9.9"}'),
    ("    uid: ", "    uid: 0b"),
    ("    uid: ", "    uid: 0x"),
    ("    uid: ", "    uid: 2026-01-02 #"),
    ("  kind: Pod", "  kind: Service"),
    ("    podIP: ", "    podIP: 10.0.0.1\n    podIP: "),
]


@pytest.mark.parametrize(("old", "new"), EDITS)
def test_an_item_that_differs_reads_as_the_careful_reader_reads_it(listed, old, new,
                                                                      monkeypatch):
    at = listed.rindex("\n  kind: Pod\n")
    start = listed.rindex("\n- ", 0, at)
    where = listed.index(old, start)
    text = listed[:where] + new + listed[where + len(old):]
    assert _outcomes(text) == _careful_outcomes(text, monkeypatch)
    fast = fast_load_documents(text)
    assert fast is None or fast == _careful(text)


@pytest.mark.parametrize("value", ["a: b", "2026-13-45", "0x_", "'a"])
def test_values_in_blocks_left_out_are_refused_as_the_careful_reader_refuses_them(
        listed, value, monkeypatch):
    text = listed.replace("    manager: kubelet", f"    manager: {value}", 1)
    careful = _careful_outcomes(text, monkeypatch)
    assert careful[0].startswith("refused")
    assert _outcomes(text) == careful
