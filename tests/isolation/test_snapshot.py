import json
from pathlib import Path

import pytest
import yaml

from isolation.snapshot import SnapshotError, load_snapshot

DEMO = Path(__file__).resolve().parents[2] / "kubesim" / "demo.yaml"


def test_a_kubectl_json_snapshot_loads_like_its_yaml():
    text = DEMO.read_text()
    assert load_snapshot(json.dumps(yaml.safe_load(text))).objects() == load_snapshot(text).objects()


def test_namespaces_get_their_name_label():
    snapshot = load_snapshot("kind: Namespace\nmetadata: {name: shop}\n")
    assert snapshot.namespaces[0]["metadata"]["labels"] == {"kubernetes.io/metadata.name": "shop"}


@pytest.mark.parametrize(("text", "message"), [
    ("a: &x [1]\nb: *x\n", "anchors and aliases"),
    ("kind: Namespace\nmetadata: {name: b, labels: [x]}\n", "metadata.labels of Namespace 'b' must be a mapping"),
    ('{"kind": "List", "items": [{"kind": "Pod"}]}', "document 1, item 0: the Pod has no metadata.name"),
    ("kind: Pod\nmetadata: {name: [\n", "YAML syntax error"),
    ("- 1\n- 2\n", "expected a Kubernetes object"),
])
def test_bad_snapshots_name_the_document_and_field(text, message):
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(text)
    assert message in str(caught.value)


def test_unknown_kinds_are_refused_when_asked():
    text = "kind: ConfigMap\nmetadata: {name: c}\n"
    assert load_snapshot(text).objects() == []
    with pytest.raises(SnapshotError, match="kind 'ConfigMap' is not supported"):
        load_snapshot(text, allow_unknown_kinds=False)
