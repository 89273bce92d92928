"""A client address that is neither an IP nor a CIDR is refused in the reader's language; a
diagram's lane headers name an unknown node and an unlabelled client in it, and the pages say
in it why verdicts use the cluster's policies as they are."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import translation

from console.traffic.forms import ClientForm
from console.traffic.services import context_from, parse_client
from isolation.compiler.generate import IsolationSettings
from isolation.paths.diagrams import _lane_title
from isolation.snapshot import Snapshot

CHINESE = "nope 既不是 IP 地址，也不是 CIDR：请写成 203.0.113.9 或 203.0.113.0/24 这样的形式。"
ENGLISH = ("nope is neither an IP address nor a CIDR: write one such as 203.0.113.9 or "
           "203.0.113.0/24.")


def _refusal(text: str) -> str:
    with pytest.raises(ValueError) as refused:
        parse_client(text)
    return str(refused.value)


def test_a_bad_client_is_refused_in_chinese():
    with translation.override("zh-hans"):
        assert _refusal(" nope ") == CHINESE


def test_a_bad_client_is_refused_in_english_otherwise():
    with translation.override("en"):
        assert _refusal("nope") == ENGLISH


def test_the_client_field_shows_the_refusal_in_the_readers_language():
    with translation.override("zh-hans"):
        form = ClientForm({"client": "nope"})
        assert not form.is_valid()
        assert form.errors["client"] == [CHINESE]
    with translation.override("en"):
        form = ClientForm({"client": "nope"})
        assert not form.is_valid()
        assert form.errors["client"] == [ENGLISH]


def _path(*hops) -> SimpleNamespace:
    return SimpleNamespace(hops=list(hops), actor_addresses={}, entry_node="node-1", legs=[])


def test_an_unknown_nodes_lane_is_headed_in_the_readers_language():
    path = _path(SimpleNamespace(actor="node:(unknown node)", lane=None))
    with translation.override("zh-hans"):
        assert _lane_title("node:(unknown node)", path) == ("（未知节点）", "节点", "")
    with translation.override("en"):
        assert _lane_title("node:(unknown node)", path) == ("(unknown node)", "node", "")


def test_a_client_lane_without_its_words_is_headed_in_the_readers_language():
    path = _path(SimpleNamespace(actor="client", lane=None),
                 SimpleNamespace(actor="lb", lane=None))
    with translation.override("zh-hans"):
        assert _lane_title("client", path)[0] == "客户端"
        assert _lane_title("lb", path)[0] == "负载均衡器"
    with translation.override("en"):
        assert _lane_title("client", path)[0] == "Client"
        assert _lane_title("lb", path)[0] == "Load balancer"


def test_intent_that_cannot_be_compiled_is_said_in_the_readers_language():
    snapshot = Snapshot()
    snapshot.add({"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": "shop", "labels": "not a mapping"}})
    ctx = context_from(snapshot, IsolationSettings())
    with translation.override("zh-hans"):
        assert str(ctx.warnings[0]).startswith("无法编译隔离意图（")
        assert str(ctx.warnings[0]).endswith("）；判定结果使用集群中现有的 NetworkPolicy。")
    with translation.override("en"):
        assert str(ctx.warnings[0]).startswith("The isolation intent cannot be compiled (")
