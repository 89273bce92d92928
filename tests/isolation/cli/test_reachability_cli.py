"""The `reachability` command contract, exercised through `reachability_cli.main`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from isolation import fork
from isolation import snapshot as snapshot_module
from isolation.cli.reachability import main

SNAPSHOT = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  nodeName: node-1
  containers:
  - name: web
    ports: [{containerPort: 80, name: http}, {containerPort: 443}]
status: {phase: Running, podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: tool, namespace: dev, labels: {app: tool}}
spec:
  nodeName: node-2
  containers: [{name: tool, ports: [{containerPort: 8080}]}]
status: {phase: Running, podIP: 10.2.0.1}
---
apiVersion: v1
kind: Node
metadata: {name: node-1}
status: {addresses: [{type: InternalIP, address: 192.168.0.1}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{ipBlock: {cidr: 198.51.100.0/24}}]
    ports: [{port: http}]
"""


@pytest.fixture
def snapshot(tmp_path):
    path = tmp_path / "cluster.yaml"
    path.write_text(SNAPSHOT)
    return str(path)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def write_queries(tmp_path, queries) -> str:
    path = tmp_path / "q.json"
    path.write_text(json.dumps(queries))
    return str(path)


def test_queries_print_results_in_query_order(snapshot, tmp_path):
    queries = write_queries(tmp_path, [
        {"from": "dev/tool", "to": "shop/web", "port": 80},
        {"from": "198.51.100.7", "to": "shop/web", "port": "http", "protocol": "TCP"},
        {"from": "shop/web", "to": "8.8.8.8", "port": 53, "protocol": "udp"},
    ])
    code, output = run("--snapshot", snapshot, "--queries", queries)
    assert code == 0
    results = json.loads(output)["results"]
    assert [(r["from"], r["to"], r["port"], r["protocol"], r["allowed"]) for r in results] == [
        ("dev/tool", "shop/web", 80, "TCP", False),
        ("198.51.100.7", "shop/web", 80, "TCP", True),
        ("shop/web", "8.8.8.8", 53, "UDP", True),
    ]
    assert results[1]["ingress"]["matched"] == [
        {"policy": "shop/web-in", "direction": "ingress", "rule": 0, "peer": 0, "port": 0}]
    assert results[0]["ingress"]["isolated"] is True
    assert results[0]["ingress"]["selecting"] == ["shop/web-in"]
    assert results[2]["ingress"]["applies"] is False


def test_without_queries_every_pod_pair_and_from_ip_is_evaluated(snapshot):
    code, output = run("--snapshot", snapshot, "--from-ip", "192.168.0.1")
    results = json.loads(output)["results"]
    pairs = [(r["from"], r["to"], r["port"], r["allowed"]) for r in results]
    assert code == 0
    assert pairs == [
        ("shop/web", "dev/tool", 8080, True),
        ("dev/tool", "shop/web", 80, False),
        ("dev/tool", "shop/web", 443, False),
        ("192.168.0.1", "shop/web", 80, True),   # the pod's own node
        ("192.168.0.1", "shop/web", 443, True),
        ("192.168.0.1", "dev/tool", 8080, True),
    ]


def test_given_ports_replace_the_declared_ones(snapshot):
    code, output = run("--snapshot", snapshot, "--port", "80", "--port", "53/udp",
                       "--format", "summary")
    assert code == 0
    assert json.loads(output) == {"sources": 2, "destinations": 2, "verdicts": 4,
                                  "allowed": 2, "denied": 2}


def test_summary_of_the_declared_ports(snapshot):
    code, output = run("--snapshot", snapshot, "--from-ip", "203.0.113.1", "--format", "summary")
    assert json.loads(output) == {"sources": 3, "destinations": 2, "verdicts": 6,
                                  "allowed": 2, "denied": 4}


def test_table_format_draws_a_matrix(snapshot):
    code, output = run("--snapshot", snapshot, "--format", "table")
    assert code == 0
    assert "2 sources x 2 destinations, 3 verdicts, 1 allowed, 2 denied" in output
    lines = output.splitlines()
    assert any(line.split() == ["shop/web", "-", "all"] for line in lines)
    assert any(line.split() == ["dev/tool", "none", "-"] for line in lines)
    assert "[1] shop/web (80/TCP, 443/TCP)" in lines


def test_table_format_for_queries(snapshot, tmp_path):
    queries = write_queries(tmp_path, [{"from": "dev/tool", "to": "shop/web", "port": 443}])
    code, output = run("--snapshot", snapshot, "--queries", queries, "--format", "table")
    assert code == 0
    assert "DENIED" in output and "Ingress to shop/web is isolated by shop/web-in" in output


