"""The sentences of the traffic paths: the English the commands and JSON always carried, and the
same sentences said in Simplified Chinese when a translator is set (text and diagrams)."""

from __future__ import annotations

import gettext
import json
import re
from pathlib import Path as FilePath

import pytest

from isolation import text
from isolation.paths.diagrams import render_svg
from isolation.paths.explain import explain_case
from isolation.paths.measure import text_width, wrap
from isolation.paths.notes import robust_allowlist_advice
from isolation.paths.topology import CNI_MODES
from isolation.paths.trace import trace
from isolation.paths.types import TABLE_EXPOSURES, TRAFFIC_POLICIES
from tests.isolation.paths.test_paths_model import (
    CLIENT,
    cluster,
    ingress_cluster,
    isolate,
    service,
    web_cluster,
)
from tests.isolation.paths.test_paths_prednat import NODES, host_endpoint, pre_dnat

LOCALE = FilePath(__file__).parents[3] / "locale"
WEB = {"app": "web"}


@pytest.fixture
def chinese(monkeypatch):
    """The compiled zh-Hans catalog as the translator; yields the messages it was asked for."""
    catalog = gettext.translation("django", LOCALE, languages=["zh_Hans"])
    asked: set[str] = set()

    def say(message: str) -> str:
        asked.add(message)
        return catalog.gettext(message)

    def say_plural(singular: str, plural: str, count: int) -> str:
        asked.add(singular)
        return catalog.ngettext(singular, plural, count)

    monkeypatch.setattr(text, "_translators", text._translators)  # put back after the test
    text.set_translator(say, say_plural)
    yield catalog, asked


def _nodeport_trace():
    return trace(web_cluster("NodePort", "Cluster", *isolate("shop", f"{CLIENT}/32")),
                 service=("shop", "web"))


# -- the English, as it always was ------------------------------------------------------------

def test_the_summary_names_where_it_works_then_each_way_it_fails():
    assert _nodeport_trace().summary() == (
        "Works when it enters on node-1 (the pod is local, the policy sees the client); fails "
        "when it enters on node-2: blocked by shop/nsnp-network-isolate, shop/nsnp-allow: the "
        "policy sees 10.233.65.0 (node-2's tunl0), which no rule allows on 8080/TCP; fails when "
        "it enters on node-3: blocked by shop/nsnp-network-isolate, shop/nsnp-allow: the policy "
        "sees 10.233.66.0 (node-3's tunl0), which no rule allows on 8080/TCP.")


def test_the_summary_groups_entry_nodes_that_fail_alike():
    result = trace(cluster(service("shop/web", "NodePort", WEB)), service=("shop", "web"))
    assert result.summary() == ("Fails when it enters on node-1, node-2 or node-3: shop/web has "
                                "no ready endpoints: kube-proxy rejects the connection.")


def test_the_summary_counts_the_pods_an_entry_node_cannot_reach():
    result = trace(web_cluster("NodePort", "Cluster", *isolate("shop", f"{CLIENT}/32"),
                               placements=("node-1", "node-2")), service=("shop", "web"))
    assert result.summary().startswith(
        "Works only sometimes when it enters on node-1 (1 of 2 pods cannot be reached: blocked "
        "by shop/nsnp-network-isolate, shop/nsnp-allow: the policy sees 10.233.64.0 (node-1's "
        "tunl0), which no rule allows on 8080/TCP); works only sometimes when it enters on "
        "node-2 (1 of 2 pods")


def test_a_trace_that_enters_nowhere_says_so():
    result = trace(web_cluster("LoadBalancer", "Local"), service=("shop", "web"),
                   entry_nodes=["node-2"])
    assert result.summary() == "No entry node receives this traffic."
    assert result.paths[0].reason == (
        "not reached in steady state: OpenELB steers 192.168.0.200 only to nodes with a ready "
        "endpoint; a stale route or ARP entry that still sends it to node-2 ends in a DROP there "
        "(no local endpoint, externalTrafficPolicy Local)")
    assert result.paths[0].hops[-1].label == "DROP: no local endpoint on node-2"


def test_the_hops_of_a_cross_node_path_say_each_step():
    path = next(p for p in _nodeport_trace().paths if p.entry_node == "node-2")
    assert [(hop.label, hop.detail) for hop in path.hops] == [
        ("client 203.0.113.9", "The client 203.0.113.9 opens a connection."),
        ("node-2:30080", "node-2 receives it on 192.168.0.12:30080 (NodePort)."),
        ("SNAT 10.233.65.0 (tunl0)", "DNAT to 10.233.64.10:8080 on node-1 and masquerade to "
                                     "10.233.65.0, the address of node-2's tunl0 towards node-1."),
        ("IPIP", "IPIP (IP protocol 4) through tunl0 to node-1."),
        ("pod 10.233.64.10:8080", "DNAT to 10.233.64.10:8080, source 10.233.65.0. Blocked by "
                                  "shop/nsnp-network-isolate, shop/nsnp-allow: the policy sees "
                                  "10.233.65.0 (node-2's tunl0), which no rule allows on 8080/TCP."),
    ]


