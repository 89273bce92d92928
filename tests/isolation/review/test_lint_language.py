"""Lint warnings are said in the reader's language; their codes and fields stay tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from isolation.review.lint import bidi_lines, lint_policy
from isolation.snapshot import load_snapshot
from tests.isolation.netpol.language import said_in_chinese

DEMO = Path(__file__).resolve().parents[3] / "kubesim" / "demo.yaml"


@pytest.fixture(scope="module")
def demo():
    return load_snapshot(DEMO.read_text())


def draft(**spec):
    spec.setdefault("podSelector", {})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": "shop"}, "spec": spec}


def test_a_warning_reads_in_chinese_and_its_code_stays_a_token(demo):
    [finding] = lint_policy(draft(podSelector={"matchLabels": {"app": "nothing"}}), demo)
    english = ("Selects no pods: no running pod in shop matches podSelector app=nothing, so this "
               "policy has no effect until one does.")
    with said_in_chinese():
        assert str(finding.message) == ("未选中任何 Pod：shop 中没有运行中的 Pod 匹配 podSelector "
                                        "app=nothing，因此在有 Pod 匹配之前此策略不起作用。")
        assert finding.message == english
    assert (type(finding.code), finding.code, finding.field) == (str, "selects-no-pods",
                                                                 "spec.podSelector")


def test_a_blocked_dns_reads_in_chinese(demo):
    findings = lint_policy(draft(policyTypes=["Egress"]), demo)
    [dns] = [f for f in findings if f.code == "blocks-dns"]
    assert dns.message.startswith("Blocks DNS egress: shop/")
    with said_in_chinese():
        assert str(dns.message).startswith("阻断 DNS 出站：shop/")


def test_hidden_characters_are_named_in_either_language():
    [line] = bidi_lines("name: a\u202eb\u2066c")
    assert line.message == ("line 1 contains a right-to-left override character (U+202E) and "
                            "a left-to-right isolate character (U+2066) that can make text read "
                            "differently from what it is")
    assert line.sentence == line.message[0].upper() + line.message[1:] + "."
    with said_in_chinese():
        assert str(line.sentence) == ("第 1 行包含一个从右到左覆盖字符（U+202E） 和 一个从左到右隔离"
                                      "字符（U+2066），可能使文本显示得与实际内容不同。")
