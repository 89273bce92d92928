"""The traffic-path model and command on the demo cluster's snapshot (kubesim/demo.yaml)."""

from __future__ import annotations

import json
from pathlib import Path as FilePath

import pytest

from isolation.cli.traffic import main, with_compiled_isolation
from isolation.paths.diagrams import render_svg
from isolation.paths.trace import exposures, trace
from isolation.snapshot import load_snapshot

DEMO = FilePath(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"


@pytest.fixture(scope="module")
def demo():
    return with_compiled_isolation(load_snapshot(DEMO.read_text()))


def _trace(snapshot, exposure):
    ref = (exposure.namespace, exposure.name)
    return trace(snapshot, ingress=ref) if exposure.kind == "Ingress" else trace(snapshot, service=ref)


def test_demo_has_every_exposure_kind_and_each_one_traces_and_draws(demo):
    found = exposures(demo)
    assert {"NodePort", "LoadBalancer", "Ingress"} <= {e.kind for e in found}
    for exposure in found:
        result = _trace(demo, exposure)
        assert result.paths, exposure.key
        assert result.status in ("every", "some", "none")
        assert render_svg(result, title=exposure.key).startswith("<svg ")


def test_demo_ingresses_are_carried_by_the_ingress_nginx_controller(demo):
    for exposure in (e for e in exposures(demo) if e.kind == "Ingress"):
        namespace, name = exposure.controller.split("/")
        service = next(s for s in demo.services if s["metadata"]["name"] == name
                       and s["metadata"]["namespace"] == namespace)
        selector = service["spec"]["selector"]
        pods = [p for p in demo.pods if p["metadata"]["namespace"] == namespace and all(
            p["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]
        assert pods and all("ingress" in p["spec"]["containers"][0]["image"] for p in pods)


def test_demo_local_load_balancers_enter_only_where_their_pods_run(demo):
    for exposure in exposures(demo):
        if exposure.kind == "LoadBalancer" and exposure.traffic_policy == "Local":
            result = trace(demo, service=(exposure.namespace, exposure.name))
            assert set(result.entry_nodes()) == {p.target_node for p in result.paths}


def test_the_command_runs_on_the_demo_snapshot(capsys):
    found = exposures(load_snapshot(DEMO.read_text()))
    nodeport = next(e for e in found if e.kind == "NodePort")
    ingress = next(e for e in found if e.kind == "Ingress")
    for flag, exposure in (("--service", nodeport), ("--ingress", ingress)):
        assert main(["--snapshot", str(DEMO), flag, exposure.key, "--format", "json",
                     "--compile-isolation"]) == 0
        assert json.loads(capsys.readouterr().out)["paths"]
