"""Traffic-path diagrams: golden SVGs, accessibility, escaping, distinct blocked steps.

Golden files live in tests/isolation/data/paths/; regenerate them only on purpose, with
UPDATE_GOLDEN=1, and read the diff before committing.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path as FilePath

import pytest

from isolation.paths.diagrams import RED, group_paths, render_svg
from isolation.paths.explain import explain_case
from isolation.paths.trace import trace
from tests.isolation.paths.test_paths_model import CLIENT, isolate, web_cluster

GOLDEN = FilePath(__file__).parents[1] / "data" / "paths"
SVG = "{http://www.w3.org/2000/svg}"


def _nodeport_cluster_trace():
    snapshot = web_cluster("NodePort", "Cluster", *isolate("shop", f"{CLIENT}/32"))
    return trace(snapshot, service=("shop", "web"))


def _loadbalancer_local_trace():
    snapshot = web_cluster("LoadBalancer", "Local", *isolate("shop", f"{CLIENT}/32"),
                           placements=("node-1", "node-2"))
    return trace(snapshot, service=("shop", "web"))


DIAGRAMS = {
    "nodeport_cluster_trace": lambda: render_svg(_nodeport_cluster_trace(),
                                                 title="NodePort shop/web (Cluster)"),
    "loadbalancer_local_trace": lambda: render_svg(_loadbalancer_local_trace(),
                                                   title="LoadBalancer shop/web (Local)"),
    "ingress_two_legs_case": lambda: render_svg(explain_case("Ingress", "Cluster", "ipip", False),
                                                title="Ingress via NodePort, Cluster, IPIP"),
    "nodeport_local_drop_case": lambda: render_svg(explain_case("NodePort", "Local", "vxlan", False),
                                                   title="NodePort, Local, pod elsewhere"),
}


@pytest.mark.parametrize("name", sorted(DIAGRAMS))
def test_diagram_matches_its_golden_file(name):
    rendered = DIAGRAMS[name]()
    golden = GOLDEN / f"{name}.svg"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_rendering_the_same_cluster_twice_gives_identical_bytes():
    assert render_svg(_nodeport_cluster_trace(), title="t") == render_svg(
        _nodeport_cluster_trace(), title="t")


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_diagram_is_accessible_svg_with_title_desc_and_legend():
    svg = DIAGRAMS["nodeport_cluster_trace"]()
    root = _parse(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "NodePort shop/web (Cluster)"
    # the description reads each drawn path, where it enters and how it ends, and names the
    # paths that take the same course
    assert "Entering on node-1 to shop/web-0" in desc.text
    assert "Entering on node-2 to shop/web-0" in desc.text
    assert "The same course, with their own addresses: node-3 to shop/web-0." in desc.text
    assert "It works" in desc.text and "It fails: blocked by shop/nsnp-network-isolate" in desc.text
    legend = root.find(f".//{SVG}g[@class='legend']")
    texts = [t.text for t in legend.iter(f"{SVG}text")]
    assert texts == ["Legend", "hop", "tunnel (IPIP / VXLAN)", "NAT", "NAT on a node (SNAT / DNAT)",
                     "blocked or dropped"]


def test_nat_tunnel_and_blocked_steps_are_drawn_distinctly():
    root = _parse(DIAGRAMS["nodeport_cluster_trace"]())
    groups = {g.get("class"): g for g in root.iter(f"{SVG}g")}
    assert "hop hop-snat" in groups and "hop hop-tunnel" in groups
    tunnel_line = groups["hop hop-tunnel"].find(f"{SVG}line")
    assert tunnel_line.get("stroke-dasharray") and tunnel_line.get("marker-end").endswith("-tunnel)")
    blocked = groups["hop hop-pod blocked"]
    line = blocked.find(f"{SVG}line")
    assert line.get("stroke") == RED and line.get("stroke-dasharray")
    assert line.get("marker-end").endswith("-cross)")
    assert "✕ blocked by policy" in [t.text for t in blocked.iter(f"{SVG}text")]
    all_text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "which no rule allows on 8080/TCP" in all_text  # the reason is on the diagram


def test_dropped_paths_show_a_drop_badge_and_the_reason():
    root = _parse(DIAGRAMS["nodeport_local_drop_case"]())
    drop = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "hop hop-drop blocked")
    assert [t.text for t in drop.iter(f"{SVG}text")][0] == "✕ DROP"
    all_text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "no local endpoint" in all_text and "✕ dropped" in all_text


def test_text_is_escaped_and_nothing_external_is_referenced():
    path = explain_case("NodePort", "Cluster", "routed", True)
    svg = render_svg(path, title="<script>alert('x')</script> & \"quotes\"")
    root = _parse(svg)
    assert root.find(f"{SVG}title").text == "<script>alert('x')</script> & \"quotes\""
    assert "<script" not in svg and "javascript:" not in svg and "@import" not in svg
    assert not re.search(r'(?:href|src)="(?!#)', svg)
    assert set(re.findall(r"url\(([^)]*)\)", svg)) <= {f"#{root.find(f'{SVG}title').get('id')[:-6]}-{m}"
                                                        for m in ("arrow", "tunnel", "cross")}


def test_two_diagrams_on_one_page_do_not_share_ids():
    first = _parse(DIAGRAMS["nodeport_cluster_trace"]())
    second = _parse(DIAGRAMS["loadbalancer_local_trace"]())
    ids = lambda root: {e.get("id") for e in root.iter() if e.get("id")}  # noqa: E731
    assert ids(first) and not ids(first) & ids(second)


def test_paths_with_the_same_course_are_drawn_once_with_every_missing_entry():
    result = _nodeport_cluster_trace()
    groups = group_paths(result)
    assert [[p.entry_node for p in g.members] for g in groups] == [["node-1"], ["node-2", "node-3"]]
    root = _parse(render_svg(result, title="t"))
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "path"]) == 2
    all_text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Same course, with their own addresses: node-3 → shop/web-0." in all_text
    assert "10.233.65.0/32 on 8080/TCP; 10.233.66.0/32 on 8080/TCP" in all_text


def test_an_ingress_diagram_marks_where_leg_two_begins():
    root = _parse(DIAGRAMS["ingress_two_legs_case"]())
    all_text = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(text.startswith("Leg 2: the controller connects to the backend pod IP") for text in all_text)
    assert "ingress controller in kubesphere-controls-system" in " ".join(all_text) or any(
        text.startswith("ingress controller in") for text in all_text)


def test_an_exposure_without_any_path_still_renders_an_explanation():
    svg = render_svg([], title="nothing")
    assert _parse(svg).find(f"{SVG}desc").text.startswith("No path")
