"""The reasons of the AdminNetworkPolicy, baseline and Calico tier layers read in the reader's
language through the committed catalog; without a translator they are the English sentences
as written."""

from __future__ import annotations

import pytest

from isolation import text
from isolation.adminnetpol.model import parse_admin_policy
from tests.isolation.adminnetpol.houses import anp, banp, cluster_of, netpol, team
from tests.isolation.netpol.language import said_in_chinese

PLATFORM = anp("platform", 5, {"namespaces": {}}, egress=[
    {"name": "no-metadata", "action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]},
    {"name": "gold-to-projects", "action": "Pass", "to": [{"namespaces": team("gold")}]}])
RED_IN = netpol("red/from-gold-only", podSelector={},
                ingress=[{"from": [{"namespaceSelector": team("gold")}]}])
BASELINE = banp({"namespaces": team("blue")}, ingress=[
    {"name": "no-red", "action": "Deny", "from": [{"namespaces": team("red")}]}])
V3 = "projectcalico.org/v3"


def tier(name: str, order: int, **spec) -> dict:
    return {"apiVersion": V3, "kind": "Tier", "metadata": {"name": name},
            "spec": {"order": order, **spec}}


def gnp(name: str, **spec) -> dict:
    return {"apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": name},
            "spec": spec}


def red_egress_to_gold(name: str) -> dict:
    return gnp(name, tier="platform", selector="team == 'red'", types=["Egress"],
               egress=[{"action": "Allow", "destination": {"selector": "team == 'gold'"}}])


