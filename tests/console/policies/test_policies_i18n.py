"""The domain's sentences on the Network Policies pages: a policy's rules read as sentences and
the editor review's lint warnings are said in Simplified Chinese when the browser asks for it,
and in English otherwise (names, labels and ports stay as they are)."""

import pytest
from django.urls import reverse

from tests.console.policies.support import as_yaml, create, netpol

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_platform_guardrails")]

ZH = {"accept-language": "zh-Hans"}
BANP_URL = ("policy.networking.k8s.io", "baselineadminnetworkpolicies", "default")
STOREFRONT = {"matchLabels": {"app": "storefront"}}


@pytest.fixture
def allow_web(demo_cluster):
    create(netpol("shop", "allow-web", podSelector=STOREFRONT,
                  ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": 8080}]}]))


def detail(client, **headers):
    response = client.get(reverse("policy_detail", args=["shop", "allow-web"]), headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def review_warnings(client, policy, **headers):
    """The review's list of warnings (the page's section headed by their count)."""
    response = client.post(reverse("policy_create"), {"yaml": as_yaml(policy),
                                                      "action": "review"}, headers=headers)
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index('id="review-warnings"')
    return page[start:page.index("</div>", start)]


def test_a_policy_detail_reads_its_rules_in_chinese(allow_web, personas, login_as):
    page = detail(login_as("alice"), **ZH)
    assert "shop 中标签为 app=storefront 的 Pod" in page
    assert ("shop 中标签为 app=storefront 的 Pod 在 TCP 8080 上接受来自 shop 中的所有 Pod 的连接。"
            in page)
    assert "只接受这些规则允许的连接" in page
    assert "此策略不限制出站：它的 policyTypes 未列出 Egress。" in page
    for english in ("Pods labelled app=storefront", "accept TCP 8080 from", "all pods in shop",
                    "accept only the connections", "is not restricted by this policy"):
        assert english not in page


def test_a_policy_detail_reads_its_rules_in_english_by_default(allow_web, personas, login_as):
    page = detail(login_as("alice"))
    assert "Pods labelled app=storefront in shop accept TCP 8080 from all pods in shop." in page
    assert ("Egress is not restricted by this policy: its policyTypes do not list Egress."
            in page)
    assert "接受来自" not in page


def test_a_baseline_admin_policy_reads_its_rules_in_chinese(demo_cluster, personas, login_as):
    client = login_as("alice")
    chinese = client.get(reverse("policy_kind_detail", args=BANP_URL), headers=ZH)
    english = client.get(reverse("policy_kind_detail", args=BANP_URL))
    assert "除非有项目策略选中该 Pod。" in chinese.content.decode()
    assert "unless a project policy selects the pod" not in chinese.content.decode()
    assert "unless a project policy selects the pod." in english.content.decode()


def test_the_editor_review_warns_in_chinese(demo_cluster, personas, login_as):
    nothing = netpol("shop", "web-only", podSelector={"matchLabels": {"app": "nothing"}})
    warnings = review_warnings(login_as("alice"), nothing, **ZH)
    assert ("未选中任何 Pod：shop 中没有运行中的 Pod 匹配 podSelector app=nothing，"
            "因此在有 Pod 匹配之前此策略不起作用。") in warnings
    assert "Selects no pods" not in warnings


def test_the_editor_review_says_a_blocked_dns_in_chinese(demo_cluster, personas, login_as):
    warnings = review_warnings(login_as("alice"), netpol("shop", "no-egress",
                                                         policyTypes=["Egress"]), **ZH)
    assert "阻断 DNS 出站：" in warnings
    assert "Blocks DNS egress" not in warnings


def test_the_editor_review_warns_in_english_by_default(demo_cluster, personas, login_as):
    nothing = netpol("shop", "web-only", podSelector={"matchLabels": {"app": "nothing"}})
    warnings = review_warnings(login_as("alice"), nothing)
    assert ("Selects no pods: no running pod in shop matches podSelector app=nothing, so this "
            "policy has no effect until one does.") in warnings
    assert "未选中任何 Pod" not in warnings
