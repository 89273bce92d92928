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
    ("a: &x [1, *x]\n", "recursive alias"),
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


# -- item 8: apiVersion and kind, duplicates, names YAML read as something else ----------------

MIXED = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {selector: all(), types: [Ingress]}
---
apiVersion: k8sV1
kind: NetworkPolicy
metadata: {name: odd, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: real, namespace: shop}
spec: {podSelector: {}}
"""


def test_objects_of_other_api_versions_are_ignored_with_a_warning_not_misread():
    snapshot = load_snapshot(MIXED)
    assert [p["metadata"]["name"] for p in snapshot.network_policies] == ["real"]
    # a Calico NetworkPolicy is read as one, never as a Kubernetes NetworkPolicy
    assert [p["metadata"]["name"] for p in snapshot.calico_network_policies] == ["deny-all"]
    assert snapshot.ignored == [
        "k8sV1 NetworkPolicy shop/odd",
        "v1 ConfigMap shop/settings",
    ]
    assert snapshot.with_network_policies([]).ignored == snapshot.ignored


def test_objects_of_other_api_versions_are_refused_when_asked():
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(MIXED, allow_unknown_kinds=False)
    assert str(caught.value) == ("document 3: apiVersion 'k8sV1' is not served for kind "
                                 "NetworkPolicy (supported: networking.k8s.io/v1, "
                                 "projectcalico.org/v3, crd.projectcalico.org/v1)")


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop}\n---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop}\n",
    '{"kind": "List", "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}, '
    '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}]}',
])
def test_the_same_object_twice_is_refused_naming_both_positions(text):
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(text)
    message = str(caught.value)
    assert "appears twice" in message
    assert ("first at document 1, again at document 2" in message
            or "first at document 1, item 0, again at document 1, item 1" in message)


def test_same_names_in_other_namespaces_or_kinds_are_not_duplicates():
    text = ("kind: Pod\nmetadata: {name: a, namespace: shop}\n---\n"
            "kind: Pod\nmetadata: {name: a, namespace: dev}\n---\n"
            "kind: Service\nmetadata: {name: a, namespace: shop}\n")
    assert len(load_snapshot(text).objects()) == 3


@pytest.mark.parametrize(("name", "message"), [
    ("2024-01-01", "metadata.name of the Pod must be a string; YAML read 2024-01-01 as a date: "
                   "quote it"),
    ("2024-01-01 10:00:00", "YAML read 2024-01-01T10:00:00 as a date and time: quote it"),
    ("yes", "YAML read true as a boolean: quote it"),
    ("1.5", "YAML read 1.5 as a number: quote it"),
])
def test_a_name_yaml_reads_as_another_type_is_named_as_such(name, message):
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n")
    assert message in str(caught.value)
    assert "has no metadata.name" not in str(caught.value)


# -- items 1, 2, 9 through snapshots -------------------------------------------------------------

def test_a_json_snapshot_with_duplicate_keys_is_refused_with_the_line():
    text = '{"apiVersion": "v1", "kind": "Namespace",\n "metadata": {"name": "a",\n "name": "b"}}'
    with pytest.raises(SnapshotError, match='line 3, column 2: duplicate key "name"'):
        load_snapshot(text)


def test_a_snapshot_with_invalid_utf8_is_refused():
    with pytest.raises(SnapshotError, match="not valid UTF-8 at byte"):
        load_snapshot(b"kind: Namespace\nmetadata: {name: \xff}\n")


def test_a_utf16_snapshot_with_a_byte_order_mark_loads():
    text = DEMO.read_text()
    assert load_snapshot(text.encode("utf-16")).objects() == load_snapshot(text).objects()
    as_json = json.dumps(yaml.safe_load(text))
    assert (load_snapshot(b"\xef\xbb\xbf" + as_json.encode()).objects()
            == load_snapshot(text).objects())


CALICO_KINDS = """\
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: platform}
spec: {order: 100}
---
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata: {name: platform.no-metadata}
spec: {tier: platform, selector: all(), egress: [{action: Deny}]}
---
apiVersion: crd.projectcalico.org/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {selector: all()}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node-1-eth0}
spec: {node: node-1, interfaceName: eth0}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: partners}
spec: {nets: [192.0.2.0/24]}
---
apiVersion: crd.projectcalico.org/v1
kind: NetworkSet
metadata: {name: office, namespace: shop}
spec: {nets: [198.51.100.0/24]}
"""


def test_calico_kinds_of_both_api_groups_are_read_and_network_sets_listed_as_not_evaluated():
    snapshot = load_snapshot(CALICO_KINDS)
    assert [t["metadata"]["name"] for t in snapshot.calico_tiers] == ["platform"]
    assert [p["metadata"]["name"] for p in snapshot.calico_global_network_policies] == [
        "platform.no-metadata"]
    assert [p["metadata"]["name"] for p in snapshot.calico_network_policies] == ["deny-all"]
    assert [h["metadata"]["name"] for h in snapshot.calico_host_endpoints] == ["node-1-eth0"]
    assert snapshot.network_policies == []
    assert snapshot.ignored == ["projectcalico.org/v3 GlobalNetworkSet partners",
                                "crd.projectcalico.org/v1 NetworkSet shop/office"]


def test_the_same_name_in_both_groups_is_two_objects_not_a_duplicate():
    text = MIXED + "---\n" + MIXED.split("---\n")[1].replace(
        "projectcalico.org/v3", "crd.projectcalico.org/v1")
    assert [p["apiVersion"] for p in load_snapshot(text).calico_network_policies] == [
        "projectcalico.org/v3", "crd.projectcalico.org/v1"]