CALICO_PLATFORM = [tier("platform", 100), gnp(
    "platform.no-metadata", tier="platform", order=10, selector="all()",
    namespaceSelector="has(team)", types=["Egress"],
    egress=[{"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}},
            {"action": "Pass"}])]
RED_FROM_GOLD = gnp("platform.red-in", tier="platform", selector="team == 'red'",
                    ingress=[{"action": "Allow", "source": {"selector": "team == 'gold'"}}])


@pytest.fixture(autouse=True)
def _translator_kept(monkeypatch):
    """Whatever a test sets, the translator the process had (the console's) comes back."""
    monkeypatch.setattr(text, "_translators", text._translators)


@pytest.fixture
def admin():
    return cluster_of([PLATFORM, RED_IN, BASELINE])


def said(reason: str) -> tuple[str, str]:
    """`reason` as it reads without a translator, and through the zh_Hans catalog."""
    text.set_translator(None)
    english = str(reason)
    with said_in_chinese():
        chinese = str(reason)
    return english, chinese


def test_an_admin_deny_reads_in_chinese(admin):
    reason = admin.check("blue/blue-0", "169.254.169.254", 80).egress.reason
    assert said(reason) == (
        'Egress from blue/blue-0 is denied by AdminNetworkPolicy platform (priority 5) egress '
        'rule 0 "no-metadata" (Deny), before any NetworkPolicy.',
        "blue/blue-0 的出站被 AdminNetworkPolicy platform（优先级 5） 的 egress 规则 "
        "0“no-metadata”（拒绝） 拒绝，在所有 NetworkPolicy 之前。")


def test_an_admin_pass_reads_in_chinese_before_the_network_policies_reason(admin):
    reason = admin.check("red/red-0", "gold/gold-0", 80).egress.reason
    english, chinese = said(reason)
    assert english.startswith(
        'AdminNetworkPolicy platform (priority 5) egress rule 1 "gold-to-projects" (Pass) '
        'passes egress from red/red-0 on to the NetworkPolicies, skipping every remaining '
        'AdminNetworkPolicy. Egress from red/red-0 is not isolated:')
    assert chinese.startswith(
        "AdminNetworkPolicy platform（优先级 5） 的 egress 规则 1“gold-to-projects”（传递） "
        "将 red/red-0 的出站交给 NetworkPolicy 处理，跳过其余所有 AdminNetworkPolicy。 "
        "red/red-0 的出站未被隔离")


def test_the_baselines_reasons_read_in_chinese(admin):
    denied = admin.check("red/red-0", "blue/blue-1", 8080).ingress.reason
    assert said(denied) == (
        'Ingress to blue/blue-1 is denied by BaselineAdminNetworkPolicy default ingress rule 0 '
        '"no-red" (Deny): no NetworkPolicy selects the pod for ingress, so the baseline decides.',
        "blue/blue-1 的入站被 BaselineAdminNetworkPolicy default 的 ingress 规则 0“no-red”"
        "（拒绝） 拒绝：没有 NetworkPolicy 为入站选中该 Pod，因此由 BaselineAdminNetworkPolicy "
        "决定。")
    unmatched = admin.check("gold/gold-0", "blue/blue-1", 8080).ingress.reason
    english, chinese = said(unmatched)
    assert english.endswith("Ingress to blue/blue-1 is selected by BaselineAdminNetworkPolicy "
                            "default, but no rule of it matches 8080/TCP from gold/gold-0.")
    assert chinese.endswith("blue/blue-1 的入站被 BaselineAdminNetworkPolicy default 选中，但它"
                            "没有规则匹配来自 gold/gold-0 的 8080/TCP。")


def test_an_admin_policys_title_reads_in_chinese():
    title = parse_admin_policy(PLATFORM).title()
    assert said(title) == ("AdminNetworkPolicy platform (priority 5)",
                           "AdminNetworkPolicy platform（优先级 5）")


def test_a_calico_rules_reasons_read_in_chinese():
    cluster = cluster_of(CALICO_PLATFORM)
    denied = cluster.check("red/red-0", "169.254.169.254", 80).egress.reason
    assert said(denied) == (
        "Egress from red/red-0 is denied by GlobalNetworkPolicy platform.no-metadata in tier "
        "platform (order 10) egress rule 0 (Deny), before any project policy.",
        "red/red-0 的出站被 层级 platform 中的 GlobalNetworkPolicy platform.no-metadata"
        "（order 10） 的 egress 规则 0（拒绝） 拒绝，在所有项目策略之前。")
    passed = cluster.check("gold/gold-0", "red/red-0", 80).egress.reason
    english, chinese = said(passed)
    assert english.startswith(
        "GlobalNetworkPolicy platform.no-metadata in tier platform (order 10) egress rule 1 "
        "(Pass) passes egress from gold/gold-0 on to the next tier, skipping the rest of tier "
        "platform. Egress from gold/gold-0 is not isolated:")
    assert chinese.startswith(
        "层级 platform 中的 GlobalNetworkPolicy platform.no-metadata（order 10） 的 egress "
        "规则 1（传递） 将 gold/gold-0 的出站交给下一层级，跳过层级 platform 的其余部分。")


def test_a_tier_after_the_project_policies_says_so_in_chinese():
    cluster = cluster_of([tier("late", 2_000_000), gnp(
        "late.red", tier="late", selector="team == 'red'", types=["Egress"],
        egress=[{"action": "Allow"}])])
    reason = cluster.check("red/red-0", "blue/blue-0", 80).egress.reason
    assert said(reason) == (
        "Egress from red/red-0 is allowed by GlobalNetworkPolicy late.red in tier late egress "
        "rule 0 (Allow), after the project policies.",
        "red/red-0 的出站被 层级 late 中的 GlobalNetworkPolicy late.red 的 egress 规则 0（允许） "
        "允许，在项目策略之后。")


def test_the_end_of_a_tier_reads_in_chinese_for_one_policy_or_many():
    one = cluster_of([tier("platform", 100), RED_FROM_GOLD])
    assert said(one.check("blue/blue-0", "red/red-0", 80).ingress.reason) == (
        "Ingress to red/red-0 is denied at the end of Calico tier platform: GlobalNetworkPolicy "
        "platform.red-in selects the pod, and no rule of the tier matches 80/TCP from "
        "blue/blue-0.",
        "red/red-0 的入站在 Calico 层级 platform 的末尾被拒绝：GlobalNetworkPolicy "
        "platform.red-in 选中了该 Pod，且该层级没有规则匹配来自 blue/blue-0 的 80/TCP。")
    two = cluster_of([tier("platform", 100), *map(red_egress_to_gold, ["platform.a", "platform.b"])])
    assert said(two.check("red/red-0", "blue/blue-0", 80).egress.reason) == (
        "Egress from red/red-0 is denied at the end of Calico tier platform: GlobalNetworkPolicy "
        "platform.a, GlobalNetworkPolicy platform.b select the pod, and no rule of the tier "
        "matches 80/TCP to blue/blue-0.",
        "red/red-0 的出站在 Calico 层级 platform 的末尾被拒绝：GlobalNetworkPolicy platform.a、"
        "GlobalNetworkPolicy platform.b 选中了该 Pod，且该层级没有规则匹配到 blue/blue-0 的 "
        "80/TCP。")
    four = cluster_of([tier("platform", 100),
                       *map(red_egress_to_gold, [f"platform.{n}" for n in "abcd"])])
    english, chinese = said(four.check("red/red-0", "blue/blue-0", 80).egress.reason)
    assert "GlobalNetworkPolicy platform.c and 1 more select the pod" in english
    assert "GlobalNetworkPolicy platform.c 及另外 1 个策略选中了该 Pod" in chinese


def test_a_tier_that_passes_what_it_does_not_match_reads_in_chinese():
    cluster = cluster_of([tier("platform", 100, defaultAction="Pass"), RED_FROM_GOLD])
    english, chinese = said(cluster.check("blue/blue-0", "red/red-0", 80).ingress.reason)
    assert english.startswith("Ingress to red/red-0 matches no rule of tier platform, whose "
                              "default action passes it on to the next tier.")
    assert chinese.startswith("red/red-0 的入站没有匹配层级 platform 的任何规则，该层级的默认动作"
                              "将其交给下一层级。")