def test_a_kubectl_list_is_accepted(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("""\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: a}}
- apiVersion: v1
  kind: Pod
  metadata: {name: p, namespace: a}
  spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
  status: {podIP: 10.0.0.1}
- apiVersion: v1
  kind: Pod
  metadata: {name: q, namespace: a}
  spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
  status: {podIP: 10.0.0.2}
""")
    code, output = run("--snapshot", str(path), "--format", "summary")
    assert code == 0 and json.loads(output)["allowed"] == 2


BAD_POLICY = SNAPSHOT + """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: broken, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: 70000
"""


@pytest.mark.parametrize(("files", "argv", "message"), [
    ({}, ["--snapshot", "{tmp}/missing.yaml"], "cannot read"),
    ({"c.yaml": "kind: [unclosed"}, ["--snapshot", "{tmp}/c.yaml"], "YAML syntax error"),
    ({"c.yaml": BAD_POLICY}, ["--snapshot", "{tmp}/c.yaml"],
     "document 7, line 48: NetworkPolicy shop/broken: spec.ingress[0].ports[0].port: "
     "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    ({"c.yaml": "kind: Pod\nmetadata: {name: x}\nspec: {containers: [{ports: [{containerPort: 0}]}]}"},
     ["--snapshot", "{tmp}/c.yaml"], "containerPort must be a port number"),
    ({"c.yaml": SNAPSHOT, "q.json": "[{\"from\": \"dev/nope\", \"to\": \"shop/web\", \"port\": 80}]"},
     ["--snapshot", "{tmp}/c.yaml", "--queries", "{tmp}/q.json"],
     "query 1: there is no pod dev/nope in the snapshot"),
    ({"c.yaml": SNAPSHOT, "q.json": "{not json"},
     ["--snapshot", "{tmp}/c.yaml", "--queries", "{tmp}/q.json"], "not valid JSON"),
    ({"c.yaml": SNAPSHOT, "q.json": "[{\"from\": \"dev/tool\", \"to\": \"shop/web\"}]"},
     ["--snapshot", "{tmp}/c.yaml", "--queries", "{tmp}/q.json"], '"port" must be'),
    ({"c.yaml": SNAPSHOT, "q.json": "[{\"from\": \"dev/tool\", \"to\": \"shop/web\", \"port\": 80, \"protocol\": \"ICMP\"}]"},
     ["--snapshot", "{tmp}/c.yaml", "--queries", "{tmp}/q.json"], '"protocol" must be'),
    ({"c.yaml": SNAPSHOT, "q.json": "[{\"from\": \"dev/tool\", \"to\": \"shop/web\", \"port\": \"grpc\"}]"},
     ["--snapshot", "{tmp}/c.yaml", "--queries", "{tmp}/q.json"], "no TCP port named 'grpc'"),
    ({"c.yaml": SNAPSHOT}, ["--snapshot", "{tmp}/c.yaml", "--port", "http"], "--port 'http'"),
    ({"c.yaml": SNAPSHOT}, ["--snapshot", "{tmp}/c.yaml", "--from-ip", "10.0.0.300"],
     "--from-ip '10.0.0.300' is not an IP address"),
])
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, files, argv, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    code, output = run(*[arg.replace("{tmp}", str(tmp_path)) for arg in argv])
    error = capsys.readouterr().err
    assert code == 2
    assert output == ""
    assert message in error
    assert "Traceback" not in error


def test_unknown_options_exit_2(capsys):
    assert run("--snapshot", "x", "--format", "xml")[0] == 2
    assert "invalid choice" in capsys.readouterr().err


CALICO_POLICY = """\
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {selector: all(), types: [Ingress]}
"""


def test_a_calico_policy_is_evaluated_as_calico_not_misread_and_other_kinds_are_named(
        tmp_path, capsys):
    network_set = ("---\napiVersion: projectcalico.org/v3\nkind: NetworkSet\n"
                   "metadata: {name: partners, namespace: shop}\nspec: {nets: [192.0.2.0/24]}\n")
    path = tmp_path / "c.yaml"
    path.write_text(SNAPSHOT + CALICO_POLICY + network_set)
    queries = tmp_path / "q.json"
    queries.write_text(json.dumps([{"from": "dev/tool", "to": "shop/web", "port": 80}]))
    code, output = run("--snapshot", str(path), "--queries", str(queries))
    error = capsys.readouterr().err
    assert code == 0
    assert "ignored 1 object(s)" in error
    assert "projectcalico.org/v3 NetworkSet shop/partners" in error
    # evaluated as Calico's: with the Kubernetes policy web-in in the default tier, which
    # ends in a deny; the decision names the tier's first selecting policy, the reason both
    result = json.loads(output)["results"][0]
    assert result["allowed"] is False
    assert result["ingress"]["decided_by"]["policy"] == "shop/web-in"
    assert ("denied at the end of Calico tier default: NetworkPolicy shop/web-in, "
            "Calico NetworkPolicy shop/deny-all select the pod") in result["ingress"]["reason"]


@pytest.mark.parametrize(("data", "message"), [
    ((SNAPSHOT + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: dev}\n").encode(),
     "v1 Namespace dev appears twice: first at document 2, again at document 7"),
    (SNAPSHOT.encode().replace(b"name: tool", b"name: t\xf6ol"), "not valid UTF-8 at byte"),
    (SNAPSHOT.replace("labels: {app: web}", "labels: {app: web, app: db}").encode(),
     'duplicate key "app"'),
    (SNAPSHOT.replace("name: tool,", "name: 2024-01-01,").encode(),
     "YAML read 2024-01-01 as a date: quote it"),
])
def test_unusable_snapshots_exit_2_naming_the_problem(tmp_path, capsys, data, message):
    path = tmp_path / "c.yaml"
    path.write_bytes(data)
    code, output = run("--snapshot", str(path))
    error = capsys.readouterr().err
    assert (code, output) == (2, "")
    assert message in error and "Traceback" not in error


def test_a_utf16_snapshot_with_a_byte_order_mark_is_read(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_bytes(SNAPSHOT.encode("utf-16"))
    assert run("--snapshot", str(path), "--format", "summary")[0] == 0


def test_queries_with_a_duplicate_key_exit_2(snapshot, tmp_path, capsys):
    path = tmp_path / "q.json"
    path.write_text('[{"from": "dev/tool", "to": "shop/web",\n  "port": 80, "port": 443}]')
    assert run("--snapshot", snapshot, "--queries", str(path))[0] == 2
    assert 'line 2, column 15: duplicate key "port"' in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_snapshot_read_by_two_processes_gives_the_same_matrix(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(snapshot_module, "can_fork", lambda: True)   # one core or many
    demo = yaml.safe_load((Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml")
                          .read_text())
    path = tmp_path / f"demo.{fmt}"
    path.write_text(json.dumps(demo, indent=4) if fmt == "json"
                    else yaml.safe_dump(demo, sort_keys=True))

    def matrix():
        out = io.StringIO()
        assert main(["--snapshot", str(path), "--format", "json"], stdout=out) == 0
        return out.getvalue()

    alone = matrix()
    for fork_bytes, head_start in (("FORK_BYTES", "PARENT_HEAD_START_BYTES"),
                                   ("JSON_FORK_BYTES", "JSON_PARENT_HEAD_START_BYTES")):
        monkeypatch.setattr(snapshot_module, fork_bytes, 1)
        monkeypatch.setattr(snapshot_module, head_start, -path.stat().st_size // 2)
    children = []

    def in_child(work, meanwhile):
        result = fork.in_child(work, meanwhile)
        children.append(result[0])
        return result

    monkeypatch.setattr(snapshot_module, "in_child", in_child)
    assert matrix() == alone
    assert len(children) == 1 and children[0] not in (fork.FAILED, None)


def test_a_file_over_the_input_limit_is_refused_naming_its_size_and_the_flag(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    path.write_text(SNAPSHOT + "\n" + "#" * (1 << 20) + "\n")
    code, output = run("--snapshot", str(path), "--format", "summary", "--max-input-mb", "1")
    assert code == 2 and output == ""
    error = capsys.readouterr().err
    assert f"the file is {path.stat().st_size:,} bytes" in error
    assert "limit of 1,048,576 bytes (--max-input-mb 1)" in error


def test_a_larger_input_limit_reads_the_same_file(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(SNAPSHOT + "\n" + "#" * (1 << 20) + "\n")
    code, output = run("--snapshot", str(path), "--format", "summary", "--max-input-mb", "2")
    assert code == 0
    assert output == run("--snapshot", str(tmp_path / "big.yaml"), "--format", "summary")[1]


@pytest.mark.parametrize("value", ["0", "-3", "1.5", "lots"])
def test_the_input_limit_is_a_whole_number_of_mib(snapshot, value, capsys):
    code, _ = run("--snapshot", snapshot, "--max-input-mb", value)
    assert code == 2
    assert "--max-input-mb" in capsys.readouterr().err
