"""The `traffic_path` command-line contract, through `isolation.cli.traffic.main`."""

from __future__ import annotations

import json

import pytest
import yaml

from isolation.cli.traffic import main
from tests.isolation.paths.test_paths_model import CLIENT, ingress_cluster, isolate, web_cluster


@pytest.fixture
def snapshot_file(tmp_path):
    def write(snapshot, name="snapshot.yaml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump_all(snapshot.objects()))
        return str(path)
    return write


def test_json_output_has_one_path_per_entry_node_and_pod(snapshot_file, capsys):
    path = snapshot_file(web_cluster("NodePort", "Cluster", *isolate("shop", f"{CLIENT}/32"),
                                     placements=("node-1", "node-2")))
    assert main(["--snapshot", path, "--service", "shop/web", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(p["entry_node"], p["target"]) for p in data["paths"]] == [
        (n, t) for n in ("node-1", "node-2", "node-3") for t in ("shop/web-0", "shop/web-1")]
    remote = data["paths"][1]  # enters on node-1, served on node-2
    assert remote == {
        "entry_node": "node-1", "target": "shop/web-1", "target_node": "node-2",
        "hops": ["client 203.0.113.9", "node-1:30080", "SNAT 10.233.64.0 (tunl0)", "IPIP",
                 "pod 10.233.65.11:8080"],
        "app_source": "10.233.64.0", "policy_source": "10.233.64.0", "succeeds": False,
        "reason": remote["reason"],
        "needed_allowlist": [{"cidr": "10.233.64.0/32", "ports": [{"port": 8080, "protocol": "TCP"}]}],
        "legs": [],
    }
    assert remote["reason"].startswith("blocked by shop/nsnp-network-isolate, shop/nsnp-allow")


def test_client_ip_and_cni_options_change_the_sources(snapshot_file, capsys):
    path = snapshot_file(web_cluster("NodePort", "Cluster", vxlan=True))
    assert main(["--snapshot", path, "--service", "shop/web", "--format", "json",
                 "--client-ip", "198.51.100.7", "--cni", "vxlan"]) == 0
    paths = json.loads(capsys.readouterr().out)["paths"]
    assert paths[0]["policy_source"] == "198.51.100.7"  # node-1 hosts the pod
    assert paths[1]["policy_source"] == "10.233.65.1"  # node-2's vxlan.calico


def test_ingress_paths_carry_both_legs(snapshot_file, capsys):
    path = snapshot_file(ingress_cluster(*isolate("shop", namespaces=("ingress",))))
    assert main(["--snapshot", path, "--ingress", "shop/web", "--format", "json"]) == 0
    paths = json.loads(capsys.readouterr().out)["paths"]
    assert all(p["succeeds"] and len(p["legs"]) == 2 for p in paths)
    assert {p["legs"][0]["target"] for p in paths} == {"ingress/nginx-0"}
    assert {p["target"] for p in paths} == {"shop/web-0"}


def test_text_output_names_the_working_nodes_and_the_missing_entries(snapshot_file, capsys):
    path = snapshot_file(web_cluster("NodePort", "Cluster", *isolate("shop", f"{CLIENT}/32")))
    assert main(["--snapshot", path, "--service", "shop/web"]) == 0
    out = capsys.readouterr().out
    assert "Works when it enters on node-1 (the pod is local, the policy sees the client)" in out
    assert "node-2 -> shop/web-0 on node-1: BLOCKED" in out
    assert ("Missing allowlist entries: 10.233.65.0/32 on 8080/TCP; 10.233.66.0/32 on 8080/TCP"
            in out)


def test_svg_option_writes_the_diagram(snapshot_file, tmp_path, capsys):
    path = snapshot_file(web_cluster())
    target = tmp_path / "paths.svg"
    assert main(["--snapshot", path, "--service", "shop/web", "--svg", str(target)]) == 0
    assert target.read_text().startswith("<svg ")


@pytest.mark.parametrize("argv, message", [
    (["--service", "shop/web"], "the following arguments are required: --snapshot"),
    (["--snapshot", "{snap}"], "one of the arguments --service --ingress is required"),
    (["--snapshot", "{snap}", "--service", "web"], "expected NAMESPACE/NAME"),
    (["--snapshot", "{snap}", "--service", "shop/web", "--cni", "flannel"], "invalid choice"),
    (["--snapshot", "{snap}", "--service", "shop/nope"], "Service shop/nope is not in the snapshot"),
    (["--snapshot", "{snap}", "--service", "shop/web", "--client-ip", "x"], "not an IP address"),
    (["--snapshot", "/nonexistent.yaml", "--service", "shop/web"], "cannot read /nonexistent.yaml"),
    (["--snapshot", "{bad}", "--service", "shop/web"], "YAML syntax error"),
    (["--snapshot", "{badpolicy}", "--service", "shop/web"], "must be a valid CIDR"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(argv, message, snapshot_file,
                                                            tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\nmetadata: {name: [unclosed\n")
    broken = web_cluster("NodePort", "Cluster", *isolate("shop", "10.0.0.300/32"))
    names = {"snap": snapshot_file(web_cluster()), "bad": str(bad),
             "badpolicy": snapshot_file(broken, "broken.yaml")}
    assert main([arg.format(**names) for arg in argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_ignored_objects_are_warned_about_and_duplicates_exit_2(snapshot_file, tmp_path, capsys):
    path = snapshot_file(web_cluster())
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("---\napiVersion: projectcalico.org/v3\nkind: NetworkSet\n"
                     "metadata: {name: partners, namespace: shop}\nspec: {nets: [192.0.2.0/24]}\n")
    assert main(["--snapshot", path, "--service", "shop/web"]) == 0
    assert ("ignored 1 object(s) of kinds the engine does not evaluate: "
            "projectcalico.org/v3 NetworkSet shop/partners") in capsys.readouterr().err
    twice = tmp_path / "twice.yaml"
    twice.write_text(yaml.safe_dump_all(web_cluster().objects() * 2))
    assert main(["--snapshot", str(twice), "--service", "shop/web"]) == 2
    assert "appears twice: first at document 1, again at document" in capsys.readouterr().err
