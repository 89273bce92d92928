"""`reachability --expect` / `--expect-from-snapshot` / `--proposed` / `--delete`: the CI contract."""

from __future__ import annotations

import io
import json

import pytest

from isolation.cli.reachability import main

SNAPSHOT = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: billing}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: web, ports: [{containerPort: 80}]}]}
status: {phase: Running, podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: ledger, namespace: billing, labels: {app: ledger}}
spec: {nodeName: node-1, containers: [{name: db, ports: [{containerPort: 5432, name: postgres}]}]}
status: {phase: Running, podIP: 10.2.0.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ledger-from-shop, namespace: billing}
spec:
  podSelector: {matchLabels: {app: ledger}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]
    ports: [{port: 5432}]
---
apiVersion: isolation.tenant-console.io/v1alpha1
kind: ConnectivityExpectation
metadata: {name: shop-reaches-ledger, namespace: shop}
spec:
  from: {namespace: shop}
  to: {namespace: billing, podSelector: {matchLabels: {app: ledger}}}
  ports: [{port: 5432, protocol: TCP}]
  expect: Allowed
"""

EXPECT_OK = """\
apiVersion: isolation.tenant-console.io/v1alpha1
kind: ConnectivityExpectation
metadata: {name: shop-reaches-ledger, namespace: shop}
spec:
  from: {namespace: shop}
  to: {namespace: billing, podSelector: {matchLabels: {app: ledger}}}
  ports: [{port: 5432, protocol: TCP}]
  expect: Allowed
---
apiVersion: isolation.tenant-console.io/v1alpha1
kind: ClusterConnectivityExpectation
metadata: {name: no-metadata-from-billing}
spec:
  from: {namespace: billing}
  to: {cidr: 169.254.169.254/32}
  ports: [{port: 80}]
  expect: Allowed
"""

EXPECT_VIOLATED = """\
apiVersion: isolation.tenant-console.io/v1alpha1
kind: ClusterConnectivityExpectation
metadata: {name: shop-cannot-reach-billing}
spec:
  from: {namespace: shop}
  to: {namespace: billing}
  expect: Denied
"""


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    write("cluster.yaml", SNAPSHOT)
    return write


def run(*argv):
    out = io.StringIO()
    return main(list(argv), stdout=out), out.getvalue()


def test_all_hold_exits_0_with_the_json_shape(files):
    code, out = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--expect",
                    files("e.yaml", EXPECT_OK), "--format", "json")
    assert code == 0
    data = json.loads(out)
    first = data["expectations"][0]
    assert first["name"] == "shop/shop-reaches-ledger"
    assert {"name", "holds", "pairs", "violations", "violation_count"} <= set(first)
    assert (first["holds"], first["pairs"], first["violations"]) == (True, 1, [])
    assert data["expectations"][1]["name"] == "no-metadata-from-billing"


def test_a_violated_expectation_exits_1_with_the_deciding_rule(files, capsys):
    code, out = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--expect",
                    files("e.yaml", EXPECT_VIOLATED))
    assert code == 1
    [result] = json.loads(out)["expectations"]
    assert (result["holds"], result["violation_count"]) == (False, 1)
    violation = result["violations"][0]
    assert (violation["from"], violation["to"], violation["port"], violation["protocol"]) == (
        "shop/web", "billing/ledger", 5432, "TCP")
    assert "billing/ledger-from-shop ingress rule 0" in violation["reason"]


def test_table_format(files):
    code, out = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--expect",
                    files("e.yaml", EXPECT_VIOLATED), "--format", "table")
    assert code == 1
    assert "shop-cannot-reach-billing" in out and "VIOLATED" in out
    assert "0 of 1 expectation holds." in out


def test_expectations_taken_from_the_snapshot(files):
    code, out = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--expect-from-snapshot")
    assert code == 0
    assert [r["name"] for r in json.loads(out)["expectations"]] == ["shop/shop-reaches-ledger"]


@pytest.mark.parametrize(("text", "message"), [
    (EXPECT_OK.replace("expect: Allowed\n---", "expect: Sometimes\n---"),
     "document 1, line 8: ConnectivityExpectation shop/shop-reaches-ledger: spec.expect"),
    (EXPECT_OK.replace("cidr: 169.254.169.254/32", "cidr: nope"), "document 2, line 15: ClusterConnectivityExpectation no-metadata-from-billing: spec.to.cidr"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "expected a ConnectivityExpectation"),
    ("kind: [unclosed", "e.yaml"),
])
def test_invalid_input_exits_2_naming_document_and_field(files, capsys, text, message):
    code, out = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--expect", files("e.yaml", text))
    assert code == 2 and out == ""
    assert message in capsys.readouterr().err


def test_a_missing_file_exits_2(files, capsys):
    code, _ = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--expect", "/nonexistent.yaml")
    assert code == 2
    assert "cannot read /nonexistent.yaml" in capsys.readouterr().err


def test_a_proposed_policy_that_breaks_an_expectation_exits_1(files, tmp_path):
    proposed = tmp_path / "proposed"
    proposed.mkdir()
    (proposed / "deny.yaml").write_text("""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ledger-from-shop, namespace: billing}
spec:
  podSelector: {matchLabels: {app: ledger}}
  ingress: []
""")
    code, out = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--proposed", str(proposed))
    assert code == 1
    data = json.loads(out)
    assert data["newly_violated"] == ["shop/shop-reaches-ledger"]
    assert data["reachability"]["blocked"] == 1
    assert data["expectations"][0]["holds"] is False


def test_deleting_by_list_item_or_flag(files, tmp_path):
    listing = files("delete.yaml", """\
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: ledger-from-shop, namespace: billing}
  $patch: delete
""")
    code, out = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--proposed", listing)
    data = json.loads(out)
    # deleting the only policy opens the ledger: nothing newly violated, a reachability delta
    assert code == 0 and data["newly_violated"] == []
    assert data["reachability"]["allowed"] > 0
    code, out = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--delete",
                    "billing/ledger-from-shop", "--expect", files("e.yaml", EXPECT_VIOLATED))
    # already violated before: not newly violated by the change
    assert code == 0 and json.loads(out)["newly_violated"] == []


def test_bad_proposals_exit_2(files, capsys):
    snapshot = files("cluster.yaml", SNAPSHOT)
    assert run("--snapshot", snapshot, "--delete", "billing/nothing")[0] == 2
    assert "no NetworkPolicy or NamespaceNetworkPolicy billing/nothing" in capsys.readouterr().err
    bad = files("bad.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                            "metadata: {name: x, namespace: billing}\n"
                            "spec: {podSelector: {}, policyTypes: [Sideways]}\n")
    assert run("--snapshot", snapshot, "--proposed", bad)[0] == 2
    assert "document 1: NetworkPolicy billing/x: spec.policyTypes" in capsys.readouterr().err
    pod = files("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")
    assert run("--snapshot", snapshot, "--proposed", pod)[0] == 2
    assert "kind 'Pod' cannot be proposed" in capsys.readouterr().err


def test_expect_cannot_be_combined_with_queries(files, capsys):
    code, _ = run("--snapshot", files("cluster.yaml", SNAPSHOT), "--expect-from-snapshot",
                  "--port", "80")
    assert code == 2
