"""The `compile_isolation` command-line contract."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from isolation.cli import compile
from isolation.compiler.generate import IsolationSettings, desired_policies
from isolation.snapshot import load_snapshot
from tests.golden.scenarios import (
    GOLDEN_DIR,
    add_entry,
    cluster,
    isolate_project,
    isolate_workspace,
    ns_peer,
    svc_peer,
)


def _snapshot_file(tmp_path, snapshot, name="snapshot.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(snapshot.objects(), sort_keys=False))
    return str(path)


def _isolated():
    snapshot = isolate_project(isolate_workspace(cluster(), "team-a"), "shop")
    add_entry(snapshot, "shop", "to-api", egress=[{"to": [svc_peer("billing", "api")]}])
    return add_entry(snapshot, "shop", "broken", ingress=[{"from": [ns_peer("web")]}])


def _run(capsys, *argv):
    code = compile.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_it_prints_the_generated_policies_as_multi_document_yaml(tmp_path, capsys):
    snapshot = _isolated()
    code, out, err = _run(capsys, "--snapshot", _snapshot_file(tmp_path, snapshot))
    assert code == 0
    expected = desired_policies(snapshot, IsolationSettings(detect_ingress_namespaces=False))
    assert list(yaml.safe_load_all(out)) == expected.policies
    assert out.startswith("---\n")
    assert "warning: shop/broken: spec.ingress[0].from[0].namespace.name" in err


def test_only_the_flags_add_always_allowed_namespaces(tmp_path, capsys):
    path = _snapshot_file(tmp_path, isolate_workspace(cluster(), "team-a"))

    def allowed(*flags):
        code, out, _ = _run(capsys, "--snapshot", path, *flags)
        assert code == 0
        first = next(yaml.safe_load_all(out))
        return [peer["namespaceSelector"]["matchLabels"].get("kubernetes.io/metadata.name")
                for peer in first["spec"]["ingress"][0]["from"][1:]]

    assert allowed() == []
    assert allowed("--detect-ingress-namespaces") == ["ingress-nginx"]
    assert allowed("--allowed-ingress-namespace", "monitoring", "--allowed-ingress-namespace",
                   "kube-system") == ["kube-system", "monitoring"]


def test_json_output_is_a_kubernetes_list(tmp_path, capsys):
    code, out, _ = _run(capsys, "--snapshot", _snapshot_file(tmp_path, _isolated()),
                        "--format", "json")
    assert code == 0
    listing = json.loads(out)
    assert listing["kind"] == "List" and listing["apiVersion"] == "v1"
    assert [p["metadata"]["name"] for p in listing["items"]] == [
        "nsnp-network-isolate", "nsnp-network-isolate", "nsnp-network-isolate", "nsnp-to-api"]


def test_a_snapshot_without_isolation_prints_nothing(tmp_path, capsys):
    code, out, err = _run(capsys, "--snapshot", _snapshot_file(tmp_path, cluster()))
    assert (code, out, err) == (0, "", "")


def test_a_kubectl_list_is_accepted(tmp_path, capsys):
    path = tmp_path / "list.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List",
                                    "items": isolate_project(cluster(), "shop").objects()}))
    code, out, _ = _run(capsys, "--snapshot", str(path))
    assert code == 0 and "namespace: shop" in out


def test_the_snapshot_can_come_from_stdin(capsys, monkeypatch):
    text = (GOLDEN_DIR / "cluster.yaml").read_text().replace(
        "labels: {kubesphere.io/workspace: team-b, kubesphere.io/namespace: web}",
        "labels: {kubesphere.io/workspace: team-b, kubesphere.io/namespace: web}\n"
        "  annotations: {kubesphere.io/network-isolate: enabled}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    code, out, _ = _run(capsys, "--snapshot", "-")
    assert code == 0 and "namespace: web" in out


def test_the_kubesphere_engine_mode_prints_kubesphere_shapes(tmp_path, capsys):
    code, out, _ = _run(capsys, "--snapshot", _snapshot_file(tmp_path, _isolated()),
                        "--engine-mode", "kubesphere")
    assert code == 0
    assert "kubesphere.io/namespace: shop" in out and "managed-by" not in out


BAD_INPUT = [
    ("missing-file", None, "cannot read"),
    ("syntax", "kind: Namespace\nmetadata: {name: [unclosed\n", "line"),
    ("no-name", "apiVersion: v1\nkind: Namespace\nmetadata: {}\n", "document 1"),
    ("labels-not-a-map", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  namespace: a\n  labels: [x]\n",
     "document 2, line 10: Pod a/b: metadata.labels: must be a mapping"),
    ("label-value-not-text", "kind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n"
     "  metadata:\n    name: a\n    annotations:\n      kubesphere.io/network-isolate: 1\n",
     "document 1, line 8: Namespace a: metadata.annotations.kubesphere.io/network-isolate"),
    ("namespace-labels-not-a-map", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n"
     "  labels: [x]\n", "metadata.labels of Namespace 'b' must be a mapping"),
    ("alias-bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for n, p in zip("bcdefg", "abcdef", strict=True)),
     "alias bomb"),
    ("duplicate-key", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  name: b\n",
     'line 5, column 3: duplicate key "name" (first at line 4)'),
    ("duplicate-object", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
     "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
     "v1 Namespace a appears twice: first at document 1, again at document 2"),
    ("date-name", "apiVersion: v1\nkind: Namespace\nmetadata: {name: 2024-01-01}\n",
     "metadata.name of the Namespace must be a string; YAML read 2024-01-01 as a date: quote it"),
    ("workspace-spec", "apiVersion: tenant.kubesphere.io/v1alpha1\nkind: Workspace\n"
     "metadata: {name: w}\nspec: on\n", "Workspace w: spec: must be a mapping"),
]


@pytest.mark.parametrize("case, text, message", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path, capsys, case, text,
                                                            message):
    path = tmp_path / "in.yaml"
    if text is not None:
        path.write_text(text)
    code, out, err = _run(capsys, "--snapshot", str(path), "--detect-ingress-namespaces")
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("flags, message", [
    (["--allowed-ingress-namespace", "Not_A_Namespace"], "not a valid namespace name"),
    (["--snat-cidr", "300.1.1.1"], "not an IP address"),
    (["--format", "xml"], "invalid choice"),
    ([], "required"),
])
def test_bad_flags_exit_2(tmp_path, capsys, flags, message):
    argv = ["--snapshot", _snapshot_file(tmp_path, cluster())] if flags else []
    code, _, err = _run(capsys, *argv, *flags)
    assert code == 2
    assert message in err


def test_snat_flag_adds_the_node_rule(tmp_path, capsys):
    code, out, _ = _run(capsys, "--snapshot", _snapshot_file(tmp_path, _isolated()),
                        "--snat-cidr", "192.168.0.11")
    assert code == 0 and "cidr: 192.168.0.11/32" in out


def test_the_management_command_runs_the_same_contract(tmp_path, capsys):
    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    call_command("compile_isolation", "--snapshot", _snapshot_file(tmp_path, _isolated()),
                 "--format", "json", stdout=out, stderr=err)
    assert len(json.loads(out.getvalue())["items"]) == 4
    assert "shop/broken" in err.getvalue()
    with pytest.raises(SystemExit) as caught:
        call_command("compile_isolation", "--snapshot", str(tmp_path / "missing.yaml"),
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.code == 2


DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"


def test_it_compiles_the_demo_snapshot(capsys):
    code, out, err = _run(capsys, "--snapshot", str(DEMO), "--detect-ingress-namespaces")
    assert code == 0, err
    assert err == ""
    policies = list(yaml.safe_load_all(out))
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in policies]
    assert keys == sorted(keys)
    assert all(p["metadata"]["name"].startswith("nsnp-") for p in policies)
    modes = {ns: mode for ns, mode in desired_policies(
        load_snapshot(DEMO.read_text()), IsolationSettings()).modes.items() if mode != "off"}
    assert "project" in modes.values() and "workspace" in modes.values()
    assert {ns for ns, _ in keys} == set(modes)
    isolated_project = next(ns for ns, mode in modes.items() if mode == "project")
    assert any(ns == isolated_project and name != "nsnp-network-isolate" for ns, name in keys)


def test_invalid_utf8_exits_2_with_the_byte_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "in.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: Namespace\nmetadata: {name: \xff}\n")
    code, out, err = _run(capsys, "--snapshot", str(path))
    assert (code, out) == (2, "")
    assert "not valid UTF-8 at byte 48" in err and "Traceback" not in err


def test_a_utf16_snapshot_is_read_and_ignored_objects_are_warned_about(tmp_path, capsys):
    text = yaml.safe_dump_all(_isolated().objects(), sort_keys=False) + (
        "---\napiVersion: projectcalico.org/v3\nkind: NetworkSet\n"
        "metadata: {name: partners, namespace: shop}\nspec: {nets: [192.0.2.0/24]}\n")
    path = tmp_path / "in.yaml"
    path.write_bytes(text.encode("utf-16"))
    code, out, err = _run(capsys, "--snapshot", str(path))
    assert code == 0
    assert out == _run(capsys, "--snapshot", _snapshot_file(tmp_path, _isolated(), "plain.yaml"))[1]
    assert ("warning: " + str(path) + ": ignored 1 object(s) of kinds the engine does not "
            "evaluate: projectcalico.org/v3 NetworkSet shop/partners") in err