def test_each_leg_of_an_ingress_says_why_it_ends_so():
    egress_lock = {"kind": "NetworkPolicy", "metadata": {"namespace": "ingress", "name": "no-egress"},
                   "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
    path = trace(ingress_cluster(egress_lock), ingress=("shop", "web")).paths[0]
    assert path.reason == (
        "leg 1 (client to ingress controller): allowed: no policy isolates ingress/nginx-0 (its "
        "policy would see 203.0.113.9, the client); leg 2 (ingress controller to backend): "
        "blocked by ingress/no-egress (egress of the source): 10.233.64.50 (pod ingress/nginx-0) "
        "may not connect to shop/web-0 on 8080/TCP")
    assert path.failure == (
        "leg 2 (ingress controller to backend): blocked by ingress/no-egress (egress of the "
        "source): 10.233.64.50 (pod ingress/nginx-0) may not connect to shop/web-0 on 8080/TCP")


def test_a_host_network_controller_is_admitted_as_the_pods_own_node():
    path = trace(ingress_cluster(*isolate("shop"), host_network=True, backend_node="node-1"),
                 ingress=("shop", "web")).paths[0]
    assert path.reason == (
        "leg 1 (client to ingress controller): allowed: the pod uses the host network, which "
        "NetworkPolicy does not select; leg 2 (ingress controller to backend): allowed: "
        "192.168.0.11 (node-1's InternalIP) is the pod's own node, which is always admitted")
    assert path.hops[-1].detail == (
        "To 10.233.65.10:8080, no SNAT (host-network controller). Allowed: 192.168.0.11 "
        "(node-1's InternalIP) is the pod's own node, which is always admitted.")


def test_a_missing_tunnel_address_is_named_in_the_reason_and_the_warnings():
    result = trace(web_cluster("NodePort", "Cluster", ipip=False), service=("shop", "web"),
                   cni="ipip")
    path = next(p for p in result.paths if p.entry_node == "node-2")
    assert path.reason == (
        "unknown source address: node-2 has no projectcalico.org/IPv4IPIPTunnelAddr annotation, "
        "so the address the policy sees cannot be known; check the node or the CNI mode")
    assert result.warnings == ["node-2 has no projectcalico.org/IPv4IPIPTunnelAddr annotation",
                               "node-3 has no projectcalico.org/IPv4IPIPTunnelAddr annotation"]


def test_a_prednat_decision_is_worded_with_its_rule():
    denied = trace(web_cluster("NodePort", "Cluster", *[host_endpoint(n) for n in NODES],
                               pre_dnat("block-client", "Deny", [f"{CLIENT}/32"], ports=[30080])),
                   service=("shop", "web"), client_ip=CLIENT).paths[0]
    assert denied.reason == (
        "denied on node-1 before DNAT by preDNAT GlobalNetworkPolicy block-client (tier default, "
        "ingress rule 0, Deny) on host endpoint node-1-eth0: it sees the client 203.0.113.9 "
        "itself, so no allowlist entry of the project can help; change that policy to let the "
        "client in")
    assert denied.hops[-1].detail == (
        "PreDNAT GlobalNetworkPolicy block-client (tier default, ingress rule 0, Deny) on host "
        "endpoint node-1-eth0 denies 203.0.113.9 before kube-proxy's DNAT.")
    allowed = trace(web_cluster("NodePort", "Local", *[host_endpoint(n) for n in NODES],
                                pre_dnat("let-client", "Allow", [f"{CLIENT}/32"]), *isolate("shop")),
                    service=("shop", "web"), client_ip=CLIENT)
    node_hop = next(p for p in allowed.paths if p.entry_node == "node-1").hops[1]
    assert node_hop.note == "allowed before DNAT by let-client"
    assert node_hop.detail == (
        "node-1 receives it on 192.168.0.11:30080 (NodePort). PreDNAT GlobalNetworkPolicy "
        "let-client (tier default, ingress rule 0, Allow) on host endpoint node-1-eth0 allows the "
        "client.")


@pytest.mark.parametrize(("cni", "address"), [
    ("routed", "every node's InternalIP as a /32, on"),
    ("ipip", "every node's tunl0 address as a /32 (plus the InternalIPs of CrossSubnet peers), on"),
    ("vxlan", "every node's vxlan.calico address as a /32 (plus the InternalIPs of CrossSubnet "
              "peers), on"),
])
def test_the_robust_allowlist_names_the_address_each_cni_masquerades_to(cni, address):
    assert robust_allowlist_advice("NodePort", "Cluster", cni) == (
        f"Allow the client CIDRs plus {address} the pod's targetPort. Once those are allowed, "
        "anyone who reaches any node is admitted: the client CIDR only filters requests that land "
        "on the pod's own node. For real client filtering use Local, a Calico preDNAT host "
        "policy, or loadBalancerSourceRanges (load-balancer IPs only).")


def test_the_pitfalls_name_the_tunnel_address_and_the_target_port():
    pitfalls = _nodeport_trace().pitfalls
    assert ("Under IPIP the cross-node source is the entry node's tunl0 address, not its "
            "InternalIP: allowlisting node IPs alone still drops the traffic.") in pitfalls
    assert ("Allowlist ports are the pod's targetPort (8080), never the NodePort or the Service "
            "port: policies are evaluated after DNAT.") in pitfalls


def test_a_translator_changes_nothing_the_program_reads(chinese):
    result = _nodeport_trace()
    path = next(p for p in result.paths if p.entry_node == "node-2")
    assert str(path.reason) != path.reason            # said in Chinese ...
    assert path.reason.startswith("blocked by shop/nsnp-network-isolate")  # ... read in English
    assert json.dumps(result.to_dict()) == json.dumps(_english(result.to_dict()))
    text.set_translator(None)
    assert result.summary() == _nodeport_trace().summary()


def _english(value):
    return json.loads(json.dumps(value))


# -- in Simplified Chinese --------------------------------------------------------------------

def _every_case():
    for exposure in TABLE_EXPOSURES:
        kind, _, via = exposure.partition(" via ")
        for policy in TRAFFIC_POLICIES:
            for cni in CNI_MODES:
                for local in (True, False):
                    yield explain_case(kind, policy, cni, local, ingress_via=via or "NodePort")


def _shown(path) -> list[str]:
    """Everything the pages show of a path, as the reader's language says it."""
    words = [path.reason, path.failure, path.app_source_label, path.policy_source_label,
             *path.notes]
    for hop in path.hops:
        words += [hop.label, hop.detail, hop.note, hop.arrow]
    return [str(word) for word in words]


def test_every_sentence_of_every_case_is_in_the_chinese_catalog(chinese):
    catalog, asked = chinese
    shown = [word for path in _every_case() for word in _shown(path)]
    result = _nodeport_trace()
    shown += [str(result.summary()), *map(str, result.pitfalls),
              render_svg(result, title="NodePort shop/web")]
    missing = sorted(message for message in asked if message not in catalog._catalog)
    assert missing == []
    assert len(asked) > 80
    english = re.compile(r"\b(the|to|on|of|by|and|when|through|is|no)\b")
    assert [word for word in shown[:-1] if english.search(word)] == []


def test_the_diagram_speaks_chinese_and_sizes_its_boxes_for_it(chinese):
    result = _nodeport_trace()
    svg = render_svg(result, title="NodePort shop/web")
    for words in ("入口节点", "图例", "客户端", "集群外", "策略看到", "从 node-1 进入"):
        assert words in svg
    shown = re.sub(r"<title>[^<]*</title>", "", svg)  # names and addresses only in tooltips
    texts = " ".join(re.findall(r">([^<>]+)</text>", shown))
    assert not re.search(r"\b(Legend|entry node|outside the cluster|Enters on|works|App sees)\b",
                         texts)
    assert svg == render_svg(_nodeport_trace(), title="NodePort shop/web")


def test_chinese_characters_count_twice_as_wide_as_latin_ones():
    assert text_width("入口节点") == pytest.approx(4 * 12)  # one em each at 12px
    assert text_width("入口节点") > 1.6 * text_width("node")
    lines = wrap("策略看到的是节点的隧道地址，没有规则在 8080/TCP 上允许它", 120)
    assert len(lines) > 1 and all(len(line) <= 10 or " " in line for line in lines)
    assert "".join(lines).replace(" ", "") == "策略看到的是节点的隧道地址，没有规则在8080/TCP上允许它"
    assert not any(line.startswith(("，", "。")) for line in lines)


def test_english_lines_wrap_at_spaces_and_cut_only_words_longer_than_a_line():
    assert wrap("allowed by shop/nsnp-allow: the policy sees 203.0.113.9 (the client)", 120) == [
        "allowed by", "shop/nsnp-allow:", "the policy sees", "203.0.113.9 (the", "client)"]
    assert wrap("x" * 40 + " y", 120) == ["x" * 18, "x" * 18, "xxxx y"]


def test_an_unknown_node_is_named_in_the_readers_language_and_keeps_its_lane(chinese):
    from types import SimpleNamespace

    from isolation.paths.legs import LegContext

    ctx = LegContext(SimpleNamespace(nodes={}), None, CLIENT, None)
    node = ctx.node(None)
    assert node.name == "(unknown node)"
    assert str(node.name) == "（未知节点）"
    # the diagram's lane is an id: the same whatever the reader's language
    assert list(ctx.addresses(node.name, None)) == ["node:(unknown node)"]
