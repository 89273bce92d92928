"""The connection check, refused external sources and the delta's warnings in Simplified Chinese:
what a Chinese reader reads is Chinese, while the English stays what it was."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from console.core.language import save_language
from console.reachability import services as checks
from console.reachability.delta import delta_between
from tests.console.reachability.test_reachability_check import CART, DASHBOARD, STOREFRONT
from tests.console.reachability.test_reachability_delta import CHANGES, demo  # noqa: F401

pytestmark = pytest.mark.django_db


def _chinese(login_as, personas, name: str = "alice"):
    save_language(personas[name], "zh-hans")
    return login_as(name)


def _check(client, **params) -> str:
    return client.get(reverse("reachability_check"), params).content.decode()


def test_a_denied_connection_is_explained_in_chinese(demo_cluster, personas, login_as):
    body = _check(_chinese(login_as, personas), source=STOREFRONT, destination=DASHBOARD,
                  port="3000")
    assert f"{STOREFRONT} → {DASHBOARD}（3000/TCP） 被目标端的入站拒绝。" in body
    assert "源端的出站" in body and "目标端的入站" in body
    assert f"{DASHBOARD} 的入站被 reporting/" in body       # the engine's reason, in Chinese
    assert body.count("最接近的规则") == 1                  # the nearest miss on its own line
    for english in ("is denied by", "Egress at the source", "Ingress at the destination",
                    "is isolated by", "Nearest miss"):
        assert english not in body, english


def test_a_service_destination_and_the_first_connections_are_noted_in_chinese(
        demo_cluster, personas, login_as, monkeypatch):
    monkeypatch.setattr(checks, "MAX_VERDICTS", 1)
    body = _check(_chinese(login_as, personas), source=CART, destination="service:shop/storefront",
                  port="80")
    assert ("Service shop/storefront 的端口 80/TCP 转发到 2 个 Pod 的 targetPort http；"
            "策略看到的是转换之后的流量。") in body
    assert "显示 2 条连接中的前 1 条。" in body
    assert "forwards to" not in body and "Showing the first" not in body


@pytest.mark.parametrize(("params", "chinese"), [
    (dict(source="", destination=DASHBOARD, port="80"), "请输入 Pod（namespace/pod）、项目或 IP 地址。"),
    (dict(source=CART, destination="shop/no-such-pod", port="80"),
     "你的项目中没有 Pod shop/no-such-pod。"),
    (dict(source=CART, destination="service:shop/cart", port="81"),
     "Service shop/cart 没有 TCP 端口 81；它的端口为 9000/TCP (grpc)。"),
    (dict(source=CART, destination=DASHBOARD, port="70000"), "端口 70000 不在 1 到 65535 之间。"),
    (dict(source=CART, destination=DASHBOARD, port="80", protocol="ICMP"),
     "协议必须是 TCP, UDP, SCTP 之一。"),
    (dict(source="web", destination=CART, port="9000"), "你的项目中没有 web。"),
])
def test_bad_input_is_refused_in_chinese(demo_cluster, personas, login_as, params, chinese):
    response = _chinese(login_as, personas, "carol").get(reverse("reachability_check"), params)
    assert response.status_code == 400
    assert chinese in response.content.decode()


@pytest.mark.parametrize(("external", "chinese"), [
    ("example.com", "&#x27;example.com&#x27; 既不是 IP 地址，也不是 CIDR。"),
    ("10.233.64.20", "10.233.64.20 是某个 Pod 的地址；外部源必须是 Pod 网络之外的地址。"),
    (" ".join(f"203.0.113.{n}" for n in range(11)), "外部源最多只能填写 10 个。"),
])
def test_a_refused_external_source_is_explained_in_chinese(demo_cluster, personas, login_as,
                                                          external, chinese):
    response = _chinese(login_as, personas).get(reverse("reachability"), {"external": external})
    assert response.status_code == 400
    assert chinese in response.content.decode()


def test_the_deltas_warnings_read_in_chinese_and_keep_their_english(demo):  # noqa: F811
    warnings = delta_between(*CHANGES["workspace team-b on"](demo))["warnings"]
    assert [w.split(":")[0] for w in warnings] == [
        "Blocks monitoring scrapes", "Cuts calls across workspaces that work today"]
    with translation.override("zh-hans"):
        said = [str(w) for w in warnings]
    assert said[0].startswith("阻断监控抓取：") and said[0].endswith("这些 Pod 的指标和告警将不再有数据。")
    assert said[1].startswith("切断当前可用的跨企业空间调用：")
    assert "另有" in said[1] and "more" not in said[1]
